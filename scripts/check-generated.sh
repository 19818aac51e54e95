#!/usr/bin/env bash
# Regenerates openapi.yaml, the SDK types and the CLI reference, and fails
# when they differ from what is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/generate.mjs
paths=(openapi.yaml packages/sdk/src/generated packages/cli/README.md)
if [ -n "$(git status --porcelain -- "${paths[@]}")" ]; then
  git --no-pager diff --stat -- "${paths[@]}" >&2
  echo "Generated files are stale: run \`pnpm generate\` and commit the result." >&2
  exit 1
fi
echo "generated files are up to date" >&2
