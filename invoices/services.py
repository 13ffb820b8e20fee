"""Writes for invoices."""

import csv
import datetime as dt
import functools
import io
import logging
import os
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from stdnum.iso7064 import mod_97_10

from accounts.models import AgreementType, BillingProfile, PaymentMode, RoleAssignment, Subscription
from accounts.roles import Role
from billing_portal import clock
from billing_portal.errors import Conflict, InvalidInput
from billing_portal.money import CURRENCIES, quantize
from billing_portal.validators import clean_po_number, clean_vat_id
from notifications.services import notification_queue, notifications_pending, unique_recipients

from . import hooks, tax
from .models import (
    BillingRun,
    BillingRunChunk,
    BillingRunStatus,
    Charge,
    Invoice,
    InvoiceLine,
    InvoiceNumberSequence,
    InvoiceRevision,
    InvoiceStatus,
    PaymentTerms,
)

logger = logging.getLogger(__name__)


# =====================================================================================
# Invoice notifications
# =====================================================================================

INVOICE_READY = "invoice_ready"
INVOICE_PAST_DUE = "invoice_past_due"

# Roles that receive invoices by e-mail (besides the account's billing contact and the
# billing profile's invoice address). Read-only roles see invoices in the portal only.
RECEIVING_ROLES = (
    Role.ACCOUNT_ADMIN,
    Role.EA_ADMIN,
    Role.PARTNER_ADMIN,
    Role.BA_OWNER,
    Role.BP_OWNER,
    Role.INVOICE_MANAGER,
)


def _recipients_for(invoices) -> dict[int, list[tuple[str, str]]]:
    """(e-mail, language) of everyone who receives each invoice; one query for all.

    ``invoices`` must have ``account`` and ``profile`` loaded."""
    invoices = list(invoices)
    account_ids = {invoice.account_id for invoice in invoices}
    assignments = list(
        RoleAssignment.objects.filter(account_id__in=account_ids, role__in=RECEIVING_ROLES, user__is_active=True)
        .values_list("account_id", "profile_id", "user__email", "user__language")
        .order_by("pk")
    )
    result = {}
    for invoice in invoices:
        account = invoice.account
        candidates = [
            (account.billing_contact_email, account.language),
            (invoice.profile.invoice_email, account.language),
        ]
        candidates += [
            (email, language)
            for account_id, profile_id, email, language in assignments
            if account_id == invoice.account_id and profile_id in (None, invoice.profile_id)
        ]
        result[invoice.pk] = unique_recipients(candidates)
    return result


def _invoice_context(invoice) -> dict:
    """JSON-safe facts for the invoice e-mails."""
    revision = invoice.current_revision
    return {
        "invoice_id": invoice.pk,
        "number": invoice.number,
        "account_name": invoice.account.name,
        "period": f"{invoice.period:%Y-%m}",
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "total": str(invoice.total),
        "amount_due": str(invoice.amount_due),
        "currency": invoice.currency,
        "po_number": revision.po_number if revision else "",
        "bank_transfer": invoice.pays_by_bank_transfer,
        "payment_reference": invoice.payment_reference,
        "is_enterprise": invoice.account.agreement_type == AgreementType.ENTERPRISE,
        "url": settings.PORTAL_BASE_URL + reverse("invoices:detail", args=[invoice.pk]),
        "seller": dict(settings.PORTAL_SELLER),
    }


def _queue_invoice_notifications(invoices, kind: str) -> int:
    invoices = list(invoices)
    recipients = _recipients_for(invoices)
    queued = 0
    for invoice in invoices:
        context = _invoice_context(invoice)
        for email, language in recipients[invoice.pk]:
            if notification_queue(
                kind=kind,
                recipient=email,
                dedupe_key=f"{kind}:{invoice.pk}:{email}",
                language=language,
                context=context,
                account=invoice.account,
                invoice=invoice,
            ):
                queued += 1
    return queued


def invoice_date_notified(*, notification) -> None:
    """``notifications.hooks.sent``: the first invoice-ready e-mail that actually went
    out dates the invoice (for an enterprise enrollment it opens the PO-7 window)."""
    if notification.kind == INVOICE_READY and notification.invoice_id:
        Invoice.objects.filter(pk=notification.invoice_id, notified_at__isnull=True).update(
            notified_at=notification.sent_at
        )


