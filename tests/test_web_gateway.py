"""The web gateway against a fake Rasa: a real aiohttp app on a loopback port.

The fake records every request it receives, so the tests check what really crosses the
wire: the sender id the gateway derived, the gateway token, the customer token.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from assistant.identity import sign_customer_token, verify_customer_token
from assistant.launcher import free_port
from assistant.settings import Settings, load_settings
from assistant.web.app import create_app
from assistant.web.sessions import SESSION_COOKIE, read_session, sign_session

GATEWAY_TOKEN = "gateway-token-for-tests"
RASA_TOKEN = "rasa-api-token-for-tests"
STORE_SECRET = "store-secret-for-tests"
WEB_SECRET = "web-secret-for-tests"

SHOES_REPLY = [
    {
        "text": "Here are some shoes:",
        "custom": {
            "type": "products",
            "products": [
                {"id": "P00001", "title": "Red Runner", "price": 79.99, "currency": "USD",
                 "image_url": "https://img.example/P00001.jpg", "rating": 4.3, "in_stock": True},
                {"id": "P00002", "title": "Blue Trail", "price": 64.5, "currency": "USD",
                 "image_url": None, "rating": None, "in_stock": False},
            ],
        },
    },
    {"text": "Want more?", "buttons": [{"title": "Show more", "payload": "/show_more"}]},
]


class FakeRasa:
    """Rasa's gateway channel and tracker endpoint, with the real ones' token checks."""

    def __init__(self) -> None:
        self.webhook_calls: list[dict[str, Any]] = []
        self.tracker_calls: list[str] = []
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.stall = False
        self.fail = False
        self.release = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self.root)
        app.router.add_post("/webhooks/gateway/webhook", self.webhook)
        app.router.add_get("/conversations/{sender}/tracker", self.tracker)
        return app

    async def root(self, request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa: fake")

    async def webhook(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {GATEWAY_TOKEN}":
            return web.json_response({"error": "unauthorized"}, status=401)
        body = await request.json()
        self.webhook_calls.append({"headers": dict(request.headers), "body": body})
        if self.stall:
            await self.release.wait()
        if self.fail:
            return web.json_response({"error": "boom"}, status=500)
        sender, text = body["sender"], body["message"]
        replies = SHOES_REPLY if text == "shoes" else [{"text": f"echo: {text}"}]
        events = self.events.setdefault(sender, [{"event": "action", "name": "action_listen", "timestamp": 1.0}])
        events.append({"event": "user", "text": text, "timestamp": time.time()})
        for reply in replies:
            data = {"buttons": reply.get("buttons"), "custom": reply.get("custom")}
            events.append({"event": "bot", "text": reply.get("text"), "data": data, "timestamp": time.time()})
        return web.json_response([{"recipient_id": sender, **reply} for reply in replies])

    async def tracker(self, request: web.Request) -> web.Response:
        if request.query.get("token") != RASA_TOKEN:
            return web.json_response({"error": "unauthorized"}, status=401)
        sender = request.match_info["sender"]
        self.tracker_calls.append(sender)
        return web.json_response({"sender_id": sender, "events": self.events.get(sender, [])})


def web_settings(data_dir: Path, rasa_url: str, embedding_model: str = "unused-by-these-tests") -> Settings:
    """Settings with fixed test secrets, pointing at ``rasa_url``; nothing from var/."""
    return load_settings(
        data_dir,
        env={
            "SHOP_RASA_URL": rasa_url,
            "SHOP_EMBEDDING_MODEL": embedding_model,
            "SHOP_STORE_SECRET": STORE_SECRET,
            "RASA_AUTH_TOKEN": RASA_TOKEN,
            "ACTION_SERVER_TOKEN": "unused",
            "GATEWAY_TOKEN": GATEWAY_TOKEN,
            "SHOP_WEB_SECRET": WEB_SECRET,
        },
    )


@pytest.fixture
async def fake_rasa() -> AsyncIterator[tuple[FakeRasa, str]]:
    fake = FakeRasa()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("/")).rstrip("/")
    fake.release.set()
    await server.close()


async def gateway(settings: Settings, demo_mode: bool = False, rasa_timeout: float = 5.0) -> TestClient:
    client = TestClient(TestServer(create_app(settings, demo_mode=demo_mode, rasa_timeout=rasa_timeout)))
    await client.start_server()
    return client


@pytest.fixture
async def client(fake_rasa: tuple[FakeRasa, str], tmp_path: Path) -> AsyncIterator[TestClient]:
    client = await gateway(web_settings(tmp_path, fake_rasa[1]))
    yield client
    await client.close()


def token_for(customer_id: str, ttl: int = 3600, now: float | None = None) -> str:
    return sign_customer_token(customer_id, STORE_SECRET, ttl_seconds=ttl, now=now)


async def test_chat_derives_sender_and_sends_gateway_token(client: TestClient, fake_rasa: tuple[FakeRasa, str]) -> None:
    fake, _ = fake_rasa
    response = await client.post("/api/chat", json={"message": "  hello  ", "sender": "someone-else"})
    assert response.status == 200
    assert await response.json() == {"messages": [{"text": "echo: hello"}]}
    (call,) = fake.webhook_calls
    assert call["headers"]["Authorization"] == f"Bearer {GATEWAY_TOKEN}"
    assert call["body"]["message"] == "hello"
    assert call["body"]["metadata"] == {"channel": "web", "request_id": response.headers["X-Request-ID"]}
    assert re.fullmatch(r"web-[0-9a-f]{32}", call["body"]["sender"])
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert read_session(cookie.value, WEB_SECRET) is not None


async def test_same_session_same_sender_new_visitor_new_sender(
    client: TestClient, fake_rasa: tuple[FakeRasa, str], tmp_path: Path
) -> None:
    fake, rasa_url = fake_rasa
    await client.post("/api/chat", json={"message": "one"})
    await client.post("/api/chat", json={"message": "two"})
    other = await gateway(web_settings(tmp_path, rasa_url))
    try:
        await other.post("/api/chat", json={"message": "three"})
    finally:
        await other.close()
    senders = [call["body"]["sender"] for call in fake.webhook_calls]
    assert senders[0] == senders[1] != senders[2]


async def test_forged_session_cookie_is_replaced(client: TestClient, fake_rasa: tuple[FakeRasa, str]) -> None:
    forged = "chosen-session-id." + "0" * 32
    assert read_session(forged, WEB_SECRET) is None
    assert read_session(sign_session("chosen-session-id", "another-secret"), WEB_SECRET) is None
    response = await client.post("/api/chat", json={"message": "hi"}, cookies={SESSION_COOKIE: forged})
    assert response.status == 200
    issued = response.cookies[SESSION_COOKIE].value
    assert issued != forged and read_session(issued, WEB_SECRET) not in (None, "chosen-session-id")


@pytest.mark.parametrize("where", ["header", "body"])
async def test_customer_token_is_verified_and_forwarded(
    client: TestClient, fake_rasa: tuple[FakeRasa, str], where: str
) -> None:
    fake, _ = fake_rasa
    token = token_for("C0001")
    if where == "header":
        response = await client.post("/api/chat", json={"message": "hi"}, headers={"Authorization": f"Bearer {token}"})
    else:
        response = await client.post("/api/chat", json={"message": "hi", "customer_token": token})
    assert response.status == 200
    (call,) = fake.webhook_calls
    assert call["body"]["sender"] == "web-customer-C0001"
    assert call["body"]["metadata"] == {"channel": "web", "customer_token": token, "request_id": response.headers["X-Request-ID"]}
    assert verify_customer_token(call["body"]["metadata"]["customer_token"], STORE_SECRET) == "C0001"


@pytest.mark.parametrize(
    "token",
    [
        sign_customer_token("C0001", "not-the-store-secret"),
        token_for("C0001", ttl=60, now=time.time() - 3600),
        token_for("C0001")[:-2] + "AA",
        "garbage",
    ],
    ids=["forged", "expired", "tampered", "garbage"],
)
async def test_bad_customer_token_is_refused(client: TestClient, fake_rasa: tuple[FakeRasa, str], token: str) -> None:
    fake, _ = fake_rasa
    chat = await client.post("/api/chat", json={"message": "where is my order"}, headers={"Authorization": f"Bearer {token}"})
    history = await client.get("/api/history", headers={"Authorization": f"Bearer {token}"})
    for response in (chat, history):
        assert response.status == 401
        assert "expired" in (await response.json())["error"]
    assert fake.webhook_calls == [] and fake.tracker_calls == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"message": "   "}', "empty"),
        (b'{"text": "hi"}', '"message" string'),
        (b'{"message": 42}', '"message" string'),
        (b'{"message": "hi"', "must be JSON"),
        (b"not json at all", "must be JSON"),
        (b'["hi"]', "JSON object"),
        (b"\xff\xfe", "must be JSON"),
    ],
    ids=["blank", "missing", "not-a-string", "truncated-json", "not-json", "array", "not-utf8"],
)
async def test_bad_bodies_are_400_with_a_clear_message(
    client: TestClient, fake_rasa: tuple[FakeRasa, str], body: bytes, expected: str
) -> None:
    response = await client.post("/api/chat", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 400
    payload = await response.json()
    assert expected in payload["error"]
    assert "Traceback" not in await response.text()
    assert fake_rasa[0].webhook_calls == []


async def test_long_message_is_truncated_and_the_reply_says_so(client: TestClient, fake_rasa: tuple[FakeRasa, str]) -> None:
    fake, _ = fake_rasa
    response = await client.post("/api/chat", json={"message": "x" * 5_000})
    assert response.status == 200
    payload = await response.json()
    assert payload["truncated"] is True
    assert "only read the first 2,000" in payload["messages"][0]["text"]
    assert payload["messages"][1] == {"text": "echo: " + "x" * 2_000}
    assert fake.webhook_calls[0]["body"]["message"] == "x" * 2_000


async def test_ten_thousand_emoji_message_is_truncated_and_answered(
    client: TestClient, fake_rasa: tuple[FakeRasa, str]
) -> None:
    response = await client.post("/api/chat", json={"message": "🙂" * 10_000})
    assert response.status == 200
    payload = await response.json()
    assert payload["truncated"] is True
    assert fake_rasa[0].webhook_calls[0]["body"]["message"] == "🙂" * 2_000


async def test_oversized_body_is_refused_and_serving_continues(
    client: TestClient, fake_rasa: tuple[FakeRasa, str]
) -> None:
    response = await client.post("/api/chat", json={"message": "y" * 140_000})
    assert response.status == 413
    assert "131,072 bytes" in (await response.json())["error"]
    assert fake_rasa[0].webhook_calls == []
    again = await client.post("/api/chat", json={"message": "still there?"})
    assert (await again.json()) == {"messages": [{"text": "echo: still there?"}]}


async def test_rasa_down_is_503_with_an_honest_message(tmp_path: Path) -> None:
    client = await gateway(web_settings(tmp_path, f"http://127.0.0.1:{free_port()}"))
    try:
        response = await client.post("/api/chat", json={"message": "hello"})
        assert response.status == 503
        payload = await response.json()
        assert payload["messages"][0]["text"].startswith("Sorry, I can't reach the assistant right now")
        health = await client.get("/healthz")
        assert health.status == 200
        assert (await health.json())["rasa"] is False
    finally:
        await client.close()


async def test_rasa_time_out_and_rasa_error_are_503(fake_rasa: tuple[FakeRasa, str], tmp_path: Path) -> None:
    fake, rasa_url = fake_rasa
    client = await gateway(web_settings(tmp_path, rasa_url), rasa_timeout=0.5)
    try:
        fake.stall = True
        stalled = await client.post("/api/chat", json={"message": "hello"})
        assert stalled.status == 503
        fake.stall, fake.fail = False, True
        failed = await client.post("/api/chat", json={"message": "hello"})
        assert failed.status == 503
        assert "can't reach the assistant" in (await failed.json())["messages"][0]["text"]
    finally:
        await client.close()


async def test_a_message_id_goes_to_rasa_in_the_metadata(client: TestClient, fake_rasa: tuple[FakeRasa, str]) -> None:
    """Rasa's gateway channel handles a message once per id (rasa_addons/message_once.py)."""
    response = await client.post("/api/chat", json={"message": "hello", "message_id": "c01-m0"})
    assert response.status == 200
    assert fake_rasa[0].webhook_calls[0]["body"]["metadata"]["client_message_id"] == "c01-m0"
    await client.post("/api/chat", json={"message": "hello"})
    assert "client_message_id" not in fake_rasa[0].webhook_calls[1]["body"]["metadata"]


