"""The one vocabulary: what people call things, for the command parser, the fallback and the router.

Object kinds (with their aliases and misspellings), verbs, states, time windows and the other subjects
people ask about (metrics, certificates, ...) are defined here once, as frozen data. Each consumer
derives what it needs: `bot.commands` its object and verb words, `bot.commands.plain` (the plain-English
fallback) its patterns, `bot.routing` the words it folds into the catalogue's tool topics. A word added
here reaches all three.

Consumers read `LEXICON` when they run (`lexicon.LEXICON`, no copy taken at import), and the indexes
derived from it are cached per lexicon, so a test can swap in an extended one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property


def spelling_key(text: str) -> str:
    """Spelling-insensitive key: `Virtual-Services`, `virtual_services`, `virtual services` give one key."""
    return re.sub(r"[\s_-]", "", text.lower())


@dataclass(frozen=True)
class Kind:
    """A kind of thing on the controller that people name.

    `aliases` name it in a command and in a sentence; a space inside one may also be written as a
    hyphen, an underscore or nothing ("virtual service" covers `virtualservice` and `virtual-service`;
    a plural is an alias of its own). `mentions` name it only in a sentence ("is the vip up?"), `hints`
    only point at it, for routing ("app", "listener"). `topics` are the words the catalogue's tools list
    for it; routing folds every alias, mention and hint into them. The tools are the reads the command
    parser and the fallback call for it.
    """

    key: str
    aliases: tuple[str, ...]
    topics: tuple[str, ...]
    mentions: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    title: str | None = None  # its section in the help; None: no section of its own
    object_type: str | None = None  # the controller's name (`virtualservice`), also its analytics entity
    metrics: bool = False  # the analytics API has metrics for it
    list_tool: str | None = None
    get_tool: str | None = None
    unhealthy_tool: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Every way a sentence names it: aliases, then mentions."""
        return (*self.aliases, *self.mentions)


@dataclass(frozen=True)
class Verb:
    """An action of the command grammar (`vs disable web`, `disable vs web`).

    `words` spell it in a command; `leading` stand for it only as a command's first word (`health` =
    `unhealthy`); `prose` say it in a sentence but are no command (`drain` a server). Routing folds its
    words and prose into `topics` (empty: the tools list the words themselves). `writes`: it changes
    the controller, so the plain-English fallback never answers a sentence that contains one.
    """

    key: str
    words: tuple[str, ...]
    topics: tuple[str, ...] = ()
    prose: tuple[str, ...] = ()
    leading: tuple[str, ...] = ()
    writes: bool = False


@dataclass(frozen=True)
class State:
    """A condition of an object. `key` is the controller's word and the command flag (`vs list --down`);
    `words` are what people also say for it ("broken"); `trouble`: asking about it asks what is wrong.
    Routing folds the words (not the key, which tools list themselves) into `topics`."""

    key: str
    words: tuple[str, ...] = ()
    trouble: bool = False
    topics: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.key, *self.words)


@dataclass(frozen=True)
class Subject:
    """Something people ask about that is not an object kind (traffic, capacity, certificates, ...);
    routing folds its words into `topics`."""

    key: str
    words: tuple[str, ...]
    topics: tuple[str, ...]


@dataclass(frozen=True)
class Window:
    """A time range of the analytics API (`key`, what `get_analytics` takes).

    `short` spellings work in a command and a sentence (`24h`, `1d`); `units` are taken bare by a command
    (`metrics vs-web day`) and after "last"/"past" in a sentence, as are `spans` ("24 hours");
    `phrases` name it in a sentence on their own ("today").
    """

    key: str
    short: tuple[str, ...]
    units: tuple[str, ...] = ()
    spans: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)  # compared and hashed by identity, so derived indexes cache per lexicon