@transaction.atomic
def invoice_notify_ready(*, invoice_id: int) -> int:
    """Queue the invoice-ready e-mail to every recipient (once each). For an enterprise
    enrollment this is the automated-invoice notification that opens the PO-7 window;
    ``Invoice.notified_at`` is set when the first one is actually sent."""
    invoices = Invoice.objects.select_related("account", "profile", "current_revision").filter(
        pk=invoice_id, status__in=[InvoiceStatus.DUE, InvoiceStatus.PAST_DUE, InvoiceStatus.PAID]
    )
    return _queue_invoice_notifications(invoices, INVOICE_READY)


# =====================================================================================
# PDFs
# =====================================================================================


def invoice_revision_render_pdf(*, revision_id: int) -> bool:
    """Render and store the PDF of one invoice revision, once. Returns True if it was
    rendered now; False if it already had one (or does not exist).

    Rendering happens outside the transaction (it takes a while); storing happens under
    a row lock, and a concurrent render that finishes second is discarded."""
    from .pdf import render_revision_pdf

    revision = InvoiceRevision.objects.select_related("invoice").filter(pk=revision_id).first()
    if revision is None or revision.pdf:
        return False
    content = render_revision_pdf(revision)
    with transaction.atomic():
        locked = InvoiceRevision.objects.select_for_update().get(pk=revision_id)
        if locked.pdf:
            return False
        name = f"{revision.invoice.number}-r{revision.number}.pdf"
        locked.pdf.save(name, ContentFile(content), save=False)
        locked.pdf_rendered_at = clock.now()
        locked.save(update_fields=["pdf", "pdf_rendered_at"])
    return True


# =====================================================================================
# Amendments and payments (called by the purchase-order and payments apps)
# =====================================================================================


@transaction.atomic
def invoice_amend(
    *, invoice: Invoice, actor, reason: str, po_number: str | None = None, vat_id: str | None = None
) -> InvoiceRevision:
    """A new revision of an issued invoice with a changed PO and/or VAT number (PO-5,
    PO-7). The earlier revision and its PDF stay readable; the new PDF is rendered
    after commit. The caller records the PO/VAT history.

    Tax treatment (decided here, documented in the README's Invoices section):

    * A PO-only amendment, or a VAT number change that leaves the tax treatment as
      printed (same rate, same reverse-charge flag), copies the tax treatment, the
      note and every amount unchanged.
    * A VAT number change that changes the tax treatment (``tax.treatment_for`` with
      the account's country and business flag and the *new* VAT number: e.g. a
      business customer in another member state now with a valid VAT ID of that
      state -> reverse charge 0 % with the legal note; a VAT ID removed -> the
      country's rate) is applied only while nothing has been paid on the invoice:
      ``amount_paid == 0``, status not paid, and no card payment pending or
      succeeded (``payments.Payment``). Then each line's tax is recomputed with
      ``tax.line_tax`` (half-up per line, exactly as the billing run does), the
      invoice's ``tax_amount`` is their sum and ``total = subtotal + tax_amount``; the
      new revision carries the new rate, reverse-charge flag and note (in the
      revision's language). The earlier revision's PDF is rendered and stored first
      if it was not yet, so it keeps showing the figures it was issued with.
    * Otherwise the amendment is refused with ``Conflict`` (409,
      ``tax_change_needs_credit_note``) and nothing is written: money has moved
      against the printed total, so support must credit the invoice and issue a new
      one instead.

    The invoice row is locked (``select_for_update``) before the payments are checked;
    the pay service takes the same lock, so a payment cannot start in between."""

    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give a reason for the amendment."), fields={"reason": [_("This field is required.")]})
    if po_number is None and vat_id is None:
        raise InvalidInput(_("Give a new PO number or VAT number."), code="nothing_to_amend")
    locked = Invoice.objects.select_for_update().select_related("account").get(pk=invoice.pk)
    if locked.status == InvoiceStatus.VOID:
        raise Conflict(_("A void invoice cannot be amended."), code="invoice_void")
    current = InvoiceRevision.objects.get(pk=locked.current_revision_id)
    new_po = current.po_number if po_number is None else clean_po_number(po_number)
    account = locked.account
    country = account.country.code if account.country else ""
    new_vat = current.vat_id if vat_id is None else clean_vat_id(vat_id, country)
    if vat_id is not None and new_vat and country in tax.EU_VAT_RATES:
        new_vat = tax.with_country_prefix(new_vat, country)
    if new_po == current.po_number and new_vat == current.vat_id:
        raise InvalidInput(_("The invoice already has this PO number and VAT number."), code="nothing_to_amend")

    tax_rate, reverse_charge, tax_note = current.tax_rate, current.reverse_charge, current.tax_note
    new_lines = None
    if new_vat != current.vat_id:
        treatment = tax.treatment_for(country=country, is_business=account.is_business, vat_id=new_vat)
        if not tax.same_treatment(treatment, rate=current.tax_rate, reverse_charge=current.reverse_charge):
            paid_or_pending = hooks.payment_activity.any(invoice_id=locked.pk)
            if locked.amount_paid != 0 or locked.status == InvoiceStatus.PAID or paid_or_pending:
                raise Conflict(
                    _(
                        "The new VAT number changes the VAT on this invoice, but a payment has already been made "
                        "or is being processed. Support must credit this invoice and issue a new one with the "
                        "new VAT number."
                    ),
                    code="tax_change_needs_credit_note",
                )
            new_lines = list(InvoiceLine.objects.filter(invoice_id=locked.pk).order_by("position"))
            for line in new_lines:
                line.tax_amount = tax.line_tax(line.amount, treatment.rate, locked.currency)
            tax_rate, reverse_charge = treatment.rate, treatment.reverse_charge
            with translation.override(current.language or "en"):
                tax_note = str(treatment.note) if treatment.note else ""
            if not current.pdf:
                # The earlier revision must keep the figures it was issued with.
                invoice_revision_render_pdf(revision_id=current.pk)

    revision = InvoiceRevision.objects.create(
        invoice=locked,
        number=current.number + 1,
        language=current.language,
        sold_to=current.sold_to,
        bill_to=current.bill_to,
        vat_id=new_vat,
        po_number=new_po,
        tax_rate=tax_rate,
        reverse_charge=reverse_charge,
        tax_note=tax_note,
        reason=reason,
        created_by=actor,
        created_at=clock.now(),
    )
    locked.current_revision = revision
    fields = ["current_revision"]
    if new_lines is not None:
        InvoiceLine.objects.bulk_update(new_lines, ["tax_amount"])
        locked.tax_amount = sum((line.tax_amount for line in new_lines), Decimal(0))
        locked.total = locked.subtotal + locked.tax_amount
        fields += ["tax_amount", "total"]
    locked.save(update_fields=fields)
    invoice.current_revision = revision
    for name in ("tax_amount", "total"):
        setattr(invoice, name, getattr(locked, name))
    from .tasks import render_invoice_pdf

    transaction.on_commit(lambda: render_invoice_pdf.delay(revision.pk))
    return revision


