#!/usr/bin/env bash
# Runs every test. As root it also prepares what the tests need: an
# unprivileged test user (the sandbox is tested as that user and as root),
# /dev/net/tun usable by that user (0666, as on common distributions; this
# machine ships 0600), and a checkout that user can read.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

if [[ $(id -u) == 0 ]]; then
  user=${MS_TEST_USER:-mstest}
  id "$user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$user"
  [[ -e /dev/net/tun ]] && chmod 0666 /dev/net/tun
  # The test user must reach the checkout (it runs the CLI from it).
  dir=$PWD
  while [[ "$dir" != / ]]; do
    if ! runuser -u "$user" -- test -x "$dir"; then
      echo "test: granting o+x on $dir so $user can reach the checkout"
      chmod o+x "$dir"
    fi
    dir=$(dirname "$dir")
  done
fi
export TURBO_TELEMETRY_DISABLED=1
# The executor again with AddressSanitizer and UBSan, for its own test file.
make -s -C packages/namespaces/native asan
pnpm lint
pnpm typecheck
# Unit tests first, then the end-to-end files alone: they compare the host's
# /tmp, mounts and processes before and after each run.
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
status=0
pnpm exec vitest run --project '!e2e' --reporter=default --reporter=json --outputFile="$results/unit.json" || status=1
pnpm exec vitest run --project e2e --reporter=default --reporter=json --outputFile="$results/e2e.json" || status=1
node -e '
let passed = 0, failed = 0, skipped = 0;
for (const f of process.argv.slice(1)) {
  try {
    const r = JSON.parse(require("node:fs").readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
  } catch { failed++; }
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$results/unit.json" "$results/e2e.json"
exit $status
