"""`avibot chat` in a real pseudo-terminal: styled, aligned tables, line editing with a history file, and
Ctrl-C / Ctrl-D at the prompt; the same answers through a pipe carry no escape sequence at all."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from avibot.chat import HISTORY_FILE

CLOSED = "http://127.0.0.1:9"  # nothing listens on the discard port
PROMPT = "avibot>"
UP = "\x1b[A"
# Every escape a terminal program may write: SGR styles, readline's cursor moves, bracketed paste.
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|[\x01\x02]")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")


def environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "OLLAMA_HOST": CLOSED,
        "AVIBOT_STATE_DIR": str(tmp_path / "state"),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        **extra,
    }


def _controlling_terminal() -> None:
    """In the child, after setsid: the pseudo-terminal becomes its terminal, so Ctrl-C is SIGINT."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Pty:
    """A process on the slave side of a pseudo-terminal; the test types and reads on the master."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "avibot.cli", "chat", *args],
            stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
            preexec_fn=_controlling_terminal,
        )  # fmt: skip
        os.close(slave)
        self.seen = ""

    def read_until(self, pattern: str, count: int = 1, timeout: float = 90) -> str:
        """Read until `pattern` has been seen `count` times in all output so far."""
        deadline = time.monotonic() + timeout
        while self.seen.count(pattern) < count:
            left = deadline - time.monotonic()
            assert left > 0, f"no {pattern!r} x{count} in:\n{self.seen[-3000:]}"
            ready, _, _ = select.select([self.master], [], [], min(left, 1))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk:
                    assert self.seen.count(pattern) >= count, f"closed before {pattern!r}:\n{self.seen}"
                self.seen += chunk.decode("utf-8", "replace")
        return self.seen

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def wait(self, timeout: float = 30) -> int:
        code = self.proc.wait(timeout)
        os.close(self.master)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def table_lines(text: str, header: str) -> list[str]:
    """The header line starting with `header` and the rows under it, escapes removed."""
    lines = [ESCAPES.sub("", line) for line in text.replace("\r", "").split("\n")]
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    out = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.strip() or line.startswith(("...", PROMPT)):
            break
        out.append(line)
    return out


def test_chat_in_a_terminal_draws_tables_and_edits_lines(tmp_path: Path) -> None:
    term = Pty(["--demo", "--no-llm"], environ(tmp_path))
    try:
        term.read_until(PROMPT)
        term.type("se list limit 3\r")
        out = term.read_until(PROMPT, 2)
        assert "\x1b[1m" in out  # bold: the title and the header
        assert "\x1b[32mup\x1b[0m" in out  # an up state, green
        header, *rows = table_lines(out, "Name")
        assert len(rows) == 3
        columns = [header.index(c) for c in ("State", "SE group")]
        for row in rows:  # each column starts where its header does
            assert all(row[c - 2 : c] == "  " and row[c] != " " for c in columns), (header, row)
        cpu_end = header.index("CPU %") + len("CPU %")
        assert all(row[cpu_end - 1].isdigit() for row in rows)  # numbers are right-aligned

        term.type(UP + "\r")  # readline: the arrow brings the last line back
        out = term.read_until(PROMPT, 3)
        assert out.count("service engines") == 2

        term.type("half a line")
        term.read_until("half a line")  # echoed: readline has the line (a Ctrl-C sent with it would
        term.type("\x03")  # be taken by the terminal first and flush the text); Ctrl-C drops the line
        term.read_until(PROMPT, 4)
        term.type("help\r")
        out = term.read_until(PROMPT, 5)
        shown = ESCAPES.sub("", out.split("help\r", 1)[1]).split(PROMPT)[0]
        assert "Virtual services" in shown
        assert not re.search(r"[`*]|\b_|_\b", shown), shown  # no raw Markdown on a terminal
        term.type("exit\r")
        assert term.wait() == 0
    finally:
        term.kill()

    history = tmp_path / "state" / HISTORY_FILE
    assert history.stat().st_mode & 0o777 == 0o600
    lines = history.read_text().splitlines()
    assert "se list limit 3" in lines
    assert "exit" not in lines
    assert "half a line" not in lines

    again = Pty(["--demo", "--no-llm"], environ(tmp_path))  # the next session has the history
    try:
        again.read_until(PROMPT)
        again.type(UP + "\r")
        assert "service engines" in again.read_until(PROMPT, 2)
        again.type("\x04")  # Ctrl-D leaves
        assert again.wait() == 0
    finally:
        again.kill()


def test_json_in_a_terminal_has_no_escapes(tmp_path: Path) -> None:
    term = Pty(["--demo", "--no-llm", "--json", "se list limit 2"], environ(tmp_path))
    try:
        out = term.read_until('"conversation_id"')
        assert term.wait() == 0
        out = term.seen
    finally:
        term.kill()
    (line,) = [line for line in out.replace("\r", "").split("\n") if line.startswith("{")]
    assert "\x1b" not in line
    assert json.loads(line)["parts"][0]["kind"] == "table"


def test_output_to_a_pipe_is_plain_aligned_text(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "avibot.cli", "chat", "--demo", "--no-llm"],
        input="se list limit 3\nmetrics se Avi-se-1\nhelp\n", capture_output=True, text=True,
        env=environ(tmp_path), timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout
    header, *rows = table_lines(proc.stdout.replace(f"{PROMPT} ", ""), "Name")
    assert len(rows) == 3
    state = header.index("State")
    assert all(row[state - 2 : state] == "  " and row[state] != " " for row in rows)
    assert not (tmp_path / "state" / HISTORY_FILE).exists()  # no terminal, no line editing


def test_ctrl_c_while_typing_does_not_leave_a_traceback(tmp_path: Path) -> None:
    term = Pty(["--demo", "--no-llm"], environ(tmp_path))
    try:
        term.read_until(PROMPT)
        time.sleep(0.5)  # as a person would: readline is waiting in select() by then
        os.killpg(term.proc.pid, signal.SIGINT)
        term.read_until(PROMPT, 2)
        term.type("exit\r")
        assert term.wait() == 0
        assert "Traceback" not in term.seen
    finally:
        term.kill()
