"""Exports of invoices on the page and the API: the PDFs of the selected or of all listed
invoices as one streamed ZIP (the stored files; a missing one rendered again; at most
INVOICE_ZIP_MAX_INVOICES), the listed invoices as CSV and one invoice's lines as CSV
(UTF-8 with BOM, decimal point, no formula injection), with the read rule of invoices."""

import csv
import datetime as dt
import io
import zipfile

import pytest
from django.urls import reverse

from invoices.models import InvoiceRevision
from tests.factories import UserFactory
from tests.invoices.helpers import customer_agreement, make_invoice

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _zip(response) -> dict[str, bytes]:
    assert response.status_code == 200, getattr(response, "content", b"")[:300]
    assert response["Content-Type"] == "application/zip" and "attachment;" in response["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(_body(response))) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    raw = _body(response)
    assert raw.startswith("\ufeff".encode())  # UTF-8 with a byte-order mark, for Excel
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


@pytest.fixture
def tenant():
    owner, reader, account, (nl, de), subs = customer_agreement()
    return owner, reader, (nl, de), subs


@pytest.fixture
def hundred(tenant):
    owner, _reader, (nl, de), subs = tenant
    invoices = [
        make_invoice(
            nl if n % 2 else de,
            f"INV-2026-{n:06d}",
            period=dt.date(2000 + n // 12, n % 12 + 1, 1),
            subscriptions=[subs["prod"] if n % 2 else subs["berlin"]],
            pdf=f"%PDF-1.4 invoice {n}".encode(),
        )
        for n in range(1, 101)
    ]
    return owner, invoices


def test_zip_of_100_listed_invoices_in_constant_queries_with_their_stored_pdfs(
    hundred, client_for, django_assert_max_num_queries
):
    owner, invoices = hundred
    client = client_for(owner)
    with django_assert_max_num_queries(4):  # session, user, grants, the invoices' rows
        files = _zip(client.get(reverse("invoices:download")))
    assert files == {f"{inv.number}.pdf": f"%PDF-1.4 invoice {int(inv.number[-6:])}".encode() for inv in invoices}


def test_zip_of_selected_invoices_and_of_the_filtered_list(hundred, client_for, api_for):
    owner, invoices = hundred
    chosen = invoices[:3]
    client = client_for(owner)
    query = "?" + "&".join(["selected=1", *(f"invoice={inv.pk}" for inv in chosen)])
    assert set(_zip(client.get(reverse("invoices:download") + query))) == {f"{inv.number}.pdf" for inv in chosen}
    api = api_for(owner)
    response = api.get("/api/v1/invoices/download/", {"invoice": [inv.pk for inv in chosen]})
    assert set(_zip(response)) == {f"{inv.number}.pdf" for inv in chosen}
    # The filter of the list: period range and search.
    listed = _zip(api.get("/api/v1/invoices/download/", {"period_from": "2000-01", "period_to": "2000-06"}))
    assert set(listed) == {f"INV-2026-{n:06d}.pdf" for n in range(1, 6)}
    assert set(_zip(client.get(reverse("invoices:download"), {"q": "INV-2026-00010"}))) == {"INV-2026-000100.pdf"}


def test_zip_renders_a_missing_pdf_again_and_one_not_yet_rendered(tenant, client_for):
    owner, _reader, (nl, _de), subs = tenant
    lost = make_invoice(nl, "INV-2026-000001", subscriptions=[subs["prod"]], pdf=b"%PDF-1.4 lost")
    pending = make_invoice(nl, "INV-2026-000002", period=dt.date(2026, 2, 1), subscriptions=[subs["prod"]])
    revision = lost.current_revision
    revision.pdf.storage.delete(revision.pdf.name)
    files = _zip(client_for(owner).get(reverse("invoices:download")))
    assert set(files) == {"INV-2026-000001.pdf", "INV-2026-000002.pdf"}
    assert all(content.startswith(b"%PDF") and content != b"%PDF-1.4 lost" for content in files.values())
    for invoice in (lost, pending):
        stored = InvoiceRevision.objects.get(pk=invoice.current_revision_id)
        assert stored.pdf and stored.pdf.storage.exists(stored.pdf.name)


def test_zip_limit_nothing_selected_and_nothing_listed_are_refused_with_a_message(
    hundred, client_for, api_for, settings
):
    owner, invoices = hundred
    settings.INVOICE_ZIP_MAX_INVOICES = 40
    client = client_for(owner)
    response = client.get(reverse("invoices:download"), {"status": "due"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("invoices:list") + "?status=due"
    assert "A ZIP holds the PDFs of at most 40 invoices." in response.content.decode()
    api = api_for(owner)
    too_many = api.get("/api/v1/invoices/download/")
    assert too_many.status_code == 400 and too_many.json()["code"] == "too_many_invoices"
    assert api.get("/api/v1/invoices/download/", {"invoice": [i.pk for i in invoices[:41]]}).status_code == 400
    # Within the limit through a narrower filter.
    assert len(_zip(api.get("/api/v1/invoices/download/", {"period_to": "2002-12"}))) == 35
    response = client.get(reverse("invoices:download"), {"selected": "1"}, follow=True)
    assert "Select at least one invoice to download." in response.content.decode()
    nothing = api.get("/api/v1/invoices/download/", {"q": "INV-1999"})
    assert nothing.status_code == 400 and nothing.json()["code"] == "nothing_to_download"
    bad = api.get("/api/v1/invoices/download/", {"invoice": ["12x"]})
    assert bad.status_code == 400 and "invoice" in bad.json()["fields"]
    wrong = api.get("/api/v1/invoices/download/", {"period_from": "2026-13"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_filter"
    assert "period_from" in wrong.json()["fields"]


def test_zip_of_another_tenants_invoice_is_404_and_others_list_nothing(hundred, tenant, client_for, api_for):
    _owner, invoices = hundred
    stranger = UserFactory()
    mine = customer_agreement(name="Other tenant")
    for user in (stranger, mine[0]):
        assert client_for(user).get(reverse("invoices:download"), {"invoice": invoices[0].pk}).status_code == 404
        assert api_for(user).get("/api/v1/invoices/download/", {"invoice": invoices[0].pk}).status_code == 404
        assert api_for(user).get("/api/v1/invoices/download/").json()["code"] == "nothing_to_download"
    # A profile reader sees only its profile's invoices: another profile's is a 404.
    _owner, reader, (nl, de), _subs = tenant
    other_profile = next(inv for inv in invoices if inv.profile_id == de.pk)
    own = next(inv for inv in invoices if inv.profile_id == nl.pk)
    assert client_for(reader).get(reverse("invoices:download"), {"invoice": other_profile.pk}).status_code == 404
    assert set(_zip(client_for(reader).get(reverse("invoices:download"), {"invoice": own.pk}))) == {f"{own.number}.pdf"}
    assert len(_zip(client_for(reader).get(reverse("invoices:download")))) == 50
    assert api_for(None).get("/api/v1/invoices/download/").status_code == 401
    assert client_for(None).get(reverse("invoices:download")).status_code == 302


def test_csv_of_the_listed_invoices(tenant, client_for, api_for, django_assert_max_num_queries):
    owner, _reader, (nl, de), subs = tenant
    paid = make_invoice(nl, "INV-2026-000001", total="1234.50", status="paid", po_number="PO 7", subscriptions=[])
    paid.amount_paid = paid.total
    paid.save(update_fields=["amount_paid"])
    make_invoice(de, "INV-2026-000002", period=dt.date(2026, 2, 1), total="99.99", po_number='=HYPERLINK("http://x")')
    make_invoice(de, "INV-2026-000003", period=dt.date(2026, 3, 1), total="5.00", po_number="@SUM(A1)")
    client = client_for(owner)
    with django_assert_max_num_queries(4):  # session, user, grants, the invoices (read as they stream)
        rows = _csv(client.get(reverse("invoices:export"), {"sort": "number"}))
    assert rows[0] == [
        "Invoice number",
        "Invoice date",
        "Due date",
        "Billing period",
        "Status",
        "PO number",
        "Currency",
        "Subtotal",
        "VAT",
        "Total",
        "Amount due",
    ]
    assert rows[1] == [
        "INV-2026-000001",
        "2026-02-01",
        "2026-02-01",
        "2026-01",
        "Paid",
        "PO 7",
        "EUR",
        "1020.25",
        "214.25",
        "1234.50",
        "0.00",
    ]
    # Formula injection: a text cell starting with = + - @ is prefixed with '.
    assert rows[2][5] == '\'=HYPERLINK("http://x")' and rows[2][4] == "Due" and rows[2][10] == "99.99"
    assert rows[3][5] == "'@SUM(A1)"
    assert len(rows) == 4
    # The filter of the list, through the API too; the caller's language.
    api_rows = _csv(api_for(owner).get("/api/v1/invoices/export/", {"status": "due", "sort": "-number"}))
    assert [row[0] for row in api_rows[1:]] == ["INV-2026-000003", "INV-2026-000002"]
    owner.language = "nl"
    owner.save(update_fields=["language"])
    dutch = _csv(client_for(owner).get(reverse("invoices:export"), {"q": "INV-2026-000001"}))
    assert dutch[0][:2] == ["Factuurnummer", "Factuurdatum"] and dutch[1][4] == "Betaald" and dutch[1][9] == "1234.50"
    # A filter that is wrong: back to the list with the message (page), 400 (API).
    response = client_for(owner).get(reverse("invoices:export"), {"sort": "cheapest"}, follow=True)
    assert response.redirect_chain and 'role="status"' in response.content.decode()
    assert api_for(owner).get("/api/v1/invoices/export/", {"sort": "cheapest"}).status_code == 400
    # Another tenant lists none of them.
    assert _csv(api_for(UserFactory()).get("/api/v1/invoices/export/"))[1:] == []


def test_csv_of_one_invoices_lines(tenant, client_for, api_for, django_assert_max_num_queries):
    owner, reader, (nl, de), subs = tenant
    invoice = make_invoice(
        nl,
        "INV-2026-000001",
        subscriptions=[subs["prod"], subs["prod_twin"]],
        lines=[("=cmd|' /C calc'!A0", "+1 GB", "1000.000000", "0.018400"), ("Storage", "-hours", "2.5", "10.00")],
    )
    client = client_for(owner)
    with django_assert_max_num_queries(5):  # session, user, grants, invoice, lines
        rows = _csv(client.get(reverse("invoices:lines_export", args=[invoice.pk])))
    assert rows[0] == [
        "Position",
        "Subscription",
        "Subscription ID",
        "Service",
        "Meter",
        "Quantity",
        "Unit price",
        "Amount",
        "VAT",
        "Currency",
        "Marketplace",
    ]
    prod, twin = str(subs["prod"].subscription_id), str(subs["prod_twin"].subscription_id)
    assert rows[1] == [
        "1",
        "Production",
        prod,
        "'=cmd|' /C calc'!A0",
        "'+1 GB",
        "1000",
        "0.0184",
        "18.40",
        "3.86",
        "EUR",
        "no",
    ]
    assert rows[2][:6] == ["2", "Production", prod, "Storage", "'-hours", "2.5"]
    assert [row[2] for row in rows[3:]] == [twin, twin]
    api = api_for(reader)
    assert _csv(api.get(f"/api/v1/invoices/{invoice.pk}/lines/export/")) == rows
    berlin = make_invoice(de, "INV-2026-000002", subscriptions=[subs["berlin"]])
    assert client_for(reader).get(reverse("invoices:lines_export", args=[berlin.pk])).status_code == 404
    assert api.get(f"/api/v1/invoices/{berlin.pk}/lines/export/").status_code == 404
    assert api_for(None).get(f"/api/v1/invoices/{berlin.pk}/lines/export/").status_code == 401
    assert client_for(UserFactory()).get(reverse("invoices:lines_export", args=[invoice.pk])).status_code == 404


def test_list_and_detail_pages_offer_the_exports(tenant, client_for):
    owner, _reader, (nl, _de), subs = tenant
    invoice = make_invoice(nl, "INV-2026-000001", subscriptions=[subs["prod"]])
    html = client_for(owner).get(reverse("invoices:list"), {"status": "due", "page": "1"}).content.decode()
    assert f'value="{invoice.pk}" form="invoice-selection"' in html and 'id="download-selected"' in html
    assert f'href="{reverse("invoices:download")}?status=due"' in html
    assert f'href="{reverse("invoices:export")}?status=due"' in html
    html = client_for(owner).get(reverse("invoices:detail", args=[invoice.pk])).content.decode()
    assert f'href="{reverse("invoices:lines_export", args=[invoice.pk])}"' in html
