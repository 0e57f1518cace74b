"""Setup without friction (chat-experience item 15): `make slack-manifest`, `make teams-package` and
`make demo`, run as a user runs them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
OTHER_ID = "9b2c5a1e-0d4f-4e7a-8c3b-2f1e0a9d8c7b"
BIN = str(Path(sys.executable).parent)  # the interpreter running the tests, whatever the venv is called


def run_script(name: str, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *args],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), **env},
        cwd=cwd,
        timeout=120,
    )


def run_make(target: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`make TARGET` in the checkout, with the installation taken as done (-o: never rebuilt here)."""
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "-o", ".venv/.installed-run", target, f"BIN={BIN}"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), **env},
        cwd=cwd,
        timeout=120,
    )


def one_line(stderr: str, prefix: str) -> str:
    lines = [line for line in stderr.splitlines() if not line.startswith("make")]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(prefix), stderr
    assert "Traceback" not in stderr
    return lines[0]


# --- Slack ---------------------------------------------------------------------------------------


def request_urls(manifest: dict[str, object]) -> list[str]:
    m: dict = manifest  # type: ignore[type-arg]
    return [
        *(c["url"] for c in m["features"]["slash_commands"]),
        m["settings"]["event_subscriptions"]["request_url"],
        m["settings"]["interactivity"]["request_url"],
    ]


def test_make_slack_manifest_fills_in_the_public_url_everywhere(tmp_path: Path) -> None:
    out = tmp_path / "slack.yaml"
    proc = run_make(
        "slack-manifest", tmp_path, SLACK_PUBLIC_URL="https://bot.example.com", SLACK_MANIFEST=str(out)
    )
    assert proc.returncode == 0, proc.stderr
    assert str(out) in proc.stdout
    text = out.read_text(encoding="utf-8")
    assert "avibot.example.com" not in text
    assert "Replace every" not in text  # the template's how-to header is not copied
    manifest = yaml.safe_load(text)
    assert request_urls(manifest) == ["https://bot.example.com/slack/events"] * 3
    template = yaml.safe_load((ROOT / "manifests" / "slack" / "manifest.yaml").read_text(encoding="utf-8"))
    for section in ("display_information", "oauth_config", "_metadata"):
        assert manifest[section] == template[section]
    assert (
        manifest["settings"]["event_subscriptions"]["bot_events"]
        == (template["settings"]["event_subscriptions"]["bot_events"])
    )


def test_make_slack_manifest_without_the_url_fails_with_one_line(tmp_path: Path) -> None:
    out = tmp_path / "slack.yaml"
    proc = run_make("slack-manifest", tmp_path, SLACK_MANIFEST=str(out))
    assert proc.returncode != 0
    line = one_line(proc.stderr, "slack-manifest: SLACK_PUBLIC_URL is not set")
    assert "https://" in line
    assert not out.exists()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://bot.example.com/", "https://bot.example.com/slack/events"),
        ("https://bot.example.com/slack/events", "https://bot.example.com/slack/events"),
        ("https://proxy.example.com/avibot", "https://proxy.example.com/avibot/slack/events"),
        ("https://bot.example.com:8443", "https://bot.example.com:8443/slack/events"),
    ],
)
def test_slack_public_url_forms(tmp_path: Path, given: str, expected: str) -> None:
    proc = run_script("slack_manifest.py", "--out", "-", cwd=tmp_path, SLACK_PUBLIC_URL=given)
    assert proc.returncode == 0, proc.stderr
    assert request_urls(yaml.safe_load(proc.stdout)) == [expected] * 3


