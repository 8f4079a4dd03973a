from django.db import migrations

from accounts.roles import ORDER_MANAGERS, grant_permissions, revoke_permissions

CODENAMES = [
    "view_order",
    "change_order",
    "view_orderline",
    "view_payment",
    "view_orderevent",
]


def grant(apps, schema_editor):
    grant_permissions(apps, ORDER_MANAGERS, "orders", CODENAMES)


def revoke(apps, schema_editor):
    revoke_permissions(apps, ORDER_MANAGERS, "orders", CODENAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_roles"),
        ("orders", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
