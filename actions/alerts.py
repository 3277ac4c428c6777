"""Back-in-stock and price-drop alerts in conversation: set, list, cancel, and show when fired.

Only a verified customer (signed token) can hold an alert: an anonymous conversation has
nobody to tell later, so a guest is asked to sign in and nothing is stored. The product is
the one the shopper points at ("the second one", a name) or the product in focus (slot
``selected_product``). An alert that makes no sense is refused with the reason: a product
in stock is available now, a product without stock data cannot come "back", a product
without a price cannot get cheaper. Whether and when an alert fires is decided by
:mod:`assistant.alerts`; ``action_alert_fired`` runs when the runner injects ``alert_fired``.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction
from actions.context import searcher, settings, unit_of_work
from actions.replies import day, money, products_payload
from actions.resolve import WORD, _named_in, content_words, mentioned_ordinal
from actions.shopper import remember_customer
from assistant.alerts import BACK_IN_STOCK, PRICE_DROP, available, has_stock_data, listed, payload
from assistant.backend.outbox import tell_store
from assistant.store.db import UnitOfWork
from assistant.store.models import Product, ProductAlert
from catalog_index.schema import Product as CatalogProduct
from catalog_index.search import CatalogSearcher

NEEDS_LOGIN = (
    "I can only set alerts for a signed-in customer, so that I know who to tell later. "
    "Please sign in to the store and ask me again here."
)
KIND_BY_INTENT = {"alert_back_in_stock": BACK_IN_STOCK, "alert_price_drop": PRICE_DROP}
KIND_CUES = {
    BACK_IN_STOCK: frozenset({"stock", "restock", "back", "available"}),
    PRICE_DROP: frozenset({"price", "cheaper", "sale", "discount", "discounted"}),
}
# Words of the request itself, removed before the rest is read as a product's name.
ALERT_WORDS = frozenset(
    "tell let know notify notified notification notifications alert alerts message email text ping remind "
    "keep posted when whenever if once as soon it's its is are be gets get goes go comes come back again "
    "stock restock restocked restocks available availability sold out cheaper price prices priced drop drops "
    "dropped falls fall down lower lowered reduced discount discounted sale cut watch watching track eye set "
    "cancel stop turn off remove delete unsubscribe forget all any anymore more no longer need don't dont "
    "not you they have has i i'd i'll me my wait too expensive now what which am do did ask waiting on "
    "about send told like there's going".split()
)


def request_words(tracker: Tracker) -> list[str]:
    """The words of the latest message that may name a product."""
    text = str((tracker.latest_message or {}).get("text") or "")
    return [word for word in content_words(text) if word not in ALERT_WORDS]


def _intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def alert_product(tracker: Tracker, index: CatalogSearcher) -> CatalogProduct | None:
    """The product meant: an ordinal into the list shown, a product named, else the one in focus."""
    shown_ids = [str(pid) for pid in tracker.get_slot("last_results") or []]
    position = mentioned_ordinal(tracker)
    if position is not None:
        return index.get(shown_ids[position]) if -len(shown_ids) <= position < len(shown_ids) else None
    selected = tracker.get_slot("selected_product")
    words = request_words(tracker)
    if words:
        nearby = [p for pid in [*shown_ids, *([selected] if selected else [])] if (p := index.get(str(pid)))]
        named = _named_in(words, nearby)
        if named is not None:
            return named
        hits = index.search(" ".join(words), k=1).hits
        return hits[0].product if hits else None
    if selected:
        return index.get(str(selected))
    return index.get(shown_ids[0]) if len(shown_ids) == 1 else None


def describe(alert: ProductAlert) -> str:
    """``Trail Boot: when it's back in stock (set Tue 1 Dec)``."""
    if alert.kind == BACK_IN_STOCK:
        what = "when it's back in stock"
    else:
        what = f"if it drops below {money(alert.reference_price, alert.currency)}"
    return f"{alert.product.title}: {what} (set {day(alert.created_at)})"


