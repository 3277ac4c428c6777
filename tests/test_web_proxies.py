"""Trusted proxies (issue #11) on the real web app in-process: X-Forwarded-* believed from a
peer in SHOP_TRUSTED_PROXIES (the test client connects from 127.0.0.1) and ignored from
anyone else. The same checks through HAProxy are in tests/test_production_stack.py."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from assistant.web.proxies import client_address
from assistant.web.rate_limit import ROUTE_LIMITS
from assistant.web.sessions import SECURE_SESSION_COOKIE, SESSION_COOKIE
from tests.test_web_hardening import settings_for, started

STORE_HOST = "assistant.shop.example"
FORWARDED_HTTPS = {
    "X-Forwarded-Proto": "https", "X-Forwarded-Host": STORE_HOST, "X-Forwarded-For": "203.0.113.7",
    "Origin": f"https://{STORE_HOST}",
}
LOOPBACK = (ipaddress.ip_network("127.0.0.1/32"),)


def _set_cookie(response: object) -> str:
    return ", ".join(response.headers.getall("Set-Cookie", []))  # type: ignore[attr-defined]


async def test_behind_a_trusted_proxy_https_posts_are_own_origin_and_cookies_secure(tmp_path: Path) -> None:
    client = await started(settings_for(tmp_path, trusted_proxies=LOOPBACK, allowed_hosts=(STORE_HOST,)))
    try:
        response = await client.post("/api/chat", json={"message": ""}, headers=FORWARDED_HTTPS)
        assert response.status == 400  # the empty message is refused, not the request's origin
        assert "origin" not in (await response.json())["error"] and "website" not in (await response.json())["error"]
        cookie = _set_cookie(response)
        assert cookie.startswith(f"{SECURE_SESSION_COOKIE}=") and "Secure" in cookie
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        # the forwarded Host is the one checked against SHOP_ALLOWED_HOSTS
        assert (await client.get("/healthz", headers={**FORWARDED_HTTPS, "X-Forwarded-Host": "evil.example"})).status == 400
    finally:
        await client.close()


async def test_the_same_headers_from_an_untrusted_peer_are_ignored(tmp_path: Path) -> None:
    untrusted = (ipaddress.ip_network("10.0.0.0/8"),)
    client = await started(settings_for(tmp_path, trusted_proxies=untrusted, allowed_hosts=(STORE_HOST, "127.0.0.1")))
    try:
        response = await client.post("/api/chat", json={"message": ""}, headers=FORWARDED_HTTPS)
        assert response.status == 403  # https://assistant.shop.example is not this plain-http origin
        page = await client.get("/", headers=FORWARDED_HTTPS)
        cookie = _set_cookie(page)
        assert cookie.startswith(f"{SESSION_COOKIE}=") and "Secure" not in cookie
        assert "Strict-Transport-Security" not in page.headers
    finally:
        await client.close()


async def test_rate_limits_see_the_forwarded_client_not_the_proxy(tmp_path: Path) -> None:
    """Loopback (where the balancer runs) is exempt from per-address limits; the shopper it
    forwards for is not, and two shoppers behind it have separate allowances."""
    client = await started(settings_for(tmp_path, trusted_proxies=LOOPBACK, rate_limit_exempt=("127.0.0.1",)))
    try:
        limit = ROUTE_LIMITS["/api/history"].per_address
        statuses = []
        for _ in range(limit + 1):
            client.session.cookie_jar.clear()
            statuses.append((await client.get("/api/history", headers={"X-Forwarded-For": "203.0.113.7"})).status)
        assert statuses[:limit] == [200] * limit and statuses[limit] == 429
        client.session.cookie_jar.clear()
        assert (await client.get("/api/history", headers={"X-Forwarded-For": "203.0.113.8"})).status == 200
    finally:
        await client.close()


@pytest.mark.parametrize(("header", "client"), [
    ("203.0.113.7", "203.0.113.7"),
    ("198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the left entry was written by the client: not believed
    ("203.0.113.7, 127.0.0.1", "203.0.113.7"),  # a second trusted hop is skipped
    ("not-an-address", "127.0.0.1"),
    ("[2001:db8::1]", "2001:db8::1"),
])
def test_client_address_walks_from_the_nearest_proxy(header: str, client: str) -> None:
    assert client_address(header, "127.0.0.1", LOOPBACK) == client
