"""Simulator runtime: inventories, runtime sub-resources, config->runtime consistency, actions, analytics."""

from __future__ import annotations

import itertools
import time
from datetime import datetime

from tests.sim.test_sim_support import first, get_all, session

STEPS = (300, 3600, 86400, 5)


async def test_inventory_shapes(sim) -> None:
    async with session(sim) as (c, headers):
        r = await c.get("/api/virtualservice-inventory", headers=headers, params={"page_size": 5})
        body = r.json()
        assert body["count"] > 5
        assert len(body["results"]) == 5
        assert "next" in body
        for item in body["results"]:
            assert {"uuid", "config", "runtime", "health_score", "alert"} <= set(item)
            assert item["config"]["uuid"] == item["uuid"]
            assert isinstance(item["runtime"]["vip_summary"], list)
            assert item["runtime"]["oper_status"]["state"].startswith("OPER_")
            assert 0 <= item["health_score"]["health_score"] <= 100
        for inv in ("pool", "serviceengine", "vsvip", "serviceenginegroup", "cloud", "poolgroup"):
            r = await c.get(f"/api/{inv}-inventory", headers=headers, params={"page_size": 2})
            assert r.status_code == 200, inv
            for item in r.json()["results"]:
                assert {"uuid", "config", "runtime", "health_score", "alert"} <= set(item), inv
        pool = (await c.get("/api/pool-inventory", headers=headers, params={"page_size": 1})).json()[
            "results"
        ][0]
        for key in ("num_servers", "num_servers_enabled", "num_servers_up", "percent_servers_up_enabled"):
            assert key in pool["runtime"]
        r = await c.get(f"/api/virtualservice-inventory/{body['results'][0]['uuid']}", headers=headers)
        assert r.json()["uuid"] == body["results"][0]["uuid"]
        r = await c.get(
            "/api/virtualservice-inventory",
            headers=headers,
            params={"include": "health_score", "page_size": 1},
        )
        item = r.json()["results"][0]
        assert "health_score" in item
        assert "runtime" not in item
        assert (await c.get("/api/gslbservice-inventory", headers=headers)).json() == {
            "count": 0,
            "results": [],
        }


async def test_seed_has_mixed_states(start_sim) -> None:
    sim = await start_sim(objects=200)
    async with session(sim, tenant="*") as (c, headers):
        items = await get_all(c, "/api/virtualservice-inventory", headers)
        states = {i["runtime"]["oper_status"]["state"] for i in items}
        assert {"OPER_UP", "OPER_DOWN", "OPER_DISABLED"} <= states
        for item in items:
            if item["runtime"]["oper_status"]["state"] != "OPER_UP":
                assert item["health_score"]["health_score"] == 0
        pools = await get_all(c, "/api/pool-inventory", headers)
        partial = [
            p for p in pools if 0 < p["runtime"]["num_servers_up"] < p["runtime"]["num_servers_enabled"]
        ]
        assert partial, "some pools must have servers down"
        servers = (await c.get(f"/api/pool/{partial[0]['uuid']}/runtime/server/", headers=headers)).json()
        assert "OPER_DOWN" in {s["oper_status"]["state"] for s in servers}
        names = {o["name"] for o in await get_all(c, "/api/applicationprofile", headers)}
        assert {"System-HTTP", "System-Secure-HTTP", "System-L4-Application"} <= names
        for obj_type, name in (
            ("serviceenginegroup", "Default-Group"),
            ("vrfcontext", "global"),
            ("healthmonitor", "System-TCP"),
            ("networkprofile", "System-TCP-Proxy"),
            ("sslprofile", "System-Standard"),
        ):
            assert (await c.get(f"/api/{obj_type}", headers=headers, params={"name": name})).json()[
                "count"
            ] == 1
        certs = await get_all(c, "/api/sslkeyandcertificate", headers)
        assert {"SSL_CERTIFICATE_GOOD", "SSL_CERTIFICATE_EXPIRY_WARNING"} <= {
            x["certificate"]["expiry_status"] for x in certs
        }
        alerts = (await c.get("/api/alert", headers=headers)).json()
        assert alerts["count"] > 0


