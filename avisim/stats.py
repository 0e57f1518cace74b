"""Request counters, so tests and benchmarks can see how many calls and logins a client made."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SimStats:
    """Counts every request except /_sim/*; `by_endpoint` is keyed by (method, first segment after /api/)."""

    requests: int = 0
    logins: int = 0
    login_failures: int = 0
    by_endpoint: Counter[tuple[str, str]] = field(default_factory=Counter)

    def count(self, method: str, path: str) -> None:
        self.requests += 1
        if path.startswith("/api/"):
            segment = path[5:].split("/", 1)[0] or "api"
        else:
            segment = path.strip("/").split("/", 1)[0] or "/"
        self.by_endpoint[(method, segment)] += 1

    def reset(self) -> None:
        self.requests = self.logins = self.login_failures = 0
        self.by_endpoint.clear()

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "logins": self.logins,
            "login_failures": self.login_failures,
            "by_endpoint": {f"{m} {s}": n for (m, s), n in sorted(self.by_endpoint.items())},
        }
