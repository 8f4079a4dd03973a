"""Import jobs on a real Celery worker process (RabbitMQ, PostgreSQL): progress, a failing
file that writes nothing, and a worker killed with SIGKILL in the middle of a job."""

import io
from pathlib import Path

import pytest

from inventory.jobs import import_job_create
from inventory.models import ImportBatch, ImportJob, Product, StockMovement
from tests.scale.services import CeleryWorker, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _csv(rows: int, *, bad_last_row: bool = False) -> io.BytesIO:
    lines = ["sku,name,category,price,cost,quantity"]
    lines += [
        f"SKU-{i:07d},Product {i:07d},Category {i % 20},{10 + i % 90}.50,4.25,{i % 50}"
        for i in range(rows)
    ]
    if bad_last_row:
        lines[-1] = "SKU-LAST,,Category 1,-5,4.25,1"
    return io.BytesIO(("\n".join(lines) + "\n").encode())


def _job(rows: int, **kwargs) -> ImportJob:
    return import_job_create(
        file=_csv(rows, **kwargs), file_name="big.csv", user=None, source=ImportBatch.Source.COMMAND
    )


def _reload(job: ImportJob) -> ImportJob:
    job.refresh_from_db()
    return job


def _stored(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "imports"
    return list(root.iterdir()) if root.exists() else []


def test_import_job_on_a_worker_reports_progress_and_succeeds(celery_worker, settings):
    rows = 40_000
    job = _job(rows)
    seen = []

    def finished():
        current = _reload(job)
        seen.append((current.status, current.rows_done, current.rows_total))
        return current.status in ImportJob.FINISHED

    wait_for(finished, timeout=180, interval=0.05, what="the import job")

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert (job.rows_done, job.rows_total, job.created, job.updated) == (rows, rows, rows, 0)
    assert job.categories_created == 20
    assert Product.objects.count() == rows
    assert job.batch is not None and job.batch.created_count == rows
    # Progress was visible while the import's transaction was open.
    partial = [done for status, done, total in seen if status == "running" and 0 < done < rows]
    assert partial, seen[:5]
    assert partial == sorted(partial)
    assert _stored(settings) == []


def test_failing_import_job_on_a_worker_writes_nothing(celery_worker, settings):
    job = _job(5_000, bad_last_row=True)

    wait_for(lambda: _reload(job).status in ImportJob.FINISHED, timeout=120, what="the job")

    assert job.status == ImportJob.Status.FAILED
    assert {(e["field"]) for e in job.errors} == {"name", "price"}
    assert {e["row"] for e in job.errors} == {5_001}
    assert not Product.objects.exists()
    assert not StockMovement.objects.exists()
    assert not ImportBatch.objects.exists()
    assert _stored(settings) == []


def test_worker_killed_mid_job_leaves_nothing_and_the_next_worker_finishes_it(
    celery_worker, settings
):
    rows = 60_000
    job = _job(rows)
    wait_for(
        lambda: _reload(job).status == ImportJob.Status.RUNNING and job.rows_done > 0,
        timeout=120,
        interval=0.05,
        what="the job to be under way",
    )

    celery_worker.kill()  # SIGKILL: no acknowledgement, no cleanup

    assert _reload(job).status == ImportJob.Status.RUNNING
    assert job.attempts == 1
    assert not Product.objects.exists()  # the import's transaction died with the worker
    assert not ImportBatch.objects.exists()
    assert len(_stored(settings)) == 1  # the file is kept for the next attempt

    second = CeleryWorker(celery_worker.env, celery_worker.queue, celery_worker.log_path)
    try:
        wait_for(lambda: _reload(job).status in ImportJob.FINISHED, timeout=240, what="the rerun")
    finally:
        second.stop()

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert job.attempts == 2
    assert Product.objects.count() == rows
    assert ImportBatch.objects.count() == 1
    assert StockMovement.objects.count() == sum(1 for i in range(rows) if i % 50)
    assert _stored(settings) == []
