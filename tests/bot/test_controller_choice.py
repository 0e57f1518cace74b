"""Reading which controller a message is about: only configured names, only with several, and the
question left without the mention for the parser and the fallback."""

from __future__ import annotations

import pytest

from bot.controller_choice import Mention, read_mention
from bot.fanout import merge_parts
from bot.types import Fact, FactsPart, TablePart, TextPart

NAMES = ["default", "prod-east", "staging"]


@pytest.mark.parametrize(
    ("text", "name", "rest"),
    [
        ("on prod-east, list pools", "prod-east", "list pools"),
        ("vs list @prod-east", "prod-east", "vs list"),
        ("list pools on the staging controller", "staging", "list pools"),
        ("is web-vs up in prod-east?", "prod-east", "is web-vs up?"),
        ("controller staging: vs list", "staging", "vs list"),
        ("<@U123> on staging list pools", "staging", "<@U123> list pools"),
        ("/avi vs list @STAGING", "staging", "/avi vs list"),
        ("vs list @default", "default", "vs list"),
        ("list pools on default controller", "default", "list pools"),
    ],
)
def test_a_named_controller_is_read_and_taken_out(text: str, name: str, rest: str) -> None:
    assert read_mention(text, NAMES) == Mention(text=rest, name=name)


@pytest.mark.parametrize(
    "text",
    [
        "which pools are in the default tenant",  # English, not the controller named default
        "show pool prod-east-pool",  # a name that starts with a controller's
        "show staging pool",  # a bare word is never a controller
        "vs list @prod",  # not a configured name
        "email@staging.example.com is the owner",
    ],
)
def test_words_that_only_look_like_a_controller_are_left_alone(text: str) -> None:
    assert read_mention(text, NAMES) == Mention(text=text)


@pytest.mark.parametrize(
    ("text", "rest"),
    [
        ("which virtual services are down everywhere?", "which virtual services are down?"),
        ("what vs are down on all controllers?", "what vs are down?"),
        ("vs list @all", "vs list"),
        ("pool list across the controllers", "pool list"),
    ],
)
def test_everywhere_is_read(text: str, rest: str) -> None:
    assert read_mention(text, NAMES) == Mention(text=rest, everywhere=True)


def test_commands_about_controllers() -> None:
    assert read_mention("controllers", NAMES).command == "list"
    assert read_mention("which controllers do we have?", NAMES).command == "list"
    for text in ("use staging", "switch to staging", "controller use staging", "staging"):
        assert read_mention(text, NAMES) == Mention(text=text, name="staging", command="switch")


def test_with_one_controller_nothing_is_read() -> None:
    for text in ("vs list @default", "controllers", "vs list everywhere"):
        assert read_mention(text, ["default"]) == Mention(text=text)


def test_tables_merge_with_a_controller_column_and_the_rest_is_titled() -> None:
    a = [
        TablePart(title="Down", columns=["Name", "State"], rows=[["web", "down"]], total=1),
        FactsPart(title="Totals", facts=[Fact(label="down", value="1")]),
        TextPart(markdown="1 down."),
    ]
    b = [TablePart(title="Down", columns=["Name", "State"], rows=[["api", "down"], ["db", "down"]], total=7)]
    merged = merge_parts([("a", a), ("b", b)])
    table = merged[0]
    assert isinstance(table, TablePart)
    assert table.columns == ["Controller", "Name", "State"]
    assert table.rows == [["a", "web", "down"], ["b", "api", "down"], ["b", "db", "down"]]
    assert table.total == 8
    assert table.more is None
    assert isinstance(merged[1], FactsPart)
    assert merged[1].title == "a: Totals"
    assert merged[2] == TextPart(markdown="**a**: 1 down.")
