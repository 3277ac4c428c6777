"""The FAISS index of the dense leg: which kind serves which catalog size, its parameters, and in-place edits.

Exact inner-product search (``IDMap2,Flat``) has perfect recall and is what small catalogs
get.  Past ``ann_threshold`` products an inverted-file index (IVF, optionally with 8-bit
scalar quantization) takes over.  Measured on this project's shared 2-core machine
(``bench/search_scale.py``, ``scale`` in bench/results/search.json): exact search of one
query takes about 40 ms at 100,000 products and 250 ms at 1,000,000, IVF with ``nprobe`` 32
a few milliseconds at both, at recall@10 >= 0.98 against exact search.  HNSW was tried
during development: as fast to search, but building 100,000 vectors took 46 s against 8 s
for IVF, and it cannot remove vectors, which incremental deletes and updates need.  IVF
keeps working as products come and go: vectors are removed, re-numbered and added in place
without retraining (re-clustered only once the catalog outgrows its training fourfold).

Every index carries the product's row number as its FAISS id, so id selectors,
``reconstruct`` and the searcher's row arithmetic are the same for every kind.  The
parameters the index was built with are persisted in the manifest (``index_params``) and
the searcher reads its search-time parameter (``nprobe``) from there.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

import faiss
import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from assistant.settings import Settings

Kind = Literal["flat", "ivf"]
Quantizer = Literal["flat", "sq8"]
QUANTIZERS: tuple[Quantizer, ...] = ("flat", "sq8")
TRAIN_POINTS_PER_LIST = 40  # FAISS warns below 39 training points per inverted list
MAX_TRAIN_POINTS = 100_000  # enough for k-means to place 4,000 centroids; more only slows training
NPROBE_WIDENING = 4  # factor by which a filtered IVF search widens nprobe when it found too few
RETRAIN_GROWTH = 4.0  # re-cluster when the catalog has grown this much past what IVF was trained on
TRAIN_SEED = 1234


@dataclass(frozen=True)
class IndexParams:
    """How to build the dense index (from settings or CLI flags); persisted in the manifest.

    ``nlist`` 0 means about ``sqrt(count)`` (a power of two): training and adding cost grows with
    ``nlist``, and at ``nprobe`` 32 this still scans only a few percent of a million products.
    """

    ann_threshold: int = 50_000
    nlist: int = 0
    nprobe: int = 32
    quantizer: Quantizer = "flat"

    def __post_init__(self) -> None:
        if self.quantizer not in QUANTIZERS:
            raise ValueError(f"index quantizer must be one of {', '.join(QUANTIZERS)}, not {self.quantizer!r}")
        if self.ann_threshold < 1 or self.nlist < 0 or self.nprobe < 1:
            raise ValueError(f"invalid index parameters {self}: threshold and nprobe must be >= 1, nlist >= 0")

    @classmethod
    def configured(cls, settings: Settings, **overrides: Any) -> IndexParams:
        """The ``SHOP_INDEX_*`` settings, each replaced by its override unless that is ``None`` (an unset CLI flag).

        Every builder (CLI, demo setup) goes through here so that none silently falls back to the defaults.
        """
        values: dict[str, Any] = {
            "ann_threshold": settings.index_ann_threshold, "nlist": settings.index_nlist,
            "nprobe": settings.index_nprobe, "quantizer": settings.index_quantizer,
        }
        values.update({name: overrides[name] for name in values if overrides.get(name) is not None})
        return cls(**values)

    @classmethod
    def persisted(cls, index_params: dict[str, Any]) -> IndexParams | None:
        """The parameters a manifest records (``None`` for indexes written before they were recorded)."""
        if not index_params:
            return None
        names = ("ann_threshold", "nlist", "nprobe", "quantizer")
        chosen = {name: index_params[name] for name in names if name in index_params}
        if index_params.get("kind") == "ivf" and "configured_nlist" in index_params:
            chosen["nlist"] = index_params["configured_nlist"]
        return cls(**chosen)

    def kind_for(self, count: int) -> Kind:
        """Exact search up to the threshold, IVF above it."""
        return "ivf" if count > self.ann_threshold else "flat"

    def nlist_for(self, count: int) -> int:
        """Inverted lists for ``count`` vectors: the configured number, else about ``sqrt(count)``."""
        if self.nlist:
            return self.nlist
        return max(16, int(2 ** round(math.log2(math.sqrt(count)))))


def describe(index: faiss.Index) -> str:
    """The kind of a FAISS index as the manifest records it (``faiss_index_type``)."""
    if isinstance(index, faiss.IndexIDMap2):
        return "IDMap2,Flat,IP"
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        storage = "SQ8" if isinstance(faiss.downcast_index(index), faiss.IndexIVFScalarQuantizer) else "Flat"
        return f"IVF{ivf.nlist},{storage},IP"
    return type(index).__name__


def _train_sample(vectors: np.ndarray, nlist: int) -> np.ndarray:
    wanted = min(len(vectors), max(nlist * TRAIN_POINTS_PER_LIST, 1), MAX_TRAIN_POINTS)
    if wanted >= len(vectors):
        return vectors
    rows = np.random.default_rng(TRAIN_SEED).choice(len(vectors), wanted, replace=False)
    return vectors[np.sort(rows)]


def new_index(vectors: np.ndarray, params: IndexParams) -> tuple[faiss.Index, dict[str, Any]]:
    """An index of the kind ``params`` picks for ``len(vectors)``, holding row ``i`` as id ``i``.

    Returns the index and the parameters to persist in the manifest.
    """
    count, dimension = vectors.shape
    rows = np.arange(count, dtype=np.int64)
    persisted: dict[str, Any] = {"kind": params.kind_for(count), **asdict(params)}
    if persisted["kind"] == "flat":
        exact = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        exact.add_with_ids(vectors, rows)
        return exact, persisted
    nlist = min(params.nlist_for(count), count)
    quantizer = faiss.IndexFlatIP(dimension)
    index: faiss.IndexIVF
    if params.quantizer == "sq8":
        index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    else:
        index = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = TRAIN_SEED
    index.train(_train_sample(vectors, nlist))
    index.add_with_ids(vectors, rows)
    index.make_direct_map(True)  # ids are 0..n-1, so an array map serves ``reconstruct``
    persisted.update(nlist=nlist, configured_nlist=params.nlist, trained_on=count)
    return index, persisted


def all_vectors(index: faiss.Index) -> npt.NDArray[np.float32]:
    """Every stored vector in row order (decoded, so approximate for SQ8)."""
    # faiss's stubs type the call without an output array as Any; it returns a float32 matrix.
    return cast("npt.NDArray[np.float32]", index.reconstruct_n(0, index.ntotal))


def _renumber_ivf(ivf: faiss.IndexIVF, new_row_of: np.ndarray) -> None:
    """Rewrite the ids stored in every inverted list through ``new_row_of`` (old row -> new row)."""
    lists = ivf.invlists
    if lists is None:
        raise ValueError("an IVF index without inverted lists cannot be re-numbered")
    for list_no in range(ivf.nlist):
        size = lists.list_size(list_no)
        if not size:
            continue
        ids = faiss.rev_swig_ptr(lists.get_ids(list_no), size)
        renumbered = np.ascontiguousarray(new_row_of[ids], dtype=np.int64)
        if np.array_equal(renumbered, ids):
            continue
        codes = faiss.rev_swig_ptr(lists.get_codes(list_no), size * lists.code_size).copy()
        lists.update_entries(list_no, 0, size, faiss.swig_ptr(renumbered), faiss.swig_ptr(codes))


def edited_index(
    index: faiss.Index,
    persisted: dict[str, Any],
    new_row_of: np.ndarray,
    added_rows: np.ndarray,
    added_vectors: np.ndarray,
    params: IndexParams,
) -> tuple[faiss.Index, dict[str, Any]]:
    """``index`` after an incremental change, without embedding anything again.

    ``new_row_of[old_row]`` is the kept vector's new row or -1 (deleted, or replaced because
    the product's text changed); ``added_rows``/``added_vectors`` are the new and changed
    products.  A flat index is rebuilt from its own vectors (a memory copy); an IVF index is
    edited in place (remove, re-number, add) with its trained centroids, unless the catalog
    crossed the size threshold or outgrew its training, when it is rebuilt from the vectors.
    ``index`` may be modified; use only the returned one.
    """
    count = int((new_row_of >= 0).sum()) + len(added_rows)
    kept = np.flatnonzero(new_row_of >= 0)
    kind = persisted.get("kind", "flat")
    outgrown = kind == "ivf" and count > RETRAIN_GROWTH * persisted.get("trained_on", count)
    if kind == "flat" or params.kind_for(count) != kind or outgrown:
        vectors = np.empty((count, index.d), dtype=np.float32)
        if len(kept):
            vectors[new_row_of[kept]] = index.reconstruct_batch(kept) if kind == "ivf" else all_vectors(index)[kept]
        if len(added_rows):
            vectors[added_rows] = added_vectors
        return new_index(vectors, params)
    ivf = faiss.extract_index_ivf(index)
    ivf.make_direct_map(False)  # an array map forbids removing and adding with ids
    removed = np.flatnonzero(new_row_of < 0).astype(np.int64)
    if len(removed):
        ivf.remove_ids(faiss.IDSelectorBatch(removed))
    _renumber_ivf(ivf, new_row_of)
    if len(added_rows):
        ivf.add_with_ids(np.ascontiguousarray(added_vectors, dtype=np.float32), added_rows.astype(np.int64))
    ivf.make_direct_map(True)
    return index, {**persisted, "nprobe": params.nprobe}


def search_parameters(index: faiss.Index, persisted: dict[str, Any], selector: faiss.IDSelector | None = None,
                      nprobe: int | None = None) -> faiss.SearchParameters:
    """Search-time parameters: the persisted ``nprobe`` (or a wider one) for IVF, and an optional id selector."""
    # Attributes set one by one (faiss's stubs know no keyword constructor); faiss keeps ``selector`` alive either way.
    if faiss.try_extract_index_ivf(index) is None:
        exact = faiss.SearchParameters()
        exact.sel = selector
        return exact
    ivf = faiss.SearchParametersIVF()
    ivf.sel = selector
    ivf.nprobe = nprobe or int(persisted.get("nprobe", IndexParams.nprobe))
    return ivf


def ivf_filtered_search(
    index: faiss.Index, persisted: dict[str, Any], vector: np.ndarray, mask: np.ndarray, wanted: int, exact_rows: int
) -> dict[int, float]:
    """``wanted`` passing rows (``mask``) nearest to ``vector`` in an IVF index, never fewer while enough pass.

    A selective filter (at most ``exact_rows`` passing) is answered exactly from the passing
    rows' stored vectors, which is both faster and better than probing lists that hold few of
    them.  Otherwise IVF searches with an id bitmap of the passing rows, widening ``nprobe``
    until it found ``wanted``; at ``nprobe == nlist`` it scans everything, so it cannot starve.
    """
    rows = np.flatnonzero(mask)
    wanted = min(wanted, len(rows))
    if wanted == 0:
        return {}
    if len(rows) <= exact_rows:
        scores = index.reconstruct_batch(rows) @ vector[0]
        if wanted < len(rows):
            top = np.argpartition(-scores, wanted - 1)[:wanted]
            rows, scores = rows[top], scores[top]
        return dict(zip(rows.tolist(), scores.tolist(), strict=True))
    bitmap = None if len(rows) == len(mask) else np.packbits(mask, bitorder="little")
    selector = None if bitmap is None else faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bitmap))
    nlist = faiss.extract_index_ivf(index).nlist
    nprobe = int(persisted.get("nprobe", IndexParams.nprobe))
    while True:
        scores, found_rows = index.search(vector, wanted, params=search_parameters(index, persisted, selector, nprobe))
        found = {int(r): float(s) for r, s in zip(found_rows[0], scores[0], strict=False) if r >= 0}
        if len(found) >= wanted or nprobe >= nlist:
            return found
        nprobe = min(nprobe * NPROBE_WIDENING, nlist)
