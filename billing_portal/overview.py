"""The overview: the page after sign-in answers "what do I owe?" per billing scope.

A scope is a billing profile the user may see: a customer agreement's billing profile,
a web-direct account or an enterprise enrollment (their single default profile). For
each: the balance due, the next due date, the past-due amount with Pay now, the last
payment, the active payment method (or "pays by invoice"), and for an enrollment the PO
number in force with its PO-7 edit window. The page (``overview_views``) and the API
(``GET /api/v1/overview/``, ``overview_api``) read this one selector.

It reads every app (invoices, payments, purchase orders), so it lives in the wiring
(docs/architecture.md). Each app reads its own part for all scopes at once, so the
overview costs the same number of queries for one scope or hundreds, whatever their
invoices. Who sees what is decided here, with the predicates of accounts.permissions
only: a fact or a link the user's roles do not reach is left out (None), so templates
and serializers show what they are given and decide nothing.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts import permissions
from accounts import selectors as account_selectors
from accounts.models import AgreementType, BillingProfile
from invoices import selectors as invoice_selectors
from invoices.models import InvoiceStatus, PaymentTerms
from payments import selectors as payment_selectors
from payments.models import PaymentKind, PaymentMethod
from purchase_orders import selectors as po_selectors
from purchase_orders.windows import WindowState


@dataclass(frozen=True)
class InvoiceToPay:
    """The open invoice due first: Pay now (a card invoice, for who may pay) or the
    bank-transfer reference to quote."""

    id: int
    number: str
    status: str
    due_date: dt.date
    amount_due: Decimal
    pays_by_bank_transfer: bool
    payment_reference: str
    url: str
    pay_url: str | None


@dataclass(frozen=True)
class LastPayment:
    paid_at: dt.datetime
    amount: Decimal
    currency: str
    method: str


@dataclass(frozen=True)
class PurchaseOrder:
    """An enrollment's PO number in force for ``period`` and its PO-7 window: ``open``
    until ``open_until`` (the last day; None while it has not started: before the
    invoice is generated or e-mailed) or closed (a support request changes it then)."""

    po_number: str
    is_default: bool
    period: dt.date
    invoice_number: str | None
    window_state: str
    is_open: bool
    open_until: dt.date | None
    url: str | None
    can_edit: bool
    amendment_url: str | None


@dataclass(frozen=True)
class ScopeOverview:
    profile: BillingProfile
    kind: str  # "billing_profile", "web_direct_account" or "enrollment"
    name: str
    currency: str
    invoice_count: int
    balance_due: Decimal
    next_due_date: dt.date | None
    past_due_amount: Decimal
    past_due_count: int
    invoice_to_pay: InvoiceToPay | None
    last_payment: LastPayment | None
    pays_by_invoice: bool
    shows_payment_method: bool
    payment_method: PaymentMethod | None  # the active card (brand, last four, expiry)
    purchase_order: PurchaseOrder | None
    invoices_url: str
    past_due_url: str | None
    payment_methods_url: str | None
    add_card_url: str | None

    @property
    def id(self) -> int:
        return self.profile.pk

    @property
    def account(self):
        return self.profile.account

    @property
    def agreement_type(self) -> str:
        return self.profile.account.agreement_type

    @property
    def agreement_type_label(self) -> str:
        return self.profile.account.get_agreement_type_display()

    @property
    def enrollment_number(self) -> str:
        return self.profile.account.enrollment_number

    @property
    def owes_nothing(self) -> bool:
        return self.balance_due == 0


KINDS = {
    AgreementType.CUSTOMER_AGREEMENT: "billing_profile",
    AgreementType.WEB_DIRECT: "web_direct_account",
    AgreementType.ENTERPRISE: "enrollment",
}
_ZERO = Decimal("0.00")


def scopes_for_user(user) -> list[ScopeOverview]:
    """The overview of every billing scope whose invoices the user may see
    (``can_view_invoices``), by account and profile name. Support staff, who hold no
    customer role, get none."""
    profiles = list(account_selectors.profiles_for_user(user))
    if not profiles:
        return []
    ids = [p.pk for p in profiles]
    owed = invoice_selectors.owed_by_scope(ids)
    payments = payment_selectors.last_payments(ids)
    seen_cards = [p for p in profiles if permissions.can_view_payment_methods(user, p)]
    cards = payment_selectors.active_cards(seen_cards)
    orders = po_selectors.enrollment_po_states(profiles)
    add_card_urls = _add_card_urls(user, seen_cards, cards)
    return [
        _scope(user, p, owed.get(p.pk), payments.get(p.pk), cards, orders.get(p.pk), add_card_urls.get(p.pk))
        for p in profiles
    ]


def _scope(user, profile, owed, payment, cards, order, add_card_url) -> ScopeOverview:
    account = profile.account
    shows_card = profile.pk in cards
    past_due = owed.past_due_count if owed else 0
    invoices_url = reverse("invoices:list")
    return ScopeOverview(
        profile=profile,
        kind=KINDS[account.agreement_type],
        name=str(profile),
        currency=account.currency,
        invoice_count=owed.invoice_count if owed else 0,
        balance_due=owed.balance_due if owed else _ZERO,
        next_due_date=owed.next_due_date if owed else None,
        past_due_amount=owed.past_due_amount if owed else _ZERO,
        past_due_count=past_due,
        invoice_to_pay=_invoice_to_pay(user, profile, owed.first_to_pay if owed else None),
        last_payment=_last_payment(payment),
        pays_by_invoice=permissions.pays_by_invoice(profile),
        shows_payment_method=shows_card,
        payment_method=cards.get(profile.pk),
        purchase_order=_purchase_order(user, profile, order),
        invoices_url=invoices_url,
        past_due_url=f"{invoices_url}?{urlencode({'status': InvoiceStatus.PAST_DUE})}" if past_due else None,
        payment_methods_url=_payment_methods_url(profile) if shows_card else None,
        add_card_url=add_card_url,
    )


def _invoice_to_pay(user, profile, invoice) -> InvoiceToPay | None:
    if invoice is None:
        return None
    by_card = invoice.payment_terms == PaymentTerms.CARD
    may_pay = by_card and permissions.can_pay_invoices(user, profile)
    return InvoiceToPay(
        id=invoice.pk,
        number=invoice.number,
        status=invoice.status,
        due_date=invoice.due_date,
        amount_due=invoice.amount_due,
        pays_by_bank_transfer=not by_card,
        payment_reference=invoice.payment_reference if not by_card else "",
        url=reverse("invoices:detail", args=[invoice.pk]),
        pay_url=reverse("payments:pay", args=[invoice.pk]) if may_pay else None,
    )


def _last_payment(payment) -> LastPayment | None:
    if payment is None:
        return None
    if payment.kind == PaymentKind.BANK_TRANSFER:
        method = _("Bank transfer")
    else:
        method = payment.card
    return LastPayment(
        paid_at=payment.settled_at or payment.created_at,
        amount=payment.amount,
        currency=payment.currency,
        method=method,
    )


def _payment_methods_url(profile) -> str:
    if profile.account.agreement_type == AgreementType.CUSTOMER_AGREEMENT:
        return reverse("payments:profile_methods", args=[profile.pk])
    return reverse("payments:index")


def _add_card_urls(user, profiles, cards) -> dict[int, str]:
    """Where "add a card" goes for a scope without an active card, for the user who may
    add one (PM-3): the profile's card form, or (web direct) the card form of its first
    subscription that is not cancelled, which the new card becomes active for (PM-4).
    One query for all web-direct scopes."""
    wanting = [
        p
        for p in profiles
        if cards.get(p.pk) is None
        and not permissions.pays_by_invoice(p)
        and permissions.can_manage_payment_methods(user, p)
    ]
    urls = {
        p.pk: reverse("payments:profile_add_card", args=[p.pk])
        for p in wanting
        if p.account.agreement_type == AgreementType.CUSTOMER_AGREEMENT
    }
    web_direct = [p.pk for p in wanting if p.account.agreement_type == AgreementType.WEB_DIRECT]
    for profile_id, subscription_id in payment_selectors.first_subscriptions(web_direct).items():
        urls[profile_id] = reverse("payments:subscription_add_card", args=[str(subscription_id)])
    return urls


def _purchase_order(user, profile, state) -> PurchaseOrder | None:
    if state is None:
        return None
    window = state.window
    printed = state.printed_po_number
    account = profile.account
    closed_invoice = state.invoice if window.state == WindowState.CLOSED else None
    may_amend = closed_invoice is not None and permissions.can_request_invoice_amendment(user, profile)
    return PurchaseOrder(
        po_number=printed if printed is not None else state.po_number,
        is_default=state.is_default,
        period=state.period,
        invoice_number=state.invoice.number if state.invoice is not None else None,
        window_state=window.state,
        is_open=window.is_open,
        open_until=window.last_day if window.is_open else None,
        url=(
            reverse("purchase_orders:period_po", args=[account.pk, state.key])
            if permissions.can_view_usage_summary(user, account)
            else None
        ),
        can_edit=window.is_open and permissions.can_edit_po(user, profile),
        amendment_url=(
            f"{reverse('purchase_orders:amendment_new')}?{urlencode({'invoice': closed_invoice.pk})}"
            if may_amend
            else None
        ),
    )
