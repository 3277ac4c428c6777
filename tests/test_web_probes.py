"""The probe suite (issue #12): malformed, oversized, wrongly typed, mis-encoded and hostile
requests against every route of the real web app, with the real Rasa and action server
behind it (the ``stack`` fixture). Every answer must be a clear JSON error: a 4xx status,
``application/json``, and an ``error`` string a person can read. No 5xx, ever.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from yarl import URL

from assistant.identity import sign_customer_token, sign_export_link
from assistant.settings import Settings
from assistant.web.middlewares import MAX_BODY_BYTES
from assistant.web.sessions import SESSION_COOKIE

JSON = {"Content-Type": "application/json"}
FORGED = "eyJzdWIiOiJDMDAwMSIsImF1ZCI6InNob3AtYXNzaXN0YW50IiwiaWF0IjoxLCJleHAiOjk5OTk5OTk5OTl9.Zm9yZ2Vk"
STOREFRONT = "storefront"  # placeholder: replaced by the stack's storefront key


def probe(method: str, path: str, *, status: int | tuple[int, ...] = 400, body: bytes | str | None = None,
          headers: dict[str, str] | None = None, params: dict[str, str] | None = None, why: str = "") -> Any:
    """One hostile request and the 4xx it must get."""
    expected = (status,) if isinstance(status, int) else status
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    return pytest.param(method, path, data, headers or {}, params or {}, expected, id=why or f"{method} {path}")


def chat(body: bytes | str, status: int | tuple[int, ...] = 400, why: str = "", headers: dict[str, str] | None = None) -> Any:
    return probe("POST", "/api/chat", body=body, status=status, headers={**JSON, **(headers or {})}, why=f"chat: {why}")


CHAT = [
    chat(b"", why="empty body"), chat("hello", why="plain text"), chat("{", why="truncated JSON"),
    chat(b"\xff\xfe\x00", why="not UTF-8"), chat(b'{"message": "\xff"}', why="invalid UTF-8 in a string"),
    chat("[]", why="array"), chat("1", why="number"), chat('"hi"', why="string"), chat("null", why="null"),
    chat("true", why="boolean"), chat("{}", why="no message"), chat('{"message": 1}', why="message number"),
    chat('{"message": null}', why="message null"), chat('{"message": []}', why="message array"),
    chat('{"message": {}}', why="message object"), chat('{"message": ""}', why="message empty"),
    chat('{"message": "   \\n\\t "}', why="message blank"), chat('{"message": true}', why="message boolean"),
    chat('{"payload": 5}', why="payload number"), chat('{"payload": ""}', why="payload empty"),
    chat('{"payload": "/restart"}', why="payload never offered: restart"),
    chat('{"payload": "/greet"}', why="payload never offered: greet"),
    chat('{"payload": "/order_status{\\"order_number\\": \\"A1\\", \\"email\\": \\"a@b.c\\"}"}', why="payload never offered: order"),
    chat('{"payload": "/add_to_cart{\\"ordinal\\":\\"1\\"}"}', why="card payload without a product list"),
    chat(json.dumps({"payload": "/" + "x" * 600}), why="payload too long"),
    chat('{"message": "hi", "payload": "/affirm"}', why="message and payload"),
    chat('{"payload": null}', why="payload null"), chat('{"payload": ["/affirm"]}', why="payload array"),
    chat("[" * 50_000, why="deeply nested array"), chat('{"message":' * 5_000, why="deeply nested object"),
    chat('{"message": "hi", "x": ' + "[" * 40 + "]" * 40 + "}",
         why="nested beyond 32 levels"),
    chat(json.dumps({"message": "x" * (MAX_BODY_BYTES + 10)}), status=413, why="over the body cap"),
    chat("NaN", why="bare NaN"), chat('{"message": "hi",}', why="trailing comma"),
    chat("\ufeff{}", why="BOM and no message"), chat('{"message": "\\ud800"}', why="lone surrogate"),
    chat('{"message": "hi"}', status=401, headers={"Authorization": f"Bearer {FORGED}"}, why="forged bearer token"),
    chat('{"message": "hi"}', status=401, headers={"Authorization": "Bearer " + "A" * 5000}, why="huge bearer token"),
    chat('{"message": "hi"}', status=401, headers={"Authorization": "Bearer a.b"}, why="tiny bearer token"),
    chat(json.dumps({"message": "hi", "customer_token": FORGED}), status=401, why="forged body token"),
    chat(json.dumps({"message": "hi", "customer_token": "x" * 10_000}), status=401, why="huge body token"),
    chat('{"message": "hi"}', status=403, headers={"Origin": "https://evil.example"}, why="foreign origin"),
]
for method in ("GET", "PUT", "DELETE", "PATCH"):
    CHAT.append(probe(method, "/api/chat", status=405, why=f"chat: {method}"))

AFTER_VALUES = ["--1", "\u00b2", "9" * 5000, "1e3", "-2", "0x10", "\u0661", "1.5", "abc", "", "%00", "1 ", "+1", "-1-1"]
HISTORY = [probe("GET", "/api/history", params={"after": value}, why=f"history: after={value[:12]!r}") for value in AFTER_VALUES]
HISTORY += [
    probe("GET", "/api/history", status=401, headers={"Authorization": f"Bearer {token}"}, why=f"history: token {n}")
    for n, token in enumerate([FORGED, "x", "a.b.c", "é.é", "A" * 5000, "..", "e30.e30"])
]
HISTORY += [probe(method, "/api/history", status=405, why=f"history: {method}") for method in ("POST", "PUT", "DELETE")]

SEARCH_PARAMS: list[tuple[dict[str, str], str]] = [
    ({}, "no q"), ({"q": ""}, "empty q"), ({"q": "   "}, "blank q"), ({"q": "x" * 501}, "q too long"),
    ({"q": "shoes", "k": "0"}, "k 0"), ({"q": "shoes", "k": "51"}, "k 51"), ({"q": "shoes", "k": "abc"}, "k text"),
    ({"q": "shoes", "k": "\u00b2"}, "k superscript"), ({"q": "shoes", "k": "9" * 5000}, "k 5000 digits"),
    ({"q": "shoes", "k": "-5"}, "k negative"), ({"q": "shoes", "k": "1.5"}, "k fraction"),
    ({"q": "shoes", "offset": "-1"}, "offset negative"), ({"q": "shoes", "offset": "1001"}, "offset too big"),
    ({"q": "shoes", "offset": "x"}, "offset text"), ({"q": "shoes", "offset": "1e9"}, "offset exponent"),
]
SEARCH = [probe("GET", "/api/search", params=params, why=f"search: {why}") for params, why in SEARCH_PARAMS]
SEARCH += [
    probe("GET", "/api/search", status=401, params={"q": "shoes"}, headers={"Authorization": f"Bearer {token}"},
          why=f"search: bad token {n}") for n, token in enumerate([FORGED, "x", "A" * 5000])
]
SEARCH += [probe(method, "/api/search", status=405, why=f"search: {method}") for method in ("POST", "DELETE")]


def events(body: str | bytes, status: int | tuple[int, ...] = 400, why: str = "", key: str | None = STOREFRONT) -> Any:
    headers = {**JSON, **({"Authorization": f"Bearer {key}"} if key else {})}
    return probe("POST", "/api/events", body=body, status=status, headers=headers, why=f"events: {why}")


EVENTS = [
    events("{}", status=401, key=None, why="no key"), events("{}", status=401, key="wrong-key", why="wrong key"),
    events("{}", status=401, key="é", why="non-ASCII key"),
    events("", why="empty"), events("{", why="truncated"), events(b"\xff", why="not UTF-8"), events("[]", why="empty batch"),
    events("[" * 50_000, why="deeply nested"), events("[{}]", why="event without fields"),
    events('{"type": "bogus", "customer_id": "C1", "product_id": "P00001"}', why="unknown type"),
    events('{"type": "view", "customer_id": "C1", "product_id": "P00001", "evil": 1}', why="unknown field"),
    events('{"type": "view", "product_id": "P00001"}', why="no owner"),
    events('{"type": "view", "customer_id": "C1", "session_id": "s", "product_id": "P00001"}', why="two owners"),
    events('{"type": "view", "customer_id": 5, "product_id": "P00001"}', why="owner number"),
    events('{"type": "view", "customer_id": "bad id with spaces", "product_id": "P00001"}', why="owner unsafe"),
    events(json.dumps({"type": "view", "customer_token": FORGED, "product_id": "P00001"}), why="forged customer token"),
    events('{"type": "view", "customer_id": "C1"}', why="view without product"),
    events('{"type": "view", "customer_id": "C1", "product_id": 7}', why="product number"),
    events('{"type": "view", "customer_id": "C1", "product_id": "NO-SUCH"}', why="unknown product"),
    events('{"type": "search", "customer_id": "C1"}', why="search without query"),
    events(json.dumps({"type": "search", "customer_id": "C1", "query": "q" * 501}), why="query too long"),
    events('{"type": "view", "customer_id": "C1", "product_id": "P00001", "at": "yesterday"}', why="bad at"),
    events('{"type": "view", "customer_id": "C1", "product_id": "P00001", "at": "2999-01-01T00:00:00Z"}', why="future at"),
    events('{"type": "view", "customer_id": "C1", "product_id": "P00001", "at": 5}', why="at number"),
    events(json.dumps([{"type": "view", "customer_id": "C1", "product_id": "P00001"}] * 501), why="batch too big"),
    events("[1, 2, 3]", why="events not objects"),
]
EVENTS += [probe(method, "/api/events", status=405, why=f"events: {method}") for method in ("GET", "PUT")]

EXPORT = [
    probe("GET", "/api/me/export", status=401, why="export: no token"),
    probe("GET", "/api/me/export", status=401, headers={"Authorization": f"Bearer {FORGED}"}, why="export: forged token"),
    probe("GET", "/api/me/export/garbage", status=403, why="export link: garbage"),
    probe("GET", "/api/me/export/" + sign_export_link("C0001", "wrong-secret"), status=403, why="export link: forged"),
    probe("GET", "/api/me/export/" + "A" * 5000, status=403, why="export link: huge"),
    probe("GET", "/api/me/export/%C3%A9.1.x", status=403, why="export link: non-ASCII"),
    probe("GET", "/api/me/export/..%2f..%2fsecrets", status=(403, 404), why="export link: traversal"),
    probe("POST", "/api/me/export", status=405, why="export: POST"),
]

STREAM = [
    probe("GET", "/api/chat/stream", why="stream: no upgrade"),
    probe("GET", "/api/chat/stream", status=403, headers={"Origin": "https://evil.example", "Upgrade": "websocket",
                                                           "Connection": "Upgrade"}, why="stream: foreign origin"),
    probe("POST", "/api/chat/stream", status=405, why="stream: POST"),
]

CONSOLE = [
    probe("GET", "/agent/api/queue", status=401, why="console: queue unsigned"),
    probe("GET", "/agent/api/conversations/1", status=401, why="console: conversation unsigned"),
    probe("GET", "/agent/api/conversations/abc", status=(401, 404), why="console: conversation id text"),
    probe("GET", "/agent/api/conversations/" + "9" * 5000, status=(401, 404), why="console: id 5000 digits"),
    probe("POST", "/agent/api/conversations/1/claim", status=(401, 403), why="console: claim unsigned"),
    probe("POST", "/agent/api/conversations/1/messages", status=(401, 403), body='{"text": "hi"}', headers=JSON,
          why="console: message unsigned"),
    probe("POST", "/agent/api/conversations/1/hand-back", status=(401, 403), why="console: hand back unsigned"),
    probe("POST", "/agent/api/conversations/1/close", status=(401, 403), why="console: close unsigned"),
    probe("GET", "/agent/ws", status=401, why="console: websocket unsigned"),
    probe("DELETE", "/agent/api/queue", status=405, why="console: DELETE queue"),
]

STATIC = [
    probe("GET", "/static/../../var/secrets.json", status=(403, 404), why="static: dot-dot"),
    probe("GET", "/static/%2e%2e/%2e%2e/var/secrets.json", status=(403, 404), why="static: encoded dot-dot"),
    probe("GET", "/static/..%2f..%2fpyproject.toml", status=(403, 404), why="static: encoded slash"),
    probe("GET", "/static/nothing.js", status=404, why="static: missing file"),
    probe("GET", "/static/", status=(403, 404), why="static: directory"),
    probe("GET", "/static/widget.js%00.png", status=(403, 404), why="static: NUL"),
    probe("GET", "/static/" + "a" * 3000, status=(403, 404), why="static: long name"),
    probe("POST", "/static/widget.js", status=405, why="static: POST"),
]

HEALTH_AND_OTHERS = [
    probe("POST", "/healthz", status=405, why="health: POST"),
    probe("DELETE", "/healthz", status=405, why="health: DELETE"),
    probe("POST", "/", status=405, why="page: POST"),
    probe("GET", "/api/nothing", status=404, why="unknown api route"),
    probe("GET", "/%ff%fe", status=(400, 404), why="mis-encoded path"),
    probe("TRACE", "/api/chat", status=405, why="TRACE"),
]

EVERY_ROUTE = ["/healthz", "/", "/api/history", "/api/search?q=x", "/static/widget.js", "/agent/api/queue", "/api/me/export"]
HOSTS = [
    probe("GET", path, headers={"Host": host}, why=f"host {host} on {path}")
    for path in EVERY_ROUTE for host in ("rebind.attacker.example", "127.0.0.1.attacker.example")
]
HOSTILE_COOKIE = [
    probe("POST", "/api/chat", body="{}", headers={**JSON, "Cookie": f"{SESSION_COOKIE}={cookie}"}, why=f"cookie {n} on chat")
    for n, cookie in enumerate(["\u00e9", "a.b.c", "x" * 4000, "%ff%fe", "\u00ff.\u00ff.\u00ff"])
] + [
    probe("GET", "/api/history", params={"after": "--1"}, headers={"Cookie": f"{SESSION_COOKIE}=\u00e9\u00e9"},
          why="cookie non-ASCII on history"),
    probe("GET", "/api/search", headers={"Cookie": f"{SESSION_COOKIE}=\u00e9"}, why="cookie non-ASCII on search"),
]

PROBES = CHAT + HISTORY + SEARCH + EVENTS + EXPORT + STREAM + CONSOLE + STATIC + HEALTH_AND_OTHERS + HOSTS + HOSTILE_COOKIE


def test_the_suite_is_big_enough() -> None:
    assert len(PROBES) >= 150


@pytest.fixture(scope="module")
def base(stack: dict[str, Any]) -> str:
    return f"http://127.0.0.1:{stack['ports'].web}"


@pytest.mark.parametrize(("method", "path", "body", "headers", "params", "expected"), PROBES)
async def test_probe(stack: dict[str, Any], base: str, method: str, path: str, body: bytes | None,
                     headers: dict[str, str], params: dict[str, str], expected: tuple[int, ...]) -> None:
    settings: Settings = stack["settings"]
    headers = {name: value.replace(f"Bearer {STOREFRONT}", f"Bearer {settings.storefront_key}") for name, value in headers.items()}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        url = URL(base + path, encoded=True)  # sent as written: no client-side clean-up of ".." or "%"
        # Non-ASCII header values go out as UTF-8 bytes: hostile clients do not follow the rules either.
        async with session.request(method, url, data=body, params=params or None,
                                   skip_auto_headers=list(headers), headers=headers) as response:
            text = await response.text(errors="replace")
            status = response.status
            content_type = response.content_type
    assert status < 500, f"{status}: {text[:300]}"
    assert status in expected, f"expected {expected}, got {status}: {text[:300]}"
    assert content_type == "application/json", f"{content_type}: {text[:200]}"
    error = json.loads(text).get("error")
    assert isinstance(error, str) and 3 <= len(error) <= 300, text[:300]


async def test_websocket_hostile_frames(stack: dict[str, Any], base: str) -> None:
    """Junk first frames are refused with a JSON error frame and close code 4401."""
    for first in ["not json", "[" * 10_000, '{"type": "auth", "customer_token": "' + FORGED + '"}', '{"type": "typing"}']:
        async with aiohttp.ClientSession() as session, session.ws_connect(base + "/api/chat/stream") as socket:
            await socket.send_str(first)
            frame = await socket.receive_json(timeout=30)
            assert frame["type"] == "error" and isinstance(frame["error"], str)
            closing = await socket.receive(timeout=30)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert socket.close_code == 4401


async def test_websocket_frame_flood_is_throttled_then_cut(stack: dict[str, Any], base: str) -> None:
    token = sign_customer_token("probe-flood", stack["settings"].store_secret)
    async with aiohttp.ClientSession() as session, session.ws_connect(base + "/api/chat/stream") as socket:
        await socket.send_json({"type": "auth", "customer_token": token})
        for _ in range(400):
            if socket.closed:
                break
            await socket.send_str('{"type": "typing", "on": true}' if _ % 2 else "[" * 5000)
        errors = 0
        while True:
            message = await socket.receive(timeout=30)
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            frame = json.loads(message.data)
            errors += frame.get("type") == "error"
            assert frame.get("type") != "error" or frame["retry_after"] >= 1
        assert errors >= 1
        assert socket.close_code == 4429
