"""The base of the project's management commands.

API.md: a command answers a database or file error with one line on stderr and a non-zero
exit, not a traceback. Django already does that for a CommandError; this base turns the
database's and the file system's errors into one (`--traceback` still shows the real one).
"""

from django.core.management import base
from django.core.management.base import CommandError
from django.db import DatabaseError


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class BaseCommand(base.BaseCommand):
    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except DatabaseError as exc:
            if options.get("traceback"):
                raise
            raise CommandError(f"Database error: {_one_line(exc)}", returncode=1) from exc
        except OSError as exc:
            if options.get("traceback"):
                raise
            raise CommandError(f"File error: {_one_line(exc)}", returncode=1) from exc
