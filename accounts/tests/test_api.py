import re

import pytest
from django.contrib.auth.models import Group
from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import PASSWORD, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
LOGIN = "/api/v1/auth/login/"
REFRESH = "/api/v1/auth/refresh/"
LOGOUT = "/api/v1/auth/logout/"
LOGOUT_ALL = "/api/v1/auth/logout-all/"
ME = "/api/v1/auth/me/"
PASSWORD_URL = "/api/v1/auth/password/"
NEW_PASSWORD = "Another-Strong-Pass-77"


def login(api_client, email, password=PASSWORD):
    return api_client.post(LOGIN, {"email": email, "password": password})


def bearer(client, access):
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


# --- register -------------------------------------------------------------------------------


def test_register_creates_customer(api_client):
    response = api_client.post(
        REGISTER, {"email": "Ann@Example.com", "password": PASSWORD, "full_name": " Ann Lee "}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "email", "full_name"}
    user = User.objects.get(pk=body["id"])
    assert user.email == "Ann@example.com"
    assert user.full_name == "Ann Lee"
    assert user.check_password(PASSWORD)
    assert not user.is_staff and not user.is_superuser
    assert login(api_client, "ann@example.com").status_code == 200


def test_register_taken_email_any_case_is_400(api_client, customer):
    response = api_client.post(
        REGISTER, {"email": customer.email.upper(), "password": PASSWORD, "full_name": "X"}
    )

    assert response.status_code == 400
    assert "email" in response.json()
    assert User.objects.count() == 1


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "ann@example.com"])
def test_register_weak_password_is_400(api_client, password):
    response = api_client.post(
        REGISTER, {"email": "ann@example.com", "password": password, "full_name": "Ann"}
    )

    assert response.status_code == 400
    assert "password" in response.json()
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"password": PASSWORD}, "email"),
        ({"email": "ann@example.com"}, "password"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": ["a@b.com"], "password": PASSWORD}, "email"),
        ({"email": "ann@example.com", "password": PASSWORD, "full_name": "x" * 151}, "full_name"),
        ({"email": "a" * 250 + "@example.com", "password": PASSWORD}, "email"),
        ({"email": "ann@example.com", "password": {"nested": 1}}, "password"),
    ],
)
def test_register_bad_fields_are_400_with_field_errors(api_client, payload, field):
    response = api_client.post(REGISTER, payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not User.objects.exists()


def test_register_server_owned_fields_are_ignored(api_client):
    response = api_client.post(
        REGISTER,
        {"email": "eve@example.com", "password": PASSWORD, "is_staff": True, "is_superuser": True},
    )

    assert response.status_code == 201
    user = User.objects.get(email="eve@example.com")
    assert not user.is_staff and not user.is_superuser


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b""])
def test_malformed_json_is_400(api_client, body):
    response = api_client.generic("POST", REGISTER, body, content_type="application/json")

    assert response.status_code == 400
    assert not User.objects.exists()


def test_unsupported_media_type_is_415(api_client):
    response = api_client.generic("POST", REGISTER, b"email=a", content_type="text/plain")

    assert response.status_code == 415


# --- login ----------------------------------------------------------------------------------


def test_login_case_insensitive_email_returns_working_tokens(api_client, customer):
    response = login(api_client, customer.email.upper())

    assert response.status_code == 200
    me = bearer(api_client, response.json()["access"]).get(ME)
    assert me.status_code == 200
    assert me.json()["email"] == customer.email


def test_login_wrong_password_is_401(api_client, customer):
    assert login(api_client, customer.email, "wrong-password").status_code == 401


def test_login_unknown_email_is_401(api_client):
    assert login(api_client, "nobody@example.com").status_code == 401


def test_login_inactive_account_is_401(api_client):
    user = UserFactory(is_active=False)
    assert login(api_client, user.email).status_code == 401


def test_login_missing_fields_is_400(api_client):
    response = api_client.post(LOGIN, {"email": "a@example.com"})

    assert response.status_code == 400
    assert "password" in response.json()


# --- refresh and logout ---------------------------------------------------------------------


def test_refresh_rotates_and_revokes_the_old_token(api_client, customer):
    first = login(api_client, customer.email).json()

    response = api_client.post(REFRESH, {"refresh": first["refresh"]})

    assert response.status_code == 200
    second = response.json()
    assert set(second) == {"access", "refresh"}
    assert second["refresh"] != first["refresh"]
    # The rotated token is dead; the new one works.
    assert api_client.post(REFRESH, {"refresh": first["refresh"]}).status_code == 401
    assert api_client.post(REFRESH, {"refresh": second["refresh"]}).status_code == 200


def test_refresh_garbage_token_is_401(api_client):
    assert api_client.post(REFRESH, {"refresh": "not-a-token"}).status_code == 401


