from django.urls import path

from analytics.api import views

urlpatterns = [
    path("profit/", views.ProfitView.as_view(), name="analytics-profit"),
    path("product-sales/", views.ProductSalesView.as_view(), name="analytics-product-sales"),
    path("category-sales/", views.CategorySalesView.as_view(), name="analytics-category-sales"),
]
