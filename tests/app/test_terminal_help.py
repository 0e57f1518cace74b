"""`help` is written for the place it is shown in: `/avi` only in Slack, no raw Markdown in a terminal."""

from __future__ import annotations

import re

import pytest

from adapters.web.render import render_part as web_part
from avibot.terminal_render import render_part as terminal_part
from avibot.terminal_render import strip_ansi
from bot.commands import FORMS, help_text
from bot.types import TextPart

MARKUP = re.compile(r"[`*]|(?<!\w)_|_(?!\w)")  # code, bold and italic marks (not snake_case)


def terminal_help(topic: str | None = None, tty: bool = False) -> str:
    return terminal_part(TextPart(markdown=help_text(topic, platform="cli")), tty=tty)


def test_slack_help_says_to_type_the_slash_command() -> None:
    text = help_text(platform="slack")
    assert "type `/avi <command>`" in text
    assert "@avibot" in text


def test_teams_help_says_to_mention_the_bot() -> None:
    text = help_text(platform="teams")
    assert "/avi" not in text
    assert "mention" in text


@pytest.mark.parametrize("platform", ["web", "cli", ""])
def test_web_and_terminal_help_have_no_slash_command(platform: str) -> None:
    text = help_text(platform=platform)
    assert "/avi" not in text
    assert "type a command" in text
    for form in FORMS.values():
        assert f"`{form.usage}`" in text, form.usage


def test_web_help_is_html_without_the_slash_command() -> None:
    html = str(web_part(TextPart(markdown=help_text(platform="web"))))
    assert "/avi" not in html
    assert "<code>vs list" in html
    assert "`" not in html


@pytest.mark.parametrize("topic", [None, "pool", "assistant", "kubernetes"])
@pytest.mark.parametrize("tty", [False, True])
def test_terminal_help_has_no_raw_markdown(topic: str | None, tty: bool) -> None:
    shown = strip_ansi(terminal_help(topic, tty))
    assert not MARKUP.search(shown), MARKUP.search(shown)
    assert "/avi" not in shown


def test_terminal_help_reads_as_plain_lines() -> None:
    shown = terminal_help("pool")
    assert shown.split("\n")[0] == "Pools"
    assert "• pool show <name> — one pool: servers and their health" in shown
    assert shown.endswith(
        "e.g. pool list --down, show pool web-pool server, pool disable-server web-pool 10.0.0.5:8080"
    )
    styled = terminal_help("pool", tty=True)
    assert styled.startswith("\x1b[1mPools\x1b[0m")


def test_terminal_help_says_how_to_leave() -> None:
    assert "• exit — leave the prompt" in terminal_help("assistant")
    assert "exit" not in help_text("assistant", platform="web")
