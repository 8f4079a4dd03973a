"""Operations the apps' data migrations share (the shared kernel: no app is imported here)."""

from django.db import migrations


def grant_permissions(apps, group_name: str, app_label: str, codenames: list[str]) -> None:
    """Give `group_name` these permissions of `app_label`, for use inside a data migration.

    Permissions are normally created after all migrations ran (post_migrate); on a fresh
    database they do not exist yet, so they are created here first.
    """
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config(app_label)
    previous, app_config.models_module = getattr(app_config, "models_module", None), True
    try:
        create_permissions(app_config, apps=apps, verbosity=0)
    finally:
        app_config.models_module = previous
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=group_name)
    perms = list(
        Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
    )
    missing = set(codenames) - {p.codename for p in perms}
    if missing:
        raise RuntimeError(f"Permissions not found in {app_label}: {sorted(missing)}")
    group.permissions.add(*perms)


def revoke_permissions(apps, group_name: str, app_label: str, codenames: list[str]) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=group_name).first()
    if group:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )


def role_permissions_operation(group_name: str, app_label: str, codenames: list[str]):
    """The RunPython operation of a data migration that gives a role an app's permissions
    (and takes them back when the migration is reversed)."""

    def grant(apps, schema_editor):
        grant_permissions(apps, group_name, app_label, codenames)

    def revoke(apps, schema_editor):
        revoke_permissions(apps, group_name, app_label, codenames)

    return migrations.RunPython(grant, revoke)
