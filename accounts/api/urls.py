from django.urls import path

from . import token_views, views

urlpatterns = [
    path("auth/token/", views.ObtainTokenView.as_view(), name="api-token"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("tokens/", token_views.ApiTokenList.as_view(), name="api-tokens"),
    path("tokens/<int:pk>/", token_views.ApiTokenDetail.as_view(), name="api-token-detail"),
    path("billing-accounts/", views.BillingAccountList.as_view(), name="api-billing-accounts"),
    path("billing-accounts/<int:pk>/", views.BillingAccountDetail.as_view(), name="api-billing-account"),
    path("billing-profiles/", views.BillingProfileList.as_view(), name="api-billing-profiles"),
    path("billing-profiles/<int:pk>/", views.BillingProfileDetail.as_view(), name="api-billing-profile"),
    path("subscriptions/", views.SubscriptionList.as_view(), name="api-subscriptions"),
    path("subscriptions/<str:subscription_id>/", views.SubscriptionDetail.as_view(), name="api-subscription"),
]
