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
    noun: str | None = None  # how the catalogue's tool names spell it: `disable_<noun>`, `create_<noun>`
    name_patterns: tuple[str, ...] = ()  # regexes of names that usually are one of these (`*-pool`)
    shows: tuple[str, ...] = ()  # kinds its reads also show (a virtual service's pool and engines)

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
    `phrases` say it in a sentence in several words, where `*` stands for up to four words of the
    sentence ("take * offline"); `action` is how the catalogue's tool names spell it (`scale_out`
    in `scale_out_pool`), so a write is routed to `<action>_<noun>` of the kind it is about.
    """

    key: str
    words: tuple[str, ...]
    topics: tuple[str, ...] = ()
    prose: tuple[str, ...] = ()
    leading: tuple[str, ...] = ()
    writes: bool = False
    phrases: tuple[str, ...] = ()
    action: str | None = None


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
    routing folds its words into `topics`. `tool`: the read that answers it, when there is one."""

    key: str
    words: tuple[str, ...]
    topics: tuple[str, ...]
    tool: str | None = None


@dataclass(frozen=True)
class TypeName:
    """What people call a controller object type that has no kind of its own (`se group` is a
    `serviceenginegroup`); the generic tools (`list_objects`, `get_object`) read it."""

    key: str
    aliases: tuple[str, ...]


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
    type_names: tuple[TypeName, ...] = ()

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

    @cached_property
    def type_aliases(self) -> dict[str, str]:
        """The spelling key of every object-type alias -> the controller's type (`segroup` -> ...)."""
        return {spelling_key(alias): t.key for t in self.type_names for alias in t.aliases}


_SERVER_MENTIONS = (
    "back end", "back ends", "backend", "backends", "member", "members", "node", "nodes", "host", "hosts",
    "real server", "real servers",
)  # fmt: skip

KINDS: tuple[Kind, ...] = (
    Kind(
        "vs",
        aliases=(
            "vs",
            "vss",
            "vses",
            "virtual service",
            "virtual services",
            "vservice",
            "vservices",
            "virtual svc",
            "virtual svcs",
        ),
        # The controller's UI files virtual services under "Applications": an app is a virtual service.
        mentions=(
            "vip",
            "vips",
            "virtual server",
            "virtual servers",
            "app",
            "apps",
            "application",
            "applications",
        ),
        hints=("listener", "site"),
        topics=("virtual", "vs"),
        title="Virtual services",
        object_type="virtualservice",
        metrics=True,
        list_tool="list_virtual_services",
        get_tool="get_virtual_service",
        unhealthy_tool="list_unhealthy_virtual_services",
        noun="virtual_service",
        name_patterns=(r"vs[-_.].+", r".+[-_.]vs"),
        shows=("pool", "se", "server"),
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
        noun="pool",
        name_patterns=(r".+[-_.]pool", r"pool[-_.].+"),
        shows=("server", "hm"),
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
        noun="service_engine",
        name_patterns=(r"avi-se-\w+", r"se[-_]?\d+", r".+[-_]se[-_]?\d+"),  # `Avi-se-xxxxx`: the default
        shows=("vs",),
    ),
    Kind(
        "hm",
        aliases=("hm", "hms", "health monitor", "health monitors", "monitor", "monitors"),
        mentions=("health check", "health checks", "healthcheck", "healthchecks"),
        hints=("check", "checks", "probe", "probes"),
        topics=("monitor",),
        title="Health monitors",
        object_type="healthmonitor",
        list_tool="list_health_monitors",
        get_tool="get_health_monitor",
        noun="health_monitor",
        name_patterns=(
            r"hm[-_.].+",
            r".+[-_.](hm|hc|monitor|check|probe)",
            r"system-(http|https|tcp|udp|ping|dns)",
        ),
    ),
    Kind(
        "server",  # a pool's member; no command object of its own (`unhealthy servers`)
        aliases=("server", "servers"),
        mentions=_SERVER_MENTIONS,
        topics=("server",),
        unhealthy_tool="list_unhealthy_servers",
        noun="pool_server",
        shows=("pool", "hm"),  # grouped by pool, with the health monitor that failed
    ),
    Kind(
        "types",  # the catalogue of object types the generic tools take
        aliases=("types", "object types", "object type"),
        mentions=("kinds of objects", "types of objects", "kinds of object", "kind of objects"),
        topics=("object", "type"),
        list_tool="list_object_types",
    ),
)

