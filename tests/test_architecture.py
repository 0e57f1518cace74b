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
