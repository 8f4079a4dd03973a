"""Payment attempts under faults: the gateway raising, answering late or not at all, a void or a
refund that fails, stock lost between the charge and the capture. Each test ends with the money
invariant of API.md, checked at the test gateway's own ledger."""

import time
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from inventory.models import Product, StockMovement
from inventory.services import InsufficientStock, product_update
from orders import payments, services
from orders.models import Order, Payment
from orders.payments import TestGateway
from orders.tests.factories import ProductFactory, order_make
from orders.tests.payment_helpers import assert_money_invariant, reconcile_later

pytestmark = pytest.mark.django_db
URL = "/api/v1/orders/"


def states():
    return list(Payment.objects.order_by("pk").values_list("state", flat=True))


def execute(client, order, key=None, token="tok"):  # noqa: S107 - a card token
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"{URL}{order.pk}/execute/", {"payment_token": token}, **headers)


def test_execute_records_the_attempt_before_charging_and_captures_it(client_for, customer):
    order = order_make(customer=customer, items=[(ProductFactory(price=Decimal("4.50")), 2)])
    seen = []
    real_call = payments.call

    def call(method, **kwargs):  # what the shop has recorded when it calls the gateway
        seen.append(list(Payment.objects.values_list("state", "amount", "idempotency_key")))
        return real_call(method, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(payments, "call", call)
        response = execute(client_for(customer), order)
    assert response.status_code == 200, response.content
    attempt = Payment.objects.get()
    assert seen == [[("started", Decimal("9.00"), attempt.idempotency_key)]]
    assert (attempt.state, attempt.amount, attempt.reference != "") == ("captured", 9, True)
    assert TestGateway.operations(f"Order {order.pk}") == {"charges": 1, "voids": 0, "refunds": 0}
    assert_money_invariant()


def test_execute_gateway_error_before_charging_is_503_and_changes_nothing(client_for, customer):
    product = ProductFactory(quantity=5)
    order = order_make(customer=customer, items=[(product, 2)])
    TestGateway.faults_set(charge="error_before")
    response = execute(client_for(customer), order, key="k1")
    assert response.status_code == 503
    assert response.json()["code"] == "payment_unavailable"
    assert Order.objects.get().status == "pending"
    assert Product.objects.get().quantity == 5
    assert states() == ["started"]  # its outcome is for the gateway to say
    assert reconcile_later() == {"failed": 1}
    assert states() == ["failed"]
    # The order may be executed again.
    TestGateway.faults_clear()
    assert execute(client_for(customer), order, key="k1").status_code == 200
    assert_money_invariant()


@pytest.mark.parametrize("same_key", [True, False], ids=["retry-same-key", "retry-new-request"])
def test_execute_answer_lost_after_the_charge_never_charges_twice(client_for, customer, same_key):
    order = order_make(customer=customer, items=[(ProductFactory(quantity=5), 2)])
    TestGateway.faults_set(charge="error_after")  # charged, then the answer is lost
    assert execute(client_for(customer), order, key="k1").status_code == 503
    assert TestGateway.net_charged(f"Order {order.pk}") == Decimal("20.00")
    TestGateway.faults_clear()
    retry = execute(client_for(customer), order, key="k1" if same_key else None)
    assert retry.status_code == 200, retry.content
    assert Product.objects.get().quantity == 3
    if same_key:  # resumed: the gateway answered the first charge again
        assert states() == ["captured"]
        assert TestGateway.operations(f"Order {order.pk}")["charges"] == 1
    else:  # a second attempt; the first one's charge is voided by the reconciler
        assert states() == ["started", "captured"]
        assert reconcile_later() == {"voided": 1}
        assert states() == ["voided", "captured"]
    assert TestGateway.net_charged(f"Order {order.pk}") == Decimal("20.00")
    assert_money_invariant()


def test_execute_slower_than_the_limit_answers_503_in_time(client_for, customer, settings):
    settings.PAYMENT_GATEWAY_TIMEOUT = 0.3
    order = order_make(customer=customer, items=[(ProductFactory(quantity=5), 1)])
    TestGateway.faults_set(charge="delay_after:1.5")  # charges, answers after 1.5 s
    started = time.monotonic()
    response = execute(client_for(customer), order)
    assert time.monotonic() - started < 0.3 + 2
    assert (response.status_code, response.json()["code"]) == (503, "payment_unavailable")
    assert Order.objects.get().status == "pending"
    time.sleep(1.5)  # the abandoned call lands at the gateway
    assert reconcile_later() == {"voided": 1}
    assert_money_invariant()


def test_execute_503_is_not_stored_under_the_idempotency_key(client_for, customer):
    order = order_make(customer=customer, items=[(ProductFactory(quantity=5), 1)])
    TestGateway.faults_set(charge="error_before")
    assert execute(client_for(customer), order, key="same").status_code == 503
    TestGateway.faults_clear()
    again = execute(client_for(customer), order, key="same")
    assert again.status_code == 200 and "Idempotent-Replayed" not in again.headers
    replay = execute(client_for(customer), order, key="same")
    assert (replay.status_code, replay.headers["Idempotent-Replayed"]) == (200, "true")
    assert_money_invariant()


def _sell_meanwhile(monkeypatch, product, quantity):
    """Make the charge one during which someone else buys the product's stock."""
    real_call = payments.call

    def call(method, **kwargs):
        if method.__name__ == "charge":
            Product.objects.filter(pk=product.pk).update(quantity=quantity)
        return real_call(method, **kwargs)

    monkeypatch.setattr(payments, "call", call)


def test_execute_stock_lost_after_the_charge_voids_it(client_for, customer, monkeypatch):
    product = ProductFactory(quantity=2)
    order = order_make(customer=customer, items=[(product, 2)])
    _sell_meanwhile(monkeypatch, product, 1)
    response = execute(client_for(customer), order)
    assert response.status_code == 409
    assert response.json()["items"] == [{"product": product.pk, "requested": 2, "available": 1}]
    assert states() == ["voided"]
    assert Order.objects.get().status == "pending"
    assert not StockMovement.objects.exists()
    assert TestGateway.operations(f"Order {order.pk}") == {"charges": 1, "voids": 1, "refunds": 0}
    assert_money_invariant()


def test_execute_void_that_fails_is_left_for_the_reconciler(client_for, customer, monkeypatch):
    product = ProductFactory(quantity=2)
    order = order_make(customer=customer, items=[(product, 2)])
    _sell_meanwhile(monkeypatch, product, 1)
    TestGateway.faults_set(void="error")
    response = execute(client_for(customer), order)
    assert (response.status_code, response.json()["code"]) == (409, "insufficient_stock")
    attempt = Payment.objects.get()
    assert attempt.state == "approved" and "void failed" in attempt.last_error
    assert TestGateway.net_charged(f"Order {order.pk}") == Decimal("20.00")
    assert reconcile_later() == {"left": 1}  # the gateway still fails: kept, not forgotten
    TestGateway.faults_clear()
    out = StringIO()
    call_command("reconcile_payments", stdout=out)  # not due yet: just retried
    assert "No unfinished payment attempts are due" in out.getvalue()
    assert reconcile_later() == {"voided": 1}
    assert_money_invariant()


def test_execute_product_archived_after_ordering_is_409_and_charges_nothing(client_for, customer):
    product = ProductFactory(quantity=5)
    order = order_make(customer=customer, items=[(product, 1)])
    product_update(product=product, data={"is_active": False}, actor=None)
    response = execute(client_for(customer), order)
    assert (response.status_code, response.json()["code"]) == (409, "product_unavailable")
    assert not Payment.objects.exists()
    assert TestGateway.net_charged() == 0


def test_execute_while_another_is_in_flight_is_409(client_for, customer):
    order = order_make(customer=customer, items=[(ProductFactory(quantity=5), 1)])
    gateway = services.payments.get_gateway()
    services._attempt_start(order=order, actor=customer, gateway=gateway, request_key="")
    client = client_for(customer)
    for response in [
        execute(client, order),
        client.post(f"{URL}{order.pk}/cancel/"),
        client.patch(f"{URL}{order.pk}/", {"shipping_country": "DE"}, format="json"),
    ]:
        assert (response.status_code, response.json()["code"]) == (409, "payment_in_progress")
    assert Order.objects.get().status == "pending"


def test_payment_in_progress_is_not_kept_under_an_idempotency_key(client_for, customer):
    order = order_make(customer=customer, items=[(ProductFactory(quantity=5), 1)])
    gateway = services.payments.get_gateway()
    started = services._attempt_start(order=order, actor=customer, gateway=gateway, request_key="")
    client = client_for(customer)
    busy = execute(client, order, key="run")
    assert (busy.status_code, busy.json()["code"]) == (409, "payment_in_progress")
    services._attempt_release(started.attempt, error="the gateway did not answer")

    # Sent again once that execution is no longer in flight: carried out, not a replayed 409.
    run = execute(client, order, key="run")
    assert (run.status_code, run.json()["status"]) == (200, "executed")
    assert "Idempotent-Replayed" not in run


def test_idempotent_call_keeps_no_answer_true_only_for_a_moment(customer):
    def busy():
        raise services.PaymentInProgress()

    def done():
        return 201, {"id": 1}

    for resumable in (False, True):
        key = f"k-{resumable}"
        first = services.idempotent_call(
            user=customer, key=key, fingerprint="f", handler=busy, resumable=resumable
        )
        assert first[:2] == (409, services.PaymentInProgress().as_dict())
        again = services.idempotent_call(
            user=customer, key=key, fingerprint="f", handler=done, resumable=resumable
        )
        assert again == (201, {"id": 1}, False)


@pytest.mark.parametrize("change", ["cancelled", "edited"])
def test_an_order_changed_once_its_attempt_was_no_longer_in_flight_is_not_executed(
    client_for, customer, change
):
    product = ProductFactory(quantity=5)
    order = order_make(customer=customer, items=[(product, 1)])
    gateway = services.payments.get_gateway()
    started = services._attempt_start(order=order, actor=customer, gateway=gateway, request_key="")
    result = gateway.charge(
        amount=started.attempt.amount,
        token="tok",  # noqa: S106 - a card token
        description=f"Order {order.pk}",
        idempotency_key=started.attempt.idempotency_key,
    )
    Payment.objects.update(in_flight_until=timezone.now())  # the request's time is over
    client = client_for(customer)
    if change == "cancelled":
        response = client.post(f"{URL}{order.pk}/cancel/")
    else:
        response = client.patch(
            f"{URL}{order.pk}/", {"items": [{"product": product.pk, "quantity": 3}]}, format="json"
        )
    assert response.status_code == 200

    with pytest.raises(services.OrderNotPending):  # the late capture of the first request
        services._attempt_capture(started, reference=result.reference, actor=customer)

    order.refresh_from_db()
    assert order.status == ("cancelled" if change == "cancelled" else "pending")
    assert states() == ["voided"]
    assert Product.objects.get().quantity == 5
    assert not StockMovement.objects.exists()
    assert TestGateway.net_charged() == 0


def test_refund_sends_the_refund_after_commit(customer, django_capture_on_commit_callbacks):
    product = ProductFactory(quantity=5)
    order = order_make(customer=customer, items=[(product, 2)])
    services.order_execute(order=order, actor=None)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.order_refund(order=order, actor=None)
    assert states() == ["refund_pending"]
    assert TestGateway.net_charged(f"Order {order.pk}") == Decimal("20.00")  # not yet
    for callback in callbacks:
        callback()
    assert states() == ["refunded"]
    assert Order.objects.get().status == "refunded"
    assert Product.objects.get().quantity == 5
    assert_money_invariant()


def test_refund_that_fails_stays_pending_and_is_retried(
    customer, django_capture_on_commit_callbacks
):
    order = order_make(customer=customer, items=[(ProductFactory(quantity=5), 2)])
    services.order_execute(order=order, actor=None)
    TestGateway.faults_set(refund="error")
    with django_capture_on_commit_callbacks(execute=True):
        services.order_refund(order=order, actor=None)
    attempt = Payment.objects.get()
    assert (attempt.state, "refund failed" in attempt.last_error) == ("refund_pending", True)
    assert Order.objects.get().status == "refunded"
    assert TestGateway.net_charged(f"Order {order.pk}") == Decimal("20.00")
    assert reconcile_later() == {"left": 1}
    TestGateway.faults_clear()
    assert reconcile_later() == {"refunded": 1}
    assert_money_invariant()


def test_reconcile_settles_a_declined_charge_whose_answer_was_lost(customer):
    order = order_make(customer=customer, items=[(ProductFactory(quantity=5), 1)])
    TestGateway.faults_set(charge="error_after")
    with pytest.raises(services.PaymentUnavailable):
        services.order_execute(order=order, actor=None, payment_token="decline-card")
    TestGateway.faults_clear()
    assert reconcile_later() == {"declined": 1}
    assert reconcile_later() == {}  # nothing left: running it again changes nothing
    assert_money_invariant()


def test_reconcile_leaves_attempts_in_flight_alone(customer):
    order = order_make(customer=customer, items=[(ProductFactory(quantity=5), 1)])
    TestGateway.faults_set(charge="error_after")
    with pytest.raises(services.PaymentUnavailable):
        services.order_execute(order=order, actor=None)
    # Within the grace period the abandoned call may still land: not settled yet.
    assert services.payment_attempts_reconcile() == {}
    assert states() == ["started"]


def test_stock_race_inside_an_idempotent_request_answers_and_stores_409(customer, monkeypatch):
    product = ProductFactory(quantity=2)
    order = order_make(customer=customer, items=[(product, 2)])
    _sell_meanwhile(monkeypatch, product, 1)

    def handler():
        services.order_execute(order=order, actor=customer, idempotency_key="k")
        return 200, {}

    status, body, replayed = services.idempotent_call(
        user=customer, key="k", fingerprint="f", handler=handler, resumable=True
    )
    assert (status, body["code"], replayed) == (409, "insufficient_stock", False)
    again = services.idempotent_call(
        user=customer, key="k", fingerprint="f", handler=handler, resumable=True
    )
    assert again == (409, body, True)
    assert states() == ["voided"]
    with pytest.raises(InsufficientStock):
        services.order_execute(order=order, actor=customer)
    assert_money_invariant()


def test_same_key_duplicate_while_the_first_charges_another_amount_waits_for_it(
    client_for, customer, monkeypatch
):
    """The client re-sends its execute (same Idempotency-Key) while the first is charging, and
    the product's price changed in between: the duplicate is told the execution is in progress
    (not kept under the key), charges nothing; the first executes the order, and the key then
    replays the first request's 200."""
    product = ProductFactory(quantity=5, price=Decimal("10.00"))
    order = order_make(customer=customer, items=[(product, 2)])
    client = client_for(customer)
    real_call, duplicate = payments.call, []

    def call(method, **kwargs):
        if method.__name__ == "charge" and not duplicate:  # the first request is charging
            duplicate.append(None)
            Product.objects.filter(pk=product.pk).update(price=Decimal("11.00"))
            response = client.post(f"{URL}{order.pk}/execute/", {}, HTTP_IDEMPOTENCY_KEY="k")
            duplicate[0] = response.status_code, response.json().get("code")
        return real_call(method, **kwargs)

    monkeypatch.setattr(payments, "call", call)
    first = client.post(f"{URL}{order.pk}/execute/", {}, HTTP_IDEMPOTENCY_KEY="k")
    monkeypatch.undo()
    replay = client.post(f"{URL}{order.pk}/execute/", {}, HTTP_IDEMPOTENCY_KEY="k")

    assert duplicate == [(409, "payment_in_progress")]
    assert (first.status_code, first.json()["total"]) == (200, "20.00")
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (200, "true")
    assert replay.json() == first.json()
    assert list(Payment.objects.values_list("state", "amount")) == [("captured", Decimal("20.00"))]
    assert_money_invariant()


def test_a_charge_landing_after_the_reconciler_found_none_is_voided(
    client_for, customer, monkeypatch
):
    """The request stalls between its phase 1 and its charge for longer than its time and the
    grace: reconcile_payments asks the gateway, finds no charge under the attempt's key and
    closes it `failed`; then the charge goes out and is approved. Phase 3 holds the only
    reference to that charge: it voids it (it was kept, charged for an order left pending)."""
    order = order_make(customer=customer, items=[(ProductFactory(quantity=5), 2)])
    real_call, reconciled = payments.call, []

    def call(method, **kwargs):
        if method.__name__ == "charge":
            reconciled.append(reconcile_later())
        return real_call(method, **kwargs)

    monkeypatch.setattr(payments, "call", call)
    response = execute(client_for(customer), order, key="k")
    monkeypatch.undo()

    assert reconciled == [{"failed": 1}]
    assert (response.status_code, response.json()["code"]) == (503, "payment_unavailable")
    assert Order.objects.get().status == "pending"
    assert states() == ["voided"]
    assert TestGateway.operations(f"Order {order.pk}") == {"charges": 1, "voids": 1, "refunds": 0}
    assert_money_invariant()
    assert execute(client_for(customer), order, key="k").status_code == 200  # may be retried
    assert_money_invariant()


def test_a_request_giving_up_leaves_a_duplicate_that_resumed_its_attempt_in_flight(
    client_for, customer, monkeypatch
):
    """Two copies of one request (same Idempotency-Key): the second resumed the attempt while
    the first was charging, then the first timed out. Its 503 must not mark the attempt as no
    longer in flight while the second still charges under it: an edit (or cancellation, or
    another execution, or the reconciler) would get in."""
    product = ProductFactory(quantity=5)
    order = order_make(customer=customer, items=[(product, 2)])
    client = client_for(customer)
    first = services._attempt_start(  # the first copy's phase 1; it is charging
        order=order,
        actor=customer,
        gateway=payments.get_gateway(),
        request_key=services._request_key(customer, "k"),
    )
    real_call, edits = payments.call, []

    def call(method, **kwargs):
        if method.__name__ == "charge":  # the second copy charges; the first one gives up
            services._attempt_release(first.attempt, error="charge: no answer within 10 s")
            items = {"items": [{"product": product.pk, "quantity": 1}]}
            edits.append(client.patch(f"{URL}{order.pk}/", items, format="json"))
        return real_call(method, **kwargs)

    monkeypatch.setattr(payments, "call", call)
    second = execute(client, order, key="k")
    monkeypatch.undo()

    assert [(e.status_code, e.json()["code"]) for e in edits] == [(409, "payment_in_progress")]
    assert (second.status_code, second.json()["status"]) == (200, "executed"), second.json()
    assert states() == ["captured"]
    assert_money_invariant()


class OtherGateway(TestGateway):
    """Another provider, switched to by PAYMENT_GATEWAY: it knows none of the old charges."""

    name = "other"

    def find_charge(self, *, idempotency_key):
        return None


def test_attempts_of_another_gateway_are_left_to_the_operator(customer, settings):
    """A charged attempt (answer lost) is not closed `failed` on the word of a provider that
    PAYMENT_GATEWAY names after a switch: it stays unfinished, with the reason."""
    order = order_make(customer=customer, items=[(ProductFactory(quantity=5), 2)])
    TestGateway.faults_set(charge="error_after")
    with pytest.raises(services.PaymentUnavailable):
        services.order_execute(order=order, actor=customer)
    TestGateway.faults_clear()

    settings.PAYMENT_GATEWAY = f"{__name__}.OtherGateway"
    assert reconcile_later() == {"left": 1}
    attempt = Payment.objects.get()
    assert attempt.state == "started"
    assert "made with the gateway 'test', but PAYMENT_GATEWAY is now 'other'" in attempt.last_error

    settings.PAYMENT_GATEWAY = "orders.payments.TestGateway"  # switched back: settled
    assert reconcile_later() == {"voided": 1}
    assert_money_invariant()
