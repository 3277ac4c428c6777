"""What every messaging webhook checks before Rasa sees a word: the platform's signature and no replay.

Signatures are compared in constant time (``hmac.compare_digest``) and a channel without its
secret refuses to start, so no webhook is ever open. Meta (WhatsApp, Messenger, Instagram)
signs the raw body with the app secret (``X-Hub-Signature-256: sha256=<hex>``); Twilio signs
the public URL plus the sorted form fields (``X-Twilio-Signature``, base64 HMAC-SHA1).
Neither puts a timestamp in the signature, so a replay is caught by the platform's message
id (:class:`SeenIds`) and, for Meta, by the message's own timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Mapping

from rasa.shared.exceptions import RasaException

META_SIGNATURE_HEADER = "X-Hub-Signature-256"
TWILIO_SIGNATURE_HEADER = "X-Twilio-Signature"
# Meta retries an undelivered webhook for up to 7 days at most; anything older is a replay.
MAX_MESSAGE_AGE_SECONDS = 7 * 24 * 3600
REMEMBERED_IDS = 10_000


def require(secret: object, what: str, channel: str) -> str:
    """The configured secret, or a refusal to start: a webhook without it would take anyone's posts."""
    if not isinstance(secret, str) or not secret.strip():
        raise RasaException(
            f"The {channel} channel needs {what} in credentials.yml: without it anyone who finds the "
            "webhook URL could post as any shopper."
        )
    return secret


def meta_signed(app_secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is ``sha256=`` + HMAC-SHA256 of the raw body under the app secret."""
    expected = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest((header or "").encode(), expected.encode())


def twilio_signature(auth_token: str, url: str, form: Mapping[str, str]) -> str:
    """Twilio's signature of a POST: base64 HMAC-SHA1 of the URL followed by each sorted key and value."""
    data = url + "".join(key + form[key] for key in sorted(form))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def twilio_signed(auth_token: str, url: str, form: Mapping[str, str], header: str | None) -> bool:
    """Whether ``header`` is Twilio's signature of this URL and form (constant-time comparison)."""
    return hmac.compare_digest((header or "").encode(), twilio_signature(auth_token, url, form).encode())


def verify_token_matches(configured: str, offered: str | None) -> bool:
    """Meta's subscription handshake: the verify token we set on the app dashboard, compared in constant time."""
    return hmac.compare_digest((offered or "").encode(), configured.encode())


class SeenIds:
    """Platform message ids already taken (bounded, oldest forgotten first), so a replayed post is refused."""

    def __init__(self, capacity: int = REMEMBERED_IDS) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def take(self, message_id: str) -> bool:
        """Record ``message_id``; ``False`` if it was taken before."""
        if message_id in self._ids:
            return False
        self._ids[message_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True

    def seen(self, message_id: str) -> bool:
        return message_id in self._ids
