"""The web app's catalog search: the action server's, over HTTP, so the index and its encoder live in one process (#15.7).

The action server loads them for the chat anyway (about 320 MiB); the web app asks it with
the action server's token (``ACTION_SERVER_TOKEN``, at ``ACTION_ENDPOINT_URL``'s host) on one
pooled client session. Every way the call can fail (the action server down, still loading,
slow, refusing our token) becomes :class:`SearchUnavailable`, which ``/api/search`` answers
with a 503; a customer token the action server refuses becomes :class:`CustomerTokenRefused`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import aiohttp
import numpy as np
from yarl import URL

from assistant.observe.unanswered import Embed
from assistant.search_wire import EMBED_PATH, SEARCH_PATH, STATUS_PATH, SearchCall

log = logging.getLogger(__name__)
SEARCH_SECONDS = 10.0  # a search answers in well under a second; a stuck action server must not hold the shopper
STATUS_SECONDS = 2.0  # the probes (/healthz, /readyz) answer quickly even when the action server does not


class SearchUnavailable(RuntimeError):
    """The action server cannot search now: down, loading its index, without one, slow, or refusing our token."""


class CustomerTokenRefused(RuntimeError):
    """The action server found the shopper's customer token invalid or expired."""


class SearchClient:
    """The action server's search routes, for every request of the app."""

    def __init__(self, session: aiohttp.ClientSession, endpoint_url: str, token: str, timeout: float = SEARCH_SECONDS) -> None:
        self.session = session
        self.base = URL(endpoint_url).with_path("/").with_query(None)  # ACTION_ENDPOINT_URL names its /webhook
        self.headers = {"Authorization": f"Bearer {token}"}
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            async with self.session.post(self.base.with_path(path), json=body, headers=self.headers, timeout=self.timeout) as response:
                status = response.status
                payload = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            raise SearchUnavailable(f"the action server did not answer {path}: {error!r}") from None
        if not isinstance(payload, dict):
            raise SearchUnavailable(f"the action server answered {path} with {status} and no JSON object")
        if status == 403:
            raise CustomerTokenRefused(str(payload.get("error")))
        if status != 200:
            if status == 401:
                log.error("the action server refused the web app's token: ACTION_SERVER_TOKEN differs between them")
            raise SearchUnavailable(f"the action server answered {path} with {status}: {payload.get('error')}")
        return dict(payload)

    async def search(self, call: SearchCall) -> dict[str, Any]:
        """One page of results as the CLI's JSON shape (:func:`catalog_index.search.result_to_json`)."""
        return await self._post(SEARCH_PATH, call.to_json())

    async def embed(self, texts: list[str]) -> np.ndarray:
        """The catalog encoder's unit vectors for ``texts``, one row each."""
        payload = await self._post(EMBED_PATH, {"texts": texts})
        return np.asarray(payload["vectors"], dtype=np.float32).reshape(len(texts), -1)

    async def status(self) -> str:
        """``ready``, ``loading`` or ``unavailable`` (also when the action server does not answer), for the probes."""
        try:
            async with self.session.get(
                self.base.with_path(STATUS_PATH), headers=self.headers, timeout=aiohttp.ClientTimeout(total=STATUS_SECONDS)
            ) as response:
                payload = await response.json(content_type=None) if response.status == 200 else {}
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            return "unavailable"
        status = payload.get("search")
        return status if status in ("ready", "loading") else "unavailable"

    def encoder(self, loop: asyncio.AbstractEventLoop) -> Embed:
        """A blocking :data:`Embed` for worker threads (never the loop's own thread), answered on ``loop``.

        When the action server cannot answer, each text gets a vector of its own (orthogonal to
        the others), so messages group by exact wording, as they did before any index loaded.
        """

        def embed(texts: Sequence[str]) -> np.ndarray:
            try:
                return asyncio.run_coroutine_threadsafe(self.embed(list(texts)), loop).result()
            except SearchUnavailable as error:
                log.warning("grouping unanswered messages by exact wording: %s", error)
                return np.eye(len(texts), dtype=np.float32)

        return embed
