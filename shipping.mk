# Shipping: the container image, and the tools the checks of compose, Helm and monitoring files need.
# Included by the Makefile (`include shipping.mk`); alone: `make -f Makefile -f shipping.mk image-test`.
# What each file is and how to deploy: docs/DEPLOYMENT.md.

# Guarded: `make -f Makefile -f shipping.mk` works whether or not the Makefile includes it too.
ifndef AVIBOT_SHIPPING_MK
AVIBOT_SHIPPING_MK := 1

IMAGE ?= localhost/avibot:dev
# Empty: the Dockerfile's default (the official python slim image). Where no registry answers, make the
# local Debian base first: `make base-image image BASE_IMAGE=localhost/avibot-base:bookworm`.
BASE_IMAGE ?=
CONTAINER_ENGINE ?= $(shell command -v podman >/dev/null 2>&1 && echo podman || (command -v docker >/dev/null 2>&1 && echo docker || echo podman))
# runc and cgroupfs: what works where crun cannot (cgroups in hybrid mode); harmless elsewhere.
PODMAN_GLOBAL_FLAGS ?= $(shell (command -v runc >/dev/null 2>&1 || test -x /usr/sbin/runc) && echo --runtime runc --cgroup-manager cgroupfs)
ifeq ($(CONTAINER_ENGINE),podman)
ENGINE_CMD := podman $(PODMAN_GLOBAL_FLAGS)
# --format docker keeps HEALTHCHECK (the OCI format has none); --network host lets RUN steps reach PyPI
# where the build network cannot; lowering the limits is allowed where raising them is not.
IMAGE_BUILD_FLAGS ?= --format docker --network host --ulimit nofile=1024:1024 --ulimit nproc=4096:4096
else
ENGINE_CMD := $(CONTAINER_ENGINE)
IMAGE_BUILD_FLAGS ?=
endif
IMAGE_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)
IMAGE_REVISION := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

.PHONY: image image-test base-image podman shipping-tools shipping-check

# The image, tagged $(IMAGE).
image:
	$(ENGINE_CMD) build $(IMAGE_BUILD_FLAGS) \
		$(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) \
		--build-arg VERSION=$(IMAGE_VERSION) --build-arg REVISION=$(IMAGE_REVISION) \
		--build-arg CREATED=$$(date -u +%Y-%m-%dT%H:%M:%SZ) \
		-t $(IMAGE) .
	@$(ENGINE_CMD) image inspect --format '$(IMAGE): {{.Size}} bytes' $(IMAGE)

# Build it (on the local Debian base when no registry answers) and use it as a person would:
# read-only, non-root, /healthz, /api/chat in demo mode, SIGTERM. Prints size, time to healthy, uid.
image-test:
	CONTAINER_ENGINE=$(CONTAINER_ENGINE) IMAGE=localhost/avibot:test BASE_IMAGE=$(BASE_IMAGE) \
		bash scripts/image_test.sh

# The local stand-in for the official python slim image (Debian bookworm's python3, debootstrap).
base-image: podman
	PODMAN="$(ENGINE_CMD)" bash scripts/base-image.sh localhost/avibot-base:bookworm

podman:
	@bash scripts/ensure-podman.sh

# promtool (prometheus.yml, alert rules) and caddy (the Caddyfile) for tests/shipping; never fails.
shipping-tools:
	@bash scripts/ensure-shipping-tools.sh

# Only the shipping checks (compose, Prometheus, Grafana, Helm, Dockerfile): a few seconds.
shipping-check: install shipping-tools
	$(BIN)/pytest -q tests/shipping

endif
