from django.db import migrations

from accounts.roles import INVENTORY_MANAGERS, grant_permissions, revoke_permissions

CODENAMES = [
    "add_category",
    "change_category",
    "delete_category",
    "view_category",
    "add_product",
    "change_product",
    "delete_product",
    "view_product",
    "import_product",
    "export_product",
    "view_stockmovement",
    "view_importbatch",
]


def grant(apps, schema_editor):
    grant_permissions(apps, INVENTORY_MANAGERS, "inventory", CODENAMES)


def revoke(apps, schema_editor):
    revoke_permissions(apps, INVENTORY_MANAGERS, "inventory", CODENAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_roles"),
        ("inventory", "0002_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
