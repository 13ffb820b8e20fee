"""Admin views of PO numbers, their history and amendment requests. Read-only: every
change goes through the services (the pages, the API or the support queue), so that it is
validated, version-checked and recorded."""

from django.contrib import admin

from billing_portal.admin import ReadOnlyAdmin

from .models import AmendmentRequest, NumberChange, PeriodPONumber


@admin.register(PeriodPONumber)
class PeriodPONumberAdmin(ReadOnlyAdmin):
    list_display = ["profile", "period", "po_number", "set_by", "set_at", "version"]
    list_select_related = ["profile__account", "set_by"]
    search_fields = ["po_number", "profile__account__name", "profile__account__enrollment_number"]
    date_hierarchy = "period"


@admin.register(NumberChange)
class NumberChangeAdmin(ReadOnlyAdmin):
    list_display = [
        "changed_at",
        "account",
        "profile",
        "period",
        "field",
        "old_value",
        "new_value",
        "changed_by",
        "invoice",
        "source",
    ]
    list_filter = ["field", "source"]
    list_select_related = ["account", "profile__account", "changed_by", "invoice"]
    search_fields = ["account__name", "old_value", "new_value", "invoice__number"]


@admin.register(AmendmentRequest)
class AmendmentRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "account",
        "invoice",
        "status",
        "change_po_number",
        "change_vat_id",
        "requested_by",
        "requested_at",
        "handled_by",
    ]
    list_filter = ["status"]
    list_select_related = ["account", "invoice", "requested_by", "handled_by"]
    search_fields = ["account__name", "invoice__number", "po_number", "vat_id"]
