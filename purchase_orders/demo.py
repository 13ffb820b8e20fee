"""Demo data of the purchase_orders app, added by ``manage.py seed_demo`` (idempotent).

* Northwind Traders (enterprise): a PO number set by the EA admin for the current
  billing period (earlier periods keep the default, the enrollment number).
* Woodgrove Nederland (customer agreement): a PO number for the next invoice, so the
  history has an entry.
* One open request to amend an issued Woodgrove Nederland invoice, for the support queue.
"""

from billing_portal import clock
from invoices.models import Invoice

from . import selectors, services
from .models import AmendmentRequest, NumberChange, PeriodPONumber


def seed(demo) -> None:
    """Add this app's demo data for the personas in ``demo`` (accounts.demo.Demo)."""
    northwind = demo.profiles["northwind"]
    period = selectors.current_period(northwind.account)
    if not PeriodPONumber.objects.filter(profile=northwind, period=period).exists():
        services.period_po_number_set(
            profile=northwind, period=period, po_number=f"NW-PO-{period:%Y%m}", actor=demo.users["ea_admin"], version=0
        )

    woodgrove_nl = demo.profiles["woodgrove_nl"]
    woodgrove_nl.refresh_from_db()
    if not NumberChange.objects.filter(profile=woodgrove_nl).exists() and not woodgrove_nl.po_number:
        services.profile_po_number_set(
            profile=woodgrove_nl,
            po_number="WG-NL-4500012345",
            actor=demo.users["ca_owner"],
            version=woodgrove_nl.version,
        )

    if not AmendmentRequest.objects.filter(profile=woodgrove_nl).exists():
        invoice = (
            Invoice.objects.select_related("current_revision", "profile__account")
            .filter(profile=woodgrove_nl, period__lt=clock.month_start(clock.today()))
            .exclude(status="void")
            .order_by("period")
            .first()
        )
        if (
            invoice is not None
            and invoice.current_revision
            and invoice.current_revision.po_number != "WG-NL-4500012345"
        ):
            services.amendment_request_create(
                invoice=invoice,
                actor=demo.users["ca_owner"],
                message="Onze inkoopafdeling heeft een inkooporder afgegeven; vermeld PO WG-NL-4500012345 op deze factuur.",
                po_number="WG-NL-4500012345",
            )
