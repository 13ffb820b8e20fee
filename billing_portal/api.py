"""Shared API pieces: pagination and the one JSON error shape.

Every API error is ``{"code": str, "detail": str, "fields": {name: [messages]}}``;
``ErrorSerializer`` is its schema (the one ``Error`` component) and ``errors(...)`` the
documented error responses for ``extend_schema``. ``billing_portal.schema.AutoSchema``
adds them to every operation.
"""

import copy

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError


def positive_int_param(name: str, raw: str) -> int:
    """A query parameter that must be a whole number of at least 1; anything else
    (empty, "null", "-1", "1.5") is a 400 naming the parameter."""
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()):
        message = _("Enter a whole number.")
        if raw.startswith("-") and raw[1:].isascii() and raw[1:].isdigit():
            message = _("Ensure this value is greater than or equal to %(limit_value)s.") % {"limit_value": 1}
        raise exceptions.ValidationError({name: [message]})
    # More than 20 digits is past the end of any list all the same (and int() of a
    # very long string is refused by Python itself).
    number = int(raw.lstrip("0")[:20] or "0")
    if number < 1:
        raise exceptions.ValidationError(
            {name: [_("Ensure this value is greater than or equal to %(limit_value)s.") % {"limit_value": 1}]}
        )
    return number


def refuse_blank_params(query_params, names) -> None:
    """A filter given empty or as "null" is a 400 naming it, not silently no filter."""
    for name in names:
        raw = query_params.get(name)
        if raw is None:
            continue
        value = raw.strip().lower()
        if value == "":
            raise exceptions.ValidationError({name: [_("This field may not be blank.")]})
        if value in ("null", "none", "undefined"):
            raise exceptions.ValidationError({name: [_("This field may not be null.")]})


class FieldsBuiltOnce:
    """For a ModelSerializer whose fields depend on nothing but its class: the fields are
    built from the model once per class and language (DRF decides on a label in the
    active language) and copied for each serializer, instead of being built anew (DRF's
    way), which costs more than serializing the object itself."""

    def get_fields(self):
        cls = type(self)
        if "_fields_built_once" not in cls.__dict__:
            cls._fields_built_once = {}
        language = get_language()
        built = cls._fields_built_once.get(language)
        if built is None:
            built = cls._fields_built_once[language] = super().get_fields()
        return copy.deepcopy(built)


class ErrorSerializer(serializers.Serializer):
    """Every API error: ``{code, detail, fields}``."""

    code = serializers.CharField(
        help_text="Machine-readable reason, e.g. not_authenticated, invalid, version_conflict."
    )
    detail = serializers.CharField(help_text="What went wrong, in the caller's language.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field (or per failing pre-check code).",
    )


ERROR_DESCRIPTIONS = {
    400: "Invalid input: {code, detail, fields} with the messages per field.",
    401: "Not signed in (no or an unknown token).",
    402: "The payment was declined.",
    403: "Your role may not do this, or the request is not allowed (e.g. CSRF for a session).",
    404: "No such object, or not one you can see (also a page past the end of a list).",
    409: "The object's state or version does not allow it (someone else changed it).",
    413: "The request body is too large.",
    422: "The idempotency key was used for another request.",
    429: "Too many requests: try again later.",
}


def errors(*codes: int, descriptions: dict | None = None) -> dict:
    """Documented error responses for ``extend_schema``, all with the one error shape;
    ``descriptions`` overrides the default text per status."""
    texts = {**ERROR_DESCRIPTIONS, **(descriptions or {})}
    return {code: OpenApiResponse(ErrorSerializer, description=texts[code]) for code in codes}


class Pagination(PageNumberPagination):
    """``page`` and ``page_size``, when given, must be whole numbers from 1 (400
    otherwise); a page past the end is a 404; ``page_size`` is capped at
    max_page_size. ``page=last`` is the last page."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        return min(positive_int_param(self.page_size_query_param, raw), self.max_page_size)

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if raw in self.last_page_strings:
            return paginator.num_pages
        return positive_int_param(self.page_query_param, raw)


def _flatten(detail):
    if isinstance(detail, dict):
        return {key: _flatten_list(value) for key, value in detail.items()}
    return {}


def _flatten_list(value):
    if isinstance(value, list):
        out = []
        for item in value:
            out.extend(_flatten_list(item) if isinstance(item, (list, dict)) else [str(item)])
        return out
    if isinstance(value, dict):
        return [f"{k}: {', '.join(_flatten_list(v))}" for k, v in value.items()]
    return [str(value)]


def error_body(code: str, detail: str, fields: dict | None = None) -> dict:
    return {"code": code, "detail": str(detail), "fields": fields or {}}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        fields = exc.message_dict if hasattr(exc, "error_dict") else {}
        detail = "; ".join(exc.messages)
        return Response(error_body("invalid", detail, _flatten(fields)), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(response.data) if isinstance(response.data, dict) else {}
        non_field = fields.pop("non_field_errors", [])
        detail = " ".join(non_field) or _("The request has invalid fields.")
        response.data = error_body("invalid", detail, fields)
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else str(response.data)
        code = getattr(exc, "default_code", "error")
        if isinstance(exc, exceptions.APIException) and hasattr(exc.detail, "code"):
            code = exc.detail.code or code
        response.data = error_body(code, detail)
    return response


def json_error_response(request, status_code: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(error_body(code, detail), status=status_code)
