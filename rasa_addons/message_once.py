"""A shopper's message with a client id is handled once, however often the client sends it.

A shopper whose message meets a part that is down gets the web app's honest 503 and the
client sends the same message again, with the same ``client_message_id`` in the metadata
(``POST /api/chat`` ``"message_id"``). If the first attempt reached Rasa (its answer was
lost on the way back, or the web app stopped waiting for a turn Rasa was still working
on), handling it again would put it in the conversation twice and run its actions twice.

So, under the conversation's lock (the lock store: Redis in production, shared by every
replica), the tracker is read first: when it already holds a user message with that id
(since the last restart), the bot's replies that followed it are sent back and nothing
is handled or stored. Under the lock, because Rasa saves a turn only when it has finished
it: a retry racing the first attempt waits for it and then finds it. The id is stored
nowhere else than in the user event's metadata, so nothing needs cleaning up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

CLIENT_MESSAGE_ID = "client_message_id"


def client_message_id(message: UserMessage) -> str | None:
    value = (message.metadata or {}).get(CLIENT_MESSAGE_ID)
    return value if isinstance(value, str) and value else None


def _by_bot(event: BotUttered) -> bool:
    """A message the bot wrote, not an agent's or the console's (they carry ``from``)."""
    return (event.metadata or {}).get("from") not in ("agent", "system")


def earlier_replies(tracker: DialogueStateTracker, message_id: str) -> list[BotUttered] | None:
    """The bot's messages after the stored user message with ``message_id`` (up to the
    shopper's next one), ``[]`` when it said nothing; None when no such message is stored."""
    found: list[BotUttered] | None = None
    for event in tracker.events_after_latest_restart():
        if isinstance(event, UserUttered):
            if found is not None:
                break  # the shopper's next message ends that turn
            if (event.metadata or {}).get(CLIENT_MESSAGE_ID) == message_id:
                found = []
        elif found is not None and isinstance(event, BotUttered) and _by_bot(event):
            found.append(event)
    return found


async def handle_once(agent: Agent, message: UserMessage, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
    """Handle ``message`` through Rasa as usual, unless the conversation already holds its
    client id: then send the bot's earlier messages again on the message's output channel,
    as Rasa sent them the first time (``BotUttered.message()``)."""
    message_id = client_message_id(message)
    if message_id is None or not agent.is_ready() or agent.processor is None:
        await on_new_message(message)
        return
    async with agent.lock_store.lock(message.sender_id):
        tracker = await agent.tracker_store.retrieve(message.sender_id)
        earlier = earlier_replies(tracker, message_id) if tracker is not None else None
        if earlier is None:
            await agent.processor.handle_message(message)  # what Agent.handle_message does inside the lock
            return
    for event in earlier:
        await message.output_channel.send_response(message.sender_id, event.message())
