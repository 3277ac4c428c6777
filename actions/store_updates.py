"""The store's answers told in the conversation that asked (external intent ``store_update``).

The web app injects the intent after ``POST /api/events`` stored a notice for this
conversation (:mod:`assistant.backend.inbound`); the notices are told once and marked told,
so a shopper who types ``/store_update`` sees only what is waiting for them, if anything.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction
from actions.context import unit_of_work


class ActionStoreUpdate(ShopAction):
    action_name = "action_store_update"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        with unit_of_work() as uow:
            notices = uow.notices.untold(tracker.sender_id)
            uow.notices.mark_told(notices)
            uow.commit()
        for notice in notices:
            dispatcher.utter_message(text=notice.text, json_message={
                "type": "store_update", "order_number": notice.order_number, "text": notice.text,
            })
        return []
