"""SSL/TLS certificates (`sslkeyandcertificate`): identity and expiry, in one walk of the collection.

The controller parses each certificate and stores `certificate.subject`, `.issuer`, `.not_before`,
`.not_after` (`"YYYY-MM-DD HH:MM:SS"`, UTC) and `.expiry_status`. Its `days_until_expire` is not
the days left (a recorded 20.1 controller answered 365 for a certificate valid seven more years), so the
days left are computed here from `not_after`. Keys and passphrases are never asked for (`export_key`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from avi.models import CertificateList, CertificateSummary, ref_name
from avi.operations.base import OperationGroup

# Only what the answer needs: the parsed certificate (PEM included, it is public) but not key_params,
# OCSP state or the CA chain.
CERT_FIELDS = "name,type,certificate,tenant_ref"
_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")


def parse_cert_time(value: Any) -> dt.datetime | None:
    """`"2027-06-09 04:44:28"` (the controller's form, UTC) or ISO 8601 -> an aware datetime."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().removesuffix(" UTC").removesuffix("Z")
    parsed: dt.datetime | None = None
    for fmt in _FORMATS:
        try:
            parsed = dt.datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    if parsed is None:
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _cn(part: Any) -> str | None:
    if isinstance(part, dict) and part.get("common_name"):
        return str(part["common_name"])
    return None


def cert_summary(obj: dict[str, Any], now: dt.datetime) -> CertificateSummary:
    raw = obj.get("certificate")
    cert: dict[str, Any] = raw if isinstance(raw, dict) else {}
    not_after = parse_cert_time(cert.get("not_after"))
    self_signed = cert.get("self_signed")
    return CertificateSummary(
        uuid=str(obj.get("uuid")),
        name=str(obj.get("name", "")),
        tenant=ref_name(obj.get("tenant_ref")),
        type=obj.get("type"),
        subject_cn=_cn(cert.get("subject")),
        issuer_cn=_cn(cert.get("issuer")),
        self_signed=self_signed if isinstance(self_signed, bool) else None,
        not_before=parse_cert_time(cert.get("not_before")),
        not_after=not_after,
        days_left=(not_after - now).days if not_after else None,
        expired=bool(not_after and not_after <= now),
        expiry_status=cert.get("expiry_status"),
    )


def _expiry_key(c: CertificateSummary) -> tuple[int, dt.datetime, str]:
    return (c.not_after is None, c.not_after or dt.datetime.max.replace(tzinfo=dt.UTC), c.name)


class CertificateOps(OperationGroup):
    async def list(
        self,
        *,
        expiring_within_days: int | None = None,
        name_contains: str | None = None,
        include_expired: bool = True,
        tenant: str | None = None,
        now: dt.datetime | None = None,
    ) -> CertificateList:
        """Certificates sorted by expiry (soonest first), in ceil(N/200) requests.

        `expiring_within_days=N`: only those whose `not_after` is at most N days from `now` (the
        expired ones too, unless `include_expired` is false); certificates without a date are left out.
        """
        if expiring_within_days is not None and expiring_within_days < 0:
            raise ValueError("expiring_within_days must be 0 or more")
        now = now or dt.datetime.now(dt.UTC)
        params: dict[str, Any] = {"fields": CERT_FIELDS, "include_name": True}
        if name_contains:
            params["name.icontains"] = name_contains
        total = 0
        out: list[CertificateSummary] = []
        horizon = now + dt.timedelta(days=expiring_within_days) if expiring_within_days is not None else None
        async for page in self.client.iter_pages("sslkeyandcertificate", params=params, tenant=tenant):
            for obj in page.results:
                if name_contains and name_contains.lower() not in str(obj.get("name", "")).lower():
                    continue
                total += 1
                cert = cert_summary(obj, now)
                if horizon is not None and (cert.not_after is None or cert.not_after > horizon):
                    continue
                if cert.expired and not include_expired:
                    continue
                out.append(cert)
        out.sort(key=_expiry_key)
        return CertificateList(certificates=out, total=total, now=now)
