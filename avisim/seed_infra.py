"""The infrastructure applications use: clouds, VRFs, networks, the System-* profiles and health
monitors, SE groups and service engines (and each SE's base CPU, a runtime fact)."""

from __future__ import annotations

from typing import Any

from .seed_context import APPS, Seeder


def seed_clouds(seeder: Seeder) -> None:
    """Default-Cloud (vCenter) and aws-east, the global/management VRFs, three networks."""
    seeder.add(
        "cloud",
        {
            "name": "Default-Cloud",
            "vtype": "CLOUD_VCENTER",
            "vcenter_configuration": {
                "vcenter_url": "vcenter.lab.local",
                "username": "administrator@vsphere.local",
                "password": "VMware1!-sim",
                "datacenter": "dc-01",
                "privilege": "WRITE_ACCESS",
            },
            "dhcp_enabled": True,
            "license_tier": "ENTERPRISE",
        },
    )
    seeder.add(
        "cloud",
        {
            "name": "aws-east",
            "vtype": "CLOUD_AWS",
            "aws_configuration": {
                "region": "us-east-1",
                "vpc_id": "vpc-0a1b2c3d",
                "access_key_id": "AKIASIMULATOR0000001",
                "secret_access_key": "sim/secret/key/not/real/000000000000000",
            },
        },
    )
    for name in ("global", "management"):
        seeder.add(
            "vrfcontext",
            {"name": name, "system_default": True, "cloud_ref": seeder.ref("cloud", "Default-Cloud")},
        )
    for i, name in enumerate(("vlan-100-web", "vlan-200-app", "vlan-300-db")):
        seeder.add(
            "network",
            {
                "name": name,
                "cloud_ref": seeder.ref("cloud", "Default-Cloud"),
                "vrf_context_ref": seeder.ref("vrfcontext", "global"),
                "configured_subnets": [
                    {"prefix": {"ip_addr": {"addr": f"10.{100 + i}.0.0", "type": "V4"}, "mask": 16}}
                ],
                "dhcp_enabled": False,
            },
        )


def seed_profiles(seeder: Seeder) -> None:
    """Application/network profiles, health monitors, SSL, analytics, persistence, IPAM."""
    for name, kind in (
        ("System-HTTP", "HTTP"),
        ("System-Secure-HTTP", "HTTP"),
        ("System-L4-Application", "L4"),
        ("System-SSL-Application", "SSL"),
        ("System-DNS", "DNS"),
        ("System-Syslog", "SYSLOG"),
    ):
        seeder.add("applicationprofile", {"name": name, "type": f"APPLICATION_PROFILE_TYPE_{kind}"})
    for name, kind in (
        ("System-TCP-Proxy", "TCP_PROXY"),
        ("System-TCP-Fast-Path", "TCP_FAST_PATH"),
        ("System-UDP-Fast-Path", "UDP_FAST_PATH"),
    ):
        seeder.add("networkprofile", {"name": name, "profile": {"type": f"PROTOCOL_TYPE_{kind}"}})
    for name, kind in (
        ("System-HTTP", "HTTP"),
        ("System-HTTPS", "HTTPS"),
        ("System-TCP", "TCP"),
        ("System-UDP", "UDP"),
        ("System-Ping", "PING"),
        ("System-DNS", "DNS"),
    ):
        fields: dict[str, Any] = {"name": name, "type": f"HEALTH_MONITOR_{kind}", "is_federated": False}
        if kind in ("HTTP", "HTTPS"):
            fields[f"{kind.lower()}_monitor"] = {
                "http_request": "HEAD / HTTP/1.0",
                "http_response_code": ["HTTP_2XX", "HTTP_3XX"],
            }
        seeder.add("healthmonitor", fields)
    for app in APPS[:6]:
        seeder.add(
            "healthmonitor",
            {
                "name": f"hm-{app}-http",
                "type": "HEALTH_MONITOR_HTTP",
                "send_interval": 5,
                "receive_timeout": 2,
                "http_monitor": {
                    "http_request": f"GET /{app}/health HTTP/1.1",
                    "http_response_code": ["HTTP_2XX"],
                },
            },
        )
    seeder.add(
        "sslprofile",
        {
            "name": "System-Standard",
            "accepted_versions": [{"type": "SSL_VERSION_TLS1_2"}, {"type": "SSL_VERSION_TLS1_3"}],
        },
    )
    seeder.add(
        "sslprofile",
        {"name": "System-Standard-PFS", "accepted_versions": [{"type": "SSL_VERSION_TLS1_2"}]},
    )
    seeder.add("analyticsprofile", {"name": "System-Analytics-Profile", "apdex_response_threshold": 500})
    seeder.add(
        "applicationpersistenceprofile",
        {
            "name": "System-Persistence-Client-IP",
            "persistence_type": "PERSISTENCE_TYPE_CLIENT_IP_ADDRESS",
        },
    )
    seeder.add(
        "applicationpersistenceprofile",
        {"name": "System-Persistence-Http-Cookie", "persistence_type": "PERSISTENCE_TYPE_HTTP_COOKIE"},
    )
    seeder.add("ipamdnsproviderprofile", {"name": "internal-ipam", "type": "IPAMDNS_TYPE_INTERNAL"})


