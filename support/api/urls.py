from django.urls import path

from . import customer_views as customer
from . import staff_views as staff

PBI = "support/pay-by-invoice-requests/<int:pk>/"
QUEUE_PBI = "support/queue/pay-by-invoice/<int:pk>/"

urlpatterns = [
    path("support/request-types/", customer.RequestTypeList.as_view(), name="api-support-request-types"),
    path("support/scopes/", customer.ScopeList.as_view(), name="api-support-scopes"),
    path("support/prechecks/", customer.PrecheckList.as_view(), name="api-support-prechecks"),
    path("support/pay-by-invoice-requests/", customer.RequestList.as_view(), name="api-pbi-requests"),
    path(PBI, customer.RequestDetail.as_view(), name="api-pbi-request"),
    path(PBI + "answer/", customer.RequestAnswer.as_view(), name="api-pbi-request-answer"),
    path(PBI + "messages/", customer.RequestMessage.as_view(), name="api-pbi-request-messages"),
    path(PBI + "cancel/", customer.RequestCancel.as_view(), name="api-pbi-request-cancel"),
    path(
        PBI + "credit-application/",
        customer.RequestCreditApplication.as_view(),
        name="api-pbi-request-credit-application",
    ),
    path("support/queue/", staff.QueueList.as_view(), name="api-support-queue-all"),
    path(QUEUE_PBI, staff.StaffRequestDetail.as_view(), name="api-queue-pbi"),
    path(QUEUE_PBI + "ask-information/", staff.AskInformation.as_view(), name="api-queue-pbi-ask-information"),
    path(QUEUE_PBI + "notes/", staff.AddNote.as_view(), name="api-queue-pbi-notes"),
    path(
        QUEUE_PBI + "send-credit-application/",
        staff.SendCreditApplication.as_view(),
        name="api-queue-pbi-send-credit-application",
    ),
    path(QUEUE_PBI + "credit-decision/", staff.CreditDecision.as_view(), name="api-queue-pbi-credit-decision"),
    path(QUEUE_PBI + "approve/", staff.Approve.as_view(), name="api-queue-pbi-approve"),
    path(QUEUE_PBI + "reject/", staff.Reject.as_view(), name="api-queue-pbi-reject"),
]
