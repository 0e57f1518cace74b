"""A local OpenID signing-key service, standing in for login.botframework.com (and the Azure AD
endpoint the SDK trusts for Emulator tokens), so tests can send validly signed Bot Framework JWTs.

The SDK fetches keys with blocking `requests` calls from inside the event loop, so this server runs
in its own thread (a real socket). `installed_as_bot_framework(keys, monkeypatch)` makes the SDK's
key cache fetch from it instead of Microsoft; `keys.sign(claims)` issues an RS256 token whose `kid`
the served key set holds, endorsed for `msteams` like Microsoft's.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CHANNEL_ISSUER = "https://api.botframework.com"
EMULATOR_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"  # one the SDK trusts


class SigningKeys:
    """One RSA key pair; the public half is served as a JWK set."""

    def __init__(self, kid: str = "avibot-test-key") -> None:
        self.kid = kid
        self._private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(self._private.public_key()))
        self.jwks = {"keys": [{**jwk, "kid": kid, "use": "sig", "endorsements": ["msteams"]}]}
        self.url = ""  # the OpenID metadata document, once served
        self.fetches = 0

    def sign(self, claims: dict[str, Any], lifetime: int = 600) -> str:
        now = int(time.time())
        body = {"nbf": now - 10, "iat": now - 10, "exp": now + lifetime, **claims}
        return jwt.encode(body, self._private, algorithm="RS256", headers={"kid": self.kid})

    def channel_token(self, app_id: str, service_url: str | None) -> str:
        """What the Bot Framework service sends to a bot: its issuer, audience the app id."""
        claims: dict[str, Any] = {"iss": CHANNEL_ISSUER, "aud": app_id}
        if service_url is not None:
            claims["serviceurl"] = service_url
        return self.sign(claims)

    def emulator_token(self, app_id: str, service_url: str | None = None) -> str:
        """An Azure AD v1 token for the app (what the SDK takes for the Emulator's)."""
        claims: dict[str, Any] = {"iss": EMULATOR_ISSUER, "aud": app_id, "appid": app_id, "ver": "1.0"}
        if service_url is not None:
            claims["serviceurl"] = service_url
        return self.sign(claims)


@contextlib.contextmanager
def serving(keys: SigningKeys) -> Iterator[SigningKeys]:
    """Serve `/openid` (the metadata, pointing at `/keys`) and `/keys` on 127.0.0.1."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = keys.url.rsplit("/", 1)[0]
            if self.path == "/openid":
                body: dict[str, Any] = {"issuer": CHANNEL_ISSUER, "jwks_uri": f"{base}/keys"}
            elif self.path == "/keys":
                keys.fetches += 1
                body = keys.jwks
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="bf-keys", daemon=True)
    thread.start()
    keys.url = f"http://127.0.0.1:{server.server_port}/openid"
    try:
        yield keys
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def installed_as_bot_framework(keys: SigningKeys, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the SDK's OpenID metadata cache for Microsoft's channel and Emulator endpoints at `keys`
    (restored by `monkeypatch` afterwards)."""
    from botframework.connector.auth import AuthenticationConstants
    from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor, _OpenIdMetadata

    for url in (
        AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
        AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
    ):
        monkeypatch.setitem(JwtTokenExtractor.metadataCache, url, _OpenIdMetadata(keys.url))  # type: ignore[no-untyped-call]
