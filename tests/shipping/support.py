"""What the shipping checks share: the repository's paths, and tools that are skipped loudly when absent."""

from __future__ import annotations

import importlib
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "avibot"
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DEPLOY = ROOT / "deploy"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
RULES = DEPLOY / "prometheus" / "rules" / "avibot.rules.yml"
CHART_RULES = CHART / "files" / "avibot.rules.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "avibot.json"
CADDYFILE = DEPLOY / "caddy" / "Caddyfile"

HOW_TO_GET = {
    "promtool": "`make shipping-tools` (scripts/ensure-shipping-tools.sh: Debian's prometheus package)",
    "caddy": "`make shipping-tools` (scripts/ensure-shipping-tools.sh: Debian's caddy package)",
    "helm_python": "pip install helm-python-sdk (the `dev` extra)",
    "kubernetes_validate": "pip install kubernetes-validate (the `dev` extra)",
    "check_jsonschema": "pip install check-jsonschema (the `dev` extra)",
}


def tool(name: str) -> str:
    """The path of a command-line tool, or a skip that says why and how to get it."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"SKIPPED LOUDLY: `{name}` is not installed; install it with {HOW_TO_GET[name]}")
    return path


def module(name: str) -> ModuleType:
    """An optional Python module of the dev extra, or a skip that says how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        pytest.skip(f"SKIPPED LOUDLY: Python module `{name}` is missing; {HOW_TO_GET[name]}")


def run(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def load_all(text: str) -> list[dict[str, Any]]:
    """The objects of a multi-document YAML text, without empty documents."""
    return [doc for doc in yaml.safe_load_all(text) if doc]
