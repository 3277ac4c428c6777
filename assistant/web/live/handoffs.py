"""What agents do to a conversation (claim, reply, hand back, close), over the store and Rasa.

The database decides who holds a conversation (an atomic claim); Rasa holds the
conversation itself. While an agent holds it the tracker is paused (Rasa's
``ConversationPaused``), so the bot stays silent on every channel while shopper messages
still land in the transcript. An agent's words are appended as bot events marked
``{"from": "agent"}``; for a messaging channel Rasa also delivers them there
(``execute_side_effects`` on the channel the shopper used).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from assistant.backend.outbox import tell_store
from assistant.handoff_queue import estimate_wait_minutes, next_opening
from assistant.observe.csat import QUESTION as CSAT_QUESTION
from assistant.observe.csat import csat_buttons
from assistant.settings import Settings
from assistant.store.db import Store, UnitOfWork
from assistant.store.models import HandoffRequest, utcnow
from assistant.store_policy import StorePolicy
from assistant.web.live.hub import AgentIdentity, Hub
from assistant.web.live.profile import customer_profile
from assistant.web.live.shared import Marks, MemoryMarks
from assistant.web.rasa_client import RasaClient, transcript

log = logging.getLogger(__name__)

T = TypeVar("T")
QUEUE_PAGE = 200  # requests the console lists at once
WEB_CHANNEL = "gateway"  # Rasa's name for the channel the web app talks to (rasa_addons.gateway_channel)


class ConsoleError(Exception):
    """An agent request that cannot be done; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Handoff:
    """A snapshot of one handoff row, safe to use outside its database session."""

    id: int
    sender_id: str
    channel: str
    status: str
    reason: str | None
    customer_id: str | None
    created_at: datetime
    claimed_by: int | None
    claimed_by_name: str | None
    claimed_by_display: str | None  # the holder's display name, for shoppers
    claimed_at: datetime | None
    after_hours: bool
    left_message: str | None

    @property
    def output_channel(self) -> str | None:
        """The channel Rasa must deliver on; the web widget gets its pushes from us instead."""
        return None if self.channel == WEB_CHANNEL else self.channel

    def as_json(self) -> dict[str, Any]:
        since = self.claimed_at if self.status == "active" and self.claimed_at else self.created_at
        return {
            "id": self.id, "sender": self.sender_id, "channel": self.channel, "status": self.status,
            "reason": self.reason, "customer_id": self.customer_id, "claimed_by": self.claimed_by_name,
            "after_hours": self.after_hours, "left_message": self.left_message,
            "created_at": self.created_at.isoformat(), "waiting_seconds": int((utcnow() - since).total_seconds()),
        }


def _snapshot(uow: UnitOfWork, row: HandoffRequest) -> Handoff:
    agent = uow.agents.get(row.claimed_by) if row.claimed_by is not None else None
    return Handoff(
        row.id, row.sender_id, row.channel, row.status, row.reason, row.customer_id, row.created_at,
        row.claimed_by, agent.username if agent else None, agent.display_name if agent else None, row.claimed_at,
        row.after_hours, row.left_message,
    )


def bot_event(text: str, author: str, agent_name: str | None = None) -> dict[str, Any]:
    """A bot-uttered event written by the console: ``author`` is "agent" or "system"."""
    metadata = {"from": author, **({"agent_name": agent_name} if agent_name else {})}
    return {"event": "bot", "text": text, "metadata": metadata, "timestamp": time.time()}


RESUME_EVENTS = [
    {"event": "resume", "timestamp": None},
    {"event": "action", "name": "action_listen", "policy": None, "confidence": None, "timestamp": None},
]


