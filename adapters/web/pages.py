"""The chat page and its HTMX fragments: `GET /` and the `/htmx/*` routes.

A question is posted (CSRF-checked by the security middleware), parked under a random turn id bound to
the session, and answered by `GET /htmx/stream/{turn}` as Server-Sent Events: text deltas while the
model writes, then the rendered Reply that replaces the placeholder.

With several controllers the header shows the page's current one and a picker: the next question
carries the pick (`controller` in the form, then on its stream's URL, so any replica answers it on
that controller), and the agent keeps it as the conversation's current one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from markupsafe import Markup

from adapters.web.render import (
    render,
    render_error,
    render_history,
    render_part,
    render_parts,
    render_reply,
)
from adapters.web.schemas import MAX_CONTROLLER
from adapters.web.security import WebIdentity, conversation_key, identity, inbound
from adapters.web.settings import WebInfo
from bot.turns import TranscriptEntry, Turns
from bot.types import ConfirmationPart, Delta, Inbound, TurnResult, utcnow

log = logging.getLogger("avibot.web.pages")

STATIC = Path(__file__).resolve().parent / "static"
KEEPALIVE_SECONDS = 15.0
MAX_MESSAGE = 8000
MODE_POLL_SECONDS = 10.0  # how often the page asks for the header's mode (also after every answer)
HISTORY_UNAVAILABLE = "History is unavailable right now; try again in a moment."
HTML = "text/html"
# The page runs only its own files: no inline script or style, no eval, nothing from elsewhere.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _static_versions() -> dict[str, str]:
    """Content hashes for cache-busting `/static/...?v=`."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:10] for p in STATIC.iterdir() if p.is_file()}


def _fragment(html: str, status: int = 200) -> web.Response:
    return web.Response(
        text=str(html), content_type=HTML, status=status, headers={"Cache-Control": "no-store"}
    )


def _error_detail(exc: Exception) -> tuple[str, str]:
    """An LLM error's message and hint without importing llm (the adapter rule)."""
    return str(getattr(exc, "message", "") or exc), str(getattr(exc, "hint", "") or "")


