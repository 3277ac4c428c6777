"""The abandoned-cart reminder job: find due carts, respect quiet hours, send each once.

A cart is due when its owner is a known customer who agreed to marketing messages, it
has items, and nobody touched it for ``Settings.nudge_after_minutes``. Outside quiet
hours (in the customer's time zone, else the store's) the job writes a log row for the
cart's version and then asks Rasa to inject the external intent ``cart_reminder`` into
the customer's last conversation, on the channel they last used; the bot's rule runs
``action_cart_reminder``, which shows the cart and a related suggestion. The log row
comes first, so a cron run and a second runner never send the same version twice; a
changed cart is a new version and may be reminded again. The same pass fires the
back-in-stock and price-drop alerts that became due (:mod:`assistant.alerts`). Run it with
``shop-assistant nudge run [--dry-run]`` from cron.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from assistant.alerts import fire_alerts
from assistant.observe.logs import keyed_id
from assistant.rasa_api import RasaApiError, trigger_intent
from assistant.settings import Settings
from assistant.store.db import Store, open_store
from assistant.store.models import utcnow
from assistant.store.repositories import DueCart

log = logging.getLogger(__name__)
REMINDER_INTENT = "cart_reminder"


@dataclass
class NudgeReport:
    """What one run did; ``planned`` lists the carts a dry run would remind."""

    sent: list[str] = field(default_factory=list)
    quiet: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{len(self.sent)} sent, {len(self.planned)} would be sent (dry run), "
                f"{len(self.quiet)} held for quiet hours, {len(self.failed)} failed")


def parse_quiet_hours(spec: str) -> tuple[time, time] | None:
    """``"21:00-09:00"`` -> (21:00, 09:00); an empty spec means no quiet hours."""
    if not spec.strip():
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in spec.split("-"))
    except ValueError:
        raise ValueError(f"quiet hours must look like 21:00-09:00, not {spec!r}") from None
    return start, end


def zone(name: str | None, fallback: str) -> ZoneInfo:
    """The customer's time zone, else the store's (an unknown name falls back, never fails)."""
    for candidate in (name, fallback):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def is_quiet(now: datetime, quiet: tuple[time, time] | None, tz: ZoneInfo) -> bool:
    """Whether ``now`` falls in the quiet window, which may wrap past midnight."""
    if quiet is None:
        return False
    local = now.astimezone(tz).time()
    start, end = quiet
    return start <= local < end if start <= end else local >= start or local < end


def _label(cart: DueCart) -> str:
    return f"{cart.customer_id} (cart {cart.version}, {cart.channel})"


def run_nudges(settings: Settings, now: datetime | None = None, dry_run: bool = False) -> NudgeReport:
    """One pass over the due carts and product alerts (what cron or the web app's timer calls)."""
    now = now or utcnow()
    quiet = parse_quiet_hours(settings.quiet_hours)
    report = NudgeReport()
    with open_store(settings.database_url) as store:
        with store.unit_of_work() as uow:
            due = uow.nudges.due_carts(now - timedelta(minutes=settings.nudge_after_minutes))
        for cart in due:
            if is_quiet(now, quiet, zone(cart.time_zone, settings.store_time_zone)):
                report.quiet.append(_label(cart))
            elif dry_run:
                report.planned.append(_label(cart))
            else:
                _send(store, settings, cart, report)
        fire_alerts(store, settings, lambda tz: is_quiet(now, quiet, zone(tz, settings.store_time_zone)), dry_run, report)
    return report


def _send(store: Store, settings: Settings, cart: DueCart, report: NudgeReport) -> None:
    with store.unit_of_work() as uow:
        claimed = uow.nudges.claim(cart, "sending")
        uow.commit()
    if not claimed:
        return
    try:
        trigger_intent(settings, cart.sender_id, REMINDER_INTENT, cart.channel)
        status, detail = "sent", None
        report.sent.append(_label(cart))
    except RasaApiError as error:
        log.warning("cart reminder for %s failed: %s", keyed_id(cart.customer_id, settings.web_secret), error)
        status, detail = "failed", str(error)
        report.failed.append(_label(cart))
    with store.unit_of_work() as uow:
        uow.nudges.finish(cart, status, detail)
        uow.commit()
