"""The input channel through which the web gateway talks to Rasa.

Rasa's own REST and Socket.IO channels let the client choose the conversation id, so a
browser that learns someone else's id could read and write their conversation. Browsers
therefore never reach Rasa: the aiohttp gateway authenticates the shopper, derives the
sender id itself, and posts here with a shared bearer token. Only a holder of that token
can choose a sender.

Route: ``POST /webhooks/gateway/webhook`` with ``Authorization: Bearer <token>`` and the
JSON body ``{"sender": str, "message": str, "metadata": {...}, "payload"?: bool}``.

Rasa reads any message that starts with ``/`` as an intent with entities
(``/order_status{"order_number": ...}`` skips NLU, ``/restart`` un-pauses a conversation an
agent holds). A shopper's typed text must never do that, so unless the gateway says
``"payload": true`` (it checked the payload is a button the bot offered in that
conversation) a leading ``/`` is neutralized: a word joiner (U+2060, invisible, not
whitespace, so Rasa's ``strip()`` keeps it) goes in front, and the message is read as
text by NLU and shown as typed. Replies are collected
and returned as one JSON list, like Rasa's REST channel (without its ``stream`` option,
which the gateway does not use). A message whose metadata carries a ``client_message_id``
the conversation already holds is answered from it, not handled again
(:mod:`rasa_addons.message_once`). The token comes from
``credentials.yml`` (``token: ${GATEWAY_TOKEN}``, expanded by Rasa when it reads the
file); the channel refuses to start without one.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_addons.message_once import handle_once

log = logging.getLogger(__name__)

BEARER_PREFIX = "Bearer "
TEXT_GUARD = "\u2060"  # WORD JOINER: in front of a typed "/..." so Rasa reads it as text


def as_text(message: str) -> str:
    """``message`` as Rasa will read it when it is typed text, never an intent."""
    return TEXT_GUARD + message if message.strip().startswith("/") else message


class GatewayInput(RestInput):
    """REST-style channel that only accepts requests bearing the gateway's token."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("GatewayInput needs a non-empty token")
        self._token = token

    @classmethod
    def name(cls) -> str:
        """URL prefix of the channel: ``/webhooks/gateway/``."""
        return "gateway"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> GatewayInput:
        """Build the channel from ``credentials.yml``; a missing token stops Rasa's start."""
        token = (credentials or {}).get("token")
        if not token:
            cls.raise_missing_credentials_exception()
        return cls(str(token))

    def is_authorized(self, request: Request) -> bool:
        """Whether the request carries the gateway's bearer token (constant-time check)."""
        header = request.headers.get("Authorization", "")
        if not header.startswith(BEARER_PREFIX):
            return False
        offered = header[len(BEARER_PREFIX) :].strip()
        return hmac.compare_digest(offered.encode(), self._token.encode())

    def _extract_message(self, req: Request) -> str | None:
        """The message; typed text (no ``"payload": true``) is never parsed as an intent."""
        body = req.json or {}
        message = body.get("message")
        if not isinstance(message, str) or body.get("payload") is True:
            return message
        return as_text(message)

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        """Pass the body's ``metadata`` object (e.g. the signed customer token) to the tracker."""
        metadata = (request.json or {}).get("metadata")
        return metadata if isinstance(metadata, dict) else None

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """RestInput's two routes, guarded by the bearer token and a body shape check, each
        message handled once per client id."""
        blueprint = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            collector = CollectingOutputChannel()
            message = UserMessage(self._extract_message(request), collector, await self._extract_sender(request),
                                  input_channel=self.name(), metadata=self.get_metadata(request))
            try:
                await handle_once(request.app.ctx.agent, message, on_new_message)
            except asyncio.CancelledError:
                log.error("gateway: the turn was cancelled (the client went away)")
            except Exception:  # as RestInput: the caller gets what was said so far, the error goes to the log
                log.exception("gateway: the turn failed")
            return response.json(collector.messages)

        @blueprint.middleware("request")
        async def require_gateway_token(request: Request) -> HTTPResponse | None:
            if not self.is_authorized(request):
                return response.json(
                    {"error": "unauthorized"},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            if request.method == "POST":
                body = request.json
                if not (
                    isinstance(body, dict)
                    and isinstance(body.get("sender"), str)
                    and body["sender"]
                    and isinstance(body.get("message"), str)
                    and isinstance(body.get("payload", False), bool)
                ):
                    return response.json(
                        {"error": "body must be {sender: str, message: str, metadata?: object, payload?: bool}"},
                        status=400,
                    )
            return None

        return blueprint
