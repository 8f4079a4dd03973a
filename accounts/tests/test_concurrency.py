"""A refresh token redeemed by concurrent requests: real threads, real transactions."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

REFRESH = "/api/v1/auth/refresh/"


def test_refresh_concurrent_same_token_works_for_exactly_one(monkeypatch):
    """Finding 3: every request passes the blacklist check before any of them redeems the
    token (the barrier holds them there), the widest window the race can have."""
    requests = 4
    at_check = threading.Barrier(requests, timeout=10)
    check_blacklist = RefreshToken.check_blacklist

    def check_then_wait(self):
        check_blacklist(self)
        at_check.wait()

    monkeypatch.setattr(RefreshToken, "check_blacklist", check_then_wait)
    token = str(RefreshToken.for_user(UserFactory()))

    def refresh():
        try:
            return APIClient().post(REFRESH, {"refresh": token}, format="json")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=requests) as pool:
        responses = list(pool.map(lambda _: refresh(), range(requests)))

    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [401] * (requests - 1), [r.content for r in responses]
    assert BlacklistedToken.objects.count() == 1
    # the one new refresh token is the only one not revoked
    assert OutstandingToken.objects.filter(blacklistedtoken__isnull=True).count() == 1
