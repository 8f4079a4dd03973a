"""Import as a background job against the synchronous import, same machine, same run.

    .venv/bin/python bench/import_jobs.py [--quick] [--sizes 100000,1000000] [--json FILE]

For each size: a CSV of that many new products; (1) `product_import` in this process (the
synchronous door) into an empty catalog; (2) the same file queued with `import_job_create` and
run by a real `celery -A shop worker --pool solo` process (a fresh one per size) into an empty
catalog, timed from queueing to the job's end. Prints rows/s of both and their ratio, and the
worker's peak memory (VmHWM) at each size against the smallest. Database: BENCH_DATABASE_URL
(default postgres://postgres@127.0.0.1:5432/bench_import_jobs, created and migrated); broker:
BENCH_BROKER_URL (default RabbitMQ at amqp://guest:guest@127.0.0.1:5672//), on a queue of its own.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_import_jobs"
)
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
QUEUE = f"shop_bench_{uuid.uuid4().hex[:8]}"
MEDIA = tempfile.mkdtemp(prefix="shop-bench-media-")
ENV = {
    "DATABASE_URL": DATABASE_URL,
    "CELERY_BROKER_URL": BROKER_URL,
    "CELERY_TASK_DEFAULT_QUEUE": QUEUE,
    "MEDIA_ROOT": MEDIA,
    "SECRET_KEY": "bench-only-not-a-secret-0123456789abcdef0123",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "127.0.0.1",
    "LOG_LEVEL": "WARNING",
    "IMPORT_MAX_FILE_SIZE": str(1 << 30),
    "DJANGO_SETTINGS_MODULE": "shop.settings",
}
os.environ.update(ENV)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from inventory.jobs import import_job_create  # noqa: E402
from inventory.models import ImportJob  # noqa: E402
from inventory.spreadsheets import product_import  # noqa: E402


def create_database() -> None:
    import psycopg

    server, _, name = DATABASE_URL.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def empty_catalog() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE inventory_stockmovement, inventory_importjob, inventory_importbatch, "
            "inventory_product, inventory_category RESTART IDENTITY CASCADE"
        )
        cursor.execute("VACUUM ANALYZE inventory_product")


def write_csv(path: Path, n: int) -> None:
    with path.open("w") as out:
        out.write("sku,name,category,price,cost,quantity\n")
        for i in range(n):
            price = f"{1 + i % 500}.25"
            out.write(f"SKU-{i:07d},Product {i:07d},Category {i % 200:03d},{price},0.75,{i % 90}\n")


def kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def start_worker(log: Path) -> subprocess.Popen:
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "shop",
            "worker",
            "--pool",
            "solo",
            "--queues",
            QUEUE,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],  # fmt: skip
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while b"ready." not in log.read_bytes():
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(log.read_text()[-2000:])
        time.sleep(0.2)
    return worker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes 10,000 and 100,000")
    parser.add_argument("--sizes", help="comma list (default 100000,1000000)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    sizes = [
        int(s)
        for s in (args.sizes or ("10000,100000" if args.quick else "100000,1000000")).split(",")
    ]

    create_database()
    call_command("migrate", "--noinput", verbosity=0)
    results = []
    work = Path(tempfile.mkdtemp(prefix="shop-bench-import-"))
    for n in sizes:
        path = work / f"products-{n}.csv"
        write_csv(path, n)

        empty_catalog()
        started = time.perf_counter()
        result = product_import(path=path, source="command")
        sync_s = time.perf_counter() - started
        assert result.created == n, result.summary()

        empty_catalog()
        worker = start_worker(work / f"worker-{n}.log")
        idle_kib = kib(worker.pid, "VmRSS")
        try:
            started = time.perf_counter()
            with path.open("rb") as file:
                job = import_job_create(file=file, file_name=path.name, user=None, source="command")
            while True:
                job.refresh_from_db()
                if job.status in ImportJob.FINISHED:
                    break
                time.sleep(0.1)
            job_s = time.perf_counter() - started
            peak_kib = kib(worker.pid, "VmHWM")
        finally:
            worker.terminate()
            worker.wait(timeout=60)
        assert job.status == "succeeded" and job.created == n, (job.status, job.errors[:3])
        row = {
            "rows": n,
            "sync_s": round(sync_s, 2),
            "sync_rows_per_s": round(n / sync_s),
            "job_s": round(job_s, 2),
            "job_rows_per_s": round(n / job_s),
            "job_vs_sync": round(sync_s / job_s, 3),
            "worker_idle_mb": round(idle_kib / 1024, 1),
            "worker_peak_mb": round(peak_kib / 1024, 1),
        }
        results.append(row)
        print(
            f"{n:>9,} rows  sync {row['sync_rows_per_s']:>7,} rows/s ({sync_s:6.1f} s)   "
            f"job {row['job_rows_per_s']:>7,} rows/s ({job_s:6.1f} s, {row['job_vs_sync']:.2f}x)   "
            f"worker peak {row['worker_peak_mb']:7.1f} MB (idle {row['worker_idle_mb']:.1f})",
            flush=True,
        )
        path.unlink()
    first, last = results[0], results[-1]
    growth = last["worker_peak_mb"] / first["worker_peak_mb"]
    print(
        f"worker peak memory at {last['rows']:,} rows: {growth:.2f}x its peak at "
        f"{first['rows']:,} (target: within 1.2x)"
    )
    from shop.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(QUEUE)
    if args.json:
        Path(args.json).write_text(json.dumps({"import_jobs": results}, indent=2))


if __name__ == "__main__":
    main()
