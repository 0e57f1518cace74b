"""Prometheus config and alert rules (promtool), the Grafana dashboard and provisioning, and the one check
that matters most: every metric the dashboard and the rules query is one that `/metrics` of a real
`avibot serve` exposes after real turns (a model answer with a tool call, a command, a confirmed write)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from tests.shipping.support import (
    CHART_RULES,
    DASHBOARD,
    DEPLOY,
    PROMETHEUS_CONFIG,
    RULES,
    load_yaml,
    run,
    tool,
)
from tests.support.fakes.ollama_server import Reply, running_fake_ollama

HERE = Path(__file__).resolve().parent
RULE_TESTS = HERE / "promtool" / "avibot.rules.test.yml"
# Series Prometheus makes itself for every target, never on /metrics.
SYNTHETIC = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_series_added"}
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "6h", "$instance": ".*"}


# -- PromQL: which metric names an expression reads -----------------------------------------------------

PROMQL_WORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
    "inf", "nan",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: identifiers that are neither functions (followed by `(`),
    keywords, label names (inside `{}` or a by/without/on/ignoring/group list) nor inside strings."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)  # strings (label values, label_replace arguments)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range and subquery durations
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", text):
        word, call = match.group(1), match.group(2)
        if call or word in PROMQL_WORDS:
            continue
        names.add(word)
    return names


def test_metric_names_reads_promql_as_intended() -> None:
    expr = (
        "histogram_quantile(0.95, sum by (mode, le) "
        '(rate(avibot_turn_seconds_bucket{mode="llm", x=~"a|b"}[5m])))'
        " / on(instance) group_left(job) sum without (le) (avibot_x_total offset 1h) > bool 0"
        ' or label_replace(up, "dst", "$1", "src", "(.*)") unless vector(0)'
    )
    assert metric_names(expr) == {"avibot_turn_seconds_bucket", "avibot_x_total", "up"}


def rule_expressions() -> dict[str, str]:
    groups = load_yaml(RULES)["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def dashboard_expressions() -> dict[str, str]:
    dashboard = json.loads(DASHBOARD.read_text())
    out = {}
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            out[f"{panel['title']} [{target['refId']}]"] = target["expr"]
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            found = re.match(r"label_values\((\w+),", query["query"])
            assert found, query
            out[f"variable {variable['name']}"] = found.group(1)
    return out


def grafana_to_promql(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr.replace("$labels", ""), f"an unknown Grafana variable in {expr}"
    return expr


# -- promtool ----------------------------------------------------------------------------------------


def test_prometheus_config_and_rules_pass_promtool(tmp_path: Path) -> None:
    promtool = tool("promtool")
    # The config as compose mounts it, with the rule files where the config expects them.
    config = load_yaml(PROMETHEUS_CONFIG)
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    config["rule_files"] = [str(RULES)]
    local = tmp_path / "prometheus.yml"
    local.write_text(yaml.safe_dump(config))
    checked = run(promtool, "check", "config", local)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout
    assert "rules found" in checked.stdout
    targets = [
        t
        for job in config["scrape_configs"]
        if job["job_name"] == "avibot"
        for s in job["static_configs"]
        for t in s["targets"]
    ]
    assert targets == ["avibot:8080"]  # the compose service, whose name is in AVIBOT_ALLOWED_HOSTS
    rules = run(promtool, "check", "rules", RULES)
    assert rules.returncode == 0, rules.stdout + rules.stderr


def test_alert_rules_fire_when_they_should(tmp_path: Path) -> None:
    """promtool's rule unit tests: input series in, the alerts that must (and must not) fire out."""
    promtool = tool("promtool")
    local = tmp_path / RULE_TESTS.name
    text = RULE_TESTS.read_text().replace("RULES_FILE", str(RULES))
    local.write_text(text)
    tested = run(promtool, "test", "rules", local)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    tested_alerts = set(re.findall(r"alertname: (\w+)", text))
    assert tested_alerts == set(rule_expressions()), "every alert has a unit test"


