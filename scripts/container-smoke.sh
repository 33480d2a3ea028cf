#!/usr/bin/env bash
# Container smoke test: proves that the image built from the real Dockerfile
# builds, starts, answers, keeps state on a volume, takes a mounted seed file,
# runs as uid 1000 and stops within 2 s, and that the README's own docker and
# docker-compose lines work as written. `.ci/run` calls it as
#   bash scripts/container-smoke.sh
#
# Engine: a real Docker engine when `docker info` answers; otherwise podman with
# the settings of shared/container/NOTES.md (scripts/container/lib.sh), a cached
# local stand-in for node:20-bookworm-slim (scripts/container/make-base.sh), and
# podman's Docker-compatible API for the README's docker/docker-compose lines.
# Only 127.0.0.1 is published and talked to. Everything it starts is removed on
# exit; the images stay, as the build cache of the next run.
#
# Environment: CONTAINER_ENGINE=docker|podman forces an engine;
# CONTAINER_CACHE_DIR (default ~/.cache/ai-secret-mock/container) holds the
# stand-in base's tarball; CONTAINER_SMOKE_TESTCONTAINERS=1 also runs the README's
# Testcontainers example (installs the testcontainers package into that cache dir).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=container/lib.sh
source scripts/container/lib.sh

RUN_ID="cs$$"
IMAGE="ai-secret-mock:smoke"
DEMO_KEY="sk-mock-acme-owner"
OWN_LAYERS_LIMIT=40000000 # bytes the project's layers may add on top of the base
STOP_LIMIT=2.0            # seconds
CONTAINERS=() VOLUMES=() SUMMARY=() STOP_TIMES=()
SVC_PID="" SHIM_PID="" COMPOSE_PROJECT="" WORK="$(mktemp -d)"
chmod 755 "$WORK" # a seed file in it is mounted into the container, read by uid 1000

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# timed LABEL FUNCTION: run one check, and record how long it took for the summary.
timed() {
  local label="$1" t0
  shift
  log "== $label"
  t0="$(now)"
  "$@"
  SUMMARY+=("$(printf '  %-58s %6ss' "$label" "$(since "$t0")")")
}

