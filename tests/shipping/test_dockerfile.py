"""The Dockerfile and .dockerignore, read as text (building and running the image is `make image-test`,
which is too slow for the test suite: scripts/image_test.sh), and the shipping scripts and make targets."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from pathlib import Path

import pytest

from avibot.cli import build_parser
from tests.shipping.support import ROOT, run, tool

DOCKERFILE = ROOT / "Dockerfile"
SCRIPTS = ("image_test.sh", "ensure-podman.sh", "ensure-shipping-tools.sh", "base-image.sh")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")),
    )
    out = []
    for line in text.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def runtime() -> dict[str, list[str]]:
    last = stages()[-1]
    out: dict[str, list[str]] = {}
    for word, rest in last:
        out.setdefault(word, []).append(rest)
    return out


def test_multi_stage_on_one_base_image_argument() -> None:
    all_instructions = instructions()
    assert all_instructions[0] == ("ARG", "BASE_IMAGE=python:3.11-slim-bookworm")
    froms = [rest for word, rest in all_instructions if word == "FROM"]
    assert froms == ["${BASE_IMAGE} AS build", "${BASE_IMAGE} AS runtime"]


def test_runtime_stage_holds_the_venv_and_nothing_else() -> None:
    stage = runtime()
    assert stage["COPY"] == ["--from=build /opt/venv /opt/venv"], "only the venv comes from the build"
    run_steps = " ".join(stage.get("RUN", []))
    for forbidden in ("pip ", "apt-get", "gcc", "/src"):
        assert forbidden not in run_steps, forbidden
    build = " ".join(rest for word, rest in stages()[0] if word == "RUN")
    assert "pip wheel" in build
    assert "--without-pip" in build
    assert "[dev]" not in build


def test_non_root_read_only_volumes_and_healthcheck() -> None:
    stage = runtime()
    (user,) = stage["USER"]
    uid = user.split(":")[0]
    assert uid.isdigit(), "a fixed numeric uid"
    assert int(uid) >= 1000, "not root, nor a system account"
    env = " ".join(stage["ENV"])
    assert "AVIBOT_STATE_DIR=/var/lib/avibot" in env
    (volumes,) = stage["VOLUME"]
    assert json.loads(volumes) == ["/var/lib/avibot", "/tmp"]
    assert stage["EXPOSE"] == ["8080"]
    (health,) = stage["HEALTHCHECK"]
    assert "/healthz" in health
    assert "CMD [" in health
    assert "install -d -o 10001 -g 10001 -m 0700 /var/lib/avibot" in " ".join(stage["RUN"])


def test_entrypoint_and_command() -> None:
    stage = runtime()
    assert json.loads(stage["ENTRYPOINT"][0]) == ["avibot"]
    cmd = json.loads(stage["CMD"][0])
    assert cmd == ["serve", "--host", "0.0.0.0"]
    args = build_parser().parse_args(cmd)
    assert args.command == "serve"
    assert args.host == "0.0.0.0"


def test_oci_labels() -> None:
    labels = " ".join(runtime()["LABEL"])
    for key in ("title", "description", "version", "revision", "created", "licenses"):
        assert f"org.opencontainers.image.{key}=" in labels, key


def test_every_package_is_copied_and_nothing_else_enters_the_context() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = sorted(
        p.name
        for p in ROOT.iterdir()
        if p.is_dir()
        and (p / "__init__.py").exists()
        and any(fnmatch.fnmatch(p.name, pat) for pat in patterns)
    )
    copied = {rest.split()[0] for word, rest in stages()[0] if word == "COPY"}
    assert set(packages) <= copied, f"not copied into the build: {sorted(set(packages) - copied)}"
    ignore = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    assert ignore[ignore.index("*")] == "*", "an allow-list: everything is excluded first"
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert allowed == {*packages, "pyproject.toml", "README.md"}
    for never in ("**/__pycache__", "**/*.egg-info"):
        assert never in ignore


@pytest.mark.parametrize("script", SCRIPTS)
def test_shipping_scripts_parse(script: str) -> None:
    checked = run(tool_bash(), "-n", ROOT / "scripts" / script)
    assert checked.returncode == 0, checked.stderr


def tool_bash() -> str:
    return "/bin/bash" if Path("/bin/bash").exists() else tool("bash")


def test_make_targets_build_with_the_right_flags() -> None:
    make = "/usr/bin/make" if Path("/usr/bin/make").exists() else tool("make")
    files = ("-f", "Makefile", "-f", "shipping.mk")  # guarded: also right once the Makefile includes it
    dry = run(
        make,
        "-n",
        *files,
        "image",
        "CONTAINER_ENGINE=podman",
        "BASE_IMAGE=localhost/avibot-base:bookworm",
        cwd=ROOT,
    )
    assert "overriding recipe" not in dry.stderr
    assert dry.returncode == 0, dry.stderr
    assert "build --format docker --network host" in dry.stdout
    assert "--build-arg BASE_IMAGE=localhost/avibot-base:bookworm" in dry.stdout
    test = run(make, "-n", *files, "image-test", cwd=ROOT)
    assert test.returncode == 0, test.stderr
    assert "scripts/image_test.sh" in test.stdout, test.stdout
