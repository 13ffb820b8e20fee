"""The OpenAPI schema class (``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``).

Apart from billing_portal.api because drf-spectacular's AutoSchema imports DRF's generic
views, which read the API settings (and so billing_portal.api's pagination).

Every operation documents the one error shape (the ``Error`` component) for each status
the request can meet: 400 (input), 401 (not signed in), 403 (role, CSRF), 404 (no such
object, or a page past the end), 409 (state or a stale version), 413 (body too large),
429 (throttled). Statuses a view documents itself (402, 422) get the same shape.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

from .api import ERROR_DESCRIPTIONS, ErrorSerializer


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema with the error responses each operation can give."""

    def error_codes(self, operation: dict) -> set[int]:
        view = self.view
        has_body = "requestBody" in operation
        query = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
        path_args = [p for p in operation.get("parameters", []) if p.get("in") == "path"]
        public = all(isinstance(p, AllowAny) for p in view.get_permissions())
        codes = set()
        if has_body or query or path_args:
            codes.add(400)
        if not public:
            codes |= {401, 403}
            if path_args or query or has_body:  # the object, a page, or an object named in the input
                codes.add(404)
            if self.method in ("POST", "PUT", "PATCH", "DELETE"):
                codes.add(409)
        if has_body:
            codes.add(413)
        if view.get_throttles():
            codes.add(429)
        return codes

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return operation
        responses = operation["responses"]
        for code in sorted(self.error_codes(operation) | {int(c) for c in responses if c.startswith("4")}):
            documented = responses.get(str(code), {})
            if "content" in documented:
                continue
            description = documented.get("description") or ERROR_DESCRIPTIONS.get(code, "Error")
            response = OpenApiResponse(ErrorSerializer, description=description)
            responses[str(code)] = self._get_response_for_code(response, str(code))
        operation["responses"] = dict(sorted(responses.items()))
        return operation
