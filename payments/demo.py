"""Demo data of the payments app, added by ``manage.py seed_demo`` (idempotent).

Cards are added the way a customer adds them: a card-entry session on the sandbox
gateway, completed with a test card number, then made active through the services.
With another gateway configured (Stripe) the demo has no cards: they are added through
that gateway's own page.
"""

import logging

from django.conf import settings

from billing_portal import clock

from . import services
from .gateway import get_gateway
from .models import PaymentMethod

logger = logging.getLogger(__name__)


def add_card(*, actor, profile, number: str, holder: str, subscription=None, make_active=True, cvc="123"):
    """Add a sandbox test card through the real card-setup flow (demo data and tests)."""
    setup, _url = services.card_setup_start(
        actor=actor, profile=profile, subscription=subscription, make_active=make_active
    )
    gateway = get_gateway(setup.gateway)
    gateway.submit_card(
        setup.gateway_session_id,
        number=number,
        exp_month=12,
        exp_year=clock.today().year + 3,
        cvc=cvc,
        holder_name=holder,
    )
    return services.card_setup_complete(setup=setup, actor=actor)


def seed(demo) -> None:
    """Cards for the personas in ``demo`` (accounts.demo.Demo)."""
    if settings.PAYMENT_GATEWAY != "sandbox":
        logger.info("demo cards are sandbox test cards: none added with PAYMENT_GATEWAY=%s", settings.PAYMENT_GATEWAY)
        return
    contoso = demo.profiles["contoso"]
    if not PaymentMethod.objects.filter(profile=contoso).exists():
        admin = demo.users["wd_admin"]
        prod, staging = demo.subscriptions["contoso_prod"], demo.subscriptions["contoso_staging"]
        shared = add_card(
            actor=admin, profile=contoso, subscription=prod, number="4242424242424242", holder="Ava de Vries"
        )
        # Contoso Production and Contoso Staging share one card.
        services.payment_method_activate(payment_method=shared.payment_method, actor=admin, subscription=staging)
        add_card(
            actor=admin,
            profile=contoso,
            subscription=demo.subscriptions["contoso_campaigns"],
            number="5555555555554444",
            holder="Contoso B.V.",
        )
    individual = demo.profiles["individual"]
    if not PaymentMethod.objects.filter(profile=individual).exists():
        add_card(
            actor=demo.users["wd_individual"],
            profile=individual,
            subscription=demo.subscriptions["individual"],
            # A card with insufficient funds: Jan's automatic charges are declined
            # (payment-failed e-mail, dunning) and his invoice waits for Pay now.
            number="4000000000009995",
            holder="Jan Smit",
        )
    owner = demo.users["ca_owner"]
    for key, number, holder in (
        # Woodgrove Nederland's active card has insufficient funds: its latest automatic
        # charge is declined, so the invoice manager finds a due invoice to pay with the
        # second card (or a new one) through Pay now.
        ("woodgrove_nl", "4000000000009995", "Woodgrove Bank N.V."),
        ("woodgrove_de", "4242424242424242", "Woodgrove Bank Niederlassung Berlin"),
    ):
        profile = demo.profiles[key]
        if not PaymentMethod.objects.filter(profile=profile).exists():
            add_card(actor=owner, profile=profile, number=number, holder=holder)
            if key == "woodgrove_nl":
                add_card(actor=owner, profile=profile, number="5555555555554444", holder=holder, make_active=False)
