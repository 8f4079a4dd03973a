"""Uploads kept between an import's preview and its confirmation (or for a job), named by a
signed token: the client never sends a path, so it can neither choose nor guess a file.

The file is stored under a random name in the `imports` storage (STORAGES["imports"] when
configured, otherwise a folder in the system's temp directory); the token signs that name, the
user's id and the file's original name, and expires after MAX_AGE seconds.
"""

from __future__ import annotations

import contextlib
import datetime
import re
import secrets
import tempfile
from pathlib import Path
from typing import IO

from django.core import signing
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.files.storage.handler import InvalidStorageError
from django.utils import timezone

SALT = "inventory.spreadsheets.upload"
MAX_AGE = 60 * 60  # seconds between the preview and the confirmation
_NAME = re.compile(r"[0-9a-f]{32}\.(csv|xlsx|bin)\Z")


class UploadExpired(Exception):
    """The token is forged, altered, of another user, expired, or its file is gone."""

    message = "This upload has expired or is not valid: upload the file again."


def upload_storage() -> Storage:
    try:
        return storages["imports"]
    except InvalidStorageError:
        return FileSystemStorage(location=Path(tempfile.gettempdir()) / "shop-imports")


def upload_store(upload: IO[bytes], *, file_name: str, user) -> str:
    """Keep `upload` and return the signed token that names it (for `user` only)."""
    storage = upload_storage()
    _purge_expired(storage)
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    name = f"{secrets.token_hex(16)}.{extension if extension in ('csv', 'xlsx') else 'bin'}"
    upload.seek(0)
    stored = storage.save(name, upload)
    return signing.dumps(
        {"name": stored, "file_name": file_name[:255], "user": getattr(user, "pk", None)},
        salt=SALT,
        compress=True,
    )


def _unsign(token: str, user) -> dict:
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature as exc:  # SignatureExpired included
        raise UploadExpired from exc
    if (
        not isinstance(data, dict)
        or data.get("user") != getattr(user, "pk", None)
        or not _NAME.match(str(data.get("name", "")))
    ):
        raise UploadExpired
    return data


def upload_open(token: str, *, user) -> tuple[IO[bytes], str]:
    """The stored file (open for reading) and its original name. Raises UploadExpired."""
    data = _unsign(token, user)
    try:
        return upload_storage().open(data["name"], "rb"), data["file_name"]
    except OSError as exc:
        raise UploadExpired from exc


def upload_delete(token: str, *, user) -> None:
    with contextlib.suppress(UploadExpired, OSError):
        upload_storage().delete(_unsign(token, user)["name"])


def _purge_expired(storage: Storage) -> None:
    """Delete uploads older than MAX_AGE (previews that were never confirmed)."""
    limit = timezone.now() - datetime.timedelta(seconds=MAX_AGE)
    with contextlib.suppress(OSError, NotImplementedError):
        for name in storage.listdir("")[1]:
            if _NAME.match(name) and storage.get_modified_time(name) < limit:
                storage.delete(name)
