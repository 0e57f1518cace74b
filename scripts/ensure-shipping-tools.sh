#!/usr/bin/env bash
# Make sure the tools tests/shipping checks files with are there: `promtool` (Debian's prometheus
# package: prometheus.yml and the alert rules) and `caddy` (the TLS front's Caddyfile). Present -> done;
# root with apt-get -> install them quietly; otherwise print how and exit 0 anyway: the tests that need
# a missing tool skip with that reason, loudly, and the rest still run.
set -euo pipefail

packages=()
command -v promtool >/dev/null 2>&1 || packages+=(prometheus)
command -v caddy >/dev/null 2>&1 || packages+=(caddy)
if [ ${#packages[@]} -eq 0 ]; then
    exit 0
fi

if [ "${EUID:-$(id -u)}" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-shipping-tools: installing ${packages[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    # The packages' services are not wanted (a test runs the tools, never a daemon): policy-rc.d says so
    # to invoke-rc.d for this one install, where there is no policy file of the machine's own already.
    own_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
    fi
    status=0
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null; } || status=$?
    [ -n "$own_policy" ] && rm -f /usr/sbin/policy-rc.d
    if [ "$status" -ne 0 ]; then
        echo "ensure-shipping-tools: apt-get could not install ${packages[*]}; those checks will be skipped" >&2
    fi
    exit 0
fi

cat >&2 <<EOT
ensure-shipping-tools: ${packages[*]} not installed; the checks that use them are skipped. Install with
  sudo apt-get install prometheus caddy     (Debian/Ubuntu; promtool comes with prometheus)
EOT
exit 0
