"""A catalog file as read once: its bytes, checksum, ids and products, the products parsed only when looked at.

Parsing 100k JSON lines is most of what a 10-product update of a 100k catalog costs (issue #15.6).  An update
needs the ids of every product but the fields of only the changed ones: the ids of a catalog the index was built
from are the index's row ids (``ids.json``), so :meth:`CatalogText.of_bytes` takes them from there, and an edit
(:meth:`CatalogText.upserted`, :meth:`CatalogText.without`) splices lines, keeping the untouched ones as the very
text they were read as.  Which row of the catalog it was made from each row kept is recorded (``kept_from``), so
the build reuses their vectors and BM25 terms without parsing, comparing or tokenizing them again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

from catalog_index.schema import Product


class ParsedLines(Sequence[Product]):
    """The products of JSON ``lines``, each parsed on first access; a row kept from ``base`` is ``base``'s very object."""

    def __init__(
        self, lines: Sequence[str], base: ParsedLines | None = None, kept_from: Sequence[int] = (),
        written: Mapping[int, Product] | None = None,
    ) -> None:
        self._lines = lines
        self._base = base
        self._kept_from = kept_from
        self._parsed: dict[int, Product] = dict(written or {})  # the products an edit wrote are not parsed back

    def __len__(self) -> int:
        return len(self._lines)

    @overload
    def __getitem__(self, index: int) -> Product: ...

    @overload
    def __getitem__(self, index: slice) -> list[Product]: ...

    def __getitem__(self, index: int | slice) -> Product | list[Product]:
        if isinstance(index, slice):
            return [self[row] for row in range(*index.indices(len(self)))]
        row = range(len(self))[index]
        product = self._parsed.get(row)
        if product is None:
            source = self._kept_from[row] if self._kept_from else -1
            product = self._base[source] if self._base is not None and source >= 0 else json.loads(self._lines[row])
            self._parsed[row] = product
        return product


@dataclass(frozen=True)
class CatalogText:
    """A JSON Lines catalog: ``lines`` (one per product, without the newline), their ``ids`` and lazily parsed ``products``.

    ``kept_from``: for a catalog made by an edit, the row of the edited catalog whose line each row kept (-1 for a
    product the edit wrote); empty for a catalog read from a file.  ``indexed``: its ids came from the index built
    from these very bytes, which checked every product then.
    """

    data: bytes
    sha256: str
    lines: list[str]
    ids: list[str]
    products: ParsedLines
    kept_from: list[int] = field(default_factory=list)
    indexed: bool = False

    @classmethod
    def of_bytes(cls, data: bytes, indexed_ids: Sequence[str] | None = None) -> CatalogText:
        """The catalog in ``data`` as it is (unchecked: the catalog an edit replaces may be empty).

        ``indexed_ids``: the row ids of the index built from these very bytes, so that no line is parsed for its id.
        """
        lines = [line for line in data.decode("utf-8").split("\n") if line.strip()]
        products = ParsedLines(lines)
        indexed = indexed_ids is not None and len(indexed_ids) == len(lines)
        ids = list(indexed_ids) if indexed_ids is not None and indexed else [str(product.get("id") or "") for product in products]
        return cls(data, hashlib.sha256(data).hexdigest(), lines, ids, products, indexed=indexed)

    def _edited(self, kept_from: list[int], written: Mapping[int, Product], origin: Path) -> CatalogText:
        """The catalog whose row ``r`` is this one's row ``kept_from[r]``, or ``written[r]`` where that is -1."""
        lines = [self.lines[row] if row >= 0 else json.dumps(written[new], ensure_ascii=False) for new, row in enumerate(kept_from)]
        ids = [self.ids[row] if row >= 0 else str(written[new].get("id") or "") for new, row in enumerate(kept_from)]
        products = ParsedLines(lines, self.products, kept_from, written)
        text = "".join(line + "\n" for line in lines).encode("utf-8")
        edited = CatalogText(text, hashlib.sha256(text).hexdigest(), lines, ids, products, kept_from)
        edited.check(origin, only_written=self.indexed)
        return edited

    def upserted(self, products: Mapping[str, Product], origin: Path) -> CatalogText:
        """New products appended, and those with a known id replaced in place (same row)."""
        row_of = {product_id: row for row, product_id in enumerate(self.ids)}
        kept_from = [-1 if product_id in products else row for row, product_id in enumerate(self.ids)]
        written = {row_of[product_id]: product for product_id, product in products.items() if product_id in row_of}
        for product_id, product in products.items():
            if product_id not in row_of:
                written[len(kept_from)] = product
                kept_from.append(-1)
        return self._edited(kept_from, written, origin)

    def without(self, product_ids: set[str], origin: Path) -> CatalogText:
        """The products whose id is not in ``product_ids``."""
        return self._edited([row for row, product_id in enumerate(self.ids) if product_id not in product_ids], {}, origin)

    def check(self, origin: Path, only_written: bool = False) -> None:
        """``ValueError`` naming the line unless every product has an id and a title and no id repeats.

        ``only_written``: the rows an edit kept come from an indexed (so checked) catalog: only the written ones are
        parsed and looked at.
        """
        if not self.lines:
            raise ValueError(f"catalog {origin} is empty")
        rows = [row for row, source in enumerate(self.kept_from) if source < 0] if only_written else range(len(self.lines))
        for row in rows:
            product = self.products[row]
            if not product.get("id") or not product.get("title"):
                raise ValueError(f"{origin} line {row + 1}: product without id or title")
        if len(set(self.ids)) < len(self.ids):
            seen: set[str] = set()
            for row, product_id in enumerate(self.ids):
                if product_id in seen:
                    raise ValueError(f"{origin} line {row + 1}: duplicate id {product_id!r}")
                seen.add(product_id)
