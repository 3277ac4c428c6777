"""Telling shoppers what the store answered, in the conversation that asked.

The notices are rows (:class:`assistant.store.models.ShopperNotice`) written with the update;
this module injects the external intent ``store_update`` into each waiting conversation on its
channel (as the cart reminder does), and ``action_store_update`` shows the untold notices and
marks them told. When Rasa cannot be reached the notices stay and the next pass (the web app's
backend task, or ``shop-assistant backend deliver``) tries again, up to a limit.
"""

from __future__ import annotations

import logging

from assistant.rasa_api import RasaApiError, trigger_intent
from assistant.settings import Settings
from assistant.store.db import Store

log = logging.getLogger(__name__)
NOTICE_INTENT = "store_update"


def tell_waiting(settings: Settings, store: Store) -> int:
    """Inject ``store_update`` into every conversation with untold notices; returns how many were reached."""
    with store.unit_of_work() as uow:
        recipients = uow.notices.recipients_waiting()
        for recipient in recipients:
            uow.notices.count_attempt(recipient)
        uow.commit()
    reached = 0
    for recipient in recipients:
        try:
            trigger_intent(settings, recipient.sender_id, NOTICE_INTENT, recipient.channel)
            reached += 1
        except RasaApiError as error:
            log.warning("could not tell a conversation the store's update (will retry): %s", error)
    return reached
