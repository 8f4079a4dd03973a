from django.db import migrations

from shop.migration_operations import role_permissions_operation

ROLE = "Order managers"  # the group accounts.0002_staff_roles made

CODENAMES = [
    "view_order",
    "change_order",
    "view_orderline",
    "view_payment",
    "view_orderevent",
]


class Migration(migrations.Migration):
    # No dependency on accounts' 0002_staff_roles (until 2026-12-04 there was one): the grant
    # gets or creates its group, so either may run first.
    dependencies = [
        ("orders", "0001_initial"),
    ]

    operations = [role_permissions_operation(ROLE, "orders", CODENAMES)]
