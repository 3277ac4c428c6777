"""Slowing down password guessing on the agent login.

Argon2 makes each guess expensive, but an online attacker can still try a list of common
passwords against a known username. Every sign-in is counted as a failure the moment it
arrives, in the same atomic step that decides whether its password may be checked at
all: a burst of parallel guesses cannot slip past the limit while earlier ones are still
being hashed (checking first and recording after the hash could be raced). A success
takes its own attempt back and clears the username's count. Counts are kept per username
and, with a higher limit, per client address; attempts refused by the limit count too, so
hammering keeps the lock on. They live in the web process, like agent sessions: a restart
forgets them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_ADDRESS = 20
MAX_TRACKED_KEYS = 10_000


@dataclass(frozen=True)
class Attempt:
    """One sign-in, already counted as a failure; ``retry_after`` is set when it was refused."""

    keys: tuple[str, ...]
    at: float
    retry_after: int | None

    @property
    def allowed(self) -> bool:
        """Whether the password may be checked."""
        return self.retry_after is None


@dataclass
class LoginThrottle:
    """Recent sign-ins that did not succeed, per username and per client address."""

    clock: Callable[[], float] = time.monotonic
    _failures: defaultdict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= now - WINDOW_SECONDS:
            times.popleft()
        return times

    @staticmethod
    def _limits(username: str, address: str | None) -> list[tuple[str, int]]:
        limits = [(f"user:{username.lower()}", MAX_FAILURES_PER_USERNAME)]
        if address:
            limits.append((f"addr:{address}", MAX_FAILURES_PER_ADDRESS))
        return limits

    def attempt(self, username: str, address: str | None) -> Attempt:
        """Reserve a sign-in: count it as failed now, and say whether its password may be checked."""
        with self._lock:
            now = self.clock()
            if len(self._failures) > MAX_TRACKED_KEYS:
                self._sweep(now)
            waits: list[float] = []
            limits = self._limits(username, address)
            for key, limit in limits:
                times = self._recent(key, now)
                over = len(times) >= limit
                times.append(now)
                if over:  # allowed again once the count within the window is below the limit
                    waits.append(times[len(times) - limit] + WINDOW_SECONDS - now)
            retry = max(1, math.ceil(max(waits))) if waits else None
            return Attempt(tuple(key for key, _ in limits), now, retry)

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: take the attempt back and clear the username's failures."""
        with self._lock:
            user_key, *other_keys = attempt.keys
            self._failures.pop(user_key, None)
            for key in other_keys:
                times = self._failures.get(key)
                if times is not None and attempt.at in times:
                    times.remove(attempt.at)

    def failures(self, *, username: str | None = None, address: str | None = None) -> int:
        """Failures counted within the window for a username or an address (for reports and tests)."""
        key = f"user:{username.lower()}" if username is not None else f"addr:{address}"
        with self._lock:
            return len(self._recent(key, self.clock())) if key in self._failures else 0

    def _sweep(self, now: float) -> None:
        """Forget keys with no failure left in the window, so random usernames cannot grow memory."""
        for key in [key for key in self._failures if not self._recent(key, now)]:
            del self._failures[key]
