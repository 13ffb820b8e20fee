from django.urls import path

from . import views

app_name = "invoices"

urlpatterns = [
    path("invoices/", views.invoice_list, name="list"),
    path("invoices/download/", views.invoice_download, name="download"),
    path("invoices/export/", views.invoice_export, name="export"),
    path("invoices/<int:pk>/lines/export/", views.invoice_lines_export, name="lines_export"),
    path("invoices/<int:pk>/", views.invoice_detail, name="detail"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="pdf"),
    path("invoices/<int:pk>/pdf/<int:revision>/", views.invoice_pdf, name="pdf"),
    path("support-queue/invoices/<int:pk>/pdf/", views.support_invoice_pdf, name="support_pdf"),
    path("support-queue/invoices/<int:pk>/pdf/<int:revision>/", views.support_invoice_pdf, name="support_pdf"),
    path("credit-notes/<int:pk>/pdf/", views.credit_note_pdf, name="credit_note_pdf"),
]
