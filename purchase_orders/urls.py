from django.urls import path  # noqa: F401

app_name = "purchase_orders"

urlpatterns: list = []