class Pages:
    """The route handlers; one instance per application."""

    def __init__(self, core: Turns, info: WebInfo, mode_poll_seconds: float | None = None) -> None:
        self.core = core
        self.info = info
        self.mode_poll_seconds = MODE_POLL_SECONDS if mode_poll_seconds is None else mode_poll_seconds
        self.versions = _static_versions()

    def _key(self, who: WebIdentity) -> str:
        return conversation_key(who)

    async def mode_text(self, key: str) -> tuple[str, str]:
        """("llm", "qwen3:8b") or ("command", why there is no model), as the core says *now*: the
        model is probed and may come or go at any time. The conversation's model choice lives in the
        store; without the store the mode is still shown, without the model's name."""
        if self.core.mode == "llm":
            try:
                return "llm", await self.core.model_for(key) or ""
            except Exception as exc:
                log.warning("model choice unavailable for the header: %s", type(exc).__name__)
                return "llm", ""
        return "command", self.core.offline_reason or self.info.llm_mode

    @property
    def poll_ms(self) -> int:
        return max(100, round(self.mode_poll_seconds * 1000))

    async def controller_context(self, key: str) -> dict[str, Any]:
        """What the header's controller part shows: the list and the current one (the default when
        the store cannot say)."""
        views = self.core.controllers()
        try:
            current = await self.core.current_controller(key)
        except Exception as exc:
            log.warning("current controller unavailable for the header: %s", type(exc).__name__)
            current = views[0].name if views else ""
        return {"controllers": views, "current": current, "controller": self.info.controller}

    async def _mode_html(self, key: str) -> str:
        mode, mode_text = await self.mode_text(key)
        return str(render("mode.html", mode=mode, mode_text=mode_text, poll_ms=self.poll_ms))

    async def _history_html(self, key: str) -> str | None:
        """The conversation so far, as it was shown (its transcript); the compact text of the model's
        history when there is no transcript; None when neither store can say."""
        try:
            entries = await self.core.transcript(key)
        except Exception as exc:
            log.warning("transcript unavailable for the page: %s", type(exc).__name__)
            entries = []
        if entries:
            return str(await self._restored(key, entries))
        try:
            return str(render_history(await self.core.history(key)))
        except Exception as exc:
            log.warning("history unavailable for the page: %s", type(exc).__name__)
            return None

    async def _restored(self, key: str, entries: list[TranscriptEntry]) -> Markup:
        """Transcript entries rendered as live answers are. A confirmation card keeps its Confirm and
        Cancel while its action is pending (or when the pending store cannot say: the click decides);
        once settled it shows the outcome the click showed, or that it is no longer pending."""
        cards = {
            p.action_id for e in entries if not e.settles for p in e.parts if isinstance(p, ConfirmationPart)
        }
        final = {e.action_id: e for e in entries if e.final}  # the last word on each action
        live: dict[str, bool] = {}
        for action_id in cards - final.keys():
            try:
                live[action_id] = await self.core.pending_view(key, action_id) is not None
            except Exception as exc:
                log.warning("pending store unavailable for the page: %s", type(exc).__name__)
                live[action_id] = True
        now = utcnow()
        turns: list[dict[str, Any]] = []
        for entry in entries:
            if entry.settles and entry.action_id in cards:
                continue  # shown in place of its card, as the click showed it
            items: list[dict[str, Any]] = []
            for part in entry.parts:
                if not isinstance(part, ConfirmationPart) or entry.settles:
                    items.append({"html": render_part(part)})
                elif part.action_id in final:
                    settled = final[part.action_id]
                    body = render_parts(list(settled.parts))
                    items.append({"html": render("outcome.html", body=body, verb=_verb(settled.outcome))})
                elif live[part.action_id]:
                    items.append({"html": render_part(part)})
                else:
                    items.append({"stale": part, "expired": part.expires_at <= now})
            question = "" if entry.settles else entry.question
            turns.append({"question": question, "items": items, "mode": entry.mode})
        return render("history.html", restored=turns)

    # -- the page --------------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.Response:
        who = identity(request)
        key = self._key(who)
        mode, mode_text = await self.mode_text(key)
        history = await self._history_html(key)
        if history is None:  # the page still works: questions are answered without the history
            history = str(render_history([])) + str(render_error(HISTORY_UNAVAILABLE))
        html = render(
            "page.html",
            csrf_token=who.csrf_token,
            **await self.controller_context(key),
            store=self.info.store,
            mode=mode,
            mode_text=mode_text,
            poll_ms=self.poll_ms,
            llm_mode=self.info.llm_mode,
            history=Markup(history),
            alerts_on=self.core.alert_feed_on,  # the alert feed panel (adapters/web/alerts.py)
            static=lambda name: f"/static/{name}?v={self.versions.get(name, '0')}",
        )
        response = _fragment(html)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    async def mode(self, request: web.Request) -> web.Response:
        """The header's mode, for the page's poll (and its refresh after each answer)."""
        return _fragment(await self._mode_html(self._key(identity(request))))

    async def controller(self, request: web.Request) -> web.Response:
        """The header's controller part, refreshed after every answer (a question may switch it)."""
        context = await self.controller_context(self._key(identity(request)))
        return _fragment(render("controller.html", **context))

    async def history(self, request: web.Request) -> web.Response:
        history = await self._history_html(self._key(identity(request)))
        if history is None:
            return _fragment(render_error(HISTORY_UNAVAILABLE), status=503)
        return _fragment(history)

    async def clear_history(self, request: web.Request) -> web.Response:
        key = self._key(identity(request))
        try:
            await self.core.forget(key)
        except Exception as exc:
            log.warning("history not cleared: %s", type(exc).__name__)
            return _fragment(
                render_error("The history could not be cleared right now; try again in a moment."), 503
            )
        return _fragment(render_history([]))

    # -- a turn ----------------------------------------------------------------------------------

    async def chat(self, request: web.Request) -> web.Response:
        who = identity(request)
        form = await request.post()
        text = str(form.get("message", "")).strip()
        controller = str(form.get("controller", "")).strip()
        user_turn = {"role": "user", "content": text}
        if len(controller) > MAX_CONTROLLER:
            return _fragment(render_error(f"controller: at most {MAX_CONTROLLER} characters."), status=400)
        if not text:
            return _fragment(render_error("Type a question or a command first.", "Try `help`."))
        if len(text) > MAX_MESSAGE:
            return _fragment(
                render("turn_user.html", turn={"content": text[:200] + "…"})
                + render_error(f"That message is too long ({len(text)} characters; at most {MAX_MESSAGE}).")
            )
        try:
            turn_id = await self.core.park(who.session_id, text)
        except Exception as exc:  # the shared store is down: say so, keep nothing half-done
            log.warning("cannot park a question: %s", type(exc).__name__)
            return _fragment(
                render_error("The question could not be queued right now.", "Try again in a moment.")
            )
        url = f"/htmx/stream/{turn_id}" + (f"?{urlencode({'controller': controller})}" if controller else "")
        return _fragment(render("turn_pending.html", turn=user_turn, stream_url=url))

    async def stream(self, request: web.Request) -> web.StreamResponse:
        who = identity(request)
        controller = request.query.get("controller", "").strip()
        if len(controller) > MAX_CONTROLLER:
            return _fragment(render_error(f"controller: at most {MAX_CONTROLLER} characters."), status=400)
        text = await self.core.take(request.match_info["turn_id"], who.session_id)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        try:
            if text is None:
                html = render_error("This question has expired or was already answered.", "Send it again.")
                await _event(response, "reply", str(html))
            else:
                await self._answer(response, inbound(who, text, controller=controller))
            await _event(response, "done", "")
        except ConnectionResetError:
            log.info("the browser closed the stream before the answer was complete")
        return response

    async def _answer(self, response: web.StreamResponse, message: Inbound) -> None:
        """Run the turn in a task so the browser gets keep-alives while tools run."""
        queue: asyncio.Queue[Delta | TurnResult | Exception | None] = asyncio.Queue()

        async def produce() -> None:
            try:
                async with contextlib.aclosing(self.core.stream(message)) as events:
                    async for event in events:
                        await queue.put(event)
            except Exception as exc:  # the core catches its own; this is the adapter's last line
                log.exception("web turn failed")
                await queue.put(exc)
            await queue.put(None)

        task = asyncio.create_task(produce())
        try:
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if event is None:
                    break
                if isinstance(event, Delta):
                    await _event(response, "delta", event.text)
                elif isinstance(event, TurnResult):
                    await _event(response, "reply", str(render_reply(event.reply)))
                else:
                    await _event(response, "reply", str(render_error("Something went wrong answering that.")))
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # -- confirmations ---------------------------------------------------------------------------

    async def decide(self, request: web.Request) -> web.Response:
        who = identity(request)
        action_id = request.match_info["action_id"]
        verb = request.match_info["verb"]
        result = await self.core.settle(verb, action_id, inbound(who, f"{verb} {action_id}"))
        body = render_parts(list(result.reply.parts))
        return _fragment(render("outcome.html", body=body, verb=verb))

    # -- models ----------------------------------------------------------------------------------

    async def models(self, request: web.Request) -> web.Response:
        key = self._key(identity(request))
        return _fragment(await self._models_fragment(key))

    async def select_model(self, request: web.Request) -> web.Response:
        key = self._key(identity(request))
        name = str((await request.post()).get("model", "")).strip()
        if not name:
            return _fragment(await self._models_fragment(key, message="Pick a model.", ok=False))
        try:
            check = await self.core.validate_model(name)
        except Exception as exc:
            message, hint = _error_detail(exc)
            return _fragment(await self._models_fragment(key, message=message, hint=hint, ok=False))
        if not check.ok:
            return _fragment(
                await self._models_fragment(key, message=check.message, hint=check.hint, ok=False)
            )
        await self.core.use_model(key, name)
        return _fragment(await self._models_fragment(key, message=f"Using {name}", ok=True))

    async def _models_fragment(self, key: str, message: str = "", hint: str = "", ok: bool = True) -> str:
        try:
            models = await self.core.list_models()
        except Exception as exc:
            error, error_hint = _error_detail(exc)
            return str(render("models.html", error=error, hint=error_hint))
        current = await self.core.model_for(key)
        names = [m.name for m in models]
        return str(
            render(
                "models.html",
                models=models,
                names=names,
                current=current,
                message=message,
                hint=hint,
                ok=ok,
            )
        )


