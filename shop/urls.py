from django.contrib import admin
from django.urls import include, path

from shop.health import healthz
from shop.views import home

admin.site.site_header = "Shop back office"
admin.site.site_title = "Shop back office"
admin.site.index_title = "Back office"

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("shop.api")),
]

# JSON errors under /api/, the project's or Django's pages elsewhere (shop/views.py).
handler400 = "shop.views.bad_request"
handler403 = "shop.views.permission_denied"
handler404 = "shop.views.not_found"
handler500 = "shop.views.server_error"
