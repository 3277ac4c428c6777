"""Parts of the stack down: the shopper gets an honest answer and the servers keep serving.

A second real stack whose customer database cannot be reached; later in the test its
action server is stopped too.  Messages go through the web app, as a browser sends them.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from typing import Any

import pytest

from assistant.identity import sign_customer_token
from assistant.launcher import Ports, Service, running_stack, stop
from assistant.settings import Settings
from tests.conftest import MODEL_PATH

pytestmark = pytest.mark.integration

UNREACHABLE_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:9/no_such_store"


class Browser:
    """A cookie-keeping client of the web app's JSON API."""

    def __init__(self, base_url: str, customer_token: str | None = None) -> None:
        self.base_url = base_url
        self.customer_token = customer_token
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def chat(self, message: str) -> tuple[int, dict[str, Any]]:
        body: dict[str, Any] = {"message": message}
        if self.customer_token:
            body["customer_token"] = self.customer_token
        request = urllib.request.Request(
            f"{self.base_url}/api/chat", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def broken_stack(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    settings = dataclasses.replace(demo_settings, database_url=UNREACHABLE_DATABASE)
    ports = Ports.free()
    with running_stack(settings, MODEL_PATH, ports, log_dir=tmp_path_factory.mktemp("broken-logs")) as services:
        yield {"settings": settings, "ports": ports, "services": services}


def reply_text(payload: dict[str, Any]) -> str:
    return " ".join(str(m.get("text", "")) for m in payload["messages"]).lower()


def test_database_down_is_said_honestly(broken_stack: dict[str, Any]) -> None:
    token = sign_customer_token("C0001", broken_stack["settings"].store_secret)
    browser = Browser(f"http://127.0.0.1:{broken_stack['ports'].web}", token)

    status, payload = browser.chat("where is my order")
    assert status == 200
    text = reply_text(payload)
    assert "can't" in text or "cannot" in text or "unable" in text, text
    assert not any((m.get("custom") or {}).get("type") == "order_status" for m in payload["messages"])

    status, payload = browser.chat("hi")
    assert status == 200 and reply_text(payload)


def test_empty_and_huge_messages_through_the_web_app(broken_stack: dict[str, Any]) -> None:
    browser = Browser(f"http://127.0.0.1:{broken_stack['ports'].web}")
    status, payload = browser.chat("")
    assert status == 400 and "empty" in payload["error"]
    status, payload = browser.chat("🙂" * 10_000)
    assert status == 200 and payload["truncated"] is True and len(payload["messages"]) >= 2


def test_action_server_down_is_said_honestly(broken_stack: dict[str, Any]) -> None:
    services: list[Service] = broken_stack["services"]
    stop([service for service in services if service.name == "action server"])
    browser = Browser(f"http://127.0.0.1:{broken_stack['ports'].web}")

    status, payload = browser.chat("red running shoes under 80")
    assert status == 200
    assert "isn't answering" in reply_text(payload) or "can't" in reply_text(payload)

    status, payload = browser.chat("hello")
    assert status == 200 and reply_text(payload), "Rasa and the web app must keep serving"
