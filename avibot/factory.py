"""The composition root: build the agent from settings, the only place that knows every concrete part.

`build_runtime` wires the controller client (or an in-process simulator for `--demo`), the stores
(Redis when `REDIS_URL` is set, in-process otherwise), the language model when Ollama answers, and
the agent; `Runtime.aclose` undoes it all.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from avi.client import AviClient
from avi.operations import AviOperations
from avi.settings import AviSettings
from avibot.config import ConfigError, NamedAvi, Settings
from avisim import SimulatorConfig, create_app
from bot.agent import Agent
from bot.alerts.health import ObjectHealth
from bot.alerts.service import AlertOrigin, AlertService
from bot.alerts.settings import AlertRoute, AlertSettings
from bot.alerts.sqlite_store import SQLiteAlertStore
from bot.alerts.store import AlertStore, MemoryAlertStore, RedisAlertStore
from bot.audit import AuditLog, MemoryAuditLog, RedisAuditLog
from bot.commands.learned import default_classifier
from bot.controllers import DEFAULT, Controller, Controllers
from bot.dedup import channel_guards
from bot.entities import EntityIndex
from bot.events import Observers
from bot.history import ConversationStore, MemoryConversationStore, RedisConversationStore
from bot.model_status import ModelStatus, ollama_probe
from bot.parked import MemoryParkedQuestions, ParkedQuestions, RedisParkedQuestions
from bot.pending import MemoryPendingStore, PendingStore, RedisPendingStore
from bot.sqlite import SQLiteStores, open_sqlite_stores
from bot.sqlite.transcript import SQLiteTranscriptStore
from bot.tools import build_catalogue
from bot.transcript import MemoryTranscriptStore, RedisTranscriptStore, TranscriptStore
from bot.turns import Turns
from llm.client import OllamaChat

log = logging.getLogger("avibot")

DEMO_OBJECTS = 120
PROBE_SECONDS = 5.0
DEDUP_SECONDS = 3600  # how long a platform's event id is remembered (Slack retries within minutes)


@dataclass
class Runtime:
    """A built agent, the turn entry the channels use, and what needs closing at the end."""

    agent: Agent
    turns: Turns
    observers: Observers
    client: AviClient  # the default controller's
    controller: str
    llm_mode: str
    store: str
    redis: Any = None  # the shared redis.asyncio client when REDIS_URL is set (channels de-dup with it)
    alerts: AlertService | None = None  # controller alerts to chat threads, when alerts.routes is set
    stack: AsyncExitStack = field(repr=False, default_factory=AsyncExitStack)

    @property
    def clients(self) -> dict[str, AviClient]:
        """Every controller's client, by name, the default first."""
        return {c.name: c.ops.client for c in self.agent.controllers}

    @property
    def mode(self) -> str:
        return self.agent.mode  # live: the model status is probed and may change at any time

    async def aclose(self) -> None:
        await self.stack.aclose()


DEMO_FEED = AlertRoute(to="web:demo")
DEMO_POLL_SECONDS = 5.0


async def start_demo_controller(
    stack: AsyncExitStack, objects: int = DEMO_OBJECTS, alert_every: float = 0.0
) -> AviSettings:
    """A simulator in this process on a free loopback port, with a throwaway password."""
    password = secrets.token_urlsafe(12)
    app = create_app(SimulatorConfig(objects=objects, seed=1, password=password, alert_every=alert_every))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return AviSettings(host=f"http://127.0.0.1:{port}", username="admin", password=password)


REDIS_SOCKET_SECONDS = 5.0


def connect_redis(url: str) -> Any:
    """A redis.asyncio client that survives a Redis restart: a stale pooled connection is retried with
    backoff, idle ones are health-checked. Only connection errors are retried: after a timeout a write
    (an audit XADD, a history RPUSH) may already have been applied, and must not be applied twice.
    (`from_url` alone retries nothing in redis-py 8.)"""
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialWithJitterBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    retry = Retry(
        ExponentialWithJitterBackoff(base=0.1, cap=2.0), 3, supported_errors=(RedisConnectionError,)
    )
    return aioredis.from_url(
        url,
        decode_responses=True,
        retry=retry,
        retry_on_error=[RedisConnectionError],
        health_check_interval=30,
        # A stalled server (DEBUG SLEEP, a stuck fork, a full network buffer) must cost a turn a few
        # seconds, not hang it: nothing here uses blocking commands (bot/serial.py's lock polls).
        socket_timeout=REDIS_SOCKET_SECONDS,
        socket_connect_timeout=REDIS_SOCKET_SECONDS,
    )


