from django.urls import path

from . import views

urlpatterns = [
    path("invoices/", views.InvoiceList.as_view(), name="api-invoices"),
    path("invoices/<int:pk>/", views.InvoiceDetail.as_view(), name="api-invoice"),
    path("invoices/<int:pk>/pdf/", views.InvoicePdf.as_view(), name="api-invoice-pdf"),
    path("invoices/<int:pk>/pdf/<int:revision>/", views.InvoiceRevisionPdf.as_view(), name="api-invoice-pdf-revision"),
    path("usage/", views.UsageImport.as_view(), name="api-usage-import"),
]
