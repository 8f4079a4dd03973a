"""The /api/v1/ URL map: each app contributes its routes."""

from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, include, path, re_path, resolve
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("auth/", include("accounts.api.urls")),
    path("", include("inventory.api.spreadsheet_urls")),  # before products/<id>/
    path("", include("inventory.api.urls")),
    path("", include("orders.api.urls")),
    path("analytics/", include("analytics.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start script as a file: no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
]


@csrf_exempt  # an answer, not a form: any method gets the JSON 404
def not_found(request, *args, **kwargs):
    """Any other /api/v1/ address: a JSON 404 like the API's own, never Django's HTML page.

    A known address without its trailing slash is redirected, as APPEND_SLASH would (308, so
    a POST stays a POST)."""
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            target = request.get_full_path().replace(request.path, request.path + "/", 1)
            response = HttpResponsePermanentRedirect(target)
            response.status_code = 308
            return response
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


urlpatterns.append(re_path(r"^[\s\S]*$", not_found))  # not `.`: a newline too
