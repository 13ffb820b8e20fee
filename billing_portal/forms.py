"""Form helpers shared by the apps' views."""

from .errors import DomainError


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


def rebound_with_version(form_class, data, version: int, **kwargs):
    """After a stale-version conflict: the user's input bound again, now against the
    current ``version``, so that what they typed stays and a second Save is a deliberate
    overwrite. ``kwargs`` go to the form (``instance``, choices)."""
    data = data.copy()
    data["version"] = str(version)
    form = form_class(data, initial={"version": version}, **kwargs)
    form.is_valid()
    return form