@transaction.atomic
def invoice_record_payment(*, invoice: Invoice, amount, paid_at: dt.datetime | None = None) -> Invoice:
    """Add a payment of ``amount`` (in the invoice's currency) to the invoice. Fully
    paid: status PAID and ``paid_at``; otherwise the status stays due / past due.
    Refuses void and paid invoices, non-positive amounts and more than is due."""
    try:
        amount = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("The amount is not a number."), fields={"amount": [_("Enter a number.")]})
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput(_("The amount must be more than zero."), fields={"amount": [_("Must be more than zero.")]})
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.status == InvoiceStatus.VOID:
        raise Conflict(_("This invoice is void and cannot be paid."), code="invoice_void")
    if locked.status == InvoiceStatus.PAID:
        raise Conflict(_("This invoice has already been paid."), code="invoice_paid")
    amount = quantize(amount, locked.currency)
    if amount > locked.amount_due:
        raise InvalidInput(
            _("The amount is more than the %(due)s still due.") % {"due": f"{locked.amount_due} {locked.currency}"},
            code="overpayment",
            fields={"amount": [_("More than the amount due.")]},
        )
    locked.amount_paid += amount
    fields = ["amount_paid"]
    if locked.amount_paid >= locked.total:
        locked.status = InvoiceStatus.PAID
        locked.paid_at = paid_at or clock.now()
        fields += ["status", "paid_at"]
    locked.save(update_fields=fields)
    for name in ("amount_paid", "status", "paid_at"):
        setattr(invoice, name, getattr(locked, name))
    return locked


# =====================================================================================
# Statuses
# =====================================================================================


def invoices_mark_past_due(*, batch_size: int = 1000) -> int:
    """Move due invoices past their due date to PAST_DUE and notify (once each)."""
    today = clock.today()
    moved = 0
    while True:
        with transaction.atomic():
            invoices = list(
                Invoice.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("account", "profile", "current_revision")
                .filter(status=InvoiceStatus.DUE, due_date__lt=today)
                .order_by("pk")[:batch_size]
            )
            if not invoices:
                return moved
            Invoice.objects.filter(pk__in=[i.pk for i in invoices]).update(status=InvoiceStatus.PAST_DUE)
            for invoice in invoices:
                invoice.status = InvoiceStatus.PAST_DUE
            _queue_invoice_notifications(invoices, INVOICE_PAST_DUE)
            moved += len(invoices)


