from analytics.services import sales_summary_rebuild
from shop.commands import BaseCommand


class Command(BaseCommand):
    help = (
        "Recompute the daily sales summary from the executed order lines, report any "
        "difference and repair it (with --dry-run, only report). Exit 1 on --dry-run with "
        "differences."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Report differences without repairing."
        )

    def handle(self, *args, dry_run=False, **options):
        result = sales_summary_rebuild(dry_run=dry_run)
        counts = f"{result.summary_rows} product rows, {result.daily_rows} daily rows expected"
        if not result.differences:
            self.stdout.write(
                self.style.SUCCESS(f"The summary agrees with the order lines ({counts}).")
            )
            return
        found = (
            f"{result.differences} rows differed from the order lines "
            f"({result.summary_rows_wrong} product rows, {result.daily_rows_wrong} daily rows)"
        )
        if dry_run:
            self.stderr.write(self.style.WARNING(f"{found}; nothing written (--dry-run)."))
            raise SystemExit(1)
        self.stdout.write(self.style.WARNING(f"{found}: rebuilt ({counts})."))
