"""PostgreSQL goes away in the middle of work, and nothing is left half-written once it
is back.

Each test runs one scenario of tests/security/outage_scenarios.py in a portal process
(production mode) on a database of the session's private PostgreSQL server
(``private_postgres``, tests/private_postgres.py; never the machine's own server). At a
chosen point inside the work the process pauses and the test stops the server with
``pg_ctl stop -m immediate`` (a crash: no checkpoint, every connection cut), lets the
work meet the dead server, starts the server again (crash recovery), and then the same
process repeats the request or runs the recovery: the same ``run_billing``, the
sweeper, the payment reconciler. What a request met answers 503 (the
DatabaseUnavailableMiddleware); afterwards every invariant holds and nothing happened
twice.
"""

from decimal import Decimal

import pytest

from tests.private_postgres import run_child

from .conftest import PYTHON

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DATABASE_ERRORS = {"OperationalError", "InterfaceError"}


@pytest.fixture
def scenario(private_postgres, private_database, production_env, tmp_path):
    def run(name: str, kill_point: str, outages: int = 1) -> dict:
        env = {
            **production_env,
            "DATABASE_URL": private_database,
            "DB_CONNECT_TIMEOUT": "2",
            "CELERY_TASK_ALWAYS_EAGER": "false",
        }
        out = run_child(
            [PYTHON, "-m", "tests.security.outage_scenarios", name, kill_point],
            env=env,
            instance=private_postgres,
            log_path=tmp_path / "portal.log",
            timeout=120,
        )
        assert out["pauses"] == ["stop", "start"] * outages, out["pauses"]
        assert out["settings"]["engine"].endswith("postgresql") and not out["settings"]["eager"]
        assert private_postgres.is_running()
        return out

    return run


# A request answers within the connect timeout (2 s) once the server is gone; the one
# that stopped it also waited for ``pg_ctl stop``.
STOPPING_REQUEST_SECONDS = 30


def _assert_503_page(answer, seconds=3):
    assert answer["status"] == 503, (answer["status"], answer["body"][:500])
    body = answer["body"]
    assert ("Temporarily unavailable" in body or "Tijdelijk niet beschikbaar" in body) and answer["retry"]
    assert answer["seconds"] < seconds


def _assert_503_api(answer, seconds=3):
    assert answer["status"] == 503, (answer["status"], answer["body"][:500])
    assert '"code":"database_unavailable"' in answer["body"].replace(" ", "") and answer["retry"]
    assert answer["seconds"] < seconds


def _assert_invoices_whole(state, count, lines=2):
    """``count`` invoices, each with its revision and lines, totals the sums of the lines,
    numbers 1..count without gap or repeat, the sequence at count, one per scope."""
    assert state["invoices"] == count
    assert state["scopes_invoiced"] == count
    assert state["numbers"] == list(range(1, count + 1))
    assert state["sequence"] == count
    assert state["without_lines"] == [] and state["sums_off"] == [] and state["revisions_off"] == []
    if count:
        assert state["lines_per_invoice"] == [lines]


# --- the billing run -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kill_point", ["between_invoices_and_lines", "before_chunk_done", "after_commit"])
def test_billing_run_stopped_mid_chunk_resumes_to_exactly_one_invoice_per_scope(scenario, kill_point):
    out = scenario("billing", kill_point)
    scopes, size, crash_chunk = out["scopes"], out["chunk_size"], out["crash_chunk"]
    total_chunks = scopes // size
    # The command met the dead server, and so does the next query: fast, a clean error.
    assert out["crashed"]["error"] in DATABASE_ERRORS and not out["crashed"]["in_transaction"]
    # The statement that met the dead server raised Django's error (what the 503
    # middleware, Celery's retry and the connection clean-up recognise), not the driver's.
    if kill_point != "after_commit":
        assert out["raised"] and all(name.startswith("django.db.utils.") for name in out["raised"]), out["raised"]
    assert out["down"]["error"] in DATABASE_ERRORS and out["down"]["seconds"] < 3

    # After the restart: the chunks that committed are whole, the one in flight left nothing.
    committed = crash_chunk if kill_point == "after_commit" else crash_chunk - 1
    after = out["after_crash"]
    _assert_invoices_whole(after, committed * size)
    assert after["run"]["status"] == "running"
    assert after["run"]["done_chunks"] == after["run"]["chunks_marked_done"] == committed
    assert after["run"]["invoices_created"] == after["run"]["chunk_invoices"] == committed * size
    assert after["run"]["total_chunks"] == after["run"]["chunk_rows"] == total_chunks

    # The same command again finishes the run exactly once.
    final = out["final"]
    _assert_invoices_whole(final, scopes)
    assert final["run"] == {
        "status": "finished",
        "total_chunks": total_chunks,
        "done_chunks": total_chunks,
        "chunks_marked_done": total_chunks,
        "chunk_rows": total_chunks,
        "invoices_created": scopes,
        "chunk_invoices": scopes,
        "total_scopes": scopes,
    }
    assert set(after["invoice_ids"]) <= set(final["invoice_ids"])  # nothing issued again
    # The re-run published the follow-up work of the invoices it issued, once each.
    new_ids = sorted(set(final["invoice_ids"]) - set(after["invoice_ids"]))
    assert sorted(out["rerun_published"]["ready"]) == new_ids
    assert len(out["rerun_published"]["pdf"]) == len(new_ids)

    # The sweeper publishes no chunk again; every invoice whose follow-up work was lost
    # with the crash (published for none of the chunk that committed last) is swept.
    assert out["swept"]["chunks"] == 0
    published_before = set(out["published_before"]["ready"]) | set(out["rerun_published"]["ready"])
    unpublished = set(final["invoice_ids"]) - published_before
    if kill_point == "after_commit":
        assert len(unpublished) == size
    else:
        assert unpublished == set()
    assert unpublished <= set(out["swept_ready"])
    assert set(final["revision_ids"]) <= set(out["swept_pdf"])  # no worker ran: all PDFs still due


