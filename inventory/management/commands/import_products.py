import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from tqdm import tqdm

from inventory.models import ImportBatch
from inventory.spreadsheets import SpreadsheetInvalid, product_import
from shop.commands import BaseCommand


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

    def handle(self, *args, file, dry_run=False, user=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        actor = None
        if user:
            actor = get_user_model().objects.filter(email__iexact=user).first()
            if actor is None:
                raise CommandError(f"No account with the email {user}")
        with path.open("rb") as raw:
            if sys.stderr.isatty():
                size = path.stat().st_size
                with tqdm.wrapattr(
                    raw, "read", total=size, desc="Reading", unit="B", unit_scale=True
                ) as stream:
                    result = self._import(stream, path, dry_run, actor)
            else:
                result = self._import(raw, path, dry_run, actor)
        verb = "Would create" if dry_run else "Created"
        summary = (
            f"{verb} {result.created}, updated {result.updated}, unchanged {result.unchanged} "
            f"products of {result.rows} rows; {result.categories_created} new categories."
        )
        if dry_run:
            summary += " Dry run: nothing written."
        else:
            summary += f" Import #{result.batch.pk}."
        self.stdout.write(self.style.SUCCESS(summary))

    def _import(self, stream, path, dry_run, actor):
        try:
            return product_import(
                file=stream,
                file_name=path.name,
                dry_run=dry_run,
                user=actor,
                source=ImportBatch.Source.COMMAND,
            )
        except SpreadsheetInvalid as exc:
            for error in exc.errors:
                where = f"row {error['row']}" if error["row"] else "file"
                if error["field"] and error["field"] != "file":
                    where += f", column {error['field']}"
                self.stderr.write(f"{where}: {error['message']}")
            raise CommandError(
                f"{len(exc.errors)} error(s) in {path.name}: nothing was imported.", returncode=1
            ) from None