@transaction.atomic
def invoice_void(*, invoice: Invoice, actor, reason: str) -> Invoice:
    """Cancel an issued, unpaid invoice (support staff, through the admin site)."""
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.status == InvoiceStatus.PAID or locked.amount_paid > 0:
        raise Conflict(_("An invoice with payments cannot be voided."), code="invoice_paid")
    if locked.status == InvoiceStatus.VOID:
        return locked
    locked.status = InvoiceStatus.VOID
    locked.save(update_fields=["status"])
    invoice.status = locked.status
    return locked


# =====================================================================================
# Charges: usage import
# =====================================================================================

USAGE_FIELDS = ("subscription_id", "period", "service_name", "meter", "quantity", "unit_price", "currency")
MAX_IMPORT_ROWS = 50_000


@dataclass
class ImportReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": self.rejected}


def _decimal(value, name, errors):
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.append(_("%(field)s is not a number.") % {"field": name})
        return None
    if not number.is_finite() or number < 0:
        errors.append(_("%(field)s must be zero or more.") % {"field": name})
        return None
    if number != number.quantize(Decimal("0.000001")) or number >= Decimal("1e12"):
        errors.append(_("%(field)s has too many digits.") % {"field": name})
        return None
    return number


def _truthy(value) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "y", "ja"}


@transaction.atomic
def charge_import(*, rows, source: str = "import") -> ImportReport:
    """Add usage charges. Every row is validated; valid rows are added, invalid rows are
    reported with their row number and reasons (nothing of theirs is written). A row
    with a ``record_id`` already imported is counted as a duplicate and skipped. A
    constant number of queries whatever the number of rows."""
    rows = list(rows)
    if len(rows) > MAX_IMPORT_ROWS:
        raise InvalidInput(_("At most %(max)d rows per import.") % {"max": MAX_IMPORT_ROWS}, code="too_many_rows")
    report = ImportReport()
    keys = set()
    for row in rows:
        try:
            keys.add(uuid.UUID(str(row.get("subscription_id", "")).strip()))
        except ValueError:
            pass
    subscriptions = {
        s.subscription_id: s for s in Subscription.objects.filter(subscription_id__in=keys).select_related("account")
    }
    record_ids = {str(row.get("record_id") or "").strip() for row in rows} - {""}
    known_records = set(Charge.objects.filter(external_id__in=record_ids).values_list("external_id", flat=True))
    invoiced = set(
        Invoice.objects.filter(profile_id__in={s.profile_id for s in subscriptions.values()}).values_list(
            "profile_id", "period"
        )
    )
    charges, seen_records = [], set()
    now = clock.now()
    current_period = clock.month_start(clock.today())
    for number, row in enumerate(rows, start=1):
        errors = []
        for name in USAGE_FIELDS:
            if str(row.get(name) or "").strip() == "":
                errors.append(_("%(field)s is missing.") % {"field": name})
        if errors:
            report.rejected.append({"row": number, "errors": errors})
            continue
        subscription = None
        try:
            subscription = subscriptions.get(uuid.UUID(str(row["subscription_id"]).strip()))
        except ValueError:
            pass
        if subscription is None:
            errors.append(_("Unknown subscription %(id)s.") % {"id": str(row["subscription_id"])[:64]})
        period = None
        try:
            period = clock.require_period(row["period"])
        except InvalidInput:
            errors.append(_("period must be YYYY-MM."))
        if period and period > current_period:
            errors.append(_("The period lies in the future."))
        quantity = _decimal(row["quantity"], "quantity", errors)
        unit_price = _decimal(row["unit_price"], "unit_price", errors)
        currency = str(row["currency"]).strip().upper()
        if currency not in CURRENCIES:
            errors.append(_("Unknown currency %(currency)s.") % {"currency": currency[:8]})
        elif subscription and currency != subscription.account.currency:
            errors.append(
                _("The account bills in %(account)s, not %(currency)s.")
                % {"account": subscription.account.currency, "currency": currency}
            )
        service_name, meter = str(row["service_name"]).strip(), str(row["meter"]).strip()
        if len(service_name) > 200 or len(meter) > 200:
            errors.append(_("service_name and meter can be at most 200 characters."))
        if subscription and period and (subscription.profile_id, period) in invoiced:
            errors.append(_("The period has already been invoiced for this subscription's billing scope."))
        record_id = str(row.get("record_id") or "").strip()
        if len(record_id) > 100:
            errors.append(_("record_id can be at most 100 characters."))
        if errors:
            report.rejected.append({"row": number, "errors": errors})
            continue
        if record_id and (record_id in known_records or record_id in seen_records):
            report.duplicates += 1
            continue
        if record_id:
            seen_records.add(record_id)
        amount = quantize(quantity * unit_price, currency)
        if amount >= Decimal("1e12"):
            report.rejected.append({"row": number, "errors": [_("The amount is too large.")]})
            continue
        charges.append(
            Charge(
                subscription=subscription,
                profile_id=subscription.profile_id,
                period=period,
                service_name=service_name,
                meter=meter,
                quantity=quantity,
                unit_price=unit_price,
                amount=amount,
                currency=currency,
                is_marketplace=_truthy(row.get("is_marketplace", "")),
                source=source[:64],
                external_id=record_id,
                created_at=now,
            )
        )
    Charge.objects.bulk_create(charges, batch_size=2000)
    report.accepted = len(charges)
    return report


