"""Writes for PO and VAT numbers (PO-1..PO-7, VAT-1).

Each function is one transaction, checks the actor's role (accounts.permissions) and
the state before writing anything, and records every change in the history.

Concurrency: the scope row is locked (``select_for_update``) and the caller passes the
``version`` it read; if someone saved in between, ``Conflict`` (code ``stale_version``)
is raised and nothing is written, so a stale form never overwrites an unseen edit.
"""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from accounts import permissions
from accounts.models import AgreementType, BillingAccount, BillingProfile
from accounts.services import billing_account_vat_id_set
from billing_portal import clock
from billing_portal.errors import DomainError, InvalidInput, NotAllowed
from billing_portal.validators import check_number_version, clean_po_number
from invoices.printed import RevisionReason
from invoices.services import invoice_amend

from .. import selectors
from ..models import ChangedField, ChangeSource, PeriodPONumber
from ..windows import EditWindow, edit_window
from .history import record

# VAT-1: the account's VAT ID belongs to the accounts app, which tells this app about
# every change (``accounts.hooks.vat_number_changed``, see apps.py).
vat_number_set = billing_account_vat_id_set


def _role_refusal() -> NotAllowed:
    return NotAllowed(_("Your role can see this PO number but not change it."), code="po_role_not_allowed")


def profile_po_refusal(actor, profile: BillingProfile) -> DomainError | None:
    """Why ``actor`` may not set the PO number of ``profile``'s next invoice, or None.
    The service raises it; the pages and the API use it to decide what to offer."""
    account = profile.account
    if account.agreement_type == AgreementType.ENTERPRISE:
        return InvalidInput(
            _("An enrollment has a PO number per billing period: change it on the Usage summary."),
            code="po_per_period",
        )
    if not permissions.can_edit_po(actor, profile):
        return _role_refusal()
    return po_1_refusal(profile)


def po_1_refusal(profile: BillingProfile) -> DomainError | None:
    """PO-1: a web-direct account gets a PO number only when it pays by invoice; the
    one refusal for every route (the PO page and API, an amendment request, its
    approval)."""
    if profile.account.agreement_type == AgreementType.WEB_DIRECT and not permissions.pays_by_invoice(profile):
        return NotAllowed(
            _(
                "A PO number can only be added when the account pays by invoice (cheque or wire transfer). "
                "To pay by invoice, open a support request under Help + support."
            ),
            code="pay_by_invoice_required",
        )
    return None


# --- Web direct and customer agreement: the PO for the next invoice ------------------------------


@transaction.atomic
def profile_po_number_set(
    *, profile: BillingProfile, po_number: str, actor, version: int | None = None
) -> BillingProfile:
    """Set the PO number printed on the profile's next invoice (PO-1, PO-2, PO-3, PO-5).

    Web direct: only when the account pays by invoice (PO-1), by the account admin.
    Customer agreement: billing account/profile owner or contributor. Issued invoices
    keep the number they were generated with (PO-8); changing one needs a support
    request. Enterprise PO numbers are per billing period: see ``period_po_number_set``.
    """
    refusal = profile_po_refusal(actor, profile)
    if refusal is not None:
        raise refusal
    new_value = clean_po_number(po_number)
    locked = BillingProfile.objects.select_for_update().get(pk=profile.pk)
    check_number_version(version, locked.version, locked.po_number)
    old_value = locked.po_number
    if new_value != old_value:
        locked.po_number = new_value
        locked.version += 1
        locked.save(update_fields=["po_number", "version"])
        record(
            account=profile.account,
            profile=locked,
            field=ChangedField.PO_NUMBER,
            old=old_value,
            new=new_value,
            actor=actor,
        )
    profile.po_number, profile.version = locked.po_number, locked.version
    return locked


# --- Enterprise: the PO of a billing period (PO-4, PO-6, PO-7) -------------------------------------


