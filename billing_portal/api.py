"""Shared API pieces: pagination and the one JSON error shape.

Every API error is ``{"code": str, "detail": str, "fields": {name: [messages]}}``;
``ErrorSerializer`` is its schema (the one ``Error`` component) and ``errors(...)`` the
documented error responses for ``extend_schema``. ``billing_portal.schema.AutoSchema``
adds them to every operation.
"""

import copy
import decimal
import functools
import operator

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.http import Http404, JsonResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.fields import empty
from rest_framework.pagination import PageNumberPagination
from rest_framework.relations import PKOnlyObject
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import DomainError
from .parsers import PayloadTooLarge


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


class DecimalField(serializers.DecimalField):
    """DRF's DecimalField, with a short way for the common case: an amount that already
    has the field's decimal places (every amount read from a ``DecimalField(14, 2)``
    column) is written as it is, which is what quantizing it gives; anything else goes
    through DRF. A test compares both for many values."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._as_is = (
            getattr(self, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
            and not self.localize
            and not self.normalize_output
            and self.decimal_places
            and self.max_digits
        )

    def to_representation(self, value):
        if self._as_is and type(value) is decimal.Decimal:
            text = f"{value:f}"
            point = text.rfind(".")
            # The field's places, and few enough digits for DRF's quantize to keep them all.
            if point != -1 and len(text) - point - 1 == self.decimal_places and len(text) <= self.max_digits:
                return text
        return super().to_representation(value)


class ModelSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    """The API's model serializers: DRF's, with DecimalField above for decimal columns,
    and the fields built from the model once per class (DRF builds them on every
    instance, about 2 ms for an invoice's; they depend on the class only) and copied
    for each instance.

    ``represent_values(rows)`` represents rows of ``queryset.values(*value_columns())``
    exactly as the serializer represents model instances, for list endpoints that read
    only the columns they return (no model instance per row): each field reads the
    column of its source (``current_revision.po_number`` is ``current_revision__po_number``,
    a relation its key), a field that is no column reads ``Meta.value_functions[name](row)``
    (whose columns ``Meta.value_function_columns`` names), and then gives the value to the
    field's own ``to_representation`` (so a SerializerMethodField, whose value is the whole
    instance, has no place in such a serializer). A missing value (NULL, or no related
    row) is the field's default when it has one, as DRF answers a missing attribute, else
    None."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: DecimalField,
    }

    @classmethod
    def value_columns(cls) -> tuple[str, ...]:
        return cls._value_plan()[0]

    @classmethod
    def represent_values(cls, rows) -> list[dict]:
        plan = cls._value_plan()[1]
        out = []
        for row in rows:
            item = {}
            for name, read, to_representation, default in plan:
                value = read(row)
                item[name] = default if value is None else to_representation(value)
            out.append(item)
        return out

    @classmethod
    def _value_plan(cls):
        """(columns, [(name, read, to_representation, default)]), made once per class
        from the fields of one instance (their to_representation needs no request)."""
        plan = cls.__dict__.get("_plan")
        if plan is None:
            functions = getattr(cls.Meta, "value_functions", {})
            steps, columns = [], []
            for name, field in cls().fields.items():
                if field.write_only:
                    continue
                if name not in functions:
                    columns.append(_column(field))
                read = functions.get(name) or operator.itemgetter(_column(field))
                to_representation = field.to_representation
                if isinstance(field, serializers.RelatedField) and field.use_pk_only_optimization():
                    to_representation = functools.partial(_pk_only, field)
                steps.append(
                    (name, read, to_representation, field.get_default() if field.default is not empty else None)
                )
            columns = tuple(dict.fromkeys([*columns, *getattr(cls.Meta, "value_function_columns", ())]))
            plan = cls._plan = (columns, steps)
        return plan


def _column(field) -> str:
    """The ``values()`` column of a serializer field's source."""
    return "__".join(field.source_attrs)


def _pk_only(field, pk):
    return field.to_representation(PKOnlyObject(pk=pk))


class Pagination(PageNumberPagination):
    """Every list endpoint's pages, without counting the rows: a page reads
    ``page_size`` + 1 rows, and the extra row only tells whether there is a next page,
    so a page costs the same whatever the size of the list (no COUNT). The answer is
    ``{next, previous, results}``: ``next`` is null on the last page, ``previous`` on
    the first.

    ``page`` and ``page_size``, when given, must be whole numbers from 1 (400
    otherwise); a page past the end is a 404; ``page_size`` is capped at
    max_page_size. ``page=last`` is the last page (the one request that counts)."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200
    # The highest OFFSET the database takes (a signed 64-bit integer).
    max_offset = 2**63 - 1 - max_page_size - 1

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

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = self.get_page_size(request)
        # The paginator only counts for page=last (num_pages).
        number = self.get_page_number(request, self.django_paginator_class(queryset, size))
        start = (number - 1) * size
        rows = list(queryset[start : start + size + 1]) if start <= self.max_offset else []
        if not rows and number > 1:
            raise exceptions.NotFound(self.invalid_page_message)
        self.number, self.has_next = number, len(rows) > size
        return rows[:size]

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_next_link(self):
        if not self.has_next:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.page_query_param, self.number + 1)

    def get_previous_link(self):
        if self.number <= 1:
            return None
        url = self.request.build_absolute_uri()
        if self.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.number - 1)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        parameters[0]["description"] = (
            "A page number from 1, or `last`. Pages are not counted: `next` is null on the last page."
        )
        parameters[1]["description"] = f"Rows per page, 1 to {self.max_page_size} (default {self.page_size})."
        return parameters

    def get_paginated_response_schema(self, schema):
        """``{next, previous, results}`` (DRF's page without ``count``)."""
        page = super().get_paginated_response_schema(schema)
        page["properties"].pop("count")
        page["required"] = ["next", "previous", "results"]
        page["properties"]["next"]["description"] = "The next page; null on the last page."
        page["properties"]["previous"]["description"] = "The previous page; null on the first page."
        return page


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
    elif isinstance(exc, RequestDataTooBig):
        # DRF (3.17 on) reads a JSON or form body through Django's request.body, whose
        # DATA_UPLOAD_MAX_MEMORY_SIZE check comes before the parser's own: the same 413.
        exc = PayloadTooLarge(_("The request body is too large."))
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
