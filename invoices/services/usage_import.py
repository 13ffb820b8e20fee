"""Usage charges from the operator's metering: a CSV file (``manage.py import_usage``) or
the API (``POST /api/v1/charges/import/``, operator staff only). Every row is validated;
valid rows are added, invalid rows are reported with their row number and reasons."""

import csv
import io
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import Subscription
from accounts.permissions import pays_by_invoice
from billing_portal import clock
from billing_portal.card_numbers import CARD_NUMBER_REFUSED, contains_card_number
from billing_portal.errors import InvalidInput, NotAllowed
from billing_portal.money import CURRENCIES, quantize

from ..models import Charge, Invoice

USAGE_FIELDS = ("subscription_id", "period", "service_name", "meter", "quantity", "unit_price", "currency")
MAX_IMPORT_ROWS = 50_000
MAX_AMOUNT = Decimal("1e12")


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
    # The size first: quantizing a huge number exceeds the decimal context's precision.
    if number >= MAX_AMOUNT or number != number.quantize(Decimal("0.000001")):
        errors.append(_("%(field)s has too many digits.") % {"field": name})
        return None
    return number


def _truthy(value) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "y", "ja"}


def _subscription_key(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value or "").strip())
    except ValueError:
        return None


@dataclass
class _Context:
    """What every row is checked against, read once for the whole import (3 queries)."""

    subscriptions: dict
    known_records: set
    invoiced: set
    current_period: object
    seen_records: set = field(default_factory=set)

    @classmethod
    def read(cls, rows: list[dict]) -> "_Context":
        keys = {key for row in rows if (key := _subscription_key(row.get("subscription_id")))}
        subscriptions = {
            s.subscription_id: s
            for s in Subscription.objects.filter(subscription_id__in=keys).select_related("account", "profile__account")
        }
        record_ids = {str(row.get("record_id") or "").strip() for row in rows} - {""}
        known = set(Charge.objects.filter(external_id__in=record_ids).values_list("external_id", flat=True))
        invoiced = set(
            Invoice.objects.filter(profile_id__in={s.profile_id for s in subscriptions.values()}).values_list(
                "profile_id", "period"
            )
        )
        return cls(subscriptions, known, invoiced, clock.month_start(clock.today()))


def _check_period(row, context: _Context, errors: list):
    period = clock.parse_period(row["period"])
    if period is None:
        errors.append(_("period must be YYYY-MM."))
    elif period > context.current_period:
        errors.append(_("The period lies in the future."))
    return period


def _check_currency(row, subscription, errors: list) -> str:
    currency = str(row["currency"]).strip().upper()
    if currency not in CURRENCIES:
        errors.append(_("Unknown currency %(currency)s.") % {"currency": currency[:8]})
    elif subscription and currency != subscription.account.currency:
        errors.append(
            _("The account bills in %(account)s, not %(currency)s.")
            % {"account": subscription.account.currency, "currency": currency}
        )
    return currency


def _check_row(row: dict, context: _Context) -> tuple[dict | None, list]:
    """The cleaned values of one row, or None and the reasons it is refused."""
    # First, and alone: the other reasons may repeat a value, never a card number.
    refused = [name for name in (*USAGE_FIELDS, "record_id") if contains_card_number(row.get(name))]
    if refused:
        return None, [f"{name}: {CARD_NUMBER_REFUSED}" for name in refused]
    errors = [
        _("%(field)s is missing.") % {"field": name} for name in USAGE_FIELDS if not str(row.get(name) or "").strip()
    ]
    if errors:
        return None, errors
    subscription = context.subscriptions.get(_subscription_key(row["subscription_id"]))
    if subscription is None:
        errors.append(_("Unknown subscription %(id)s.") % {"id": str(row["subscription_id"])[:64]})
    period = _check_period(row, context, errors)
    quantity = _decimal(row["quantity"], "quantity", errors)
    unit_price = _decimal(row["unit_price"], "unit_price", errors)
    currency = _check_currency(row, subscription, errors)
    service_name, meter = str(row["service_name"]).strip(), str(row["meter"]).strip()
    if len(service_name) > 200 or len(meter) > 200:
        errors.append(_("service_name and meter can be at most 200 characters."))
    if subscription and _truthy(row.get("is_marketplace", "")) and pays_by_invoice(subscription.profile):
        errors.append(
            _(
                "Marketplace services cannot be billed to a billing scope that pays by invoice (PBI-4); "
                "bill them on a separate subscription paid by card."
            )
        )
    if subscription and period and (subscription.profile_id, period) in context.invoiced:
        errors.append(_("The period has already been invoiced for this subscription's billing scope."))
    record_id = str(row.get("record_id") or "").strip()
    if len(record_id) > 100:
        errors.append(_("record_id can be at most 100 characters."))
    if errors:
        return None, errors
    values = {
        "subscription": subscription,
        "period": period,
        "service_name": service_name,
        "meter": meter,
        "quantity": quantity,
        "unit_price": unit_price,
        "currency": currency,
        "record_id": record_id,
        "is_marketplace": _truthy(row.get("is_marketplace", "")),
    }
    return values, []


def check_may_import(actor) -> None:
    """Refuse an actor who may not import usage (``can_import_usage``); None is the
    portal itself (the operator's command line, demo data)."""
    if actor is not None and not permissions.can_import_usage(actor):
        raise NotAllowed(_("Only the portal operator’s staff may import usage."))


@transaction.atomic
def charge_import(*, rows, actor, source: str = "import") -> ImportReport:
    """Add usage charges. Every row is validated; valid rows are added, invalid rows are
    reported with their row number and reasons (nothing of theirs is written). A row
    with a ``record_id`` already imported is counted as a duplicate and skipped. A
    constant number of queries whatever the number of rows.

    ``actor``: the operator's staff (``can_import_usage``), or None for the portal
    itself (the operator's command line, demo data)."""
    check_may_import(actor)
    rows = list(rows)
    if len(rows) > MAX_IMPORT_ROWS:
        raise InvalidInput(_("At most %(max)d rows per import.") % {"max": MAX_IMPORT_ROWS}, code="too_many_rows")
    report, context, charges, now = ImportReport(), _Context.read(rows), [], clock.now()
    for number, row in enumerate(rows, start=1):
        values, errors = _check_row(row, context)
        if values is None:
            report.rejected.append({"row": number, "errors": errors})
            continue
        record_id = values.pop("record_id")
        if record_id and (record_id in context.known_records or record_id in context.seen_records):
            report.duplicates += 1
            continue
        if record_id:
            context.seen_records.add(record_id)
        amount = quantize(values["quantity"] * values["unit_price"], values["currency"])
        if amount >= MAX_AMOUNT:
            report.rejected.append({"row": number, "errors": [_("The amount is too large.")]})
            continue
        subscription = values["subscription"]
        charges.append(
            Charge(
                **values,
                profile_id=subscription.profile_id,
                amount=amount,
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
