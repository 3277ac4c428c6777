"""SMS through Twilio: signed webhooks, short numbered product lists, STOP / START / HELP honoured and stored.

Rasa 3.6's ``twilio`` channel checks no signature at all: anyone could post as any phone
number. This channel:

- refuses (403) a POST whose ``X-Twilio-Signature`` is not Twilio's HMAC-SHA1 of the public
  webhook URL (``webhook_url``: the URL exactly as configured in the Twilio console, i.e. as
  seen through the trusted proxy, never taken from request headers) plus the sorted form
  fields, compared in constant time; a ``MessageSid`` already taken is a replay (403); it
  refuses to start without ``auth_token`` and ``webhook_url``;
- answers with an empty TwiML document and sends replies through the Messages API, so an
  agent's replies and reminders reach the shopper the same way;
- renders products as a short numbered list with prices, quick replies as "Reply with: ...",
  each message cut to Twilio's 1,600 characters;
- honours the carrier keywords (the whole message, any case): STOP (and STOPALL, UNSUBSCRIBE,
  CANCEL, END, QUIT) records the opt-out and nothing is sent to that number until START
  (or UNSTOP, or YES while opted out); HELP (or INFO) answers with ``help_text``. Opt-outs
  are stored in a small SQLite file (``opt_out_db``), so they survive restarts.

credentials.yml::

    rasa_addons.sms_channel.TwilioSmsInput:
      account_sid: ${TWILIO_ACCOUNT_SID}
      auth_token: ${TWILIO_AUTH_TOKEN}
      twilio_number: ${TWILIO_NUMBER}
      webhook_url: https://your-domain.example/webhooks/sms/webhook
      # opt_out_db: var/sms_opt_out.sqlite3
      # help_text: "Shop Assistant: ask about products, your cart or an order. Reply STOP to opt out."
      # api_url: https://api.twilio.com
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa_addons.platform_api import post
from rasa_addons.rendering import RenderedOutput, Reply, numbered_list, options_line, shorten, typed_text
from rasa_addons.shopper_messages import conversation_id, handle_shopper_message, platform_user
from rasa_addons.webhook_security import TWILIO_SIGNATURE_HEADER, SeenIds, require, twilio_signed

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"
BODY_LIMIT = 1600
MAX_LISTED = 5
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
DEFAULT_HELP = "Shop Assistant: ask about products, your cart or an order. Reply STOP to opt out, START to opt back in."
RESUBSCRIBED = "You're subscribed again. Ask me about products, your cart or an order."
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
DEFAULT_OPT_OUT_DB = Path("var") / "sms_opt_out.sqlite3"


def digits(phone: str) -> str:
    """The E.164 number without its ``+`` (opt-outs and conversation ids: nothing a URL would encode)."""
    return phone.strip().lstrip("+")


class OptOuts:
    """Phone numbers (conversation ids) that sent STOP, kept in SQLite so an opt-out survives restarts."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS sms_opt_out (phone TEXT PRIMARY KEY, since TEXT NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path)

    def stop(self, phone: str) -> None:
        with self._connect() as db:
            db.execute("INSERT OR IGNORE INTO sms_opt_out VALUES (?, ?)", (phone, datetime.now(timezone.utc).isoformat()))

    def start(self, phone: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM sms_opt_out WHERE phone = ?", (phone,))

    def opted_out(self, phone: str) -> bool:
        with self._connect() as db:
            return db.execute("SELECT 1 FROM sms_opt_out WHERE phone = ?", (phone,)).fetchone() is not None


def render(reply: Reply) -> list[dict[str, Any]]:
    """One SMS body per reply: the text with a short numbered product list, the options to type; the
    action's words are shortened first, so the list and the options survive a long reply."""
    listing = numbered_list(reply.cards, MAX_LISTED)
    fixed = [listing, options_line(reply.buttons), reply.image or ""]
    room = max(BODY_LIMIT - sum(len(part) + 1 for part in fixed), 0) // 2  # for the words before and after
    intro, outro = shorten(reply.text, room), shorten(reply.outro, room)
    body = "\n".join(part for part in (intro, listing, outro, *fixed[1:]) if part)
    return [{"Body": shorten(body, BODY_LIMIT)}] if body else []


class TwilioSmsOutput(RenderedOutput):
    """Sends rendered replies through Twilio's Messages API, never to a number that opted out."""

    @classmethod
    def name(cls) -> str:
        return "sms"

    def __init__(self, api_url: str, account_sid: str, auth_token: str, number: str, opt_outs: OptOuts) -> None:
        self.url = f"{api_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.auth = aiohttp.BasicAuth(account_sid, auth_token)
        self.number = number
        self.opt_outs = opt_outs

    def render(self, reply: Reply) -> list[dict[str, Any]]:
        return render(reply)

    async def deliver(self, recipient_id: str, native: dict[str, Any]) -> None:
        number = digits(platform_user(self.name(), recipient_id))
        if self.opt_outs.opted_out(number):
            log.info("SMS not sent: the recipient opted out with STOP")
            return
        await post(self.url, data={"From": self.number, "To": "+" + number, **native}, auth=self.auth)


class TwilioSmsInput(InputChannel):
    """Twilio's incoming-message webhook: signed, replay-proof, keywords honoured, text never an intent."""

    @classmethod
    def name(cls) -> str:
        return "sms"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TwilioSmsInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(
            account_sid=require(credentials.get("account_sid"), "account_sid", "SMS"),
            auth_token=require(credentials.get("auth_token"), "auth_token", "SMS"),
            number=require(credentials.get("twilio_number"), "twilio_number", "SMS"),
            webhook_url=require(credentials.get("webhook_url"), "webhook_url", "SMS"),
            opt_out_db=Path(credentials.get("opt_out_db") or DEFAULT_OPT_OUT_DB),
            help_text=credentials.get("help_text") or DEFAULT_HELP,
            api_url=credentials.get("api_url") or TWILIO_API,
        )

    def __init__(self, account_sid: str, auth_token: str, number: str, webhook_url: str,
                 opt_out_db: Path = DEFAULT_OPT_OUT_DB, help_text: str = DEFAULT_HELP, api_url: str = TWILIO_API) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.number = number
        self.webhook_url = webhook_url
        self.help_text = help_text
        self.api_url = api_url
        self.opt_outs = OptOuts(opt_out_db)
        self.seen = SeenIds()

    def get_output_channel(self) -> TwilioSmsOutput:
        return TwilioSmsOutput(self.api_url, self.account_sid, self.auth_token, self.number, self.opt_outs)

    async def keyword(self, phone: str, text: str) -> bool:
        """Handle a carrier keyword; ``True`` when the message was one (or the sender opted out)."""
        word = text.strip().upper()
        out = self.get_output_channel()
        if word in STOP_WORDS:
            self.opt_outs.stop(phone)  # the carrier confirms STOP itself; nothing more may be sent
            return True
        if word in START_WORDS or (word == "YES" and self.opt_outs.opted_out(phone)):
            self.opt_outs.start(phone)
            await out.send_text_message(conversation_id(self.name(), phone), RESUBSCRIBED)
            return True
        if word in HELP_WORDS:
            await out.send_text_message(conversation_id(self.name(), phone), self.help_text)
            return True
        return self.opt_outs.opted_out(phone)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("sms_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            form = {key: values[0] for key, values in request.form.items()}
            if not twilio_signed(self.auth_token, self.webhook_url, form, request.headers.get(TWILIO_SIGNATURE_HEADER)):
                return response.json({"error": "missing or wrong signature"}, status=403)
            sid, phone, text = form.get("MessageSid"), digits(form.get("From", "")), form.get("Body", "")
            if not sid or not phone or form.get("AccountSid") != self.account_sid:
                return response.json({"error": "not a Twilio message for this account"}, status=400)
            if not self.seen.take(sid):
                return response.json({"error": "message already received"}, status=403)
            if not await self.keyword(phone, text) and text.strip():
                message = UserMessage(typed_text(text), self.get_output_channel(), conversation_id(self.name(), phone),
                                      input_channel=self.name())
                await handle_shopper_message(request, on_new_message, message)
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return hook
