"""Expected outcomes of the access sweep (tests/test_access_sweep.py), GET only.

Each entry: the tenant whose objects the path arguments name (None: no object), the
path arguments from the demo data (``objects`` below), and the status per persona of
tests/access_sweep.PERSONAS, written as ``{status: "persona persona ..."}``. Pages
redirect anonymous users to sign-in (302); the API answers 401; an object of another
tenant is a 404. Public: sign-in, healthz, the API schema and docs, set-language, the
token endpoint (POST only), the password-reset pages (asking for a link, "check your
e-mail", and the link itself: here one that does not work), the sandbox gateway's
card-entry and authentication pages (the processor's stand-in, reached by its session
id or charge reference) and the Stripe webhook endpoint (POST only, signed by Stripe).
An API token belongs to one user (``token``: Woodgrove's owner's): every other user gets
a 404.
"""

from dataclasses import dataclass, field

from tests.access_sweep import PERSONAS

# The tenant of each demo object (None: it belongs to no tenant the sweep's personas know).
OBJECT_TENANT = {
    "woodgrove": "woodgrove",
    "woodgrove_nl": "woodgrove",
    "woodgrove_core": "woodgrove",
    "card": "woodgrove",
    "card_setup": "woodgrove",
    "invoice": "woodgrove",
    "revision": "woodgrove",
    "credit_note": "woodgrove",
    "receipt": "woodgrove",  # of a bank transfer on a due invoice of Woodgrove Nederland
    "amendment": "woodgrove",
    "contoso_prod": "contoso",
    "contoso_campaigns": "contoso",
    "marketplace_service": "contoso",
    "northwind": "northwind",
    "period": None,
    "pbi": "litware",  # a pay-by-invoice request of support.demo's Litware
    "sandbox_session": None,  # the sandbox gateway's own session
    "missing": None,  # no such object (the demo data has no card payment)
    "token": "woodgrove",  # an API token of ca_owner: no other user's, whatever their tenant
    "reset_uid": None,  # a password-reset link that does not work
    "reset_token": None,
    "member": "woodgrove",  # Woodgrove's billing account reader
    "profile_member": "woodgrove",  # the billing profile reader of Woodgrove Nederland
    "invitation": "woodgrove",  # accounts.demo's pending invitation to the billing account
    "profile_invitation": "woodgrove",  # an open invitation to Woodgrove Nederland
    "invitation_token": None,  # the link of that invitation: whoever holds it
}


@dataclass(frozen=True)
class Entry:
    args: dict  # path argument -> key of ``objects``
    expect_by_status: dict = field(default_factory=dict)  # status -> "persona persona ..."

    @property
    def tenant(self) -> str | None:
        tenants = {OBJECT_TENANT[key] for key in self.args.values()} - {None}
        assert len(tenants) <= 1, tenants
        return next(iter(tenants), None)

    @property
    def expect(self) -> dict:
        out = {}
        for status, personas in self.expect_by_status.items():
            for persona in personas.split():
                assert persona not in out, f"{persona} twice"
                out[persona] = status
        assert set(out) == set(PERSONAS), f"every persona needs a status: {set(PERSONAS) ^ set(out)}"
        return out

    def path_args(self, objs: dict) -> dict:
        return {name: objs[key] for name, key in self.args.items()}


def seed_demo():
    """The demo data of every app (as ``manage.py seed_demo`` makes it) and its objects."""
    from accounts import demo as accounts_demo
    from invoices import demo as invoices_demo
    from payments import demo as payments_demo
    from purchase_orders import demo as po_demo
    from support import demo as support_demo

    demo = accounts_demo.seed()
    payments_demo.seed(demo)
    invoices_demo.seed(demo)
    po_demo.seed(demo)
    support_demo.seed(demo)
    return demo, objects(demo)