def test_refresh_missing_field_is_400(api_client):
    assert api_client.post(REFRESH, {}).status_code == 400


def test_logout_revokes_that_refresh_token_only(api_client, customer):
    phone = login(api_client, customer.email).json()
    laptop = login(api_client, customer.email).json()

    response = api_client.post(LOGOUT, {"refresh": phone["refresh"]})

    assert response.status_code == 204
    assert api_client.post(REFRESH, {"refresh": phone["refresh"]}).status_code == 401
    assert api_client.post(REFRESH, {"refresh": laptop["refresh"]}).status_code == 200


def test_logout_twice_is_401(api_client, customer):
    tokens = login(api_client, customer.email).json()
    api_client.post(LOGOUT, {"refresh": tokens["refresh"]})

    assert api_client.post(LOGOUT, {"refresh": tokens["refresh"]}).status_code == 401


def test_logout_all_revokes_every_refresh_token_including_rotated_ones(api_client, customer):
    phone = login(api_client, customer.email).json()
    laptop = login(api_client, customer.email).json()
    rotated = api_client.post(REFRESH, {"refresh": laptop["refresh"]}).json()

    response = bearer(api_client, phone["access"]).post(LOGOUT_ALL)

    assert response.status_code == 204
    api_client.credentials()
    for refresh in (phone["refresh"], rotated["refresh"]):
        assert api_client.post(REFRESH, {"refresh": refresh}).status_code == 401


def test_logout_all_leaves_other_accounts_alone(api_client, customer):
    other = UserFactory()
    theirs = login(api_client, other.email).json()
    mine = login(api_client, customer.email).json()

    bearer(api_client, mine["access"]).post(LOGOUT_ALL)

    api_client.credentials()
    assert api_client.post(REFRESH, {"refresh": theirs["refresh"]}).status_code == 200


def test_logout_all_needs_authentication(api_client):
    assert api_client.post(LOGOUT_ALL).status_code == 401


# --- me -------------------------------------------------------------------------------------


def test_me_returns_profile(client_for, customer):
    response = client_for(customer).get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": customer.pk,
        "email": customer.email,
        "full_name": customer.full_name,
        "date_joined": customer.date_joined.isoformat().replace("+00:00", "Z"),
    }


def test_me_anonymous_is_401(api_client):
    assert api_client.get(ME).status_code == 401


def test_me_with_invalid_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer nonsense")
    assert api_client.get(ME).status_code == 401


def test_me_patch_updates_own_fields(client_for, customer):
    response = client_for(customer).patch(ME, {"full_name": "New Name", "email": "new@example.com"})

    assert response.status_code == 200
    assert response.json()["full_name"] == "New Name"
    customer.refresh_from_db()
    assert (customer.full_name, customer.email) == ("New Name", "new@example.com")


def test_me_patch_cannot_make_itself_staff(client_for, customer):
    response = client_for(customer).patch(
        ME, {"is_staff": True, "is_superuser": True, "is_active": False, "id": 999}
    )

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.is_staff is False
    assert customer.is_superuser is False
    assert customer.is_active is True
    assert customer.groups.count() == 0


def test_me_patch_taken_email_any_case_is_400(client_for, customer):
    other = UserFactory()
    response = client_for(customer).patch(ME, {"email": other.email.upper()})

    assert response.status_code == 400
    assert "email" in response.json()
    customer.refresh_from_db()
    assert customer.email != other.email


def test_me_patch_same_email_other_case_is_allowed(client_for, customer):
    response = client_for(customer).patch(ME, {"email": customer.email.upper()})

    assert response.status_code == 200


@pytest.mark.parametrize("payload", [{"email": "nope"}, {"full_name": "x" * 151}, {"email": 5}])
def test_me_patch_bad_input_is_400(client_for, customer, payload):
    before = (customer.email, customer.full_name)
    response = client_for(customer).patch(ME, payload)

    assert response.status_code == 400
    customer.refresh_from_db()
    assert (customer.email, customer.full_name) == before


# --- password -------------------------------------------------------------------------------