def test_slack_path_follows_the_servers_setting(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("slack:\n  path: /hooks/slack\n")
    proc = run_script(
        "slack_manifest.py", "--out", "-", cwd=tmp_path, SLACK_PUBLIC_URL="https://b.example.com"
    )
    assert proc.returncode == 0, proc.stderr
    assert request_urls(yaml.safe_load(proc.stdout)) == ["https://b.example.com/hooks/slack"] * 3
    proc = run_script(
        "slack_manifest.py", "--out", "-", cwd=tmp_path,
        SLACK_PUBLIC_URL="https://b.example.com", SLACK_PATH="/env/wins",
    )  # fmt: skip
    assert request_urls(yaml.safe_load(proc.stdout)) == ["https://b.example.com/env/wins"] * 3


@pytest.mark.parametrize(
    "bad", ["http://bot.example.com", "bot.example.com", "https://", "https://b.com/?x=1"]
)
def test_slack_public_url_must_be_https(tmp_path: Path, bad: str) -> None:
    out = tmp_path / "m.yaml"
    proc = run_script("slack_manifest.py", "--out", str(out), cwd=tmp_path, SLACK_PUBLIC_URL=bad)
    assert proc.returncode == 2
    one_line(proc.stderr, "slack-manifest: SLACK_PUBLIC_URL must be")
    assert not out.exists()


# --- Teams ---------------------------------------------------------------------------------------


def teams_manifest(out: Path) -> dict:  # type: ignore[type-arg]
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
        return json.loads(zf.read("manifest.json"))  # type: ignore[no-any-return]


def test_make_teams_package_without_an_app_id_fails_with_one_line(tmp_path: Path) -> None:
    out = tmp_path / "teams.zip"
    proc = run_make("teams-package", tmp_path, TEAMS_BOT_DOMAIN="bot.example.com", TEAMS_PACKAGE=str(out))
    assert proc.returncode != 0
    line = one_line(proc.stderr, "teams-package: TEAMS_APP_ID is not set")
    assert "GUID" in line
    assert not out.exists()


def test_make_teams_package_takes_id_and_developer_from_the_environment(tmp_path: Path) -> None:
    out = tmp_path / "teams.zip"
    proc = run_make(
        "teams-package", tmp_path, TEAMS_PACKAGE=str(out),
        TEAMS_APP_ID=APP_ID, TEAMS_BOT_DOMAIN="bot.example.com", TEAMS_DEVELOPER_NAME="Example Ops",
        TEAMS_DEVELOPER_URL="https://ops.example.com", TEAMS_PRIVACY_URL="https://ops.example.com/privacy",
        TEAMS_TERMS_URL="https://ops.example.com/terms", TEAMS_APP_VERSION="1.4.0",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    manifest = teams_manifest(out)
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["version"] == "1.4.0"
    assert manifest["developer"] == {
        "name": "Example Ops",
        "websiteUrl": "https://ops.example.com",
        "privacyUrl": "https://ops.example.com/privacy",
        "termsOfUseUrl": "https://ops.example.com/terms",
    }
    assert manifest["validDomains"] == ["bot.example.com"]
    assert "{{" not in json.dumps(manifest)


def test_teams_developer_urls_default_to_the_bot_domain(tmp_path: Path) -> None:
    out = tmp_path / "teams.zip"
    proc = run_script(
        "teams_package.py", "--out", str(out), cwd=tmp_path,
        TEAMS_APP_ID=APP_ID, TEAMS_BOT_DOMAIN="https://Bot.Example.com/", TEAMS_MANIFEST_ID=OTHER_ID,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    manifest = teams_manifest(out)
    assert manifest["id"] == OTHER_ID  # an existing Teams app id, when it is not the bot's
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["developer"]["name"] == "avibot"
    urls = {manifest["developer"][k] for k in ("websiteUrl", "privacyUrl", "termsOfUseUrl")}
    assert urls == {"https://bot.example.com"}
    assert manifest["validDomains"] == ["bot.example.com"]


def test_teams_app_id_comes_from_config_yaml_too(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(f"teams:\n  app_id: {APP_ID}\n")
    out = tmp_path / "teams.zip"
    proc = run_script(
        "teams_package.py", "--out", str(out), cwd=tmp_path, TEAMS_DEVELOPER_URL="https://x.example"
    )
    assert proc.returncode == 0, proc.stderr
    manifest = teams_manifest(out)
    assert manifest["bots"][0]["botId"] == manifest["id"] == APP_ID
    assert manifest["validDomains"] == []


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TEAMS_APP_ID": "my-bot", "TEAMS_BOT_DOMAIN": "b.example.com"}, "TEAMS_APP_ID must be a GUID"),
        (
            {"TEAMS_APP_ID": "{{TEAMS_APP_ID}}", "TEAMS_BOT_DOMAIN": "b.example.com"},
            "TEAMS_APP_ID must be a GUID",
        ),
        ({"TEAMS_APP_ID": APP_ID}, "TEAMS_BOT_DOMAIN (or TEAMS_DEVELOPER_URL) is not set"),
        ({"TEAMS_APP_ID": APP_ID, "TEAMS_BOT_DOMAIN": "b.example.com/x"}, "TEAMS_BOT_DOMAIN must be a host"),
        ({"TEAMS_APP_ID": APP_ID, "TEAMS_DEVELOPER_URL": "http://x.example"}, "TEAMS_DEVELOPER_URL must be"),
        (
            {"TEAMS_APP_ID": APP_ID, "TEAMS_BOT_DOMAIN": "b.example.com", "TEAMS_PRIVACY_URL": "ftp://p"},
            "TEAMS_PRIVACY_URL must be",
        ),
        (
            {"TEAMS_APP_ID": APP_ID, "TEAMS_BOT_DOMAIN": "b.example.com", "TEAMS_MANIFEST_ID": "nope"},
            "TEAMS_MANIFEST_ID must be a GUID",
        ),
        (
            {"TEAMS_APP_ID": APP_ID, "TEAMS_BOT_DOMAIN": "b.example.com", "TEAMS_DEVELOPER_NAME": "x" * 33},
            "TEAMS_DEVELOPER_NAME must be 1 to 32",
        ),
        (
            {"TEAMS_APP_ID": APP_ID, "TEAMS_BOT_DOMAIN": "b.example.com", "TEAMS_APP_VERSION": "v2"},
            "TEAMS_APP_VERSION must be",
        ),
    ],
)
def test_teams_settings_are_validated_before_anything_is_written(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    out = tmp_path / "teams.zip"
    proc = run_script("teams_package.py", "--out", str(out), cwd=tmp_path, **env)
    assert proc.returncode == 2
    assert expected in one_line(proc.stderr, "teams-package: ")
    assert not out.exists()


# --- make demo -----------------------------------------------------------------------------------


def make_dry_run(target: str) -> str:
    """The commands `make TARGET` runs on a fresh clone (-B: as if nothing were installed yet)."""
    proc = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", "-C", str(ROOT), target],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return proc.stdout


def test_make_demo_installs_only_what_running_needs() -> None:
    commands = make_dry_run("demo")
    installs = [
        line for line in commands.splitlines() if "pip install" in line and "--upgrade pip" not in line
    ]
    assert installs == [".venv/bin/pip install --quiet -e ."], commands
    assert "avibot serve --demo" in commands
    assert "[dev]" not in commands


def test_make_test_still_installs_the_dev_extra() -> None:
    commands = make_dry_run("test")
    assert ".venv/bin/pip install --quiet -e '.[dev]'" in commands
    assert "pytest" in commands


def _tracked_tree(dest: Path) -> None:
    """The checkout's files as a fresh clone has them (tracked or new, not ignored), without .git."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = raw.decode()
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


# This machine's pip configuration names extra package indexes that do not exist; pip says so for every
# package, whatever the project. Those lines are the machine's, not avibot's packaging.
MACHINE_PIP_NOISE = re.compile(
    r"^WARNING: Location '[^']*' is ignored: it is neither a file nor a directory\.$"
)


@pytest.mark.timeout(900)
def test_the_demo_install_on_a_fresh_clone_is_quiet_and_small(tmp_path: Path) -> None:
    """What `make demo` does first, for real: a new venv, `pip install -e .` from PyPI. It prints no
    packaging warning (setuptools' licence-table deprecation, its editable-install notice), and leaves
    out pytest, Playwright, ruff and mypy."""
    if shutil.which("git") is None or shutil.which("make") is None:
        pytest.skip("needs git and make")
    clone = tmp_path / "clone"
    _tracked_tree(clone)
    proc = subprocess.run(
        ["make", "--no-print-directory", "install-run", f"PYTHON={sys.executable}"],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=840,
        env={k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    printed = [line for line in (proc.stdout + proc.stderr).splitlines() if not MACHINE_PIP_NOISE.match(line)]
    commands = [line for line in printed if line.startswith((sys.executable, ".venv/bin/", "touch "))]
    assert printed == commands, "\n".join(printed)  # nothing but make's own echo of its commands
    python = clone / ".venv" / "bin" / "python"
    check = subprocess.run(
        [str(python), "-c", "import importlib.util as u, avibot.cli, adapters.slack, adapters.teams; "
         "print([m for m in ('pytest', 'playwright', 'ruff', 'mypy', 'jsonschema') if u.find_spec(m)])"],
        capture_output=True, text=True, cwd=tmp_path, check=True,
    )  # fmt: skip
    assert check.stdout.strip() == "[]", check.stdout + check.stderr
    assert (clone / ".venv" / ".installed-run").is_file()
    assert not (clone / ".venv" / ".installed").exists()
