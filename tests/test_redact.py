"""Redaction: secrets never leave the avi layer, whatever their nesting."""

from __future__ import annotations

import copy

from avi.redact import MASK, redact, redact_headers

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabc\n-----END RSA PRIVATE KEY-----"
CERT = "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----"


def test_certificate_key_and_passphrase_masked() -> None:
    obj = {
        "name": "web-cert",
        "certificate": {"certificate": CERT, "subject": {"common_name": "web"}},
        "key": PEM,
        "key_passphrase": "hunter2",
        "type": "SSL_CERTIFICATE_TYPE_VIRTUALSERVICE",
    }
    out = redact(obj)
    assert out["key"] == MASK
    assert out["key_passphrase"] == MASK
    assert out["certificate"]["certificate"] == CERT  # public certificate kept
    assert out["name"] == "web-cert"


def test_input_not_modified() -> None:
    obj = {"password": "x", "nested": [{"token": "t"}]}
    before = copy.deepcopy(obj)
    redact(obj)
    assert obj == before


def test_nested_cloud_credentials() -> None:
    obj = {
        "results": [
            {
                "name": "aws",
                "aws_configuration": {
                    "access_key_id": "AKIA123",
                    "secret_access_key": "s3cr3t",
                    "region": "us-west-2",
                },
                "vcenter_configuration": {"username": "admin", "password": "vc-pass", "vcenter_url": "vc"},
                "azure_configuration": {"client_secret": "az", "subscription_id": "sub"},
                "gcp_configuration": {"credentials": {"private_key": "k", "client_email": "e"}},
                "nsxt_configuration": {"nsxt_credentials_ref": "https://h/api/cloudconnectoruser/x"},
            }
        ]
    }
    out = redact(obj)["results"][0]
    assert out["aws_configuration"] == {
        "access_key_id": MASK,
        "secret_access_key": MASK,
        "region": "us-west-2",
    }
    assert out["vcenter_configuration"]["password"] == MASK
    assert out["vcenter_configuration"]["username"] == "admin"
    assert out["azure_configuration"]["client_secret"] == MASK
    assert out["gcp_configuration"]["credentials"] == MASK
    # a reference to a credentials object is not itself a secret
    assert out["nsxt_configuration"]["nsxt_credentials_ref"].startswith("https://")


def test_pem_anywhere_in_any_string() -> None:
    text = f"prefix {PEM} suffix"
    out = redact({"description": text, "list": [text], "pkcs8": "-----BEGIN PRIVATE KEY-----\nAAA"})
    assert "PRIVATE KEY" not in str(out)
    assert out["description"].startswith("prefix ")
    assert out["description"].endswith(" suffix")
    assert out["pkcs8"] == MASK


def test_tokens_sessions_and_suffixes() -> None:
    obj = {
        "token": "abcdef0123",
        "auth_token": "a",
        "api_key": "k",
        "csrftoken": "c",
        "sessionid": "s",
        "avi-sessionid": "s",
        "radius_secret": "r",
        "bind_password": "b",
        "tls_ticket_key": [{"name": "t", "aes_key": "A", "hmac_key": "H"}],
        "snmp": {"community": "public"},
    }
    out = redact(obj)
    for key in ("token", "auth_token", "api_key", "csrftoken", "sessionid", "avi-sessionid"):
        assert out[key] == MASK, key
    assert out["radius_secret"] == MASK
    assert out["bind_password"] == MASK
    assert out["tls_ticket_key"][0] == {"name": "t", "aes_key": MASK, "hmac_key": MASK}
    assert out["snmp"]["community"] == MASK


def test_booleans_empty_and_non_secrets_kept() -> None:
    obj = {
        "password": "",
        "secret": True,
        "key": "label-key",  # not a certificate: a label's key is not secret
        "value": "v",
        "name": "password-policy",
        "tenant_ref": "https://h/api/tenant/admin",
        "count": 3,
        "token": None,
    }
    assert redact(obj) == obj


def test_headers() -> None:
    headers = {
        "Cookie": "sessionid=1",
        "X-CSRFToken": "c",
        "Authorization": "Basic x",
        "X-Avi-Tenant": "admin",
    }
    out = redact_headers(headers)
    assert out == {"Cookie": MASK, "X-CSRFToken": MASK, "Authorization": MASK, "X-Avi-Tenant": "admin"}


def test_scalars_and_tuples() -> None:
    assert redact("plain") == "plain"
    assert redact(5) == 5
    assert redact(({"password": "p"},)) == ({"password": MASK},)