def refusal(kind: str, product: Product) -> str | None:
    """Why this alert makes no sense for this product now, or ``None`` when it does."""
    title = product.title
    if kind == BACK_IN_STOCK:
        if available(product):
            return f"Good news: {title} is in stock now ({money(product.price, product.currency)}). " \
                   "Say \"add it to my cart\" if you want it."
        if listed(product) and not has_stock_data(product):
            return (f"The store doesn't share stock information for {title}, so I can't tell when it's back. "
                    "I can tell you if its price drops: say \"let me know if it gets cheaper\".")
    elif product.price is None:
        return f"{title} has no price listed, so I can't watch it for a price drop."
    return None



def alert_changed(uow: UnitOfWork, alerts: list[ProductAlert], status: str | None = None) -> None:
    """Tell the store's backend (when configured) of alerts set or cancelled, e.g. for its own e-mails."""
    uow.flush()
    for alert in alerts:
        now = status or alert.status
        tell_store(uow, settings(), "alert_changed", {
            "alert_id": alert.id, "customer_id": alert.customer_id, "product_id": alert.product_id,
            "kind": alert.kind, "status": now,
        }, key=f"alert_changed:{alert.id}:{now}")

class ActionSetAlert(ShopAction):
    """"tell me when it's back" / "let me know if it gets cheaper" on the product meant."""

    action_name = "action_set_alert"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        kind = KIND_BY_INTENT.get(_intent(tracker) or "", BACK_IN_STOCK)
        with unit_of_work() as uow:
            customer_id = remember_customer(uow, tracker)
            uow.commit()
            if customer_id is None:
                dispatcher.utter_message(text=NEEDS_LOGIN)
                return []
            meant = alert_product(tracker, searcher())
            if meant is None:
                dispatcher.utter_message(text="Which product should I watch? Open one, or say for example "
                                              "\"tell me when the second one is back in stock\".")
                return []
            product = uow.alerts.product(str(meant["id"]))
            if product is None:
                dispatcher.utter_message(text=f"Sorry, I can't set an alert for {meant.get('title')} right now. "
                                              "Please try again later.")
                return []
            focus = [SlotSet("selected_product", product.id)]
            reason = refusal(kind, product)
            if reason is not None:
                dispatcher.utter_message(text=reason)
                return focus
            existing = [a for a in uow.alerts.active(customer_id) if a.product_id == product.id and a.kind == kind]
            if existing:
                dispatcher.utter_message(text=f"You already have that alert: {describe(existing[0])}.")
                return focus
            alert = uow.alerts.add(customer_id, product, kind)
            alert_changed(uow, [alert])
            customer = uow.customers.get(customer_id)
            consent = bool(customer and customer.marketing_consent)
            uow.commit()
        if kind == BACK_IN_STOCK:
            text = f"Okay, I'll tell you here when {product.title} is back in stock."
        else:
            text = (f"Okay, I'll tell you here if {product.title} gets cheaper than "
                    f"{money(alert.reference_price, alert.currency)}.")
        if not consent:
            text += (" You haven't agreed to messages from the store, though, so I can't send it until you allow "
                     "marketing messages in your account settings.")
        dispatcher.utter_message(text=text + " Say \"what alerts do I have\" to see them all.")
        return focus


class ActionListAlerts(ShopAction):
    action_name = "action_list_alerts"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        with unit_of_work() as uow:
            customer_id = remember_customer(uow, tracker)
            alerts = uow.alerts.active(customer_id) if customer_id else []
            uow.commit()
        if customer_id is None:
            dispatcher.utter_message(text=NEEDS_LOGIN)
        elif not alerts:
            dispatcher.utter_message(text="You have no alerts. Open a product and say \"tell me when it's back\" "
                                          "or \"let me know if it gets cheaper\".")
        else:
            lines = [f"- {describe(alert)}" for alert in alerts]
            plural = "s" if len(alerts) != 1 else ""
            dispatcher.utter_message(text="\n".join([f"You have {len(alerts)} alert{plural}:", *lines,
                                                     "Say \"stop the alert for ...\" or \"cancel my alerts\"."]))
        return []


