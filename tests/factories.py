"""factory-boy factories for the accounts domain. Accounts are created through the
service so that they always have their billing profile(s).

Two-factor sign-in: ``sign_in_with_verified_device(client, user)`` signs a user in on a
test client as the code step leaves the session (required for support staff, staff and
superusers, whom ``force_login`` alone leaves at the set-up or code step);
``confirmed_totp_device`` and ``totp_code`` give a device and the code its app shows.
"""

import time
from base64 import b32decode
from decimal import Decimal

import factory
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP, hotp, totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import api_tokens, services, two_factor
from accounts.models import BillingAccount, MarketplaceService, Subscription, User
from invoices.models import Charge


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@tenant.example")
    full_name = factory.Faker("name")
    language = "en"
    password = factory.PostGenerationMethodCall("set_password", "secret-pass-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def make_account(*, agreement_type="web_direct", signed_up_by=None, profile_name=None, **fields) -> BillingAccount:
    defaults = {
        "name": f"Account {BillingAccount.objects.count() + 1}",
        "kind": "business",
        "company_name": "Tenant B.V.",
        "address_line1": "Damrak 1",
        "postal_code": "1012 LG",
        "city": "Amsterdam",
        "country": "NL",
        "currency": "EUR",
        "payment_mode": "card",
    }
    if agreement_type == "enterprise":
        defaults.update(
            enrollment_number=str(10_000_000 + BillingAccount.objects.count()), channel="direct", payment_mode="invoice"
        )
    defaults.update(fields)
    return services.billing_account_create(
        agreement_type=agreement_type, signed_up_by=signed_up_by, profile_name=profile_name, **defaults
    )


def make_subscription(account, profile=None, name=None, status="active", marketplace=False) -> Subscription:
    profile = profile or account.profiles.order_by("pk").first()
    subscription = Subscription.objects.create(
        account=account, profile=profile, name=name or f"Subscription {Subscription.objects.count() + 1}", status=status
    )
    if marketplace:
        MarketplaceService.objects.create(subscription=subscription, name="Mail relay", publisher="Third party")
    return subscription


def make_charges(subscriptions, period) -> list[Charge]:
    """One 10.00 EUR charge in ``period`` for each subscription (a billing run's input)."""
    return Charge.objects.bulk_create(
        [
            Charge(
                subscription=s,
                profile_id=s.profile_id,
                period=period,
                service_name="VM",
                meter="hours",
                quantity=Decimal("1"),
                unit_price=Decimal("10"),
                amount=Decimal("10.00"),
                currency="EUR",
            )
            for s in subscriptions
        ]
    )


def confirmed_totp_device(user) -> TOTPDevice:
    """The user's confirmed authenticator app, set up now if the user has none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=two_factor.DEVICE_NAME, confirmed=True)


def totp_code(device: TOTPDevice) -> str:
    """The code the device's app shows now, computed from its secret (django_otp.oath). A
    code is accepted once: if this time step's code was used already, the next step's
    (accepted too, one step of tolerance); past that, wait for the next step."""
    while True:
        device.refresh_from_db()
        now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()
        step = max(now, device.last_t + 1)
        if step <= now + device.tolerance:
            return f"{hotp(device.bin_key, step, digits=device.digits):0{device.digits}d}"
        time.sleep(1)


def totp_code_for_secret(secret: str) -> str:
    """The current code for a secret as the set-up page shows it (base32 in groups), as an
    authenticator app that was given the secret computes it."""
    key = b32decode(secret.replace(" ", "").upper())
    return f"{totp(key):06d}"


def sign_in_with_verified_device(client, user) -> TOTPDevice:
    """Sign ``user`` in on a Django test client as a passed code step leaves the session:
    signed in (``force_login``) and verified with a confirmed authenticator app. What
    support staff, staff and superusers need to reach any page."""
    device = confirmed_totp_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.pop(two_factor.STEP_SESSION_KEY, None)
    session.save()
    return device


def api_key_for(user, *, name="Test script", days=90) -> str:
    """The key of a new API token of ``user`` (accounts.api_tokens), as a script would hold
    it after making the token (the second factor taken as passed)."""
    _token, key = api_tokens.api_token_create(user=user, name=name, days=days, session_verified=True)
    return key
