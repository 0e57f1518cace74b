"""Remove secrets from anything the controller returns before it reaches a log, the LLM or a chat.

One recursive pass builds a new structure (the input is never modified). A value is masked when its
key names a secret (passwords, passphrases, tokens, private/API/secret keys, cloud credentials,
session cookies) or when a string carries a PEM private key anywhere in it. Booleans and empty values
are kept ("is a password set?" is not a secret), so the shape of an object stays readable.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

MASK = "<redacted>"

# Exact key names (lower case) that always hold a secret.
SECRET_KEYS: frozenset[str] = frozenset(
    {
        "password",
        "old_password",
        "new_password",
        "passphrase",
        "key_passphrase",
        "secret",
        "client_secret",
        "secret_key",
        "secret_access_key",
        "access_key_id",
        "access_key",
        "private_key",
        "privatekey",
        "auth_token",
        "token",
        "api_key",
        "apikey",
        "credentials",
        "csrftoken",
        "x-csrftoken",
        "sessionid",
        "avi-sessionid",
        "cookie",
        "set-cookie",
        "authorization",
        "hmac_key",
        "aes_key",
        "shared_secret",
        "community",
        "auth_key",
        "priv_key",
        "sas_token",
        "service_account_key",
        "bearer_token",
    }
)

# Key name endings that mean a secret (`vcenter_password`, `radius_secret`, `user_token`, ...).
_SECRET_SUFFIX = re.compile(r"(?:password|passphrase|secret|_token|_private_key|_api_key|_secret_key)$")

_PEM_PRIVATE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END \1PRIVATE KEY-----|\Z)", re.DOTALL
)


_SCALARS = frozenset({int, float, bool})


@lru_cache(maxsize=8192)
def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    if lowered in SECRET_KEYS:
        return True
    if lowered.endswith(("_ref", "_refs", "_uuid", "_name")):
        return False
    return _SECRET_SUFFIX.search(lowered) is not None


def _mask(value: Any) -> Any:
    if value is None or isinstance(value, bool) or value == "" or value == [] or value == {}:
        return value
    return MASK


def _scrub_string(text: str) -> str:
    if "PRIVATE KEY" not in text:
        return text
    return _PEM_PRIVATE.sub(MASK, text)


def _redact(value: Any, certificate_context: bool) -> Any:
    if isinstance(value, dict):
        # A certificate object's `key` is its private key; elsewhere `key` is often a label name.
        is_cert = "certificate" in value or certificate_context
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and (_is_secret_key(key) or (is_cert and key == "key")):
                out[key] = _mask(item)
            elif item is None or item.__class__ in _SCALARS:
                out[key] = item
            elif item.__class__ is str:
                out[key] = _PEM_PRIVATE.sub(MASK, item) if "PRIVATE KEY" in item else item
            else:
                out[key] = _redact(item, False)
        return out
    if isinstance(value, list):
        return [_redact(item, certificate_context) for item in value]
    if isinstance(value, tuple):
        return tuple(_redact(item, certificate_context) for item in value)
    if isinstance(value, str):
        return _scrub_string(value)
    return value


def redact(value: Any) -> Any:
    """A deep copy of `value` with every secret masked as `<redacted>`."""
    return _redact(value, False)


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers safe to log: cookies, CSRF token and Authorization masked."""
    return {k: (MASK if _is_secret_key(k) else v) for k, v in headers.items()}
