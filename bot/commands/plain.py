"""Plain-English fallback for when the LLM is unreachable: the one read a question clearly asks for.

It reads the sentence (`bot.commands.reading`: kinds, names, states, windows, filters, all from the
lexicon), ranks what it asks for (`bot.commands.intents`) and answers the best read when it is sure
and clearly ahead of the next ("latency of web-vs last hour", "is the checkout pool up?", "which
pools have unhealthy servers?"), and when that read explains the whole sentence
(`bot.commands.intents.doubts`): no opening verb it does not know ("retire vs-old"), no value or second
name the read would drop ("... to 5s", "point vs-web at web-pool"), no object of another kind than
the read's ("which pools use hm-web"). It never answers a write (changes only through explicit
commands, which show their exact effect and ask for confirmation), nor a "why" (a diagnosis is the
model's job). When unsure it says so and offers two or three concrete commands instead of guessing:
a wrong answer costs more than a question back.

A second reader checks the first: a tool classifier learned from labelled questions
(bot/commands/learned.py), which generalises better to wording nobody wrote rules for. When both pick
the same read it is answered even if the rules had doubts (but metrics asked with a state are two
questions, and an order with a verb neither reader was taught is asked about). When the classifier is
sure of a read (the rules unsure, or sure of another one) and the sentence gives it what it needs
(bot/commands/guessed.py), its read is answered, unless the rules' read names a real object the
classifier's leaves out ("is web-vs up?" is no listing); when the two pick two forms of one listing
(the unhealthy virtual services, or all of them with a state), it asks which. A diagnosis ("why is
..."), "is that broken?" with nothing named (said before) or an order to change something ("restart
the engines") is never answered by the classifier alone. A page or a number of rows ("page 2", "top
10") is passed to the list tools that take it (bot/commands/amounts.py).

With the controller's names (`NameLookup`, bot/entities.py) it knows which names exist and of what
kind: "is the checkout pool healthy?" finds `checkout-pool`, and a name it does not know is met with
the names that are close ("did you mean checkout-prod-pool?").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from bot import lexicon
from bot.commands import amounts
from bot.commands.guessed import guessed_intent
from bot.commands.intents import PRONOUN, Intent, best_read, doubts, rank_intents
from bot.commands.learned import Guess, ToolClassifier, default_classifier
from bot.commands.models import CommandError, ToolCommand
from bot.commands.parse import parse_command
from bot.commands.reading import STOPWORDS, NameLookup, Reading, name_like, read_sentence
from bot.commands.vocabulary import kind_by_pattern, vocabulary

DEFAULT_SUGGESTIONS = ("vs list", "unhealthy", "help")
# How sure the learned classifier (bot/commands/learned.py) must be to answer its own read ... (both
# chosen by leave-one-split-out measurement on the seen question sets)
LEARNED_SURE = 0.99
LEARNED_DOUBT = 0.5  # ... and how sure of another tool than the rules' read, to make the fallback ask
_DISAGREE = "I can't tell which of these you need without the model."
_DOUBT_NOTES = {  # why a read that ranks first is not run (bot.commands.intents.doubts)
    "verb": "I don't know that verb without the model; a change needs an exact command (it asks to confirm).",
    "value": "I can't tell what that value is for without the model.",
    "name": "That names more than one object; I can't tell which you mean without the model.",
    "kind": "I can't tell which kind of object you mean without the model.",
    "state": "That asks two things; one command answers each.",
}


@dataclass
class Fallback:
    """What the fallback makes of a sentence: a read to run, or what to say and which commands to offer."""

    command: ToolCommand | None
    suggestions: list[str] = field(default_factory=list)
    note: str = ""  # a line for the person ("Taking `checkout-pool` for checkout.")
    missing: str | None = None  # a name the controller's names did not have (a fresher list may)

    def text(self) -> str:
        """The answer when there is no read to run: short, with the commands to try."""
        lead = self.note or "I can't tell what you need without the model."
        shown = ", ".join(f"`{c}`" for c in self.suggestions[:3])
        return f"{lead} Did you mean: {shown}? (`help` lists every command.)" if shown else lead


def _is_read(command: ToolCommand) -> bool:
    if command.tool == "execute_generic_operation":
        return str(command.arguments.get("method", "GET")).upper() == "GET"
    return command.tool.startswith(("list_", "get_"))


def _vocabulary_name(command: ToolCommand) -> bool:
    """A command whose name is a word of the lexicon ("show se events"): prose, not a name."""
    name = command.arguments.get("name")
    if not isinstance(name, str):
        return False
    key = lexicon.spelling_key(name)
    entries = vocabulary(lexicon.LEXICON).phrases.get(key, [])
    return any(role in ("subject", "kind", "mention", "state", "type") for role, _, _ in entries)


def _parsed(text: str) -> ToolCommand | None:
    """What the command grammar makes of the text, when it is a read with a real name."""
    parsed = parse_command(text)
    if isinstance(parsed, ToolCommand) and _is_read(parsed) and not _vocabulary_name(parsed):
        return parsed
    return None


# -- suggestions: the commands that would answer each intent ----------------------------------------


def _command_for(intent: Intent, r: Reading) -> str | None:
    """The command that runs this intent's read (or asks for its write), when the grammar has one."""
    args, kind = intent.arguments, (intent.kinds[0] if intent.kinds else "vs")
    name = args.get("name") or (r.name.name if r.name else None)
    if intent.key == "analytics" and name:
        entity = {"pool": "pool ", "serviceengine": "se "}.get(str(args.get("entity_type")), "")
        return f"metrics {entity}{name} {args.get('window', '1h')}"
    if intent.key == "status" and name:
        return f"{kind} show {name}"
    if intent.key == "health":
        if intent.tool == "list_service_engines":
            return "se list --down"
        if intent.tool == "list_pools":
            return "pool list --down"
        return {"list_unhealthy_pools": "unhealthy pools", "list_unhealthy_servers": "unhealthy servers"}.get(
            intent.tool or "", "unhealthy"
        )
    if intent.key == "list":
        filter_ = f" {args['name_contains']}" if args.get("name_contains") else ""
        state = args.get("oper_state") or ("down" if args.get("servers_down") else None)
        flag = f" --{state}" if state else (" --enabled" if args.get("enabled") else "")
        return f"{kind} list{filter_}{flag}" if kind in ("vs", "pool", "se", "hm") else None
    if intent.key == "types":
        return "types"
    if intent.key == "objects":
        suffix = f" {args['name']}" if args.get("name") else ""
        return f"show {args['object_type']}{suffix}"
    if intent.key == "generic":
        return f"api GET {args['path']}"
    if intent.key == "write" and intent.verb and name:
        verb = {"scaleout": "scaleout", "scalein": "scalein"}.get(intent.verb, intent.verb)
        if kind in ("server", "pool") and r.ips and intent.verb in ("enable", "disable", "add", "remove"):
            return f"pool {verb}-server {name} {r.ips[0]}"
        if kind == "vs" and verb in ("enable", "disable", "scaleout", "scalein", "migrate", "switchover",
                                     "delete"):  # fmt: skip
            target = next(
                (g.name for g in r.names if g.name != name and kind_by_pattern(g.name) == "se"), None
            )
            return f"vs {verb} {name}" + (f" to {target}" if verb == "migrate" and target else "")
    return None


