"""Money under real faults, on PostgreSQL: a gunicorn worker killed with SIGKILL at each step of
an execution, the database connection dropped around the commit, reconcilers racing each other.
Each test ends with the money invariant of API.md, read from the test gateway's own ledger."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import OperationalError, connection, connections
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from orders import services
from orders.models import Order, OrderEvent, Payment
from orders.payments import TestGateway
from orders.tests.factories import ProductFactory, order_make
from orders.tests.payment_helpers import assert_money_invariant

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
ROOT = Path(__file__).resolve().parents[2]


def _wait(condition, what: str, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _pg_dsn(name: str | None = None) -> str:
    s = connection.settings_dict
    return f"host={s['HOST']} port={s['PORT'] or 5432} user={s['USER']} dbname={name or s['NAME']}"


# A real server: gunicorn, one sync worker, on the test database ---------------------------------


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        db = connection.settings_dict
        port_db = db["PORT"] or 5432
        ledger = tmp_path_factory.mktemp("gateway") / "ledger.sqlite3"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{port_db}/{db['NAME']}",
            "SECRET_KEY": django_settings.SECRET_KEY,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "THROTTLE_USER_RATE": "100000/min",
            "TEST_GATEWAY_LEDGER": str(ledger),
            "PAYMENT_GATEWAY_TIMEOUT": "60",
            "LOG_LEVEL": "ERROR",
        }
        master = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "gunicorn", "shop.wsgi:application", "--workers", "1",
             "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--graceful-timeout", "1"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            _wait(lambda: _get(port, "/healthz")[0] == 200, "gunicorn", seconds=30)
            yield {"port": port, "master": master, "ledger": ledger}
        finally:
            master.terminate()
            master.wait(10)


def _get(port, path):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    except OSError:
        return None, b""


def _post(port, path, *, token, key=None, body=None, timeout=90):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    conn.request("POST", path, body=json.dumps(body or {}), headers=headers)
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"null")


def _worker_pid(master) -> int:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children")
    return int(_wait(lambda: children.read_text().split(), "a gunicorn worker")[0])


@pytest.fixture
def shop(server, settings):
    settings.TEST_GATEWAY_LEDGER = server["ledger"]
    # The server's ledger outlives a test; order ids may start again at 1 in the next one.
    TestGateway.ledger_clear()
    customer = UserFactory()
    token = str(RefreshToken.for_user(customer).access_token)

    class Shop:
        def execute_in_background(self, order, key):
            """POST execute from a thread; its answer (or error) lands in .answers."""
            self.answers = []

            def run():
                try:
                    self.answers.append(
                        _post(
                            server["port"],
                            f"/api/v1/orders/{order.pk}/execute/",
                            token=token,
                            key=key,
                        )  # fmt: skip
                    )
                except (OSError, http.client.HTTPException) as exc:
                    self.answers.append(exc)

            thread = threading.Thread(target=run)
            thread.start()
            return thread

        def execute(self, order, key):
            return _post(
                server["port"], f"/api/v1/orders/{order.pk}/execute/", token=token, key=key
            )

        def kill_worker(self):
            pid = _worker_pid(server["master"])
            os.kill(pid, signal.SIGKILL)
            _wait(lambda: _worker_pid(server["master"]) != pid, "a new worker")

    result = Shop()
    result.customer = customer
    return result


def _charges(order) -> int:
    return TestGateway.operations(f"Order {order.pk}")["charges"]


@pytest.mark.parametrize(
    "moment",
    ["inside-charge-before-the-gateway-charged", "inside-charge-after-the-gateway-charged",
     "after-the-charge-returned-waiting-for-stock-locks"],
)  # fmt: skip
def test_worker_killed_during_execution_then_retried_charges_once(shop, moment, request):
    product = ProductFactory(quantity=10)
    order = order_make(customer=shop.customer, items=[(product, 2)])
    blocker = None
    if moment.startswith("inside-charge-before"):
        TestGateway.faults_set(charge="delay_before:60")
    elif moment.startswith("inside-charge-after"):
        TestGateway.faults_set(charge="delay_after:60")
    else:  # hold the product's row lock: phase 3 waits for it with the charge made
        blocker = psycopg.connect(_pg_dsn())
        request.addfinalizer(blocker.close)  # never left holding the lock, even on a failure
        blocker.execute("SELECT 1 FROM inventory_product WHERE id = %s FOR UPDATE", [product.pk])
    execution = shop.execute_in_background(order, key="pay-1")
    _wait(lambda: Payment.objects.filter(order=order).exists(), "the attempt")
    if moment.startswith("inside-charge-before"):
        time.sleep(0.5)  # inside the gateway's charge, nothing charged yet
        assert _charges(order) == 0
    else:
        _wait(lambda: _charges(order) == 1, "the charge")
    if moment.startswith("inside-charge"):
        # A charge in progress holds no transaction and no row lock.
        with psycopg.connect(_pg_dsn()) as other:
            other.execute("SET lock_timeout = '1s'")
            other.execute("SELECT 1 FROM orders_order WHERE id = %s FOR UPDATE", [order.pk])
            other.execute("SELECT 1 FROM inventory_product WHERE id = %s FOR UPDATE", [product.pk])
            idle = other.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state LIKE 'idle in transaction%%' AND pid <> pg_backend_pid()"
            ).fetchone()[0]
            assert idle == 0
    if blocker:
        _wait(
            lambda: blocker.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            ).fetchone()[0],
            "the worker to wait for the product lock",
        )
    shop.kill_worker()
    execution.join(10)
    assert isinstance(shop.answers[0], Exception), shop.answers  # the client saw the death
    if blocker:
        blocker.rollback()
        blocker.close()
    TestGateway.faults_clear()
    assert Order.objects.get(pk=order.pk).status == "pending"

    status, body = shop.execute(order, key="pay-1")  # the client retries, same key
    assert status == 200, body
    assert body["status"] == "executed"
    assert _charges(order) == 1
    assert list(Payment.objects.filter(order=order).values_list("state", flat=True)) == ["captured"]
    product.refresh_from_db()
    assert product.quantity == 8
    assert_money_invariant()


def test_worker_killed_after_the_charge_and_never_retried_is_voided(shop):
    order = order_make(customer=shop.customer, items=[(ProductFactory(quantity=10), 1)])
    TestGateway.faults_set(charge="delay_after:60")
    request = shop.execute_in_background(order, key=None)
    _wait(lambda: _charges(order) == 1, "the charge")
    shop.kill_worker()
    request.join(10)
    assert Payment.objects.get(order=order).state == "started"
    # Run as an operator would, once the request's time is over.
    later = timezone.now() + timedelta(minutes=5)
    assert services.payment_attempts_reconcile(now=later) == {"voided": 1}
    assert Order.objects.get(pk=order.pk).status == "pending"
    assert_money_invariant()


# The connection dropped at COMMIT ---------------------------------------------------------------


def _drop_connection_at_capture(monkeypatch, *, after_commit: bool):
    """The second commit of an execution (its capture) loses the connection: before
    PostgreSQL committed, or after it did and only the answer was lost."""
    real_commit = connection.commit
    commits = []

    def kill_own_backend():
        pid = connection.connection.info.backend_pid
        with psycopg.connect(_pg_dsn(), autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])

    def commit():
        commits.append(1)
        if len(commits) != 2:
            return real_commit()
        if after_commit:
            real_commit()
            kill_own_backend()
            raise OperationalError("server closed the connection unexpectedly")
        kill_own_backend()
        return real_commit()  # fails: the backend is gone, nothing was committed

    monkeypatch.setattr(connection, "commit", commit)


def test_connection_lost_before_commit_voids_the_charge(monkeypatch):
    product = ProductFactory(quantity=5)
    order = order_make(items=[(product, 2)])
    _drop_connection_at_capture(monkeypatch, after_commit=False)
    with pytest.raises(OperationalError):
        services.order_execute(order=order, actor=None)
    monkeypatch.undo()
    connection.close()
    assert Order.objects.get().status == "pending"
    assert Payment.objects.get().state == "voided"
    product.refresh_from_db()
    assert product.quantity == 5
    assert_money_invariant()


def test_connection_lost_after_commit_keeps_the_executed_order_charged(monkeypatch):
    product = ProductFactory(quantity=5)
    order = order_make(items=[(product, 2)])
    _drop_connection_at_capture(monkeypatch, after_commit=True)
    executed = services.order_execute(order=order, actor=None)
    monkeypatch.undo()
    assert executed.status == "executed"
    assert Payment.objects.get().state == "captured"
    assert TestGateway.operations(f"Order {order.pk}") == {"charges": 1, "voids": 0, "refunds": 0}
    product.refresh_from_db()
    assert product.quantity == 3
    assert_money_invariant()


# Reconcilers at once ----------------------------------------------------------------------------


def test_concurrent_reconcilers_settle_each_attempt_once():
    orders = [order_make(items=[(ProductFactory(quantity=5), 1)]) for _ in range(8)]
    TestGateway.faults_set(charge="error_after")  # eight charges whose answers were lost
    for order in orders:
        with pytest.raises(services.PaymentUnavailable):
            services.order_execute(order=order, actor=None)
    TestGateway.faults_clear()
    later = timezone.now() + timedelta(minutes=5)
    barrier = threading.Barrier(4)
    outcomes = []

    def reconcile():
        try:
            barrier.wait()
            outcomes.append(services.payment_attempts_reconcile(now=later))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reconcile) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(o.get("voided", 0) for o in outcomes) == 8, outcomes
    assert set(Payment.objects.values_list("state", flat=True)) == {"voided"}
    voided_events = OrderEvent.objects.filter(type="payment", data__state="voided")
    assert voided_events.count() == 8  # each attempt moved once
    assert_money_invariant()
