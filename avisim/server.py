"""Blocking `serve()` for the CLI: seed, listen (TLS with a self-signed cert if asked), show the URL."""

from __future__ import annotations

import time

from aiohttp import web

from .app import create_app
from .config import SimulatorConfig
from .tls import server_context


def serve(config: SimulatorConfig, host: str = "127.0.0.1", port: int = 9443, tls: bool = False) -> None:
    started = time.perf_counter()
    app = create_app(config)
    seconds = time.perf_counter() - started
    scheme = "https" if tls else "http"
    shown = f"[{host}]" if ":" in host else host
    url = f"{scheme}://{shown}:{port}"

    def _announce(_: str) -> None:
        print(
            f"Avi controller simulator {config.version} at {url} "
            f"({config.objects} virtual services, seeded in {seconds:.1f}s; "
            f"user {config.username!r}{', self-signed certificate' if tls else ''}). Ctrl+C to stop.",
            flush=True,
        )

    web.run_app(
        app,
        host=host,
        port=port,
        ssl_context=server_context(host) if tls else None,
        print=_announce,
        access_log=None,
    )
