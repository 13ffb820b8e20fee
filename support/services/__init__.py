"""Writes of the support app: the customer's side (``customer``) and support staff's
side (``staff``) of a pay-by-invoice request. The names below are the public services."""

from .customer import (
    check_may_request,
    credit_application_submit,
    pbi_request_answer,
    pbi_request_cancel,
    pbi_request_create,
    pbi_request_message,
    request_types,
)
from .staff import (
    check_staff,
    is_staff,
    pbi_add_note,
    pbi_approve,
    pbi_ask_information,
    pbi_record_credit_decision,
    pbi_reject,
    pbi_send_credit_application,
)

__all__ = [
    "check_may_request",
    "check_staff",
    "is_staff",
    "credit_application_submit",
    "pbi_add_note",
    "pbi_approve",
    "pbi_ask_information",
    "pbi_record_credit_decision",
    "pbi_reject",
    "pbi_request_answer",
    "pbi_request_cancel",
    "pbi_request_create",
    "pbi_request_message",
    "pbi_send_credit_application",
    "request_types",
]
