"""Several nodes, simulated on one machine (docs/operations.md, "Deployment"): two web
nodes (gunicorn with gunicorn.conf.py, each on its own port) and two Celery workers on
separate queues (``billing,default`` and ``pdf,email``) against one PostgreSQL database,
one Redis and one bucket of moto's S3 server (tests/deployment.py).

``manage.py run_billing`` issues a closed period's invoices through the workers, while
Pay now requests on the invoices of the scopes charged automatically race the worker's
automatic charge. Then a burst of Pay now API requests spread over both web nodes, and
the same invoices paid from both nodes at once, with one Idempotency-Key and with two.
Afterwards: one invoice per billing scope with gap-free numbers, exactly one payment and
one gateway charge per invoice, every invoice PDF stored once in the bucket, every
e-mail sent once (the Notification rows against the messages in the mail folder).
The figures (the billing run's time, payments/s through the two web nodes) are printed,
not asserted.
"""

import json
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from accounts import services as account_services
from billing_portal import clock
from invoices.models import Invoice, InvoiceStatus
from notifications.models import Notification, NotificationStatus
from payments import demo as payments_demo
from payments.models import Payment, PaymentSource, PaymentStatus, SandboxCharge
from tests.deployment import ROOT, WebNode, mail_messages, node_env
from tests.factories import api_key_for, make_account, make_charges, make_subscription
from tests.s3 import PREFIX
from tests.workers import database_url_of, purge_queues, start_worker, stop_worker

AUTO = 4  # scopes with an active card: charged by the worker at issue (and Pay now raced against it)
PLAIN = 14  # scopes whose card is not the active one: Pay now, one request each
SAME_KEY = 3  # ... paid from both nodes at once with one Idempotency-Key
TWO_KEYS = 3  # ... paid from both nodes at once, each request its own key
CHUNK_SIZE = 6
CLIENT_THREADS = 8
WEB_WORKERS, WEB_THREADS = 1, 4  # per web node (gunicorn.conf.py's WEB_CONCURRENCY, WEB_THREADS)
CARD = "4242424242424242"
INVOICE_NUMBER = re.compile(r"INV-\d{4}-\d{6}")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.s3,
    pytest.mark.django_db(transaction=True),
]


class Scope:
    def __init__(self, kind: str, profile, card):
        self.kind, self.profile, self.card = kind, profile, card
        self.invoice_id = None


def _seed(payer, period) -> list[Scope]:
    """One customer-agreement account per scope, owned by ``payer``, with a sandbox card
    (the active one for the automatically charged scopes) and one charge in ``period``."""
    kinds = ["auto"] * AUTO + ["plain"] * PLAIN + ["same_key"] * SAME_KEY + ["two_keys"] * TWO_KEYS
    scopes = []
    for n, kind in enumerate(kinds, start=1):
        account = make_account(agreement_type="customer_agreement", signed_up_by=payer, name=f"Node {n}")
        account_services.role_assign(user=payer, role="ba_owner", account=account)
        profile = account.profiles.get()
        subscription = make_subscription(account, profile)
        card = payments_demo.add_card(
            actor=payer, profile=profile, number=CARD, holder="Nodes Payer", make_active=kind == "auto"
        ).payment_method
        make_charges([subscription], period)
        scopes.append(Scope(kind, profile, card))
    return scopes


def _pay(node: WebNode, token: str, scope: Scope, key: str | None = None) -> tuple[int, dict, float]:
    """``POST /api/v1/invoices/<id>/pay/`` on ``node``: status, answer, seconds."""
    started = time.perf_counter()
    status, body = node.request(
        "POST",
        f"/api/v1/invoices/{scope.invoice_id}/pay/",
        json.dumps({"payment_method": scope.card.pk}).encode(),
        {
            "Content-Type": "application/json",
            "Authorization": f"Token {token}",
            "Idempotency-Key": key or uuid.uuid4().hex,
        },
    )
    return status, json.loads(body or b"{}"), time.perf_counter() - started


