#!/usr/bin/env bash
# Make sure `redis-server` is on PATH for the tests: present -> done; root with apt-get -> install it
# quietly; otherwise print how to install it and fail.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi

if [ "${EUID:-$(id -u)}" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-redis: installing redis-server with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends redis-server >/dev/null
    if command -v redis-server >/dev/null 2>&1; then
        exit 0
    fi
    echo "ensure-redis: apt-get finished but redis-server is still not on PATH" >&2
    exit 1
fi

cat >&2 <<'EOF'
ensure-redis: redis-server is not on PATH; the tests start a throwaway one. Install it with
  sudo apt-get install redis-server   (Debian/Ubuntu)
  brew install redis                  (macOS)
or set AVIBOT_TEST_REDIS_URL=redis://host:6379/15 to use an existing throwaway server.
EOF
exit 1
