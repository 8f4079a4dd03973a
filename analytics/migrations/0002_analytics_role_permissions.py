from django.db import migrations

from accounts.roles import ANALYSTS, grant_permissions, revoke_permissions

CODENAMES = ["view_reports"]


def grant(apps, schema_editor):
    grant_permissions(apps, ANALYSTS, "analytics", CODENAMES)


def revoke(apps, schema_editor):
    revoke_permissions(apps, ANALYSTS, "analytics", CODENAMES)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_roles"),
        ("analytics", "0001_analytics_sales_summary"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
