"""Card payments that wait for the customer to authenticate them with their bank
(Strong Customer Authentication, 3-D Secure).

The gateway answers a charge with ``requires_action`` and the page where the customer
authenticates it (``action_url``). The payment stays *pending* with that page on it:
Pay now sends the customer there at once; an automatic charge (or a dunning retry)
e-mails the account's contacts a link to it, once per payment. The page returns the
customer to ``payments:pay_return``, which settles the payment from the gateway's
state (``charges.payment_refresh``); webhooks and the reconciler do the same, and a
payment nobody authenticates within ``AUTHENTICATION_WINDOW`` lapses
(``authentication_expired``)."""

import datetime as _dt

from django.db import transaction

from billing_portal.money import format_money
from notifications.services import notification_queue, unique_recipients

from ..models import Payment, PaymentSource, PaymentStatus

AUTHENTICATION_WINDOW = _dt.timedelta(days=1)
AUTHENTICATION_EXPIRED = "authentication_expired"
ACTION_REQUIRED = "payment_action_required"
# Sources where nobody is at the screen: the customer is asked by e-mail.
_UNATTENDED = (PaymentSource.AUTOMATIC, PaymentSource.RETRY)


def _notify_action_required(payment: Payment) -> None:
    """E-mail the account's sign-up user and billing contact (each once, in their
    language) a link to authenticate the payment."""
    account = payment.account
    candidates = []
    if account.signed_up_by is not None:
        candidates.append((account.signed_up_by.email, account.signed_up_by.language))
    candidates.append((account.billing_contact_email, account.language))
    invoice = payment.invoice
    for email, language in unique_recipients(candidates):
        notification_queue(
            kind=ACTION_REQUIRED,
            recipient=email,
            dedupe_key=f"{ACTION_REQUIRED}:{payment.pk}:{email}",
            language=language,
            context={
                "payment_id": payment.pk,
                "invoice_id": invoice.pk,
                "invoice_number": invoice.number,
                "account_name": account.name,
                "amount": str(payment.amount),
                "currency": payment.currency,
                "amount_display": format_money(payment.amount, payment.currency, language),
                "card": payment.card,
                "action_url": payment.action_url,
            },
            account=account,
            invoice=invoice,
        )


@transaction.atomic
def payment_await_action(*, payment: Payment, reference: str, action_url: str) -> Payment:
    """Keep a pending card payment pending until the customer authenticated it at
    ``action_url`` (idempotent; a settled payment is left as it is)."""
    locked = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("account__signed_up_by", "invoice", "payment_method")
        .get(pk=payment.pk)
    )
    if locked.status != PaymentStatus.PENDING:
        return locked
    if (locked.gateway_reference, locked.action_url) != (reference[:64], action_url[:300]):
        locked.gateway_reference = reference[:64]
        locked.action_url = action_url[:300]
        locked.save(update_fields=["gateway_reference", "action_url"])
    if locked.source in _UNATTENDED and locked.action_url:
        _notify_action_required(locked)
    return locked
