"""Jobs of the analytics app."""

import logging

from celery import shared_task

from analytics.services import sales_summary_rebuild

logger = logging.getLogger(__name__)


@shared_task
def rebuild_sales_summary() -> int:
    """Recompute the sales summary from the executed order lines and repair any difference
    (started from the dashboard). Returns how many stored rows differed."""
    result = sales_summary_rebuild()
    logger.info(
        "Sales summary rebuilt: %d rows differed (%d product rows, %d daily rows expected).",
        result.differences,
        result.summary_rows,
        result.daily_rows,
    )
    return result.differences
