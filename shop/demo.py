"""The project's demo data for a new install (`seed_demo`): each app's part, in order.

The project wires the apps together, so the demo that spans them lives here: accounts,
catalog, customers and orders (through the real services), then the analytics summary.
"""

from datetime import timedelta

from django.utils import timezone

from accounts.demo import DEMO_PASSWORD, seed_users
from accounts.models import User
from analytics.demo import seed_analytics
from inventory.demo import seed_catalog
from inventory.models import Category, Product
from orders.demo import DEMO_CUSTOMERS, HISTORY_DAYS, seed_orders
from orders.models import Order


def existing_data() -> str | None:
    """What the database already holds that the demo would be added to (accounts, categories,
    products, orders), or None when it is empty: the demo goes into an empty database only,
    where its names cannot collide with a catalog already imported."""
    for model, what in (
        (User, "accounts"),
        (Category, "categories"),
        (Product, "products"),
        (Order, "orders"),
    ):
        if model.objects.exists():
            return what
    return None


def seed_customers(stdout) -> list[User]:
    customers = [
        User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=name)
        for email, name in DEMO_CUSTOMERS
    ]
    stdout.write(
        f"Demo customers (password for all: {DEMO_PASSWORD}): "
        + ", ".join(email for email, _ in DEMO_CUSTOMERS)
    )
    return customers


def seed(stdout) -> None:
    """Fill an empty database (the caller holds the transaction). The shop opened a few days
    before the orders' history: accounts joined and the opening stock was received then."""
    opened = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0)
    opened -= timedelta(days=HISTORY_DAYS + 3)
    seed_users(stdout)
    seed_catalog(stdout, received_at=opened)
    customers = seed_customers(stdout)
    User.objects.update(date_joined=opened)
    seed_orders(stdout, customers=customers)
    seed_analytics(stdout)
