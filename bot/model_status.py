"""Whether the language model can answer right now, kept true by probing: the bot's live mode.

Ollama may be down when avibot starts, stop during a turn, or hang. The status is `up` or `down`
(with the reason, in words for a person): a turn that finds Ollama unreachable or hung marks it
down at once, so the following turns answer in command mode without waiting (a circuit breaker);
while it is down, a background task probes it every `probe_seconds` and brings LLM mode back as
soon as the configured model answers with tool support. Observers hear every change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot.events import ModelStatusChanged, Observers
from llm.client import OllamaChat
from llm.errors import LLMError

log = logging.getLogger("avibot.model")

Probe = Callable[[], Awaitable[str | None]]  # None when the model is usable, else why not


class ModelStatus:
    """`up` and `reason` for the turn, the health page and the footers; `probe_now` to re-check."""

    def __init__(
        self,
        probe: Probe | None,
        *,
        up: bool,
        reason: str = "",
        probe_seconds: float = 30.0,
        observers: Observers | None = None,
    ) -> None:
        self._probe = probe
        self._up = up and probe is not None
        self._reason = reason or ("" if self._up else "no language model is configured")
        self.probe_seconds = probe_seconds
        self._observers = observers
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.changed_at = time.monotonic()

    @property
    def up(self) -> bool:
        return self._up

    @property
    def reason(self) -> str:
        """Why the model is not used, for the person (empty while it is up)."""
        return "" if self._up else self._reason

    @property
    def configured(self) -> bool:
        return self._probe is not None

    def mark_down(self, reason: str) -> None:
        """A turn saw Ollama fail: answer in command mode from now on, and probe soon."""
        self._set(False, reason)
        self._wake.set()

    def _set(self, up: bool, reason: str) -> None:
        changed = up != self._up
        self._up, self._reason = up, reason
        if changed:
            self.changed_at = time.monotonic()
            log.warning("language model %s: %s", "back" if up else "down", reason or "answering")
            if self._observers is not None:
                self._observers.emit(ModelStatusChanged(up=up, reason=reason))

    async def probe_now(self) -> bool:
        """Ask the model now; True when it can answer."""
        if self._probe is None:
            return False
        try:
            why = await self._probe()
        except Exception as exc:  # a probe must never take the prober down
            why = str(getattr(exc, "message", "") or type(exc).__name__)
        self._set(why is None, why or "")
        return why is None

    # -- the background prober ---------------------------------------------------------------------

    def start(self) -> None:
        """Start probing in the background (needs a running event loop); idempotent."""
        if self._probe is not None and self._task is None:
            self._task = asyncio.create_task(self._run(), name="avibot-model-probe")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            if self._up:  # nothing to do until a turn reports a failure
                self._wake.clear()
                await self._wake.wait()
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):  # a failure report wakes it early, once
                await asyncio.wait_for(self._wake.wait(), self.probe_seconds)
            await self.probe_now()


def ollama_probe(llm: OllamaChat, timeout: float) -> Probe:
    """A probe that asks Ollama whether the configured model exists and can call tools."""

    async def probe() -> str | None:
        try:
            check = await asyncio.wait_for(llm.validate_model(None), timeout)
        except TimeoutError:
            return f"Ollama at {llm.host} did not answer within {timeout:g} s"
        except LLMError as exc:
            return exc.message.rstrip(".")
        if check.ok:
            return None
        return " ".join(filter(None, (check.message.rstrip("."), check.hint))).rstrip(".")

    return probe
