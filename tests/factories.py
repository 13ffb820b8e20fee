"""factory-boy factories for the accounts domain. Accounts are created through the
service so that they always have their billing profile(s)."""

import factory

from accounts import services
from accounts.models import BillingAccount, MarketplaceService, Subscription, User


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
