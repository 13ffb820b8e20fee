"""Domain errors raised by services.

A service refuses bad input or a wrong state by raising one of these, before it has
written anything (services run in one transaction, so nothing is half-written). Web
views show ``message``; the API turns them into ``{"code", "detail", "fields"}`` with
the status below.
"""


class DomainError(Exception):
    status_code = 400
    default_code = "invalid"

    def __init__(self, message, *, code: str | None = None, fields: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.code = code or self.default_code
        self.fields = fields or {}


class InvalidInput(DomainError):
    status_code = 400
    default_code = "invalid"


class NotAllowed(DomainError):
    """The action is refused for this user or in this state (the object is visible)."""

    status_code = 403
    default_code = "not_allowed"


class Conflict(DomainError):
    """The object changed since the caller read it, or the action was already done."""

    status_code = 409
    default_code = "conflict"


class PaymentDeclined(DomainError):
    status_code = 402
    default_code = "payment_declined"
