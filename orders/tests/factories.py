from decimal import Decimal

from accounts.tests.factories import UserFactory
from inventory.tests.factories import CategoryFactory  # noqa: F401 (re-exported)
from inventory.tests.factories import ProductFactory as BaseProductFactory
from orders import services
from orders.models import Order


class ProductFactory(BaseProductFactory):
    """A product with plenty of stock (set at creation; later changes go through
    inventory.services)."""

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
