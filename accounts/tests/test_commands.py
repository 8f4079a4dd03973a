import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_create_staff_noinput_reads_password_from_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_STAFF_PASSWORD", PASSWORD)

    call_command("create_staff", "--email", "Clerk@Example.com", "--role", "inventory", "--noinput")

    user = User.objects.get(email__iexact="clerk@example.com")
    assert user.is_staff and not user.is_superuser and user.is_active
    assert user.check_password(PASSWORD)
    assert list(user.groups.values_list("name", flat=True)) == ["Inventory managers"]
    assert user.has_perm("inventory.change_product")
    assert not user.has_perm("orders.change_order")


def test_create_staff_updates_existing_account_role(monkeypatch):
    monkeypatch.setenv("DJANGO_STAFF_PASSWORD", PASSWORD)
    existing = UserFactory(email="sam@example.com")

    call_command("create_staff", "--email", "SAM@example.com", "--role", "orders", "--noinput")

    existing.refresh_from_db()
    assert existing.is_staff
    assert list(existing.groups.values_list("name", flat=True)) == ["Order managers"]
    assert User.objects.count() == 1


def test_create_staff_unknown_role_fails():
    with pytest.raises(CommandError):
        call_command("create_staff", "--email", "x@example.com", "--role", "boss", "--noinput")
    assert not User.objects.exists()


def test_create_staff_weak_password_fails(monkeypatch):
    monkeypatch.setenv("DJANGO_STAFF_PASSWORD", "123")

    with pytest.raises(CommandError, match="password"):
        call_command("create_staff", "--email", "x@example.com", "--role", "orders", "--noinput")
    assert not User.objects.exists()


def test_create_staff_role_whose_group_was_renamed_fails_in_one_line_and_changes_nothing(
    monkeypatch,
):
    """An administrator renamed the role's group: was Group.DoesNotExist and a traceback."""
    from django.contrib.auth.models import Group

    Group.objects.filter(name="Analysts").update(name="Analytics team")
    customer = UserFactory(email="pat@example.com")
    monkeypatch.setenv("DJANGO_STAFF_PASSWORD", PASSWORD)

    with pytest.raises(CommandError) as exc:
        call_command(
            "create_staff", "--email", "pat@example.com", "--role", "analytics", "--noinput"
        )

    assert str(exc.value).startswith("role: The group 'Analysts' of the role 'analytics' does not")
    assert "\n" not in str(exc.value)
    customer.refresh_from_db()
    assert not customer.is_staff and not customer.groups.exists()


def test_createsuperuser_noinput_by_email(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "root@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)

    call_command("createsuperuser", "--noinput")

    user = User.objects.get(email="root@example.com")
    assert user.is_superuser and user.is_staff and user.check_password(PASSWORD)


def test_seed_demo_runs_once(capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    users = User.objects.count()

    call_command("seed_demo")
    second = capsys.readouterr().out

    assert "admin@example.com" in first
    assert User.objects.filter(email="admin@example.com", is_superuser=True).exists()
    assert User.objects.count() == users
    assert "already" in second


def test_seed_demo_into_a_catalog_without_accounts_adds_nothing(tmp_path, capsys):
    """A catalog imported before any account: the demo is not mixed into it (nor does it fail
    on a category name both have, which was 'Database error: duplicate key value …')."""
    from inventory.models import Category, Product

    sheet = tmp_path / "products.csv"
    sheet.write_text("sku,name,category,price,cost,quantity\nB-1,My Novel,Books,9.90,4.00,3\n")
    call_command("import_products", str(sheet))
    capsys.readouterr()

    call_command("seed_demo")

    assert "already has categories: demo data not added" in capsys.readouterr().out
    assert list(Product.objects.values_list("sku", flat=True)) == ["B-1"]
    assert list(Category.objects.values_list("name", flat=True)) == ["Books"]
    assert not User.objects.exists()
