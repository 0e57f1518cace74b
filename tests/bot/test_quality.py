"""The answer-quality measurement: it counts what it says it counts, and the shipped questions are sound.

The figures themselves (how good the router and the fallback are today) are not asserted here: they
move as the router and the fallback are tuned. What must not move is how they are counted.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from avibot.eval import FRESH, SEEN_FRESH, SPLITS, question_file, questions_for
from bench.answers import markdown
from bot.quality import ItemResult, Report, arguments_match, assign_splits, measure, measure_item
from bot.questions import BLIND, WRITTEN
from bot.questions.format import Question, QuestionError, load_questions, parse_questions
from bot.tools import build_catalogue
from bot.types import Risk

CATALOGUE = build_catalogue()


def item(
    expected: str,
    fallback: str | None,
    *,
    kind: str = "read",
    offered: tuple[str, ...] = (),
    arguments_ok: bool | None = None,
    missing: bool = False,
) -> ItemResult:
    q = Question(text=f"q {expected} {fallback} {kind}", expected_tool=expected, kind=kind)  # type: ignore[arg-type]
    return ItemResult(
        question=q,
        missing=missing,
        offered=offered,
        schema_chars=100,
        fallback_tool=fallback,
        fallback_arguments={},
        fallback_arguments_ok=(fallback == expected) if arguments_ok is None else arguments_ok,
        command=None,
    )


# -- counting ----------------------------------------------------------------------------------------


def test_a_wrong_fallback_tool_is_wrong_and_no_match_is_not() -> None:
    report = Report(
        items=[
            item("get_pool", "get_pool"),  # right
            item("get_pool", "get_virtual_service"),  # wrong tool
            item("list_pools", None),  # no match: asks back, not wrong
            item("list_pools", None),
        ],
        all_tools_chars=1000,
        limit=8,
    )
    fallback = report.fallback()
    assert fallback["right_tool"] == 1
    assert fallback["accuracy"] == 0.25
    assert fallback["wrong_tool"] == 1
    assert fallback["wrong_tool_rate"] == 0.25
    assert fallback["no_match"] == 2
    assert [f["chose"] for f in report.failures()["fallback_wrong"]] == ["get_virtual_service"]


def test_fallback_accuracy_counts_reads_and_wrong_tools_count_everywhere() -> None:
    report = Report(
        items=[
            item("get_pool", "get_pool"),
            item("disable_virtual_service", None, kind="write"),  # the fallback never writes: fine
            item("disable_virtual_service", "get_virtual_service", kind="write"),  # answered a write wrongly
        ],
        all_tools_chars=1000,
        limit=8,
    )
    fallback = report.fallback()
    assert (fallback["reads"], fallback["right_tool"], fallback["accuracy"]) == (1, 1, 1.0)
    assert (fallback["questions"], fallback["wrong_tool"]) == (3, 1)
    assert (fallback["wrong_tool_on_reads"], fallback["wrong_tool_on_writes"]) == (0, 1)


def test_right_tool_with_wrong_arguments_counts_apart() -> None:
    report = Report(
        items=[item("get_pool", "get_pool", arguments_ok=False), item("get_pool", "get_pool")],
        all_tools_chars=1000,
        limit=8,
    )
    fallback = report.fallback()
    assert (fallback["right_tool"], fallback["right_tool_and_arguments"]) == (2, 1)
    assert fallback["accuracy_with_arguments"] == 0.5
    assert len(report.failures()["fallback_wrong_arguments"]) == 1


def test_router_recall_and_missing_tools_are_counted_apart() -> None:
    report = Report(
        items=[
            item("get_pool", None, offered=("get_pool", "list_pools")),
            item("get_analytics", None, offered=("get_pool",)),
            item("list_events", "get_virtual_service", missing=True),  # whatever it chose is wrong
            item("list_certificates", None, missing=True),
        ],
        all_tools_chars=1000,
        limit=8,
    )
    router = report.router()
    assert (router["questions"], router["hits"], router["recall"]) == (2, 1, 0.5)
    assert report.fallback()["questions"] == 2
    missing = report.missing_counts()
    assert missing["questions"] == 2
    assert missing["fallback_answered"] == 1
    assert missing["fallback_wrong_tool_rate"] == 0.5
    assert missing["fallback_no_match"] == 1
    assert report.schema()["share_of_all"] == 0.1
    assert [f["expected"] for f in report.failures()["router_missed"]] == ["get_analytics"]


def test_measure_item_asks_the_real_router_and_fallback() -> None:
    # A write: the fallback never answers one; a listing it plainly answers, labelled with another tool.
    write = measure_item(
        Question("disable vs checkout-stage-0004 please", "disable_virtual_service", kind="write"),
        CATALOGUE,
        limit=8,
    )
    assert write.fallback_tool is None
    assert not write.fallback_wrong
    mislabelled = measure_item(Question("show me all pools", "list_virtual_services"), CATALOGUE, limit=8)
    assert mislabelled.fallback_tool == "list_pools"
    assert mislabelled.fallback_wrong
    missing = measure_item(
        Question("restore last night's configuration backup", "restore_backup", kind="write", missing=True),
        CATALOGUE,
        limit=8,
    )
    assert missing.missing
    assert not missing.router_hit
    assert missing.schema_chars > 0


# -- arguments -----------------------------------------------------------------------------------


def test_arguments_compare_as_the_tool_reads_them() -> None:
    analytics = CATALOGUE.get("get_analytics")
    expected = {"entity_type": "virtualservice", "name": "shop-prod-0024", "window": "24h"}
    assert arguments_match(
        expected, {"entity_type": "vs", "name": "Shop-Prod-0024", "window": "1d"}, analytics
    )
    assert not arguments_match(
        expected, {"entity_type": "vs", "name": "shop-prod-0024", "window": "1h"}, analytics
    )
    assert not arguments_match(expected, {"entity_type": "pool", "name": "shop-prod-0024"}, analytics)


def test_arguments_only_the_key_ones_lists_in_any_order() -> None:
    scale = CATALOGUE.get("scale_out_pool")
    expected = {"name": "web", "servers": ["10.0.0.16", "10.0.0.17"]}
    assert arguments_match(expected, {"name": "WEB", "servers": ["10.0.0.17", "10.0.0.16"]}, scale)
    assert arguments_match(expected, {"name": "web", "servers": "10.0.0.16, 10.0.0.17"}, scale)
    assert not arguments_match(expected, {"name": "web", "servers": ["10.0.0.16"]}, scale)
    assert arguments_match({}, {"anything": 1}, scale)
    assert arguments_match({"name": "vs-web"}, {"name": "vs-web", "vip_id": "0"}, None)
    assert not arguments_match({"name": "vs-web"}, {}, None)


def test_invalid_arguments_still_compare_raw() -> None:
    get_vs = CATALOGUE.get("get_virtual_service")
    assert arguments_match({"name": "vs-web"}, {"name": "VS-WEB", "bogus": 1}, get_vs)
    assert not arguments_match({"enabled": False}, {"enabled": 0}, None)


# -- question files -------------------------------------------------------------------------------


def test_question_files_are_checked(tmp_path: Path) -> None:
    with pytest.raises(QuestionError, match="unknown field"):
        parse_questions([{"text": "x", "expected_tool": "get_pool", "tool": "y"}])
    with pytest.raises(QuestionError, match="kind"):
        parse_questions([{"text": "x", "expected_tool": "get_pool", "kind": "maybe"}])
    with pytest.raises(QuestionError, match="text"):
        parse_questions({"questions": [{"text": " ", "expected_tool": "get_pool"}]})
    bad = tmp_path / "q.yaml"
    bad.write_text("questions: [unclosed", encoding="utf-8")
    with pytest.raises(QuestionError, match="YAML"):
        load_questions(bad)
    (q,) = parse_questions({"questions": [{"text": "is web up", "expected_tool": "get_virtual_service"}]})
    assert (q.kind, q.arguments, q.missing) == ("read", {}, False)


def test_the_split_is_mechanical_and_stratified() -> None:
    questions = [Question(f"question {i}", "get_pool", topic="a" if i % 2 else "b") for i in range(20)]
    splits = assign_splits(questions)
    assert splits == assign_splits(reversed(questions))  # order does not matter
    for topic in ("a", "b"):
        assert Counter(splits[q.text] for q in questions if q.topic == topic) == {"tune": 6, "holdout": 4}


# -- the shipped questions ----------------------------------------------------------------------------

SHIPPED = {split: load_questions(question_file(split)) for split in SPLITS}
ALL = [q for questions in SHIPPED.values() for q in questions]
SEEN_FRESH_SET = [q for split in SEEN_FRESH for q in load_questions(question_file(split))]
WRITTEN_SET = [q for split in WRITTEN for q in load_questions(question_file(split))]
BLIND_SETS = {split: load_questions(question_file(split)) for split in BLIND}
FRESH_SET = BLIND_SETS[FRESH]


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def test_the_blind_splits_are_new_mixed_and_apart() -> None:
    """Written later and blind to the router: no question of one is in any other file, and each
    covers reads and writes across the topics."""
    every = {split: [*qs] for split, qs in BLIND_SETS.items()}
    every.update(seen=[*ALL, *SEEN_FRESH_SET, *WRITTEN_SET])
    for split, questions in BLIND_SETS.items():
        texts = {_norm(q.text) for q in questions}
        others = {_norm(q.text) for name, qs in every.items() if name != split for q in qs}
        assert len(questions) >= 120, split
        assert len(texts) == len(questions), split
        assert texts.isdisjoint(others), split
        kinds = Counter(q.kind for q in questions)
        assert kinds["read"] >= 60, split
        assert kinds["write"] >= 30, split
        assert questions_for(split) == questions
    seen = [_norm(q.text) for q in [*ALL, *SEEN_FRESH_SET, *WRITTEN_SET]]
    assert [t for t, n in Counter(seen).items() if n > 1] == []  # the seen files are apart too
    assert questions_for(FRESH) == FRESH_SET


def test_the_shipped_set_is_large_and_mixed() -> None:
    assert len(ALL) >= 240
    texts = [" ".join(q.text.lower().split()) for q in ALL]
    assert [t for t, n in Counter(texts).items() if n > 1] == []
    kinds = Counter(q.kind for q in ALL)
    assert kinds["read"] >= 100
    assert kinds["write"] >= 60
    assert questions_for("all") == [*SHIPPED["tune"], *SHIPPED["holdout"]]


def test_every_question_is_in_the_file_its_split_says() -> None:
    splits = assign_splits(ALL)
    wrong = [
        f"{q.text!r} belongs in {splits[q.text]}" for s in SPLITS for q in SHIPPED[s] if splits[q.text] != s
    ]
    assert wrong == []
    tune_topics = {q.topic for q in SHIPPED["tune"]}
    assert tune_topics == {q.topic for q in SHIPPED["holdout"]}


def test_labels_name_real_tools_arguments_and_kinds() -> None:
    problems = []
    for q in [*ALL, *SEEN_FRESH_SET, *WRITTEN_SET, *(q for qs in BLIND_SETS.values() for q in qs)]:
        tool = CATALOGUE.get(q.expected_tool)
        if q.missing:
            if tool is not None:
                problems.append(f"{q.expected_tool} is in the catalogue now: drop `missing` ({q.text!r})")
            continue
        if tool is None:
            problems.append(f"unknown tool {q.expected_tool} ({q.text!r}); mark it `missing: true`?")
            continue
        unknown = set(q.arguments) - set(tool.args.model_fields)
        if unknown:
            problems.append(f"{q.text!r}: {q.expected_tool} has no argument {', '.join(sorted(unknown))}")
        # the generic call's risk depends on its method; a path is all it needs besides
        risk = (
            tool.risk_for(tool.args.model_validate({"path": "/api/x", **q.arguments}))
            if tool.risk_of
            else tool.risk
        )
        if (q.kind == "read") != (risk is Risk.READ):
            problems.append(f"{q.text!r}: labelled {q.kind} but {q.expected_tool} is {risk.value}")
    assert problems == []


def test_the_measurement_runs_on_the_shipped_set() -> None:
    report = measure(SHIPPED["holdout"])
    d = report.as_dict()
    assert d["questions"] == len(SHIPPED["holdout"])
    assert d["max_tools"] == 8
    for rate in (d["router"]["recall"], d["fallback"]["accuracy"], d["fallback"]["wrong_tool_rate"]):
        assert 0.0 <= rate <= 1.0
    assert d["schema"]["chars_per_turn"] < d["schema"]["all_tools_chars"]
    assert d["missing_tools"]["questions"] == sum(q.missing for q in SHIPPED["holdout"])
    table = markdown({"holdout": report})
    assert "| holdout |" in table
    assert "router recall" in table
