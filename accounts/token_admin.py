"""Admin of API tokens: seen (never a key: only its hash is kept) and revoked through
the service, e.g. for a lost laptop; nothing else changes here."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing_portal.admin import ReadOnlyAdmin
from billing_portal.errors import DomainError

from . import api_tokens
from .token_models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "prefix", "origin", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["origin"]
    search_fields = ["user__email", "name", "prefix"]
    list_select_related = ["user"]
    fields = ["user", "name", "prefix", "origin", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        try:
            count = api_tokens.api_tokens_revoke_by_operator(tokens=queryset, actor=request.user)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(
                request, ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count) % {"count": count}
            )
