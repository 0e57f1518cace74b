"""docker-compose.yml against the Compose Specification (the schema check-jsonschema vendors, with its
licence), its services and profiles, .env.example against the settings avibot really reads, and the
Caddyfile of the `tls` profile through Caddy's own parser."""

from __future__ import annotations

import copy
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from avibot.cli import build_parser
from tests.shipping.support import (
    CADDYFILE,
    COMPOSE,
    DEPLOY,
    ENV_EXAMPLE,
    ROOT,
    load_yaml,
    module,
    run,
    tool,
)

GPU_OVERRIDE = DEPLOY / "compose" / "gpu.yml"
REQUIRED = {"AVIBOT_ACCESS_TOKEN": "t" * 48, "REDIS_PASSWORD": "0123456789abcdef0123456789abcdef"}


# -- Compose's own interpolation, for the checks that need the values compose would pass -----------

_VAR = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\}|\$\{(?:[^{}]|\{[^{}]*\})*\})*))?\}"
)


class Missing(Exception):
    pass


def interpolate(text: str, env: dict[str, str]) -> str:
    """`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}` (nested defaults too); `$$` is `$`."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        value = env.get(name)
        if op == ":-":
            return value if value else interpolate(arg, env)
        if op == "-":
            return value if value is not None else interpolate(arg, env)
        if op == ":?":
            if not value:
                raise Missing(f"{name}: {arg}")
            return value
        return value or ""

    placeholder = "\0"
    return _VAR.sub(one, text.replace("$$", placeholder)).replace(placeholder, "$")


def resolved(env: dict[str, str]) -> dict[str, Any]:
    data = load_yaml(COMPOSE)  # YAML first (merge keys resolved), then interpolation of every string

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return interpolate(node, env) if isinstance(node, str) else node

    result: dict[str, Any] = walk(data)
    return result


def variables_used(text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))


# -- the Compose Specification ---------------------------------------------------------------------


def compose_schema() -> dict[str, Any]:
    check_jsonschema = module("check_jsonschema")
    path = Path(check_jsonschema.__file__).parent / "builtin_schemas" / "vendor" / "compose-spec.json"
    licence = path.parent / "licenses" / "LICENSE.compose-spec"
    assert licence.is_file(), "check-jsonschema ships the Compose Specification's licence beside it"
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


def test_compose_files_follow_the_compose_specification() -> None:
    module("check_jsonschema")
    checker = ROOT / ".venv" / "bin" / "check-jsonschema"
    command = [str(checker)] if checker.exists() else [tool("check-jsonschema")]
    checked = run(*command, "--builtin-schema", "vendor.compose-spec", COMPOSE, GPU_OVERRIDE)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_compose_schema_bites() -> None:
    import jsonschema

    schema = compose_schema()
    good = load_yaml(COMPOSE)
    jsonschema.validate(good, schema)
    for mutate in (
        lambda d: d["services"]["avibot"].update(readonly=True),  # a misspelt key
        lambda d: d["services"]["redis"].update(restart=["always"]),  # a wrong type
        lambda d: d["services"]["avibot"]["depends_on"]["redis"].update(condition="healthy"),  # a wrong value
    ):
        bad = copy.deepcopy(good)
        mutate(bad)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


# -- services and profiles -------------------------------------------------------------------------


def test_services_and_profiles() -> None:
    services = load_yaml(COMPOSE)["services"]
    always = {name for name, s in services.items() if not s.get("profiles")}
    assert always == {"avibot", "redis", "ollama", "ollama-pull"}
    profiles = {name: s["profiles"] for name, s in services.items() if s.get("profiles")}
    assert profiles == {
        "avisim": ["demo"],
        "prometheus": ["monitoring"],
        "grafana": ["monitoring"],
        "caddy": ["tls"],
    }


def test_the_bot_runs_hardened_with_its_state_in_a_volume() -> None:
    bot = load_yaml(COMPOSE)["services"]["avibot"]
    assert bot["read_only"] is True
    assert bot["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in bot["security_opt"]
    assert bot["volumes"][0] == "avibot-state:/var/lib/avibot"
    assert bot["environment"]["AVIBOT_STATE_DIR"] == "/var/lib/avibot"
    assert {"type": "tmpfs", "target": "/tmp"} in bot["volumes"]
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "/readyz" in " ".join(bot["healthcheck"]["test"])
    args = build_parser().parse_args(bot["command"])  # flags `avibot serve` really has
    assert args.command == "serve"
    assert args.host == "0.0.0.0"
    assert args.port == 8080


def test_redis_persists_with_a_password() -> None:
    redis = load_yaml(COMPOSE)["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command
    assert "--requirepass" in command
    assert redis["volumes"] == ["redis-data:/data"]
    assert "${REDIS_PASSWORD:?" in redis["environment"]["REDIS_PASSWORD"]
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])


def test_ollama_keeps_models_and_pulls_the_configured_one_once() -> None:
    services = load_yaml(COMPOSE)["services"]
    assert services["ollama"]["volumes"] == ["ollama-models:/root/.ollama"]
    pull = resolved({**REQUIRED, "LLM_MODEL": "qwen3:8b"})["services"]["ollama-pull"]
    assert pull["entrypoint"] == ["ollama", "pull", "qwen3:8b"]
    assert pull["restart"] == "no"
    assert pull["environment"]["OLLAMA_HOST"] == "http://ollama:11434"
    assert pull["depends_on"]["ollama"]["condition"] == "service_healthy"
    gpu = load_yaml(GPU_OVERRIDE)["services"]["ollama"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"]


def test_demo_profile_needs_no_controller() -> None:
    """With only the two required values set, the bot talks to the simulator with the simulator's own
    password, and the simulator's command is one `avibot sim` accepts."""
    config = resolved(REQUIRED)
    services = config["services"]
    env = services["avibot"]["environment"]
    assert env["AVI_HOST"] == "http://avisim:9443"
    sim = services["avisim"]
    assert sim["environment"]["AVIBOT_SIM_PASSWORD"] == env["AVI_PASSWORD"]
    args = build_parser().parse_args(sim["command"])
    assert (args.command, args.host, args.port) == ("sim", "0.0.0.0", 9443)
    assert sim["image"] == services["avibot"]["image"]  # the same image serves both


