from django.db import migrations

import accounts.models
from shop.migration_operations import role_permissions_operation

ROLE = "Order managers"  # the group accounts.0002_staff_roles made


class Migration(migrations.Migration):
    """Customers as order support sees them: a proxy of the user model, which Order managers
    may view (read-only)."""

    dependencies = [
        ("accounts", "0003_control_characters"),
    ]

    operations = [
        migrations.CreateModel(
            name="Customer",
            fields=[],
            options={
                "ordering": ["email"],
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("accounts.user",),
            managers=[
                ("objects", accounts.models.UserManager()),
            ],
        ),
        role_permissions_operation(ROLE, "accounts", ["view_customer"]),
    ]
