from decimal import Decimal

import pytest

from inventory.tests.factories import CategoryFactory, ProductFactory


@pytest.fixture
def category(db):
    return CategoryFactory(name="Books")


@pytest.fixture
def product(category):
    return ProductFactory(sku="BK-1", name="Atlas", category=category, price=Decimal("19.90"))


@pytest.fixture
def sold(db):
    """sold(product) -> an order line pointing at the product (it has been ordered)."""
    from accounts.tests.factories import UserFactory
    from orders.models import Order, OrderLine

    def make(product):
        order = Order.objects.create(customer=UserFactory(), shipping_country="FR")
        return OrderLine.objects.create(
            order=order, product=product, quantity=1, unit_price=product.price
        )

    return make


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """These tests never check a password: hash the fixtures' ones cheaply."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user_in_role(request, db):
    """user_in_role(name) -> the conftest fixture's user of that role; None for "anonymous"."""

    def get(role):
        return None if role == "anonymous" else request.getfixturevalue(role)

    return get