def _verb(outcome: str) -> str:
    return "cancel" if outcome == "cancelled" else "confirm"


async def _event(response: web.StreamResponse, name: str, data: str) -> None:
    """One SSE event; the data is JSON so newlines and markup travel intact."""
    payload = f"event: {name}\ndata: {encode_basestring_ascii(data)}\n\n"
    await response.write(payload.encode())


def setup_pages(app: web.Application, core: Turns, info: WebInfo) -> None:
    """Register the page, its fragments and its static files on `app`."""
    pages = Pages(core, info)
    r = app.router
    r.add_get("/", pages.page)
    r.add_get("/htmx/mode", pages.mode)
    r.add_get("/htmx/controller", pages.controller)
    r.add_get("/htmx/history", pages.history)
    r.add_delete("/htmx/history", pages.clear_history)
    r.add_post("/htmx/history/clear", pages.clear_history)
    r.add_post("/htmx/chat", pages.chat)
    r.add_get("/htmx/stream/{turn_id}", pages.stream)
    r.add_post("/htmx/actions/{action_id}/{verb:confirm|cancel}", pages.decide)
    r.add_get("/htmx/models", pages.models)
    r.add_post("/htmx/models", pages.select_model)
    if not any(res.canonical == "/static" for res in r.resources()):
        r.add_static("/static/", STATIC, append_version=False)


__all__ = ["setup_pages"]
