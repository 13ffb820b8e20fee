"""Recorded answers of Stripe's API (stripe_recorded.json) for what localstripe cannot
produce: every decline code but card_declined, an off-session charge that needs
authentication, a declined SetupIntent, a server error.

``RecordedHTTPClient`` is the Stripe SDK's HTTP client for such a test: the routes it
is given are answered from the file, every other request goes to localstripe as usual.
"""

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import stripe

RECORDED = {
    k: v for k, v in json.loads(Path(__file__).with_name("stripe_recorded.json").read_text()).items() if k[0] != "_"
}


def answer(name: str) -> tuple[int, dict]:
    return RECORDED[name]["status"], RECORDED[name]["body"]


def declined_intent(name: str) -> dict:
    """The PaymentIntent inside a recorded 402 answer."""
    return RECORDED[name]["body"]["error"]["payment_intent"]


class RecordedHTTPClient(stripe.HTTPClient):
    name = "recorded"

    def __init__(self, routes: dict, *, timeout: float = 5):
        """``routes``: {(METHOD, path regex): (status, body)}."""
        super().__init__()
        self.routes = routes
        self.passthrough = stripe.RequestsClient(timeout=timeout)
        self.served: list[str] = []

    def request(self, method, url, headers, post_data=None):
        path = urlsplit(url).path
        for (route_method, pattern), (status, body) in self.routes.items():
            if route_method == method.upper() and re.fullmatch(pattern, path):
                self.served.append(f"{route_method} {path}")
                return json.dumps(body).encode(), status, {"Request-Id": "req_recorded"}
        return self.passthrough.request(method, url, headers, post_data)

    def close(self):
        self.passthrough.close()


def charge_answered_with(name: str) -> dict:
    """Routes for a charge that Stripe answers with the recorded 402 ``name``: the
    creation of the PaymentIntent, then reading that PaymentIntent back."""
    status, body = answer(name)
    routes = {("POST", r"/v1/payment_intents"): (status, body)}
    intent = body.get("error", {}).get("payment_intent")
    if intent:
        routes[("GET", re.escape(f"/v1/payment_intents/{intent['id']}"))] = (200, intent)
    return routes
