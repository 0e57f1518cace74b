"""One wording for pydantic validation errors, wherever they reach a person or the model.

Only the location and message are kept: pydantic's text also carries the input and a docs URL,
which may hold a secret and mean nothing to a reader.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Problem(NamedTuple):
    field: str
    message: str


def problems(exc: Any, default_field: str = "arguments") -> list[Problem]:
    """The (field, message) pairs of a pydantic ValidationError; `[(default_field, str(exc))]` else."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return [Problem(default_field, str(exc))]
    found = [
        Problem(".".join(str(p) for p in e.get("loc", ())) or default_field, str(e.get("msg", "")))
        for e in errors(include_input=False, include_url=False)
    ]
    return found or [Problem(default_field, str(exc))]


def describe(exc: Any, default_field: str = "arguments") -> str:
    """`field: message; other: message`, for one line of text (a plain exception: its message)."""
    if not callable(getattr(exc, "errors", None)):
        return str(exc)
    return "; ".join(f"{p.field}: {p.message}" for p in problems(exc, default_field))