def _suggest(intents: list[Intent], r: Reading, names: list[str] | None = None) -> list[str]:
    out: list[str] = []
    for intent in intents[:4]:
        for name in names or [""]:
            guessed = intent
            if name:
                args = {**intent.arguments, "name": name}
                guessed = Intent(intent.key, intent.score, intent.tool, args, intent.verb, intent.kinds)
            command = _command_for(guessed, r)
            if command and command not in out and not isinstance(parse_command(command), CommandError):
                out.append(command)
    return out[:3] or list(DEFAULT_SUGGESTIONS)


# -- names the controller has -----------------------------------------------------------------------


def _link(intent: Intent, names: NameLookup) -> tuple[Intent | None, str, list[str], str | None]:
    """Check the intent's name against the controller's: the intent to run (None: ask), a note, the
    close names to offer, and the name when it is not the controller's (a name with none close is run
    as asked: the tool says it is not found)."""
    name = intent.arguments.get("name")
    kind = intent.kinds[0] if intent.kinds else None
    if intent.key == "analytics":
        entity = intent.arguments.get("entity_type")
        kind = next((k.key for k in lexicon.LEXICON.kinds if k.object_type == entity), None)
    if not isinstance(name, str) or kind not in ("vs", "pool", "se", "hm"):
        return intent, "", [], None
    if any(k == kind for k, _ in names.kinds_of(name)):
        return intent, "", [], None
    close = [n for _, n in names.close(name, kind)]
    if len(close) == 1 and _derived(name, close[0]):
        intent.arguments = {**intent.arguments, "name": close[0]}
        return intent, f"Taking `{close[0]}` for {name}.", [], None
    if close:
        title = lexicon.LEXICON.kind(kind).title or kind
        shown = " or ".join(f"`{n}`" for n in close[:3])
        return None, f"I found no {title.lower()[:-1]} named `{name}`; did you mean {shown}?", close[:3], name
    return intent, "", [], name


