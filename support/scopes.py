"""Which billing scope a request is about: a web-direct subscription (``s<pk>``) or a
customer agreement's billing profile (``p<pk>``), as the New support request form names
them, and what the portal already knows about it (the prefill of PBI-2)."""

from dataclasses import dataclass

from django.http import Http404

from accounts.models import BillingProfile, Subscription, SubscriptionStatus
from accounts.selectors import subscriptions_for_user

from . import details, prechecks
from .selectors import requestable_profiles


@dataclass(frozen=True)
class Scope:
    value: str
    profile: BillingProfile
    subscription: Subscription | None
    label: str


def _scopes(user) -> list[Scope]:
    found = []
    profiles = requestable_profiles(user)
    profile_ids = {p.pk for p in profiles}
    for profile in profiles:
        if profile.account.is_customer_agreement:
            found.append(Scope(f"p{profile.pk}", profile, None, f"{profile.account.name} / {profile.name}"))
    subscriptions = (
        subscriptions_for_user(user).filter(status=SubscriptionStatus.ACTIVE).select_related("profile__account")
    )
    for subscription in subscriptions:
        if subscription.profile_id in profile_ids and subscription.account.is_web_direct:
            found.append(
                Scope(
                    f"s{subscription.pk}",
                    subscription.profile,
                    subscription,
                    f"{subscription.account.name} / {subscription.name}",
                )
            )
    return found


def scope_choices(user) -> list[tuple[str, str]]:
    return [(scope.value, scope.label) for scope in _scopes(user)]


def resolve(user, value: str) -> Scope:
    """The scope named ``value`` if the user may ask for it, else 404."""
    for scope in _scopes(user):
        if scope.value == value:
            return scope
    raise Http404


def prefill(scope: Scope, user) -> dict:
    """PBI-2 answers the portal knows: the profile, country, VAT ID, the admin's e-mail,
    the billing account number and the current payment method."""
    account = scope.profile.account
    method = scope.subscription.payment_method if scope.subscription else scope.profile.payment_method
    return {
        "customer_type": "existing",
        "current_payment_method": str(method) if method is not None else "",
        "admin_sign_in": user.email,
        "commerce_account_id": f"BA-{account.pk:06d}",
        "company_name": prechecks.profile_company_name(scope.profile),
        "company_address": prechecks.profile_address(scope.profile),
        "country": account.country.code if account.country else "",
        "vat_id": account.vat_id,
        "contact_name": account.billing_contact_name or user.full_name,
        "contact_email": account.billing_contact_email or user.email,
        "contact_phone": account.billing_contact_phone,
        "preferred_contact": "email",
    }


def decision_dates(pbi):
    """PBI-8: when the credit decision is expected (5 to 7 days after the application
    came back), or None."""
    application = getattr(pbi, "credit_application", None)
    if application is None or application.submitted_at is None:
        return None
    return details.expected_decision(application.submitted_at.date())
