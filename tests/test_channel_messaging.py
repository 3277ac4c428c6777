"""WhatsApp, Messenger, Instagram, SMS and Slack conversations through our connectors in a real Rasa server.

One stack runs with the five channels on; each platform's send API is played by a recording
HTTP server on loopback, and the shopper's messages are posted to Rasa's webhooks as the
platform would post them, signed with test secrets. Checked per channel: a search comes back
in the platform's native form (a WhatsApp list, a Messenger/Instagram carousel, a numbered
SMS list, Slack Block Kit) and never as raw JSON; tapping "add to cart" adds it; a handoff
reaches the agent console with the channel, the agent's reply is delivered on the channel,
the hand-back gives the bot back; a link token sent on the channel links the account (order
status works) and "unlink" makes the shopper a guest again; forged, unsigned and replayed
webhooks get 403 and change nothing; a typed slash command is text; SMS STOP / START / HELP
are honoured; and (last, it stops the action server) a failed action gives the shopper the
web gateway's honest message instead of silence.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from assistant.identity import sign_link_token
from assistant.launcher import Ports, Service, free_port, running_stack, stop
from assistant.settings import PROJECT_ROOT, Settings
from assistant.store.db import UnitOfWork, make_engine, make_session_factory
from assistant.store.models import Order
from assistant.web.views_chat import NO_REPLY
from tests.agent_console import AgentClient, create_agent, next_frame
from tests.conftest import MODEL_PATH

pytestmark = pytest.mark.integration

APP_SECRET = "meta-app-secret-for-tests"
VERIFY = "verify-token-for-tests"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-auth-token-for-tests"
TWILIO_NUMBER = "+15550000000"
SLACK_SECRET = "slack-signing-secret-for-tests"
REPLY_WAIT_SECONDS = 180.0  # Slack replies arrive after the webhook answered
QUIET_SECONDS = 3.0


class PlatformApi(BaseHTTPRequestHandler):
    """The platforms' send APIs (one server, a path prefix per platform); records every call."""

    calls: list[tuple[str, dict[str, str], Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            body: Any = json.loads(raw)
        else:
            body = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
        self.calls.append((self.path, dict(self.headers), body))
        answer = json.dumps({"id": f"sent-{len(self.calls)}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Platform:
    """How one channel's webhook is posted to and what its send API received."""

    name: str
    rasa_port: int

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}/webhooks/{self.name}/webhook"

    def conversation(self, user: str) -> str:
        """Rasa's conversation id of the platform's ``user``: namespaced per channel, an SMS number without its +."""
        return f"{self.name}-{user.lstrip('+')}"

    def user(self) -> str:
        prefix = {"sms": "+1555", "slack": "U"}.get(self.name, "")
        return prefix + str(random.randrange(10**8, 10**9))

    def inbound(self, user: str, text: str | None = None, button: str | None = None) -> dict[str, Any]:
        """The platform's webhook body for a typed ``text`` or a tapped ``button`` (payload)."""
        mid = f"m-{random.randrange(10**12)}"
        if self.name == "whatsapp":
            message: dict[str, Any] = {"from": user, "id": mid, "timestamp": str(int(time.time()))}
            if button is not None:
                message |= {"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": button, "title": "x"}}}
            else:
                message |= {"type": "text", "text": {"body": text}}
            value = {"messaging_product": "whatsapp", "messages": [message]}
            return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}
        if self.name in ("messenger", "instagram"):
            event: dict[str, Any] = {"sender": {"id": user}, "recipient": {"id": "page"}, "timestamp": int(time.time() * 1000)}
            if button is not None:
                event["postback"] = {"mid": mid, "title": "Add to cart", "payload": button}
            else:
                event["message"] = {"mid": mid, "text": text}
            return {"object": "page" if self.name == "messenger" else "instagram", "entry": [{"id": "page", "messaging": [event]}]}
        if self.name == "slack":
            channel = "D" + user[1:]
            if button is not None:
                action = {"type": "button", "value": button, "action_ts": f"{time.time():.6f}"}
                payload = {"type": "block_actions", "user": {"id": user}, "channel": {"id": channel},
                           "message": {"ts": f"{time.time():.6f}"}, "actions": [action]}
                return {"payload": json.dumps(payload)}
            event = {"type": "message", "channel_type": "im", "channel": channel, "user": user, "text": text,
                     "ts": f"{time.time():.6f}"}
            return {"type": "event_callback", "event_id": "Ev" + mid, "event": event}
        return {"MessageSid": "SM" + mid, "AccountSid": TWILIO_SID, "From": user, "To": TWILIO_NUMBER, "Body": text or button or ""}

    def post(self, body: dict[str, Any], secret: str | None = "right", age: float = 0.0) -> int:
        """POST ``body`` to Rasa's webhook, signed with the test secret (``"right"``), a wrong one, or none
        (Slack's signature ``age`` seconds old)."""
        if self.name == "slack":
            form = "payload" in body
            data = (urllib.parse.urlencode(body) if form else json.dumps(body)).encode()
            stamp = str(int(time.time() - age))
            headers = {"Content-Type": "application/x-www-form-urlencoded" if form else "application/json",
                       "X-Slack-Request-Timestamp": stamp}
            key = SLACK_SECRET if secret == "right" else secret
            if key is not None:
                digest = hmac.new(key.encode(), f"v0:{stamp}:".encode() + data, hashlib.sha256).hexdigest()
                headers["X-Slack-Signature"] = "v0=" + digest
        elif self.name == "sms":
            data = urllib.parse.urlencode(body).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            token = TWILIO_TOKEN if secret == "right" else secret
            if token is not None:
                signed = self.webhook + "".join(k + body[k] for k in sorted(body))
                digest = hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()
                headers["X-Twilio-Signature"] = base64.b64encode(digest).decode()
        else:
            data = json.dumps(body).encode()
            headers = {"Content-Type": "application/json"}
            key = APP_SECRET if secret == "right" else secret
            if key is not None:
                headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(key.encode(), data, hashlib.sha256).hexdigest()
        request = urllib.request.Request(self.webhook, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=180) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    def sent(self, user: str, since: int = 0) -> list[Any]:
        """The native messages the channel sent ``user`` since call number ``since``."""
        found = []
        for path, _, body in PlatformApi.calls[since:]:
            if not path.startswith(f"/{self.name}/"):
                continue
            if self.name == "whatsapp" and body.get("to") == user:
                found.append(body)
            elif self.name in ("messenger", "instagram") and body.get("recipient", {}).get("id") == user:
                found.append(body["message"])
            elif self.name == "sms" and body.get("To") == user:  # the E.164 number
                found.append(body)
            elif self.name == "slack" and body.get("channel") == user:
                found.append(body)
        return found

    def say(self, user: str, text: str | None = None, button: str | None = None, *,
            body: dict[str, Any] | None = None, quiet: bool = False) -> list[Any]:
        """Post the shopper's message; the native messages sent back (Slack's arrive after the answer:
        wait for them, or for a ``quiet`` turn until Rasa logged the message)."""
        before = len(PlatformApi.calls)
        assert self.post(body or self.inbound(user, text, button)) == 200
        if self.name == "slack":
            deadline = time.monotonic() + REPLY_WAIT_SECONDS
            while not self.sent(user, since=before) and not quiet and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(QUIET_SECONDS)  # the rest of the turn
        return self.sent(user, since=before)


