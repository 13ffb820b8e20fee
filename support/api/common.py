"""What the customer's and support staff's API views share: the documented error
responses and the payload of a request's detail."""

from billing_portal import api
from support import prechecks, scopes

ERROR_DESCRIPTIONS = {
    400: "Invalid input: {code, detail, fields} with the messages per field.",
    401: "Not signed in.",
    403: "Your role may not do this (e.g. pbi_role_not_allowed, not_support_staff).",
    404: "No such request, or not one you can see.",
    409: "The request's state does not allow it (e.g. request_status, pbi_precheck_failed).",
}


def errors(*codes: int) -> dict:
    """The documented error responses (billing_portal.api.errors) in support's words."""
    return api.errors(*codes, descriptions=ERROR_DESCRIPTIONS)


class RequestView:
    """A request with what its detail shows (history, messages, credit application,
    expected decision dates, and for support staff the pre-checks); every other
    attribute is the request's own."""

    def __init__(self, pbi, **extra):
        self._pbi = pbi
        self.__dict__.update(extra)

    def __getattr__(self, name):
        return getattr(self._pbi, name)


def _decision_expected(pbi):
    dates = scopes.decision_dates(pbi)
    return {"earliest": dates[0], "latest": dates[1]} if dates else None


def customer_view(pbi) -> RequestView:
    return RequestView(
        pbi,
        events=list(pbi.events.select_related("actor")),
        messages=list(pbi.messages.filter(internal=False).select_related("author")),
        credit_application=getattr(pbi, "credit_application", None),
        decision_expected=_decision_expected(pbi),
    )


def staff_view(pbi) -> RequestView:
    now = prechecks.run_prechecks(
        profile=pbi.profile, subscription=pbi.subscription, for_approval=True, request_id=pbi.pk
    )
    return RequestView(
        pbi,
        events=list(pbi.events.select_related("actor")),
        messages=list(pbi.messages.select_related("author")),
        credit_application=getattr(pbi, "credit_application", None),
        decision_expected=_decision_expected(pbi),
        prechecks_submitted=[prechecks.describe(check) for check in pbi.prechecks],
        prechecks_now=[prechecks.describe(check) for check in now],
        blocked=bool(prechecks.blockers(now)),
    )
