"""The two live channels: the shopper's widget (``/api/chat/stream``) and the console (``/agent/ws``).

Both only carry notifications; anything that matters is also in the Rasa transcript, so
a client that reconnects catches up with ``/api/history?after=<id>`` (widget) or by
reloading the conversation (console).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from assistant.web.console.auth import same_origin
from assistant.web.console.hub import AgentIdentity
from assistant.web.console.keys import HANDOFFS, HUB
from assistant.web.console.service import ConsoleError, Handoff
from assistant.web.console.views import live_session
from assistant.web.keys import RATE_LIMITER
from assistant.web.middlewares import ApiError
from assistant.web.parsing import parse_json
from assistant.web.rate_limit import WS_FRAMES, RateLimited, client_address
from assistant.web.views_chat import shopper

AUTH_TIMEOUT_SECONDS = 10
HEARTBEAT_SECONDS = 25


def _frames(raw: str) -> dict[str, Any]:
    try:
        frame = parse_json(raw, "a frame object")
    except ApiError:
        return {}
    return frame if isinstance(frame, dict) else {}


async def client_frames(
    socket: web.WebSocketResponse, limit: Callable[[], Awaitable[None]] | None = None
) -> AsyncIterator[dict[str, Any]]:
    """The client's JSON object frames until it disconnects; pings are answered here.

    ``limit`` counts each frame (typing events and pings included) and raises
    :class:`RateLimited` when there are too many: the client gets an error frame and the
    frame is dropped; a client that keeps flooding (as many refused frames again as the
    limit allows) is disconnected with close code 4429.
    """
    refused = 0
    async for message in socket:
        if message.type != WSMsgType.TEXT:
            continue
        if limit is not None:
            try:
                await limit()
            except RateLimited as limited:
                refused += 1
                if refused > WS_FRAMES.per_session:
                    await socket.close(code=4429, message=b"too many frames")
                    return
                await socket.send_json({"type": "error", "error": "too many frames; slow down",
                                        "retry_after": limited.retry_after})
                continue
        frame = _frames(message.data)
        if frame.get("type") == "ping":
            await socket.send_json({"type": "pong"})
        else:
            yield frame


def handoff_state(handoff: Handoff | None) -> dict[str, Any] | None:
    """The handoff frame a (re)connecting widget needs to show the right banner."""
    if handoff is None:
        return None
    if handoff.status == "active":
        return {"type": "handoff", "state": "agent_joined", "agent_name": handoff.claimed_by_display or "Support"}
    return {"type": "handoff", "state": "waiting"}


async def shopper_stream(request: web.Request) -> web.WebSocketResponse:
    """``GET /api/chat/stream``: the first frame is ``{"type": "auth", "customer_token"?: str}``."""
    socket = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=16 * 1024)
    await socket.prepare(request)
    try:
        first = await socket.receive(timeout=AUTH_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        await socket.close(code=4401, message=b"send an auth frame first")
        return socket
    frame = _frames(first.data) if first.type == WSMsgType.TEXT else {}
    token = frame.get("customer_token")
    try:
        if frame.get("type") != "auth":
            raise ApiError(400, "the first frame must be {\"type\": \"auth\"}")
        who = shopper(request, token if isinstance(token, str) and token else None)
    except ApiError as error:
        await socket.send_json({"type": "error", "error": error.message})
        await socket.close(code=4401, message=error.message.encode()[:120])
        return socket

    hub, handoffs, limiter = request.app[HUB], request.app[HANDOFFS], request.app[RATE_LIMITER]
    address = client_address(request)

    async def count_frame() -> None:
        await limiter.check(WS_FRAMES, who.sender, address)

    hub.add_shopper(who.sender, socket)
    try:
        handoff = await handoffs.open_handoff(who.sender)
        state = handoff_state(handoff)
        if state is not None:
            if handoff is not None and handoff.status == "waiting":
                state["wait_minutes"] = await handoffs.wait_minutes(handoff.id)
            await socket.send_json(state)
        async for frame in client_frames(socket, count_frame):
            if frame.get("type") == "typing":
                handoff = await handoffs.open_handoff(who.sender)
                if handoff is not None and handoff.status == "active":
                    await hub.to_agents(
                        {"type": "typing", "conversation": handoff.id, "on": bool(frame.get("on"))}, handoff.claimed_by
                    )
    finally:
        hub.remove_shopper(who.sender, socket)
    return socket


async def agent_stream(request: web.Request) -> web.WebSocketResponse:
    """``GET /agent/ws``: queue changes and live messages of the conversations this agent may read."""
    session = await live_session(request)
    if session is None:
        raise ApiError(401, "sign in at /agent/login first")
    if not same_origin(request):
        raise ApiError(403, "cross-origin WebSocket refused")
    agent: AgentIdentity = session.agent
    socket = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=16 * 1024)
    await socket.prepare(request)
    hub, handoffs = request.app[HUB], request.app[HANDOFFS]
    hub.agents[socket] = agent
    session.sockets.add(socket)  # closed when the session ends (logout, expiry, idle, account change)
    try:
        async for frame in client_frames(socket):
            if frame.get("type") == "typing" and isinstance(frame.get("conversation"), int):
                with contextlib.suppress(ConsoleError):
                    handoff = await handoffs.held_by(agent, frame["conversation"])
                    await hub.to_shopper(handoff.sender_id, {"type": "typing", "from": "agent", "on": bool(frame.get("on"))})
    finally:
        hub.agents.pop(socket, None)
        session.sockets.discard(socket)
    return socket
