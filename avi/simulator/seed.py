"""A deterministic, realistic inventory: same seed -> same names, uuids and states.

Layout for `objects` = N virtual services: admin + `finance` tenants (every 10th application lives in
finance), two clouds, two SE groups, service engines, the System-* profiles and monitors, certificates
(some expiring or expired), and per VS a vsvip and a pool (or pool group) in mixed health.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid as uuidlib
from typing import Any

from .certs import TIME_FORMAT, expiry_status, make_cert
from .config import SimulatorConfig
from .refs import make_ref
from .runtime import Runtime
from .store import ADMIN, Obj, Store

APPS = [
    "shop",
    "api",
    "auth",
    "billing",
    "search",
    "media",
    "mail",
    "crm",
    "erp",
    "portal",
    "payments",
    "inventory",
    "catalog",
    "checkout",
    "identity",
    "reports",
    "chat",
    "maps",
    "news",
    "ads",
]
ENVS = ("prod", "stage", "dev", "qa")
SECOND_TENANT = "finance"
L4_PORTS = (3306, 5432, 6379, 25, 8883)


class Seeder:
    """Builds the inventory into a Store and the matching runtime facts."""

    def __init__(self, store: Store, runtime: Runtime, config: SimulatorConfig) -> None:
        self.store = store
        self.runtime = runtime
        self.config = config
        self.rng = random.Random(config.seed)
        self.by_name: dict[tuple[str, str], str] = {}
        today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.anchor = today

    # -- helpers ------------------------------------------------------------------------------------
    def new_uuid(self, obj_type: str) -> str:
        return f"{obj_type}-{uuidlib.UUID(int=self.rng.getrandbits(128), version=4)}"

    def add(
        self, obj_type: str, fields: dict[str, Any], owner: str | None = ADMIN, uuid: str | None = None
    ) -> Obj:
        obj = {"uuid": uuid or self.new_uuid(obj_type), **fields}
        self.store.add(obj_type, obj, owner)
        if "name" in obj:
            self.by_name[(obj_type, obj["name"])] = obj["uuid"]
        return obj

    def ref(self, obj_type: str, name: str) -> str:
        return make_ref(obj_type, self.by_name[(obj_type, name)])

    # -- the inventory ------------------------------------------------------------------------------
    def run(self) -> None:
        self.tenants()
        self.system()
        self.clouds()
        self.profiles()
        self.service_engines()
        self.certificates()
        self.applications()
        self.alerts()

    def tenants(self) -> None:
        self.add(
            "tenant", {"name": "admin", "local": True, "description": "Default tenant"}, None, uuid=ADMIN
        )
        self.finance = self.add(
            "tenant",
            {
                "name": SECOND_TENANT,
                "local": True,
                "config_settings": {"tenant_vrf": False, "se_in_provider_context": True},
            },
            None,
        )["uuid"]

    def system(self) -> None:
        cfg = self.config
        for role in (
            "System-Admin",
            "Tenant-Admin",
            "Application-Admin",
            "Application-Operator",
            "System-ReadOnly",
        ):
            self.add("role", {"name": role, "privileges": []})
        self.add(
            "user",
            {
                "name": cfg.username,
                "username": cfg.username,
                "password": cfg.password,
                "full_name": "System Administrator",
                "email": "",
                "local": True,
                "is_superuser": True,
                "is_active": True,
                "default_tenant_ref": make_ref("tenant", ADMIN),
                "access": [
                    {
                        "role_ref": self.ref("role", "System-Admin"),
                        "tenant_ref": make_ref("tenant", ADMIN),
                        "all_tenants": True,
                    }
                ],
            },
            None,
            uuid="user-1",
        )
        self.add(
            "useraccountprofile",
            {
                "name": "Default-User-Account-Profile",
                "max_login_failure_count": cfg.lockout_failures,
                "account_lock_timeout": int(cfg.lockout_seconds // 60),
                "max_concurrent_sessions": 0,
                "max_password_history_count": 4,
                "credentials_timeout_threshold": 180,
            },
        )
        self.add(
            "systemconfiguration",
            {
                "dns_configuration": {
                    "search_domain": "",
                    "server_list": [{"addr": "10.10.0.2", "type": "V4"}],
                },
                "ntp_configuration": {"ntp_servers": [{"server": {"addr": "pool.ntp.org", "type": "DNS"}}]},
                "portal_configuration": {
                    "enable_https": True,
                    "redirect_to_https": True,
                    "enable_http": True,
                    "allow_basic_authentication": True,
                    "password_strength_check": False,
                    "api_force_timeout": 24,
                },
                "default_license_tier": "ENTERPRISE",
                "welcome_workflow_complete": True,
            },
            None,
            uuid="default",
        )
        self.add(
            "controllerproperties",
            {"api_idle_timeout": max(1, round(cfg.session_timeout / 60)), "portal_request_rate_limit": 0},
            None,
            uuid="controllerproperties",
        )
        self.add(
            "seproperties",
            {"se_runtime_properties": {"se_handle_interface_routes": False}},
            None,
            uuid="seproperties",
        )
        cluster_uuid = self.new_uuid("cluster")
        self.add(
            "cluster",
            {
                "name": "cluster-0-1",
                "nodes": [
                    {
                        "name": "10.10.0.10",
                        "ip": {"addr": "10.10.0.10", "type": "V4"},
                        "vm_uuid": "00505601a2b3",
                    }
                ],
                "virtual_ip": {"addr": "10.10.0.9", "type": "V4"},
            },
            None,
            uuid=cluster_uuid,
        )

    def clouds(self) -> None:
        self.add(
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
        self.add(
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
            self.add(
                "vrfcontext",
                {"name": name, "system_default": True, "cloud_ref": self.ref("cloud", "Default-Cloud")},
            )
        for i, name in enumerate(("vlan-100-web", "vlan-200-app", "vlan-300-db")):
            self.add(
                "network",
                {
                    "name": name,
                    "cloud_ref": self.ref("cloud", "Default-Cloud"),
                    "vrf_context_ref": self.ref("vrfcontext", "global"),
                    "configured_subnets": [
                        {"prefix": {"ip_addr": {"addr": f"10.{100 + i}.0.0", "type": "V4"}, "mask": 16}}
                    ],
                    "dhcp_enabled": False,
                },
            )

    def profiles(self) -> None:
        for name, kind in (
            ("System-HTTP", "HTTP"),
            ("System-Secure-HTTP", "HTTP"),
            ("System-L4-Application", "L4"),
            ("System-SSL-Application", "SSL"),
            ("System-DNS", "DNS"),
            ("System-Syslog", "SYSLOG"),
        ):
            self.add("applicationprofile", {"name": name, "type": f"APPLICATION_PROFILE_TYPE_{kind}"})
        for name, kind in (
            ("System-TCP-Proxy", "TCP_PROXY"),
            ("System-TCP-Fast-Path", "TCP_FAST_PATH"),
            ("System-UDP-Fast-Path", "UDP_FAST_PATH"),
        ):
            self.add("networkprofile", {"name": name, "profile": {"type": f"PROTOCOL_TYPE_{kind}"}})
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
            self.add("healthmonitor", fields)
        for app in APPS[:6]:
            self.add(
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
        self.add(
            "sslprofile",
            {
                "name": "System-Standard",
                "accepted_versions": [{"type": "SSL_VERSION_TLS1_2"}, {"type": "SSL_VERSION_TLS1_3"}],
            },
        )
        self.add(
            "sslprofile",
            {"name": "System-Standard-PFS", "accepted_versions": [{"type": "SSL_VERSION_TLS1_2"}]},
        )
        self.add("analyticsprofile", {"name": "System-Analytics-Profile", "apdex_response_threshold": 500})
        self.add(
            "applicationpersistenceprofile",
            {
                "name": "System-Persistence-Client-IP",
                "persistence_type": "PERSISTENCE_TYPE_CLIENT_IP_ADDRESS",
            },
        )
        self.add(
            "applicationpersistenceprofile",
            {"name": "System-Persistence-Http-Cookie", "persistence_type": "PERSISTENCE_TYPE_HTTP_COOKIE"},
        )
        self.add("ipamdnsproviderprofile", {"name": "internal-ipam", "type": "IPAMDNS_TYPE_INTERNAL"})

    def service_engines(self) -> None:
        rng = self.rng
        cloud = self.ref("cloud", "Default-Cloud")
        self.add(
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
        self.add(
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
        count = min(40, max(4, self.config.objects // 25))
        self.ses: dict[str, list[str]] = {"Default-Group": [], "Prod-SE-Group": []}
        letters = "abcdefghijklmnopqrstuvwxyz"
        for i in range(count):
            group = "Default-Group" if i < max(2, (2 * count) // 3) else "Prod-SE-Group"
            se_uuid = f"se-005056{rng.getrandbits(24):06x}"
            ip = f"10.10.1.{11 + i}"
            placeable = not (group == "Default-Group" and i == 0 and count > 4)
            self.add(
                "serviceengine",
                {
                    "name": "Avi-se-" + "".join(rng.choice(letters) for _ in range(5)),
                    "se_group_ref": self.ref("serviceenginegroup", group),
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
            self.runtime.se_base_cpu[se_uuid] = round(5 + 30 * rng.random(), 1)
            if placeable:
                self.ses[group].append(se_uuid)

    def certificates(self) -> None:
        rng = self.rng
        self.certs: list[str] = []
        count = min(60, max(4, self.config.objects // 10))
        offsets = (-12, 4, 18, 45, 120, 240, 365, 730)
        for i in range(count + 1):
            name = "System-Default-Cert" if i == 0 else f"{APPS[(i - 1) % len(APPS)]}-cert-{i:03d}"
            days = 3650 if i == 0 else offsets[rng.randrange(len(offsets))]
            not_after = self.anchor + dt.timedelta(days=days)
            not_before = not_after - dt.timedelta(days=397 if i else 3650)
            cn = "avi.sim.local" if i == 0 else f"{name.rsplit('-cert', 1)[0]}.example.com"
            cert_pem, key_pem = make_cert(cn, rng.randbytes(32), 1000 + i, not_before, not_after)
            obj = self.add(
                "sslkeyandcertificate",
                {
                    "name": name,
                    "type": "SSL_CERTIFICATE_TYPE_SYSTEM"
                    if i == 0
                    else "SSL_CERTIFICATE_TYPE_VIRTUALSERVICE",
                    "certificate": {
                        "certificate": cert_pem,
                        "subject": {"common_name": cn, "organization": "Avi Simulator"},
                        "issuer": {"common_name": cn, "organization": "Avi Simulator"},
                        "serial_number": str(1000 + i),
                        "not_before": not_before.strftime(TIME_FORMAT),
                        "not_after": not_after.strftime(TIME_FORMAT),
                        "expiry_status": expiry_status(not_after, self.anchor),
                        "self_signed": True,
                    },
                    "key": key_pem,
                    "key_passphrase": f"sim-passphrase-{i:03d}",
                    "key_params": {"algorithm": "SSL_KEY_ALGORITHM_EC"},
                    "status": "SSL_CERTIFICATE_FINISHED",
                },
            )
            if i:
                self.certs.append(obj["uuid"])

    def applications(self) -> None:
        cfg = self.config
        rng = self.rng
        cloud = self.ref("cloud", "Default-Cloud")
        vrf = self.ref("vrfcontext", "global")
        refs = {
            n: self.ref("applicationprofile", n)
            for n in ("System-HTTP", "System-Secure-HTTP", "System-L4-Application")
        }
        tcp_proxy = self.ref("networkprofile", "System-TCP-Proxy")
        fast_path = self.ref("networkprofile", "System-TCP-Fast-Path")
        ssl_profile = self.ref("sslprofile", "System-Standard")
        monitors = {
            "http": self.ref("healthmonitor", "System-HTTP"),
            "https": self.ref("healthmonitor", "System-HTTPS"),
            "tcp": self.ref("healthmonitor", "System-TCP"),
        }
        custom = [self.ref("healthmonitor", f"hm-{a}-http") for a in APPS[:6]]
        self.down_vs: list[tuple[str, str, str]] = []
        pools_total = cfg.pool_count
        for i in range(max(cfg.objects, pools_total)):
            app, env = APPS[rng.randrange(len(APPS))], ENVS[rng.randrange(len(ENVS))]
            name = f"{app}-{env}-{i + 1:04d}"
            owner = self.finance if i % 10 == 9 else ADMIN
            kind = rng.random()
            kind = "https" if kind < 0.30 else "l4" if kind < 0.45 else "http"
            subnet = f"10.{1 + (i // 250) % 254}.{i % 250 + 1}"
            pool = None
            if i < pools_total:
                pool = self.make_pool(
                    i,
                    name if i < cfg.objects else f"spare-{i + 1:04d}",
                    kind,
                    subnet,
                    owner,
                    cloud,
                    vrf,
                    monitors,
                    custom,
                )
            if i >= cfg.objects:
                continue
            vips = [{"vip_id": "0", "ip_address": {"addr": f"10.200.{i // 250}.{i % 250 + 1}", "type": "V4"}}]
            if rng.random() < 0.05:
                vips.append({"vip_id": "1", "ip_address": {"addr": f"fd00:200::{i + 1:x}", "type": "V6"}})
            vsvip = self.add(
                "vsvip",
                {
                    "name": f"{name}-vip",
                    "cloud_ref": cloud,
                    "vrf_context_ref": vrf,
                    "vip": [
                        {
                            **v,
                            "enabled": True,
                            "auto_allocate_ip": False,
                            "auto_allocate_floating_ip": False,
                            "avi_allocated_vip": False,
                            "avi_allocated_fip": False,
                            "prefix_length": 32,
                        }
                        for v in vips
                    ],
                    "dns_info": [{"fqdn": f"{name}.example.com"}],
                },
                owner,
            )
            fields: dict[str, Any] = {
                "name": name,
                "enabled": rng.random() >= 0.04,
                "vsvip_ref": make_ref("vsvip", vsvip["uuid"]),
                "cloud_ref": cloud,
                "vrf_context_ref": vrf,
                "se_group_ref": self.ref(
                    "serviceenginegroup", "Prod-SE-Group" if env == "prod" and i % 3 == 0 else "Default-Group"
                ),
                "analytics_profile_ref": self.ref("analyticsprofile", "System-Analytics-Profile"),
                "fqdn": f"{name}.example.com",
                "description": f"{app} ({env})",
            }
            if kind == "https":
                fields["services"] = [
                    {"port": 443, "enable_ssl": True, "port_range_end": 443},
                    {"port": 80, "enable_ssl": False, "port_range_end": 80},
                ]
                fields["application_profile_ref"] = refs["System-Secure-HTTP"]
                fields["network_profile_ref"] = tcp_proxy
                fields["ssl_profile_ref"] = ssl_profile
                fields["ssl_key_and_certificate_refs"] = [
                    make_ref("sslkeyandcertificate", self.certs[i % len(self.certs)])
                ]
            elif kind == "l4":
                port = L4_PORTS[i % len(L4_PORTS)]
                fields["services"] = [{"port": port, "enable_ssl": False, "port_range_end": port}]
                fields["application_profile_ref"] = refs["System-L4-Application"]
                fields["network_profile_ref"] = fast_path
            else:
                fields["services"] = [{"port": 80, "enable_ssl": False, "port_range_end": 80}]
                fields["application_profile_ref"] = refs["System-HTTP"]
                fields["network_profile_ref"] = tcp_proxy
            if pool is not None:
                if i % 50 == 25:
                    group = self.add(
                        "poolgroup",
                        {
                            "name": f"{name}-pg",
                            "cloud_ref": cloud,
                            "members": [{"pool_ref": make_ref("pool", pool["uuid"]), "ratio": 1}],
                        },
                        owner,
                    )
                    fields["pool_group_ref"] = make_ref("poolgroup", group["uuid"])
                else:
                    fields["pool_ref"] = make_ref("pool", pool["uuid"])
            vs = self.add("virtualservice", fields, owner)
            self.place(vs, i, fields["se_group_ref"])
            if fields["enabled"] and pool is not None and self.runtime.pool_state(pool)[0] != "OPER_UP":
                self.down_vs.append((vs["uuid"], name, owner))

    def make_pool(
        self,
        i: int,
        name: str,
        kind: str,
        subnet: str,
        owner: str,
        cloud: str,
        vrf: str,
        monitors: dict[str, str],
        custom: list[str],
    ) -> Obj:
        rng = self.rng
        port = (
            443
            if kind == "https" and rng.random() < 0.3
            else (L4_PORTS[i % len(L4_PORTS)] if kind == "l4" else rng.choice((80, 8080)))
        )
        servers = []
        for k in range(rng.randint(2, 6)):
            addr = f"{subnet}.{10 + k}"
            servers.append(
                {
                    "ip": {"addr": addr, "type": "V4"},
                    "port": port,
                    "hostname": f"{name}-srv{k + 1}",
                    "enabled": rng.random() >= 0.04,
                    "ratio": 1,
                    "verify_network": False,
                    "resolve_server_by_dns": False,
                }
            )
        health = rng.random()
        monitor = (
            monitors["tcp"]
            if kind == "l4"
            else (
                custom[i % len(custom)]
                if rng.random() < 0.2
                else monitors["https" if port == 443 else "http"]
            )
        )
        pool = self.add(
            "pool",
            {
                "name": name if name.startswith("spare-") else f"{name}-pool",
                "enabled": not (0.10 <= health < 0.13),
                "cloud_ref": cloud,
                "vrf_ref": vrf,
                "default_server_port": port,
                "lb_algorithm": rng.choice(
                    (
                        "LB_ALGORITHM_LEAST_CONNECTIONS",
                        "LB_ALGORITHM_ROUND_ROBIN",
                        "LB_ALGORITHM_CONSISTENT_HASH",
                    )
                ),
                "health_monitor_refs": [monitor],
                "servers": servers,
            },
            owner,
        )
        if health < 0.06:
            self.runtime.server_down[pool["uuid"]] = {s["ip"]["addr"] for s in servers}
        elif health < 0.10 or 0.13 <= health < 0.25:
            self.runtime.server_down[pool["uuid"]] = {servers[rng.randrange(len(servers))]["ip"]["addr"]}
        return pool

    def place(self, vs: Obj, i: int, group_ref: str) -> None:
        group = (
            "Prod-SE-Group"
            if group_ref == self.ref("serviceenginegroup", "Prod-SE-Group")
            else "Default-Group"
        )
        ses = self.ses[group] or self.ses["Default-Group"]
        runtime = self.runtime
        vsvip = self.store.get("vsvip", vs["vsvip_ref"].rsplit("/", 1)[-1])
        for vip in (vsvip or {}).get("vip", []):
            chosen = [ses[i % len(ses)]]
            if len(ses) > 1 and self.rng.random() < 0.15:
                chosen.append(ses[(i + 1) % len(ses)])
            runtime.placements.setdefault(vs["uuid"], {})[vip["vip_id"]] = chosen
            runtime.requested[(vs["uuid"], vip["vip_id"])] = len(chosen)
            for se in chosen:
                runtime.se_vs.setdefault(se, set()).add(vs["uuid"])

    def alerts(self) -> None:
        now = self.anchor.timestamp()
        for k, (vs_uuid, name, owner) in enumerate(self.down_vs[:100]):
            self.add(
                "alert",
                {
                    "name": f"VS-Down-{k + 1}",
                    "level": "ALERT_HIGH",
                    "state": "ALERT_STATE_ON",
                    "obj_uuid": vs_uuid,
                    "obj_name": name,
                    "obj_ref": make_ref("virtualservice", vs_uuid),
                    "event_id": "VS_DOWN",
                    "summary": f"Virtual service {name} is down: its pool has no servers up",
                    "timestamp": now - 60 * k,
                },
                owner,
            )
        for cert_uuid in self.certs:
            cert = self.store.get("sslkeyandcertificate", cert_uuid) or {}
            status = cert.get("certificate", {}).get("expiry_status")
            if status != "SSL_CERTIFICATE_GOOD":
                self.add(
                    "alert",
                    {
                        "name": f"Cert-{cert.get('name')}",
                        "level": "ALERT_MEDIUM"
                        if status == "SSL_CERTIFICATE_EXPIRY_WARNING"
                        else "ALERT_HIGH",
                        "state": "ALERT_STATE_ON",
                        "obj_uuid": cert_uuid,
                        "obj_name": cert.get("name"),
                        "obj_ref": make_ref("sslkeyandcertificate", cert_uuid),
                        "event_id": "SSL_CERT_EXPIRE",
                        "summary": f"SSL certificate {cert.get('name')} "
                        + ("expires soon" if status.endswith("WARNING") else "has expired"),
                        "timestamp": now,
                    },
                )


def seed_inventory(store: Store, runtime: Runtime, config: SimulatorConfig) -> None:
    Seeder(store, runtime, config).run()
