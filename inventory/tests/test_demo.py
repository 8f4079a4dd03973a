import io

import pytest
from django.core.management import call_command
from django.db.models import Sum

from inventory.demo import seed_catalog
from inventory.models import Category, Product, StockMovement

pytestmark = pytest.mark.django_db


def test_seed_catalog_deterministic_with_stock_in_the_ledger(django_assert_max_num_queries):
    with django_assert_max_num_queries(700):  # bulk inserts; one stock update per product
        seed_catalog(io.StringIO())
    assert Category.objects.count() == 6
    assert Product.objects.count() == 300
    assert Product.objects.filter(quantity=0).exists()
    assert Product.objects.filter(is_active=False).exists()
    stock = Product.objects.aggregate(total=Sum("quantity"))["total"]
    assert StockMovement.objects.aggregate(total=Sum("change"))["total"] == stock > 0
    assert not Product.objects.filter(quantity__gt=0, movements__isnull=True).exists()
    first = list(Product.objects.order_by("sku").values_list("sku", "price", "quantity")[:20])
    Product.objects.all().delete()
    Category.objects.all().delete()
    seed_catalog(io.StringIO())
    again = list(Product.objects.order_by("sku").values_list("sku", "price", "quantity")[:20])
    assert again == first


def test_seed_demo_command_fills_catalog():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo catalog: 6 categories, 300 products." in out.getvalue()
    assert Product.objects.count() == 300