def objects(demo) -> dict:
    """The demo objects whose ids fill the path arguments."""
    from accounts import api_tokens, invitations
    from accounts import demo as accounts_demo
    from accounts.models import Invitation
    from billing_portal import clock
    from invoices import services as invoice_services
    from invoices.models import CreditNote, Invoice
    from payments import services as payment_services
    from payments.models import CardSetup, PaymentMethod, Receipt, SandboxSession
    from purchase_orders.models import AmendmentRequest
    from support.models import PayByInvoiceRequest

    woodgrove = demo.accounts["woodgrove"]
    invoice = Invoice.objects.filter(account=woodgrove).exclude(current_revision=None).order_by("pk").first()
    credit_note = CreditNote.objects.filter(invoice=invoice).first() or invoice_services.credit_note_issue(
        invoice=invoice, actor=None, reason="Goodwill credit", amount="1.00"
    )
    receipt = Receipt.objects.filter(account=woodgrove).order_by("pk").first()
    if receipt is None:
        due = Invoice.objects.filter(profile=demo.profiles["woodgrove_nl"], status__in=["due", "past_due"]).first()
        receipt = payment_services.payment_record_bank_transfer(
            invoice=due, amount="1.00", received_on=clock.today(), reference="demo-wire", actor=demo.users["support"]
        ).receipt
    nl = demo.profiles["woodgrove_nl"]
    invitation = accounts_demo.seed_invitation(demo)
    profile_invitation = Invitation.objects.filter(profile=nl, status="pending").first()
    if profile_invitation is None:
        profile_invitation = invitations.member_invite(
            scope=nl, email="profile.invitee@woodgrove.example", roles=["bp_reader"], actor=demo.users["ca_owner"]
        )
    return {
        "member": demo.users["ca_ba_reader"].pk,
        "profile_member": demo.users["ca_bp_reader"].pk,
        "invitation": invitation.pk,
        "profile_invitation": profile_invitation.pk,
        "invitation_token": invitations.invitation_token(invitation),
        "woodgrove": woodgrove.pk,
        "woodgrove_nl": demo.profiles["woodgrove_nl"].pk,
        "woodgrove_core": demo.subscriptions["woodgrove_core"].subscription_id,
        "card": PaymentMethod.objects.filter(profile=demo.profiles["woodgrove_nl"]).order_by("pk").first().pk,
        "card_setup": CardSetup.objects.filter(account=woodgrove).order_by("created_at").first().pk,
        "invoice": invoice.pk,
        "revision": invoice.current_revision.number,
        "credit_note": credit_note.pk,
        "receipt": receipt.pk,
        "amendment": AmendmentRequest.objects.filter(account=woodgrove).order_by("pk").first().pk,
        "contoso_prod": demo.subscriptions["contoso_prod"].subscription_id,
        "contoso_campaigns": demo.subscriptions["contoso_campaigns"].subscription_id,
        "marketplace_service": demo.subscriptions["contoso_campaigns"].marketplace_services.get().pk,
        "northwind": demo.accounts["northwind"].pk,
        "period": f"{clock.now():%Y-%m}",
        "pbi": PayByInvoiceRequest.objects.get(account__name="Litware").pk,
        "sandbox_session": SandboxSession.objects.order_by("created_at").first().pk,
        "missing": 999999,
        "token": api_tokens.api_token_create(user=demo.users["ca_owner"], name="Sweep", days=30, session_verified=True)[
            0
        ].pk,
        "reset_uid": "MQ",
        "reset_token": "not-a-token",
    }


