"""Roles a user can hold on a billing account or a billing profile (docs/rules.md).

Support staff are not a role on a customer scope: they are users with
``is_support_staff`` and work through the support queue and the admin site only.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    # Web direct (account scope)
    ACCOUNT_ADMIN = "account_admin", _("Account admin")
    # Enterprise agreement (account scope)
    EA_ADMIN = "ea_admin", _("EA admin")
    EA_READONLY = "ea_readonly", _("EA read-only admin")
    PARTNER_ADMIN = "partner_admin", _("Partner admin")
    # Customer agreement, billing account scope
    BA_OWNER = "ba_owner", _("Billing account owner")
    BA_CONTRIBUTOR = "ba_contributor", _("Billing account contributor")
    BA_READER = "ba_reader", _("Billing account reader")
    # Customer agreement, billing profile scope
    BP_OWNER = "bp_owner", _("Billing profile owner")
    BP_CONTRIBUTOR = "bp_contributor", _("Billing profile contributor")
    BP_READER = "bp_reader", _("Billing profile reader")
    INVOICE_MANAGER = "invoice_manager", _("Invoice manager")


# Which roles exist on which agreement type, and whether they sit on the account or on
# one billing profile.
ACCOUNT_ROLES = {
    "web_direct": {Role.ACCOUNT_ADMIN},
    "enterprise": {Role.EA_ADMIN, Role.EA_READONLY, Role.PARTNER_ADMIN},
    "customer_agreement": {Role.BA_OWNER, Role.BA_CONTRIBUTOR, Role.BA_READER},
}
PROFILE_ROLES = {Role.BP_OWNER, Role.BP_CONTRIBUTOR, Role.BP_READER, Role.INVOICE_MANAGER}
