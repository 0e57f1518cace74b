#!/usr/bin/env bash
# Make a local Debian base image (`localhost/avibot-base:bookworm` by default) for building the avibot
# image where no container registry answers. It stands in for the official `python:3.11-slim` image:
# Debian bookworm's python3 (3.11) with venv support and CA certificates, nothing else.
#
# The host's extra CA certificates (/usr/local/share/ca-certificates/*.crt, e.g. a TLS-intercepting
# proxy's) are trusted inside, so `pip install` in a RUN step reaches PyPI the way the host does.
#
#   scripts/base-image.sh [IMAGE]     (root; needs podman and debootstrap: scripts/ensure-podman.sh)
set -euo pipefail

IMAGE=${1:-localhost/avibot-base:bookworm}
SUITE=${DEBIAN_SUITE:-bookworm}
MIRROR=${DEBIAN_MIRROR:-}
PODMAN=${PODMAN:-podman}

if $PODMAN image exists "$IMAGE" 2>/dev/null; then
    echo "base image $IMAGE: already there"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "base-image: debootstrap needs root; run as root or pass BASE_IMAGE=<an image you can pull>" >&2
    exit 2
fi
command -v debootstrap >/dev/null || { echo "base-image: debootstrap is missing (scripts/ensure-podman.sh)" >&2; exit 2; }

ROOTFS=$(mktemp -d /var/tmp/avibot-rootfs.XXXXXX)
cleanup() {
    # debootstrap mounts /proc (and may mount /sys) inside the target and can leave them mounted when it
    # fails: unmount whatever is under the rootfs first, and never let rm cross into another filesystem.
    awk -v root="$ROOTFS" 'index($2, root "/") == 1 { print $2 }' /proc/mounts | sort -r |
        while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done
    rm -rf --one-file-system "$ROOTFS" "$ROOTFS.log"
}
trap cleanup EXIT
started=$(date +%s)
echo "base image $IMAGE: debootstrap $SUITE (minbase + python3, python3-venv, ca-certificates), 2 to 7 minutes"
# shellcheck disable=SC2086  # MIRROR is empty or one word
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$SUITE" "$ROOTFS" $MIRROR >"$ROOTFS.log" 2>&1 || { tail -20 "$ROOTFS.log" >&2; exit 1; }

# Trust what the host trusts (see shipping notes: a proxy's CA that only the host knows).
shopt -s nullglob
extra=(/usr/local/share/ca-certificates/*.crt)
if [ ${#extra[@]} -gt 0 ]; then
    cp "${extra[@]}" "$ROOTFS/usr/local/share/ca-certificates/"
    chroot "$ROOTFS" update-ca-certificates >/dev/null 2>&1 || true
    cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
fi

# What an image needs no copy of: package lists, docs, man pages, locales but C.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb \
    "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
    "$ROOTFS"/var/log/*.log
find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true

tar -C "$ROOTFS" --one-file-system -c . | $PODMAN import --quiet \
    --change 'CMD ["/usr/bin/python3"]' \
    --change 'ENV LANG=C.UTF-8' \
    - "$IMAGE" >/dev/null
echo "base image $IMAGE: made in $(( $(date +%s) - started )) s, $($PODMAN image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
