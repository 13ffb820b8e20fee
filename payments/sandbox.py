"""The sandbox gateway: a built-in card processor for every environment but production.

It behaves like a real processor: a hosted card-entry page (``payments.sandbox_views``,
mounted under ``/sandbox-gateway/``) that validates the number (Luhn), the expiry and
the CVC and hands back a token; charges with idempotency keys; charge look-up. Its own
records (``SandboxCard``, ``SandboxSession``, ``SandboxCharge``) keep token, brand, last
four, expiry, holder and the outcome class of the card: never the number or the CVC.

Test card numbers (any future expiry, any CVC of the right length, any holder):

========================  ==============================================  ===================
number                    outcome                                         when
========================  ==============================================  ===================
4242 4242 4242 4242       approved (Visa)                                 -
5555 5555 5555 4444       approved (Mastercard)                           -
3782 822463 10005         approved (American Express, 4-digit CVC)        -
4000 0000 0000 0002       generic decline (``card_declined``)             card entry
4000 0000 0000 0069       expired card (``expired_card``)                 card entry
4000 0000 0000 9995       insufficient funds (``insufficient_funds``)     every charge
4000 0000 0000 0127       incorrect security code (``incorrect_cvc``)     every charge
4000 0000 0000 3006       international transactions not allowed          every charge
4000 0000 0000 3410       recurring payments not allowed                  every charge
4000 0000 0000 0341       generic decline (``card_declined``)             every charge
4000 0000 0000 0119       processor timeout (``processor_timeout``)       every charge
4000 0027 6000 3184       needs authentication (3-D Secure)               every charge
========================  ==============================================  ===================

Any other number that passes the checks is approved. On a processor timeout the
charge *is* made and recorded, but the caller gets ``GatewayTimeout`` instead of the
answer; ``get_charge`` (or a retry with the same idempotency key) returns the record.
A charge of the authentication card is ``requires_action``: its ``action_url`` is the
sandbox's authentication page (``/sandbox-gateway/authentications/<reference>/``, the
bank's 3-D Secure page), where *Approve* makes it succeed and *Decline* fails it with
``authentication_failed``; then the customer is sent to the charge's ``return_url``.

Refunds (``SandboxRefund``) give back part or all of a succeeded charge, once per
idempotency key; a refund of a charge that did not succeed, in another currency, or of
more than the charge minus its refunds is refused with ``GatewayError``, as Stripe
refuses it. A refund of a charge made with the timeout card is made and recorded, but
its answer is lost too (``GatewayTimeout``; ``get_refund`` returns it).
"""

import secrets
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables

from billing_portal import clock
from billing_portal.db import insert_once

from .gateway import (
    CardDetails,
    CardSession,
    CardSessionResult,
    ChargeResult,
    Gateway,
    GatewayError,
    GatewayTimeout,
    IdempotencyMismatch,
    RefundResult,
    register,
)
from .models import SandboxCard, SandboxCharge, SandboxRefund, SandboxSession
from .sandbox_cards import (  # noqa: F401 - the test cards and checks are part of the sandbox's interface
    APPROVED,
    AUTHENTICATION_FAILED,
    AUTHENTICATION_REQUIRED,
    DECLINED_AT_ENTRY,
    DECLINED_ON_CHARGE,
    FAILURE_CODES,
    PROCESSOR_TIMEOUT,
    TEST_CARDS,
    CardInvalid,
    card_brand,
    luhn_valid,
    validate_card,
)

# The sandbox's own records: what a real processor keeps on its side (query counts of the
# portal leave them out: tests/payments/test_pay_queries.py, benchmarks/pay.py).
TABLES = tuple(model._meta.db_table for model in (SandboxCard, SandboxSession, SandboxCharge, SandboxRefund))


def _result(charge: SandboxCharge) -> ChargeResult:
    action_url = ""
    if charge.status == "requires_action":
        action_url = reverse("payments:sandbox_authenticate", args=[charge.reference])
    return ChargeResult(
        reference=charge.reference,
        status=charge.status,
        amount=charge.amount,
        currency=charge.currency,
        failure_code=charge.failure_code,
        action_url=action_url,
    )


def _refund_result(refund: SandboxRefund) -> RefundResult:
    return RefundResult(
        reference=refund.reference,
        status=refund.status,
        amount=refund.amount,
        currency=refund.currency,
        failure_code=refund.failure_code,
    )