async def start_model_status(
    settings: Settings, stack: AsyncExitStack, observers: Observers, use_llm: bool
) -> tuple[OllamaChat | None, ModelStatus, str]:
    """The model client (None with --no-llm), its live status probed once now, and the banner line."""
    if not use_llm:
        return (
            None,
            ModelStatus(None, up=False, reason="the language model is switched off"),
            "command mode (--no-llm)",
        )
    llm = OllamaChat(settings.llm)
    stack.push_async_callback(llm.aclose)
    status = ModelStatus(
        ollama_probe(llm, PROBE_SECONDS),
        up=False,
        reason="the language model has not answered yet",
        probe_seconds=settings.agent.llm_retry_after_seconds,
        observers=observers,
    )
    await status.probe_now()
    status.start()  # probes while it is down; a turn that finds it down or hung says so at once
    stack.push_async_callback(status.stop)
    banner = f"LLM {llm.model} at {llm.host}" if status.up else f"command mode ({status.reason}; probing)"
    return llm, status, banner


def demo_alerts(settings: AlertSettings) -> AlertSettings:
    """The demo shows its alerts on the page (web:demo) when no route is configured, polled more often
    than the default (a poll_seconds set in the config or environment is kept)."""
    if settings.routes:
        return settings
    poll = DEMO_POLL_SECONDS if "poll_seconds" not in settings.model_fields_set else settings.poll_seconds
    return settings.model_copy(update={"routes": (DEMO_FEED,), "poll_seconds": poll})


def alert_origins(controllers: Controllers) -> list[AlertOrigin]:
    """Each controller's alerts, object health and UI address (the default first; its links fall back
    to alerts.controller_url, the others' only to their own public_url)."""
    default = controllers.default
    return [
        AlertOrigin(
            c.ops.alerts,
            name=c.name,
            health=ObjectHealth(c.ops.health),
            link=c.public_url or (None if c is default else ""),
        )
        for c in controllers
    ]


def named_controller(entry: NamedAvi, client: AviClient, stack: AsyncExitStack, address: str) -> Controller:
    """One controller's operations and name index over its own client."""
    ops = AviOperations(client)
    entities = EntityIndex(ops, controller=entry.name)
    stack.push_async_callback(entities.settle)  # background rebuilds end before the client closes
    return Controller(
        name=entry.name,
        ops=ops,
        tenant=entry.avi.tenant,
        address=address or entry.avi.base_url,
        label=entry.label,
        public_url=entry.public_url,
        entities=entities,
    )


