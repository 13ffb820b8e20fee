from tests.invoices.conftest import add_charge, run_billing  # noqa: F401