def shown(messages: list[Any]) -> str:
    """The texts of native messages (bodies, captions, list rows, card titles) joined."""
    parts: list[str] = []
    for m in messages:
        parts += [block["text"]["text"] for block in m.get("blocks", []) if "text" in block]
        if "blocks" in m:
            continue
        parts += [m.get("Body", ""), m.get("text", "") if isinstance(m.get("text"), str) else m.get("text", {}).get("body", "")]
        interactive = m.get("interactive") or {}
        parts.append(interactive.get("body", {}).get("text", ""))
        for section in interactive.get("action", {}).get("sections", []):
            parts += [row["title"] for row in section["rows"]]
        elements = m.get("attachment", {}).get("payload", {}).get("elements", [])
        parts += [element["title"] for element in elements]
    return "\n".join(part for part in parts if part)


def add_buttons(platform: Platform, messages: list[Any]) -> list[str]:
    """The "add to cart" payloads of the native product list (empty when the list is not native)."""
    if platform.name == "whatsapp":
        return [row["id"] for m in messages if m.get("type") == "interactive" and m["interactive"]["type"] == "list"
                for section in m["interactive"]["action"]["sections"] for row in section["rows"]]
    if platform.name in ("messenger", "instagram"):
        return [button["payload"] for m in messages if m.get("attachment", {}).get("type") == "template"
                for element in m["attachment"]["payload"]["elements"] for button in element.get("buttons", [])]
    if platform.name == "slack":
        return [block["accessory"]["value"] for m in messages for block in m["blocks"] if "accessory" in block]
    return []


