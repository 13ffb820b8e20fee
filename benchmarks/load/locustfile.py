"""Scenarios of the load test, for locust (started by ``python -m benchmarks.load``, which
seeds the database, starts gunicorn and passes the plan; not usable on its own).

Each simulated user is one customer of the plan (``LOAD_PLAN``: a web-direct account
admin with its card, invoices and invoices to pay). It signs in once through the HTML
sign-in form (setup, not measured), then, once every user has, all users run one
scenario at a time, back to back without think time, in the phases of ``LOAD_PHASES``
(``scenario:seconds,...``; the runner puts the bare logged-in view before every scenario). A phase ends for a user when its time is up and its
last request has been answered; the next phase starts a second after the last user's
(nothing of one phase is still queued in the server when the next is measured). So each
scenario's requests/s is its capacity under the same number of users, comparable with
the bare logged-in view measured in the same run. Every answer is checked (status,
content, redirect target); anything else is a failure. Each user pays only invoices of
its own account, each once. Every request says ``X-Forwarded-Proto: https``, as the
TLS-terminating proxy in front of a production portal does.

Results (every request's name, start, duration and outcome, the phases, the failures)
are written to ``LOAD_RESULT`` as JSON when locust stops.
"""

import json
import os
import random
import re
import time
import urllib.parse
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

import gevent
from locust import FastHttpUser, constant, events, task

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
RESULT = Path(os.environ["LOAD_RESULT"])
PHASES = [(name, float(seconds)) for name, seconds in (p.split(":") for p in os.environ["LOAD_PHASES"].split(","))]
SETUP_TIMEOUT = float(os.environ.get("LOAD_SETUP_TIMEOUT", "300"))
PROXY = {"X-Forwarded-Proto": "https"}
FORM = {**PROXY, "Content-Type": "application/x-www-form-urlencoded"}
CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
PAY_TOKEN = re.compile(rb'name="token" value="([^"]+)"')

GAP = 1.0  # seconds between the end of one phase (every user's last answer) and the next
STATE = {
    "next": 0,
    "ready": 0,
    "arrived": 0,
    "phase": -1,
    "starts": [],
    "ends": [],
    "started": time.time(),
    "quitting": False,
}
RECORDS: list = []
FAILURES: list = []


@events.request.add_listener
def _record(name, response_time, exception, start_time=None, **_kwargs):
    RECORDS.append((name, start_time or time.time() - response_time / 1000, response_time, exception is None))
    if exception is not None:
        FAILURES.append(f"{name}: {exception}"[:500])


@events.quitting.add_listener
def _write(**_kwargs):
    RESULT.write_text(
        json.dumps(
            {
                "starts": STATE["starts"],
                "ends": STATE["ends"],
                "phases": PHASES,
                "records": RECORDS,
                "failures": FAILURES,
                "ready": STATE["ready"],
            }
        )
    )


class BehindTlsProxy(DefaultCookiePolicy):
    """The portal's cookies are Secure (production mode); the load test talks plain HTTP
    to it as the TLS-terminating proxy does, so the cookie jar sends them all the same."""

    def return_ok_secure(self, cookie, request):
        return True


def _status(response) -> str:
    """The status code, or the connection error when there was no answer."""
    error = getattr(response, "error", None)
    return f"{response.status_code} ({error!r})" if error else str(response.status_code)


def _fail(name: str, message: str) -> None:
    events.request.fire(
        request_type="CHECK",
        name=name,
        response_time=0,
        response_length=0,
        exception=RuntimeError(message),
        context={},
        start_time=time.time(),
    )


