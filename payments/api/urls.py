from django.urls import path

from . import pay, receipts, refunds, views

urlpatterns = [
    path("payment-methods/", views.PaymentMethodList.as_view(), name="api-payment-methods"),
    path("payment-methods/history/", views.PaymentMethodEventList.as_view(), name="api-payment-method-history"),
    path("payment-methods/<int:pk>/", views.PaymentMethodDetail.as_view(), name="api-payment-method"),
    path(
        "payment-methods/<int:pk>/activate/", views.PaymentMethodActivate.as_view(), name="api-payment-method-activate"
    ),
    path("card-setups/", views.CardSetupCreate.as_view(), name="api-card-setups"),
    path("card-setups/<str:pk>/", views.CardSetupDetail.as_view(), name="api-card-setup"),
    path("card-setups/<str:pk>/complete/", views.CardSetupComplete.as_view(), name="api-card-setup-complete"),
    path("invoices/<int:pk>/pay/", pay.InvoicePay.as_view(), name="api-invoice-pay"),
    path("invoices/<int:pk>/payments/", pay.InvoicePaymentList.as_view(), name="api-invoice-payments"),
    path("payments/<int:pk>/", pay.PaymentDetail.as_view(), name="api-payment"),
    path("payments/<int:pk>/refunds/", refunds.PaymentRefunds.as_view(), name="api-payment-refunds"),
    path("refunds/<int:pk>/", refunds.RefundDetail.as_view(), name="api-refund"),
]

urlpatterns += [
    path("receipts/", receipts.ReceiptList.as_view(), name="api-receipts"),
    path("receipts/<int:pk>/", receipts.ReceiptDetail.as_view(), name="api-receipt"),
    path("receipts/<int:pk>/pdf/", receipts.ReceiptPdf.as_view(), name="api-receipt-pdf"),
    path("invoices/<int:pk>/receipts/", receipts.InvoiceReceiptList.as_view(), name="api-invoice-receipts"),
    path("payment-history/", receipts.PaymentHistoryList.as_view(), name="api-payment-history"),
]
