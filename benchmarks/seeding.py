"""The accounts the benchmarks seed: a Dutch business at one address with one VAT ID,
made through the portal's own service (accounts.services.billing_account_create)."""

from django.contrib.auth import get_user_model

from accounts import services as account_services

BUSINESS = {
    "kind": "business",
    "address_line1": "Damrak 1",
    "postal_code": "1012 LG",
    "city": "Amsterdam",
    "country": "NL",
    "currency": "EUR",
    "vat_id": "NL853746333B01",
}


def business_account(*, name: str, agreement_type: str, payment_mode: str, company_name: str = "", **extra):
    return account_services.billing_account_create(
        name=name,
        agreement_type=agreement_type,
        company_name=company_name or f"{name} B.V.",
        payment_mode=payment_mode,
        **BUSINESS,
        **extra,
    )


def owner_with_account(*, email: str, password: str, name: str, profile_name: str, company_name: str = ""):
    """A new user (any earlier one of ``email`` removed) who signed up a card-paying
    customer-agreement account and owns it (``ba_owner``). Returns (user, account)."""
    user_model = get_user_model()
    user_model.objects.filter(email=email).delete()
    user = user_model.objects.create_user(email=email, password=password)
    account = business_account(
        signed_up_by=user,
        profile_name=profile_name,
        name=name,
        company_name=company_name,
        agreement_type="customer_agreement",
        payment_mode="card",
    )
    account_services.role_assign(user=user, role="ba_owner", account=account)
    return user, account
