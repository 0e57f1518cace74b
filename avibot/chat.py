"""`avibot chat`: the terminal channel, on the same agent and configuration as the server.

One question (`avibot chat "which pools are down?"`), a JSON answer for scripts (`--json`), a
confirmation (`--confirm ID` / `--cancel ID`), or an interactive prompt when no question is given.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import secrets
import sys
from typing import Any

from avibot.config import load_settings
from avibot.factory import Runtime, build_runtime
from avibot.logging_setup import setup_logging
from bot.types import Delta, Inbound, Reply, TextPart, User, render_plain


def add_parser(sub: argparse._SubParsersAction) -> None:
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
        "--verbose", action="store_true", help="log at the configured level (errors only otherwise)"
    )


def reply_json(reply: Reply, conversation_id: str) -> dict[str, Any]:
    """The `--json` shape: text, parts, tool_calls, mode, conversation_id, pending_action."""
    pending = reply.pending_action
    return {
        "text": reply.text,
        "parts": [p.model_dump(mode="json") for p in reply.parts],
        "tool_calls": [{"name": c.name, "arguments": c.arguments, "ok": c.ok} for c in reply.tool_calls],
        "mode": reply.mode,
        "conversation_id": conversation_id,
        "pending_action": None
        if pending is None
        else {"id": pending.id, "summary": pending.summary, "diff": pending.diff},
    }


class Terminal:
    """One terminal user talking to one conversation."""

    def __init__(self, runtime: Runtime, conversation_id: str, as_json: bool) -> None:
        self.runtime = runtime
        self.conversation_id = conversation_id
        self.as_json = as_json
        user_id = getpass.getuser() or "terminal"
        self.user = User(id=user_id, name=user_id)

    def inbound(self, text: str) -> Inbound:
        return Inbound(
            platform="cli", conversation_key=f"cli:{self.conversation_id}", user=self.user, text=text
        )

    def show(self, reply: Reply, streamed: bool) -> None:
        if self.as_json:
            print(json.dumps(reply_json(reply, self.conversation_id)))
            return
        parts = (
            reply.parts[1:]
            if streamed and reply.parts and isinstance(reply.parts[0], TextPart)
            else reply.parts
        )
        text = "\n\n".join(filter(None, (render_plain(p) for p in parts)))
        if text:
            print(text)
        if reply.pending_action is not None:
            action_id = reply.pending_action.id
            print(f"\nConfirm with `confirm {action_id}` or cancel with `cancel {action_id}`.")

    async def ask(self, text: str) -> Reply:
        streamed = False
        reply: Reply | None = None
        async for event in self.runtime.turns.stream(self.inbound(text)):
            if isinstance(event, Delta):
                if not self.as_json:
                    print(event.text, end="", flush=True)
                    streamed = True
            else:
                reply = event.reply
        assert reply is not None
        if streamed:
            print()
        self.show(reply, streamed and reply.mode == "llm")
        return reply

    async def interactive(self) -> None:
        # With --json, stdout carries only the JSON answers, one a line; the rest goes to stderr.
        print(
            f"avibot: {self.runtime.controller}; {self.runtime.llm_mode}. "
            f"Conversation {self.conversation_id}. Type `help`, or `exit` to leave.",
            file=sys.stderr if self.as_json else sys.stdout,
        )
        prompt = "" if self.as_json else "avibot> "
        while True:
            try:
                line = await asyncio.to_thread(input, prompt)
            except (EOFError, KeyboardInterrupt):
                print()
                return
            if line.strip().lower() in ("exit", "quit", "bye"):
                return
            if line.strip():
                await self.ask(line)


async def run_chat(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    setup_logging(settings.log.level if args.verbose else "ERROR", settings.log.format)
    runtime = await build_runtime(settings, demo=args.demo, use_llm=not args.no_llm)
    try:
        conversation_id = args.conversation or secrets.token_hex(4)
        term = Terminal(runtime, conversation_id, args.json)
        if args.confirm or args.cancel:
            verb, action_id = ("confirm", args.confirm) if args.confirm else ("cancel", args.cancel)
            result = await runtime.turns.settle(verb, action_id, term.inbound(f"{verb} {action_id}"))
            term.show(result.reply, streamed=False)
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
