"""Fan-out of live events to the open WebSockets (shoppers' widgets, agents' consoles).

Each web process holds its own sockets in dictionaries. With one process (the demo profile)
``to_shopper``/``to_agents`` deliver straight to them; with several replicas a
:class:`~assistant.web.live.relay.RedisRelay` publishes each message, and every replica
(this one included) delivers it to the sockets it holds. Nothing is only delivered here:
every message is in the Rasa tracker first, and a client that missed a push (closed tab,
network drop, a Redis outage) reads it from the transcript when it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import web


@dataclass(frozen=True)
class AgentIdentity:
    """Who is behind an agent socket or request."""

    id: int
    username: str
    role: str
    display_name: str = "Support"  # what shoppers see; the username stays in the console

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may_read(self, holder_id: int | None) -> bool:
        """Unclaimed conversations are open to every agent; claimed ones to the holder and admins."""
        return holder_id is None or holder_id == self.id or self.is_admin


class Publisher(Protocol):
    async def publish(self, message: dict[str, Any]) -> bool:
        """Send ``message`` to every replica's hub; ``False`` when it could not be sent."""
        ...


@dataclass
class Hub:
    shoppers: dict[str, set[web.WebSocketResponse]] = field(default_factory=lambda: defaultdict(set))
    agents: dict[web.WebSocketResponse, AgentIdentity] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # run a watch pass now
    relay: Publisher | None = None  # set when several replicas share the live updates

    async def _send(self, socket: web.WebSocketResponse, payload: dict[str, Any]) -> None:
        if socket.closed:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            await socket.send_json(payload)

    async def to_shopper(self, sender: str, payload: dict[str, Any]) -> None:
        """Every open widget of this conversation (a shopper may have several tabs), on any replica."""
        await self._route({"to": "shopper", "sender": sender, "payload": payload})

    async def to_agents(self, payload: dict[str, Any], holder_id: int | None = None) -> None:
        """Every agent allowed to read a conversation held by ``holder_id``, on any replica."""
        await self._route({"to": "agents", "holder": holder_id, "payload": payload})

    async def _route(self, message: dict[str, Any]) -> None:
        # If the relay is down, this replica's own sockets still get the message.
        if self.relay is None or not await self.relay.publish(message):
            await self.deliver(message)

    async def deliver(self, message: dict[str, Any]) -> None:
        """Hand a routed message to the sockets this process holds (the relay calls this)."""
        payload = message.get("payload")
        if not isinstance(payload, dict):
            return
        if message.get("to") == "shopper" and isinstance(message.get("sender"), str):
            for socket in list(self.shoppers.get(message["sender"], ())):
                await self._send(socket, payload)
        elif message.get("to") == "agents":
            holder = message.get("holder")
            for socket, agent in list(self.agents.items()):
                if agent.may_read(holder if isinstance(holder, int) else None):
                    await self._send(socket, payload)

    def add_shopper(self, sender: str, socket: web.WebSocketResponse) -> None:
        self.shoppers[sender].add(socket)

    def remove_shopper(self, sender: str, socket: web.WebSocketResponse) -> None:
        sockets = self.shoppers.get(sender)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self.shoppers[sender]

    async def close_all(self) -> None:
        """``on_shutdown``: close every socket so the server can stop without waiting."""
        sockets = [*self.agents, *(socket for group in self.shoppers.values() for socket in group)]
        for socket in sockets:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await socket.close(code=1001, message=b"server shutdown")