CHANNELS = ("whatsapp", "messenger", "instagram", "sms", "slack")


@pytest.fixture(scope="module")
def channel_stack(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The stack with the four channels on, each talking to the recording server."""
    api = ThreadingHTTPServer(("127.0.0.1", 0), PlatformApi)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{api.server_address[1]}"
    ports = Ports(free_port(), free_port(), free_port())
    directory = tmp_path_factory.mktemp("channels")
    credentials = directory / "credentials.yml"
    credentials.write_text(
        "rasa_addons.gateway_channel.GatewayInput:\n  token: ${GATEWAY_TOKEN}\n"
        "rasa_addons.whatsapp_channel.WhatsAppInput:\n"
        f"  access_token: wa-token\n  phone_number_id: '1234'\n  app_secret: {APP_SECRET}\n  verify: {VERIFY}\n"
        f"  api_url: {base}/whatsapp\n  template: shop_update\n"
        "rasa_addons.meta_channel.MessengerInput:\n"
        f"  verify: {VERIFY}\n  secret: {APP_SECRET}\n  page-access-token: page-token\n  api_url: {base}/messenger\n"
        "rasa_addons.meta_channel.InstagramInput:\n"
        f"  verify: {VERIFY}\n  secret: {APP_SECRET}\n  page-access-token: ig-token\n  api_url: {base}/instagram\n"
        "rasa_addons.sms_channel.TwilioSmsInput:\n"
        f"  account_sid: {TWILIO_SID}\n  auth_token: {TWILIO_TOKEN}\n  twilio_number: '{TWILIO_NUMBER}'\n"
        f"  webhook_url: http://127.0.0.1:{ports.rasa}/webhooks/sms/webhook\n"
        f"  opt_out_db: {directory / 'opt_out.sqlite3'}\n  api_url: {base}/sms\n"
        "rasa_addons.slack_channel.SlackInput:\n"
        f"  slack_token: xoxb-test\n  slack_signing_secret: {SLACK_SECRET}\n  api_url: {base}/slack\n"
    )
    try:
        with running_stack(
            demo_settings, MODEL_PATH, ports, log_dir=directory / "logs", credentials=Path(credentials), timeout=900.0
        ) as services:
            yield {"settings": demo_settings, "ports": ports, "services": services}
    finally:
        api.shutdown()


def platform(stack: dict[str, Any], name: str) -> Platform:
    return Platform(name, stack["ports"].rasa)


def tracker(stack: dict[str, Any], sender: str) -> dict[str, Any]:
    settings: Settings = stack["settings"]
    url = f"http://127.0.0.1:{stack['ports'].rasa}/conversations/{sender}/tracker?token={settings.rasa_token}"
    with urllib.request.urlopen(url, timeout=60) as response:
        return dict(json.loads(response.read()))


@pytest.mark.parametrize("name", CHANNELS)
async def test_search_cart_and_handoff(channel_stack: dict[str, Any], name: str) -> None:
    channel = platform(channel_stack, name)
    user = channel.user()
    assert channel.say(user, "hello"), "the bot did not answer through the platform's API"

    results = channel.say(user, "show me running shoes")
    assert results and '"type"' not in shown(results) and "{" not in shown(results)
    if name == "sms":
        assert "1. " in shown(results) and "$" in shown(results)
    else:
        buttons = add_buttons(channel, results)
        assert buttons and buttons[0] == '/add_to_cart{"ordinal":"1"}'
    added = channel.say(user, button='/add_to_cart{"ordinal":"1"}') if name != "sms" else channel.say(
        user, "add the first one to my cart")
    assert "cart" in shown(added).lower(), shown(added)
    assert tracker(channel_stack, channel.conversation(user))["latest_message"]["intent"]["name"] == "add_to_cart"

    assert "our team" in shown(channel.say(user, "I want to talk to a person"))
    agent = AgentClient(f"http://127.0.0.1:{channel_stack['ports'].web}")
    try:
        username, password = create_agent(channel_stack["settings"], display_name="Sam")
        await agent.login(username, password)
        item = await agent.queue_item(channel.conversation(user))
        assert item["channel"] == name
        conversation = f"/conversations/{item['id']}"
        async with agent.socket() as console:
            before = len(PlatformApi.calls)
            assert (await agent.call("POST", f"{conversation}/claim"))[0] == 200
            assert "Sam from our team" in shown(channel.sent(user, since=before))

            assert channel.say(user, "is anyone there?", quiet=True) == []  # held: the bot stays silent, no honest message
            relayed = await next_frame(console, lambda f: f["type"] == "message" and f["message"]["from"] == "user")
            assert relayed["message"]["text"] == "is anyone there?"

            before = len(PlatformApi.calls)
            assert (await agent.call("POST", f"{conversation}/messages", {"text": "Hi, Sam here."}))[0] == 200
            assert shown(channel.sent(user, since=before)) == "Hi, Sam here."
            assert (await agent.call("POST", f"{conversation}/hand-back"))[0] == 200
        assert channel.say(user, "show me tents"), "the bot did not answer after the hand-back"
    finally:
        await agent.close()


def latest_shipped_order(settings: Settings) -> Order:
    """A customer's latest order, shipped: what "where is my order" must name once the account is linked."""
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            latest: dict[str, Order] = {}
            for order in uow.session.scalars(select(Order).order_by(Order.placed_at.desc())):
                latest.setdefault(order.customer_id, order)
            return next(order for _, order in sorted(latest.items()) if order.status == "shipped")
    finally:
        engine.dispose()


@pytest.mark.parametrize("name", CHANNELS)
def test_order_status_after_linking_and_a_guest_after_unlinking(channel_stack: dict[str, Any], name: str) -> None:
    settings: Settings = channel_stack["settings"]
    order = latest_shipped_order(settings)
    channel = platform(channel_stack, name)
    user = channel.user()
    token = sign_link_token(order.customer_id, settings.store_secret)
    if name == "messenger":  # an m.me link with ?ref=<token>
        body = channel.inbound(user, "x")
        event = body["entry"][0]["messaging"][0]
        del event["message"]
        event["referral"] = {"ref": token, "source": "SHORTLINK", "type": "OPEN_THREAD"}
        linked = channel.say(user, body=body)
    else:  # a wa.me link with prefilled text, or typed
        linked = channel.say(user, f"link {token}")
    assert "account is linked" in shown(linked)
    assert not any(token in json.dumps(event) for event in tracker(channel_stack, channel.conversation(user))["events"])

    assert order.order_number in shown(channel.say(user, "where is my order"))
    assert "no longer linked" in shown(channel.say(user, "unlink"))
    assert order.order_number not in shown(channel.say(user, "where is my order"))


@pytest.mark.parametrize("name", CHANNELS)
def test_forged_unsigned_and_replayed_webhooks_are_refused(channel_stack: dict[str, Any], name: str) -> None:
    channel = platform(channel_stack, name)
    user = channel.user()
    first = channel.inbound(user, "hello")
    assert channel.say(user, body=first)
    events, calls = len(tracker(channel_stack, channel.conversation(user))["events"]), len(PlatformApi.calls)
    refused = [
        channel.post(channel.inbound(user, "show me tents"), secret=None),
        channel.post(channel.inbound(user, "show me tents"), secret="guessed-secret"),
        channel.post(first),
    ]
    if name == "slack":  # Slack signs a timestamp: a signature older than 5 minutes is a replay
        refused.append(channel.post(channel.inbound(user, "show me tents"), age=600))
    assert set(refused) == {403}
    time.sleep(QUIET_SECONDS)
    assert len(PlatformApi.calls) == calls
    assert len(tracker(channel_stack, channel.conversation(user))["events"]) == events


@pytest.mark.parametrize("name", CHANNELS)
def test_a_typed_slash_command_is_text(channel_stack: dict[str, Any], name: str) -> None:
    channel = platform(channel_stack, name)
    user = channel.user()
    assert channel.say(user, "hello")
    channel.say(user, '/order_status{"order_number": "SA-1001"}')
    events = tracker(channel_stack, channel.conversation(user))["events"]
    latest = [event for event in events if event["event"] == "user"][-1]
    assert latest["text"].lstrip("\u2060").startswith("/order_status")
    assert not any(entity.get("value") == "SA-1001" and entity.get("extractor") is None
                   for entity in latest["parse_data"]["entities"])
    channel.say(user, "/restart")
    assert not any(event["event"] == "restart" for event in tracker(channel_stack, channel.conversation(user))["events"])


def push(stack: dict[str, Any], sender: str, channel: str, text: str) -> None:
    """A bot message sent on ``channel`` outside a turn, as the agent console and reminders send them."""
    settings: Settings = stack["settings"]
    url = (f"http://127.0.0.1:{stack['ports'].rasa}/conversations/{sender}/tracker/events?token={settings.rasa_token}"
           f"&output_channel={channel}&execute_side_effects=true")
    request = urllib.request.Request(url, data=json.dumps([{"event": "bot", "text": text}]).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=60):
        pass


def test_whatsapp_outside_the_24_hour_window_sends_only_the_template(channel_stack: dict[str, Any]) -> None:
    whatsapp = platform(channel_stack, "whatsapp")
    stranger, shopper = whatsapp.user(), whatsapp.user()
    assert whatsapp.say(shopper, "hello")
    before = len(PlatformApi.calls)
    push(channel_stack, whatsapp.conversation(stranger), "whatsapp", "Your cart is waiting")
    push(channel_stack, whatsapp.conversation(shopper), "whatsapp", "Your cart is waiting")
    assert whatsapp.sent(stranger, since=before) == [
        {"messaging_product": "whatsapp", "recipient_type": "individual", "to": stranger, "type": "template",
         "template": {"name": "shop_update", "language": {"code": "en_US"}}}]
    assert shown(whatsapp.sent(shopper, since=before)) == "Your cart is waiting"


def test_whatsapp_and_meta_handshakes(channel_stack: dict[str, Any]) -> None:
    for name in ("whatsapp", "messenger", "instagram"):
        url = platform(channel_stack, name).webhook + "?hub.mode=subscribe&hub.challenge=4711&hub.verify_token="
        with urllib.request.urlopen(url + VERIFY, timeout=30) as response:
            assert response.read() == b"4711"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "wrong", timeout=30)
        assert refused.value.code == 403


def test_sms_stop_start_and_help(channel_stack: dict[str, Any]) -> None:
    sms = platform(channel_stack, "sms")
    user = sms.user()
    assert "STOP" in shown(sms.say(user, "help"))
    assert sms.say(user, "STOP") == []
    assert sms.say(user, "show me tents") == []  # opted out: nothing reaches Rasa, nothing is sent
    assert not [e for e in tracker(channel_stack, sms.conversation(user))["events"] if e["event"] == "user"]
    assert "subscribed again" in shown(sms.say(user, "start"))
    assert sms.say(user, "hello")


def test_a_failed_action_gives_the_honest_message_on_every_channel(channel_stack: dict[str, Any]) -> None:
    services: list[Service] = channel_stack["services"]
    shoppers = {name: platform(channel_stack, name).user() for name in CHANNELS}
    for name, user in shoppers.items():  # conversations started while everything works
        assert platform(channel_stack, name).say(user, "hello")
    stop([service for service in services if service.name == "action server"])
    for name, user in shoppers.items():
        channel = platform(channel_stack, name)
        replies = channel.say(user, "show me running shoes")
        assert NO_REPLY in shown(replies), (name, replies)
