"""The recommendation service: a shopper and a request in, products with true reasons out.

:class:`Recommender` holds the catalog and the cached trained tables for one store; one
call loads the shopper's profile (consent applied in :mod:`.profile`), blends the
recommenders for the shopper's stage (:mod:`.blend`), applies the business rules
(:mod:`.rules`) and fills up with popular products so a request is never answered empty
while the catalog has something that fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from assistant.recommend import popular, repurchase
from assistant.recommend.artifacts import ModelCache
from assistant.recommend.base import Candidate, Context
from assistant.recommend.blend import WEIGHTS, fuse, source_lists, stage
from assistant.recommend.catalog import Catalog
from assistant.recommend.model import Model
from assistant.recommend.profile import Profile, load_profile
from assistant.recommend.rules import Request, allowed, recipient_rows, select
from catalog_index.search import CatalogSearcher, SearchFilters

ARTIFACTS_DIR = "recommend"
GIFT_WEIGHTS = {"trending": 1.0, "popular": 1.0}


@dataclass(frozen=True)
class Recommendation:
    product: dict[str, Any]
    reason: str
    source: str  # "due", "co_purchase", "content", "affinity", "als", "trending", "popular" or "similar"


def recommend_for_profile(
    model: Model, catalog: Catalog, profile: Profile, request: Request,
    weights: dict[str, dict[str, float]] = WEIGHTS, lists: dict[str, list[Candidate]] | None = None,
) -> list[Recommendation]:
    """The pure part (no database): what the evaluation scores and every request runs.

    ``lists`` are the recommenders' rankings when the caller already has them (the
    evaluation tries many weights on the same rankings).
    """
    context = Context(model, catalog, profile)
    owned = {row for pid in profile.bought if (row := catalog.row_of.get(pid)) is not None}
    if not owned or request.gift:
        due: set[int] = set()
    else:
        due = {c.row for c in lists["due"]} if lists is not None and "due" in lists else repurchase.due_rows(context)
    mask = allowed(catalog, model, request, owned, due)
    mask[[row for pid in profile.cart if (row := catalog.row_of.get(pid)) is not None]] = False  # already chosen
    if request.gift:
        ranked = _recipient_first(catalog, fuse(source_lists(context, list(GIFT_WEIGHTS), len(catalog)), GIFT_WEIGHTS), request.recipient)
    else:
        stage_weights = weights[stage(context)]
        names = [name for name, weight in stage_weights.items() if weight > 0]
        ranked = fuse(lists if lists is not None else source_lists(context, names), stage_weights)
    fill = [(candidate, "popular") for candidate in popular.popular(context, 4 * request.k + 10, mask)]
    sources = {candidate.row: source for candidate, source in [*reversed(fill), *reversed(ranked)]}
    chosen = select(catalog, [candidate for candidate, _ in [*ranked, *fill]], mask, request.k)
    return [Recommendation(catalog.products[c.row], _sentence(c.reason), sources[c.row]) for c in chosen]


def _recipient_first(catalog: Catalog, ranked: list[tuple[Candidate, str]], recipient: str | None) -> list[tuple[Candidate, str]]:
    """Products made for the recipient first (when the catalog has any), each group in blended order."""
    rows = recipient_rows(catalog, recipient)
    if not rows:
        return ranked
    return sorted(ranked, key=lambda pair: pair[0].row not in rows)


def _sentence(reason: str) -> str:
    return reason[:1].upper() + reason[1:]


class Recommender:
    """Recommendations for one store (catalog index + customer store); share one per process."""

    def __init__(self, catalog: Catalog, artifacts_dir: Path) -> None:
        self.catalog = catalog
        self.models = ModelCache(artifacts_dir, catalog)

    @classmethod
    def for_data_dir(cls, data_dir: Path, index_dir: Path) -> Recommender:
        return cls(Catalog.from_index(index_dir), Path(data_dir) / ARTIFACTS_DIR)

    def recommend(
        self, session: Session, customer_id: str | None, request: Request, session_key: str | None = None
    ) -> tuple[list[Recommendation], bool]:
        """Suggestions and whether the shopper's own history shaped them."""
        model = self.models.get(session)
        profile = load_profile(session, customer_id, session_key=session_key)
        return recommend_for_profile(model, self.catalog, profile, request), profile.personalized


def similar_to(
    searcher: CatalogSearcher, product_id: str, k: int, max_price: float | None = None, reason: str | None = None
) -> list[Recommendation]:
    """Nearest in-stock products to one product ("something like this")."""
    product = searcher.get(product_id)
    why = reason or f"Similar to the {product['title'] if product else 'item'}"
    filters = SearchFilters(price_max=max_price, in_stock=True)
    return [Recommendation(hit.product, why, "similar") for hit in searcher.similar(product_id, k=k, filters=filters)]

