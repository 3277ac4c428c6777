"""The one path every messaging connector hands a shopper's message to Rasa by.

In order: a link or unlink message is answered here and goes no further
(:mod:`rasa_addons.account_links`); a linked account's message carries a fresh customer
token in its metadata, as the web gateway's do; then Rasa handles it, with the honest
message when the turn said nothing (:mod:`rasa_addons.honest_replies`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from sanic.request import Request

from rasa_addons.account_links import answer_link_message, linked_customer_token
from rasa_addons.honest_replies import handle_honestly


async def handle_shopper_message(
    request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage
) -> None:
    """Link/unlink, identify, then let Rasa answer (honestly)."""
    channel, sender, text = message.input_channel or "", message.sender_id, message.text or ""
    answer = await answer_link_message(channel, sender, text)
    if answer is not None:
        await message.output_channel.send_response(sender, {"text": answer})
        return
    token = await linked_customer_token(channel, sender)
    if token is not None:
        message.metadata = {**(message.metadata or {}), "customer_token": token}
    await handle_honestly(request, on_new_message, message)
