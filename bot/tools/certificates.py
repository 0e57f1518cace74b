"""Certificate tools: which SSL/TLS certificates there are and when each expires."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from avi.models import CertificateSummary
from bot.tools.base import Tool, ToolContext, ToolResult
from bot.tools.common import Args, OptStr, tool
from bot.tools.paging import model_items, page_field, page_note, page_of, paged_table
from bot.tools.render import fit_list, prune

OptInt = Annotated[int | None, WithJsonSchema({"type": "integer"})]

TOPICS = (
    "certificate", "certificates", "cert", "certs", "ssl", "tls", "expire", "expires", "expiry",
    "expiring", "expired", "renew", "valid",
)  # fmt: skip


def _day(value: Any) -> str | None:
    return value.strftime("%Y-%m-%d") if value is not None else None


def _type(value: str | None) -> str | None:
    return value.removeprefix("SSL_CERTIFICATE_TYPE_").lower() if value else None


def cert_row(c: CertificateSummary) -> dict[str, Any]:
    return prune(
        {
            "name": c.name,
            "subject_cn": c.subject_cn,
            "issuer_cn": c.issuer_cn if c.issuer_cn != c.subject_cn else "self-signed",
            "not_after": _day(c.not_after),
            "days_left": c.days_left,
            "expired": c.expired,
            "type": _type(c.type),
        }
    )


class ListArgs(Args):
    expiring_within_days: OptInt = Field(
        None,
        ge=0,
        le=3650,
        description="only certificates expiring within this many days from now (expired ones included)",
    )
    name_contains: OptStr = Field(None, description="only names containing this text (case-insensitive)")
    limit: int = Field(50, ge=1, le=500, description="at most this many in the answer")
    page: int = page_field()


async def list_certificates(ctx: ToolContext, args: ListArgs) -> ToolResult:
    found = await ctx.ops.certificates.list(
        expiring_within_days=args.expiring_within_days, name_contains=args.name_contains, tenant=ctx.tenant
    )
    certs = found.certificates
    page = page_of(certs, args)
    expired = sum(1 for c in certs if c.expired)
    if args.expiring_within_days is not None:
        summary = (
            f"{len(certs)} of {found.total} certificates expire within {args.expiring_within_days} days "
            f"({expired} already expired)"
        )
    else:
        summary = f"{len(certs)} certificates, {expired} expired"
        if certs and certs[0].not_after is not None:
            summary += f"; the soonest, {certs[0].name}, expires {_day(certs[0].not_after)}"
    rows = [
        [c.name, c.subject_cn, c.issuer_cn, _day(c.not_after), c.days_left, c.expired] for c in page.items
    ]
    return ToolResult(
        summary=summary,
        data=fit_list(
            [cert_row(c) for c in model_items(certs, page, args.limit)],
            total=len(certs),
            **page_note(page),
            expired=expired,
            as_of=found.now.strftime("%Y-%m-%d %H:%M UTC"),
        ),
        parts=[
            paged_table(
                summary,
                ["Name", "Subject CN", "Issuer", "Expires (UTC)", "Days left", "Expired"],
                rows,
                page,
                tool="list_certificates",
                args=args,
            )
        ],
    )


TOOLS: list[Tool] = [
    tool(
        "list_certificates",
        "List SSL/TLS certificates with subject, issuer, expiry date and days left, soonest expiry first. "
        "Use for 'which certificates expire in the next 30 days?' (expiring_within_days=30), "
        "'are any certs expired?'.",
        ListArgs,
        list_certificates,
        topics=(*TOPICS, "list", "all", "show", "soon", "when"),
    ),
]
