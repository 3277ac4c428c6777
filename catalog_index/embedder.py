"""Turn products and queries into normalized vectors with a local sentence encoder.

The model is named by a path (or any name ``SentenceTransformer`` resolves offline) so a
retailer can swap in another local model; the index manifest records that name, and a
searcher refuses an index built with a different one.

Two backends compute the vectors (``SHOP_EMBED_BACKEND``):

- ``onnx`` (default): the model exported to ONNX at install time (``make encoder``, int8 where
  its vectors hold, see ``assistant/encoder_quantize.py``), run by ONNX Runtime with the same
  tokenizer and pooling code as the Rasa featurizer (``rasa_addons/onnx_sentence_encoder.py``).
  No torch import: a process starts faster and holds one small model.
- ``torch``: sentence-transformers itself, the reference and the fallback for a model nobody
  exported.

Vectors of both backends are interchangeable, which is why an index built with one is searched
with the other: the export refuses to write a graph whose vectors fall below cosine 0.999 (fp32)
or 0.99 (int8) of sentence-transformers on its check sentences, and ``bench/embed_bench.py``
measures the recall@10 of each backend's index against the torch one.  The manifest records the
backend (:attr:`Embedder.backend`) so that a searcher can still refuse one it does not know.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from catalog_index.schema import Product

if TYPE_CHECKING:
    from rasa_addons.onnx_sentence_encoder import OnnxSentenceEncoder

BACKENDS = ("onnx", "torch")
# What an index's manifest may record as its backend, all verified against sentence-transformers
# by the export (see the module docstring); "" is an index written before backends were recorded (torch).
COMPATIBLE_BACKENDS = frozenset({"", "torch", "onnx", "onnx-int8-dynamic"})
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Written by ``make encoder``: int8 where quality holds, else the fp32 graph (assistant/encoder_quantize.py).
DEFAULT_ONNX_DIR = PROJECT_ROOT / "models" / "encoder" / "minilm-search"
DESCRIPTION_CHARS = 300
MAX_TAGS = 8
# Threads for the encoder and FAISS.  One query split across threads costs more in synchronization
# than it gains, and on a shared 2-core machine it is ruinous: measured under load, a query
# embedding took 1.4 s with 2 torch threads and 41 ms with 1, an exact search over 10,000
# products 44 ms with 2 OpenMP threads and 0.6 ms with 1.  Concurrent requests still use
# every core.  Index builds embed batches and use every core: over six benchmark runs on the
# shared 2-core machine, batches of 64 averaged 65 products/s with two threads (32: 56) and
# on a quiet machine two threads gave 89-105 against at most 58 with one (single runs swung
# from 14 to 111 with the load; ``embedding_throughput`` in bench/results/search.json),
# hence SHOP_EMBED_BATCH_SIZE 64.  ONNX Runtime's threads belong to its session, so an ONNX
# embedder is made with its thread count (``Embedder(threads=...)``).  numpy's BLAS follows too: the
# recommenders' small products with the catalog vectors (bench/recommend_call.py) cost 9-16 ms of CPU
# per recommend call with OpenBLAS's default threads against 2-7 ms with one (wall 26-45 ms against 2-15),
# and at 100,000 products a category filter's exact scoring of its 1,200 rows (``ann.ivf_filtered_search``)
# 3-8 ms of CPU at load 3 against 0.23 ms with one.
SEARCH_THREADS = 1
BUILD_THREADS = os.cpu_count() or 1


def use_threads(count: int) -> None:
    """Run FAISS, numpy's BLAS, and torch if it is loaded, with ``count`` threads in this process (all process-wide)."""
    import faiss
    from threadpoolctl import threadpool_limits

    faiss.omp_set_num_threads(count)
    threadpool_limits(count, user_api="blas")  # called, not entered: the limit stays for the process
    if "torch" in sys.modules:  # importing torch only to set its threads would cost seconds and 300 MB
        sys.modules["torch"].set_num_threads(count)


def document_text(product: Product) -> str:
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


