"""Messenger and Instagram through Meta's Graph API: signed webhooks, carousels, quick replies.

Rasa 3.6's ``facebook`` channel checks only the old SHA-1 header, with a non-constant-time
comparison, and sends ``custom`` payloads as they are. These two channels (one module: the
webhooks and the Send API are the same, only the name, the URL and the token differ):

- answer Meta's subscription handshake (``hub.verify_token``, constant time);
- refuse (403) any POST whose ``X-Hub-Signature-256`` is not the HMAC-SHA256 of the raw body
  under the app secret, and any message id already taken or older than Meta retries (a
  replay); they refuse to start without ``secret`` and ``verify``;
- hand typed text to NLU as text; a quick reply or postback (a button the bot sent) may
  carry an intent; echoes of the page's own messages are ignored;
- turn an ``m.me/<page>?ref=<link token>`` referral into ``link <token>`` (account linking);
- render product lists as a generic-template carousel (at most 10 cards, each with an
  "Add to cart" postback) and buttons as quick replies (at most 13).

credentials.yml::

    rasa_addons.meta_channel.MessengerInput:
      verify: ${MESSENGER_VERIFY_TOKEN}
      secret: ${META_APP_SECRET}
      page-access-token: ${MESSENGER_PAGE_ACCESS_TOKEN}
      # api_url: https://graph.facebook.com/v19.0

    rasa_addons.meta_channel.InstagramInput:
      verify: ${INSTAGRAM_VERIFY_TOKEN}
      secret: ${META_APP_SECRET}
      page-access-token: ${INSTAGRAM_PAGE_ACCESS_TOKEN}
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint
from sanic.request import Request

from rasa_addons.meta_webhook import Incoming, meta_webhook
from rasa_addons.platform_api import post
from rasa_addons.rendering import Card, RenderedOutput, Reply, numbered_list, shorten, typed_text
from rasa_addons.shopper_messages import conversation_id, handle_shopper_message, platform_user
from rasa_addons.webhook_security import SeenIds, require

GRAPH_API = "https://graph.facebook.com/v19.0"
# Send API limits.
TEXT_LIMIT, MAX_QUICK_REPLIES, QUICK_REPLY_TITLE, PAYLOAD_LIMIT = 2000, 13, 20, 1000
MAX_CARDS, CARD_TITLE, CARD_SUBTITLE, BUTTON_TITLE = 10, 80, 80, 20


def carousel(cards: list[Card]) -> dict[str, Any]:
    """A generic-template carousel; each card's button adds that product to the cart."""
    elements = []
    for card in cards[:MAX_CARDS]:
        element: dict[str, Any] = {"title": shorten(card.title, CARD_TITLE), "subtitle": shorten(card.price, CARD_SUBTITLE)}
        if card.image_url:
            element["image_url"] = card.image_url
        if card.add_payload:
            element["buttons"] = [{"type": "postback", "title": "Add to cart", "payload": card.add_payload[:PAYLOAD_LIMIT]}]
        elements.append(element)
    return {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": elements}}}


def render(reply: Reply) -> list[dict[str, Any]]:
    """The Send API ``message`` objects for one reply (text first, then the carousel, then any image)."""
    messages: list[dict[str, Any]] = []
    carded = any(card.image_url or card.add_payload for card in reply.cards)
    text = reply.body() if carded else reply.body(numbered_list(reply.cards, MAX_CARDS))
    if text or reply.buttons:
        message: dict[str, Any] = {"text": shorten(text or "Choose one:", TEXT_LIMIT)}
        if reply.buttons:
            message["quick_replies"] = [
                {"content_type": "text", "title": shorten(b.title, QUICK_REPLY_TITLE), "payload": b.payload[:PAYLOAD_LIMIT]}
                for b in reply.buttons[:MAX_QUICK_REPLIES]
            ]
        messages.append(message)
    if carded:
        messages.append(carousel(reply.cards))
    if reply.image:
        messages.append({"attachment": {"type": "image", "payload": {"url": reply.image}}})
    return messages


class MetaOutput(RenderedOutput):
    """Sends rendered replies through the Send API with the page's token."""

    def __init__(self, channel: str, api_url: str, page_access_token: str) -> None:
        self.channel = channel
        self.url = f"{api_url.rstrip('/')}/me/messages"
        self.headers = {"Authorization": f"Bearer {page_access_token}"}

    def name(self) -> str:  # type: ignore[override]  # one class for both Meta channels
        return self.channel

    def render(self, reply: Reply) -> list[dict[str, Any]]:
        return render(reply)

    async def deliver(self, recipient_id: str, native: dict[str, Any]) -> None:
        body = {"recipient": {"id": platform_user(self.channel, recipient_id)}, "messaging_type": "RESPONSE", "message": native}
        await post(self.url, json=body, headers=self.headers)


def incoming(event: dict[str, Any]) -> Incoming | None:
    """``(sender id, message id, text for Rasa, timestamp)`` of one messaging event, or ``None``."""
    sender = (event.get("sender") or {}).get("id")
    stamp = event.get("timestamp")
    seconds = stamp / 1000 if isinstance(stamp, int | float) else time.time()
    message, postback = event.get("message"), event.get("postback")
    referral = event.get("referral") or (postback.get("referral") if isinstance(postback, dict) else None)
    if isinstance(referral, dict) and referral.get("ref") and sender:  # an m.me link with ?ref=<link token>
        return str(sender), f"referral:{sender}:{stamp}", f"link {referral['ref']}", seconds
    if isinstance(message, dict) and not message.get("is_echo") and message.get("mid"):
        quick_reply = message.get("quick_reply") or {}
        text = str(quick_reply.get("payload") or "") if quick_reply else typed_text(str(message.get("text") or ""))
        return (str(sender), str(message["mid"]), text, seconds) if sender else None
    if isinstance(postback, dict) and sender:
        mid = str(postback.get("mid") or f"postback:{sender}:{stamp}")
        return str(sender), mid, str(postback.get("payload") or ""), seconds
    return None


class MessengerInput(InputChannel):
    """The Messenger webhook: verified, replay-proof, shopper text never an intent."""

    @classmethod
    def name(cls) -> str:
        return "messenger"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> MessengerInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        channel = cls.name().capitalize()
        return cls(
            verify=require(credentials.get("verify"), "verify", channel),
            secret=require(credentials.get("secret"), "secret", channel),
            page_access_token=require(credentials.get("page-access-token"), "page-access-token", channel),
            api_url=credentials.get("api_url") or GRAPH_API,
        )

    def __init__(self, verify: str, secret: str, page_access_token: str, api_url: str = GRAPH_API) -> None:
        self.verify = verify
        self.secret = secret
        self.page_access_token = page_access_token
        self.api_url = api_url
        self.seen = SeenIds()

    def get_output_channel(self) -> MetaOutput:
        return MetaOutput(self.name(), self.api_url, self.page_access_token)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        def read(body: dict[str, Any]) -> list[Incoming]:
            return [
                found for entry in body["entry"] if isinstance(entry, dict)
                for event in entry.get("messaging") or [] if isinstance(event, dict)
                if (found := incoming(event)) is not None
            ]

        async def deliver(request: Request, found: Incoming) -> None:
            sender, _, text, _ = found
            if text.strip():
                message = UserMessage(text, self.get_output_channel(), conversation_id(self.name(), sender),
                                      input_channel=self.name())
                await handle_shopper_message(request, on_new_message, message)

        return meta_webhook(f"{self.name()}_webhook", self.name().capitalize(), self.verify, self.secret, self.seen,
                            read, deliver)


class InstagramInput(MessengerInput):
    """Instagram messaging: the same webhook format and Send API as Messenger, its own page token."""

    @classmethod
    def name(cls) -> str:
        return "instagram"
