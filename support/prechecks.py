"""The pre-checks of a pay-by-invoice request, each with its fix (PBI-3, PBI-4, PBI-6,
PBI-7, outstanding charges first, and the scope's own state).

A check is a JSON-safe dict, so that the checks as they stood at submission are stored
with the request and shown next to the checks as they stand now:
``{"rule", "code", "ok", "blocking", "items": [{"label", "detail", "url"}]}``. Its text
is not stored: ``describe(check)`` gives it in the reader's language.

``blocking`` checks stop a request from being created and from being approved;
the others are warnings at creation. PBI-7 (a billing contact) warns at creation and
blocks approval (``for_approval=True``): credit cannot be approved without one.
"""

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import AccountKind, BillingProfile, MarketplaceService, SubscriptionStatus
from accounts.permissions import pays_by_invoice
from invoices.models import Invoice, InvoiceStatus, PaymentTerms

from .models import OPEN_STATUSES, PayByInvoiceRequest

ADDRESS_FIELDS = ("company_name", "company_address", "country")


def _check(rule: str, code: str, ok: bool, *, blocking: bool, items=()) -> dict:
    return {"rule": rule, "code": code, "ok": bool(ok), "blocking": bool(blocking) and not ok, "items": list(items)}


def _normal(text: str) -> str:
    return " ".join("".join(ch.lower() if ch.isalnum() else " " for ch in (text or "")).split())


def profile_address(profile: BillingProfile) -> str:
    """The sold-to address of the scope's account, one line per part, without the
    country (a field of its own, compared by its code) (PBI-6)."""
    account = profile.account
    lines = [account.address_line1, account.address_line2]
    lines.append(" ".join(p for p in [account.postal_code, account.city] if p))
    lines.append(account.region)
    return "\n".join(line for line in lines if line)


def profile_company_name(profile: BillingProfile) -> str:
    return profile.account.company_name or profile.account.name


def _state_checks(profile: BillingProfile, exclude_request_id=None) -> list[dict]:
    open_requests = PayByInvoiceRequest.objects.filter(profile=profile, status__in=OPEN_STATUSES)
    if exclude_request_id:
        open_requests = open_requests.exclude(pk=exclude_request_id)
    return [
        _check("PBI-5", "already_pays_by_invoice", not pays_by_invoice(profile), blocking=True),
        _check("PBI-1", "open_request", not open_requests.exists(), blocking=True),
        _check("PBI-3", "business_account", profile.account.kind == AccountKind.BUSINESS, blocking=True),
    ]


def _marketplace_check(profile: BillingProfile, subscription) -> dict:
    """PBI-4: third-party services cannot be paid by invoice. Web direct: the chosen
    subscription; customer agreement: every active subscription of the profile."""
    services = MarketplaceService.objects.select_related("subscription").filter(
        subscription__status=SubscriptionStatus.ACTIVE
    )
    services = (
        services.filter(subscription=subscription) if subscription else services.filter(subscription__profile=profile)
    )
    items = [
        {
            "label": f"{service.name} ({service.publisher})",
            "detail": service.subscription.name,
            "url": reverse("accounts:marketplace_remove", args=[service.subscription.subscription_id, service.pk]),
        }
        for service in services.order_by("subscription__name", "name", "pk")
    ]
    return _check("PBI-4", "marketplace_services", not items, blocking=True, items=items)


def _company_check(profile: BillingProfile, data: dict) -> dict:
    """PBI-6: the company name and address as typed must match the account's profile."""
    account = profile.account
    known = {
        "company_name": profile_company_name(profile),
        "company_address": profile_address(profile),
        "country": account.country.code if account.country else "",
    }
    items = [
        {"label": field, "detail": data.get(field) or "", "url": known[field]}
        for field in ADDRESS_FIELDS
        if field in data and _normal(str(data.get(field) or "")) != _normal(known[field])
    ]
    return _check("PBI-6", "company_matches_profile", not items, blocking=True, items=items)


def _billing_contact_check(profile: BillingProfile, *, for_approval: bool) -> dict:
    account = profile.account
    ok = bool(account.billing_contact_name and account.billing_contact_email)
    return _check("PBI-7", "billing_contact", ok, blocking=for_approval)


def _outstanding_check(profile: BillingProfile) -> dict:
    """Outstanding card invoices are paid first (reference): listed with Pay now."""
    invoices = Invoice.objects.filter(
        profile=profile,
        payment_terms=PaymentTerms.CARD,
        status__in=[InvoiceStatus.DUE, InvoiceStatus.PAST_DUE],
    ).order_by("due_date", "pk")
    items = [
        {
            "label": invoice.number,
            "detail": f"{invoice.amount_due} {invoice.currency}",
            "url": reverse("payments:pay", args=[invoice.pk]),
        }
        for invoice in invoices
        if invoice.amount_due > 0
    ]
    return _check("PAY", "outstanding_card_invoices", not items, blocking=False, items=items)


def run_prechecks(
    *, profile: BillingProfile, subscription=None, data: dict | None = None, for_approval=False, request_id=None
) -> list[dict]:
    """Every pre-check of a request for ``profile`` (and the chosen subscription), with
    the company details as typed (``data``). ``request_id``: the request being
    approved, which does not count as another open request."""
    checks = _state_checks(profile, exclude_request_id=request_id)
    checks.append(_marketplace_check(profile, subscription))
    if data is not None:
        checks.append(_company_check(profile, data))
    checks.append(_billing_contact_check(profile, for_approval=for_approval))
    checks.append(_outstanding_check(profile))
    return checks


def blockers(checks: list[dict]) -> list[dict]:
    return [check for check in checks if check["blocking"]]


def describe(check: dict) -> dict:
    """The check's title and, when it fails, what to do, in the active language."""
    texts = {
        "already_pays_by_invoice": (
            _("The billing scope does not pay by invoice yet"),
            _("This billing scope already pays by invoice: there is nothing to request."),
        ),
        "open_request": (
            _("No other open request"),
            _("A pay-by-invoice request for this billing scope is already open; see My requests."),
        ),
        "business_account": (
            _("Business account (PBI-3)"),
            _("Only business accounts can pay by invoice. This is an individual account: it pays by card."),
        ),
        "marketplace_services": (
            _("No marketplace services (PBI-4)"),
            _(
                "Third-party marketplace services cannot be paid by invoice. Remove them from the subscription "
                "first; to buy them later, use a separate subscription paid by card."
            ),
        ),
        "company_matches_profile": (
            _("Company name and address match the profile (PBI-6)"),
            _(
                "The company name and address must be as registered on the account's profile. Correct what you "
                "typed, or update the profile and come back."
            ),
        ),
        "billing_contact": (
            _("A billing contact is on the account (PBI-7)"),
            _(
                "Add a billing contact (your procurement or finance department) to the account's profile: credit "
                "cannot be approved without one."
            ),
        ),
        "outstanding_card_invoices": (
            _("No outstanding card invoices"),
            _("Outstanding charges are paid first: pay these invoices by card."),
        ),
    }
    title, fix = texts[check["code"]]
    return {**check, "title": title, "fix": "" if check["ok"] else fix}
