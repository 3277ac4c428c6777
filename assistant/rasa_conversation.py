"""A shopper's side of a conversation with the real Rasa server, through the gateway channel.

This is exactly what the web app sends: the gateway token in the header, the sender id
chosen by the server side, and the customer token (if any) in the metadata. The tests and
the chat benchmark (``bench/chat_bench.py``) drive Rasa with it, so both live here rather
than the benchmark importing from ``tests/``.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Conversation:
    rasa_url: str
    gateway_token: str
    sender: str
    customer_token: str | None = None
    replies: list[list[dict[str, Any]]] = field(default_factory=list)

    def say(self, text: str, timeout: float = 60.0, button: bool = False) -> list[dict[str, Any]]:
        """Send one message; return the bot's messages (text, buttons, custom payloads).

        ``button=True`` sends ``text`` as a pressed button's payload (``/affirm``), as the
        web gateway does for a payload the bot offered; otherwise a leading ``/`` is text.
        """
        metadata: dict[str, Any] = {"channel": "web"}
        if self.customer_token:
            metadata["customer_token"] = self.customer_token
        body = json.dumps({"sender": self.sender, "message": text, "metadata": metadata, "payload": button}).encode()
        request = urllib.request.Request(
            f"{self.rasa_url}/webhooks/gateway/webhook",
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.gateway_token}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            messages: list[dict[str, Any]] = json.loads(response.read())
        self.replies.append(messages)
        return messages


def texts(messages: list[dict[str, Any]]) -> str:
    """All the text the shopper sees in one reply, joined."""
    return "\n".join(str(message.get("text", "")) for message in messages if message.get("text"))


def payloads(messages: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The structured payloads of one kind (``products``, ``order_status``, ``cart``)."""
    return [m["custom"] for m in messages if isinstance(m.get("custom"), dict) and m["custom"].get("type") == kind]


def product_ids(messages: list[dict[str, Any]]) -> list[str]:
    """The ids of every product the reply showed, in order."""
    return [product["id"] for payload in payloads(messages, "products") for product in payload["products"]]
