from decimal import Decimal

import factory

from accounts.tests.factories import UserFactory
from inventory.models import Category, Product
from orders import services
from orders.models import Order


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Order category {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    """A product with stock. Stock is set at creation only; later changes go through
    inventory.services."""

    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"ORD-{n:05d}")
    name = factory.Sequence(lambda n: f"Order product {n}")
    category = factory.SubFactory(CategoryFactory)
    price = Decimal("10.00")
    cost = Decimal("6.00")
    quantity = 100


def order_make(*, customer=None, items=None, country="FR") -> Order:
    """A pending order through the service: items is [(product, quantity)]."""
    customer = customer or UserFactory()
    items = items or [(ProductFactory(), 1)]
    return services.order_create(
        customer=customer,
        shipping_country=country,
        items=[services.OrderItem(product=p, quantity=q) for p, q in items],
    )
