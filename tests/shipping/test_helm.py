"""The Helm chart, rendered by Helm's own engine (helm-python-sdk) and checked as a cluster would.

Each value set is linted and rendered; every object is validated strictly (unknown fields and wrong types
fail) against the Kubernetes schemas of kubernetes-validate, offline. The Prometheus Operator's objects
(ServiceMonitor, PrometheusRule) have no schema there: their metadata is checked as an ObjectMeta, the
rules with promtool, and the ServiceMonitor against the Service it selects. What no cluster here can show
is listed in docs/DEPLOYMENT.md.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.shipping.support import CHART, CHART_RULES, RULES, load_all, module, run, tool

KUBE_VERSIONS = ("1.30.0", "1.37.0")  # the chart says kubeVersion >=1.25; schemas here start later
NAMESPACE = "ops"
RELEASE = "chatops"
FULLNAME = "chatops-avibot"
CONTROLLER = {"avi": {"host": "ctl.example.com"}, "secrets": {"aviPassword": "s3cret-Passw0rd"}}

VALUE_SETS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "in-chart-redis-tuned": {
        **CONTROLLER,
        "redis": {
            "enabled": True,
            "password": "x" * 40,
            "persistence": {"size": "5Gi", "storageClass": "fast"},
        },
    },
    "external-redis-url": {
        **CONTROLLER,
        "redis": {"enabled": False, "url": "rediss://:pw@redis.example.com:6380/0"},
    },
    "one-replica-sqlite": {
        **CONTROLLER,
        "replicaCount": 1,
        "redis": {"enabled": False},
        "persistence": {"enabled": True},
    },
    "existing-secret": {
        "avi": {"host": "ctl.example.com"},
        "existingSecret": "avibot-credentials",
        "redis": {"enabled": False, "existingSecret": "avibot-redis", "existingSecretKey": "url"},
    },
    "ingress-tls": {
        **CONTROLLER,
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
            "hosts": [
                {
                    "host": "bot.example.com",
                    "paths": [
                        {"path": "/slack/events", "pathType": "Exact"},
                        {"path": "/api/messages", "pathType": "Exact"},
                    ],
                }
            ],
            "tls": [{"secretName": "bot-tls", "hosts": ["bot.example.com"]}],
        },
        "teams": {"appId": "0b5c0f43-7f5c-4a5e-9c37-0e5bb1a7c2f1", "tenantId": "contoso.onmicrosoft.com"},
        "secrets": {
            "aviPassword": "pw",
            "slackBotToken": "xoxb-1",
            "slackSigningSecret": "sig",
            "teamsAppPassword": "tp",
            "alertWebhookSecret": "w" * 24,
        },
    },
    "autoscaling": {
        **CONTROLLER,
        "autoscaling": {
            "enabled": True,
            "minReplicas": 2,
            "maxReplicas": 5,
            "targetMemoryUtilizationPercentage": 80,
        },
    },
    "network-policy": {
        **CONTROLLER,
        "networkPolicy": {
            "enabled": True,
            "avi": {"cidrs": ["192.0.2.10/32"]},
            "ollama": {"cidrs": ["198.51.100.7/32"]},
            "ingressFrom": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
            ],
        },
    },
    "ollama-in-chart": {
        **CONTROLLER,
        "ollama": {"enabled": True},
        "llm": {"model": "qwen3:8b"},
        "networkPolicy": {"enabled": True, "avi": {"cidrs": ["192.0.2.10/32"]}},
    },
    "monitoring": {
        **CONTROLLER,
        "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus"}},
        "prometheusRule": {"enabled": True},
    },
    "config-and-ca": {
        **CONTROLLER,
        "config": {
            "access": {"default_role": "viewer", "users": {"slack:U012ABCDEF": "admin"}, "read_only": False},
            "history": {"max_messages": 30},
        },
        "avi": {
            "host": "ctl.example.com",
            "caBundle": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        },
    },
}


# -- rendering ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def helm() -> Any:
    return module("helm_python")


@pytest.fixture(scope="module")
def chart(helm: Any) -> Iterator[Any]:
    with helm.Chart.load(str(CHART)) as loaded:
        yield loaded


def render(chart: Any, values: dict[str, Any]) -> dict[str, str]:
    return chart.render(copy.deepcopy(values), name=RELEASE, namespace=NAMESPACE, is_install=True)


def objects(manifests: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path, text in sorted(manifests.items()):
        if path.endswith(".txt"):
            continue
        out.extend(load_all(text))
    return out


def by_kind(objs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] == kind]


def one(objs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in by_kind(objs, kind) if name is None or o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind} {name or ''}: {[o['metadata']['name'] for o in by_kind(objs, kind)]}"
    return found[0]


def bot(objs: list[dict[str, Any]]) -> dict[str, Any]:
    """The avibot container of the Deployment."""
    deployment = one(objs, "Deployment", FULLNAME)
    return next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "avibot")


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


@pytest.fixture(scope="module")
def rendered(chart: Any) -> dict[str, list[dict[str, Any]]]:
    return {name: objects(render(chart, values)) for name, values in VALUE_SETS.items()}


# -- every value set: schema, lint, strict Kubernetes validation --------------------------------------


@pytest.mark.parametrize("name", list(VALUE_SETS))
def test_values_satisfy_the_schema_and_lint_is_clean(helm: Any, chart: Any, name: str) -> None:
    chart.validate_schema(copy.deepcopy(VALUE_SETS[name]))
    report = helm.lint(str(CHART), copy.deepcopy(VALUE_SETS[name]), strict=True, namespace=NAMESPACE)
    problems = [m for m in report["messages"] if m["severity"] >= 2]  # 1 = info ("icon is recommended")
    assert not problems, report
    assert not report["errors"], report


@pytest.fixture(scope="module")
def kv() -> Iterator[Any]:
    """kubernetes_validate, with its schema files parsed once (it re-reads them on every call)."""
    validate = module("kubernetes_validate")
    import kubernetes_validate.utils as utils

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(utils, "schema_contents", functools.lru_cache(maxsize=None)(utils.schema_contents))
        yield validate


@pytest.mark.parametrize("name", list(VALUE_SETS))
def test_every_object_is_valid_kubernetes_strictly(
    kv: Any, rendered: dict[str, list[dict[str, Any]]], name: str
) -> None:
    objs = rendered[name]
    assert objs
    meta_checked = 0
    for obj in objs:
        for version in KUBE_VERSIONS:
            if obj["apiVersion"].startswith("monitoring.coreos.com/"):
                # No CRD schema offline: check what Kubernetes itself checks of any object, its metadata.
                probe = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": obj["metadata"]}
                kv.validate(probe, version, strict=True)
                meta_checked += 1
                continue
            try:
                kv.validate(obj, version, strict=True)
            except kv.ValidationError as exc:
                raise AssertionError(
                    f"{name}: {obj['kind']}/{obj['metadata']['name']} against {version}: "
                    f"{'.'.join(str(p) for p in exc.path)}: {exc.message}"
                ) from None
    kinds = {o["kind"] for o in objs}
    assert {"Deployment", "Service", "ConfigMap", "ServiceAccount"} <= kinds


def test_the_validator_bites(kv: Any) -> None:
    """A wrong type and an unknown field in a Service are refused (so a pass above means something)."""
    good = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "x"},
        "spec": {"ports": [{"port": 8080}]},
    }
    kv.validate(good, KUBE_VERSIONS[-1], strict=True)
    for bad_port in ({"port": "8080"}, {"port": 8080, "portt": 1}):
        bad = {**good, "spec": {"ports": [bad_port]}}
        with pytest.raises(kv.ValidationError):
            kv.validate(bad, KUBE_VERSIONS[-1], strict=True)


# -- what the defaults promise -------------------------------------------------------------------------


def test_defaults_two_hardened_replicas_with_probes_and_budgets(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objs = rendered["defaults"]
    deployment = one(objs, "Deployment", FULLNAME)
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    container = bot(objs)
    assert spec["replicas"] == 2
    assert pod["automountServiceAccountToken"] is False
    assert one(objs, "ServiceAccount")["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["runAsUser"] == 10001  # the image's fixed uid
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    }
    assert container["args"] == ["serve", "--host", "0.0.0.0"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert {"/var/lib/avibot", "/tmp", "/etc/avibot"} <= set(mounts)
    env = env_of(container)
    assert env["AVIBOT_STATE_DIR"] == "/var/lib/avibot"
    assert "$(POD_IP)" in env["AVIBOT_ALLOWED_HOSTS"]  # kubelet probes and Prometheus use the pod IP
    names = [e["name"] for e in container["env"]]
    assert names.index("POD_IP") < names.index("AVIBOT_ALLOWED_HOSTS")  # $(VAR) needs it defined first
    assert names.index("REDIS_PASSWORD") < names.index("REDIS_URL")
    assert env["REDIS_URL"] == f"redis://:$(REDIS_PASSWORD)@{FULLNAME}-redis:6379/0"
    assert one(objs, "PodDisruptionBudget")["spec"]["minAvailable"] == 1
    assert one(objs, "StatefulSet", f"{FULLNAME}-redis")
    assert not by_kind(objs, "HorizontalPodAutoscaler")
    assert not by_kind(objs, "Ingress")
    assert not by_kind(objs, "NetworkPolicy")


def test_the_session_secret_is_generated_shared_and_kept(
    chart: Any, rendered: dict[str, list[dict[str, Any]]]
) -> None:
    secret = one(rendered["defaults"], "Secret", FULLNAME)
    session = base64.b64decode(secret["data"]["AVIBOT_SESSION_SECRET"]).decode()
    token = base64.b64decode(secret["data"]["AVIBOT_ACCESS_TOKEN"]).decode()
    assert len(session) >= 32
    assert len(token) >= 32
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    container = bot(rendered["defaults"])
    assert container["envFrom"] == [{"secretRef": {"name": FULLNAME}}]  # every replica, the same key
    # Kept across upgrades: the template reuses the live Secret's value (lookup; empty offline).
    helpers = (CHART / "templates" / "_helpers.tpl").read_text()
    assert 'lookup "v1" "Secret"' in helpers
    given = one(objects(render(chart, {"secrets": {"sessionSecret": "s" * 40}})), "Secret", FULLNAME)
    assert base64.b64decode(given["data"]["AVIBOT_SESSION_SECRET"]).decode() == "s" * 40
    # No empty credential is ever written (an empty Slack token is refused at start).
    assert set(secret["data"]) == {"AVIBOT_ACCESS_TOKEN", "AVIBOT_SESSION_SECRET"}


def test_existing_secret_replaces_the_charts(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objs = rendered["existing-secret"]
    assert FULLNAME not in [s["metadata"]["name"] for s in by_kind(objs, "Secret")]
    container = bot(objs)
    assert container["envFrom"] == [{"secretRef": {"name": "avibot-credentials"}}]
    env = env_of(container)
    assert env["REDIS_URL"] == {"secretKeyRef": {"name": "avibot-redis", "key": "url"}}
    assert "AVIBOT_SESSION_SECRET" not in env  # it comes from the existing Secret


def test_external_redis_and_single_replica(rendered: dict[str, list[dict[str, Any]]]) -> None:
    external = rendered["external-redis-url"]
    assert not by_kind(external, "StatefulSet")
    secret = one(external, "Secret", FULLNAME)
    assert base64.b64decode(secret["data"]["REDIS_URL"]).decode().startswith("rediss://")
    assert "REDIS_URL" not in env_of(bot(external))  # from the Secret (envFrom), never in plain text
    single = rendered["one-replica-sqlite"]
    deployment = one(single, "Deployment", FULLNAME)
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert not by_kind(single, "PodDisruptionBudget")  # minAvailable 1 of 1 would block every drain
    claim = one(single, "PersistentVolumeClaim")
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["state"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]


def test_ingress_with_tls_serves_slack_and_teams(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objs = rendered["ingress-tls"]
    ingress = one(objs, "Ingress")
    assert ingress["spec"]["tls"] == [{"hosts": ["bot.example.com"], "secretName": "bot-tls"}]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    paths = {p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    assert paths == {"/slack/events", "/api/messages"}
    env = env_of(bot(objs))
    assert "bot.example.com" in env["AVIBOT_ALLOWED_HOSTS"].split(",")  # else 421 for Slack and Teams
    assert env["TEAMS_APP_ID"] == "0b5c0f43-7f5c-4a5e-9c37-0e5bb1a7c2f1"
    assert env["TEAMS_APP_TENANT_ID"] == "contoso.onmicrosoft.com"
    secret = one(objs, "Secret", FULLNAME)
    assert {
        "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TEAMS_APP_PASSWORD", "AVI_PASSWORD",
        "AVIBOT_ALERT_WEBHOOK_SECRET",
    } <= set(secret["data"])  # fmt: skip


def test_autoscaling_owns_the_replica_count(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objs = rendered["autoscaling"]
    hpa = one(objs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] == 2
    assert hpa["spec"]["maxReplicas"] == 5
    assert hpa["spec"]["scaleTargetRef"]["name"] == FULLNAME
    assert {m["resource"]["name"] for m in hpa["spec"]["metrics"]} == {"cpu", "memory"}
    assert "replicas" not in one(objs, "Deployment", FULLNAME)["spec"]
    assert one(objs, "PodDisruptionBudget")


def test_network_policy_allows_only_what_the_bot_needs(rendered: dict[str, list[dict[str, Any]]]) -> None:
    policy = one(rendered["network-policy"], "NetworkPolicy", FULLNAME)
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"][0]["ports"] == [{"port": "http", "protocol": "TCP"}]
    egress = spec["egress"]
    ports = [sorted((p["port"], p["protocol"]) for p in rule["ports"]) for rule in egress]
    assert [(53, "TCP"), (53, "UDP")] in ports  # DNS
    targets = {json.dumps(rule["to"], sort_keys=True): rule["ports"] for rule in egress}
    avi = next(k for k in targets if "192.0.2.10/32" in k)
    assert targets[avi] == [{"port": 443, "protocol": "TCP"}]
    assert any("198.51.100.7/32" in k for k in targets)  # the external Ollama
    assert any("redis" in k for k in targets)  # the in-chart Redis, by pod selector
    chat = next(k for k in targets if "0.0.0.0/0" in k)
    assert targets[chat] == [{"port": 443, "protocol": "TCP"}]
    assert "10.0.0.0/8" in chat
    # Redis accepts the bot's pods only.
    redis_policy = one(rendered["network-policy"], "NetworkPolicy", f"{FULLNAME}-redis")
    peer = redis_policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    assert peer["app.kubernetes.io/component"] == "bot"


def test_ollama_in_chart_requests_a_gpu_and_is_the_default_llm(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objs = rendered["ollama-in-chart"]
    deployment = one(objs, "Deployment", f"{FULLNAME}-ollama")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert "ollama pull" in " ".join(container["command"])
    assert container["readinessProbe"]["exec"]["command"] == ["ollama", "show", "qwen3:8b"]
    assert one(objs, "PersistentVolumeClaim", f"{FULLNAME}-ollama-models")
    env = env_of(bot(objs))
    assert env["OLLAMA_HOST"] == f"http://{FULLNAME}-ollama:11434"
    assert env["LLM_MODEL"] == "qwen3:8b"
    egress = one(objs, "NetworkPolicy", FULLNAME)["spec"]["egress"]
    assert any("ollama" in json.dumps(rule["to"]) for rule in egress)


def test_service_monitor_selects_the_service(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objs = rendered["monitoring"]
    monitor = one(objs, "ServiceMonitor")
    service = one(objs, "Service", FULLNAME)
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus"
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] in [p["name"] for p in service["spec"]["ports"]]
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"


def test_prometheus_rule_carries_the_checked_rules(
    rendered: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    rule = one(rendered["monitoring"], "PrometheusRule")
    assert CHART_RULES.read_text() == RULES.read_text(), (
        "the chart's rules file differs from deploy/prometheus"
    )
    rules_file = tmp_path / "rendered.rules.yml"
    rules_file.write_text(json.dumps({"groups": rule["spec"]["groups"]}))
    checked = run(tool("promtool"), "check", "rules", rules_file)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_rendered_config_yaml_is_a_valid_avibot_config(
    rendered: dict[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    from avibot.config import load_settings

    for name in ("defaults", "config-and-ca"):
        config = one(rendered[name], "ConfigMap")
        path = tmp_path / f"{name}.yaml"
        path.write_text(config["data"]["config.yaml"])
        settings = load_settings(path)
        if name == "config-and-ca":
            assert settings.history.max_messages == 30
            assert "avi-ca.pem" in config["data"]
            assert env_of(bot(rendered[name]))["AVI_CA_BUNDLE"] == "/etc/avibot/avi-ca.pem"


# -- what the chart refuses -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"replicaCount": 2, "redis": {"enabled": False}}, "without Redis"),
        ({"replicaCount": 1, "redis": {"enabled": False}, "autoscaling": {"enabled": True}}, "needs Redis"),
        (
            {
                "replicaCount": 1,
                "persistence": {"enabled": True},
                "redis": {"enabled": True},
                "autoscaling": {"enabled": True},
            },
            "one replica only",
        ),
        ({"redis": {"enabled": True, "url": "redis://other:6379/0"}}, "choose one Redis"),
        ({"secrets": {"accessToken": "short"}}, "at least 32 characters"),
        ({"networkPolicy": {"enabled": True}}, "networkPolicy.avi.cidrs"),
    ],
)
def test_the_chart_refuses_what_cannot_work(chart: Any, values: dict[str, Any], says: str) -> None:
    helm = module("helm_python")
    with pytest.raises(helm.HelmError) as caught:
        render(chart, values)
    assert says in str(caught.value)


@pytest.mark.parametrize(
    "values",
    [
        {"replicaCount": "2"},
        {"image": {"pullPolicy": "Sometimes"}},
        {"service": {"port": 0}},
        {"redis": {"url": "http://redis:6379"}},
        {"ingres": {"enabled": True}},
        {"config": {"acess": {}}},
        {"networkPolicy": {"avi": {"cidrs": ["ctl.example.com"]}}},
    ],
)
def test_the_schema_refuses_bad_values(chart: Any, values: dict[str, Any]) -> None:
    helm = module("helm_python")
    with pytest.raises(helm.HelmValuesError):
        chart.validate_schema(copy.deepcopy(values))


def test_notes_tell_how_to_get_the_token(chart: Any) -> None:
    notes = render(chart, CONTROLLER)["avibot/templates/NOTES.txt"]
    assert f"get secret {FULLNAME}" in notes
    assert "AVIBOT_ACCESS_TOKEN" in notes
    assert "port-forward" in notes
    warned = render(chart, {})["avibot/templates/NOTES.txt"]
    assert "avi.host is empty" in warned
