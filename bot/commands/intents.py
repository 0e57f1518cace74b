"""`rank_intents`: what a sentence asks for, best first, each with the read that answers it.

From a `Reading` (bot/commands/reading.py): metrics of one object, what is unhealthy, the status of
one object, a listing, events, certificates, other object types, a raw API call, or a change (a write
verb and the kinds it may be about). Each intent has a score in 0..1: near 1 when the sentence says it
plainly ("latency of web-vs last hour"), lower when it is a guess; the fallback and the router use it.

Metrics, errors, throughput, latency or a time window mean analytics even when a virtual service is
named; a "why" is a diagnosis (the model's), so reads but the object's state and events score lower.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot import lexicon
from bot.commands.reading import STOPWORDS, Mention, NameGuess, Reading, name_like, object_type_in
from bot.commands.spelling import distance
from bot.commands.vocabulary import kind_by_pattern

SURE = 0.7  # the fallback answers an intent at least this sure ...
MARGIN = 0.1  # ... and this much surer than the best intent for another tool
_WHY = 0.35


def _fact_of_why(intent: Intent, r: Reading) -> bool:
    """ "why is web-vs down": the diagnosis is the model's, but the object's state (with the reason the
    controller gives), what is down (with its reasons) and the events are the facts a person would look
    at first; "why did it go down last night" asks what happened: the events, not today's state."""
    if intent.key in ("events", "health"):
        return True
    return intent.key == "status" and not r.past


_NO_HEALTHY = re.compile(
    r"\b(?:no|without(?: any)?|zero|none of the)\s+(?:healthy|up|working|live)\b"
    r"|\ball (?:servers|members) down\b"
)
PRONOUN = re.compile(r"^(?:is|are|was|were)\s+(?:it|that|this|they|those|these)\b|^(?:it|that|this|they)\b")
_WHO_DID = re.compile(r"\bwho\b(?:\s+\S+){0,2}\s+\w+ed\b")


@dataclass
class Intent:
    """One thing the sentence may ask for. `tool` and `arguments`: the read that answers it (None for a
    write: the router finds `<verb action>_<kind noun>` in the catalogue). `kinds`: what it is about,
    likeliest first. `complete`: the read has every argument it needs."""

    key: str  # analytics | health | status | list | events | certificates | objects | types | generic | write
    score: float
    tool: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    verb: str | None = None
    kinds: tuple[str, ...] = ()
    complete: bool = True

    @property
    def writes(self) -> bool:
        return self.key == "write"


def _kind(r: Reading, guess: NameGuess) -> str | None:
    """The kind of the object a name names: said next to it, known, by its shape, or by context."""
    if guess.kind:
        return guess.kind
    if found := kind_by_pattern(guess.name):
        return found
    i = guess.position
    if (
        i >= 2
        and r.low[i - 1] in ("of", "in", "behind", "for")
        and any(m.key == "server" and m.end == i - 1 for m in r.mentions)
    ):
        return "pool"  # "servers in web", "members of checkout": a pool's
    said = [k for k in _subject_kinds(r) if lexicon.LEXICON.kind(k).get_tool]
    return said[0] if len(said) == 1 else None


def _asked(r: Reading, m: Mention) -> bool:
    """A kind the sentence asks for about a named object ("which se is web on": web's engine)."""
    return (
        m.start > 0
        and r.low[m.start - 1] in ("which", "what")
        and m.end < len(r.low)
        and any(g.position > m.end and g.score >= 0.5 for g in r.names)
    )


def _subject_kinds(r: Reading) -> list[str]:
    """Kinds the sentence is about, in sentence order; not one it asks for (see `_asked`)."""
    out = []
    for m in r.mentions:
        if m.role in ("kind", "mention") and not _asked(r, m) and m.key not in out:
            out.append(m.key)
    return out


def _name(r: Reading, least: float = 0.4) -> NameGuess | None:
    guess = r.name
    return guess if guess is not None and guess.score >= least else None