cleanup() {
  local rc=$? c v
  set +e
  if ((rc != 0)); then
    for c in "${CONTAINERS[@]}"; do
      printf -- '--- last log lines of %s\n' "$c" >&2
      engine logs --tail 20 "$c" >&2 2>/dev/null
    done
  fi
  stop_health_shim
  if [[ -n "$COMPOSE_PROJECT" ]]; then
    COMPOSE_PROJECT_NAME="$COMPOSE_PROJECT" "${COMPOSE_CMD[@]}" down --timeout 5 >/dev/null 2>&1
  fi
  for c in "${CONTAINERS[@]}"; do engine rm -f "$c" >/dev/null 2>&1; done
  for v in "${VOLUMES[@]}"; do engine volume rm -f "$v" >/dev/null 2>&1; done
  [[ -n "$SVC_PID" ]] && kill "$SVC_PID" 2>/dev/null && wait "$SVC_PID" 2>/dev/null
  rm -rf "$WORK"
  echo
  echo "container smoke test (${ENGINE:-?}): $([[ $rc == 0 ]] && echo passed || echo FAILED) in ${SECONDS}s"
  printf '%s\n' "${SUMMARY[@]}"
  [[ -n "${IMAGE_REPORT:-}" ]] && echo "$IMAGE_REPORT"
  ((${#STOP_TIMES[@]})) && echo "  stop times (limit ${STOP_LIMIT}s): ${STOP_TIMES[*]}"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- HTTP checks (curl on the host, against 127.0.0.1 only) -------------------

# req METHOD URL [JSON_BODY] [API_KEY]: sets STATUS and CTYPE; the body is in $WORK/body.
req() {
  local args=(-sS --max-time 10 -o "$WORK/body" -w '%{http_code} %{content_type}' -X "$1" "$2")
  [[ -n "${4:-}" ]] && args+=(-H "Authorization: Bearer $4")
  [[ -n "${3:-}" ]] && args+=(-H 'content-type: application/json' --data-raw "$3")
  local out
  out="$(curl "${args[@]}")" || die "$1 $2: no answer"
  STATUS="${out%% *}" CTYPE="${out#* }"
}

# expect_deleted PORT KEY NAME [ORG]: DELETE /v1/ai_secret answers 200 with the deleted record.
expect_deleted() {
  local body="{\"name\":\"$3\"${4:+,\"org_name\":\"$4\"}}"
  req DELETE "http://127.0.0.1:$1/v1/ai_secret" "$body" "$2"
  [[ "$STATUS" == 200 && "$CTYPE" == application/json* ]] ||
    die "DELETE $3 with $2: expected 200 JSON, got $STATUS $CTYPE: $(head -c 300 "$WORK/body")"
  node -e 'const b = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.exit(b.name === process.argv[2] ? 0 : 1)' \
    "$WORK/body" "$3" || die "DELETE $3: the 200 body does not name $3: $(head -c 300 "$WORK/body")"
}

# expect_gone PORT KEY NAME: a second DELETE answers the documented 400.
expect_gone() {
  local want="Missing delete access to ai_secret $3, or the ai_secret does not exist"
  req DELETE "http://127.0.0.1:$1/v1/ai_secret" "{\"name\":\"$3\"}" "$2"
  [[ "$STATUS" == 400 && "$CTYPE" == text/plain* && "$(head -c ${#want} "$WORK/body")" == "$want" ]] ||
    die "DELETE $3 again: expected 400 text/plain '$want...', got $STATUS $CTYPE: $(head -c 300 "$WORK/body")"
}

# ---- containers ------------------------------------------------------------------

# start_mock NAME PORT [RUN ARGS...]: the image, detached, port published on 127.0.0.1.
start_mock() {
  local name="$1" port="$2"
  shift 2
  CONTAINERS+=("$name")
  engine run -d --name "$name" -p "127.0.0.1:$port:8000" "$@" "$IMAGE" >/dev/null 2>"$WORK/run.err" ||
    die "cannot start $name: $(cat "$WORK/run.err")"
}

# wait_healthy NAME: until the image's own HEALTHCHECK command passes. Podman runs
# healthchecks from systemd timers, absent here, so run the check ourselves
# (`podman healthcheck run` runs the HEALTHCHECK command in the container);
# Docker schedules it itself, so read its status.
wait_healthy() {
  local name="$1" t0 status
  t0="$(now)"
  for _ in $(seq 1 120); do
    if [[ "$ENGINE" == podman ]]; then
      p healthcheck run "$name" >/dev/null 2>&1 && { log "$name healthy after $(since "$t0")s"; return 0; }
    else
      status="$(docker inspect -f '{{.State.Health.Status}}' "$name" 2>/dev/null || true)"
      [[ "$status" == healthy ]] && { log "$name healthy after $(since "$t0")s"; return 0; }
      [[ "$status" == unhealthy ]] && die "$name: HEALTHCHECK reports unhealthy"
    fi
    # Ended, not merely not started yet: a `docker run` through the engine's API shows the
    # container as created (or, on podman, configured) before it runs, longer with a volume.
    case "$(engine inspect -f '{{.State.Status}}' "$name" 2>/dev/null)" in
      exited | stopped | dead)
        [[ -f "$WORK/$name.log" ]] && cat "$WORK/$name.log" >&2
        die "$name is not running"
        ;;
    esac
    sleep 0.5
  done
  die "$name: HEALTHCHECK did not pass within 60 s"
}

# stop_timed NAME: docker/podman stop (SIGTERM, SIGKILL only after 10 s); must take
# at most STOP_LIMIT seconds and end with exit code 0.
stop_timed() {
  local name="$1" t0 took code
  t0="$(now)"
  # (podman's stderr complains about the systemd timers it cannot remove: noise)
  engine stop -t 10 "$name" >/dev/null 2>>"$WORK/stop.err" || { cat "$WORK/stop.err" >&2; die "cannot stop $name"; }
  took="$(since "$t0")"
  STOP_TIMES+=("${took}s")
  code="$(engine inspect -f '{{.State.ExitCode}}' "$name")"
  log "$name stopped in ${took}s, exit code $code"
  awk -v t="$took" -v l="$STOP_LIMIT" 'BEGIN { exit !(t <= l) }' || die "$name took ${took}s to stop (limit ${STOP_LIMIT}s)"
  [[ "$code" == 0 ]] || die "$name exited with $code after SIGTERM"
}

write_seed() {
  cat >"$WORK/seed.json" <<'JSON'
{
  "organizations": [{ "name": "initech" }],
  "users": [{ "email": "smoke@initech.test", "memberships": { "initech": "owner" } }],
  "api_keys": [{ "key": "sk-mock-smoke-owner", "user": "smoke@initech.test" }],
  "ai_secrets": [{ "org": "initech", "name": "SMOKE_API_KEY", "type": "openai", "secret": "sk-smoke-0123456789" }]
}
JSON
  chmod 644 "$WORK/seed.json"
}

# ---- the checks --------------------------------------------------------------------

lint() {
  # dockerfilelint's exit code is its number of findings. One known false positive
  # is let through, and only that one: it misreads HEALTHCHECK's --start-period
  # (its option regex, /--\w+/, stops at the hyphen and sees "--start"), which
  # Docker and podman accept; the start period keeps a slow first start from
  # counting as failed checks.
  local out
  out="$(npx --yes dockerfilelint@1.8.0 -j Dockerfile || true)"
  node -e '
    const r = JSON.parse(process.argv[1]);
    const issues = r.files.flatMap((f) => f.issues).filter((i) =>
      !(i.title === "Invalid Argument Format" && /^HEALTHCHECK .*--start-period=/.test(i.content)));
    for (const i of issues) console.error(`Dockerfile:${i.line}: ${i.category}: ${i.title}: ${i.content}`);
    process.exit(issues.length ? 1 : 0);
  ' "$out" || die "dockerfilelint found problems in the Dockerfile"
}

base_image() {
  if [[ "$ENGINE" == podman ]]; then
    bash scripts/container/make-base.sh
  fi
}

build() {
  local args=(build -t "$IMAGE" .)
  [[ "$ENGINE" == podman ]] && args=(build --format docker --pull=never -t "$IMAGE" .)
  engine "${args[@]}" >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; die "the image does not build"; }
  log "build log: $(grep -c 'Using cache\|CACHED' "$WORK/build.log" || true) cached steps"

  local hc user ports image_size base_size own
  hc="$(engine image inspect -f '{{json .Config.Healthcheck}}' "$IMAGE")"
  [[ "$hc" == *'/_mock/health'* && "$hc" == *'"node"'* ]] || die "the image has no node HEALTHCHECK on /_mock/health: $hc"
  user="$(engine image inspect -f '{{.Config.User}}' "$IMAGE")"
  [[ "$user" == node ]] || die "the image runs as '$user', not node"
  ports="$(engine image inspect -f '{{json .Config.ExposedPorts}}' "$IMAGE")"
  [[ "$ports" == *'8000/tcp'* ]] || die "the image does not EXPOSE 8000: $ports"

  image_size="$(engine image inspect -f '{{.Size}}' "$IMAGE")"
  base_size="$(engine image inspect -f '{{.Size}}' "$BASE_IMAGE")"
  own=$((image_size - base_size))
  IMAGE_REPORT="$(awk -v i="$image_size" -v b="$base_size" -v o="$own" -v l="$OWN_LAYERS_LIMIT" -v n="$IMAGE" \
    'BEGIN { printf "  image %s: %.1f MB = base %.1f MB + own layers %.1f MB (limit %.0f MB)", n, i/1e6, b/1e6, o/1e6, l/1e6 }')"
  log "${IMAGE_REPORT# }"
  engine history "$IMAGE" 2>/dev/null | head -12 >&2 || true
  ((own <= OWN_LAYERS_LIMIT)) || die "the project's layers add $own bytes (limit $OWN_LAYERS_LIMIT)"
}

run_default() {
  local c="$RUN_ID-default" port
  port="$(free_port)"
  start_mock "$c" "$port"
  wait_healthy "$c"
  expect_deleted "$port" "$DEMO_KEY" OPENAI_API_KEY
  expect_gone "$port" "$DEMO_KEY" OPENAI_API_KEY
  # Swagger UI still served after the image's node_modules were pruned.
  req GET "http://127.0.0.1:$port/docs/"
  [[ "$STATUS" == 200 ]] || die "GET /docs/: $STATUS"
  # PID 1 is the server itself, node, as uid 1000.
  local proc
  proc="$(engine exec "$c" sh -c 'awk "/^Uid:/ { print \$2 }" /proc/1/status; tr "\0" " " </proc/1/cmdline')"
  [[ "$(sed -n 1p <<<"$proc")" == 1000 ]] || die "PID 1 does not run as uid 1000: $proc"
  [[ "$(sed -n 2p <<<"$proc")" == "node dist/cli.mjs"* ]] || die "PID 1 is not node dist/cli.mjs: $proc"
  stop_timed "$c"
}

run_volume() {
  local v="$RUN_ID-data" port c1="$RUN_ID-vol1" c2="$RUN_ID-vol2"
  engine volume create "$v" >/dev/null
  VOLUMES+=("$v")
  port="$(free_port)"
  start_mock "$c1" "$port" -e DB_PATH=/data/mock.db -v "$v:/data"
  wait_healthy "$c1"
  expect_deleted "$port" "$DEMO_KEY" OPENAI_API_KEY
  stop_timed "$c1"
  start_mock "$c2" "$port" -e DB_PATH=/data/mock.db -v "$v:/data"
  wait_healthy "$c2"
  engine exec "$c2" test -s /data/mock.db || die "no /data/mock.db on the volume"
  # The deletion was kept (the seed was not applied again to the existing file)...
  expect_gone "$port" "$DEMO_KEY" OPENAI_API_KEY
  # ...and the rest of the data is still there.
  expect_deleted "$port" sk-mock-multi-org OPENAI_API_KEY globex
  stop_timed "$c2"
}

run_seed_file() {
  local c="$RUN_ID-seed" port
  port="$(free_port)"
  start_mock "$c" "$port" -v "$WORK/seed.json:/seed/smoke.json:ro" -e SEED_FILE=/seed/smoke.json
  wait_healthy "$c"
  expect_deleted "$port" sk-mock-smoke-owner SMOKE_API_KEY
  expect_gone "$port" sk-mock-smoke-owner SMOKE_API_KEY
  req DELETE "http://127.0.0.1:$port/v1/ai_secret" '{"name":"OPENAI_API_KEY"}' "$DEMO_KEY"
  [[ "$STATUS" == 401 ]] || die "the demo key still works with SEED_FILE set: $STATUS"
  stop_timed "$c"
}

# TLS=1: the HEALTHCHECK passes over HTTPS with the certificate made at start-up, which the
# host's curl trusts once copied out; TLS_CERT_FILE/TLS_KEY_FILE: a mounted certificate served.
run_tls() {
  local c="$RUN_ID-tls" c2="$RUN_ID-tls-own" port code
  port="$(free_port)"
  start_mock "$c" "$port" -e TLS=1
  wait_healthy "$c"
  engine exec "$c" sh -c 'cat "${TMPDIR:-/tmp}"/ai-secret-mock-*/tls-8000.pem' >"$WORK/tls.pem" ||
    die "no generated certificate at <tmpdir>/ai-secret-mock-<uid>/tls-8000.pem in the container"
  code="$(curl -sS --max-time 10 --cacert "$WORK/tls.pem" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/_mock/health")" ||
    die "curl --cacert (the generated certificate) https://127.0.0.1:$port fails"
  [[ "$code" == 200 ]] || die "GET /_mock/health over HTTPS: $code"
  stop_timed "$c"
  node --import tsx -e '
    import("./src/self-signed.ts").then(async ({ selfSignedCertificate }) => {
      const fs = require("fs"), p = await selfSignedCertificate()
      fs.writeFileSync(process.argv[1] + "/own.pem", p.cert, { mode: 0o644 })
      fs.writeFileSync(process.argv[1] + "/own-key.pem", p.key, { mode: 0o644 })
    })' "$WORK"
  port="$(free_port)"
  start_mock "$c2" "$port" -v "$WORK/own.pem:/certs/own.pem:ro" -v "$WORK/own-key.pem:/certs/own-key.pem:ro" \
    -e TLS_CERT_FILE=/certs/own.pem -e TLS_KEY_FILE=/certs/own-key.pem
  wait_healthy "$c2"
  code="$(curl -sS --max-time 10 --cacert "$WORK/own.pem" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/_mock/health")" ||
    die "curl --cacert (the mounted certificate) https://127.0.0.1:$port fails"
  [[ "$code" == 200 ]] || die "GET /_mock/health over HTTPS, mounted certificate: $code"
  stop_timed "$c2"
}

