"""The analytics reports read the read replica, and only they; the primary when it is down."""

import logging

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, router

from analytics import selectors
from analytics.tests.factories import executed_order
from orders.models import Order
from orders.tests.factories import ProductFactory
from shop.replica import ReplicaRouter, replica_reads

PROFIT = "/api/v1/analytics/profit/"


def _sale():
    return executed_order([(ProductFactory(), 1, "10.00", "4.00")])


def _reported_orders(client) -> int:
    response = client.get(PROFIT)
    assert response.status_code == 200
    return response.json()["executed_orders"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_reports_read_the_replica_and_orders_the_primary(replica, client_for, analyst):
    client = client_for(analyst)
    _sale()
    replica.catch_up()
    assert _reported_orders(client) == 1

    replica.pause()  # the replica stops applying the primary's changes
    second = _sale()

    # The order reads as executed (primary), the report does not count it yet (replica).
    assert Order.objects.get(pk=second.pk).status == Order.Status.EXECUTED
    assert _reported_orders(client) == 1
    assert (
        selectors.dashboard(date_from=second.executed_at.date(), date_to=second.executed_at.date())[
            "summary"
        ].executed_orders
        == 1
    )

    replica.resume()
    replica.catch_up()
    assert _reported_orders(client) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_reports_fall_back_to_the_primary_when_the_replica_is_down(
    replica, client_for, analyst, caplog
):
    client = client_for(analyst)
    replica.pause()
    _sale()
    assert _reported_orders(client) == 0  # read on the paused replica

    replica.stop()
    with caplog.at_level(logging.WARNING, logger="shop.replica"):
        assert _reported_orders(client) == 1  # read on the primary

    assert "Read replica unreachable, reading from the primary" in caplog.text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_report_whose_replica_connection_dies_mid_read_is_read_again_on_the_primary(
    replica, client_for, analyst, caplog
):
    client = client_for(analyst)
    _sale()
    replica.catch_up()
    replica.pause()
    _sale()  # on the primary only: 2 there, 1 on the replica
    killed = []

    def terminate_first_query(execute, sql, params, many, context):
        if not killed:  # the replica ends this very connection, as a restart or failover would
            killed.append(context["connection"].connection.info.backend_pid)
            replica.sql(f"SELECT pg_terminate_backend({killed[0]})")
        return execute(sql, params, many, context)

    with (
        connections["replica"].execute_wrapper(terminate_first_query),
        caplog.at_level(logging.WARNING, logger="shop.replica"),
    ):
        assert _reported_orders(client) == 2  # answered from the primary, not a 500
    assert killed
    assert "Read replica failed, reading from the primary" in caplog.text
    replica.resume()


def test_router_sends_reads_outside_reports_and_every_write_to_the_primary():
    class Model:
        pass

    r = ReplicaRouter()
    assert r.db_for_read(Model) == DEFAULT_DB_ALIAS
    assert r.db_for_write(Model) == DEFAULT_DB_ALIAS
    assert r.allow_migrate("replica", "orders") is False
    assert r.allow_migrate(DEFAULT_DB_ALIAS, "orders") is True


@pytest.mark.django_db
def test_without_a_replica_reports_read_the_primary():
    with replica_reads():
        assert router.db_for_read(Order) == DEFAULT_DB_ALIAS
