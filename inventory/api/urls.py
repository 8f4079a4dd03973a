from django.urls import path
from rest_framework.routers import SimpleRouter

from inventory.api.views import CategoryProductsView, CategoryViewSet, ProductViewSet

router = SimpleRouter()
router.register("categories", CategoryViewSet, basename="category")
router.register("products", ProductViewSet, basename="product")

urlpatterns = [
    path(
        "categories/<int:pk>/products/",
        CategoryProductsView.as_view(),
        name="category-products",
    ),
    *router.urls,
]
