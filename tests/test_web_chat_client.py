"""The terminal client against the real gateway app (and the fake Rasa behind it)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from assistant.chat_client import chat, render
from assistant.identity import sign_customer_token
from assistant.launcher import free_port
from tests.test_web_gateway import SHOES_REPLY, STORE_SECRET, FakeRasa, fake_rasa, gateway, web_settings

__all__ = ["fake_rasa"]  # the fixture, imported for use here


async def run_chat(base_url: str, typed: str, token: str | None = None) -> str:
    out = io.StringIO()
    await asyncio.to_thread(chat, base_url, token, io.StringIO(typed), out)
    return out.getvalue()


async def test_a_session_of_turns_keeps_one_sender(fake_rasa: tuple[FakeRasa, str], tmp_path: Path) -> None:
    fake, rasa_url = fake_rasa
    client = await gateway(web_settings(tmp_path, rasa_url))
    try:
        output = await run_chat(str(client.make_url("/")), "hello\nshoes\n1\n/quit\nnever sent\n")
    finally:
        await client.close()
    assert "bot> echo: hello" in output
    assert " 1. Red Runner  79.99 USD  [P00001]" in output
    assert " 2. Blue Trail  64.50 USD  [P00002]  (out of stock)" in output
    assert "[1] Show more" in output
    messages = [call["body"]["message"] for call in fake.webhook_calls]
    assert messages == ["hello", "shoes", "/show_more"]  # "1" pressed the first button
    assert len({call["body"]["sender"] for call in fake.webhook_calls}) == 1


async def test_customer_token_and_end_of_input(fake_rasa: tuple[FakeRasa, str], tmp_path: Path) -> None:
    fake, rasa_url = fake_rasa
    client = await gateway(web_settings(tmp_path, rasa_url))
    token = sign_customer_token("C0003", STORE_SECRET)
    try:
        output = await run_chat(str(client.make_url("/")), "where is my order", token)
        refused = await run_chat(str(client.make_url("/")), "hi", sign_customer_token("C0003", "wrong"))
    finally:
        await client.close()
    assert "as a signed-in customer" in output and "bot> echo: where is my order" in output
    assert fake.webhook_calls[0]["body"]["sender"] == "web-customer-C0003"
    assert "bot> [401]" in refused and "expired" in refused


async def test_unreachable_gateway_is_reported_not_raised() -> None:
    output = await run_chat(f"http://127.0.0.1:{free_port()}", "hello\n")
    assert "error: cannot reach" in output


def test_render_lists_products_compactly() -> None:
    lines, buttons = render(SHOES_REPLY)
    assert lines[0] == "bot> Here are some shoes:"
    assert buttons == [{"title": "Show more", "payload": "/show_more"}]
