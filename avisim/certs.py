"""Certificates: deterministic Ed25519 certs for the seeded inventory and PEM parsing for uploads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def make_cert(
    common_name: str, key_bytes: bytes, serial: int, not_before: dt.datetime, not_after: dt.datetime
) -> tuple[str, str]:
    """(certificate PEM, key PEM): Ed25519 signatures are deterministic, so equal inputs give equal PEMs."""
    key = ed25519.Ed25519PrivateKey.from_private_bytes(key_bytes)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Avi Simulator"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
        .sign(key, None)
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return cert_pem, key_pem


def expiry_status(not_after: dt.datetime, now: dt.datetime) -> str:
    if not_after <= now:
        return "SSL_CERTIFICATE_EXPIRED"
    if not_after - now <= dt.timedelta(days=30):
        return "SSL_CERTIFICATE_EXPIRY_WARNING"
    return "SSL_CERTIFICATE_GOOD"


def describe(cert_pem: str, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """The controller's parsed view of a PEM certificate (subject, dates, expiry status), or None."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem.encode())
    except (ValueError, TypeError):
        return None
    now = now or dt.datetime.now(dt.UTC)
    not_after = cert.not_valid_after_utc
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    issuer_cn = cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    return {
        "certificate": cert_pem,
        "subject": {"common_name": str(cn[0].value) if cn else ""},
        "issuer": {"common_name": str(issuer_cn[0].value) if issuer_cn else ""},
        "serial_number": str(cert.serial_number),
        "not_before": cert.not_valid_before_utc.strftime(TIME_FORMAT),
        "not_after": not_after.strftime(TIME_FORMAT),
        "expiry_status": expiry_status(not_after, now),
        "days_until_expire": (not_after - now).days,
        "self_signed": cert.subject == cert.issuer,
    }
