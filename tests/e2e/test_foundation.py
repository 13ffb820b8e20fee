"""Foundation journey in a real browser: sign in as a demo persona, open the overview,
switch to Dutch and see the Dutch navigation, sign out."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_data(transactional_db):
    from accounts import demo

    return demo.seed()


def test_sign_in_overview_switch_to_dutch_sign_out(demo_data, page, sign_in, tmp_path):
    from accounts.models import User

    sign_in("ca.contributor@woodgrove.example")  # an English-speaking persona
    page.goto("/")
    assert page.locator("h1").inner_text() == "Overview"
    assert page.locator("html").get_attribute("lang") == "en"
    table = page.locator("main table")
    assert "Woodgrove Bank" in table.inner_text()
    assert "Billing account contributor" in table.inner_text()
    nav = page.get_by_role("navigation", name="Main navigation")
    assert "Subscriptions" in nav.inner_text()

    page.select_option("#language-select", "nl")
    page.click("form.language-switch button[type=submit]")
    page.wait_for_selector("html[lang=nl]")
    nav = page.get_by_role("navigation", name="Hoofdnavigatie")
    labels = [label.strip() for label in nav.locator("a").all_inner_texts()]
    assert labels[:2] == ["Overzicht", "Abonnementen"]
    assert "Help + ondersteuning" in labels
    assert page.locator("h1").inner_text() == "Overzicht"
    assert page.locator(".brand").inner_text() == "Kostenbeheer + facturering"
    assert "Inzender factureringsaccount" in page.locator("main table").inner_text()
    page.screenshot(path=str(tmp_path / "overview-nl.png"), full_page=True)
    assert User.objects.get(email="ca.contributor@woodgrove.example").language == "nl"

    page.get_by_role("button", name="Afmelden").click()
    page.wait_for_url("**/sign-in/")
    assert page.get_by_role("heading", name="Aanmelden").is_visible()  # the cookie keeps Dutch
    page.goto("/")
    assert "/sign-in/" in page.url