async def build_runtime(
    settings: Settings, *, demo: bool = False, use_llm: bool = True, alert_every: float = 0.0
) -> Runtime:
    stack = AsyncExitStack()
    try:
        if demo:
            demo_settings = await start_demo_controller(stack, alert_every=alert_every)
            named = [NamedAvi(name=DEFAULT, avi=demo_settings)]
            controller = f"demo simulator at {demo_settings.base_url}"
        else:
            named = settings.require_controllers()
            controller = named[0].avi.base_url
        clients: dict[str, AviClient] = {}
        for entry in named:  # one client, session and read cache each: a dead one slows only itself
            clients[entry.name] = AviClient(entry.avi)
            stack.push_async_callback(clients[entry.name].aclose)
        client = clients[named[0].name]

        shared: Any = None
        sqlite: SQLiteStores | None = None
        alert_store: AlertStore = MemoryAlertStore()
        history: ConversationStore
        pending: PendingStore
        audit: AuditLog
        transcript: TranscriptStore  # what each turn showed, for a reloaded page (same TTL as history)
        ttl = settings.history.ttl_seconds
        parked: ParkedQuestions = MemoryParkedQuestions()  # one replica: its own memory is enough
        if settings.redis.url:
            shared = connect_redis(settings.redis.url)
            stack.push_async_callback(shared.aclose)
            prefix = settings.redis.prefix
            history = RedisConversationStore(
                shared, max_messages=settings.history.max_messages, ttl_seconds=settings.history.ttl_seconds,
                prefix=prefix,
            )  # fmt: skip
            pending = RedisPendingStore(
                shared, prefix=prefix, tombstone_ttl_seconds=settings.agent.pending_ttl_seconds
            )
            audit = RedisAuditLog(shared, prefix=prefix)
            transcript = RedisTranscriptStore(shared, ttl_seconds=ttl, prefix=prefix)
            parked = RedisParkedQuestions(shared, prefix=prefix)  # a page's stream may land on any replica
            alert_store = RedisAlertStore(shared, prefix=f"{prefix}alerts:")
            store = "redis"
        elif demo:
            history = MemoryConversationStore(
                max_messages=settings.history.max_messages, ttl_seconds=settings.history.ttl_seconds
            )
            pending = MemoryPendingStore(tombstone_ttl_seconds=settings.agent.pending_ttl_seconds)
            audit = MemoryAuditLog()
            transcript = MemoryTranscriptStore(ttl_seconds=ttl)
            store = "in-process (demo: forgotten at exit)"
        else:
            sqlite = await open_sqlite_stores(
                settings.state.state_dir,
                max_messages=settings.history.max_messages,
                history_ttl_seconds=settings.history.ttl_seconds,
                pending_tombstone_ttl_seconds=settings.agent.pending_ttl_seconds,
                dedup_ttl_seconds=DEDUP_SECONDS,
            )
            stack.push_async_callback(sqlite.aclose)
            history, pending, audit = sqlite.history, sqlite.pending, sqlite.audit
            transcript = SQLiteTranscriptStore(sqlite.db, ttl_seconds=ttl)
            alert_store = await SQLiteAlertStore.open(sqlite.db)
            store = f"SQLite at {sqlite.path} (one replica only: several replicas need REDIS_URL)"

        observers = Observers()
        llm, model_status, llm_mode = await start_model_status(settings, stack, observers, use_llm)
        await asyncio.to_thread(default_classifier)  # the fallback's, trained off the loop before any turn
        controllers = Controllers(
            [
                named_controller(entry, clients[entry.name], stack, controller if i == 0 else "")
                for i, entry in enumerate(named)
            ]
        )
        agent = Agent(
            controllers=controllers,
            catalogue=build_catalogue(),
            history=history,
            pending=pending,
            audit=audit,
            access=settings.access,
            llm=llm,
            num_ctx=settings.llm.num_ctx,
            settings=settings.agent,
            observers=observers,
            model_status=model_status,
        )
        alert_settings = demo_alerts(settings.alerts) if demo else settings.alerts
        alerts = None
        if alert_settings.enabled:
            try:  # one engine per controller a route names; a name the bot lacks is a config error
                alerts = AlertService(
                    alert_origins(controllers), alert_store, alert_settings, observers=observers
                )
            except ValueError as exc:
                raise ConfigError(str(exc).splitlines()[0]) from None
            stack.push_async_callback(alerts.aclose)  # the poller stops before the client closes
        deduper, locks = channel_guards(shared, prefix=settings.redis.prefix, ttl_seconds=DEDUP_SECONDS)
        if sqlite is not None:
            deduper = sqlite.deduper
        return Runtime(
            agent=agent,
            turns=Turns(
                agent,
                deduper=deduper,
                locks=locks,
                observers=observers,
                transcript=transcript,
                parked=parked,
                alerts=alerts,
            ),
            observers=observers,
            client=client,
            controller=controller
            if not controllers.several
            else "; ".join(f"{c.name} at {c.address}" for c in controllers),
            llm_mode=llm_mode,
            store=store,
            redis=shared,
            alerts=alerts,
            stack=stack,
        )
    except BaseException:
        await stack.aclose()
        raise