VERBS: tuple[Verb, ...] = (
    Verb("list", ("list", "ls"), prose=("enumerate", "dump")),
    Verb("show", ("show", "get", "describe", "info", "details", "status"), prose=("check",)),
    Verb("enable", ("enable",), topics=("enable",), prose=("bring", "turn", "reenable", "activate", "resume",
                                                           "unpause", "reactivate"),
         writes=True, action="enable", phrases=(
             "turn on", "turn * on", "switch on", "switch * on", "bring * back", "bring * online",
             "put * back",
             "back in rotation", "back into rotation", "back online", "back into service", "re enable")),
    Verb("disable", ("disable",), topics=("disable",), prose=("drain", "shut", "turn", "deactivate", "pause",
                                                              "suspend", "quiesce"),
         writes=True, action="disable", phrases=(
             "turn off", "turn * off", "switch off", "switch * off", "take * offline", "take * down",
             "take * out of rotation", "take * out of service", "pull * out of rotation", "shut down",
             "shut * down", "put * in maintenance", "maintenance mode")),
    Verb("scaleout", ("scaleout",), topics=("scale",), prose=("grow",), writes=True, action="scale_out",
         phrases=("scale out", "scale * out", "scale up", "scale * up", "add another service engine",
                  "add another se", "add another engine", "one more service engine", "one more se",
                  "more capacity", "more engines", "more service engines")),
    Verb("scalein", ("scalein",), topics=("scale",), prose=("shrink",), writes=True, action="scale_in",
         phrases=("scale in", "scale * in", "scale * back in", "scale down", "scale * down", "fewer engines",
                  "fewer service engines", "less capacity")),
    Verb("migrate", ("migrate", "move"), topics=("migrate",), prose=("relocate",), writes=True,
         action="migrate", phrases=("move * to", "move * off", "move * onto")),
    Verb("switchover", ("switchover", "failover"), topics=("switchover",), writes=True, action="switchover",
         phrases=("fail over", "fail * over", "switch over", "switch * over", "to the standby",
                  "to its standby", "to standby", "switch * to * standby")),
    Verb("metrics", ("metrics", "metric", "analytics", "stats"), topics=("metric",)),
    Verb("unhealthy", ("unhealthy", "down"), leading=("health",)),
    Verb("create", ("create", "new"), prose=("provision",), writes=True, action="create",
         phrases=("spin up", "spin * up", "set up", "stand up", "add a", "add an", "add new", "make a",
                  "make an", "make new", "build a", "build an")),
    Verb("delete", ("delete", "del"), prose=("destroy", "decommission", "nuke", "drop", "retire", "wipe"),
         writes=True, action="delete", phrases=("get rid of", "tear down", "tear * down", "clean up",
                                                "remove the", "throw away", "throw * away")),
    Verb("add", ("add",), topics=("add", "scale"), prose=("join", "append", "register"), writes=True,
         action="add",
         phrases=("put * into", "put * in", "join * to", "add * to")),  # `pool add <pool> <server>`
    Verb("remove", ("remove",), topics=("remove", "scale"), prose=("drop",), writes=True, action="remove",
         phrases=("take * out of", "pull * out of", "remove * from", "drop * from", "kick * out of")),
    Verb("addserver", ("addserver",), writes=True, action="add"),
    Verb("removeserver", ("removeserver", "delserver", "deleteserver", "rmserver"), writes=True,
         action="remove"),
    Verb("enableserver", ("enableserver",), writes=True, action="enable"),
    Verb("disableserver", ("disableserver",), writes=True, action="disable"),
    Verb("update", ("update",), topics=("update",), writes=True, action="update",
         prose=("change", "modify", "edit", "rename", "attach", "detach", "set", "repoint", "swap", "bump"),
         phrases=("point * at", "point * to", "switch * to use", "make * expect", "make * use")),
    # `update`: no command form; a sentence for the model, routed to `update_<noun>`
    Verb("api", ("api",), topics=("generic",)),  # a raw controller call; a GET only reads
)  # fmt: skip

_TROUBLE_TOPICS = ("unhealthy", "down")
_DOWN_WORDS = (
    "unhealthy", "failing", "failed", "broken", "dead", "offline", "red", "bad", "outage", "not healthy",
    "not up", "not working", "on fire", "marked down", "erroring", "unreachable", "not responding",
    "not serving", "flapping", "critical", "in trouble", "problem", "problems", "issue", "issues", "wrong",
    "outages",
    "trouble", "fail", "fails",
)  # fmt: skip
_TRAFFIC_WORDS = (
    "traffic", "throughput", "thruput", "tput", "bandwidth", "latency", "requests", "performance",
    "statistics", "errors",
    "connections", "graph", "trend", "response time", "response times", "rtt", "timing", "timings",
    "end to end", "rps", "requests per second", "requests per sec", "error rate", "5xx", "4xx", "spike",
    "spikes", "slow", "slowness", "bytes", "bps", "hits", "concurrent connections", "apdex", "chart", "p50",
    "p90", "p95", "p99", "percentile", "clients", "sessions", "connected clients",
    "server errors", "client errors", "open connections", "rate", "reqs",
    "qps", "tps", "usage", "utilisation over", "round trip", "server rtt", "client rtt", "conns", "sluggish",
)  # fmt: skip

