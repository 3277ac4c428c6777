"""One channel-neutral reply, read from what Rasa hands an output channel, for every platform renderer.

Actions answer with a text every channel can show plus an optional ``custom`` payload
(``{"type": "products" | "cart" | "order_status" | "comparison" | ...}``, docs/contracts.md)
and quick-reply buttons. Rasa's stock output channels send that payload as raw JSON text;
ours never do: each platform renderer (``whatsapp_channel``, ``meta_channel``, ``sms_channel``)
turns a :class:`Reply` into its native messages within the platform's limits, using the
helpers here so that every channel shortens, numbers and labels the same way.

Button payloads the bot itself sent (``/affirm``, ``/add_to_cart{"ordinal":"2"}``) come back
from the platform as button ids and may carry an intent; text a shopper types never does
(:func:`typed_text`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from rasa.core.channels.channel import OutputChannel

from rasa_addons.gateway_channel import as_text
from rasa_addons.platform_api import PlatformError

log = logging.getLogger(__name__)

# The web gateway's words for a turn on which the bot could not answer (assistant/web/views_chat.py
# NO_REPLY; tests/test_channel_rendering.py keeps the two equal).
NO_REPLY = (
    "Sorry, part of our system isn't answering right now, so I couldn't finish that. "
    "Please try again in a minute."
)
ELLIPSIS = "\u2026"
# Payload types whose text already says everything a text-only channel needs.
PRODUCT_TYPES = ("products", "comparison")


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, with an ellipsis when something was cut."""
    text = text.strip()
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def typed_text(text: str) -> str:
    """What a shopper typed, as Rasa must read it: text for NLU, never an intent or a command."""
    return as_text(text)


def money(amount: Any, currency: Any) -> str:
    """``$79.99`` for dollars, ``79.99 EUR`` otherwise, ``price on request`` for none (as the actions say it)."""
    if not isinstance(amount, int | float):
        return "price on request"
    code = currency if isinstance(currency, str) and currency else "USD"
    return f"${amount:,.2f}" if code == "USD" else f"{amount:,.2f} {code}"


@dataclass(frozen=True)
class Button:
    """A quick reply: the label the shopper sees and the payload the bot gets back when it is tapped."""

    title: str
    payload: str


@dataclass(frozen=True)
class Card:
    """One product of a list, with the payload of its "Add to cart" button."""

    title: str
    price: str
    image_url: str | None
    add_payload: str | None


@dataclass(frozen=True)
class Reply:
    """Text, buttons, product cards and image of one bot message, whatever the channel.

    With product cards, ``text`` is what the action said before its numbered product lines and
    ``outro`` what it said after them (:meth:`body` puts a channel's own list in between).
    """

    text: str = ""
    outro: str = ""
    buttons: list[Button] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    image: str | None = None

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Reply:
        """Read the dict Rasa passes to ``OutputChannel.send_response`` (never its raw JSON)."""
        raw_buttons = message.get("buttons") or message.get("quick_replies") or []
        buttons = [
            Button(str(b.get("title") or b.get("payload")), str(b["payload"]))
            for b in raw_buttons if isinstance(b, dict) and b.get("payload")
        ]
        custom = message.get("custom")
        cards = product_cards(custom) if isinstance(custom, dict) else []
        text, outro = around_product_lines(str(message.get("text") or ""), len(cards))
        image = message.get("image")
        return cls(text=text, outro=outro, buttons=buttons, cards=cards, image=image if isinstance(image, str) else None)

    def body(self, listing: str = "") -> str:
        """The text with ``listing`` (a channel's own product list, if any) where the action's list was."""
        return "\n".join(part for part in (self.text.strip(), listing, self.outro.strip()) if part)

    @property
    def empty(self) -> bool:
        """Nothing a shopper could see (e.g. the ``conversation_erased`` marker for the widget)."""
        return not (self.body().strip() or self.buttons or self.cards or self.image)


def product_cards(custom: dict[str, Any]) -> list[Card]:
    """The product cards of a ``products`` or ``comparison`` payload; none for other payloads."""
    if custom.get("type") not in PRODUCT_TYPES:
        return []
    listing = custom.get("type") == "products"  # ordinals point into the latest result list only
    cards = []
    for position, product in enumerate(custom.get("products") or [], start=1):
        if not isinstance(product, dict):
            continue
        cards.append(Card(
            title=str(product.get("title") or "Product"),
            price=money(product.get("price"), product.get("currency")),
            image_url=product.get("image_url") if isinstance(product.get("image_url"), str) else None,
            add_payload=f'/add_to_cart{{"ordinal":"{position}"}}' if listing else None,
        ))
    return cards


def around_product_lines(text: str, count: int) -> tuple[str, str]:
    """The text before and after the ``count`` numbered product lines of a product-list reply, which
    each channel shows its own way; the whole text (and no outro) when there is no such list."""
    lines = text.splitlines()
    numbered = [n for n, line in enumerate(lines) if line[:1].isdigit() and ". " in line[:5]]
    if not count or len(numbered) < count:
        return text, ""
    first, last = numbered[0], numbered[-1]
    return "\n".join(lines[:first]).strip(), "\n".join(lines[last + 1:]).strip()


def numbered_list(cards: list[Card], limit: int) -> str:
    """``1. Trail Boot, $79.99`` lines for text-only channels, at most ``limit`` of them."""
    return "\n".join(f"{n}. {card.title}, {card.price}" for n, card in enumerate(cards[:limit], start=1))


def options_line(buttons: list[Button]) -> str:
    """Quick replies for a channel without buttons: the shopper types one of the labels."""
    return "Reply with: " + " / ".join(button.title for button in buttons) if buttons else ""


class RenderedOutput(OutputChannel):
    """An output channel that renders each whole reply natively: subclasses say how, and how to send it.

    Rasa's base class sends a reply's text, buttons and ``custom`` payload one by one, the
    payload as raw JSON; here they are one :class:`Reply`, and :meth:`render` decides.
    """

    def render(self, reply: Reply) -> list[dict[str, Any]]:
        """The platform's messages for ``reply``, each within the platform's limits."""
        raise NotImplementedError

    async def deliver(self, recipient_id: str, native: dict[str, Any]) -> None:
        """Send one rendered message to the platform."""
        raise NotImplementedError

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        reply = Reply.from_message(dict(message))
        if reply.empty:
            return
        for native in self.render(reply):
            try:
                await self.deliver(recipient_id, native)
            except PlatformError as error:  # logged, and the rest of the turn still goes out
                log.error("%s could not deliver a message: %s", self.name(), error)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})
