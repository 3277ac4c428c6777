"""Rasa's Telegram connector, authenticated, replay-proof, and never taking shopper text as an intent.

Rasa 3.6's ``telegram`` channel trusts every POST to its webhook (anyone who finds the URL
can speak for any chat), passes a shopper's ``/restart`` or ``/order_status{...}`` to Rasa
as an intent with entities (un-pausing a conversation an agent holds, or skipping NLU),
offers an unauthenticated ``/set_webhook`` route that re-registers the webhook, always calls
``https://api.telegram.org``, and sets the webhook with ``asyncio.run`` every time it builds
an output channel, which fails inside the running server. This subclass:

- registers the webhook once, at start-up, with a ``secret_token``, and answers 403 to any
  update whose ``X-Telegram-Bot-Api-Secret-Token`` header is not that secret (constant-time
  comparison); it refuses to start without a secret;
- answers 403 to an update it has already taken (same ``update_id``) or one older than
  Telegram keeps undelivered updates (a replay);
- hands shopper text (messages and edits) to Rasa as text: leading ``/`` are removed, so
  NLU parses it; only the ``callback_data`` of a button on the bot's own message (which
  Telegram sends back with the callback query) may carry an intent;
- serves only the health check and the webhook (no ``/set_webhook``);
- hands each message to :func:`rasa_addons.shopper_messages.handle_shopper_message`: a deep
  link ``/start <link token>`` links the chat to a customer, "unlink" undoes it, and a turn
  on which an action failed gets the honest message instead of silence;
- renders each reply natively (:mod:`rasa_addons.rendering`): the text with a short numbered
  product list and an inline keyboard ("Add 1. ..." per product, then the quick replies);
- talks to ``api_url`` (optional) instead of Telegram, for a self-hosted Bot API server
  (https://github.com/tdlib/telegram-bot-api) or a recording server in tests.

credentials.yml::

    rasa_addons.telegram_channel.TelegramInput:
      access_token: ${TELEGRAM_ACCESS_TOKEN}
      verify: ${TELEGRAM_BOT_NAME}
      webhook_url: https://your-domain.example/webhooks/telegram/webhook
      secret_token: ${TELEGRAM_SECRET_TOKEN}   # 1-256 of A-Z a-z 0-9 _ -
      # api_url: http://127.0.0.1:8081
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.bot.api import TELEGRAM_PRODUCTION, Methods, TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels import telegram
from rasa.core.channels.channel import UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_addons.rendering import Reply, numbered_list, shorten
from rasa_addons.shopper_messages import handle_shopper_message

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# What Telegram accepts as a webhook secret (Bot API, setWebhook).
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Telegram keeps an undelivered update for 24 hours; an older one can only be a replay.
MAX_UPDATE_AGE_SECONDS = 24 * 3600
REMEMBERED_UPDATES = 10_000
# Bot API limits.
TEXT_LIMIT, CAPTION_LIMIT, CALLBACK_DATA_BYTES, BUTTON_TEXT, MAX_LISTED = 4096, 1024, 64, 40, 10


def as_text(text: str) -> str:
    """Shopper text that Rasa's NLU will parse: without the leading ``/`` of intent syntax."""
    return text.lstrip().lstrip("/").lstrip()


class SeenUpdates:
    """The ``update_id``s already taken, so a replayed update is refused.

    Bounded: once ``capacity`` ids are remembered the oldest is forgotten, and every id at or
    below the highest forgotten one is refused from then on (Telegram numbers updates in
    increasing order, so a genuine update never falls below it). Lives in the Rasa process.
    """

    def __init__(self, capacity: int = REMEMBERED_UPDATES) -> None:
        self.capacity = capacity
        self._order: deque[int] = deque()
        self._ids: set[int] = set()
        self._floor: int | None = None

    def take(self, update_id: int) -> bool:
        """Record ``update_id``; ``False`` if it was taken before (or forgotten as too old)."""
        if update_id in self._ids or (self._floor is not None and update_id <= self._floor):
            return False
        self._ids.add(update_id)
        self._order.append(update_id)
        if len(self._order) > self.capacity:
            oldest = self._order.popleft()
            self._ids.discard(oldest)
            self._floor = oldest if self._floor is None else max(self._floor, oldest)
        return True


def bot_button(query: CallbackQuery) -> bool:
    """Whether the callback data is a button the bot itself put on the message it sent."""
    markup = query.message.reply_markup if query.message else None
    keyboard = markup.inline_keyboard if markup and markup.inline_keyboard else []
    return any(button.callback_data == query.data for row in keyboard for button in row)


def inline_keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """An "Add to cart" button per listed product, then the quick replies, one per row; buttons whose
    payload Telegram cannot carry (``callback_data`` is at most 64 bytes) are left out."""
    buttons = [(f"Add {n}. {shorten(card.title, BUTTON_TEXT)}", card.add_payload)
               for n, card in enumerate(reply.cards[:MAX_LISTED], start=1) if card.add_payload]
    buttons += [(shorten(b.title, BUTTON_TEXT), b.payload) for b in reply.buttons]
    rows = [[InlineKeyboardButton(title, callback_data=data)] for title, data in buttons
            if len(data.encode()) <= CALLBACK_DATA_BYTES]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