async def test_disabling_a_server_shows_in_runtime_and_pool_inventory(sim) -> None:
    async with session(sim) as (c, headers):
        pools = await get_all(c, "/api/pool-inventory", headers)
        target = next(p for p in pools if p["runtime"]["num_servers_enabled"] >= 2 and p["config"]["enabled"])
        uuid = target["uuid"]
        pool = (await c.get(f"/api/pool/{uuid}", headers=headers)).json()
        addr = next(s for s in pool["servers"] if s["enabled"])["ip"]["addr"]
        for s in pool["servers"]:
            if s["ip"]["addr"] == addr:
                s["enabled"] = False
        assert (await c.put(f"/api/pool/{uuid}", headers=headers, json=pool)).status_code == 200
        servers = (await c.get(f"/api/pool/{uuid}/runtime/server/", headers=headers)).json()
        state = {s["ip_addr"]["addr"]: s["oper_status"]["state"] for s in servers}
        assert state[addr] == "OPER_DISABLED"
        after = (await c.get(f"/api/pool-inventory/{uuid}", headers=headers)).json()
        assert after["runtime"]["num_servers_enabled"] == target["runtime"]["num_servers_enabled"] - 1
        detail = (await c.get(f"/api/pool/{uuid}/runtime/server/detail/", headers=headers)).json()
        assert len(detail) == len(servers)
        assert (await c.get(f"/api/pool/{uuid}/runtime/", headers=headers)).json()["num_servers"] == len(
            servers
        )


async def test_vs_state_follows_enabled_and_pool(sim) -> None:
    async with session(sim) as (c, headers):
        items = await get_all(c, "/api/virtualservice-inventory", headers)
        vs = next(
            i
            for i in items
            if i["runtime"]["oper_status"]["state"] == "OPER_UP" and i["config"].get("pool_ref")
        )
        uuid = vs["uuid"]
        r = await c.patch(
            f"/api/virtualservice/{uuid}", headers=headers, json={"replace": {"enabled": False}}
        )
        assert r.status_code == 200
        rt = (await c.get(f"/api/virtualservice/{uuid}/runtime/", headers=headers)).json()
        assert rt["oper_status"]["state"] == "OPER_DISABLED"
        await c.patch(f"/api/virtualservice/{uuid}", headers=headers, json={"replace": {"enabled": True}})
        pool_uuid = vs["config"]["pool_ref"].rsplit("/", 1)[1]
        pool = (await c.get(f"/api/pool/{pool_uuid}", headers=headers)).json()
        for s in pool["servers"]:
            s["enabled"] = False
        await c.put(f"/api/pool/{pool_uuid}", headers=headers, json=pool)
        inv = (await c.get(f"/api/virtualservice-inventory/{uuid}", headers=headers)).json()
        assert inv["runtime"]["oper_status"]["state"] == "OPER_DOWN"
        assert inv["health_score"]["health_score"] == 0
        detail = (await c.get(f"/api/virtualservice/{uuid}/runtime/detail/", headers=headers)).json()
        assert detail["oper_status"]["state"] == "OPER_DOWN"
        # deleting the VS leaves the pool
        assert (await c.delete(f"/api/virtualservice/{uuid}", headers=headers)).status_code == 204
        assert (await c.get(f"/api/pool-inventory/{pool_uuid}", headers=headers)).status_code == 200


async def test_vs_actions_change_runtime_and_validate_vip_id(sim) -> None:
    async with session(sim) as (c, headers):
        items = await get_all(c, "/api/virtualservice-inventory", headers)
        vs = next(
            i
            for i in items
            if i["runtime"]["vip_summary"] and i["runtime"]["vip_summary"][0]["num_se_assigned"] == 1
        )
        uuid = vs["uuid"]
        vip_id = vs["runtime"]["vip_summary"][0]["vip_id"]
        path = f"/api/virtualservice/{uuid}"
        r = await c.post(f"{path}/scaleout", headers=headers, json={"vip_id": "99", "to_new_se": True})
        assert r.status_code == 400
        r = await c.post(f"{path}/scaleout", headers=headers, json={"to_new_se": True})
        assert r.status_code == 400
        r = await c.post(f"{path}/scalein", headers=headers, json={"vip_id": vip_id})
        assert r.status_code == 400  # never below one SE
        r = await c.post(f"{path}/scaleout", headers=headers, json={"vip_id": vip_id, "to_new_se": True})
        assert r.status_code == 200, r.text
        summary = (await c.get(f"{path}/runtime/", headers=headers)).json()["vip_summary"][0]
        assert summary["num_se_assigned"] == 2
        ses = summary["service_engine"]
        primary = next(s for s in ses if s["primary"])["uuid"]
        r = await c.post(f"{path}/switchover", headers=headers, json={"vip_id": vip_id})
        assert r.status_code == 200
        ses = (await c.get(f"{path}/runtime/", headers=headers)).json()["vip_summary"][0]["service_engine"]
        assert next(s for s in ses if s["primary"])["uuid"] != primary
        r = await c.post(f"{path}/migrate", headers=headers, json={"vip_id": vip_id})
        assert r.status_code in (200, 400)  # 400 only when the SE group has no free SE
        r = await c.post(f"{path}/scalein", headers=headers, json={"vip_id": vip_id})
        assert r.status_code == 200
        summary = (await c.get(f"{path}/runtime/", headers=headers)).json()["vip_summary"][0]
        assert summary["num_se_assigned"] == 1
        for action in ("resync", "rotatekeys", "retryplacement"):
            assert (await c.post(f"{path}/{action}", headers=headers, json={})).status_code == 200
        assert (await c.post(f"{path}/nosuchaction", headers=headers, json={})).status_code == 404


