"""Facts about the controller's object types, for the client's operations (the list that answers
"what can I ask about?", enum checks).

The shared facts (collections, singletons, inventories, class names) live in common/avi_types.py.
"""

from __future__ import annotations

from common.avi_types import CLASS_NAMES, INVENTORY_TYPES, OBJECT_TYPES, SINGLETONS, class_name

__all__ = [
    "CLASS_NAMES",
    "DESCRIPTIONS",
    "INVENTORY_TYPES",
    "LB_ALGORITHMS",
    "OBJECT_TYPES",
    "SINGLETONS",
    "class_name",
]

# One line each for the types an operator asks about most; the rest are listed by name.
DESCRIPTIONS: dict[str, str] = {
    "virtualservice": "virtual services: the VIP:port listeners that clients connect to",
    "vsvip": "virtual IP addresses used by virtual services",
    "pool": "pools of back-end servers behind a virtual service",
    "poolgroup": "groups of pools with ratios and priorities",
    "healthmonitor": "health checks that mark pool servers up or down",
    "serviceengine": "service engines: the data-plane VMs that carry the traffic",
    "serviceenginegroup": "groups of service engines with shared capacity settings",
    "sslkeyandcertificate": "TLS certificates and keys",
    "sslprofile": "TLS protocol and cipher settings",
    "applicationprofile": "L7/L4 application behaviour (HTTP, L4, DNS, SSL ...)",
    "networkprofile": "TCP/UDP proxy or fast-path settings",
    "applicationpersistenceprofile": "session persistence (client IP, cookie ...)",
    "cloud": "clouds (vCenter, NSX-T, AWS ...) where service engines are placed",
    "tenant": "tenants that scope every other object",
    "vrfcontext": "routing contexts (VRFs)",
    "alert": "raised alerts",
    "httppolicyset": "HTTP request/response policies",
    "wafpolicy": "web application firewall policies",
    "network": "networks and subnets known to a cloud",
    "user": "controller user accounts",
}


# Pool load-balancing algorithms, without their `LB_ALGORITHM_` prefix (swagger Pool.lb_algorithm).
LB_ALGORITHMS: tuple[str, ...] = (
    "LEAST_CONNECTIONS",
    "ROUND_ROBIN",
    "FASTEST_RESPONSE",
    "CONSISTENT_HASH",
    "LEAST_LOAD",
    "FEWEST_SERVERS",
    "RANDOM",
    "FEWEST_TASKS",
    "NEAREST_SERVER",
    "CORE_AFFINITY",
    "TOPOLOGY",
)
