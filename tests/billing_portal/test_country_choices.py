"""Country selects are in the page's language, sorted in it, with the one empty label,
in every form that has one (card forms, the pay-by-invoice request, the account profile)."""

import pytest
from django.utils import translation

from accounts.forms import AccountProfileForm
from billing_portal.forms import EMPTY_CHOICE
from payments.forms import AddCardForm, UpdateCardForm
from support.forms import PayByInvoiceForm, QueueFilterForm

FORMS = [AddCardForm, UpdateCardForm, PayByInvoiceForm, AccountProfileForm]


def _labels(form_class):
    form = form_class()
    return [str(label) for _value, label in form.fields["country"].choices]


@pytest.mark.parametrize("form_class", FORMS, ids=lambda f: f.__name__)
def test_country_names_follow_the_language_of_the_page(form_class):
    with translation.override("en"):
        english = _labels(form_class)
    with translation.override("nl"):
        dutch = _labels(form_class)
    assert english[0] == dutch[0] == EMPTY_CHOICE
    assert "Germany" in english and "Netherlands" in english
    assert "Duitsland" in dutch and "Nederland" in dutch and "Germany" not in dutch
    # Sorted in the page's language: België before Duitsland before Nederland.
    assert dutch.index("België") < dutch.index("Duitsland") < dutch.index("Nederland")


def test_filter_keeps_its_all_countries_label_in_the_page_language():
    with translation.override("nl"):
        labels = [str(label) for _value, label in QueueFilterForm().fields["country"].choices]
    assert labels[0] != "All countries" and "Duitsland" in labels