@pytest.mark.parametrize("message_id", ["", "has spaces", "x" * 65, 7, ["m-1"]])
async def test_a_malformed_message_id_is_400(client: TestClient, fake_rasa: tuple[FakeRasa, str], message_id: Any) -> None:
    response = await client.post("/api/chat", json={"message": "hello", "message_id": message_id})
    assert response.status == 400
    assert "message_id" in (await response.json())["error"]
    assert fake_rasa[0].webhook_calls == []


async def test_products_and_buttons_pass_through(client: TestClient) -> None:
    payload = await (await client.post("/api/chat", json={"message": "shoes"})).json()
    assert payload == {"messages": SHOES_REPLY}


async def test_history_maps_the_tracker(client: TestClient, fake_rasa: tuple[FakeRasa, str]) -> None:
    fake, _ = fake_rasa
    empty = await client.get("/api/history")
    assert await empty.json() == {"history": []}
    assert fake.tracker_calls == []  # a brand-new visitor does not create a Rasa tracker

    await client.post("/api/chat", json={"message": "hello"})
    await client.post("/api/chat", json={"message": "shoes"})
    history = (await (await client.get("/api/history")).json())["history"]
    assert [(turn["from"], turn["text"]) for turn in history] == [
        ("user", "hello"), ("bot", "echo: hello"), ("user", "shoes"),
        ("bot", "Here are some shoes:"), ("bot", "Want more?"),
    ]
    assert history[3]["custom"] == SHOES_REPLY[0]["custom"]
    assert all(isinstance(turn["timestamp"], float) for turn in history)
    assert fake.tracker_calls == [fake.webhook_calls[0]["body"]["sender"]]


