#!/usr/bin/env bash
# Sets up a fresh checkout: system packages (when run as root), pnpm,
# dependencies, and the build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=12.4.2
# Debian packages: a C toolchain for the executor; bubblewrap (fail-closed
# tests and the benchmark baseline); passt (pasta), nftables and libseccomp
# (network mode); dnsmasq, iproute2, dnsutils, socat, curl, git (the network
# test world); python3 and procps (tests); slirp4netns and hyperfine (benchmarks).
APT_PACKAGES=(build-essential make bubblewrap passt nftables libseccomp-dev dnsmasq-base iproute2
  dnsutils socat curl git python3 procps util-linux slirp4netns hyperfine ca-certificates)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) == 0 ]]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: install them as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

if ! command -v node >/dev/null || (( $(node -p 'process.versions.node.split(".")[0]') < 20 )); then
  echo "setup: Node.js 20 or newer is needed" >&2
  exit 1
fi
if [[ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]]; then
  if [[ $(id -u) == 0 ]]; then
    npm install -g "pnpm@$PNPM_VERSION" >/dev/null
  else
    echo "setup: pnpm $PNPM_VERSION is needed: npm install -g pnpm@$PNPM_VERSION (or corepack enable)" >&2
    exit 1
  fi
fi
export TURBO_TELEMETRY_DISABLED=1
pnpm install --frozen-lockfile
pnpm build
chmod 755 apps/cli/bin/mini-sandbox
echo "setup: done. Run: apps/cli/bin/mini-sandbox --help"
