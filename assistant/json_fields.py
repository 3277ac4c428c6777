"""Reading nested JSON from Rasa events and replies, where any field may be missing or of another type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def object_at(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    """``data[key]`` when it is a JSON object, else an empty one (so ``.get`` chains never fail)."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}
