"""`make teams-package`: a flat zip Teams accepts, with the bot id filled in and icons of the right size."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from scripts.teams_package import MANIFEST_DIR, color_icon, outline_icon, png_size

ROOT = Path(__file__).resolve().parents[3]
APP_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"


def run(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path / "avibot-teams.zip"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "teams_package.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
        check=True,
    )
    return proc, out


def test_package_has_the_manifest_and_both_icons_flat(tmp_path: Path) -> None:
    proc, out = run(tmp_path, TEAMS_APP_ID=APP_ID, TEAMS_BOT_DOMAIN="avibot.example.org")
    assert "warning" not in proc.stderr
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(zf.read("manifest.json"))
        assert png_size(zf.read("color.png")) == (192, 192)
        assert png_size(zf.read("outline.png")) == (32, 32)
    assert manifest["manifestVersion"] == "1.22"
    assert "v1.22" in manifest["$schema"]
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    commands = bot["commandLists"][0]["commands"]
    assert 0 < len(commands) <= 10
    assert all(len(c["title"]) <= 32 and len(c["description"]) <= 128 for c in commands)
    assert len(manifest["name"]["short"]) <= 30
    assert len(manifest["description"]["short"]) <= 80
    assert manifest["validDomains"] == ["avibot.example.org"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_without_an_app_id_it_stops_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "avibot-teams.zip"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "teams_package.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "TEAMS_BOT_DOMAIN": "avibot.example.org"},
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "TEAMS_APP_ID" in proc.stderr
    assert not out.exists()  # no zip Teams would refuse


def test_committed_icons_are_what_the_script_draws() -> None:
    assert (MANIFEST_DIR / "color.png").read_bytes() == color_icon()
    assert (MANIFEST_DIR / "outline.png").read_bytes() == outline_icon()
    assert png_size(color_icon()) == (192, 192)
    assert png_size(outline_icon()) == (32, 32)
