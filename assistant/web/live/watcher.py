"""The background task that notices what happens outside the web app's own requests.

Shoppers on messaging channels talk to Rasa directly, and a handoff is created by the
action server, so the web app learns about both by looking: every second (or at once
when ``Hub.wake`` is set) it reads the open handoffs from the store and the trackers of
those conversations from Rasa. Polling was chosen over Rasa's event broker because it
needs no extra service (RabbitMQ/Kafka) and cannot lose anything: the tracker is the
transcript, and a missed poll is caught up by the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.exc import SQLAlchemyError

from assistant.web.live.handoffs import HandoffService
from assistant.web.live.hub import Hub
from assistant.web.rasa_client import RasaUnavailable

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0


async def watch(service: HandoffService, hub: Hub) -> None:
    """Run until cancelled: announce queue changes, relay new turns of open conversations."""
    known: dict[int, tuple[str, int | None]] = {}
    while True:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(hub.wake.wait(), POLL_SECONDS)
        hub.wake.clear()
        try:
            queue = await service.queue()
            current = {handoff.id: (handoff.status, handoff.claimed_by) for handoff in queue}
            if current != known:
                await hub.to_agents({"type": "queue"})
                for handoff in queue:
                    if handoff.id not in known and handoff.status == "waiting" and not handoff.after_hours:
                        minutes = await service.wait_minutes(handoff.id)
                        await hub.to_shopper(
                            handoff.sender_id, {"type": "handoff", "state": "waiting", "wait_minutes": minutes}
                        )
                known = current
            for handoff in queue:
                await service.sync(handoff)
            service.forget({handoff.sender_id for handoff in queue})
        except RasaUnavailable as error:
            log.warning("watcher: Rasa unavailable: %s", error)
        except SQLAlchemyError as error:
            log.warning("watcher: customer store unavailable: %s", error)
        except Exception:
            log.exception("watcher: unexpected error; retrying")
