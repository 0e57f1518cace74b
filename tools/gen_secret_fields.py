"""Regenerate avi/secret_fields.py: the controller's secret fields, from its OpenAPI documents.

The swagger has no `sensitive` marker, so a field is taken as secret from its description: a string
(or list of strings) field whose first clause names a password, passphrase, secret, private key,
authentication key, API/access/secret key or an authorization/access token ("Password for proxy.",
"AWS secret access key.", "NTP Authentication key."), or, when it has no description, whose name
ends in password/passphrase/secret. References, names, uuids, enums and read-only fields never are.
A name that is secret in one place and harmless in another (`key`: NTP authentication key vs a
label's key) is kept with its context: the field that holds it, or the object type it belongs to.
An object carrying a boolean `is_sensitive` beside a `value` (CustomParams) marks that value.

Run from the project root: `python tools/gen_secret_fields.py [SWAGGER_DIR]`; it writes
avi/secret_fields.py (or, with --check, exits 1 when the committed file is out of date).
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "avi" / "secret_fields.py"
COMMAND = "python tools/gen_secret_fields.py"

_SECRET_WORDS = re.compile(
    r"\bpassword\b|\bpassphrase\b|\bsecret\b(?!\s+name)|\bprivate key\b|\bauthentication key\b"
    r"|\b(?:api|access|secret) key\b|\b(?:authorization|access|api|auth|bearer|session) token\b",
    re.IGNORECASE,
)
# What follows these words describes the use, not the value ("... used to validate when access token
# is opaque" is an identifier's description, not a token's).
_CLAUSE_END = re.compile(
    r"\b(?:when|if|used|corresponding|for|instead|that|which|to be)\b|[.;(]", re.IGNORECASE
)
_SECRET_NAME = re.compile(r"(?:password|passphrase|secret)$")
_NOT_A_VALUE = re.compile(r"(?:_refs?|_uuid|_name|_names)$")
_BOILERPLATE = re.compile(r"\s*(?:Allowed in|Field introduced in|Field deprecated in)\b.*$", re.DOTALL)


def _head(description: str) -> str:
    text = _BOILERPLATE.sub("", description).strip()
    match = _CLAUSE_END.search(text)
    return text[: match.start()] if match else text


def _is_stringish(prop: dict[str, Any]) -> bool:
    if prop.get("type") == "string":
        return True
    return prop.get("type") == "array" and (prop.get("items") or {}).get("type") == "string"


def is_secret(name: str, prop: dict[str, Any]) -> bool:
    """Whether one swagger property holds a secret value."""
    if not _is_stringish(prop) or prop.get("readOnly") or _NOT_A_VALUE.search(name):
        return False
    description = prop.get("description", "")
    if "Enum options" in description or "reference to an object" in description:
        return False
    head = _head(description)
    if not head:
        return _SECRET_NAME.search(name) is not None
    return _SECRET_WORDS.search(head) is not None


def _ref_name(prop: dict[str, Any]) -> str | None:
    ref = prop.get("$ref") or (prop.get("items") or {}).get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def collect(swagger_dir: Path) -> dict[str, Any]:
    secret: dict[str, set[str]] = defaultdict(set)  # field name -> definitions where it is secret
    harmless: set[str] = set()  # field names that are not secret somewhere
    holders: dict[str, set[str]] = defaultdict(set)  # definition -> fields that hold it
    roots: dict[str, str] = {}  # definition of an object type -> its type name
    flagged: set[tuple[str, str]] = set()
    for path in sorted(swagger_dir.glob("*.json")):
        definitions = json.loads(path.read_text(encoding="utf-8"))["definitions"]
        roots[path.stem] = path.stem.lower()
        for def_name, definition in sorted(definitions.items()):
            props = definition.get("properties") or {}
            for name, prop in sorted(props.items()):
                target = _ref_name(prop)
                if target is not None and not def_name.endswith("ApiResponse"):  # a list's `results`
                    holders[target].add(name)
                if is_secret(name, prop):
                    secret[name].add(def_name)
                elif _is_stringish(prop):
                    harmless.add(name)
            if (props.get("is_sensitive") or {}).get("type") == "boolean" and "value" in props:
                flagged.add(("is_sensitive", "value"))
    always = sorted(name for name in secret if name not in harmless)
    in_field: dict[str, set[str]] = defaultdict(set)
    in_type: dict[str, set[str]] = defaultdict(set)
    for name in sorted(set(secret) & harmless):
        for def_name in secret[name]:
            if def_name in roots:
                in_type[roots[def_name]].add(name)
            for holder in holders.get(def_name, ()):
                in_field[holder].add(name)
    return {
        "always": always,
        "in_field": {k: sorted(v) for k, v in sorted(in_field.items())},
        "in_type": {k: sorted(v) for k, v in sorted(in_type.items())},
        "flagged": dict(sorted(flagged)),
    }


def _set(names: list[str]) -> str:
    return "frozenset({" + ", ".join(json.dumps(n) for n in names) + "})"


def render(facts: dict[str, Any]) -> str:
    lines = [
        '"""The controller\'s secret fields, from its OpenAPI documents (30.2.1): avi/redact.py masks them.',
        "",
        f"Generated by `{COMMAND}` from ../shared/avi-swagger; do not edit by hand. The rules",
        "(what counts as a secret) are in the generator's docstring.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "# Field names that hold a secret wherever they appear.",
        "SECRET_FIELDS: frozenset[str] = frozenset(",
        "    {",
        *(f"        {json.dumps(n)}," for n in facts["always"]),
        "    }",
        ")",
        "",
        "# Names secret only inside the objects a given field holds (`ntp_authentication_keys[].key`).",
        "SECRET_IN_FIELD: dict[str, frozenset[str]] = {",
        *(f"    {json.dumps(k)}: {_set(v)}," for k, v in facts["in_field"].items()),
        "}",
        "",
        "# Names secret only at the top level of an object type (`sslkeyandcertificate.key`).",
        "SECRET_IN_TYPE: dict[str, frozenset[str]] = {",
        *(f"    {json.dumps(k)}: {_set(v)}," for k, v in facts["in_type"].items()),
        "}",
        "",
        "# A flag that, when true, makes a sibling field secret (CustomParams.is_sensitive -> value).",
        "SECRET_WHEN_FLAGGED: dict[str, str] = {",
        *(f"    {json.dumps(k)}: {json.dumps(v)}," for k, v in facts["flagged"].items()),
        "}",
        "",
    ]
    return "\n".join(lines)


def generate(swagger_dir: Path) -> str:
    return render(collect(swagger_dir))


def main(argv: list[str]) -> int:
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    swagger = Path(args[0]) if args else ROOT.parent / "shared" / "avi-swagger"
    text = generate(swagger)
    if check:
        if TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
