"""Build the Teams app package: manifest.json + color.png (192x192) + outline.png (32x32), zipped flat.

    TEAMS_APP_ID=<GUID> TEAMS_BOT_DOMAIN=bot.example.com python scripts/teams_package.py [--out PATH]

What goes into manifest.json comes from the settings (the `teams` section of config.yaml, the
environment winning, as for `avibot serve`) and these variables, each also a flag:

    TEAMS_APP_ID          the Azure bot's Microsoft App ID (a GUID): bots[0].botId, and the app's id
    TEAMS_MANIFEST_ID     optional: the Teams app id when it is not the bot's (a GUID)
    TEAMS_BOT_DOMAIN      the bot's public host name: validDomains, and the default developer URLs
    TEAMS_DEVELOPER_NAME  optional: developer.name (default "avibot", at most 32 characters)
    TEAMS_DEVELOPER_URL   optional: developer.websiteUrl (default https://<TEAMS_BOT_DOMAIN>)
    TEAMS_PRIVACY_URL     optional: developer.privacyUrl (default TEAMS_DEVELOPER_URL)
    TEAMS_TERMS_URL       optional: developer.termsOfUseUrl (default TEAMS_DEVELOPER_URL)
    TEAMS_APP_VERSION     optional: the app's version (default the template's); raise it to update an upload

Anything missing or malformed stops it with one line and exit status 2, before a zip Teams would refuse
is written. The icons are drawn here (zlib + struct, no image library) when missing, or with --icons.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_DIR = ROOT / "manifests" / "teams"
DEFAULT_OUT = ROOT / ".cache" / "teams" / "avibot-teams.zip"
PLACEHOLDER = "{{TEAMS_APP_ID}}"
DOMAIN_PLACEHOLDER = "{{BOT_DOMAIN}}"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOST = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
MAX_DEVELOPER_NAME = 32  # the manifest schema's limits
MAX_URL = 2048
EXIT_USAGE = 2
ACCENT = (0x1F, 0x6F, 0xB2)  # the card accent; also manifest.accentColor

Pixel = tuple[int, int, int, int]


def png(width: int, height: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """An RGBA PNG: signature, IHDR, one zlib IDAT (filter 0 per row), IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _glyph(x: float, y: float, size: float) -> bool:
    """A load balancer: one node on top fanning out to three below (normalised coordinates)."""
    u, v = x / size, y / size
    nodes = [(0.5, 0.25), (0.22, 0.75), (0.5, 0.75), (0.78, 0.75)]
    if any(math.hypot(u - a, v - b) < 0.1 for a, b in nodes):
        return True
    top = nodes[0]
    for a, b in nodes[1:]:  # lines from the top node to each lower one
        dx, dy = a - top[0], b - top[1]
        t = max(0.0, min(1.0, ((u - top[0]) * dx + (v - top[1]) * dy) / (dx * dx + dy * dy)))
        if math.hypot(u - (top[0] + t * dx), v - (top[1] + t * dy)) < 0.035:
            return True
    return False


def color_icon() -> bytes:
    """192x192, the full-colour icon: white glyph on the accent colour."""
    return png(
        192, 192, lambda x, y: (255, 255, 255, 255) if _glyph(x + 0.5, y + 0.5, 192) else (*ACCENT, 255)
    )


def outline_icon() -> bytes:
    """32x32, white on transparent (Teams tints it)."""
    return png(32, 32, lambda x, y: (255, 255, 255, 255) if _glyph(x + 0.5, y + 0.5, 32) else (0, 0, 0, 0))


def ensure_icons(force: bool = False) -> None:
    for name, draw in (("color.png", color_icon), ("outline.png", outline_icon)):
        path = MANIFEST_DIR / name
        if force or not path.exists():
            path.write_bytes(draw())


def png_size(data: bytes) -> tuple[int, int]:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


class PackageError(Exception):
    """A setting is missing or malformed; the message is one line naming it."""


@dataclass(frozen=True)
class PackageSettings:
    """Everything the manifest takes from the settings, validated."""

    app_id: str
    manifest_id: str
    domain: str
    developer_name: str
    website_url: str
    privacy_url: str
    terms_url: str
    version: str


def _https_url(name: str, value: str) -> str:
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or " " in url:
        raise PackageError(f"{name} must be an https:// URL, got {value!r}")
    if len(url) > MAX_URL:
        raise PackageError(f"{name} is longer than {MAX_URL} characters")
    return url


def _host(value: str) -> str:
    """A bare host name; `https://host/` is accepted and reduced to `host`."""
    raw = value.strip()
    if "://" in raw:
        parts = urlsplit(raw)
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise PackageError(f"TEAMS_BOT_DOMAIN must be a host name, not a URL with a path: {value!r}")
        raw = parts.netloc
    if not HOST.match(raw):
        raise PackageError(f"TEAMS_BOT_DOMAIN must be a host name such as bot.example.com, got {value!r}")
    return raw.lower()


def _env(name: str) -> str | None:
    """An environment variable as the settings read it: case-insensitively."""
    return next((v for k, v in os.environ.items() if k.upper() == name), None)


def _config_app_id(config: Path | None) -> str:
    """`teams.app_id` from config.yaml (./config.yaml when present); TEAMS_APP_ID wins (as for the server)."""
    path = config if config is not None else (Path("config.yaml") if Path("config.yaml").is_file() else None)
    if path is None:
        return ""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PackageError(f"cannot read {path}: {type(exc).__name__}") from None
    section = (data.get("teams") or {}) if isinstance(data, dict) else {}
    if not isinstance(section, dict):
        raise PackageError(f"{path}: section 'teams' must be a mapping")
    return str(section.get("app_id") or "").strip()


