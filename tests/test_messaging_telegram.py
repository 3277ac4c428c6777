"""A Telegram conversation handed to a person, through Rasa's real Telegram connector.

Rasa runs with the Telegram channel enabled (``rasa_addons.telegram_channel``, Rasa's
connector with a configurable Bot API server); the Bot API is replaced by a recording
HTTP server on loopback, and the shopper's messages are posted to Rasa's webhook as
Telegram would post them. Checked: the bot answers through the Bot API; after "talk to
a person" and a claim it stays silent while the shopper's words reach the agent; the
agent's reply is sent through the Bot API to the shopper's chat; after the hand-back the
bot answers again. Security (issue #12): the webhook is registered with a secret token,
and forged, unsigned and replayed updates get 403 and change nothing; text a shopper
types is never taken as an intent (``/restart`` does not un-pause a held conversation,
``/order_status{...}`` does not skip NLU), while a button the bot itself sent still is.
"""

from __future__ import annotations

import json
import random
import stat
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from assistant.launcher import Ports, free_port, running_stack
from assistant.settings import Settings
from tests.agent_console import AgentClient, create_agent, next_frame
from tests.conftest import MODEL_PATH

pytestmark = pytest.mark.integration
BOT_TOKEN = "123456:recording-server-token"
BOT_NAME = "shop_test_bot"
SECRET = "webhook-secret_0123456789"


