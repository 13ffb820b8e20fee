"""The invoice list as a large account sees it: visibility chosen in SQL agrees with the
predicate, pages without a total count, PAY-1 per row from the cached grants, constant
queries however many billing profiles a page shows, and the fast money/URL helpers
giving exactly what format_money/reverse give."""

import datetime as dt
from decimal import Decimal
from html import escape

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts import permissions
from accounts import services as account_services
from accounts.models import BillingProfile
from billing_portal.money import CURRENCIES, format_money, format_unit_price
from invoices import formatting, services
from invoices.models import Invoice, InvoiceStatus, PaymentTerms
from invoices.views import PAGE_SIZE
from tests.factories import UserFactory, make_account


def _invoices(profiles, count, status=InvoiceStatus.DUE, terms=PaymentTerms.CARD, start=0):
    made = []
    for i in range(start, start + count):
        profile = profiles[i % len(profiles)]
        made.append(
            Invoice.objects.create(
                number=f"L-{profile.pk}-{i:04d}",
                account=profile.account,
                profile=profile,
                period=dt.date(2000, 1, 1) + dt.timedelta(days=31 * i),
                issue_date=dt.date(2020, 2, 1) + dt.timedelta(days=i),
                due_date=dt.date(2020, 3, 1),
                status=status,
                currency="EUR",
                subtotal=10,
                tax_amount=Decimal("2.10"),
                total=Decimal("1234.10"),
                payment_reference=services.payment_reference(2020, 1000 + i),
                payment_terms=terms,
            )
        )
    return made


def _account_with_profiles(n, *, agreement_type="customer_agreement"):
    owner = UserFactory()
    account = make_account(signed_up_by=owner, agreement_type=agreement_type)
    role = "ba_owner" if agreement_type == "customer_agreement" else "account_admin"
    account_services.role_assign(user=owner, role=role, account=account)
    BillingProfile.objects.bulk_create([BillingProfile(account=account, name=f"Extra {i}") for i in range(n - 1)])
    return owner, account, list(account.profiles.order_by("pk"))


@pytest.mark.django_db
def test_can_view_invoices_filter_agrees_with_predicate_for_every_persona(demo):
    profiles = list(BillingProfile.objects.select_related("account"))
    users = [*demo.users.values(), UserFactory()]
    for user in users:
        expected = {p.pk for p in profiles if permissions.can_view_invoices(user, p)}
        scope = permissions.can_view_invoices_filter(user, account_field="account_id", profile_field="pk")
        assert set(BillingProfile.objects.filter(scope).values_list("pk", flat=True)) == expected, user.email
    # Some persona sees some but not all profiles, so the comparison means something.
    reader = demo.users["ca_bp_reader"]
    assert 0 < len([p for p in profiles if permissions.can_view_invoices(reader, p)]) < len(profiles)


@pytest.mark.django_db
@pytest.mark.parametrize("profiles", [1, 7])
def test_list_page_constant_queries_whatever_the_profiles_on_the_page(
    profiles, client_for, django_assert_max_num_queries
):
    owner, _account, scopes = _account_with_profiles(profiles)
    _invoices(scopes, PAGE_SIZE + 3)
    client = client_for(owner)
    # session, user, grants, the filter's billing profiles and subscriptions, one page of invoices
    with django_assert_max_num_queries(5):
        html = client.get(reverse("invoices:list")).content.decode()
    assert html.count("Pay now") == PAGE_SIZE or html.count("Nu betalen") == PAGE_SIZE


@pytest.mark.django_db
def test_list_pages_without_total(client_for):
    owner, _account, scopes = _account_with_profiles(2)
    made = _invoices(scopes, PAGE_SIZE + 5)
    newest_first = sorted(made, key=lambda inv: (inv.issue_date, inv.number), reverse=True)
    client = client_for(owner)
    first = client.get(reverse("invoices:list")).content.decode()
    assert newest_first[0].number in first and newest_first[PAGE_SIZE].number not in first
    assert "page=2" in first and "page=0" not in first
    second = client.get(reverse("invoices:list"), {"page": 2}).content.decode()
    assert newest_first[PAGE_SIZE].number in second and newest_first[-1].number in second
    assert newest_first[0].number not in second
    assert "page=1" in second and "page=3" not in second
    # Past the end: the last page, like Paginator.get_page; not a number: the first.
    assert newest_first[-1].number in client.get(reverse("invoices:list"), {"page": 99}).content.decode()
    assert newest_first[0].number in client.get(reverse("invoices:list"), {"page": "abc"}).content.decode()
    # Filters survive paging.
    assert "status=due&amp;page=2" in client.get(reverse("invoices:list"), {"status": "due"}).content.decode()


