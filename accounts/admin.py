from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing_portal.admin import ReadOnlyAdmin
from billing_portal.forms import NoCardNumbersEchoedMixin

from .models import (
    BillingAccount,
    BillingProfile,
    Invitation,
    MarketplaceService,
    MemberChange,
    RoleAssignment,
    Subscription,
    User,
)


class UserForm(NoCardNumbersEchoedMixin, UserChangeForm):
    pass


class NoCardNumbersForm(NoCardNumbersEchoedMixin, forms.ModelForm):
    pass


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserForm
    ordering = ["email"]
    list_display = ["email", "full_name", "language", "is_support_staff", "is_staff", "is_active"]
    list_filter = ["is_support_staff", "is_staff", "is_active", "language"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("full_name", "language")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_support_staff", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class BillingProfileInline(admin.TabularInline):
    model = BillingProfile
    form = NoCardNumbersForm
    extra = 0
    fields = ["name", "is_default", "invoice_email", "po_number"]
    readonly_fields = ["po_number"]


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(BillingAccount)
class BillingAccountAdmin(admin.ModelAdmin):
    form = NoCardNumbersForm
    list_display = ["name", "agreement_type", "kind", "payment_mode", "country", "currency"]
    list_filter = ["agreement_type", "kind", "payment_mode"]
    search_fields = ["name", "company_name", "enrollment_number", "vat_id"]
    inlines = [BillingProfileInline, RoleAssignmentInline]
    # PBI-5: the payment mode changes only through an approved pay-by-invoice request.
    readonly_fields = ["vat_id", "payment_mode", "version"]


@admin.register(BillingProfile)
class BillingProfileAdmin(admin.ModelAdmin):
    form = NoCardNumbersForm
    list_display = ["__str__", "account", "is_default", "po_number"]
    search_fields = ["name", "account__name"]
    list_select_related = ["account"]
    readonly_fields = ["po_number", "payment_method", "payment_mode", "version"]


class MarketplaceServiceInline(admin.TabularInline):
    model = MarketplaceService
    extra = 0


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["name", "subscription_id", "account", "status"]
    list_filter = ["status"]
    search_fields = ["name", "subscription_id", "account__name"]
    list_select_related = ["account"]
    readonly_fields = ["payment_method"]
    inlines = [MarketplaceServiceInline]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "account", "profile"]
    list_filter = ["role"]
    search_fields = ["user__email", "account__name"]
    list_select_related = ["user", "account", "profile"]
    autocomplete_fields = ["user"]


@admin.register(MemberChange)
class MemberChangeAdmin(ReadOnlyAdmin):
    """MEM-6: the record of member changes, read-only (changes go through the members pages)."""

    list_display = ["created_at", "action", "member_email", "actor_email", "account", "profile"]
    list_filter = ["action"]
    search_fields = ["member_email", "actor_email", "account__name"]
    list_select_related = ["account", "profile", "profile__account"]
    fields = ["created_at", "account", "profile", "action", "actor", "actor_email", "member", "member_email"]
    fields += ["old_roles", "new_roles"]
    readonly_fields = fields


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    """Invitations, read-only; the nonce behind the link is not shown."""

    list_display = ["email", "account", "profile", "status", "created_at", "expires_at"]
    list_filter = ["status"]
    search_fields = ["email", "account__name"]
    list_select_related = ["account", "profile", "profile__account"]
    fields = ["email", "account", "profile", "roles", "language", "invited_by", "status", "created_at"]
    fields += ["expires_at", "closed_at", "accepted_by"]
    readonly_fields = fields


# django-otp's own device admin adds and edits devices with their secrets; here a device
# is only seen and removed (a lost phone: the user sets up a new app at the next sign-in).
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TwoFactorDeviceAdmin(ReadOnlyAdmin):
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count"]
    list_filter = ["confirmed"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count"]
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        return admin.ModelAdmin.has_delete_permission(self, request, obj)


# API tokens have their admin in their own module.
from . import token_admin  # noqa: E402, F401
