"""Turn products and queries into normalized vectors with a local sentence-transformers model.

The model is named by a path (or any name ``SentenceTransformer`` resolves offline) so a
retailer can swap in another local model; the index manifest records that name, and a
searcher refuses an index built with a different one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

DESCRIPTION_CHARS = 300
MAX_TAGS = 8
# Threads for torch and FAISS.  One query split across threads costs more in synchronization
# than it gains, and on a shared 2-core machine it is ruinous: measured under load, a query
# embedding took 1.4 s with 2 torch threads and 41 ms with 1, an exact search over 10,000
# products 44 ms with 2 OpenMP threads and 0.6 ms with 1.  Concurrent requests still use
# every core.  Index builds embed batches and use every core: over six benchmark runs on the
# shared 2-core machine, batches of 64 averaged 65 products/s with two threads (32: 56) and
# on a quiet machine two threads gave 89-105 against at most 58 with one (single runs swung
# from 14 to 111 with the load; ``embedding_throughput`` in bench/results/search.json),
# hence SHOP_EMBED_BATCH_SIZE 64.
SEARCH_THREADS = 1
BUILD_THREADS = os.cpu_count() or 1


def use_threads(count: int) -> None:
    """Run torch and FAISS with ``count`` threads in this process (both settings are process-wide)."""
    import faiss
    import torch

    torch.set_num_threads(count)
    faiss.omp_set_num_threads(count)


def document_text(product: dict[str, Any]) -> str:
    """The text embedded for a product: title first, then the attributes shoppers name.

    The title leads so that a bare catalog (id and title only) embeds as well as it can,
    and the description is cut short because it is the noisiest field and the model reads
    only the first few hundred tokens anyway.
    """
    parts: list[str] = [product["title"]]
    for key in ("brand", "color", "category", "subcategory"):
        value = product.get(key)
        if value and str(value).lower() not in parts[0].lower():
            parts.append(str(value))
    tags = [tag for tag in product.get("tags") or [] if tag][:MAX_TAGS]
    if tags:
        parts.append(", ".join(tags))
    description = (product.get("description") or "").strip()
    if description:
        cut = description[:DESCRIPTION_CHARS]
        parts.append(cut.rsplit(" ", 1)[0] if len(description) > DESCRIPTION_CHARS and " " in cut else cut)
    return ". ".join(parts)


class Embedder:
    """A loaded sentence-transformers model on the CPU."""

    def __init__(self, model_name: str, threads: int | None = None) -> None:
        """Load ``model_name``; ``threads`` (when given) sets the process's torch and FAISS threads."""
        from sentence_transformers import SentenceTransformer  # heavy: imported only when embedding

        if threads is not None:
            use_threads(threads)
        self.model_name = model_name
        self._model = SentenceTransformer(model_name, device="cpu")
        self.dimension: int = int(self._model.get_embedding_dimension())

    def known_words(self) -> frozenset[str]:
        """The whole, alphabetic words of the model's vocabulary: real words a spelling corrector must leave alone."""
        vocabulary = self._model.tokenizer.get_vocab()
        return frozenset(word for word in vocabulary if word.isalpha() and word.isascii() and len(word) > 1)

    def embed(self, texts: Sequence[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """``(len(texts), dimension)`` float32 unit vectors, so inner product is cosine similarity."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            show_progress_bar=progress and len(texts) > batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
