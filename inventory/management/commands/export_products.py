from pathlib import Path

from django.core.management.base import CommandError

from inventory.models import Product
from inventory.spreadsheets import FORMATS, product_export
from shop.commands import BaseCommand


class Command(BaseCommand):
    help = "Write all products to a .csv or .xlsx file (by its extension), in the import columns."

    def add_arguments(self, parser):
        parser.add_argument("file", help="where to write: products.csv or products.xlsx")

    def handle(self, *args, file, **options):
        path = Path(file)
        file_format = path.suffix.lower().lstrip(".")
        if file_format not in FORMATS:
            raise CommandError("The file name must end in .csv or .xlsx")
        try:
            path.write_bytes(product_export(file_format=file_format))
        except OSError as exc:
            raise CommandError(f"Cannot write {file}: {exc.strerror}") from exc
        count = Product.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Exported {count} products to {path}."))
