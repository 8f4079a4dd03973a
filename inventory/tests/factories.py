from decimal import Decimal

import factory

from inventory.models import Category, Product


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    """A product. `quantity` is set directly: tests of the ledger use the services instead."""

    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n:05d}")
    category = factory.SubFactory(CategoryFactory)
    price = Decimal("19.90")
    cost = Decimal("7.25")
    quantity = 10
    is_active = True
