"""The card gateway interface.

The portal talks to a card processor through these calls:

* ``create_card_session``: start a card-entry session on the gateway's own page; the
  customer is sent there (redirect) and comes back to ``return_url``;
* ``card_session_result``: exchange a finished session for a token and a card summary
  (brand, last four, expiry, holder), or the reason it was declined;
* ``charge``: charge a token, at most once per ``idempotency_key`` (a retry with the
  same key returns the first result and never charges again);
* ``get_charge``: look up a charge by its idempotency key (used to settle a payment
  whose answer was lost, e.g. on a processor timeout);
* ``refund`` / ``get_refund``: give back (part of) a charge, at most once per
  ``idempotency_key``, and look the refund up by that key.

A charge may need the customer to authenticate it with their bank first (Strong
Customer Authentication, 3-D Secure): its status is then ``requires_action`` and
``action_url`` is the page to send the customer to; that page returns them to the
``return_url`` given with the charge, and ``get_charge`` tells what came of it.

``get_gateway()`` returns the configured implementation (``settings.PAYMENT_GATEWAY``)
from the gateways registered by name (``register``). The built-in ``sandbox`` gateway
(payments/sandbox.py, registered when the app is ready) is the default.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class GatewayError(Exception):
    """The gateway refused the request (bad input, unknown session or token)."""

    code = "gateway_error"


class GatewayTimeout(GatewayError):
    """No answer from the processor: the charge may or may not have happened."""

    code = "processor_timeout"


class IdempotencyMismatch(GatewayError):
    """The idempotency key was used before for a different charge."""

    code = "idempotency_mismatch"


@dataclass(frozen=True)
class CardSession:
    id: str
    url: str


@dataclass(frozen=True)
class CardDetails:
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    holder_name: str


@dataclass(frozen=True)
class CardSessionResult:
    status: str  # open / completed / declined / cancelled
    card: CardDetails | None = None
    decline_code: str = ""


@dataclass(frozen=True)
class ChargeResult:
    reference: str
    status: str  # succeeded / failed / requires_action
    amount: Decimal
    currency: str
    failure_code: str = ""
    # Where the customer authenticates the charge (status "requires_action").
    action_url: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def requires_action(self) -> bool:
        return self.status == "requires_action"


@dataclass(frozen=True)
class RefundResult:
    reference: str
    status: str  # succeeded / failed / pending
    amount: Decimal
    currency: str
    failure_code: str = ""


class Gateway:
    name = "abstract"

    def create_card_session(self, *, return_url: str, reference: str = "") -> CardSession:
        raise NotImplementedError

    def card_session_result(self, session_id: str) -> CardSessionResult:
        raise NotImplementedError

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
        """Charge ``token``. ``off_session``: the customer is not present (an automatic
        charge); ``return_url``: the portal page to come back to after authentication."""
        raise NotImplementedError

    def get_charge(self, *, idempotency_key: str) -> ChargeResult | None:
        raise NotImplementedError

    def refund(
        self, *, charge_reference: str, amount: Decimal, currency: str, idempotency_key: str, reason: str = ""
    ) -> RefundResult:
        raise NotImplementedError

    def get_refund(self, *, idempotency_key: str) -> RefundResult | None:
        raise NotImplementedError


_GATEWAYS: dict[str, type[Gateway]] = {}


def register(gateway_class: type[Gateway]) -> type[Gateway]:
    """Make a gateway implementation known by its ``name`` (a class decorator)."""
    _GATEWAYS[gateway_class.name] = gateway_class
    return gateway_class


def get_gateway(name: str | None = None) -> Gateway:
    name = name or settings.PAYMENT_GATEWAY
    if name not in _GATEWAYS:
        raise ImproperlyConfigured(f"Unknown PAYMENT_GATEWAY {name!r}")
    return _GATEWAYS[name]()
