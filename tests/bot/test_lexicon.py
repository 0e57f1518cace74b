"""One vocabulary: the command parser, the plain-English fallback and the tool router all read the lexicon.

Every name the parser accepts is known to the fallback and the router; every word of the lexicon reaches
the consumers that use its kind of word; a word added to the lexicon reaches all three with no other edit.
The fallback's rule reader is what reads the lexicon, so it is tested on its own here (`rules_only`).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import lexicon
from bot.commands import FORMS, ToolCommand, match_plain_english, parse_command
from bot.commands.grammar import OBJECTS
from bot.lexicon import LEXICON, Lexicon, spelling_key
from bot.routing import question_words, select_tools
from bot.tools import build_catalogue

CATALOGUE = build_catalogue()
TOOLS = CATALOGUE.all()
pytestmark = pytest.mark.usefixtures("rules_only")


def _call(tool: str | None, **arguments: object) -> ToolCommand:
    assert tool is not None
    return ToolCommand(tool=tool, arguments=arguments)


def _routed(question: str, limit: int = 3) -> list[str]:
    return [tool.name for tool in select_tools(question, TOOLS, limit=limit)]


KIND_ALIASES = [(kind.key, alias) for kind in LEXICON.kinds for alias in kind.aliases]
KIND_MENTIONS = [(kind.key, name) for kind in LEXICON.kinds for name in kind.mentions]
KIND_HINTS = [(kind.key, hint) for kind in LEXICON.kinds for hint in kind.hints]


@pytest.mark.parametrize(("key", "alias"), KIND_ALIASES)
def test_every_alias_the_parser_accepts_reaches_the_fallback_and_the_router(key: str, alias: str) -> None:
    kind = LEXICON.kind(key)
    # the parser
    if key in OBJECTS:
        assert parse_command(alias) == _call(FORMS[(key, "list")].tool)
        assert parse_command(f"list {alias}") == _call(FORMS[(key, "list")].tool)
    if kind.unhealthy_tool:
        assert parse_command(f"unhealthy {alias}") == _call(kind.unhealthy_tool)
    # the fallback
    if kind.list_tool:
        assert match_plain_english(f"show me all {alias}") == _call(kind.list_tool)
    if kind.get_tool:
        assert match_plain_english(f"status of {alias} thing-1") == _call(kind.get_tool, name="thing-1")
    if key == "server":
        assert match_plain_english(f"which {alias} are down") == _call(kind.unhealthy_tool)
    # the router
    assert set(kind.topics) <= question_words(alias), alias
    if kind.list_tool:
        assert kind.list_tool in _routed(f"list all {alias}"), alias


@pytest.mark.parametrize(("key", "name"), KIND_MENTIONS)
def test_mentions_name_a_kind_in_sentences_but_are_no_command(key: str, name: str) -> None:
    kind = LEXICON.kind(key)
    assert set(kind.topics) <= question_words(name)
    if kind.get_tool:
        assert match_plain_english(f"status of {name} thing-1") == _call(kind.get_tool, name="thing-1")
    if key == "server":
        assert match_plain_english(f"which {name} are down") == _call(kind.unhealthy_tool)
    assert spelling_key(name) not in LEXICON.kind_names  # the parser does not take it as a name


@pytest.mark.parametrize(("key", "hint"), KIND_HINTS)
def test_hints_only_route(key: str, hint: str) -> None:
    kind = LEXICON.kind(key)
    assert set(kind.topics) <= question_words(hint)
    if kind.list_tool:
        assert kind.list_tool in _routed(f"list all {hint}")


VERB_WORDS = [(verb.key, word) for verb in LEXICON.verbs for word in (*verb.words, *verb.prose)]


@pytest.mark.parametrize(("key", "word"), VERB_WORDS)
def test_verb_words_reach_the_parser_the_router_and_the_fallback(key: str, word: str) -> None:
    verb = LEXICON.verb(key)
    assert set(verb.topics) <= question_words(word)
    if word in verb.words:
        for (obj, form_verb), form in FORMS.items():
            if form_verb == key and form.required == ("name",) and not form.rest_required:
                result = parse_command(f"{obj} {word} thing-1")
                assert isinstance(result, ToolCommand), (obj, word, result)
                assert result.tool == form.tool
    if verb.writes:  # a sentence the fallback answers is refused once it asks for a change
        assert match_plain_english("what is down") is not None
        assert match_plain_english(f"what is down {word}") is None


STATE_NAMES = [(state.key, name) for state in LEXICON.states for name in state.names]


@pytest.mark.parametrize(("key", "name"), STATE_NAMES)
def test_states_reach_the_fallback_and_the_router(key: str, name: str) -> None:
    state = LEXICON.state(key)
    assert match_plain_english(f"is web-vs {name}") == _call("get_virtual_service", name="web-vs")
    if state.trouble:
        assert match_plain_english(f"which pools are {name}") == _call("list_unhealthy_pools")
    if name in state.words:
        assert set(state.topics) <= question_words(name)


def test_state_flags_of_the_grammar_are_lexicon_states() -> None:
    states = {state.key for state in LEXICON.states}
    for form in FORMS.values():
        for field, value in form.flags.values():
            if field == "oper_state":
                assert value in states


@pytest.mark.parametrize("word", LEXICON.subject("traffic").words + LEXICON.verb("metrics").words)
def test_metric_words_reach_the_fallback_and_the_router(word: str) -> None:
    assert match_plain_english(f"{word} for web-vs") == _call(
        "get_analytics", entity_type="virtualservice", name="web-vs"
    )
    assert "metric" in question_words(word)


@pytest.mark.parametrize("word", LEXICON.subject("capacity").words)
def test_capacity_words_reach_the_fallback_and_the_router(word: str) -> None:
    assert match_plain_english(f"{word} of se-1") == _call("get_service_engine", name="se-1")
    assert {"metric", "engine"} <= question_words(word)


WINDOW_CASES = [
    *((window.key, f"traffic of web-vs {word}") for window in LEXICON.windows for word in window.short),
    *((window.key, f"traffic of web-vs {phrase}") for window in LEXICON.windows for phrase in window.phrases),
    *(
        (window.key, f"traffic of web-vs over the {last} {span}")
        for window in LEXICON.windows
        for span in (*window.units, *window.spans)
        for last in ("last", "past")
    ),
]


@pytest.mark.parametrize(("key", "text"), WINDOW_CASES)
def test_windows_reach_the_fallback(key: str, text: str) -> None:
    assert match_plain_english(text) == _call(
        "get_analytics", entity_type="virtualservice", name="web-vs", window=key
    )


@pytest.mark.parametrize(
    ("key", "word"), [(w.key, word) for w in LEXICON.windows for word in (*w.short, *w.units)]
)
def test_windows_reach_the_parser(key: str, word: str) -> None:
    assert parse_command(f"metrics vs-web {word}") == _call(
        "get_analytics", entity_type="virtualservice", name="vs-web", window=key
    )


# -- the lexicon itself --------------------------------------------------------------------------


def test_each_alias_and_verb_word_means_one_thing() -> None:
    aliases = [spelling_key(alias) for kind in LEXICON.kinds for alias in kind.aliases]
    assert len(aliases) == len(set(aliases))
    verb_words = [spelling_key(w) for verb in LEXICON.verbs for w in (*verb.words, *verb.leading)]
    assert len(verb_words) == len(set(verb_words))
    assert not set(aliases) & set(verb_words)
    window_words = [w for window in LEXICON.windows for w in (*window.short, *window.units)]
    assert len(window_words) == len(set(window_words))


def test_the_controllers_entity_names_are_aliases_of_their_kinds() -> None:
    for kind in LEXICON.kinds:
        if kind.object_type:
            assert LEXICON.kind_names[kind.object_type] == kind.key


def test_the_lexicon_names_only_catalogue_tools_and_topics() -> None:
    names = set(CATALOGUE.names)
    for kind in LEXICON.kinds:
        assert {kind.list_tool, kind.get_tool, kind.unhealthy_tool} - {None} <= names
    known = set().union(*(tool.topics | set(tool.name.split("_")) for tool in TOOLS))
    folded_into = {
        topic
        for groups in (LEXICON.kinds, LEXICON.verbs, LEXICON.states, LEXICON.subjects)
        for group in groups
        for topic in group.topics
    }
    assert folded_into <= known, folded_into - known


# -- a word added to the lexicon reaches all three -----------------------------------------------


def _extended() -> Lexicon:
    kinds = tuple(
        replace(kind, aliases=(*kind.aliases, "virtsvc")) if kind.key == "vs" else kind
        for kind in LEXICON.kinds
    )
    states = tuple(
        replace(state, words=(*state.words, "kaput")) if state.key == "down" else state
        for state in LEXICON.states
    )
    return replace(LEXICON, kinds=kinds, states=states)


def test_a_word_added_to_the_lexicon_reaches_all_three(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_command("virtsvc list") is None
    assert match_plain_english("show me all virtsvc") is None
    assert "vs" not in question_words("virtsvc")

    monkeypatch.setattr(lexicon, "LEXICON", _extended())

    assert parse_command("virtsvc list") == _call("list_virtual_services")
    assert parse_command("show virtsvc web") == _call("get_virtual_service", name="web")
    assert match_plain_english("show me all virtsvc") == _call("list_virtual_services")
    assert match_plain_english("which virtsvc are kaput") == _call("list_unhealthy_virtual_services")
    assert {"virtual", "vs"} <= question_words("virtsvc")
    assert {"unhealthy", "down"} <= question_words("kaput")
    assert _routed("list all virtsvc")[0] == "list_virtual_services"
