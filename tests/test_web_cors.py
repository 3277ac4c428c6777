"""The widget embedded on a storefront of another origin: CORS, cookies, cross-site refusals.

The web app runs for real on loopback (against the fake Rasa of the gateway tests); the
``Origin`` header is what a browser would send from the storefront's page.
"""

from __future__ import annotations

import dataclasses
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request

from assistant.web.cors import cors_middleware
from assistant.web.sessions import SECURE_SESSION_COOKIE, SESSION_COOKIE
from tests.test_web_gateway import FakeRasa, fake_rasa, gateway, web_settings

STORE = "https://shop.example"
EVIL = "https://evil.example"


@pytest.fixture
async def cors_client(fake_rasa: tuple[FakeRasa, str], tmp_path: Path) -> AsyncIterator[TestClient]:
    settings = dataclasses.replace(web_settings(tmp_path, fake_rasa[1]), allowed_origins=(STORE,))
    client = await gateway(settings)
    yield client
    await client.close()


async def test_preflight_from_an_allowed_storefront(cors_client: TestClient) -> None:
    response = await cors_client.options(
        "/api/chat",
        headers={"Origin": STORE, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"},
    )
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == STORE
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert SESSION_COOKIE not in response.cookies


async def test_chat_from_an_allowed_storefront_is_readable(cors_client: TestClient, fake_rasa: tuple[FakeRasa, str]) -> None:
    response = await cors_client.post("/api/chat", json={"message": "hi"}, headers={"Origin": STORE})
    assert response.status == 200
    assert (await response.json())["messages"] == [{"text": "echo: hi"}]
    assert response.headers["Access-Control-Allow-Origin"] == STORE
    assert "Origin" in response.headers.getall("Vary")
    # Plain http (this test server): the cookie keeps SameSite=Lax; None needs Secure, so https.
    assert response.cookies[SESSION_COOKIE]["samesite"] == "Lax"


async def test_chat_from_another_site_is_refused_before_it_reaches_rasa(
    cors_client: TestClient, fake_rasa: tuple[FakeRasa, str]
) -> None:
    response = await cors_client.post("/api/chat", json={"message": "cancel my order"}, headers={"Origin": EVIL})
    assert response.status == 403
    assert (await response.json())["error"] == "requests from this website are not allowed"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert fake_rasa[0].webhook_calls == []


async def test_reads_from_another_site_get_no_cors_headers(cors_client: TestClient) -> None:
    response = await cors_client.get("/api/history", headers={"Origin": EVIL})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = await cors_client.options("/api/chat", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers


async def test_websocket_from_another_site_is_refused(cors_client: TestClient) -> None:
    response = await cors_client.get(
        "/api/chat/stream",
        headers={"Origin": EVIL, "Connection": "Upgrade", "Upgrade": "websocket",
                 "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="},
    )
    assert response.status == 403


async def test_same_origin_and_originless_requests_are_unaffected(cors_client: TestClient) -> None:
    own = str(cors_client.make_url("/")).rstrip("/")
    response = await cors_client.post("/api/chat", json={"message": "hi"}, headers={"Origin": own})
    assert response.status == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert (await cors_client.post("/api/chat", json={"message": "hi"})).status == 200


async def test_storefront_page_and_static_files_get_no_cors_headers(cors_client: TestClient) -> None:
    response = await cors_client.get("/static/widget.js", headers={"Origin": STORE})
    assert response.status == 200
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(("origin", "samesite", "secure"), [(STORE, "None", True), (EVIL, "Lax", True)])
async def test_session_cookie_is_samesite_none_only_for_allowed_origins_over_https(
    origin: str, samesite: str, secure: bool
) -> None:
    async def handler(request: web.Request) -> web.Response:
        response = web.json_response({"history": []})
        response.set_cookie(SECURE_SESSION_COOKIE, "id.signature", httponly=True, samesite="Lax", secure=request.secure)
        return response

    request = make_mocked_request(
        "GET", "/api/history", headers={"Origin": origin, "Host": "assistant.example"},
        sslcontext=ssl.create_default_context(),
    )
    response = await cors_middleware([STORE])(request, handler)
    cookie = response.cookies[SECURE_SESSION_COOKIE]  # over https: the __Host- name
    assert (cookie["samesite"], bool(cookie["secure"])) == (samesite, secure)
