from django.urls import path

from . import staff_views, views

app_name = "support"

urlpatterns = [
    path("help/", views.help_home, name="help"),
    path("help/requests/", views.my_requests, name="my_requests"),
    path("help/requests/new/", views.request_new, name="request_new"),
    path("help/requests/new/pay-by-invoice/", views.pbi_new, name="pbi_new"),
    path("help/requests/<int:pk>/", views.request_detail, name="request"),
    path("support-queue/", staff_views.queue, name="queue"),
    path("support-queue/pay-by-invoice/<int:pk>/", staff_views.staff_request, name="staff_request"),
]
