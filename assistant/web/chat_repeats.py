"""A client's message id on ``POST /api/chat``, so that a retried message is handled once.

A shopper whose message meets a part that is down gets an honest 503 and the client sends
the same message again. If the first attempt did reach Rasa (the answer was lost on its
way back, or the gateway stopped waiting for a turn Rasa was still working on), handling
it again would put it in the conversation twice and run its actions twice. So a client
may name each message (``"message_id"``: up to 64 letters, digits, ``.``, ``_``, ``:`` or
``-``, unique within the conversation); the gateway passes it to Rasa in the message's
metadata (``client_message_id``), and Rasa's gateway channel answers a message whose id
the conversation already holds with the replies that followed it, under the
conversation's lock (``rasa_addons/message_once.py``).
"""

from __future__ import annotations

import re
from typing import Any

from assistant.web.middlewares import ApiError

METADATA_KEY = "client_message_id"  # rasa_addons.message_once.CLIENT_MESSAGE_ID
_MESSAGE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def client_message_id(body: dict[str, Any]) -> str | None:
    """The body's ``message_id`` (None when absent), or a 400 for one that is not an id."""
    message_id = body.get("message_id")
    if message_id is None:
        return None
    if not isinstance(message_id, str) or not _MESSAGE_ID.fullmatch(message_id):
        raise ApiError(400, '"message_id" must be 1 to 64 letters, digits, ".", "_", ":" or "-"')
    return message_id
