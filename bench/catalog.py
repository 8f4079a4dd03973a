"""Catalog read throughput: the product list, a filtered and ordered list and a product detail,
against a plain DRF ListAPIView over the same rows, in the same run.

    .venv/bin/python bench/catalog.py [--quick] [--json FILE] [--port 8101]

Fills `--products` (100,000) products in PostgreSQL database `--db` (bench_catalog) with COPY
(kept between runs when the row count matches), serves the project with gunicorn on 127.0.0.1
and measures with wrk (16 connections): requests/s, p50 and p99 latency, and the ratios against
the plain DRF list. Prints figures; asserts only that every endpoint answers 200 with the same
`count`.
"""

import argparse
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = "postgres://postgres@127.0.0.1:5432"


def sh(args, env, **kwargs):
    return subprocess.run(args, env=env, cwd=ROOT, check=True, **kwargs)


def ensure_database(db: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone():
            conn.execute(f'CREATE DATABASE "{db}"')


def fill(url: str, n: int, categories: int = 20) -> float:
    """COPY n products (5% archived, 8% out of stock) into empty catalog tables."""
    import psycopg

    rng = random.Random(42)
    started = time.perf_counter()
    now = datetime.now(UTC)
    with psycopg.connect(url) as conn:
        conn.execute(
            "TRUNCATE inventory_stockmovement, inventory_product, inventory_category "
            "RESTART IDENTITY CASCADE"
        )
        with conn.cursor().copy("COPY inventory_category (name, created_at) FROM STDIN") as copy:
            for i in range(categories):
                copy.write_row((f"Category {i + 1:02d}", now))
        columns = "sku, name, category_id, price, cost, quantity, is_active, created_at, updated_at"
        with conn.cursor().copy(f"COPY inventory_product ({columns}) FROM STDIN") as copy:
            for i in range(n):
                price = Decimal(rng.randrange(100, 50000)) / 100
                copy.write_row(
                    (
                        f"SKU-{i:07d}",
                        f"Product {rng.randrange(10**9):09d}-{i}",
                        rng.randrange(categories) + 1,
                        price,
                        (price * Decimal("0.6")).quantize(Decimal("0.01")),
                        0 if rng.random() < 0.08 else rng.randrange(1, 500),
                        rng.random() > 0.05,
                        now,
                        now,
                    )
                )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE inventory_category, inventory_product")
    return time.perf_counter() - started


def product_count(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM inventory_product").fetchone()[0]


def wait_up(base: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310
        assert r.status == 200, (url, r.status)
        return json.load(r)


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, seconds: int, connections: int) -> dict:
    out = subprocess.run(
        ["/usr/bin/wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out).groups()
        return round(float(value) * UNITS[unit], 2)

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": round(rps, 1),
        "p50_ms": pct(50),
        "p99_ms": pct(99),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 products, 1 round of 3 s")
    parser.add_argument("--products", type=int)
    parser.add_argument("--seconds", type=int, help="per target and round")
    parser.add_argument("--rounds", type=int, help="targets alternate; medians are reported")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--db", default="bench_catalog")
    # As the Dockerfile serves: sync workers, two a core (gthread keeps each keep-alive
    # connection on one worker, and the busiest worker sets the p99).
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=1, help="gthread only")
    parser.add_argument("--json", dest="json_file")
    args = parser.parse_args()
    n = args.products or (10_000 if args.quick else 100_000)
    seconds = args.seconds or (3 if args.quick else 5)
    rounds = args.rounds or (1 if args.quick else 3)

    url = f"{PG}/{args.db}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench.catalog_settings",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnop",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "THROTTLE_ANON_RATE": "1000000/min",
        "THROTTLE_USER_RATE": "1000000/min",
        "THROTTLE_AUTH_RATE": "1000000/min",
        # Persistent connections, as production; BENCH_CONN_MAX_AGE=0: one per request.
        "CONN_MAX_AGE": os.environ.get("BENCH_CONN_MAX_AGE", "600"),
        "LOG_LEVEL": "WARNING",
    }
    python = str(ROOT / ".venv/bin/python")
    ensure_database(args.db)
    sh([python, "manage.py", "migrate", "--noinput", "-v0"], env)
    figures: dict = {
        "products": n,
        "connections": args.connections,
        "seconds": seconds,
        "rounds": rounds,
        "gunicorn": f"{args.workers} {args.worker_class} workers"
        + (f" x {args.threads} threads" if args.worker_class == "gthread" else ""),
    }
    print(f"gunicorn: {figures['gunicorn']}; wrk: {args.connections} connections")
    if product_count(url) != n:
        took = fill(url, n)
        figures["fill_rows_per_s"] = round(n / took)
        print(f"filled {n:,} products in {took:.1f} s ({n / took:,.0f} rows/s)")
    else:
        print(f"reusing {n:,} products in {args.db}")

    base = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "shop.wsgi:application",
            f"--bind=127.0.0.1:{args.port}",
            f"--workers={args.workers}",
            f"--worker-class={args.worker_class}",
            *(
                [f"--threads={args.threads}", "--keep-alive=30"]
                if args.worker_class == "gthread"
                else []
            ),
            "--log-level=warning",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        wait_up(base)
        first = get_json(f"{base}/api/v1/products/?page_size=50")
        category = first["results"][0]["category"]
        detail_id = first["results"][len(first["results"]) // 2]["id"]
        targets = {
            "list": "/api/v1/products/?page_size=50",
            "filtered": f"/api/v1/products/?page_size=50&category={category}"
            "&in_stock=true&min_price=20&ordering=-price",
            "detail": f"/api/v1/products/{detail_id}/",
            "baseline_list": "/bench/plain-products/?page_size=50",
            "bare_django": "/bench/bare/",
        }
        baseline = get_json(base + targets["baseline_list"])
        assert baseline["count"] == first["count"], (baseline["count"], first["count"])
        assert [r["id"] for r in baseline["results"]] == [r["id"] for r in first["results"]]
        for path in targets.values():
            for _ in range(50):  # warm every worker's connection and caches
                urllib.request.urlopen(base + path, timeout=10).read()  # noqa: S310
        # The machine is shared: the targets take turns, round after round, so that a burst of
        # other work hits them alike; each figure is the median of its rounds.
        runs = {name: [] for name in targets}
        for _ in range(rounds):
            for name in targets:
                runs[name].append(wrk(base + targets[name], seconds, args.connections))
        results = {}
        for name, measured in runs.items():
            r = results[name] = {
                key: statistics.median(m[key] for m in measured)
                for key in ("rps", "p50_ms", "p99_ms")
            }
            r["non_2xx"] = sum(m["non_2xx"] for m in measured)
            r["rounds"] = measured
            print(
                f"{name:14s} {r['rps']:9.1f} req/s   p50 {r['p50_ms']:7.2f} ms   "
                f"p99 {r['p99_ms']:7.2f} ms   non-2xx {r['non_2xx']}"
            )
        b = results["baseline_list"]["rps"]
        for name in ["list", "filtered", "detail"]:
            results[name]["x_baseline"] = round(results[name]["rps"] / b, 2)
        print(
            f"(bare Django view, no database: {results['bare_django']['rps']} req/s — the "
            "server's ceiling on this machine during this run)"
        )
        print(
            "ratio vs plain DRF list: "
            + ", ".join(f"{k} {results[k]['x_baseline']}x" for k in ["list", "filtered", "detail"])
        )
        # The target: at least 3x the plain DRF list, and p99 under 50 ms.
        goals = {
            name: {
                "x3_baseline": results[name]["x_baseline"] >= 3,
                "p99_under_50ms": results[name]["p99_ms"] < 50,
            }
            for name in ["list", "filtered", "detail"]
        }
        for name, goal in goals.items():
            verdict = ", ".join(f"{k} {'met' if ok else 'NOT met'}" for k, ok in goal.items())
            print(f"target {name:9s} {verdict}")
        figures["results"] = results
        figures["targets"] = targets
        figures["goals"] = goals
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    if args.json_file:
        Path(args.json_file).write_text(json.dumps({"catalog": figures}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
