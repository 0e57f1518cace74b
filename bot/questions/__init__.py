"""The labelled questions shipped with avibot (format: bot/questions/format.py), and what each split is for.

`tune` and `holdout` are one set split mechanically (`bot.quality.assign_splits`). The `fresh`
splits were each written later by someone blind to the router, the fallback and the other sets, and
measured once before anyone read their failures; from then on they are seen. The `train` splits were
written the same way, to learn from. The fallback's tool classifier (`bot.commands.learned`) learns
from every seen split (`TRAINING`), never from the blind ones (`BLIND`), which are what the figures
that matter are measured on.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
SPLITS = ("tune", "holdout")
# Seen: the holdout's failures were read on 2026-12-03, and so were those of `fresh` .. `fresh4`,
# each after its one blind measurement; `fresh5` was measured once and then learned from, unread;
# `fresh6`'s and `fresh7`'s failures were read on 2026-12-03, each after its one measurement (fresh6
# at 99b02f7, fresh7 at 9f1d56d).
SEEN_FRESH = ("fresh", "fresh2", "fresh3", "fresh4", "fresh5", "fresh6", "fresh7")
# Written to learn from: by writers with the blind splits' brief and the same three inputs, but asked
# for every read tool in at least eight wordings (terse; long with context; misspelt and jargon).
WRITTEN = ("train1", "train2", "train3")
# Blind: never tuned on, never learned from, each measured once (`FRESH` is the default of the
# measurement and of `avibot eval`).
BLIND = ("fresh8",)
FRESH = BLIND[0]
TRAINING = (*SPLITS, *SEEN_FRESH, *WRITTEN)


def question_file(split: str) -> Path:
    """The file of a shipped split."""
    return DATA_DIR / f"questions_{split}.yaml"
