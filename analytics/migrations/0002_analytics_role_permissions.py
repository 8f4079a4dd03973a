from django.db import migrations

from accounts.roles import ANALYSTS, role_permissions_operation

CODENAMES = ["view_reports"]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_roles"),
        ("analytics", "0001_analytics_sales_summary"),
    ]

    operations = [role_permissions_operation(ANALYSTS, "analytics", CODENAMES)]
