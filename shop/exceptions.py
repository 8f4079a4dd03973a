"""API errors in the shapes API.md documents.

Every error under /api/ is `{"detail", "code", ...}` JSON: DRF's own (400/401/403/404/405/429,
here given their `code`), domain errors raised by services (`shop.errors.DomainError` and
subclasses, with their `status_code`, so services never import DRF), a body over the size limit (413
`request_too_large`), the database unreachable or too slow (503 `service_unavailable`) and
anything else (500 `server_error`, no details; the traceback goes to the log). Errors raised
outside DRF's views are answered the same way by shop.views (Django's handler400/403/404/500).
"""

import logging

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from shop.errors import DomainError

logger = logging.getLogger("shop.api")


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the server accepts."
    default_code = "request_too_large"


class ServiceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is unavailable (the database did not answer in time)."
    default_code = "service_unavailable"


SERVER_ERROR = {"detail": "Server error.", "code": "server_error"}

# Errors of the database itself (unreachable, connection lost, statement timeout, deadlock),
# not of the request: a 503 the client may retry, never a 500.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def api_exception(exc: BaseException) -> BaseException:
    """The APIException an error outside DRF's own stands for, or `exc` itself."""
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, DATABASE_UNAVAILABLE):
        logger.warning("Database unavailable: %s", exc)
        return ServiceUnavailable()
    return exc


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
    exc = api_exception(exc)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        request = context.get("request")
        logger.error("Server error: %s", getattr(request, "path", "?"), exc_info=exc)
        set_rollback()
        return Response(SERVER_ERROR, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    if isinstance(response.data, list):
        # A bare list of messages (e.g. a filter's "Null characters are not allowed."): keep
        # the documented object shape, under DRF's key for errors not tied to one field.
        response.data = {api_settings.NON_FIELD_ERRORS_KEY: response.data}
    elif isinstance(response.data, dict) and "code" not in response.data:
        detail = response.data.get("detail")
        if getattr(detail, "code", None) and set(response.data) == {"detail"}:
            response.data["code"] = detail.code  # not_found, method_not_allowed, throttled…
    return response
