"""Labels a person reads: `num_se_assigned` is "SEs assigned" and `l4_client.avg_bandwidth` is
"Client bandwidth". The model keeps the controller's keys (a tool's `data`); only the parts a chat
renders (facts, chart titles) use these words.
"""

from __future__ import annotations

# Words that are written in capitals (or a set form) wherever they appear in a key.
_WORDS = {
    "se": "SE",
    "ses": "SEs",
    "vs": "VS",
    "vip": "VIP",
    "vips": "VIPs",
    "ip": "IP",
    "ips": "IPs",
    "ssl": "SSL",
    "tls": "TLS",
    "lb": "LB",
    "uuid": "UUID",
    "url": "URL",
    "http": "HTTP",
    "https": "HTTPS",
    "tcp": "TCP",
    "udp": "UDP",
    "dns": "DNS",
    "fqdn": "FQDN",
    "cpu": "CPU",
    "rtt": "RTT",
    "id": "ID",
    "hm": "health monitor",
    "5xx": "5xx",
    "4xx": "4xx",
    "conns": "connections",
    "avg": "average",
    "oper": "operational",
    "num": "number of",
    "cert": "certificate",
    "certs": "certificates",
    "mem": "memory",
    "resp": "responses",
}

# Keys whose words alone read badly.
_KEYS = {
    "num_se_assigned": "SEs assigned",
    "num_se_requested": "SEs requested",
    "num_servers": "Servers",
    "num_servers_enabled": "Servers enabled",
    "num_servers_up": "Servers up",
    "oper_state": "State",
    "oper_status": "State",
    "health_score": "Health score",
    "se_group": "SE group",
    "default_server_port": "Default server port",
}

_METRICS = {
    "l4_client.avg_bandwidth": "Client bandwidth",
    "l4_client.avg_complete_conns": "Completed connections",
    "l4_client.avg_total_rtt": "Client round-trip time",
    "l7_client.avg_complete_responses": "Responses",
    "l7_client.avg_resp_5xx": "5xx errors",
    "l7_client.avg_resp_4xx": "4xx errors",
    "l4_server.avg_open_conns": "Open server connections",
    "l4_server.avg_bandwidth": "Server bandwidth",
    "l7_server.avg_application_response_time": "Application response time",
    "se_stats.avg_cpu_usage": "CPU usage",
    "se_stats.avg_mem_usage": "Memory usage",
    "se_if.avg_bandwidth": "Interface bandwidth",
}

_GROUPS = {"l4_client": "client", "l7_client": "client", "l4_server": "server", "l7_server": "server"}


def _words(key: str) -> str:
    text = " ".join(_WORDS.get(word, word) for word in key.replace("-", "_").split("_") if word)
    return text[:1].upper() + text[1:]


def label(key: str) -> str:
    """A fact's label: `num_se_assigned` -> "SEs assigned", `lb_algorithm` -> "LB algorithm"."""
    if key in _KEYS:
        return _KEYS[key]
    if not key.islower():
        return key  # already written for people ("Tenant", "VIP address")
    return _words(key)


def metric_title(metric_id: str) -> str:
    """A chart's title: `l4_client.avg_bandwidth` -> "Client bandwidth"; an unknown id in words."""
    if metric_id in _METRICS:
        return _METRICS[metric_id]
    group, _, name = metric_id.partition(".")
    if not name:
        return _words(group)
    words = _words(name.removeprefix("avg_"))
    side = _GROUPS.get(group)
    return f"{words} ({side})" if side else words
