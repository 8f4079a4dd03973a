"""Reports over a growing sales history: the summary-backed API against plain SQL over the lines.

Fills PostgreSQL database `bench_analytics` (dropped and re-created) in SQL with 1,000,000
executed order lines (10,000 products, 100 categories, one year; plus 5 % lines of pending,
cancelled and refunded orders that must not count) and builds the summary with
`rebuild_sales_summary`; copies that database to `bench_analytics_small`, then grows the first
to 4,000,000 lines. Then it serves both with gunicorn (127.0.0.1:8401 and 8402) and times,
warm, each report endpoint (to the response's last byte; the client's decoding of the JSON is
timed apart) and the whole admin dashboard over HTTP, for several date ranges,
taking turns between the two histories request by request, so that the shared machine's
drift hits both alike and the growth ratios hold. In the same run it computes the same
figures with plain aggregate SQL over the order lines, checks that both agree to the cent, and
prints the ratios. --quick: 100,000 then 400,000 lines over 2,000 products and 20 categories.
--keep leaves both databases; --reuse times them again (migrated to the code) without filling.

    .venv/bin/python bench/analytics.py [--quick] [--json FILE] [--keep | --reuse]
"""

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
DB = os.environ.get("BENCH_ANALYTICS_DB", "bench_analytics")
SMALL_DB = f"{DB}_small"  # a copy of the first history, kept while DB grows
PORT = int(os.environ.get("BENCH_ANALYTICS_PORT", "8401"))  # and PORT + 1
ADMIN_URL = "/admin/analytics/salesdashboard/"
EMAIL, PASSWORD = "analyst@bench.example", "Bench-Analyst-Pass-42"
LINES_PER_ORDER = 4
YEAR_START = "2025-01-01"
RANGES = {
    "year": ("2025-01-01", "2025-12-31"),
    "30 days": ("2025-12-02", "2025-12-31"),
    "unaligned": ("2025-03-17", "2025-09-12"),
}
ENDPOINTS = {
    "profit": "/api/v1/analytics/profit/",
    "product-sales": "/api/v1/analytics/product-sales/",
    "category-sales": "/api/v1/analytics/category-sales/",
}

ENV = {
    **os.environ,
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
    "SECRET_KEY": "bench-only-not-a-secret-0123456789abcdefghijklmnop",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "127.0.0.1",
    "TIME_ZONE": "UTC",
    "THROTTLE_AUTH_RATE": "1000000/min",
    "THROTTLE_ANON_RATE": "1000000/min",
    "THROTTLE_USER_RATE": "1000000/min",
    "DJANGO_STAFF_PASSWORD": PASSWORD,
}


def log(*args):
    print(*args, flush=True)


def manage(*args) -> str:
    done = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=ENV, capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


def connect(dbname=DB):
    conn = psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{dbname}", autocommit=True)
    conn.execute("SET TIME ZONE 'UTC'")  # the days of the reports (TIME_ZONE=UTC below)
    return conn


def create_database():
    with connect("postgres") as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    manage("migrate", "--noinput")
    manage("collectstatic", "--noinput")
    manage("create_staff", "--email", EMAIL, "--role", "analytics", "--noinput")


def fill_catalog(conn, products: int, categories: int):
    conn.execute("SELECT setseed(0.6)")
    conn.execute(
        "INSERT INTO inventory_category (id, name, created_at) "
        "SELECT g, 'Category ' || g, now() FROM generate_series(1, %s) g",
        (categories,),
    )
    conn.execute(
        """
        INSERT INTO inventory_product
            (id, sku, name, category_id, price, cost, quantity, is_active, created_at, updated_at)
        SELECT g, 'SKU-' || g, 'Product ' || g, 1 + g %% %s, price,
               round(price * (0.3 + 0.5 * random())::numeric, 2),
               floor(random() * 200)::int, true, now(), now()
        FROM (SELECT g, round((1 + random() * 199)::numeric, 2) AS price
              FROM generate_series(1, %s) g) p
        """,
        (categories, products),
    )


