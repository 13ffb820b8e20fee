"""Admin: support staff can read every notification and its delivery state."""

from django.contrib import admin

from billing_portal.admin import ReadOnlyAdmin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["kind", "recipient", "language", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["kind", "status", "language"]
    search_fields = ["recipient", "dedupe_key"]
