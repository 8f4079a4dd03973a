"""Refreshing a token has its own throttle scope: a normal hour of use never hits login's."""

import pytest
from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login/"
REFRESH = "/api/v1/auth/refresh/"


def test_refresh_has_its_own_looser_scope_and_login_stays_strict(api_client, customer, monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "2/min", "refresh": "5/min"})
    logins = [
        api_client.post(LOGIN, {"email": customer.email, "password": "wrong"}).status_code
        for _ in range(3)
    ]
    refresh = str(RefreshToken.for_user(customer))
    refreshes = []
    for _ in range(6):
        response = api_client.post(REFRESH, {"refresh": refresh})
        refreshes.append(response.status_code)
        if response.status_code == 200:
            refresh = response.json()["refresh"]

    assert logins == [401, 401, 429]
    assert refreshes == [200, 200, 200, 200, 200, 429]


def test_refresh_rate_defaults_to_sixty_a_minute(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]

    assert rates["refresh"] == "60/min"
    assert rates["auth"] == "10/min"
