"""Everything one simulator instance knows: config objects, runtime, sessions, counters."""

from __future__ import annotations

import time
import uuid

from .auth import Authenticator
from .config import SimulatorConfig
from .events import EventLog
from .runtime import OperState
from .seed import seed_inventory
from .stats import SimStats
from .store import Store


class SimulatorState:
    """One simulated controller; tests reach it through `get_state(app)`."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.started = time.time()
        self.store = Store()
        self.runtime = OperState(self.store, config.seed, config.version, started=self.started)
        self.auth = Authenticator(
            self.store, config.session_timeout, config.lockout_failures, config.lockout_seconds
        )
        self.stats = SimStats()
        self.events = EventLog()
        seed_inventory(self.store, self.runtime, config)

    def new_uuid(self, obj_type: str) -> str:
        """A fresh `<type>-<uuid4>` for objects created through the API."""
        return f"{obj_type}-{uuid.uuid4()}"

    def expire_sessions(self) -> None:
        """Every session becomes idle-expired: its next call gets 401."""
        self.auth.expire_all()

    def switch_sessions(self) -> None:
        """Every session answers its next call with 419 `Need to switch session`, then is gone."""
        self.auth.switch_all()

    @property
    def allow_basic_auth(self) -> bool:
        config = self.store.get("systemconfiguration", "default") or {}
        return bool(config.get("portal_configuration", {}).get("allow_basic_authentication", True))
