import threading

from django.conf import settings
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# At most one database check in flight per process: while the database hangs, further
# checks answer 503 at once instead of piling up threads and connections.
_database_check = threading.Lock()


def _database_ok() -> bool:
    """Whether the database answers `SELECT 1` within HEALTH_CHECK_TIMEOUT seconds.

    The check runs in its own thread and connection, so a database that accepts the TCP
    connection and then says nothing (a paused server, a dead link) cannot hold the request
    past the limit: the thread is left to finish or fail on its own.
    """
    if not _database_check.acquire(blocking=False):
        return False
    result = {}

    def check():
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT 1")
                result["ok"] = cursor.fetchone() == (1,)
        except Exception:  # noqa: BLE001 - any database failure means "not healthy"
            result["ok"] = False
        finally:
            connections.close_all()
            _database_check.release()

    thread = threading.Thread(target=check, name="healthz-database", daemon=True)
    thread.start()
    thread.join(settings.HEALTH_CHECK_TIMEOUT)
    return result.get("ok", False)


@never_cache
@require_GET
def healthz(request):
    """200 when the database answers within HEALTH_CHECK_TIMEOUT, 503 when it does not."""
    if not _database_ok():
        return JsonResponse({"status": "error", "database": "error"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
