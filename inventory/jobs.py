"""Product imports as background jobs: one service to queue a file, one to run it.

`import_job_create` keeps the file through Django's default storage (a folder every web host
and worker mounts, the media folder by default) and queues `inventory.tasks.run_import_job`
once the job row is committed; with no broker configured the job runs inline right then.
`import_job_run` runs the same `product_import` as the synchronous doors, all or nothing, and
records the outcome in the same transaction as the import, so a job is never half-written: a
worker that dies mid-job rolls the import back with its connection, and its job (acknowledged
late) is delivered again and started over, up to IMPORT_JOB_MAX_ATTEMPTS times, then failed.
"""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import PurePath
from typing import IO

from django.conf import settings
from django.core.files import File
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from inventory.models import ImportJob
from inventory.spreadsheets import SpreadsheetInvalid, product_import
from shop.jobs import enqueue

logger = logging.getLogger(__name__)
PROGRESS_EVERY = 0.5  # seconds between two progress writes


def _error(message: str) -> list[dict]:
    return [{"row": None, "field": "file", "message": message}]


def import_job_create(
    *, file: IO[bytes], file_name: str, user, source: str, dry_run: bool = False
) -> ImportJob:
    """Keep `file` in storage, record a queued job and queue it after the commit."""
    extension = PurePath(file_name).suffix.lower()[:10]
    job = ImportJob(user=user, source=source, file_name=file_name[:255], dry_run=dry_run)
    job.file.save(f"{uuid.uuid4().hex}{extension}", File(file), save=False)
    job.save()
    from inventory.tasks import run_import_job  # the task module imports this one

    transaction.on_commit(lambda: enqueue(run_import_job, job.pk))
    return job


class _Progress:
    """The import's progress callback: writes rows_done/rows_total through a connection of its
    own (autocommit), so they can be read while the import's transaction is open. On SQLite,
    whose one writer is the import, progress is only written at the end.

    rows_done counts each row half when it has been read and checked, half when written."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.read = self.written = 0
        self.total: int | None = None
        self.last = 0.0
        self.connection = None
        if connection.vendor == "postgresql":
            self.connection = connections.create_connection(DEFAULT_DB_ALIAS)

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage == "reading":
            self.read = max(done - 1, 0)  # the header is not a product row
            if total:
                self.total = max(total - 1, 0)
        elif stage == "writing":
            self.written = done
            self.total = total
        now = time.monotonic()
        if self.connection is None or now - self.last < PROGRESS_EVERY:
            return
        self.last = now
        done = (self.read + self.written) // 2
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ImportJob._meta.db_table} SET rows_done = %s, rows_total = %s "  # noqa: S608
                "WHERE id = %s AND status = %s",
                [done, self.total, self.job_id, ImportJob.Status.RUNNING],
            )

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def _start(job_id: int) -> ImportJob | None:
    """Claim the job for this run; None when there is nothing to run."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in ImportJob.FINISHED:
            return None  # deleted, or a duplicate delivery of a finished job
        if job.attempts >= settings.IMPORT_JOB_MAX_ATTEMPTS:
            _finish(
                job,
                ImportJob.Status.FAILED,
                errors=_error(
                    f"The import was started {job.attempts} times and its worker stopped each "
                    "time; nothing was imported."
                ),
            )
            return None
        job.attempts += 1
        job.status = ImportJob.Status.RUNNING
        job.started_at = timezone.now()
        job.rows_done = 0
        job.save(update_fields=["attempts", "status", "started_at", "rows_done"])
    return job


def _finish(job: ImportJob, status: str, *, errors=(), result=None) -> None:
    job.status = status
    job.errors = list(errors)
    job.finished_at = timezone.now()
    if result is not None:
        job.created, job.updated = result.created, result.updated
        job.categories_created = result.categories_created
        job.rows_total = job.rows_done = result.rows
        job.batch = result.batch
    job.save()


def _delete_file(job: ImportJob) -> None:
    if job.file:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job's import (all or nothing) and record its outcome with it.

    The outcome is saved in the import's own transaction: either both commit or neither does.
    An invalid file fails the job with every error (nothing written); an unexpected error fails
    it too (logged) and is raised again. The file is deleted once the job has ended.
    Returns the job, or None when it had nothing to run.
    """
    job = _start(job_id)
    if job is None:
        return None
    progress = _Progress(job.pk)
    try:
        with transaction.atomic():
            try:
                with job.file.open("rb") as file:
                    result = product_import(
                        file=file,
                        file_name=job.file_name,
                        dry_run=job.dry_run,
                        user=job.user,
                        source=job.source,
                        progress=progress,
                    )
            except SpreadsheetInvalid as exc:
                _finish(job, ImportJob.Status.FAILED, errors=exc.errors)
            else:
                _finish(job, ImportJob.Status.SUCCEEDED, result=result)
    except OSError as exc:
        logger.warning("Import job %s: cannot read its file: %s", job.pk, exc)
        _finish(job, ImportJob.Status.FAILED, errors=_error("The uploaded file cannot be read."))
    except Exception:
        logger.exception("Import job %s failed", job.pk)
        _finish(job, ImportJob.Status.FAILED, errors=_error("The import failed unexpectedly."))
        _delete_file(job)
        raise
    finally:
        progress.close()
    _delete_file(job)
    return job
