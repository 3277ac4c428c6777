"""Issue #12 (web side) on the real web app in-process, with Rasa down where a route needs it.

Rate limits (memory and real Redis on 127.0.0.1:6379), the Host allowlist, HSTS and
``no-store``, the expiring ``__Host-`` session cookie, the crash inputs that used to give a
plain 500, export links, and the ``--demo`` bind check.
"""

from __future__ import annotations

import dataclasses
import ssl
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

from assistant.identity import read_export_link, sign_export_link
from assistant.launcher import StackError, free_port, require_loopback_for_demo
from assistant.settings import Settings, load_settings
from assistant.web.app import create_app
from assistant.web.middlewares import add_security_headers, host_name
from assistant.web.rate_limit import ROUTE_LIMITS, MemoryRateStore, RateLimited, RateLimiter, RedisRateStore, limit_for
from assistant.web.sessions import SECURE_SESSION_COOKIE, SESSION_COOKIE, SESSION_MAX_AGE, read_session, sign_session

WEB_SECRET = "web-secret-for-hardening-tests"
REDIS_URL = "redis://127.0.0.1:6379/0"


def settings_for(tmp_path: Path, **changes: object) -> Settings:
    """A store with its own SQLite file; Rasa's URL is a closed loopback port (Rasa down)."""
    settings = load_settings(tmp_path, env={
        "SHOP_RASA_URL": f"http://127.0.0.1:{free_port()}", "SHOP_EMBEDDING_MODEL": "unused",
        "SHOP_STORE_SECRET": "store-secret", "RASA_AUTH_TOKEN": "rasa-token", "ACTION_SERVER_TOKEN": "unused",
        "GATEWAY_TOKEN": "gateway-token", "SHOP_WEB_SECRET": WEB_SECRET, "SHOP_STOREFRONT_KEY": "storefront-key",
        "SHOP_DATABASE_URL": f"sqlite:///{tmp_path / 'customers.db'}",
    })
    # Test clients connect from loopback, which production exempts from per-address limits.
    return dataclasses.replace(settings, **{"rate_limit_exempt": (), **changes})  # type: ignore[arg-type]


async def started(settings: Settings) -> TestClient:
    client = TestClient(TestServer(create_app(settings, rasa_timeout=2.0)))
    await client.start_server()
    return client


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    client = await started(settings_for(tmp_path))
    yield client
    await client.close()


# -- rate limits -------------------------------------------------------------------------


async def test_a_session_over_its_search_limit_gets_429_with_retry_after(client: TestClient) -> None:
    limit = ROUTE_LIMITS["/api/search"].per_session
    first = await client.get("/api/search", params={"q": ""})  # a 400, but it counts and issues the cookie
    assert first.status == 400
    statuses = [(await client.get("/api/search", params={"q": ""})).status for _ in range(limit - 1)]
    assert set(statuses) == {400}
    refused = await client.get("/api/search", params={"q": ""})
    assert refused.status == 429
    body = await refused.json()
    assert "too many" in body["error"] and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert body["retry_after"] == int(refused.headers["Retry-After"])


async def test_fresh_sessions_still_meet_the_address_limit(client: TestClient) -> None:
    """A client that drops its cookie each time gets a new session, not a new allowance."""
    limit = ROUTE_LIMITS["/api/history"].per_address
    statuses = []
    for _ in range(limit + 1):
        client.session.cookie_jar.clear()
        statuses.append((await client.get("/api/history")).status)
    assert statuses[:limit] == [200] * limit and statuses[limit] == 429


async def test_memory_store_counts_per_window() -> None:
    store = MemoryRateStore(max_keys=2)
    assert [await store.hit("a", 60) for _ in range(3)] == [1, 2, 3]
    assert await store.hit("b", 60) == 1
    assert await store.hit("c", 60) == 1  # over max_keys: the sweep keeps unexpired windows
    assert await store.hit("a", 60) == 4
    assert await store.hit("short", 0) == 1 and await store.hit("short", 0) == 1  # window over at once


