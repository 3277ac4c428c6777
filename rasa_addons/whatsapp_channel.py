"""WhatsApp through Meta's Cloud API: signed webhooks, native lists and buttons, the 24-hour window.

- ``GET`` webhook: Meta's subscription handshake (``hub.verify_token`` compared in constant
  time, ``hub.challenge`` echoed).
- ``POST`` webhook: refused (403) unless ``X-Hub-Signature-256`` is the HMAC-SHA256 of the raw
  body under the app secret; a message id already taken, or a message older than Meta retries,
  is a replay (403). The channel refuses to start without ``app_secret`` and ``verify``.
- Text a shopper types is text for NLU; only the id of an interactive reply (a button or list
  row the bot itself sent) may carry an intent.
- Replies: quick replies as interactive reply buttons (at most 3) or a list (at most 10 rows),
  product lists as a list message whose rows add the product to the cart, images with captions.
- The customer-service window: a free-form message may only go out within 24 hours of the
  shopper's last message. Outside it (a cart reminder, an alert, a late agent reply) the
  configured approved ``template`` is sent instead, or the message is skipped and logged.
  The window is kept in the Rasa process (a restart forgets it until the shopper writes).

credentials.yml::

    rasa_addons.whatsapp_channel.WhatsAppInput:
      access_token: ${WHATSAPP_ACCESS_TOKEN}
      phone_number_id: ${WHATSAPP_PHONE_NUMBER_ID}
      app_secret: ${WHATSAPP_APP_SECRET}
      verify: ${WHATSAPP_VERIFY_TOKEN}
      # template: shop_update        # approved template for messages outside the 24-hour window
      # template_language: en_US
      # api_url: https://graph.facebook.com/v19.0
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint
from sanic.request import Request

from rasa_addons.meta_webhook import Incoming, meta_webhook
from rasa_addons.platform_api import post
from rasa_addons.rendering import Button, Card, RenderedOutput, Reply, numbered_list, shorten, typed_text
from rasa_addons.shopper_messages import conversation_id, handle_shopper_message, platform_user
from rasa_addons.webhook_security import SeenIds, require

log = logging.getLogger(__name__)

GRAPH_API = "https://graph.facebook.com/v19.0"
WINDOW_SECONDS = 24 * 3600
# Cloud API limits (interactive messages reference).
TEXT_LIMIT, BODY_LIMIT, CAPTION_LIMIT = 4096, 1024, 1024
MAX_BUTTONS, BUTTON_TITLE, BUTTON_ID = 3, 20, 256
MAX_ROWS, ROW_TITLE, ROW_DESCRIPTION, ROW_ID, LIST_BUTTON, SECTION_TITLE = 10, 24, 72, 200, 20, 24


class ServiceWindow:
    """When each shopper last wrote, so replies outside the 24-hour window become templates."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def opened(self, wa_id: str, at: float) -> None:
        self._last[wa_id] = max(at, self._last.get(wa_id, 0.0))

    def open(self, wa_id: str) -> bool:
        return time.time() - self._last.get(wa_id, 0.0) < WINDOW_SECONDS


