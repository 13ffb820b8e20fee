"""Schemathesis against the accounts part of the OpenAPI schema: generated requests
(as a signed-in customer and anonymously) never cause a 5xx, and every error has the
one JSON shape."""

import json

import pytest
import schemathesis
from django.urls import Resolver404, resolve
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.core import NotSet

ACCOUNTS_PATHS = r"^/api/v1/(auth/token|me|billing-accounts|billing-accounts/\{id\}|billing-profiles|billing-profiles/\{id\}|subscriptions|subscriptions/\{subscription_id\})/$"

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True)).include(
    path_regex=ACCOUNTS_PATHS
)

FUZZ = settings(
    max_examples=12,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _call(client, case):
    kwargs = {}
    if not isinstance(case.body, NotSet):
        data = case.body if isinstance(case.body, bytes) else json.dumps(case.body)
        kwargs = {"data": data, "content_type": case.media_type or "application/json"}
    return client.generic(case.method, case.formatted_path, **kwargs, QUERY_STRING=_query(case.query))


def _query(query):
    from urllib.parse import urlencode

    return urlencode(query or {}, doseq=True)


def _check(response):
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"code", "detail", "fields"}, body
        assert isinstance(body["fields"], dict)


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
def test_accounts_api_fuzz_signed_in(case, world):
    client = APIClient()
    client.force_authenticate(world.users["ca_owner"])
    response = _call(client, case)
    _check(response)


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
def test_accounts_api_fuzz_anonymous(case, world):
    response = _call(APIClient(), case)
    _check(response)
    if "/auth/token/" not in case.path:
        try:
            resolve(case.formatted_path)
        except Resolver404:
            assert response.status_code == 404  # e.g. a negative id: no such address
        else:
            assert response.status_code == 401
