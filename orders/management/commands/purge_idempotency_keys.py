from orders.services import idempotency_keys_purge
from shop.commands import BaseCommand


class Command(BaseCommand):
    help = "Delete Idempotency-Key answers older than 24 hours (run it daily, e.g. from cron)."

    def handle(self, *args, **options):
        self.stdout.write(f"Deleted {idempotency_keys_purge()} expired idempotency keys.")
