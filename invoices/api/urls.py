from django.urls import path

from . import credit_notes, views

urlpatterns = [
    path("invoices/", views.InvoiceList.as_view(), name="api-invoices"),
    path("invoices/download/", views.InvoiceDownload.as_view(), name="api-invoices-download"),
    path("invoices/export/", views.InvoiceExport.as_view(), name="api-invoices-export"),
    path("invoices/<int:pk>/", views.InvoiceDetail.as_view(), name="api-invoice"),
    path("invoices/<int:pk>/lines/export/", views.InvoiceLinesExport.as_view(), name="api-invoice-lines-export"),
    path("invoices/<int:pk>/pdf/", views.InvoicePdf.as_view(), name="api-invoice-pdf"),
    path("invoices/<int:pk>/pdf/<int:revision>/", views.InvoiceRevisionPdf.as_view(), name="api-invoice-pdf-revision"),
    path("invoices/<int:pk>/credit-notes/", credit_notes.InvoiceCreditNotes.as_view(), name="api-invoice-credit-notes"),
    path("credit-notes/<int:pk>/", credit_notes.CreditNoteDetail.as_view(), name="api-credit-note"),
    path("credit-notes/<int:pk>/pdf/", credit_notes.CreditNotePdf.as_view(), name="api-credit-note-pdf"),
    path("usage/", views.UsageImport.as_view(), name="api-usage-import"),
]
