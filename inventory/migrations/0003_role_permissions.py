from django.db import migrations

from accounts.roles import INVENTORY_MANAGERS, role_permissions_operation

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


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_roles"),
        ("inventory", "0002_initial"),
    ]

    operations = [role_permissions_operation(INVENTORY_MANAGERS, "inventory", CODENAMES)]
