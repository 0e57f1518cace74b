"""Who may do what: the `access` config section resolved, per message, into a role and an Avi tenant.

Precedence (most specific first), so an admin can both grant and *demote* one person:

1. the user: `users["<platform>:<user id>"]`, then `users["<user id>"]`
2. the user's platform groups: the highest role among `groups["<platform>:<group>"]` / `groups["<group>"]`
3. the channel: `channels["<platform>:<channel>"]`, then `channels["<channel>"]`
4. the user wildcard: `users["<platform>:*"]`, then `users["*"]`
5. `default_role`

The terminal (`platform == "cli"`) is a person at the shell: a specific user mapping (step 1) still
applies, otherwise `cli_role`. `read_only` caps everyone at reads, whatever the role, and
`controller_roles` caps everyone on one controller (operators on staging, viewers on production).
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from bot.types import Inbound, Risk, Role

CLI_PLATFORM = "cli"
T = TypeVar("T")

# The most a role may do; risks are ordered read < write < destructive.
_RISK_ORDER = (Risk.READ, Risk.WRITE, Risk.DESTRUCTIVE)
_ROLE_ORDER = (Role.VIEWER, Role.OPERATOR, Role.ADMIN)
_ROLE_MAX_RISK = {Role.VIEWER: Risk.READ, Role.OPERATOR: Risk.WRITE, Role.ADMIN: Risk.DESTRUCTIVE}


def required_role(risk: Risk) -> Role:
    """The least role that may run a tool of this risk."""
    return _ROLE_ORDER[_RISK_ORDER.index(risk)]


class AccessSettings(BaseModel):
    """The `access` section of config.yaml. Keys are `<platform>:<id>` or a bare id (any platform)."""

    model_config = ConfigDict(extra="forbid")

    default_role: Role = Role.VIEWER
    users: dict[str, Role] = Field(default_factory=dict, description="user id -> role; `*` for everyone")
    channels: dict[str, Role] = Field(default_factory=dict, description="channel id -> role")
    channel_tenants: dict[str, str] = Field(default_factory=dict, description="channel id -> Avi tenant")
    channel_controllers: dict[str, str] = Field(
        default_factory=dict, description="channel id -> the controller its questions go to"
    )
    controller_roles: dict[str, Role] = Field(
        default_factory=dict, description="controller name -> the highest role anyone has on it"
    )
    groups: dict[str, Role] = Field(default_factory=dict, description="platform group name -> role")
    read_only: bool = Field(False, description="reads only, for everyone (a change freeze)")
    cli_role: Role = Role.OPERATOR


class Access(BaseModel):
    """What one person may do in one place, and why (`source` names the mapping that decided it)."""

    role: Role
    tenant: str | None = None
    read_only: bool = False
    source: str = "default"

    @property
    def max_risk(self) -> Risk:
        return Risk.READ if self.read_only else _ROLE_MAX_RISK[self.role]

    def allows(self, risk: Risk) -> bool:
        """viewer: read; operator: read + write; admin: everything; read_only: read for everyone."""
        return _RISK_ORDER.index(risk) <= _RISK_ORDER.index(self.max_risk)

    def denial(self, risk: Risk) -> str:
        """A sentence for the person who was refused (empty when allowed)."""
        if self.allows(risk):
            return ""
        if self.read_only:
            return f"The assistant is in read-only mode: {risk.value} actions are disabled for everyone."
        need = required_role(risk)
        return f"Your role is {self.role.value}; a {risk.value} action needs the {need.value} role or higher."


def _lookup(mapping: dict[str, T], platform: str, key: str) -> tuple[str, T] | None:
    if not key:
        return None
    for candidate in (f"{platform}:{key}", key):
        if candidate in mapping:
            return candidate, mapping[candidate]
    return None


def resolve_access(settings: AccessSettings, inbound: Inbound) -> Access:
    """The role and tenant for this message, following the precedence in the module docstring."""
    platform, user = inbound.platform, inbound.user
    tenant = _tenant(settings, platform, inbound.channel)

    def access(role: Role, source: str) -> Access:
        return Access(role=role, tenant=tenant, read_only=settings.read_only, source=source)

    hit = _lookup(settings.users, platform, user.id) if user.id != "*" else None
    if hit:
        return access(hit[1], f"user {hit[0]}")
    if platform == CLI_PLATFORM:
        return access(settings.cli_role, "cli_role")
    group_hits = [h for g in user.groups if (h := _lookup(settings.groups, platform, g))]
    if group_hits:
        key, role = max(group_hits, key=lambda h: _ROLE_ORDER.index(h[1]))
        return access(role, f"group {key}")
    hit = _lookup(settings.channels, platform, inbound.channel)
    if hit:
        return access(hit[1], f"channel {hit[0]}")
    hit = _lookup(settings.users, platform, "*")
    if hit:
        return access(hit[1], f"user {hit[0]}")
    return access(settings.default_role, "default_role")


def on_controller(settings: AccessSettings, access: Access, controller: str) -> Access:
    """`access` limited by the controller's `controller_roles` entry (viewers on production, say)."""
    cap = settings.controller_roles.get(controller)
    if cap is None or _ROLE_ORDER.index(cap) >= _ROLE_ORDER.index(access.role):
        return access
    return access.model_copy(update={"role": cap, "source": f"{access.source}; {cap.value} on {controller}"})


def channel_controller(settings: AccessSettings, platform: str, channel: str) -> str | None:
    """The controller a channel is mapped to (`channel_controllers`), if any."""
    hit = _lookup(settings.channel_controllers, platform, channel)
    return hit[1] if hit else None


def _tenant(settings: AccessSettings, platform: str, channel: str) -> str | None:
    hit = _lookup(settings.channel_tenants, platform, channel)
    return hit[1] if hit else None
