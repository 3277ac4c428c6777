"""Slack for B2B stores: Rasa's connector with its sound signature check, each shopper in their own DM or thread.

Rasa 3.6's ``slack`` channel checks the signing secret with the 5-minute replay window and a
constant-time comparison (kept), but answers a bad signature with 400, replays within the
window are taken again, every reply goes to one configured channel, typed ``/...`` text is an
intent, ``custom`` payloads are posted as raw JSON, and a failed action is silence. This
subclass:

- answers 403 to an unsigned, forged or stale request and to an event id already taken;
- keeps each shopper's conversation in their own place: a DM is one conversation per shopper
  (``slack-<user>``), a mention in a channel is one conversation per thread
  (``slack-<user>_<channel>_<thread ts>``); replies, agent replies and reminders go back there,
  derived from the conversation id alone, never to a fixed channel;
- hands typed text to NLU as text; only a button the bot sent carries a payload;
- renders replies as Block Kit: sections for products with an "Add to cart" button each,
  an actions block for quick replies;
- hands every message to :func:`rasa_addons.shopper_messages.handle_shopper_message` (account
  linking, honest replies).

credentials.yml::

    rasa_addons.slack_channel.SlackInput:
      slack_token: ${SLACK_BOT_TOKEN}
      slack_signing_secret: ${SLACK_SIGNING_SECRET}
      # api_url: https://slack.com/api
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels import slack
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_addons.platform_api import PlatformError, post
from rasa_addons.rendering import Card, RenderedOutput, Reply, shorten, typed_text
from rasa_addons.shopper_messages import conversation_id, handle_shopper_message, platform_user
from rasa_addons.webhook_security import SeenIds, require

SLACK_API = "https://slack.com/api"
# Block Kit limits.
SECTION_TEXT, BUTTON_TEXT, BUTTON_VALUE, MAX_ACTIONS, MAX_PRODUCTS = 3000, 75, 2000, 5, 10


def product_section(card: Card, position: int) -> dict[str, Any]:
    section: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": f"*{shorten(card.title, 200)}*\n{card.price}"}}
    if card.add_payload:
        section["accessory"] = {"type": "button", "action_id": f"add_to_cart_{position}",
                                "text": {"type": "plain_text", "text": "Add to cart"}, "value": card.add_payload}
    return section


def render(reply: Reply) -> list[dict[str, Any]]:
    """One ``chat.postMessage`` body (without the channel) for the reply: Block Kit plus a fallback text."""
    blocks: list[dict[str, Any]] = []
    if reply.body():
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": shorten(reply.body(), SECTION_TEXT)}})
    blocks += [product_section(card, n) for n, card in enumerate(reply.cards[:MAX_PRODUCTS], start=1)]
    if reply.image:
        blocks.append({"type": "image", "image_url": reply.image, "alt_text": "product image"})
    if reply.buttons:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "action_id": f"reply_{n}", "text": {"type": "plain_text", "text": shorten(b.title, BUTTON_TEXT)},
             "value": b.payload[:BUTTON_VALUE]}
            for n, b in enumerate(reply.buttons[:MAX_ACTIONS])
        ]})
    fallback = reply.body() or ", ".join(card.title for card in reply.cards) or "New message"
    return [{"text": shorten(fallback, SECTION_TEXT), "blocks": blocks}] if blocks else []


def place(conversation: str) -> tuple[str, str | None]:
    """Where a conversation lives: ``(channel, thread ts)``; a DM conversation is the user id itself."""
    parts = platform_user(SlackOutput.name(), conversation).split("_")
    return (parts[1], parts[2]) if len(parts) == 3 else (parts[0], None)


class SlackOutput(RenderedOutput):
    """Posts rendered replies to the shopper's own DM or thread."""

    @classmethod
    def name(cls) -> str:
        return "slack"

    def __init__(self, api_url: str, token: str) -> None:
        self.url = f"{api_url.rstrip('/')}/chat.postMessage"
        self.headers = {"Authorization": f"Bearer {token}"}

    def render(self, reply: Reply) -> list[dict[str, Any]]:
        return render(reply)

    async def deliver(self, recipient_id: str, native: dict[str, Any]) -> None:
        channel, thread = place(recipient_id)
        body = {"channel": channel, **native, **({"thread_ts": thread} if thread else {})}
        answer = await post(self.url, json=body, headers=self.headers)
        if answer.get("ok") is False:  # Slack answers 200 with ok: false on errors
            raise PlatformError(f"chat.postMessage failed: {answer.get('error')}")


class SlackInput(slack.SlackInput):
    """Rasa's Slack connector, 403 on bad signatures and replays, per-shopper places, honest replies."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SlackInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        channel = cls(
            require(credentials.get("slack_token"), "slack_token", "Slack"), None,
            slack_signing_secret=require(credentials.get("slack_signing_secret"), "slack_signing_secret", "Slack"),
            use_threads=True,
        )
        channel.api_url = credentials.get("api_url") or SLACK_API
        return channel

    api_url = SLACK_API

    def get_output_channel(self, channel: str | None = None, thread_id: str | None = None) -> SlackOutput:
        return SlackOutput(self.api_url, self.slack_token)

    def _get_conversation_id(self, sender_id: str | None, channel_id: str | None, thread_id: str | None) -> str | None:
        """``slack-<user>`` in a DM (channel ids of DMs start with D); ``slack-<user>_<channel>_<thread>`` elsewhere."""
        if not sender_id:
            return None
        if not channel_id or channel_id.startswith("D") or not thread_id:
            return conversation_id(self.name(), sender_id)
        return conversation_id(self.name(), f"{sender_id}_{channel_id}_{thread_id}")

    @staticmethod
    def _sanitize_user_message(text: str, uids_to_remove: list[str] | None) -> str:
        return typed_text(slack.SlackInput._sanitize_user_message(text, uids_to_remove))

    async def process_message(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str, sender_id: str | None, metadata: dict[str, Any] | None,
    ) -> Any:
        """Handle in the background (Slack wants an answer within 3 s), honestly; never a fixed channel."""
        if not sender_id or not text:
            return response.text("")
        message = UserMessage(text, self.get_output_channel(), sender_id, input_channel=self.name(), metadata=metadata)
        task = asyncio.create_task(handle_shopper_message(request, on_new_message, message))
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)
        return response.text("")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = super().blueprint(on_new_message)
        seen = SeenIds()

        @hook.middleware("request")
        async def signed_and_new(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            if not self.is_request_from_slack_authentic(request):
                return response.json({"error": "missing, wrong or stale signature"}, status=403)
            if request.headers.get("content-type") == "application/json":
                event_id = (request.json or {}).get("event_id")
            else:
                payload = json.loads(request.form.get("payload") or "{}")
                actions = payload.get("actions") or [{}]
                event_id = f"{payload.get('user', {}).get('id')}:{actions[0].get('action_ts')}"
            if event_id and not seen.take(str(event_id)):
                return response.json({"error": "event already received"}, status=403)
            return None

        return hook