def package_settings(args: argparse.Namespace, template: dict[str, Any]) -> PackageSettings:
    """The validated settings, or a PackageError naming every problem on one line."""
    problems: list[str] = []

    def check(fn: Callable[[], str]) -> str:
        try:
            return fn()
        except PackageError as exc:
            problems.append(str(exc))
            return ""

    app_id = args.app_id.strip() if args.app_id is not None else check(lambda: _config_app_id(args.config))
    if not app_id:
        problems.append(
            "TEAMS_APP_ID is not set: the Azure bot's Microsoft App ID (a GUID; Azure portal -> the bot -> "
            "Configuration); Teams refuses a package without it"
        )
    elif not GUID.match(app_id):
        problems.append(f"TEAMS_APP_ID must be a GUID (the Azure bot's Microsoft App ID), got {app_id!r}")
    manifest_id = (args.manifest_id or "").strip() or app_id
    if manifest_id != app_id and not GUID.match(manifest_id):
        problems.append(f"TEAMS_MANIFEST_ID must be a GUID, got {manifest_id!r}")
    domain = check(lambda: _host(args.domain)) if args.domain.strip() else ""
    website = args.developer_url.strip()
    if website:
        website = check(lambda: _https_url("TEAMS_DEVELOPER_URL", args.developer_url))
    elif domain:
        website = f"https://{domain}"
    elif not args.domain.strip():
        problems.append(
            "TEAMS_BOT_DOMAIN (or TEAMS_DEVELOPER_URL) is not set: Teams shows the developer's website, "
            "privacy and terms links"
        )
    privacy, terms = website, website
    if args.privacy_url.strip():
        privacy = check(lambda: _https_url("TEAMS_PRIVACY_URL", args.privacy_url))
    if args.terms_url.strip():
        terms = check(lambda: _https_url("TEAMS_TERMS_URL", args.terms_url))
    name = args.developer_name.strip()
    if not name or len(name) > MAX_DEVELOPER_NAME:
        problems.append(f"TEAMS_DEVELOPER_NAME must be 1 to {MAX_DEVELOPER_NAME} characters")
    version = (args.app_version or "").strip() or str(template["version"])
    if not SEMVER.match(version):
        problems.append(f"TEAMS_APP_VERSION must be a version such as 1.2.3, got {version!r}")
    if problems:
        raise PackageError("; ".join(problems))
    return PackageSettings(
        app_id=app_id,
        manifest_id=manifest_id,
        domain=domain,
        developer_name=name,
        website_url=website,
        privacy_url=privacy,
        terms_url=terms,
        version=version,
    )


def load_template() -> dict[str, Any]:
    template: dict[str, Any] = json.loads((MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8"))
    return template


def render_manifest(settings: PackageSettings, template: dict[str, Any] | None = None) -> dict[str, Any]:
    """The template with every placeholder filled in from `settings`."""
    manifest = copy.deepcopy(template if template is not None else load_template())
    manifest["id"] = settings.manifest_id
    manifest["version"] = settings.version
    manifest["developer"] = {
        **manifest.get("developer", {}),
        "name": settings.developer_name,
        "websiteUrl": settings.website_url,
        "privacyUrl": settings.privacy_url,
        "termsOfUseUrl": settings.terms_url,
    }
    for bot in manifest["bots"]:
        bot["botId"] = settings.app_id
    manifest["validDomains"] = [settings.domain] if settings.domain else []
    leftover = [p for p in (PLACEHOLDER, DOMAIN_PLACEHOLDER) if p in json.dumps(manifest)]
    if leftover:  # a new placeholder in the template that this script does not know yet
        raise PackageError(f"manifests/teams/manifest.json still has {', '.join(leftover)} after filling in")
    return manifest


def build(out: Path, settings: PackageSettings) -> dict[str, Any]:
    """Write the zip (flat: no folder inside); returns the manifest written."""
    ensure_icons()
    manifest = render_manifest(settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        zf.write(MANIFEST_DIR / "color.png", "color.png")
        zf.write(MANIFEST_DIR / "outline.png", "outline.png")
    return manifest


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    def env(name: str, default: str | None = None) -> str | None:
        value = _env(name)
        return default if value is None else value

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--app-id", default=env("TEAMS_APP_ID"), help="default: $TEAMS_APP_ID, teams.app_id")
    parser.add_argument("--manifest-id", default=env("TEAMS_MANIFEST_ID", ""), help="default: the app id")
    parser.add_argument("--domain", default=env("TEAMS_BOT_DOMAIN", ""), help="the bot's public host name")
    parser.add_argument("--developer-name", default=env("TEAMS_DEVELOPER_NAME", "avibot"))
    parser.add_argument("--developer-url", default=env("TEAMS_DEVELOPER_URL", ""))
    parser.add_argument("--privacy-url", default=env("TEAMS_PRIVACY_URL", ""))
    parser.add_argument("--terms-url", default=env("TEAMS_TERMS_URL", ""))
    parser.add_argument("--app-version", default=env("TEAMS_APP_VERSION", ""))
    parser.add_argument("--config", type=Path, default=None, help="config file (default ./config.yaml)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--icons", action="store_true", help="redraw the icons")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.icons:
        ensure_icons(force=True)
    try:
        settings = package_settings(args, load_template())
        build(args.out, settings)
    except PackageError as exc:
        print(f"teams-package: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {args.out} (app {settings.manifest_id}, bot {settings.app_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
