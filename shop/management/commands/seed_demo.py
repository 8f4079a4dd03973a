from django.db import transaction

from accounts.models import User
from shop.commands import BaseCommand
from shop.demo import seed


class Command(BaseCommand):
    help = "Fill an empty database with demo accounts, catalog and orders (once)."

    def handle(self, *args, **options):
        if User.objects.exists():
            self.stdout.write("The database already has accounts: demo data not added.")
            return
        with transaction.atomic():
            seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
