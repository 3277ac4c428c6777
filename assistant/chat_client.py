"""``shop-assistant chat``: a terminal shopper talking to the web gateway.

It goes through ``/api/chat`` exactly like the browser widget (session cookie kept,
customer token as a bearer header), so what works here works in the browser.  Type a
number to press one of the buttons the bot offered; ``/quit`` or Ctrl-D leaves.
"""

from __future__ import annotations

import http.cookiejar
import json
import sys
import urllib.error
import urllib.request
from typing import Any, TextIO

from assistant.json_fields import object_at

QUIT_COMMANDS = ("/quit", "/exit")


class GatewayClient:
    """Keeps one shopper session (cookie) with a web gateway."""

    def __init__(self, base_url: str, customer_token: str | None = None, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.customer_token = customer_token
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def say(self, message: str, is_button: bool = False) -> list[dict[str, Any]]:
        """Send one message (a pressed button's payload with ``is_button``: the gateway reads
        typed text as text even when it starts with ``/``); return the bot's messages (an
        error body's messages too)."""
        headers = {"Content-Type": "application/json"}
        if self.customer_token:
            headers["Authorization"] = f"Bearer {self.customer_token}"
        request = urllib.request.Request(
            f"{self.base_url}/api/chat", data=json.dumps({"payload" if is_button else "message": message}).encode(), headers=headers
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as error:
            try:
                body = json.loads(error.read())
            except json.JSONDecodeError:
                body = {}
            if not isinstance(body, dict) or "messages" not in body:
                detail = body.get("error") if isinstance(body, dict) else None
                return [{"text": f"[{error.code}] {detail or error.reason}"}]
        messages: list[dict[str, Any]] = body["messages"]
        return messages


def _money(value: Any, currency: Any) -> str:
    return f"{value:.2f} {currency or ''}".rstrip() if isinstance(value, int | float) else ""


def render(messages: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The lines to print for a reply, and the buttons it offered (numbered in the lines)."""
    lines: list[str] = []
    buttons: list[dict[str, Any]] = []
    for message in messages:
        if message.get("text"):
            lines.append(f"bot> {message['text']}")
        custom = object_at(message, "custom")
        if custom.get("type") == "products":
            for rank, product in enumerate(custom.get("products") or [], 1):
                if str(product.get("title")) in str(message.get("text", "")):
                    continue  # the text already shows it
                stock = "" if product.get("in_stock", True) else "  (out of stock)"
                price = _money(product.get("price"), product.get("currency"))
                lines.append(f"  {rank:2}. {product.get('title')}  {price}  [{product.get('id')}]{stock}")
        elif custom.get("type") == "order_status" and not message.get("text"):
            order = custom.get("order") or {}
            lines.append("  " + ", ".join(f"{key}: {value}" for key, value in order.items() if not isinstance(value, dict | list)))
        elif custom.get("type") == "cart" and not message.get("text"):
            for item in custom.get("items") or []:
                price = _money(item.get("price"), item.get("currency"))
                lines.append(f"  {item.get('quantity', 1)} x {item.get('title') or item.get('id')}  {price}")
            if custom.get("total") is not None:
                lines.append(f"  total {_money(custom.get('total'), custom.get('currency'))}")
        for button in message.get("buttons") or []:
            buttons.append(button)
            lines.append(f"  [{len(buttons)}] {button.get('title')}")
    return lines, buttons


def chat(
    base_url: str, customer_token: str | None, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> None:
    """Read-eval-print loop until ``/quit`` or end of input."""
    client = GatewayClient(base_url, customer_token)
    who = "a signed-in customer" if customer_token else "a guest"
    print(f"Chatting with {base_url} as {who}. /quit or Ctrl-D to leave.", file=stdout, flush=True)
    buttons: list[dict[str, Any]] = []
    while True:
        print("you> ", end="", file=stdout, flush=True)
        try:
            line = stdin.readline()
        except KeyboardInterrupt:
            line = ""
        if not line:
            print(file=stdout)
            return
        text = line.strip()
        if text in QUIT_COMMANDS:
            return
        if not text:
            continue
        pressed = text.isdigit() and 1 <= int(text) <= len(buttons)
        if pressed:
            button = buttons[int(text) - 1]
            text = str(button.get("payload") or button.get("title"))
        try:
            messages = client.say(text, is_button=pressed)
        except (urllib.error.URLError, OSError) as error:
            print(f"error: cannot reach {base_url}: {getattr(error, 'reason', error)}", file=stdout, flush=True)
            continue
        lines, buttons = render(messages)
        print("\n".join(lines), file=stdout, flush=True)
