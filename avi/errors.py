"""Typed controller errors: each keeps the controller's own message, the HTTP status, method and path.

Never the password, token, cookies or CSRF token: messages are built only from the status, the path
and the controller's `error`/`detail` text, so an error can be shown to a chat user as it is.
"""

from __future__ import annotations

import json
from typing import Any


class AviError(Exception):
    """Base of every error raised by the Avi client and operations."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.body = body

    def __str__(self) -> str:
        where = f" ({self.method} {self.path})" if self.method and self.path else ""
        status = f"{self.status} " if self.status is not None else ""
        return f"{status}{self.message}{where}"


class AviAuthError(AviError):
    """401, or the login failed (e.g. `Invalid credentials`, locked account)."""


class AviPermissionError(AviError):
    """403: not allowed, unknown tenant (`Tenant 'x' does not exist!`), upgrade in progress."""


class AviNotFoundError(AviError):
    """404: no such object or path."""


class AviValidationError(AviError):
    """400 (bad field, bad version) and 405 (method not allowed): the request itself is wrong."""


class AviConflictError(AviError):
    """409 duplicate name, 412 concurrent update."""


class AviUnavailableError(AviError):
    """The controller could not be reached, timed out, or kept answering 5xx/429.

    Raised as such for a write only when the request surely never reached the controller (connection
    refused, connect or pool timeout, 429): then nothing was applied.
    """


class AviOutcomeUnknown(AviUnavailableError):
    """A write (POST, PUT, PATCH, DELETE) was sent, but how it ended is not known: the answer timed
    out, the connection broke after the request went out, or the controller answered 5xx.

    The controller may or may not have applied it; a write is never sent again after this, so the
    caller reads the object back to tell. `method` and `path` always say which request it was.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status: int | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message, status=status, method=method, path=path, body=body)


_BY_STATUS: dict[int, type[AviError]] = {
    400: AviValidationError,
    401: AviAuthError,
    403: AviPermissionError,
    404: AviNotFoundError,
    405: AviValidationError,
    409: AviConflictError,
    412: AviConflictError,
    419: AviAuthError,
    422: AviValidationError,
}


def controller_message(text: str, limit: int = 500) -> str:
    """The controller's message from a response body: `error`, then `detail`, else the raw text."""
    stripped = text.strip()
    if not stripped:
        return ""
    try:
        data = json.loads(stripped)
    except ValueError:
        return stripped[:limit]
    if isinstance(data, dict):
        for key in ("error", "detail", "message", "msg"):
            value = data.get(key)
            if value:
                return str(value)[:limit]
    if isinstance(data, str):
        return data[:limit]
    return stripped[:limit]


def error_for_status(status: int, text: str, *, method: str, path: str) -> AviError:
    """Map a failed response to the typed error, keeping the controller's message."""
    message = controller_message(text) or f"HTTP {status}"
    if status >= 500 or status == 429:
        cls: type[AviError] = AviUnavailableError
    else:
        cls = _BY_STATUS.get(status, AviError)
    return cls(message, status=status, method=method, path=path)
