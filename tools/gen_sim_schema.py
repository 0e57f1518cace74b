"""Regenerate avisim/schema_data.py from the controller's OpenAPI documents and recorded traffic.

Extracts facts only (field names, required fields, scalar defaults, reference targets, the version that
introduced each field, scalar types, read-only fields, the enums the simulator checks, and the fields the
recorded controllers returned or accepted beyond the 30.2.1 schema) from `../shared/avi-swagger/*.json`
and `../shared/avi-cassettes/*.json`, which stay outside the project, and formats the result with ruff.

Run from the project root: `.venv/bin/python tools/gen_sim_schema.py [SWAGGER_DIR [CASSETTE_DIR]]`.
`--check` compares instead of writing (exit 1 when schema_data.py is stale).
"""

from __future__ import annotations

import json
import pprint
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "avisim" / "schema_data.py"
COMMAND = ".venv/bin/python tools/gen_sim_schema.py"
SWAGGER_DIR = ROOT.parent / "shared" / "avi-swagger"
CASSETTE_DIR = ROOT.parent / "shared" / "avi-cassettes"

HEADER = '''"""Field names, required fields, defaults, reference targets and enums of the main object types.

GENERATED FILE, do not edit by hand: change tools/gen_sim_schema.py and re-run it.
Command (from the project root): `{command}`
Inputs: {swagger} (the controller's OpenAPI documents, 30.2.1)
        {cassettes} (recorded controller traffic, 20.1.x)
The output is formatted with `ruff format`.

The simulator uses it to fill defaults on write, to reject unknown fields (400), to accept and ignore
read-only fields, to gate fields by API version and to resolve `<field>_name` shortcuts.
"""
'''
_REF = re.compile(r"reference to an object of type (\w+)")
_INTRO = re.compile(r"Field introduced in ([0-9][0-9.]*[0-9])")
_ENUM = re.compile(r"Enum options - ([A-Z0-9_]+(?:, [A-Z0-9_]+)*)")
_SCALAR_TYPES = ("boolean", "integer", "number", "string", "array")
# The top-level enum fields the simulator validates on write (values from the swagger).
CHECKED_ENUMS = (
    ("applicationprofile", "type"),
    ("cloud", "vtype"),
    ("healthmonitor", "type"),
    ("pool", "lb_algorithm"),
    ("serviceengine", "enable_state"),
    ("sslkeyandcertificate", "type"),
    ("virtualservice", "type"),
)
_API_TYPE = re.compile(r"/api/([a-z]+)(?:/|$)")
_VERSION = re.compile(r"^\d+(\.\d+)+$")


def _literal(name: str, typ: str, value: object) -> str:
    return f"{name}: {typ} = " + pprint.pformat(value, width=108, compact=True, sort_dicts=True) + "\n"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def _display(path: Path) -> str:
    """A path as the header names it: relative to the project root's parent when it lives there."""
    try:
        return "../" + str(path.resolve().relative_to(ROOT.parent.resolve()))
    except ValueError:
        return str(path)


def _swagger(swagger_dir: Path) -> dict[str, dict[str, Any]]:
    """type -> its swagger definition, for every document in the folder."""
    out = {}
    for path in sorted(swagger_dir.glob("*.json")):
        out[path.stem.lower()] = json.loads(path.read_text())["definitions"][path.stem]
    if not out:
        raise SystemExit(f"no swagger documents in {swagger_dir}")
    return out


def recorded_fields(cassette_dir: Path, known: dict[str, set[str]]) -> dict[str, dict[str, str]]:
    """Top-level fields the recorded controllers returned in an object, or accepted (2xx) in a write
    body, that the schema does not know: type -> field -> newest controller version seen using it.

    `<field>_name` shortcuts are left out (the simulator handles them on its own)."""
    out: dict[str, dict[str, str]] = {}
    paths = sorted(cassette_dir.glob("*.json"))
    if not paths:
        raise SystemExit(f"no cassettes in {cassette_dir}")
    for path in paths:
        controller = None
        for interaction in json.loads(path.read_text())["interactions"]:
            request, response = interaction["request"], interaction["response"]
            text = (response.get("body") or {}).get("string") or ""
            body = _loads(text)
            if request["uri"].endswith("/login") and isinstance(body, dict):
                controller = (body.get("version") or {}).get("Version") or controller
                continue
            match = _API_TYPE.search(request["uri"].split("?", 1)[0])
            if not match or match.group(1) not in known or not 200 <= response["status"]["code"] < 300:
                continue
            obj_type = match.group(1)
            version = (request["headers"].get("X-Avi-Version") or [controller])[0]
            if not version or not _VERSION.match(version):
                continue
            objects = []
            if request["method"] in ("POST", "PUT") and isinstance(_loads(request.get("body")), dict):
                objects.append(_loads(request["body"]))
            if isinstance(body, dict):
                objects += [o for o in body.get("results", [body]) if isinstance(o, dict)]
            for obj in objects:
                for field in obj:
                    if field in known[obj_type]:
                        continue
                    if field.endswith("_name") and f"{field[:-5]}_ref" in known[obj_type]:
                        continue
                    seen = out.setdefault(obj_type, {}).get(field)
                    if seen is None or _version_key(version) > _version_key(seen):
                        out[obj_type][field] = version
    return {t: dict(sorted(f.items())) for t, f in sorted(out.items())}


