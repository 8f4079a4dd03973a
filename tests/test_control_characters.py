"""API.md: single-line text fields refuse U+0000–U+001F and U+007F with a 400 naming the field,
through the API and at model level (full_clean, which the services and the admin run)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.tests.factories import PASSWORD, StaffFactory, UserFactory
from inventory.models import Category, Product
from inventory.tests.factories import CategoryFactory, ProductFactory
from shop.validators import has_control_characters, no_control_characters

pytestmark = pytest.mark.django_db

BAD = ["a\x00b", "tab\there", "line\nbreak", "\x1b[31mred", "bell\x07", "del\x7f", "end\n"]


@pytest.mark.parametrize("value", BAD)
def test_validator_refuses_control_characters(value):
    assert has_control_characters(value)
    with pytest.raises(ValidationError) as exc:
        no_control_characters(value)
    assert exc.value.code == "control_characters"


@pytest.mark.parametrize("value", ["Ann Lee", "Zoë – 東京 ☕", "", "a b\u00a0c", "x\u2028"])
def test_validator_accepts_ordinary_text(value):
    no_control_characters(value)
    assert not has_control_characters(value)


@pytest.mark.parametrize("value", BAD)
def test_register_full_name_with_control_character_is_400(api_client, value):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "ann@example.com", "password": PASSWORD, "full_name": value},
    )

    assert response.status_code == 400, response.content
    assert list(response.json()) == ["full_name"]
    assert not User.objects.exists()


def test_profile_full_name_with_control_character_is_400(client_for):
    user = UserFactory(full_name="Ann")

    response = client_for(user).patch("/api/v1/auth/me/", {"full_name": "Ann\x1b"})

    assert response.status_code == 400
    assert list(response.json()) == ["full_name"]
    user.refresh_from_db()
    assert user.full_name == "Ann"


@pytest.mark.parametrize("field", ["name", "sku"])
@pytest.mark.parametrize("value", ["Lamp\x07", "Lamp\n"])
def test_product_create_with_control_character_is_400(client_for, field, value):
    staff = StaffFactory(role="inventory")
    category = CategoryFactory()
    body = {"sku": "L-1", "name": "Lamp", "category": category.pk, "price": "9.90"}
    body[field] = value

    response = client_for(staff).post("/api/v1/products/", body)

    assert response.status_code == 400, response.content
    assert list(response.json()) == [field]
    assert not Product.objects.exists()


def test_product_update_with_control_character_is_400(client_for):
    staff = StaffFactory(role="inventory")
    product = ProductFactory(name="Lamp")

    response = client_for(staff).patch(f"/api/v1/products/{product.pk}/", {"name": "La\tmp"})

    assert response.status_code == 400
    assert list(response.json()) == ["name"]
    product.refresh_from_db()
    assert product.name == "Lamp"


@pytest.mark.parametrize("value", ["Books\x1b", "\tBooks"])
def test_category_create_with_control_character_is_400(client_for, value):
    staff = StaffFactory(role="inventory")

    response = client_for(staff).post("/api/v1/categories/", {"name": value})

    assert response.status_code == 400
    assert list(response.json()) == ["name"]
    assert not Category.objects.exists()


@pytest.mark.parametrize("value", ["lamp\x00", "lamp\n", "\x7f"])
def test_product_search_with_control_character_is_400(api_client, value):
    ProductFactory(name="Lamp")

    response = api_client.get("/api/v1/products/", {"search": value})

    assert response.status_code == 400
    assert list(response.json()) == ["search"]


def test_models_refuse_control_characters_in_full_clean():
    category = Category(name="Bo\x07oks")
    product = Product(sku="S\x1b", name="N\x00", category=CategoryFactory(), price=Decimal(1))
    user = User(email="a@example.com", full_name="A\nB")

    for obj, fields in [(category, {"name"}), (product, {"sku", "name"}), (user, {"full_name"})]:
        with pytest.raises(ValidationError) as exc:
            obj.full_clean(exclude=["password"])
        assert fields <= set(exc.value.message_dict)