async def test_se_and_pool_actions(sim) -> None:
    async with session(sim) as (c, headers):
        se = await first(c, "/api/serviceengine", headers)
        assert (await c.post(f"{se['url']}/reboot", headers=headers, json={})).status_code == 200
        assert (await c.post(f"{se['url']}/switchover", headers=headers, json={})).status_code == 200
        assert (await c.get(f"{se['url']}/runtime/", headers=headers)).json()["oper_status"][
            "state"
        ] == "OPER_UP"
        pool = await first(c, "/api/pool", headers)
        before = len(pool["servers"])
        assert (
            await c.post(f"{pool['url']}/scaleout", headers=headers, json={"reason": "load"})
        ).status_code == 200
        after = (await c.get(pool["url"], headers=headers)).json()
        assert len(after["servers"]) == before + 1
        assert (
            await c.post(f"{pool['url']}/scalein", headers=headers, json={"reason": "idle"})
        ).status_code == 200
        assert len((await c.get(pool["url"], headers=headers)).json()["servers"]) == before


async def test_metrics_alignment_and_statistics(sim) -> None:
    async with session(sim) as (c, headers):
        vs = await first(c, "/api/virtualservice", headers)
        for step in STEPS:
            r = await c.get(
                f"/api/analytics/metrics/virtualservice/{vs['uuid']}",
                headers=headers,
                params={
                    "metric_id": "l4_client.avg_bandwidth,l7_client.avg_complete_responses",
                    "step": step,
                    "limit": 12,
                },
            )
            assert r.status_code == 200, r.text
            body = r.json()
            assert len(body["series"]) == 2
            for series in body["series"]:
                data = series["data"]
                assert len(data) == 12
                stamps = [datetime.fromisoformat(d["timestamp"]).timestamp() for d in data]
                assert all(int(ts) % step == 0 for ts in stamps)
                assert all(b - a == step for a, b in itertools.pairwise(stamps))
                assert stamps[-1] <= time.time()
                assert time.time() - stamps[-1] < step
                stats = series["header"]["statistics"]
                assert stats["num_samples"] == 12
                assert stats["min"] <= stats["mean"] <= stats["max"]
        again = await c.get(
            f"/api/analytics/metrics/virtualservice/{vs['uuid']}",
            headers=headers,
            params={"metric_id": "l4_client.avg_bandwidth", "step": 3600, "limit": 5},
        )
        first_call = await c.get(
            f"/api/analytics/metrics/virtualservice/{vs['uuid']}",
            headers=headers,
            params={"metric_id": "l4_client.avg_bandwidth", "step": 3600, "limit": 5},
        )
        assert again.json()["series"][0]["data"] == first_call.json()["series"][0]["data"]
        r = await c.get(
            f"/api/analytics/metrics/virtualservice/{vs['uuid']}", headers=headers, params={"step": 60}
        )
        assert r.status_code == 400
        r = await c.get(
            "/api/analytics/metrics/virtualservice",
            headers=headers,
            params={"metric_id": "l4_client.avg_bandwidth", "limit": 1, "page_size": 3},
        )
        assert r.json()["count"] > 3
        assert len(r.json()["results"]) == 3


async def test_down_vs_reads_zero_and_se_cpu_present(start_sim) -> None:
    sim = await start_sim(objects=200)
    async with session(sim) as (c, headers):
        items = await get_all(c, "/api/virtualservice-inventory", headers)
        down = next(i for i in items if i["runtime"]["oper_status"]["state"] == "OPER_DOWN")
        r = await c.get(
            f"/api/analytics/metrics/virtualservice/{down['uuid']}",
            headers=headers,
            params={"metric_id": "l4_client.avg_bandwidth", "limit": 3},
        )
        assert all(d["value"] == 0 for d in r.json()["series"][0]["data"])
        se = await first(c, "/api/serviceengine", headers)
        r = await c.get(
            f"/api/analytics/metrics/serviceengine/{se['uuid']}",
            headers=headers,
            params={"metric_id": "se_stats.avg_cpu_usage", "limit": 6},
        )
        values = [d["value"] for d in r.json()["series"][0]["data"]]
        assert all(0 < v <= 100 for v in values)