def _entity(kind: str | None) -> str:
    lex = lexicon.LEXICON
    chosen = lex.kind(kind) if kind else None
    return (
        chosen if chosen is not None and chosen.metrics else lex.kind("vs")
    ).object_type or "virtualservice"


def _writes(r: Reading, kinds: list[str], name_kind: str | None) -> list[Intent]:
    order = list(kinds)
    if name_kind and name_kind not in order:
        order.append(name_kind)
    if r.ips and not set(kinds) - {"server", "pool"}:
        order[:0] = ["server", "pool"]  # "drain 10.0.0.5": a pool's server
    elif r.ips:
        order += ["server", "pool"]
    order = list(dict.fromkeys([*order, "vs"]))
    out = [Intent("write", s, verb=v, kinds=tuple(order)) for v, s in r.verbs.items()]
    if r.path and r.method and r.method != "GET":
        out.append(Intent("write", 1.0, "execute_generic_operation", {"method": r.method, "path": r.path}))
    return out


def _analytics(r: Reading, guess: NameGuess | None, kind: str | None) -> list[Intent]:
    subjects = set(r.keys("subject"))
    measured = "traffic" in subjects or r.has("verb", "metrics")
    engine_words = "capacity" in subjects
    load = "load" in subjects  # an engine's load, or a service's traffic ("how busy is web")
    if load and not engine_words:
        if "se" in r.kinds or kind == "se" or guess is None:
            engine_words = True
        else:
            measured = True
    capacity = engine_words and not measured
    out: list[Intent] = []
    window = {"window": r.window} if r.window else {}
    lex = lexicon.LEXICON
    if measured:
        if guess is not None:
            args = {"entity_type": _entity(kind), "name": guess.name}
            out.append(Intent("analytics", 0.85 + 0.05 * bool(r.window), "get_analytics", {**args, **window}))
        else:
            out.append(Intent("analytics", 0.45, "get_analytics", window, complete=False))
    if capacity:
        engines = "se" in r.kinds or kind == "se" or (guess is not None and kind is None)
        se = lex.kind("se")
        if guess is not None and guess.score < 0.5:
            guess = None
        if guess is not None and engines:
            series = Intent("analytics", 0.6, "get_analytics", {"entity_type": se.object_type,
                                                                 "name": guess.name, **window})  # fmt: skip
            one = Intent("status", 0.82, se.get_tool, {"name": guess.name}, kinds=("se",))
            if r.window:
                series.score, one.score = 0.88, 0.6
            out += [series, one]
        elif guess is not None and kind in ("vs", "pool"):
            args = {"entity_type": _entity(kind), "name": guess.name, **window}
            out.append(Intent("analytics", 0.75, "get_analytics", args))
        elif not [k for k in r.kinds if k != "se"]:
            out.append(Intent("list", 0.85, se.list_tool, kinds=("se",)))
    if not (measured or capacity) and r.window and guess is not None and "events" not in subjects:
        args = {"entity_type": _entity(kind), "name": guess.name, **window}
        out.append(Intent("analytics", 0.6, "get_analytics", args))
    return out


def _pools_first(r: Reading) -> bool:
    kinds = [m for m in r.mentions if m.key in ("pool", "server") and m.role in ("kind", "mention")]
    return [m.key for m in kinds[:2]] == ["pool", "server"] and kinds[0].plural


