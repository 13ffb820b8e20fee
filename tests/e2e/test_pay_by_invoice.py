"""Browser journey of a pay-by-invoice request (PBI-1..PBI-9, PO-1) across both sides,
at desktop and phone sizes: the card-paying business admin of Contoso files the request
(the marketplace blocker is removed on the way), support asks for information, sends
the credit application, records the credit decision and approves; the admin then edits
the PO number on the Invoice row of Payment methods."""

import pytest
from django.utils import formats, translation

from billing_portal import clock
from support import details
from tests.e2e.browsing import follow_nav, open_menu
from tests.e2e.layout import nothing_overflows

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def open_page(new_page, size):
    """A signed-in page per user, each in its own browser context at the chosen size."""
    from tests.e2e.signing_in import sign_in_through_form

    def do(email):
        return sign_in_through_form(new_page(size), email)

    return do


def _main(page):
    return page.locator("main").inner_text()


def _status(page):
    return page.locator("#request-status").inner_text()


def _message(page):
    return page.locator(".messages").inner_text()


def _staff_form(page, action):
    return page.locator(f"form:has(input[name=action][value={action}])")


def test_pbi_journey_request_questions_credit_check_approval_and_po_number(open_page):
    from accounts import demo as accounts_demo
    from payments import demo as payments_demo
    from support import demo as support_demo

    demo = accounts_demo.seed()
    payments_demo.seed(demo)
    support_demo.seed(demo)  # two requests of other accounts already wait for support
    campaigns = demo.subscriptions["contoso_campaigns"]

    # The admin of Contoso: Help + support › New support request.
    customer = open_page("wd.admin@contoso.example")
    follow_nav(customer, "Help + support")
    customer.click("main >> text=New support request")
    assert customer.locator("h1").inner_text() == "New support request"
    customer.select_option("#id_issue_type", label="Billing")
    customer.select_option("#id_scope", label="Contoso Web Shop / Contoso Campaigns")
    customer.select_option("#id_support_plan", label="Standard")
    customer.select_option("#id_problem_type", label="Pay by invoice")
    customer.click("main button[type=submit]")
    customer.wait_for_url("**/help/requests/new/pay-by-invoice/?scope=*")
    assert customer.locator("h1").inner_text() == "New support request: pay by invoice"
    form_url = customer.url

    # PBI-2: what the portal knows is filled in; the rest is typed.
    assert customer.input_value("#id_admin_sign_in") == "wd.admin@contoso.example"
    assert customer.input_value("#id_company_name") == "Contoso B.V."
    assert customer.input_value("#id_company_address").startswith("Herengracht 182")
    assert customer.input_value("#id_vat_id") == "NL853746333B01"
    assert customer.input_value("#id_country") == "NL"
    assert customer.input_value("#id_contact_email") == "finance@contoso.example"
    assert "4444" in customer.input_value("#id_current_payment_method")
    assert customer.input_value("#id_website") == ""
    customer.fill("#id_website", "https://contoso.example")
    customer.fill("#id_year_established", "2009")
    customer.fill("#id_justification", "Our finance department pays suppliers by bank transfer only.")
    customer.fill("#id_contact_phone", "+31 20 555 0100")
    blocker = customer.locator("li.check[data-code=marketplace_services]")
    assert "check-blocking" in blocker.get_attribute("class")
    assert "Bulk Mail Relay" in blocker.inner_text()
    nothing_overflows(customer, "the request form")

    # Create: refused by the PBI-4 blocker, what was typed kept.
    customer.click("main form.card button[type=submit]")
    assert "This request cannot be created yet" in _main(customer)
    assert "Third-party marketplace services cannot be paid by invoice" in _main(customer)
    assert customer.input_value("#id_year_established") == "2009"
    nothing_overflows(customer, "the request form with the blocker")

    # Remove the marketplace service through its link (confirmation page), and back.
    customer.locator("li.check[data-code=marketplace_services] a", has_text="Remove").click()
    assert customer.locator("h1").inner_text() == "Remove Bulk Mail Relay?"
    assert "Contoso Campaigns" in _main(customer)
    customer.click("text=Yes, remove it")
    customer.wait_for_url(form_url)
    assert "Bulk Mail Relay was removed from the subscription" in _message(customer)
    assert "check-ok" in customer.locator("li.check[data-code=marketplace_services]").get_attribute("class")
    assert customer.input_value("#id_website") == "https://contoso.example"
    assert customer.input_value("#id_year_established") == "2009"
    assert customer.input_value("#id_justification") == "Our finance department pays suppliers by bank transfer only."
    assert customer.input_value("#id_contact_phone") == "+31 20 555 0100"
    assert customer.input_value("#id_company_name") == "Contoso B.V."
    assert not campaigns.marketplace_services.exists()

    # PBI-5: the confirmation, then Create.
    customer.check("#id_confirm")
    customer.click("main form.card button[type=submit]")
    customer.wait_for_url("**/help/requests/*/")
    assert "Your request was sent to support" in _message(customer)
    assert customer.locator("h1").inner_text().startswith("Pay by invoice: request PBI-")
    assert _status(customer) == "Waiting for support"
    request_url = customer.url
    reference = customer.locator("h1").inner_text().rpartition(" ")[2]

    # Support: the queue in the navigation shows what waits (the two demo requests and this one).
    staff = open_page("support@portal.example")
    open_menu(staff)
    queue_link = staff.locator("nav.mainnav a[href='/support-queue/']")
    assert queue_link.locator(".badge").inner_text() == "3"
    queue_link.click()
    assert staff.locator("h1").inner_text() == "Support queue"
    row = staff.locator("table tbody tr", has_text="Contoso Web Shop")
    assert "Waiting for support" in row.inner_text()
    nothing_overflows(staff, "the support queue")
    row.locator(f"text={reference}").click()
    assert staff.locator("h1").inner_text() == f"Pay by invoice: {reference} for Contoso Web Shop"
    assert _status(staff) == "Waiting for support"
    assert "No marketplace services (PBI-4)" in _main(staff)
    nothing_overflows(staff, "the staff request page")

    # Support asks for information; the customer answers on the request's page.
    question = "Which PO number should your invoices carry?"
    _staff_form(staff, "ask_information").locator("textarea[name=message]").fill(question)
    staff.click("text=Send the question")
    assert "The question was sent" in _message(staff)
    assert _status(staff) == "Waiting for your answer"
    customer.goto(request_url)
    assert "Support needs more information" in _main(customer)
    assert question in _main(customer)
    _staff_form(customer, "answer").locator("textarea[name=message]").fill("Please use PO-CONTOSO-2026.")
    customer.click("text=Send the answer")
    assert "Your message was sent to support" in _message(customer)
    assert _status(customer) == "Waiting for support"

    # Support sends the credit application (a confirmation step first).
    staff.reload()
    assert "Please use PO-CONTOSO-2026." in _main(staff)
    staff.click("text=Send the credit application…")
    assert staff.locator("#confirm-heading").inner_text() == "Send the credit application?"
    nothing_overflows(staff, "the staff confirmation step")
    staff.click("text=Yes, go ahead")
    assert "The credit application was sent to the customer" in _message(staff)
    assert _status(staff) == "Credit application sent"
    assert "Sent; waiting for the customer." in _main(staff)

    # The customer fills in the credit application (PBI-8): the decision date shows.
    customer.goto(request_url)
    assert customer.locator("#credit-heading").inner_text() == "Credit application"
    customer.fill("#id_requested_limit", "20000")
    customer.select_option("#id_annual_revenue", label="€1 million to €10 million")
    customer.fill("#id_bank_name", "ABN AMRO")
    customer.fill("#id_trade_references", "Northwind Traders, procurement@northwind.example")
    customer.get_by_role("button", name="Send the credit application").click()
    assert "Support now checks your credit application" in _message(customer)
    assert _status(customer) == "Credit check in progress"
    first, last = details.expected_decision(clock.today())
    with translation.override("en"):
        expected = f"{formats.date_format(first, 'DATE_FORMAT')} – {formats.date_format(last, 'DATE_FORMAT')}"
    assert customer.locator("#decision-dates").inner_text() == expected

    # Support records the credit decision and approves (a confirmation step first).
    staff.reload()
    assert _status(staff) == "Credit check in progress"
    assert "ABN AMRO" in _main(staff)
    assert staff.locator("#decision-dates").inner_text() == expected
    nothing_overflows(staff, "the staff request page with the credit application")
    staff.select_option("#id_decision", label="Credit approved")
    staff.fill("#id_credit_limit", "20000")
    staff.click("text=Record the decision")
    assert "The credit decision was recorded" in _message(staff)
    assert "Credit approved · 20000.00 EUR" in _main(staff)
    staff.click("text=Approve…")
    assert staff.locator("#confirm-heading").inner_text() == "Approve and switch to pay by invoice?"
    assert "can never switch back to card (PBI-5)" in _main(staff)
    staff.click("text=Yes, go ahead")
    assert "Approved: the billing scope now pays by invoice" in _message(staff)
    assert _status(staff) == "Approved"
    nothing_overflows(staff, "the staff request page once approved")

    # The admin: the request is approved, and Payment methods has the Invoice row (PO-1).
    customer.goto(request_url)
    assert _status(customer) == "Approved"
    assert "Approved: you now pay by invoice" in _main(customer)
    follow_nav(customer, "Subscriptions")
    customer.click("main >> text=Contoso Campaigns")
    customer.click("nav.side-menu >> text=Payment methods")
    invoice_row = customer.locator("#invoice-row")
    assert "Invoice" in invoice_row.inner_text()
    assert "Cheque / wire transfer" in invoice_row.inner_text()
    assert customer.locator("#po-number").inner_text() == "—"
    nothing_overflows(customer, "Payment methods of the subscription")
    invoice_row.locator("a", has_text="Edit PO number").click()
    assert customer.locator("h1").inner_text() == "Invoice"
    assert customer.locator("#current-po").inner_text() == "—"
    nothing_overflows(customer, "the Invoice page of Payment methods")
    customer.fill("input[name=po_number]", "PO-CONTOSO-2026")
    customer.click("main form button[type=submit]")
    assert "The PO number was saved" in _message(customer)
    assert customer.locator("#current-po").inner_text() == "PO-CONTOSO-2026"
    customer.click("nav.side-menu >> text=Payment methods")
    assert customer.locator("#po-number").inner_text() == "PO-CONTOSO-2026"

    demo.accounts["contoso"].refresh_from_db()
    assert demo.accounts["contoso"].payment_mode == "invoice"
