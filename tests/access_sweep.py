"""What the access sweep (tests/test_access_sweep.py) visits: every URL pattern of the
portal and every GET of the API schema, with the path arguments resolved from the demo
data; the expected outcomes are in tests/access_table.py."""

import re

from django.urls import URLPattern, URLResolver, get_resolver

# The personas of the sweep (accounts.demo): anonymous, the owners of the tenants whose
# objects are visited, readers and an invoice manager who are refused some pages,
# support staff, and an individual account that is another tenant of every object.
PERSONAS = (
    "anonymous",
    "wd_admin",
    "ea_admin",
    "ca_owner",
    "ca_ba_reader",
    "ca_bp_reader",
    "ca_invoice_manager",
    "support",
    "wd_individual",
)
# The tenant each persona belongs to (support staff and anonymous belong to none).
TENANT = {
    "wd_admin": "contoso",
    "ea_admin": "northwind",
    "ca_owner": "woodgrove",
    "ca_ba_reader": "woodgrove",
    "ca_bp_reader": "woodgrove",
    "ca_invoice_manager": "woodgrove",
    "wd_individual": "individual",
}


def url_patterns(patterns=None, prefix="", namespace=""):
    """(name, route) of every URL pattern, the route as written (``<int:pk>``)."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or ""
            inner = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from url_patterns(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            name = pattern.name or pattern.lookup_str
            yield (f"{namespace}:{name}" if namespace else name), route


def route_to_schema_path(route: str) -> str:
    """``api/v1/invoices/<int:pk>/`` -> ``/api/v1/invoices/{id}/`` (drf-spectacular names pk "id")."""
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{" + ("id" if m.group(1) == "pk" else m.group(1)) + "}", route)
    return path.replace("^", "").replace("$", "")


def fill(route: str, args: dict) -> str:
    """The route with its arguments filled in."""

    def value(match):
        name = match.group(1)
        if name not in args:
            raise KeyError(f"no value for <{name}> in {route}")
        return str(args[name])

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", value, route.replace("^", "").replace("$", ""))
