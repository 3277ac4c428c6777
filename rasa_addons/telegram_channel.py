"""Rasa's Telegram connector, able to talk to a self-hosted Telegram Bot API server.

Rasa 3.6's ``telegram`` channel always calls ``https://api.telegram.org``, and it sets
the webhook with ``asyncio.run`` every time it builds an output channel, which fails
inside the running server (e.g. when the agent console delivers an agent's reply with
``POST /conversations/{id}/tracker/events?output_channel=telegram``). This subclass keeps
the connector's webhook handling unchanged and adds:

- ``api_url`` (optional): the Bot API server, for a local ``telegram-bot-api`` server
  (https://github.com/tdlib/telegram-bot-api) or a recording server in tests;
- the webhook is set once, when Rasa starts, by a short-lived client.

credentials.yml::

    rasa_addons.telegram_channel.TelegramInput:
      access_token: ${TELEGRAM_ACCESS_TOKEN}
      verify: ${TELEGRAM_BOT_NAME}
      webhook_url: https://your-domain.example/webhooks/telegram/webhook
      # api_url: http://127.0.0.1:8081
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.bot.api import TELEGRAM_PRODUCTION, TelegramAPIServer
from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels import telegram
from rasa.core.channels.channel import UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint


class TelegramOutput(telegram.TelegramOutput):
    """Rasa's Telegram output, sending to ``server``."""

    def __init__(self, access_token: str | None, server: TelegramAPIServer = TELEGRAM_PRODUCTION) -> None:
        Bot.__init__(self, access_token, server=server)


class TelegramInput(telegram.TelegramInput):
    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(
            credentials.get("access_token"), credentials.get("verify"), credentials.get("webhook_url"),
            api_url=credentials.get("api_url"),
        )

    def __init__(
        self, access_token: str | None, verify: str | None, webhook_url: str | None,
        debug_mode: bool = True, api_url: str | None = None,
    ) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode)
        self.server = TelegramAPIServer.from_base(api_url.rstrip("/")) if api_url else TELEGRAM_PRODUCTION

    def get_output_channel(self) -> TelegramOutput:
        return TelegramOutput(self.access_token, self.server)

    async def _set_webhook(self) -> None:
        bot = self.get_output_channel()
        try:
            await bot.set_webhook(url=self.webhook_url)
        finally:
            await bot.close()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The stock webhook routes; the webhook is registered with Telegram once, here."""
        try:
            asyncio.run(self._set_webhook())
        except TelegramAPIError as error:
            raise RasaException("Failed to set channel webhook: " + str(error)) from error
        return super().blueprint(on_new_message)