def read_usage_csv(text: str) -> list[dict]:
    """Rows of a usage CSV (header line with the USAGE_FIELDS, optional is_marketplace
    and record_id)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = set(USAGE_FIELDS) - set(reader.fieldnames or [])
    if missing:
        raise InvalidInput(
            _("The CSV file lacks the columns: %(columns)s") % {"columns": ", ".join(sorted(missing))},
            code="csv_columns",
        )
    return [dict(row) for row in reader]


# =====================================================================================
# Billing runs
# =====================================================================================

CHUNK_SIZE = 500
# Seconds to wait inside each chunk (set only by the worker fault test).
CHUNK_DELAY = float(os.environ.get("BILLING_CHUNK_DELAY", "0") or 0)
PAYMENT_DAYS = 30


def invoice_number(year: int, sequence: int) -> str:
    return f"INV-{year}-{sequence:06d}"


def payment_reference(year: int, sequence: int) -> str:
    """ISO 11649 structured creditor reference ("RF" + check digits + the invoice number's
    digits), quoted on a bank transfer (PBI-9)."""
    body = f"{year}{sequence:06d}"
    check = mod_97_10.calc_check_digits(body + "RF")
    return f"RF{check}{body}"


def payment_terms_for(account) -> str:
    """Card accounts are charged at issue; pay-by-invoice accounts and enterprise
    enrollments pay by bank transfer within 30 days (PBI-9)."""
    if account.agreement_type == AgreementType.ENTERPRISE or account.payment_mode == PaymentMode.INVOICE:
        return PaymentTerms.BANK_TRANSFER
    return PaymentTerms.CARD


@dataclass
class _Draft:
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
    from django_countries import countries

    with translation.override(language):
        return {code: str(name) for code, name in countries}


def address_lines(profile) -> tuple[str, str]:
    """Sold-to and bill-to as printed: the same lines as ``BillingAccount.sold_to_lines``
    and ``BillingProfile.bill_to_lines`` (a test holds them equal), with the country names
    looked up once per language instead of once per invoice."""
    account = profile.account
    names = _country_names(translation.get_language() or "en")

    def country_name(country):
        code = country.code if country else ""
        return names.get(code, str(country.name) if code else "")

    sold_to = [
        account.company_name or account.name,
        account.address_line1,
        account.address_line2,
        " ".join(p for p in [account.postal_code, account.city] if p),
        account.region,
        country_name(account.country),
    ]
    sold_to = [line for line in sold_to if line]
    if not profile.bill_to_address_line1:
        bill_to = sold_to
    else:
        bill_to = [
            profile.bill_to_name or account.company_name or account.name,
            profile.bill_to_address_line1,
            " ".join(p for p in [profile.bill_to_postal_code, profile.bill_to_city] if p),
            country_name(profile.bill_to_country or account.country),
        ]
        bill_to = [line for line in bill_to if line]
    return "\n".join(sold_to), "\n".join(bill_to)


def _draft(profile, rows, po_number: str) -> _Draft:
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
    note = str(treatment.note) if treatment.note else ""
    sold_to, bill_to = address_lines(profile)
    return _Draft(profile, lines, subtotal, tax_total, treatment, po_number, sold_to, bill_to, note)


def _drafts(period: dt.date, profile_ids) -> list[_Draft]:
    """Compute the invoices of ``profile_ids`` for ``period`` (3 queries, no writes)."""
    profiles = list(BillingProfile.objects.filter(pk__in=profile_ids).select_related("account").order_by("pk"))
    if not profiles:
        return []
    po_numbers = hooks.po_numbers_in_force(profiles, period)
    by_profile: dict[int, list] = {p.pk: [] for p in profiles}
    charges = (
        Charge.objects.filter(period=period, profile_id__in=list(by_profile))
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
    # One language activation per group (addresses and the tax note are printed in the
    # account's language).
    for language, group in by_language.items():
        with translation.override(language):
            for profile in group:
                drafts.append(_draft(profile, by_profile[profile.pk], po_numbers.get(profile.pk, "")))
    drafts.sort(key=lambda d: d.profile.pk)
    return drafts


INVOICE_COLUMNS = (
    "number",
    "account_id",
    "profile_id",
    "period",
    "issue_date",
    "due_date",
    "status",
    "currency",
    "subtotal",
    "tax_amount",
    "total",
    "amount_paid",
    "payment_reference",
    "payment_terms",
    "billing_run_id",
    "current_revision_id",
    "notified_at",
    "paid_at",
    "created_at",
)
REVISION_COLUMNS = (
    "invoice_id",
    "number",
    "language",
    "sold_to",
    "bill_to",
    "vat_id",
    "po_number",
    "tax_rate",
    "reverse_charge",
    "tax_note",
    "pdf",
    "pdf_rendered_at",
    "reason",
    "created_by_id",
    "created_at",
)
LINE_COLUMNS = (
    "invoice_id",
    "subscription_id",
    "position",
    "service_name",
    "meter",
    "quantity",
    "unit_price",
    "amount",
    "tax_amount",
    "is_marketplace",
)


def _insert(model, columns: tuple, rows: list[tuple], returning: bool = False) -> list[int]:
    """Bulk insert plain rows (``columns`` are attribute names; every concrete field but
    the primary key must be given). On PostgreSQL one multi-row INSERT straight from the
    values, because building model instances and Django's per-value SQL compilation
    dominate a billing run otherwise; elsewhere Django's bulk_create. Returns the new
    primary keys in row order when ``returning``."""
    from django.db import connection

    expected = {f.attname for f in model._meta.concrete_fields if not f.primary_key}
    if set(columns) != expected:
        raise RuntimeError(f"{model.__name__} insert columns out of date: {sorted(expected ^ set(columns))}")
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model.objects.bulk_create(objects, batch_size=2000)
        return [obj.pk for obj in objects]
    from psycopg2.extras import execute_values

    names = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"INSERT INTO {table} ({names}) VALUES %s" + (" RETURNING id" if returning else "")  # noqa: S608 - model names
    with connection.cursor() as cursor:
        result = execute_values(cursor.cursor, sql, rows, page_size=len(rows), fetch=returning)
    return [row[0] for row in result] if returning else []


def _after_issue(invoice_ids: list[int]) -> None:
    """Everything that follows issuing invoices, run once the issuing transaction has
    committed: render each PDF, send the invoice-ready notification, then the
    ``after_issue`` hook (payments charges card-paying scopes)."""
    from .tasks import render_invoice_pdf, send_invoice_ready

    rows = list(Invoice.objects.filter(pk__in=invoice_ids).order_by("pk").values_list("pk", "current_revision_id"))
    for invoice_id, revision_id in rows:
        if revision_id:
            render_invoice_pdf.delay(revision_id)
        send_invoice_ready.delay(invoice_id)
    hooks.after_issue(invoice_ids=invoice_ids)


def _issue(run: BillingRun, chunk_id: int | None, drafts: list[_Draft]) -> list[int]:
    """Insert the drafted invoices with gap-free numbers. Must run inside a transaction;
    holds the year's number-sequence row lock until it commits (a few bulk inserts)."""
    year = run.issue_date.year
    InvoiceNumberSequence.objects.bulk_create([InvoiceNumberSequence(year=year)], ignore_conflicts=True)
    sequence = InvoiceNumberSequence.objects.select_for_update().get(year=year)
    # Under the lock, every earlier issuer has committed: re-read what exists.
    if chunk_id is not None and BillingRunChunk.objects.filter(pk=chunk_id, done=True).exists():
        return []
    existing = set(
        Invoice.objects.filter(period=run.period, profile_id__in=[d.profile.pk for d in drafts]).values_list(
            "profile_id", flat=True
        )
    )
    drafts = [d for d in drafts if d.profile.pk not in existing]
    now = clock.now()
    invoice_rows = []
    next_number = sequence.last_number
    late_due = run.issue_date + dt.timedelta(days=PAYMENT_DAYS)
    for draft in drafts:
        next_number += 1
        account = draft.profile.account
        terms = payment_terms_for(account)
        invoice_rows.append(
            (
                invoice_number(year, next_number),
                account.pk,
                draft.profile.pk,
                run.period,
                run.issue_date,
                late_due if terms == PaymentTerms.BANK_TRANSFER else run.issue_date,
                InvoiceStatus.DUE.value,
                account.currency,
                draft.subtotal,
                draft.tax_amount,
                draft.subtotal + draft.tax_amount,
                Decimal(0),
                payment_reference(year, next_number),
                str(terms),
                run.pk,
                None,
                None,
                None,
                now,
            )
        )
    if invoice_rows:
        invoice_ids = _insert(Invoice, INVOICE_COLUMNS, invoice_rows, returning=True)
        _insert(
            InvoiceRevision,
            REVISION_COLUMNS,
            [
                (
                    invoice_id,
                    1,
                    draft.profile.account.language,
                    draft.sold_to,
                    draft.bill_to,
                    draft.profile.account.vat_id,
                    draft.po_number,
                    draft.treatment.rate,
                    draft.treatment.reverse_charge,
                    draft.tax_note,
                    "",
                    None,
                    "",
                    None,
                    now,
                )
                for invoice_id, draft in zip(invoice_ids, drafts, strict=True)
            ],
        )
        Invoice.objects.filter(pk__in=invoice_ids).update(
            current_revision=Subquery(
                InvoiceRevision.objects.filter(invoice_id=OuterRef("pk"), number=1).values("pk")[:1]
            )
        )
        _insert(
            InvoiceLine,
            LINE_COLUMNS,
            [
                (invoice_id, *line)
                for invoice_id, draft in zip(invoice_ids, drafts, strict=True)
                for line in draft.lines
            ],
        )
        InvoiceNumberSequence.objects.filter(year=year).update(last_number=next_number)
    else:
        invoice_ids = []
    if chunk_id is not None:
        BillingRunChunk.objects.filter(pk=chunk_id).update(done=True, done_at=now, invoices_created=len(invoice_ids))
        BillingRun.objects.filter(pk=run.pk).update(
            done_chunks=F("done_chunks") + 1, invoices_created=F("invoices_created") + len(invoice_ids)
        )
        BillingRun.objects.filter(
            pk=run.pk, status=BillingRunStatus.RUNNING, done_chunks__gte=F("total_chunks")
        ).update(status=BillingRunStatus.FINISHED, finished_at=now)
    if invoice_ids:
        transaction.on_commit(functools.partial(_after_issue, invoice_ids))
    return invoice_ids