async def test_metrics_collection(sim) -> None:
    async with session(sim) as (c, headers):
        vss = (await c.get("/api/virtualservice", headers=headers, params={"page_size": 2})).json()["results"]
        body = {
            "metric_requests": [
                {
                    "id": "allvs",
                    "entity_uuid": "*",
                    "metric_id": "l4_client.avg_bandwidth",
                    "step": 300,
                    "limit": 1,
                },
                {
                    "id": "two",
                    "entity_uuid": ",".join(v["uuid"] for v in vss),
                    "metric_id": "l4_client.avg_bandwidth,l4_client.avg_total_rtt",
                    "step": 3600,
                    "limit": 2,
                },
                {
                    "id": "ses",
                    "entity_uuid": "*",
                    "metric_id": "se_stats.avg_cpu_usage",
                    "step": 300,
                    "limit": 1,
                },
            ]
        }
        r = await c.post("/api/analytics/metrics/collection", headers=headers, json=body)
        assert r.status_code == 200, r.text
        series = r.json()["series"]
        total = (await c.get("/api/virtualservice", headers=headers)).json()["count"]
        assert len(series["allvs"]) == total
        assert set(series["two"]) == {v["uuid"] for v in vss}
        assert len(series["two"][vss[0]["uuid"]]) == 2
        assert all(k.startswith("se-") for k in series["ses"])
        r = await c.post(
            "/api/analytics/metrics/collection", headers=headers, json={"metric_requests": [{"id": "x"}]}
        )
        assert r.status_code == 400


async def test_healthscore_matches_inventory_and_metric_ids(sim) -> None:
    async with session(sim) as (c, headers):
        inv = (await c.get("/api/virtualservice-inventory", headers=headers, params={"page_size": 3})).json()[
            "results"
        ]
        for item in inv:
            r = await c.get(
                f"/api/analytics/healthscore/virtualservice/{item['uuid']}",
                headers=headers,
                params={"step": 300, "limit": 4},
            )
            body = r.json()
            assert body["series"][0]["header"]["name"] == "health_score"
            assert len(body["series"][0]["data"]) == 4
            assert body["series"][0]["data"][-1]["value"] == item["health_score"]["health_score"]
        pool = (await c.get("/api/pool-inventory", headers=headers, params={"page_size": 1})).json()[
            "results"
        ][0]
        r = await c.get(
            f"/api/analytics/healthscore/pool/{pool['uuid']}", headers=headers, params={"limit": 2}
        )
        assert r.json()["series"][0]["data"][-1]["value"] == pool["health_score"]["health_score"]
        r = await c.get("/api/analytics/metric_id", headers=headers)
        names = {m["name"] for m in r.json()["results"]}
        assert {
            "l4_client.avg_bandwidth",
            "se_stats.avg_cpu_usage",
            "healthscore.health_score_value",
        } <= names


async def test_app_logs_paging_and_filters(sim) -> None:
    async with session(sim) as (c, headers):
        vs = await first(c, "/api/virtualservice", headers, enabled="true")
        params = {"type": 1, "virtualservice": vs["uuid"], "duration": 3600, "page_size": 10}
        r = await c.get("/api/analytics/logs", headers=headers, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["count"] > 10
        assert len(body["results"]) == 10
        stamps = [x["report_timestamp"] for x in body["results"]]
        assert stamps == sorted(stamps, reverse=True)
        page2 = (await c.get("/api/analytics/logs", headers=headers, params={**params, "page": 2})).json()
        assert page2["results"][0]["report_timestamp"] < stamps[-1]
        r = await c.get(
            "/api/analytics/logs", headers=headers, params={**params, "filter": "ge(response_code,400)"}
        )
        assert all(x["response_code"] >= 400 for x in r.json()["results"])
        assert (await c.get("/api/analytics/logs", headers=headers, params={"type": 1})).status_code == 400


async def test_config_events_are_logged(sim) -> None:
    async with session(sim) as (c, headers):
        pool = (await c.post("/api/pool", headers=headers, json={"name": "evt-pool"})).json()
        await c.delete(f"/api/pool/{pool['uuid']}", headers=headers)
        params = [
            ("type", "2"),
            ("filter", f"co(all,{pool['uuid']})"),
            ("filter", "eq(event_id,[config_create,config_delete])"),
        ]
        r = await c.get("/api/analytics/logs", headers=headers, params=params)
        assert [e["event_id"] for e in r.json()["results"]] == ["config_delete", "config_create"]
