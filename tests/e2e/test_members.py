"""Browser journey of the members of a billing account (docs/rules.md MEM-1 to MEM-6), at
desktop and phone sizes, in English and Dutch: Woodgrove's owner invites a colleague as a
billing account reader, the colleague opens the link from the e-mail and signs up, the
owner changes the colleague's role and then removes them after a confirmation; the
colleague is told by e-mail each time. Stacked rows on the phone, nothing wider than the
screen, no Content-Security-Policy violation."""

import re
from urllib.parse import urlparse

import pytest
from django.core import mail

from tests.e2e.layout import nothing_overflows

pytestmark = pytest.mark.django_db(transaction=True)

INVITEE = "e2e.colleague@woodgrove.example"
OWNER = "ca.owner@woodgrove.example"
TEXT = {
    "en": {
        "title": "Members of Woodgrove Bank",
        "sent": f"An invitation was sent to {INVITEE}",
        "reader": "Billing account reader",
        "contributor": "Billing account contributor",
        "welcome": "Welcome. Your roles on Woodgrove Bank are ready.",
        "saved": f"The roles of {INVITEE} were saved.",
        "confirm": "Remove E2E Colleague?",
        "removed": f"{INVITEE} was removed.",
        "history": f"Removed {INVITEE} (Billing account contributor)",
        "subject": "You are invited to Woodgrove Bank",
        "label": '"Roles"',
    },
    "nl": {
        "title": "Leden van Woodgrove Bank",
        "sent": f"Er is een uitnodiging gestuurd naar {INVITEE}",
        "reader": "Lezer factureringsaccount",
        "contributor": "Inzender factureringsaccount",
        "welcome": "Welkom. Uw rollen voor Woodgrove Bank zijn klaar.",
        "saved": f"De rollen van {INVITEE} zijn opgeslagen.",
        "confirm": "E2E Colleague verwijderen?",
        "removed": f"{INVITEE} is verwijderd.",
        "history": f"Heeft {INVITEE} verwijderd (Inzender factureringsaccount)",
        "subject": "U bent uitgenodigd voor Woodgrove Bank",
        "label": '"Rollen"',
    },
}


def _row(page, email):
    return page.locator(f"#members tbody tr[data-email='{email}']")


def test_mem_invite_accept_change_and_remove(new_page, size, language):
    from accounts import demo as accounts_demo
    from accounts.models import User
    from tests.e2e.signing_in import sign_in_through_form

    text = TEXT[language]
    demo = accounts_demo.seed()
    accounts_demo.seed_invitation(demo)
    User.objects.filter(email=OWNER).update(language=language)
    members_path = f"/billing-accounts/{demo.accounts['woodgrove'].pk}/members/"

    # The owner opens the members page from the overview: the demo's pending invitation is there.
    owner = sign_in_through_form(new_page(size), OWNER)
    owner.locator(f"main a[href='{members_path}']").click()
    owner.wait_for_url(f"**{members_path}")
    assert owner.locator("h1").inner_text() == text["title"]
    assert owner.locator("#invitations tr[data-email='new.colleague@woodgrove.example']").count() == 1
    if size == "phone":
        cell = _row(owner, OWNER).locator("td.member-roles")
        assert cell.evaluate("el => getComputedStyle(el, '::before').content") == text["label"]
        assert cell.bounding_box()["width"] > _row(owner, OWNER).bounding_box()["width"] * 0.9  # stacked
    nothing_overflows(owner, "members page")

    # Invite: a bad address first, then the colleague as a billing account reader.
    owner.fill("#id_email", "not-an-address")
    owner.check("input[name=roles][value=ba_reader]")
    owner.locator("#invite button[type=submit]").click()
    assert owner.locator("#invite .field.has-error .error").count() == 1
    nothing_overflows(owner, "invite form with an error")
    owner.fill("#id_email", INVITEE)
    owner.check("input[name=roles][value=ba_reader]")
    owner.locator("#invite button[type=submit]").click()
    assert text["sent"] in owner.locator(".messages").inner_text()
    assert owner.locator(f"#invitations tr[data-email='{INVITEE}']").count() == 1

    # The colleague opens the link of the e-mail (in the inviter's language) and signs up.
    invited = next(m for m in mail.outbox if m.to == [INVITEE])
    assert invited.subject == text["subject"]
    link = re.search(r"https?://\S+/invitations/\S+/", invited.body).group(0)
    colleague = new_page(size)
    colleague.goto(urlparse(link).path)
    assert INVITEE in colleague.locator("#invitation").inner_text()
    nothing_overflows(colleague, "invitation page")
    colleague.fill("#id_full_name", "E2E Colleague")
    colleague.fill("#id_password", "a-long-Pass-phrase-77")
    colleague.fill("#id_password_again", "a-long-Pass-phrase-77")
    colleague.locator("#invitation button[type=submit]").click()
    colleague.wait_for_url(lambda url: urlparse(url).path == "/")
    assert "Woodgrove Bank" in colleague.locator("main").inner_text()
    # The link works once.
    colleague.goto(urlparse(link).path)
    assert colleague.locator("#invitation form").count() == 0

    # The owner sees the new member and changes the role.
    owner.goto(members_path)
    assert text["reader"] in _row(owner, INVITEE).inner_text()
    assert owner.locator(f"#invitations tr[data-email='{INVITEE}']").count() == 0
    invitee_id = User.objects.get(email=INVITEE).pk
    _row(owner, INVITEE).locator(f"a[href$='/members/{invitee_id}/']").click()
    owner.uncheck("input[name=roles][value=ba_reader]")
    owner.check("input[name=roles][value=ba_contributor]")
    nothing_overflows(owner, "change roles page")
    owner.locator("main form button[type=submit]").click()
    owner.wait_for_url(f"**{members_path}")
    assert text["saved"] in owner.locator(".messages").inner_text()
    assert text["contributor"] in _row(owner, INVITEE).inner_text()

    # Remove, after the confirmation page.
    _row(owner, INVITEE).locator("a[href$='/remove/']").click()
    assert owner.locator("h1").inner_text() == text["confirm"]
    nothing_overflows(owner, "remove confirmation")
    owner.locator("main form button[type=submit]").click()
    owner.wait_for_url(f"**{members_path}")
    assert text["removed"] in owner.locator(".messages").inner_text()
    assert _row(owner, INVITEE).count() == 0
    assert text["history"] in owner.locator("#member-changes").inner_text()
    nothing_overflows(owner, "members page after the changes")

    # The colleague was told of both changes.
    kinds = [m.subject for m in mail.outbox if m.to == [INVITEE]]
    assert len(kinds) == 3, kinds
    assert owner.csp_violations == [] and colleague.csp_violations == []
