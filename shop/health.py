"""GET /healthz: 200 when every configured part answers within HEALTH_TIMEOUT seconds, else 503.

Always the database (in a thread and connection of its own, so even a server that accepts the
connection and then says nothing costs at most HEALTH_TIMEOUT); the cache when
it is shared (CACHE_URL other than per-process memory); the broker when jobs run on workers
(CELERY_BROKER_URL). Those two run in threads, so a part that hangs costs at most
HEALTH_TIMEOUT and is reported as "error".
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

HEALTH_TIMEOUT = 2.0  # seconds, per part (API.md)
_LOCAL_CACHES = ("locmem", "dummy")


# At most one database check in flight per process: while the database hangs, further
# checks answer "error" at once instead of piling up threads and connections.
_database_check = threading.Lock()


def _check_database() -> str:
    """ "ok" when the database answers `SELECT 1` within HEALTH_TIMEOUT, else "error".

    The query runs in its own thread and connection; a hung one is left to finish or fail on
    its own (its connection is closed then), the answer does not wait for it."""
    if not _database_check.acquire(blocking=False):
        return "error"
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
    thread.join(HEALTH_TIMEOUT)
    return "ok" if result.get("ok") else "error"


def _check_cache():
    cache.set("healthz", "ok", timeout=10)
    if cache.get("healthz") != "ok":
        raise RuntimeError("the cache did not keep a value")


def _check_broker():
    from shop.celery import app

    with app.connection_for_write(
        settings.CELERY_BROKER_URL, connect_timeout=HEALTH_TIMEOUT
    ) as conn:
        conn.ensure_connection(max_retries=1, timeout=HEALTH_TIMEOUT)


def _checks() -> dict:
    checks = {}
    backend = settings.CACHES["default"]["BACKEND"].lower()
    if not any(local in backend for local in _LOCAL_CACHES):
        checks["cache"] = _check_cache
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        checks["broker"] = _check_broker
    return checks


@never_cache
@require_GET
def healthz(request):
    """{"status", "database"[, "cache"][, "broker"]}: each "ok" or "error"."""
    answer = {"database": _check_database()}
    checks = _checks()
    if checks:
        pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="healthz")
        futures = {name: pool.submit(check) for name, check in checks.items()}
        for name, future in futures.items():
            try:
                future.result(timeout=HEALTH_TIMEOUT)
                answer[name] = "ok"
            except (FutureTimeout, Exception):  # noqa: BLE001 - any failure: "not healthy"
                answer[name] = "error"
        pool.shutdown(wait=False, cancel_futures=True)  # a hung check is not awaited
    healthy = all(value == "ok" for value in answer.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **answer}, status=200 if healthy else 503
    )
