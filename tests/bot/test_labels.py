"""Facts and charts are labelled in words: no `num_se_assigned` label, no `l4_client.avg_bandwidth`
chart title, while the model keeps the controller's keys."""

from __future__ import annotations

import re

from avi.operations import AviOperations
from bot.tools.labels import label, metric_title
from bot.types import FactsPart, SeriesPart
from tests.support.tools_helpers import call

SNAKE = re.compile(r"[a-z0-9]+_[a-z0-9_]+|\w+\.\w+")


def test_labels_read_as_words() -> None:
    assert label("num_se_assigned") == "SEs assigned"
    assert label("lb_algorithm") == "LB algorithm"
    assert label("vip") == "VIP"
    assert label("VIP address") == "VIP address"
    assert metric_title("l4_client.avg_bandwidth") == "Client bandwidth"
    assert metric_title("se_stats.max_cpu_usage") == "Max CPU usage"
    assert not SNAKE.search(metric_title("l7_client.avg_resp_2xx"))


async def test_facts_of_a_virtual_service_have_no_key_names(ops: AviOperations) -> None:
    vs = (await ops.virtualservices.list())[0]
    result = await call(ops, "get_virtual_service", name=vs.name)
    facts = [p for p in result.parts if isinstance(p, FactsPart)]
    assert facts
    labels = [f.label for part in facts for f in part.facts]
    assert not [x for x in labels if SNAKE.fullmatch(x)], labels
    assert any(key in result.data for key in ("num_se_assigned", "pool", "vip"))  # the model's keys stay


async def test_chart_titles_are_words(ops: AviOperations) -> None:
    vs = (await ops.virtualservices.list())[0]
    result = await call(ops, "get_analytics", entity_type="virtualservice", name=vs.name)
    titles = [p.title for p in result.parts if isinstance(p, SeriesPart)]
    assert "Client bandwidth" in titles
    assert not [t for t in titles if SNAKE.search(t)], titles
