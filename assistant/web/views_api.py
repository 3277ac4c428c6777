"""``GET /healthz`` and ``GET /api/search``: the app's health and the catalog search API.

The search is the action server's (:mod:`assistant.web.search_client`): this process loads
no index and no encoder.
"""

from __future__ import annotations

from aiohttp import web

from assistant.search_wire import MAX_K, MAX_OFFSET, BadCall, SearchCall, check_int, check_query
from assistant.web.keys import RASA, SEARCH
from assistant.web.middlewares import ApiError
from assistant.web.search_client import CustomerTokenRefused, SearchUnavailable
from assistant.web.sessions import bearer_token

UNAVAILABLE = "product search is unavailable: the action server is not answering, or its catalog index is loading, missing or broken"


async def get_health(request: web.Request) -> web.Response:
    """Always 200 while the app serves; says whether Rasa answers and the action server's search is ready."""
    rasa_up = await request.app[RASA].is_up()
    return web.json_response({"ok": True, "rasa": rasa_up, "search": await request.app[SEARCH].status()})


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        return check_int(name, int(raw), low, high)
    except ValueError as error:
        raise ApiError(400, str(error) if isinstance(error, BadCall) else f"{name} must be an integer") from None


async def get_search(request: web.Request) -> web.Response:
    """``?q=red running shoes under 80&k=10&offset=0``: the same search request as the chat and the CLI,
    personalized (by the action server, with consent) when a customer token comes as ``Authorization: Bearer``."""
    try:
        query = check_query(request.query.get("q", ""))
    except BadCall as error:
        raise ApiError(400, str(error)) from None
    call = SearchCall(query, _int_param(request, "k", 10, 1, MAX_K), _int_param(request, "offset", 0, 0, MAX_OFFSET), bearer_token(request))
    try:
        result = await request.app[SEARCH].search(call)
    except CustomerTokenRefused as error:
        raise ApiError(401, str(error)) from None
    except SearchUnavailable:
        raise ApiError(503, UNAVAILABLE) from None
    return web.json_response({"query": query, **result})