def test_the_charts_rules_are_deploys_rules() -> None:
    assert CHART_RULES.read_bytes() == RULES.read_bytes()


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """Every panel expression, as Grafana would send it, parsed by Prometheus' own parser (promtool
    checks the expression of a recording rule)."""
    promtool = tool("promtool")
    exprs = {k: v for k, v in dashboard_expressions().items() if not k.startswith("variable ")}
    records = [
        {"record": f"dashboard:panel_{i}", "expr": grafana_to_promql(e)} for i, e in enumerate(exprs.values())
    ]
    path = tmp_path / "dashboard.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": records}]}))
    checked = run(promtool, "check", "rules", path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


# -- Grafana ---------------------------------------------------------------------------------------------


def test_dashboard_and_provisioning_files() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"]
    assert dashboard["title"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
            assert panel["targets"], panel["title"]
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for subject in (
        "answers",
        "answer time",
        "model call time",
        "tokens",
        "tool calls",
        "tool failures",
        "controller requests",
        "pending changes",
        "confirmed",
    ):
        assert subject in titles, subject
    datasources = load_yaml(DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml")
    assert datasources["datasources"][0]["url"] == "http://prometheus:9090"
    providers = load_yaml(DEPLOY / "grafana" / "provisioning" / "dashboards" / "avibot.yml")
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


# -- the real server's /metrics ---------------------------------------------------------------------------


def _responder(body: dict[str, Any]) -> Reply | str:
    """The model calls one read tool, then answers from its result."""
    if body["messages"][-1]["role"] == "tool":
        return "Here is what I found."
    return Reply.call("list_virtual_services", {})


async def _serve(ollama_url: str, state_dir: Path) -> tuple[asyncio.subprocess.Process, str]:
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "AVIBOT_STATE_DIR": str(state_dir),  # --demo keeps its state in memory; never the work tree
        "OLLAMA_HOST": ollama_url,
        "LLM_MODEL": "llama3.1:8b",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "avibot.cli", "serve", "--demo", "--port", "0",
        env=environ, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    banner = ""
    while "auth:" not in banner:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if not line:
            _, err = await proc.communicate()
            raise AssertionError(f"avibot serve exited: {banner}{err.decode()}")
        banner += line.decode()
    match = re.search(r"serving on (http://127\.0\.0\.1:\d+)", banner)
    assert match, banner
    assert "LLM" in banner, banner
    return proc, match.group(1)


async def _chat(http: aiohttp.ClientSession, message: str, conversation: str) -> dict[str, Any]:
    async with http.post("/api/chat", json={"message": message, "conversation_id": conversation}) as resp:
        assert resp.status == 200, await resp.text()
        reply: dict[str, Any] = await resp.json()
        return reply


async def scrape_after_turns(state_dir: Path) -> str:
    async with running_fake_ollama(responder=_responder) as fake:
        proc, url = await _serve(fake.url, state_dir)
        try:
            async with aiohttp.ClientSession(url) as http:
                answered = await _chat(http, "which virtual services do we have?", "metrics-llm")
                assert answered["mode"] == "llm", answered
                assert answered["tool_calls"], answered
                listed = await _chat(http, "vs list", "metrics-write")
                table = next(p for p in listed["parts"] if p["kind"] == "table")
                row = table["rows"][0]
                name = row[0] if isinstance(row, list) else next(iter(row.values()))
                proposed = await _chat(http, f"vs disable {name}", "metrics-write")
                assert proposed["pending_action"], proposed
                action = proposed["pending_action"]["id"]
                body = {"conversation_id": "metrics-write"}
                async with http.post(f"/api/actions/{action}/confirm", json=body) as resp:
                    assert resp.status == 200, await resp.text()
                    assert (await resp.json())["outcome"] == "done"
                async with http.get("/readyz") as resp:
                    assert resp.status == 200
                async with http.get("/metrics") as resp:
                    assert resp.status == 200
                    return await resp.text()
        finally:
            proc.terminate()
            await asyncio.wait_for(proc.communicate(), 30)


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> str:
    return asyncio.run(scrape_after_turns(tmp_path_factory.mktemp("state") / "avibot"))


def exposed_names(text: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{|\s)", text, re.MULTILINE)}


def test_every_queried_metric_is_exposed_after_a_turn(scraped: str) -> None:
    exposed = exposed_names(scraped)
    assert "avibot_turns_total" in exposed  # the scrape saw the turns
    queried: dict[str, set[str]] = {}
    for where, expr in {**rule_expressions(), **dashboard_expressions()}.items():
        for name in metric_names(grafana_to_promql(expr)):
            queried.setdefault(name, set()).add(where)
    missing = {name: sorted(where) for name, where in queried.items() if name not in exposed | SYNTHETIC}
    assert not missing, f"queried but not on /metrics: {missing}; exposed: {sorted(exposed)}"
    # And the other way round: every avibot metric family is on the dashboard.
    families = {
        re.sub(r"_(total|bucket|count|sum|created)$", "", n) for n in exposed if n.startswith("avibot_")
    }
    shown = {re.sub(r"_(total|bucket|count|sum|created)$", "", n) for n in queried}
    assert families <= shown, f"not on the dashboard or in a rule: {sorted(families - shown)}"


def test_label_values_the_queries_use_are_real(scraped: str) -> None:
    """`mode`, `ok`, `event` and `status` values in the queries are values the server really uses."""
    series = re.findall(r"^(avibot_\w+)\{([^}]*)\}", scraped, re.MULTILINE)
    seen: dict[str, set[str]] = {}
    for _name, labels in series:
        for key, value in re.findall(r'(\w+)="([^"]*)"', labels):
            seen.setdefault(key, set()).add(value)
    assert {"proposed", "confirmed"} <= seen["event"]
    assert {"true"} <= seen["ok"]
    assert {"llm", "command"} <= seen["mode"]
    text = RULES.read_text() + DASHBOARD.read_text()
    for value in re.findall(r'event=~?\\?"([^"\\]+)', text):
        for event in value.split("|"):
            assert event in {"proposed", "confirmed", "cancelled", "refused"}, event
    assert 'status="unreachable"' in text  # avibot/metrics.py's label when no answer came


def test_metrics_exposition_passes_promtool_lint(scraped: str) -> None:
    promtool = tool("promtool")
    import subprocess

    checked = subprocess.run(
        [promtool, "check", "metrics"], input=scraped, capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
