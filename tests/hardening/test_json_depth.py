"""A deeply nested JSON body is a 400 with the one error shape, never a RecursionError."""

import pytest
from rest_framework.test import APIClient

from billing_portal.parsers import MAX_DEPTH, nesting_depth

pytestmark = pytest.mark.django_db

NESTED = "[" * 1000 + "]" * 1000


def _assert_parse_error(response):
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    assert body["code"] == "parse_error" and body["fields"] == {}


def test_token_endpoint_refuses_deeply_nested_body():
    response = APIClient().post("/api/v1/auth/token/", NESTED, content_type="application/json")
    _assert_parse_error(response)


def test_token_endpoint_refuses_deeply_nested_object_value():
    body = '{"email": ' + '{"a": ' * 1000 + "1" + "}" * 1000 + "}"
    _assert_parse_error(APIClient().post("/api/v1/auth/token/", body, content_type="application/json"))


def test_authenticated_endpoint_refuses_deeply_nested_body(demo, api_for):
    api = api_for(demo.users["wd_admin"])
    _assert_parse_error(api.post("/api/v1/card-setups/", NESTED, content_type="application/json"))


def test_nesting_within_the_limit_still_parses():
    body = '{"email": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}"
    response = APIClient().post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"


def test_brackets_inside_strings_do_not_count():
    assert nesting_depth('{"a": "[[[[\\"[[[[", "b": [1]}') == 2
    assert nesting_depth("[" * 100) == 100
