"""Payment gateways: the interface the order services call, the time limit on every call, and
the built-in test gateway.

The gateway is chosen by the `PAYMENT_GATEWAY` setting (a dotted path to a class made with no
arguments). Every call goes through `call()`, which gives up after `PAYMENT_GATEWAY_TIMEOUT`
seconds: a gateway may raise, answer late or succeed while its answer is lost, so the order
services record a payment attempt *before* calling it and settle what they could not finish
through `reconcile_payments` (see orders/services.py).
"""

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from shop.money import from_cents, to_cents


@dataclass(frozen=True)
class ChargeResult:
    approved: bool
    reference: str
    message: str = ""


class GatewayUnavailable(Exception):
    """The gateway raised or did not answer within PAYMENT_GATEWAY_TIMEOUT."""


class PaymentGateway:
    """What the order services need from a payment provider. Every method must be idempotent
    for the same key or reference: the shop retries them after errors and process deaths."""

    name = "gateway"

    def charge(
        self, *, amount: Decimal, token: str, description: str, idempotency_key: str
    ) -> ChargeResult:
        """Charge once per idempotency_key: a second call with the same key answers the first
        call's result and charges nothing."""
        raise NotImplementedError

    def find_charge(self, *, idempotency_key: str) -> ChargeResult | None:
        """What the charge made with this key did, or None when there was none."""
        raise NotImplementedError

    def void(self, *, reference: str) -> None:
        """Cancel an approved charge (the order was not executed with it)."""
        raise NotImplementedError

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> None:
        """Return money of a charge, once per idempotency_key."""
        raise NotImplementedError


@cache
def _gateway_class(path: str) -> type[PaymentGateway]:
    return import_string(path)


def get_gateway() -> PaymentGateway:
    return _gateway_class(settings.PAYMENT_GATEWAY)()


def call(method: Callable[..., Any], /, **kwargs) -> Any:
    """method(**kwargs), or GatewayUnavailable when it raises or has not answered within
    PAYMENT_GATEWAY_TIMEOUT seconds. A late call is abandoned, not stopped: its outcome is
    found later by the gateway's idempotency key (find_charge)."""
    timeout = settings.PAYMENT_GATEWAY_TIMEOUT
    outcome: dict[str, Any] = {}

    def run():
        try:
            outcome["result"] = method(**kwargs)
        except Exception as exc:  # reported to the caller below
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="payment-gateway-call", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise GatewayUnavailable(f"{method.__name__}: no answer within {timeout:g} s")
    if "error" in outcome:
        error = outcome["error"]
        raise GatewayUnavailable(f"{method.__name__}: {error}") from error
    return outcome["result"]


# The built-in test gateway ---------------------------------------------------------------------


class TestGatewayError(Exception):
    pass


