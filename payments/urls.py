from django.urls import path

from . import pay_views, receipt_views, sandbox_views, stripe_views, views

app_name = "payments"

urlpatterns = [
    path("payment-methods/", views.index, name="index"),
    path("payment-methods/<int:pk>/", views.method_edit, name="method_edit"),
    path("payment-methods/<int:pk>/delete/", views.method_delete, name="method_delete"),
    path("payment-methods/setups/<str:setup_id>/return/", views.card_setup_return, name="card_setup_return"),
    path(
        "subscriptions/<str:subscription_id>/payment-methods/", views.subscription_methods, name="subscription_methods"
    ),
    path(
        "subscriptions/<str:subscription_id>/payment-methods/add/",
        views.subscription_add_card,
        name="subscription_add_card",
    ),
    path("billing-profiles/<int:pk>/payment-methods/", views.profile_methods, name="profile_methods"),
    path("billing-profiles/<int:pk>/payment-methods/add/", views.profile_add_card, name="profile_add_card"),
    path("invoices/<int:pk>/pay/", pay_views.pay, name="pay"),
    path("invoices/<int:pk>/pay/add-card/", pay_views.pay_add_card, name="pay_add_card"),
    path("invoices/<int:pk>/pay/<int:payment_id>/return/", pay_views.pay_return, name="pay_return"),
    path("payments/", receipt_views.payment_history, name="history"),
    path("receipts/<int:pk>/pdf/", receipt_views.receipt_pdf, name="receipt_pdf"),
    # The sandbox gateway's own pages (they stand in for the processor's site).
    path("sandbox-gateway/sessions/<str:session_id>/", sandbox_views.card_entry, name="sandbox_card_entry"),
    path("sandbox-gateway/authentications/<str:reference>/", sandbox_views.authenticate, name="sandbox_authenticate"),
    # The Stripe adapter's pages (Stripe Elements, 3-D Secure) and its webhook endpoint.
    path("stripe/setup-intents/<str:intent_id>/", stripe_views.card_entry, name="stripe_card_entry"),
    path("stripe/payment-intents/<str:intent_id>/", stripe_views.authenticate, name="stripe_authenticate"),
    path("payments/webhooks/stripe/", stripe_views.webhook, name="stripe_webhook"),
]
