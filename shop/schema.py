"""The OpenAPI document, told truthfully (API.md): who may call what, and every answer's body.

`ShopAutoSchema` (DRF's DEFAULT_SCHEMA_CLASS) decides each operation's `security` and lets a
DELETE that reads a body (`DELETE auth/me/ {password}`) document it. `add_error_responses`
(a drf-spectacular post-processing hook) gives every error answer a JSON body: those an
operation declares without one, and those every operation may give (400 for bad input, 401/403,
404, 413, 415, 429, 500, 503), each only where it can really happen.
"""

from django.core.validators import RegexValidator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

from shop.validators import CONTROL_CHARACTERS

ERROR = {
    "type": "object",
    "description": "An error: `detail` says what was wrong, `code` names it "
    "(`not_found`, `method_not_allowed`, `request_too_large`, `server_error`, "
    "`service_unavailable`, `token_not_valid`, …).",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail", "code"],
}
FIELD_ERRORS = {
    "type": "object",
    "description": "Invalid input: each field name (or `non_field_errors`, or `detail` for a body "
    "that cannot be read) maps to its messages; a list field's errors are a list with one "
    "entry per item.",
    "additionalProperties": {},
}
METHODS = {"get", "post", "put", "patch", "delete"}
SINGLE_LINE = "^[^\\u0000-\\u001f\\u007f]*$"
# OpenAPI links: what a client (and schemathesis' stateful phase) can do next with the `id` of
# what it just created.
LINKS = {
    ("/api/v1/orders/", "post", "201"): [
        "orders_retrieve",
        "orders_partial_update",
        "orders_execute_create",
        "orders_cancel_create",
    ],
    ("/api/v1/orders/{id}/execute/", "post", "200"): ["orders_retrieve", "orders_cancel_create"],
    ("/api/v1/products/", "post", "201"): [
        "products_retrieve",
        "products_partial_update",
        "products_destroy",
    ],
    ("/api/v1/products/import/", "post", "202"): ["products_import_job"],
    ("/api/v1/categories/", "post", "201"): [
        "categories_retrieve",
        "categories_partial_update",
        "categories_products_list",
        "categories_destroy",
    ],
}
REPLAY_HEADER = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same `Idempotency-Key`.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


class ShopAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema with the project's rules for `security` and DELETE bodies.

    - A view with no authenticators (register, login, refresh, logout) needs no login: no
      `security` at all, so generated clients do not ask for a token.
    - A safe method on a view whose permission lets anyone read (`anonymous_reads = True` on the
      permission class) accepts a token or none: `[{"jwtAuth": []}, {}]`.
    """

    def get_auth(self):
        if not self.view.get_authenticators():
            return []
        auths = super().get_auth()
        if self.method in SAFE_METHODS and {} not in auths:
            if any(getattr(p, "anonymous_reads", False) for p in self.view.get_permissions()):
                auths.append({})
        return auths

    def _get_request_body(self, direction="request"):
        # drf-spectacular documents bodies of PUT/PATCH/POST only; a DELETE that declares its
        # own request serializer with extend_schema(request=...) reads a body too.
        if self.method == "DELETE" and self._declares_request():
            self.method = "POST"
            try:
                return super()._get_request_body(direction)
            finally:
                self.method = "DELETE"
        return super()._get_request_body(direction)

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if schema and any(_refuses_control_characters(v) for v in field.validators):
            # drf-spectacular would copy the validator's regex as the pattern a value must
            # match, ignoring `inverse_match`: say what is allowed instead.
            schema["pattern"] = SINGLE_LINE
        if direction == "request" and schema and isinstance(field, serializers.ListSerializer):
            # `many=True` with allow_empty / min_length / max_length: DRF checks them, say so.
            if not field.allow_empty or field.min_length:
                schema["minItems"] = max(field.min_length or 0, 0 if field.allow_empty else 1)
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        return schema

    def _declares_request(self) -> bool:
        def kind(serializer):
            return serializer if isinstance(serializer, type) else type(serializer)

        request = self.get_request_serializer()
        if request is None:
            return False
        default = self._get_serializer() if hasattr(self.view, "get_serializer") else None
        return kind(request) is not kind(default)


def _refuses_control_characters(validator) -> bool:
    return (
        isinstance(validator, RegexValidator)
        and validator.inverse_match
        and validator.regex.pattern == CONTROL_CHARACTERS
    )


def domain_error(name: str, code: str, **fields) -> serializers.Serializer:
    """The body of a 409/402/503 with one `code`: `{"detail", "code", ...fields}`.

    `code` is a one-value enum, so a client can tell the answers of one status apart (a oneOf
    of several of these is discriminated by `code`)."""
    return inline_serializer(
        name=name,
        fields={
            "detail": serializers.CharField(),
            "code": serializers.ChoiceField(choices=[code]),
            **fields,
        },
    )


def _content(schema: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


def _needs_token(operation: dict) -> bool:
    security = operation.get("security") or []
    return bool(security) and {} not in security


def _accepts_token(operation: dict) -> bool:
    return any(requirement for requirement in operation.get("security") or [])


def add_error_responses(result, generator, request, public):
    """Every error answer of every operation gets its JSON body (see the module docstring)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    schemas["FieldErrors"] = FIELD_ERRORS
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            parameters = operation.get("parameters", [])
            has_body = "requestBody" in operation
            query = any(p["in"] == "query" for p in parameters)
            defaults = {}
            if has_body or query:
                defaults["400"] = "Invalid input"
            if _accepts_token(operation):
                defaults["401"] = "Not authenticated, or the token is not valid"
            if _needs_token(operation):
                defaults["403"] = "Not allowed"
            if "{" in path or any(p["name"] == "page" for p in parameters):
                defaults["404"] = "Not found (also a page past the end of a list)"
            if has_body:
                defaults["413"] = "The body is over the size limit: `request_too_large`"
                defaults["415"] = "Unsupported media type"
            defaults["429"] = "Throttled"
            defaults["500"] = "Server error: `server_error`, no details"
            defaults["503"] = (
                "The database or another part is unreachable or too slow: `service_unavailable`"
            )
            for status, description in defaults.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status[0] in "45" and "content" not in response:
                    # Declared without a body (`OpenApiResponse(description=...)`) or added
                    # above: every error under /api/ is JSON.
                    response["content"] = _content("FieldErrors" if status == "400" else "Error")
                    response["description"] = response.get("description") or "Error"
            for parameter in parameters:
                if parameter["in"] == "query" and parameter["name"] == "search":
                    # Single-line text: control characters are refused with a 400 (API.md).
                    parameter["schema"]["pattern"] = SINGLE_LINE
                if parameter["in"] == "path" and parameter["schema"].get("pattern") == r"^\d+$":
                    # A `lookup_value_regex = r"\d+"` id: an integer like every other id.
                    parameter["schema"] = {"type": "integer", "minimum": 1}
            for status, response in responses.items():
                for operation_id in LINKS.get((path, method, status), []):
                    response.setdefault("links", {})[operation_id] = {
                        "operationId": operation_id,
                        "parameters": {"id": "$response.body#/id"},
                    }
            if any(p["name"] == "Idempotency-Key" for p in parameters):
                for status, response in responses.items():
                    if status[0] == "2" or status in ("402", "409"):
                        response.setdefault("headers", {}).update(REPLAY_HEADER)
    return result
