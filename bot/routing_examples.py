"""How people ask for each tool, in their words: the router (bot/routing.py) ranks tools by BM25 over
each tool's name, topics and description plus these phrasings, after the lexicon's synonyms are
folded in. Written from how operators talk in ops channels, not copied from any evaluation set; the
names in them are made up. A tool that is not listed here is ranked by its description alone, so a
new tool is routed from the day it is added; phrasings make it rank better.
"""

from __future__ import annotations

EXAMPLES: dict[str, tuple[str, ...]] = {
    # virtual services
    "list_virtual_services": (
        "what virtual services are configured", "give me every vip", "list the vses in prod",
        "number of apps behind the load balancer", "which virtual services are disabled",
    ),
    "get_virtual_service": (
        "is storefront up", "what ip does the billing vip listen on", "state of vs-intranet",
        "which pool does portal use", "where is the shop app placed",
    ),
    "create_virtual_service": (
        "create a virtual service on 10.9.0.1 port 443", "new vip for the blog", "spin up a vs for staging",
    ),
    "update_virtual_service": (
        "point the intranet vs at another pool", "change the description of the blog vs",
        "set the pool of vs-api", "rename a virtual service",
        "turn on ssl for the shop vs with the shop certificate", "terminate tls on 443 for the intranet vip",
        "swap the certificate on the portal vs", "use the secure http application profile on the blog vs",
    ),
    "delete_virtual_service": ("remove the old test vip", "delete virtual service tmp-app", "get rid of vs"),
    "enable_virtual_service": ("turn the blog vs back on", "enable storefront again", "bring the vip back"),
    "disable_virtual_service": ("turn off the blog vs", "put the vip in maintenance", "take the app offline"),
    "scale_out_virtual_service": ("place the vs on one more engine", "scale storefront out", "more capacity"),
    "scale_in_virtual_service": ("scale the vs back in", "remove an engine from the app", "fewer engines"),
    "migrate_virtual_service": ("move the vs to another engine", "migrate the app off this se"),
    "switchover_virtual_service": ("fail the vs over to the standby engine", "switch to the standby se"),
    # pools and their servers
    "list_pools": ("what pools exist", "list the server pools", "pools with servers down", "count pools"),
    "get_pool": (
        "what servers are in the intranet pool", "lb algorithm of the api pool", "show members of a pool",
        "which health monitor does the pool use",
    ),
    "create_pool": ("create a pool with two servers", "new pool for the blog backends"),
    "update_pool": (
        "change the load balancing algorithm of a pool", "attach a health monitor to the pool",
        "set the default server port of a pool",
        "switch the blog pool to round robin", "add the tcp check to the intranet pool",
        "detach the http monitor from pool tmp-pool", "rename pool blog-old to blog-legacy",
        "the backends of the portal pool listen on 8443 now", "turn the whole pool off",
    ),
    "delete_pool": (
        "delete the old pool", "remove pool tmp-pool", "get rid of an unused pool",
        "drop the leftover pool from the migration", "clean up pool legacy-backends", "destroy the test pool",
    ),
    "scale_out_pool": ("add several servers to a pool", "grow the pool with three more backends"),
    "scale_in_pool": ("remove several servers from the pool", "shrink the pool"),
    "add_pool_server": ("add server 10.3.3.3 to the pool", "put a new backend into the pool"),
    "remove_pool_server": ("remove 10.3.3.3 from the pool for good", "delete a member from a pool"),
    "enable_pool_server": ("put the backend back in rotation", "re-enable a pool member"),
    "disable_pool_server": ("drain a server", "take a backend out of rotation", "disable a pool member"),
    # health monitors
    "list_health_monitors": ("what health checks exist", "list the http monitors", "which probes do we have"),
    "get_health_monitor": ("what does the https monitor send", "timeout of a health check", "hm details"),
    "create_health_monitor": ("create a tcp health check", "new http monitor expecting 200", "add a probe"),
    "update_health_monitor": (
        "change the interval of a health monitor", "make the monitor expect 301", "set the check timeout",
    ),
    "delete_health_monitor": ("delete the unused health monitor", "remove a probe"),
    # engines, analytics, health
    "list_service_engines": ("how loaded are the engines", "are all service engines up", "se versions"),
    "get_service_engine": ("memory of one engine", "which vses are on this se", "se details"),
    "get_analytics": (
        "requests per second of the shop vip", "p95 latency of the api pool in the last hour",
        "how much traffic did the blog get yesterday", "errors of storefront today",
        "cpu of an engine this week",
    ),
    "list_unhealthy_virtual_services": ("what is broken", "any vip down", "anything red right now"),
    "list_unhealthy_pools": ("which pools are degraded", "pools that are down"),
    "list_unhealthy_servers": ("which backends fail their health checks", "members marked down"),
    # certificates and events
    "list_certificates": ("certs that expire this quarter", "expired certs", "when does our cert expire"),
    "list_events": (
        "what happened to the blog vs last night", "who changed the api pool", "recent alerts",
        "show the change history",
    ),
    # any object type
    "list_object_types": ("what kinds of objects can i look at", "which object types exist"),
    "list_objects": ("list the clouds", "what se groups are there", "show all tenants", "list networks"),
    "get_object": ("show the default cloud", "settings of the se group", "details of a certificate"),
    "execute_generic_operation": ("raw api call", "GET /api/systemconfiguration", "call an api endpoint"),
}  # fmt: skip
