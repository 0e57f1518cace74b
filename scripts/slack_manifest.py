"""Write the Slack app manifest (HTTP mode) with the server's public URL filled in everywhere.

    SLACK_PUBLIC_URL=https://bot.example.com python scripts/slack_manifest.py [--out PATH | --out -]

Slack calls one URL for events, the `/avi` command and the buttons: SLACK_PUBLIC_URL (an https:// URL,
optionally with a path prefix when a reverse proxy serves avibot under one) followed by avibot's Slack
path (`slack.path`, SLACK_PATH, default /slack/events). The manifest is manifests/slack/manifest.yaml
with its example URL replaced; paste the result at https://api.slack.com/apps -> Create New App -> From
a manifest. Socket Mode needs no URL: use manifests/slack/manifest-socket-mode.yaml as it is.

A missing or malformed URL stops it with one line and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "manifests" / "slack" / "manifest.yaml"
DEFAULT_OUT = ROOT / ".cache" / "slack" / "manifest.yaml"
EXAMPLE_BASE = "https://avibot.example.com"  # the template's stand-in for the public URL
DEFAULT_PATH = "/slack/events"
EXIT_USAGE = 2


class ManifestError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


def public_base(value: str | None, path: str) -> str:
    """The public URL without a trailing slash (and without avibot's own Slack path, if pasted with it)."""
    if value is None or not value.strip():
        raise ManifestError(
            "SLACK_PUBLIC_URL is not set: the https:// URL where Slack reaches avibot, "
            "e.g. SLACK_PUBLIC_URL=https://bot.example.com make slack-manifest"
        )
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or " " in url:
        raise ManifestError(
            f"SLACK_PUBLIC_URL must be an https:// URL (Slack calls HTTPS only), got {value!r}"
        )
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise ManifestError(f"SLACK_PUBLIC_URL must be a plain https://host[/prefix] URL, got {value!r}")
    base = url.rstrip("/")
    if path != "/" and base.endswith(path):
        base = base[: -len(path)].rstrip("/")
    return base


def env_setting(name: str) -> str | None:
    """An environment variable as the settings read it: case-insensitively."""
    return next((v for k, v in os.environ.items() if k.upper() == name), None)


def slack_path(config: Path | None) -> str:
    """`slack.path` from config.yaml (./config.yaml when present); SLACK_PATH wins, as in `avibot serve`."""
    value = env_setting("SLACK_PATH")
    if value is None:
        value = str(config_section(config, "slack").get("path") or DEFAULT_PATH)
    if not value.startswith("/"):
        raise ManifestError(f"slack.path (SLACK_PATH) must start with '/', got {value!r}")
    return value.rstrip("/") or "/"


def config_section(config: Path | None, name: str) -> dict[str, Any]:
    path = config if config is not None else (Path("config.yaml") if Path("config.yaml").is_file() else None)
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ManifestError(f"cannot read {path}: {type(exc).__name__}") from None
    section = (data.get(name) or {}) if isinstance(data, dict) else {}
    if not isinstance(section, dict):
        raise ManifestError(f"{path}: section '{name}' must be a mapping")
    return section


def render(public_url: str, path: str = DEFAULT_PATH) -> str:
    """The template's text with every request URL set to `public_url` + `path`; checked after."""
    request_url = f"{public_url}{path}"
    lines = TEMPLATE.read_text(encoding="utf-8").splitlines(keepends=True)
    body = "".join(line for line in lines if not line.startswith("#"))  # the template's how-to header
    body = body.replace(f"{EXAMPLE_BASE}{DEFAULT_PATH}", request_url)
    if EXAMPLE_BASE in body:
        raise ManifestError(f"{TEMPLATE.name} has a URL this script does not fill in ({EXAMPLE_BASE}...)")
    header = (
        f"# avibot, HTTP mode: Slack calls {request_url} for events, /avi and the buttons.\n"
        "# Written by `make slack-manifest`; paste it at https://api.slack.com/apps -> Create New App ->\n"
        "# From a manifest (or App Manifest -> Edit for an existing app).\n"
    )
    text = header + body
    manifest = yaml.safe_load(text)
    urls = [
        *(c.get("url") for c in manifest["features"]["slash_commands"]),
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
    ]
    if urls != [request_url] * len(urls):
        raise ManifestError(f"not every request URL in {TEMPLATE.name} is {request_url}: {urls}")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--public-url", default=env_setting("SLACK_PUBLIC_URL"), help="default: $SLACK_PUBLIC_URL"
    )
    parser.add_argument("--config", type=Path, default=None, help="config file (default ./config.yaml)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="where to write it; - for stdout")
    args = parser.parse_args(argv)
    try:
        path = slack_path(args.config)
        text = render(public_base(args.public_url, path), path)
    except ManifestError as exc:
        print(f"slack-manifest: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}: paste it at https://api.slack.com/apps -> Create New App -> From a manifest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
