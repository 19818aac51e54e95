#!/usr/bin/env bash
# pnpm test [vitest filters…]: builds (the CLI, relay and SDK tests run the built output), runs
# Vitest, and ends with one plain line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
pnpm build || exit $?
report=.vitest-results.json
rm -f "$report"
vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
status=$?
node scripts/test-summary.mjs "$report" || { [ "$status" -ne 0 ] || status=1; }
exit $status
