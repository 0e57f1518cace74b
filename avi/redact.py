"""Remove secrets from anything the controller returns before it reaches a log, the LLM or a chat.

One recursive pass builds a new structure (the input is never modified). A value is masked when its
key names a secret, or when a string carries a PEM private key anywhere in it. Booleans and empty
values are kept ("is a password set?" is not a secret), so the shape of an object stays readable.

Which keys name a secret:
- the controller's own secret fields, generated from its OpenAPI documents (avi/secret_fields.py,
  `python tools/gen_secret_fields.py`): everywhere (`password`, `secret_access_key`, ...), inside the
  objects of one field (`ntp_authentication_keys[].key`), at the top of one object type (a
  certificate's `key`), or when a flag says so (`{"is_sensitive": true, "value": ...}`);
- fields of types outside those documents, HTTP headers and cookies (`SECRET_KEYS` below);
- any key ending like a secret (`vcenter_password`, `radius_secret`, `user_token`, ...).

`redact_text` does the same for free text (log lines, error messages, a JSON body kept as a string):
`key: value`, `key=value`, `"key": "value"` and `\\"key\\":\\"value\\"` pairs whose key names a
secret, credentials in URLs and PEM private keys.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from avi.secret_fields import SECRET_FIELDS, SECRET_IN_FIELD, SECRET_IN_TYPE, SECRET_WHEN_FLAGGED

MASK = "<redacted>"

# Exact key names (lower case) that always hold a secret, beyond the generated SECRET_FIELDS and
# what _SECRET_SUFFIX catches: fields of other controller types (HSM partitions, alert scripts, auth
# profiles, cloud connector users, ...), SDK and HTTP names. Keep it disjoint from both (a test checks).
_OTHER_SECRET_KEYS: frozenset[str] = frozenset(
    {
        "private_key",
        "privatekey",
        "priv_key",
        "auth_key",
        "hmac_key",
        "aes_key",
        "api_key",
        "apikey",
        "x-api-key",
        "service_account_key",
        "pass_phrase",
        "pwd",
        "bind_pw",
        "token",
        "accesstoken",
        "credentials",
        "community",
        "csrftoken",
        "x-csrftoken",
        "sessionid",
        "avi-sessionid",
        "cookie",
        "set-cookie",
        "authorization",
        "proxy-authorization",
    }
)
SECRET_KEYS: frozenset[str] = SECRET_FIELDS | _OTHER_SECRET_KEYS

# Key name endings that mean a secret (`vcenter_password`, `partition_passwd`, `radius_secret`, ...).
_SUFFIXES = r"(?:password|passwd|passphrase|secret|_token|_private_key|_priv_key|_api_key|_secret_key)"
_SECRET_SUFFIX = re.compile(_SUFFIXES + "$")

_PEM_PRIVATE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END \1PRIVATE KEY-----|\Z)", re.DOTALL
)

# An object is a certificate when it has these keys (or its url says so): its type's secrets apply.
_TYPE_MARKERS: dict[str, str] = {"sslkeyandcertificate": "certificate"}

_SCALARS = frozenset({int, float, bool})
_NOTHING: frozenset[str] = frozenset()


@lru_cache(maxsize=8192)
def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in SECRET_KEYS or _SECRET_SUFFIX.search(lowered) is not None


def is_secret_key(key: str) -> bool:
    """Whether a field, header or parameter of this name holds a secret wherever it appears."""
    return _is_secret_key(key)


def _mask(value: Any) -> Any:
    if value is None or isinstance(value, bool) or value == "" or value == [] or value == {}:
        return value
    return MASK


def _scrub_string(text: str) -> str:
    if "PRIVATE KEY" not in text:
        return text
    return _PEM_PRIVATE.sub(MASK, text)


def _context_secrets(obj: dict[Any, Any], parent: str | None) -> frozenset[str]:
    """Names secret in this object only: from the field holding it, its type, or a flag it carries."""
    names = SECRET_IN_FIELD.get(parent, _NOTHING) if parent else _NOTHING
    url = obj.get("url")
    for obj_type, marker in _TYPE_MARKERS.items():
        if marker in obj or (isinstance(url, str) and f"/api/{obj_type}/" in url):
            names = names | SECRET_IN_TYPE.get(obj_type, _NOTHING)
    for flag, sibling in SECRET_WHEN_FLAGGED.items():
        if obj.get(flag) is True:
            names = names | {sibling}
    return names


def _redact(value: Any, parent: str | None, text: bool) -> Any:
    if isinstance(value, dict):
        extra = _context_secrets(value, parent)
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and (key in extra or _is_secret_key(key)):
                out[key] = _mask(item)
            elif item is None or item.__class__ in _SCALARS:
                out[key] = item
            else:
                out[key] = _redact(item, key if isinstance(key, str) else None, text)
        return out
    if isinstance(value, list):
        return [_redact(item, parent, text) for item in value]
    if isinstance(value, tuple):
        return tuple(_redact(item, parent, text) for item in value)
    if isinstance(value, str):
        return redact_text(value) if text else _scrub_string(value)
    return value


def redact(value: Any) -> Any:
    """A deep copy of `value` with every secret masked as `<redacted>`."""
    return _redact(value, None, False)


def redact_all(value: Any) -> Any:
    """`redact`, and every string also through `redact_text`: for records of what people sent."""
    return _redact(value, None, True)


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    """Headers safe to log: cookies, CSRF token and Authorization masked."""
    return {k: (MASK if _is_secret_key(k) else v) for k, v in headers.items()}


# -- free text -------------------------------------------------------------------------------------

# `key<sep>value` where key names a secret (one of SECRET_KEYS, or any name with a secret's ending)
# and may be quoted ("key", 'key', \"key\"); value is a (possibly escaped) quoted string or a bare
# word (`Bearer xyz` counts as one). Only secret keys match, so nothing else is consumed and a pair
# nested in another value (a JSON body inside a JSON string) is still found.
_KEY_NAMES = "|".join(re.escape(k) for k in sorted(SECRET_KEYS, key=len, reverse=True))
_PAIR = re.compile(
    rf"""(?<![\w\-.])(?P<kq>\\*["']?)(?P<key>{_KEY_NAMES}|[\w.\-]*?{_SUFFIXES})"""
    r"""(?P=kq)(?P<sep>\s*[:=]\s*)"""
    r"""(?:(?P<dq>\\+")(?P<dv>.*?)(?P=dq)"""
    r"""|"(?P<jv>(?:[^"\\\n]|\\.)*)\""""
    r"""|'(?P<sv>(?:[^'\\\n]|\\.)*)'"""
    r"""|(?P<bv>(?:(?:Bearer|Basic|Digest|Token)\s+)?[^\s,;&}\]"'\\]+))""",
    re.IGNORECASE,
)
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/@:]+:[^\s/@]+@")
_KEPT_WORDS = frozenset({"true", "false", "null", "none"})
MAX_JSON_DEPTH = 64