async def test_redis_store_shares_counts_between_replicas() -> None:
    """Two web replicas with SHOP_REDIS_URL count one shopper's requests together."""
    first, second = RedisRateStore(REDIS_URL), RedisRateStore(REDIS_URL)
    limit = dataclasses.replace(ROUTE_LIMITS["/api/chat"], per_session=3, per_address=100)
    session = f"s-{uuid.uuid4().hex}"
    try:
        await RateLimiter(first).check(limit, session, "203.0.113.7")
        await RateLimiter(second).check(limit, session, "203.0.113.7")
        await RateLimiter(first).check(limit, session, "203.0.113.7")
        with pytest.raises(RateLimited) as refused:
            await RateLimiter(second).check(limit, session, "203.0.113.7")
        assert 1 <= refused.value.retry_after <= 60
    finally:
        await first.close()
        await second.close()


async def test_app_with_redis_url_limits_across_two_app_instances(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, redis_url=REDIS_URL)
    one, two = await started(settings), await started(settings)
    try:
        first = await one.get("/api/history")
        cookie = first.cookies[SESSION_COOKIE].value
        limit = ROUTE_LIMITS["/api/history"].per_session
        # The shared address counter may hold other tests' hits: count the session only.
        statuses = [(await (one if n % 2 else two).get("/api/history", cookies={SESSION_COOKIE: cookie})).status
                    for n in range(limit)]
        assert 429 in statuses and statuses.index(429) <= limit - 1
    finally:
        await one.close()
        await two.close()


def test_export_links_share_the_export_limit() -> None:
    assert limit_for("/api/me/export/abc.123.sig") is ROUTE_LIMITS["/api/me/export"]
    assert limit_for("/api/chat/stream") is ROUTE_LIMITS["/api/chat/stream"]
    assert limit_for("/healthz") is None and limit_for("/static/widget.js") is None


# -- Host allowlist and headers --------------------------------------------------------------


async def test_unknown_host_is_refused_everywhere(client: TestClient) -> None:
    for path in ("/healthz", "/", "/api/history", "/static/widget.js"):
        response = await client.get(path, headers={"Host": "rebind.attacker.example"})
        assert response.status == 400, path
        assert "host" in (await response.json())["error"]
    assert (await client.get("/healthz", headers={"Host": "localhost:8080"})).status == 200


async def test_allowed_hosts_come_from_settings(tmp_path: Path) -> None:
    client = await started(settings_for(tmp_path, allowed_hosts=("assistant.shop.example",)))
    try:
        assert (await client.get("/healthz", headers={"Host": "assistant.shop.example"})).status == 200
        assert (await client.get("/healthz", headers={"Host": "127.0.0.1"})).status == 400
    finally:
        await client.close()


@pytest.mark.parametrize(("header", "name"), [("a.example:443", "a.example"), ("[::1]:8080", "::1"), ("::1", "::1"),
                                              ("LOCALHOST", "localhost"), ("", "")])
def test_host_name(header: str, name: str) -> None:
    assert host_name(header) == name


async def test_api_answers_are_not_cached_and_plain_http_has_no_hsts(client: TestClient) -> None:
    response = await client.get("/api/history")
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers
    assert "no-store" not in (await client.get("/static/widget.js")).headers.get("Cache-Control", "")


async def test_hsts_over_https() -> None:
    request = make_mocked_request("GET", "/api/history", sslcontext=ssl.create_default_context())
    response = web.Response()
    await add_security_headers(request, response)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.headers["Cache-Control"] == "no-store"


# -- cookies -------------------------------------------------------------------------------


def test_session_cookie_expires_on_the_server() -> None:
    cookie = sign_session("s" * 32, WEB_SECRET, issued=int(time.time()) - SESSION_MAX_AGE - 1)
    assert read_session(cookie, WEB_SECRET) is None
    fresh = sign_session("s" * 32, WEB_SECRET)
    assert read_session(fresh, WEB_SECRET) == "s" * 32
    issued_later = sign_session("s" * 32, WEB_SECRET, issued=int(time.time()) + 3600)
    assert read_session(issued_later, WEB_SECRET) is None
    session_id, issued, signature = fresh.split(".")
    assert read_session(f"{session_id}.{int(issued) + 1}.{signature}", WEB_SECRET) is None  # expiry is signed


