"""When a person can take over, and roughly how long the shopper will wait.

Support hours come from the store policy (``support.hours`` in the store's time zone,
``"HH:MM-HH:MM"`` per open day). The wait estimate is deliberately simple and honest:
the median time recent requests waited to be claimed, times the requests ahead plus one,
with a default when the store has no recent history to go on.
"""

from __future__ import annotations

import statistics
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from assistant.store.models import HandoffRequest, utcnow
from assistant.store.repositories.handoffs import HandoffRepository
from assistant.store_policy import DAYS, StorePolicy

DEFAULT_MINUTES_PER_REQUEST = 5.0
HISTORY_WINDOW = timedelta(days=7)


def _span(hours: str) -> tuple[time, time]:
    start, _, end = hours.partition("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def support_open(policy: StorePolicy, now: datetime | None = None) -> bool:
    """Whether ``now`` falls inside the support hours of its local day."""
    local = (now or utcnow()).astimezone(ZoneInfo(policy.support_timezone))
    hours = policy.support_hours.get(DAYS[local.weekday()])
    if not hours:
        return False
    start, end = _span(hours)
    return start <= local.time().replace(tzinfo=None) < end


def next_opening(policy: StorePolicy, now: datetime | None = None) -> str | None:
    """``"Monday 08:00"``: when support opens next (local time), or ``None`` without hours."""
    local = (now or utcnow()).astimezone(ZoneInfo(policy.support_timezone))
    for ahead in range(8):
        day = local + timedelta(days=ahead)
        hours = policy.support_hours.get(DAYS[day.weekday()])
        if not hours:
            continue
        start, _ = _span(hours)
        if ahead > 0 or local.time().replace(tzinfo=None) < start:
            return f"{DAYS[day.weekday()].title()} {start.strftime('%H:%M')}"
    return None


def estimate_wait_minutes(handoffs: HandoffRepository, request: HandoffRequest) -> int:
    """Rough minutes until an agent claims ``request`` (at least 1)."""
    waits = handoffs.recent_claim_waits(since=utcnow() - HISTORY_WINDOW)
    per_request = statistics.median(waits) / 60 if waits else DEFAULT_MINUTES_PER_REQUEST
    return max(1, round(per_request * (handoffs.waiting_ahead(request) + 1)))
