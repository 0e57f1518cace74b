"""What the controller client hands out and counts: request events for observers, the login state,
responses and pages, the cost counters, and the small helpers for paths and uuids."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

Params = Mapping[str, Any]

_UUID_RE = re.compile(r"^[a-z][a-z0-9]*-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_SE_UUID_RE = re.compile(r"^se-[0-9a-f]{6,}$")


@dataclass(frozen=True)
class RequestEvent:
    """One HTTP request to the controller, told to the client's observers (metrics, logs).

    `status` is the HTTP status, or None when no answer came (timeout, connection refused).
    """

    method: str
    path: str
    status: int | None
    seconds: float


RequestObserver = Callable[[RequestEvent], None]
LOGIN_BACKOFF = (30.0, 600.0)  # after a refused login: wait this long, doubling up to the maximum


@dataclass(frozen=True)
class LoginState:
    """Whether the client has a session: `ok`, `failed` (and when it will try again) or `none` yet."""

    status: str
    retry_in_seconds: float = 0.0
    message: str = ""


@dataclass
class ClientStats:
    """Counters for the benchmark and the cost tests.

    `requests` counts every HTTP request sent (logins and retries included); the difference between
    `call_seconds` and `http_seconds` is the client's own overhead.
    """

    calls: int = 0
    requests: int = 0
    logins: int = 0
    relogins: int = 0
    retries: int = 0
    errors: int = 0
    http_seconds: float = 0.0
    call_seconds: float = 0.0
    by_method: Counter[str] = field(default_factory=Counter)

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    @property
    def overhead_seconds(self) -> float:
        """Time spent in the client outside the HTTP exchanges (including backoff sleeps)."""
        return max(0.0, self.call_seconds - self.http_seconds)


@dataclass
class _Session:
    generation: int
    cookies: dict[str, str]

    @property
    def csrftoken(self) -> str:
        return self.cookies.get("csrftoken", "")

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


@dataclass(frozen=True)
class AviResponse:
    """A successful response: status, decoded JSON body (None when empty) and headers."""

    status: int
    body: Any
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Page:
    """One page of a collection: `count` is the controller's total over all pages."""

    number: int
    count: int
    results: list[dict[str, Any]]


def api_path(obj_type_or_path: str) -> str:
    """`pool` -> `/api/pool`; `/api/...` and `/login`-style paths are kept as given."""
    if obj_type_or_path.startswith("/"):
        return obj_type_or_path
    return "/api/" + obj_type_or_path.lstrip("/")


def looks_like_uuid(value: str) -> bool:
    """Controller uuids: `<type>-<uuid4>`, service engines `se-<hex>`, plus `admin`/`default`-style ids."""
    return bool(_UUID_RE.match(value) or _SE_UUID_RE.match(value))


def _encode_params(params: Params | None) -> dict[str, str] | None:
    if not params:
        return None
    out: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, (list, tuple, set, frozenset)):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out


def decode_body(content: bytes) -> Any:
    """A body as JSON (None when empty); a body that is not JSON as text."""
    if not content:
        return None
    try:
        return orjson.loads(content)
    except ValueError:  # orjson.JSONDecodeError is a ValueError
        return content.decode("utf-8", "replace")
