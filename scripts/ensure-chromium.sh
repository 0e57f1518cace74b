#!/usr/bin/env bash
# Make sure /usr/bin/chromium is there for the real-browser test (tests/adapters/web/test_browser.py):
# present -> done; root with apt-get -> install Debian's `chromium` quietly; otherwise print how to
# install it and carry on (the test then skips with a loud reason). Never fails the build.
set -uo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    exit 0
fi

if [ "${EUID:-$(id -u)}" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-chromium: installing chromium with apt-get (for the real-browser test)" >&2
    export DEBIAN_FRONTEND=noninteractive
    if apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
        [ -x "$CHROMIUM" ] && exit 0
    fi
    echo "ensure-chromium: apt-get could not install chromium; the real-browser test will be SKIPPED" >&2
    exit 0
fi

cat >&2 <<'HINT'
ensure-chromium: /usr/bin/chromium is missing, so the real-browser test will be SKIPPED. Install it with
  sudo apt-get install chromium      (Debian/Ubuntu)
HINT
exit 0
