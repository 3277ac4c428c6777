"""The load bench's client (bench/load_bench.py): what it sends, how it counts, and its cookie jars.

The bench's figures are only as good as its client: each virtual shopper must hold one
conversation at a time with its own cookie jar (as a new browser would), send the eight
messages of the mix in order, and count only turns inside the measured window. A bot on
loopback stands in for the servers here: a small aiohttp app that records what arrives
and sets a session cookie the way our web app does.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import threading
from collections import defaultdict
from collections.abc import Iterator

import pytest
from aiohttp import web

from bench.load_bench import Tally, drive, rest_channel_turn, shopping_mix, web_app_turn
from tests.threaded_server import serving


def test_a_conversation_is_the_eight_message_shopping_mix() -> None:
    messages = shopping_mix(random.Random(1), ["red running shoes", "a tent"])
    assert len(messages) == 8
    assert messages[1] in {"red running shoes", "a tent"} and messages[3] == "show more"


def test_only_turns_inside_the_window_count() -> None:
    tally = Tally(window_start=10.0, window_end=20.0)
    tally.record("greet", 9.0, 11.0, None)  # started during the warm-up
    tally.record("search", 19.0, 21.0, None)  # still running when the window closed
    tally.record("search", 11.0, 12.5, None)
    tally.record("refine", 12.0, 13.0, "HTTP 503")
    assert tally.latencies == [1.5] and tally.by_kind == {"search": [1.5]}
    assert tally.errors == {"HTTP 503": 1}
    assert tally.unfinished_at_end == 1


class RecordingBot:
    """A loopback stand-in for the web app and a stock bot: who said what, with which cookie."""

    def __init__(self) -> None:
        self.by_cookie: dict[str, list[str]] = defaultdict(list)
        self.by_sender: dict[str, list[str]] = defaultdict(list)
        self.cookieless_posts = 0
        self.issued = 0

    async def chat(self, request: web.Request) -> web.Response:
        body = await request.json()
        response = web.json_response({"messages": [{"text": "ok"}]})
        cookie = request.cookies.get("sa_session")
        if cookie is None:
            self.issued += 1
            cookie = f"session-{self.issued}"
            response.set_cookie("sa_session", cookie, httponly=True, samesite="Lax")
            self.cookieless_posts += 1
        self.by_cookie[cookie].append(body["message"])
        await asyncio.sleep(0.01)
        return response

    async def rest(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.by_sender[body["sender"]].append(body["message"])
        await asyncio.sleep(0.01)
        return web.json_response([{"recipient_id": body["sender"], "text": "ok"}])


@pytest.fixture
def bot() -> Iterator[tuple[RecordingBot, str]]:
    recorder = RecordingBot()
    app = web.Application()
    app.router.add_post("/api/chat", recorder.chat)
    app.router.add_post("/webhooks/rest/webhook", recorder.rest)
    with serving(app) as url:
        yield recorder, url


def _is_mix_prefix(messages: list[str]) -> bool:
    """Whether ``messages`` follow the mix's order (show more is always the fourth)."""
    return len(messages) <= 8 and (len(messages) < 4 or messages[3] == "show more")


def test_each_conversation_has_its_own_cookie_jar(bot: tuple[RecordingBot, str]) -> None:
    recorder, url = bot
    figures = drive(web_app_turn(url), concurrency=3, duration=1.5, warmup=0.2, rasa_pids=[])
    assert figures["turns"] > 0 and not figures["errors"]
    assert figures["rasa_cpu_seconds_per_turn"] == 0
    # Every conversation's first message arrived without a cookie; every later one with its own.
    assert recorder.cookieless_posts == len(recorder.by_cookie)
    assert any(len(messages) == 8 for messages in recorder.by_cookie.values()), "no conversation was completed"
    assert all(_is_mix_prefix(messages) for messages in recorder.by_cookie.values())


def test_the_stock_bot_gets_one_sender_per_conversation(bot: tuple[RecordingBot, str]) -> None:
    recorder, url = bot
    figures = drive(rest_channel_turn(url), concurrency=2, duration=1.5, warmup=0.2, rasa_pids=[])
    assert figures["turns"] > 0 and not figures["errors"]
    assert any(len(messages) == 8 for messages in recorder.by_sender.values())
    assert all(_is_mix_prefix(messages) for messages in recorder.by_sender.values())
    assert figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    assert sum(kind["n"] for kind in figures["by_kind"].values()) == figures["turns"]


def test_a_refused_turn_is_counted_as_an_error() -> None:
    async def refusing(request: web.Request) -> web.Response:
        return web.json_response({"error": "busy"}, status=503)

    app = web.Application()
    app.router.add_post("/api/chat", refusing)
    with serving(app) as url:
        figures = drive(web_app_turn(url), concurrency=1, duration=0.5, warmup=0.0, rasa_pids=[])
    assert figures["turns"] == 0 and figures["errors"].get("HTTP 503", 0) > 0
    assert "p50_ms" not in figures
