"""The /api/v1/ URL map: each app contributes its routes."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("auth/", include("accounts.api.urls")),
    path("", include("inventory.api.spreadsheet_urls")),  # before products/<id>/
    path("", include("inventory.api.urls")),
    path("", include("orders.api.urls")),
    path("analytics/", include("analytics.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
