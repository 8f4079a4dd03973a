"""Who is asking: the client address behind trusted proxies, and the admin login's lockout page.

One rule for the address everywhere: DRF's throttles (NUM_PROXIES) and django-axes (the admin
lockout) both take it from here, as TRUSTED_PROXY_COUNT says.
"""

from django.contrib import admin
from django.shortcuts import render
from rest_framework.throttling import BaseThrottle


def client_address(request) -> str:
    """The client's address: with TRUSTED_PROXY_COUNT=N (DRF's NUM_PROXIES) the entry N places
    from the right of X-Forwarded-For; with 0 the header is ignored and REMOTE_ADDR counts."""
    return BaseThrottle().get_ident(request)


def admin_login_username(request, credentials=None) -> str:
    """The email an admin login attempt is for, lower-cased (emails are case-insensitive, so
    `Ann@x` and `ann@x` share one count)."""
    data = credentials if credentials is not None else getattr(request, "POST", {})
    return (data.get("username") or "").strip().lower()


def admin_lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out admin login: an admin page saying why and for how
    long, with status 429."""
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else None
    context = {
        **admin.site.each_context(request),
        "title": "Too many failed logins",
        "minutes": minutes,
    }
    return render(request, "admin/lockout.html", context, status=429)
