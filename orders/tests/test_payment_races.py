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


def _in_thread(func, results, name=None):
    def run():
        try:
            results.append(func())
        except Exception as exc:  # asserted by the test
            results.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread


def _reconciler_then_retry(order, customer, asked, outcome, retried):
    """Start reconcile_payments (as it runs once the first request's time is over), wait until
    it asks the gateway, then start the client's retry with the same Idempotency-Key (thread
    "retry"). Returns both threads."""
    later = timezone.now() + timedelta(minutes=5)
    reconciler = _in_thread(lambda: services.payment_attempts_reconcile(now=later), outcome)
    assert asked.wait(10)
    retry = _in_thread(
        lambda: services.order_execute(order=order, actor=customer, idempotency_key="k"),
        retried,
        name="retry",
    )
    return reconciler, retry


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
    reconciler, retry = _reconciler_then_retry(order, customer, asked, outcome, retried)
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


def test_retry_reading_its_attempt_while_the_reconciler_settles_it(monkeypatch):
    """The same race, one step earlier: the retry has locked the order and read its attempt as
    `started` when the reconciler, told "no charge", settles it (`failed`, with an order
    event). Neither waits for the other's lock (they deadlocked: the order's FOR UPDATE against
    the event's key-share lock), and the retry, finding its attempt settled, charges under a
    new one rather than under a key the reconciler has closed."""
    customer = UserFactory()
    order = order_make(customer=customer, items=[(ProductFactory(quantity=5), 2)])
    TestGateway.faults_set(charge="error_before")
    with pytest.raises(services.PaymentUnavailable):
        services.order_execute(order=order, actor=customer, idempotency_key="k")
    TestGateway.faults_clear()

    asked, answer, read, go_on = (threading.Event() for _ in range(4))
    find_charge, attempts_of = TestGateway.find_charge, services._attempts_of

    def slow_find_charge(self, **kwargs):
        found = find_charge(self, **kwargs)
        asked.set()
        assert answer.wait(10)
        return found

    def attempts_then_wait(order_id, **kwargs):
        attempts = attempts_of(order_id, **kwargs)
        if threading.current_thread().name == "retry":
            read.set()
            go_on.wait(10)
        return attempts

    monkeypatch.setattr(TestGateway, "find_charge", slow_find_charge)
    monkeypatch.setattr(services, "_attempts_of", attempts_then_wait)

    outcome, retried = [], []
    reconciler, retry = _reconciler_then_retry(order, customer, asked, outcome, retried)
    assert read.wait(10)  # the retry holds the order's lock and has read the attempt
    answer.set()
    reconciler.join(3)  # it settles the attempt now, unless it waits for the retry's lock
    go_on.set()
    reconciler.join(20)
    retry.join(20)
    monkeypatch.undo()

    assert outcome == [{"failed": 1}], outcome
    assert isinstance(retried[0], Order), retried
    assert list(Payment.objects.order_by("pk").values_list("state", flat=True)) == [
        "failed",
        "captured",
    ]
    assert_money_invariant()
