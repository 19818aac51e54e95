#!/usr/bin/env bash
# A DJ's go-live script: register the Icecast/Shoutcast mount, wait until the relay is live, print
# the listen URL, then show the status until Ctrl-C.
#   SOURCE=http://my.icecast:8000/ MOUNT=/live DJCAST_SOURCE_PASSWORD=… examples/dj-live.sh "Friday set"
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
djcast() { if type -P djcast >/dev/null; then command djcast "$@"; else node "$here/../packages/cli/bin/run.js" "$@"; fi; }

name="${1:-Friday set}"
source_url="${SOURCE:?set SOURCE to your Icecast or Shoutcast server, e.g. http://127.0.0.1:8000/}"
mount="${MOUNT:-/live}"

stream_json=$(djcast stream register --name "$name" --source "$source_url" --mount "$mount" \
  ${DJCAST_SOURCE_PASSWORD:+--source-username "${SOURCE_USERNAME:-source}"} --wait --timeout "${TIMEOUT:-120}" --json)
id=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).id)' "$stream_json")
url=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).playback_url)' "$stream_json")
echo "live: $url"
echo "play: ffplay $url"
djcast stream status "$id" --watch --count "${WATCH_COUNT:-1000000}"
