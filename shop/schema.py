"""OpenAPI post-processing: document the error answers every endpoint can give (API.md)."""

ERROR = {
    "type": "object",
    "description": "`detail` says what was wrong; domain conflicts (409) also carry `code`.",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "additionalProperties": True,
}
FIELD_ERRORS = {
    "type": "object",
    "description": "DRF field errors: each field name maps to a list of messages.",
    "additionalProperties": True,
}
METHODS = {"get", "post", "put", "patch", "delete"}
WITH_BODY = {"post", "put", "patch"}


def _response(description: str, schema: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def add_error_responses(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("FieldErrors", FIELD_ERRORS)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            if method in WITH_BODY or method == "delete" or operation.get("parameters"):
                responses.setdefault("400", _response("Invalid input", "FieldErrors"))
            responses.setdefault("401", _response("Not authenticated", "Error"))
            responses.setdefault("403", _response("Not allowed", "Error"))
            if "{" in path or method == "get":
                # Lists answer 404 for a page past the end (DRF's convention).
                responses.setdefault("404", _response("Not found", "Error"))
            if method in WITH_BODY:
                responses.setdefault("415", _response("Unsupported media type", "Error"))
            responses.setdefault("429", _response("Throttled", "Error"))
    return result