def test_password_change_revokes_refresh_and_access_tokens(api_client, customer):
    tokens = login(api_client, customer.email).json()
    other_device = login(api_client, customer.email).json()

    response = bearer(api_client, tokens["access"]).post(
        PASSWORD_URL, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 204
    assert api_client.get(ME).status_code == 401  # old access token no longer valid
    api_client.credentials()
    for refresh in (tokens["refresh"], other_device["refresh"]):
        assert api_client.post(REFRESH, {"refresh": refresh}).status_code == 401
    assert login(api_client, customer.email).status_code == 401
    assert login(api_client, customer.email, NEW_PASSWORD).status_code == 200


def test_password_change_wrong_current_is_400_and_changes_nothing(client_for, customer):
    response = client_for(customer).post(
        PASSWORD_URL, {"current_password": "wrong", "new_password": NEW_PASSWORD}
    )

    assert response.status_code == 400
    assert "current_password" in response.json()
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


def test_password_change_weak_new_password_is_400(client_for, customer):
    response = client_for(customer).post(
        PASSWORD_URL, {"current_password": PASSWORD, "new_password": "123"}
    )

    assert response.status_code == 400
    assert "new_password" in response.json()
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


# --- account deletion -----------------------------------------------------------------------


def test_delete_account_erases_personal_data_and_blocks_login(api_client, customer):
    tokens = login(api_client, customer.email).json()
    email = customer.email

    response = bearer(api_client, tokens["access"]).delete(ME, {"password": PASSWORD})

    assert response.status_code == 204
    customer.refresh_from_db()
    assert customer.is_active is False
    assert customer.email != email and customer.email.endswith("@deleted.invalid")
    assert customer.full_name == ""
    assert not customer.has_usable_password()
    assert customer.deleted_at is not None
    api_client.credentials()
    assert login(api_client, email).status_code == 401
    assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}).status_code == 401
    assert bearer(api_client, tokens["access"]).get(ME).status_code == 401
    # The address is free again for a new account.
    api_client.credentials()
    assert api_client.post(REGISTER, {"email": email, "password": PASSWORD}).status_code == 201


def test_delete_account_wrong_password_is_400_and_changes_nothing(client_for, customer):
    response = client_for(customer).delete(ME, {"password": "wrong"})

    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.is_active and customer.deleted_at is None


def test_delete_account_of_staff_drops_roles(client_for):
    staff = StaffFactory(role="orders")

    assert client_for(staff).delete(ME, {"password": PASSWORD}).status_code == 204
    staff.refresh_from_db()
    assert not staff.is_staff and staff.groups.count() == 0


# --- throttling -----------------------------------------------------------------------------


def test_auth_endpoints_are_throttled(api_client, customer, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})

    codes = [login(api_client, customer.email, "wrong").status_code for _ in range(4)]

    assert codes == [401, 401, 401, 429]
    assert "Retry-After" in login(api_client, customer.email)


def test_default_auth_rate_comes_from_settings(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["auth"] == "10/min"


# --- tokens in the blacklist ----------------------------------------------------------------


def test_rotated_token_is_recorded_in_the_blacklist(api_client, customer):
    refresh = str(RefreshToken.for_user(customer))

    api_client.post(REFRESH, {"refresh": refresh})

    assert BlacklistedToken.objects.filter(token__user=customer).count() == 1


def test_roles_exist_after_migrate():
    names = set(Group.objects.values_list("name", flat=True))
    assert {"Inventory managers", "Order managers", "Analysts"} <= names


def _victim_address(user):
    return f"deleted-{user.pk}@deleted.invalid"


def test_delete_account_succeeds_whatever_another_account_registered(api_client, client_for):
    """Finding 1: registering the address a deletion used to write made it fail (500)."""
    victim = UserFactory()
    taken = api_client.post(
        REGISTER, {"email": _victim_address(victim), "password": PASSWORD, "full_name": "X"}
    )
    assert taken.status_code == 201

    response = client_for(victim).delete(ME, {"password": PASSWORD})

    assert response.status_code == 204
    victim.refresh_from_db()
    assert not victim.is_active and victim.deleted_at is not None
    assert victim.email.endswith("@deleted.invalid")
    assert victim.email.lower() != _victim_address(victim)


def test_delete_account_succeeds_after_another_account_took_the_address_by_patch(client_for):
    victim, attacker = UserFactory(), UserFactory()
    patched = client_for(attacker).patch(ME, {"email": _victim_address(victim)})
    assert patched.status_code == 200

    assert client_for(victim).delete(ME, {"password": PASSWORD}).status_code == 204
    victim.refresh_from_db()
    assert not victim.is_active


def test_deleted_accounts_get_distinct_unguessable_addresses(client_for):
    users = UserFactory.create_batch(3)
    for user in users:
        assert client_for(user).delete(ME, {"password": PASSWORD}).status_code == 204

    emails = {User.objects.get(pk=user.pk).email for user in users}
    assert len(emails) == 3
    # 128 random bits, not the id
    assert all(re.fullmatch(r"deleted-[0-9a-f]{32}@deleted\.invalid", email) for email in emails)


def test_token_answers_are_never_stored(api_client, customer):
    login_response = login(api_client, customer.email)
    refresh_response = api_client.post(REFRESH, {"refresh": login_response.json()["refresh"]})

    for response in (login_response, refresh_response):
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
    failed = login(api_client, customer.email, "wrong")
    assert "no-store" in failed["Cache-Control"]
