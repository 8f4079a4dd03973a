from django.contrib import admin
from django.urls import include, path

from shop.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("shop.api")),
]

# JSON errors under /api/, Django's pages elsewhere (shop/errors.py).
handler400 = "shop.errors.bad_request"
handler404 = "shop.errors.not_found"
handler500 = "shop.errors.server_error"
