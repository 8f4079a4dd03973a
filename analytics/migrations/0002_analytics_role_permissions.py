from django.db import migrations

from shop.migration_operations import role_permissions_operation

ROLE = "Analysts"  # the group accounts.0002_staff_roles made

CODENAMES = ["view_reports"]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_roles"),
        ("analytics", "0001_analytics_sales_summary"),
    ]

    operations = [role_permissions_operation(ROLE, "analytics", CODENAMES)]
