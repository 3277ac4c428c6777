"""What a platform sync remembers: how far it read (``sync_cursors``) and which platform order each of ours is.

The sync itself (fetching pages, the catalog, the orders' import) is
:mod:`assistant.integrations.sync`; the outbox transport and the platforms' webhooks find an
order here by our number or by the platform's id.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.store.models import Order, PlatformOrder, SyncCursor, utcnow
from assistant.store.upsert import upsert_rows


class PlatformSyncRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def cursors(self, platform: str) -> dict[str, str]:
        """Resource (products, orders) -> the newest platform time the last sync imported."""
        rows = self.session.scalars(select(SyncCursor).where(SyncCursor.platform == platform))
        return {row.resource: row.cursor for row in rows}

    def move_cursors(self, platform: str, cursors: Mapping[str, str | None]) -> None:
        """Remember how far this sync read (resources without a time keep their cursor)."""
        upsert_rows(self.session, SyncCursor.__table__,
                    [{"platform": platform, "resource": resource, "cursor": cursor, "synced_at": utcnow()}
                     for resource, cursor in cursors.items() if cursor],
                    ["platform", "resource"], ("cursor", "synced_at"))

    def link_orders(self, platform: str, external_ids: Mapping[str, str]) -> None:
        """Record the platform's id beside each of our order numbers (those the import stored; others are skipped)."""
        if not external_ids:
            return
        present = set(self.session.scalars(select(Order.order_number).where(Order.order_number.in_(list(external_ids)))))
        upsert_rows(self.session, PlatformOrder.__table__,
                    [{"order_number": number, "platform": platform, "external_id": external_ids[number]}
                     for number in present],
                    ["order_number"], ("platform", "external_id"))

    def external_id(self, platform: str, order_number: str) -> str | None:
        """The platform's id of one of our orders, as the last sync recorded it."""
        return self.session.scalar(select(PlatformOrder.external_id).where(
            PlatformOrder.platform == platform, PlatformOrder.order_number == order_number))

    def order_number(self, platform: str, external_id: str) -> str | None:
        """Our order number of a platform's order, if the sync imported it."""
        return self.session.scalar(select(PlatformOrder.order_number).where(
            PlatformOrder.platform == platform, PlatformOrder.external_id == external_id))
