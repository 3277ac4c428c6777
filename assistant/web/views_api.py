"""``GET /healthz`` and ``GET /api/search``: the app's health and the catalog search API."""

from __future__ import annotations

from aiohttp import web

from assistant.identity import verify_customer_token
from assistant.web.catalog_search import Reorder
from assistant.web.keys import CATALOG, RASA, SETTINGS, STORE
from assistant.web.middlewares import ApiError
from assistant.web.sessions import bearer_token
from catalog_index.errors import IndexUnavailable

MAX_QUERY_CHARS = 500
MAX_K = 50
MAX_OFFSET = 1_000


async def get_health(request: web.Request) -> web.Response:
    """Always 200 while the app serves; says whether Rasa answers and the index is loaded."""
    rasa_up = await request.app[RASA].is_up()
    return web.json_response({"ok": True, "rasa": rasa_up, "search": request.app[CATALOG].status})


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an integer") from None
    if not low <= value <= high:
        raise ApiError(400, f"{name} must be between {low} and {high}")
    return value


def _personal_reorder(request: web.Request) -> Reorder | None:
    """With ``Authorization: Bearer <customer token>``, the page is re-ranked for that customer (with consent)."""
    token = bearer_token(request)
    if token is None:
        return None
    settings = request.app[SETTINGS]
    customer_id = verify_customer_token(token, settings.store_secret, max_ttl=settings.token_max_ttl)
    if customer_id is None:
        raise ApiError(401, "the customer token is invalid or expired; search again without it or sign in again")
    from assistant.recommend.rerank import personalize

    store = request.app[STORE]
    return lambda hits, text, get: personalize(store, customer_id, get, hits, text)


async def get_search(request: web.Request) -> web.Response:
    """``?q=red running shoes under 80&k=10&offset=0``: the same search request as the chat and the CLI,
    personalized when a customer token comes as ``Authorization: Bearer``."""
    query = request.query.get("q", "").strip()
    if not query:
        raise ApiError(400, "the q parameter (what to search for) is required")
    if len(query) > MAX_QUERY_CHARS:
        raise ApiError(400, f"q is longer than {MAX_QUERY_CHARS} characters")
    k = _int_param(request, "k", 10, 1, MAX_K)
    offset = _int_param(request, "offset", 0, 0, MAX_OFFSET)
    try:
        result = await request.app[CATALOG].search(query, k, offset, _personal_reorder(request))
    except IndexUnavailable:
        raise ApiError(503, "product search is unavailable: the catalog index is not built or failed to load") from None
    return web.json_response({"query": query, **result})
