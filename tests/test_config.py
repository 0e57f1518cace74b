"""Configuration: config.yaml sections, environment overrides, and clear errors that name the setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from avi.settings import normalize_controller_url
from avibot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent
ENV_VARS = (
    "AVI_HOST", "AVI_USERNAME", "AVI_PASSWORD", "AVI_TOKEN", "AVI_VERSION", "AVI_TENANT",
    "AVI_VERIFY_SSL", "AVI_CA_BUNDLE", "AVI_TIMEOUT", "AVI_RETRIES", "OLLAMA_HOST", "LLM_MODEL",
    "LLM_NUM_CTX", "LOG_LEVEL", "LOG_FORMAT", "SERVER_PORT", "SERVER_HOST",
)  # fmt: skip


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray ./config.yaml


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ctl.example.com", "https://ctl.example.com"),
        ("ctl.example.com:8443", "https://ctl.example.com:8443"),
        ("https://ctl.example.com/", "https://ctl.example.com"),
        ("http://127.0.0.1:9443", "http://127.0.0.1:9443"),
        ("10.1.2.3", "https://10.1.2.3"),
        ("[::1]:9443", "https://[::1]:9443"),
    ],
)
def test_controller_url_forms(value: str, expected: str) -> None:
    assert normalize_controller_url(value) == expected


@pytest.mark.parametrize("value", ["", "ftp://ctl", "https://ctl/api/pool", "ctl:notaport", "https://"])
def test_controller_url_rejects(value: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked through load_settings below
        normalize_controller_url(value)


def test_example_config_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(ROOT / "config.example.yaml")
    assert settings.avi.base_url == "https://avi-controller.example.com"
    assert settings.avi.verify_ssl is True
    assert settings.llm.num_ctx == 8192
    assert settings.server.host == "127.0.0.1"


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("avi:\n  host: file-host\n  tenant: t1\n  verify_ssl: true\nllm:\n  model: a\n")
    monkeypatch.setenv("AVI_HOST", "http://127.0.0.1:9443")
    monkeypatch.setenv("AVI_PASSWORD", "s3cret")
    monkeypatch.setenv("AVI_VERIFY_SSL", "false")
    monkeypatch.setenv("AVI_VERSION", "22.1.3")
    monkeypatch.setenv("OLLAMA_HOST", "http://ollama:11434")
    monkeypatch.setenv("LLM_MODEL", "qwen2.5:7b")
    settings = load_settings(cfg)
    assert settings.avi.base_url == "http://127.0.0.1:9443"
    assert settings.avi.tenant == "t1"  # from the file, not overridden
    assert settings.avi.verify_ssl is False
    assert settings.avi.version == "22.1.3"
    assert settings.avi.password is not None
    assert settings.avi.password.get_secret_value() == "s3cret"
    assert settings.llm.host == "http://ollama:11434"
    assert settings.llm.model == "qwen2.5:7b"


def test_missing_controller_settings_are_named() -> None:
    settings = load_settings(None)
    with pytest.raises(ConfigError) as err:
        settings.require_avi()
    assert "avi.host (AVI_HOST)" in str(err.value)
    assert "AVI_PASSWORD" in str(err.value)


def test_malformed_setting_names_setting_and_hides_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AVI_HOST", "ftp://secret-host-value")
    monkeypatch.setenv("AVI_TIMEOUT", "soon")
    with pytest.raises(ConfigError) as err:
        load_settings(None)
    text = str(err.value)
    assert "avi.host (AVI_HOST)" in text
    assert "avi.timeout (AVI_TIMEOUT)" in text


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("avi: [1, 2", "not valid YAML"),
        ("- a\n- b\n", "mapping of sections"),
        ("avi:\n  hots: x\n", "avi.hots"),
        ("slackk:\n  a: 1\n", "unknown section"),
        ("avi: 3\n", "section 'avi' must be a mapping"),
    ],
)
def test_bad_files(tmp_path: Path, content: str, needle: str) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(content)
    with pytest.raises(ConfigError, match=None) as err:
        load_settings(cfg)
    assert needle in str(err.value)


def test_password_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AVI_HOST", "ctl")
    monkeypatch.setenv("AVI_PASSWORD", "hunter2-very-secret")
    settings = load_settings(None)
    assert "hunter2-very-secret" not in repr(settings)
    assert "hunter2-very-secret" not in str(settings.model_dump())


def test_cli_reports_bad_setting_without_traceback(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "AVI_HOST": "ftp://nope", "AVI_PASSWORD": "pw-should-not-print"}
    proc = subprocess.run(
        [sys.executable, "-m", "avibot.cli", "check"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "avi.host (AVI_HOST)" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "pw-should-not-print" not in proc.stderr + proc.stdout


def test_cli_reports_missing_setting(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "avibot.cli", "check"],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "missing setting: avi.host (AVI_HOST)" in proc.stderr
    assert "Traceback" not in proc.stderr
