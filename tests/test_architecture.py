"""The one design rule, enforced: adapters -> bot -> {llm, avi}; only avibot/ knows every part."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN: dict[str, set[str]] = {
    "common": {"avi", "bot", "llm", "adapters", "avibot", "avisim"},
    "avi": {"bot", "llm", "adapters", "avibot", "avisim"},
    "llm": {"bot", "avi", "adapters", "avibot", "avisim"},
    "bot": {"adapters", "avibot", "avisim"},
    "adapters": {"avi", "llm", "avibot", "avisim"},
    "avisim": {"avi", "bot", "llm", "adapters", "avibot"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_follow_the_rule(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_packages(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {', '.join(sorted(bad))}")
    assert not offenders, "\n".join(offenders)


def test_rule_checker_sees_a_violation(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text("import os\nfrom bot.agent import Agent\nfrom . import sibling\n")
    assert imported_packages(sample) == {"os", "bot"}


# Adapters see the core only through its public turn API and types (and the shared text helpers).
# The alert seam's types (what a platform's poster gets and gives back) are part of that API.
ADAPTER_MAY_IMPORT_FROM_BOT = {
    "bot.turns",
    "bot.types",
    "bot.text",
    "bot.events",
    "bot.validation",
    "bot.alerts.models",
    "bot.alerts.poster",
    "bot.alerts.settings",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_adapters_use_only_the_public_turn_api() -> None:
    offenders = []
    for path in sorted((ROOT / "adapters").rglob("*.py")):
        bad = {m for m in imported_modules(path) if m.split(".")[0] == "bot"} - ADAPTER_MAY_IMPORT_FROM_BOT
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {', '.join(sorted(bad))}")
    assert not offenders, "\n".join(offenders)


def test_no_method_of_another_object_is_reassigned() -> None:
    """Observers, not monkeypatching: `obj.method = wrapper` outside tests is a design error."""
    offenders = []
    for package in ("adapters", "avi", "avibot", "bot", "common", "llm"):
        for path in sorted((ROOT / package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if "method-assign" in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders


def test_no_source_module_is_over_500_lines() -> None:
    generated = {"avisim/schema_data.py", "avi/secret_fields.py"}
    long = []
    for package in ("adapters", "avi", "avibot", "avisim", "bot", "common", "llm"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = str(path.relative_to(ROOT))
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if rel not in generated and lines > 500:
                long.append(f"{rel}: {lines}")
    assert not long, long
