"""A retried message is handled and stored once: the real web app, Rasa and action server.

The widget's retry after an honest error sends the same ``message_id`` again. Rasa's gateway
channel (rasa_addons/message_once.py) answers a message whose id the conversation already
holds with the replies that followed it, under the conversation's lock, so a retry that
races the first attempt waits for it instead of being handled a second time. The
production profile's message ledger (test_production_ledger.py) checks the same across
replicas and restarts; here it is one process of each, the demo profile.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

pytestmark = pytest.mark.integration


async def say(session: aiohttp.ClientSession, text: str, message_id: str, attempts: int = 5) -> list[dict[str, Any]]:
    """Send a message; after an honest 503 (a cold first search can outlast the web app's wait)
    send it again with the same id, as the widget does."""
    for _ in range(attempts):
        async with session.post("/api/chat", json={"message": text, "message_id": message_id}) as response:
            body = await response.json()
            if response.status != 503:
                assert response.status == 200, body
                return list(body["messages"])
        await asyncio.sleep(3)
    raise AssertionError(f"{text!r} was not answered in {attempts} attempts: {body}")


async def test_a_message_sent_again_with_its_id_is_answered_not_handled_again(stack: dict[str, Any]) -> None:
    url = f"http://127.0.0.1:{stack['ports'].web}"
    async with aiohttp.ClientSession(url, cookie_jar=aiohttp.CookieJar(unsafe=True),
                                     timeout=aiohttp.ClientTimeout(total=300)) as session:
        first = await say(session, "show me tents", "m-1")
        assert any(isinstance(m.get("custom"), dict) and m["custom"].get("type") == "products" for m in first)
        assert await say(session, "show me tents", "m-1") == first  # a retry after the answer was lost

        racing = await asyncio.gather(say(session, "show more", "m-2"), say(session, "show more", "m-2"))
        assert racing[0] == racing[1] and racing[0]  # the second waited for the first and got its replies

        later = await say(session, "show me tents", "m-3")  # the same words with a new id: a new message
        assert later
        async with session.get("/api/history") as response:
            history = (await response.json())["history"]
    said = [turn["text"] for turn in history if turn["from"] == "user"]
    assert said == ["show me tents", "show more", "show me tents"]
