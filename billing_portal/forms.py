"""Form helpers shared by the apps' views."""

import copy

from django import forms
from django_countries import countries

from .card_numbers import CARD_NUMBER_REFUSED
from .errors import DomainError

# The one label of "nothing chosen" in every select of the portal (model forms included).
EMPTY_CHOICE = "—"


class SharedChoicesSelect(forms.Select):
    """A select whose copies share its choices instead of each normalizing a copy of them.

    A form copies every field and widget of its class per instance (``Form.__init__``);
    Django's select copies and re-normalizes its choices each time, which for a form
    with several fixed selects (the invoice list's filters: status, sort, two months,
    two years) cost about as much as reading the page's rows. The choices of a class's
    field are never changed in place: a form that needs others assigns new ones
    (``field.choices = ...``), which replaces them on that form's copy only."""

    def __deepcopy__(self, memo):
        obj = copy.copy(self)
        obj.attrs = self.attrs.copy()
        memo[id(self)] = obj
        return obj


class SharedChoiceField(forms.ChoiceField):
    """A choice field whose per-form copies share its choices (``SharedChoicesSelect``)."""

    widget = SharedChoicesSelect

    def __deepcopy__(self, memo):
        return forms.Field.__deepcopy__(self, memo)  # ChoiceField's would deep-copy the choices


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
