"""Demo personas for every role across the three agreement types.

``seed`` is idempotent: it finds what exists (by e-mail, account name, subscription
name) and creates only what is missing. The other apps add their demo data (cards,
charges, invoices, PO numbers) in their own ``demo.seed(demo)``, called afterwards by
the ``seed_demo`` command with the ``Demo`` returned here.
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from . import invitations, services
from .models import BillingAccount, BillingProfile, Invitation, MarketplaceService, Subscription, User
from .roles import Role

DEMO_PASSWORD = "demo-portal-2026"
# Invited by Woodgrove's owner as a billing account reader; the invitation stays pending.
DEMO_INVITEE = "new.colleague@woodgrove.example"


@dataclass
class Demo:
    users: dict[str, User] = field(default_factory=dict)
    accounts: dict[str, BillingAccount] = field(default_factory=dict)
    profiles: dict[str, BillingProfile] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)


# key: (e-mail, full name, language)
PERSONAS = {
    "wd_admin": ("wd.admin@contoso.example", "Ava de Vries", "en"),
    "wd_invoice_admin": ("wd.admin@fabrikam.example", "Bram Jansen", "nl"),
    "wd_individual": ("jan@individual.example", "Jan Smit", "nl"),
    "ea_admin": ("ea.admin@northwind.example", "Chris Evans", "en"),
    "ea_readonly": ("ea.reader@northwind.example", "Dana Reyes", "en"),
    "partner_admin": ("partner.admin@adatum.example", "Eva Bakker", "nl"),
    "ca_owner": ("ca.owner@woodgrove.example", "Femke Visser", "nl"),
    "ca_ba_contributor": ("ca.contributor@woodgrove.example", "Gijs Mulder", "en"),
    "ca_ba_reader": ("ca.reader@woodgrove.example", "Hana Kim", "en"),
    "ca_bp_owner": ("ca.profile.owner@woodgrove.example", "Ines Peeters", "nl"),
    "ca_bp_contributor": ("ca.profile.contributor@woodgrove.example", "Joost de Boer", "en"),
    "ca_bp_reader": ("ca.profile.reader@woodgrove.example", "Karin Dijkstra", "nl"),
    "ca_invoice_manager": ("ca.invoices@woodgrove.example", "Lars Meijer", "en"),
    "support": ("support@portal.example", "Sam Support", "en"),
}

ADDRESSES = {
    "NL": {"address_line1": "Herengracht 182", "postal_code": "1016 BR", "city": "Amsterdam", "country": "NL"},
    "BE": {"address_line1": "Rue de la Loi 16", "postal_code": "1000", "city": "Brussel", "country": "BE"},
    "DE": {"address_line1": "Unter den Linden 10", "postal_code": "10117", "city": "Berlin", "country": "DE"},
    "US": {
        "address_line1": "1 Microsoft Way",
        "postal_code": "98052",
        "city": "Redmond",
        "region": "WA",
        "country": "US",
    },
}


def ensure_user(email: str, name: str, language: str) -> User:
    """The demo user with this e-mail, created with the demo password if missing (other
    apps' demos use it for their own personas)."""
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=name, language=language)
    return user


def _user(key: str) -> User:
    return ensure_user(*PERSONAS[key])


def _account(name: str, signed_up_by: User | None, profile_name: str | None = None, **fields) -> BillingAccount:
    account = BillingAccount.objects.filter(name=name).first()
    if account is None:
        account = services.billing_account_create(
            name=name, signed_up_by=signed_up_by, profile_name=profile_name, **fields
        )
    return account


def _subscription(account, profile, name, status="active") -> Subscription:
    subscription, _created = Subscription.objects.get_or_create(
        account=account, profile=profile, name=name, defaults={"status": status}
    )
    return subscription


