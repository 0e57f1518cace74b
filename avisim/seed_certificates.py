"""Certificates: deterministic Ed25519 keys, dates relative to today (UTC midnight): stable within a day."""

from __future__ import annotations

import datetime as dt

from .certs import TIME_FORMAT, expiry_status, make_cert
from .seed_context import APPS, Seeder


def seed_certificates(seeder: Seeder) -> None:
    """System-Default-Cert and per-application certificates, some expiring or expired."""
    rng = seeder.rng
    seeder.certs = []
    count = min(60, max(4, seeder.config.objects // 10))
    offsets = (-12, 4, 18, 45, 120, 240, 365, 730)
    for i in range(count + 1):
        name = "System-Default-Cert" if i == 0 else f"{APPS[(i - 1) % len(APPS)]}-cert-{i:03d}"
        days = 3650 if i == 0 else offsets[rng.randrange(len(offsets))]
        not_after = seeder.anchor + dt.timedelta(days=days)
        not_before = not_after - dt.timedelta(days=397 if i else 3650)
        cn = "avi.sim.local" if i == 0 else f"{name.rsplit('-cert', 1)[0]}.example.com"
        cert_pem, key_pem = make_cert(cn, rng.randbytes(32), 1000 + i, not_before, not_after)
        obj = seeder.add(
            "sslkeyandcertificate",
            {
                "name": name,
                "type": "SSL_CERTIFICATE_TYPE_SYSTEM" if i == 0 else "SSL_CERTIFICATE_TYPE_VIRTUALSERVICE",
                "certificate": {
                    "certificate": cert_pem,
                    "subject": {"common_name": cn, "organization": "Avi Simulator"},
                    "issuer": {"common_name": cn, "organization": "Avi Simulator"},
                    "serial_number": str(1000 + i),
                    "not_before": not_before.strftime(TIME_FORMAT),
                    "not_after": not_after.strftime(TIME_FORMAT),
                    "expiry_status": expiry_status(not_after, seeder.anchor),
                    "self_signed": True,
                },
                "key": key_pem,
                "key_passphrase": f"sim-passphrase-{i:03d}",
                "key_params": {"algorithm": "SSL_KEY_ALGORITHM_EC"},
                "status": "SSL_CERTIFICATE_FINISHED",
            },
        )
        if i:
            seeder.certs.append(obj["uuid"])
