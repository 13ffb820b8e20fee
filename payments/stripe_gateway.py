"""The Stripe gateway adapter (``PAYMENT_GATEWAY=stripe``), behind payments/gateway.py.

* Card entry happens on Stripe's side: ``create_card_session`` makes a Customer and a
  SetupIntent (usage ``off_session``); the customer enters the card in Stripe Elements
  on the portal page ``payments:stripe_card_entry`` (payments/stripe_views.py), which
  confirms the SetupIntent with Stripe.js. The card number and CVC go from the browser
  to Stripe only. ``card_session_result`` reads the SetupIntent and its PaymentMethod:
  the PaymentMethod id is the token; brand, last four, expiry and holder
  (``billing_details.name``) are the summary.
* Charges are PaymentIntents confirmed at once, sent with the portal's idempotency key
  as ``Idempotency-Key`` and in the metadata (``portal_key``). The adapter is idempotent
  by itself too (a server that ignores the header, a lost answer): a ``StripeRequest``
  row is written before the request and completed with the PaymentIntent's id; a repeat
  or a look-up with the same key finds the PaymentIntent by that id, or by the key in
  its metadata (Stripe's search; listing where search is not available).
* A PaymentIntent that needs authentication (3-D Secure, or ``authentication_required``
  on an off-session charge) is ``requires_action``; its ``action_url`` is the portal
  page ``payments:stripe_authenticate``, where Stripe.js runs the bank's check and then
  sends the customer to the charge's ``return_url`` (kept in the metadata).
* Declines map to the portal's codes (payments/stripe_codes.py); no answer within
  ``STRIPE_TIMEOUT_SECONDS`` (or a 5xx) is ``GatewayTimeout`` and the SDK does not retry
  on its own (``max_network_retries=0``): the reconciler looks the charge up instead.
"""

import logging
import re
from decimal import Decimal

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError
from django.urls import reverse

from .gateway import (
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
from .models import StripeRequest
from .stripe_results import (
    charge_result,
    charge_status,
    needs_authentication,
    object_id,
    portal_code,
    refund_result,
    session_result,
    to_minor,
)

logger = logging.getLogger(__name__)

# At most this many PaymentIntents are listed to find one by its key where Stripe's
# search is not available.
LIST_SCAN_LIMIT = 1000
_SAFE_KEY = re.compile(r"^[A-Za-z0-9_:.-]{1,128}$")


def new_client(*, api_base: str = "", http_client=None) -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise ImproperlyConfigured("PAYMENT_GATEWAY=stripe needs STRIPE_SECRET_KEY")
    base = api_base or settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": base} if base else None,
        max_network_retries=0,
        http_client=http_client or stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )


def _call(method, *args, **kwargs) -> dict:
    """One call to Stripe, its answer as a dict; errors as the gateway's exceptions."""
    try:
        return method(*args, **kwargs).to_dict()
    except stripe.APIConnectionError as exc:
        raise GatewayTimeout("Stripe did not answer in time") from exc
    except stripe.StripeError as exc:
        if (exc.http_status or 0) >= 500:
            raise GatewayTimeout(f"Stripe answered {exc.http_status}") from exc
        raise GatewayError(f"Stripe refused the request: {exc.code or exc.http_status}") from exc