# --- Pay now --------------------------------------------------------------------------------------------


def _assert_paid_once(final, payer):
    invoice = final["invoice"]
    assert invoice["status"] == "paid" and Decimal(invoice["amount_due"]) == 0
    assert Decimal(invoice["amount_paid"]) == Decimal(invoice["total"])
    succeeded = [p for p in final["payments"] if p["status"] == "succeeded"]
    assert len(succeeded) == 1 and not any(p["needs_refund"] for p in final["payments"])
    assert [c["status"] for c in final["charges"]] == ["succeeded"]  # the card charged once
    assert final["all_charges"] == 1
    assert succeeded[0]["gateway_reference"] == final["charges"][0]["reference"]
    received = [n for n in final["notifications"] if n[0] == "payment_received"]
    assert [n[1] for n in received] == [payer]


@pytest.mark.parametrize("kill_point", ["before_charge", "after_charge", "in_settle"])
def test_pay_now_stopped_mid_payment_answers_503_then_settles_with_one_charge(scenario, kill_point):
    out = scenario("pay_now", kill_point)
    _assert_503_page(out["first"], STOPPING_REQUEST_SECONDS)
    _assert_503_page(out["during"]["page"])
    _assert_503_page(out["during"]["pay_page"])

    # After the restart: the payment is recorded as pending and nothing else of it: the
    # invoice still due, no receipt; the card charged (or not) as the gateway says.
    after = out["after_crash"]
    assert [p["status"] for p in after["payments"]] == ["pending"]
    assert after["invoice"]["status"] == "due" and Decimal(after["invoice"]["amount_paid"]) == 0
    assert after["notifications"] == []
    assert len(after["charges"]) == (0 if kill_point == "before_charge" else 1)

    # The same form again: the same payment, no new charge.
    assert out["again"]["status"] == 302, out["again"]["body"][:500]
    assert out["after_again"]["payments"] == after["payments"]
    assert out["after_again"]["charges"] == after["charges"]

    reconciled = out["reconciled"]
    if kill_point == "before_charge":
        # The gateway never saw it: pending until the give-up time, then failed as not
        # processed, and the customer pays again, charged once.
        assert reconciled["first"] == 0 and reconciled["after_give_up"] == 1
        given_up = reconciled["state"]
        assert [(p["status"], p["failure_code"]) for p in given_up["payments"]] == [("failed", "not_processed")]
        assert given_up["invoice"]["status"] == "due" and given_up["all_charges"] == 0
        assert [n[0] for n in given_up["notifications"]] == ["payment_failed"]
        assert reconciled["new_attempt"]["status"] == 302
    else:
        # Charged before the outage: the reconciler settles it from the gateway's record.
        assert reconciled["first"] == 1
    assert out["stale_form"]["status"] in (302, 402)
    _assert_paid_once(out["final"], out["payer"])
    assert out["detail"]["status"] == 200


