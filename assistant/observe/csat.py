"""The CSAT question: "How did we do?" with five buttons, asked after a handoff closes and on goodbye.

One definition for the two askers (the agent console when an agent hands back or closes,
and the bot's ``action_ask_csat`` after a goodbye), so the widget draws the same buttons
and text channels list the same words (``Reply with: 1 - very poor / ... / 5 - excellent``,
via :mod:`rasa_addons.rendering`). A payload sets only the ``rating`` entity, which
authorizes nothing; :mod:`actions.csat` stores the answer only when the question is open.
"""

from __future__ import annotations

from typing import Any

from assistant.json_fields import object_at

CSAT_INTENT = "rate_service"
QUESTION = "How did we do? Rate this conversation from 1 (very poor) to 5 (excellent). You can add a comment after the number."
LABELS = {1: "very poor", 2: "poor", 3: "okay", 4: "good", 5: "excellent"}


def csat_buttons() -> list[dict[str, str]]:
    """The five answers as buttons: ``{"title": "4 - good", "payload": "/rate_service{\\"rating\\":\\"4\\"}"}``."""
    return [
        {"title": f"{score} - {label}", "payload": f'/{CSAT_INTENT}{{"rating":"{score}"}}'}
        for score, label in LABELS.items()
    ]


def asks_csat(event: dict[str, Any]) -> bool:
    """Whether a tracker event is the CSAT question (a bot message offering the rating buttons)."""
    data = object_at(event, "data")
    buttons = data.get("buttons") if isinstance(data, dict) else None
    return event.get("event") == "bot" and any(
        isinstance(b, dict) and str(b.get("payload", "")).startswith(f"/{CSAT_INTENT}") for b in buttons or []
    )


def channel_name(raw: str | None) -> str:
    """The channel as operators name it: Rasa calls the web app's channel ``gateway``."""
    if not raw:
        return "unknown"
    return "web" if raw == "gateway" else raw[:64]
