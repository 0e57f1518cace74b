"""Rate limits of the web guard: a token bucket per user, a sliding window of failures per peer."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    """A token bucket per user: `burst` at once, refilled at `per_minute`."""

    per_minute: float
    burst: int
    buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, key: str, now: float | None = None) -> float:
        """0 when allowed, else the seconds to wait before the next request is."""
        if self.per_minute <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) > 10_000:
                self._prune(now, rate)
            bucket = self.buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate

    def _prune(self, now: float, rate: float) -> None:
        full = [k for k, b in self.buckets.items() if b.tokens + (now - b.updated) * rate >= self.burst]
        for k in full:
            del self.buckets[k]


@dataclass
class FailureLimiter:
    """At most `limit` failed authentications per peer in a sliding minute."""

    limit: int
    window: float = 60.0
    failures: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, peer: str, now: float) -> deque[float]:
        times = self.failures.get(peer)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self.failures[peer]
        return times

    def wait(self, peer: str, now: float | None = None) -> float:
        """0 when `peer` may try, else the seconds until its oldest counted failure expires."""
        if self.limit <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        times = self._recent(peer, now)
        return times[0] + self.window - now if len(times) >= self.limit else 0.0

    def failed(self, peer: str, now: float | None = None) -> None:
        if self.limit <= 0:
            return
        now = time.monotonic() if now is None else now
        if len(self.failures) > 10_000:
            for key in list(self.failures):
                self._recent(key, now)
        times = self.failures.setdefault(peer, deque())
        times.append(now)
        while len(times) > self.limit:
            times.popleft()