def _derived(word: str, name: str) -> bool:
    """`checkout` for `checkout-pool`: the name is the word plus a kind word or separator."""
    word, name = word.lower(), name.lower()
    if word == name:
        return True
    rest = name.replace(word, "", 1).strip("-_. ")
    return word in name and (not rest or rest in ("pool", "vs", "se", "hm", "vip", "monitor", "hc"))


# -- the fallback ------------------------------------------------------------------------------------


def _is_read_tool(tool: str) -> bool:
    return tool.startswith(("list_", "get_"))


def _listings() -> list[set[str]]:
    """The list tools that answer the same question in two forms: all virtual services with a state
    filter or the unhealthy ones; pools with servers down, the unhealthy pools or their servers."""
    lex = lexicon.LEXICON
    vs, pool, server = lex.kind("vs"), lex.kind("pool"), lex.kind("server")
    return [
        {t for t in (vs.list_tool, vs.unhealthy_tool) if t},
        {t for t in (pool.list_tool, pool.unhealthy_tool, server.unhealthy_tool) if t},
    ]


def _plain_name(intent: Intent) -> bool:
    """The read is about a name that is a plain word (no digit, hyphen or inner capital)."""
    name = intent.arguments.get("name")
    return isinstance(name, str) and not name_like(name)


def _same_listing(one: str, other: str | None) -> bool:
    return any(one in group and other in group for group in _listings())


_POLITE = frozenset(("please", "pls", "plz", "kindly", "ok", "okay", "so", "now", "just", "quickly"))


def _unknown_order(r: Reading, model: ToolClassifier) -> bool:
    """The sentence opens with a word that is neither glue nor politeness and that neither reader was
    ever taught: an order with an unknown verb ("repave the storefront vip"), maybe a change, so the
    fallback asks even when both readers pick the same read. A word the classifier has seen in
    questions ("wich vs are broken", "pager went off ...") is no such order."""
    first = _first_word(r)
    return bool(first) and first not in STOPWORDS and first not in amounts.WORDS and not model.knows(first)


Chooser = Literal["rules", "both", "classifier"]  # who chose the read, which decides the doubts heard


def _learned(
    r: Reading, intents: list[Intent], ruled: Intent | None, guess: Guess | None
) -> tuple[Intent | None, Chooser, bool]:
    """The read to answer (None: ask back), who chose it, and whether the classifier takes the
    sentence for a change (see the module docstring). `ruled`: the rules' read, when they are sure of
    one; `guess`: the classifier's. Each rule was chosen by leave-one-split-out measurement
    (bench/answers.py)."""
    if guess is None:
        return ruled, "rules", False
    change = guess.p >= LEARNED_DOUBT and not _is_read_tool(guess.tool)
    if ruled is not None:
        if guess.tool == ruled.tool:
            return ruled, "both", False
        if guess.p < LEARNED_DOUBT:
            return ruled, "rules", False
        if _same_listing(guess.tool, ruled.tool):
            return None, "rules", False  # two forms of one listing, the readers split: ask which
    if guess.p < LEARNED_SURE or change or _held_back(r):
        return None, "rules", change
    found = guessed_intent(guess.tool, r, intents)
    if found is None or (ruled is not None and _drops_name(ruled, found)):
        return None, "rules", False
    return found, "classifier", False


def _drops_name(ruled: Intent, found: Intent) -> bool:
    """The rules read a real name ("is web-vs up?") that the classifier's read leaves out: ask. A
    plain word the rules took for a name ("page 2 of the vs table") may go."""
    return not _plain_name(ruled) and found.arguments.get("name") != ruled.arguments.get("name")