class HandoffService:
    def __init__(
        self, store: Store, rasa: RasaClient, hub: Hub, policy: StorePolicy,
        marks: Marks | None = None, settings: Settings | None = None,
    ) -> None:
        self.store, self.rasa, self.hub, self.policy = store, rasa, hub, policy
        self.settings = settings  # for telling the store's backend a handoff closed (when one is configured)
        self._locks: dict[str, asyncio.Lock] = {}
        # sender -> last tracker event index pushed to agents (in Redis when replicas share the work)
        self.marks: Marks = marks or MemoryMarks()

    async def _db(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run ``work`` in one transaction on a worker thread (the driver is synchronous)."""

        def run() -> T:
            with self.store.unit_of_work() as uow:
                return work(uow)

        return await asyncio.to_thread(run)

    # -- reading ---------------------------------------------------------------------------

    async def open_handoff(self, sender: str) -> Handoff | None:
        """The conversation's open handoff; ``None`` also when the store is unreachable,
        so the shopper still reaches the bot (whose actions say the store is down)."""

        def find(uow: UnitOfWork) -> Handoff | None:
            row = uow.handoffs.open_for_sender(sender)
            return _snapshot(uow, row) if row else None

        try:
            return await self._db(find)
        except SQLAlchemyError as error:
            log.warning("handoff check skipped, store unreachable: %s", error)
            return None

    async def queue(self) -> list[Handoff]:
        return await self._db(lambda uow: [_snapshot(uow, row) for row in uow.handoffs.list_open()])

    async def console_queue(self, limit: int = QUEUE_PAGE) -> tuple[list[Handoff], int]:
        """What the console lists, and how many requests are open in all (held conversations,
        then signed-in customers', then guests': ``HandoffRepository.console_page``)."""

        def read(uow: UnitOfWork) -> tuple[list[Handoff], int]:
            rows, total = uow.handoffs.console_page(limit)
            return [_snapshot(uow, row) for row in rows], total

        return await self._db(read)

    async def wait_minutes(self, handoff_id: int) -> int:
        def estimate(uow: UnitOfWork) -> int:
            row = uow.handoffs.get(handoff_id)
            return estimate_wait_minutes(uow.handoffs, row) if row else 1

        return await self._db(estimate)

    async def readable(self, agent: AgentIdentity, handoff_id: int) -> Handoff:
        """The handoff if this agent may read it; 404 or 403 otherwise."""
        handoff = await self._db(lambda uow: (row := uow.handoffs.get(handoff_id)) and _snapshot(uow, row))
        if not handoff:
            raise ConsoleError(404, "no such conversation")
        if not agent.may_read(handoff.claimed_by):
            raise ConsoleError(403, f"this conversation is held by {handoff.claimed_by_name}")
        return handoff

    async def held_by(self, agent: AgentIdentity, handoff_id: int) -> Handoff:
        """The handoff if this agent holds it (or is an admin and someone does)."""
        handoff = await self.readable(agent, handoff_id)
        if handoff.status != "active":
            raise ConsoleError(409, "claim the conversation first" if handoff.status == "waiting" else "it is closed")
        return handoff

    async def details(self, agent: AgentIdentity, handoff_id: int) -> dict[str, Any]:
        """Everything the console shows for one conversation."""
        handoff = await self.readable(agent, handoff_id)
        tracker = await self.rasa.tracker(handoff.sender_id)
        messages = transcript(tracker)
        last_products: list[dict[str, Any]] | None = next(
            (m["custom"].get("products") for m in reversed(messages)
             if m["from"] == "bot" and isinstance(m["custom"], dict) and m["custom"].get("type") == "products"),
            [],
        )
        profile = await self._db(lambda uow: customer_profile(uow, handoff.customer_id, handoff.sender_id))
        csat = await self._db(lambda uow: csat_of(uow, handoff.sender_id))
        return {"handoff": handoff.as_json(), "transcript": messages, "profile": profile, "last_results": last_products,
                "csat": csat}

    # -- acting ----------------------------------------------------------------------------

    async def _say(self, handoff: Handoff, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Append events (ending with a bot message) and return that message with its id."""
        tracker = await self.rasa.append_events(handoff.sender_id, events, handoff.output_channel)
        appended = tracker.get("events") or []
        return transcript(tracker, after=len(appended) - 1 - len(events))

    async def claim(self, agent: AgentIdentity, handoff_id: int) -> Handoff:
        if not await self._db(_committed(lambda uow: uow.handoffs.claim(handoff_id, agent.id))):
            if await self._db(lambda uow: uow.handoffs.get(handoff_id)) is None:
                raise ConsoleError(404, "no such conversation")
            raise ConsoleError(409, "this conversation is already taken or closed")
        handoff = await self.readable(agent, handoff_id)
        joined = bot_event(f"{agent.display_name} from our team has joined the conversation.", "system")
        try:
            messages = await self._say(handoff, [{"event": "pause", "timestamp": None}, joined])
        except Exception:
            await self._db(_committed(lambda uow: _unclaim(uow, handoff_id)))
            raise
        # Everything after the join is news for the agent, even if the watcher has not looked
        # at this conversation yet (on a busy store its first look would take the shopper's
        # next message as already seen).
        await self.marks.raise_to(handoff.sender_id, int(messages[-1]["id"]))
        await self.hub.to_shopper(handoff.sender_id, {"type": "handoff", "state": "agent_joined", "agent_name": agent.display_name})
        await self._push(handoff, messages)
        self.hub.wake.set()
        return handoff

    async def reply(self, agent: AgentIdentity, handoff_id: int, text: str) -> dict[str, Any]:
        handoff = await self.held_by(agent, handoff_id)
        [message] = await self._say(handoff, [bot_event(text, "agent", agent.display_name)])
        await self._push(handoff, [message])
        return message

    async def finish(self, agent: AgentIdentity, handoff_id: int, how: str) -> None:
        """``how`` = "bot": hand back, the bot carries on; "closed": the agent ends the chat."""
        handoff = await self.held_by(agent, handoff_id)
        text = (
            "You're back with the shop assistant. I still have our conversation, so just carry on: "
            "ask me about products, your order or your cart."
            if how == "bot"
            else "Our team has closed this conversation. Thanks for chatting! I'm here if you need anything else."
        )
        # Rasa first: if it is down, the agent still holds a paused conversation and can retry.
        # The CSAT question follows (issue #14): its buttons are answered through the bot.
        csat = {**bot_event(CSAT_QUESTION, "system"), "data": {"buttons": csat_buttons()}}
        messages = await self._say(handoff, [*RESUME_EVENTS, bot_event(text, "system"), csat])
        await self._db(_committed(lambda uow: self._close(uow, handoff_id, how)))
        state = "bot_resumed" if how == "bot" else "closed"
        await self.hub.to_shopper(handoff.sender_id, {"type": "handoff", "state": state})
        await self._push(handoff, messages)
        self.hub.wake.set()

    async def withdraw(self, handoff: Handoff, text: str) -> list[dict[str, Any]]:
        """Close a request no agent has taken (over the per-address cap), resume the bot and
        tell the shopper ``text``; returns that notice."""
        messages = await self._say(handoff, [*RESUME_EVENTS, bot_event(text, "system")])
        await self._db(_committed(lambda uow: self._close(uow, handoff.id, "closed")))
        await self.hub.to_agents({"type": "queue"})
        return messages

    def _close(self, uow: UnitOfWork, handoff_id: int, how: str) -> None:
        """Close the handoff and, in the same transaction, tell the store's backend (when configured)."""
        row = uow.handoffs.get(handoff_id)
        if row is None:
            return
        uow.handoffs.close(row, how)
        if self.settings is not None:
            tell_store(uow, self.settings, "handoff_closed", {
                "handoff_id": row.id, "customer_id": row.customer_id, "channel": row.channel, "how": how,
            }, key=f"handoff_closed:{row.id}")

    async def _push(self, handoff: Handoff, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            if handoff.channel == WEB_CHANNEL:
                await self.hub.to_shopper(handoff.sender_id, {"type": "message", "message": message})
            await self.hub.to_agents(
                {"type": "message", "conversation": handoff.id, "message": message}, handoff.claimed_by
            )

    # -- watching held conversations -------------------------------------------------------

    async def sync(self, handoff: Handoff) -> list[dict[str, Any]]:
        """Push this conversation's new transcript turns to agents; take a left message.

        Called by the watcher for every open handoff and by ``/api/chat``; returns the
        notices sent to the shopper (the thanks for a left message).
        """
        lock = self._locks.setdefault(handoff.sender_id, asyncio.Lock())
        async with lock:
            tracker = await self.rasa.tracker(handoff.sender_id)
            events = tracker.get("events") or []
            seen = await self.marks.get(handoff.sender_id)
            await self.marks.set(handoff.sender_id, len(events) - 1)
            for message in transcript(tracker, after=len(events) - 1 if seen is None else seen):
                await self.hub.to_agents({"type": "message", "conversation": handoff.id, "message": message}, handoff.claimed_by)
            if handoff.status == "waiting" and handoff.after_hours and handoff.left_message is None and tracker.get("paused"):
                paused_at = max((i for i, event in enumerate(events) if event.get("event") == "pause"), default=len(events))
                words = [m["text"] for m in transcript(tracker, after=paused_at) if m["from"] == "user" and m["text"]]
                if words:
                    return await self._take_left_message(handoff, "\n".join(words))
            return []

    async def _take_left_message(self, handoff: Handoff, text: str) -> list[dict[str, Any]]:
        def record(uow: UnitOfWork) -> None:
            row = uow.handoffs.get(handoff.id)
            if row is not None and row.left_message is None:
                row.left_message = text
                uow.commit()

        await self._db(record)
        opening = next_opening(self.policy)
        back = f"They're back {opening} ({self.policy.support_timezone} time)" if opening else "They'll be back soon"
        thanks = bot_event(
            f"Thanks, I've passed your message on to our team. {back} and will answer right here. "
            "Meanwhile I'm happy to keep helping with products, orders or your cart.",
            "system",
        )
        messages = await self._say(handoff, [*RESUME_EVENTS, thanks])
        await self.marks.raise_to(handoff.sender_id, int(messages[-1]["id"]))
        await self._push(handoff, messages)  # the widget drops what it already has (same ids)
        await self.hub.to_agents({"type": "queue"})
        return messages

    async def forget(self, open_senders: set[str]) -> None:
        """Drop the watch state of conversations that are no longer open."""
        await self.marks.keep_only(open_senders)
        for sender in set(self._locks) - open_senders:
            self._locks.pop(sender, None)


def csat_of(uow: UnitOfWork, sender_id: str) -> list[dict[str, Any]]:
    """The conversation's CSAT answers, newest first, as the console shows them beside it."""
    return [
        {"rating": row.rating, "comment": row.comment, "at": row.at.isoformat(), "handoff_id": row.handoff_id}
        for row in uow.analytics.ratings_for([sender_id])
    ]


def _committed(work: Callable[[UnitOfWork], T]) -> Callable[[UnitOfWork], T]:
    """``work`` followed by a commit of its unit of work (for :meth:`HandoffService._db`)."""

    def run(uow: UnitOfWork) -> T:
        result = work(uow)
        uow.commit()
        return result

    return run


def _unclaim(uow: UnitOfWork, handoff_id: int) -> None:
    row = uow.handoffs.get(handoff_id)
    if row is not None:
        row.status, row.claimed_by, row.claimed_at = "waiting", None, None
