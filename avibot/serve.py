"""`avibot serve`: run the server until Ctrl-C or SIGTERM, saying first what runs and where.

Binding anywhere but loopback needs authentication (`web.access_token` / AVIBOT_ACCESS_TOKEN or
`web.trusted_proxies`) or an explicit `--allow-remote`: an open assistant that can change a load
balancer must not appear on a network by accident.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import ipaddress
import signal
import sys

from aiohttp import web

from adapters.web.settings import WebSettings
from avibot.config import Settings, load_settings
from avibot.factory import build_runtime
from avibot.logging_setup import setup_logging
from avibot.server import create_server_app, platform_statuses
from bot.types import Role

EXIT_USAGE = 2


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the web chat, the JSON API, health and metrics")
    p.add_argument("--config", default=None, help="config file (default ./config.yaml if present)")
    p.add_argument("--host", default=None, help="address to bind (default server.host, 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default server.port, 8080; 0 = any free)")
    p.add_argument("--demo", action="store_true", help="use an in-process simulated controller")
    p.add_argument(
        "--alert-every",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="with --demo: the simulator raises an alert this often (a pool member down, then back)",
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="bind a non-loopback address even though no access token or trusted proxy is configured",
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_problem(host: str, web_settings: WebSettings, allow_remote: bool) -> str | None:
    """Why binding `host` is refused, or None."""
    if is_loopback(host) or web_settings.auth_required or allow_remote or web_settings.allow_remote:
        return None
    return (
        f"refusing to listen on {host} without authentication: set AVIBOT_ACCESS_TOKEN (web.access_token) "
        "or web.trusted_proxies, or pass --allow-remote"
    )


def demo_access(settings: Settings) -> None:
    """In the demo the person at the browser may confirm writes, like `avibot chat` (cli_role)."""
    key = f"web:{settings.web.local_user}"
    if not settings.web.auth_required:
        settings.access.users.setdefault(key, Role.OPERATOR)


def url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def auth_line(settings: Settings) -> str:
    web_settings = settings.web
    if web_settings.access_token is not None:
        return f"access token required (token holders act as web:{web_settings.token_user})"
    if web_settings.trusted_proxies:
        return f"{web_settings.proxy_user_header} from {', '.join(web_settings.trusted_proxies)}"
    access = settings.access.users.get(f"web:{web_settings.local_user}", settings.access.default_role)
    return f"none (local sessions act as web:{web_settings.local_user}, role {access.value})"


async def run_serve(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    setup_logging(settings.log.level, settings.log.format)
    host = args.host or settings.server.host
    port = settings.server.port if args.port is None else args.port
    settings.web.bind_host = host  # one of the Host header values the web guard accepts by default
    problem = bind_problem(host, settings.web, args.allow_remote)
    if problem:
        print(f"avibot: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if args.demo:
        demo_access(settings)
    runtime = await build_runtime(settings, demo=args.demo, alert_every=args.alert_every)
    runner: web.AppRunner | None = None
    try:
        runner = web.AppRunner(create_server_app(runtime, settings))
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            print(f"avibot: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_USAGE
        bound = runner.addresses[0][1] if runner.addresses else port
        freeze_startup_objects()
        print(f"avibot serving on {url_for(host, bound)}", flush=True)
        print(f"  controller: {runtime.controller}", flush=True)
        print(f"  mode:       {runtime.llm_mode}", flush=True)
        print(f"  store:      {runtime.store}", flush=True)
        print(f"  auth:       {auth_line(settings)}", flush=True)
        for line in platform_statuses(settings):
            print(f"  {line}", flush=True)
        await _until_stopped()
        # Bounded: no new turn, confirmed writes finish, questions waiting on the model get a message.
        await runtime.turns.drain(settings.agent.shutdown_grace_seconds)
    finally:
        if runner is not None:
            await runner.cleanup()
        await runtime.aclose()
    return 0


def freeze_startup_objects() -> None:
    """Move what startup built (modules, tool catalogue, classifier, settings) out of the collector's view.

    Those objects live as long as the process; without this, every full collection under load walks all
    of them again to find the few cycles that turns leave behind.
    """
    gc.collect()
    gc.freeze()


async def _until_stopped() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
