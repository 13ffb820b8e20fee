from django.urls import path

from . import views

urlpatterns = [
    path("billing-profiles/<int:pk>/po-number/", views.ProfilePONumberView.as_view(), name="api-profile-po-number"),
    path("billing-accounts/<int:pk>/vat-number/", views.VATNumberView.as_view(), name="api-vat-number"),
    path("billing-accounts/<int:pk>/po-periods/", views.PeriodPONumberList.as_view(), name="api-po-periods"),
    path(
        "billing-accounts/<int:pk>/po-periods/<str:period>/",
        views.PeriodPONumberDetail.as_view(),
        name="api-po-period",
    ),
    path("billing-accounts/<int:pk>/number-changes/", views.NumberChangeList.as_view(), name="api-number-changes"),
    path("amendment-requests/", views.AmendmentRequestList.as_view(), name="api-amendment-requests"),
    path("amendment-requests/<int:pk>/", views.AmendmentRequestDetail.as_view(), name="api-amendment-request"),
    path("support/amendment-requests/", views.SupportQueueList.as_view(), name="api-support-queue"),
    path("support/amendment-requests/<int:pk>/", views.SupportRequestDetail.as_view(), name="api-support-request"),
    path(
        "support/amendment-requests/<int:pk>/approve/",
        views.SupportRequestApprove.as_view(),
        name="api-support-request-approve",
    ),
    path(
        "support/amendment-requests/<int:pk>/decline/",
        views.SupportRequestDecline.as_view(),
        name="api-support-request-decline",
    ),
]
