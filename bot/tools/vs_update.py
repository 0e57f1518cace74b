"""`update_virtual_service`: enable/disable, description, pool, application profile, and SSL (turn it on
for a service port, the certificate to present, the SSL profile), planned with a field-level diff read
from the controller and run only once confirmed.

Names (pool, certificate, profiles) are resolved to the objects before anything is pending, with the
close names when one is not found. SSL is checked as the controller needs it: a port that terminates
SSL needs a certificate, and a certificate needs a port that terminates SSL. Turning SSL on for a VS
without an SSL profile sets `System-Standard` (shown in the diff). The change is worked out again at run
time from the VS as it is then, and sent as one PATCH `replace` of the fields that differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from avi.models import VirtualServiceDetail, ref_name
from avi.operations import VirtualServiceUpdate
from avi.operations.virtualservices import with_ssl_ports
from bot.tools.base import Tool, ToolContext, ToolResult, WritePlan
from bot.tools.common import Args, OptBool, OptStr, tenant_label, tool
from bot.tools.errors import ToolError, nothing_to_do
from bot.tools.names import Named, find_named
from bot.tools.virtualservices import LOOKUP, VS_TOPICS, after_vs, diff_line, read_vs, show, vs_target
from bot.types import Risk

OptInt = Annotated[int | None, WithJsonSchema({"type": "integer"})]
DEFAULT_SSL_PROFILE = "System-Standard"
CA_TYPE = "SSL_CERTIFICATE_TYPE_CA"
CHANGE_FIELDS = "enabled, description, pool, application_profile, ssl_port, certificate or ssl_profile"


class UpdateArgs(Args):
    name: str = Field(min_length=1, description="virtual service name (or uuid)")
    enabled: OptBool = Field(None, description="true to enable, false to disable")
    description: OptStr = Field(None, description="new description text")
    pool: OptStr = Field(None, description="existing pool to switch the traffic to")
    application_profile: OptStr = Field(
        None, description="application profile name, e.g. System-HTTP or System-Secure-HTTP"
    )
    ssl_port: OptInt = Field(
        None, ge=1, le=65535, description="service port to terminate SSL/TLS on, e.g. 443 (added if absent)"
    )
    certificate: OptStr = Field(None, description="SSL certificate name the service presents")
    ssl_profile: OptStr = Field(None, description="SSL profile name, e.g. System-Standard")


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any  # what the diff shows


def _ports_text(services: list[dict[str, Any]]) -> str:
    out = []
    for s in services:
        port, end = s.get("port"), s.get("port_range_end")
        span = f"{port}-{end}" if end and end != port else f"{port}"
        out.append(f"{span}{'(ssl)' if s.get('enable_ssl') else ''}")
    return ", ".join(out) or "(none)"


def _cert_names(config: dict[str, Any]) -> list[str]:
    return [str(ref_name(r)) for r in config.get("ssl_key_and_certificate_refs") or [] if ref_name(r)]


async def _pool(ctx: ToolContext, vs: VirtualServiceDetail, name: str) -> Named:
    if vs.pool_group:
        raise ToolError(
            f"virtual service {vs.name} sends its traffic to pool group {vs.pool_group}, not to one pool",
            "change the pool group's members instead",
        )
    return await find_named(ctx, "pool", name, what="pool", lookup="list_pools")


async def _certificate(ctx: ToolContext, name: str) -> Named:
    cert = await find_named(
        ctx, "sslkeyandcertificate", name, what="certificate", lookup="list_certificates", fields="name,type"
    )
    if cert.fields.get("type") == CA_TYPE:
        raise ToolError(
            f"certificate {cert.name} is a CA certificate; a virtual service presents its own certificate",
            "pick a certificate of the service (list_certificates)",
        )
    return cert


async def _ssl_changes(
    ctx: ToolContext, vs: VirtualServiceDetail, args: UpdateArgs, out: list[Change], update: dict[str, Any]
) -> None:
    config = vs.config
    services = list(config.get("services") or [])
    after = with_ssl_ports(services, [args.ssl_port]) if args.ssl_port is not None else services
    if after != services:
        out.append(Change("services", _ports_text(services), _ports_text(after)))
        update["ssl_ports"] = [args.ssl_port]
    certs = _cert_names(config)
    if args.certificate is not None:
        cert = await _certificate(ctx, args.certificate)
        if certs != [cert.name]:
            out.append(Change("certificate", ", ".join(certs), cert.name))
            update["certificates"] = [cert.uuid]
        certs = [cert.name]
    ssl_after = any(s.get("enable_ssl") for s in after)
    if "ssl_ports" in update and not certs:
        raise ToolError(
            f"SSL on port {args.ssl_port} of {vs.name} needs a certificate to present",
            "give certificate (the names: list_certificates)",
        )
    if args.certificate is not None and not ssl_after:
        raise ToolError(
            f"virtual service {vs.name} terminates SSL on no port, so it would present no certificate",
            "say which port terminates SSL with ssl_port, e.g. 443",
        )
    profile_now = ref_name(config.get("ssl_profile_ref")) or ""
    wanted = args.ssl_profile or (DEFAULT_SSL_PROFILE if "ssl_ports" in update and not profile_now else None)
    if wanted is not None:
        profile = await find_named(ctx, "sslprofile", wanted, what="SSL profile", lookup="list_objects")
        if profile.name != profile_now:
            out.append(Change("ssl_profile", profile_now, profile.name))
            update["ssl_profile"] = profile.uuid


async def _changes(
    ctx: ToolContext, vs: VirtualServiceDetail, args: UpdateArgs
) -> tuple[list[Change], VirtualServiceUpdate]:
    """What the call really changes on the VS as it is now, and the update that makes it."""
    out: list[Change] = []
    update: dict[str, Any] = {}
    if args.enabled is not None and args.enabled != vs.enabled:
        out.append(Change("enabled", vs.enabled, args.enabled))
        update["enabled"] = args.enabled
    description = vs.config.get("description") or ""
    if args.description is not None and args.description != description:
        out.append(Change("description", description, args.description))
        update["description"] = args.description
    if args.pool is not None and args.pool not in (vs.pool, vs.pool_uuid):
        pool = await _pool(ctx, vs, args.pool)
        if pool.uuid != vs.pool_uuid:
            out.append(Change("pool", vs.pool or "", pool.name))
            update["pool"] = pool.uuid
    if args.application_profile is not None:
        now = ref_name(vs.config.get("application_profile_ref")) or ""
        profile = await find_named(
            ctx,
            "applicationprofile",
            args.application_profile,
            what="application profile",
            lookup="list_objects",
        )
        if profile.name != now:
            out.append(Change("application_profile", now, profile.name))
            update["application_profile"] = profile.uuid
    await _ssl_changes(ctx, vs, args, out, update)
    return out, VirtualServiceUpdate(**update)


def _asked(args: UpdateArgs) -> bool:
    fields = (
        args.enabled,
        args.description,
        args.pool,
        args.application_profile,
        args.ssl_port,
        args.certificate,
        args.ssl_profile,
    )
    return any(f is not None for f in fields)


async def plan_update(ctx: ToolContext, args: UpdateArgs) -> WritePlan:
    vs = await read_vs(ctx, args.name)
    if not _asked(args):
        raise ToolError(f"say what to change on {vs.name}", f"give {CHANGE_FIELDS}")
    changes, _ = await _changes(ctx, vs, args)
    if not changes:
        raise nothing_to_do(f"nothing to change on {vs.name}; it already has those values")
    diff = []
    for c in changes:
        diff += [diff_line("-", c.field, c.before), diff_line("+", c.field, c.after)]
    fields = ", ".join(c.field for c in changes)
    return WritePlan(
        summary=f"Change {fields} of virtual service {vs.name} (tenant {tenant_label(ctx)})", diff=diff
    )


async def run_update(ctx: ToolContext, args: UpdateArgs) -> ToolResult:
    vs = await read_vs(ctx, args.name)
    changes, update = await _changes(ctx, vs, args)  # from the VS as it is now
    if not changes:
        return await after_vs(ctx, vs.uuid, f"Virtual service {vs.name} already had those values")
    updated = await ctx.ops.virtualservices.update(vs.uuid, update, tenant=ctx.tenant)
    return await after_vs(ctx, updated.uuid, f"Updated virtual service {updated.name}")


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").lower() == (b or "").lower()


async def verify_update(ctx: ToolContext, args: UpdateArgs) -> bool | None:
    """Every field asked for has its new value (the PATCH is atomic: all of them or none)."""
    vs = await read_vs(ctx, args.name)
    config = vs.config
    checks: list[bool] = []
    if args.enabled is not None:
        checks.append(vs.enabled == args.enabled)
    if args.description is not None:
        checks.append((config.get("description") or "") == args.description)
    if args.pool is not None:
        checks.append(_same(args.pool, vs.pool) or args.pool == vs.pool_uuid)
    if args.application_profile is not None:
        checks.append(_same(args.application_profile, ref_name(config.get("application_profile_ref"))))
    if args.ssl_port is not None:
        services = config.get("services") or []
        checks.append(with_ssl_ports(services, [args.ssl_port]) == services)
    if args.certificate is not None:
        checks.append(any(_same(args.certificate, n) for n in _cert_names(config)))
    if args.ssl_profile is not None:
        checks.append(_same(args.ssl_profile, ref_name(config.get("ssl_profile_ref"))))
    return all(checks) if checks else None


TOOLS: list[Tool] = [
    tool(
        "update_virtual_service",
        "Change a virtual service: enable/disable it, its description, switch it to another pool, set the "
        "application profile, or turn on SSL for a port with a certificate (and SSL profile). Needs "
        "confirmation.",
        UpdateArgs,
        run_update,
        risk=Risk.WRITE,
        plan=plan_update,
        # Not "certificate" or "https": those words ask list_certificates and reads of a VS far more often.
        topics=(*VS_TOPICS, "update", "change", "set", "modify", "description", "pool", "switch", "ssl"),
        lookup=LOOKUP,
        verify=verify_update,
        readback=show,
        target=vs_target,
    ),
]
