"""`avibot chat`: the terminal channel, on the same agent and configuration as the server.

One question (`avibot chat "which pools are down?"`), a JSON answer for scripts (`--json`), a
confirmation (`--confirm ID` / `--cancel ID`), or an interactive prompt when no question is given.

Answers are drawn by avibot/terminal_render.py: styled on a TTY, plain text otherwise (and with
`--json`, only JSON on stdout). At an interactive prompt on a TTY, lines are edited with readline
(arrows, Ctrl-R, Tab completes command words) and kept in `<state_dir>/chat_history` (0600).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import secrets
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from avibot.config import load_settings
from avibot.factory import Runtime, build_runtime
from avibot.logging_setup import setup_logging
from avibot.terminal_render import MarkdownLines, paint, render_reply, use_style
from bot.commands import FORMS
from bot.sqlite.stores import make_state_dir
from bot.types import Delta, Inbound, Reply, User

HISTORY_FILE = "chat_history"
HISTORY_LINES = 1000
_WORDS = ("metrics", "unhealthy", "types", "show", "api", "help", "audit", "model", "reset", "confirm",
          "cancel", "exit")  # fmt: skip


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("chat", help="ask the assistant from the terminal")
    p.add_argument("question", nargs="*", help="the question; without one, an interactive prompt starts")
    p.add_argument("--demo", action="store_true", help="use an in-process simulated controller")
    p.add_argument("--config", default=None, help="config file (default ./config.yaml if present)")
    p.add_argument("--json", action="store_true", help="print one JSON object per answer")
    p.add_argument("--conversation", default=None, help="continue this conversation id")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--confirm", metavar="ID", help="confirm a pending action")
    group.add_argument("--cancel", metavar="ID", help="cancel a pending action")
    p.add_argument("--no-llm", action="store_true", help="command mode only, even if Ollama answers")
    p.add_argument(
        "--controller", default="", metavar="NAME", help="ask this controller (it stays for the conversation)"
    )
    p.add_argument(
        "--verbose", action="store_true", help="log at the configured level (errors only otherwise)"
    )


def reply_json(reply: Reply, conversation_id: str, controller: str = "") -> dict[str, Any]:
    """The `--json` shape: text, parts, tool_calls, mode, conversation_id, pending_action, controller."""
    pending = reply.pending_action
    return {
        "controller": controller,
        "text": reply.text,
        "parts": [p.model_dump(mode="json") for p in reply.parts],
        "tool_calls": [{"name": c.name, "arguments": c.arguments, "ok": c.ok} for c in reply.tool_calls],
        "mode": reply.mode,
        "conversation_id": conversation_id,
        "pending_action": None
        if pending is None
        else {"id": pending.id, "summary": pending.summary, "diff": pending.diff},
    }


def _command_words() -> dict[str, list[str]]:
    """First words to complete, and the words that may follow each (`vs` -> `list`, `show`, ...)."""
    follow: dict[str, list[str]] = {}
    for form in FORMS.values():
        obj, _, rest = form.usage.partition(" ")
        verb = rest.split(" ", 1)[0]
        follow.setdefault(obj, [])
        if verb and not verb.startswith(("<", "[")) and verb not in follow[obj]:
            follow[obj].append(verb)
    for word in _WORDS:
        follow.setdefault(word, [])
    return follow


class LineEditor:
    """readline for the prompt, when stdin is a terminal: editing, history in a file, completion."""

    def __init__(self, readline: ModuleType, history: Path | None) -> None:
        self.readline = readline
        self.history = history
        self.words = _command_words()
        self._matches: list[str] = []

    @classmethod
    def start(cls, history: Path | None) -> LineEditor | None:
        if not sys.stdin.isatty():
            return None
        try:
            import readline
        except ImportError:  # a Python built without it: input() still works, without editing
            return None
        editor = cls(readline, history)
        readline.set_history_length(HISTORY_LINES)
        if history is not None:
            with contextlib.suppress(OSError):
                readline.read_history_file(history)
        readline.set_completer(editor.complete)
        readline.set_completer_delims(" \t")
        libedit = "libedit" in (readline.__doc__ or "")
        readline.parse_and_bind("bind ^I rl_complete" if libedit else "tab: complete")
        return editor

    def complete(self, text: str, state: int) -> str | None:
        if state == 0:
            before = self.readline.get_line_buffer()[: self.readline.get_begidx()].split()
            if not before:
                options = list(self.words)
            elif len(before) == 1:
                options = self.words.get(before[0].lower(), [])
            else:
                options = []
            self._matches = sorted(w + " " for w in options if w.startswith(text.lower()))
        return self._matches[state] if state < len(self._matches) else None

    def forget_last(self, line: str) -> None:
        """Drop `line` (`exit`) from the history, so the next session's first arrow-up is a command."""
        last = self.readline.get_current_history_length()
        if last and self.readline.get_history_item(last) == line:
            self.readline.remove_history_item(last - 1)

    def save(self) -> None:
        """Write the history, owner-only (it may hold names and API paths)."""
        if self.history is None:
            return
        try:
            make_state_dir(self.history.parent)
            os.close(os.open(self.history, os.O_WRONLY | os.O_CREAT, 0o600))
            self.readline.write_history_file(self.history)
            os.chmod(self.history, 0o600)
        except (OSError, ValueError):  # StateFileError is a ValueError; history is a convenience
            pass


