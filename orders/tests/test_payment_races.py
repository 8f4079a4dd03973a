"""Payment attempts raced by other writers, on PostgreSQL: a retry of the same request while
reconcile_payments settles its attempt. Each test ends with the money invariant of API.md."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from accounts.tests.factories import UserFactory
from inventory.models import Product
from orders import services
from orders.models import Order, Payment
from orders.payments import TestGateway
from orders.tests.factories import ProductFactory, order_make
from orders.tests.payment_helpers import assert_money_invariant

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _in_thread(func, results):
    def run():
        try:
            results.append(func())
        except Exception as exc:  # asserted by the test
            results.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.parametrize("charge_landed", [False, True], ids=["no-charge-yet", "charge-landed"])
def test_retry_resuming_its_attempt_while_the_reconciler_asks_the_gateway(
    monkeypatch, charge_landed
):
    """The first request got 503 and released its attempt; reconcile_payments claims it and
    asks the gateway about it; meanwhile the client retries with the same Idempotency-Key,
    which resumes the attempt and charges under its key after the reconciler's answer."""
    customer = UserFactory()
    product = ProductFactory(quantity=5)
    order = order_make(customer=customer, items=[(product, 2)])
    TestGateway.faults_set(charge="error_after" if charge_landed else "error_before")
    with pytest.raises(services.PaymentUnavailable):
        services.order_execute(order=order, actor=customer, idempotency_key="k")
    TestGateway.faults_clear()
    (attempt,) = Payment.objects.all()
    assert attempt.state == "started"

    asked, answer, resumed, reconciled = (threading.Event() for _ in range(4))
    find_charge, charge = TestGateway.find_charge, TestGateway.charge

    def slow_find_charge(self, **kwargs):
        found = find_charge(self, **kwargs)  # the gateway's answer at this moment
        asked.set()
        assert answer.wait(10)
        return found

    def charge_after_the_reconciler(self, **kwargs):
        resumed.set()
        reconciled.wait(10)
        return charge(self, **kwargs)

    monkeypatch.setattr(TestGateway, "find_charge", slow_find_charge)
    monkeypatch.setattr(TestGateway, "charge", charge_after_the_reconciler)

    outcome, retried = [], []
    later = timezone.now() + timedelta(minutes=5)
    reconciler = _in_thread(lambda: services.payment_attempts_reconcile(now=later), outcome)
    assert asked.wait(10)
    retry = _in_thread(
        lambda: services.order_execute(order=order, actor=customer, idempotency_key="k"), retried
    )
    assert resumed.wait(10)  # the retry's phase 1 committed, its charge is about to go out
    answer.set()
    reconciler.join(20)
    reconciled.set()
    retry.join(20)
    monkeypatch.undo()

    assert not isinstance(outcome[0], Exception), outcome
    assert_money_invariant()  # nothing charged and kept for an order left pending
    assert isinstance(retried[0], Order), retried  # the retry executed the order
    assert Order.objects.get().status == "executed"
    assert Product.objects.get().quantity == 3
    assert list(Payment.objects.values_list("state", flat=True)) == ["captured"]
    assert TestGateway.operations(f"Order {order.pk}")["charges"] == 1
