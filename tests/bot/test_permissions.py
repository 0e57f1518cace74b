"""Roles and tenants from the `access` section: the risk matrix and the precedence of mappings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.permissions import Access, AccessSettings, required_role, resolve_access
from bot.types import Inbound, Risk, Role, User

R, W, D = Risk.READ, Risk.WRITE, Risk.DESTRUCTIVE


def msg(
    user_id: str = "U1", *, platform: str = "slack", channel: str = "C1", groups: list[str] | None = None
) -> Inbound:
    return Inbound(
        platform=platform,
        conversation_key=f"{platform}:x",
        user=User(id=user_id, name="someone", groups=groups or []),
        text="hi",
        channel=channel,
    )


@pytest.mark.parametrize(
    ("role", "read_only", "allowed"),
    [
        (Role.VIEWER, False, {R}),
        (Role.OPERATOR, False, {R, W}),
        (Role.ADMIN, False, {R, W, D}),
        (Role.VIEWER, True, {R}),
        (Role.OPERATOR, True, {R}),
        (Role.ADMIN, True, {R}),
    ],
)
def test_risk_matrix(role: Role, read_only: bool, allowed: set[Risk]) -> None:
    access = Access(role=role, read_only=read_only)
    assert {risk for risk in Risk if access.allows(risk)} == allowed
    for risk in Risk:
        assert (access.denial(risk) == "") is (risk in allowed)


def test_denial_sentences() -> None:
    assert Access(role=Role.VIEWER).denial(W) == (
        "Your role is viewer; a write action needs the operator role or higher."
    )
    assert "read-only mode" in Access(role=Role.ADMIN, read_only=True).denial(D)
    assert [required_role(r) for r in Risk] == [Role.VIEWER, Role.OPERATOR, Role.ADMIN]


def test_defaults() -> None:
    settings = AccessSettings()
    access = resolve_access(settings, msg())
    assert (access.role, access.tenant, access.read_only, access.source) == (
        Role.VIEWER,
        None,
        False,
        "default_role",
    )
    assert resolve_access(settings, msg(platform="cli")).role is Role.OPERATOR


SETTINGS = AccessSettings(
    default_role=Role.VIEWER,
    users={
        "slack:U1": Role.ADMIN,
        "U2": Role.OPERATOR,
        "slack:DEMOTED": Role.VIEWER,
        "teams:*": Role.OPERATOR,
    },
    channels={"slack:C-ops": Role.OPERATOR, "C-admin": Role.ADMIN},
    groups={"avi-admins": Role.ADMIN, "teams:netops": Role.OPERATOR, "contractors": Role.VIEWER},
    channel_tenants={"slack:C-ops": "prod", "C-lab": "lab"},
    cli_role=Role.ADMIN,
)


@pytest.mark.parametrize(
    ("inbound", "role", "source"),
    [
        # a user mapping wins over everything, by platform:id then bare id; it can also demote
        (msg("U1", channel="C-ops"), Role.ADMIN, "user slack:U1"),
        (msg("U1", platform="teams"), Role.OPERATOR, "user teams:*"),  # slack:U1 is another person
        (msg("U2", platform="teams", channel="C-admin"), Role.OPERATOR, "user U2"),
        (msg("DEMOTED", channel="C-admin", groups=["avi-admins"]), Role.VIEWER, "user slack:DEMOTED"),
        # then the highest of the user's groups, over the channel
        (msg("U9", channel="C-admin", groups=["contractors"]), Role.VIEWER, "group contractors"),
        (msg("U9", groups=["contractors", "avi-admins"]), Role.ADMIN, "group avi-admins"),
        (msg("U9", platform="teams", groups=["netops"]), Role.OPERATOR, "group teams:netops"),
        (msg("U9", groups=["netops"]), Role.VIEWER, "default_role"),  # netops is mapped for teams only
        # then the channel
        (msg("U9", channel="C-ops"), Role.OPERATOR, "channel slack:C-ops"),
        (msg("U9", platform="web", channel="C-admin"), Role.ADMIN, "channel C-admin"),
        (msg("U9", platform="web", channel="C-ops"), Role.VIEWER, "default_role"),
        # then the user wildcard, then the default
        (msg("U9", platform="teams", channel="C-ops"), Role.OPERATOR, "user teams:*"),
        (msg("U9"), Role.VIEWER, "default_role"),
        # the terminal: a mapped user keeps their mapping, anyone else gets cli_role
        (msg("U2", platform="cli"), Role.OPERATOR, "user U2"),
        (msg("local", platform="cli", channel="C-ops", groups=["contractors"]), Role.ADMIN, "cli_role"),
    ],
)
def test_precedence(inbound: Inbound, role: Role, source: str) -> None:
    access = resolve_access(SETTINGS, inbound)
    assert (access.role, access.source) == (role, source)


def test_wildcard_for_every_platform() -> None:
    settings = AccessSettings(users={"*": Role.OPERATOR}, channels={"C-ro": Role.VIEWER})
    assert resolve_access(settings, msg("U9")).role is Role.OPERATOR
    assert resolve_access(settings, msg("U9", channel="C-ro")).role is Role.VIEWER  # channel beats `*`
    assert resolve_access(settings, msg("local", platform="cli")).role is Role.OPERATOR  # cli_role


def test_a_user_named_star_does_not_match_the_wildcard_as_a_user() -> None:
    settings = AccessSettings(users={"*": Role.ADMIN}, channels={"C1": Role.VIEWER})
    assert resolve_access(settings, msg("*", channel="C1")).role is Role.VIEWER


@pytest.mark.parametrize(
    ("inbound", "tenant"),
    [
        (msg(channel="C-ops"), "prod"),
        (msg(platform="teams", channel="C-ops"), None),  # keyed for slack only
        (msg(platform="teams", channel="C-lab"), "lab"),
        (msg(channel=""), None),
        (msg(channel="C-other"), None),
    ],
)
def test_channel_tenants(inbound: Inbound, tenant: str | None) -> None:
    assert resolve_access(SETTINGS, inbound).tenant == tenant


def test_read_only_caps_every_role_and_keeps_the_role() -> None:
    settings = SETTINGS.model_copy(update={"read_only": True})
    access = resolve_access(settings, msg("U1"))
    assert (access.role, access.read_only, access.max_risk) == (Role.ADMIN, True, Risk.READ)
    assert not access.allows(W)
    assert not resolve_access(settings, msg("local", platform="cli")).allows(W)


def test_settings_validate_roles_and_keys() -> None:
    with pytest.raises(ValidationError):
        AccessSettings(users={"U1": "superuser"})
    with pytest.raises(ValidationError):
        AccessSettings(admins=["U1"])
    parsed = AccessSettings.model_validate({"users": {"slack:U1": "admin"}, "read_only": "true"})
    assert parsed.users == {"slack:U1": Role.ADMIN}
    assert parsed.read_only is True


@pytest.mark.parametrize("mapping", ["users", "channels", "groups", "channel_tenants"])
def test_the_platform_key_wins_over_the_bare_id(mapping: str) -> None:
    """`{"U1": admin, "slack:U1": viewer}` must demote U1 on Slack: platform:id is looked up first."""
    bare, specific = (Role.ADMIN, Role.VIEWER) if mapping != "channel_tenants" else ("bare", "specific")
    key = {"users": "U1", "channels": "C1", "groups": "g1", "channel_tenants": "C1"}[mapping]
    settings = AccessSettings(default_role=Role.OPERATOR, **{mapping: {key: bare, f"slack:{key}": specific}})
    access = resolve_access(settings, msg("U1", channel="C1", groups=["g1"]))
    if mapping == "channel_tenants":
        assert access.tenant == "specific"
        assert resolve_access(settings, msg("U1", platform="teams", channel="C1")).tenant == "bare"
    else:
        assert access.role is Role.VIEWER
        assert (
            resolve_access(settings, msg("U1", platform="teams", channel="C1", groups=["g1"])).role
            is Role.ADMIN
        )