def test_compose_environment_is_a_valid_configuration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What compose hands the bot (demo defaults, a public name) loads as avibot's settings."""
    from avibot.config import load_settings

    env = resolved({**REQUIRED, "AVIBOT_PUBLIC_HOST": "bot.example.com"})["services"]["avibot"]["environment"]
    assert env["REDIS_URL"] == f"redis://:{REQUIRED['REDIS_PASSWORD']}@redis:6379/0"
    monkeypatch.chdir(tmp_path)  # no config.yaml
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    settings = load_settings()
    assert settings.avi.base_url == "http://avisim:9443"
    assert settings.web.auth_required  # so that `serve --host 0.0.0.0` starts
    # Prometheus scrapes avibot:8080, healthchecks ask 127.0.0.1, Caddy forwards the public name.
    assert {"avibot", "127.0.0.1", "localhost", "bot.example.com"} <= set(settings.web.allowed_hosts)


def test_required_values_are_said_by_name() -> None:
    for missing in REQUIRED:
        env = {k: v for k, v in REQUIRED.items() if k != missing}
        with pytest.raises(Missing, match=missing):
            resolved(env)
    # Services of profiles never require anything: compose interpolates them even when they are off.
    services = load_yaml(COMPOSE)["services"]
    for name, service in services.items():
        if service.get("profiles"):
            assert ":?" not in yaml.safe_dump(service), name


def test_mounted_files_exist() -> None:
    for name, service in load_yaml(COMPOSE)["services"].items():
        for volume in service.get("volumes", []):
            if isinstance(volume, str) and volume.startswith("./"):
                assert (ROOT / volume.split(":")[0]).exists(), f"{name}: {volume}"


# -- .env.example ----------------------------------------------------------------------------------


