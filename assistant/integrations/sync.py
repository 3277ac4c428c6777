"""``shop-assistant sync PLATFORM``: bring a platform's catalog and orders into the assistant, incrementally.

Products go through the catalog's own upsert path (``catalog.jsonl`` first, then the index,
embedding only re-worded products) and the store's product mirror; orders through the
history importer's upsert.  Each resource remembers the newest ``updated_at`` it imported
(``sync_cursors``), and the next sync asks the platform only for what changed after it.
Only products that differ from the catalog are written, so a sync that finds nothing new
changes nothing, and ``--full`` (everything again) changes only what really differs.  A
product the platform stopped selling (archived, draft) leaves the catalog and index and stays
in the store's mirror, unavailable, for order history; one deleted outright on the platform is
never reported as changed, so ``--full`` withdraws the platform's products it no longer lists.

The store's writes (mirror, orders, which platform order each is, the cursors) are one
transaction, after the catalog: if the store is unreachable, the cursors stay where they
were and the next sync fetches the same pages again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from tqdm import tqdm

from assistant.integrations import open_platform
from assistant.integrations.base import Platform, SyncedOrder, parse_iso
from assistant.integrations.updates import apply_status
from assistant.settings import Settings
from assistant.store.db import UnitOfWork, migrate, open_store
from assistant.store.history_import import import_order_records
from assistant.store.history_records import ImportReport
from catalog_index.ann import IndexParams
from catalog_index.importer import read_catalog
from catalog_index.schema import CatalogRowError, Product, normalize_product
from catalog_index.update import delete_products, upsert_products

RESOURCES = ("products", "orders")
MAX_PROBLEMS_SHOWN = 10


@dataclass
class SyncReport:
    """What one sync read and changed."""

    platform: str
    since: dict[str, str | None] = field(default_factory=dict)
    products_read: int = 0
    products_changed: int = 0
    products_skipped: list[str] = field(default_factory=list)
    products_withdrawn: int = 0
    orders_read: int = 0
    orders: ImportReport | None = None
    cursors: dict[str, str | None] = field(default_factory=dict)
    notices: int = 0  # answers for shoppers' conversations (a cancellation confirmed...)

    def summary(self) -> str:
        def since(resource: str) -> str:
            return f"changed after {self.since[resource]}" if self.since.get(resource) else "all"

        withdrawn = f", withdrawn {self.products_withdrawn}" if self.products_withdrawn else ""
        lines = [f"{self.platform}: products ({since('products')}): read {self.products_read}, "
                 f"new or changed {self.products_changed}{withdrawn}"]
        lines += [f"  skipped {problem}" for problem in self.products_skipped[:MAX_PROBLEMS_SHOWN]]
        added = ", ".join(f"{count} {table}" for table, count in (self.orders.added if self.orders else {}).items())
        lines.append(f"{self.platform}: orders ({since('orders')}): read {self.orders_read}; new rows: {added or 'none'}")
        if self.orders and self.orders.skipped_unknown_product:
            lines.append(f"  skipped {self.orders.skipped_unknown_product} order lines naming products not in the "
                         f"catalog: {', '.join(sorted(self.orders.unknown_product_ids)[:MAX_PROBLEMS_SHOWN])}")
        if self.orders and self.orders.skipped_invalid:
            lines += [f"  skipped {problem}" for problem in self.orders.problems]
        if self.notices:
            lines.append(f"  {self.notices} answers for shoppers' conversations (told by the web app's backend pass "
                         "or `shop-assistant backend deliver`)")
        return "\n".join(lines)


def cursor_text(value: str) -> str:
    """A platform time as the stored cursor: UTC ISO 8601 with ``Z``, fractions kept."""
    return parse_iso(value).isoformat().replace("+00:00", "Z")


def newest(*values: str | None) -> str | None:
    """The latest of some platform times (``None`` when there is none)."""
    present = [value for value in values if value]
    return cursor_text(max(present, key=parse_iso)) if present else None


async def fetch_products(platform: Platform, since: str | None, report: SyncReport,
                         progress: bool) -> tuple[dict[str, Product], set[str], str | None]:
    """Every catalog product the platform changed after ``since``, normalized; the ids it withdrew; the newest time."""
    products: dict[str, Product] = {}
    withdrawn: set[str] = set()
    latest: str | None = None
    with tqdm(desc=f"{platform.name} products", unit=" products", disable=None if progress else True) as bar:
        async for page in platform.products(since):
            for row in page.products:
                try:
                    product = normalize_product(row)
                except CatalogRowError as error:
                    report.products_skipped.append(f"{row.get('id')}: {error.reason}")
                    continue
                products[product["id"]] = product
            withdrawn.update(page.withdrawn)
            latest = newest(latest, page.updated_at)
            bar.update(len(page.products))
    report.products_read = len(products)
    return products, withdrawn - set(products), latest


async def fetch_orders(platform: Platform, since: str | None, progress: bool) -> list[SyncedOrder]:
    """Every order the platform changed after ``since``."""
    orders: list[SyncedOrder] = []
    with tqdm(desc=f"{platform.name} orders", unit=" orders", disable=None if progress else True) as bar:
        async for page in platform.orders(since):
            orders += page
            bar.update(len(page))
    return orders


def update_catalog(settings: Settings, name: str, products: dict[str, Product], withdrawn: set[str],
                   full: bool, report: SyncReport) -> set[str]:
    """Upsert the new or changed products and delete the withdrawn ones (catalog and index); returns those deleted.

    A full sync also withdraws this platform's products it no longer lists (deleted there).
    A withdrawal that would empty the catalog is left undone and said.
    """
    current = {product["id"]: product for product in read_catalog(settings.catalog_path)} \
        if settings.catalog_path.exists() else {}
    changed = {product_id: product for product_id, product in products.items() if current.get(product_id) != product}
    report.products_changed = len(changed)
    if full:
        withdrawn = withdrawn | {product_id for product_id in current if product_id.startswith(f"{name}-")}
    gone = sorted((withdrawn & set(current)) - set(products))
    params = IndexParams.configured(settings)
    if changed:
        upsert_products(settings.catalog_path, settings.index_dir, settings.embedding, changed,
                        params=params, batch_size=settings.embed_batch_size)
    if gone:
        try:
            delete_products(settings.catalog_path, settings.index_dir, settings.embedding, gone,
                            params=params, batch_size=settings.embed_batch_size)
        except ValueError as error:
            report.products_skipped.append(f"withdrawals not applied: {error}")
            return set()
    report.products_withdrawn = len(gone)
    return set(gone)


def apply_newer_statuses(uow: UnitOfWork, orders: list[SyncedOrder]) -> int:
    """The platform's status of orders whose status the store or the chat set, as a store update; notices written.

    The history importer keeps such a status (an export is older than it); a sync is the store
    speaking now, dated by the order's ``updated_at``, so it goes through the same update as a
    webhook: a cancellation whose webhook was lost is confirmed by the next sync.
    """
    notices = 0
    for synced in orders:
        order = uow.orders.by_number(synced.record["order_number"])
        if order is not None and order.status_source in ("store", "assistant") and order.status != synced.record["status"]:
            notices += apply_status(uow, order, synced.record["status"], parse_iso(synced.updated_at)).notices
    return notices


def write_store(uow: UnitOfWork, platform: str, products: dict[str, Product], gone: set[str],
                orders: list[SyncedOrder], cursors: dict[str, str | None]) -> tuple[ImportReport, int]:
    """Mirror the products (withdrawn ones kept for history, unavailable), upsert the orders and their platform
    ids, move the cursors: the caller commits.

    Returns the import's report and how many notices for shoppers the orders' new statuses wrote.
    """
    uow.products.mirror(products.values())
    uow.products.withdraw(gone)
    report = import_order_records(uow, [order.record for order in orders], platform)
    notices = apply_newer_statuses(uow, orders)
    uow.platform_sync.link_orders(platform, {order.record["order_number"]: order.external_id for order in orders})
    uow.platform_sync.move_cursors(platform, cursors)
    return report, notices


async def run_sync(settings: Settings, name: str, *, since: str | None = None, full: bool = False,
                   progress: bool = True) -> SyncReport:
    """One sync of ``name``; raises ``PlatformError`` (one line) when the platform cannot be read."""
    platform = open_platform(name, settings)  # a missing credential is said before anything is touched
    report = SyncReport(platform=name)
    try:
        await asyncio.to_thread(migrate, settings.database_url)
        with open_store(settings.database_url) as store:
            with store.unit_of_work() as uow:
                stored = uow.platform_sync.cursors(name)
            start = {resource: None if full else (cursor_text(since) if since else stored.get(resource))
                     for resource in RESOURCES}
            report.since = start
            products, withdrawn, products_cursor = await fetch_products(platform, start["products"], report, progress)
            orders = await fetch_orders(platform, start["orders"], progress)
            report.orders_read = len(orders)
            gone = await asyncio.to_thread(update_catalog, settings, name, products, withdrawn, full, report)
            report.cursors = {
                "products": newest(stored.get("products"), products_cursor),
                "orders": newest(stored.get("orders"), *(order.updated_at for order in orders)),
            }
            with store.unit_of_work() as uow:
                report.orders, report.notices = write_store(uow, name, products, gone, orders, report.cursors)
                uow.commit()
    finally:
        await platform.close()
    return report
