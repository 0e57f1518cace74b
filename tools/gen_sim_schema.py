"""Regenerate avi/simulator/schema_data.py from the controller's OpenAPI documents.

Extracts facts only (field names, required fields, scalar defaults, reference targets, the version
that introduced each field, scalar types) from `../shared/avi-swagger/*.json`, which stay outside
the project. Run from the project root: `python tools/gen_sim_schema.py [SWAGGER_DIR]`.
"""

from __future__ import annotations

import json
import pprint
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = '''"""Field names, required fields, scalar defaults and reference targets of the main object types.

Derived from the controller's OpenAPI documents (30.2.1); the simulator uses it to fill defaults on
write, to reject unknown fields (400) and to resolve `<field>_name` shortcuts.
"""
'''
_REF = re.compile(r"reference to an object of type (\w+)")
_INTRO = re.compile(r"Field introduced in ([0-9][0-9.]*[0-9])")
_SCALAR_TYPES = ("boolean", "integer", "number", "string", "array")


def _literal(name: str, typ: str, value: object) -> str:
    return f"{name}: {typ} = " + pprint.pformat(value, width=108, compact=True, sort_dicts=True) + "\n"


def generate(swagger_dir: Path) -> str:
    fields, required, defaults, refs, intro, scalar = {}, {}, {}, {}, {}, {}
    for path in sorted(swagger_dir.glob("*.json")):
        cls = path.stem
        kind = cls.lower()
        definition = json.loads(path.read_text())["definitions"][cls]
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
    parts = [
        HEADER,
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
    ]
    return "\n".join(parts)


def main() -> int:
    swagger = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "avi-swagger"
    (ROOT / "avi" / "simulator" / "schema_data.py").write_text(generate(swagger))
    return 0


if __name__ == "__main__":
    sys.exit(main())
