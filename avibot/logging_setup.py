"""Logging for every command: text or JSON lines, masking anything secret-shaped.

The masking is avi/redact.py's, the one controller reads go through: `password=x`, `"password": "x"`,
`\\"password\\":\\"x\\"`, `Authorization: Bearer x`, credentials in URLs and PEM private keys, in the
message, in a traceback and in the structured `audit` record of the JSON format.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO

from avi.redact import redact_all, redact_text
from avibot.turn_log import TurnIdFilter


def mask_secrets(text: str) -> str:
    """Free text with secret values replaced by `<redacted>`."""
    return redact_text(text)


class SecretFilter(logging.Filter):
    """Masks secrets in the message and the `audit` record of every record that passes a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        audit = getattr(record, "audit", None)
        if audit is not None:
            record.audit = redact_all(audit)
        return True


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [turn]: message`, the whole line (traceback included) masked."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(turn_tag)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        turn = getattr(record, "turn", None)
        record.turn_tag = f" [turn {turn}]" if turn else ""
        return mask_secrets(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": mask_secrets(record.getMessage()),
        }
        turn = getattr(record, "turn", None)
        if turn:
            entry["turn"] = turn
        audit = getattr(record, "audit", None)
        if audit is not None:
            entry["audit"] = redact_all(audit)
        if record.exc_info:
            entry["exc"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(entry)


def make_handler(fmt: str = "text", stream: IO[str] | None = None) -> logging.Handler:
    """The handler `setup_logging` installs: the secret filter and the text or JSON formatter."""
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.addFilter(SecretFilter())
    handler.addFilter(TurnIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    return handler


# Libraries that log every request at INFO, URL and query included: a turn's end line counts them.
CHATTY = ("httpx", "httpcore")


def quiet_libraries(level: int = logging.WARNING) -> None:
    for name in CHATTY:
        logging.getLogger(name).setLevel(level)


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Configure the root logger once, for the CLI's process."""
    root = logging.getLogger()
    root.handlers[:] = [make_handler(fmt)]
    root.setLevel(level)
    if level != "DEBUG":
        quiet_libraries()
