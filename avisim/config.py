"""The simulator's settings: one validated model shared by the CLI, the tests and the app."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class SimulatorConfig(BaseModel):
    """What the simulated controller looks like and how strict it is."""

    model_config = ConfigDict(extra="forbid")

    username: str = "admin"
    password: str = "admin"
    objects: int = Field(100, description="number of virtual services (10..10000)")
    pools: int | None = Field(None, ge=0, description="number of pools; None = one per virtual service")
    seed: int = 1
    session_timeout: float = Field(900.0, gt=0, description="idle seconds before a session expires")
    version: str = "30.2.1"
    lockout_failures: int = Field(3, ge=0, description="failed logins before the account locks; 0 = off")
    lockout_seconds: float = Field(1800.0, ge=0)
    test_hooks: bool = True
    alert_every: float = Field(0.0, ge=0, description="seconds between simulated alerts; 0 = none")

    @field_validator("objects")
    @classmethod
    def _objects(cls, value: int) -> int:
        if not 10 <= value <= 10000:
            raise ValueError(f"objects must be between 10 and 10000, got {value}")
        return value

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        parts = value.split(".")
        if len(parts) < 2 or not all(p.isdigit() for p in parts):
            raise ValueError(f"version must look like 30.2.1, got {value!r}")
        return value

    @property
    def pool_count(self) -> int:
        return self.objects if self.pools is None else self.pools