def _eligible_profile_ids(period: dt.date) -> list[int]:
    """Billing scopes with charges in ``period`` and no invoice for it yet."""
    return list(
        Charge.objects.filter(period=period)
        .exclude(profile_id__in=Invoice.objects.filter(period=period).values("profile_id"))
        .values_list("profile_id", flat=True)
        .distinct()
        .order_by("profile_id")
    )


def _enqueue_chunks(chunk_ids: list[int]) -> None:
    from .tasks import billing_process_chunk

    for chunk_id in chunk_ids:
        billing_process_chunk.delay(chunk_id)


@transaction.atomic
def billing_run_start(
    *,
    period: dt.date,
    started_by=None,
    chunk_size: int = CHUNK_SIZE,
    enqueue: bool = True,
    issue_date: dt.date | None = None,
) -> BillingRun:
    """Start (or resume, or re-run) the billing run of a closed period.

    One invoice per billing scope with charges in the period. The scopes without an
    invoice yet are split into chunks of ``chunk_size``, each processed by one task
    (``billing_process_chunk``). Running it again creates invoices only for scopes that
    still have none, so nothing is created twice. ``enqueue=False`` leaves the chunks
    for the caller to process (``run_billing`` does, with a progress bar). The invoice
    date is the day the run first starts (``issue_date`` overrides it, for demo data)."""
    period = clock.month_start(period)
    if chunk_size < 1:
        raise InvalidInput(_("The chunk size must be at least 1."), code="invalid_chunk_size")
    if period >= clock.month_start(clock.today()):
        raise InvalidInput(
            _("The billing period %(period)s has not closed yet.") % {"period": f"{period:%Y-%m}"}, code="period_open"
        )
    run, _created = BillingRun.objects.get_or_create(
        period=period,
        defaults={"issue_date": issue_date or clock.today(), "started_by": started_by, "started_at": clock.now()},
    )
    run = BillingRun.objects.select_for_update().get(pk=run.pk)
    pending = list(run.chunks.filter(done=False).values_list("pk", flat=True))
    if not pending:
        profile_ids = _eligible_profile_ids(period)
        start = run.total_chunks
        chunks = [
            BillingRunChunk(
                run=run, index=start + i, profile_ids=profile_ids[offset : offset + chunk_size], enqueued_at=clock.now()
            )
            for i, offset in enumerate(range(0, len(profile_ids), chunk_size))
        ]
        BillingRunChunk.objects.bulk_create(chunks)
        pending = [c.pk for c in chunks]
        run.total_chunks += len(chunks)
        run.total_scopes += len(profile_ids)
        if chunks:
            run.status, run.finished_at = BillingRunStatus.RUNNING, None
        else:
            run.status, run.finished_at = BillingRunStatus.FINISHED, run.finished_at or clock.now()
        run.save(update_fields=["total_chunks", "total_scopes", "status", "finished_at"])
    else:
        BillingRunChunk.objects.filter(pk__in=pending).update(enqueued_at=clock.now())
    if enqueue and pending:
        transaction.on_commit(functools.partial(_enqueue_chunks, pending))
    return run


