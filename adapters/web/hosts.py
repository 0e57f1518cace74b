"""Host headers and the local address of a connection, for the web guard's Host allow-list."""

from __future__ import annotations

import functools
import re

from aiohttp import web

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
_HOST_RE = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9._\-]+)(?::(\d{1,5}))?$")


@functools.lru_cache(maxsize=256)  # pure; the same few Host headers come again and again
def split_host(value: str) -> tuple[str, int | None] | None:
    """(`name` or `[v6]`, port or None) of a Host header, lower case; None when malformed."""
    match = _HOST_RE.match(value.strip().lower())
    if match is None:
        return None
    port = int(match.group(2)) if match.group(2) else None
    if port is not None and not 0 < port < 65536:
        return None
    return match.group(1), port


def host_name(host: str) -> str:
    """An address as a Host header names it: IPv6 in brackets."""
    host = host.strip().lower()
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host


def local_address(request: web.Request) -> tuple[str | None, int | None]:
    """The address and port this connection reached (the bound port, even when `--port 0` picked it)."""
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    if isinstance(sockname, (tuple, list)) and len(sockname) >= 2:
        return host_name(str(sockname[0])), int(sockname[1])
    return None, None