def env_example() -> tuple[dict[str, str], dict[str, str]]:
    """(active NAME=value lines, commented `# NAME=value` examples)."""
    active, examples = {}, {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if not match:
            continue
        value = re.sub(r"\s+#.*$", "", match.group(3)).strip()
        (examples if match.group(1) else active)[match.group(2)] = value
    return active, examples


def setting_variables() -> set[str]:
    """Every environment variable the settings sections read (their prefix + field, or their aliases)."""
    from pydantic import AliasChoices

    from adapters.slack.settings import SlackSettings
    from adapters.teams.settings import TeamsSettings
    from avi.settings import AviSettings
    from avibot.config import (
        AlertSection,
        LogSettings,
        RedisSettings,
        ServerSettings,
        StateSection,
        WebSection,
    )
    from llm.settings import LLMSettings

    names = set()
    for cls in (
        ServerSettings,
        AviSettings,
        LLMSettings,
        LogSettings,
        RedisSettings,
        WebSection,
        StateSection,
        AlertSection,
        SlackSettings,
        TeamsSettings,
    ):
        prefix = cls.model_config.get("env_prefix", "")
        for field_name, field in cls.model_fields.items():
            alias = field.validation_alias
            if isinstance(alias, AliasChoices):
                names.update(str(c) for c in alias.choices if str(c).isupper())
            else:
                names.add(f"{prefix}{field_name}".upper())
    return names


def test_env_example_lists_every_variable_compose_reads() -> None:
    active, examples = env_example()
    listed = set(active) | set(examples)
    used = variables_used(COMPOSE.read_text())
    assert used <= listed, f"used by docker-compose.yml, not in .env.example: {sorted(used - listed)}"
    for name in (
        "AVI_HOST",
        "AVI_USERNAME",
        "AVI_PASSWORD",
        "OLLAMA_HOST",
        "LLM_MODEL",
        "REDIS_URL",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "TEAMS_APP_ID",
        "TEAMS_APP_PASSWORD",
        "TEAMS_APP_TENANT_ID",
        "AVIBOT_ACCESS_TOKEN",
        "AVIBOT_SESSION_SECRET",
    ):
        assert name in listed, name


def test_env_example_names_only_real_settings() -> None:
    """Each variable is a setting avibot reads, or one compose itself uses (no invented names)."""
    active, examples = env_example()
    known = setting_variables() | variables_used(COMPOSE.read_text())
    unknown = sorted((set(active) | set(examples)) - known)
    assert not unknown, f"in .env.example but read by nothing: {unknown}"


def test_env_example_values_are_valid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every example value, uncommented, is accepted by avibot's settings (files it names aside)."""
    from avibot.config import load_settings

    active, examples = env_example()
    settings_vars = setting_variables()
    values = {**examples, **{k: v for k, v in active.items() if v}, **REQUIRED}
    monkeypatch.chdir(tmp_path)
    for name, value in values.items():
        if name in settings_vars and value and "..." not in value and name != "AVI_CA_BUNDLE":
            monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.llm.model == active["LLM_MODEL"]
    # No active line is an empty optional setting (an empty Slack token is refused at start).
    assert {k for k, v in active.items() if not v} <= set(REQUIRED)


# -- the tls profile's Caddyfile -------------------------------------------------------------------


def test_caddyfile_parses_and_publishes_only_the_channels(tmp_path: Path) -> None:
    caddy = tool("caddy")
    env = {
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "AVIBOT_PUBLIC_HOST": "bot.example.com",
        "PATH": "/usr/bin:/bin",
    }
    adapted = run(caddy, "adapt", "--config", CADDYFILE, "--adapter", "caddyfile", "--validate", env=env)
    assert adapted.returncode == 0, adapted.stderr
    config = json.loads(adapted.stdout)
    server = next(iter(config["apps"]["http"]["servers"].values()))
    assert server["listen"] == [":443"]
    text = json.dumps(server)
    assert '"bot.example.com"' in text
    assert '"/slack/events"' in text
    assert '"/api/messages"' in text
    assert '"avibot:8080"' in text
    formatted = run(caddy, "fmt", CADDYFILE)
    assert formatted.stdout == CADDYFILE.read_text(), "run `caddy fmt --overwrite deploy/caddy/Caddyfile`"


def test_tls_profile_reaches_the_bot_by_a_name_it_allows() -> None:
    config = resolved({**REQUIRED, "AVIBOT_PUBLIC_HOST": "bot.example.com"})
    caddy = config["services"]["caddy"]
    assert caddy["environment"]["AVIBOT_PUBLIC_HOST"] == "bot.example.com"
    allowed = config["services"]["avibot"]["environment"]["AVIBOT_ALLOWED_HOSTS"].split(",")
    assert "bot.example.com" in allowed  # Caddy keeps the Host header: else 421
    assert "./deploy/caddy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert shlex.join(["80:80", "443:443"]) in shlex.join(caddy["ports"])
