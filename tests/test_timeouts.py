"""Database time limits (issue 17, finding 14): a slow or silent database is a 503 within the
limit, never a hung worker. Real stalls on PostgreSQL: a port that accepts and never answers,
and a table lock held by another connection."""

import socket
import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client

from inventory.tests.factories import ProductFactory

LIST = "/api/v1/products/"


@pytest.fixture
def silent_port():
    """A TCP port that accepts connections and never says a word (a paused server)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server.getsockname()[1]
    server.close()


@pytest.mark.postgres
@pytest.mark.django_db
def test_settings_give_connections_their_time_limits(settings):
    assert settings.DATABASE_CONNECT_TIMEOUT == 5
    assert settings.DATABASE_STATEMENT_TIMEOUT == 30
    assert settings.DATABASES["default"]["OPTIONS"]["connect_timeout"] == 5
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("30s",)


@pytest.mark.postgres
@pytest.mark.django_db
def test_healthz_503_within_2_seconds_when_the_database_says_nothing(
    client, silent_port, monkeypatch
):
    """Finding 14: with PostgreSQL paused, /healthz waited 12 s and then answered 200."""
    database = connections.settings["default"]
    monkeypatch.setitem(database, "HOST", "127.0.0.1")
    monkeypatch.setitem(database, "PORT", str(silent_port))  # new connections go there

    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error"}
    assert elapsed < 3, elapsed


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_api_answers_503_when_a_statement_outlasts_the_limit():
    """A query stuck behind a lock held by another connection is cancelled by the statement
    timeout (shortened here to 0.5 s) and answered 503 `service_unavailable`."""
    ProductFactory()
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute("LOCK TABLE inventory_product IN ACCESS EXCLUSIVE MODE")
                locked.set()
                release.wait(10)
                cursor.execute("ROLLBACK")
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(5)
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 500")
        started = time.monotonic()
        response = Client(raise_request_exception=False).get(LIST)
        elapsed = time.monotonic() - started
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")

    assert response.status_code == 503, response.content
    assert response.json()["code"] == "service_unavailable"
    assert elapsed < 3, elapsed