def _health(r: Reading, guess: NameGuess | None) -> list[Intent]:
    lex = lexicon.LEXICON
    states = r.keys("state")
    trouble = any(lex.state(s).trouble for s in states) or bool(_NO_HEALTHY.search(r.text))
    asked = "health" in r.keys("subject") and not states
    overall = bool(states) and bool({"everything", "anything", "something", "all"} & set(r.low))
    if not (trouble or asked or overall) or (guess is not None and guess.score >= 0.5):
        return []
    kinds = [k for k in _subject_kinds(r) if k != "types"]
    score = 0.88 if trouble else 0.7
    if "server" in kinds and set(kinds) <= {"server", "pool", "hm"} and not _NO_HEALTHY.search(r.text):
        if _pools_first(r):  # "which pools have servers down?": the pools (the catalogue's example)
            tool = lex.kind("pool").list_tool
            return [Intent("health", score, tool, {"servers_down": True}, kinds=("pool",))]
        return [Intent("health", score, lex.kind("server").unhealthy_tool, kinds=("server",))]
    if "pool" in kinds or (_NO_HEALTHY.search(r.text) and "server" in kinds):
        return [Intent("health", score, lex.kind("pool").unhealthy_tool, kinds=("pool",))]
    if "se" in kinds:
        return [
            Intent("health", score - 0.03, lex.kind("se").list_tool, {"oper_state": "down"}, kinds=("se",))
        ]
    if "hm" in kinds:
        return [Intent("health", 0.5, lex.kind("server").unhealthy_tool, kinds=("server",))]
    if not kinds and not trouble:
        score = 0.85 if overall else 0.6
    if PRONOUN.search(r.text):
        score -= 0.3  # "is it broken?": it is whatever was said before
    return [Intent("health", score, lex.kind("vs").unhealthy_tool, kinds=("vs",))]


def _status(r: Reading, guess: NameGuess | None, kind: str | None) -> list[Intent]:
    if guess is None or guess.score < 0.5:
        return []
    lex = lexicon.LEXICON
    chosen = lex.kind(kind or "vs")
    if not chosen.get_tool:
        return []
    score = 0.6
    about = re.match(r"(?:tell me about|what about)\b", r.text) or any(
        _asked(r, m) for m in r.mentions if m.role in ("kind", "mention")
    )
    does = guess.position and r.low[guess.position - 1] in ("does", "do", "is", "are", "was")
    servers = chosen.key == "pool" and "server" in r.kinds  # "backends of web-pool"
    if r.status_cue or r.keys("state") or r.has("verb", "show") or about or does or servers:
        score += 0.15
    if guess.explicit or guess.known:
        score += 0.1
    if {"traffic", "capacity", "load", "events"} & set(r.keys("subject")) or r.has("verb", "metrics"):
        score = min(score, 0.65)  # "latency of web": the name is what the metrics are of
    before = r.low[guess.position - 1] if guess.position else ""
    of = (before in ("of", "for", "on") and r.status_cue) or before in ("called", "named")
    if not (guess.explicit or guess.known or name_like(guess.name) or does or about or of):
        score = min(score, 0.65)  # "what's down? pager just went off": a plain word, nothing says it names
    return [Intent("status", score, chosen.get_tool, {"name": guess.name}, kinds=(chosen.key,))]


def _list(r: Reading, guess: NameGuess | None) -> list[Intent]:
    lex = lexicon.LEXICON
    kinds = [k for k in _subject_kinds(r) if lex.kind(k).list_tool]
    hinted = False
    if not kinds:
        kinds = [k for k in r.keys("hint") if lex.kind(k).list_tool]
        hinted = True
    if not kinds:
        if "server" in r.kinds:
            kinds, hinted = ["pool"], True
        else:
            return []
    kind = lex.kind(kinds[0])
    score = 0.55 if hinted else 0.75 + 0.1 * (r.list_cue or any(m.plural for m in r.mentions))
    others = set(r.keys("subject")) - {"config"} - _places(r)
    trouble = any(lex.state(s).trouble for s in r.keys("state"))
    if others or r.verbs or (trouble and kind.key != "se"):
        score = min(score, 0.5)
    named = guess is not None and guess.score >= 0.5
    if named:
        score = 0.4
    if len(kinds) > 1 and not hinted:
        score = min(score, 0.5)  # "compare pools and virtual services": which listing?
    args: dict[str, Any] = {}
    states = r.keys("state")
    if kind.key == "vs" and ("disabled" in states or "enabled" in states):
        args["enabled"] = "enabled" in states and "disabled" not in states
        score = score if named else max(score, 0.85)  # "is web enabled?" asks about web
    elif kind.key in ("vs", "se") and states and states[0] in ("up", "down"):
        args["oper_state"] = states[0]
    if kind.key == "hm" and r.monitor_type:
        args["type"] = r.monitor_type
    if r.name_contains:
        args["name_contains"] = r.name_contains
    return [Intent("list", score, kind.list_tool, args, kinds=(kind.key,))]


