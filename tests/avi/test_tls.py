"""TLS to the controller: verification on by default, a CA bundle option, an explicit insecure switch."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from avi.client import AviClient
from avi.errors import AviUnavailableError
from avi.settings import AviSettings
from avisim import SimulatorConfig, create_app
from avisim.tls import self_signed_pem
from tests.conftest import SIM_DEFAULTS, SIM_PASSWORD


@pytest.fixture
async def tls_sim(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """A simulator over HTTPS with a fresh self-signed certificate; yields (url, CA file)."""
    cert_pem, key_pem = self_signed_pem("127.0.0.1")
    cert_file, key_file = tmp_path / "ca.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert_pem)
    key_file.write_bytes(key_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    runner = web.AppRunner(create_app(SimulatorConfig(**SIM_DEFAULTS)), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    yield f"https://127.0.0.1:{port}", cert_file
    await runner.cleanup()


async def test_self_signed_certificate_is_refused_by_default(tls_sim: tuple[str, Path]) -> None:
    url, _ = tls_sim
    settings = AviSettings(host=url, password=SIM_PASSWORD)
    assert settings.verify_ssl is True
    async with AviClient(settings) as client:
        with pytest.raises(AviUnavailableError) as err:
            await client.get("pool")
    assert "unreachable" in str(err.value)
    assert SIM_PASSWORD not in str(err.value)


async def test_ca_bundle_is_trusted(tls_sim: tuple[str, Path]) -> None:
    url, ca = tls_sim
    async with AviClient(AviSettings(host=url, password=SIM_PASSWORD, ca_bundle=ca)) as client:
        page = await client.get("pool", params={"page_size": 1})
    assert page["count"] > 0


async def test_insecure_switch_connects_and_warns(
    tls_sim: tuple[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = tls_sim
    async with AviClient(AviSettings(host=url, password=SIM_PASSWORD, verify_ssl=False)) as client:
        page = await client.get("virtualservice", params={"page_size": 1})
    assert page["count"] > 0
    assert any("verification is OFF" in r.getMessage() for r in caplog.records)
    assert all(SIM_PASSWORD not in r.getMessage() for r in caplog.records)
