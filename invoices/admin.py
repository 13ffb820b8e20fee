from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing_portal.admin import ReadOnlyInline
from billing_portal.errors import DomainError

from . import services
from .credit_admin import CreditNoteInline, InvoiceCreditActions
from .forms import BillingRunStartForm
from .models import BillingRun, BillingRunChunk, Charge, Invoice, InvoiceLine, InvoiceRevision


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = ["position", "service_name", "meter", "quantity", "unit_price", "amount", "tax_amount", "is_marketplace"]


class InvoiceRevisionInline(ReadOnlyInline):
    model = InvoiceRevision
    fields = [
        "number",
        "po_number",
        "vat_id",
        "tax_rate",
        "reverse_charge",
        "pdf",
        "reason",
        "created_by",
        "created_at",
    ]


@admin.register(Invoice)
class InvoiceAdmin(InvoiceCreditActions, admin.ModelAdmin):
    list_display = [
        "number",
        "account",
        "profile",
        "period",
        "issue_date",
        "due_date",
        "status",
        "total",
        "currency",
        "notified_at",
    ]
    list_filter = ["status", "period", "payment_terms"]
    search_fields = ["number", "account__name", "payment_reference"]
    list_select_related = ["account", "profile", "profile__account"]
    inlines = [InvoiceRevisionInline, InvoiceLineInline, CreditNoteInline]
    readonly_fields = [*(f.name for f in Invoice._meta.fields), "credit_actions"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [*self.credit_urls(), *super().get_urls()]


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    list_display = [
        "period",
        "subscription",
        "service_name",
        "meter",
        "quantity",
        "unit_price",
        "amount",
        "currency",
        "source",
    ]
    list_filter = ["period", "source", "is_marketplace"]
    search_fields = ["subscription__name", "service_name", "external_id"]
    list_select_related = ["subscription"]
    readonly_fields = [f.name for f in Charge._meta.fields]

    def has_add_permission(self, request):
        return False


class BillingRunChunkInline(ReadOnlyInline):
    model = BillingRunChunk
    fields = ["index", "done", "invoices_created", "enqueued_at", "done_at"]


@admin.register(BillingRun)
class BillingRunAdmin(admin.ModelAdmin):
    list_display = [
        "period",
        "status",
        "progress",
        "done_chunks",
        "total_chunks",
        "total_scopes",
        "invoices_created",
        "started_at",
        "finished_at",
    ]
    readonly_fields = [f.name for f in BillingRun._meta.fields]
    inlines = [BillingRunChunkInline]
    actions = ["resume_runs"]
    change_list_template = "admin/invoices/billingrun/change_list.html"

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, run):
        return format_html(
            '<progress class="progress" max="100" value="{}">{} %</progress> {} %',
            run.progress_percent,
            run.progress_percent,
            run.progress_percent,
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("start/", self.admin_site.admin_view(self.start_view), name="invoices_billingrun_start"),
            *super().get_urls(),
        ]

    def start_view(self, request):
        if not request.user.has_perm("invoices.change_billingrun"):
            raise PermissionDenied
        form = BillingRunStartForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = services.billing_run_start(period=form.cleaned_data["period"], started_by=request.user)
            except DomainError as exc:
                form.add_error("period", exc.message)
            else:
                messages.success(request, _("The billing run for %(period)s has started.") % {"period": run})
                return redirect(reverse("admin:invoices_billingrun_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": _("Start a billing run"),
            "opts": self.model._meta,
        }
        return render(request, "admin/invoices/billingrun/start.html", context)

    @admin.action(description=gettext_lazy("Resume or re-run the selected billing runs"))
    def resume_runs(self, request, queryset):
        for run in queryset:
            services.billing_run_start(period=run.period, started_by=request.user)
        messages.success(request, _("Resumed."))