def _check_refundable(charge: SandboxCharge, amount: Decimal, currency: str) -> None:
    if charge.status != "succeeded":
        raise GatewayError("only a succeeded charge can be refunded")
    if currency != charge.currency:
        raise GatewayError("the refund's currency is not the charge's")
    refunded = sum((r.amount for r in charge.refunds.filter(status="succeeded")), Decimal(0))
    if amount > charge.amount - refunded:
        raise GatewayError("the refund exceeds what is left of the charge")


def _portal_path(url: str) -> str:
    if url and (not url.startswith("/") or url.startswith("//")):
        raise GatewayError("return_url must be a path on the portal")
    return url


def _outcome_of_charge(outcome: str) -> tuple[str, str]:
    """(status, failure code) of a new charge on a card of the outcome class ``outcome``."""
    if outcome in DECLINED_ON_CHARGE or outcome in DECLINED_AT_ENTRY:
        return "failed", FAILURE_CODES.get(outcome, outcome)
    if outcome == AUTHENTICATION_REQUIRED:
        return "requires_action", ""
    return "succeeded", ""


# A sandbox card never changes once tokenised (nor is it deleted), so each process keeps
# the outcome class of the cards it has charged, as a processor's card vault answers
# from memory: a repeated charge on a card is one statement, the charge's INSERT.
_OUTCOMES: dict[str, str] = {}
_OUTCOMES_KEPT = 10_000


def _card_outcome(token: str) -> str | None:
    outcome = _OUTCOMES.get(token)
    if outcome is None:
        outcome = SandboxCard.objects.filter(pk=token).values_list("outcome", flat=True).first()
        if outcome is not None:
            if len(_OUTCOMES) >= _OUTCOMES_KEPT:
                _OUTCOMES.clear()
            _OUTCOMES[token] = outcome
    return outcome


