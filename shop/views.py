"""The project's own pages: the start page, the back office's 403 page, and Django's error
views (handler400/403/404/500): JSON under /api/, HTML pages elsewhere.

The error views answer what DRF's exception handler never sees: an address no route matches,
a body Django itself refuses as too large, an error in a middleware.
"""

import sys

from django.contrib import admin
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.http import require_GET

from shop.exceptions import DATABASE_UNAVAILABLE, SERVER_ERROR, ServiceUnavailable, api_exception

API_PREFIX = "/api/"


def is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def _json(exc) -> JsonResponse:
    body = {"detail": str(exc.detail), "code": exc.default_code}
    return JsonResponse(body, status=exc.status_code)


@require_GET
def home(request):
    """`GET /`: a small page leading to the back office, the API docs and the health check."""
    return render(request, "shop/home.html")


def permission_denied(request, exception=None):
    """A 403 in the back office's own look, with a way back (the API answers its own JSON)."""
    if is_api(request):
        body = {"detail": "You do not have permission to perform this action."}
        return JsonResponse({**body, "code": "permission_denied"}, status=403)
    context = {**admin.site.each_context(request), "title": "Not allowed"}
    return render(request, "shop/403.html", context, status=403)


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
    if isinstance(sys.exc_info()[1], DATABASE_UNAVAILABLE):
        return _json(ServiceUnavailable())
    return JsonResponse(SERVER_ERROR, status=500)
