"""Shipping and payment questions, answered from ``store_policy.yml`` and nothing else."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction
from actions.context import store_policy

PERSON_BUTTON = {"title": "Talk to a person", "payload": "/talk_to_human"}


class ActionShippingInfo(ShopAction):
    action_name = "action_shipping_info"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text=store_policy().shipping_summary() + "\nTo see where a particular order is, just ask \"where is my order?\""
        )
        return []


class ActionPaymentProblem(ShopAction):
    action_name = "action_payment_problem"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        policy = store_policy()
        text = str((tracker.latest_message or {}).get("text") or "")
        dispatcher.utter_message(
            text=f"{policy.payment_answer(text)}\nIf that doesn't solve it, a person from our team can look at it with you "
            f"({policy.support_hours_text()}).",
            buttons=[PERSON_BUTTON],
        )
        return []
