"""`help_text`: the command-mode help, built from the forms table and the lexicon so it cannot drift.

It is written for the place it is shown in (`Inbound.platform`): Slack types `/avi <command>`, Teams
@mentions the bot, the web page and the terminal (`cli`) type the command itself; the terminal also
says how to leave. Every channel renders the same small Markdown (the terminal shows it as bold and
plain text, never raw `*`, `_` or backticks).
"""

from __future__ import annotations

from bot import lexicon
from bot.commands.grammar import FORMS, GENERIC_LIST, GENERIC_SHOW, OBJECTS, USAGE_API, WINDOW_CHOICES
from bot.commands.words import kind_at, token_key

Section = tuple[str, list[tuple[str, str]]]

_EXAMPLES: dict[str, list[str]] = {
    "vs": [
        "vs list --down",
        "show virtualservice vs-web",
        "vs migrate vs-web to se-2",
        "vs metrics vs-web 6h",
    ],
    "pool": ["pool list --down", "show pool web-pool server", "pool disable-server web-pool 10.0.0.5:8080"],
    "se": ["se list --down", "se show se-1"],
    "hm": ["hm list type http", "hm show http-hm"],
    "metrics": ["metrics vs-web 24h", "metrics pool web-pool", "metrics se se-1 7d"],
    "health": ["unhealthy", "unhealthy servers"],
    "objects": ["types ssl", "show tenant", "show sslkeyandcertificate web-cert", "api GET /cloud"],
    "assistant": ["help pool", "audit 50", "model use llama3.1:8b", "confirm a1b2c3"],
}

_EXTRA_SECTIONS: dict[str, Section] = {
    "metrics": (
        "Metrics",
        [
            (f"metrics <vs> [{WINDOW_CHOICES}]", "a virtual service's traffic and latency (default 1h)"),
            ("metrics pool <name> [window]", "a pool's metrics"),
            ("metrics se <name> [window]", "a service engine's CPU, memory, throughput"),
        ],
    ),
    "health": (
        "Health",
        [
            ("unhealthy", "virtual services that are down or degraded"),
            ("unhealthy pools", "pools that are down or degraded"),
            ("unhealthy servers", "pools with servers down, and which servers"),
        ],
    ),
    "objects": (
        "Any object type",
        [
            ("types [filter]", "object types you can ask about"),
            (GENERIC_LIST.usage, GENERIC_LIST.summary),
            (GENERIC_SHOW.usage, GENERIC_SHOW.summary),
            (USAGE_API, "raw controller API call (anything but GET needs confirmation)"),
        ],
    ),
    "assistant": (
        "Assistant",
        [
            ("help [topic]", "this help; topics: vs, pool, se, hm, metrics, health, objects, assistant"),
            ("audit [n]", "the last n changes made through the assistant"),
            ("model list | model use <name>", "the LLM models available, and switching"),
            ("reset", "forget this conversation's history"),
            ("more", "the next page of the last list shown here"),
            ("confirm <id> | cancel <id>", "run or drop a pending change"),
        ],
    ),
}

# Help topics that are not object kinds; `metrics` and `health` also answer to their verbs' words.
_TOPICS: dict[str, str] = {
    **dict.fromkeys(("objects", "object", "show", "generic", "api"), "objects"),
    **dict.fromkeys(
        ("assistant", "core", "audit", "model", "models", "reset", "confirm", "cancel"), "assistant"
    ),
}


def _topic(word: str) -> str | None:
    lex = lexicon.LEXICON
    metrics, unhealthy = lex.verb("metrics"), lex.verb("unhealthy")
    if word in metrics.words:
        return "metrics"
    if word in (*unhealthy.words, *unhealthy.leading):
        return "health"
    return _TOPICS.get(word)


def _kinds_with_sections() -> list[lexicon.Kind]:
    return [kind for kind in lexicon.LEXICON.kinds if kind.title and kind.key in OBJECTS]


def _sections() -> dict[str, Section]:
    sections = {
        kind.key: (
            kind.title or kind.key,
            [(f.usage, f.summary) for (o, _), f in FORMS.items() if o == kind.key],
        )
        for kind in _kinds_with_sections()
    }
    return {**sections, **_EXTRA_SECTIONS}


def _render(key: str, title: str, lines: list[tuple[str, str]]) -> str:
    body = "\n".join(f"• `{usage}` — {summary}" for usage, summary in lines)
    examples = ", ".join(f"`{e}`" for e in _EXAMPLES.get(key, []))
    return f"*{title}*\n{body}" + (f"\n_e.g._ {examples}" if examples else "")


# How a person gives a command, per platform; anything else (web, cli, unknown) types it as it is.
_HOW_TO_TYPE: dict[str, str] = {
    "slack": "type `/avi <command>`, or mention @avibot with one in a thread",
    "teams": "mention the bot with a command (`@avibot vs list`)",
}
_TERMINAL = "cli"


def _sections_for(platform: str) -> dict[str, Section]:
    sections = _sections()
    if platform == _TERMINAL:
        title, lines = sections["assistant"]
        extra = ("exit", "leave the prompt (or Ctrl-D); the up and down arrows recall earlier lines")
        sections["assistant"] = (title, [*lines, extra])
    return sections


def help_text(topic: str | None = None, platform: str = "") -> str:
    """Markdown help: every command with a one-line description, or one topic (`help pool`), for
    `platform` (the Inbound's: `slack`, `teams`, `web`, `cli`)."""
    sections = _sections_for(platform)
    if topic:
        words = topic.split()
        obj, _ = kind_at(words, 0, OBJECTS)
        key = obj if obj in sections else _topic(token_key(words[0]) if words else "")
        if key:
            return _render(key, *sections[key])
    objects = ", ".join(f"`{kind.key}`" for kind in _kinds_with_sections())
    how = _HOW_TO_TYPE.get(platform, "type a command")
    intro = (
        f"*Command mode* — {how}. Objects: {objects} (long names such as "
        "`virtualservice` work too); verbs in either order (`vs list` = `list vs`), controller-shell "
        "style included (`show virtualservice vs-web`). Changes ask for confirmation first."
    )
    if topic:
        intro = f"No help topic '{topic}'.\n\n{intro}"
    return "\n\n".join([intro, *(_render(key, *section) for key, section in sections.items())])
