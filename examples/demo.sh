#!/usr/bin/env bash
# pnpm demo: a throwaway server on its own data dir and port, a demo DJ, a generated set uploaded
# and transcoded, a playlist over it, and the URLs to play. Ctrl-C stops it and removes everything.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
command -v ffmpeg >/dev/null || { echo "demo: ffmpeg is needed to make the demo set (apt-get install ffmpeg)" >&2; exit 1; }

port="${DEMO_PORT:-8799}"
data="$(mktemp -d -t djcast-demo-XXXXXX)"
export DJCAST_API_URL="http://127.0.0.1:$port" DJCAST_CONFIG_DIR="$data/cli"
djcast() { node "$root/packages/cli/bin/run.js" "$@"; }
field() { node -e 'process.stdout.write(String(JSON.parse(process.argv[1])[process.argv[2]] ?? ""))' "$1" "$2"; }

DJCAST_PORT="$port" DJCAST_DATA_DIR="$data/server" DJCAST_PUBLIC_URL="$DJCAST_API_URL" DJCAST_LOG_LEVEL=warn \
  node "$root/packages/server/dist/main.js" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 50); do curl -fs "$DJCAST_API_URL/readyz" >/dev/null 2>&1 && break; sleep 0.2; done

password='demo-Turntable-42!'
djcast register --email demo@djcast.local --password "$password" >/dev/null 2>&1
djcast login --email demo@djcast.local --password "$password" >/dev/null 2>&1
ffmpeg -hide_banner -loglevel error -f lavfi -i "sine=frequency=330:duration=20" -f lavfi -i "sine=frequency=495:duration=20" \
  -filter_complex amerge=inputs=2 -ac 2 -b:a 128k "$data/demo-set.mp3"

upload=$(djcast upload "$data/demo-set.mp3" --title "Demo set" --wait --json)
playlist=$(djcast playlist create --title "Demo playlist" --upload "$(field "$upload" id)" --json)
cat <<TXT

djcast demo is running on $DJCAST_API_URL (API reference: $DJCAST_API_URL/docs)
  playlist (HLS):  $(field "$playlist" stream_m3u8_url)
  playlist (MP3):  $(field "$playlist" stream_mp3_url)
  try:             ffplay $(field "$playlist" stream_mp3_url)
  CLI:             DJCAST_API_URL=$DJCAST_API_URL DJCAST_CONFIG_DIR=$DJCAST_CONFIG_DIR pnpm djcast whoami
Ctrl-C stops the server and removes its data.
TXT
wait $server