def _places(r: Reading) -> set[str]:
    """Subjects that only say where ("how many vs are on the controller", "apps on the lb"): the
    load balancer itself after on/in/from/across, which asks nothing about it."""
    systems = [m for m in r.mentions if (m.role, m.key) == ("subject", "system")]
    located = all(
        any(w in ("on", "in", "from", "across", "behind") for w in r.low[max(0, m.start - 2) : m.start])
        for m in systems
    )
    return {"system"} if systems and located else set()


def _other(r: Reading, guess: NameGuess | None) -> list[Intent]:
    """Events, certificates, other object types, the types themselves, a raw GET."""
    lex = lexicon.LEXICON
    out: list[Intent] = []
    subjects = r.keys("subject")
    if r.path and r.method == "GET":
        out.append(Intent("generic", 0.95, "execute_generic_operation", {"method": "GET", "path": r.path}))
    if r.has("kind", "types") or r.has("mention", "types"):
        out.append(Intent("types", 0.95, lex.kind("types").list_tool))
    if "events" in subjects or _WHO_DID.search(r.text) or r.past:
        args: dict[str, Any] = {"window": r.window} if r.window else {}
        if guess is not None and guess.score >= 0.5:
            args["name"] = guess.name
        elif kinds := [k for k in _subject_kinds(r) if lex.kind(k).object_type]:
            args["object_type"] = lex.kind(kinds[0]).object_type
        out.append(Intent("events", 0.9, lex.subject("events").tool, args))
    cert_type = lex.type_aliases.get("certificate", "sslkeyandcertificate")
    if "certificates" in subjects:
        expiry = r.days is not None or bool(re.search(r"\bexpir", r.text))
        # "certs for payments": the certificates with that in their names, not one called so
        several = any(
            m.plural or r.low[m.end - 1].endswith("s")
            for m in r.mentions
            if (m.role, m.key) == ("subject", "certificates")
        )
        if guess is not None and guess.score >= 0.5 and not expiry and not several:
            out.append(Intent("objects", 0.85, "get_object", {"object_type": cert_type, "name": guess.name}))
        else:
            args = {"expiring_within_days": r.days} if r.days is not None else {}
            if guess is not None and guess.score >= 0.5:
                args["name_contains"] = guess.name  # "when does web-cert expire"
            elif r.name_contains:
                args["name_contains"] = r.name_contains
            score = 0.88 if expiry or not _subject_kinds(r) else 0.55
            out.append(Intent("certificates", score, lex.subject("certificates").tool, args))
    if (obj_type := object_type_in(r)) and obj_type != cert_type:
        if guess is not None and guess.score >= 0.5:
            out.append(Intent("objects", 0.85, "get_object", {"object_type": obj_type, "name": guess.name}))
        else:
            args = {"object_type": obj_type}
            if r.name_contains:
                args["name_contains"] = r.name_contains
            out.append(Intent("objects", 0.85, "list_objects", args))
    return out


