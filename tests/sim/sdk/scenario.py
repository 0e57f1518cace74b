"""Drive a controller with the official Avi SDK (avisdk), unmodified, and print what it observed.

Runs in a subprocess whose PYTHONPATH holds only the SDK's own folder (its top-level package is
also named `avi`), started with `python -S` so the project's environment is not on the path.
Usage: scenario.py <base-url> <port> <username> <password>; prints one JSON object.
"""

import json
import sys
import traceback

import requests
from avi.sdk.avi_api import ApiSession


def main() -> None:
    base, port, username, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    controller = base.rsplit(":", 1)[0]  # "http://127.0.0.1"; the SDK adds the port itself
    out = {}

    def hook(name):
        return requests.post(f"{base}/_sim/{name}", timeout=10)

    def stats():
        return requests.get(f"{base}/_sim/stats", timeout=10).json()

    api = ApiSession.get_session(controller, username, password, port=port, tenant="admin")
    out["remote_version"] = api.remote_api_version.get("Version")
    out["sdk_module"] = ApiSession.__module__ + ":" + sys.modules["avi"].__file__

    # get: a collection, first page only, with the real envelope
    rsp = api.get("virtualservice")
    body = rsp.json()
    out["get_status"] = rsp.status_code
    out["get_count"] = body["count"]
    out["get_page_len"] = len(body["results"])
    out["get_has_next"] = "next" in body
    first = body["results"][0]
    out["all_tenants_count"] = api.get("virtualservice", tenant="*", params={"page_size": 1}).json()["count"]

    # get by name
    by_name = api.get_object_by_name("virtualservice", first["name"])
    out["by_name_uuid_matches"] = by_name is not None and by_name["uuid"] == first["uuid"]
    out["by_name_missing_is_none"] = api.get_object_by_name("pool", "no-such-pool-xyz") is None

    # paginated get across every page (the SDK asks for 100 a page and follows `next`)
    uuids = [o["uuid"] for o in api.get_objects_iter("virtualservice")]
    out["iter_total"] = len(uuids)
    out["iter_unique"] = len(set(uuids))

    # post, put, patch, delete
    pool = {"name": "sdk-pool", "servers": [{"ip": {"addr": "10.9.9.1", "type": "V4"}, "port": 8080}]}
    rsp = api.post("pool", data=pool)
    out["post_status"] = rsp.status_code
    created = rsp.json()
    out["post_url_has_name"] = created["url"].endswith("#sdk-pool")
    out["post_default_lb"] = created.get("lb_algorithm")
    puuid = created["uuid"]

    obj = api.get(f"pool/{puuid}").json()
    obj["default_server_port"] = 8443
    rsp = api.put(f"pool/{puuid}", data=obj)
    out["put_status"] = rsp.status_code
    out["put_port"] = rsp.json().get("default_server_port")

    rsp = api.patch(f"pool/{puuid}", data={"add": {"servers": [{"ip": {"addr": "10.9.9.2", "type": "V4"}}]}})
    out["patch_status"] = rsp.status_code
    out["patch_servers"] = sorted(s["ip"]["addr"] for s in rsp.json()["servers"])

    rsp = api.post("pool", data={"name": "sdk-pool-slug"}, force_uuid="pool-sdk-forced-1")
    out["force_uuid"] = rsp.json().get("uuid")

    rsp = api.delete(f"pool/{puuid}")
    out["delete_status"] = rsp.status_code
    out["delete_body"] = rsp.text
    out["get_deleted_status"] = api.get(f"pool/{puuid}").status_code
    out["delete_by_name_status"] = api.delete_by_name("pool", "sdk-pool-slug").status_code

    # tenants: a pool created in the second tenant is invisible from admin
    tenants = api.get("tenant").json()["results"]
    other = next(t["name"] for t in tenants if t["name"] != "admin")
    api.post("pool", data={"name": "sdk-tenant-pool"}, tenant=other)
    out["tenant_admin_sees"] = api.get("pool", params={"name": "sdk-tenant-pool"}).json()["count"]
    rsp = api.get("pool", tenant=other, params={"name": "sdk-tenant-pool"})
    out["tenant_other_sees"] = rsp.json()["count"]

    # session expiry: the SDK logs in again by itself and the call succeeds
    logins_before = stats()["logins"]
    hook("sessions/expire")
    rsp = api.get("pool", params={"page_size": 1})
    out["after_expiry_status"] = rsp.status_code
    out["after_expiry_logins"] = stats()["logins"] - logins_before

    # "Need to switch session" (419): likewise
    logins_before = stats()["logins"]
    hook("sessions/switch")
    rsp = api.get("virtualservice", params={"page_size": 1})
    out["after_switch_status"] = rsp.status_code
    out["after_switch_logins"] = stats()["logins"] - logins_before

    # an explicit older API version is accepted and echoed
    rsp = api.get("pool", params={"page_size": 1}, api_version="22.1.3")
    out["version_echo"] = rsp.headers.get("AVI_API_VERSION")
    print(json.dumps(out))


if __name__ == "__main__":
    try:
        main()
    except Exception:  # report, don't hide: the test prints this
        traceback.print_exc()
        sys.exit(1)
