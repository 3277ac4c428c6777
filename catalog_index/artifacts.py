"""The files of an index directory and the manifest that travels with them.

An index is only usable together with its row-to-id map, the products as they were
indexed, its lexical (BM25) part, and the facts needed to tell whether it still fits
(model, dimension, count, catalog checksum, lexical format).  Keeping them side by side, and checking them against each other on
load, turns a stale or damaged index into a clear message instead of wrong answers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from catalog_index.errors import IndexUnavailable
from catalog_index.lexical import LEXICAL_DIR, LEXICAL_FORMAT, files_sha256

FORMAT_VERSION = 1
INDEX_FILE = "index.faiss"
IDS_FILE = "ids.json"
PRODUCTS_FILE = "products.jsonl"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class Manifest:
    """Facts about one built index, stored as ``manifest.json``."""

    model_name: str
    dimension: int
    product_count: int
    catalog_sha256: str
    index_sha256: str
    build_seconds: float
    built_at: str  # ISO 8601, UTC
    faiss_index_type: str
    format_version: int = FORMAT_VERSION
    # Empty in indexes written before the BM25 leg existed: such an index is refused and rebuilt.
    lexical_sha256: str = ""
    lexical_format: str = ""
    # How the dense index was built (kind, threshold, nlist, nprobe, quantizer; see ann.py).
    # Empty in indexes written before ANN indexes existed: those are exact (flat) indexes.
    index_params: dict[str, Any] = field(default_factory=dict)
    # What computed the vectors (catalog_index/embedder.py COMPATIBLE_BACKENDS): "torch", "onnx" or
    # "onnx-<quantization>"; empty in indexes written before it was recorded (those were torch).
    embedding_backend: str = ""

    def write(self, index_dir: Path) -> None:
        """Write ``manifest.json`` into ``index_dir`` (the build's temporary directory)."""
        (index_dir / MANIFEST_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def read(cls, index_dir: Path) -> Manifest:
        """Read and check ``manifest.json``; :class:`IndexUnavailable` if absent or unreadable."""
        path = index_dir / MANIFEST_FILE
        if not path.exists():
            raise IndexUnavailable(f"no index at {index_dir} (missing {MANIFEST_FILE}); run `shop-assistant catalog build-index`")
        try:
            data = json.loads(path.read_text())
            manifest = cls(**data)
        except (json.JSONDecodeError, TypeError) as error:
            raise IndexUnavailable(f"{path} is damaged ({error}); rebuild the index") from None
        if manifest.format_version != FORMAT_VERSION:
            raise IndexUnavailable(
                f"index at {index_dir} has format {manifest.format_version}, this version reads {FORMAT_VERSION}; rebuild the index"
            )
        return manifest


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks so large catalogs do not load into memory."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as data:
        while chunk := data.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def lexical_problem(index_dir: Path, manifest: Manifest) -> str | None:
    """Why the BM25 part of ``index_dir`` cannot be used with ``manifest``, or ``None`` when it can."""
    directory = index_dir / LEXICAL_DIR
    if not manifest.lexical_sha256:
        return f"index at {index_dir} has no lexical (BM25) part (built by an older version)"
    if manifest.lexical_format != LEXICAL_FORMAT:
        return f"index at {index_dir} has lexical format {manifest.lexical_format!r}, this version reads {LEXICAL_FORMAT!r}"
    if not directory.is_dir():
        return f"index at {index_dir} is incomplete: {LEXICAL_DIR}/ is missing"
    if files_sha256(directory) != manifest.lexical_sha256:
        return f"{directory} is corrupted (checksum differs from manifest)"
    return None
