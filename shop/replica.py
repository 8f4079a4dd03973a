"""Reads from the read replica (DATABASE_REPLICA_URL), for the analytics reports only.

`replica_reads()` (a context manager and a decorator) sends the ORM reads made inside it to
the `replica` alias through ReplicaRouter, when that alias is configured and answers; when it
does not, they go to the primary and a warning is logged. Outside it every read and every write
goes to `default`, and nothing is ever migrated on the replica. Raw SQL inside it asks the
router which alias to use (`router.db_for_read(Model)`), as the analytics selectors do.
"""

import logging
from contextvars import ContextVar
from functools import wraps

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.utils.connection import ConnectionDoesNotExist

REPLICA = "replica"
logger = logging.getLogger(__name__)
_read_alias: ContextVar[str | None] = ContextVar("shop_read_alias", default=None)


def replica_alias() -> str | None:
    """ "replica" when it is configured and answers now; None otherwise (logged)."""
    try:
        replica = connections[REPLICA]
    except ConnectionDoesNotExist:
        return None
    try:
        if replica.connection is not None and not replica.is_usable():
            replica.close()  # a kept connection the replica dropped (restart, failover)
        replica.ensure_connection()
    except DatabaseError as error:
        replica.close()
        logger.warning("Read replica unreachable, reading from the primary: %s", error)
        return None
    return REPLICA


class replica_reads:  # noqa: N801 (used like a function: replica_reads())
    """Inside: ORM reads go to the replica when it answers, else to the primary.

    As a decorator it also survives the replica failing in the middle of the reads (a
    restart, a failover, a query cancelled by a conflict with recovery): the function runs
    again on the primary (logged). A `with` block cannot be run again: it raises."""

    def __enter__(self):
        self.token = None
        if _read_alias.get() is None:  # nested: keep the outer choice
            self.token = _read_alias.set(replica_alias() or DEFAULT_DB_ALIAS)
        return self

    def __exit__(self, *exc_info):
        if self.token is not None:
            _read_alias.reset(self.token)

    def __call__(self, func):
        @wraps(func)
        def reads(*args, **kwargs):
            with replica_reads() as outer:  # a new one a call: calls may run in many threads
                try:
                    return func(*args, **kwargs)
                except DatabaseError as error:
                    if outer.token is None or _read_alias.get() != REPLICA:
                        raise
                    connections[REPLICA].close()
                    logger.warning("Read replica failed, reading from the primary: %s", error)
                    _read_alias.set(DEFAULT_DB_ALIAS)  # reset to the outer value on exit
                    return func(*args, **kwargs)

        return reads


class ReplicaRouter:
    """Reads inside replica_reads() go where it chose; everything else to the primary."""

    def db_for_read(self, model, **hints):
        return _read_alias.get() or DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS
