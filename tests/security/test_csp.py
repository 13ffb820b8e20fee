"""Content-Security-Policy on every page, and no inline script or style in the page
templates (the policy allows neither)."""

import re
from pathlib import Path

from django.contrib.staticfiles import finders
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
# Not served as pages: e-mails and the PDF layout.
NOT_PAGES = ("templates/emails/", "invoices/templates/invoices/pdf/")


def _page_templates():
    for path in sorted(ROOT.glob("**/templates/**/*.html")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".venv", "node_modules/")) or any(part in rel for part in NOT_PAGES):
            continue
        yield rel, path.read_text()


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d for d in (part.strip() for part in header.split(";")) if d}


def test_page_templates_have_no_inline_script_or_style():
    offenders = []
    for rel, text in _page_templates():
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{rel}: inline <script>")
        if re.search(r"<style\b", text) or re.search(r"\sstyle=", text):
            offenders.append(f"{rel}: inline style")
        if re.search(r"\son[a-z]+=[\"']", text):
            offenders.append(f"{rel}: inline event handler")
    assert offenders == []


def test_pages_send_a_policy_without_inline_code(demo, client, client_for):
    for response in (
        client.get(reverse("accounts:login")),
        client_for(demo.users["wd_admin"]).get(reverse("accounts:overview")),
        client_for(demo.users["wd_admin"]).get("/no-such-page/"),
    ):
        policy = _policy(response)
        assert policy["script-src"] == "script-src 'self'"
        assert policy["style-src"] == "style-src 'self'"
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert policy["frame-ancestors"] == "frame-ancestors 'none'"


def test_api_docs_page_works_under_the_policy(db, client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["script-src"] == "script-src 'self'"
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) and "<style" not in html
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert len(sources) == 3
    # The Swagger UI assets come from the sidecar under /static/, the start script from the view.
    for src in sources[:2]:
        assert src.startswith("/static/") and finders.find(src.removeprefix("/static/")), src
    start = client.get(sources[2].replace("&amp;", "&"))
    assert start.status_code == 200 and "javascript" in start["Content-Type"]
    assert "SwaggerUIBundle" in start.content.decode()
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert all(href.startswith("/static/") and finders.find(href.removeprefix("/static/")) for href in stylesheets)
