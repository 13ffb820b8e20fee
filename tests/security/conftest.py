import pytest
from django.utils import translation

from tests.billing_portal.conftest import PYTHON, ROOT, production_env  # noqa: F401


@pytest.fixture(autouse=True)
def _english_afterwards():
    """A request in Dutch leaves Dutch active in this thread; later tests expect English."""
    yield
    translation.activate("en")