@transaction.atomic
def seed() -> Demo:
    demo = Demo()
    for key in PERSONAS:
        demo.users[key] = _user(key)

    # Support staff must sign in with two factors; no authenticator app is seeded (its
    # secret would be public): the first sign-in sets one up (docs/operations.md).
    support = demo.users["support"]
    if not support.is_support_staff or not support.is_staff:
        support.is_support_staff = True
        support.is_staff = True
        support.save(update_fields=["is_support_staff", "is_staff"])
    group, _created = Group.objects.get_or_create(name="Support staff")
    portal_apps = ["accounts", "payments", "invoices", "purchase_orders"]
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label__in=portal_apps, codename__startswith="view_")
    )
    support.groups.add(group)

    # Web direct, business, pays by card: two subscriptions share one card, a third
    # holds a marketplace service.
    contoso = _account(
        "Contoso Web Shop",
        demo.users["wd_admin"],
        agreement_type="web_direct",
        kind="business",
        company_name="Contoso B.V.",
        vat_id="NL853746333B01",
        currency="EUR",
        payment_mode="card",
        billing_contact_name="Contoso Finance",
        billing_contact_email="finance@contoso.example",
        language="en",
        **ADDRESSES["NL"],
    )
    demo.accounts["contoso"] = contoso
    demo.profiles["contoso"] = services.default_profile(contoso)
    services.role_assign(user=demo.users["wd_admin"], role=Role.ACCOUNT_ADMIN, account=contoso)
    demo.subscriptions["contoso_prod"] = _subscription(contoso, demo.profiles["contoso"], "Contoso Production")
    demo.subscriptions["contoso_staging"] = _subscription(contoso, demo.profiles["contoso"], "Contoso Staging")
    mail = _subscription(contoso, demo.profiles["contoso"], "Contoso Campaigns")
    demo.subscriptions["contoso_campaigns"] = mail
    MarketplaceService.objects.get_or_create(
        subscription=mail, name="Bulk Mail Relay", defaults={"publisher": "MailRelay Inc."}
    )

    # Web direct, business, pays by invoice (Belgian: reverse charge).
    fabrikam = _account(
        "Fabrikam",
        demo.users["wd_invoice_admin"],
        agreement_type="web_direct",
        kind="business",
        company_name="Fabrikam NV",
        vat_id="BE0403019261",
        currency="EUR",
        payment_mode="invoice",
        billing_contact_name="Fabrikam Boekhouding",
        billing_contact_email="boekhouding@fabrikam.example",
        language="nl",
        **ADDRESSES["BE"],
    )
    demo.accounts["fabrikam"] = fabrikam
    demo.profiles["fabrikam"] = services.default_profile(fabrikam)
    if not demo.profiles["fabrikam"].po_number:
        BillingProfile.objects.filter(pk=demo.profiles["fabrikam"].pk).update(po_number="PO-FAB-2026-001")
    services.role_assign(user=demo.users["wd_invoice_admin"], role=Role.ACCOUNT_ADMIN, account=fabrikam)
    demo.subscriptions["fabrikam_main"] = _subscription(fabrikam, demo.profiles["fabrikam"], "Fabrikam Hoofdabonnement")

    # Web direct, individual (non-business), pays by card.
    individual = _account(
        "Jan Smit",
        demo.users["wd_individual"],
        agreement_type="web_direct",
        kind="individual",
        currency="EUR",
        payment_mode="card",
        language="nl",
        **ADDRESSES["NL"],
    )
    demo.accounts["individual"] = individual
    demo.profiles["individual"] = services.default_profile(individual)
    services.role_assign(user=demo.users["wd_individual"], role=Role.ACCOUNT_ADMIN, account=individual)
    demo.subscriptions["individual"] = _subscription(individual, demo.profiles["individual"], "Persoonlijk")

    # Enterprise, direct enrollment.
    northwind = _account(
        "Northwind Traders",
        demo.users["ea_admin"],
        agreement_type="enterprise",
        kind="business",
        enrollment_number="87654321",
        channel="direct",
        company_name="Northwind Traders B.V.",
        vat_id="NL004495445B01",
        currency="EUR",
        payment_mode="invoice",
        billing_contact_name="Northwind Procurement",
        billing_contact_email="procurement@northwind.example",
        language="en",
        **ADDRESSES["NL"],
    )
    demo.accounts["northwind"] = northwind
    demo.profiles["northwind"] = services.default_profile(northwind)
    services.role_assign(user=demo.users["ea_admin"], role=Role.EA_ADMIN, account=northwind)
    services.role_assign(user=demo.users["ea_readonly"], role=Role.EA_READONLY, account=northwind)
    demo.subscriptions["northwind_erp"] = _subscription(northwind, demo.profiles["northwind"], "Northwind ERP")
    demo.subscriptions["northwind_web"] = _subscription(northwind, demo.profiles["northwind"], "Northwind Web")

    # Enterprise, indirect enrollment through a partner (US, USD).
    tailspin = _account(
        "Tailspin Toys",
        None,
        agreement_type="enterprise",
        kind="business",
        enrollment_number="12345678",
        channel="indirect",
        partner_name="Adatum Partners",
        company_name="Tailspin Toys Inc.",
        currency="USD",
        payment_mode="invoice",
        billing_contact_name="Tailspin AP",
        billing_contact_email="ap@tailspin.example",
        language="en",
        **ADDRESSES["US"],
    )
    demo.accounts["tailspin"] = tailspin
    demo.profiles["tailspin"] = services.default_profile(tailspin)
    services.role_assign(user=demo.users["partner_admin"], role=Role.PARTNER_ADMIN, account=tailspin)
    services.role_assign(user=demo.users["ea_readonly"], role=Role.EA_READONLY, account=tailspin)
    demo.subscriptions["tailspin_games"] = _subscription(tailspin, demo.profiles["tailspin"], "Tailspin Games")

    # Customer agreement with two billing profiles.
    woodgrove = _account(
        "Woodgrove Bank",
        demo.users["ca_owner"],
        profile_name="Woodgrove Nederland",
        agreement_type="customer_agreement",
        kind="business",
        company_name="Woodgrove Bank N.V.",
        vat_id="NL820646660B01",
        currency="EUR",
        payment_mode="card",
        billing_contact_name="Woodgrove Finance",
        billing_contact_email="finance@woodgrove.example",
        language="nl",
        **ADDRESSES["NL"],
    )
    demo.accounts["woodgrove"] = woodgrove
    nl_profile = woodgrove.profiles.get(name="Woodgrove Nederland")
    de_profile, _created = BillingProfile.objects.get_or_create(
        account=woodgrove,
        name="Woodgrove Deutschland",
        defaults={
            "bill_to_name": "Woodgrove Bank Niederlassung Berlin",
            "bill_to_address_line1": "Unter den Linden 10",
            "bill_to_postal_code": "10117",
            "bill_to_city": "Berlin",
            "bill_to_country": "DE",
        },
    )
    demo.profiles["woodgrove_nl"], demo.profiles["woodgrove_de"] = nl_profile, de_profile
    services.role_assign(user=demo.users["ca_owner"], role=Role.BA_OWNER, account=woodgrove)
    services.role_assign(user=demo.users["ca_ba_contributor"], role=Role.BA_CONTRIBUTOR, account=woodgrove)
    services.role_assign(user=demo.users["ca_ba_reader"], role=Role.BA_READER, account=woodgrove)
    services.role_assign(user=demo.users["ca_bp_owner"], role=Role.BP_OWNER, account=woodgrove, profile=de_profile)
    services.role_assign(
        user=demo.users["ca_bp_contributor"], role=Role.BP_CONTRIBUTOR, account=woodgrove, profile=nl_profile
    )
    services.role_assign(user=demo.users["ca_bp_reader"], role=Role.BP_READER, account=woodgrove, profile=nl_profile)
    services.role_assign(
        user=demo.users["ca_invoice_manager"], role=Role.INVOICE_MANAGER, account=woodgrove, profile=nl_profile
    )
    demo.subscriptions["woodgrove_core"] = _subscription(woodgrove, nl_profile, "Woodgrove Core Banking")
    demo.subscriptions["woodgrove_analytics"] = _subscription(woodgrove, nl_profile, "Woodgrove Analytics")
    demo.subscriptions["woodgrove_berlin"] = _subscription(woodgrove, de_profile, "Woodgrove Berlin")
    return demo


def seed_invitation(demo: Demo) -> Invitation:
    """MEM-3: Woodgrove's owner has invited a colleague, who has not answered yet (its
    e-mail, with the link, is sent like any other). Called by ``seed_demo`` last."""
    woodgrove = demo.accounts["woodgrove"]
    invitation = Invitation.objects.filter(account=woodgrove, profile=None, email=DEMO_INVITEE).first()
    if invitation is None:
        invitation = invitations.member_invite(
            scope=woodgrove, email=DEMO_INVITEE, roles=[Role.BA_READER], actor=demo.users["ca_owner"]
        )
    return invitation
