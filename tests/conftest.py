"""Fixtures for the project-wide tests (browser, fuzzing)."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def _serialized_rollback_after_any_flush():
    """Let `serialized_rollback` restore the migrated data whatever ran before.

    The browser and fuzzing tests need a live server, hence real transactions, and the rows the
    migrations made (the staff roles and their permissions), which Django restores from a
    snapshot before each such test. But a transactional test without `serialized_rollback`
    (the concurrency tests) leaves a flushed database in which `post_migrate` has already made
    content types and permissions again: restoring the snapshot over them then fails on their
    unique keys. Emptying the database first makes the restore exact in every case.
    """
    from django.core.management import call_command
    from django.db.backends.base.creation import BaseDatabaseCreation

    original = BaseDatabaseCreation.deserialize_db_from_string

    def deserialize_db_from_string(self, data):
        call_command(
            "flush",
            database=self.connection.alias,
            interactive=False,
            inhibit_post_migrate=True,
            verbosity=0,
        )
        original(self, data)

    BaseDatabaseCreation.deserialize_db_from_string = deserialize_db_from_string
    yield
    BaseDatabaseCreation.deserialize_db_from_string = original
