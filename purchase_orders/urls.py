from django.urls import path

from . import views

app_name = "purchase_orders"

urlpatterns = [
    # PO-3: Subscriptions › subscription › Payment methods › Invoice
    path("subscriptions/<str:subscription_id>/payment-methods/invoice/", views.web_direct_po, name="web_direct_po"),
    # PO-4: Reports › Usage summary › period › View/Edit PO numbers
    path("reports/usage-summary/", views.usage_summary, name="usage_summary"),
    path("reports/usage-summary/<int:account_id>/<str:period>/po-numbers/", views.period_po, name="period_po"),
    # Customer agreement: a billing profile's PO number
    path("billing-profiles/<int:pk>/po-number/", views.profile_po, name="profile_po"),
    # An account's PO and VAT numbers, VAT-1, history and its CSV export
    path("billing-accounts/<int:pk>/po-and-vat/", views.numbers, name="numbers"),
    path("billing-accounts/<int:pk>/vat-number/", views.vat_number, name="vat_number"),
    path("billing-accounts/<int:pk>/po-and-vat/history/", views.history, name="history"),
    path("billing-accounts/<int:pk>/po-and-vat/history.csv", views.history_export, name="history_csv"),
    # PO-5: ask support to amend an issued invoice
    path("help/invoice-amendments/", views.amendment_list, name="amendment_list"),
    path("help/invoice-amendments/new/", views.amendment_new, name="amendment_new"),
    path("help/invoice-amendments/<int:pk>/", views.amendment_detail, name="amendment_detail"),
    # Support staff
    path("support-queue/<int:pk>/", views.support_request, name="support_request"),
]
