"""Customer tokens: the exact recipe round-trips, and nothing else is accepted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from assistant.identity import sign_customer_token, verify_customer_token

SECRET = "s3cret-shared-with-the-store"
NOW = 1_700_000_000.0


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_round_trip() -> None:
    token = sign_customer_token("C00042", SECRET, ttl_seconds=600, now=NOW)
    assert verify_customer_token(token, SECRET, now=NOW + 599) == "C00042"


def test_payload_follows_the_documented_recipe() -> None:
    token = sign_customer_token("C00042", SECRET, ttl_seconds=600, now=NOW)
    body, signature = token.split(".")
    assert json.loads(base64.urlsafe_b64decode(body + "==")) == {
        "sub": "C00042", "aud": "shop-assistant", "iat": int(NOW), "exp": int(NOW) + 600,
    }
    assert signature == b64(hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).digest())


def test_token_made_by_another_backend_is_accepted() -> None:
    """What the PHP/Node snippets in the docstring produce (different key order and spacing)."""
    body = b64(json.dumps({"exp": NOW + 60, "sub": "shopify-77", "aud": "shop-assistant", "iat": NOW}, indent=1).encode())
    token = body + "." + b64(hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).digest())
    assert verify_customer_token(token, SECRET, now=NOW) == "shopify-77"


def test_expired_token_is_refused() -> None:
    token = sign_customer_token("C00042", SECRET, ttl_seconds=600, now=NOW)
    assert verify_customer_token(token, SECRET, now=NOW + 600) is None
    assert verify_customer_token(token, SECRET, now=NOW + 10_000) is None


def test_wrong_secret_is_refused() -> None:
    token = sign_customer_token("C00042", SECRET, now=NOW)
    assert verify_customer_token(token, "another-secret", now=NOW) is None


def test_tampered_payload_is_refused() -> None:
    token = sign_customer_token("C00042", SECRET, now=NOW)
    _, signature = token.split(".")
    forged = b64(json.dumps({"sub": "C00001", "iat": NOW, "exp": NOW + 3600}).encode())
    assert verify_customer_token(f"{forged}.{signature}", SECRET, now=NOW) is None
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert verify_customer_token(flipped, SECRET, now=NOW) is None


def signed(payload: object) -> str:
    body = b64(json.dumps(payload).encode())
    return body + "." + b64(hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).digest())


@pytest.mark.parametrize(
    "token",
    [
        "", ".", "abc", "a.b.c", "not base64!.sig", "é.é", "x" * 10_000,
        signed({"exp": NOW + 60}),
        signed({"sub": "", "exp": NOW + 60}),
        signed({"sub": 42, "exp": NOW + 60}),
        signed({"sub": "C1"}),
        signed({"sub": "C1", "exp": "tomorrow"}),
        signed({"sub": "C1", "exp": True}),
        signed(["C1"]),
        b64(b"not json") + "." + b64(hmac.new(SECRET.encode(), b64(b"not json").encode(), hashlib.sha256).digest()),
    ],
    ids=["empty", "dot", "no-dot", "three-parts", "bad-chars", "non-ascii", "huge", "no-sub", "empty-sub",
         "int-sub", "no-exp", "text-exp", "bool-exp", "not-object", "not-json"],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    assert verify_customer_token(token, SECRET, now=NOW) is None


def test_signing_needs_an_id_and_a_secret() -> None:
    with pytest.raises(ValueError):
        sign_customer_token("", SECRET)
    with pytest.raises(ValueError):
        sign_customer_token("C1", "")


def _signed(payload: dict[str, object]) -> str:
    body = b64(json.dumps(payload).encode())
    return body + "." + b64(hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).digest())


def test_token_for_another_audience_is_refused() -> None:
    """Issue #12 item 7: a token the store signed with the same secret for another service."""
    assert verify_customer_token(_signed({"sub": "C1", "iat": NOW, "exp": NOW + 60}), SECRET, now=NOW) is None
    assert verify_customer_token(_signed({"sub": "C1", "aud": "billing", "iat": NOW, "exp": NOW + 60}), SECRET, now=NOW) is None


def test_token_living_longer_than_the_maximum_is_refused() -> None:
    """Issue #12 item 7: a year-long token, or one whose iat is missing or faked, never logs in."""
    year = sign_customer_token("C00042", SECRET, ttl_seconds=365 * 24 * 3600, now=NOW)
    assert verify_customer_token(year, SECRET, now=NOW + 10) is None
    day = sign_customer_token("C00042", SECRET, ttl_seconds=24 * 3600, now=NOW)
    assert verify_customer_token(day, SECRET, now=NOW + 10) == "C00042"
    assert verify_customer_token(day, SECRET, now=NOW + 10, max_ttl=3600) is None
    no_iat = _signed({"sub": "C1", "aud": "shop-assistant", "exp": NOW + 60})
    assert verify_customer_token(no_iat, SECRET, now=NOW) is None
    future_iat = _signed({"sub": "C1", "aud": "shop-assistant", "iat": NOW + 10**9, "exp": NOW + 10**9 + 60})
    assert verify_customer_token(future_iat, SECRET, now=NOW) is None
