"""Django's error views (handler400/404/500): JSON under /api/, Django's HTML pages elsewhere.

They answer what DRF's exception handler never sees: an address no route matches, a body
Django itself refuses as too large, an error in a middleware.
"""

import sys

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import defaults

from shop.exceptions import DATABASE_UNAVAILABLE, SERVER_ERROR, ServiceUnavailable, api_exception

API_PREFIX = "/api/"


def is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def _json(exc) -> JsonResponse:
    return JsonResponse(
        {"detail": str(exc.detail), "code": exc.default_code}, status=exc.status_code
    )


def bad_request(request, exception, *args, **kwargs):
    if not is_api(request):
        return defaults.bad_request(request, exception, *args, **kwargs)
    if isinstance(exception, RequestDataTooBig):
        return _json(api_exception(exception))
    return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)


def not_found(request, exception, *args, **kwargs):
    if not is_api(request):
        return defaults.page_not_found(request, exception, *args, **kwargs)
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


def server_error(request, *args, **kwargs):
    if not is_api(request):
        return defaults.server_error(request, *args, **kwargs)
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return _json(ServiceUnavailable())
    return JsonResponse(SERVER_ERROR, status=500)
