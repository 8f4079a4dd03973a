"""Indexes for the catalog's reads.

- (category, price, id): a category's products by price, either direction, without a sort.
- On PostgreSQL, trigram indexes for `search` (name or SKU, any case): DRF's search runs
  `UPPER(col::text) LIKE UPPER('%term%')`, which a B-tree cannot serve; these GIN indexes on the
  same expression can (a 100,000-product search goes from a full scan to about a millisecond).
  pg_trgm is a trusted extension: the database owner may create it.
"""

from django.db import migrations, models

TRIGRAM_INDEXES = {
    "product_name_trgm_idx": "name",
    "product_sku_trgm_idx": "sku",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON inventory_product "
            f"USING gin (UPPER({column}::text) gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0003_role_permissions"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="product",
            index=models.Index(
                fields=["category", "price", "id"], name="product_category_price_idx"
            ),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
