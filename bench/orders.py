#!/usr/bin/env python
"""Customers race to execute orders against a few hot products (PostgreSQL, gunicorn, loopback).

Each run: N orders over a few hot products, stock for about half of the units ordered, C
concurrent clients each executing its customers' orders through POST orders/{id}/execute/.
Prints executions/s, p50/p99 latency, the count of 200/409/5xx, and checks for every product
that units sold + units left == starting stock and that nothing went below zero. A baseline
(the same clients reading the same orders with GET orders/{id}/) is measured in the same run.

    .venv/bin/python bench/orders.py [--quick] [--runs 5] [--json out.json]
"""

import argparse
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 run of 120 orders")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--orders", type=int, default=400)
    p.add_argument("--products", type=int, default=10)
    p.add_argument("--clients", type=int, default=32)
    # As the Dockerfile serves: sync workers (threads 1), two a core.
    p.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    p.add_argument("--threads", type=int, default=1, help="threads a worker (> 1: gthread)")
    p.add_argument("--port", type=int, default=int(os.environ.get("BENCH_ORDERS_PORT", 8301)))
    p.add_argument("--db", default=os.environ.get("BENCH_ORDERS_DB", "bench_orders"))
    p.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    p.add_argument("--json", metavar="FILE")
    args = p.parse_args()
    if args.quick:
        args.runs, args.orders = 1, 120
    return args


def server_env(args) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"{args.pg}/{args.db}",
        "SECRET_KEY": "bench-only-not-a-secret-0123456789abcdef0123456789",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "THROTTLE_USER_RATE": "1000000/min",
        "THROTTLE_ANON_RATE": "1000000/min",
        "THROTTLE_AUTH_RATE": "1000000/min",
        "LOG_LEVEL": "WARNING",
        "TEST_GATEWAY_LEDGER": str(ROOT / "var" / "bench-orders-gateway.sqlite3"),
    }


def create_database(args) -> None:
    import psycopg

    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.db]).fetchone():
            conn.execute(f'CREATE DATABASE "{args.db}"')


