#!/usr/bin/env bash
# `make image-test`: build the avibot image and use it as a person would, then say what was seen.
#
#   1. build it (on BASE_IMAGE; when unset: the official default if it can be pulled, else the local
#      Debian base that scripts/base-image.sh makes), and print its size (fails over IMAGE_MAX_MB);
#   2. inspect it: a numeric non-root USER, HEALTHCHECK, EXPOSE 8080, ENTRYPOINT/CMD, OCI labels,
#      volumes; and look inside: no compiler, no pip, no source tree, no test tools;
#   3. run the default command without authentication: it must refuse the 0.0.0.0 bind, in one line;
#   4. run `serve --demo --host 0.0.0.0` with an access token, read-only, as its own user; wait for
#      /healthz; run the image's HEALTHCHECK; ask POST /api/chat `vs list` (200 with the token, 401
#      without); check `id -u` is not 0, that / is read-only and the state dir and /tmp are writable;
#   5. stop it with SIGTERM and check it exited 0.
#
# Environment: IMAGE (default localhost/avibot:test), BASE_IMAGE, CONTAINER_ENGINE (podman|docker),
# IMAGE_TEST_PORT (default 18080), IMAGE_MAX_MB (default 300), IMAGE_SKIP_BUILD=1 (test an existing IMAGE).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/avibot:test}
ENGINE=${CONTAINER_ENGINE:-podman}
PORT=${IMAGE_TEST_PORT:-18080}
MAX_MB=${IMAGE_MAX_MB:-300}
DEFAULT_BASE=$(sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile | head -1)
LOCAL_BASE=localhost/avibot-base:bookworm

say() { printf 'image-test: %s\n' "$*"; }
fail() { printf 'image-test: FAILED: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# The engine and the flags that work on this kind of machine (see docs/DEPLOYMENT.md, "Building here").
if [ "$ENGINE" = podman ]; then
    bash scripts/ensure-podman.sh || fail "podman is not available (see above)"
    ENG=(podman)
    if command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ]; then
        ENG+=(--runtime runc --cgroup-manager cgroupfs)
    fi
    BUILD_FLAGS=(--format docker --network host --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
    RUN_FLAGS=(--network host --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
    # No systemd here to time the HEALTHCHECK: the test runs it itself (podman healthcheck run).
    NO_HEALTH=(--no-healthcheck)
    MANUAL_HEALTH=(--health-interval disable)
else
    ENG=("$ENGINE")
    BUILD_FLAGS=()
    RUN_FLAGS=(--network host)
    NO_HEALTH=(--no-healthcheck)
    MANUAL_HEALTH=()
fi
# podman 4.3 without systemd complains about healthcheck timers even when told not to set any: noise.
engine() { "${ENG[@]}" "$@" 2> >(grep -v 'systemd connection' >&2); }

# -- 1. build -------------------------------------------------------------------------------------
if [ "${IMAGE_SKIP_BUILD:-}" != 1 ]; then
    if [ -z "${BASE_IMAGE:-}" ]; then
        if engine image exists "$DEFAULT_BASE" 2>/dev/null \
            || timeout 60 "${ENG[@]}" pull -q "$DEFAULT_BASE" >/dev/null 2>&1; then
            BASE_IMAGE=$DEFAULT_BASE
        else
            say "no registry answers for $DEFAULT_BASE: building on the local Debian base $LOCAL_BASE"
            PODMAN="${ENG[*]}" bash scripts/base-image.sh "$LOCAL_BASE"
            BASE_IMAGE=$LOCAL_BASE
        fi
    fi
    revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    version=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)
    say "building $IMAGE on $BASE_IMAGE"
    started=$(now)
    log=$(mktemp)
    if ! engine build "${BUILD_FLAGS[@]}" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
        --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
        --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)" -t "$IMAGE" . >"$log" 2>&1; then
        tail -40 "$log" >&2
        rm -f "$log"
        fail "the build failed"
    fi
    rm -f "$log"
    say "built in $(since "$started") s"
fi

# -- 2. inspect -----------------------------------------------------------------------------------
inspect() { engine image inspect --format "$1" "$IMAGE"; }
size=$(inspect '{{.Size}}')
size_mb=$(( size / 1000000 ))
say "image size: ${size_mb} MB ($size bytes; budget ${MAX_MB} MB)"
[ "$size_mb" -le "$MAX_MB" ] || fail "the image is ${size_mb} MB, over the ${MAX_MB} MB budget"

user=$(inspect '{{.Config.User}}')
[[ "$user" =~ ^[1-9][0-9]*(:[0-9]+)?$ ]] || fail "USER is '$user', not a numeric non-root uid"
entrypoint=$(inspect '{{json .Config.Entrypoint}}')
cmd=$(inspect '{{json .Config.Cmd}}')
[ "$entrypoint" = '["avibot"]' ] || fail "ENTRYPOINT is $entrypoint"
[ "$cmd" = '["serve","--host","0.0.0.0"]' ] || fail "CMD is $cmd"
inspect '{{json .Config.ExposedPorts}}' | grep -q '"8080/tcp"' || fail "8080 is not exposed"
health=$(inspect '{{json .Config.Healthcheck}}')
grep -q healthz <<<"$health" || fail "no HEALTHCHECK on /healthz (podman keeps it only with --format docker)"
volumes=$(inspect '{{json .Config.Volumes}}')
for v in /var/lib/avibot /tmp; do grep -q "\"$v\"" <<<"$volumes" || fail "$v is not a declared volume"; done
for label in title version revision created licenses; do
    value=$(inspect "{{index .Config.Labels \"org.opencontainers.image.$label\"}}")
    [ -n "$value" ] && [ "$value" != "<no value>" ] || fail "label org.opencontainers.image.$label missing"
