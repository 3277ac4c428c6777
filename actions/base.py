"""The base of every custom action: run the work off the event loop and never go silent.

Subclasses set ``action_name`` and implement :meth:`ShopAction.act` as plain blocking code
(searching the index and querying the store are CPU and I/O bound). If the store or the
index is down, or anything else breaks, the shopper gets an honest sentence instead of
silence (an exception would make rasa-sdk answer 500 and the bot say nothing), and the
exception is logged with its traceback.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from assistant.observe.logs import REQUEST_ID
from assistant.observe.metrics import ACTION_ERRORS
from catalog_index.errors import IndexUnavailable

log = logging.getLogger(__name__)

STORE_DOWN = (
    "Sorry, I can't reach our order system right now, so I can't do that at the moment. "
    "Please try again in a few minutes, or say \"talk to a person\" and someone from our team will help."
)
SEARCH_DOWN = (
    "Sorry, our product search isn't available right now. Please try again in a few minutes, "
    "or say \"talk to a person\" if you need help straight away."
)
SOMETHING_BROKE = (
    "Sorry, something went wrong on my side. Please try again, or say \"talk to a person\" "
    "and someone from our team will help."
)


class ShopAction(Action, ABC):
    """A custom action whose blocking :meth:`act` runs in a worker thread, with failures answered."""

    action_name: ClassVar[str]

    def name(self) -> str:
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        metadata = (tracker.latest_message or {}).get("metadata")
        offered = metadata.get("request_id") if isinstance(metadata, dict) else None
        REQUEST_ID.set(offered if isinstance(offered, str) else None)  # the web app's id for this message
        started = time.perf_counter()
        try:
            events = await asyncio.to_thread(self.act, dispatcher, tracker, domain)
            log.info("%s answered in %.0f ms", self.action_name, (time.perf_counter() - started) * 1000)
            return events
        except SQLAlchemyError:
            ACTION_ERRORS.labels(action=self.action_name).inc()
            log.exception("%s: the customer store is unavailable", self.action_name)
            dispatcher.utter_message(text=STORE_DOWN)
        except IndexUnavailable:
            ACTION_ERRORS.labels(action=self.action_name).inc()
            log.exception("%s: the catalog index is unavailable", self.action_name)
            dispatcher.utter_message(text=SEARCH_DOWN)
        except Exception:
            ACTION_ERRORS.labels(action=self.action_name).inc()
            log.exception("%s failed", self.action_name)
            dispatcher.utter_message(text=SOMETHING_BROKE)
        return []

    @abstractmethod
    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        """Do the action's work and return its events (runs in a worker thread)."""
