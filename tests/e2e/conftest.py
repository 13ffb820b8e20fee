"""Browser tests: Playwright (Python) driving Debian's headless Chromium against
pytest-django's live server. Every test here is marked ``e2e``."""

import os
import shutil

import pytest

from tests.e2e.browsing import watch_csp
from tests.e2e.layout import SIZES

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the
# test itself (setting up data) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}; CI must run the browser tests")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture(params=list(SIZES))
def size(request):
    """The journeys' two sizes (tests/e2e/layout.py): desktop, and a phone 390 px wide."""
    return request.param


@pytest.fixture(params=["en", "nl"])
def language(request):
    """The journeys' two languages."""
    return request.param


@pytest.fixture
def new_page(browser, live_server):
    """Makes a page in a browser context of its own (closed after the test), at a size of
    ``layout.SIZES``: ``new_page(size, locale="nl-NL", accept_downloads=True)``. The page
    collects the Content-Security-Policy violations the browser reports in ``csp_violations``."""
    contexts = []

    def make(size="desktop", *, locale="en-GB", timeout=15_000, **options):
        context = browser.new_context(base_url=live_server.url, locale=locale, **SIZES[size], **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(timeout)
        watch_csp(page)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def sized_page(new_page, size):
    """A page at the test's size (the ``size`` parameter)."""
    return new_page(size)


@pytest.fixture
def sign_in(page):
    """Sign in through the real sign-in form (and its code step: tests/e2e/signing_in.py)."""
    from tests.e2e.signing_in import sign_in_through_form

    def do(email, password=None):
        return sign_in_through_form(page, email, password)

    return do
