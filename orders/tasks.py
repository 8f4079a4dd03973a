"""Periodic jobs of the orders app, queued by Celery beat (settings.CELERY_BEAT_SCHEDULE)."""

import logging

from celery import shared_task

from orders.services import idempotency_keys_purge, payment_attempts_reconcile

logger = logging.getLogger(__name__)


@shared_task
def reconcile_payments() -> dict[str, int]:
    """Every minute: settle the payment attempts left unfinished (safe to run concurrently)."""
    outcome = payment_attempts_reconcile()
    if outcome:
        logger.info("Reconciled payment attempts: %s", outcome)
    return outcome


@shared_task
def purge_idempotency_keys() -> int:
    """Daily: forget the remembered answers older than IDEMPOTENCY_KEY_TTL."""
    deleted = idempotency_keys_purge()
    logger.info("Purged %d expired idempotency keys.", deleted)
    return deleted
