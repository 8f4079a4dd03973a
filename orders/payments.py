"""Payment gateways: the interface the order service charges through, and the built-in test one.

The gateway is chosen by the `PAYMENT_GATEWAY` setting (a dotted path to a class).

Charged but not committed: a charge is made inside the execution's transaction, after stock
is locked and lowered. If anything fails after an approved charge (a database error, the
commit itself), the charge is voided, so a customer is never charged for an order that stays
pending. `charges_voided_on_rollback()` is the transaction boundary that guarantees it.
"""

import contextlib
import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class ChargeResult:
    approved: bool
    reference: str
    message: str = ""


class PaymentGateway:
    """What the order service needs from a payment provider."""

    name = "gateway"

    def charge(self, *, amount: Decimal, token: str, description: str) -> ChargeResult:
        raise NotImplementedError

    def void(self, *, reference: str) -> None:
        """Cancel an approved charge that was not captured by a committed order."""
        raise NotImplementedError

    def refund(self, *, reference: str, amount: Decimal) -> None:
        raise NotImplementedError


class TestGateway(PaymentGateway):
    """Approves every token except those starting with "decline". Keeps a log (for tests)."""

    __test__ = False  # not a pytest test class
    name = "test"
    log: list[tuple[str, str]] = []  # (operation, reference), shared by every instance
    _lock = threading.Lock()

    def charge(self, *, amount, token, description):
        if (token or "").startswith("decline"):
            return ChargeResult(approved=False, reference="", message="Card declined.")
        reference = f"test_{uuid.uuid4().hex}"
        self._record("charge", reference)
        return ChargeResult(approved=True, reference=reference)

    def void(self, *, reference):
        self._record("void", reference)

    def refund(self, *, reference, amount):
        self._record("refund", reference)

    def _record(self, operation: str, reference: str) -> None:
        with self._lock:
            self.log.append((operation, reference))
            del self.log[:-1000]


@cache
def _gateway_class(path: str) -> type[PaymentGateway]:
    return import_string(path)


def get_gateway() -> PaymentGateway:
    return _gateway_class(settings.PAYMENT_GATEWAY)()


_state = threading.local()


@contextlib.contextmanager
def charges_voided_on_rollback():
    """A transaction (atomic block) that voids the approved charges made in it unless it commits.

    The outermost use opens the boundary; nested uses join it. Callers that wrap a charging
    service in their own transaction use this instead of `transaction.atomic()`.
    """
    if getattr(_state, "charges", None) is not None:
        with transaction.atomic():
            yield
        return
    _state.charges = []
    try:
        with transaction.atomic():
            yield
    except BaseException:
        charges, _state.charges = _state.charges, None
        for gateway, reference in charges:
            gateway.void(reference=reference)
        raise
    else:
        _state.charges = None


def charge_track(*, gateway: PaymentGateway, reference: str) -> None:
    """Remember an approved charge, to void if the enclosing boundary does not commit."""
    charges = getattr(_state, "charges", None)
    if charges is None:
        raise RuntimeError("charge made outside charges_voided_on_rollback()")
    charges.append((gateway, reference))


def charge_untrack(*, reference: str) -> None:
    charges = getattr(_state, "charges", None) or []
    charges[:] = [c for c in charges if c[1] != reference]
