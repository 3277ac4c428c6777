"""``GET /agent/ws``: the agent console's live channel (framing in :mod:`assistant.web.live.frames`)."""

from __future__ import annotations

import contextlib

from aiohttp import web

from assistant.web.console.auth import same_origin
from assistant.web.console.keys import AGENT_SESSIONS
from assistant.web.console.views import live_session
from assistant.web.live.frames import HEARTBEAT_SECONDS, client_frames
from assistant.web.live.handoffs import ConsoleError
from assistant.web.live.hub import AgentIdentity
from assistant.web.live.keys import HANDOFFS, HUB
from assistant.web.middlewares import ApiError


async def agent_stream(request: web.Request) -> web.WebSocketResponse:
    """Queue changes and live messages of the conversations this agent may read."""
    session = await live_session(request)
    if session is None:
        raise ApiError(401, "sign in at /agent/login first")
    if not same_origin(request):
        raise ApiError(403, "cross-origin WebSocket refused")
    agent: AgentIdentity = session.agent
    socket = web.WebSocketResponse(heartbeat=HEARTBEAT_SECONDS, max_msg_size=16 * 1024)
    await socket.prepare(request)
    hub, handoffs, sessions = request.app[HUB], request.app[HANDOFFS], request.app[AGENT_SESSIONS]
    hub.agents[socket] = agent
    sessions.attach(session, socket)  # closed when the session ends (logout, expiry, idle, account change)
    try:
        async for frame in client_frames(socket):
            if frame.get("type") == "typing" and isinstance(frame.get("conversation"), int):
                with contextlib.suppress(ConsoleError):
                    handoff = await handoffs.held_by(agent, frame["conversation"])
                    await hub.to_shopper(handoff.sender_id, {"type": "typing", "from": "agent", "on": bool(frame.get("on"))})
    finally:
        hub.agents.pop(socket, None)
        sessions.detach(session, socket)
    return socket
