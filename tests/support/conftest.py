"""Fixtures of the support tests: a valid pay-by-invoice payload and another tenant."""

import pytest

from accounts.models import MarketplaceService
from support import scopes


@pytest.fixture
def other_tenant(db):
    """A user with an account of their own."""
    from accounts import services
    from tests.factories import UserFactory, make_account

    user = UserFactory(email="outsider@elsewhere.example")
    account = make_account(agreement_type="web_direct", signed_up_by=user, payment_mode="card", name="Elsewhere")
    services.role_assign(user=user, role="account_admin", account=account)
    return user


@pytest.fixture
def pbi_payload():
    """``pbi_payload(user, scope_value, **changes)``: what the portal prefills for the
    scope, completed as a customer would (PBI-2), ready to POST."""

    def make(user, scope_value, **changes):
        scope = scopes.resolve(user, scope_value)
        data = {
            **scopes.prefill(scope, user),
            "scope": scope_value,
            "support_plan": "standard",
            "website": "https://www.contoso.example",
            "year_established": 1998,
            "contact_phone": "+31 20 123 4567",
            "justification": "Our procurement pays suppliers by bank transfer only.",
            "confirm": True,
        }
        data.update(changes)
        return data

    return make


@pytest.fixture
def contoso_ready(demo):
    """Contoso's campaigns subscription without its marketplace service (PBI-4)."""
    from accounts import services

    subscription = demo.subscriptions["contoso_campaigns"]
    for service in MarketplaceService.objects.filter(subscription=subscription):
        services.marketplace_service_remove(service=service, actor=demo.users["wd_admin"])
    return f"s{subscription.pk}"
