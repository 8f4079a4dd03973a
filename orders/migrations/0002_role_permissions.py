from django.db import migrations

from accounts.roles import ORDER_MANAGERS, role_permissions_operation

CODENAMES = [
    "view_order",
    "change_order",
    "view_orderline",
    "view_payment",
    "view_orderevent",
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_roles"),
        ("orders", "0001_initial"),
    ]

    operations = [role_permissions_operation(ORDER_MANAGERS, "orders", CODENAMES)]
