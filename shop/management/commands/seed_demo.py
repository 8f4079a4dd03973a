from django.db import transaction

from shop.commands import BaseCommand
from shop.demo import existing_data, seed


class Command(BaseCommand):
    help = "Fill an empty database with demo accounts, catalog and orders (once)."

    def handle(self, *args, **options):
        found = existing_data()
        if found:
            self.stdout.write(f"The database already has {found}: demo data not added.")
            return
        with transaction.atomic():
            seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
