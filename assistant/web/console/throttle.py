"""Slowing down password guessing on the agent login.

Argon2 makes each guess expensive, but an online attacker can still try a list of common
passwords against a known username. After a few failures within a window, further sign-ins
for that username (and, with a higher limit, from that address) are refused without even
checking the password, until the window has passed. A success clears the username's count.
Counts live in the web process, like agent sessions: a restart forgets them.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 20


@dataclass
class LoginThrottle:
    """Recent failed sign-ins per username and per client address."""

    clock: Callable[[], float] = time.monotonic
    _failures: defaultdict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def _recent(self, key: str) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= self.clock() - WINDOW_SECONDS:
            times.popleft()
        if not times:
            del self._failures[key]
            return deque()
        return times

    def _keys(self, username: str, address: str | None) -> list[tuple[str, int]]:
        keys = [(f"user:{username.lower()}", MAX_FAILURES_PER_USERNAME)]
        if address:
            keys.append((f"addr:{address}", MAX_FAILURES_PER_ADDRESS))
        return keys

    def retry_after(self, username: str, address: str | None) -> int | None:
        """Seconds until a sign-in may be tried again, or ``None`` if it may be tried now."""
        waits = [
            times[0] + WINDOW_SECONDS - self.clock()
            for key, limit in self._keys(username, address)
            if len(times := self._recent(key)) >= limit
        ]
        return math.ceil(max(waits)) if waits else None

    def failed(self, username: str, address: str | None) -> None:
        for key, _ in self._keys(username, address):
            self._failures[key].append(self.clock())

    def succeeded(self, username: str) -> None:
        self._failures.pop(f"user:{username.lower()}", None)
