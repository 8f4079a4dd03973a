import threading
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from analytics import selectors
from analytics.models import DailySalesTotal, ProductSalesSummary
from analytics.services import sales_summary_rebuild, sales_summary_record
from analytics.tests.factories import ProductFactory, executed_order


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sales_summary_record_concurrent_executions_lose_no_update():
    tea, mug = ProductFactory(), ProductFactory()
    when = datetime(2026, 8, 1, 12, tzinfo=UTC)
    orders = [
        executed_order([(tea, 1, "2.00", "1.00"), (mug, 2, "3.00", "1.00")], at=when, record=False)
        for _ in range(12)
    ]
    barrier = threading.Barrier(len(orders))
    errors = []

    def execute(order):
        try:
            barrier.wait()
            with transaction.atomic():
                sales_summary_record(order=order, sign=1)
        except Exception as exc:  # reported by the assert below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=execute, args=(o,)) for o in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    summary = selectors.profit_summary()
    assert (summary.units_sold, summary.executed_orders, summary.revenue) == (36, 12, 96)
    assert ProductSalesSummary.objects.get(product=tea, period="day").units == 12
    assert DailySalesTotal.objects.count() == min(12, DailySalesTotal.SHARDS)
    assert sales_summary_rebuild(dry_run=True).differences == 0
