"""Demo data of the invoices app, added by ``manage.py seed_demo`` (idempotent)."""


def seed(demo) -> None:
    """Add this app's demo data for the personas in ``demo`` (accounts.demo.Demo)."""
    return None
