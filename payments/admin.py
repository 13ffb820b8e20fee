"""Admin site: support staff can look at cards, their history and the sandbox gateway's
records (read-only: cards change only through the customer's own services)."""

from django.contrib import admin

from .models import CardSetup, PaymentMethod, PaymentMethodEvent, SandboxCharge


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "holder_name", "profile", "created_at", "removed_at")
    list_filter = ("brand", "removed_at")
    search_fields = ("holder_name", "last4", "account__name")
    list_select_related = ("profile", "profile__account")
    exclude = ("token",)


@admin.register(PaymentMethodEvent)
class PaymentMethodEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "action", "card", "actor", "profile")
    list_filter = ("action",)
    list_select_related = ("actor", "profile", "profile__account")


@admin.register(CardSetup)
class CardSetupAdmin(ReadOnlyAdmin):
    list_display = ("pk", "profile", "status", "decline_code", "created_by", "created_at")
    list_filter = ("status",)
    exclude = ("gateway_session_id",)


@admin.register(SandboxCharge)
class SandboxChargeAdmin(ReadOnlyAdmin):
    list_display = ("reference", "amount", "currency", "status", "failure_code", "created_at")
    list_filter = ("status",)
