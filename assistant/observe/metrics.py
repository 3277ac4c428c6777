"""The Prometheus metrics every process of the stack may count, named in one place.

Each process (web app, action server) counts what it sees in its own default registry and
serves it on its own ``GET /metrics``: counters are per process, as Prometheus expects,
and a restart starts them at zero (Prometheus's ``rate()`` handles that). Label values
come from a small fixed set (channel names, action names, handoff reasons our code
writes), never from what a shopper typed, so the series stay few.

Who counts what:

- web app: ``shop_chat_messages_total{channel}``, ``shop_chat_reply_seconds``;
- action server: ``shop_nlu_fallback_total``, ``shop_handoffs_total{reason}``,
  ``shop_search_requests_total``, ``shop_search_zero_results_total``,
  ``shop_action_errors_total{action}``, ``shop_recommendations_total``.
"""

from __future__ import annotations

import hmac
import ipaddress

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

CHAT_MESSAGES = Counter("shop_chat_messages", "Shopper messages forwarded to Rasa, by channel", ["channel"])
CHAT_REPLY_SECONDS = Histogram(
    "shop_chat_reply_seconds", "Time from a shopper message to the bot's answer, as the gateway saw it",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0),
)
NLU_FALLBACKS = Counter("shop_nlu_fallback", "Messages NLU was unsure of (the fallback action ran)")
HANDOFFS = Counter("shop_handoffs", "Requests for a person queued, by reason", ["reason"])
SEARCH_REQUESTS = Counter("shop_search_requests", "Product searches run from the chat")
SEARCH_ZERO_RESULTS = Counter("shop_search_zero_results", "Product searches that found nothing, even relaxed")
ACTION_ERRORS = Counter("shop_action_errors", "Custom actions that failed and answered an apology", ["action"])
RECOMMENDATIONS = Counter("shop_recommendations", "Recommendation replies shown with at least one product")

CONTENT_TYPE = CONTENT_TYPE_LATEST
BEARER = "Bearer "


def exposition() -> bytes:
    """This process's metrics in the Prometheus text format."""
    return generate_latest(REGISTRY)


def scrape_allowed(remote: str | None, authorization: str, token: str) -> bool:
    """Whether a scrape may read the metrics: from loopback, or with ``Bearer <SHOP_METRICS_TOKEN>``.

    Metrics hold no personal data but say how busy the shop is; a configured token opens
    them to a Prometheus on another host, compared in constant time.
    """
    if authorization.startswith(BEARER) and token:
        given = authorization[len(BEARER):].strip().encode("utf-8")
        if hmac.compare_digest(given, token.encode("utf-8")):
            return True
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def handoff_reason(reason: str | None) -> str:
    """The label for a handoff reason (our code writes a few fixed ones; anything long is "other")."""
    if not reason:
        return "unspecified"
    return reason if len(reason) <= 40 else "other"
