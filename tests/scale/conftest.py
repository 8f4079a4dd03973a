import os

import pytest


@pytest.fixture(scope="session")
def streaming_replica(django_db_setup, django_db_blocker):
    """A running streaming replica of the test run's PostgreSQL (made once per session)."""
    from django.db import connection

    from tests.scale.replica import StreamingReplica, binaries_available
    from tests.scale.services import require

    if connection.vendor != "postgresql":
        pytest.skip("a streaming replica needs PostgreSQL (set DATABASE_URL)")
    require(binaries_available(), "PostgreSQL's server programs (pg_basebackup, pg_ctl)")
    with django_db_blocker.unblock():
        replica = StreamingReplica(connection.settings_dict)
    yield replica
    if not os.environ.get("SHOP_KEEP_REPLICA"):
        replica.destroy()


@pytest.fixture
def replica(streaming_replica):
    """The session's replica, running and caught up, as the `replica` alias for this test."""
    if not streaming_replica.running:
        streaming_replica.start()
    streaming_replica.resume()
    streaming_replica.catch_up()
    with streaming_replica.alias():
        yield streaming_replica


@pytest.fixture
def celery_worker(tmp_path, settings):
    """A real `celery -A shop worker` process on RabbitMQ, sharing the test database; this
    process queues its jobs there instead of running them inline. Needs PostgreSQL (the worker
    reads the rows the test committed: use transactional tests)."""
    from django.db import connection

    from shop.celery import app
    from tests.scale.services import (
        AMQP_URL,
        CeleryWorker,
        child_env,
        database_url,
        rabbitmq_available,
        require,
        unique,
    )

    if connection.vendor != "postgresql":
        pytest.skip("a worker process shares the test database on PostgreSQL only")
    require(rabbitmq_available(), f"RabbitMQ ({AMQP_URL})")
    queue = unique()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = AMQP_URL
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # The app read Django's settings once, under their CELERY_ names (its namespace).
    keys = ("CELERY_TASK_ALWAYS_EAGER", "CELERY_BROKER_URL", "CELERY_TASK_DEFAULT_QUEUE")
    saved = {key: app.conf[key] for key in keys}
    app.conf.update(dict(zip(keys, (False, AMQP_URL, queue), strict=True)))
    _reset_celery_connections(app)
    env = child_env(
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL=AMQP_URL,
        CELERY_TASK_DEFAULT_QUEUE=queue,
        MEDIA_ROOT=settings.MEDIA_ROOT,
    )
    worker = CeleryWorker(env, queue, tmp_path / "worker.log")
    worker.env, worker.queue = env, queue
    try:
        yield worker
    finally:
        worker.stop()
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
        app.conf.update(saved)
        _reset_celery_connections(app)


def _reset_celery_connections(app):
    """Forget the broker connections and queues Celery made from the configuration before."""
    from kombu import pools

    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    pools.reset()  # kombu's registry of producer pools, keyed by connection
    app.__dict__.pop("amqp", None)
