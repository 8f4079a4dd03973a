"""A real streaming replica of the test run's PostgreSQL, for the read replica tests.

`pg_basebackup -R` copies the primary cluster (as the `postgres` user when run as root) into a
temporary directory, and `pg_ctl` starts it as a hot standby on a free port. The primary must
accept replication connections from 127.0.0.1 (.ci/run adds that pg_hba.conf line).
"""

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.scale.services import free_port

BINARIES = ("pg_basebackup", "pg_ctl")


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def binaries_available() -> bool:
    return all(_binary(name) for name in BINARIES)


class StreamingReplica:
    def __init__(self, primary: dict):
        self.primary = primary  # the default alias's settings_dict
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="shop-replica-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            _binary("pg_basebackup"),
            "-h", primary["HOST"] or "127.0.0.1", "-p", str(primary["PORT"] or 5432),
            "-U", primary["USER"] or "postgres", "-D", str(self.data),
            "-R", "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip
        # A Debian cluster keeps its configuration in /etc: the copy gets its own.
        # A throwaway copy: no fsync (also none of the start-up sync of the whole copy).
        self._write("postgresql.conf", "hot_standby = on\nfsync = off\n")
        self._write("pg_hba.conf", "local all all trust\nhost all all 127.0.0.1/32 trust\n")
        self.start()

    def _write(self, name: str, text: str) -> None:
        path = self.data / name
        path.write_text(text)
        if self.as_postgres:
            shutil.chown(path, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_postgres, *args], check=True, capture_output=True, timeout=300)  # noqa: S603

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        pg_ctl = _binary("pg_ctl")
        self._run(pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")
        self.running = True

    def stop(self) -> None:
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.running = False

    def destroy(self) -> None:
        try:
            if self.running:  # a throwaway copy: no need to wait for clients or checkpoints
                self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        except subprocess.SubprocessError:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGQUIT)  # immediate shutdown of the copy about to be deleted
        shutil.rmtree(self.root, ignore_errors=True)

    def sql(self, query: str):
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            return conn.execute(query).fetchone()

    def pause(self) -> None:
        self.sql("SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + 30
        while self.sql("SELECT pg_get_wal_replay_pause_state()")[0] != "paused":
            if time.monotonic() > deadline:
                raise AssertionError("the replica did not pause its replay")
            time.sleep(0.05)

    def resume(self) -> None:
        self.sql("SELECT pg_wal_replay_resume()")

    def catch_up(self, timeout: float = 120) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        p = self.primary
        with psycopg.connect(
            host=p["HOST"] or "127.0.0.1",
            port=p["PORT"] or 5432,
            user=p["USER"] or "postgres",
            dbname=p["NAME"],
            autocommit=True,
        ) as conn:
            target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.monotonic() + timeout
        query = f"SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '{target}') >= 0"
        while not self.sql(query)[0]:
            if time.monotonic() > deadline:
                raise AssertionError("the replica did not catch up with the primary")
            time.sleep(0.05)

    @contextmanager
    def alias(self):
        """The `replica` database alias, pointed at this replica's copy of the test database.

        Set as a connection of this thread only (not in DATABASES), which Django's test cases
        allow beside their own databases: the replica is read-only, never flushed."""
        from django.db import connections
        from django.db.utils import load_backend

        settings_dict = {
            **connections["default"].settings_dict,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "OPTIONS": {"connect_timeout": 2},
        }
        backend = load_backend(settings_dict["ENGINE"])
        connections["replica"] = backend.DatabaseWrapper(settings_dict, alias="replica")
        try:
            yield
        finally:
            connections["replica"].close()
            del connections["replica"]
