"""The background task that notices what happens outside the web app's own requests.

Shoppers on messaging channels talk to Rasa directly, and a handoff is created by the
action server, so the web app learns about both by looking: it reads the open handoffs
from the store and the trackers of those conversations from Rasa. In the production
profile Rasa's events on the broker say when to look (:mod:`assistant.web.live.broker`);
the demo profile, which has no broker, looks every second and at once when ``Hub.wake``
is set. Either way nothing is lost: the tracker is the transcript, and a missed look is
caught up by the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, nullcontext

from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from assistant.web.live.handoffs import HandoffService
from assistant.web.live.hub import Hub
from assistant.web.rasa_client import RasaUnavailable

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
PassLock = Callable[[], AbstractAsyncContextManager[bool]]


def _always() -> AbstractAsyncContextManager[bool]:
    return nullcontext(True)


async def watch(
    service: HandoffService, hub: Hub, poll_seconds: float | None = POLL_SECONDS, pass_lock: PassLock = _always
) -> None:
    """Run until cancelled: announce queue changes, relay new turns of open conversations.

    A pass runs when ``hub.wake`` is set (a request of ours, or Rasa's events from the
    broker) and, with ``poll_seconds``, at least that often (the demo profile polls: it has
    no broker). ``pass_lock`` lets one replica at a time run a pass; the others skip it,
    since the holder got the same wake-up and looks again after its pass.
    """
    known: dict[int, tuple[str, int | None]] = {}
    while True:
        if poll_seconds is None:
            await hub.wake.wait()
        else:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(hub.wake.wait(), poll_seconds)
        hub.wake.clear()
        try:
            async with pass_lock() as held:
                if held:
                    known = await _pass(service, hub, known)
        except RasaUnavailable as error:
            log.warning("watcher: Rasa unavailable: %s", error)
        except SQLAlchemyError as error:
            log.warning("watcher: customer store unavailable: %s", error)
        except RedisError as error:
            log.warning("watcher: Redis unavailable: %s", error)
        except Exception:
            log.exception("watcher: unexpected error; retrying")


async def _pass(
    service: HandoffService, hub: Hub, known: dict[int, tuple[str, int | None]]
) -> dict[int, tuple[str, int | None]]:
    """One look at the open handoffs; returns what this replica now knows of the queue.

    A waiting request is announced to its shopper on the first look any replica takes at
    it (it has no mark yet), so replicas taking turns do not announce it twice.
    """
    queue = await service.queue()
    current = {handoff.id: (handoff.status, handoff.claimed_by) for handoff in queue}
    if current != known:
        await hub.to_agents({"type": "queue"})
    for handoff in queue:
        if handoff.status == "waiting" and not handoff.after_hours and await service.marks.get(handoff.sender_id) is None:
            minutes = await service.wait_minutes(handoff.id)
            await hub.to_shopper(handoff.sender_id, {"type": "handoff", "state": "waiting", "wait_minutes": minutes})
        await service.sync(handoff)
    await service.forget({handoff.sender_id for handoff in queue})
    return current
