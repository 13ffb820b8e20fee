"""The navigation bar, following the help articles' names (Cost Management + Billing).

Each entry shows when its URL exists and the user may use it. The roles come from the
cached grants, so the bar costs no queries beyond the one that reads them; the entries'
URLs are reversed once per URLconf and script prefix, not on every page.
"""

from functools import lru_cache

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext_lazy as _

from accounts import permissions, two_factor
from accounts.models import AgreementType
from support.selectors import waiting_count

# (label, url name, who sees it)
ENTRIES = [
    (_("Overview"), "accounts:overview", lambda u: True),
    (_("Subscriptions"), "accounts:subscriptions", permissions.has_customer_roles),
    (
        _("Payment methods"),
        "payments:index",
        lambda u: permissions.has_role_on_agreement_type(u, AgreementType.WEB_DIRECT, AgreementType.CUSTOMER_AGREEMENT),
    ),
    (_("Invoices"), "invoices:list", permissions.has_customer_roles),
    (_("Payment history"), "payments:history", permissions.has_customer_roles),
    (
        _("Usage summary"),
        "purchase_orders:usage_summary",
        lambda u: permissions.has_role_on_agreement_type(u, AgreementType.ENTERPRISE),
    ),
    (_("Help + support"), "support:help", lambda u: True),
    (_("Support queue"), "support:queue", permissions.can_work_support_queue),
    # Two-factor sign-in: required for staff, offered to every customer.
    (_("Security"), "accounts:security", lambda u: True),
]
# Entries that show a number: the requests waiting for support staff (one query, staff only).
COUNTS = {"support:queue": waiting_count}


@lru_cache(maxsize=16)
def _entries(urlconf: str, script_prefix: str) -> tuple:
    """(label, url name, url, who sees it) of the ENTRIES whose URL exists."""
    entries = []
    for label, url_name, visible in ENTRIES:
        try:
            entries.append((label, url_name, reverse(url_name, urlconf=urlconf), visible))
        except NoReverseMatch:
            continue
    return tuple(entries)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or two_factor.pending_step(request):
        # Until the two-factor step is passed, the session reaches no other page.
        return {"nav_entries": []}
    current = request.path
    entries = []
    for label, url_name, url, visible in _entries(get_urlconf() or settings.ROOT_URLCONF, get_script_prefix()):
        if visible(user):
            active = current == url or (url != "/" and current.startswith(url))
            count = COUNTS[url_name]() if url_name in COUNTS else None
            entries.append({"label": label, "url": url, "active": active, "count": count})
    return {"nav_entries": entries}
