"""Admin site: support staff issue credit notes and correct the VAT of a paid invoice
(from the invoice's page), and read credit notes with their PDFs. Every action asks
``accounts.permissions.can_credit_invoices`` and goes through the services."""

import uuid

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import permissions
from billing_portal.admin import ReadOnlyAdmin, ReadOnlyInline
from billing_portal.errors import DomainError
from billing_portal.forms import add_domain_error

from . import downloads, services
from .forms import CorrectionForm, CreditNoteForm
from .models import CreditNote, CreditNoteLine, Invoice


class CreditNoteInline(ReadOnlyInline):
    model = CreditNote
    fk_name = "invoice"
    fields = ["number", "kind", "issue_date", "total", "reason", "applied_to", "amount_applied", "created_by"]


def _require_support(request) -> None:
    if not permissions.can_credit_invoices(request.user):
        raise PermissionDenied


class InvoiceCreditActions:
    """The credit-note and correction views of the invoice admin (a mixin)."""

    @admin.display(description=gettext_lazy("credit and correct"))
    def credit_actions(self, invoice):
        return format_html(
            '<a class="button" href="{}">{}</a> <a class="button" href="{}">{}</a>',
            reverse("admin:invoices_invoice_credit", args=[invoice.pk]),
            _("Issue a credit note"),
            reverse("admin:invoices_invoice_correct", args=[invoice.pk]),
            _("Correct the VAT (credit and reissue)"),
        )

    def credit_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:object_id>/credit/", view(self.credit_view), name="invoices_invoice_credit"),
            path("<int:object_id>/correct/", view(self.correct_view), name="invoices_invoice_correct"),
        ]

    def _page(self, request, invoice, form, *, title, intro, submit_label):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "invoice": invoice,
            "form": form,
            "title": title,
            "intro": intro,
            "submit_label": submit_label,
        }
        return render(request, "admin/invoices/invoice/credit_form.html", context)

    def credit_view(self, request, object_id):
        _require_support(request)
        invoice = get_object_or_404(Invoice, pk=object_id)
        form = CreditNoteForm(request.POST or None, initial={"token": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            try:
                credit_note = services.credit_note_issue(
                    invoice=invoice,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    amount=form.cleaned_data["amount"],
                    request_key=f"admin:{form.cleaned_data['token']}",
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Credit note %(number)s issued: %(total)s %(currency)s.")
                    % {"number": credit_note.number, "total": credit_note.total, "currency": credit_note.currency},
                )
                return redirect(reverse("admin:invoices_invoice_change", args=[invoice.pk]))
        return self._page(
            request,
            invoice,
            form,
            title=_("Issue a credit note for %(number)s") % {"number": invoice.number},
            intro=_("The amount is split over the invoice's lines pro rata, VAT per line at the invoice's rate."),
            submit_label=_("Issue credit note"),
        )

    def correct_view(self, request, object_id):
        _require_support(request)
        invoice = get_object_or_404(Invoice.objects.select_related("current_revision"), pk=object_id)
        initial = {"vat_id": invoice.current_revision.vat_id if invoice.current_revision else ""}
        form = CorrectionForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                corrected = services.invoice_correct(
                    invoice=invoice,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    vat_id=form.cleaned_data["vat_id"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("%(old)s is credited in full; the corrected invoice is %(new)s.")
                    % {"old": invoice.number, "new": corrected.number},
                )
                return redirect(reverse("admin:invoices_invoice_change", args=[corrected.pk]))
        return self._page(
            request,
            invoice,
            form,
            title=_("Correct the VAT of %(number)s") % {"number": invoice.number},
            intro=_(
                "The invoice is credited in full and a corrected invoice with the new VAT number is issued. "
                "What was paid is carried over to it."
            ),
            submit_label=_("Credit and reissue"),
        )


class CreditNoteLineInline(ReadOnlyInline):
    model = CreditNoteLine
    fields = ["position", "service_name", "meter", "amount", "tax_amount"]


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ["number", "invoice", "kind", "issue_date", "total", "currency", "applied_to", "pdf_link"]
    list_filter = ["kind", "issue_date"]
    search_fields = ["number", "invoice__number", "account__name"]
    list_select_related = ["invoice", "applied_to"]
    exclude = ["request_key", "request_fingerprint", "pdf"]
    inlines = [CreditNoteLineInline]

    @admin.display(description="PDF")
    def pdf_link(self, credit_note):
        return format_html('<a href="{}">PDF</a>', reverse("admin:invoices_creditnote_pdf", args=[credit_note.pk]))

    def get_urls(self):
        view = self.admin_site.admin_view(self.pdf_view)
        return [path("<int:object_id>/pdf/", view, name="invoices_creditnote_pdf"), *super().get_urls()]

    def pdf_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return downloads.credit_note_document(get_object_or_404(CreditNote, pk=object_id))