def seed_service_engines(seeder: Seeder) -> None:
    """Two SE groups and 4..40 SEs (one Default-Group SE is not placeable), with base CPUs."""
    rng = seeder.rng
    cloud = seeder.ref("cloud", "Default-Cloud")
    seeder.add(
        "serviceenginegroup",
        {
            "name": "Default-Group",
            "cloud_ref": cloud,
            "ha_mode": "HA_MODE_SHARED",
            "algo": "PLACEMENT_ALGO_PACKED",
            "max_se": 10,
            "max_vs_per_se": 10,
            "max_scaleout_per_vs": 4,
        },
    )
    seeder.add(
        "serviceenginegroup",
        {
            "name": "Prod-SE-Group",
            "cloud_ref": cloud,
            "ha_mode": "HA_MODE_SHARED_PAIR",
            "algo": "PLACEMENT_ALGO_DISTRIBUTED",
            "max_se": 10,
            "max_vs_per_se": 20,
            "max_scaleout_per_vs": 4,
        },
    )
    count = min(40, max(4, seeder.config.objects // 25))
    seeder.ses = {"Default-Group": [], "Prod-SE-Group": []}
    letters = "abcdefghijklmnopqrstuvwxyz"
    for i in range(count):
        group = "Default-Group" if i < max(2, (2 * count) // 3) else "Prod-SE-Group"
        se_uuid = f"se-005056{rng.getrandbits(24):06x}"
        ip = f"10.10.1.{11 + i}"
        placeable = not (group == "Default-Group" and i == 0 and count > 4)
        seeder.add(
            "serviceengine",
            {
                "name": "Avi-se-" + "".join(rng.choice(letters) for _ in range(5)),
                "se_group_ref": seeder.ref("serviceenginegroup", group),
                "cloud_ref": cloud,
                "enable_state": "SE_STATE_ENABLED" if placeable else "SE_STATE_DISABLED_FOR_PLACEMENT",
                "controller_created": True,
                "container_mode": False,
                "controller_ip": "10.10.0.10",
                "hypervisor": "DEFAULT",
                "mgmt_vnic": {
                    "mac_address": f"00:50:56:{se_uuid[9:11]}:{se_uuid[11:13]}:{se_uuid[13:15]}",
                    "vnic_networks": [
                        {"ip": {"ip_addr": {"addr": ip, "type": "V4"}, "mask": 24}, "mode": "STATIC"}
                    ],
                },
                "resources": {
                    "num_vcpus": rng.choice((1, 2, 4)),
                    "memory": rng.choice((2048, 4096, 8192)),
                    "disk": 25,
                },
            },
            uuid=se_uuid,
        )
        seeder.runtime.se_base_cpu[se_uuid] = round(5 + 30 * rng.random(), 1)
        if placeable:
            seeder.ses[group].append(se_uuid)
