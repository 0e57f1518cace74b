"""`avibot audit`: read back the audit log of the configured store, from the terminal or a script.

The store is the one `avibot serve` writes: Redis when REDIS_URL (`redis.url`) is set, else
`avibot.db` in the state directory ($AVIBOT_STATE_DIR, default `.avibot`). A `--demo` server keeps
its audit log in memory only, so there is nothing to read back.

Entries print oldest first, like a log (the newest `--limit` of them): one line each, or one JSON
object per line with `--json`.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from redis.exceptions import RedisError

from avibot.config import load_settings
from bot.audit import DEFAULT_MAX_ENTRIES, AuditEntry, RedisAuditLog
from bot.sqlite import DB_FILENAME, StateFileError, open_sqlite_stores

EXIT_USAGE = 2
DEFAULT_LIMIT = 100

_AGE = re.compile(r"^\s*(\d+)\s*(s|m|min|h|d|w)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """`30m`, `1h`, `2d`, `1w` ago, or an ISO date or time (UTC unless it carries an offset)."""
    age = _AGE.match(text)
    if age:
        seconds = int(age.group(1)) * _UNIT_SECONDS[age.group(2).lower()]
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither an age (30m, 1h, 2d, 1w) nor an ISO time (2026-05-01T09:00)"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return value


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("audit", help="print the audit log: who changed what, where, and how it ended")
    p.add_argument(
        "--since",
        metavar="WHEN",
        type=parse_since,
        help="entries from WHEN on: an age (30m, 1h, 2d, 1w) or an ISO time (UTC unless it has an offset)",
    )
    p.add_argument(
        "--limit",
        metavar="N",
        type=_positive,
        default=DEFAULT_LIMIT,
        help=f"the newest N entries at most (default {DEFAULT_LIMIT})",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--config", default=None, help="config file (default ./config.yaml if present)")


def entry_line(entry: AuditEntry) -> str:
    """`time  who  where  action  result  detail` on one line (control characters flattened)."""
    when = entry.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    who = entry.user_name or entry.user_id
    where = "/".join(part for part in (entry.platform, entry.channel) if part)
    if entry.tenant:
        where += f" tenant={entry.tenant}"
    action = entry.action + (f" [{entry.action_id}]" if entry.action_id else "")
    detail = " ".join(entry.detail.split())
    return "  ".join(part for part in (when, who, where, action, entry.result, detail) if part)


async def _from_redis(url: str, prefix: str, since: datetime | None, limit: int) -> list[AuditEntry]:
    """Newest first. The stream is capped (about 10,000 entries), so `--since` reads it all."""
    from avibot.factory import connect_redis

    client = connect_redis(url)
    try:
        log = RedisAuditLog(client, prefix=prefix)
        if since is None:
            return await log.recent(limit)
        return [e for e in await log.recent(2 * DEFAULT_MAX_ENTRIES) if e.time >= since][:limit]
    finally:
        await client.aclose()


async def _from_sqlite(db_dir: Path, since: datetime | None, limit: int) -> list[AuditEntry]:
    """Newest first; the file is opened as it is (nothing created)."""
    stores = await open_sqlite_stores(db_dir, create=False)
    try:
        if since is None:
            return await stores.audit.recent(limit)
        return await stores.audit.since(since, limit)
    finally:
        await stores.aclose()


def _fail(message: str) -> int:
    print(f"avibot: {message}", file=sys.stderr)
    return EXIT_USAGE


def _print(entries: list[AuditEntry], as_json: bool) -> None:
    """Oldest first; a reader that stops early (`| head`) ends the output quietly."""
    try:
        for entry in reversed(entries):
            print(entry.model_dump_json() if as_json else entry_line(entry))
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit


async def run_audit(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    since: datetime | None = args.since
    if settings.redis.url:
        try:
            entries = await _from_redis(settings.redis.url, settings.redis.prefix, since, args.limit)
        except RedisError as exc:
            return _fail(f"cannot read the audit log from Redis (REDIS_URL): {type(exc).__name__}: {exc}")
    else:
        db_dir = settings.state.state_dir
        db_path = db_dir / DB_FILENAME
        if not db_path.is_file():
            return _fail(
                f"no audit log: REDIS_URL is not set and there is no {db_path.resolve()} "
                "(avibot serve writes it there without Redis; set AVIBOT_STATE_DIR to its state directory; "
                "a --demo server keeps its audit log in memory only)"
            )
        try:
            entries = await _from_sqlite(db_dir, since, args.limit)
        except StateFileError as exc:
            return _fail(str(exc))
    _print(entries, args.json)
    if not entries and not args.json:
        print("no audit entries" + (f" since {since.isoformat()}" if since else ""), file=sys.stderr)
    return 0
