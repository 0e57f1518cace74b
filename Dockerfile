# syntax=docker/dockerfile:1
# avibot: the ChatOps assistant for the VMware Avi Load Balancer, as a container image.
#
#   docker build -t avibot .                      (or `make image`; `make image-test` builds and tries it)
#   docker run --read-only -p 8080:8080 -e AVIBOT_ACCESS_TOKEN=$(openssl rand -hex 24) avibot serve --demo --host 0.0.0.0
#
# Two stages. `build` turns the project and every dependency into wheels and installs them into a
# virtual environment; the runtime stage is the base image plus that environment and a user, nothing
# else (no compiler, no pip, no dev extras, no source tree). BASE_IMAGE must be a Debian-like image with
# `python3 -m venv` working (the official slim image, or the local base `scripts/base-image.sh` makes);
# both stages use the same one, so the environment's interpreter links are valid in the runtime stage.
#
# Behind a TLS-intercepting proxy, hand the build its CA bundle as a secret (BuildKit or podman):
#   docker build --secret id=pip_ca,src=/etc/ssl/certs/ca-certificates.crt -t avibot .
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY adapters ./adapters
COPY avi ./avi
COPY avibot ./avibot
COPY avisim ./avisim
COPY bot ./bot
COPY common ./common
COPY llm ./llm
# Wheels for the project and its runtime dependencies only (no `[dev]`), then a venv without pip that
# holds them. Bytecode is compiled with unchecked hashes: the root filesystem is read-only at run time,
# so Python must never need to write a .pyc, whatever the files' timestamps became on the way.
RUN --mount=type=secret,id=pip_ca \
    if [ -s /run/secrets/pip_ca ]; then export PIP_CERT=/run/secrets/pip_ca; fi; \
    /opt/build/bin/pip wheel --wheel-dir /wheels . \
    && python3 -m venv --without-pip /opt/venv \
    && /opt/build/bin/pip --python /opt/venv/bin/python install --no-index --find-links /wheels \
        --no-compile avibot \
    && /opt/venv/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/venv/lib \
    && /opt/venv/bin/avibot --help >/dev/null

FROM ${BASE_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="avibot" \
      org.opencontainers.image.description="ChatOps assistant for the VMware Avi Load Balancer: Slack, Teams and web chat over a local LLM, with confirmed writes" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.documentation="docs/DEPLOYMENT.md" \
      org.opencontainers.image.vendor="avibot"
# One fixed, unprivileged uid/gid (10001) that Kubernetes' runAsUser and file ownership can name.
# Its home and the state directory (AVIBOT_STATE_DIR: the embedded SQLite store when there is no Redis)
# are the one declared volume that must be writable; /tmp is the other.
RUN groupadd --system --gid 10001 avibot \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/avibot --no-create-home \
        --shell /usr/sbin/nologin avibot \
    && install -d -o 10001 -g 10001 -m 0700 /var/lib/avibot \
    && install -d -m 0755 /etc/avibot
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/var/lib/avibot \
    TMPDIR=/tmp \
    AVIBOT_STATE_DIR=/var/lib/avibot \
    LOG_FORMAT=json
# `avibot serve` reads ./config.yaml when present: mount one at /etc/avibot/config.yaml.
WORKDIR /etc/avibot
VOLUME ["/var/lib/avibot", "/tmp"]
USER 10001:10001
EXPOSE 8080
# Liveness only (/healthz answers while the process serves); readiness (/readyz) is the orchestrator's.
# It asks 127.0.0.1: keep 127.0.0.1 in AVIBOT_ALLOWED_HOSTS when you set that list.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/opt/venv/bin/python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SERVER_PORT', '8080'), timeout=4)"]
ENTRYPOINT ["avibot"]
# A non-loopback bind is refused unless authentication is configured: set AVIBOT_ACCESS_TOKEN (32+
# characters) or AVIBOT_TRUSTED_PROXIES, or AVIBOT_ALLOW_REMOTE=true when something else guards it.
CMD ["serve", "--host", "0.0.0.0"]