def billing_chunk_process(*, chunk_id: int) -> int:
    """Issue the invoices of one chunk. Idempotent: a done chunk, or scopes that already
    have an invoice, are skipped. Reads outside the transaction, writes in one short
    transaction; a constant number of queries whatever the chunk's content."""
    chunk = BillingRunChunk.objects.select_related("run").filter(pk=chunk_id).first()
    if chunk is None or chunk.done:
        return 0
    drafts = _drafts(chunk.run.period, chunk.profile_ids)
    if CHUNK_DELAY:  # fault-injection tests only: widen the window for a kill
        import time

        time.sleep(CHUNK_DELAY)
    with transaction.atomic():
        return len(_issue(chunk.run, chunk.pk, drafts))


def billing_run_start_closed_periods() -> BillingRun | None:
    """Beat: once the previous month has closed, start its billing run (if not yet)."""
    period = clock.previous_month(clock.month_start(clock.today()))
    if BillingRun.objects.filter(period=period).exists():
        return None
    return billing_run_start(period=period)


# =====================================================================================
# Sweeper
# =====================================================================================

SWEEP_AFTER = dt.timedelta(minutes=10)
SWEEP_LIMIT = 1000


def sweep_unfinished_work(*, older_than: dt.timedelta = SWEEP_AFTER) -> dict:
    """Find work that a lost message left undone and enqueue it again: billing chunks
    not done, invoice revisions without PDF, invoices whose ready-notification was
    never queued, and pending notifications. Every task is idempotent."""
    from .tasks import billing_process_chunk, render_invoice_pdf, send_invoice_ready

    now = clock.now()
    cutoff = now - older_than
    chunk_ids = list(
        BillingRunChunk.objects.filter(done=False, enqueued_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    if chunk_ids:
        BillingRunChunk.objects.filter(pk__in=chunk_ids).update(enqueued_at=now)
    revision_ids = list(
        InvoiceRevision.objects.filter(pdf="", created_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    invoice_ids = list(
        Invoice.objects.filter(
            notified_at__isnull=True,
            created_at__lte=cutoff,
            created_at__gte=now - dt.timedelta(days=7),
            status__in=[InvoiceStatus.DUE, InvoiceStatus.PAST_DUE, InvoiceStatus.PAID],
        )
        .exclude(Q(notifications__kind=INVOICE_READY))
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    for chunk_id in chunk_ids:
        billing_process_chunk.delay(chunk_id)
    for revision_id in revision_ids:
        render_invoice_pdf.delay(revision_id)
    for invoice_id in invoice_ids:
        send_invoice_ready.delay(invoice_id)
    notification_ids = notifications_pending(cutoff=cutoff, limit=SWEEP_LIMIT)
    return {
        "chunks": len(chunk_ids),
        "pdfs": len(revision_ids),
        "invoice_notifications": len(invoice_ids),
        "notifications": len(notification_ids),
    }