@pytest.mark.django_db
def test_pay_1_list_row_shows_pay_now_or_bank_transfer(client_for, settings):
    owner, _account, scopes = _account_with_profiles(1, agreement_type="web_direct")
    card = _invoices(scopes, 1)[0]
    bank = _invoices(scopes, 1, terms=PaymentTerms.BANK_TRANSFER, start=1)[0]
    html = client_for(owner).get(reverse("invoices:list")).content.decode()
    assert f'href="{reverse("payments:pay", args=[card.pk])}"' in html
    assert f'href="{reverse("payments:pay", args=[bank.pk])}"' not in html
    assert bank.payment_reference in html and settings.PORTAL_SELLER["iban"] in html
    assert f'href="{reverse("invoices:detail", args=[bank.pk])}"' in html
    # Paid invoices offer nothing.
    Invoice.objects.filter(pk__in=[card.pk, bank.pk]).update(status=InvoiceStatus.PAID)
    html = client_for(owner).get(reverse("invoices:list")).content.decode()
    assert "/pay/" not in html and bank.payment_reference not in html


@settings(max_examples=300, deadline=None)
@given(
    amount=st.decimals(min_value=Decimal("-100000000"), max_value=Decimal("100000000"), allow_nan=False, places=3),
    currency=st.sampled_from(sorted(CURRENCIES)),
    language=st.sampled_from(["en", "nl", "de"]),
    minor=st.booleans(),
)
def test_money_formatter_matches_format_money(amount, currency, language, minor):
    if minor:
        amount = amount.quantize(Decimal(1).scaleb(-CURRENCIES[currency]))
    assert formatting.money_formatter(currency, language)(amount) == format_money(amount, currency, language)


@pytest.mark.parametrize("value", ["0", "0.00", "1234567.89", "0.5", "12", "-3.20", "999.999"])
def test_money_formatter_matches_format_money_examples(value):
    for currency in CURRENCIES:
        for language in ("en", "nl"):
            assert formatting.money_formatter(currency, language)(Decimal(value)) == format_money(
                Decimal(value), currency, language
            )


@settings(max_examples=300, deadline=None)
@given(
    amount=st.decimals(min_value=Decimal("-100000000"), max_value=Decimal("100000000"), allow_nan=False, places=6),
    currency=st.sampled_from(sorted(CURRENCIES)),
    language=st.sampled_from(["en", "nl", "de"]),
)
def test_unit_price_formatter_matches_format_unit_price(amount, currency, language):
    expected = format_unit_price(amount, currency, language)
    assert formatting.unit_price_formatter(currency, language)(amount) == expected


@pytest.mark.parametrize("value", ["0", "0.000000", "0.0184", "10", "10.500000", "1234567.123456", "-0.25", "0.000001"])
def test_unit_price_formatter_matches_format_unit_price_examples(value):
    for currency in CURRENCIES:
        for language in ("en", "nl"):
            assert formatting.unit_price_formatter(currency, language)(Decimal(value)) == format_unit_price(
                Decimal(value), currency, language
            )


def test_url_maker_matches_reverse():
    for pk in (1, 42, 1234567):
        assert formatting.url_maker("invoices:detail")(pk) == reverse("invoices:detail", args=[pk])
    assert formatting.url_maker("nope:missing") is None


@pytest.mark.django_db
def test_list_rows_escape_names(client_for):
    owner, account, scopes = _account_with_profiles(2)
    BillingProfile.objects.filter(pk=scopes[1].pk).update(name="<script>x</script>")
    _invoices(scopes, 2)
    html = client_for(owner).get(reverse("invoices:list")).content.decode()
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert f"{account.name} / Extra 0" not in html  # renamed above
    # The scope column is str(profile): the account's name, then the profile's unless default.
    assert f'<td data-label="Billing scope">{escape(account.name)} / &lt;script&gt;x&lt;/script&gt;</td>' in html
    assert f'<td data-label="Billing scope">{escape(str(scopes[0]))}</td>' in html
    web_direct, _account, (default,) = _account_with_profiles(1, agreement_type="web_direct")
    _invoices([default], 1, start=5)
    assert (
        f'<td data-label="Billing scope">{escape(default.account.name)}</td>'
        in client_for(web_direct).get(reverse("invoices:list")).content.decode()
    )


@pytest.mark.django_db
def test_list_filter_form_shows_submitted_values_and_errors(client_for):
    owner, _account, scopes = _account_with_profiles(1)
    _invoices(scopes, 1)
    client = client_for(owner)
    for _ in range(2):  # the second answer may come from the kept HTML: same result
        html = client.get(reverse("invoices:list"), {"status": "paid"}).content.decode()
        assert '<option value="paid" selected>' in html
        # One period (an earlier list's link) is shown as the range of that month, in the selects.
        html = client.get(reverse("invoices:list"), {"status": "due", "period": "2000-01"}).content.decode()
        assert '<option value="due" selected>' in html
        assert html.count('<option value="1" selected>January</option>') == 2
        assert html.count('<option value="2000" selected>2000</option>') == 2
        assert '<option value="paid" selected>' not in html
        html = client.get(reverse("invoices:list"), {"period": "garbage"}).content.decode()
        assert 'role="alert"' in html and "Use YYYY-MM, for example 2026-01." in html
