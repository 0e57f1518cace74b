"""Errors that become controller-shaped HTTP responses (`{"error": ...}` or `{"detail": ...}`)."""

from __future__ import annotations

from typing import Any

from .object_types import class_name


class ApiError(Exception):
    """An error answered with `status` and a JSON body; raised anywhere in a handler."""

    def __init__(self, status: int, message: str, key: str = "error", body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: Any = body if body is not None else {key: message}


def not_found(obj_type: str) -> ApiError:
    return ApiError(404, f"{class_name(obj_type)} object not found!")


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def method_not_allowed(method: str) -> ApiError:
    return ApiError(405, f"Method '{method}' not allowed.", key="detail")
