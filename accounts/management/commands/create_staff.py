import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from accounts.roles import ROLE_GROUPS
from accounts.services import staff_create_or_update
from shop.commands import BaseCommand


class Command(BaseCommand):
    help = (
        "Make or update a staff account in a role. The password is prompted for, or read "
        "from DJANGO_STAFF_PASSWORD with --noinput."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=sorted(ROLE_GROUPS))
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Read the password from DJANGO_STAFF_PASSWORD instead of prompting.",
        )

    def handle(self, *args, email, role, interactive, **options):
        if interactive:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords do not match.")
        else:
            password = os.environ.get("DJANGO_STAFF_PASSWORD") or None
        try:
            user, created = staff_create_or_update(email=email, role=role, password=password)
        except ValidationError as exc:
            messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(messages) from exc
        verb = "Created" if created else "Updated"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} staff account {user.email} ({ROLE_GROUPS[role]}).")
        )
        if created and password is None:
            self.stdout.write("It has no usable password yet: set DJANGO_STAFF_PASSWORD and rerun.")
