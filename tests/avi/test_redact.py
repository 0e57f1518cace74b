"""Redaction: secrets never leave the avi layer, whatever their nesting."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from avi import redact as redaction
from avi.errors import AviError
from avi.object_types import OBJECT_TYPES
from avi.operations import AviOperations
from avi.redact import MASK, redact, redact_headers
from tests.conftest import SIM_PASSWORD, RunningSim

ROOT = Path(__file__).resolve().parents[2]

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


# -- every secret name, one by one -------------------------------------------------------------------

# Written out here, not read from avi/redact.py: deleting a name there must fail a test.
SECRET_NAMES = (
    # the controller's swagger (avi/secret_fields.py)
    "access_key", "access_key_id", "client_secret", "enckey_base64", "key_passphrase",
    "marathon_password", "nuage_password", "password", "secret_access_key", "secret_key",
    "server_secret", "service_account_token", "shared_secret", "vca_password",
    # other controller types, SDK and HTTP names
    "private_key", "privatekey", "client_priv_key", "priv_key", "auth_key", "hmac_key", "aes_key",
    "api_key", "apikey", "x-api-key", "service_account_key", "pass_phrase", "passwd", "pwd", "bind_pw",
    "token", "accessToken", "credentials", "community", "csrftoken", "X-CSRFToken", "sessionid",
    "avi-sessionid", "cookie", "Set-Cookie", "authorization", "Proxy-Authorization",
    # endings
    "old_password", "new_password", "partition_passwd", "backup_passphrase", "secret", "radius_secret",
    "user_token", "auth_token", "sas_token", "bearer_token", "ssh_private_key", "hsm_priv_key",
    "cloud_api_key", "aws_secret_key",
)  # fmt: skip
NOT_SECRET_NAMES = (
    "name", "key", "value", "username", "token_name", "key_number", "passive", "secretary",
    "nsxt_credentials_ref", "password_strength_check", "max_password_history_count", "cookie_name",
    "session_cookie_name", "tokenized", "access_type", "server_id",
)  # fmt: skip


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_each_secret_name_is_masked(name: str) -> None:
    assert redact({name: "s3cr3t-value", "name": "n"}) == {name: MASK, "name": "n"}
    assert redact([{"nested": {name: ["a", "b"]}}]) == [{"nested": {name: MASK}}]
    assert redact_headers({name: "v"}) == {name: MASK}
    assert (
        redaction.redact_text(f'{{"{name}": "s3cr3t value", "name": "n"}}')
        == f'{{"{name}":"{MASK}","name":"n"}}'
    )
    assert redaction.redact_text(f"x {name}=s3cr3t y") == f"x {name}={MASK} y"


@pytest.mark.parametrize("name", NOT_SECRET_NAMES)
def test_names_that_are_not_secrets_are_kept(name: str) -> None:
    assert redact({name: "shown"}) == {name: "shown"}
    assert redaction.redact_text(f"{name}=shown") == f"{name}=shown"


def test_exact_names_are_needed() -> None:
    """No hand-listed name is already generated from the swagger or caught by an ending (dead entries)."""
    from avi.secret_fields import SECRET_FIELDS

    module = redaction
    hand = module._OTHER_SECRET_KEYS
    assert not hand & SECRET_FIELDS
    assert [n for n in hand if module._SECRET_SUFFIX.search(n)] == []
    assert hand | SECRET_FIELDS == module.SECRET_KEYS
    assert {n.lower() for n in SECRET_NAMES} >= module.SECRET_KEYS  # each one is tested above


def test_generated_module_matches_the_swagger() -> None:
    swagger = ROOT.parent / "shared" / "avi-swagger"
    if not swagger.is_dir():
        pytest.skip(f"the controller's swagger is not at {swagger} (it stays outside the project)")
    from tools.gen_secret_fields import TARGET, generate

    assert TARGET.read_text(encoding="utf-8") == generate(swagger), "run python tools/gen_secret_fields.py"


def test_secrets_in_context() -> None:
    obj = {
        "ntp_configuration": {
            "ntp_authentication_keys": [{"key_number": 1, "key": "ntp-k", "algorithm": "MD5"}]
        },
        "markers": [{"key": "app", "values": ["web"]}],  # a label's key stays
        "script_params": [
            {"name": "api", "value": "s", "is_sensitive": True},
            {"name": "host", "value": "h", "is_sensitive": False},
            {"name": "port", "value": "443"},
        ],
        "dynamic_params": [{"name": "d", "value": "dv", "is_sensitive": True, "is_dynamic": False}],
    }
    assert redact(obj) == {
        "ntp_configuration": {
            "ntp_authentication_keys": [{"key_number": 1, "key": MASK, "algorithm": "MD5"}]
        },
        "markers": [{"key": "app", "values": ["web"]}],
        "script_params": [
            {"name": "api", "value": MASK, "is_sensitive": True},
            {"name": "host", "value": "h", "is_sensitive": False},
            {"name": "port", "value": "443"},
        ],
        "dynamic_params": [{"name": "d", "value": MASK, "is_sensitive": True, "is_dynamic": False}],
    }
    # a certificate found by its url (fields=... may leave `certificate` out)
    by_url = {"url": "https://c/api/sslkeyandcertificate/sslkeyandcertificate-1", "key": "k", "name": "c"}
    assert redact({"results": [by_url]})["results"][0]["key"] == MASK


# -- PEM private keys, wherever they are -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (PEM, MASK),
        (f"a {PEM} b", f"a {MASK} b"),
        ({"description": PEM}, {"description": MASK}),
        ({"description": f"x {PEM}"}, {"description": f"x {MASK}"}),
        ([PEM], [MASK]),
        (["ok", f"{PEM}\n{CERT}"], ["ok", f"{MASK}\n{CERT}"]),
        ([[PEM, "ok"]], [[MASK, "ok"]]),
        ({"l": [[{"d": [PEM]}]]}, {"l": [[{"d": [MASK]}]]}),
        ((PEM, 1), (MASK, 1)),
        ("-----BEGIN EC PRIVATE KEY-----\nAAA", MASK),  # cut off before its END line
        (CERT, CERT),
        ([CERT, None, 3, True], [CERT, None, 3, True]),
    ],
    ids=["top", "in-text", "dict", "dict-text", "list", "list-text", "nested-list", "deep", "tuple",
         "truncated", "certificate", "scalars"],
)  # fmt: skip
def test_pem_private_key_in_every_position(value: object, expected: object) -> None:
    assert redact(value) == expected
    assert redaction.redact_all(value) == expected


# -- free text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"password": "two words", "name": "u"}', f'{{"password":"{MASK}","name":"u"}}'),
        ('body {"password": "x", "n": 1}', f'body {{"password": "{MASK}", "n": 1}}'),
        ('\\"password\\":\\"x\\"', f'\\"password\\":\\"{MASK}\\"'),
        ('{"body":"{\\"password\\":\\"p\\"}"}', f'{{"body":"{{\\"password\\":\\"{MASK}\\"}}"}}'),
        ("{'password': 'p', 'n': 1}", f"{{'password': '{MASK}', 'n': 1}}"),
        ("Authorization: Bearer abc.def", f"Authorization: {MASK}"),
        ("cookie: sessionid=abc; csrftoken=def", f"cookie: {MASK}; csrftoken={MASK}"),
        ("https://admin:pw@ctl/api", f"https://{MASK}@ctl/api"),
        (f"key is {PEM}", f"key is {MASK}"),
        ('"password": ""', '"password": ""'),
        ("password=true", "password=true"),
        ("pool web-pool has 2 servers up", "pool web-pool has 2 servers up"),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    assert redaction.redact_text(text) == expected


def test_redact_all_masks_secrets_in_strings_too() -> None:
    args = {"method": "POST", "body": '{"name":"u1","password":"pw-1"}', "note": "token=abc"}
    assert redaction.redact_all(args) == {
        "method": "POST",
        "body": f'{{"name":"u1","password":"{MASK}"}}',
        "note": f"token={MASK}",
    }
    assert redact(args) == args  # controller reads keep their strings (a datascript stays as written)


# -- every object type the simulator serves, over HTTP -----------------------------------------------

PLANTED: dict[str, tuple[str, dict[str, Any]]] = {
    "hsm": ("hardwaresecuritymodulegroup", {
        "name": "hsm-1",
        "hsm": {"sluna": {
            "server": [{"remote_ip": {"addr": "10.0.0.5"}, "partition_passwd": "PLANT-partition"}],
            "node_info": [{"client_priv_key": "PLANT-clientpriv", "client_cert": CERT}],
        }},
    }),
    "ldap": ("authprofile", {"name": "ldap-1", "type": "AUTH_PROFILE_LDAP",
                             "ldap": {"bind_pw": "PLANT-bindpw", "user_bind": {"admin_bind_dn": "cn=a"}}}),
    "cmp": ("certificatemanagementprofile", {"name": "cmp-1", "script_params": [
        {"name": "api", "value": "PLANT-scriptparam", "is_sensitive": True},
        {"name": "host", "value": "visible-host", "is_sensitive": False},
    ]}),
    "script": ("alertscriptconfig", {"name": "script-1", "password": "PLANT-password", "private_key": PEM,
                                         "public_key": "ssh-rsa AAAA", "pass_phrase": "PLANT-passphrase"}),
    "webhook": ("webhook", {"name": "wh-1", "headers": {"x-api-key": "PLANT-xapikey"}, "pwd": "PLANT-pwd",
                            "passwd": "PLANT-passwd"}),
    "portal": ("controllerportalregistration", {"name": "portal-1",
                                                "portal_auth": {"accessToken": "PLANT-accesstoken"}}),
}  # fmt: skip
# The simulator, like the controller, leaves these out of its answers; redaction must too if it did not.
HIDDEN_SECRETS = (SIM_PASSWORD, "VMware1!-sim", "sim/secret/key/not/real")
EXPORTED_SECRETS = ("sim-passphrase-", "PRIVATE KEY")  # certificates' keys, asked for with export_key


async def test_no_secret_survives_redaction_of_any_object_type(sim: RunningSim, ops: AviOperations) -> None:
    client = ops.client
    for obj_type, body in PLANTED.values():
        await client.post(f"/api/{obj_type}", body)
    system = await client.get("/api/systemconfiguration")
    system["ntp_configuration"]["ntp_authentication_keys"] = [{"key_number": 1, "key": "PLANT-ntpkey"}]
    await client.put("/api/systemconfiguration", system)

    types = sorted({*OBJECT_TYPES, *sim.state.store.objects})
    served, raw_text, clean_text = [], [], []
    for obj_type in types:
        try:
            params = {"page_size": 200, "export_key": "true"} if obj_type == "sslkeyandcertificate" else {}
            resp = await client.request_full("GET", f"/api/{obj_type}", params={"page_size": 200, **params})
        except AviError:
            continue
        served.append(obj_type)
        raw_text.append(json.dumps(resp.body))
        clean_text.append(json.dumps(redact(resp.body)))
    assert len(served) > 50, served
    raw, clean = "\n".join(raw_text), "\n".join(clean_text)
    secrets = [*EXPORTED_SECRETS, *re.findall(r"PLANT-[a-z]+", json.dumps(PLANTED)), "PLANT-ntpkey"]
    assert [s for s in secrets if s not in raw] == []  # each secret really came over HTTP
    assert [s for s in [*secrets, *HIDDEN_SECRETS] if s in clean] == []
    assert "visible-host" in clean  # what is not secret stays
    assert "ssh-rsa AAAA" in clean