def text_message(text: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": shorten(text, TEXT_LIMIT), "preview_url": False}}


def reply_buttons(text: str, buttons: list[Button]) -> dict[str, Any]:
    """At most three interactive reply buttons; the button id is the payload the bot gets back."""
    return {"type": "interactive", "interactive": {
        "type": "button", "body": {"text": shorten(text or "Choose one:", BODY_LIMIT)},
        "action": {"buttons": [
            {"type": "reply", "reply": {"id": b.payload[:BUTTON_ID], "title": shorten(b.title, BUTTON_TITLE)}}
            for b in buttons[:MAX_BUTTONS]
        ]},
    }}


def list_message(text: str, label: str, section: str, rows: list[dict[str, str]]) -> dict[str, Any]:
    """A list message (one section, at most ten rows)."""
    return {"type": "interactive", "interactive": {
        "type": "list", "body": {"text": shorten(text or section, BODY_LIMIT)},
        "action": {"button": shorten(label, LIST_BUTTON),
                   "sections": [{"title": shorten(section, SECTION_TITLE), "rows": rows[:MAX_ROWS]}]},
    }}


def product_rows(cards: list[Card]) -> list[dict[str, str]]:
    """One row per product: tapping it adds that product to the cart."""
    return [
        {"id": card.add_payload[:ROW_ID], "title": shorten(card.title, ROW_TITLE),
         "description": shorten(f"{card.price} · {card.title}", ROW_DESCRIPTION)}
        for card in cards[:MAX_ROWS] if card.add_payload
    ]


def render(reply: Reply) -> list[dict[str, Any]]:
    """WhatsApp's native messages for one reply."""
    messages: list[dict[str, Any]] = []
    text = reply.body()
    rows = product_rows(reply.cards)
    if rows:
        messages.append(list_message(text, "See products", "Tap to add to cart", rows))
        text = ""
    elif reply.cards:  # a comparison: no cart rows, a short numbered list
        text = reply.body(numbered_list(reply.cards, MAX_ROWS))
    if reply.image:
        messages.append({"type": "image", "image": {"link": reply.image, "caption": shorten(text, CAPTION_LIMIT)}})
        text = ""
    if len(reply.buttons) > MAX_BUTTONS:
        rows = [{"id": b.payload[:ROW_ID], "title": shorten(b.title, ROW_TITLE)} for b in reply.buttons]
        messages.append(list_message(text, "Options", "Choose one", rows))
    elif reply.buttons:
        messages.append(reply_buttons(text, reply.buttons))
    elif text.strip():
        messages.append(text_message(text))
    return messages


class WhatsAppOutput(RenderedOutput):
    """Sends rendered replies through the Cloud API, within the customer-service window."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(self, api_url: str, phone_number_id: str, access_token: str, window: ServiceWindow,
                 template: str | None, template_language: str) -> None:
        self.url = f"{api_url.rstrip('/')}/{phone_number_id}/messages"
        self.headers = {"Authorization": f"Bearer {access_token}"}
        self.window = window
        self.template = template
        self.template_language = template_language

    def render(self, reply: Reply) -> list[dict[str, Any]]:
        return render(reply)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        if self.window.open(platform_user(self.name(), recipient_id)):
            await super().send_response(recipient_id, message)
        elif self.template:
            template = {"name": self.template, "language": {"code": self.template_language}}
            await self.deliver(recipient_id, {"type": "template", "template": template})
        else:
            log.warning("WhatsApp message skipped: outside the 24-hour window and no template configured")

    async def deliver(self, recipient_id: str, native: dict[str, Any]) -> None:
        body = {"messaging_product": "whatsapp", "recipient_type": "individual",
                "to": platform_user(self.name(), recipient_id), **native}
        await post(self.url, json=body, headers=self.headers)


def incoming(value: dict[str, Any]) -> list[Incoming]:
    """``(wa_id, message id, text for Rasa, timestamp)`` of each shopper message in a change value."""
    found = []
    for message in value.get("messages") or []:
        if not isinstance(message, dict) or not message.get("from") or not message.get("id"):
            continue
        kind = message.get("type")
        if kind == "text":
            text = typed_text(str((message.get("text") or {}).get("body") or ""))
        elif kind == "interactive":  # a button or list row the bot sent: its id is the bot's own payload
            interactive = message.get("interactive") or {}
            text = str((interactive.get("button_reply") or interactive.get("list_reply") or {}).get("id") or "")
        elif kind == "button":  # a quick reply of a template the bot sent
            text = str((message.get("button") or {}).get("payload") or "")
        else:
            text = ""
        stamp = float(message["timestamp"]) if str(message.get("timestamp", "")).isdigit() else time.time()
        found.append((str(message["from"]), str(message["id"]), text, stamp))
    return found


class WhatsAppInput(InputChannel):
    """The Cloud API webhook: verified, replay-proof, shopper text never an intent."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WhatsAppInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(
            access_token=require(credentials.get("access_token"), "access_token", "WhatsApp"),
            phone_number_id=str(require(str(credentials.get("phone_number_id") or ""), "phone_number_id", "WhatsApp")),
            app_secret=require(credentials.get("app_secret"), "app_secret", "WhatsApp"),
            verify=require(credentials.get("verify"), "verify", "WhatsApp"),
            template=credentials.get("template"), template_language=credentials.get("template_language") or "en_US",
            api_url=credentials.get("api_url") or GRAPH_API,
        )

    def __init__(self, access_token: str, phone_number_id: str, app_secret: str, verify: str,
                 template: str | None = None, template_language: str = "en_US", api_url: str = GRAPH_API) -> None:
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.app_secret = app_secret
        self.verify = verify
        self.template = template
        self.template_language = template_language
        self.api_url = api_url
        self.window = ServiceWindow()
        self.seen = SeenIds()

    def get_output_channel(self) -> WhatsAppOutput:
        return WhatsAppOutput(self.api_url, self.phone_number_id, self.access_token, self.window,
                              self.template, self.template_language)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        def read(body: dict[str, Any]) -> list[Incoming]:
            return [
                found for entry in body["entry"] if isinstance(entry, dict)
                for change in entry.get("changes") or [] if isinstance(change, dict)
                for found in incoming(change.get("value") or {})
            ]

        async def deliver(request: Request, found: Incoming) -> None:
            wa_id, _, text, stamp = found
            self.window.opened(wa_id, stamp)
            if text.strip():
                message = UserMessage(text, self.get_output_channel(), conversation_id(self.name(), wa_id),
                                      input_channel=self.name())
                await handle_shopper_message(request, on_new_message, message)

        return meta_webhook("whatsapp_webhook", "WhatsApp", self.verify, self.app_secret, self.seen, read, deliver)
