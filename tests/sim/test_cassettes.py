"""Replay recorded real-controller traffic against the simulator and expect the same answers.

The cassettes are the official SDK's own test recordings (vmware/alb-sdk, 20.1.x controllers), kept in
`../shared/avi-cassettes` beside the repository and never copied into it. Every interaction of every
cassette is replayed in order against a fresh simulator, and must agree with the recording: the status
code, the JSON content type, the key fields of JSON bodies (uuid / name / count / results, with equal
names, and equal counts for `?name=` lookups) and the exact text of plain-text bodies. Uuids, session
ids, tokens and timestamps differ naturally, so the replay maps them:

- a recorded uuid is mapped to the live one the simulator answered at the same place of the same body,
  and replaced in later URIs, bodies and headers;
- a recorded `POST /login` is replayed as is and its recorded session is mapped to the live session;
  a session the cassette uses without logging in was made before it (the suite's setUpModule), so it
  gets a live login of its own, with setUpModule's recorded login body;
- the CSRF token of a session that the cassette logged in must be that login's: a different one was
  sent wrong on purpose (test_retry_unauth_api) and is replayed verbatim; otherwise the live token of
  the live session is sent. Basic-auth requests are replayed with their recorded Authorization header,
  so each cassette's simulator runs with the credentials the cassette used.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import StartSim

CASSETTES = Path(__file__).resolve().parents[2] / ".." / "shared" / "avi-cassettes"
RECORDED_HOST = "https://avi-controller"
SETUP_LOGIN = "setUpModule"

# Interactions whose recorded behaviour the simulator deliberately does not reproduce, as
# (cassette, interaction index) -> reason. Documented in avisim/README.md ("Recorded traffic").
# Keep it short: every entry is a place where the simulator is knowingly not the recorded controller.
ALLOWED: dict[tuple[str, int], str] = {}

_UUID = re.compile(r"\b[a-z][a-z0-9]*-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_KEY_FIELDS = ("uuid", "name", "count", "results")
_DROPPED_HEADERS = {"cookie", "content-length", "host", "x-csrftoken"}


def _names() -> list[str]:
    return sorted(p.stem for p in CASSETTES.glob("*.json")) or ["(no cassettes found)"]


def _load(name: str) -> list[dict[str, Any]]:
    path = CASSETTES / f"{name}.json"
    if not path.is_file():
        pytest.fail(
            f"recorded controller traffic is missing: {CASSETTES.resolve()} must hold the cassettes "
            "(CI checks out shared/ beside the repository); this test never skips"
        )
    return json.loads(path.read_text())["interactions"]


def _header(headers: dict[str, list[str]], name: str) -> str | None:
    for key, values in headers.items():
        if key.lower() == name.lower() and values:
            return values[0]
    return None


def _cookie(header: str | None, name: str) -> str | None:
    for part in (header or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


def _set_cookie(headers: dict[str, list[str]], name: str) -> str | None:
    for value in headers.get("Set-Cookie", []):
        key, _, rest = value.partition("=")
        if key == name:
            return rest.split(";", 1)[0]
    return None


def _credentials(interactions: list[dict[str, Any]]) -> tuple[str, str]:
    """The user and password the cassette authenticates with (Basic header, else its login body)."""
    for it in interactions:
        auth = _header(it["request"]["headers"], "Authorization") or ""
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth.split()[1]).decode().partition(":")
            return user, password
    setup = _load(SETUP_LOGIN)[0]["request"]["body"]
    form = parse_qs(setup)
    return form["username"][0], form["password"][0]


@dataclass
class Live:
    """A live session standing for a recorded one."""

    session_id: str
    csrftoken: str


@dataclass
class Replay:
    """One cassette replayed against one simulator."""

    name: str
    http: httpx.AsyncClient
    uuids: dict[str, str] = field(default_factory=dict)  # recorded -> live
    sessions: dict[str, Live] = field(default_factory=dict)  # recorded session id -> live session
    login_tokens: dict[str, str] = field(default_factory=dict)  # recorded session id -> its login's token

    def translate(self, text: str) -> str:
        text = text.replace(RECORDED_HOST, str(self.http.base_url).rstrip("/"))
        return _UUID.sub(lambda m: self.uuids.get(m.group(0), m.group(0)), text)

    def learn(self, recorded: Any, live: Any) -> None:
        """Map the uuids of a recorded body to those at the same places of the live body."""
        if isinstance(recorded, dict) and isinstance(live, dict):
            for key, value in recorded.items():
                if key in live:
                    self.learn(value, live[key])
        elif isinstance(recorded, list) and isinstance(live, list):
            for a, b in zip(recorded, live, strict=False):
                self.learn(a, b)
        elif isinstance(recorded, str) and isinstance(live, str):
            old, new = _UUID.findall(recorded), _UUID.findall(live)
            if len(old) == len(new):
                for a, b in zip(old, new, strict=True):
                    if a.split("-", 1)[0] == b.split("-", 1)[0]:
                        self.uuids.setdefault(a, b)

    async def login(self, body: str) -> httpx.Response:
        response = await self.http.post(
            "/login", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        self.http.cookies.clear()
        return response

    async def live_session(self, recorded_id: str) -> Live:
        """The live session for a recorded one; one made before the cassette gets a login now."""
        if recorded_id not in self.sessions:
            response = await self.login(_load(SETUP_LOGIN)[0]["request"]["body"])
            assert response.status_code == 200, response.text
            self.sessions[recorded_id] = Live(
                response.cookies["avi-sessionid"], response.cookies["csrftoken"]
            )
        return self.sessions[recorded_id]

    async def send(self, request: dict[str, Any]) -> httpx.Response:
        parts = urlsplit(request["uri"])
        target = self.translate(parts.path + (f"?{parts.query}" if parts.query else ""))
        body = self.translate(request["body"]) if request.get("body") else None
        if parts.path == "/login":
            return await self.login(body or "")
        recorded = request["headers"]
        headers = {
            k: self.translate(v[0]) for k, v in recorded.items() if v and k.lower() not in _DROPPED_HEADERS
        }
        cookie = _header(recorded, "Cookie")
        session_id = _cookie(cookie, "avi-sessionid")
        token = _header(recorded, "X-CSRFToken")
        if session_id and session_id != "None":
            live = await self.live_session(session_id)
            headers["Cookie"] = f"avi-sessionid={live.session_id}; sessionid={live.session_id}; " + (
                f"csrftoken={live.csrftoken}"
            )
            if token is not None:
                own = self.login_tokens.get(session_id)
                headers["X-CSRFToken"] = token if own is not None and token != own else live.csrftoken
        elif cookie:
            headers["Cookie"] = cookie  # `avi-sessionid=None` beside Basic auth, as recorded
        response = await self.http.request(
            request["method"], target, content=body.encode() if body is not None else None, headers=headers
        )
        self.http.cookies.clear()
        return response

    def note_login(self, recorded: dict[str, Any], response: httpx.Response) -> None:
        session_id = _set_cookie(recorded["headers"], "avi-sessionid")
        token = _set_cookie(recorded["headers"], "csrftoken")
        if session_id and response.status_code == 200:
            self.sessions[session_id] = Live(response.cookies["avi-sessionid"], response.cookies["csrftoken"])
            if token:
                self.login_tokens[session_id] = token


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def disagreements(request: dict[str, Any], recorded: dict[str, Any], live: httpx.Response) -> list[str]:
    """How the live answer differs from the recorded one (empty when they agree)."""
    out = []
    if live.status_code != recorded["status"]["code"]:
        out.append(f"status {live.status_code} != recorded {recorded['status']['code']}: {live.text[:300]}")
    text = recorded["body"].get("string") or ""
    recorded_type = _header(recorded["headers"], "Content-Type") or ""
    if text and "json" in recorded_type and "json" not in live.headers.get("content-type", ""):
        out.append(f"content type {live.headers.get('content-type')!r} != recorded {recorded_type!r}")
    expected = _json(text) if text else None
    if text and expected is None and live.text != text:
        out.append(f"body {live.text[:200]!r} != recorded {text[:200]!r}")
    if isinstance(expected, dict):
        got = _json(live.text)
        if not isinstance(got, dict):
            return [*out, f"body is not a JSON object: {live.text[:200]!r}"]
        out += [f"missing {key!r}" for key in _KEY_FIELDS if key in expected and key not in got]
        if "name" in expected and "name" in got and got["name"] != expected["name"]:
            out.append(f"name {got['name']!r} != recorded {expected['name']!r}")
        if "name=" in request["uri"] and "count" in got and got["count"] != expected.get("count"):
            out.append(f"count {got['count']} != recorded {expected.get('count')}")
        rec_results, live_results = expected.get("results"), got.get("results")
        if isinstance(rec_results, list) and rec_results and isinstance(live_results, list):
            if not live_results:
                out.append("results empty, recorded non-empty")
            else:
                first_rec, first_live = rec_results[0], live_results[0]
                out += [
                    f"results[0] missing {key!r}"
                    for key in ("uuid", "name")
                    if key in first_rec and key not in first_live
                ]
                name, recorded_name = first_live.get("name"), first_rec.get("name")
                if "name=" in request["uri"] and name != recorded_name:
                    out.append(f"results[0].name {name!r} != recorded {recorded_name!r}")
    return out


@pytest.mark.parametrize("name", _names())
async def test_cassette_replays_like_the_recorded_controller(name: str, start_sim: StartSim) -> None:
    interactions = _load(name)
    username, password = _credentials(interactions)
    sim = await start_sim(username=username, password=password)
    failures = []
    async with httpx.AsyncClient(base_url=sim.url, timeout=30) as http:
        replay = Replay(name, http)
        for index, it in enumerate(interactions):
            request, recorded = it["request"], it["response"]
            live = await replay.send(request)
            if urlsplit(request["uri"]).path == "/login":
                replay.note_login(recorded, live)
            else:
                replay.learn(_json(recorded["body"].get("string") or ""), _json(live.text))
            problems = disagreements(request, recorded, live)
            allowed = ALLOWED.get((name, index))
            label = f"{name}[{index}] {request['method']} {urlsplit(request['uri']).path}"
            if problems and not allowed:
                failures.append(f"{label}: " + "; ".join(problems))
            elif allowed and not problems:
                failures.append(f"{label} agrees now: remove it from ALLOWED ({allowed})")
    assert not failures, "the simulator disagrees with the recorded controller:\n" + "\n".join(failures)


def test_every_allowed_disagreement_names_a_recorded_interaction() -> None:
    for (name, index), reason in ALLOWED.items():
        assert reason.strip(), f"{name}[{index}] needs a reason"
        assert 0 <= index < len(_load(name)), f"{name} has no interaction {index}"
