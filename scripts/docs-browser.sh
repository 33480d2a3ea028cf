#!/usr/bin/env bash
# The real-browser test of /docs (scripts/docs-browser.ts), as `.ci/run` calls it:
#   bash scripts/docs-browser.sh
# Installs Debian's chromium first when it is missing (through apt, as the container smoke
# test installs podman; root or sudo), builds dist/ when it is missing, then runs the test.
# Screenshots go to DOCS_BROWSER_SCREENSHOTS (default artifacts/docs-browser/), listed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM_PATH" ]]; then
  echo "[docs-browser] installing chromium (Debian's package)" >&2
  sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq chromium >/dev/null
fi
export CHROMIUM_PATH
"$CHROMIUM_PATH" --version

[[ -f dist/cli.mjs ]] || npm run build
exec node --import tsx scripts/docs-browser.ts
