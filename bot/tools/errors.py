"""`ToolError`: the one error a tool lets out, worded for a person (and the model), never a traceback.

Every run and plan goes through `translate`, so a controller error (`AviError`), a bad value caught
by an operation (`ValueError`, including pydantic's) or an unknown name turns into a message with the
controller's own text and a hint that says what to try next.
"""

from __future__ import annotations

from avi.errors import (
    AviAuthError,
    AviConflictError,
    AviError,
    AviNotFoundError,
    AviOutcomeUnknown,
    AviPermissionError,
    AviUnavailableError,
    AviValidationError,
)
from bot.validation import describe


class ToolError(Exception):
    """A failed tool call: `message` says what went wrong, `hint` what to do about it.

    `outcome_unknown`: a write was sent but its answer was lost (timeout, broken connection, 5xx), so
    the controller may or may not have applied it; whoever ran it reads the object back to tell.
    `no_op`: nothing needed doing (already disabled, already a member): not a failure for the person.
    """

    def __init__(
        self,
        message: str,
        hint: str = "",
        *,
        outcome_unknown: bool = False,
        no_op: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.outcome_unknown = outcome_unknown
        self.no_op = no_op

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


def _hint(exc: AviError, lookup_tool: str) -> str:
    if isinstance(exc, AviNotFoundError):
        return f"check the name with {lookup_tool}" if lookup_tool else "check the name or the path"
    if isinstance(exc, AviPermissionError):
        return "the account or tenant may not allow this; check the tenant name and your rights"
    if isinstance(exc, AviConflictError):
        return "the name may already exist, or someone changed the object meanwhile; read it again and retry"
    if isinstance(exc, AviValidationError):
        return "check the arguments (names, addresses, ports, enum values)"
    if isinstance(exc, AviOutcomeUnknown):
        return "the change may or may not have been made; read the object back before trying again"
    if isinstance(exc, AviUnavailableError):
        return "the controller did not answer; try again in a minute"
    if isinstance(exc, AviAuthError):
        return "the bot's controller login was refused; ask an administrator to check its credentials"
    return ""


def translate(exc: Exception, lookup_tool: str = "") -> ToolError:
    """The ToolError for `exc`; `lookup_tool` names the list tool that finds the right name."""
    if isinstance(exc, ToolError):
        return exc
    if isinstance(exc, AviError):
        return ToolError(
            exc.message,
            _hint(exc, lookup_tool),
            outcome_unknown=isinstance(exc, AviOutcomeUnknown),
        )
    if isinstance(exc, ValueError):
        # pydantic's ValidationError is a ValueError: keep only the messages, not the URLs and input.
        return ToolError(describe(exc, "value"), "check the arguments")
    raise exc


def nothing_to_do(message: str) -> ToolError:
    """The state asked for is already there: said plainly, not as a failure."""
    return ToolError(message, "nothing to do", no_op=True)
