"""Phone sweep: every page each demo persona can open (the pages the access sweep's table,
tests/access_table.py, answers with 200), on phones 390 and 360 px wide, in English and in
Dutch: nothing is wider than the screen and no touch target is under 44 × 44 px
(tests/e2e/layout.py); the menu that holds the navigation on a phone too. One browser
context per persona, signed in once; each page is loaded once per language and measured
at both widths."""

import pytest
from django.conf import settings

from tests.access_sweep import PERSONAS, fill, url_patterns
from tests.access_table import PAGES, seed_demo
from tests.e2e import layout
from tests.e2e.browsing import open_menu
from tests.e2e.signing_in import sign_in_through_form

pytestmark = pytest.mark.django_db(transaction=True)

# Answers that are not pages of the portal: files and data (PDF, ZIP, CSV, JSON, the API
# schema), and the API documentation (Swagger UI's own page).
NOT_PAGES = {
    "healthz",
    "metrics",
    "favicon",
    "api-schema",
    "api-docs",
    "payments:receipt_pdf",
    "invoices:download",
    "invoices:export",
    "invoices:lines_export",
    "invoices:pdf",
    "invoices:support_pdf",
    "invoices:credit_note_pdf",
    "purchase_orders:history_csv",
}
MISSING_PAGE = "/no-such-page/"  # the 404 page, as everyone may meet it
MAX_TOP_BAR = 64  # px: the brand and the menu button on one line
# The widths each language is measured at: English at both phones, Dutch (longer words) at
# the narrower one, which bounds the sweep's time (it runs in CI).
WIDTHS = {"en": ("390", "360"), "nl": ("360",)}


def pages_of(persona: str, objs: dict) -> dict:
    """URL name -> address of every page ``persona`` may open."""
    pages = {}
    for name, route in url_patterns():
        if route.startswith(("api/v1/", "admin/")) or name in NOT_PAGES:
            continue
        entry = PAGES[name]
        if entry.expect[persona] == 200:
            pages[name] = fill(route, entry.path_args(objs))
    return pages


def _set_language(context, user, language, base_url):
    if user is None:
        context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base_url}])
    else:
        type(user).objects.filter(pk=user.pk).update(language=language)


def _sweep(page, pages: dict, language: str) -> list[str]:
    """Each page loaded once, measured at the width it was loaded at and then at the other."""
    problems = []
    widths = list(WIDTHS[language])
    for name, url in {**pages, "404": MISSING_PAGE}.items():
        response = page.goto(url)
        expected = 404 if url == MISSING_PAGE else 200
        if response.status != expected or "text/html" not in response.headers.get("content-type", ""):
            problems.append(f"{name} {url}: {response.status} {response.headers.get('content-type')}")
            continue
        if page.locator("html").get_attribute("lang") != language:
            problems.append(f"{name} {url}: not in {language}")
        for width in widths:
            if page.viewport_size != layout.PHONES[width]["viewport"]:
                page.set_viewport_size(layout.PHONES[width]["viewport"])
            problems += layout.phone_problems(page, f"{name} [{language}]")
        widths.reverse()  # the next page starts at the width this one ended at
    return problems


def _menu(page, language: str) -> list[str]:
    """The top bar is one low line; its menu, open (and the user menu in it), fits too."""
    problems = []
    page.goto("/")
    for width in WIDTHS[language]:
        page.set_viewport_size(layout.PHONES[width]["viewport"])
        height = page.locator("header.topbar").bounding_box()["height"]
        if height > MAX_TOP_BAR:
            problems.append(f"the top bar [{language}] is {height}px high at {width}px")
        open_menu(page)
        if page.locator("#site-menu .user-menu summary").count():
            page.locator("#site-menu .user-menu").evaluate("el => el.open = true")
        problems += layout.phone_problems(page, f"the open menu [{language}]")
        page.keyboard.press("Escape")
    return problems


def test_every_page_of_every_persona_fits_a_phone_of_360_and_390_px_in_english_and_dutch(browser, live_server):
    demo, objs = seed_demo()
    problems = []
    for persona in PERSONAS:
        user = None if persona == "anonymous" else demo.users[persona]
        context = browser.new_context(base_url=live_server.url, locale="en-GB", **layout.PHONES["390"])
        try:
            page = context.new_page()
            page.set_default_timeout(15_000)
            if user is not None:
                sign_in_through_form(page, user.email)
            pages = pages_of(persona, objs)
            assert pages, persona
            for language in WIDTHS:
                _set_language(context, user, language, live_server.url)
                problems += [f"{persona}: {problem}" for problem in _sweep(page, pages, language)]
                problems += [f"{persona}: {problem}" for problem in _menu(page, language)]
        finally:
            context.close()
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