class BotApi(BaseHTTPRequestHandler):
    """Telegram's Bot API as far as Rasa's connector uses it; records every call."""

    calls: list[tuple[str, dict[str, str]]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length") or 0)
        fields = {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(length).decode()).items()}
        method = self.path.rsplit("/", 1)[-1]
        if not self.path.startswith(f"/bot{BOT_TOKEN}/"):
            self.send_error(401)
            return
        self.calls.append((method, fields))
        result: Any = True
        if method == "getMe":
            result = {"id": 123456, "is_bot": True, "first_name": "Shop", "username": BOT_NAME}
        elif method == "sendMessage":
            chat = {"id": int(fields["chat_id"]), "type": "private"}
            result = {"message_id": len(self.calls), "date": int(time.time()), "chat": chat, "text": fields.get("text")}
        body = json.dumps({"ok": True, "result": result}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def telegram_stack(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The stack with the Telegram channel on, talking to the recording Bot API."""
    api = ThreadingHTTPServer(("127.0.0.1", 0), BotApi)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    ports = Ports(free_port(), free_port(), free_port())
    directory = tmp_path_factory.mktemp("telegram")
    credentials = directory / "credentials.yml"
    credentials.write_text(
        "rasa_addons.gateway_channel.GatewayInput:\n  token: ${GATEWAY_TOKEN}\n"
        "rasa_addons.telegram_channel.TelegramInput:\n"
        f'  access_token: "{BOT_TOKEN}"\n  verify: {BOT_NAME}\n'
        f"  webhook_url: http://127.0.0.1:{ports.rasa}/webhooks/telegram/webhook\n"
        f"  api_url: http://127.0.0.1:{api.server_address[1]}\n"
        f"  secret_token: {SECRET}\n"
    )
    try:
        with running_stack(
            demo_settings, MODEL_PATH, ports, log_dir=directory / "logs", credentials=Path(credentials), timeout=900.0
        ):
            yield {"settings": demo_settings, "ports": ports, "logs": directory / "logs"}
    finally:
        api.shutdown()


def update_for(chat_id: int, text: str) -> dict[str, Any]:
    """A Telegram update carrying a new text message from the shopper of ``chat_id``."""
    return {
        "update_id": random.randrange(1, 2**31),
        "message": {
            "message_id": random.randrange(1, 2**31), "date": int(time.time()), "text": text,
            "chat": {"id": chat_id, "type": "private"}, "from": {"id": chat_id, "is_bot": False, "first_name": "Ann"},
        },
    }


def post_update(stack: dict[str, Any], update: dict[str, Any], secret: str | None = SECRET) -> tuple[int, bytes]:
    """POST an update to Rasa's Telegram webhook as Telegram would (with ``secret`` in its header)."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack['ports'].rasa}/webhooks/telegram/webhook", data=json.dumps(update).encode(), headers=headers,
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def say(stack: dict[str, Any], chat_id: int, text: str) -> list[str]:
    """Post a signed Telegram update to Rasa's webhook; return the texts the bot sent to that chat meanwhile."""
    before = len(BotApi.calls)
    assert post_update(stack, update_for(chat_id, text)) == (200, b"success")
    return sent_to(chat_id, since=before)


def tracker(stack: dict[str, Any], chat_id: int) -> dict[str, Any]:
    """The conversation as Rasa keeps it (through its token-protected HTTP API)."""
    settings: Settings = stack["settings"]
    url = f"http://127.0.0.1:{stack['ports'].rasa}/conversations/{chat_id}/tracker?token={settings.rasa_token}"
    with urllib.request.urlopen(url, timeout=60) as response:
        return dict(json.loads(response.read()))


def last_user_event(stack: dict[str, Any], chat_id: int) -> dict[str, Any]:
    return [event for event in tracker(stack, chat_id)["events"] if event["event"] == "user"][-1]


def sent_to(chat_id: int, since: int = 0) -> list[str]:
    return [f["text"] for method, f in BotApi.calls[since:] if method == "sendMessage" and f["chat_id"] == str(chat_id)]


async def test_agent_takes_over_a_telegram_chat(telegram_stack: dict[str, Any]) -> None:
    chat_id = random.randrange(10**6, 10**9)
    assert say(telegram_stack, chat_id, "hello"), "the bot did not answer through the Bot API"
    assert any("our team" in text for text in say(telegram_stack, chat_id, "I want to talk to a person"))

    agent = AgentClient(f"http://127.0.0.1:{telegram_stack['ports'].web}")
    try:
        username, password = create_agent(telegram_stack["settings"], display_name="Sam")
        await agent.login(username, password)
        item = await agent.queue_item(str(chat_id))
        assert item["channel"] == "telegram"
        conversation = f"/conversations/{item['id']}"
        async with agent.socket() as console:
            before = len(BotApi.calls)
            assert (await agent.call("POST", f"{conversation}/claim"))[0] == 200
            joined = [text for text in sent_to(chat_id, since=before) if "has joined the conversation" in text]
            assert joined and "Sam from our team" in joined[0] and username not in joined[0]  # never the login name

            assert say(telegram_stack, chat_id, "is anyone there?") == []  # the bot stays silent
            relayed = await next_frame(console, lambda f: f["type"] == "message" and f["message"]["from"] == "user")
            assert relayed["message"]["text"] == "is anyone there?"

            # A typed /restart is text: it neither restarts nor un-pauses the held conversation.
            assert say(telegram_stack, chat_id, "/restart") == []
            relayed = await next_frame(console, lambda f: f["type"] == "message" and f["message"]["from"] == "user")
            assert relayed["message"]["text"] == "restart"
            assert tracker(telegram_stack, chat_id)["paused"] is True

            before = len(BotApi.calls)
            status, sent = await agent.call("POST", f"{conversation}/messages", {"text": "Hi Ann, Sam from support here."})
            assert status == 200, sent
            assert sent_to(chat_id, since=before) == ["Hi Ann, Sam from support here."]

            assert (await agent.call("POST", f"{conversation}/hand-back"))[0] == 200
        assert say(telegram_stack, chat_id, "show me running shoes"), "the bot did not answer after the hand-back"
        status, details = await agent.call("GET", conversation)
        assert ("agent", "Hi Ann, Sam from support here.") in [(m["from"], m["text"]) for m in details["transcript"]]
    finally:
        await agent.close()


def test_the_webhook_is_registered_with_its_secret(telegram_stack: dict[str, Any]) -> None:
    registrations = [fields for method, fields in BotApi.calls if method == "setWebhook"]
    assert registrations, "the webhook was never registered"
    assert registrations[-1]["secret_token"] == SECRET
    assert registrations[-1]["url"].endswith("/webhooks/telegram/webhook")


@pytest.mark.parametrize(
    ("typed", "as_text"),
    [("/restart", "restart"), ("/greet", "greet"), ('/order_status{"order_number": "SA-1001"}', 'order_status{"order_number": "SA-1001"}')],
)
def test_slash_commands_typed_by_a_shopper_are_text(telegram_stack: dict[str, Any], typed: str, as_text: str) -> None:
    chat_id = random.randrange(10**6, 10**9)
    assert say(telegram_stack, chat_id, "hello")
    say(telegram_stack, chat_id, typed)
    events = tracker(telegram_stack, chat_id)["events"]
    user = [event for event in events if event["event"] == "user"][-1]
    assert user["text"] == as_text  # no leading "/": Rasa's RegexMessageHandler cannot unpack it
    # Whatever entities there are, NLU found them in the text; none was injected by intent syntax.
    extractors = {entity.get("extractor") for entity in user["parse_data"]["entities"]}
    assert None not in extractors and "RegexMessageHandler" not in extractors
    assert not any(event["event"] == "restart" for event in events)


def test_a_button_the_bot_sent_may_carry_an_intent_a_made_up_one_may_not(telegram_stack: dict[str, Any]) -> None:
    chat_id = random.randrange(10**6, 10**9)
    assert say(telegram_stack, chat_id, "hello")
    bot_message = {"message_id": 7, "date": int(time.time()), "chat": {"id": chat_id, "type": "private"}, "text": "Sure?"}
    sender = {"id": chat_id, "is_bot": False, "first_name": "Ann"}
    forged = {"update_id": random.randrange(1, 2**31), "callback_query": {
        "id": "1", "from": sender, "chat_instance": "x", "data": "/greet", "message": bot_message}}
    assert post_update(telegram_stack, forged) == (200, b"success")
    assert last_user_event(telegram_stack, chat_id)["text"] == "greet"

    keyboard = {"inline_keyboard": [[{"text": "Hi!", "callback_data": "/greet"}]]}
    pressed = {"update_id": random.randrange(1, 2**31), "callback_query": {
        "id": "2", "from": sender, "chat_instance": "x", "data": "/greet", "message": {**bot_message, "reply_markup": keyboard}}}
    assert post_update(telegram_stack, pressed) == (200, b"success")
    event = last_user_event(telegram_stack, chat_id)
    assert (event["text"], event["parse_data"]["intent"]["name"]) == ("/greet", "greet")


def test_forged_unsigned_and_replayed_updates_are_refused_and_change_nothing(telegram_stack: dict[str, Any]) -> None:
    chat_id = random.randrange(10**6, 10**9)
    update = update_for(chat_id, "hello")
    assert post_update(telegram_stack, update)[0] == 200
    events_before, calls_before = len(tracker(telegram_stack, chat_id)["events"]), len(BotApi.calls)

    unsigned = post_update(telegram_stack, update_for(chat_id, "show me tents"), secret=None)
    forged = post_update(telegram_stack, update_for(chat_id, "show me tents"), secret="guessed-secret")
    replayed = post_update(telegram_stack, update)
    old = update_for(chat_id, "show me tents")
    old["message"]["date"] = int(time.time()) - 2 * 24 * 3600
    stale = post_update(telegram_stack, old)
    assert [unsigned[0], forged[0], replayed[0], stale[0]] == [403, 403, 403, 403]
    assert len(BotApi.calls) == calls_before
    assert len(tracker(telegram_stack, chat_id)["events"]) == events_before


def test_the_stock_set_webhook_route_is_gone(telegram_stack: dict[str, Any]) -> None:
    url = f"http://127.0.0.1:{telegram_stack['ports'].rasa}/webhooks/telegram/set_webhook"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(url, method="POST", data=b""), timeout=30)
    assert refused.value.code in (404, 405)


def test_no_secret_on_any_command_line_and_private_logs(telegram_stack: dict[str, Any]) -> None:
    settings: Settings = telegram_stack["settings"]
    secrets = [settings.rasa_token, settings.action_server_token, settings.gateway_token, settings.web_secret,
               settings.store_secret, SECRET]
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue  # the process ended meanwhile
        assert not [secret for secret in secrets if secret in argv], f"a secret is in the command line of {cmdline.parent}"
    logs = list(telegram_stack["logs"].iterdir())
    assert logs and all(stat.S_IMODE(log.stat().st_mode) == 0o600 for log in logs)