@register
class SandboxGateway(Gateway):
    name = "sandbox"

    # --- card entry ---------------------------------------------------------------------
    def create_card_session(self, *, return_url: str, reference: str = "") -> CardSession:
        if not return_url.startswith("/") or return_url.startswith("//"):
            raise GatewayError("return_url must be a path on the portal")
        session = SandboxSession.objects.create(
            id=f"cs_{secrets.token_urlsafe(24)}", return_url=return_url, reference=reference[:100]
        )
        return CardSession(id=session.id, url=reverse("payments:sandbox_card_entry", args=[session.id]))

    def card_session_result(self, session_id: str) -> CardSessionResult:
        session = SandboxSession.objects.select_related("card").filter(pk=session_id).first()
        if session is None:
            raise GatewayError("unknown card-entry session")
        card = None
        if session.status == "completed" and session.card is not None:
            c = session.card
            card = CardDetails(c.token, c.brand, c.last4, c.exp_month, c.exp_year, c.holder_name)
        return CardSessionResult(status=session.status, card=card, decline_code=session.decline_code)

    @sensitive_variables("number", "cvc")
    def submit_card(
        self, session_id: str, *, number: str, exp_month, exp_year, cvc: str, holder_name: str
    ) -> SandboxSession:
        """What the hosted page does with the entered card (raises ``CardInvalid``)."""
        with transaction.atomic():
            session = SandboxSession.objects.select_for_update().filter(pk=session_id).first()
            if session is None:
                raise GatewayError("unknown card-entry session")
            if session.status != "open":
                return session
            summary = validate_card(
                number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc, holder_name=holder_name
            )
            card = SandboxCard.objects.create(token=f"tok_{secrets.token_urlsafe(24)}", **summary)
            session.finished_at = clock.now()
            if card.outcome in DECLINED_AT_ENTRY:
                session.status = "declined"
                session.decline_code = card.outcome
            else:
                session.status = "completed"
                session.card = card
            session.save(update_fields=["status", "card", "decline_code", "finished_at"])
            return session

    def cancel_session(self, session_id: str) -> SandboxSession | None:
        with transaction.atomic():
            session = SandboxSession.objects.select_for_update().filter(pk=session_id).first()
            if session is not None and session.status == "open":
                session.status = "cancelled"
                session.finished_at = clock.now()
                session.save(update_fields=["status", "finished_at"])
            return session

    @sensitive_variables("number", "cvc")
    def tokenize(self, *, number: str, exp_month, exp_year, cvc: str, holder_name: str) -> CardSessionResult:
        """Card entry without the page (demo data and tests): a session submitted at once."""
        session = self.create_card_session(return_url="/", reference="direct")
        self.submit_card(
            session.id, number=number, exp_month=exp_month, exp_year=exp_year, cvc=cvc, holder_name=holder_name
        )
        return self.card_session_result(session.id)

    # --- charges -----------------------------------------------------------------------------
    def charge(
        self,
        *,
        token: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        description: str = "",
        off_session: bool = False,
        return_url: str = "",
    ) -> ChargeResult:
        amount = Decimal(amount)
        if amount <= 0:
            raise GatewayError("amount must be positive")
        outcome = _card_outcome(token)
        if outcome is None:
            raise GatewayError("unknown token")
        status, failure = _outcome_of_charge(outcome)
        charge = SandboxCharge(
            reference=f"ch_{secrets.token_urlsafe(18)}",
            idempotency_key=idempotency_key,
            card_id=token,
            amount=amount,
            currency=currency,
            description=description[:200],
            status=status,
            failure_code=failure,
            return_url=_portal_path(return_url)[:500],
        )
        if insert_once(charge, unique=("idempotency_key",)):
            existing = charge
            if outcome == PROCESSOR_TIMEOUT:
                # The processor made the charge, but its answer never arrives.
                raise GatewayTimeout("the processor did not answer in time")
        else:
            existing = SandboxCharge.objects.get(idempotency_key=idempotency_key)
        if existing.card_id != token or existing.amount != amount or existing.currency != currency:
            raise IdempotencyMismatch("this idempotency key was used for a different charge")
        return _result(existing)

    def get_charge(self, *, idempotency_key: str) -> ChargeResult | None:
        charge = SandboxCharge.objects.filter(idempotency_key=idempotency_key).first()
        return _result(charge) if charge else None

    def authenticate(self, reference: str, *, approve: bool) -> SandboxCharge | None:
        """What the sandbox's authentication page does: the customer approves or
        declines a charge that needs authentication (once; later answers change nothing)."""
        with transaction.atomic():
            charge = SandboxCharge.objects.select_for_update().filter(pk=reference).first()
            if charge is not None and charge.status == "requires_action":
                charge.status = "succeeded" if approve else "failed"
                charge.failure_code = "" if approve else AUTHENTICATION_FAILED
                charge.save(update_fields=["status", "failure_code"])
            return charge

    # --- refunds -----------------------------------------------------------------------------
    def refund(
        self, *, charge_reference: str, amount: Decimal, currency: str, idempotency_key: str, reason: str = ""
    ) -> RefundResult:
        amount = Decimal(amount)
        if amount <= 0:
            raise GatewayError("amount must be positive")
        existing = SandboxRefund.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            existing, made = self._make_refund(charge_reference, amount, currency, idempotency_key, reason)
            if made and existing.charge.card.outcome == PROCESSOR_TIMEOUT:
                # The processor made the refund, but its answer never arrives.
                raise GatewayTimeout("the processor did not answer in time")
        if existing.charge_id != charge_reference or existing.amount != amount or existing.currency != currency:
            raise IdempotencyMismatch("this idempotency key was used for a different refund")
        return _refund_result(existing)

    def _make_refund(self, charge_reference, amount, currency, idempotency_key, reason) -> tuple[SandboxRefund, bool]:
        """The refund of this key, made now under the charge's row lock (True) or found."""
        with transaction.atomic():
            charge = (
                SandboxCharge.objects.select_for_update().select_related("card").filter(pk=charge_reference).first()
            )
            if charge is None:
                raise GatewayError("unknown charge")
            existing = SandboxRefund.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing, False
            _check_refundable(charge, amount, currency)
            refund = SandboxRefund.objects.create(
                reference=f"re_{secrets.token_urlsafe(18)}",
                idempotency_key=idempotency_key,
                charge=charge,
                amount=amount,
                currency=currency,
                reason=reason[:200],
                status="succeeded",
            )
            return refund, True

    def get_refund(self, *, idempotency_key: str) -> RefundResult | None:
        refund = SandboxRefund.objects.filter(idempotency_key=idempotency_key).first()
        return _refund_result(refund) if refund else None
