"""Form helpers shared by the apps' views."""

from django_countries import countries

from .card_numbers import CARD_NUMBER_REFUSED
from .errors import DomainError

# The one label of "nothing chosen" in every select of the portal (model forms included).
EMPTY_CHOICE = "—"


def country_choices(empty_label=EMPTY_CHOICE):
    """The choices of a country select, in the language of the page and sorted in it.

    A callable, so Django evaluates it each time the form is rendered or validated: a
    list built when the module is imported would stay in the language the process
    happened to start in (English country names, in English order, on Dutch pages)."""

    def choices():
        return [("", empty_label), *countries]

    return choices


def blank_refused_card_numbers(form) -> None:
    """A field refused for holding a card number is shown again empty: the number is
    never echoed back in the re-rendered page."""
    refused = [
        name
        for name, errors in (form._errors or {}).items()
        if name in form.fields and str(CARD_NUMBER_REFUSED) in [str(e) for e in errors]
    ]
    if refused and form.is_bound:
        form.data = form.data.copy()
        for name in refused:
            form.data[form.add_prefix(name)] = ""


class NoCardNumbersEchoedMixin:
    """For a (model) form, e.g. an admin's: fields refused for a card number re-render empty."""

    def full_clean(self):
        super().full_clean()
        blank_refused_card_numbers(self)


def add_domain_error(form, exc: DomainError) -> None:
    """Show a service's refusal on the form that was submitted.

    Field messages go under their (visible) field; if none could be placed there, or
    the refusal is a stale-version conflict, the overall message goes on top of the form.
    """
    added = False
    for field, errors in exc.fields.items():
        if field in form.fields and not form.fields[field].widget.is_hidden:
            for error in errors:
                form.add_error(field, error)
                added = True
    if not added or exc.code == "stale_version":
        form.add_error(None, exc.message)
    blank_refused_card_numbers(form)


def rebound_with_version(form_class, data, version: int, **kwargs):
    """After a stale-version conflict: the user's input bound again, now against the
    current ``version``, so that what they typed stays and a second Save is a deliberate
    overwrite. ``kwargs`` go to the form (``instance``, choices)."""
    data = data.copy()
    data["version"] = str(version)
    form = form_class(data, initial={"version": version}, **kwargs)
    form.is_valid()
    return form
