#!/usr/bin/env bash
# A CI pipeline publishing a new set: upload the MP3, wait for it to be scanned and transcoded,
# append it to a playlist (created on the first run), and print the listen URLs.
#
#   DJCAST_API_URL=https://api.djcast.example DJCAST_TOKEN=djc_… examples/ci-publish.sh set.mp3 "Latest sets"
#
# The token needs uploads:write, playlists:read and playlists:write
# (djcast token create --name ci --scope uploads:write --scope playlists:read --scope playlists:write).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
djcast() { if type -P djcast >/dev/null; then command djcast "$@"; else node "$here/../packages/cli/bin/run.js" "$@"; fi; }
field() { node -e 'const v = JSON.parse(process.argv[1]); process.stdout.write(String(process.argv[2].split(".").reduce((o, k) => o?.[k], v) ?? ""))' "$1" "$2"; }

file="${1:?usage: ci-publish.sh <set.mp3> [playlist title]}"
title="${2:-Latest sets}"

upload=$(djcast upload "$file" --wait --timeout "${TIMEOUT:-900}" --json)
upload_id=$(field "$upload" id)
echo "uploaded $file as $upload_id ($(field "$upload" duration_seconds) s)" >&2

playlists=$(djcast playlist list --limit 100 --json)
playlist_id=$(node -e 'const p = JSON.parse(process.argv[1]).find((x) => x.title === process.argv[2]); process.stdout.write(p ? p.id : "")' "$playlists" "$title")
if [ -z "$playlist_id" ]; then
  playlist=$(djcast playlist create --title "$title" --upload "$upload_id" --json)
else
  playlist=$(djcast playlist add "$playlist_id" --upload "$upload_id" --json)
fi
echo "HLS: $(field "$playlist" stream_m3u8_url)"
echo "MP3: $(field "$playlist" stream_mp3_url)"