def add_orders(conn, first_order: int, executed_lines: int, products: int) -> int:
    """Executed orders of LINES_PER_ORDER lines, executed at random in the year, plus 5 %
    more orders that are pending, cancelled or refunded. Returns the next free order id."""
    executed = executed_lines // LINES_PER_ORDER
    others = executed // 20
    last = first_order + executed + others - 1
    (customer,) = conn.execute("SELECT id FROM accounts_user WHERE email = %s", (EMAIL,)).fetchone()
    conn.execute("SELECT setseed(%s)", (first_order % 1000 / 1000,))
    conn.execute(
        """
        INSERT INTO orders_order (id, customer_id, status, shipping_country, total,
                                  created_at, updated_at, executed_at, cancelled_at, refunded_at)
        SELECT g, %(customer)s, status, 'FR', 0, at, at,
               CASE WHEN status IN ('executed', 'refunded') THEN at END,
               CASE WHEN status = 'cancelled' THEN at END,
               CASE WHEN status = 'refunded' THEN at + interval '1 day' END
        FROM (
            SELECT g, %(start)s::timestamptz + random() * interval '365 days' AS at,
                   CASE WHEN g < %(first)s + %(executed)s THEN 'executed'
                        ELSE (ARRAY['pending', 'cancelled', 'refunded'])[1 + g %% 3] END AS status
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) g
        ) o
        """,
        {
            "customer": customer,
            "start": f"{YEAR_START} 00:00+00",
            "first": first_order,
            "executed": executed,
            "last": last,
        },
    )
    # Each order: a skewed first product (some sell far more), then 3 others at fixed strides.
    conn.execute(
        """
        INSERT INTO orders_orderline (order_id, product_id, quantity, unit_price, unit_cost)
        SELECT o.id, p.id, 1 + floor(random() * 3)::int,
               round(p.price * (0.9 + 0.2 * random())::numeric, 2),
               round(p.cost * (0.9 + 0.2 * random())::numeric, 2)
        FROM (SELECT id, floor(%(products)s::int * random() ^ 2)::int AS base
              FROM orders_order WHERE id BETWEEN %(first)s AND %(last)s) o
        CROSS JOIN generate_series(0, %(per)s::int - 1) j
        JOIN inventory_product p ON p.id = 1 + (o.base + j * 2503) %% %(products)s::int
        """,
        {"products": products, "first": first_order, "last": last, "per": LINES_PER_ORDER},
    )
    conn.execute(f"SELECT setval('orders_order_id_seq', {last})")
    return last + 1


def clone_database(source: str, target: str) -> None:
    """CREATE DATABASE target TEMPLATE source (retried: an autovacuum worker may be in it)."""
    with connect("postgres") as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {target} WITH (FORCE)")
        for attempt in range(20):
            try:
                admin.execute(f"CREATE DATABASE {target} TEMPLATE {source}")
                return
            except psycopg.errors.ObjectInUse:
                if attempt == 19:
                    raise
                time.sleep(1)


def vacuum(conn):
    """The whole database, so autovacuum does not start in the middle of the timings."""
    conn.execute("VACUUM ANALYZE")


