"""The `avibot` command: `sim` serves a simulator, `check` tests the controller, `chat`, `serve`.

Every failure a user can cause (a bad setting, an unreachable controller) ends with one clear
line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from avibot.audit_cli import add_parser as add_audit_parser
from avibot.chat import add_parser as add_chat_parser
from avibot.config import ConfigError, demo_environment, demo_notice, load_settings
from avibot.eval import add_parser as add_eval_parser
from avibot.logging_setup import setup_logging
from avibot.serve import add_parser as add_serve_parser

EXIT_USAGE = 2


def _fail(message: str) -> int:
    print(f"avibot: {message}", file=sys.stderr)
    return EXIT_USAGE


def _sim_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sim", help="serve a simulated Avi controller (for demos and tests)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=9443, help="port (default 9443)")
    p.add_argument("--tls", action="store_true", help="serve HTTPS with a self-signed certificate")
    p.add_argument("--username", default="admin")
    p.add_argument(
        "--password",
        default=None,
        help="login password (default: $AVIBOT_SIM_PASSWORD, else 'admin')",
    )
    p.add_argument("--objects", type=int, default=100, help="virtual services to seed, 10..10000")
    p.add_argument("--pools", type=int, default=None, help="pools to seed (default: one per VS)")
    p.add_argument("--seed", type=int, default=1, help="seed of the deterministic inventory")
    p.add_argument(
        "--session-timeout", type=float, default=900.0, help="idle seconds before a session expires"
    )
    p.add_argument("--version", dest="api_version", default=None, help="controller version to report")
    p.add_argument(
        "--alert-every",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="raise a realistic alert this often (a pool member down, then back); 0 = never",
    )


def _check_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="log in to the configured controller and print what it reports")
    p.add_argument("--config", default=None, help="config file (default ./config.yaml if present)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="avibot", description="ChatOps assistant for Avi Load Balancer")
    sub = parser.add_subparsers(dest="command", required=True)
    _sim_parser(sub)
    _check_parser(sub)
    add_chat_parser(sub)
    add_serve_parser(sub)
    add_eval_parser(sub)
    add_audit_parser(sub)
    return parser


def _run_sim(args: argparse.Namespace) -> int:
    from avisim import SimulatorConfig, serve

    options: dict[str, object] = {
        "username": args.username,
        "password": args.password or os.environ.get("AVIBOT_SIM_PASSWORD") or "admin",
        "objects": args.objects,
        "pools": args.pools,
        "seed": args.seed,
        "session_timeout": args.session_timeout,
        "alert_every": args.alert_every,
    }
    if args.api_version:
        options["version"] = args.api_version
    try:
        config = SimulatorConfig(**options)
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        field = ".".join(str(p) for p in first["loc"])
        return _fail(f"--{field.replace('_', '-')}: {first['msg']}")
    setup_logging("INFO")
    try:
        serve(config, host=args.host, port=args.port, tls=args.tls)
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        pass
    return 0


async def _check(settings_path: str | None) -> int:
    """Log in to every configured controller (the default first) and print its version; a failure
    of any one fails the check, after the others were tried."""
    settings = load_settings(settings_path)
    named = settings.require_controllers()
    from avi.client import AviClient
    from avi.errors import AviError

    setup_logging(settings.log.level, settings.log.format)
    failed = []
    for entry in named:
        shown = entry.avi.base_url if len(named) == 1 else f"{entry.name} ({entry.avi.base_url})"
        try:
            async with AviClient(entry.avi) as client:
                await client.login()
                version = client.controller_version or "unknown version"
        except AviError as exc:
            if len(named) == 1:
                return _fail(str(exc))
            print(f"controller {shown}: {exc}", file=sys.stderr)
            failed.append(entry.name)
            continue
        print(f"controller {shown}: Avi {version} (tenant {entry.avi.tenant}), OK")
    if failed:
        return _fail(f"{len(failed)} of {len(named)} controllers failed the check: {', '.join(failed)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # `--demo` (and `eval`, which always runs on the demo simulator) talks to its own simulator.
    if getattr(args, "demo", False) or args.command == "eval":
        with demo_environment() as ignored:
            if ignored:
                try:  # a bad setting still ends with its one line, and nothing before it
                    load_settings(args.config)
                except ConfigError as exc:
                    return _fail(str(exc))
                # With the server's banner on stdout; `chat` and `eval` keep stdout for answers.
                out = sys.stdout if args.command == "serve" else sys.stderr
                print(demo_notice(ignored), file=out, flush=True)
            return _dispatch(args)
    return _dispatch(args)


def _dispatch(args: argparse.Namespace) -> int:
    try:
        if args.command == "sim":
            return _run_sim(args)
        if args.command == "check":
            return asyncio.run(_check(args.config))
        if args.command == "chat":
            from avibot.chat import run_chat

            return asyncio.run(run_chat(args))
        if args.command == "serve":
            from avibot.serve import run_serve

            return asyncio.run(run_serve(args))
        if args.command == "eval":
            from avibot.eval import run_eval

            return asyncio.run(run_eval(args))
        if args.command == "audit":
            from avibot.audit_cli import run_audit

            return asyncio.run(run_audit(args))
    except ConfigError as exc:
        return _fail(str(exc))
    return _fail(f"unknown command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
