"""The OpenAPI schema documents the error answers API.md promises for every endpoint.

drf-spectacular documents only the success status of an operation, so a client (or a fuzzer
checking answers against the schema) would meet undocumented 400/401/403/404/429 answers
everywhere. This schema class adds them where they can happen, unless the view documents that
status itself with `extend_schema` (domain errors such as 409 stay each view's to document):

- 400 field errors: the operation takes a body (a DELETE one too) or query parameters;
- 401: the operation accepts a Bearer token (a missing, expired or revoked one is refused);
- 403: the view's permissions go beyond "anyone" or "any logged-in account";
- 404: the path names an object, or the list is paginated (`?page=` past the end);
- 429: the view is throttled.
"""

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny, IsAuthenticated

ERROR = {
    "type": "object",
    "description": "`detail`, and for a domain error also a `code` and its details.",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERROR = {
    "type": "object",
    "description": (
        "DRF's field errors: each invalid field maps to its messages (nested for nested "
        "fields); `non_field_errors` or `detail` for errors not tied to one field."
    ),
    "additionalProperties": {},
}
DESCRIPTIONS = {
    "400": "Invalid input",
    "401": "Not authenticated: no, expired or revoked access token",
    "403": "Not allowed",
    "404": "Not found",
    "429": "Too many requests",
}


class AutoSchema(BaseAutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for code in self._error_codes(operation):
            if code not in responses:
                component = self._error_component(
                    "ValidationError" if code == "400" else "Error",
                    VALIDATION_ERROR if code == "400" else ERROR,
                )
                responses[code] = {
                    "content": {"application/json": {"schema": component.ref}},
                    "description": DESCRIPTIONS[code],
                }
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _error_component(self, name, schema):
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
        )
        self.registry.register_on_missing(component)
        return component

    def _declares_delete_body(self) -> bool:
        """drf-spectacular never documents a DELETE body, but a view may still read one."""
        if self.method != "DELETE":
            return False
        declared = self.get_request_serializer()
        if declared is None:
            return False
        default = getattr(self.view, "get_serializer_class", lambda: None)()
        return (declared if isinstance(declared, type) else type(declared)) is not default

    def _error_codes(self, operation):
        parameters = operation.get("parameters", [])
        if (
            operation.get("requestBody")
            or any(p["in"] == "query" for p in parameters)
            or self._declares_delete_body()
        ):
            yield "400"
        if any(requirement for requirement in operation.get("security", [])):
            yield "401"
        permissions = self.view.get_permissions()
        if any(not isinstance(p, (AllowAny, IsAuthenticated)) for p in permissions):
            yield "403"
        if any(p["in"] == "path" for p in parameters) or (
            self._is_list_view() and self._get_paginator() is not None
        ):
            yield "404"
        if self.view.get_throttles():
            yield "429"