async def test_customer_history_follows_the_customer(client: TestClient, fake_rasa: tuple[FakeRasa, str], tmp_path: Path) -> None:
    headers = {"Authorization": f"Bearer {token_for('C0002')}"}
    await client.post("/api/chat", json={"message": "my order"}, headers=headers)
    other_device = await gateway(web_settings(tmp_path, fake_rasa[1]))
    try:
        history = (await (await other_device.get("/api/history", headers=headers)).json())["history"]
    finally:
        await other_device.close()
    assert [turn["text"] for turn in history] == ["my order", "echo: my order"]


@pytest.mark.parametrize("path", ["/", "/api/history", "/healthz", "/static/widget.js", "/no/such/page"])
async def test_security_headers_everywhere(client: TestClient, path: str) -> None:
    response = await client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'self'" in csp
    assert "script-src" not in csp or "'unsafe-inline'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_unknown_route_and_method_are_json(client: TestClient) -> None:
    missing = await client.get("/no/such/page")
    assert missing.status == 404 and await missing.json() == {"error": "not found"}
    wrong = await client.get("/api/chat")
    assert wrong.status == 405 and await wrong.json() == {"error": "method not allowed"}


async def test_storefront_outside_demo_mode_has_no_login(client: TestClient) -> None:
    page = await (await client.get("/?login=demo")).text()
    assert '<script src="/static/widget.js" data-server="" data-customer-token=""></script>' in page
    assert "Log in as demo customer" not in page


