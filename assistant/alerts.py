"""Back-in-stock and price-drop alerts: when one is due, and sending it once.

How a change is detected: the reminder runner compares the store's product mirror (which
``shop-assistant catalog import``/``upsert``/``sync-store`` keep in step with the catalog)
with what the alert recorded, so it needs no hook in the catalog commands and catches up
after downtime:

- back in stock: the product is in the catalog (not withdrawn) and has units on hand
  somewhere. A product whose export carries no stock data at all cannot be watched for
  availability; the chat says so when the alert is asked for, and such an alert never fires.
- price drop: the product is in the catalog and its price is below the price it had when
  the alert was set (same currency); a currency change is not a drop.

Sending follows the abandoned-cart reminder (:mod:`assistant.nudge`): only to customers who
agreed to marketing messages, outside quiet hours in their time zone, to the conversation
and channel they last used, through Rasa's ``trigger_intent`` with the external intent
``alert_fired``. A customer's due alerts are claimed together, then one intent is injected;
``action_alert_fired`` shows the claimed alerts and marks them sent, so each fires once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from itertools import groupby
from typing import TYPE_CHECKING, cast

from assistant.observe.logs import keyed_id
from assistant.rasa_api import RasaApiError, trigger_intent
from assistant.settings import Settings
from assistant.store.db import Store
from assistant.store.models import Product, ProductAlert
from assistant.store.repositories import AlertCandidate
from catalog_index.schema import Product as CatalogProduct
from catalog_index.schema import in_stock

if TYPE_CHECKING:
    from assistant.nudge import NudgeReport

log = logging.getLogger(__name__)
ALERT_INTENT = "alert_fired"
BACK_IN_STOCK, PRICE_DROP = "back_in_stock", "price_drop"
NOT_SHOWN = "the conversation did not show the alert"


def payload(product: Product) -> CatalogProduct:
    """The catalog record the mirror holds (what replies render), with the mirrored columns on top.

    The payload is the catalog line the mirror was written from (``store/repositories/products.py``): JSON, hence the cast.
    """
    return cast(CatalogProduct, {**(product.payload or {}), "id": product.id, "title": product.title,
                                 "price": product.price, "currency": product.currency})


def listed(product: Product) -> bool:
    """Still in the catalog (a withdrawn product stays in the mirror marked unavailable)."""
    return bool((product.payload or {}).get("available", True))


def has_stock_data(product: Product) -> bool:
    """Whether the catalog export said anything about stock for this product."""
    return bool((product.payload or {}).get("stock"))


def available(product: Product) -> bool:
    """In the catalog and on hand somewhere."""
    return listed(product) and in_stock(payload(product))


def is_due(alert: ProductAlert, product: Product) -> bool:
    """Whether the product now does what the shopper asked to be told about."""
    if not listed(product):
        return False
    if alert.kind == BACK_IN_STOCK:
        return available(product)
    return (
        alert.reference_price is not None and product.price is not None
        and (product.currency or None) == (alert.currency or None) and product.price < alert.reference_price
    )


def _label(customer_id: str, alerts: list[AlertCandidate]) -> str:
    which = ", ".join(f"{c.alert.kind.replace('_', ' ')} {c.product.id}" for c in alerts)
    return f"{customer_id} (alerts: {which}; {alerts[0].channel})"


def fire_alerts(
    store: Store, settings: Settings, quiet_for: Callable[[str | None], bool],
    dry_run: bool, report: NudgeReport,
) -> None:
    """One pass over the active alerts (the reminder runner calls it after the carts).

    ``quiet_for(time_zone)`` says whether it is quiet hours for a customer in that zone.
    """
    with store.unit_of_work() as uow:
        due = [candidate for candidate in uow.alerts.candidates() if is_due(candidate.alert, candidate.product)]
    for customer_id, group in groupby(due, key=lambda candidate: candidate.alert.customer_id):
        alerts = list(group)
        if quiet_for(alerts[0].time_zone):
            report.quiet.append(_label(customer_id, alerts))
        elif dry_run:
            report.planned.append(_label(customer_id, alerts))
        else:
            _send(store, settings, customer_id, alerts, report)


def _send(
    store: Store, settings: Settings, customer_id: str, alerts: list[AlertCandidate],
    report: NudgeReport,
) -> None:
    with store.unit_of_work() as uow:
        claimed = uow.alerts.claim(candidate.alert.id for candidate in alerts)
        uow.commit()
    if not claimed:
        return  # another runner holds them
    held = [candidate for candidate in alerts if candidate.alert.id in claimed]
    label = _label(customer_id, held)
    try:
        trigger_intent(settings, held[0].sender_id, ALERT_INTENT, held[0].channel)
        detail = NOT_SHOWN  # only for those the action did not mark sent
    except RasaApiError as error:
        log.warning("product alert for %s failed: %s", keyed_id(customer_id, settings.web_secret), error)
        detail = str(error)
    with store.unit_of_work() as uow:
        undelivered = uow.alerts.release(claimed, detail)
        uow.commit()
    (report.failed if undelivered else report.sent).append(label)
