"""A busy day: a realistic mix of requests against gunicorn on loopback, and the stock check.

    .venv/bin/python bench/load.py [--quick] [--duration 60] [--users 32] [--json FILE]

Seeds its own PostgreSQL database (`bench_e2e`, dropped and re-created each run) with a
catalog, customers and an analyst, serves the project with gunicorn on 127.0.0.1:8501, then
runs USERS virtual users for DURATION seconds, each choosing its next request by weight:

    browsing and searching products   70 %   list, page, search, filter + order, detail, categories
    creating orders                   15 %   1-3 lines, hot products half of the time
    executing orders                  10 %   the user's own pending orders (else it creates one)
    reading analytics                  5 %   profit, product sales, category sales (analyst)

Before the mix, a few seconds of `GET /healthz` at the same concurrency give the baseline: the
server and database round trip with no application work. Prints requests/s and p50/p99 per
endpoint, the errors (5xx, network errors, and any status the contract does not give for that
request), then checks the stock: for every product, units sold (executed order lines) plus
units left equals the starting stock, the stock movements add up to the change, nothing is
below zero, and the units the clients saw sold match the database.

Each user sends its next request as soon as the previous answer arrives (so USERS requests are
always in flight: the hardest case), unless `--think` gives users a mean pause between requests.

Targets: no 5xx, the invariant holds, browsing p99 under 200 ms at 32 users.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PG = "postgres://postgres@127.0.0.1:5432"

SERVER_ENV = {
    "SECRET_KEY": "bench-only-not-a-secret-0123456789abcdefghijklmnop",
    "DEBUG": "false",
    "ALLOWED_HOSTS": HOST,
    "THROTTLE_AUTH_RATE": "1000000/min",
    "THROTTLE_ANON_RATE": "1000000/min",
    "THROTTLE_USER_RATE": "1000000/min",
    "LOG_LEVEL": "WARNING",
    "CONN_MAX_AGE": "60",
    # WhiteNoise notes that STATIC_ROOT is missing (no collectstatic): the API needs none.
    "PYTHONWARNINGS": "ignore:No directory at:UserWarning",
}

# (group, weight, name): the mix. Names are the endpoints reported.
MIX = [
    ("browse", 25, "GET products/ (page)"),
    ("browse", 15, "GET products/?search="),
    ("browse", 12, "GET products/?category&in_stock&ordering"),
    ("browse", 13, "GET products/{id}/"),
    ("browse", 5, "GET categories/"),
    ("orders", 15, "POST orders/"),
    ("orders", 10, "POST orders/{id}/execute/"),
    ("analytics", 2, "GET analytics/profit/"),
    ("analytics", 2, "GET analytics/product-sales/"),
    ("analytics", 1, "GET analytics/category-sales/"),
]
# Statuses the contract gives for a valid request in this mix; anything else is an error.
EXPECTED = {
    "POST orders/": {201, 400},  # 400: more than is in stock
    "POST orders/{id}/execute/": {200, 409},  # 409: insufficient stock by now
}
HOT_PRODUCTS = 20


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# --- database and server ------------------------------------------------------------------


def setup_django(database_url):
    os.environ.update(SERVER_ENV)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def recreate_database(name):
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def manage(*args, env):
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True
    )


def seed(*, products, customers, rng):
    """Categories, products (a few hot ones with little stock), customers and an analyst.

    Returns the starting stock by product id and the access tokens."""
    from django.contrib.auth.models import Group
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts.models import User
    from accounts.roles import ANALYSTS
    from inventory.models import Category, Product

    categories = Category.objects.bulk_create(
        [Category(name=f"Category {n:02d}") for n in range(20)]
    )
    rows = []
    for n in range(products):
        cost = Decimal(rng.randint(100, 9000)) / 100
        rows.append(
            Product(
                sku=f"LOAD-{n:06d}",
                name=f"{rng.choice(WORDS)} {rng.choice(WORDS)} {n}",
                category=categories[n % len(categories)],
                cost=cost,
                price=(cost * Decimal("1.4")).quantize(Decimal("0.01")),
                quantity=30 if n < HOT_PRODUCTS else rng.randint(0, 200),
            )
        )
    Product.objects.bulk_create(rows, batch_size=2000)
    start = dict(Product.objects.values_list("id", "quantity"))
    users = User.objects.bulk_create(
        [User(email=f"load{n}@example.com", full_name=f"Load {n}") for n in range(customers)]
    )
    analyst = User.objects.create(email="analyst@example.com", full_name="Analyst", is_staff=True)
    analyst.groups.add(Group.objects.get(name=ANALYSTS))
    tokens = [str(RefreshToken.for_user(u).access_token) for u in users]
    return start, tokens, str(RefreshToken.for_user(analyst).access_token)


WORDS = (
    "red blue green oak steel cotton linen brass smart mini travel classic garden kitchen "
    "desk lamp chair mug kettle towel shirt bottle backpack clock"
).split()


def start_server(port, env, workers, worker_class, threads):
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "shop.wsgi:application",
        f"--bind={HOST}:{port}",
        f"--workers={workers}",
        f"--worker-class={worker_class}",
        "--log-level=warning",
    ]
    if worker_class == "gthread":
        command += [f"--threads={threads}", "--keep-alive=30"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    raise SystemExit("gunicorn did not answer /healthz within 30 s")


def stop_server(server):
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# --- the load generator: asyncio HTTP/1.1 keep-alive clients, in a few processes ------------


class Connection:
    """A minimal HTTP/1.1 keep-alive client: enough for JSON requests to our own server."""

    def __init__(self, port):
        self.port = port
        self.reader = self.writer = None

    async def request(self, method, path, token=None, body=None):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        payload = json.dumps(body).encode() if body is not None else b""
        head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "Accept: application/json"]
        if token:
            head.append(f"Authorization: Bearer {token}")
        if body is not None:
            head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        try:
            status_line = await self.reader.readline()
            if not status_line:
                raise ConnectionError("connection closed")
            status = int(status_line.split()[1])
            headers = {}
            while (line := await self.reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            if headers.get("transfer-encoding") == "chunked":
                content = b""
                while size := int((await self.reader.readline()).strip(), 16):
                    content += await self.reader.readexactly(size + 2)
                await self.reader.readline()
            else:
                content = await self.reader.readexactly(int(headers.get("content-length", 0)))
            if headers.get("connection") == "close":
                self.close()
        except Exception:
            self.close()
            raise
        return status, content

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class VirtualUser:
    def __init__(self, n, plan, rng):
        self.plan = plan
        self.rng = rng
        self.token = plan["tokens"][n % len(plan["tokens"])]
        self.pending = []
        self.sold = defaultdict(int)

    def next_request(self, name):
        """(endpoint name, method, path, token, body) for the chosen kind of request."""
        if name == "GET /healthz":
            return name, "GET", "/healthz", None, None
        name, method, path, token, body = self._api_request(name)
        return name, method, f"/api/v1/{path}", token, body

    def _api_request(self, name):
        rng, plan = self.rng, self.plan
        if name == "POST orders/{id}/execute/" and not self.pending:
            name = "POST orders/"
        if name == "GET products/ (page)":
            page = rng.randint(1, max(1, min(50, len(plan["products"]) // 20)))
            return name, "GET", f"products/?page={page}", None, None
        if name == "GET products/?search=":
            return name, "GET", f"products/?search={rng.choice(WORDS)}", None, None
        if name == "GET products/?category&in_stock&ordering":
            category = rng.choice(plan["categories"])
            order = rng.choice(["price", "-price", "name", "-quantity"])
            path = f"products/?category={category}&in_stock=true&ordering={order}"
            return name, "GET", path, None, None
        if name == "GET products/{id}/":
            return name, "GET", f"products/{rng.choice(plan['products'])}/", None, None
        if name == "GET categories/":
            return name, "GET", "categories/", None, None
        if name == "POST orders/":
            pool = plan["hot"] if rng.random() < 0.5 else plan["products"]
            items = [
                {"product": p, "quantity": rng.randint(1, 3)}
                for p in rng.sample(pool, rng.randint(1, 3))
            ]
            body = {"shipping_country": rng.choice(["FR", "DE", "US", "GB", "JP"]), "items": items}
            return name, "POST", "orders/", self.token, body
        if name == "POST orders/{id}/execute/":
            order = self.pending.pop(0)
            return name, "POST", f"orders/{order}/execute/", self.token, {}
        dates = "date_from=2000-01-01&date_to=2100-12-31"
        if name == "GET analytics/profit/":
            return name, "GET", f"analytics/profit/?{dates}", plan["analyst"], None
        if name == "GET analytics/product-sales/":
            path = f"analytics/product-sales/?{dates}&limit=10"
            return name, "GET", path, plan["analyst"], None
        return name, "GET", f"analytics/category-sales/?{dates}", plan["analyst"], None

    def observe(self, name, status, content):
        if name == "POST orders/" and status == 201:
            self.pending.append(json.loads(content)["id"])
        elif name == "POST orders/{id}/execute/" and status == 200:
            for line in json.loads(content)["items"]:
                self.sold[line["product"]] += line["quantity"]


async def run_users(port, plan, users, duration, seed, mix, think, out):
    names = [name for _, _, name in mix]
    weights = [weight for _, weight, _ in mix]
    samples = defaultdict(list)  # name -> [latency seconds]
    statuses = defaultdict(lambda: defaultdict(int))
    errors = []
    sold = defaultdict(int)
    deadline = time.monotonic() + duration

    async def user(n):
        rng = random.Random(seed * 1000 + n)
        actor = VirtualUser(n, plan, rng)
        connection = Connection(port)
        while time.monotonic() < deadline:
            name, method, path, token, body = actor.next_request(rng.choices(names, weights)[0])
            started = time.perf_counter()
            try:
                status, content = await connection.request(method, path, token, body)
            except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
                statuses[name]["network"] += 1
                errors.append(f"{name} {method} {path}: {type(exc).__name__}: {exc}")
                continue
            samples[name].append(time.perf_counter() - started)
            statuses[name][status] += 1
            if status not in EXPECTED.get(name, {200}):
                errors.append(f"{name} {method} {path} -> {status} {content[:120]!r}")
            else:
                actor.observe(name, status, content)
            if think:
                await asyncio.sleep(rng.expovariate(1 / think))
        connection.close()
        for product, units in actor.sold.items():
            sold[product] += units

    await asyncio.gather(*(user(n) for n in range(users)))
    out.put(
        {
            "samples": dict(samples),
            "statuses": {k: dict(v) for k, v in statuses.items()},
            "errors": errors,
            "sold": dict(sold),
        }
    )


def _worker(port, plan, users, duration, seed, mix, think, out):
    asyncio.run(run_users(port, plan, users, duration, seed, mix, think, out))


def run_load(*, port, plan, users, duration, processes, seed, mix, think=0.0):
    """USERS virtual users spread over PROCESSES processes; returns the merged results."""
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    shares = [users // processes + (1 if i < users % processes else 0) for i in range(processes)]
    workers = [
        ctx.Process(target=_worker, args=(port, plan, share, duration, seed + i, mix, think, out))
        for i, share in enumerate(shares)
        if share
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    parts = [out.get(timeout=duration + 120) for _ in workers]
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    merged = {"samples": defaultdict(list), "statuses": {}, "errors": [], "sold": defaultdict(int)}
    for part in parts:
        for name, values in part["samples"].items():
            merged["samples"][name] += values
        for name, counts in part["statuses"].items():
            into = merged["statuses"].setdefault(name, defaultdict(int))
            for status, count in counts.items():
                into[status] += count
        merged["errors"] += part["errors"]
        for product, units in part["sold"].items():
            merged["sold"][product] += units
    merged["elapsed"] = elapsed
    return merged


def distinct(errors):
    """One sample of each kind of error (endpoint and status)."""
    kinds = {}
    for error in errors:
        kinds.setdefault(error.split(" /api/")[0] + error.partition(" -> ")[2][:3], error)
    return list(kinds.values())


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def summarize(result, duration):
    endpoints = {}
    for name, values in sorted(result["samples"].items()):
        counts = result["statuses"].get(name, {})
        endpoints[name] = {
            "requests": len(values),
            "rps": round(len(values) / duration, 1),
            "p50_ms": round(percentile(values, 0.50) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1),
            "mean_ms": round(statistics.fmean(values) * 1000, 1) if values else 0.0,
            "statuses": {str(k): v for k, v in sorted(counts.items(), key=str)},
        }
    return endpoints


# --- the stock invariant -----------------------------------------------------------------


def check_stock(start, client_sold):
    from django.db.models import Sum

    from inventory.models import Product, StockMovement
    from orders.models import Order, OrderLine

    now = dict(Product.objects.values_list("id", "quantity"))
    sold = dict(
        OrderLine.objects.filter(order__status=Order.Status.EXECUTED)
        .values("product")
        .annotate(units=Sum("quantity"))
        .values_list("product", "units")
    )
    moved = dict(
        StockMovement.objects.values("product")
        .annotate(change=Sum("change"))
        .values_list("product", "change")
    )
    problems = []
    for product, quantity in start.items():
        units = sold.get(product, 0)
        if now[product] + units != quantity:
            problems.append(f"product {product}: {units} sold + {now[product]} left != {quantity}")
        if now[product] < 0:
            problems.append(f"product {product}: stock {now[product]} below zero")
        if moved.get(product, 0) != now[product] - quantity:
            problems.append(
                f"product {product}: movements add up to {moved.get(product, 0)}, "
                f"stock changed by {now[product] - quantity}"
            )
        if client_sold.get(product, 0) != units:
            problems.append(
                f"product {product}: clients saw {client_sold.get(product, 0)} sold, "
                f"the database has {units}"
            )
    return {
        "holds": not problems,
        "problems": problems[:20],
        "units_sold": sum(sold.values()),
        "units_left": sum(now.values()),
        "starting_stock": sum(start.values()),
        "executed_orders": Order.objects.filter(status=Order.Status.EXECUTED).count(),
        "pending_orders": Order.objects.filter(status=Order.Status.PENDING).count(),
        "sold_out_products": sum(1 for p in start if now[p] == 0 and start[p] > 0),
    }


# --- report ------------------------------------------------------------------------------


def report(figures):
    lines = [
        f"Load: {figures['users']} users (think time {figures['think_s']} s), "
        f"{figures['duration_s']} s, "
        f"{figures['server']['workers']} gunicorn {figures['server']['worker_class']} workers "
        f"x {figures['server']['threads']} threads, {figures['catalog_products']} products",
        f"baseline GET /healthz: {figures['baseline']['rps']} req/s, "
        f"p50 {figures['baseline']['p50_ms']} ms, p99 {figures['baseline']['p99_ms']} ms",
        f"mix: {figures['requests']} requests, {figures['rps']} req/s "
        f"({figures['rps_vs_baseline']:.2f}x the baseline)",
        "",
        f"{'endpoint':<44}{'req':>7}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}  statuses",
    ]
    for name, e in figures["endpoints"].items():
        statuses = " ".join(f"{k}:{v}" for k, v in e["statuses"].items())
        lines.append(
            f"{name:<44}{e['requests']:>7}{e['rps']:>8}{e['p50_ms']:>9}{e['p99_ms']:>9}  {statuses}"
        )
    g = figures["groups"]
    lines += [
        "",
        *(
            f"{group:<10} {v['share']:>5.1f} % of requests, p50 {v['p50_ms']} ms, "
            f"p99 {v['p99_ms']} ms"
            for group, v in g.items()
        ),
        f"errors: {figures['errors']} ({figures['server_errors']} 5xx)",
        *(f"  {e}" for e in figures["error_samples"]),
        "stock invariant: "
        + (
            "holds"
            if figures["stock"]["holds"]
            else "BROKEN: " + "; ".join(figures["stock"]["problems"])
        )
        + f" ({figures['stock']['units_sold']} sold + {figures['stock']['units_left']} left = "
        f"{figures['stock']['starting_stock']} at start; {figures['stock']['executed_orders']} "
        f"orders executed, {figures['stock']['sold_out_products']} products sold out)",
        "targets: "
        + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in figures["targets"].items()),
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="15 s instead of 60")
    parser.add_argument("--duration", type=float, help="seconds of mixed load (default 60)")
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean seconds a user waits between requests (exponential); 0: none, so every "
        "user always has a request in flight (the default, the hardest case)",
    )
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--database", default="bench_e2e")
    # As the Dockerfile serves: sync workers, two a core.
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=8, help="threads a gthread worker")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", help="also write the figures as JSON to this file")
    args = parser.parse_args()
    duration = args.duration or (15 if args.quick else 60)
    baseline_duration = 3 if args.quick else 5

    database_url = f"{PG}/{args.database}"
    env = {**os.environ, **SERVER_ENV, "DATABASE_URL": database_url}
    log(f"creating {args.database} and migrating ...")
    recreate_database(args.database)
    manage("migrate", "--noinput", env=env)
    setup_django(database_url)
    from django.db import connections

    from inventory.models import Category

    rng = random.Random(args.seed)
    log(f"seeding {args.products} products and {args.users} customers ...")
    start, tokens, analyst = seed(products=args.products, customers=args.users, rng=rng)
    plan = {
        "tokens": tokens,
        "analyst": analyst,
        "products": sorted(start),
        "hot": sorted(start)[:HOT_PRODUCTS],
        "categories": list(Category.objects.values_list("id", flat=True)),
    }
    # Statistics, as a live shop's database has them (autovacuum may be off, as it is here, or
    # not have come round yet): without them the planner sorts the whole catalog for a page.
    with connections["default"].cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    connections.close_all()  # before forking the load generators

    server = start_server(args.port, env, args.workers, args.worker_class, args.threads)
    try:
        log(f"baseline: GET /healthz for {baseline_duration} s ...")
        baseline = run_load(
            port=args.port,
            plan=plan,
            users=args.users,
            duration=baseline_duration,
            processes=args.processes,
            seed=args.seed,
            mix=[("baseline", 1, "GET /healthz")],
        )
        log(f"mixed load: {args.users} users for {duration:g} s ...")
        result = run_load(
            port=args.port,
            plan=plan,
            users=args.users,
            duration=duration,
            processes=args.processes,
            seed=args.seed,
            mix=MIX,
            think=args.think,
        )
    finally:
        stop_server(server)

    base = baseline["samples"].get("GET /healthz", [])
    endpoints = summarize(result, duration)
    total = sum(e["requests"] for e in endpoints.values())
    groups = {}
    for group in ("browse", "orders", "analytics"):
        names = [name for kind, _, name in MIX if kind == group]
        values = [v for name in names for v in result["samples"].get(name, [])]
        groups[group] = {
            "share": round(100 * len(values) / total, 1) if total else 0.0,
            "p50_ms": round(percentile(values, 0.5) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1),
        }
    server_errors = sum(
        count
        for counts in result["statuses"].values()
        for status, count in counts.items()
        if isinstance(status, int) and status >= 500
    )
    stock = check_stock(start, result["sold"])
    rps = round(total / duration, 1)
    base_rps = round(len(base) / baseline_duration, 1)
    figures = {
        "bench": "load",
        "users": args.users,
        "think_s": args.think,
        "duration_s": duration,
        "catalog_products": args.products,
        "server": {
            "workers": args.workers,
            "worker_class": args.worker_class,
            "threads": args.threads if args.worker_class == "gthread" else 1,
        },
        "baseline": {
            "rps": base_rps,
            "p50_ms": round(percentile(base, 0.5) * 1000, 1),
            "p99_ms": round(percentile(base, 0.99) * 1000, 1),
        },
        "requests": total,
        "rps": rps,
        "rps_vs_baseline": rps / base_rps if base_rps else 0.0,
        "endpoints": endpoints,
        "groups": groups,
        "errors": len(result["errors"]),
        "server_errors": server_errors,
        "error_samples": distinct(result["errors"])[:10],
        "stock": stock,
        "targets": {
            "no 5xx": server_errors == 0,
            "no errors": not result["errors"],
            "stock invariant": stock["holds"],
            "browsing p99 < 200 ms": groups["browse"]["p99_ms"] < 200,
        },
    }
    print(report(figures))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0 if all(figures["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