async def test_storefront_demo_login_signs_a_token_for_c0001(fake_rasa: tuple[FakeRasa, str], tmp_path: Path) -> None:
    client = await gateway(web_settings(tmp_path, fake_rasa[1]), demo_mode=True)
    try:
        guest = await (await client.get("/")).text()
        assert 'href="/?login=demo"' in guest and 'data-customer-token=""' in guest
        page = await (await client.get("/?login=demo")).text()
    finally:
        await client.close()
    token = re.search(r'data-customer-token="([^"]+)"', page)
    assert token and verify_customer_token(token.group(1), STORE_SECRET) == "C0001"


async def test_health_and_search_without_an_index(client: TestClient) -> None:
    health = await (await client.get("/healthz")).json()
    assert health == {"ok": True, "rasa": True, "search": "unavailable"}
    search = await client.get("/api/search", params={"q": "red shoes"})
    assert search.status == 503 and "index" in (await search.json())["error"]
    missing_q = await client.get("/api/search")
    assert missing_q.status == 400
    bad_k = await client.get("/api/search", params={"q": "shoes", "k": "many"})
    assert bad_k.status == 400 and "k must be an integer" in (await bad_k.json())["error"]


async def test_health_checks_do_not_issue_sessions(client: TestClient) -> None:
    assert SESSION_COOKIE not in (await client.get("/healthz")).cookies
    assert SESSION_COOKIE in (await client.get("/")).cookies
