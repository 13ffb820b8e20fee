"""Anonymous, other tenant and refused roles on every payment-method page and endpoint."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory, make_account, make_subscription

from .conftest import subscription_methods_url

pytestmark = pytest.mark.django_db


def _urls(cards):
    prod = cards.subscriptions["contoso_prod"]
    prod.refresh_from_db()
    sid = str(prod.subscription_id)
    method = prod.payment_method_id
    return (
        {
            "methods": subscription_methods_url(prod),
            "add": reverse("payments:subscription_add_card", args=[sid]),
            "edit": reverse("payments:method_edit", args=[method]),
            "delete": reverse("payments:method_delete", args=[method]),
        },
        method,
        sid,
    )


def test_anonymous_is_sent_to_sign_in(cards, client):
    urls, method, sid = _urls(cards)
    nl = cards.profiles["woodgrove_nl"].pk
    extra = [
        reverse("payments:index"),
        reverse("payments:profile_methods", args=[nl]),
        reverse("payments:profile_add_card", args=[nl]),
        reverse("payments:card_setup_return", args=["6f1c4c1e-2a7b-4d8e-9a55-000000000000"]),
    ]
    for url in [*urls.values(), *extra]:
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in/" in response["Location"], url


def test_anonymous_api_gets_401(cards, api_for):
    _urls_, method, sid = _urls(cards)
    api = api_for(None)
    for verb, url in [
        ("get", "/api/v1/payment-methods/"),
        ("get", f"/api/v1/payment-methods/{method}/"),
        ("delete", f"/api/v1/payment-methods/{method}/"),
        ("post", f"/api/v1/payment-methods/{method}/activate/"),
        ("post", "/api/v1/card-setups/"),
        ("get", "/api/v1/payment-methods/history/"),
    ]:
        assert getattr(api, verb)(url).status_code == 401, url


def test_other_tenant_gets_404(cards, client_for, api_for):
    urls, method, sid = _urls(cards)
    stranger = UserFactory()
    from accounts.services import role_assign

    account = make_account(signed_up_by=stranger)
    role_assign(user=stranger, role="account_admin", account=account)
    make_subscription(account)
    client = client_for(stranger)
    for url in urls.values():
        assert client.get(url).status_code == 404, url
    assert client.post(urls["delete"]).status_code == 404
    nl = cards.profiles["woodgrove_nl"]
    assert client.get(reverse("payments:profile_methods", args=[nl.pk])).status_code == 404
    api = api_for(stranger)
    assert api.get(f"/api/v1/payment-methods/{method}/").status_code == 404
    assert api.delete(f"/api/v1/payment-methods/{method}/").status_code == 404
    assert api.post("/api/v1/card-setups/", {"subscription_id": sid}, format="json").status_code == 404
    assert api.get("/api/v1/payment-methods/", {"subscription": sid}).status_code == 404
    assert api.get("/api/v1/payment-methods/").json()["results"] == []


def test_enterprise_roles_have_no_payment_methods(cards, client_for, api_for):
    sub = cards.subscriptions["northwind_erp"]
    client = client_for(cards.users["ea_admin"])
    assert client.get(subscription_methods_url(sub)).status_code == 403
    assert client.get(reverse("payments:subscription_add_card", args=[str(sub.subscription_id)])).status_code == 403
    api = api_for(cards.users["ea_admin"])
    assert (
        api.post("/api/v1/card-setups/", {"subscription_id": str(sub.subscription_id)}, format="json").status_code
        == 403
    )


def test_web_direct_admin_who_did_not_sign_up_reads_only(cards, client_for):
    urls, method, sid = _urls(cards)
    co_admin = UserFactory()
    from accounts.services import role_assign

    role_assign(user=co_admin, role="account_admin", account=cards.accounts["contoso"])
    client = client_for(co_admin)
    assert client.get(urls["methods"]).status_code == 200
    assert client.get(urls["add"]).status_code == 403
    assert client.get(urls["edit"]).status_code == 403
    assert client.post(urls["delete"]).status_code == 403


def test_card_setup_of_someone_else_is_404(cards, client_for, api_for):
    admin = cards.users["wd_admin"]
    setup = (
        api_for(admin)
        .post(
            "/api/v1/card-setups/",
            {"subscription_id": str(cards.subscriptions["contoso_prod"].subscription_id)},
            format="json",
        )
        .json()
    )
    other = cards.users["ca_owner"]
    assert client_for(other).get(reverse("payments:card_setup_return", args=[setup["id"]])).status_code == 404
    assert api_for(other).post(f"/api/v1/card-setups/{setup['id']}/complete/").status_code == 404


def _add_cards(profile, count):
    from payments.models import PaymentMethod

    for i in range(count):
        PaymentMethod.objects.create(
            account=profile.account,
            profile=profile,
            token=f"tok_test_{profile.pk}_{i}_{PaymentMethod.objects.count()}",
            brand="Visa",
            last4=f"{i:04d}",
            exp_month=1,
            exp_year=2040,
            holder_name="X",
        )


def test_constant_queries_on_list_pages(cards, client_for, api_for, django_assert_max_num_queries):
    admin = cards.users["wd_admin"]
    profile = cards.profiles["contoso"]
    prod = cards.subscriptions["contoso_prod"]
    client, api = client_for(admin), api_for(admin)
    counts = []
    for extra in (1, 12):
        _add_cards(profile, extra)
        for i in range(extra):
            make_subscription(cards.accounts["contoso"], name=f"Extra {extra}-{i}")
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as page_q:
            assert client.get(subscription_methods_url(prod)).status_code == 200
        with CaptureQueriesContext(connection) as index_q:
            assert client.get(reverse("payments:index")).status_code == 200
        with CaptureQueriesContext(connection) as api_q:
            assert api.get("/api/v1/payment-methods/").status_code == 200
        counts.append((len(page_q), len(index_q), len(api_q)))
    assert counts[0] == counts[1], counts
    with django_assert_max_num_queries(counts[1][0]):
        client.get(subscription_methods_url(prod))


def test_sandbox_page_of_an_unknown_session_is_404(client):
    assert client.get("/sandbox-gateway/sessions/cs_unknown/").status_code == 404


def test_constant_queries_on_index_for_customer_agreement(cards, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import BillingProfile

    owner = cards.users["ca_owner"]
    counts = []
    for n in (1, 5):
        for i in range(n):
            profile = BillingProfile.objects.create(account=cards.accounts["woodgrove"], name=f"Extra {n}-{i}")
            _add_cards(profile, 1)
            from payments.models import PaymentMethod

            BillingProfile.objects.filter(pk=profile.pk).update(
                payment_method=PaymentMethod.objects.filter(profile=profile).first()
            )
        client = client_for(owner)
        with CaptureQueriesContext(connection) as q:
            assert client.get(reverse("payments:index")).status_code == 200
        counts.append(len(q))
    assert counts[0] == counts[1], counts