def _validate_period(account: BillingAccount, period) -> dt.date:
    if not isinstance(period, dt.date) or period.day != 1:
        raise InvalidInput(_("A billing period is a calendar month."), code="invalid_period")
    if period > selectors.current_period(account):
        raise InvalidInput(
            _("You can set the PO number of the current billing period or of an earlier one."),
            code="period_in_future",
            fields={"period": [_("This billing period has not started yet.")]},
        )
    return period


def _check_window_open(window: EditWindow) -> None:
    if not window.is_open:
        raise NotAllowed(
            _(
                "The PO number of this billing period can no longer be changed here: the seven days after the "
                "invoice notification ended on %(day)s. Open a support request to change it on the invoice."
            )
            % {"day": window.last_day.isoformat()},
            code="po_window_closed",
        )


def _save_period_row(row: PeriodPONumber | None, *, profile, period, po_number: str, actor) -> PeriodPONumber:
    if row is None:
        return PeriodPONumber.objects.create(
            profile=profile, period=period, po_number=po_number, set_by=actor, set_at=clock.now(), version=1
        )
    row.po_number, row.set_by, row.set_at = po_number, actor, clock.now()
    row.version += 1
    row.save(update_fields=["po_number", "set_by", "set_at", "version"])
    return row


def _amend_issued_invoice(invoice, *, actor, printed: str, po_number: str):
    """PO-7: inside the window, the issued invoice gets a new revision printing the new
    PO number. Returns the amended invoice, or None when it already prints it."""
    if printed == po_number:
        return None
    invoice_amend(
        invoice=invoice,
        actor=actor,
        reason_code=RevisionReason.PO_WINDOW,
        po_number=po_number,
    )
    return invoice


@transaction.atomic
def period_po_number_set(
    *, profile: BillingProfile, period: dt.date, po_number: str, actor, version: int | None = None
) -> PeriodPONumber:
    """Set the PO number of an enrollment's billing period.

    Empty restores the default, the enrollment number (PO-6). Before the period's
    invoice is generated the number simply goes on that invoice. Once it is generated
    the number can still change until the end of day 7 after the automated-invoice
    notification (account time zone, see ``windows``); such a change amends the issued
    invoice (a new revision with a new PDF, PO-7) and the history links it to that
    invoice. After the window only a support request can change it (PO-5).
    """
    account = profile.account
    if account.agreement_type != AgreementType.ENTERPRISE:
        raise InvalidInput(_("Only an enrollment has a PO number per billing period."), code="not_enterprise")
    if not permissions.can_edit_po(actor, profile):
        raise _role_refusal()
    period = _validate_period(account, period)
    new_value = clean_po_number(po_number)
    # Every period PO edit of the enrollment is serialised on its profile row, which
    # also makes creating the period's row race-free.
    BillingProfile.objects.select_for_update().get(pk=profile.pk)
    row = PeriodPONumber.objects.filter(profile=profile, period=period).first()
    default = selectors.default_period_po_number(profile)
    old_in_force = (row.po_number if row else "") or default
    check_number_version(version, row.version if row else 0, old_in_force)
    invoice = selectors.invoice_for_period(profile, period)
    window = edit_window(invoice=invoice, time_zone=account.time_zone)
    _check_window_open(window)
    if (row.po_number if row else "") == new_value:
        # Unchanged (or nothing set and asked for the default: already in force).
        return row or PeriodPONumber(profile=profile, period=period, po_number="", version=0)
    row = _save_period_row(row, profile=profile, period=period, po_number=new_value, actor=actor)
    new_in_force = new_value or default
    amended = None
    if window.amends_invoice:
        old_in_force = invoice.current_revision.po_number if invoice.current_revision_id else old_in_force
        amended = _amend_issued_invoice(invoice, actor=actor, printed=old_in_force, po_number=new_in_force)
    if old_in_force != new_in_force or amended is not None:
        record(
            account=account,
            profile=profile,
            period=period,
            field=ChangedField.PO_NUMBER,
            old=old_in_force,
            new=new_in_force,
            actor=actor,
            invoice=amended,
            source=ChangeSource.WINDOW_AMENDMENT if amended is not None else ChangeSource.EDIT,
        )
    return row
