import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Sum

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from inventory.models import Product, StockMovement
from orders.demo import DEMO_CUSTOMERS
from orders.models import Order, Payment

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_customers_and_orders_in_every_status():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert DEMO_PASSWORD in out.getvalue()
    customer = User.objects.get(email=DEMO_CUSTOMERS[0][0])
    assert customer.check_password(DEMO_PASSWORD) and not customer.is_staff
    statuses = Counter(Order.objects.values_list("status", flat=True))
    assert set(statuses) == {"pending", "executed", "cancelled", "refunded"}
    assert statuses["executed"] >= 50
    assert Payment.objects.filter(state="declined").exists()
    executed = Order.objects.filter(status="executed")
    assert executed.filter(executed_at__isnull=True).count() == 0
    span = executed.order_by("executed_at").values_list("executed_at", flat=True)
    assert (span.last() - span.first()).days >= 60
    for product in Product.objects.all():
        moved = StockMovement.objects.filter(product=product).aggregate(s=Sum("change"))["s"]
        assert product.quantity == (moved or 0) >= 0