@register
class StripeGateway(Gateway):
    name = "stripe"

    def __init__(self, *, client: stripe.StripeClient | None = None):
        self.client = client or new_client()

    # --- card entry ---------------------------------------------------------------------
    def create_card_session(self, *, return_url: str, reference: str = "") -> CardSession:
        if not return_url.startswith("/") or return_url.startswith("//"):
            raise GatewayError("return_url must be a path on the portal")
        metadata = {"portal_reference": reference[:100]}
        options = {"idempotency_key": f"setup-customer:{reference}"} if reference else None
        customer = _call(self.client.v1.customers.create, params={"metadata": metadata}, options=options)
        intent = _call(
            self.client.v1.setup_intents.create,
            params={
                "customer": customer["id"],
                "usage": "off_session",
                "payment_method_types": ["card"],
                "metadata": {**metadata, "return_url": return_url},
            },
            options={"idempotency_key": f"setup:{reference}"} if reference else None,
        )
        return CardSession(id=intent["id"], url=reverse("payments:stripe_card_entry", args=[intent["id"]]))

    def _setup_intent(self, session_id: str) -> dict:
        if not str(session_id).startswith("seti_"):
            raise GatewayError("unknown card-entry session")
        return _call(self.client.v1.setup_intents.retrieve, session_id, params={"expand": ["payment_method"]})

    def card_session_result(self, session_id: str) -> CardSessionResult:
        return session_result(self._setup_intent(session_id))

    def card_entry_page(self, session_id: str) -> dict:
        """What the card page needs: the SetupIntent's client secret, state and return URL."""
        intent = self._setup_intent(session_id)
        return {
            "client_secret": intent["client_secret"],
            "open": session_result(intent).status == "open",
            "return_url": (intent.get("metadata") or {}).get("return_url") or "/",
        }

    def cancel_card_session(self, session_id: str) -> None:
        intent = self._setup_intent(session_id)
        if intent.get("status") not in ("succeeded", "canceled"):
            _call(self.client.v1.setup_intents.cancel, session_id)

    # --- looking requests up by key ----------------------------------------------------------
    def _search_intent(self, key: str) -> dict | None:
        """The PaymentIntent with ``portal_key`` = key: Stripe's search, else a listing."""
        if not _SAFE_KEY.match(key):
            raise GatewayError("unexpected idempotency key")
        try:
            found = self.client.v1.payment_intents.search(params={"query": f"metadata['portal_key']:'{key}'"})
            data = found.to_dict().get("data") or []
            return data[0] if data else None
        except stripe.InvalidRequestError:
            logger.info("Stripe search is not available; listing PaymentIntents to find %s", key)
        except stripe.APIConnectionError as exc:
            raise GatewayTimeout("Stripe did not answer in time") from exc
        try:
            listing = self.client.v1.payment_intents.list(params={"limit": 100})
            for count, found_intent in enumerate(listing.auto_paging_iter()):
                if count >= LIST_SCAN_LIMIT:
                    return None
                intent = found_intent.to_dict()
                if (intent.get("metadata") or {}).get("portal_key") == key:
                    return intent
        except stripe.APIConnectionError as exc:
            raise GatewayTimeout("Stripe did not answer in time") from exc
        return None

    def _find_intent(self, record: StripeRequest) -> dict | None:
        if record.object_id:
            return _call(self.client.v1.payment_intents.retrieve, record.object_id)
        intent = self._search_intent(record.idempotency_key)
        if intent is not None:
            StripeRequest.objects.filter(pk=record.pk).update(object_id=intent["id"][:64])
        return intent

    def _find_refund(self, record: StripeRequest) -> dict | None:
        if record.object_id:
            return _call(self.client.v1.refunds.retrieve, record.object_id)
        refunds = _call(self.client.v1.refunds.list, params={"payment_intent": record.payment_intent, "limit": 100})
        for refund in refunds.get("data") or []:
            if (refund.get("metadata") or {}).get("portal_key") == record.idempotency_key:
                StripeRequest.objects.filter(pk=record.pk).update(object_id=refund["id"][:64])
                return refund
        return None

    @staticmethod
    def _record(*, kind: str, key: str, amount: Decimal, currency: str, **refs) -> StripeRequest:
        try:
            return StripeRequest.objects.create(
                kind=kind, idempotency_key=key, amount=amount, currency=currency, **refs
            )
        except IntegrityError:
            return StripeRequest.objects.get(idempotency_key=key)

    @staticmethod
    def _check_same(record: StripeRequest, kind: str, amount: Decimal, currency: str, **refs) -> None:
        same = record.kind == kind and record.amount == amount and record.currency == currency
        if not same or any(getattr(record, name) != value for name, value in refs.items()):
            raise IdempotencyMismatch(f"this idempotency key was used for a different {kind}")

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
        amount, currency = Decimal(amount), currency.upper()
        if amount <= 0:
            raise GatewayError("amount must be positive")
        record = StripeRequest.objects.filter(idempotency_key=idempotency_key).first()
        if record is not None:
            self._check_same(record, StripeRequest.PAYMENT_INTENT, amount, currency, payment_method=token)
            intent = self._find_intent(record)
            if intent is not None:
                return charge_result(intent)
        if not token.startswith("pm_"):
            raise GatewayError("unknown token")
        method = _call(self.client.v1.payment_methods.retrieve, token)
        params = {
            "amount": to_minor(amount, currency),
            "currency": currency.lower(),
            "payment_method": token,
            "payment_method_types": ["card"],
            "confirm": True,
            "metadata": {"portal_key": idempotency_key, "description": description[:200], "return_url": return_url},
        }
        if method.get("customer"):
            params["customer"] = method["customer"]
        if off_session:
            params["off_session"] = True
        record = record or self._record(
            kind=StripeRequest.PAYMENT_INTENT,
            key=idempotency_key,
            amount=amount,
            currency=currency,
            payment_method=token,
        )
        try:
            intent = self.client.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})
        except stripe.CardError as exc:
            return self._declined(record, (exc.json_body or {}).get("error") or {})
        except stripe.APIConnectionError as exc:
            raise GatewayTimeout("Stripe did not answer in time") from exc
        except stripe.StripeError as exc:
            if (exc.http_status or 0) >= 500:
                raise GatewayTimeout(f"Stripe answered {exc.http_status}") from exc
            raise GatewayError(f"Stripe refused the charge: {exc.code or exc.http_status}") from exc
        intent = intent.to_dict()
        StripeRequest.objects.filter(pk=record.pk).update(object_id=intent["id"][:64])
        return charge_result(intent)

    def _declined(self, record: StripeRequest, error: dict) -> ChargeResult:
        """The answer to a charge Stripe declined (402): the PaymentIntent in the error,
        else found by its key; the decline code from the error."""
        intent = error.get("payment_intent") or self._search_intent(record.idempotency_key)
        reference = object_id(intent) or error.get("charge") or ""
        if reference.startswith("pi_"):
            StripeRequest.objects.filter(pk=record.pk).update(object_id=reference[:64])
        status = "requires_action" if needs_authentication(error) else "failed"
        return ChargeResult(
            reference=reference,
            status=status,
            amount=record.amount,
            currency=record.currency,
            failure_code="" if status == "requires_action" else portal_code(error),
            action_url=reverse("payments:stripe_authenticate", args=[reference]) if status == "requires_action" else "",
        )

    def get_charge(self, *, idempotency_key: str) -> ChargeResult | None:
        record = StripeRequest.objects.filter(
            idempotency_key=idempotency_key, kind=StripeRequest.PAYMENT_INTENT
        ).first()
        if record is None:
            return None  # never sent: the record is written before every request
        intent = self._find_intent(record)
        return charge_result(intent) if intent is not None else None

    def authentication_page(self, intent_id: str) -> dict | None:
        """What the authentication page needs, or None once there is nothing to confirm."""
        intent = _call(self.client.v1.payment_intents.retrieve, intent_id)
        if charge_status(intent)[0] != "requires_action":
            return None
        method = ""
        if intent["status"] != "requires_action":
            # An off-session charge Stripe refused for authentication is confirmed again
            # on-session, with the card it was refused for.
            error = intent.get("last_payment_error") or {}
            method = object_id(intent.get("payment_method")) or object_id(error.get("payment_method"))
        return {"client_secret": intent["client_secret"], "payment_method": method}

    def payment_intent_of_charge(self, charge_id: str) -> str:
        return object_id(_call(self.client.v1.charges.retrieve, charge_id).get("payment_intent"))

    # --- refunds -----------------------------------------------------------------------------
    def refund(
        self, *, charge_reference: str, amount: Decimal, currency: str, idempotency_key: str, reason: str = ""
    ) -> RefundResult:
        amount, currency = Decimal(amount), currency.upper()
        record = StripeRequest.objects.filter(idempotency_key=idempotency_key).first()
        if record is not None:
            self._check_same(record, StripeRequest.REFUND, amount, currency, payment_intent=charge_reference)
            refund = self._find_refund(record)
            if refund is not None:
                return refund_result(refund)
        else:
            self._check_refundable(charge_reference, amount, currency)
            record = self._record(
                kind=StripeRequest.REFUND,
                key=idempotency_key,
                amount=amount,
                currency=currency,
                payment_intent=charge_reference,
            )
        refund = _call(
            self.client.v1.refunds.create,
            params={
                "payment_intent": charge_reference,
                "amount": to_minor(amount, currency),
                "metadata": {"portal_key": idempotency_key, "reason": reason[:200]},
            },
            options={"idempotency_key": idempotency_key},
        )
        StripeRequest.objects.filter(pk=record.pk).update(object_id=refund["id"][:64])
        return refund_result(refund)

    def _check_refundable(self, intent_id: str, amount: Decimal, currency: str) -> None:
        if not intent_id.startswith("pi_"):
            raise GatewayError("only a succeeded charge can be refunded")
        intent = _call(self.client.v1.payment_intents.retrieve, intent_id, params={"expand": ["latest_charge"]})
        charge = intent.get("latest_charge") or {}
        if intent.get("status") != "succeeded" or not isinstance(charge, dict):
            raise GatewayError("only a succeeded charge can be refunded")
        left = int(charge.get("amount_captured", charge.get("amount", 0))) - int(charge.get("amount_refunded") or 0)
        if amount <= 0 or currency != intent["currency"].upper() or to_minor(amount, currency) > left:
            raise GatewayError("the refund exceeds what is left of the charge")

    def get_refund(self, *, idempotency_key: str) -> RefundResult | None:
        record = StripeRequest.objects.filter(idempotency_key=idempotency_key, kind=StripeRequest.REFUND).first()
        if record is None:
            return None
        refund = self._find_refund(record)
        return refund_result(refund) if refund is not None else None


def construct_event(payload: bytes, signature: str) -> dict:
    """A webhook event whose signature (``Stripe-Signature``, STRIPE_WEBHOOK_SECRET) is
    valid, as a dict; ``GatewayError`` otherwise."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret or not signature:
        raise GatewayError("webhook signature missing")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise GatewayError("webhook signature not valid") from exc
    return event.to_dict()