def _run_billing(period, env, nodes, token, scopes, pool) -> tuple[float, list]:
    """``manage.py run_billing`` (the chunks published to the billing worker); meanwhile
    each automatically charged scope's invoice is paid with Pay now as soon as it is
    issued, racing the worker's automatic charge. Returns the run's seconds and the
    answers of those Pay now requests (futures)."""
    auto = {s.profile.pk: s for s in scopes if s.kind == "auto"}
    started = time.perf_counter()
    command = [sys.executable, "manage.py", "run_billing", "--period", f"{period:%Y-%m}"]
    process = subprocess.Popen(
        [*command, "--chunk-size", str(CHUNK_SIZE)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    raced = []
    while auto:
        issued = list(Invoice.objects.filter(profile_id__in=list(auto)).values_list("profile_id", "pk"))
        for profile_id, invoice_id in issued:
            scope = auto.pop(profile_id)
            scope.invoice_id = invoice_id
            raced.append(pool.submit(_pay, nodes[len(raced) % 2], token, scope))
        if process.poll() is not None and not issued:
            break  # the run is over: a scope left without an invoice fails below
        time.sleep(0.05)
    output = process.communicate(timeout=60)[0].decode(errors="replace")
    seconds = time.perf_counter() - started
    assert process.returncode == 0, output
    assert f"finished, {len(scopes)} invoices for {len(scopes)} billing scopes" in output, output
    return seconds, raced


def _racing_pairs(nodes, token, scopes) -> dict:
    """Each scope's invoice paid by two requests released at once, one to each node."""
    pairs = [s for s in scopes if s.kind in ("same_key", "two_keys")]
    barrier = threading.Barrier(2 * len(pairs))
    keys = {s.invoice_id: uuid.uuid4().hex for s in pairs}

    def attempt(scope, node):
        key = keys[scope.invoice_id] if scope.kind == "same_key" else uuid.uuid4().hex
        barrier.wait(timeout=30)
        return _pay(node, token, scope, key)

    with ThreadPoolExecutor(2 * len(pairs)) as pool:
        futures = {s.invoice_id: [pool.submit(attempt, s, node) for node in nodes] for s in pairs}
    answers = {s.invoice_id: [f.result() for f in futures[s.invoice_id]] for s in pairs}
    # The same key once more, after both answered: the first answer, replayed.
    replays = {s.invoice_id: _pay(nodes[0], token, s, keys[s.invoice_id]) for s in pairs if s.kind == "same_key"}
    return {"pairs": pairs, "answers": answers, "replays": replays}


def _settled(invoice_ids: list[int], since: int) -> bool:
    """Every PDF stored, every invoice paid, every e-mail of the test queued and sent."""
    invoices = Invoice.objects.filter(pk__in=invoice_ids)
    notifications = Notification.objects.filter(pk__gt=since)
    return (
        not invoices.filter(current_revision__pdf="").exists()
        and not invoices.exclude(status=InvoiceStatus.PAID).exists()
        and notifications.filter(kind="invoice_ready").values("invoice_id").distinct().count() == len(invoice_ids)
        and notifications.filter(kind="payment_received").values("invoice_id").distinct().count() == len(invoice_ids)
        and not notifications.exclude(status=NotificationStatus.SENT).exists()
        and not Payment.objects.filter(status=PaymentStatus.PENDING).exists()
    )


def _wait_settled(invoice_ids, since, nodes, workers, timeout=45) -> float:
    started = time.perf_counter()
    deadline = started + timeout
    while not _settled(invoice_ids, since):
        if time.perf_counter() > deadline:
            logs = "\n".join(f"--- {w['name']}\n{w['log'].read_text()[-3000:]}" for w in workers)
            pytest.fail(f"not settled within {timeout} s:\n{logs}\n" + "\n".join(n.output() for n in nodes))
        time.sleep(0.2)
    return time.perf_counter() - started


def _check_one_invoice_per_scope(scopes) -> None:
    profiles = Counter(Invoice.objects.values_list("profile_id", flat=True))
    assert profiles == Counter({s.profile.pk: 1 for s in scopes})
    numbers = sorted(int(n.rsplit("-", 1)[1]) for n in Invoice.objects.values_list("number", flat=True))
    assert numbers == list(range(1, len(scopes) + 1))


def _check_one_charge_per_invoice(invoice_ids) -> None:
    payments = Payment.objects.filter(invoice_id__in=invoice_ids)
    assert Counter(payments.values_list("invoice_id", flat=True)) == Counter(dict.fromkeys(invoice_ids, 1))
    assert not payments.exclude(status=PaymentStatus.SUCCEEDED).exists()
    assert not payments.filter(needs_refund=True).exists()
    charges = SandboxCharge.objects.filter(idempotency_key__in=payments.values("gateway_key"))
    assert charges.count() == len(invoice_ids) and SandboxCharge.objects.count() == len(invoice_ids)


def _check_pdfs_stored_once(bucket, invoice_ids) -> None:
    invoices = Invoice.objects.filter(pk__in=invoice_ids).select_related("current_revision")
    stored = [bucket.key_of(i.current_revision.pdf) for i in invoices]
    keys = bucket.keys()
    assert sorted(stored) == [k for k in keys if k.startswith(f"{PREFIX}/invoices/")]
    assert len(set(stored)) == len(invoice_ids)
    assert bucket.body(stored[0]).startswith(b"%PDF")


def _check_every_email_once(mail_dir, since) -> int:
    """The messages in the mail folder are the notifications of the test, each once; every
    invoice-ready e-mail carries its PDF."""
    notifications = Notification.objects.filter(pk__gt=since).select_related("invoice")
    expected = Counter((n.recipient, n.kind, n.invoice.number) for n in notifications)
    kinds = {"is ready": "invoice_ready", "Payment received": "payment_received"}
    found = Counter()
    for message in mail_messages(mail_dir):
        subject = str(message["Subject"])
        kind = next(k for phrase, k in kinds.items() if phrase in subject)
        found[(str(message["To"]), kind, INVOICE_NUMBER.search(subject).group())] += 1
        if kind == "invoice_ready":
            assert any(part.get_content_type() == "application/pdf" for part in message.iter_attachments())
    assert found == expected
    assert set(found.values()) == {1}
    return sum(found.values())


def test_two_web_nodes_and_two_workers_bill_and_take_payments_once(s3_bucket, tmp_path, capsys):
    from billing_portal.celery import app

    period = clock.previous_month(clock.month_start(clock.today()))
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = node_env(database_url=database_url_of(connection), mail_dir=mail_dir)
    purge_queues(app)
    nodes, workers = [], []
    try:
        started = time.perf_counter()
        for name, queues in (("billing", "billing,default"), ("documents", "pdf,email")):
            log = tmp_path / f"worker-{name}.log"
            with open(log, "wb") as out:
                process = start_worker(queues=queues, log=out, env=env, extra_args=["-n", f"{name}@%h"])
            workers.append({"name": name, "process": process, "log": log})
        nodes = [WebNode(name, env, tmp_path, workers=WEB_WORKERS, threads=WEB_THREADS) for name in ("web-a", "web-b")]
        # The data is seeded while the nodes start.
        payer = get_user_model().objects.create_user(email="payer@nodes.example", password="nodes-pass-2026")
        scopes = _seed(payer, period)
        token = api_key_for(payer)
        since = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        seed_seconds = time.perf_counter() - started
        for node in nodes:
            node.wait_healthy()
        start_seconds = time.perf_counter() - started

        with ThreadPoolExecutor(CLIENT_THREADS) as pool:
            billing_seconds, raced = _run_billing(period, env, nodes, token, scopes, pool)
            for scope in scopes:
                if scope.invoice_id is None:
                    scope.invoice_id = Invoice.objects.get(profile=scope.profile).pk
            plain = [s for s in scopes if s.kind == "plain"]
            burst_started = time.perf_counter()
            burst = list(pool.map(lambda i: (i % 2, _pay(nodes[i % 2], token, plain[i])), range(len(plain))))
            burst_seconds = time.perf_counter() - burst_started
            raced_answers = [f.result() for f in raced]
        races = _racing_pairs(nodes, token, scopes)
        invoice_ids = [s.invoice_id for s in scopes]
        settle_seconds = _wait_settled(invoice_ids, since, nodes, workers)
    finally:
        for node in nodes:
            node.stop()
        for worker in workers:
            stop_worker(worker["process"])
        purge_queues(app)

    assert [status for _node, (status, _a, _s) in burst] == [201] * len(plain)
    assert {a["status"] for _node, (_st, a, _s) in burst} == {"succeeded"}
    assert Counter(node for node, _answer in burst) == Counter({0: len(plain) // 2, 1: len(plain) // 2})
    assert {status for status, _a, _s in raced_answers} <= {201, 409}
    for scope in races["pairs"]:
        statuses = sorted(status for status, _a, _s in races["answers"][scope.invoice_id])
        if scope.kind == "two_keys":
            assert statuses == [201, 409]
        else:
            assert statuses in ([201, 201], [201, 409])
            status, answer, _s = races["replays"][scope.invoice_id]
            first = next(a for st, a, _s in races["answers"][scope.invoice_id] if st == 201)
            assert (status, answer["id"]) == (201, first["id"])
    _check_one_invoice_per_scope(scopes)
    _check_one_charge_per_invoice(invoice_ids)
    _check_pdfs_stored_once(s3_bucket, invoice_ids)
    emails = _check_every_email_once(mail_dir, since)

    latencies = sorted(seconds for _node, (_st, _a, seconds) in burst)
    automatic = Payment.objects.filter(invoice_id__in=[s.invoice_id for s in scopes if s.kind == "auto"])
    with capsys.disabled():
        print(
            f"\n== several nodes: 2 web nodes (gunicorn, {WEB_WORKERS} worker(s) x {WEB_THREADS} threads each), "
            f"workers on billing,default "
            f"and pdf,email; {len(scopes)} billing scopes (seeded in {seed_seconds:.1f} s while the nodes started; "
            f"both web nodes healthy after {start_seconds:.1f} s)\n"
            f"   billing run ({CHUNK_SIZE} scopes a chunk): {billing_seconds:.1f} s "
            f"({len(scopes) / billing_seconds:.1f} invoices/s); then {settle_seconds:.1f} s until every PDF "
            f"and e-mail was done\n"
            f"   Pay now burst: {len(plain)} payments over both nodes from {CLIENT_THREADS} threads in "
            f"{burst_seconds:.2f} s = {len(plain) / burst_seconds:.1f} payments/s "
            f"(p50 {statistics.median(latencies) * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms)\n"
            f"   raced: {AUTO} automatic charges against Pay now ({automatic.filter(source=PaymentSource.AUTOMATIC).count()} "
            f"won by the worker), {SAME_KEY} invoices from both nodes with one key, {TWO_KEYS} with two keys: "
            f"one charge each\n"
            f"   {len(invoice_ids)} PDFs in the bucket, {emails} e-mails, each once",
            flush=True,
        )
