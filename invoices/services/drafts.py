"""What a billing run is about to issue: one draft per billing scope, computed from the
period's charges with no writes (tax per line, addresses and the PO number in force,
PO-6/PO-8)."""

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal

from django.utils import translation
from django_countries import countries

from accounts.models import BillingProfile
from accounts.permissions import pays_by_invoice
from billing_portal.money import quantize

from .. import hooks, tax
from ..models import Charge, PaymentTerms


def payment_terms_for(scope) -> str:
    """Card accounts are charged at issue; pay-by-invoice accounts and enterprise
    enrollments pay by bank transfer within 30 days (PBI-9)."""
    if pays_by_invoice(scope):
        return PaymentTerms.BANK_TRANSFER
    return PaymentTerms.CARD


@dataclass
class Draft:
    profile: BillingProfile
    lines: list
    subtotal: Decimal
    tax_amount: Decimal
    treatment: tax.TaxTreatment
    po_number: str
    sold_to: str
    bill_to: str
    tax_note: str


@functools.lru_cache(maxsize=16)
def _country_names(language: str) -> dict:
    with translation.override(language):
        return {code: str(name) for code, name in countries}


def _country_name(names: dict, country) -> str:
    code = country.code if country else ""
    name = names.get(code)
    return name if name is not None else (str(country.name) if code else "")


def _sold_to(account, names: dict) -> list[str]:
    lines = [
        account.company_name or account.name,
        account.address_line1,
        account.address_line2,
        " ".join(p for p in [account.postal_code, account.city] if p),
        account.region,
        _country_name(names, account.country),
    ]
    return [line for line in lines if line]


def address_lines(profile, sold_to: list[str] | None = None) -> tuple[str, str]:
    """Sold-to and bill-to as printed: the same lines as ``BillingAccount.sold_to_lines``
    and ``BillingProfile.bill_to_lines`` (a test holds them equal), with the country names
    looked up once per language instead of once per invoice. ``sold_to``: the account's
    lines when already built (once per account for a chunk's profiles)."""
    account = profile.account
    names = _country_names(translation.get_language() or "en")
    if sold_to is None:
        sold_to = _sold_to(account, names)
    if not profile.bill_to_address_line1:
        bill_to = sold_to
    else:
        bill_to = [
            profile.bill_to_name or account.company_name or account.name,
            profile.bill_to_address_line1,
            " ".join(p for p in [profile.bill_to_postal_code, profile.bill_to_city] if p),
            _country_name(names, profile.bill_to_country or account.country),
        ]
        bill_to = [line for line in bill_to if line]
    return "\n".join(sold_to), "\n".join(bill_to)


def _draft(profile, rows, po_number: str, sold_to: list[str]) -> Draft:
    account = profile.account
    currency = account.currency
    treatment = tax.treatment_for_account(account)
    rate = treatment.rate
    lines, subtotal, tax_total = [], Decimal(0), Decimal(0)
    for position, (_pid, subscription_id, service, meter, quantity, unit_price, amount, marketplace) in enumerate(
        rows, 1
    ):
        amount = quantize(amount, currency)
        line_tax = tax.line_tax(amount, rate, currency)
        subtotal += amount
        tax_total += line_tax
        lines.append((subscription_id, position, service, meter, quantity, unit_price, amount, line_tax, marketplace))
    sold_to_text, bill_to = address_lines(profile, sold_to)
    return Draft(profile, lines, subtotal, tax_total, treatment, po_number, sold_to_text, bill_to, treatment.note)


# PBI-4: a marketplace (third-party) charge is never billed to a scope that pays by
# invoice; the billing run leaves it out and marks it with this reason.
MARKETPLACE_ON_INVOICE_SCOPE = "marketplace_on_invoice_scope"


def scopes_for(profile_ids) -> list[BillingProfile]:
    """The billing scopes ``profile_ids`` with their accounts, in id order (one query),
    for ``drafts_for`` and ``refused_marketplace_charges``."""
    return list(BillingProfile.objects.filter(pk__in=profile_ids).select_related("account").order_by("pk"))


def refused_marketplace_charges(period: dt.date, profiles: list[BillingProfile]) -> list[int]:
    """Ids of the period's marketplace charges on scopes that pay by invoice (PBI-4)."""
    invoice_scopes = [p.pk for p in profiles if pays_by_invoice(p)]
    if not invoice_scopes:
        return []
    return list(
        Charge.objects.filter(
            period=period, profile_id__in=invoice_scopes, is_marketplace=True, not_billed_reason=""
        ).values_list("pk", flat=True)
    )


def drafts_for(period: dt.date, profiles: list[BillingProfile]) -> list[Draft]:
    """Compute the invoices of the billing scopes ``profiles`` (``scopes_for``) for
    ``period`` (2 queries, no writes). Charges marked not billable, and marketplace
    charges of scopes that pay by invoice (PBI-4), are left out."""
    if not profiles:
        return []
    po_numbers = hooks.po_numbers_in_force(profiles, period)
    by_profile: dict[int, list] = {p.pk: [] for p in profiles}
    invoice_scopes = [p.pk for p in profiles if pays_by_invoice(p)]
    charges = (
        Charge.objects.filter(period=period, profile_id__in=list(by_profile), not_billed_reason="")
        .exclude(profile_id__in=invoice_scopes, is_marketplace=True)
        .order_by("profile_id", "subscription_id", "pk")
        .values_list(
            "profile_id",
            "subscription_id",
            "service_name",
            "meter",
            "quantity",
            "unit_price",
            "amount",
            "is_marketplace",
        )
    )
    for row in charges:
        by_profile[row[0]].append(row)
    drafts = []
    by_language: dict[str, list] = {}
    for profile in profiles:
        if by_profile[profile.pk]:
            by_language.setdefault(profile.account.language, []).append(profile)
    # One language activation per group (addresses are printed in the account's
    # language; the tax note is a code, printed.TaxNote); an account's sold-to lines are built once.
    for language, group in by_language.items():
        with translation.override(language):
            names, sold_to = _country_names(language), {}
            for profile in group:
                account = profile.account
                if account.pk not in sold_to:
                    sold_to[account.pk] = _sold_to(account, names)
                po_number = po_numbers.get(profile.pk, "")
                drafts.append(_draft(profile, by_profile[profile.pk], po_number, sold_to[account.pk]))
    drafts.sort(key=lambda d: d.profile.pk)
    return drafts