done
say "config: USER $user, ENTRYPOINT $entrypoint, CMD $cmd, volumes $volumes"

inside=$(engine run --rm "${RUN_FLAGS[@]}" "${NO_HEALTH[@]}" --read-only --entrypoint /bin/sh "$IMAGE" -c '
    for tool in gcc cc c++ make pip pip3 git; do command -v "$tool" >/dev/null 2>&1 && echo "tool:$tool"; done
    [ -e /src ] && echo "source:/src"
    for module in pytest ruff mypy playwright pip setuptools; do
        /opt/venv/bin/python -c "import $module" 2>/dev/null && echo "module:$module"
    done
    /opt/venv/bin/python -c "import avibot, os; print(\"avibot-at:\" + os.path.dirname(avibot.__file__))"
')
found=$(grep -E '^(tool|source|module):' <<<"$inside" || true)
[ -z "$found" ] || fail "the runtime image holds what it should not: $(tr '\n' ' ' <<<"$found")"
grep -q '^avibot-at:/opt/venv/lib/' <<<"$inside" || fail "avibot is not installed in /opt/venv: $inside"
say "inside: no compiler, pip, git, source tree or dev tools; $(grep '^avibot-at:' <<<"$inside")"

# -- 3. the default command refuses an unauthenticated remote bind ------------------------------------
set +e
refusal=$(engine run --rm "${RUN_FLAGS[@]}" "${NO_HEALTH[@]}" --read-only "$IMAGE" 2>&1)
status=$?
set -e
[ "$status" -eq 2 ] || fail "the default command without authentication exited $status, not 2: $refusal"
grep -q "refusing to listen on 0.0.0.0 without authentication" <<<"$refusal" \
    || fail "unexpected refusal: $refusal"
say "without authentication the default command refuses (exit 2): $refusal"

# -- 4. the demo, read-only, as its own user ---------------------------------------------------------
if curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz"; then
    fail "port $PORT already answers; set IMAGE_TEST_PORT"
fi
token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
name="avibot-image-test-$$"
cleanup() { engine rm -f -t 0 "$name" >/dev/null 2>&1 || true; }
trap cleanup EXIT
started=$(now)
# The port through SERVER_PORT (not --port): the image's HEALTHCHECK reads it too.
engine run -d --name "$name" "${RUN_FLAGS[@]}" "${MANUAL_HEALTH[@]}" --read-only --cap-drop ALL \
    --security-opt no-new-privileges -e SERVER_PORT="$PORT" -e AVIBOT_ACCESS_TOKEN="$token" \
    -e OLLAMA_HOST=http://127.0.0.1:9 "$IMAGE" serve --demo --host 0.0.0.0 >/dev/null
healthy=""
for _ in $(seq 1 120); do
    if curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz"; then healthy=1; break; fi
    if [ "$(engine inspect --format '{{.State.Running}}' "$name")" != true ]; then break; fi
    sleep 0.5
done
if [ -z "$healthy" ]; then
    engine logs "$name" >&2 || true
    fail "/healthz did not answer within 60 s"
fi
to_healthy=$(since "$started")
say "/healthz answered ${to_healthy} s after start"
engine healthcheck run "$name" >/dev/null 2>&1 || [ "$ENGINE" != podman ] \
    || fail "the image's HEALTHCHECK command fails in the running container"

ask() {
    curl -s -o /tmp/avibot-image-test.json -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/api/chat" \
        -H 'Content-Type: application/json' "$@" -d '{"message":"vs list"}'
}
code=$(ask -H "Authorization: Bearer $token")
[ "$code" = 200 ] || fail "POST /api/chat with the token answered $code: $(head -c 400 /tmp/avibot-image-test.json)"
python3 - /tmp/avibot-image-test.json <<'EOF' || fail "the chat answer is not a vs list"
import json, sys
reply = json.load(open(sys.argv[1]))
table = next(p for p in reply["parts"] if p["kind"] == "table")
assert table["rows"], reply
print(f"image-test: POST /api/chat 'vs list' -> 200, mode {reply['mode']}, {len(table['rows'])} rows")
EOF
code=$(ask)
[ "$code" = 401 ] || fail "POST /api/chat without the token answered $code, not 401"
say "POST /api/chat without the token -> 401"
rm -f /tmp/avibot-image-test.json

uid=$(engine exec "$name" id -u)
[ "$uid" != 0 ] || fail "the server runs as root"
if engine exec "$name" sh -c 'touch /probe' 2>/dev/null; then fail "the root filesystem is writable"; fi
engine exec "$name" sh -c 'touch "$AVIBOT_STATE_DIR/probe" /tmp/probe && rm "$AVIBOT_STATE_DIR/probe" /tmp/probe' \
    || fail "the state directory or /tmp is not writable"
say "runs as uid $uid (id -u), root filesystem read-only, \$AVIBOT_STATE_DIR and /tmp writable"

# -- 5. stop ------------------------------------------------------------------------------------------
started=$(now)
engine stop -t 30 "$name" >/dev/null
exit_code=$(engine inspect --format '{{.State.ExitCode}}' "$name")
[ "$exit_code" = 0 ] || { engine logs "$name" >&2 || true; fail "it exited $exit_code on SIGTERM"; }
say "stopped (SIGTERM) in $(since "$started") s, exit 0"
say "OK: $IMAGE ${size_mb} MB, healthy in ${to_healthy} s, uid $uid"
