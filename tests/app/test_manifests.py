"""The Slack and Teams manifests against their publishers' official JSON schemas (vendored in
manifests/schemas with their licences; see its README), nothing fetched from the network."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT4, DRAFT7

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "manifests" / "schemas"
SOURCES: dict[str, dict[str, str]] = json.loads((SCHEMAS / "SOURCES.json").read_text(encoding="utf-8"))
APP_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"


def _offline(uri: str) -> Resource[Any]:
    raise NoSuchResource(ref=uri)  # every reference must resolve to a vendored file


def _registry() -> Registry[Any]:
    resources = []
    for name, source in SOURCES.items():
        if "id" in source:
            contents = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
            spec = DRAFT4 if name.startswith("teams/") else DRAFT7
            resources.append((source["id"], Resource.from_contents(contents, default_specification=spec)))
    return Registry(retrieve=_offline).with_resources(resources)


def slack_validator() -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMAS / "slack" / "manifest.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(
        schema, registry=_registry(), format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def teams_validator(manifest: dict[str, Any]) -> jsonschema.Draft4Validator:
    """The vendored schema of the manifest's own version (a new manifestVersion needs a new schema)."""
    version = manifest["manifestVersion"]
    path = SCHEMAS / "teams" / f"v{version}" / "MicrosoftTeams.schema.json"
    assert path.is_file(), f"no vendored Teams schema for manifestVersion {version}"
    assert manifest["$schema"].endswith(f"/v{version}/MicrosoftTeams.schema.json")
    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def problems(validator: jsonschema.protocols.Validator, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}"
        for e in validator.iter_errors(instance)
    ]


def test_vendored_schemas_are_the_official_files_with_their_licences() -> None:
    assert SOURCES
    for name, source in SOURCES.items():
        data = (SCHEMAS / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == source["sha256"], f"{name} differs from its source"
        assert (SCHEMAS / source["licence_file"]).is_file(), name
        assert "MIT" in (SCHEMAS / source["licence_file"]).read_text(encoding="utf-8")
        assert source["version"]
        assert source["source"]


@pytest.mark.parametrize("name", ["manifest.yaml", "manifest-socket-mode.yaml"])
def test_committed_slack_manifests_match_the_official_schema(name: str) -> None:
    manifest = yaml.safe_load((ROOT / "manifests" / "slack" / name).read_text(encoding="utf-8"))
    assert manifest["_metadata"]["major_version"] == 2  # validated against schema 2.0.0
    assert problems(slack_validator(), manifest) == []


def test_generated_slack_manifest_matches_the_official_schema(tmp_path: Path) -> None:
    out = tmp_path / "manifest.yaml"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "slack_manifest.py"), "--out", str(out)],
        env={"PATH": "/usr/bin:/bin", "SLACK_PUBLIC_URL": "https://bot.example.org"},
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    manifest = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert problems(slack_validator(), manifest) == []
    assert (
        manifest["settings"]["event_subscriptions"]["request_url"] == "https://bot.example.org/slack/events"
    )


def test_the_slack_schema_is_strict() -> None:
    """The check means something: a misspelt key and a wrong type are refused."""
    manifest = yaml.safe_load((ROOT / "manifests" / "slack" / "manifest.yaml").read_text(encoding="utf-8"))
    typo = copy.deepcopy(manifest)
    typo["features"]["slash_command"] = typo["features"].pop("slash_commands")
    assert problems(slack_validator(), typo)
    wrong = copy.deepcopy(manifest)
    wrong["settings"]["interactivity"]["is_enabled"] = "yes"
    assert problems(slack_validator(), wrong)


def test_teams_package_manifest_matches_the_official_schema(tmp_path: Path) -> None:
    out = tmp_path / "avibot-teams.zip"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "teams_package.py"), "--out", str(out)],
        env={"PATH": "/usr/bin:/bin", "TEAMS_APP_ID": APP_ID, "TEAMS_BOT_DOMAIN": "bot.example.org"},
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert problems(teams_validator(manifest), manifest) == []


def test_the_teams_schema_refuses_the_unfilled_template() -> None:
    template = json.loads((ROOT / "manifests" / "teams" / "manifest.json").read_text(encoding="utf-8"))
    found = problems(teams_validator(template), template)
    assert any(p.startswith("id:") for p in found), found
    assert any(p.startswith("bots/0/botId:") for p in found), found
