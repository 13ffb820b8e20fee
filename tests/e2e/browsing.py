"""Walking the portal in the browser tests: the path of a page, the Content-Security-Policy
violations it reports, the main navigation (behind the "Menu" button on a phone) and the
sandbox gateway's card form."""

from urllib.parse import urlparse


def path_of(page) -> str:
    """The path of the page's address."""
    return urlparse(page.url).path


def watch_csp(page) -> list:
    """Collect the Content-Security-Policy violations the browser reports in ``page.csp_violations``."""
    page.csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and page.csp_violations.append(m.text))
    return page.csp_violations


def open_menu(page):
    """On a phone, open the menu that holds the navigation and the top bar's tools (a no-op
    where they show without it)."""
    button = page.locator("#menu-button")
    if button.is_visible() and not page.locator("#site-menu:popover-open").count():
        button.click()
        page.locator("#site-menu:popover-open").wait_for()


def follow_nav(page, label: str):
    """Follow the main navigation's entry ``label`` (its text), through the menu on a phone."""
    open_menu(page)
    page.locator("nav.mainnav a", has_text=label).first.click()


def enter_card(page, number, *, cvc="123", expiry=("08", "2033"), holder="Ava de Vries"):
    """Type a card into the sandbox gateway's card page and submit it."""
    page.wait_for_url("**/sandbox-gateway/**")
    page.fill("input[name=number]", number)
    page.fill("input[name=exp_month]", expiry[0])
    page.fill("input[name=exp_year]", expiry[1])
    page.fill("input[name=cvc]", cvc)
    page.fill("input[name=holder_name]", holder)
    page.click("button[value=submit]")
