"""Logging for every command: text or JSON lines, with a filter that masks anything secret-shaped."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

# Values that must never reach a log line, whatever the caller put in its message.
_SECRET_PATTERNS = (
    re.compile(
        r"(?i)(password|passphrase|token|secret|csrftoken|sessionid|authorization)(\"?\s*[:=]\s*\"?)([^\s\",;&]+)"
    ),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
)


def mask_secrets(text: str) -> str:
    """Replace secret values in free text with `***`."""
    text = _SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    return _SECRET_PATTERNS[1].sub("-----PRIVATE KEY REDACTED-----", text)


class SecretFilter(logging.Filter):
    """Masks secrets in the final message of every record that passes through a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        audit = getattr(record, "audit", None)
        if audit is not None:
            entry["audit"] = audit
        if record.exc_info:
            entry["exc"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(entry)


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    """Configure the root logger once, for the CLI's process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(SecretFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