async def test_https_cookie_has_the_host_prefix() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response({})

    from assistant.web.sessions import session_middleware

    request = make_mocked_request("GET", "/api/history", sslcontext=ssl.create_default_context())
    response = await session_middleware(WEB_SECRET)(request, handler)
    cookie = response.cookies[SECURE_SESSION_COOKIE]
    assert cookie["secure"] and cookie["path"] == "/" and not cookie["domain"]
    assert SESSION_COOKIE not in response.cookies


# -- inputs that used to crash into a plain 500 -------------------------------------------------


@pytest.mark.parametrize("cookie", ["é", "ü.x", "\u2603" * 40, "a.b.c", "%00", "x" * 5000])
async def test_hostile_session_cookie_is_just_no_session(client: TestClient, cookie: str) -> None:
    for path in ("/healthz", "/api/history", "/"):
        response = await client.get(path, headers={"Cookie": f"{SESSION_COOKIE}={cookie}".encode().decode("latin-1")})
        assert response.status == 200, (path, response.status)


@pytest.mark.parametrize("after", ["--1", "\u00b2", "9" * 5000, "1e3", " 1", "-2", "0x1", "\u0661"])
async def test_bad_after_is_a_clear_400(client: TestClient, after: str) -> None:
    response = await client.get("/api/history", params={"after": after})
    assert response.status == 400
    assert "after" in (await response.json())["error"]


@pytest.mark.parametrize("body", ["[" * 100_000, '{"message":' * 10_000, '{"a":' * 40 + "1" + "}" * 40])
async def test_deeply_nested_json_is_a_clear_400(client: TestClient, body: str) -> None:
    for path in ("/api/chat", "/api/events"):
        headers = {"Content-Type": "application/json", "Authorization": "Bearer storefront-key"}
        response = await client.post(path, data=body.encode(), headers=headers)
        assert response.status == 400, path
        assert "JSON" in (await response.json())["error"]


# -- export links, --demo -------------------------------------------------------------------


def test_export_link_round_trip_and_refusals() -> None:
    link = sign_export_link("C0001", WEB_SECRET, ttl_seconds=60, now=1_000)
    assert read_export_link(link, WEB_SECRET, now=1_059) == "C0001"
    assert read_export_link(link, WEB_SECRET, now=1_060) is None
    assert read_export_link(link, "other-secret", now=1_000) is None
    encoded, expires, signature = link.split(".")
    assert read_export_link(f"{encoded}.{int(expires) + 9999}.{signature}", WEB_SECRET, now=1_000) is None
    assert read_export_link("é.1.x", WEB_SECRET) is None and read_export_link("..", WEB_SECRET) is None


async def test_forged_export_link_is_403(client: TestClient) -> None:
    response = await client.get("/api/me/export/" + sign_export_link("C0001", "not-the-web-secret"))
    assert response.status == 403 and "link" in (await response.json())["error"]
    assert (await client.get("/api/me/export")).status == 401


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "shop.example"])
def test_demo_refuses_a_network_address(host: str) -> None:
    with pytest.raises(StackError, match="loopback"):
        require_loopback_for_demo(host, demo_mode=True)
    require_loopback_for_demo(host, demo_mode=False)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]"])
def test_demo_binds_to_loopback(host: str) -> None:
    require_loopback_for_demo(host, demo_mode=True)


# -- the console queue under a flood ------------------------------------------------------------


async def test_a_flood_of_guest_requests_does_not_hide_a_customer(client: TestClient) -> None:
    """Issue #12 item 5: the console lists 200; a customer's request shows even behind 250 guests'."""
    from assistant.store.models import HandoffRequest
    from assistant.web.keys import STORE
    from assistant.web.live.keys import HANDOFFS

    with client.app[STORE].unit_of_work() as uow:
        uow.customers.upsert("C-flooded", email="flooded@example.com")
        uow.session.add_all(HandoffRequest(sender_id=f"web-flood-{n}", channel="gateway") for n in range(250))
        uow.session.add(HandoffRequest(sender_id="web-customer-C-flooded", customer_id="C-flooded", channel="gateway"))
        uow.commit()
    queue, total = await client.app[HANDOFFS].console_queue()
    assert total == 251 and len(queue) == 200
    assert queue[0].customer_id == "C-flooded"
    assert [handoff.sender_id for handoff in queue[1:3]] == ["web-flood-0", "web-flood-1"]  # then oldest first