@dataclass(frozen=True)
class EmbeddingModel:
    """Which model makes the vectors (recorded in, and checked against, the index manifest) and how it runs.

    Callers holding settings pass ``settings.embedding``; a bare model name means the default
    backend and export directory.
    """

    name: str
    backend: str = "onnx"
    onnx_dir: Path | None = None

    @classmethod
    def of(cls, model: ModelRef) -> EmbeddingModel:
        """``model`` itself, or a model name with the default backend."""
        return model if isinstance(model, EmbeddingModel) else cls(model)

    def load(self, threads: int | None = None) -> Embedder:
        """The loaded encoder (seconds); ``threads`` as in :class:`Embedder`."""
        return Embedder(self.name, threads=threads, backend=self.backend, onnx_dir=self.onnx_dir)


# A model name (default backend) or a full choice; what the catalog functions accept.
ModelRef = str | EmbeddingModel


class Embedder:
    """A loaded sentence encoder on the CPU (ONNX Runtime or sentence-transformers)."""

    def __init__(
        self, model_name: str, threads: int | None = None, backend: str = "onnx", onnx_dir: Path | None = None
    ) -> None:
        """Load ``model_name`` with ``backend``; ``threads`` (when given) sets the process's torch and FAISS
        threads and the ONNX session's (else one, for queries).  ``onnx_dir`` is the exported encoder
        (default ``DEFAULT_ONNX_DIR``); it must have been exported from ``model_name``."""
        if backend not in BACKENDS:
            raise ValueError(f"embedding backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        if threads is not None:
            use_threads(threads)
        self.model_name = model_name
        if backend == "onnx":
            self._encoder = _onnx_encoder(model_name, onnx_dir or DEFAULT_ONNX_DIR, threads or SEARCH_THREADS)
            quantization = self._encoder.manifest.get("quantization", "none")
            self.backend = "onnx" if quantization == "none" else f"onnx-{quantization}"
            self.dimension: int = self._encoder.dimension
        else:
            import torch
            from sentence_transformers import SentenceTransformer  # heavy: imported only for this backend

            torch.set_num_threads(threads or SEARCH_THREADS)  # use_threads above ran before torch was imported
            self._model = SentenceTransformer(model_name, device="cpu")
            self.backend = "torch"
            dimension = self._model.get_embedding_dimension()
            if dimension is None:
                raise ValueError(f"{model_name} does not say the dimension of its vectors")
            self.dimension = dimension

    @property
    def export_manifest(self) -> dict[str, object]:
        """What the ONNX export recorded (source model, quantization, check cosines); empty for torch."""
        return self._encoder.manifest if self.backend != "torch" else {}

    def known_words(self) -> frozenset[str]:
        """The whole, alphabetic words of the model's vocabulary: real words a spelling corrector must leave alone."""
        vocabulary = self._encoder.vocabulary() if self.backend != "torch" else self._model.tokenizer.get_vocab()
        return frozenset(word for word in vocabulary if word.isalpha() and word.isascii() and len(word) > 1)

    def embed(self, texts: Sequence[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """``(len(texts), dimension)`` float32 unit vectors, so inner product is cosine similarity."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.backend != "torch":
            return _encode_with_progress(self._encoder, list(texts), batch_size, progress)
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            show_progress_bar=progress and len(texts) > batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _onnx_encoder(model_name: str, onnx_dir: Path, threads: int) -> OnnxSentenceEncoder:
    """The exported encoder in ``onnx_dir``, refused if it was exported from another model than ``model_name``."""
    from rasa_addons.onnx_sentence_encoder import OnnxSentenceEncoder, model_fingerprint

    encoder = OnnxSentenceEncoder(Path(onnx_dir), num_threads=threads)
    exported = encoder.manifest.get("source_fingerprint")
    if not Path(model_name).is_dir() or exported != model_fingerprint(Path(model_name)):
        raise ValueError(
            f"the ONNX encoder in {onnx_dir} was not exported from the embedding model {model_name!r} "
            f"(it was from {encoder.manifest.get('source_model')!r}): run `make encoder`, or set SHOP_EMBED_BACKEND=torch"
        )
    return encoder


def _encode_with_progress(encoder: OnnxSentenceEncoder, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
    """The encoder's vectors for ``texts``, in chunks behind a progress bar when ``progress`` and there are many."""
    chunk = batch_size * 16  # long enough to keep the length-sorted batches short on padding
    if not progress or len(texts) <= chunk:
        return encoder.encode(texts, batch_size)
    from tqdm import tqdm

    parts = [encoder.encode(texts[start : start + chunk], batch_size) for start in tqdm(range(0, len(texts), chunk), unit="chunk")]
    return np.concatenate(parts)
