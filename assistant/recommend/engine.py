"""The recommendation service: a shopper and a request in, products with true reasons out.

:class:`Recommender` follows the catalog searcher's loaded index version (so an upsert or
delete shows in the next recommendation) and holds the cached trained tables for one store (with the
discovery setting calibrated on its own history, :mod:`.calibrate`);
one call loads the shopper's profile (consent applied in :mod:`.profile`), blends buy-again
and discovery (:mod:`.blend`), applies the business rules (:mod:`.rules`) and fills up with
popular products so a request is never answered empty while the catalog has something that fits.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from assistant.recommend import popular
from assistant.recommend.artifacts import ModelCache
from assistant.recommend.base import Candidate, Context
from assistant.recommend.blend import DEFAULT_POLICY, Policy, discovery, fuse_sources, mix, source_lists, stage
from assistant.recommend.catalog import Catalog, sold_out
from assistant.recommend.model import Model
from assistant.recommend.profile import Profile, load_profile
from assistant.recommend.rules import Request, allowed, recipient_rows, select
from assistant.settings import Settings
from assistant.store.db import UnitOfWork
from catalog_index.schema import Product
from catalog_index.search import CatalogSearcher, SearchFilters

ARTIFACTS_DIR = "recommend"
GIFT_WEIGHTS = {"trending": 1.0, "popular": 1.0}


@dataclass(frozen=True)
class Recommendation:
    product: Product
    reason: str
    source: str  # "again", "co_purchase", "content", "affinity", "als", "trending", "popular", "new_finds" or "similar"


def recommend_for_profile(
    model: Model, catalog: Catalog, profile: Profile, request: Request,
    policy: Policy = DEFAULT_POLICY, lists: dict[str, list[Candidate]] | None = None,
) -> list[Recommendation]:
    """The pure part (no database): what the evaluation scores and every request runs.

    ``lists`` are the recommenders' rankings when the caller already has them (the
    evaluation tries many policies on the same rankings).
    """
    context = Context(model, catalog, profile)
    owned = {row for pid in profile.bought if (row := catalog.row_of.get(pid)) is not None}
    again: list[Candidate] = []
    if request.gift:
        gift_lists = source_lists(context, list(GIFT_WEIGHTS), len(catalog))
        ranked = _recipient_first(catalog, fuse_sources(gift_lists, GIFT_WEIGHTS), request.recipient)
    elif stage(context) == "newcomer":
        ranked = fuse_sources(lists if lists is not None else source_lists(context, list(policy.newcomer)), policy.newcomer)
    else:
        lists = lists if lists is not None else source_lists(context, policy.source_names(), again=policy.again)
        again = lists.get("again", [])
        ranked = mix(again, discovery(context, lists, policy, owned), policy.discovery_share)
    again_rows = {candidate.row for candidate in again}
    mask = allowed(catalog, model, request, owned, again_rows)
    mask[[row for pid in profile.cart if (row := catalog.row_of.get(pid)) is not None]] = False  # already chosen
    fill = [(candidate, "popular") for candidate in popular.popular(context, 4 * request.k + 10, mask)]
    sources = {candidate.row: source for candidate, source in [*reversed(fill), *reversed(ranked)]}
    chosen = select(catalog, [candidate for candidate, _ in [*ranked, *fill]], mask, request.k, uncapped=again_rows)
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
    """Recommendations for one store (catalog searcher + customer store); share one per process.

    ``wait_for_tables``: a caller with no trained tables yet trains them before answering
    (the CLI); a server (``False``) answers at once and lets them train in the background.
    """

    def __init__(self, searcher: CatalogSearcher, artifacts_dir: Path, wait_for_tables: bool = False) -> None:
        self.searcher = searcher
        self.models = ModelCache(artifacts_dir)
        self.wait_for_tables = wait_for_tables
        self._lock = threading.Lock()
        self._catalog: Catalog | None = None

    @classmethod
    def for_settings(cls, settings: Settings, wait_for_tables: bool = True) -> Recommender:
        searcher = CatalogSearcher.load(settings.index_dir, settings.embedding)
        return cls(searcher, Path(settings.data_dir) / ARTIFACTS_DIR, wait_for_tables)

    @property
    def catalog(self) -> Catalog:
        """The catalog of the index version the searcher serves now (rebuilt when a new one was published)."""
        loaded = self.searcher.loaded_version()
        with self._lock:
            if self._catalog is None or self._catalog.version != loaded.key:
                self._catalog = Catalog.from_version(loaded)
            return self._catalog

    def recommend(
        self, uow: UnitOfWork, customer_id: str | None, request: Request, session_key: str | None = None
    ) -> tuple[list[Recommendation], bool]:
        """Suggestions and whether the shopper's own history shaped them."""
        catalog = self.catalog
        model = self.models.get(uow, catalog, wait=self.wait_for_tables)
        profile = load_profile(uow, customer_id, session_key=session_key)
        return recommend_for_profile(model, catalog, profile, request, self.models.policy), profile.personalized


def similar_to(
    searcher: CatalogSearcher, product_id: str, k: int, max_price: float | None = None, reason: str | None = None
) -> list[Recommendation]:
    """Nearest products to one product ("something like this"), none known to be sold out."""
    product = searcher.get(product_id)
    why = reason or f"Similar to the {product['title'] if product else 'item'}"
    filters = SearchFilters(price_max=max_price)
    hits = [hit for hit in searcher.similar(product_id, k=2 * k, filters=filters) if not sold_out(hit.product)]
    return [Recommendation(hit.product, why, "similar") for hit in hits[:k]]
