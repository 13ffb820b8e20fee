from tests.billing_portal.conftest import PYTHON, ROOT, production_env  # noqa: F401
