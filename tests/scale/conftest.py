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
