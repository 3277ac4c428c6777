"""Each platform's rendering of an oversized reply stays within the platform's limits and shows no raw JSON.

The renderers run inside Rasa's runtime (``.venv-rasa``), so one subprocess renders the same
reply, as Rasa hands it to an output channel (text, 12 buttons, a ``products`` payload of 12
long-named products), for every platform and prints the wire messages; the limits are the
platforms' documented ones.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from assistant.settings import PROJECT_ROOT
from assistant.web.views_chat import NO_REPLY

RENDER_ALL = """
import json
from rasa_addons import meta_channel, slack_channel, sms_channel, telegram_channel, whatsapp_channel
from rasa_addons.rendering import NO_REPLY, Reply
products = [{"id": f"P{n}", "title": "Waterproof Trail Running Shoe With A Very Long Name " * 3, "price": 79.99 + n,
             "currency": "USD", "image_url": f"https://shop.example/{n}.jpg", "rating": 4.5, "in_stock": True}
            for n in range(12)]
lines = "\\n".join(f"{n + 1}. {p['title']}, ${p['price']:.2f}" for n, p in enumerate(products))
message = {"text": "Here is what I found:\\n" + lines + "\\nSay 'show more' for more." + " Lots of words." * 400,
           "buttons": [{"title": f"Option number {n} with a long title", "payload": f"/choose{{\\"n\\":\\"{n}\\"}}"}
                       for n in range(12)],
           "custom": {"type": "products", "products": products, "query": "shoes"}}
reply = Reply.from_message(message)
print(json.dumps({
    "no_reply": NO_REPLY,
    "whatsapp": whatsapp_channel.render(reply), "meta": meta_channel.render(reply),
    "sms": sms_channel.render(reply), "slack": slack_channel.render(reply),
    "telegram": telegram_channel.inline_keyboard(reply).to_python(),
    "erased": whatsapp_channel.render(Reply.from_message({"custom": {"type": "conversation_erased"}})),
    "order": meta_channel.render(Reply.from_message({"text": "Order SA-1 has shipped.",
                                                     "custom": {"type": "order_status", "order": {"n": 1}}})),
}))
"""


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    python = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
    done = subprocess.run([str(python), "-c", RENDER_ALL], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout))


def no_raw_json(messages: list[dict[str, Any]]) -> None:
    """No payload type or JSON object leaks into anything a shopper reads."""
    assert messages
    for message in messages:
        for value in readable(message):
            assert not value.lstrip().startswith("{") and '"type"' not in value, value


def readable(node: Any, key: str = "") -> list[str]:
    """Every string a shopper sees (ids and payloads, which the platform keeps hidden, left out)."""
    if isinstance(node, dict):
        return [s for k, v in node.items() if k not in ("id", "payload", "value", "action_id") for s in readable(v, k)]
    if isinstance(node, list):
        return [s for item in node for s in readable(item, key)]
    shown = ("text", "body", "title", "description", "caption", "subtitle", "Body", "button")
    return [node] if isinstance(node, str) and key in shown else []


def test_the_honest_message_is_the_web_gateways(rendered: dict[str, Any]) -> None:
    assert rendered["no_reply"] == NO_REPLY


def test_whatsapp_within_its_limits(rendered: dict[str, Any]) -> None:
    messages = rendered["whatsapp"]
    no_raw_json(messages)
    products, options = messages
    assert products["interactive"]["type"] == "list" and options["interactive"]["type"] == "list"
    for message in messages:
        action = message["interactive"]["action"]
        assert len(message["interactive"]["body"]["text"]) <= 1024 and len(action["button"]) <= 20
        rows = [row for section in action["sections"] for row in section["rows"]]
        assert 0 < len(rows) <= 10
        assert all(len(row["title"]) <= 24 and len(row.get("description", "")) <= 72 and len(row["id"]) <= 200 for row in rows)
    assert products["interactive"]["action"]["sections"][0]["rows"][1]["id"] == '/add_to_cart{"ordinal":"2"}'
    assert "1. Waterproof" not in products["interactive"]["body"]["text"]  # the list is the native one
    assert rendered["erased"] == []


def test_messenger_and_instagram_within_their_limits(rendered: dict[str, Any]) -> None:
    text, carousel = rendered["meta"]
    no_raw_json(rendered["meta"])
    assert len(text["text"]) <= 2000 and len(text["quick_replies"]) <= 13
    assert all(len(reply["title"]) <= 20 for reply in text["quick_replies"])
    elements = carousel["attachment"]["payload"]["elements"]
    assert carousel["attachment"]["payload"]["template_type"] == "generic" and len(elements) == 10
    assert all(len(e["title"]) <= 80 and len(e["subtitle"]) <= 80 and len(e["buttons"]) <= 3 for e in elements)
    assert elements[0]["buttons"][0] == {"type": "postback", "title": "Add to cart", "payload": '/add_to_cart{"ordinal":"1"}'}
    assert rendered["order"] == [{"text": "Order SA-1 has shipped."}]


def test_sms_is_one_short_numbered_message(rendered: dict[str, Any]) -> None:
    [sms] = rendered["sms"]
    no_raw_json(rendered["sms"])
    assert len(sms["Body"]) <= 1600
    assert "\n1. Waterproof" in sms["Body"] and "$79.99" in sms["Body"]


def test_slack_blocks_within_their_limits(rendered: dict[str, Any]) -> None:
    [message] = rendered["slack"]
    no_raw_json(rendered["slack"])
    blocks = message["blocks"]
    assert len(blocks) <= 50
    sections = [b for b in blocks if b["type"] == "section"]
    assert all(len(b["text"]["text"]) <= 3000 for b in sections)
    assert [b["accessory"]["value"] for b in sections if "accessory" in b][:2] == [
        '/add_to_cart{"ordinal":"1"}', '/add_to_cart{"ordinal":"2"}']
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert len(actions["elements"]) <= 25 and all(len(e["text"]["text"]) <= 75 for e in actions["elements"])


def test_telegram_inline_keyboard(rendered: dict[str, Any]) -> None:
    rows = rendered["telegram"]["inline_keyboard"]
    assert all(len(row) == 1 and len(row[0]["callback_data"].encode()) <= 64 for row in rows)
    assert rows[0][0]["callback_data"] == '/add_to_cart{"ordinal":"1"}' and rows[0][0]["text"].startswith("Add 1. ")
    assert len(rows) == 10 + 12  # ten products listed, then the quick replies
