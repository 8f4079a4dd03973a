from django.db import migrations

from shop.migration_operations import role_permissions_operation

ROLE = "Inventory managers"  # the group accounts.0002_staff_roles made

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
    # No dependency on accounts' 0002_staff_roles (until 2026-12-04 there was one): the grant
    # gets or creates its group, so either may run first.
    dependencies = [
        ("inventory", "0002_initial"),
    ]

    operations = [role_permissions_operation(ROLE, "inventory", CODENAMES)]
