"""Demo data of the support app, added by ``manage.py seed_demo`` (idempotent), after
the other apps' demo data.

* Contoso Web Shop (``wd_admin``) pays by card and has no request: its admin files one
  in the portal, and its Contoso Campaigns subscription keeps its marketplace service,
  so the PBI-4 blocker shows.
* Jan Smit (``wd_individual``) is an individual account: the request form shows why it
  cannot pay by invoice (PBI-3); nothing is seeded for it.
* Three more card-paying business accounts, each with its own account admin and a
  billing contact, have a request waiting in the support queue, in the states worth
  seeing: new (submitted), needing information (support asked a question), and with
  the credit application returned (credit check in progress, decision expected in 5
  to 7 days).

Everything goes through the services: the accounts are signed up with
``accounts.services``, cards are added through the card-setup flow, the requests are
filed and moved on by the support services as the customer and the demo support user.
"""

from accounts import services as account_services
from accounts.demo import ADDRESSES, ensure_user
from accounts.models import BillingAccount, Subscription, User
from accounts.roles import Role
from payments import demo as payments_demo
from payments.models import PaymentMethod

from . import scopes
from . import services as support_services
from .models import PayByInvoiceRequest, RevenueBand, SupportPlan

# key: (e-mail, full name, language), printed by seed_demo with accounts.demo.PERSONAS.
PERSONAS = {
    "wd_pbi_new": ("wd.admin@litware.example", "Lotte Hendriks", "nl"),
    "wd_pbi_question": ("wd.admin@proseware.example", "Paul Schneider", "en"),
    "wd_pbi_credit": ("wd.admin@wideworldimporters.example", "Sofie Claes", "nl"),
}

# key: account name, subscription name, website, year, account fields, card number.
ACCOUNTS = {
    "wd_pbi_new": {
        "name": "Litware",
        "subscription": "Litware Online Store",
        "website": "https://www.litware.example",
        "year_established": 2004,
        "card": "4242424242424242",
        "fields": {
            "company_name": "Litware B.V.",
            "vat_id": "NL820646660B01",
            "billing_contact_name": "Litware Administratie",
            "billing_contact_email": "administratie@litware.example",
            "billing_contact_phone": "+31 20 555 0142",
            "language": "nl",
            **ADDRESSES["NL"],
            "address_line1": "Keizersgracht 301",
        },
    },
    "wd_pbi_question": {
        "name": "Proseware",
        "subscription": "Proseware Platform",
        "website": "https://proseware.example",
        "year_established": 1998,
        "card": "5555555555554444",
        "fields": {
            "company_name": "Proseware GmbH",
            "vat_id": "DE129273398",
            "billing_contact_name": "Proseware Buchhaltung",
            "billing_contact_email": "buchhaltung@proseware.example",
            "billing_contact_phone": "+49 30 555 0177",
            "language": "en",
            **ADDRESSES["DE"],
            "address_line1": "Friedrichstrasse 68",
        },
    },
    "wd_pbi_credit": {
        "name": "Wide World Importers",
        "subscription": "Wide World Logistics",
        "website": "https://wideworldimporters.example",
        "year_established": 1987,
        "card": "4242424242424242",
        "fields": {
            "company_name": "Wide World Importers NV",
            "vat_id": "BE0417497106",
            "billing_contact_name": "Wide World Importers Aankoop",
            "billing_contact_email": "aankoop@wideworldimporters.example",
            "billing_contact_phone": "+32 2 555 0163",
            "language": "nl",
            **ADDRESSES["BE"],
            "address_line1": "Wetstraat 120",
        },
    },
}

JUSTIFICATION = {
    "wd_pbi_new": "Onze financiële afdeling betaalt leveranciers alleen per bankoverschrijving na goedkeuring.",
    "wd_pbi_question": "Our purchasing policy requires invoices with a PO number; company cards are being phased out.",
    "wd_pbi_credit": "Wij verwachten een hoger verbruik en willen maandelijks per factuur betalen.",
}
QUESTION = "Which monthly amount do you expect to spend, and which PO number should the invoices carry?"
CREDIT_APPLICATION = {
    "requested_limit": "25000.00",
    "annual_revenue": RevenueBand.FROM_10M,
    "bank_name": "ING Belgie",
    "trade_references": "Northwind Traders, procurement@northwind.example\nFabrikam NV, boekhouding@fabrikam.example",
}


def _user(key: str) -> User:
    return ensure_user(*PERSONAS[key])


def _account(key: str, admin: User) -> tuple[BillingAccount, Subscription]:
    """A web-direct business account paying by card, its admin and one subscription
    with a card on it."""
    spec = ACCOUNTS[key]
    account = BillingAccount.objects.filter(name=spec["name"]).first()
    if account is None:
        account = account_services.billing_account_create(
            name=spec["name"],
            signed_up_by=admin,
            agreement_type="web_direct",
            kind="business",
            currency="EUR",
            payment_mode="card",
            **spec["fields"],
        )
    profile = account_services.default_profile(account)
    account_services.role_assign(user=admin, role=Role.ACCOUNT_ADMIN, account=account)
    subscription, _created = Subscription.objects.get_or_create(
        account=account, profile=profile, name=spec["subscription"], defaults={"status": "active"}
    )
    if not PaymentMethod.objects.filter(profile=profile).exists():
        payments_demo.add_card(
            actor=admin,
            profile=profile,
            subscription=subscription,
            number=spec["card"],
            holder=spec["fields"]["company_name"],
        )
    return account, subscription


def _file_request(key: str, admin: User, subscription: Subscription) -> PayByInvoiceRequest | None:
    """The request as the admin files it on the page: what the portal prefills, and the
    rest typed in. None if the scope already has one (whatever became of it)."""
    scope = scopes.resolve(admin, f"s{subscription.pk}")
    if PayByInvoiceRequest.objects.filter(profile=scope.profile).exists():
        return None
    spec = ACCOUNTS[key]
    data = {
        **scopes.prefill(scope, admin),
        "support_plan": SupportPlan.STANDARD,
        "website": spec["website"],
        "year_established": str(spec["year_established"]),
        "justification": JUSTIFICATION[key],
    }
    return support_services.pbi_request_create(
        profile=scope.profile, subscription=scope.subscription, actor=admin, data=data, confirmed=True
    )


def seed(demo) -> None:
    """Add this app's demo data for the personas in ``demo`` (accounts.demo.Demo); the
    new personas, accounts and subscriptions are added to ``demo`` by their key."""
    support = demo.users["support"]
    requests = {}
    for key in PERSONAS:
        admin = _user(key)
        account, subscription = _account(key, admin)
        demo.users[key], demo.accounts[key] = admin, account
        demo.profiles[key], demo.subscriptions[key] = subscription.profile, subscription
        requests[key] = _file_request(key, admin, subscription)

    # New: waits for support as filed (requests["wd_pbi_new"]).
    # Needs information: support asked a question, the customer has not answered yet.
    if requests["wd_pbi_question"] is not None:
        support_services.pbi_ask_information(request=requests["wd_pbi_question"], actor=support, message=QUESTION)
    # Credit application returned: the credit check is in progress, the decision expected.
    credit = requests["wd_pbi_credit"]
    if credit is not None:
        support_services.pbi_send_credit_application(request=credit, actor=support)
        support_services.credit_application_submit(
            request=credit, actor=demo.users["wd_pbi_credit"], data=CREDIT_APPLICATION
        )