class Lexicon:
    """The whole vocabulary, and the lookups every consumer shares."""

    kinds: tuple[Kind, ...]
    verbs: tuple[Verb, ...]
    states: tuple[State, ...]
    subjects: tuple[Subject, ...]
    windows: tuple[Window, ...]  # shortest first
    change_words: tuple[str, ...]  # other words that ask for a change (restart, update, ...)

    def kind(self, key: str) -> Kind:
        return next(kind for kind in self.kinds if kind.key == key)

    def verb(self, key: str) -> Verb:
        return next(verb for verb in self.verbs if verb.key == key)

    def state(self, key: str) -> State:
        return next(state for state in self.states if state.key == key)

    def subject(self, key: str) -> Subject:
        return next(subject for subject in self.subjects if subject.key == key)

    @cached_property
    def kind_names(self) -> dict[str, str]:
        """The spelling key of every kind alias -> the kind's key (`virtualservices` -> `vs`)."""
        return {spelling_key(alias): kind.key for kind in self.kinds for alias in kind.aliases}

    @cached_property
    def verb_names(self) -> dict[str, str]:
        """The spelling key of every command verb word -> the verb's key (`scale-out` -> `scaleout`)."""
        return {spelling_key(word): verb.key for verb in self.verbs for word in verb.words}

    @cached_property
    def leading_names(self) -> dict[str, str]:
        """Words that name a verb only as a command's first word (`health` -> `unhealthy`)."""
        return {spelling_key(word): verb.key for verb in self.verbs for word in verb.leading}

    @cached_property
    def window_names(self) -> dict[str, str]:
        """Every one-word window spelling a command takes -> the window's key (`1d` -> `24h`)."""
        return {word: window.key for window in self.windows for word in (*window.short, *window.units)}

    @cached_property
    def write_words(self) -> tuple[str, ...]:
        """Every word that asks for a change: the write verbs' words and prose, and the change words."""
        words = [w for verb in self.verbs if verb.writes for w in (*verb.words, *verb.prose)]
        return tuple(dict.fromkeys((*words, *self.change_words)))


KINDS: tuple[Kind, ...] = (
    Kind(
        "vs",
        aliases=("vs", "vss", "vses", "virtual service", "virtual services", "vservice", "vservices"),
        mentions=("vip", "vips"),
        hints=("app", "apps", "application", "applications", "listener", "site"),
        topics=("virtual", "vs"),
        title="Virtual services",
        object_type="virtualservice",
        metrics=True,
        list_tool="list_virtual_services",
        get_tool="get_virtual_service",
        unhealthy_tool="list_unhealthy_virtual_services",
    ),
    Kind(
        "pool",
        aliases=("pool", "pools"),
        hints=("back end", "back ends", "member", "members"),
        topics=("pool",),
        title="Pools",
        object_type="pool",
        metrics=True,
        list_tool="list_pools",
        get_tool="get_pool",
        unhealthy_tool="list_unhealthy_pools",
    ),
    Kind(
        "se",
        aliases=("se", "ses", "service engine", "service engines", "engine", "engines"),
        hints=("data plane",),
        topics=("engine", "se"),
        title="Service engines",
        object_type="serviceengine",
        metrics=True,
        list_tool="list_service_engines",
        get_tool="get_service_engine",
    ),
    Kind(
        "hm",
        aliases=("hm", "hms", "health monitor", "health monitors", "monitor", "monitors"),
        hints=("check", "checks", "probe", "probes"),
        topics=("monitor",),
        title="Health monitors",
        object_type="healthmonitor",
        list_tool="list_health_monitors",
        get_tool="get_health_monitor",
    ),
    Kind(
        "server",  # a pool's member; no command object of its own (`unhealthy servers`)
        aliases=("server", "servers"),
        mentions=("back end", "back ends", "member", "members", "node", "nodes", "host", "hosts"),
        topics=("server",),
        unhealthy_tool="list_unhealthy_servers",
    ),
    Kind(
        "types",  # the catalogue of object types the generic tools take
        aliases=("types", "object types", "object type"),
        mentions=("kinds of objects", "types of objects"),
        topics=("object", "type"),
        list_tool="list_object_types",
    ),
)

