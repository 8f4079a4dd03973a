from django.db import migrations

import accounts.models
from accounts.roles import ORDER_MANAGERS, role_permissions_operation


class Migration(migrations.Migration):
    """Customers as order support sees them: a proxy of the user model, read-only for Order
    managers (view permission only)."""

    dependencies = [
        ("accounts", "0002_staff_roles"),
        ("orders", "0003_payment_attempts"),
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
        role_permissions_operation(ORDER_MANAGERS, "orders", ["view_customer"]),
    ]
