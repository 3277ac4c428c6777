"""The WebSocket framing both live channels use (the shopper's widget and the agent console).

Both only carry notifications; anything that matters is also in the Rasa transcript, so
a client that reconnects catches up with ``/api/history?after=<id>`` (widget) or by
reloading the conversation (console).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from assistant.web.live.handoffs import Handoff
from assistant.web.middlewares import ApiError
from assistant.web.parsing import parse_json
from assistant.web.rate_limit import WS_FRAMES, RateLimited

HEARTBEAT_SECONDS = 25


def frame_object(raw: str) -> dict[str, Any]:
    """A text frame as a JSON object; anything else is an empty object (ignored)."""
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
        frame = frame_object(message.data)
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
