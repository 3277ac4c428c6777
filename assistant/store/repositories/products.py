"""The store's product mirror as orders, carts and events see it: which product ids it knows."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.store.models import Product


class ProductRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, product_id: str) -> Product | None:
        return self.session.get(Product, product_id)

    def known(self, product_ids: Iterable[str]) -> set[str]:
        """The given ids that the mirror holds (events and cart lines may only name these)."""
        wanted = set(product_ids)
        if not wanted:
            return set()
        return set(self.session.scalars(select(Product.id).where(Product.id.in_(wanted))))
