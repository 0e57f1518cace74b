"""Pytest plugin: a real, throwaway `redis-server` for the whole session, on a unix socket.

Load it with `pytest_plugins = ["tests.support.redis_server"]` (conftest) or `-p tests.support.redis_server`.
Tests that need Redis never skip: without `redis-server` they fail with the install command.
`AVIBOT_TEST_REDIS_URL` points the tests at an existing server instead; every test FLUSHDBs it,
so give it a throwaway database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis

REDIS_URL_ENV = "AVIBOT_TEST_REDIS_URL"
INSTALL_HINT = (
    "redis-server is not on PATH; the Redis tests run against a real server. Install it with\n"
    "  sudo apt-get install redis-server   (Debian/Ubuntu; or run scripts/ensure-redis.sh)\n"
    "  brew install redis                  (macOS)\n"
    f"or set {REDIS_URL_ENV}=redis://host:6379/15 to use an existing throwaway server."
)
START_TIMEOUT = 10.0


def _socket_dir() -> Path:
    # A unix socket path must stay under ~104 bytes; macOS's $TMPDIR alone can be half of that.
    base = "/tmp" if os.path.isdir("/tmp") else None
    return Path(tempfile.mkdtemp(prefix="avibot-redis-", dir=base))


def _wait_for_ping(proc: subprocess.Popen[bytes], sock: Path, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            pytest.fail(f"redis-server exited with code {proc.returncode}:\n{tail}", pytrace=False)
        if sock.exists():
            client = redis.Redis(unix_socket_path=str(sock), socket_timeout=1)
            try:
                if client.ping():
                    return
            except redis.RedisError as exc:
                last = exc
            finally:
                client.close()
        time.sleep(0.02)
    pytest.fail(f"redis-server did not answer PING within {START_TIMEOUT:g}s: {last}", pytrace=False)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """`unix:///.../r.sock` of a redis-server started for this session (or AVIBOT_TEST_REDIS_URL)."""
    existing = os.environ.get(REDIS_URL_ENV)
    if existing:
        yield existing
        return
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    workdir = _socket_dir()
    sock, log = workdir / "r.sock", workdir / "redis.log"
    args = [exe, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700"]
    args += ["--save", "", "--appendonly", "no", "--dir", str(workdir), "--logfile", str(log)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_ping(proc, sock, log)
        yield f"unix://{sock}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


MakeRedis = Callable[[], aioredis.Redis]


@pytest.fixture
async def make_redis(redis_url: str) -> AsyncIterator[MakeRedis]:
    """Factory of extra clients (each with its own connection pool), all closed after the test."""
    clients: list[aioredis.Redis] = []

    def _make() -> aioredis.Redis:
        client = aioredis.from_url(redis_url, decode_responses=True)
        clients.append(client)
        return client

    yield _make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def redis_client(make_redis: MakeRedis) -> aioredis.Redis:
    """A client on an empty database (FLUSHDB first), closed after the test."""
    client = make_redis()
    await client.flushdb()
    return client