_LEDGER_SCHEMA = """
CREATE TABLE IF NOT EXISTS charges (
    idempotency_key TEXT PRIMARY KEY, reference TEXT NOT NULL, description TEXT NOT NULL,
    cents INTEGER NOT NULL, approved INTEGER NOT NULL, message TEXT NOT NULL,
    voided INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS refunds (
    idempotency_key TEXT PRIMARY KEY, reference TEXT NOT NULL, cents INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS faults (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_ledgers: dict[tuple[int, str], sqlite3.Connection] = {}
_ledgers_lock = threading.Lock()


class TestGateway(PaymentGateway):
    """A stand-in for a remote payment service, for development and tests.

    Approves every token except those starting with "decline". Its ledger is its own SQLite
    file (`TEST_GATEWAY_LEDGER`), written in autocommit, so like a real provider's records it
    survives the shop's rollbacks and process deaths, and every process sees the same one.
    Tests make it misbehave with `faults_set()` (kept in the ledger, so a server process sees
    them too):

        charge="error_before" | "error_after" | "delay_before:<s>" | "delay_after:<s>"
        find_charge, void, refund = "error" | "delay:<s>"

    "after" faults record the charge, then raise or answer late: the answer is lost.
    """

    __test__ = False  # not a pytest test class
    name = "test"

    # The remote side --------------------------------------------------------------------------

    def charge(self, *, amount, token, description, idempotency_key):
        fault = self._fault("charge")
        self._misbehave(fault, "before")
        with self._ledger() as db:
            db.execute("BEGIN IMMEDIATE")  # one writer: a concurrent same-key charge waits
            row = db.execute(
                "SELECT approved, reference, message FROM charges WHERE idempotency_key = ?",
                [idempotency_key],
            ).fetchone()
            if row is None:
                approved = not (token or "").startswith("decline")
                row = (approved, f"test_{uuid.uuid4().hex}", "" if approved else "Card declined.")
                db.execute(
                    "INSERT INTO charges (idempotency_key, reference, description, cents,"
                    " approved, message) VALUES (?, ?, ?, ?, ?, ?)",
                    [idempotency_key, row[1], description, to_cents(amount), row[0], row[2]],
                )
            db.execute("COMMIT")
        self._misbehave(fault, "after")
        return ChargeResult(approved=bool(row[0]), reference=row[1], message=row[2])

    def find_charge(self, *, idempotency_key):
        self._misbehave(self._fault("find_charge"))
        with self._ledger() as db:
            row = db.execute(
                "SELECT approved, reference, message FROM charges WHERE idempotency_key = ?",
                [idempotency_key],
            ).fetchone()
        return None if row is None else ChargeResult(bool(row[0]), row[1], row[2])

    def void(self, *, reference):
        self._misbehave(self._fault("void"))
        with self._ledger() as db:
            voided = db.execute(
                "UPDATE charges SET voided = 1 WHERE reference = ? AND approved", [reference]
            ).rowcount
        if not voided:
            raise TestGatewayError(f"no approved charge {reference}")

    def refund(self, *, reference, amount, idempotency_key):
        self._misbehave(self._fault("refund"))
        with self._ledger() as db:
            db.execute(
                "INSERT OR IGNORE INTO refunds (idempotency_key, reference, cents)"
                " VALUES (?, ?, ?)",
                [idempotency_key, reference, to_cents(amount)],
            )

    # What tests and the demo read -------------------------------------------------------------

    @classmethod
    def net_charged(cls, description: str | None = None) -> Decimal:
        """Approved charges less voids and refunds, of one description ("Order 7") or all."""
        with cls._ledger() as db:
            (charged,) = db.execute(
                "SELECT COALESCE(SUM(cents), 0) FROM charges WHERE approved AND NOT voided"
                " AND (?1 IS NULL OR description = ?1)",
                [description],
            ).fetchone()
            (refunded,) = db.execute(
                "SELECT COALESCE(SUM(r.cents), 0) FROM refunds r"
                " JOIN charges c ON c.reference = r.reference"
                " WHERE ?1 IS NULL OR c.description = ?1",
                [description],
            ).fetchone()
        return from_cents(charged - refunded)

    @classmethod
    def operations(cls, description: str) -> dict[str, int]:
        """How many charges (approved), voids and refunds a description has."""
        with cls._ledger() as db:
            charges, voids = db.execute(
                "SELECT COALESCE(SUM(approved), 0), COALESCE(SUM(voided), 0) FROM charges"
                " WHERE description = ?",
                [description],
            ).fetchone()
            (refunds,) = db.execute(
                "SELECT COUNT(*) FROM refunds r JOIN charges c ON c.reference = r.reference"
                " WHERE c.description = ?",
                [description],
            ).fetchone()
        return {"charges": charges, "voids": voids, "refunds": refunds}

    @classmethod
    def faults_set(cls, **faults: str) -> None:
        with cls._ledger() as db:
            for name, value in faults.items():
                if value:
                    db.execute("INSERT OR REPLACE INTO faults VALUES (?, ?)", [name, value])
                else:
                    db.execute("DELETE FROM faults WHERE name = ?", [name])

    @classmethod
    def ledger_clear(cls) -> None:
        with cls._ledger() as db:
            db.executescript("DELETE FROM charges; DELETE FROM refunds; DELETE FROM faults;")

    @classmethod
    def faults_clear(cls) -> None:
        with cls._ledger() as db:
            db.execute("DELETE FROM faults")

    # Plumbing ---------------------------------------------------------------------------------

    @classmethod
    def _fault(cls, operation: str) -> str:
        with cls._ledger() as db:
            row = db.execute("SELECT value FROM faults WHERE name = ?", [operation]).fetchone()
        return row[0] if row else ""

    @staticmethod
    def _misbehave(fault: str, moment: str = "") -> None:
        kind, _, seconds = fault.partition(":")
        suffix = f"_{moment}" if moment else ""
        if kind == f"error{suffix}":
            raise TestGatewayError(f"injected fault: {fault}")
        if kind == f"delay{suffix}":
            time.sleep(float(seconds))

    @classmethod
    def _ledger(cls) -> "_Ledger":
        return _Ledger(str(settings.TEST_GATEWAY_LEDGER))


class _Ledger:
    """A per-process, lock-guarded autocommit connection to the ledger file."""

    def __init__(self, path: str):
        self.path = path

    def __enter__(self) -> sqlite3.Connection:
        _ledgers_lock.acquire()
        key = (os.getpid(), self.path)
        db = _ledgers.get(key)
        if db is None:
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_LEDGER_SCHEMA)
            _ledgers[key] = db
        return db

    def __exit__(self, exc_type, exc, tb):
        db = _ledgers.get((os.getpid(), self.path))
        if exc_type is not None and db is not None and db.in_transaction:
            db.execute("ROLLBACK")
        _ledgers_lock.release()
