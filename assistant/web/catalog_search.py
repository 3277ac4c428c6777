"""The catalog index inside the web app: loaded once, off the event loop, searched in threads.

Loading the embedding model takes seconds, so it happens in a worker thread after start-up:
the app (and ``/healthz``) answers at once, and a search that arrives during loading waits
for it.  A store without an index still serves chat; only ``/api/search`` says 503.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog_index.errors import IndexUnavailable

if TYPE_CHECKING:
    import numpy as np

    from catalog_index.embedder import ModelRef
    from catalog_index.schema import Product
    from catalog_index.search import CatalogSearcher, Hit

Reorder = Callable[[list["Hit"], str, Callable[[str], "Product | None"]], list["Hit"]]

log = logging.getLogger(__name__)


class CatalogSearch:
    """One loaded :class:`CatalogSearcher` shared by all requests of the app."""

    def __init__(self, index_dir: Path, model_name: ModelRef) -> None:
        self.index_dir = index_dir
        self.model_name = model_name
        self._searcher: CatalogSearcher | None = None
        self._loading: asyncio.Task[None] | None = None

    def _load_blocking(self) -> None:
        from catalog_index.search import CatalogSearcher

        self._searcher = CatalogSearcher.load(self.index_dir, self.model_name)

    async def _load(self) -> None:
        if not self.index_dir.is_dir():
            log.warning("no catalog index at %s: /api/search will answer 503", self.index_dir)
            return
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._load_blocking)
        except Exception:
            log.exception("could not load the catalog index at %s", self.index_dir)

    def start_loading(self) -> None:
        """Begin loading in a worker thread; call once, from the running loop."""
        self._loading = asyncio.create_task(self._load())

    async def stop(self) -> None:
        """Stop waiting for a load still in progress (the thread finishes on its own)."""
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()

    def encoder(self) -> Callable[[Sequence[str]], np.ndarray] | None:
        """The loaded index's sentence encoder (the dashboard groups unanswered messages with it); ``None`` until loaded."""
        searcher = self._searcher
        return None if searcher is None else (lambda texts: searcher.embed(list(texts)))

    @property
    def status(self) -> str:
        """``ready``, ``loading`` or ``unavailable``, as reported by ``/healthz``."""
        if self._searcher is not None:
            return "ready"
        if self._loading is not None and not self._loading.done():
            return "loading"
        return "unavailable"

    async def search(self, text: str, k: int, offset: int, reorder: Reorder | None = None) -> dict[str, Any]:
        """The request ``text`` makes (:meth:`SearchRequest.parse`, as in chat and the CLI), searched, as the CLI's JSON shape.

        ``reorder(hits, relevance_text, get_product)`` runs in the worker thread too: the
        personalized re-rank of a signed-in shopper's page (it reads the store).
        """
        if self._loading is not None:
            await asyncio.shield(self._loading)
        searcher = self._searcher
        if searcher is None:
            raise IndexUnavailable(f"no usable catalog index at {self.index_dir}")
        from catalog_index.request import SearchRequest
        from catalog_index.search import result_to_json

        def run() -> dict[str, Any]:
            result = searcher.run(SearchRequest.parse(text, searcher.vocabulary, k=k, offset=offset))
            if reorder is not None:
                result.hits = reorder(result.hits, result.text, searcher.get)
            return result_to_json(result)

        return await asyncio.get_running_loop().run_in_executor(None, run)