def test_pay_api_stopped_after_the_charge_answers_503_then_the_same_key_settles_once(scenario):
    out = scenario("pay_api", "after_charge")
    _assert_503_api(out["first"], STOPPING_REQUEST_SECONDS)
    _assert_503_api(out["during"])
    after = out["after_crash"]
    assert [p["status"] for p in after["payments"]] == ["pending"] and len(after["charges"]) == 1
    assert after["invoice"]["status"] == "due" and after["notifications"] == []
    # The first request's record is still in its lease: the repeat is told to wait.
    assert [r["completed"] for r in after["idempotency"]] == [False]
    assert out["in_lease"]["status"] == 409 and '"idempotency_in_progress"' in out["in_lease"]["body"]
    assert 1 <= int(out["in_lease"]["retry"]) <= 120
    # After the lease the repeat takes the request over and answers with the payment the
    # first one made (settled by the reconciler meanwhile); repeats replay that answer.
    assert out["reconciled"] == 1
    payment_id = after["payments"][0]["pk"]
    assert out["after_lease"]["status"] == 201 and f'"id":{payment_id}' in out["after_lease"]["body"].replace(" ", "")
    assert out["replay"]["status"] == 201 and out["replay"]["replayed"] == "true"
    assert [r["completed"] for r in out["final"]["idempotency"]] == [True]
    _assert_paid_once(out["final"], out["payer"])


def test_automatic_charge_lost_with_the_database_is_charged_once_by_the_sweeps(scenario):
    out = scenario("auto_charge", "after_issue", outages=2)
    # The billing chunk committed, then the server went away before its automatic
    # charge was published: a whole invoice, no payment.
    assert out["issued"]["error"] in DATABASE_ERRORS
    crashed = out["after_issue_crash"]
    _assert_invoices_whole(crashed["billing"], 1, lines=1)
    assert crashed["charge_published"] == [] and crashed["state"]["payments"] == []
    assert crashed["state"]["invoice"]["status"] == "due"
    # The missed-charge sweep charges it; the server goes away before the outcome is recorded.
    assert out["missed"]["error"] in DATABASE_ERRORS
    pending = out["after_charge_crash"]
    assert [p["status"] for p in pending["payments"]] == ["pending"] and len(pending["charges"]) == 1
    assert pending["invoice"]["status"] == "due" and pending["notifications"] == []
    # The next sweep finds the attempt and charges nothing; the reconciler settles it.
    assert out["missed_again"] == 0 and out["after_missed_again"]["charges"] == pending["charges"]
    assert out["reconciled"] == 1 and out["final_missed"] == 0
    final = out["final"]
    assert final["invoice"]["status"] == "paid" and final["all_charges"] == 1
    assert [p["status"] for p in final["payments"]] == ["succeeded"]
    assert sorted(n[1] for n in final["notifications"] if n[0] == "payment_received") == out["recipients"]


# --- PO numbers ------------------------------------------------------------------------------------------


def test_profile_po_change_stopped_before_its_history_leaves_neither_then_the_same_form_saves_both(scenario):
    out = scenario("profile_po", "before_history")
    _assert_503_page(out["first"], STOPPING_REQUEST_SECONDS)
    _assert_503_page(out["during"])
    assert out["after_crash"] == {"profile": out["before"], "history": []}
    assert out["again"]["status"] == 302, out["again"]["body"][:500]
    assert out["final"]["profile"] == {"po_number": "WG-OUTAGE-1", "version": out["before"]["version"] + 1}
    old = out["before"]["po_number"]
    assert out["final"]["history"] == [["po_number", old, "WG-OUTAGE-1", "edit", None]]
    assert out["page"]["status"] == 200 and "WG-OUTAGE-1" in out["page"]["body"]


def test_amendment_approval_stopped_before_the_email_leaves_nothing_then_the_same_confirmation_does_all(scenario):
    out = scenario("amendment_approve", "before_notification")
    _assert_503_page(out["first"], STOPPING_REQUEST_SECONDS)
    _assert_503_page(out["during"])
    before, after = out["before"], out["after_crash"]
    # Nothing of the approval: no revision, no history, no period PO, no e-mail.
    for key in ("request", "revisions", "printed_po", "history", "period_po", "notifications"):
        assert after[key] == before[key], key
    assert before["request"]["status"] == "open" and len(before["revisions"]) == 1
    assert after["pdf_published"] == []

    assert out["again"]["status"] == 302, out["again"]["body"][:500]
    final = out["final"]
    assert final["request"]["status"] == "approved"
    assert [r[1] for r in final["revisions"]] == [before["printed_po"], "NW-OUTAGE-7"]
    assert final["printed_po"] == "NW-OUTAGE-7"
    assert len(final["history"]) == 1 and final["history"][0][:4] == [
        "po_number",
        before["printed_po"],
        "NW-OUTAGE-7",
        "support_amendment",
    ]
    assert final["period_po"] == [[out["period"], "NW-OUTAGE-7"]]
    approved = [n for n in final["notifications"] if n[0] == "po_amendment_approved"]
    assert approved == [["po_amendment_approved", out["customer"]]]
    assert len(final["pdf_published"]) == 1  # the new revision's PDF, once
    # A repeat of the confirmation changes nothing.
    assert out["repeat"]["status"] == 302