def _pair(match: re.Match[str]) -> str:
    head = match.group("kq") + match.group("key") + match.group("kq") + match.group("sep")
    for group, quote in (("dv", match.group("dq")), ("jv", '"'), ("sv", "'")):
        inner = match.group(group)
        if inner is not None:
            return f"{head}{quote}{MASK if inner else ''}{quote}"
    bare = match.group("bv")
    return match.group(0) if bare.lower() in _KEPT_WORDS else f"{head}{MASK}"


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """The deepest nesting of `[`/`{` in a JSON text, found without parsing it (strings skipped)."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _embedded_json(text: str) -> Any:
    stripped = text.strip()
    if not stripped or stripped[0] not in "[{" or json_depth(stripped) > MAX_JSON_DEPTH:
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None


def redact_text(text: str) -> str:
    """Free text with secret values masked (see the module docstring); unchanged when none is there."""
    data = _embedded_json(text)
    if isinstance(data, (dict, list)):
        clean = redact_all(data)
        if clean != data:
            return json.dumps(clean, ensure_ascii=False, separators=(",", ":"))
        return text
    text = _scrub_string(text)
    if "://" in text:
        text = _URL_CREDENTIALS.sub(rf"\1{MASK}@", text)
    if ":" in text or "=" in text:
        text = _PAIR.sub(_pair, text)
    return text
