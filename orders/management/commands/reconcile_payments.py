from orders.services import payment_attempts_reconcile
from shop.commands import BaseCommand


class Command(BaseCommand):
    help = (
        "Settle every payment attempt left unfinished (a charge whose answer was lost, a void or "
        "a refund that failed): asks the gateway what happened and voids or refunds. Safe to run "
        "at any time, any number of times at once."
    )

    def handle(self, *args, **options):
        outcome = payment_attempts_reconcile()
        if not outcome:
            self.stdout.write("No unfinished payment attempts are due.")
            return
        summary = ", ".join(f"{state} {count}" for state, count in sorted(outcome.items()))
        self.stdout.write(f"Settled {sum(outcome.values())} payment attempt(s): {summary}.")
