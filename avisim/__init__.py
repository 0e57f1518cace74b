"""A simulated Avi controller: the REST API of avi-api-contract.md over real HTTP, for tests and demos."""

from __future__ import annotations

from .app import create_app, get_state
from .config import SimulatorConfig
from .server import serve
from .state import SimulatorState
from .stats import SimStats

__all__ = ["SimStats", "SimulatorConfig", "SimulatorState", "create_app", "get_state", "serve"]
