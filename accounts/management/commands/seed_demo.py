from importlib.util import find_spec

from django.db import transaction
from django.utils.module_loading import import_string

from accounts.models import User
from shop.commands import BaseCommand

# Each app contributes one step; each step receives the command's stdout.
SEED_STEPS = [
    "accounts.demo.seed_users",
    "inventory.demo.seed_catalog",
    "orders.demo.seed_orders",
    "analytics.demo.seed_analytics",
]


class Command(BaseCommand):
    help = "Fill an empty database with demo accounts, catalog and orders (once)."

    def handle(self, *args, **options):
        if User.objects.exists():
            self.stdout.write("The database already has accounts: demo data not added.")
            return
        with transaction.atomic():
            for step in SEED_STEPS:
                if find_spec(step.rsplit(".", 1)[0]) is None:
                    continue  # that app has no demo data (yet)
                import_string(step)(self.stdout)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data ready. Admin: http://127.0.0.1:8000/admin/  API docs: "
                "http://127.0.0.1:8000/api/v1/docs/"
            )
        )
