from django.db import migrations

from accounts.roles import ANALYSTS, INVENTORY_MANAGERS, ORDER_MANAGERS

ROLES = [INVENTORY_MANAGERS, ORDER_MANAGERS, ANALYSTS]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    """The staff roles. Each app grants its own permissions to them in its own migrations."""

    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
