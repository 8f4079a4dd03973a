"""The project's own pages: the start page and the back office's 403 page."""

from django.contrib import admin
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.defaults import permission_denied as django_permission_denied


@require_GET
def home(request):
    """`GET /`: a small page leading to the back office, the API docs and the health check."""
    return render(request, "shop/home.html")


def permission_denied(request, exception=None):
    """A 403 in the back office's own look, with a way back (the API answers its own JSON)."""
    if request.path.startswith("/api/"):
        return django_permission_denied(request, exception)
    context = {**admin.site.each_context(request), "title": "Not allowed"}
    return render(request, "shop/403.html", context, status=403)