def rank_intents(r: Reading) -> list[Intent]:
    """Every intent the sentence may have, best first, one per tool (writes: one per verb)."""
    guess = _name(r)
    kind = _kind(r, guess) if guess is not None else None
    if guess is not None and kind and kind != guess.kind:
        guess = NameGuess(guess.name, kind, guess.score, guess.position, guess.known, guess.explicit)
    reads = [*_other(r, guess), *_analytics(r, guess, kind), *_health(r, guess), *_status(r, guess, kind)]
    reads += _list(r, guess)
    asked_change = any(v != "change" for v in r.verbs)
    for intent in reads:
        if r.why and not _fact_of_why(intent, r):
            intent.score -= _WHY
        if asked_change:
            intent.score = min(intent.score, 0.75)  # a write ranks its verb's tool first
    found = [*_writes(r, _subject_kinds(r), kind), *reads]
    found.sort(key=lambda i: -i.score)
    seen: set[tuple[str, str | None]] = set()
    out = []
    for intent in found:
        key = (intent.tool or "", intent.verb)
        if key not in seen:
            seen.add(key)
            out.append(intent)
    return out


def best_read(intents: list[Intent], r: Reading | None = None) -> Intent | None:
    """The read the fallback may answer with: sure, clearly ahead, complete, and no write asked; with
    the reading, also nothing in the sentence that the read leaves unexplained (`doubts`)."""
    if not intents or any(i.writes and i.score >= 0.6 for i in intents):
        return None
    top = intents[0]
    if top.score < SURE or not top.complete or top.tool is None:
        return None
    rival = next((i for i in intents[1:] if i.tool != top.tool), None)
    if rival is not None and rival.score > top.score - MARGIN:
        return None
    if r is not None and doubts(r, top):
        return None
    return top


# -- doubts: what a sure-looking read would leave unexplained --------------------------------------------

# Words that open a request without being its verb ("please", "can you", "i need").
_LEAD_IN = frozenset(
    (
        "please", "pls", "plz", "kindly", "hey", "hi", "hello", "yo", "ok", "okay", "so", "and", "also",
        "then", "now", "quickly", "just", "can", "could", "would", "will", "you", "u", "i", "we", "need",
        "want", "to", "let", "me", "us", "go", "ahead", "guys", "team", "folks", "gimme", "lemme", "wanna",
        "btw", "sorry", "morning", "afternoon", "evening", "gm", "question", "q", "one", "quick", "hiya",
    )
)  # fmt: skip
_TIME_UNITS = re.compile(r"(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?|months?)")
_NUMBER = re.compile(r"(\d+)([a-z]*)")
_HTTP_STATUS = re.compile(r"[45](?:\d\d|xx)s?")


def _covered(r: Reading, i: int) -> bool:
    return any(m.start <= i < m.end for m in r.mentions)


def _used_names(intent: Intent) -> set[str]:
    return {str(v).lower() for k, v in intent.arguments.items() if isinstance(v, str | int) and k != "method"}


def target_kind(intent: Intent) -> str | None:
    """The lexicon kind a read is about (a virtual service, a pool's servers ...), when it is one."""
    if intent.key == "analytics":
        entity = intent.arguments.get("entity_type")
        return next((k.key for k in lexicon.LEXICON.kinds if k.object_type == entity), None)
    if intent.key in ("status", "list", "health") and intent.kinds:
        return intent.kinds[0]
    return None


def _name_kind(r: Reading, name: str) -> str | None:
    """What the sentence and the name index say a name is: the kind word next to it, the kind the
    controller has it as, else its shape (`*-pool`, `Avi-se-*`)."""
    guess = next((g for g in r.names if g.name.lower() == name.lower()), None)
    if guess is not None and guess.kind and (guess.explicit or guess.known):
        return guess.kind
    return kind_by_pattern(name)


