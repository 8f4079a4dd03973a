import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from tqdm import tqdm

from inventory.jobs import import_job_create
from inventory.models import ImportBatch, ImportJob
from inventory.spreadsheets import SpreadsheetInvalid, product_import
from shop.commands import BaseCommand

_STAGES = {"reading": "Reading", "validating": "Checking", "writing": "Writing"}


class RowProgress:
    """A progress bar counted in rows, one per stage (reading, checking, writing)."""

    def __init__(self, stream):
        self.stream = stream
        self.bar = None
        self.stage = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(
                desc=f"{_STAGES.get(stage, stage):<8}", total=total, unit=" rows", file=self.stream
            )
        if total is not None and total != self.bar.total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Command(BaseCommand):
    help = (
        "Import products from a .csv or .xlsx file (sku, name, category, price, cost, quantity). "
        "All or nothing: exit 1 with every bad row listed when any row is invalid."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv or .xlsx file")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and count, write nothing"
        )
        parser.add_argument("--user", help="email of the account the import is recorded under")
        parser.add_argument(
            "--background",
            action="store_true",
            help="queue the import as a job (run by a Celery worker) and print its id",
        )

    def handle(self, *args, file, dry_run=False, user=None, background=False, **options):
        path = Path(file)
        if not path.is_file():
            if path.is_dir():
                raise CommandError(f"{file} is a folder: give the path of a .csv or .xlsx file")
            if path.exists():  # a device, a pipe, a socket
                raise CommandError(f"{file} is not a regular file: give a .csv or .xlsx file")
            raise CommandError(f"No such file: {file}")
        actor = None
        if user:
            actor = get_user_model().objects.filter(email__iexact=user).first()
            if actor is None:
                raise CommandError(f"No account with the email {user}")
        if background:
            self._queue(path, dry_run=dry_run, user=actor)
            return
        progress = RowProgress(sys.stderr) if sys.stderr.isatty() else None
        try:
            result = product_import(
                path=path,
                dry_run=dry_run,
                user=actor,
                source=ImportBatch.Source.COMMAND,
                **({"progress": progress} if progress else {}),
            )
        except SpreadsheetInvalid as exc:
            if progress:
                progress.close()
            self._report(exc.errors)
            raise CommandError(
                f"{len(exc.errors)} error(s) in {path.name}: nothing was imported.", returncode=1
            ) from None
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from None
        finally:
            if progress:
                progress.close()
        text = result.summary()
        text += " Dry run: nothing written." if dry_run else f" Import #{result.batch.pk}."
        self.stdout.write(self.style.SUCCESS(text))

    def _queue(self, path: Path, *, dry_run: bool, user) -> None:
        """Queue the file as an import job: its id on stdout, where to follow it on stderr."""
        try:
            with path.open("rb") as opened:
                job = import_job_create(
                    file=opened,
                    file_name=path.name,
                    user=user,
                    source=ImportBatch.Source.COMMAND,
                    dry_run=dry_run,
                )
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from None
        job.refresh_from_db(fields=["status", "errors"])  # without a broker it has already run
        self.stdout.write(str(job.pk))
        if job.status == ImportJob.Status.FAILED:
            self._report(job.errors)
            raise CommandError(
                f"Import job #{job.pk} failed with {len(job.errors)} error(s) in {path.name}: "
                "nothing was imported.",
                returncode=1,
            )
        self.stderr.write(
            f"Import job #{job.pk} {job.status}: follow it in the admin (Inventory › Import "
            f"jobs) or at GET /api/v1/products/imports/{job.pk}/."
        )

    def _report(self, errors) -> None:
        for error in errors:
            where = f"row {error['row']}" if error["row"] else "file"
            field = error["field"]
            if field and field != "file" and not error["message"].startswith(field):
                where += f", column {field}"
            self.stderr.write(f"{where}: {error['message']}")
