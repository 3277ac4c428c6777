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


def conversation_id(channel: str, user_id: str) -> str:
    """``<channel>-<platform user id>``: ids of different platforms never meet in one conversation (a
    Telegram chat id may equal a WhatsApp number), and hold nothing a URL path would encode."""
    return f"{channel}-{user_id}"


def platform_user(channel: str, conversation: str) -> str:
    """The platform's user id of a conversation, to send to."""
    prefix = f"{channel}-"
    return conversation[len(prefix):] if conversation.startswith(prefix) else conversation


async def handle_shopper_message(
    request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage
) -> None:
    """Link/unlink, identify, then let Rasa answer (honestly)."""
    channel, sender, text = message.input_channel or "", message.sender_id, message.text or ""
    account = platform_user(channel, sender)
    answer = await answer_link_message(channel, account, text)
    if answer is not None:
        await message.output_channel.send_response(sender, {"text": answer})
        return
    token = await linked_customer_token(channel, account)
    if token is not None:
        message.metadata = {**(message.metadata or {}), "customer_token": token}
    await handle_honestly(request, on_new_message, message)
