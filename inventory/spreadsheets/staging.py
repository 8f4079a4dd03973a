"""Staging: the file's checked rows kept in a temporary table for the length of the import.

The import holds one chunk of rows in Python at a time, whatever the file's size: each chunk
is checked and added here, and the checks that need the whole file (a SKU or a name repeated
in another row, a name that belongs to another SKU in the catalog) are queries on this table.
The rows are then read back, in file order and in chunks, to be written.

The table is created inside the import's transaction and dropped at its end; when the import
fails, the rollback removes it. PostgreSQL fills it through COPY, SQLite through INSERT.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from decimal import Decimal

from django.db import connection

from inventory.models import Product
from inventory.services import copy_rows

TABLE = "_product_import"
# Money is kept as text (exact on every backend; SQLite has no decimal type).
_COLUMNS = (
    "number integer PRIMARY KEY, sku varchar(64), name varchar(200), category varchar(100), "
    "price varchar(20), cost varchar(20), quantity integer, product_id bigint"
)
_ROW = "number, sku, name, category, price, cost, quantity"
_COPY_TYPES = (
    "number int4, sku text, name text, category text, price text, cost text, quantity int4"
)


class Staging:
    """The staged rows: (row number, sku, name, category, price, cost, quantity), any cell
    None where the row had a problem."""

    def add(self, rows: list[tuple]) -> None:
        values = [
            (number, sku, name, category, _text(price), _text(cost), quantity)
            for number, sku, name, category, price, cost, quantity in rows
        ]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                copy_rows(cursor, TABLE, _COPY_TYPES, values)
            else:
                cursor.executemany(
                    f"INSERT INTO {TABLE} ({_ROW}) VALUES (%s, %s, %s, %s, %s, %s, %s)",  # noqa: S608
                    values,
                )

    def analyze(self) -> None:
        """Tell the planner how large the table has grown, once every row is in: without
        statistics PostgreSQL reads the whole table for each chunk instead of its primary key."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {TABLE}")

    def repeated(self, column: str, limit: int) -> list[tuple[int, str, int]]:
        """(row number, value, first row) of each row whose `column` ("sku" or "name") an
        earlier row already has, in row order, at most `limit`."""
        assert column in ("sku", "name")  # noqa: S101  (a column name, never user input)
        return self._fetch(
            f"SELECT s.number, s.{column}, r.first FROM {TABLE} s "  # noqa: S608
            f"JOIN (SELECT {column} AS value, MIN(number) AS first FROM {TABLE} "
            f"WHERE {column} IS NOT NULL GROUP BY {column} HAVING COUNT(*) > 1) r "
            f"ON r.value = s.{column} WHERE s.number > r.first ORDER BY s.number LIMIT %s",
            [limit],
        )

    def names_taken(self, limit: int) -> list[tuple[int, str, str]]:
        """(row number, name, SKU) of each row whose name belongs to another SKU in the catalog,
        in row order, at most `limit`."""
        products = Product._meta.db_table
        return self._fetch(
            f"SELECT s.number, s.name, p.sku FROM {TABLE} s "  # noqa: S608
            f"JOIN {products} p ON p.name = s.name WHERE p.sku <> s.sku "
            "ORDER BY s.number LIMIT %s",
            [limit],
        )

    def match_products(self, *, lock: bool) -> None:
        """Note each row's product (by SKU) in the catalog, before anything is written; with
        `lock`, first lock those products in primary-key order until the transaction ends
        (what `products_locked` does, in one statement; SQLite locks the whole database)."""
        products = Product._meta.db_table
        with connection.cursor() as cursor:
            if lock and connection.features.has_select_for_update:
                cursor.execute(
                    f"SELECT COUNT(*) FROM (SELECT p.id FROM {products} p "  # noqa: S608
                    f"JOIN {TABLE} s ON s.sku = p.sku ORDER BY p.id FOR UPDATE OF p) locked"
                )
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"UPDATE {TABLE} s SET product_id = p.id FROM {products} p "  # noqa: S608
                    "WHERE p.sku = s.sku"
                )
            else:
                cursor.execute(
                    f"UPDATE {TABLE} SET product_id = (SELECT p.id FROM {products} p "  # noqa: S608
                    f"WHERE p.sku = {TABLE}.sku)"
                )

    def chunks(self, size: int) -> Iterator[list[tuple]]:
        """The rows in file order, `size` at a time, money as Decimal, each with its product's
        id as `match_products` found it (None for a new SKU)."""
        last = 0
        while True:
            rows = self._fetch(
                f"SELECT {_ROW}, product_id FROM {TABLE} "  # noqa: S608
                "WHERE number > %s ORDER BY number LIMIT %s",
                [last, size],
            )
            if not rows:
                return
            yield [
                (number, sku, name, category, Decimal(price), Decimal(cost), quantity, product)
                for number, sku, name, category, price, cost, quantity, product in rows
            ]
            last = rows[-1][0]

    @staticmethod
    def _fetch(sql: str, params: list) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


@contextlib.contextmanager
def staged_rows() -> Iterator[Staging]:
    """An empty staging table for the block, inside the caller's transaction; dropped when the
    block ends normally (when it raises, the caller's rollback removes the table)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {TABLE} ({_COLUMNS})")
    yield Staging()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {TABLE}")
