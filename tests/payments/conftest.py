import re

import pytest
from django.urls import reverse

from payments import demo as payments_demo
from payments import services
from payments.models import PaymentMethod
from payments.sandbox import luhn_valid

APPROVED = "4242424242424242"
APPROVED_MC = "5555555555554444"
DECLINED = "4000000000000002"
EXPIRED = "4000000000000069"
INSUFFICIENT = "4000000000009995"
INCORRECT_CVC = "4000000000000127"
INTERNATIONAL = "4000000000003006"
RECURRING = "4000000000003410"
TIMEOUT = "4000000000000119"


@pytest.fixture
def cards(demo):
    """The demo with the payments app's demo cards. Woodgrove Nederland pays with its
    Mastercard here (the demo's active card there has insufficient funds, so that the
    seeded demo shows a declined automatic charge; tests of that use their own cards)."""
    payments_demo.seed(demo)
    nl = demo.profiles["woodgrove_nl"]
    mastercard = PaymentMethod.objects.get(profile=nl, last4="4444", removed_at__isnull=True)
    services.payment_method_activate(payment_method=mastercard, actor=demo.users["ca_owner"])
    nl.refresh_from_db()
    return demo


@pytest.fixture
def on_stripe(cards, stripe_settings):
    """The demo (its cards are the sandbox's), then the portal switched to the Stripe
    adapter against localstripe (tests/localstripe.py)."""
    stripe_settings.PAYMENT_GATEWAY = "stripe"
    return cards


def enter_card(client, gateway_url, number, *, cvc="123", exp_year=2031, holder="Test Holder", follow=True):
    """Post a card on the sandbox gateway's page, as the customer's browser does."""
    return client.post(
        gateway_url,
        {
            "number": number,
            "exp_month": "11",
            "exp_year": str(exp_year),
            "cvc": cvc,
            "holder_name": holder,
            "action": "submit",
        },
        follow=follow,
    )


def add_card_web(client, add_url, number, *, make_active=True, **kwargs):
    """The whole web flow: the portal's "+" form, the gateway page, back to the portal."""
    data = {"make_active": "on"} if make_active else {}
    response = client.post(add_url, data)
    assert response.status_code == 302, response.content[:500]
    gateway_url = response["Location"]
    assert gateway_url.startswith("/sandbox-gateway/")
    return enter_card(client, gateway_url, number, **kwargs)


def subscription_methods_url(subscription):
    return reverse("payments:subscription_methods", args=[str(subscription.subscription_id)])


def subscription_add_url(subscription):
    return reverse("payments:subscription_add_card", args=[str(subscription.subscription_id)])


# A stand-alone 13-19 digit run: not part of a longer word (random hex keys such as API
# tokens or idempotency keys hold digit runs that can pass Luhn by chance) and not the
# fraction of a decimal number. The test card numbers are also searched everywhere above.
CARD_LIKE = re.compile(r"(?<![0-9A-Za-z.])\d{13,19}(?![0-9A-Za-z])")


def luhn_hits(text: str) -> list[str]:
    """Every 13-19 digit run (also inside longer runs) that passes Luhn."""
    hits = []
    for run in re.findall(r"\d{13,}", text):
        for length in range(13, 20):
            for start in range(0, len(run) - length + 1):
                candidate = run[start : start + length]
                if luhn_valid(candidate) and candidate in TEST_NUMBERS:
                    hits.append(candidate)
    # A Luhn check alone on every window of a long digit run would flag innocent
    # numbers; exact 13-19 digit runs are checked without that filter.
    hits += [m for m in CARD_LIKE.findall(text) if luhn_valid(m)]
    return sorted(set(hits))


TEST_NUMBERS = {
    APPROVED,
    APPROVED_MC,
    DECLINED,
    EXPIRED,
    INSUFFICIENT,
    INCORRECT_CVC,
    INTERNATIONAL,
    RECURRING,
    TIMEOUT,
    "378282246310005",
    "4000000000000341",
    "4000002760003184",
}


_invoice_numbers = iter(range(1, 10_000_000))


def make_invoice(profile, *, total="121.00", status="due", issue_date=None, due_date=None, period=None):
    """An issued invoice row (what the billing run writes), for the pay tests."""
    import datetime as dt
    from decimal import Decimal

    from billing_portal import clock
    from invoices.models import Invoice, InvoiceRevision
    from invoices.services import payment_terms_for

    account = profile.account
    today = clock.today()
    issue_date = issue_date or today
    n = next(_invoice_numbers)
    period = period or dt.date(2000 + n // 12 % 80, n % 12 + 1, 1)
    total = Decimal(total)
    invoice = Invoice.objects.create(
        number=f"P{today:%Y}-{n:06d}",
        account=account,
        profile=profile,
        period=period,
        issue_date=issue_date,
        due_date=due_date or issue_date + dt.timedelta(days=30),
        status=status,
        currency=account.currency,
        subtotal=total,
        tax_amount=Decimal("0.00"),
        total=total,
        payment_terms=payment_terms_for(account),
        payment_reference=f"RF00{n:06d}",
    )
    revision = InvoiceRevision.objects.create(
        invoice=invoice, number=1, language=account.language, sold_to="x", bill_to="x", tax_rate=Decimal("0")
    )
    invoice.current_revision = revision
    invoice.save(update_fields=["current_revision"])
    return invoice


def give_card(demo_obj, profile, number, *, subscription=None, actor=None, make_active=True):
    """Add a sandbox card to a scope through the real setup flow; returns the card."""
    actor = actor or profile.account.signed_up_by
    setup = payments_demo.add_card(
        actor=actor,
        profile=profile,
        number=number,
        holder="Card Holder",
        subscription=subscription,
        make_active=make_active,
        cvc="1234" if number.startswith("37") else "123",
    )
    return setup.payment_method