class Customer(FastHttpUser):
    wait_time = constant(0)
    network_timeout = 120.0
    connection_timeout = 30.0

    def on_start(self):
        index = STATE["next"]
        STATE["next"] += 1
        if index >= len(PLAN):
            _fail("setup", f"more users than the plan has ({len(PLAN)})")
            self._quit()
            return
        self.me = PLAN[index]
        self.finished = -1  # the last phase this user has finished
        self.client.cookiejar.set_policy(BehindTlsProxy())
        self.due = list(self.me["due"])
        self.api_token = None
        self.referer = "https://" + urllib.parse.urlsplit(self.host).netloc
        if self._sign_in("setup: sign-in form", "setup: sign-in"):
            STATE["ready"] += 1
            if STATE["ready"] == len(PLAN):
                self._next_phase()
        else:
            self._quit()

    def _quit(self):
        if not STATE["quitting"]:
            STATE["quitting"] = True
            gevent.spawn_later(0.2, self.environment.runner.quit)
        gevent.sleep(1)

    @staticmethod
    def _next_phase():
        now = time.time()
        if STATE["phase"] >= 0:
            STATE["ends"].append(now)
        STATE["phase"] += 1
        STATE["starts"].append(now + GAP)

    @task
    def step(self):
        now, phase = time.time(), STATE["phase"]
        if phase < 0:
            if now - STATE["started"] > SETUP_TIMEOUT:
                _fail("setup", f"not every user signed in within {SETUP_TIMEOUT:.0f} s")
                self._quit()
            gevent.sleep(0.05)
            return
        if phase >= len(PHASES):
            self._quit()
            return
        start, (scenario, seconds) = STATE["starts"][phase], PHASES[phase]
        if now < start:
            gevent.sleep(start - now)
        elif now < start + seconds:
            getattr(self, "scenario_" + scenario.replace("-", "_"))()
        elif self.finished < phase:
            self.finished = phase
            # Idle until the next phase: longer than gunicorn keeps a connection open.
            self.client.client.close()
            STATE["arrived"] += 1
            if STATE["arrived"] == len(PLAN):
                STATE["arrived"] = 0
                self._next_phase()
        else:
            gevent.sleep(0.05)

    # --- helpers -------------------------------------------------------------------------

    def _get(self, path, name, expect=b"", status=200, headers=None):
        """GET ``path``; a failure unless the status is ``status`` and the body holds ``expect``."""
        with self.client.get(
            path, name=name, headers={**PROXY, **(headers or {})}, allow_redirects=False, catch_response=True
        ) as response:
            body = response.content or b""
            if response.status_code != status or expect not in body:
                response.failure(f"{_status(response)}, {expect!r} expected: {body[:120]!r}")
                return None
            response.success()
            return body

    def _post(self, path, name, fields, location):
        """POST the form ``fields``; a failure unless the answer is a redirect to ``location``."""
        headers = {**FORM, "Referer": self.referer + path}
        with self.client.post(
            path,
            name=name,
            data=urllib.parse.urlencode(fields),
            headers=headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            target = urllib.parse.urlsplit(response.headers.get("Location") or "").path
            if response.status_code != 302 or target != location:
                body = response.content or b""
                response.failure(f"{_status(response)} to {target!r}, 302 to {location} expected: {body[:200]!r}")
                return False
            response.success()
            return True

    def _sign_in(self, form_name, name):
        self.client.cookiejar.clear()
        body = self._get("/sign-in/", form_name, b"csrfmiddlewaretoken")
        if body is None:
            return False
        fields = {
            "csrfmiddlewaretoken": CSRF_FIELD.search(body).group(1).decode(),
            "username": self.me["email"],
            "password": self.me["password"],
        }
        return self._post("/sign-in/", name, fields, "/")

    # --- scenarios (LOAD_PHASES names, "-" for "_") ---------------------------------------

    def scenario_hello(self):
        self._get("/bench/hello/", "hello (bare logged-in view)", b"hello ")

    def scenario_overview(self):
        self._get("/", "overview", b"Load Test")

    def scenario_sign_in(self):
        self._sign_in("sign-in form", "sign-in")

    def scenario_api_token(self):
        body = {"email": self.me["email"], "password": self.me["password"]}
        with self.client.post(
            "/api/v1/auth/token/", name="API token", json=body, headers=PROXY, catch_response=True
        ) as response:
            if response.status_code != 200 or "token" not in (response.json() or {}):
                response.failure(f"{_status(response)}: {(response.content or b'')[:200]!r}")
                return
            response.success()
            self.api_token = response.json()["token"]

    def scenario_api_list(self):
        if self.api_token is None:
            self.scenario_api_token()
            if self.api_token is None:
                return
        self._get(
            "/api/v1/invoices/", "API invoice list", b'"results"', headers={"Authorization": f"Token {self.api_token}"}
        )

    def scenario_list(self):
        self._get("/invoices/", "invoice list", b"INV-")

    def scenario_detail(self):
        self._get(f"/invoices/{random.choice(self.me['invoices'])}/", "invoice detail", b"INV-")

    def scenario_pdf(self):
        self._get(f"/invoices/{random.choice(self.me['pdf'])}/pdf/", "invoice PDF", b"%PDF-")

    def scenario_pay(self):
        if not self.due:
            _fail("pay now (no invoice left)", "every invoice of this user is paid: seed more (--periods)")
            gevent.sleep(PHASES[STATE["phase"]][1])
            return
        invoice = self.due.pop(0)
        path = f"/invoices/{invoice}/pay/"
        body = self._get(path, "pay now form", b'name="token"')
        if body is None:
            return
        fields = {
            "csrfmiddlewaretoken": CSRF_FIELD.search(body).group(1).decode(),
            "token": PAY_TOKEN.search(body).group(1).decode(),
            "method": str(self.me["card"]),
        }
        self._post(path, "pay now", fields, f"/invoices/{invoice}/")
