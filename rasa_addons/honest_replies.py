"""The honest message on every messaging channel when the bot could not answer, handled once, in Rasa.

Rasa logs a failed or timed-out action and carries on without its messages, so the shopper
would get silence. The web gateway turns a silent turn into an honest message; messaging
channels post to Rasa directly, so every connector of ours hands a shopper's message to
:func:`handle_honestly`, which watches what the turn sends and, when it sent nothing and the
conversation is not held by an agent (a hold is meant to silence the bot), sends the same
words as the web gateway (:data:`rasa_addons.rendering.NO_REPLY`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic.request import Request

from rasa_addons.rendering import NO_REPLY

log = logging.getLogger(__name__)


class WatchedOutput(OutputChannel):
    """An output channel that passes every reply on and counts them."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.sent = 0

    def name(self) -> str:  # type: ignore[override]  # the wrapped channel's name, per instance
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent += 1
        await self.inner.send_response(recipient_id, message)


async def held_by_agent(request: Request, sender_id: str) -> bool:
    """Whether an agent holds the conversation (Rasa keeps it paused), so silence is intended."""
    tracker = await request.app.ctx.agent.tracker_store.retrieve(sender_id)
    return tracker is not None and tracker.is_paused()


async def handle_honestly(
    request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage
) -> None:
    """Let Rasa handle ``message``; if that sent the shopper nothing, say so honestly."""
    watched = WatchedOutput(message.output_channel)
    message.output_channel = watched
    failed = False
    try:
        await on_new_message(message)
    except Exception:  # Rasa's own failure (lock, tracker store): the shopper still hears from us
        log.exception("%s message could not be handled", watched.name())
        failed = True
    if watched.sent or (not failed and await held_by_agent(request, message.sender_id)):
        return
    log.warning("no reply on %s for a shopper's message; sending the honest message", watched.name())
    await watched.inner.send_response(message.sender_id, {"text": NO_REPLY})
