"""Drop the foreign key from inventory_stockmovement.order_id to orders_order, where it exists.

Databases migrated before 2026-12-04 got the column as a foreign key from 0002 (then a
dependency on orders); 0002 now adds it as a plain integer, which the state here already
says. The column, its values and its index stay; only the constraint goes.
"""

from django.db import migrations


def drop_order_foreign_key(apps, schema_editor):
    model = apps.get_model("inventory", "StockMovement")
    table = model._meta.db_table
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    foreign_keys = [
        name
        for name, info in constraints.items()
        if info["foreign_key"] and info["columns"] == ["order_id"]
    ]
    if not foreign_keys:
        return  # a database created with today's 0002
    if connection.vendor == "sqlite":
        # SQLite cannot drop a constraint: the table is rebuilt from the model's state.
        schema_editor._remake_table(model)
        return
    for name in foreign_keys:
        schema_editor.execute(
            schema_editor._delete_constraint_sql(schema_editor.sql_delete_fk, model, name)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0005_idx_trim_write_indexes"),
    ]

    operations = [migrations.RunPython(drop_order_foreign_key, migrations.RunPython.noop)]
