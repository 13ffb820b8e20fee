"""Request parsers for the API."""

import codecs
import json
import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers, status
from rest_framework.utils.json import strict_constant

# Deeper than any body the API takes; a body nested deeper is refused before the
# (recursive) json module sees it, so it cannot raise RecursionError.
MAX_DEPTH = 32
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text, counted without
    recursion (brackets inside strings do not count)."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser reads the stream directly, bypassing Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE check; refuse oversized bodies here (413). A body
    nested deeper than MAX_DEPTH is a parse error (400), not a RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        request = parser_context.get("request")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            raise PayloadTooLarge(_("The request body is too large."))
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            if nesting_depth(text) > MAX_DEPTH:
                raise exceptions.ParseError(_("The request body is nested too deeply."))
            return json.loads(text, parse_constant=strict_constant if self.strict else None)
        except (ValueError, RecursionError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