def _loads(text: str | None) -> Any:
    try:
        return json.loads(text or "")
    except ValueError:
        return None


def generate_source(swagger_dir: Path, cassette_dir: Path) -> str:
    """The module's source, before formatting."""
    definitions = _swagger(swagger_dir)
    fields, required, defaults, refs, intro, scalar, read_only, enums = {}, {}, {}, {}, {}, {}, {}, {}
    for kind, definition in definitions.items():
        props = definition["properties"]
        fields[kind] = tuple(sorted(props))
        required[kind] = tuple(definition.get("required") or ())
        defaults[kind] = {
            k: v["default"]
            for k, v in sorted(props.items())
            if "default" in v and not isinstance(v["default"], (dict, list))
        }
        refs[kind] = {
            k: m.group(1).lower()
            for k, v in sorted(props.items())
            if (m := _REF.search(v.get("description", "")))
        }
        intro[kind] = {
            k: m.group(1) for k, v in sorted(props.items()) if (m := _INTRO.search(v.get("description", "")))
        }
        scalar[kind] = {
            k: v["type"]
            for k, v in sorted(props.items())
            if v.get("type") in _SCALAR_TYPES and not v.get("readOnly")
        }
        read_only[kind] = tuple(sorted(k for k, v in props.items() if v.get("readOnly")))
    for kind, field in CHECKED_ENUMS:
        prop = definitions[kind]["properties"][field]
        match = _ENUM.search(prop.get("description", ""))
        if not match:
            raise SystemExit(f"{kind}.{field}: no `Enum options - ...` in its swagger description")
        enums.setdefault(kind, {})[field] = tuple(match.group(1).split(", "))
    recorded = recorded_fields(cassette_dir, {k: set(v) for k, v in fields.items()})
    parts = [
        HEADER.format(
            command=COMMAND,
            swagger=f"{_display(swagger_dir)}/*.json",
            cassettes=f"{_display(cassette_dir)}/*.json",
        ),
        "from __future__ import annotations\n",
        "from typing import Any\n",
        _literal("FIELDS", "dict[str, tuple[str, ...]]", fields),
        _literal("REQUIRED", "dict[str, tuple[str, ...]]", required),
        _literal("DEFAULTS", "dict[str, dict[str, Any]]", defaults),
        _literal("REF_TARGETS", "dict[str, dict[str, str]]", refs),
        "# Controller version that introduced each top-level field (first one named when backported).\n",
        _literal("INTRODUCED", "dict[str, dict[str, str]]", intro),
        "# JSON type of each top-level scalar/array field, for 400s on wrongly typed values.\n",
        _literal("FIELD_TYPES", "dict[str, dict[str, str]]", scalar),
        "# Top-level fields the swagger marks readOnly: accepted and ignored on write.\n",
        _literal("READ_ONLY", "dict[str, tuple[str, ...]]", read_only),
        "# Allowed values of the enum fields the simulator checks on write (swagger `Enum options`).\n",
        _literal("ENUMS", "dict[str, dict[str, tuple[str, ...]]]", enums),
        "# Top-level fields beyond this schema that the recorded (older) controllers returned or accepted,\n"
        "# with the newest API version seen using each: accepted and ignored on writes up to that version.\n",
        _literal("RECORDED_FIELDS", "dict[str, dict[str, str]]", recorded),
    ]
    return "\n".join(parts)


def generate(swagger_dir: Path = SWAGGER_DIR, cassette_dir: Path = CASSETTE_DIR) -> str:
    """The module's text exactly as it is written: generated, then formatted by ruff."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(TARGET), "-"],
        input=generate_source(swagger_dir, cassette_dir),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return result.stdout


def main(argv: list[str]) -> int:
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    swagger = Path(args[0]) if args else SWAGGER_DIR
    cassettes = Path(args[1]) if len(args) > 1 else CASSETTE_DIR
    text = generate(swagger, cassettes)
    if check:
        if TARGET.read_text() != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
