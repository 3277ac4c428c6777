"""Structured logs (issue #14): JSON lines with the request id, keyed ids, the text format for people."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

from assistant.launcher import free_port
from assistant.observe.logs import REQUEST_ID, JsonFormatter, RequestIdFilter, keyed_id, new_request_id
from assistant.web.sessions import log_id
from tests.test_web_gateway import gateway, web_settings


def record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            info = sys.exc_info()
    made = logging.LogRecord("shop.test", logging.WARNING, __file__, 1, message, args, info)
    RequestIdFilter().filter(made)
    return made


def test_a_json_line_carries_the_request_id_and_the_traceback() -> None:
    token = REQUEST_ID.set("abc123def456")
    try:
        line = json.loads(JsonFormatter().format(record("chat for %s failed", "id-1234", exc=True)))
    finally:
        REQUEST_ID.reset(token)
    assert line["msg"] == "chat for id-1234 failed" and line["level"] == "warning" and line["logger"] == "shop.test"
    assert line["request_id"] == "abc123def456"
    assert "ValueError: boom" in line["exc"]
    assert json.loads(JsonFormatter().format(record("no request")))["request_id"] is None


def test_ids_are_keyed_hashes_and_the_same_everywhere() -> None:
    assert keyed_id("C0304", "k1") == keyed_id("C0304", "k1") == log_id("C0304", "k1")
    assert keyed_id("C0304", "k1") != keyed_id("C0304", "k2")
    assert "C0304" not in keyed_id("C0304", "k1")


def test_request_ids_are_taken_only_when_plain() -> None:
    assert new_request_id("trace-0123456789") == "trace-0123456789"
    for hostile in ("short", "x" * 65, "bad id with spaces", "a\nb" * 5, None):
        fresh = new_request_id(hostile)
        assert fresh != hostile and len(fresh) == 16


async def test_the_web_app_answers_the_request_id(tmp_path: Path) -> None:
    client = await gateway(web_settings(tmp_path, f"http://127.0.0.1:{free_port()}"))
    try:
        given = await client.get("/healthz", headers={"X-Request-ID": "trace-0123456789"})
        assert given.headers["X-Request-ID"] == "trace-0123456789"
        fresh = await client.get("/no-such-page")
        assert fresh.status == 404 and len(fresh.headers["X-Request-ID"]) == 16
    finally:
        await client.close()