def _held_back(r: Reading) -> bool:
    """Not the classifier's alone to answer: a diagnosis ("why is web down?"; "which servers are down
    and why" is a listing with its reasons), "is it up?" with nothing named for "it" (said before),
    an order to change something ("restart the service engines"; a change word further on, "before
    we start the change, list ...", is context)."""
    first = _first_word(r)
    lex = lexicon.LEXICON
    unnamed = not (r.kinds or r.keys("type") or r.names)
    return bool(
        first == "why"
        or (unnamed and PRONOUN.search(r.text))
        or first in lex.write_words
        or first in lex.change_words
    )


def _first_word(r: Reading) -> str:
    return next((w for w in r.low if w not in _POLITE), "")


def _classifiers_read(guess: Guess | None, r: Reading, intents: list[Intent]) -> list[Intent]:
    """The read the classifier would run, to offer beside the rules' when the fallback asks ("pools
    with servers down": the pools, or the servers?)."""
    if guess is None or guess.p < LEARNED_DOUBT or not _is_read_tool(guess.tool):
        return []
    found = guessed_intent(guess.tool, r, intents)
    return [found] if found is not None else []


def _heard(doubt: str, chooser: Chooser, r: Reading, model: ToolClassifier) -> bool:
    """Whether a doubt of the rules stops the read. When the classifier chose it too (or alone), only
    two do: metrics asked with a state ("is vs-blog up and how busy is it": two questions) and an
    order with an unknown verb; the others are about the rules' own reading, and measured, they only
    cost answers the classifier had right."""
    if chooser == "rules":
        return True
    return doubt == "state" or (doubt == "verb" and _unknown_order(r, model))


def plain_fallback(
    text: str, names: NameLookup | None = None, model: ToolClassifier | None = None
) -> Fallback:
    """The read to run for `text`, or what to say instead (see the module docstring); `model`: the
    tool classifier (default: the shipped one)."""
    if parsed := _parsed(text):
        return Fallback(parsed)
    r = read_sentence(text, names)
    if not r.low:
        return Fallback(None, list(DEFAULT_SUGGESTIONS))
    model = model or default_classifier()
    guess = model.best(text, r if names is None else None)  # it learned sentences read without names
    intents = rank_intents(r)
    ruled = best_read(intents)
    chosen, chooser, change = _learned(r, intents, ruled, guess)
    if chosen is None:
        lead = ""
        if change or any(i.writes for i in intents):
            lead = "Changes need an exact command (it shows what will change and asks to confirm)."
        elif ruled is not None:
            lead = _DISAGREE
        elif r.why:
            lead = "Working out why needs the model; these show the facts."
        return Fallback(None, _suggest([*_classifiers_read(guess, r, intents), *intents], r), lead)
    if chosen.tool is not None:
        chosen.arguments = amounts.with_amounts(chosen.tool, chosen.arguments, text)
    if reasons := [d for d in doubts(r, chosen) if _heard(d, chooser, r, model)]:
        return Fallback(None, _suggest(intents, r), _DOUBT_NOTES.get(reasons[0], ""))
    note, close, missing = "", list[str](), None
    if names is not None:
        linked, note, close, missing = _link(chosen, names)
        if linked is None:
            return Fallback(None, _suggest([chosen, *intents], r, close), note, missing)
    assert chosen.tool is not None
    if r.why and not note:
        note = "Working out why needs the model; here is what the controller shows."
    return Fallback(
        ToolCommand(tool=chosen.tool, arguments=dict(chosen.arguments)), note=note, missing=missing
    )


def match_plain_english(
    text: str, names: NameLookup | None = None, model: ToolClassifier | None = None
) -> ToolCommand | None:
    """The one read a plain-English question clearly asks for, or None (never a write)."""
    return plain_fallback(text, names, model).command


def looks_like_prose(text: str) -> bool:
    """Whether text the grammar refused reads as a sentence ("metrics for the checkout vip") rather
    than a mistyped command ("vs show"): it has the glue words of a sentence."""
    r = read_sentence(text)
    glue = [w for w in r.low if w in STOPWORDS and not re.search(r"[-_.\d]", w)]
    return len(glue) >= 1 and len(r.low) >= 3
