"""Build the Teams app package: manifest.json + color.png (192x192) + outline.png (32x32), zipped flat.

    python scripts/teams_package.py [--app-id GUID] [--domain bot.example.com] [--out PATH]

The bot id comes from --app-id or TEAMS_APP_ID (the Azure bot's Microsoft App ID); without one the
package keeps the `{{TEAMS_APP_ID}}` placeholder and the script says it cannot be uploaded yet. The
icons are drawn here (zlib + struct, no image library) when missing, or with --icons.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_DIR = ROOT / "manifests" / "teams"
DEFAULT_OUT = ROOT / ".cache" / "teams" / "avibot-teams.zip"
PLACEHOLDER = "{{TEAMS_APP_ID}}"
DOMAIN_PLACEHOLDER = "{{BOT_DOMAIN}}"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
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


def render_manifest(app_id: str, domain: str) -> dict:
    text = (MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8")
    text = text.replace(PLACEHOLDER, app_id or PLACEHOLDER).replace(
        DOMAIN_PLACEHOLDER, domain or DOMAIN_PLACEHOLDER
    )
    manifest = json.loads(text)
    if not domain:
        manifest["validDomains"] = []
    return manifest


def build(out: Path, app_id: str, domain: str = "") -> list[str]:
    """Write the zip; the returned warnings say what keeps it from uploading."""
    ensure_icons()
    warnings = []
    if not app_id:
        warnings.append(
            f"no TEAMS_APP_ID: bots[0].botId is still {PLACEHOLDER}; Teams will refuse the package"
        )
    elif not GUID.match(app_id):
        warnings.append(f"TEAMS_APP_ID {app_id!r} is not a GUID")
    manifest = render_manifest(app_id, domain)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:  # flat: no folder inside the zip
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        zf.write(MANIFEST_DIR / "color.png", "color.png")
        zf.write(MANIFEST_DIR / "outline.png", "outline.png")
    return warnings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app-id", default=os.environ.get("TEAMS_APP_ID", ""), help="default: $TEAMS_APP_ID")
    parser.add_argument(
        "--domain", default=os.environ.get("TEAMS_BOT_DOMAIN", ""), help="the bot's host name"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--icons", action="store_true", help="redraw the icons")
    args = parser.parse_args(argv)
    if args.icons:
        ensure_icons(force=True)
    warnings = build(args.out, args.app_id.strip(), args.domain.strip())
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
