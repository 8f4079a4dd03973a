"""Jobs of the inventory app."""

from celery import shared_task

from inventory.jobs import import_job_run


@shared_task
def run_import_job(job_id: int) -> str | None:
    """Run an import job (inventory.jobs). Acknowledged late: a worker that dies mid-job
    leaves it on the broker, and the next worker starts it over."""
    job = import_job_run(job_id=job_id)
    return job.status if job else None
