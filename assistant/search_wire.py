"""The catalog search the action server serves to the web app: its paths, its bounds and its call.

One process per stack holds the catalog index and its encoder (#15.7): the action server,
which searches for the chat anyway. The web app's ``/api/search`` and the dashboard's
grouping of unanswered messages call it over HTTP with the action server's token. Both sides
read the bounds here, so the web app refuses what the action server would refuse, with the
same words. Nothing heavy is imported: the web app imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SEARCH_PATH = "/search"
STATUS_PATH = "/search/status"
EMBED_PATH = "/embed"
MAX_QUERY_CHARS = 500
MAX_K = 50
MAX_OFFSET = 1_000
MAX_EMBED_TEXTS = 1_000
CUSTOMER_TOKEN_REFUSED = "the customer token is invalid or expired; search again without it or sign in again"


class BadCall(ValueError):
    """A search or embedding call outside the bounds: the message says which field, for a 400."""


def check_int(name: str, value: object, low: int, high: int) -> int:
    """``value`` as an int in ``[low, high]``, or :class:`BadCall` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadCall(f"{name} must be an integer")
    if not low <= value <= high:
        raise BadCall(f"{name} must be between {low} and {high}")
    return value


def check_query(query: str) -> str:
    """The stripped query, or :class:`BadCall` when it is empty or too long."""
    query = query.strip()
    if not query:
        raise BadCall("the q parameter (what to search for) is required")
    if len(query) > MAX_QUERY_CHARS:
        raise BadCall(f"q is longer than {MAX_QUERY_CHARS} characters")
    return query


@dataclass(frozen=True)
class SearchCall:
    """One ``POST /search``: the shopper's words, the page, and the signed customer token to personalize with."""

    q: str
    k: int = 10
    offset: int = 0
    customer_token: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"q": self.q, "k": self.k, "offset": self.offset, "customer_token": self.customer_token}

    @classmethod
    def from_json(cls, body: object) -> SearchCall:
        """The call in a request body, checked against the same bounds as the web app's query string."""
        if not isinstance(body, dict):
            raise BadCall("the body must be a JSON object")
        query = body.get("q")
        token = body.get("customer_token")
        if not isinstance(query, str):
            raise BadCall("the q parameter (what to search for) is required")
        if token is not None and not isinstance(token, str):
            raise BadCall("customer_token must be a string")
        return cls(
            check_query(query),
            check_int("k", body.get("k", 10), 1, MAX_K),
            check_int("offset", body.get("offset", 0), 0, MAX_OFFSET),
            token or None,
        )


def embed_texts(body: object) -> list[str]:
    """The texts of a ``POST /embed`` body (``{"texts": [...]}``), or :class:`BadCall`."""
    texts = body.get("texts") if isinstance(body, dict) else None
    if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
        raise BadCall("texts must be a list of strings")
    if len(texts) > MAX_EMBED_TEXTS:
        raise BadCall(f"at most {MAX_EMBED_TEXTS} texts per call")
    return texts
