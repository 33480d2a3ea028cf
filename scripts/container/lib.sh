# Shared helpers of the container smoke test (sourced, not run).
#
# Two engines are supported: a real Docker engine when `docker info` answers, and
# otherwise podman with the settings this kind of machine needs (no Docker daemon,
# hybrid cgroups, no raising of RLIMIT_NOFILE): see engine().

CONTAINER_CACHE_DIR="${CONTAINER_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME:-/var/tmp}/.cache}/ai-secret-mock/container}"
BASE_IMAGE="docker.io/library/node:20-bookworm-slim"

log() { printf '[container-smoke %5ss] %s\n' "$SECONDS" "$*" >&2; }
die() { printf '[container-smoke] FAIL: %s\n' "$*" >&2; exit 1; }

# Which engine to drive: docker if a daemon answers, podman otherwise.
detect_engine() {
  if [[ -n "${CONTAINER_ENGINE:-}" ]]; then
    ENGINE="$CONTAINER_ENGINE"
  elif command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; then
    ENGINE=docker
  else
    ENGINE=podman
  fi
  export ENGINE
  set_engine_cmd
}

# Podman needs, on these machines: a containers.conf that does not try to raise
# ulimits (crun/runc: "setrlimit RLIMIT_NOFILE: Operation not permitted"),
# cgroupfs (cgroups are mounted in hybrid mode) and runc.
podman_conf() {
  local conf="$CONTAINER_CACHE_DIR/containers.conf"
  if [[ ! -f "$conf" ]]; then
    mkdir -p "$CONTAINER_CACHE_DIR"
    printf '[containers]\ndefault_ulimits = []\n' >"$conf"
  fi
  printf '%s' "$conf"
}

p() {
  CONTAINERS_CONF="$(podman_conf)" podman --cgroup-manager=cgroupfs --runtime runc "$@"
}

# engine ARGS...: the same command line for docker and podman. ENGINE_CMD is the
# same as an array, for `timeout` and other commands that cannot run a function.
engine() { "${ENGINE_CMD[@]}" "$@"; }
set_engine_cmd() {
  if [[ "$ENGINE" == docker ]]; then
    ENGINE_CMD=(docker)
  else
    ENGINE_CMD=(env "CONTAINERS_CONF=$(podman_conf)" podman --cgroup-manager=cgroupfs --runtime runc)
  fi
}

# A free TCP port on 127.0.0.1 (asked from the kernel; node is on the machine anyway).
free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# Install the packages we need, only those missing (Debian; we run as root in CI).
# With a real Docker engine only docker-compose (and curl) can be missing.
ensure_tools() {
  local missing=() pair cmd
  for pair in podman:podman buildah:buildah runc:runc debootstrap:debootstrap docker:docker.io \
    docker-compose:docker-compose curl:curl; do
    cmd="${pair%%:*}"
    if [[ "$ENGINE" == docker && "$cmd" != docker-compose && "$cmd" != curl ]]; then continue; fi
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${pair##*:}")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    local sudo=()
    ((EUID == 0)) || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}
