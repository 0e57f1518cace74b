"""When the plain-English fallback answers and when it asks: a read that ranks first and clearly ahead
is still not run when the sentence holds something that read does not explain (an unknown opening
verb, a value or a second name it takes no argument for, an object of another kind, a state asked
with the metrics). Then it offers two or three commands that work instead of running a wrong tool.
The sentences use names of their own, none from the labelled question sets."""

from __future__ import annotations

from typing import Any

import pytest

from bot.commands import CoreCommand, ToolCommand, parse_command
from bot.commands.intents import best_read, doubts, rank_intents
from bot.commands.plain import match_plain_english, plain_fallback
from bot.commands.reading import read_sentence
from bot.entities import NameTable


def _asks(text: str, names: NameTable | None = None) -> list[str]:
    """The fallback does not answer `text`; the commands it offers instead (each one works)."""
    answer = plain_fallback(text, names)
    assert answer.command is None, (text, answer.command)
    assert 1 <= len(answer.suggestions) <= 3
    for suggestion in answer.suggestions:
        assert isinstance(parse_command(suggestion), ToolCommand | CoreCommand), suggestion
    assert "Did you mean" in answer.text()
    return answer.suggestions


def _reasons(text: str) -> list[str]:
    """Why the read that ranks first for `text` is not run (it would be, on score and margin alone)."""
    r = read_sentence(text)
    intents = rank_intents(r)
    assert best_read(intents) is not None, text  # sure and clearly ahead ...
    assert best_read(intents, r) is None  # ... but not once the whole sentence is read
    return doubts(r, intents[0])


# -- each doubt, on its own ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "archive vs old-blog",  # a delete, maybe, in a word the lexicon does not know
        "repave the storefront vip",  # ("evacuate" is in a seen split now)
        "lower the timeout on hm-blog",
    ],
)
def test_an_unknown_opening_verb_is_not_read_as_a_question(text: str) -> None:
    assert "verb" in doubts(read_sentence(text), rank_intents(read_sentence(text))[0])
    assert match_plain_english(text) is None


def test_an_unknown_verb_is_answered_as_a_possible_change() -> None:
    answer = plain_fallback("archive vs old-blog")
    assert answer.command is None
    assert "confirm" in answer.text()
    assert "vs show old-blog" in answer.suggestions  # the facts, never the change itself


@pytest.mark.parametrize(
    "text",
    [
        "raise the interval of blog-hc to 30 seconds",  # a setting: no read takes 30 seconds
        "register 10.4.4.4 in pool blog",  # an address: no read takes one
        "shop-pool to 8080",
    ],
)
def test_a_value_no_read_takes_is_not_dropped(text: str) -> None:
    r = read_sentence(text)
    assert "value" in doubts(r, rank_intents(r)[0])
    assert match_plain_english(text) is None


def test_a_second_name_the_read_does_not_use_is_not_dropped() -> None:
    assert _reasons("vs-blog should use pool blog-v2-pool") == ["name"]
    _asks("vs-blog should use pool blog-v2-pool")


@pytest.mark.parametrize(
    "text",
    [
        "what request does hm-blog-https send",  # a monitor has no metrics: no virtual service's
        "cert on vs-blog",  # the virtual service's certificate, not a certificate named vs-blog
        "se group of Avi-se-qwert",  # the engine's group, not a group named Avi-se-qwert
        "which pools use hm-blog",  # a monitor's details do not list the pools that use it
        "what servers does storefront-vs send traffic to",  # metrics are not the servers
    ],
)
@pytest.mark.usefixtures("rules_only")  # the rules' doubt; a sure classifier may read the right kind
def test_a_read_about_another_kind_than_the_sentence_is_not_run(text: str) -> None:
    assert "kind" in _reasons(text)
    _asks(text)


def test_metrics_asked_with_a_state_are_two_questions() -> None:
    assert _reasons("is vs-blog up and how much traffic is it getting") == ["state"]
    _asks("is vs-blog up and how much traffic is it getting")


@pytest.mark.usefixtures("rules_only")
def test_the_controllers_names_tell_a_kind_mismatch_too() -> None:
    names = NameTable.build({"vs": ["storefront"], "hm": ["blog-check"]})
    _asks("traffic of blog-check in the last hour", names)  # a monitor: it has no traffic
    command = match_plain_english("traffic of storefront in the last hour", names)
    assert command is not None
    assert command.arguments["entity_type"] == "virtualservice"


# -- what the doubts leave alone --------------------------------------------------------------------


@pytest.mark.usefixtures("rules_only")
@pytest.mark.parametrize(
    ("text", "tool", "arguments"),
    [
        ("timeout of blog-hc", "get_health_monitor", {"name": "blog-hc"}),  # an attribute, no verb
        ("lb algorithm of pool blog", "get_pool", {"name": "blog"}),
        ("average latency of vs-blog", "get_analytics", {"name": "vs-blog"}),  # an adjective
        ("lsit all pools", "list_pools", {}),  # a read's verb, misspelt
        ("certs expiring within 45 days", "list_certificates", {"expiring_within_days": 45}),  # used
        ("errors on vs-blog in the last 3 hours", "get_analytics", {"window": "6h"}),  # a window
        ("which se is vs-blog placed on", "get_virtual_service", {"name": "vs-blog"}),  # a vs shows it
        ("which servers are in pool blog", "get_pool", {"name": "blog"}),  # a pool shows its servers
        ("hey @avibot is vs-blog up", "get_virtual_service", {"name": "vs-blog"}),  # the address
        ("api get /api/cloud?name=Default-Cloud", "execute_generic_operation", {"path": "/api/cloud"}),
    ],
)
def test_a_sentence_the_read_explains_is_still_answered(
    text: str, tool: str, arguments: dict[str, Any]
) -> None:
    command = match_plain_english(text)
    assert command is not None, text
    assert command.tool == tool
    for key, value in arguments.items():
        assert command.arguments.get(key) == value, (key, command.arguments)


# -- readings the doubts rely on ---------------------------------------------------------------------


@pytest.mark.usefixtures("rules_only")
@pytest.mark.parametrize(
    ("text", "tool", "arguments"),
    [
        ("pool blog members", "get_pool", {"name": "blog"}),  # a kind word before: a name, no filter
        ("list the pools containing shop", "list_pools", {"name_contains": "shop"}),
        ("when did vs-blog go down", "list_events", {"name": "vs-blog"}),  # what happened, and when
        ("who modified pool blog", "list_events", {"name": "blog"}),  # a verb's form is no name
        ("se versions", "list_service_engines", {}),  # what is asked about, not a name
        ("show me the vs called api", "get_virtual_service", {"name": "api"}),  # called: a name
    ],
)
def test_readings(text: str, tool: str, arguments: dict[str, Any]) -> None:
    assert match_plain_english(text) == ToolCommand(tool=tool, arguments=arguments)


@pytest.mark.parametrize(
    "text",
    [
        "new tcp health check for port 5432 named pg-hc",  # "new" before a kind, words apart
        "pause vs-blog",  # verbs added to the lexicon
        "kick 10.4.4.4 out of pool blog",
        "throw away vs old-blog",
    ],
)
def test_a_change_is_never_answered_with_a_read(text: str) -> None:
    r = read_sentence(text)
    assert any(i.writes for i in rank_intents(r)), text
    _asks(text)
