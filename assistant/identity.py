"""Customer identity tokens: how the store's own backend tells us who is signed in.

The shop (WooCommerce, Shopify app, a Node or PHP backend...) shares one secret with us
(``SHOP_STORE_SECRET``) and puts a short-lived token in the page that loads the chat
widget.  We trust the customer id in a token only when its signature checks out and it
has not expired; nothing a shopper types can make them someone else.

The token recipe, for a store backend to reproduce exactly::

    payload   = {"sub": "<customer id>", "aud": "shop-assistant",
                 "iat": <now, integer Unix seconds>, "exp": <iat + ttl, integer Unix seconds>}
    body      = base64url( UTF-8 JSON of payload )          # any key order, any spacing
    signature = base64url( HMAC-SHA256( key = UTF-8 secret, message = ASCII body ) )
    token     = body + "." + signature

where ``base64url`` is RFC 4648 section 5 with the trailing ``=`` padding removed.  The
signature covers the encoded ``body`` exactly as sent.  In PHP::

    $b64 = fn($s) => rtrim(strtr(base64_encode($s), '+/', '-_'), '=');
    $body = $b64(json_encode(['sub' => $id, 'aud' => 'shop-assistant', 'iat' => time(), 'exp' => time() + 3600]));
    $token = $body . '.' . $b64(hash_hmac('sha256', $body, $secret, true));

In Node.js::

    const body = Buffer.from(JSON.stringify({sub: id, aud: 'shop-assistant', iat: now, exp: now + 3600})).toString('base64url');
    const token = body + '.' + crypto.createHmac('sha256', secret).update(body).digest('base64url');

A token is refused when it is malformed, its signature does not match, ``sub`` is not a
non-empty string, ``aud`` is not ``shop-assistant`` (a token the store signs with the same
secret for another service cannot log in here), ``exp`` is not later than the current
time, or the token lives longer than the maximum lifetime (``SHOP_TOKEN_MAX_TTL``, 24 hours
by default: ``exp - iat`` and ``exp - now`` may not exceed it), so a leaked token, or a
store backend that signs tokens for a year, cannot open a customer's data for long.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import TypeGuard

MAX_TOKEN_LENGTH = 4096
AUDIENCE = "shop-assistant"
DEFAULT_MAX_TTL = 24 * 3600


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not text or not all((c.isascii() and c.isalnum()) or c in "-_" for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(body: str, secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), body.encode("ascii"), hashlib.sha256).digest()


def sign_customer_token(customer_id: str, secret: str, ttl_seconds: int = 3600, now: float | None = None) -> str:
    """A token saying "this browser belongs to ``customer_id``" for ``ttl_seconds`` (see module doc)."""
    if not customer_id:
        raise ValueError("customer_id must not be empty")
    if not secret:
        raise ValueError("secret must not be empty")
    issued = int(time.time() if now is None else now)
    payload = {"sub": customer_id, "aud": AUDIENCE, "iat": issued, "exp": issued + int(ttl_seconds)}
    body = _b64encode(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
    return f"{body}.{_b64encode(_signature(body, secret))}"


def _is_number(value: object) -> TypeGuard[int | float]:
    return not isinstance(value, bool) and isinstance(value, int | float)


def verify_customer_token(
    token: str, secret: str, now: float | None = None, max_ttl: int = DEFAULT_MAX_TTL
) -> str | None:
    """The customer id of a valid, unexpired token for us, or ``None`` for anything else."""
    if not isinstance(token, str) or not secret or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        return None
    body, signature = token.split(".")
    try:
        given = _b64decode(signature)
        if not hmac.compare_digest(given, _signature(body, secret)):
            return None
        payload = json.loads(_b64decode(body))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict):
        return None
    subject, expires, issued = payload.get("sub"), payload.get("exp"), payload.get("iat")
    if not isinstance(subject, str) or not subject or payload.get("aud") != AUDIENCE:
        return None
    if not _is_number(expires) or not _is_number(issued) or expires - issued > max_ttl:
        return None
    current = time.time() if now is None else now
    return subject if current < expires <= current + max_ttl else None


EXPORT_LINK_TTL = 15 * 60
LINK_TOKEN_TTL = 15 * 60


def _sign_scoped(scope: str, customer_id: str, secret: str, ttl_seconds: int, now: float | None) -> str:
    """``<base64url id>.<expiry>.<signature of scope:body>``: a customer id for one purpose only."""
    if not customer_id or not secret:
        raise ValueError("customer_id and secret must not be empty")
    expires = int(time.time() if now is None else now) + int(ttl_seconds)
    body = f"{_b64encode(customer_id.encode('utf-8'))}.{expires}"
    return f"{body}.{_b64encode(hmac.new(secret.encode(), f'{scope}:{body}'.encode(), hashlib.sha256).digest())}"


def _read_scoped(scope: str, link: str, secret: str, now: float | None) -> str | None:
    """The customer id of an unexpired ``scope`` value we signed, or ``None`` for anything else."""
    if not isinstance(link, str) or not secret or len(link) > MAX_TOKEN_LENGTH or link.count(".") != 2:
        return None
    encoded_id, expires, signature = link.split(".")
    if not expires.isascii() or not expires.isdigit() or len(expires) > 12:
        return None
    body = f"{encoded_id}.{expires}"
    try:
        given = _b64decode(signature)
        customer_id = _b64decode(encoded_id).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    expected = hmac.new(secret.encode(), f"{scope}:{body}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected):
        return None
    current = time.time() if now is None else now
    return customer_id if current < int(expires) and customer_id else None


def sign_export_link(customer_id: str, secret: str, ttl_seconds: int = EXPORT_LINK_TTL, now: float | None = None) -> str:
    """The opaque part of a "download my data" link: ``<base64url id>.<expiry>.<signature>``
    under the web app's secret (``SHOP_WEB_SECRET``), valid for ``ttl_seconds``."""
    return _sign_scoped("export", customer_id, secret, ttl_seconds, now)


def read_export_link(link: str, secret: str, now: float | None = None) -> str | None:
    """The customer id of an unexpired export link we signed, or ``None`` for anything else."""
    return _read_scoped("export", link, secret, now)


def sign_link_token(customer_id: str, secret: str, ttl_seconds: int = LINK_TOKEN_TTL, now: float | None = None) -> str:
    """A token that links a messaging account to ``customer_id`` when the shopper sends it on the channel.

    Signed with the store secret (``SHOP_STORE_SECRET``) by the store's backend, short-lived, and
    scoped: it is neither a customer token nor an export link. The recipe, for a store backend::

        body  = base64url(UTF-8 customer id) + "." + str(expiry, integer Unix seconds)
        token = body + "." + base64url(HMAC-SHA256(key = secret, message = "link:" + body))
    """
    return _sign_scoped("link", customer_id, secret, ttl_seconds, now)


def read_link_token(token: str, secret: str, now: float | None = None) -> str | None:
    """The customer id of an unexpired link token signed with the store secret, or ``None``."""
    return _read_scoped("link", token, secret, now)
