"""Configuration: config.yaml sections, environment overrides, and clear errors that name the setting."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from avi.settings import normalize_controller_url
from avibot.config import ConfigError, load_settings
from tests.conftest import SIM_PASSWORD, SIM_USERNAME, RunningSim

ROOT = Path(__file__).resolve().parents[2]
ENV_VARS = (
    "AVI_HOST", "AVI_USERNAME", "AVI_PASSWORD", "AVI_TOKEN", "AVI_VERSION", "AVI_TENANT",
    "AVI_VERIFY_SSL", "AVI_CA_BUNDLE", "AVI_TIMEOUT", "AVI_RETRIES", "OLLAMA_HOST", "LLM_MODEL",
    "LLM_NUM_CTX", "LOG_LEVEL", "LOG_FORMAT", "SERVER_PORT", "SERVER_HOST", "AVIBOT_TRUSTED_PROXIES",
    "AVIBOT_ALLOWED_HOSTS", "AVIBOT_ACCESS_TOKEN",
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


# -- every bad setting: one clean line from the real `avibot` command, exit 2, never a secret -------

AVIBOT = Path(sys.executable).with_name("avibot")  # the console script of the installed package
SECRET = "Pw-9d8f7c6b5a"


def run_avibot(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    assert AVIBOT.is_file(), f"{AVIBOT} missing: install the package (pip install -e .)"
    base = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "AVI_PASSWORD": SECRET}
    if "PYTHONPATH" in os.environ:  # a checkout run without installing it
        base["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run(
        [str(AVIBOT), *args], capture_output=True, text=True, env={**base, **env}, cwd=cwd, timeout=60,
        check=False,
    )  # fmt: skip


def one_clean_line(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert SECRET not in proc.stderr + proc.stdout
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("env", "needles"),
    [
        ({"AVI_HOST": f"https://admin:{SECRET}@ctl"}, ("avi.host (AVI_HOST)", "credentials")),
        ({"AVI_HOST": f"https://admin:{SECRET}@ctl:notaport"}, ("avi.host (AVI_HOST)", "credentials")),
        ({"AVI_HOST": "ctl", "AVI_CA_BUNDLE": "/etc/passwd"}, ("avi.ca_bundle (AVI_CA_BUNDLE)", "PEM")),
        ({"AVI_HOST": "ctl", "AVI_CA_BUNDLE": "/etc"}, ("avi.ca_bundle (AVI_CA_BUNDLE)",)),
        ({"AVI_HOST": "ctl", "AVIBOT_TRUSTED_PROXIES": "10.0.0.1,not-an-ip"}, ("web.trusted_proxies",)),
        ({"AVI_HOST": "ctl", "AVIBOT_TRUSTED_PROXIES": "[oops"}, ("web.trusted_proxies",)),
        ({"AVI_HOST": "ctl", "AVIBOT_ALLOWED_HOSTS": "ok.example,bad host"}, ("web.allowed_hosts",)),
        ({"AVI_HOST": "ctl", "AVIBOT_ACCESS_TOKEN": SECRET}, ("(AVIBOT_ACCESS_TOKEN)", "32 characters")),
    ],
    ids=["url-credentials", "url-credentials-bad-port", "ca-not-pem", "ca-directory", "proxy-not-ip",
         "proxy-not-json", "host-with-space", "short-token"],
)  # fmt: skip
def test_bad_environment_gives_one_line(
    tmp_path: Path, env: dict[str, str], needles: tuple[str, ...]
) -> None:
    one_clean_line(run_avibot(tmp_path, "check", **env), *needles)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"avi:\n  host: \xff\xfe ctl\n", "not UTF-8"),
        (b"avi: " + b"[" * 100_000, "nested too deeply"),
        (b"avi:\n  host: " + b"[" * 200 + b"]" * 200 + b"\n", "nested too deeply"),
        (b"avi:\n" + b"".join(b"  " * i + b"k%d:\n" % i for i in range(1, 60)), "nested too deeply"),
    ],
    ids=["not-utf8", "deep-flow", "deep-but-parsable", "deep-blocks"],
)
def test_bad_config_file_gives_one_line(tmp_path: Path, content: bytes, needle: str) -> None:
    (tmp_path / "config.yaml").write_bytes(content)
    one_clean_line(run_avibot(tmp_path, "check", AVI_HOST="ctl"), "config.yaml", needle)


def test_short_access_token_refused_in_the_file_too(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(f"web:\n  access_token: {SECRET}\n")
    one_clean_line(
        run_avibot(tmp_path, "serve", "--demo", "--port", "0"), "web.access_token", "32 characters"
    )


@pytest.mark.parametrize("proxies", ["10.0.0.1", "10.0.0.1,10.0.0.0/8", " 10.0.0.1 , ::1 ", '["10.0.0.1"]'])
def test_trusted_proxies_as_the_readme_writes_them(proxies: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AVIBOT_TRUSTED_PROXIES", proxies)
    settings = load_settings(None)
    assert settings.web.trusted_proxies[0] == "10.0.0.1"
    assert settings.web.trusted_proxies == [
        p.strip() for p in proxies.strip("[]").replace('"', "").split(",")
    ]


def test_allowed_hosts_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AVIBOT_ALLOWED_HOSTS", "Avibot.Example.com, localhost:8080,[::1]:8080")
    assert load_settings(None).web.allowed_hosts == ["avibot.example.com", "localhost:8080", "[::1]:8080"]
    monkeypatch.setenv("AVIBOT_ALLOWED_HOSTS", "[::1]")
    assert load_settings(None).web.allowed_hosts == ["[::1]"]
    monkeypatch.setenv("AVIBOT_ALLOWED_HOSTS", '["a.example", "[::1]:80"]')
    assert load_settings(None).web.allowed_hosts == ["a.example", "[::1]:80"]


async def test_check_accepts_a_single_trusted_proxy(sim: RunningSim, tmp_path: Path) -> None:
    """The README's form, through the real console script against a real (simulated) controller."""
    env = {
        "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AVI_HOST": sim.url, "AVI_USERNAME": SIM_USERNAME,
        "AVI_PASSWORD": SIM_PASSWORD, "AVIBOT_TRUSTED_PROXIES": "10.0.0.1",
        "AVI_CA_BUNDLE": str(_a_ca_bundle(tmp_path)),
    }  # fmt: skip
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    proc = await asyncio.create_subprocess_exec(
        str(AVIBOT), "check", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert "OK" in out.decode()


def _a_ca_bundle(tmp_path: Path) -> Path:
    import certifi

    path = tmp_path / "ca.pem"
    path.write_bytes(Path(certifi.where()).read_bytes())
    return path