VERBS: tuple[Verb, ...] = (
    Verb("list", ("list", "ls")),
    Verb("show", ("show", "get", "describe", "info", "details", "status")),
    Verb("enable", ("enable",), topics=("enable",), prose=("bring", "turn"), writes=True),
    Verb("disable", ("disable",), topics=("disable",), prose=("drain", "shut", "turn"), writes=True),
    Verb("scaleout", ("scaleout",), topics=("scale",), prose=("grow",), writes=True),
    Verb("scalein", ("scalein",), topics=("scale",), prose=("shrink",), writes=True),
    Verb("migrate", ("migrate", "move"), topics=("migrate",), writes=True),
    Verb("switchover", ("switchover", "failover"), topics=("switchover",), writes=True),
    Verb("metrics", ("metrics", "metric", "analytics", "stats"), topics=("metric",)),
    Verb("unhealthy", ("unhealthy", "down"), leading=("health",)),
    Verb("create", ("create", "new"), writes=True),
    Verb("delete", ("delete", "del"), writes=True),
    Verb("add", ("add",), topics=("add", "scale"), writes=True),  # `pool add <pool> <server>`
    Verb("remove", ("remove",), topics=("remove", "scale"), writes=True),
    Verb("addserver", ("addserver",), writes=True),
    Verb("removeserver", ("removeserver", "delserver", "deleteserver", "rmserver"), writes=True),
    Verb("enableserver", ("enableserver",), writes=True),
    Verb("disableserver", ("disableserver",), writes=True),
    Verb("api", ("api",), topics=("generic",)),  # a raw controller call; a GET only reads
)

_TROUBLE_TOPICS = ("unhealthy", "down")
_DOWN_WORDS = (
    "unhealthy", "failing", "failed", "broken", "dead", "offline", "red", "bad", "outage", "not healthy",
    "not up", "not working",
)  # fmt: skip
_TRAFFIC_WORDS = (
    "traffic", "throughput", "bandwidth", "latency", "requests", "performance", "statistics", "errors",
    "connections", "graph", "trend",
)  # fmt: skip

STATES: tuple[State, ...] = (
    State("up", ("healthy", "ok", "okay", "fine", "running", "working", "alive", "available")),
    State("down", _DOWN_WORDS, trouble=True, topics=_TROUBLE_TOPICS),
    State("degraded", trouble=True, topics=_TROUBLE_TOPICS),
    State("disabled"),
    State("enabled"),
)

SUBJECTS: tuple[Subject, ...] = (
    Subject("traffic", _TRAFFIC_WORDS, ("metric",)),  # what analytics measures; `metrics` names it too
    Subject(
        "capacity",  # a service engine's resources
        ("cpu", "memory", "load", "utilisation", "utilization", "capacity"),
        ("metric", "engine"),
    ),
    Subject("health", ("health", "healthy"), ("unhealthy", "health")),
    Subject(
        "certificates",
        ("cert", "certs", "certificate", "certificates", "ssl", "tls"),
        ("certificate", "object"),
    ),
    Subject(
        "config",  # controller objects only the generic tools read
        ("tenant", "tenants", "cloud", "clouds", "profile", "profiles", "policy", "policies"),
        ("object",),
    ),
)

WINDOWS: tuple[Window, ...] = (
    Window("1h", ("1h", "60m"), units=("hour",), spans=("60 minutes",)),
    Window("6h", ("6h",), spans=("6 hours",)),
    Window("24h", ("24h", "1d"), units=("day",), spans=("24 hours",), phrases=("today",)),
    Window("7d", ("7d", "1w"), units=("week",), spans=("7 days",), phrases=("this week",)),
)

CHANGE_WORDS: tuple[str, ...] = (
    "scale", "switch", "restart", "reboot", "change", "update", "set", "modify", "put", "make", "fix",
    "stop", "start", "shutdown", "kill", "deploy", "rollback", "roll", "apply", "edit", "rename", "attach",
    "detach", "configure", "clear", "reset", "bounce", "upgrade", "increase", "decrease", "take",
    "replace", "renew", "rotate", "block", "allow", "purge", "flush",
)  # fmt: skip

LEXICON = Lexicon(
    kinds=KINDS,
    verbs=VERBS,
    states=STATES,
    subjects=SUBJECTS,
    windows=WINDOWS,
    change_words=CHANGE_WORDS,
)
