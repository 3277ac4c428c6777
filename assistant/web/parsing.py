"""Reading what a client sent, so that no input can crash a view into a 500.

Python's ``json`` raises ``RecursionError`` on deeply nested input and ``int()`` refuses
more than 4,300 digits (and reads ``²`` as a digit for ``isdigit``); each of these once
reached a client as a plain 500. Here every such input is a clear 400.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from assistant.web.middlewares import ApiError

MAX_JSON_DEPTH = 32
_MESSAGE_ID = re.compile(r"-1|[0-9]{1,9}")


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a parsed JSON value, stopping once it passes ``limit``."""
    depth, level = 0, [value]
    while level and depth <= limit:
        depth += 1
        level = [
            child for item in level if isinstance(item, dict | list)
            for child in (item.values() if isinstance(item, dict) else item)
        ]
    return depth


def parse_json(raw: bytes | str, what: str) -> Any:
    """``raw`` as JSON, or ``ApiError(400)`` naming ``what`` was expected; refuses nesting
    deeper than :data:`MAX_JSON_DEPTH` (no request of ours needs more)."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, f"the body must be JSON: {what}") from None
    if _depth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise ApiError(400, f"the JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels): {what}")
    return value


async def read_json_object(request: web.Request, what: str = '{"message": "hello"}') -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says what was expected."""
    body = parse_json(await request.read(), what)
    if not isinstance(body, dict):
        raise ApiError(400, f"the body must be a JSON object like {what}")
    return body


def message_id_param(request: web.Request, name: str = "after") -> int:
    """A message id from the query (``-1`` = from the start); 400 for anything else."""
    raw = request.query.get(name, "-1")
    if not _MESSAGE_ID.fullmatch(raw):
        raise ApiError(400, f"{name} must be a message id from an earlier answer (a whole number)")
    return int(raw)