def _unknown_verb(r: Reading, used: set[str]) -> bool:
    """The request opens with a word the reading does not explain: no vocabulary, glue, name or
    value, and no adjective of a subject that follows ("average latency of web")."""
    i = next((i for i, w in enumerate(r.low) if w not in _LEAD_IN), None)
    if i is None:
        return False
    word = r.low[i]
    if word in STOPWORDS or _covered(r, i) or word in used or word in r.ips or word.startswith("/"):
        return False
    if name_like(r.words[i]) or _NUMBER.fullmatch(word):
        return False
    reads = (w for v in lexicon.LEXICON.verbs if not v.writes for w in (*v.words, *v.prose) if len(w) > 3)
    if any(distance(word, w, 1) <= 1 for w in reads):
        return False  # "lsit all pools": a read's verb, misspelt
    described = next((m for m in r.mentions if m.start == i + 1), None)
    if described is not None and described.role in ("subject", "state"):
        return False  # "average latency of web": an adjective
    j = i + 1
    while j < len(r.low) and r.low[j] not in STOPWORDS and not _covered(r, j) and r.low[j].isalpha():
        j += 1
    return not (j < len(r.low) and r.low[j] in ("of", "for", "and", "on"))  # "lb algorithm of web": a noun


def doubts(r: Reading, intent: Intent) -> list[str]:
    """Why the fallback should not answer `intent` although it ranks first and clearly ahead: what in
    the sentence the read does not explain. Empty when there is nothing. The reasons:

    - `verb`: the sentence opens with a word the lexicon does not know and that names nothing: most
      likely a verb ("retire vs-old", "bump the timeout of hm-web"), maybe a change;
    - `value`: an address, number or duration the read takes no argument for ("... to 5s", "10.0.0.5");
    - `name`: another name the read does not use ("point vs-web at web-pool");
    - `kind`: the read is about another kind than the sentence: the name is of another kind ("the
      request hm-web sends" is no virtual service's metrics, "cert on vs-web" no certificate's name),
      or a kind the sentence names is not one the read shows ("which pools use hm-web" is not in the
      monitor's details);
    - `state`: metrics were asked for together with a state ("is web up and how busy is it").
    """
    out: list[str] = []
    used = _used_names(intent)
    if intent.key in ("generic", "types"):
        return out  # a path, or the types themselves: nothing to misread
    if _unknown_verb(r, used):
        out.append("verb")
    # values the read takes no argument for
    timed = "window" in intent.arguments or "expiring_within_days" in intent.arguments
    for i, word in enumerate(r.low):
        if _covered(r, i) or word in used:
            continue
        if word in r.ips:
            out.append("value")
            continue
        number = _NUMBER.fullmatch(word)
        if number is None or _HTTP_STATUS.fullmatch(word):
            continue  # "seeing 503s": a symptom, not a value for an argument
        unit = number.group(2) or (r.low[i + 1] if i + 1 < len(r.low) else "")
        if not (timed and _TIME_UNITS.fullmatch(unit)):
            out.append("value")
    # another name
    contains = (r.name_contains or "").lower()
    for g in r.names:
        low = g.name.lower()
        if low in used or low == contains or g.score < 0.6:
            continue
        if name_like(g.name) or g.known:
            out.append("name")
            break
    # the kind agrees
    lex = lexicon.LEXICON
    kind = target_kind(intent)
    name = intent.arguments.get("name")
    if isinstance(name, str) and intent.key in ("analytics", "status", "objects"):
        said = _name_kind(r, name)
        if intent.key == "objects":
            typed = [
                m.start
                for m in r.mentions
                if m.role == "type" or (m.role, m.key) == ("subject", "certificates")
            ]
            where = next((g.position for g in r.names if g.name.lower() == name.lower()), None)
            if said is not None or (typed and where is not None and min(typed) > where):
                out.append("kind")  # "cert on vs-web", "does web have ssl": the vs's, not a cert
        elif said is not None and kind is not None and said != kind:
            out.append("kind")
    if intent.key == "analytics" and r.has("state"):
        out.append("state")  # "is web up, and how much traffic": its state too, which metrics don't tell
    if kind is not None:
        allowed = {kind} if intent.key == "analytics" else {kind, *lex.kind(kind).shows}
        if any(k not in allowed and k != "types" for k in r.kinds):
            out.append("kind")
    return list(dict.fromkeys(out))