# Every page of the portal (URL name -> entry).
PAGES = {
    "healthz": Entry(
        {},
        {
            200: "anonymous wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual"
        },
    ),
    # Off without METRICS_TOKEN (the tests set none): the same 404 for everyone; with it,
    # only its bearer (tests/billing_portal/test_observability.py).
    "metrics": Entry(
        {},
        {
            404: "anonymous wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual"
        },
    ),
    "favicon": Entry(
        {},
        {
            301: "anonymous wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual"
        },
    ),
    "set_language": Entry(
        {},
        {
            405: "anonymous wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual"
        },
    ),
    "api-schema": Entry(
        {},
        {
            200: "anonymous wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual"
        },
    ),
    "api-docs": Entry(
        {},
        {
            200: "anonymous wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual"
        },
    ),
    "payments:index": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            302: "anonymous",
        },
    ),
    "payments:method_edit": Entry(
        {"pk": "card"},
        {
            200: "ca_owner",
            302: "anonymous",
            403: "ca_ba_reader ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "payments:method_delete": Entry(
        {"pk": "card"},
        {
            200: "ca_owner",
            302: "anonymous",
            403: "ca_ba_reader ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "payments:card_setup_return": Entry(
        {"setup_id": "card_setup"},
        {
            302: "anonymous ca_owner",
            404: "wd_admin ea_admin ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    "payments:subscription_methods": Entry(
        {"subscription_id": "woodgrove_core"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            302: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "payments:subscription_add_card": Entry(
        {"subscription_id": "woodgrove_core"},
        {
            200: "ca_owner",
            302: "anonymous",
            403: "ca_ba_reader ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "payments:profile_methods": Entry(
        {"pk": "woodgrove_nl"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            302: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "payments:profile_add_card": Entry(
        {"pk": "woodgrove_nl"},
        {
            200: "ca_owner",
            302: "anonymous",
            403: "ca_ba_reader ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "payments:pay": Entry(
        {"pk": "invoice"},
        {
            200: "ca_owner ca_invoice_manager",
            302: "anonymous",
            403: "ca_ba_reader ca_bp_reader",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "payments:pay_add_card": Entry(
        {"pk": "invoice"},
        {
            200: "ca_owner",
            302: "anonymous",
            403: "ca_ba_reader ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "payments:pay_return": Entry(
        {"pk": "invoice", "payment_id": "missing"},
        {
            302: "anonymous",
            403: "ca_ba_reader ca_bp_reader",
            404: "wd_admin ea_admin ca_owner ca_invoice_manager support wd_individual",
        },
    ),
    "payments:sandbox_card_entry": Entry(
        {"session_id": "sandbox_session"},
        {
            302: "anonymous wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual"
        },
    ),
    "payments:sandbox_authenticate": Entry(
        {"reference": "missing"},
        {
            404: "anonymous wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual"
        },
    ),
    "payments:stripe_card_entry": Entry(
        {"intent_id": "missing"},
        {
            302: "anonymous",
            404: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    "payments:stripe_authenticate": Entry(
        {"intent_id": "missing"},
        {
            302: "anonymous",
            404: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    # POST only (Stripe's signed events): every GET is refused.
    "payments:stripe_webhook": Entry(
        {},
        {
            405: "anonymous wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual"
        },
    ),
    "payments:history": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            302: "anonymous",
        },
    ),
    "payments:receipt_pdf": Entry(
        {"pk": "receipt"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            302: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "invoices:list": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            302: "anonymous",
        },
    ),
    "invoices:detail": Entry(
        {"pk": "invoice"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            302: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    # The exports of the list follow the list (the invoices the user sees): support staff
    # and anyone seeing no invoice are sent back to the list with "nothing to download";
    # the CSV of an empty list is its header row.
    "invoices:download": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager wd_individual",
            302: "anonymous support",
        },
    ),
    "invoices:export": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            302: "anonymous",
        },
    ),
    "invoices:lines_export": Entry(
        {"pk": "invoice"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            302: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "invoices:pdf": Entry(
        {"pk": "invoice", "revision": "revision"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            302: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    # Support staff read the PDF of any issued invoice (a request about it); nobody else.
    "invoices:support_pdf": Entry(
        {"pk": "invoice", "revision": "revision"},
        {
            200: "support",
            302: "anonymous",
            404: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager wd_individual",
        },
    ),
    "invoices:credit_note_pdf": Entry(
        {"pk": "credit_note"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            302: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "purchase_orders:web_direct_po": Entry(
        {"subscription_id": "contoso_prod"},
        {
            200: "wd_admin",
            302: "anonymous",
            404: "ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    "purchase_orders:usage_summary": Entry(
        {},
        {
            200: "ea_admin",
            302: "anonymous",
            403: "wd_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    "purchase_orders:period_po": Entry(
        {"account_id": "northwind", "period": "period"},
        {
            200: "ea_admin",
            302: "anonymous",
            404: "wd_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    "purchase_orders:profile_po": Entry(
        {"pk": "woodgrove_nl"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            302: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "purchase_orders:numbers": Entry(
        {"pk": "woodgrove"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            302: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "purchase_orders:vat_number": Entry(
        {"pk": "woodgrove"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            302: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "purchase_orders:history": Entry(
        {"pk": "woodgrove"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            302: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "purchase_orders:history_csv": Entry(
        {"pk": "woodgrove"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            302: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "purchase_orders:amendment_list": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            302: "anonymous",
        },
    ),
    "purchase_orders:amendment_new": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            302: "anonymous",
        },
    ),
    "purchase_orders:amendment_detail": Entry(
        {"pk": "amendment"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            302: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "purchase_orders:support_request": Entry(
        {"pk": "amendment"},
        {
            200: "support",
            302: "anonymous",
            403: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager wd_individual",
        },
    ),
    "support:help": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            302: "anonymous",
        },
    ),
    "support:my_requests": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            302: "anonymous",
        },
    ),
    "support:request_new": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            302: "anonymous",
        },
    ),
    "support:pbi_new": Entry(
        {},
        {
            302: "anonymous",
            404: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    "support:request": Entry(
        {"pk": "pbi"},
        {
            302: "anonymous",
            404: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    "support:queue": Entry(
        {},
        {
            200: "support",
            302: "anonymous",
            403: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager wd_individual",
        },
    ),
    "support:staff_request": Entry(
        {"pk": "pbi"},
        {
            200: "support",
            302: "anonymous",
            403: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager wd_individual",
        },
    ),
    "accounts:overview": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            302: "anonymous",
        },
    ),
    "accounts:login": Entry(
        {},
        {
            200: "anonymous",
            302: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    # Two-factor sign-in: the code step is for a session that has one pending (none of
    # the sweep's sessions has: each goes on to where it was going); the set-up page is
    # for whoever has no authenticator app yet (support's is set up and verified).
    "accounts:two_factor_verify": Entry(
        {},
        {
            302: "anonymous wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual"
        },
    ),
    "accounts:security": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            302: "anonymous",
        },
    ),
    "accounts:two_factor_setup": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager wd_individual",
            302: "anonymous support",
        },
    ),
    "accounts:logout": Entry(
        {},
        {
            405: "anonymous wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual"
        },
    ),
    "accounts:subscriptions": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            302: "anonymous",
        },
    ),
    "accounts:subscription": Entry(
        {"subscription_id": "woodgrove_core"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            302: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "accounts:marketplace_remove": Entry(
        {"subscription_id": "contoso_campaigns", "service_id": "marketplace_service"},
        {
            200: "wd_admin",
            302: "anonymous",
            404: "ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    "accounts:profile": Entry(
        {"pk": "woodgrove"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            302: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    # Self-service access: every signed-in user has their own profile, password and
    # tokens; a token of another user is a 404.
    "accounts:user_profile": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            302: "anonymous",
        },
    ),
    "accounts:password_change": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            302: "anonymous",
        },
    ),
    "accounts:api_tokens": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            302: "anonymous",
        },
    ),
    "accounts:api_token_revoke": Entry(
        {"pk": "token"},
        {
            200: "ca_owner",
            302: "anonymous",
            404: "wd_admin ea_admin ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    # A forgotten password: public (signed in or not), the link page answers whatever link.
    "accounts:password_reset": Entry(
        {},
        {
            200: "anonymous wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual"
        },
    ),
    "accounts:password_reset_sent": Entry(
        {},
        {
            200: "anonymous wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual"
        },
    ),
    "accounts:password_reset_confirm": Entry(
        {"uidb64": "reset_uid", "token": "reset_token"},
        {
            200: "anonymous wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual"
        },
    ),
    # Members (accounts.member_views): everyone with a role on the scope itself sees its
    # members; only its owners reach the forms. The invitation link's page is public: the
    # sweep's signed-in personas are not the invitee (403, "signed in as someone else").
    "accounts:invitation": Entry(
        {"token": "invitation_token"},
        {
            200: "anonymous",
            403: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    "accounts:account_members": Entry(
        {"pk": "woodgrove"},
        {
            200: "ca_owner ca_ba_reader",
            302: "anonymous",
            403: "ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "accounts:account_member": Entry(
        {"pk": "woodgrove", "user_id": "member"},
        {
            200: "ca_owner",
            302: "anonymous",
            403: "ca_ba_reader ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "accounts:account_member_remove": Entry(
        {"pk": "woodgrove", "user_id": "member"},
        {
            200: "ca_owner",
            302: "anonymous",
            403: "ca_ba_reader ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "accounts:account_invitation_revoke": Entry(
        {"pk": "woodgrove", "invitation_id": "invitation"},
        {
            200: "ca_owner",
            302: "anonymous",
            403: "ca_ba_reader ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "accounts:profile_members": Entry(
        {"pk": "woodgrove_nl"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            302: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "accounts:profile_member": Entry(
        {"pk": "woodgrove_nl", "user_id": "profile_member"},
        {
            200: "ca_owner",
            302: "anonymous",
            403: "ca_ba_reader ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "accounts:profile_member_remove": Entry(
        {"pk": "woodgrove_nl", "user_id": "profile_member"},
        {
            200: "ca_owner",
            302: "anonymous",
            403: "ca_ba_reader ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "accounts:profile_invitation_revoke": Entry(
        {"pk": "woodgrove_nl", "invitation_id": "profile_invitation"},
        {
            200: "ca_owner",
            302: "anonymous",
            403: "ca_ba_reader ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
}
# Every GET of the API schema (path -> entry); an operation without GET (a POST-only
# action) is not visited.
API = {
    "/api/v1/amendment-requests/": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            401: "anonymous",
        },
    ),
    "/api/v1/amendment-requests/{id}/": Entry(
        {"id": "amendment"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/billing-accounts/": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            401: "anonymous",
        },
    ),
    "/api/v1/billing-accounts/{id}/": Entry(
        {"id": "woodgrove"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/billing-accounts/{id}/number-changes/": Entry(
        {"id": "woodgrove"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/billing-accounts/{id}/po-periods/": Entry(
        {"id": "northwind"},
        {
            200: "ea_admin",
            401: "anonymous",
            404: "wd_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    "/api/v1/billing-accounts/{id}/po-periods/{period}/": Entry(
        {"id": "northwind", "period": "period"},
        {
            200: "ea_admin",
            401: "anonymous",
            404: "wd_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    "/api/v1/billing-accounts/{id}/vat-number/": Entry(
        {"id": "woodgrove"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/billing-profiles/": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            401: "anonymous",
        },
    ),
    "/api/v1/billing-profiles/{id}/": Entry(
        {"id": "woodgrove_nl"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/billing-profiles/{id}/po-number/": Entry(
        {"id": "woodgrove_nl"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/card-setups/{id}/": Entry(
        {"id": "card_setup"},
        {
            200: "ca_owner",
            401: "anonymous",
            404: "wd_admin ea_admin ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    "/api/v1/credit-notes/{id}/": Entry(
        {"id": "credit_note"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/credit-notes/{id}/pdf/": Entry(
        {"id": "credit_note"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/invoices/{id}/credit-notes/": Entry(
        {"id": "invoice"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/invoices/{id}/receipts/": Entry(
        {"id": "invoice"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/receipts/": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            401: "anonymous",
        },
    ),
    "/api/v1/receipts/{id}/": Entry(
        {"id": "receipt"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/receipts/{id}/pdf/": Entry(
        {"id": "receipt"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/payment-history/": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            401: "anonymous",
        },
    ),
    "/api/v1/invoices/": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            401: "anonymous",
        },
    ),
    # Support staff see no invoice: nothing to download (400), an empty CSV.
    "/api/v1/invoices/download/": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager wd_individual",
            400: "support",
            401: "anonymous",
        },
    ),
    "/api/v1/invoices/export/": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            401: "anonymous",
        },
    ),
    "/api/v1/invoices/{id}/lines/export/": Entry(
        {"id": "invoice"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/invoices/{id}/": Entry(
        {"id": "invoice"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/invoices/{id}/payments/": Entry(
        {"id": "invoice"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/invoices/{id}/pdf/": Entry(
        {"id": "invoice"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/invoices/{id}/pdf/{revision}/": Entry(
        {"id": "invoice", "revision": "revision"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/overview/": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            401: "anonymous",
        },
    ),
    "/api/v1/me/": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            401: "anonymous",
        },
    ),
    "/api/v1/tokens/": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            401: "anonymous",
        },
    ),
    "/api/v1/tokens/{id}/": Entry(
        {"id": "token"},
        {
            200: "ca_owner",
            401: "anonymous",
            404: "wd_admin ea_admin ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    "/api/v1/payment-methods/": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            401: "anonymous",
        },
    ),
    "/api/v1/payment-methods/history/": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            401: "anonymous",
        },
    ),
    "/api/v1/payment-methods/{id}/": Entry(
        {"id": "card"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/payments/{id}/": Entry(
        {"id": "missing"},
        {
            401: "anonymous",
            404: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    "/api/v1/payments/{id}/refunds/": Entry(
        {"id": "missing"},
        {
            401: "anonymous",
            404: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    "/api/v1/refunds/{id}/": Entry(
        {"id": "missing"},
        {
            401: "anonymous",
            404: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    "/api/v1/subscriptions/": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            401: "anonymous",
        },
    ),
    "/api/v1/subscriptions/{subscription_id}/": Entry(
        {"subscription_id": "woodgrove_core"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/support/amendment-requests/": Entry(
        {},
        {
            200: "support",
            401: "anonymous",
            403: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager wd_individual",
        },
    ),
    "/api/v1/support/amendment-requests/{id}/": Entry(
        {"id": "amendment"},
        {
            200: "support",
            401: "anonymous",
            403: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager wd_individual",
        },
    ),
    "/api/v1/support/pay-by-invoice-requests/": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            401: "anonymous",
        },
    ),
    "/api/v1/support/pay-by-invoice-requests/{id}/": Entry(
        {"id": "pbi"},
        {
            401: "anonymous",
            404: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
        },
    ),
    "/api/v1/support/prechecks/": Entry(
        {},
        {
            400: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            401: "anonymous",
        },
    ),
    "/api/v1/support/queue/": Entry(
        {},
        {
            200: "support",
            401: "anonymous",
            403: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager wd_individual",
        },
    ),
    "/api/v1/support/queue/pay-by-invoice/{id}/": Entry(
        {"id": "pbi"},
        {
            200: "support",
            401: "anonymous",
            403: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager wd_individual",
        },
    ),
    "/api/v1/support/request-types/": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            401: "anonymous",
        },
    ),
    "/api/v1/support/scopes/": Entry(
        {},
        {
            200: "wd_admin ea_admin ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager support wd_individual",
            401: "anonymous",
        },
    ),
    # Members of a billing account / profile (accounts.api.members).
    "/api/v1/billing-accounts/{id}/members/": Entry(
        {"id": "woodgrove"},
        {
            200: "ca_owner ca_ba_reader",
            401: "anonymous",
            403: "ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/billing-accounts/{id}/members/{user_id}/": Entry(
        {"id": "woodgrove", "user_id": "member"},
        {
            200: "ca_owner ca_ba_reader",
            401: "anonymous",
            403: "ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/billing-accounts/{id}/member-changes/": Entry(
        {"id": "woodgrove"},
        {
            200: "ca_owner ca_ba_reader",
            401: "anonymous",
            403: "ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/billing-accounts/{id}/invitations/": Entry(
        {"id": "woodgrove"},
        {
            200: "ca_owner",
            401: "anonymous",
            403: "ca_ba_reader ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/billing-accounts/{id}/invitations/{invitation_id}/": Entry(
        {"id": "woodgrove", "invitation_id": "invitation"},
        {
            200: "ca_owner",
            401: "anonymous",
            403: "ca_ba_reader ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/billing-profiles/{id}/members/": Entry(
        {"id": "woodgrove_nl"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/billing-profiles/{id}/members/{user_id}/": Entry(
        {"id": "woodgrove_nl", "user_id": "profile_member"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/billing-profiles/{id}/member-changes/": Entry(
        {"id": "woodgrove_nl"},
        {
            200: "ca_owner ca_ba_reader ca_bp_reader ca_invoice_manager",
            401: "anonymous",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/billing-profiles/{id}/invitations/": Entry(
        {"id": "woodgrove_nl"},
        {
            200: "ca_owner",
            401: "anonymous",
            403: "ca_ba_reader ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
    "/api/v1/billing-profiles/{id}/invitations/{invitation_id}/": Entry(
        {"id": "woodgrove_nl", "invitation_id": "profile_invitation"},
        {
            200: "ca_owner",
            401: "anonymous",
            403: "ca_ba_reader ca_bp_reader ca_invoice_manager",
            404: "wd_admin ea_admin support wd_individual",
        },
    ),
}

# The admin site: every pattern (path arguments filled with 1) redirects anonymous users
# and customers (not staff) to the admin sign-in; what support staff may see there is
# each ModelAdmin's permission, covered by the admin tests.
ADMIN_PERSONAS = ("anonymous", "ca_owner", "wd_individual")
ADMIN = {"admin:login": 200, "*": 302}