class TelegramOutput(telegram.TelegramOutput):
    """Rasa's Telegram output, sending to ``server``, each reply as one message with an inline keyboard."""

    def __init__(self, access_token: str | None, server: TelegramAPIServer = TELEGRAM_PRODUCTION) -> None:
        Bot.__init__(self, access_token, server=server)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Text, a short numbered product list and the keyboard together; never a raw payload."""
        reply = Reply.from_message(dict(message))
        if reply.empty:
            return
        text = reply.body(numbered_list(reply.cards, MAX_LISTED))
        keyboard = inline_keyboard(reply)
        if reply.image:
            await self.send_photo(recipient_id, reply.image, caption=shorten(text, CAPTION_LIMIT) or None,
                                  reply_markup=keyboard)
        else:
            await self.send_message(recipient_id, shorten(text or "Choose one:", TEXT_LIMIT), reply_markup=keyboard)


class TelegramInput(telegram.TelegramInput):
    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(
            credentials.get("access_token"), credentials.get("verify"), credentials.get("webhook_url"),
            api_url=credentials.get("api_url"), secret_token=credentials.get("secret_token"),
        )

    def __init__(
        self, access_token: str | None, verify: str | None, webhook_url: str | None,
        debug_mode: bool = True, api_url: str | None = None, secret_token: str | None = None,
    ) -> None:
        if not secret_token or not SECRET_TOKEN.fullmatch(str(secret_token)):
            raise RasaException(
                "The Telegram channel needs a secret_token (1-256 of A-Z a-z 0-9 _ -) in credentials.yml: "
                "without it anyone who finds the webhook URL could post as any chat."
            )
        super().__init__(access_token, verify, webhook_url, debug_mode)
        self.secret_token = str(secret_token)
        self.server = TelegramAPIServer.from_base(api_url.rstrip("/")) if api_url else TELEGRAM_PRODUCTION
        self.seen = SeenUpdates()

    def __repr__(self) -> str:
        return f"TelegramInput(verify={self.verify!r}, webhook_url={self.webhook_url!r})"

    def get_output_channel(self) -> TelegramOutput:
        return TelegramOutput(self.access_token, self.server)

    async def _set_webhook(self) -> None:
        """Register the webhook with its secret (aiogram 2.15 predates ``secret_token``)."""
        bot = self.get_output_channel()
        try:
            await bot.request(Methods.SET_WEBHOOK, {"url": self.webhook_url, "secret_token": self.secret_token})
        finally:
            await bot.close()

    def signed(self, request: Request) -> bool:
        """Whether the request carries the webhook's secret (constant-time comparison)."""
        offered = request.headers.get(SECRET_HEADER, "")
        return hmac.compare_digest(offered.encode(), self.secret_token.encode())

    def _text_and_message(self, update: Update) -> tuple[str | None, Message | None]:
        """What the shopper said, as Rasa should see it, and the message it belongs to."""
        if update.callback_query is not None:
            query = update.callback_query
            data = query.data or ""
            return (data if bot_button(query) else as_text(data)), query.message
        message = update.edited_message or update.message
        if message is None:
            return None, None
        if message.text is not None:
            return as_text(message.text), message
        if message.location is not None:
            return f'{{"lng":{message.location.longitude}, "lat":{message.location.latitude}}}', message
        return None, message

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The health check and the signed webhook; the webhook is registered with Telegram once, here."""
        try:
            asyncio.run(self._set_webhook())
        except TelegramAPIError as error:
            raise RasaException("Failed to set channel webhook: " + str(error)) from error
        telegram_webhook = Blueprint("telegram_webhook", __name__)
        out_channel = self.get_output_channel()

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            if not self.signed(request):
                return response.json({"error": "missing or wrong secret token"}, status=403)
            body = request.json
            if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
                return response.json({"error": "not a Telegram update"}, status=400)
            update = Update(**body)
            text, msg = self._text_and_message(update)
            if msg is not None and msg.date is not None and time.time() - msg.date.timestamp() > MAX_UPDATE_AGE_SECONDS:
                return response.json({"error": "update too old"}, status=403)
            if not self.seen.take(update.update_id):
                return response.json({"error": "update already received"}, status=403)
            if not text or msg is None or msg.chat is None:
                return response.text("success")
            credentials = await out_channel.get_me()
            if credentials.username != self.verify:
                log.debug("Invalid access token, check it matches Telegram")
                return response.text("failed")
            message = UserMessage(text, out_channel, str(msg.chat.id), input_channel=self.name(),
                                  metadata=self.get_metadata(request))
            await handle_shopper_message(request, on_new_message, message)  # linking, honest replies
            return response.text("success")

        return telegram_webhook
