"""Any method on any path under /api, for what no typed operation covers; the result is redacted.

The path is checked before anything is sent: it must be under `/api/`, with no `..`, no other host,
no fragment; an absolute URL is accepted only when it names the configured controller.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from avi.errors import AviValidationError
from avi.models import GenericResult
from avi.operations.base import OperationGroup
from avi.redact import redact

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
_SAFE_PATH = re.compile(r"^/api/[A-Za-z0-9._~\-/:@!$&'()*+,;=%]*$")


def check_path(path: str, base_url: str) -> tuple[str, dict[str, str]]:
    """The safe `/api/...` path and its query parameters, or AviValidationError."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path) or "\\" in path:
        raise AviValidationError("control characters or backslashes in the path", status=400)
    raw = path.strip()
    if not raw:
        raise AviValidationError("empty path", status=400)
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        base = urlsplit(base_url)
        if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
            raise AviValidationError(f"refusing a URL outside the controller: {raw!r}", status=400)
    if parts.fragment:
        raise AviValidationError("fragments are not allowed in the path", status=400)
    clean_path = parts.path
    if not clean_path.startswith("/"):
        clean_path = "/" + clean_path
    decoded = unquote(unquote(clean_path))
    if ".." in decoded.split("/") or "/./" in decoded + "/" or "//" in decoded:
        raise AviValidationError(f"path traversal is not allowed: {raw!r}", status=400)
    if not clean_path.startswith("/api/") or not _SAFE_PATH.match(clean_path):
        raise AviValidationError(f"only paths under /api/ are allowed: {raw!r}", status=400)
    return clean_path, dict(parse_qsl(parts.query, keep_blank_values=True))


class GenericOps(OperationGroup):
    async def execute(
        self,
        method: Method | str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        tenant: str | None = None,
    ) -> GenericResult:
        verb = method.upper()
        if verb not in _METHODS:
            raise AviValidationError(f"method must be one of {', '.join(sorted(_METHODS))}", status=400)
        clean_path, path_query = check_path(path, self.client.base_url)
        params = {**path_query, **(query or {})}
        resp = await self.client.request_full(
            verb, clean_path, params=params or None, json=body, tenant=tenant
        )
        return GenericResult(method=verb, path=clean_path, status=resp.status, body=redact(resp.body))
