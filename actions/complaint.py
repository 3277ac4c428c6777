"""Complaints get an apology and a person, unless the "complaint" is really a product need.

"I need something with a good camera" can look like a complaint to NLU; queueing that
shopper for a person would waste their time and the team's, so it is searched instead.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction
from actions.context import searcher, unit_of_work
from actions.fallback import product_words
from actions.handoff import request_person
from actions.search import message_request, search_message

NEED = re.compile(r"\b(need|want|looking for|look for|searching for|find|get me|something|anything|recommend|buy)\b", re.I)
APOLOGY = "I'm really sorry about that. That's not the experience we want you to have."


class ActionComplaint(ShopAction):
    action_name = "action_complaint"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        index = searcher()
        text = str((tracker.latest_message or {}).get("text") or "")
        said = message_request(tracker, index)
        if NEED.search(text) and product_words(said, index):
            with unit_of_work() as uow:
                return search_message(dispatcher, tracker, uow, index, said)
        dispatcher.utter_message(text=APOLOGY)
        return request_person(dispatcher, tracker, "complaint")
