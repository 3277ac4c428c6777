"""``GET /api/chat/stream``: the shopper's live channel (agent messages, handoff state, typing).

It only carries notifications; the widget posts what the shopper types to ``/api/chat``
and catches up after a reconnect with ``/api/history?after=<id>``.
"""

from __future__ import annotations

import asyncio

from aiohttp import WSMsgType, web

from assistant.web.keys import RATE_LIMITER
from assistant.web.live.frames import HEARTBEAT_SECONDS, client_frames, frame_object, handoff_state
from assistant.web.live.keys import HANDOFFS, HUB
from assistant.web.middlewares import ApiError
from assistant.web.rate_limit import WS_FRAMES, client_address
from assistant.web.views_chat import shopper

AUTH_TIMEOUT_SECONDS = 10


async def shopper_stream(request: web.Request) -> web.WebSocketResponse:
    """The first frame is ``{"type": "auth", "customer_token"?: str}``."""
    socket = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=16 * 1024)
    await socket.prepare(request)
    try:
        first = await socket.receive(timeout=AUTH_TIMEOUT_SECONDS)
    except asyncio.TimeoutError:
        await socket.close(code=4401, message=b"send an auth frame first")
        return socket
    frame = frame_object(first.data) if first.type == WSMsgType.TEXT else {}
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