@contextlib.contextmanager
def interrupt_at_prompt() -> Iterator[None]:
    """Ctrl-C while typing raises KeyboardInterrupt here (asyncio's handler would cancel the run
    instead, and leave readline waiting for a line)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class Terminal:
    """One terminal user talking to one conversation."""

    def __init__(
        self,
        runtime: Runtime,
        conversation_id: str,
        as_json: bool,
        tty: bool | None = None,
        history: Path | None = None,
        controller: str = "",
    ) -> None:
        self.runtime = runtime
        self.controller = controller  # asked for once: the conversation keeps it as its current one
        self.conversation_id = conversation_id
        self.as_json = as_json
        self.tty = (not as_json and use_style(sys.stdout)) if tty is None else tty
        self.history = history
        user_id = getpass.getuser() or "terminal"
        self.user = User(id=user_id, name=user_id)

    def inbound(self, text: str) -> Inbound:
        controller, self.controller = self.controller, ""
        return Inbound(
            platform="cli",
            conversation_key=f"cli:{self.conversation_id}",
            user=self.user,
            text=text,
            controller=controller,
        )

    def show(self, reply: Reply, streamed: bool, controller: str = "") -> None:
        if self.as_json:
            print(json.dumps(reply_json(reply, self.conversation_id, controller)))
            return
        text = render_reply(reply, self.tty, streamed=streamed)
        if text:
            print(("\n" if streamed else "") + text, flush=True)  # a blank line after streamed text

    async def ask(self, text: str) -> Reply:
        streamed = False
        reply: Reply | None = None
        controller = ""
        lines = MarkdownLines(self.tty)
        async for event in self.runtime.turns.stream(self.inbound(text)):
            if isinstance(event, Delta):
                if not self.as_json:
                    print(lines.feed(event.text), end="", flush=True)
                    streamed = True
            else:
                reply, controller = event.reply, event.controller
        assert reply is not None
        if streamed:
            print(lines.finish())
        self.show(reply, streamed and reply.mode == "llm", controller)
        return reply

    def _read(self, prompt: str) -> str:
        with interrupt_at_prompt():
            return input(prompt)

    async def interactive(self) -> None:
        # With --json, stdout carries only the JSON answers, one a line; the rest goes to stderr.
        editor = LineEditor.start(self.history)
        where = sys.stderr if self.as_json else sys.stdout
        print(
            f"avibot: {self.runtime.controller}; {self.runtime.llm_mode}. "
            f"Conversation {self.conversation_id}. Type help for the commands, exit to leave.",
            file=where,
        )
        prompt = "" if self.as_json else "avibot> "
        if self.tty and editor is not None:  # \x01 \x02: readline does not count the escapes
            prompt = "\x01\x1b[1;36m\x02avibot>\x01\x1b[0m\x02 "
        elif self.tty:
            prompt = paint("avibot>", "1", "36", tty=True) + " "
        try:
            while True:
                try:
                    # On the main thread, so that Ctrl-C reaches readline; nothing else needs the
                    # event loop while a person types (each turn runs to its end before the prompt).
                    line = self._read(prompt)
                except KeyboardInterrupt:
                    print("^C" if editor is None else "", file=where)
                    continue
                except EOFError:
                    print(file=where)
                    return
                if line.strip().lower() in ("exit", "quit", "bye"):
                    if editor is not None:
                        editor.forget_last(line)
                    return
                if line.strip():
                    await asyncio.sleep(0)  # first, what arrived while the loop waited (closed sockets)
                    await self.ask(line)
        finally:
            if editor is not None:
                editor.save()


async def run_chat(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    setup_logging(settings.log.level if args.verbose else "ERROR", settings.log.format)
    runtime = await build_runtime(settings, demo=args.demo, use_llm=not args.no_llm)
    try:
        conversation_id = args.conversation or secrets.token_hex(4)
        history = settings.state.state_dir / HISTORY_FILE
        term = Terminal(runtime, conversation_id, args.json, history=history, controller=args.controller)
        if args.confirm or args.cancel:
            verb, action_id = ("confirm", args.confirm) if args.confirm else ("cancel", args.cancel)
            result = await runtime.turns.settle(verb, action_id, term.inbound(f"{verb} {action_id}"))
            term.show(result.reply, streamed=False, controller=result.controller)
            return 0
        question = " ".join(args.question).strip()
        if question:
            if not args.json:
                print(f"[{runtime.controller}; {runtime.llm_mode}]", file=sys.stderr, flush=True)
            await term.ask(question)
            return 0
        await term.interactive()
        return 0
    finally:
        await runtime.aclose()