def setup_django(args) -> None:
    os.environ.update(server_env(args))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_data(args, rng):
    """Fresh customers, hot products and pending orders; returns (orders, tokens, start)."""
    from django.db import connection, transaction
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from inventory.models import Category, Product
    from orders.models import Order, OrderLine

    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE orders_orderevent, orders_payment, orders_orderline, orders_order, "
            "orders_idempotencykey, inventory_stockmovement, inventory_product, "
            "inventory_category RESTART IDENTITY CASCADE"
        )
    from orders.payments import TestGateway

    TestGateway.ledger_clear()  # order ids start again at 1
    with transaction.atomic():
        User.objects.filter(email__endswith="@bench.invalid").delete()
        customers = User.objects.bulk_create(
            [User(email=f"c{i}@bench.invalid", password="!") for i in range(args.clients)]
        )
        category = Category.objects.create(name="Hot")
        products = Product.objects.bulk_create(
            [
                Product(
                    sku=f"HOT-{i}",
                    name=f"Hot {i}",
                    category=category,
                    price=Decimal("9.90"),
                    cost=Decimal("4.00"),
                )
                for i in range(args.products)
            ]
        )
        orders = Order.objects.bulk_create(
            [
                Order(customer=customers[i % args.clients], shipping_country="FR", total=0)
                for i in range(args.orders)
            ]
        )
        lines, demand = [], dict.fromkeys([p.pk for p in products], 0)
        for order in orders:
            for product in rng.sample(products, k=rng.randint(1, 3)):
                quantity = rng.randint(1, 2)
                demand[product.pk] += quantity
                lines.append(
                    OrderLine(  # priced as order_create prices a line
                        order=order,
                        product=product,
                        quantity=quantity,
                        unit_price=product.price,
                        unit_cost=product.cost,
                    )
                )
        OrderLine.objects.bulk_create(lines)
        start = {pk: units // 2 for pk, units in demand.items()}  # stock for about half
        for pk, quantity in start.items():
            Product.objects.filter(pk=pk).update(quantity=quantity)
    tokens = {c.pk: str(AccessToken.for_user(c)) for c in customers}
    work = [(o.pk, tokens[o.customer_id]) for o in orders]
    return work, start


def fire(args, work, method, path_fmt) -> tuple[float, list[float], dict]:
    """Send one request per (order id, token) from `clients` threads; returns (seconds,
    latencies in ms, {status: count})."""
    latencies, statuses, lock = [], {}, threading.Lock()
    chunks = [work[i :: args.clients] for i in range(args.clients)]
    barrier = threading.Barrier(args.clients + 1)
    body = b"{}" if method == "POST" else None

    def client(chunk):
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
        mine = []
        barrier.wait()
        for order_id, token in chunk:
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            t0 = time.perf_counter()
            conn.request(method, path_fmt.format(order_id), body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(((time.perf_counter() - t0) * 1000, response.status))
        conn.close()
        with lock:
            for ms, status in mine:
                latencies.append(ms)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, latencies, statuses


def pct(values, q) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def check(start) -> dict:
    from django.db.models import Sum

    from inventory.models import Product, StockMovement
    from orders.models import Order, OrderLine

    problems = []
    for product in Product.objects.all():
        sold = (
            OrderLine.objects.filter(product=product, order__status="executed").aggregate(
                s=Sum("quantity")
            )["s"]
            or 0
        )
        moved = StockMovement.objects.filter(product=product).aggregate(s=Sum("change"))["s"] or 0
        if product.quantity < 0 or sold + product.quantity != start[product.pk] or -moved != sold:
            problems.append((product.pk, start[product.pk], sold, product.quantity, moved))
    # The money invariant of API.md, at the test gateway's own ledger: every order of this run
    # is charged its total when executed, nothing otherwise.
    from orders.payments import TestGateway

    for pk, status, total in Order.objects.values_list("pk", "status", "total"):
        charged = TestGateway.net_charged(f"Order {pk}")
        if charged != (total if status == "executed" else 0):
            problems.append(("money", pk, status, str(total), str(charged)))
    return {"problems": problems, "executed": Order.objects.filter(status="executed").count()}


def deadlocks(args) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = %s", [args.db])
        return cur.fetchone()[0]


def main():
    args = parse_args()
    create_database(args)
    setup_django(args)
    rng = random.Random(5)
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "shop.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=server_env(args),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("gunicorn did not start")
        results = []
        print(
            f"{args.orders} orders over {args.products} hot products, {args.clients} clients, "
            f"gunicorn {args.workers} workers x {args.threads} threads on 127.0.0.1:{args.port}"
        )
        for run in range(1, args.runs + 1):
            work, start = make_data(args, rng)
            dl_before = deadlocks(args)
            read_s, read_lat, read_status = fire(args, work, "GET", "/api/v1/orders/{}/")
            exec_s, lat, statuses = fire(args, work, "POST", "/api/v1/orders/{}/execute/")
            verdict = check(start)
            fives = sum(n for s, n in statuses.items() if s >= 500)
            result = {
                "run": run,
                "executions_per_s": round(len(work) / exec_s, 1),
                "p50_ms": round(pct(lat, 50), 1),
                "p99_ms": round(pct(lat, 99), 1),
                "status_200": statuses.get(200, 0),
                "status_409": statuses.get(409, 0),
                "status_5xx": fives,
                "other": {s: n for s, n in statuses.items() if s not in (200, 409) and s < 500},
                "baseline_reads_per_s": round(len(work) / read_s, 1),
                "baseline_p50_ms": round(pct(read_lat, 50), 1),
                "deadlocks": deadlocks(args) - dl_before,
                "oversold_or_mismatch": verdict["problems"],
                "units_start": sum(start.values()),
            }
            result["ratio_to_baseline"] = round(
                result["executions_per_s"] / result["baseline_reads_per_s"], 2
            )
            ok = (
                not verdict["problems"]
                and fives == 0
                and result["deadlocks"] == 0
                and verdict["executed"] == statuses.get(200, 0)
                and read_status == {200: len(work)}
            )
            result["ok"] = ok
            results.append(result)
            print(
                f"run {run}: {result['executions_per_s']:7.1f} executions/s  "
                f"p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms  "
                f"200={result['status_200']} 409={result['status_409']} 5xx={fives} "
                f"deadlocks={result['deadlocks']}  invariant "
                f"{'ok' if not verdict['problems'] else verdict['problems']}  | baseline GET "
                f"{result['baseline_reads_per_s']:.1f} req/s (ratio "
                f"{result['ratio_to_baseline']})"
            )
        rates = [r["executions_per_s"] for r in results]
        summary = {
            "bench": "orders",
            "runs": results,
            "executions_per_s_median": statistics.median(rates),
            "executions_per_s_min": min(rates),
            "all_ok": all(r["ok"] for r in results),
            "target_executions_per_s": 150,
        }
        print(
            f"median {summary['executions_per_s_median']} executions/s (min {min(rates)}); "
            f"target 150; oversold/5xx/deadlocks: "
            f"{'none' if summary['all_ok'] else 'FOUND'}"
        )
        if args.json:
            Path(args.json).write_text(json.dumps(summary, indent=2))
        return 0 if summary["all_ok"] else 1
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            _, err = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            _, err = server.communicate()
        if err and ("Error" in err or "Traceback" in err):
            print("gunicorn stderr (last lines):\n" + "\n".join(err.strip().splitlines()[-15:]))


if __name__ == "__main__":
    sys.exit(main())
