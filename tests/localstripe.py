"""localstripe, a local server speaking Stripe's API, for the tests of the Stripe adapter.

* ``localstripe`` (session): starts ``localstripe`` on a free port in a subprocess, waits
  until it answers and stops it at the end. It keeps its data in memory (its usual
  snapshot file in /tmp is not written). Outside CI a missing localstripe skips the
  tests that need it; under ``CI=true`` it must be there (requirements-dev.txt).
* ``stripe_settings``: the portal's Stripe settings pointed at it (keys, webhook
  secret, API base, Stripe.js from localstripe).
* ``LocalStripe`` helpers do what the customer's browser or bank would: confirm a
  SetupIntent with a test card number (only tests ever send a card number, and only to
  localstripe), pass or fail a 3-D Secure check, register a webhook endpoint.
* ``silent_listener``: a socket that accepts connections and never answers;
  ``lost_answer_proxy``: forwards a request to localstripe and drops the answer (the
  charge is made, the caller times out).
"""

import contextlib
import hashlib
import hmac
import http.client
import json
import socket
import sys
import threading
import time
import urllib.request

import pytest

from tests.servers import free_port, require, server_process

SECRET_KEY = "sk_test_portal_localstripe"
PUBLISHABLE_KEY = "pk_test_portal_localstripe"
WEBHOOK_SECRET = "whsec_portal_localstripe_test"

# Runs localstripe without its on-disk snapshot (/tmp/localstripe.pickle is shared by
# every localstripe on the machine, and pickling the store on every write is slow).
LAUNCHER = """
import sys
import localstripe.resources as resources
resources.Store.dump_to_disk = lambda self: None
from localstripe.server import start
sys.argv = ["localstripe", "--port", sys.argv[1], "--from-scratch"]
start()
"""


class LocalStripe:
    def __init__(self, url: str):
        self.url = url

    def client(self, *, timeout: float = 5):
        import stripe

        return stripe.StripeClient(
            SECRET_KEY,
            base_addresses={"api": self.url},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout),
        )

    def _post(self, path: str, data: dict) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.url + path, data=json.dumps(data).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                body = response.read()
                return response.status, (json.loads(body) if body else {})
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def enter_card(self, setup_intent_id: str, number: str, *, holder: str = "Ava de Vries", exp_year: int = 2031):
        """What Stripe.js does with the card typed into Elements: confirm the SetupIntent
        (and pass the bank's check when the card asks for one). Returns the HTTP status."""
        status, body = self._post(
            f"/v1/setup_intents/{setup_intent_id}/confirm",
            {
                "key": PUBLISHABLE_KEY,
                "payment_method_data": {
                    "type": "card",
                    "card": {"number": number, "exp_month": "11", "exp_year": str(exp_year), "cvc": "123"},
                    "billing_details": {"name": holder},
                },
            },
        )
        if status == 200 and body.get("status") == "requires_action":
            status, body = self._post(f"/v1/setup_intents/{setup_intent_id}/confirm", {"key": PUBLISHABLE_KEY})
        return status

    def authenticate(self, payment_intent_id: str, *, success: bool) -> dict:
        """The customer passes (or fails) the bank's 3-D Secure check of a PaymentIntent."""
        intent = self.client().v1.payment_intents.retrieve(payment_intent_id)
        status, body = self._post(
            f"/v1/payment_intents/{payment_intent_id}/_authenticate?success={'true' if success else 'false'}",
            {"key": PUBLISHABLE_KEY, "client_secret": intent.client_secret},
        )
        assert status == 200, body
        return body

    def payment_intents(self, key: str = "") -> list[dict]:
        intents = [i.to_dict() for i in self.client().v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()]
        return [i for i in intents if not key or (i.get("metadata") or {}).get("portal_key") == key]

    def refunds(self, payment_intent_id: str) -> list[dict]:
        return self.client().v1.refunds.list(params={"payment_intent": payment_intent_id}).to_dict()["data"]

    def send_webhooks_to(self, url: str, *, secret: str = WEBHOOK_SECRET, name: str = "portal"):
        status, _body = self._post(f"/_config/webhooks/{name}", {"url": url, "secret": secret})
        assert status == 200


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for ``payload`` (Stripe's scheme: HMAC-SHA256 of
    "<timestamp>.<payload>")."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@pytest.fixture(scope="session")
def localstripe():
    require("localstripe", "localstripe", "the Stripe adapter's tests")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with server_process([sys.executable, "-c", LAUNCHER, str(port)], url + "/js.stripe.com/v3/", "localstripe"):
        yield LocalStripe(url)


@pytest.fixture
def stripe_settings(settings, localstripe):
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = localstripe.url
    settings.STRIPE_JS_URL = f"{localstripe.url}/js.stripe.com/v3/"
    settings.STRIPE_TIMEOUT_SECONDS = 5
    return settings


@contextlib.contextmanager
def _serve(handle):
    """A listener on 127.0.0.1 whose connections ``handle(conn, stop)`` serves."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    stop = threading.Event()
    connections = []

    def loop():
        while not stop.is_set():
            try:
                conn, _addr = server.accept()
            except OSError:
                continue
            connections.append(conn)
            threading.Thread(target=handle, args=(conn, stop), daemon=True).start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        for conn in connections:
            conn.close()
        server.close()


@pytest.fixture
def silent_listener():
    """The address of a server that takes the connection and never answers."""

    def handle(conn, stop):
        stop.wait(30)

    with _serve(handle) as url:
        yield url


def _read_request(conn) -> tuple[str, str, dict, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _version = lines[0].split(" ", 2)
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), "0"))
    while len(body) < length:
        body += conn.recv(65536)
    return method, path, headers, body


@pytest.fixture
def lost_answer_proxy(localstripe):
    """The address of a proxy to localstripe that loses the answers to the creation of
    PaymentIntents: the request takes effect (the charge is made), the caller times out.
    Every other request is answered as usual."""
    target = localstripe.url.removeprefix("http://")

    def handle(conn, stop):
        method, path, headers, body = _read_request(conn)
        upstream = http.client.HTTPConnection(target, timeout=10)
        forwarded = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
        upstream.request(method, path, body=body, headers=forwarded)
        response = upstream.getresponse()
        content = response.read()
        upstream.close()
        if method == "POST" and path.split("?")[0] == "/v1/payment_intents":
            stop.wait(30)
            return
        head = f"HTTP/1.1 {response.status} {response.reason}\r\n"
        head += f"Content-Type: {response.getheader('Content-Type', 'application/json')}\r\n"
        head += f"Content-Length: {len(content)}\r\nConnection: close\r\n\r\n"
        conn.sendall(head.encode("latin-1") + content)
        conn.close()

    with _serve(handle) as url:
        yield url
