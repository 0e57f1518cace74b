"""Shared fixtures for the bot's unit tests."""

from __future__ import annotations

import pytest

from bot.commands import plain
from bot.commands.learned import ToolClassifier


@pytest.fixture
def rules_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback's rule reader on its own: a tool classifier that learned nothing has no opinion,
    so what a test asserts is what the rules read (the two together: tests/bot/test_fallback_learned.py)."""
    monkeypatch.setattr(plain, "default_classifier", lambda: ToolClassifier(()))
