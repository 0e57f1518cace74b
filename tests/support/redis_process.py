"""A redis-server of a test's own, to kill, restart, stall and fill (the session one is shared).

TCP on loopback, the same port across restarts, so clients reconnect to "the same Redis" (as in a
deployment; a unix socket hides stale pooled connections better than TCP does). `DEBUG SLEEP` needs
`--enable-debug-command yes`, set here; `fill()` sets `maxmemory` with `noeviction` so writes fail
with OOM while reads still work.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

START_TIMEOUT = 10.0


class RedisProcess:
    def __init__(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not on PATH (run scripts/ensure-redis.sh)")
        self.exe = exe
        self.dir = Path(tempfile.mkdtemp(prefix="avibot-fault-redis-", dir="/tmp"))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.exe, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.dir), "--enable-debug-command", "yes"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except redis.RedisError:
                pass
            time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def client(self, socket_timeout: float = 5.0) -> redis.Redis:
        """A plain client of the test's own, that retries nothing (redis-py 8's sync default retries
        timeouts 10 times, which would hide a stall and could apply a write twice)."""
        return redis.Redis(
            host="127.0.0.1", port=self.port, socket_timeout=socket_timeout, retry=Retry(NoBackoff(), 0)
        )

    def kill(self) -> None:
        """SIGKILL: no goodbye to the clients, their pooled connections go stale."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def stall(self, seconds: float, *, wait: bool = True) -> subprocess.Popen[bytes]:
        """`DEBUG SLEEP seconds` from another process: the server answers nobody meanwhile.

        With `wait` (the default) it returns once the stall is in effect (a fresh connection's PING
        goes unanswered), so what the caller does next meets a stalled server. The returned process
        exits when the server wakes up: `poll() is None` means "still stalled"."""
        cli = shutil.which("redis-cli")
        if cli is None:
            raise RuntimeError("redis-cli is not on PATH")
        sleeper = subprocess.Popen(
            [cli, "-p", str(self.port), "DEBUG", "SLEEP", str(seconds)], stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT
        while wait and time.monotonic() < deadline:
            probe = self.client(socket_timeout=0.1)
            try:
                probe.ping()
            except redis.TimeoutError:
                return sleeper  # the PING waits in the server's queue: the stall has begun
            except redis.RedisError:
                pass
            finally:
                probe.close()
            if sleeper.poll() is not None:
                raise RuntimeError(f"DEBUG SLEEP failed (redis-cli exited with {sleeper.returncode})")
            time.sleep(0.01)
        if wait:
            raise RuntimeError("redis-server did not stall")
        return sleeper

    def wait_awake(self, sleeper: subprocess.Popen[bytes]) -> None:
        """Until the stall is over and the server answers again (bounded, so a test cannot hang)."""
        sleeper.wait(timeout=120)
        if not self.client().ping():
            raise RuntimeError("redis-server did not wake up")

    def fill(self) -> None:
        """Writes fail with OOM from now on (reads still answer)."""
        c = self.client()
        c.config_set("maxmemory-policy", "noeviction")
        used = int(c.info("memory")["used_memory"])
        c.config_set("maxmemory", str(max(used // 2, 1)))

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
