#!/usr/bin/env bash
# Make a local stand-in for docker.io/library/node:20-bookworm-slim, for machines
# that reach no container registry (see shared/container/NOTES.md, point 3):
# a minimal Debian bookworm from debootstrap plus this machine's own Node 20, npm
# and Node headers, a `node` user with uid/gid 1000 as in the official image, and
# the machine's CA bundle (the registries are reached through a TLS proxy).
#
# Cached twice: the imported image (skipped when it exists) and the root-filesystem
# tarball in $CONTAINER_CACHE_DIR (re-imported without debootstrap when the image
# store was emptied). Podman only: with a real Docker engine the real image is pulled.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
source "$here/lib.sh"
ENGINE=podman

if p image exists "$BASE_IMAGE"; then
  log "base image $BASE_IMAGE present (cached)"
  exit 0
fi

node_version="$(node -v)"
[[ "$node_version" == v20.* ]] || die "this machine's node is $node_version; the stand-in needs Node 20"
tarball="$CONTAINER_CACHE_DIR/node-${node_version}-bookworm-slim-standin.tar"

if [[ ! -f "$tarball" ]]; then
  mirror="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1 || true)"
  [[ -n "$mirror" ]] || mirror="$(grep -hs '^deb .* bookworm ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}' | head -1 || true)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  work="$(mktemp -d /var/tmp/node-standin.XXXXXX)"
  trap 'rm -rf "$work"' EXIT
  root="$work/root"
  log "debootstrap bookworm (minbase) from $mirror"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }

  log "adding Node $node_version, npm $(npm -v), headers, CA bundle and the node user"
  node_bin="$(command -v node)"
  npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"   # .../node_modules/npm
  include_dir="$(dirname "$(dirname "$node_bin")")/include/node"
  install -D -m 0755 "$(readlink -f "$node_bin")" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules" "$root/usr/local/include"
  cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  cp -a "$include_dir" "$root/usr/local/include/node"
  install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  mkdir -p "$root/usr/local/etc"
  # nodedir: node-gyp cannot download headers here, so it uses the ones copied above.
  printf 'cafile=/etc/ssl/certs/ca-certificates.crt\nnodedir=/usr/local\nfund=false\naudit=false\nupdate-notifier=false\n' \
    >"$root/usr/local/etc/npmrc"
  echo 'node:x:1000:' >>"$root/etc/group"
  echo 'node:x:1000:1000::/home/node:/bin/bash' >>"$root/etc/passwd"
  echo 'node:*:19000:0:99999:7:::' >>"$root/etc/shadow"
  install -d -o 1000 -g 1000 "$root/home/node"
  rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*

  mkdir -p "$CONTAINER_CACHE_DIR"
  tar -C "$root" -cf "$tarball.partial" . && mv "$tarball.partial" "$tarball"
fi

log "importing $tarball as $BASE_IMAGE"
p import --quiet \
  --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV NODE_VERSION='"${node_version#v}" \
  --change 'CMD ["node"]' \
  "$tarball" "$BASE_IMAGE" >/dev/null
log "base image ready: $(p image inspect --format '{{.Size}}' "$BASE_IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"