# ---- the README's own lines, through the docker CLI ----------------------------------

# Read from the blocks of README.md and docs/*.md marked <!-- doctest: container -->
# (test/support/doc-blocks.ts, which the doc test in npm test also uses: it fails on a line
# there that plays no role here, and on a role shown as two different commands).
readme_line() { node --import tsx test/support/doc-blocks.ts container-line "$1"; }
README_BUILD_RUN="$(readme_line build_run)"
README_RUN_VOLUME="$(readme_line run_volume)"
README_RUN_SEED="$(readme_line run_seed)"
compose_up="$(readme_line compose_up)"
compose_logs="$(readme_line compose_logs)"
compose_down="$(readme_line compose_down)"
README_COMPOSE=("$compose_up" "$compose_logs" "$compose_down")

docs_line() {
  grep -Fqx -- "$1" README.md docs/*.md || die "README.md and docs/*.md no longer show the line: $1"
}

# Podman's Docker-compatible API, for the docker CLI and docker-compose (NOTES.md, point 6).
docker_api() {
  if [[ "$ENGINE" == docker || -n "$SVC_PID" ]]; then return 0; fi
  (
    CONTAINERS_CONF="$(podman_conf)"
    export CONTAINERS_CONF
    exec podman --cgroup-manager=cgroupfs --runtime runc system service --time=0 "unix://$WORK/podman.sock"
  ) >"$WORK/podman-service.log" 2>&1 &
  SVC_PID=$!
  export DOCKER_HOST="unix://$WORK/podman.sock"
  for _ in $(seq 1 50); do
    docker version >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  cat "$WORK/podman-service.log" >&2
  die "podman's Docker-compatible API did not answer"
}

# readme_run LINE NAME PORT: run a documented `docker run` line as written (it publishes on
# 127.0.0.1:8000), but with the host port moved to a free one and a name to find it by. It stays
# in the foreground as documented, so it runs in the background here.
readme_run() {
  local line="$1" name="$2" port="$3" cmd
  cmd="${line//-p 127.0.0.1:8000:8000/-p 127.0.0.1:$port:8000}"
  cmd="${cmd/docker run /docker run --name $name }"
  cmd="${cmd//mockdata:/$RUN_ID-mockdata:}"
  log "\$ $cmd"
  CONTAINERS+=("$name")
  (cd "$WORK" && eval "$cmd") >"$WORK/$name.log" 2>&1 &
  RUN_PID=$!
  for _ in $(seq 1 50); do
    engine container inspect "$name" >/dev/null 2>&1 && break
    kill -0 "$RUN_PID" 2>/dev/null || { cat "$WORK/$name.log" >&2; die "$cmd: exited at once"; }
    sleep 0.2
  done
  wait_healthy "$name"
}

# readme_stop NAME: docker stop, then the foreground `docker run` must end with 0.
readme_stop() {
  stop_timed "$1"
  local rc=0
  wait "$RUN_PID" || rc=$?
  [[ "$rc" == 0 ]] || die "'docker run' for $1 ended with $rc"
}

readme_docker() {
  docs_line "$README_BUILD_RUN"
  docs_line "$README_RUN_VOLUME"
  docs_line "$README_RUN_SEED"
  docker_api
  local port
  port="$(free_port)"
  log "\$ ${README_BUILD_RUN%% && *}"
  eval "${README_BUILD_RUN%% && *}" >"$WORK/readme-build.log" 2>&1 ||
    { tail -40 "$WORK/readme-build.log" >&2; die "the README's docker build fails"; }

  readme_run "${README_BUILD_RUN#* && }" "$RUN_ID-readme" "$port"
  expect_deleted "$port" "$DEMO_KEY" OPENAI_API_KEY
  expect_gone "$port" "$DEMO_KEY" OPENAI_API_KEY
  readme_stop "$RUN_ID-readme"

  VOLUMES+=("$RUN_ID-mockdata")
  # A fresh host port for each run: the engine may not have released the last one yet.
  port="$(free_port)"
  readme_run "$README_RUN_VOLUME" "$RUN_ID-readme-vol1" "$port"
  expect_deleted "$port" "$DEMO_KEY" OPENAI_API_KEY
  readme_stop "$RUN_ID-readme-vol1"
  port="$(free_port)"
  readme_run "$README_RUN_VOLUME" "$RUN_ID-readme-vol2" "$port"
  expect_gone "$port" "$DEMO_KEY" OPENAI_API_KEY
  readme_stop "$RUN_ID-readme-vol2"

  port="$(free_port)"
  readme_run "$README_RUN_SEED" "$RUN_ID-readme-seed" "$port"
  expect_deleted "$port" sk-mock-smoke-owner SMOKE_API_KEY
  readme_stop "$RUN_ID-readme-seed"
}

# podman runs a container's HEALTHCHECK from systemd timers, which these machines lack: run
# it every $2 seconds for the containers labelled $1, so that waits for "healthy" end.
start_health_shim() {
  [[ "$ENGINE" == podman ]] || return 0
  (
    while :; do
      for id in $(p ps -q --filter "label=$1" 2>/dev/null); do
        p healthcheck run "$id" >/dev/null 2>&1 || true
      done
      sleep "$2"
    done
  ) &
  SHIM_PID=$!
}

stop_health_shim() {
  if [[ -n "$SHIM_PID" ]]; then kill "$SHIM_PID" 2>/dev/null; wait "$SHIM_PID" 2>/dev/null || true; fi
  SHIM_PID=""
}

# Compose v2 (`docker compose`) where it exists, else Compose v1 (`docker-compose`),
# as the README says.
COMPOSE_CMD=(docker-compose)
compose() { "${COMPOSE_CMD[@]}" "$@"; }

readme_compose() {
  local line port app code
  for line in "${README_COMPOSE[@]}"; do docs_line "$line"; done
  if docker compose version >/dev/null 2>&1; then COMPOSE_CMD=(docker compose); fi
  log "compose: ${COMPOSE_CMD[*]} ($("${COMPOSE_CMD[@]}" version --short 2>/dev/null || true))"
  port="$(free_port)"
  export MOCK_PORT="$port" COMPOSE_PROJECT_NAME="ai-secret-mock-smoke-$$"
  COMPOSE_PROJECT="$COMPOSE_PROJECT_NAME"
  # So that `condition: service_healthy` sees the mock become healthy.
  start_health_shim "com.docker.compose.project=$COMPOSE_PROJECT_NAME" 1
  log "\$ ${README_COMPOSE[0]}   (MOCK_PORT=$port)"
  timeout 180 "${COMPOSE_CMD[@]}" up -d >"$WORK/compose-up.log" 2>&1 || { cat "$WORK/compose-up.log" >&2; die "compose up -d failed"; }
  app="$(compose ps -a -q app)" # -a: the app may have exited already (Compose v2 lists running ones only)
  [[ -n "$app" ]] || die "compose started no app container"
  code="$(timeout 60 "${ENGINE_CMD[@]}" wait "$app")" || die "the app container did not finish"
  log "\$ ${README_COMPOSE[1]}"
  compose logs --no-color app >"$WORK/compose-app.log" 2>&1
  sed 's/^/    /' "$WORK/compose-app.log" >&2
  [[ "$code" == 0 ]] || die "the service under test exited with $code"
  grep -q 'DELETE /v1/ai_secret -> 200' "$WORK/compose-app.log" || die "the service under test did not get 200"
  # The app and the host see one mock: the secret the app deleted is gone for us too.
  expect_gone "$port" "$DEMO_KEY" OPENAI_API_KEY
  log "\$ ${README_COMPOSE[2]}"
  local t0
  t0="$(now)"
  compose down >"$WORK/compose-down.log" 2>&1 || { cat "$WORK/compose-down.log" >&2; die "compose down failed"; }
  log "compose down took $(since "$t0")s"
  COMPOSE_PROJECT=""
  [[ -z "$(engine ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")" ]] ||
    die "compose down left containers behind"
  stop_health_shim
}

# Opt-in: the README's Testcontainers example, against the same engine.
readme_testcontainers() {
  local dir="$CONTAINER_CACHE_DIR/testcontainers"
  if [[ ! -d "$dir/node_modules/testcontainers" ]]; then
    mkdir -p "$dir"
    (cd "$dir" && echo '{"private":true}' >package.json && npm install --no-audit --no-fund testcontainers@11) >"$WORK/tc-install.log" 2>&1 ||
      { tail -20 "$WORK/tc-install.log" >&2; die "cannot install testcontainers"; }
  fi
  cp scripts/container/testcontainers-check.mjs "$dir/"
  [[ "$ENGINE" == podman ]] && docker_api
  start_health_shim org.testcontainers=true 0.5
  # Ryuk (the reaper) is an image that cannot be pulled here; the check stops its container itself.
  local rc=0
  { TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 \
    timeout 180 node "$dir/testcontainers-check.mjs" "$repo" 2>&1 | sed 's/^/    /' >&2; } || rc=$?
  stop_health_shim
  ((rc == 0)) || die "the Testcontainers example failed ($rc)"
}

detect_engine
log "engine: $ENGINE"
ensure_tools
write_seed
timed "lint the Dockerfile (dockerfilelint)" lint
timed "stand-in base image (cached when present)" base_image
timed "build the image from the Dockerfile" build
timed "run: health, DELETE 200 then 400, uid 1000, stop" run_default
timed "volume DB_PATH: deletion kept across a restart" run_volume
timed "mounted SEED_FILE: its secret deleted" run_seed_file
timed "TLS=1 and TLS_CERT_FILE: HEALTHCHECK and curl over HTTPS" run_tls
timed "README: docker build / docker run lines" readme_docker
timed "README: docker compose up -d / logs / down" readme_compose
if [[ "${CONTAINER_SMOKE_TESTCONTAINERS:-}" == 1 ]]; then
  timed "README: Testcontainers example (opt-in)" readme_testcontainers
fi