class Server:
    """gunicorn serving the project over database `db` on `port`."""

    def __init__(self, db: str, port: int):
        self.db, self.base = db, f"http://127.0.0.1:{port}"
        self.port = port

    def __enter__(self):
        env = {**ENV, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{self.db}"}
        self.proc = subprocess.Popen(
            [GUNICORN, "shop.wsgi:application", "-b", f"127.0.0.1:{self.port}", "-w", "2",
             "--timeout", "120"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(100):
            try:
                if requests.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    try:
                        self.api, self.admin = api_session(self.base), admin_session(self.base)
                    except BaseException:
                        self.__exit__()  # never leave a server behind on the port
                        raise
                    return self
            except (requests.ConnectionError, requests.Timeout):  # still starting
                pass
            time.sleep(0.2)
        self.__exit__()
        sys.exit("gunicorn did not start")

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def api_session(base: str) -> requests.Session:
    session = requests.Session()
    token = session.post(
        f"{base}/api/v1/auth/login/", json={"email": EMAIL, "password": PASSWORD}, timeout=30
    ).json()["access"]
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def admin_session(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/admin/login/", timeout=30).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    done = session.post(
        f"{base}/admin/login/?next={ADMIN_URL}",
        data={"csrfmiddlewaretoken": csrf, "username": EMAIL, "password": PASSWORD,
              "next": ADMIN_URL},
        headers={"Referer": f"{base}/admin/login/"},
        timeout=30,
    )  # fmt: skip
    assert done.status_code == 200 and "Sales dashboard" in done.text, done.status_code
    return session


def stats(times: list[float]) -> dict:
    return {
        "p50_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "runs": len(times),
    }


def timed_pair(calls, runs: int, warm: int = 2):
    """Time each of `calls` `runs` times, taking turns (the order flips every round), so that a
    burst of other work on the shared machine hits them alike. Returns (results, stats)."""
    results = [None] * len(calls)
    for i, call in enumerate(calls):
        for _ in range(warm):
            results[i] = call()
    times = [[] for _ in calls]
    for n in range(runs):
        order = range(len(calls)) if n % 2 == 0 else reversed(range(len(calls)))
        for i in order:
            start = time.perf_counter()
            results[i] = calls[i]()
            times[i].append((time.perf_counter() - start) * 1000)
    return results, [stats(t) for t in times]


def get_json(server, path, params):
    """The response, read to its last byte: the endpoint's time over HTTP. Decoding its JSON
    is the client's own work (7–32 ms measured in Python for the 1.2–1.4 MB of 10,000
    products), timed apart by `measure`."""
    response = server.api.get(server.base + path, params=params, timeout=120)
    if response.status_code == 401:  # the access token lasts 15 minutes; a slow run outlives it
        server.api = api_session(server.base)
        response = server.api.get(server.base + path, params=params, timeout=120)
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return response


def get_dashboard(server, params):
    response = server.admin.get(server.base + ADMIN_URL, params=params, timeout=120)
    response.raise_for_status()


# ---- the same figures, by plain aggregate SQL over the order lines -----------------------
LINES = """
    FROM orders_orderline l JOIN orders_order o ON o.id = l.order_id
    WHERE o.status = 'executed'
      AND o.executed_at >= %(date_from)s::date AND o.executed_at < %(date_to)s::date + 1
"""
SQL = {
    "profit": "SELECT COALESCE(SUM(l.unit_price * l.quantity), 0), "
    "COALESCE(SUM(l.unit_cost * l.quantity), 0), COUNT(DISTINCT l.order_id), "
    "COALESCE(SUM(l.quantity), 0)" + LINES,
    "product-sales": "SELECT l.product_id, SUM(l.quantity), SUM(l.unit_price * l.quantity)"
    + LINES
    + " GROUP BY l.product_id",
    "category-sales": "SELECT p.category_id, l.product_id, SUM(l.quantity), "
    "SUM(l.unit_price * l.quantity), SUM(l.unit_cost * l.quantity)"
    + LINES.replace("WHERE", "JOIN inventory_product p ON p.id = l.product_id WHERE")
    + " GROUP BY p.category_id, l.product_id",
    "per-day": "SELECT o.executed_at::date, SUM(l.unit_price * l.quantity), "
    "SUM(l.unit_cost * l.quantity)" + LINES + " GROUP BY 1",
}


def cents(value) -> str:
    return f"{Decimal(value):.2f}"


def check_agreement(name, api, sql_rows):
    """The API's figures equal the SQL's, to the cent."""
    if name == "profit":
        revenue, cost, orders, units = sql_rows[0]
        want = {
            "revenue": cents(revenue),
            "cost": cents(cost),
            "profit": cents(revenue - cost),
            "executed_orders": orders,
            "units_sold": units,
        }
        assert api == want, (api, want)
    elif name == "product-sales":
        want = {pid: (units, cents(rev)) for pid, units, rev in sql_rows}
        got = {r["product_id"]: (r["units_sold"], r["revenue"]) for r in api["results"]}
        assert got == want, "product sales differ"
    else:
        want, want_products = {}, {}
        for cid, pid, units, rev, cost in sql_rows:
            c = want.setdefault(cid, [0, Decimal(0), Decimal(0)])
            c[0] += units
            c[1] += rev
            c[2] += rev - cost
            want_products[pid] = (units, cents(rev))
        want = {cid: (u, cents(r), cents(p)) for cid, (u, r, p) in want.items()}
        got = {
            c["category_id"]: (c["units_sold"], c["revenue"], c["profit"]) for c in api["results"]
        }
        assert got == want, "category sales differ"
        got_products = {
            p["product_id"]: (p["units_sold"], p["revenue"])
            for c in api["results"]
            for p in c["products"]
        }
        assert got_products == want_products, "category products differ"


def measure(servers, conns, runs: int, sql_runs: int) -> list[dict]:
    """Each report and the dashboard, for each range, on every server in turn; the plain SQL
    over the lines on each database. One dict of figures a server."""
    figures = [{} for _ in servers]
    for range_name, (date_from, date_to) in RANGES.items():
        params = {"date_from": date_from, "date_to": date_to}
        rows = [f.setdefault(range_name, {}) for f in figures]
        for name, path in ENDPOINTS.items():
            responses, api = timed_pair(
                [lambda s=s, p=path, q=params: get_json(s, p, q) for s in servers], runs
            )
            for i, conn in enumerate(conns):
                start = time.perf_counter()
                body = responses[i].json()
                api[i]["client_json_ms"] = round((time.perf_counter() - start) * 1000, 1)
                (sql_rows,), (sql,) = timed_pair(
                    [lambda c=conn, n=name, q=params: c.execute(SQL[n], q).fetchall()], sql_runs, 1
                )
                check_agreement(name, body, sql_rows)
                rows[i][name] = {"api": api[i], "sql": sql}
        _, api = timed_pair([lambda s=s, q=params: get_dashboard(s, q) for s in servers], runs)
        for i, conn in enumerate(conns):
            # The dashboard's figures straight over the lines: totals, days, products, categories.
            _, (sql,) = timed_pair(
                [lambda c=conn, q=params: [c.execute(SQL[n], q).fetchall() for n in SQL]],
                sql_runs,
                1,
            )
            rows[i]["dashboard"] = {"api": api[i], "sql": sql}
    return figures


def fill(sizes, products, categories, results):
    """Fill DB with the first history and copy it to SMALL_DB, then grow DB to the second."""
    create_database()
    conn = connect()
    fill_catalog(conn, products, categories)
    next_order, lines = 1, 0
    for size in sizes:
        t0 = time.perf_counter()
        next_order = add_orders(conn, next_order, size - lines, products)
        lines = size
        fill_s = time.perf_counter() - t0
        vacuum(conn)
        t0 = time.perf_counter()
        rebuilt = manage("rebuild_sales_summary")
        rebuild_s = time.perf_counter() - t0
        vacuum(conn)
        (summary_rows,) = conn.execute(
            "SELECT COUNT(*) FROM analytics_productsalessummary"
        ).fetchone()
        log(f"== {size:,} executed order lines: filled in {fill_s:.1f} s, summary rebuilt "
            f"in {rebuild_s:.1f} s ({summary_rows:,} summary rows)\n   {rebuilt}")  # fmt: skip
        results["sizes"][size] = {
            "fill_s": round(fill_s, 1),
            "rebuild_s": round(rebuild_s, 1),
            "summary_rows": summary_rows,
        }
        if size == sizes[0]:  # keep this history as it is, for the side-by-side timings
            conn.close()
            clone_database(DB, SMALL_DB)
            conn = connect()
    conn.close()


def reuse(dbs, sizes, results):
    """The databases of an earlier --keep run, migrated to the code being timed (whose
    static files are collected: the admin's pages need them, and a checkout may have none)."""
    manage("collectstatic", "--noinput")
    for db, size in zip(dbs, sizes, strict=True):
        env = {**ENV, "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}"}
        done = subprocess.run(
            [PY, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True,
            text=True, check=False,
        )  # fmt: skip
        if done.returncode:
            sys.exit(f"migrate of {db} failed (run once with --keep first):\n{done.stderr}")
        with connect(db) as conn:
            (lines,) = conn.execute("SELECT COUNT(*) FROM orders_orderline").fetchone()
            (summary_rows,) = conn.execute(
                "SELECT COUNT(*) FROM analytics_productsalessummary"
            ).fetchone()
        log(f"== {db}: {lines:,} order lines, {summary_rows:,} summary rows (reused)")
        results["sizes"][size] = {"reused": True, "summary_rows": summary_rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the databases an earlier --keep run left (migrated first), without filling",
    )
    args = parser.parse_args()
    if args.quick:
        sizes, products, categories, runs, sql_runs = [100_000, 400_000], 2_000, 20, 10, 3
    else:
        sizes, products, categories, runs, sql_runs = [1_000_000, 4_000_000], 10_000, 100, 15, 2

    started = time.perf_counter()
    results = {"products": products, "categories": categories, "sizes": {}}
    dbs = [SMALL_DB, DB]
    if args.reuse:
        reuse(dbs, sizes, results)
    else:
        fill(sizes, products, categories, results)

    # Both histories served at once, and every timing taken in turns between them: the growth
    # ratios compare figures measured in the same seconds of the shared machine.
    conns = [connect(db) for db in dbs]
    with Server(dbs[0], PORT + 1) as small, Server(dbs[1], PORT) as big:
        figures = measure([small, big], conns, runs, sql_runs)
    for conn in conns:
        conn.close()
    for size, ranges in zip(sizes, figures, strict=True):
        results["sizes"][size]["ranges"] = ranges
        log(f"\n== {size:,} lines ({runs} runs each, taking turns with the other history)")
        log(f"   {'range':<10} {'report':<15} {'API p50':>9} {'max':>8} {'SQL p50':>9} "
            f"{'SQL/API':>8} {'client JSON':>12}   all figures agree to the cent")  # fmt: skip
        for range_name, row in ranges.items():
            for name, f in row.items():
                api, sql = f["api"], f["sql"]
                decode = f"{api['client_json_ms']:>10.1f}ms" if "client_json_ms" in api else ""
                log(f"   {range_name:<10} {name:<15} {api['p50_ms']:>7.1f}ms "
                    f"{api['max_ms']:>6.1f}ms {sql['p50_ms']:>7.1f}ms "
                    f"{sql['p50_ms'] / api['p50_ms']:>7.1f}× {decode}")  # fmt: skip
    small, big = figures
    log(f"\n== growth {sizes[0]:,} → {sizes[1]:,} lines: API p50 ratio (target ≤ 1.5×), "
        "SQL p50 ratio")  # fmt: skip
    growth = {}
    for range_name in RANGES:
        for name in small[range_name]:
            a = big[range_name][name]["api"]["p50_ms"] / small[range_name][name]["api"]["p50_ms"]
            s = big[range_name][name]["sql"]["p50_ms"] / small[range_name][name]["sql"]["p50_ms"]
            growth[f"{range_name}/{name}"] = {"api": round(a, 2), "sql": round(s, 2)}
            log(f"   {range_name:<10} {name:<15} API {a:>5.2f}×   SQL {s:>5.2f}×")
    worst = max(growth.values(), key=lambda g: g["api"])["api"]
    slowest = max(
        f["api"]["p50_ms"] for row in small.values() for n, f in row.items() if n != "dashboard"
    )
    dashboard = max(row["dashboard"]["api"]["p50_ms"] for row in small.values())
    log(f"\ntargets at {sizes[0]:,} lines: slowest report p50 {slowest} ms (< 100), slowest "
        f"dashboard p50 {dashboard} ms (< 500); worst growth {worst}× (≤ 1.5)")  # fmt: skip
    results["growth"] = growth
    results["total_s"] = round(time.perf_counter() - started, 1)
    log(f"total {results['total_s']} s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if not (args.keep or args.reuse):
        with connect("postgres") as admin:
            for db in dbs:
                admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


if __name__ == "__main__":
    main()
