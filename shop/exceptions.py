"""API errors in the shapes API.md documents.

DRF answers 400/401/403/404/429 itself. Domain errors raised by services
(`shop.errors.DomainError` and subclasses) become `{"detail", "code", ...}` with their
`status_code` here, so services never import DRF.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from shop.errors import DomainError


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, list):
        # A bare list of messages (e.g. a filter's "Null characters are not allowed."): keep
        # the documented object shape, under DRF's key for errors not tied to one field.
        response.data = {api_settings.NON_FIELD_ERRORS_KEY: response.data}
    return response
