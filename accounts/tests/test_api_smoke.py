import pytest

from accounts.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_returns_token_pair(api_client, customer):
    response = api_client.post(
        "/api/v1/auth/login/", {"email": customer.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"access", "refresh"}


def test_me_with_token(client_for, inventory_manager):
    response = client_for(inventory_manager).get("/api/v1/auth/me/")
    assert response.status_code == 200
    assert response.json()["email"] == inventory_manager.email
    assert inventory_manager.groups.get().name == "Inventory managers"