_UP_WORDS = (
    "healthy", "ok", "okay", "fine", "running", "working", "alive", "available", "green", "serving", "online",
    "serving traffic", "taking traffic", "passing traffic",
)  # fmt: skip
_CERT_WORDS = (
    "cert", "certs", "certificate", "certificates", "ssl", "tls", "expiry", "expire", "expires", "expiring",
    "expired", "expiration",
)  # fmt: skip
_EVENT_WORDS = (
    "event", "events", "event log", "log", "logs", "alert", "alerts", "history", "changed", "changes",
    "happened", "happening", "audit trail", "timeline", "recent", "recently", "lately",
)  # fmt: skip

STATES: tuple[State, ...] = (
    State(
        "up",
        _UP_WORDS,
    ),
    State("down", _DOWN_WORDS, trouble=True, topics=_TROUBLE_TOPICS),
    State("degraded", trouble=True, topics=_TROUBLE_TOPICS),
    State("disabled", ("turned off", "switched off", "deactivated", "inactive", "not enabled")),
    State("enabled", ("turned on", "switched on", "active")),
)

SUBJECTS: tuple[Subject, ...] = (
    Subject("traffic", _TRAFFIC_WORDS, ("metric",), tool="get_analytics"),  # `metrics` names it too
    Subject(
        "capacity",  # a service engine's resources
        ("cpu", "memory", "utilisation", "utilization", "capacity", "mem", "ram"),
        ("metric", "engine"),
    ),
    Subject("load", ("load", "busy", "busiest", "loaded"), ("metric", "engine")),  # an engine's, or traffic
    Subject("health", ("health", "healthy"), ("unhealthy", "health")),
    Subject(
        "certificates",
        _CERT_WORDS,
        ("certificate",),
        tool="list_certificates",
    ),
    Subject(
        "events",  # what happened and who did it
        _EVENT_WORDS,
        ("event",),
        tool="list_events",
    ),
    Subject("system", ("load balancer", "load balancers", "controller", "controllers"), ("object",)),
    Subject(
        "config",  # controller objects only the generic tools read
        ("tenant", "tenants", "cloud", "clouds", "profile", "profiles", "policy", "policies"),
        ("object",),
    ),
)

WINDOWS: tuple[Window, ...] = (
    Window("1h", ("1h", "60m"), units=("hour", "hr"), spans=("60 minutes",), phrases=("this hour",)),
    Window("6h", ("6h",), spans=("6 hours",)),
    Window(
        "24h", ("24h", "1d"), units=("day",), spans=("24 hours",), phrases=("today", "yesterday", "overnight")
    ),
    Window("7d", ("7d", "1w"), units=("week",), spans=("7 days",), phrases=("this week",)),
)

CHANGE_WORDS: tuple[str, ...] = (
    "scale", "switch", "restart", "reboot", "change", "update", "set", "modify", "put", "make", "fix",
    "stop", "start", "shutdown", "kill", "deploy", "rollback", "roll", "apply", "edit", "rename", "attach",
    "detach", "configure", "clear", "reset", "bounce", "upgrade", "increase", "decrease", "take",
    "replace", "renew", "rotate", "block", "allow", "purge", "flush",
)  # fmt: skip

TYPE_NAMES: tuple[TypeName, ...] = (
    TypeName("serviceenginegroup", ("se group", "se groups", "service engine group", "engine groups")),
    TypeName("poolgroup", ("pool group", "pool groups")),
    TypeName("sslkeyandcertificate", ("cert", "certs", "certificate", "certificates", "tls cert")),
    TypeName("sslprofile", ("ssl profile", "ssl profiles", "tls profile", "tls profiles")),
    TypeName("applicationprofile", ("app profile", "app profiles", "application profile")),
    TypeName("networkprofile", ("network profile", "network profiles", "tcp profile", "tcp profiles")),
    TypeName("applicationpersistenceprofile", ("persistence profile", "persistence profiles")),
    TypeName("httppolicyset", ("http policy", "http policies", "http policy set", "http policy sets")),
    TypeName("wafpolicy", ("waf policy", "waf policies")),
    TypeName("vrfcontext", ("vrf", "vrfs", "vrf context", "vrf contexts")),
    TypeName("ipaddrgroup", ("ip group", "ip groups", "ip address group", "ip address groups")),
    TypeName("stringgroup", ("string group", "string groups")),
    TypeName("tenant", ("tenant", "tenants")),
    TypeName("cloud", ("cloud", "clouds")),
    TypeName("user", ("user", "users", "user account", "user accounts")),
    TypeName("network", ("network", "networks", "subnet", "subnets")),
    TypeName("vsvip", ("vsvip", "vsvips")),
)  # fmt: skip

LEXICON = Lexicon(
    kinds=KINDS,
    verbs=VERBS,
    states=STATES,
    subjects=SUBJECTS,
    windows=WINDOWS,
    change_words=CHANGE_WORDS,
    type_names=TYPE_NAMES,
)
