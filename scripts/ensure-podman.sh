#!/usr/bin/env bash
# Make sure podman (with runc) and debootstrap are there for `make image-test`: present -> done; root
# with apt-get -> install them quietly; otherwise say how and fail (exit 1), so a caller can skip the
# image test loudly instead of failing on a missing tool.
#   debootstrap makes the local Debian base where no container registry answers (scripts/base-image.sh);
#   runc is the runtime that works where crun cannot (cgroups in hybrid mode).
set -euo pipefail

missing=()
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || missing+=(runc)
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "${EUID:-$(id -u)}" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-podman: installing ${missing[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    if apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; then
        if command -v podman >/dev/null 2>&1; then
            exit 0
        fi
    fi
    echo "ensure-podman: apt-get could not install ${missing[*]}" >&2
    exit 1
fi

cat >&2 <<EOT
ensure-podman: ${missing[*]} missing; the image test builds and runs the image with podman. Install with
  sudo apt-get install podman runc debootstrap     (Debian/Ubuntu)
or run the same steps with Docker: make image CONTAINER_ENGINE=docker
EOT
exit 1
