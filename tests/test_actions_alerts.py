"""Alert actions on the small test store: which product, which refusal, list, cancel, fired.

Products of ``tests/data/catalog_small.jsonl`` used here: K004 Pour-Over Coffee Maker and
H003 Velvet Accent Armchair are out of stock, J003 City Trench Raincoat has no stock data,
T007 Insulated Camping Mug is in stock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from actions.alerts import ActionAlertFired, ActionCancelAlerts, ActionListAlerts, ActionSetAlert
from assistant.settings import Settings
from assistant.store.db import UnitOfWork, make_engine, make_session_factory
from tests.actions_harness import action_store, payloads, run, slots, texts, tracker  # noqa: F401

FOCUS = {"last_results": ["K004", "T007", "J003"], "selected_product": None}


def say(text: str, intent: str, selected: str | None = None, **changes: Any) -> dict[str, Any]:
    """Tracker changes for a message about the product in focus (``selected``)."""
    return {"text": text, "intent": intent, "entities": [], "slots": {**FOCUS, "selected_product": selected}, **changes}


@contextlib.contextmanager
def store(settings: Settings) -> Iterator[UnitOfWork]:
    engine = make_engine(settings.database_url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            yield uow
    finally:
        engine.dispose()


async def test_guests_are_asked_to_sign_in_and_nothing_is_stored(action_store: Settings) -> None:
    events, messages = await run(ActionSetAlert(), tracker("cart", **say("tell me when it's back", "alert_back_in_stock", "K004")))
    assert events == [] and texts(messages).startswith("I can only set alerts for a signed-in customer")
    with store(action_store) as uow:
        assert uow.alerts.candidates() == [] and uow.alerts.active("shopper-cart") == []


async def test_an_alert_on_the_product_in_focus_and_the_refusals(action_store: Settings) -> None:
    def as_frank(text: str, intent: str, selected: str | None = None, **more: Any) -> Any:
        return tracker("cart", "frank", action_store, **say(text, intent, selected, **more))

    events, messages = await run(ActionSetAlert(), as_frank("tell me when it's back in stock", "alert_back_in_stock", "K004"))
    assert slots(events) == {"selected_product": "K004"}
    assert texts(messages) == (
        "Okay, I'll tell you here when Pour-Over Coffee Maker is back in stock. You haven't agreed to messages from "
        "the store, though, so I can't send it until you allow marketing messages in your account settings. "
        "Say \"what alerts do I have\" to see them all."
    )
    _, messages = await run(ActionSetAlert(), as_frank("notify me when it's available", "alert_back_in_stock", "K004"))
    assert texts(messages).startswith("You already have that alert: Pour-Over Coffee Maker: when it's back in stock (set ")

    _, messages = await run(ActionSetAlert(), as_frank("tell me when it's back", "alert_back_in_stock", "T007"))
    assert texts(messages) == ("Good news: Insulated Camping Mug is in stock now ($19.99). "
                               "Say \"add it to my cart\" if you want it.")
    _, messages = await run(ActionSetAlert(), as_frank("tell me when the third one is back", "alert_back_in_stock",
                                                       entities=[{"entity": "ordinal", "value": "third"}]))
    assert texts(messages).startswith("The store doesn't share stock information for City Trench Raincoat")
    _, messages = await run(ActionSetAlert(), as_frank("let me know if the armchair gets cheaper", "alert_price_drop"))
    assert texts(messages).startswith("Okay, I'll tell you here if Velvet Accent Armchair gets cheaper than $399.00.")
    events, messages = await run(ActionSetAlert(), as_frank("let me know if it gets cheaper", "alert_price_drop"))
    assert events == [] and texts(messages).startswith("Which product should I watch?")  # nothing in focus, 3 shown

    _, messages = await run(ActionListAlerts(), as_frank("what alerts do i have", "list_alerts"))
    lines = texts(messages).splitlines()
    assert lines[0] == "You have 2 alerts:" and lines[1].startswith("- Pour-Over Coffee Maker: when it's back in stock")
    assert lines[2].startswith("- Velvet Accent Armchair: if it drops below $399.00")

    _, messages = await run(ActionCancelAlerts(), as_frank("cancel the alert", "cancel_alerts"))
    assert texts(messages).startswith("Which alert should I stop? You have:")
    _, messages = await run(ActionCancelAlerts(), as_frank("stop the alert for the armchair", "cancel_alerts"))
    assert texts(messages) == "Done, I cancelled 1 alert (Velvet Accent Armchair). I won't message you about them."
    _, messages = await run(ActionCancelAlerts(), as_frank("cancel my alerts", "cancel_alerts"))
    assert texts(messages) == "Done, I cancelled 1 alert (Pour-Over Coffee Maker). I won't message you about them."
    _, messages = await run(ActionListAlerts(), as_frank("my alerts", "list_alerts"))
    assert texts(messages).startswith("You have no alerts.")


async def test_a_fired_alert_is_shown_once_in_the_customers_own_conversation(action_store: Settings) -> None:
    with store(action_store) as uow:
        uow.customers.upsert("gina", marketing_consent=True, last_sender_id="gina-browser", last_channel="gateway")
        alert = uow.alerts.add("gina", uow.alerts.product("K004"), "back_in_stock")
        uow.commit()
    external = {"text": "/alert_fired", "intent": "alert_fired", "entities": [], "sender_id": "gina-browser"}
    events, messages = await run(ActionAlertFired(), tracker("cart", **external))
    assert events == [] and messages == []  # typed by hand: nothing claimed, nothing shown

    with store(action_store) as uow:
        assert uow.alerts.claim([alert.id]) == [alert.id]
        uow.commit()
    events, messages = await run(ActionAlertFired(), tracker("cart", **{**external, "sender_id": "someone-else"}))
    assert messages == []  # another conversation sees nothing
    events, messages = await run(ActionAlertFired(), tracker("cart", **external))
    assert texts(messages) == ("Good news about the products you asked me to watch:\n"
                               "- Pour-Over Coffee Maker is back in stock ($29.00)\n"
                               "Say \"add the first one to my cart\" to get it.")
    assert [card["id"] for card in payloads(messages, "products")[0]["products"]] == ["K004"]
    assert slots(events) == {"last_results": ["K004"], "selected_product": "K004"}
    _, again = await run(ActionAlertFired(), tracker("cart", **external))
    assert again == []
