#!/usr/bin/env bash
# A CI pipeline publishing a podcast episode: find the podcast by title (created on the first
# run), upload the MP3 and wait for processing, publish the episode, then check the feed the
# way podcast apps read it. Prints the episode id and the feed URL.
#
#   DJCAST_API_URL=https://api.djcast.example DJCAST_TOKEN=djc_… examples/ci-publish-episode.sh ep.mp3 "Episode 12" "Warehouse Sessions"
#
# The token needs uploads:write, podcasts:read and podcasts:write
# (djcast token create --name ci --scope uploads:write --scope podcasts:read --scope podcasts:write).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
djcast() { if type -P djcast >/dev/null; then command djcast "$@"; else node "$here/../packages/cli/bin/run.js" "$@"; fi; }
field() { node -e 'const v = JSON.parse(process.argv[1]); process.stdout.write(String(process.argv[2].split(".").reduce((o, k) => o?.[k], v) ?? ""))' "$1" "$2"; }

file="${1:?usage: ci-publish-episode.sh <episode.mp3> <episode title> [podcast title]}"
episode_title="${2:?usage: ci-publish-episode.sh <episode.mp3> <episode title> [podcast title]}"
podcast_title="${3:-My podcast}"

podcasts=$(djcast podcast list --limit 100 --json)
podcast_id=$(node -e 'const p = JSON.parse(process.argv[1]).find((x) => x.title === process.argv[2]); process.stdout.write(p ? p.id : "")' "$podcasts" "$podcast_title")
if [ -z "$podcast_id" ]; then
  podcast=$(djcast podcast create --title "$podcast_title" --description "Published from CI" --author "${PODCAST_AUTHOR:-CI}" \
    --category Music --json)
  podcast_id=$(field "$podcast" id)
  echo "created podcast $podcast_id" >&2
fi

episode=$(djcast episode add --podcast "$podcast_id" --file "$file" --title "$episode_title" --timeout "${TIMEOUT:-900}" --json)
echo "Episode: $(field "$episode" id) ($(field "$episode" enclosure.length) bytes, guid $(field "$episode" guid))"
echo "Feed: $(field "$episode" feed_url)"
djcast feed validate "$podcast_id" >&2
