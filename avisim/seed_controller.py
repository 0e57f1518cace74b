"""Controller-level objects: tenants, roles, the admin user, the system singletons and the cluster."""

from __future__ import annotations

from .refs import make_ref
from .seed_context import SECOND_TENANT, Seeder
from .store import ADMIN


def seed_tenants(seeder: Seeder) -> None:
    """The admin tenant (uuid `admin`) and the second tenant, `finance`."""
    seeder.add("tenant", {"name": "admin", "local": True, "description": "Default tenant"}, None, uuid=ADMIN)
    seeder.finance = seeder.add(
        "tenant",
        {
            "name": SECOND_TENANT,
            "local": True,
            "config_settings": {"tenant_vrf": False, "se_in_provider_context": True},
        },
        None,
    )["uuid"]


def seed_controller(seeder: Seeder) -> None:
    """Roles, the admin user and its account profile, the system singletons, the cluster."""
    cfg = seeder.config
    for role in (
        "System-Admin",
        "Tenant-Admin",
        "Application-Admin",
        "Application-Operator",
        "System-ReadOnly",
    ):
        seeder.add("role", {"name": role, "privileges": []})
    seeder.add(
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
                    "role_ref": seeder.ref("role", "System-Admin"),
                    "tenant_ref": make_ref("tenant", ADMIN),
                    "all_tenants": True,
                }
            ],
        },
        None,
        uuid="user-1",
    )
    seeder.add(
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
    seeder.add(
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
    seeder.add(
        "controllerproperties",
        {"api_idle_timeout": max(1, round(cfg.session_timeout / 60)), "portal_request_rate_limit": 0},
        None,
        uuid="controllerproperties",
    )
    seeder.add(
        "seproperties",
        {"se_runtime_properties": {"se_handle_interface_routes": False}},
        None,
        uuid="seproperties",
    )
    cluster_uuid = seeder.new_uuid("cluster")
    seeder.add(
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