def alerts_meant(tracker: Tracker, alerts: list[ProductAlert]) -> list[ProductAlert] | None:
    """Which of the active alerts "cancel ..." means; ``None`` when that is not clear."""
    words = set(request_words(tracker))
    if words:
        def overlap(alert: ProductAlert) -> int:
            return len(words & set(WORD.findall(f"{alert.product.title} {alert.product.brand or ''}".lower())))
        best = max(overlap(alert) for alert in alerts)
        return [alert for alert in alerts if overlap(alert) == best] if best else None
    said = set(WORD.findall(str((tracker.latest_message or {}).get("text") or "").lower()))
    if len(alerts) == 1 or said & {"all", "alerts", "notifications"}:
        return alerts
    kinds = {kind for kind, cues in KIND_CUES.items() if said & cues}
    candidates = [alert for alert in alerts if not kinds or alert.kind in kinds]
    in_focus = [alert for alert in candidates if alert.product_id == tracker.get_slot("selected_product")]
    return in_focus or (candidates if len(candidates) == 1 else None)


class ActionCancelAlerts(ShopAction):
    """"cancel my alerts" (all), "stop the alert for the tent" (by name), "cancel this alert" (in focus)."""

    action_name = "action_cancel_alerts"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        with unit_of_work() as uow:
            customer_id = remember_customer(uow, tracker)
            alerts = uow.alerts.active(customer_id) if customer_id else []
            chosen = alerts_meant(tracker, alerts) if alerts else None
            cancelled = uow.alerts.cancel(chosen or [])
            if cancelled:
                alert_changed(uow, chosen or [], status="cancelled")
            uow.commit()
        if customer_id is None:
            dispatcher.utter_message(text=NEEDS_LOGIN)
        elif not alerts:
            dispatcher.utter_message(text="You have no alerts to cancel.")
        elif chosen is None:
            lines = [f"- {describe(alert)}" for alert in alerts]
            dispatcher.utter_message(text="\n".join(["Which alert should I stop? You have:", *lines,
                                                     "Say \"stop the alert for\" and the product, or \"cancel all my alerts\"."]))
        else:
            names = ", ".join(dict.fromkeys(alert.product.title for alert in chosen))
            plural = "s" if cancelled != 1 else ""
            dispatcher.utter_message(text=f"Done, I cancelled {cancelled} alert{plural} ({names}). "
                                          "I won't message you about them.")
        return []


def fired_text(alert: ProductAlert) -> str:
    product = alert.product
    now = money(product.price, product.currency)
    if alert.kind == BACK_IN_STOCK:
        return f"- {product.title} is back in stock ({now})"
    return f"- {product.title} is now {now} (it was {money(alert.reference_price, alert.currency)} when you asked)"


class ActionAlertFired(ShopAction):
    """Shows the alerts the runner claimed for this conversation's customer, and marks them sent.

    Rasa's trigger_intent carries no customer token, so the customer is the one whose latest
    verified conversation this is (as for the cart reminder); a shopper who types
    ``/alert_fired`` sees nothing, because none of their alerts is being sent.
    """

    action_name = "action_alert_fired"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        with unit_of_work() as uow:
            customer = uow.customers.by_sender(tracker.sender_id)
            if customer is None or not customer.marketing_consent:
                return []
            channel = customer.last_channel
            shown = [alert for alert in uow.alerts.sending(customer.id) if uow.alerts.mark_sent(alert, channel)]
            uow.commit()
        if not shown:
            return []
        products = [payload(alert.product) for alert in shown]
        dispatcher.utter_message(
            text="\n".join(["Good news about the products you asked me to watch:", *map(fired_text, shown),
                            "Say \"add the first one to my cart\" to get it."]),
            json_message=products_payload(products, source="alert"),
        )
        return [SlotSet("last_results", [product["id"] for product in products]),
                SlotSet("selected_product", products[0]["id"])]
