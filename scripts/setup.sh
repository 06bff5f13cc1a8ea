#!/usr/bin/env bash
# Installs everything dos needs on a fresh machine, then builds it:
#   - system packages where the platform has apt (libfuse2 + fuse3 for `dos mount`,
#     build tools for better-sqlite3's native addon),
#   - the exact npm dependencies from package-lock.json (npm ci),
#   - the TypeScript build (dist/).
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_packages=(libfuse2 fuse3 python3 make g++)
if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for pkg in "${need_packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "setup: installing ${missing[*]} with apt-get"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
else
  echo "setup: no apt-get here; install FUSE yourself for 'dos mount' (see native-notes/)"
fi

node -e 'const [major] = process.versions.node.split(".").map(Number); if (major < 20) { console.error(`dos needs Node.js >= 20, this is ${process.version}`); process.exit(1); }'
npm ci --no-audit --no-fund
npm run build
echo "setup: done. Try: npx dos --help"
