"""`read_sentence`: what a sentence names, with no LLM: object kinds, object names, states, subjects,
write verbs, a time window, list filters. The plain-English fallback and the tool router both start
from it; `bot.commands.intents` ranks what the sentence asks for from it.

Every word comes from the lexicon (`bot.lexicon`), read when the sentence is read, so a word added
there reaches the reading with no other edit; only sentence shapes (which words are filler, where a
name sits) are here. A misspelt word ("virtaul", "latncy") is taken for the lexicon word one edit away.
Names are guessed from where they sit ("pool web", "the api vip", "is checkout up", "metrics for X")
and from the lexicon's name patterns (`*-pool`, `Avi-se-*`); with a name index (`NameLookup`, from
bot/entities.py) a name the controller has is known for sure, and so is its kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from avi.object_types import OBJECT_TYPES
from bot import lexicon
from bot.commands.spelling import correct
from bot.commands.vocabulary import Vocabulary, vocabulary
from bot.commands.words import strip_address
from bot.lexicon import spelling_key


class NameLookup(Protocol):
    """Object names the controller has (bot/entities.py): exact (case-insensitive) and close ones."""

    def kinds_of(self, name: str) -> list[tuple[str, str]]:
        """(kind key, the name as the controller spells it) of every object named `name`."""
        ...

    def close(self, word: str, kind: str | None = None, n: int = 3) -> list[tuple[str, str]]:
        """Names like `word` (of one kind, or any), closest first."""
        ...


# Words that never name an object and carry no vocabulary of their own: the sentence's glue.
STOPWORDS = frozenset(
    (
        "a", "an", "the", "of", "for", "on", "in", "to", "at", "by", "from", "with", "about", "over",
        "into", "onto", "off", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does",
        "did", "done", "have", "has", "had", "having", "i", "me", "my", "we", "us", "our", "you", "your",
        "it", "its", "this", "that", "these", "those", "there", "their", "they", "them", "what", "which",
        "who", "whom", "whose", "how", "when", "where", "why", "can", "could", "would", "should", "will",
        "shall", "may", "might", "must", "please", "pls", "plz", "thanks", "thx", "thank", "hey", "hi",
        "hello", "give", "tell", "let", "know", "see", "view", "display", "find", "any", "anything", "all",
        "every", "each", "some", "much", "many", "more", "most", "less", "few", "number", "count", "total",
        "right", "now", "currently", "current", "just", "also", "still", "again", "yet", "only", "really",
        "very", "so", "too", "and", "or", "but", "not", "no", "if", "then", "than", "as", "like", "out",
        "back", "using", "use", "used", "doing", "look", "looks", "looking", "seem", "seems", "going",
        "mean", "want", "need", "needs", "got", "getting", "here", "kind", "sort", "overall", "state",
        "info", "information", "detail", "details", "config", "configuration", "settings", "marked", "via",
        "per", "sec", "second", "seconds", "minute", "minutes", "hour", "hours", "day", "days", "week",
        "weeks", "month", "months", "last", "past", "next", "within", "since", "ago", "soon", "old",
        "other", "another", "same", "different", "custom", "default", "configured", "existing", "defined",
        "exist", "exists", "called", "named", "something", "everything", "everyone", "things", "stuff",
        "whats", "hows", "happen", "ok", "able", "sure", "one", "ones", "two", "three", "top", "bottom",
        "lot", "lots", "quick", "quickly", "asap", "report", "summary", "overview", "yo", "guys", "team",
        "folks", "listening", "placed", "sitting", "hosted", "run", "runs", "across", "between", "under",
        "behind", "via", "both", "either", "name", "names", "highest", "lowest", "biggest", "largest",
        "smallest", "max", "min", "maximum", "minimum", "peak", "worst", "best", "heaviest", "least",
        "without", "whose", "containing", "contains", "matching", "r", "u", "ur",
        # chat and incident shorthand: never an object's name
        "atm", "rn", "fyi", "tbh", "imo", "afaik", "btw", "incident", "outage", "urgent", "eod", "oper",
        "progress", "ongoing", "w/", "w/o", "isnt", "arent", "doesnt", "dont", "wont", "cant", "wasnt",
        "werent", "didnt", "havent", "hasnt", "aint", "full", "complete", "entire", "whole", "carry",
        "carries", "contain",
        "operationally", "avi", "lb", "lbs",
    )
)  # fmt: skip
_INCIDENT_WORDS = re.compile(r"(?:p|sev|s)[0-4]")  # "p1 in progress": a priority, never a name
_PREPOSITIONS = frozenset(
    (
        "of", "for", "on", "to", "in", "about", "from", "at", "behind", "named", "called", "with",
    )
)  # fmt: skip
_LIST_CUES = frozenset(
    (
        "list", "all", "every", "many", "count", "number", "exist", "exists", "which", "any", "our",
    )
)  # fmt: skip
_STATUS_CUES = frozenset(
    (
        "status", "state", "health", "details", "detail", "info", "information", "config", "configuration",
        "settings", "doing", "vip", "ip", "address", "port", "ports", "interval", "timeout", "url", "uri",
        "path", "members", "servers", "running", "listening", "placed", "algorithm", "version",
    )
)  # fmt: skip
_AUXILIARIES = frozenset(("is", "are", "was", "were", "did", "does", "do", "has", "have"))
_PAST = frozenset({"did", "has", "have", "who", "was", "were"})
_ADJECTIVES = frozenset({"new"})
_NO_NAME_VERBS = frozenset(
    {"list", "show", "metrics", "unhealthy"}
)  # their words name no object  # verb words that mostly qualify a noun
_MONITOR_TYPES = ("http", "https", "tcp", "udp", "ping", "dns", "external")
_IP = re.compile(r"\[?[0-9a-f:.]*\d[0-9a-f:.]*\]?(?::\d+)?$")
_TOKEN = re.compile(r"[\w/][\w.:/@~=/-]*")
_UNITS = {"m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "w": 604800, "wk": 604800}
_WINDOW_SECONDS = {"1h": 3600, "6h": 21600, "24h": 86400, "7d": 604800}


@dataclass(frozen=True)
class Mention:
    """A vocabulary phrase found at tokens [start, end): a kind, type, state, subject, verb or window."""

    start: int
    end: int
    role: str  # kind | mention | hint | type | state | subject | verb | window
    key: str
    plural: bool = False


@dataclass(frozen=True)
class NameGuess:
    """A word that probably names an object: the word as typed, its kind, how sure (0..1)."""

    name: str
    kind: str | None
    score: float
    position: int
    known: bool = False  # the name index has it
    explicit: bool = False  # a kind word stands next to it ("pool web")


@dataclass
class Reading:
    """What one sentence names (see the module docstring)."""

    text: str  # lower case, fillers kept, spellings corrected
    words: list[str]  # as typed (case kept)
    low: list[str]
    mentions: list[Mention] = field(default_factory=list)
    names: list[NameGuess] = field(default_factory=list)
    verbs: dict[str, float] = field(default_factory=dict)  # write verbs -> strength
    window: str | None = None
    days: int | None = None  # "in the next 30 days", for certificates
    ips: list[str] = field(default_factory=list)
    path: str | None = None  # a controller API path ("/api/cloud")
    method: str | None = None
    name_contains: str | None = None
    monitor_type: str | None = None
    why: bool = False
    past: bool = False  # it asks whether a change happened ("did anyone disable web?")

    def has(self, role: str, key: str | None = None) -> bool:
        return any(m.role == role and (key is None or m.key == key) for m in self.mentions)

    def keys(self, *roles: str) -> list[str]:
        """The keys of the mentions in `roles`, in sentence order, once each."""
        return list(dict.fromkeys(m.key for m in self.mentions if m.role in roles))

    @property
    def kinds(self) -> list[str]:
        """Kinds named by an alias or a mention (not a hint), in sentence order."""
        return self.keys("kind", "mention")

    @property
    def list_cue(self) -> bool:
        return bool(_LIST_CUES & set(self.low)) or "how many" in self.text or self.has("verb", "list")

    @property
    def status_cue(self) -> bool:
        return bool(_STATUS_CUES & set(self.low)) or self.text.startswith(("is ", "are ", "how is "))

    @property
    def name(self) -> NameGuess | None:
        return self.names[0] if self.names else None


# -- reading ---------------------------------------------------------------------------------------


def _normalize(text: str) -> str:
    body, _ = strip_address(text)
    body = body.replace("\u2019", "'").replace("`", " ")
    body = re.sub(r"<@[\w.|-]+>|(?<![\w/])@[\w.-]+", " ", body)  # "hey @avibot is ...": not a name
    for short, full in (("what's", "what is"), ("whats", "what is"), ("how's", "how is"), ("isn't", "is not"),
                        ("aren't", "are not"), ("who's", "who is"), ("where's", "where is"),
                        ("doesn't", "does not"), ("don't", "do not"), ("can't", "can not")):  # fmt: skip
        body = re.sub(rf"\b{re.escape(short)}\b", full, body, flags=re.I)
    body = re.sub(r"(\w)'s\b", r"\1", body)
    return body


def _tokens(body: str) -> list[str]:
    words = []
    for raw in _TOKEN.findall(body):
        word = raw.rstrip(".:,;-")
        if word:
            words.append(word)
    return words


def _window_of(r: Reading, vocab: Vocabulary) -> str | None:
    found = next((key for pattern, key in vocab.windows if pattern.search(r.text)), None)
    named = [m.key for m in r.mentions if m.role == "window"]
    if named:
        found = max([*named, *([found] if found else [])], key=_WINDOW_SECONDS.__getitem__)
    if found:
        return found
    m = re.search(r"\b(\d+)\s*(m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?)\b", r.text)
    if not m or re.search(rf"\b(?:next|within|in the next)\s+{m.group(1)}\b", r.text):
        return None
    unit = m.group(2).rstrip("s")
    unit = {"minute": "m", "hour": "h", "day": "d", "week": "w"}.get(unit, unit)
    seconds = int(m.group(1)) * _UNITS.get(unit, 0)
    if not seconds:
        return None
    return next((key for key, span in _WINDOW_SECONDS.items() if seconds <= span), "7d")


_AHEAD_UNITS = r"(days?|d|weeks?|w|months?)"


def _days_of(text: str) -> int | None:
    """How far ahead a certificate question looks: "in the next 30 days", "this month", "soon"."""
    number = r"(\d+|an?|one)"  # "within a week"
    if m := re.search(rf"\b(?:next|within|in)\s+(?:the\s+next\s+)?{number}\s*{_AHEAD_UNITS}\b", text):
        n, unit = (int(m.group(1)) if m.group(1).isdigit() else 1), m.group(2)[0]
        return n * {"d": 1, "w": 7, "m": 30}[unit]
    for words, days in (("this month", 30), ("next month", 60), ("this week", 7), ("next week", 14),
                        ("soon", 30), ("expired", 0)):  # fmt: skip
        if re.search(rf"\b{words}\b", text):
            return days
    return None


def _mentions(low: list[str], vocab: Vocabulary) -> tuple[list[Mention], set[int]]:
    """The vocabulary phrases of the sentence, longest first, and the token positions they take."""
    found: list[Mention] = []
    taken: set[int] = set()
    i = 0
    while i < len(low):
        for n in range(min(vocab.longest, len(low) - i), 0, -1):
            entries = vocab.phrases.get("".join(spelling_key(w) for w in low[i : i + n]))
            if n > 1 and any("-" in w or any(c.isdigit() for c in w) for w in low[i : i + n]):
                entries = None  # names are no phrases ("web-vs pool")
            if entries:
                found.extend(Mention(i, i + n, role, key, plural) for role, key, plural in entries)
                taken.update(range(i, i + n))
                i += n
                break
        else:
            i += 1
    return found, taken


def name_like(word: str) -> bool:
    """A word shaped like an object name: a hyphen, dot, underscore or digit in it, or inner capitals."""
    return bool(re.search(r"[-_.\d]", word)) or (word[:1].isupper() and any(c.isupper() for c in word[1:]))


def _kind_at(r: Reading, position: int, roles: tuple[str, ...]) -> Mention | None:
    return next((m for m in r.mentions if m.role in roles and m.start <= position < m.end), None)


def _slot(r: Reading, i: int) -> bool:
    """Where only a name can stand: "is X up", "how is X", "status of X" at the end of the sentence."""
    prev = r.low[i - 1] if i else ""
    prev2 = " ".join(r.low[max(0, i - 2) : i])
    nxt = _kind_at(r, i + 1, ("state",)) if i + 1 < len(r.low) else None
    if (prev in ("is", "are") or prev2 in ("is the", "are the")) and nxt is not None:
        return True
    if prev2 == "how is" or (prev == "the" and " ".join(r.low[max(0, i - 3) : i - 1]) == "how is"):
        return True
    if i + 2 == len(r.low) and r.low[i + 1] in ("status", "state", "health", "details", "info"):
        return True  # "storefront status"
    asked = i >= 3 and r.low[i - 3] in ("which", "what") and _kind_at(r, i - 2, ("kind", "mention"))
    if prev in _AUXILIARIES and asked:
        return True  # "what pool does checkout use"
    return prev in ("of", "for", "on") and i == len(r.low) - 1 and r.status_cue


def _guess_names(r: Reading, taken: set[int], names: NameLookup | None) -> None:
    lex_kinds = ("kind", "mention")
    guesses: list[NameGuess] = []
    for i, (word, low) in enumerate(zip(r.words, r.low, strict=True)):
        if low in STOPWORDS and i not in taken and not name_like(word):
            continue
        if _INCIDENT_WORDS.fullmatch(low) and not (names is not None and names.kinds_of(word)):
            continue
        if _IP.fullmatch(low) or low.isdigit() or low.startswith("/") or re.fullmatch(r"\d+[a-z]{1,3}", low):
            continue
        if low in _MONITOR_TYPES and (r.has("kind", "hm") or r.has("mention", "hm")):
            continue  # "which monitors are http": a type of monitor
        if {low, low.removesuffix("s")} & _STATUS_CUES and not (names is not None and names.kinds_of(word)):
            continue  # "se versions", "the ip of web": what is asked about an object, not its name
        prev = i - 1 if i and r.low[i - 1] not in ("the", "a", "an") else i - 2
        before = _kind_at(r, prev, ("kind",)) if prev >= 0 else None
        after = _kind_at(r, i + 1, lex_kinds) if i + 1 < len(r.low) else None
        if (
            after is not None
            and after.plural
            and before is None
            and not r.text.startswith(("is ", "are ", "how is"))
        ):
            continue  # "the prod virtual services": a filter, not a name ("pool web members" names)
        known = names.kinds_of(word) if names is not None else []
        if i in taken:
            mention = _kind_at(
                r, i, ("kind", "mention", "hint", "state", "subject", "window", "type", "prose", "change")
            )
            strong = before is not None or (after is not None and not after.plural) or _slot(r, i)
            strong = strong or (i > 0 and r.low[i - 1] in ("called", "named"))  # "the vs called api"
            verb = _kind_at(r, i, ("verb",))
            if verb is not None and r.path is None and i and r.low[i - 1] in _PREPOSITIONS:
                strong = strong or not lexicon.LEXICON.verb(verb.key).writes  # "5xx on api": no raw call
            if verb is not None and (
                i == 0 or verb.key in _NO_NAME_VERBS or lexicon.LEXICON.verb(verb.key).writes
            ):
                continue  # "se status" lists; "the api vs" is named
            if mention is not None or not (strong or known):
                continue
        score = 0.6 if name_like(word) else 0.3
        explicit = before or (after if after is not None and not after.plural else None)
        kind = explicit.key if explicit else None
        if explicit:
            score += 0.3
        if i and r.low[i - 1] in _PREPOSITIONS:
            score += 0.2
        if (i and r.low[i - 1] in _AUXILIARIES) or (i + 1 < len(r.low) and r.low[i + 1] in ("is", "are")):
            score += 0.1
        if _slot(r, i):
            score += 0.3
        elif _kind_at(r, i + 1, ("subject",)) is not None and (not i or r.low[i - 1] in STOPWORDS):
            score += 0.2  # "storefront errors"
        elif i and (_kind_at(r, i - 1, ("subject",)) or _kind_at(r, i - 1, ("verb",))):
            score += 0.2  # "throughput checkout"
        if not known and not name_like(word) and re.fullmatch(r"[a-z]{3,}ed", low):
            score -= 0.2  # "who modified pool web": a verb's form, rarely a name
        kinds = [k for k, _ in known]
        if known and (kind is None or kind in kinds):  # "the checkout pool" is no virtual service checkout
            score += 1.0
            kind = kind or kinds[0]
            word = next(n for k, n in known if k == kind)
        known = [k for k in known if k[0] == kind]
        guesses.append(NameGuess(word, kind, min(score, 2.0), i, bool(known), explicit is not None))
    r.names = sorted(guesses, key=lambda g: (-g.score, g.position))


def _drop_filter_word(r: Reading) -> None:
    if r.name_contains:
        r.names = [g for g in r.names if g.name.lower() != r.name_contains.lower()]


def _plain_word(r: Reading, i: int) -> bool:
    """A word that is no vocabulary, glue or address: it can only be (part of) a name."""
    word = r.low[i]
    return (
        word not in STOPWORDS
        and not _IP.fullmatch(word)
        and not any(x.start <= i < x.end for x in r.mentions)
    )


_FILTER_WORDS = frozenset(("in", "from", "like", "for", "contain", "contains"))
_BETWEEN = frozenset(("exist", "exists", "do", "we", "you", "have", "are", "there", "got", "that"))


def _filters(r: Reading) -> None:
    text = r.text
    m = re.search(
        r"\b(?:with|having|have|has)\s+['\"]?([\w.-]+)['\"]?\s+in\s+(?:the|their|its)?\s*names?\b"
        r"|\bnames?\s+(?:contains?|containing|like|matching|with|has|have|includes?)\s+['\"]?([\w.-]+)"
        r"|\b(?:containing|matching|named like|called like)\s+['\"]?([\w.-]+)"
        r"|\b(?:called|named)\s+['\"]?([\w.-]+?)['\"]?\s*(?:\*|\s(?:something|anything|whatever|smth))",
        text,
    )
    if m:
        r.name_contains = next(g for g in m.groups() if g)
    else:
        for mention in r.mentions:
            if mention.role not in ("kind", "mention") or not mention.plural:
                continue
            after, before = mention.end + 1, mention.start - 1
            while after - 1 < len(r.low) and r.low[after - 1] in _BETWEEN:
                after += 1  # "vs exist for checkout", "pools do we have for crm"
            if after < len(r.low) and r.low[after - 1] in _FILTER_WORDS and r.low[after] == "the":
                after += 1  # "pools for the crm app"
            if (  # "pools in dev": a word after a plural kind name filters by name (a server's is a pool)
                after < len(r.low)
                and mention.key != "server"
                and r.low[after - 1] in _FILTER_WORDS
                and _plain_word(r, after)
            ):
                r.name_contains = r.words[after]
            singular = before >= 1 and any(  # "pool web members": pool web's members
                m.role == "kind" and not m.plural and m.end == before for m in r.mentions
            )
            if (
                before >= 0
                and _plain_word(r, before)
                and not singular
                and not r.text.startswith(("is ", "are "))
            ):
                r.name_contains = r.words[before]  # "the prod pools"
    if r.has("kind", "hm") or r.has("mention", "hm"):
        r.monitor_type = next((t for t in _MONITOR_TYPES if re.search(rf"\b{t}\b", text)), None)
        if r.monitor_type and r.name_contains and r.name_contains.lower() == r.monitor_type:
            r.name_contains = None


def _asks(r: Reading, m: Mention) -> bool:
    """Whether a write verb's word asks for a change: always, but for an adjective before a word that
    is no kind's name ("new connections", not "new pool"), and for the nouns of change management
    ("for the change board", "during the change window")."""
    if r.low[m.start] == "change" and m.end < len(r.low) and r.low[m.end] in _CHANGE_NOUNS:
        return False
    if r.low[m.start] in _ADJECTIVES and m.end < len(r.low):
        for i in range(m.end, min(m.end + 3, len(r.low))):  # "new tcp health check": still a kind
            if _kind_at(r, i, ("kind", "mention")) is not None:
                return True
            if r.low[i] in STOPWORDS or _kind_at(r, i, ("subject", "state", "window")) is not None:
                return False
        return False
    if r.low[0] in _PAST and _PAST & set(r.low[max(0, m.start - 3) : m.start]):
        r.past = True  # "did anyone change web": a question about what happened
        return False
    return True


_CHANGE_NOUNS = frozenset(
    ("board", "window", "request", "requests", "ticket", "tickets", "freeze", "management", "record", "cab")
)


def read_sentence(text: str, names: NameLookup | None = None) -> Reading:
    """Read `text` (see the module docstring); `names`: the controller's names, when known."""
    vocab = vocabulary(lexicon.LEXICON)
    words = _tokens(_normalize(text))
    low = [w.lower() for w in words]
    _, taken = _mentions(low, vocab)
    low = [w if i in taken else correct(w, vocab.single, STOPWORDS, vocab.phrases) for i, w in enumerate(low)]
    r = Reading(text=" ".join(low), words=words, low=low)
    r.mentions, taken = _mentions(low, vocab)
    for pattern, verb in vocab.verb_phrases:
        if pattern.search(r.text):
            r.verbs[verb] = max(r.verbs.get(verb, 0.0), 0.9)
    for m in r.mentions:
        if m.role == "change" and _asks(r, m):
            r.verbs.setdefault("change", 0.6)  # a change no tool is known for ("restart"): still a change
        elif m.role in ("verb", "prose") and lexicon.LEXICON.verb(m.key).writes and _asks(r, m):
            r.verbs[m.key] = max(r.verbs.get(m.key, 0.0), 1.0 if m.role == "verb" else 0.8)
    r.window = _window_of(r, vocab)
    r.days = _days_of(r.text)
    r.ips = [w for w in low if (_IP.fullmatch(w) and w.count(".") == 3) or w.startswith("[")]
    if found := re.search(
        r"(?:\b(get|post|put|patch|delete)\s+)?(?<!\S)(/[\w/.?=&-]+)", " ".join(words), re.I
    ):
        typed = found.group(2)
        if typed.startswith("/api/") or found.group(1) or {"api", "raw", "call", "endpoint"} & set(low):
            r.path = "/api/" + typed.removeprefix("/").removeprefix("api/")  # the controller's: /api/...
            r.method = (found.group(1) or "GET").upper()
    if len(r.ips) > 1:  # a batch of servers: the pool scales out or in
        for one, batch in (("add", "scaleout"), ("remove", "scalein")):
            if one in r.verbs:
                r.verbs = {batch: r.verbs[one], **r.verbs}
    r.why = "why" in low
    if low[:1] in (["when"], ["why"]) and low[1:2] and low[1] in ("did", "was", "were", "has", "have"):
        r.past = True  # "when did web go down", "why did web go down": what happened, and when
    _guess_names(r, taken, names)
    _filters(r)
    _drop_filter_word(r)
    return r


def object_type_in(r: Reading) -> str | None:
    """A controller object type the sentence names that is no kind of its own (`clouds`, `se group`)."""
    types = r.keys("type")
    if types:
        return types[0]
    own = {kind.object_type for kind in lexicon.LEXICON.kinds}
    for i in range(len(r.low)):
        covered = any(m.start <= i < m.end for m in r.mentions)  # "alerts": events, "pools": a kind
        for n in (3, 2) if covered else (3, 2, 1):  # ... but "application profiles" is a type
            joined = "".join(spelling_key(w) for w in r.low[i : i + n])
            for candidate in (joined, joined.removesuffix("s")):
                if candidate in OBJECT_TYPES and candidate not in own and len(candidate) > 3:
                    return candidate
    return None
