"""The action server's catalog index, served to the web app so no other process loads it (#15.7).

The index and its encoder take about 320 MiB; the action server needs them for the chat, so
it is the one process that holds them. The routes sit behind the action server's token
(the plugin's guard) and answer the web app:

- ``POST /search`` ``{"q", "k", "offset", "customer_token"}``: the same request as the chat and
  the CLI (:meth:`SearchRequest.parse`), personalized for a valid customer token (403 for a bad
  one), as :func:`result_to_json`; 503 while the index cannot be loaded;
- ``GET /search/status``: ``ready``, ``loading`` or ``unavailable``, for the web app's probes;
- ``POST /embed`` ``{"texts": [...]}``: the encoder's unit vectors (the dashboard groups
  unanswered messages by meaning with them).

The index starts loading in a background thread once the server is up (#15.5), so the first
shopper's search does not wait for it; a store without an index only logs it, and the first
search retries and answers honestly. Searches run in worker threads: the event loop stays free.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from sanic import Request, response
from sanic.response import HTTPResponse

from actions.context import searcher, searcher_loaded, settings, store
from assistant.identity import verify_customer_token
from assistant.search_wire import CUSTOMER_TOKEN_REFUSED, BadCall, SearchCall, embed_texts
from catalog_index.errors import IndexUnavailable

log = logging.getLogger(__name__)
UNAVAILABLE = "product search is unavailable: the catalog index is not built or failed to load"
_loader: list[threading.Thread] = []  # the background load started with the server, for the status


def _search(call: SearchCall, customer_id: str | None) -> dict[str, Any]:
    from assistant.recommend.rerank import personalize
    from catalog_index.request import SearchRequest
    from catalog_index.search import result_to_json

    index = searcher()
    result = index.run(SearchRequest.parse(call.q, index.vocabulary, k=call.k, offset=call.offset))
    if customer_id is not None:
        result.hits = personalize(store(), customer_id, index.get, result.hits, result.text)
    return result_to_json(result)


async def search_view(request: Request) -> HTTPResponse:
    """``POST /search``: one page of results, re-ranked for the customer whose signed token comes with it."""
    try:
        call = SearchCall.from_json(request.json)
    except BadCall as error:
        return response.json({"error": str(error)}, status=400)
    customer_id = None
    if call.customer_token is not None:
        current = settings()
        customer_id = verify_customer_token(call.customer_token, current.store_secret, max_ttl=current.token_max_ttl)
        if customer_id is None:
            return response.json({"error": CUSTOMER_TOKEN_REFUSED}, status=403)
    try:
        return response.json(await asyncio.to_thread(_search, call, customer_id))
    except IndexUnavailable:
        return response.json({"error": UNAVAILABLE}, status=503)


async def status_view(request: Request) -> HTTPResponse:
    """``GET /search/status``: whether a search would answer now, without waiting for the index."""
    if searcher_loaded():
        status = "ready"
    elif any(thread.is_alive() for thread in _loader):
        status = "loading"
    else:
        status = "unavailable"
    return response.json({"search": status})


async def embed_view(request: Request) -> HTTPResponse:
    """``POST /embed``: the catalog encoder's unit vectors for ``texts``, one list of floats each."""
    try:
        texts = embed_texts(request.json)
    except BadCall as error:
        return response.json({"error": str(error)}, status=400)
    try:
        vectors = await asyncio.to_thread(lambda: searcher().embed(texts).tolist())
    except IndexUnavailable:
        return response.json({"error": UNAVAILABLE}, status=503)
    return response.json({"vectors": vectors})


async def load_catalog_in_background(app: object) -> None:
    """Start loading the catalog searcher in a daemon thread (the event loop stays free)."""
    thread = threading.Thread(target=_load_catalog, name="catalog-load", daemon=True)
    _loader[:] = [thread]
    thread.start()


def _load_catalog() -> None:
    started = time.perf_counter()
    try:
        searcher()
    except IndexUnavailable as error:
        log.warning("catalog index not loaded at start (the first search will retry): %s", error.__cause__ or error)
        return
    log.info("catalog index and encoder loaded in %.1f s, before the first search", time.perf_counter() - started)
