#!/usr/bin/env bash
# pnpm demo: the whole platform the way a DJ uses it, with the CLI only (`--json` parsed with jq).
# It starts a throwaway server on a free port and its own data dir (SQLite, or Postgres when
# DJCAST_DATABASE_URL=postgres://… is set), a local Icecast fed by a tone encoder whose track title
# changes, and (when installed) PowerDNS and Pebble for a custom domain; then it runs the tour:
#   1. a DJ registers, creates a CI token and goes on with DJCAST_TOKEN only
#   2. uploads a generated MP3, builds a playlist with a mid-roll ad, plays its MP3 and HLS
#   3. creates a podcast and publishes an episode with the CI pipeline example; validates the feed
#   4. registers the live stream archived to the podcast, plays it, triggers an ad break, stops the
#      source and publishes the archived set as an episode with chapters
#   5. creates a plan; a listener subscribes in local test mode; the paywall opens on the
#      subscribers-only playlist and on the podcast's personal feed
#   6. adds a custom domain against the local PowerDNS and Pebble (skipped, visibly, without them)
#   7. prints the analytics of the stream, the playlist and the podcast, and the listener pages
#   8. ends with a table of every URL a listener would open and the status each answers
# Every child process is stopped and every file removed on exit. Any failing step exits non-zero.
#   DEMO_KEEP=1   keep the server running at the end until Ctrl-C
#   DEMO_DOMAINS=0  skip step 6 even when PowerDNS and Pebble are installed
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
started=$SECONDS

for tool in ffmpeg icecast2 jq curl openssl; do
  command -v "$tool" >/dev/null || {
    echo "demo: $tool is needed (scripts/install-system-deps.sh installs it)" >&2
    exit 1
  }
done

work="$(mktemp -d -t djcast-demo-XXXXXX)"
chmod 755 "$work" # Icecast drops root for its own user and must read its config here
pids=()
cleanup() {
  local status=$?
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ] && [ -f "$work/server.log" ]; then
    echo "demo: failed (exit $status); the server's last log lines:" >&2
    tail -n 15 "$work/server.log" >&2 || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
fail() {
  echo "demo: FAILED: $*" >&2
  exit 1
}
free_port() { node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
# Waits until a command succeeds: wait_until <seconds> <what> <command…>
wait_until() {
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "timed out waiting for $what"
    sleep 0.5
  done
}
status_of() { curl -s -o /dev/null -w '%{http_code}' "$@" || true; }

# This checkout's CLI, also for the examples the demo runs (they call `djcast` from PATH).
mkdir -p "$work/bin"
printf '#!/bin/sh\nexec node "%s/packages/cli/bin/run.js" "$@"\n' "$root" >"$work/bin/djcast"
chmod +x "$work/bin/djcast"
export PATH="$work/bin:$PATH"
djcast() { node "$root/packages/cli/bin/run.js" "$@"; }
# The listener's own CLI session: their config dir, never the DJ's token.
listener() { env -u DJCAST_TOKEN DJCAST_CONFIG_DIR="$work/listener-cli" node "$root/packages/cli/bin/run.js" "$@"; }

# Plays an HLS URL the way a player starts: the playlist (and a variant), then its first segment.
play_hls() {
  local url=$1 auth=${2:-} body next depth
  for depth in 1 2 3; do
    body=$(curl -fsS ${auth:+-H "Authorization: Bearer $auth"} "$url") || return 1
    next=$(printf '%s\n' "$body" | grep -v '^#' | grep -v '^$' | head -n 1)
    [ -n "$next" ] || return 1
    case "$next" in
      http*) ;;
      /*) next="$(printf '%s' "$url" | grep -oE '^https?://[^/]+')$next" ;;
      *) next="${url%/*}/$next" ;;
    esac
    url=$next
    case "$next" in *.m3u8* | *m3u8\?*) continue ;; esac
    local bytes
    bytes=$(curl -fsS ${auth:+-H "Authorization: Bearer $auth"} "$url" | wc -c) || return 1
    [ "$bytes" -gt 0 ] && echo "$bytes" && return 0
    return 1
  done
  return 1
}
# Reads the first bytes of a continuous MP3 stream; prints how many arrived.
play_mp3() {
  local url=$1 auth=${2:-}
  { curl -sN --max-time 20 ${auth:+-H "Authorization: Bearer $auth"} "$url" || true; } | head -c 65536 | wc -c
}

# ---------------------------------------------------------------------------
# The platform: server, Icecast, tone encoder, and PowerDNS + Pebble when installed
# ---------------------------------------------------------------------------
step "0. Starting the platform"
port=$(free_port)
https_port=$(free_port)
api="http://127.0.0.1:$port"
export DJCAST_API_URL="$api" DJCAST_CONFIG_DIR="$work/dj-cli"

domains=no
domains_why=""
if [ "${DEMO_DOMAINS:-1}" = 0 ]; then
  domains_why="DEMO_DOMAINS=0"
elif ! command -v pebble >/dev/null || ! [ -x /usr/sbin/pdns_server ] || ! command -v sqlite3 >/dev/null ||
  ! [ -f /usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql ]; then
  domains_why="PowerDNS (pdns-server pdns-backend-sqlite3 sqlite3) and Pebble (pebble) are not installed; scripts/install-system-deps.sh installs them"
else
  domains=yes
fi

server_env=()
if [ "$domains" = yes ]; then
  mkdir -p "$work/pdns" "$work/pebble"
  sqlite3 "$work/pdns/pdns.db" </usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql
  touch "$work/pdns/pdns.conf"
  dns_port=$(free_port) pdns_api_port=$(free_port) pdns_key="demo-$RANDOM$RANDOM"
  /usr/sbin/pdns_server --config-dir="$work/pdns" --daemon=no --guardian=no --disable-syslog --socket-dir="$work/pdns" \
    --local-address=127.0.0.1 --local-port="$dns_port" --launch=gsqlite3 --gsqlite3-database="$work/pdns/pdns.db" \
    --api=yes --api-key="$pdns_key" --webserver=yes --webserver-address=127.0.0.1 --webserver-port="$pdns_api_port" \
    --webserver-allow-from=127.0.0.0/8 --cache-ttl=0 --negquery-cache-ttl=0 --query-cache-ttl=0 \
    --zone-cache-refresh-interval=0 >"$work/pdns.log" 2>&1 &
  pids+=($!)
  pdns="http://127.0.0.1:$pdns_api_port/api/v1/servers/localhost"
  pdns_call() { curl -fsS -X "$1" -H "X-API-Key: $pdns_key" -H 'content-type: application/json' "$pdns$2" ${3:+-d "$3"}; }
  wait_until 30 "PowerDNS" pdns_call GET /zones
  # The DJ's zone (their DNS provider, here PowerDNS) and the platform's edge name, pointing at this machine.
  for zone in djname.com djcast-demo.test; do
    pdns_call POST /zones "{\"name\":\"$zone.\",\"kind\":\"Native\",\"nameservers\":[\"ns1.$zone.\"]}" >/dev/null
  done
  pdns_call PATCH /zones/djcast-demo.test. \
    '{"rrsets":[{"name":"edge.djcast-demo.test.","type":"A","ttl":60,"changetype":"REPLACE","records":[{"content":"127.0.0.1","disabled":false}]}]}'

  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/pebble/key.pem" -out "$work/pebble/cert.pem" -days 2 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1
  pebble_port=$(free_port) pebble_mgmt=$(free_port) pebble_tls=$(free_port)
  cat >"$work/pebble/pebble.json" <<JSON
{"pebble":{"listenAddress":"127.0.0.1:$pebble_port","managementListenAddress":"127.0.0.1:$pebble_mgmt",
 "certificate":"$work/pebble/cert.pem","privateKey":"$work/pebble/key.pem","httpPort":$port,"tlsPort":$pebble_tls,
 "ocspResponderURL":"","externalAccountBindingRequired":false}}
JSON
  PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 pebble -config "$work/pebble/pebble.json" -dnsserver "127.0.0.1:$dns_port" \
    >"$work/pebble.log" 2>&1 &
  pids+=($!)
  wait_until 60 "Pebble" curl -fsS --cacert "$work/pebble/cert.pem" "https://127.0.0.1:$pebble_port/dir"
  server_env+=(
    DJCAST_DNS_RESOLVERS="127.0.0.1:$dns_port" DJCAST_DOMAIN_CNAME_TARGET=edge.djcast-demo.test
    DJCAST_DNS_PROVIDER=powerdns DJCAST_POWERDNS_API_URL="http://127.0.0.1:$pdns_api_port" DJCAST_POWERDNS_API_KEY="$pdns_key"
    DJCAST_ACME_DIRECTORY_URL="https://127.0.0.1:$pebble_port/dir" DJCAST_ACME_CA_FILE="$work/pebble/cert.pem"
    DJCAST_ACME_EMAIL=ops@djcast-demo.test DJCAST_HTTPS_PORT="$https_port"
  )
  say "PowerDNS on 127.0.0.1:$dns_port, Pebble on 127.0.0.1:$pebble_port"
fi

# The server: embedded defaults (SQLite in its data dir) unless DJCAST_DATABASE_URL says Postgres.
# Loopback sources are allowed because the Icecast below is on this machine.
env DJCAST_HOST=127.0.0.1 DJCAST_PORT="$port" DJCAST_DATA_DIR="$work/server" DJCAST_PUBLIC_URL="$api" \
  DJCAST_ALLOW_PRIVATE_URLS=true DJCAST_LOG_LEVEL="${DJCAST_LOG_LEVEL:-info}" \
  DJCAST_RELAY_HEARTBEAT_INTERVAL_SECONDS=1 DJCAST_ANALYTICS_FLUSH_SECONDS=1 DJCAST_ANALYTICS_FOLD_INTERVAL_SECONDS=10 \
  ${server_env[@]+"${server_env[@]}"} node "$root/packages/server/bin/djcast-server.js" >"$work/server.log" 2>&1 &
pids+=($!)
wait_until 60 "the server on $api" curl -fsS "$api/readyz"
say "server:  $api ($(curl -fsS "$api/healthz" | jq -r '.backends.database // .database // "database"' 2>/dev/null))"

# A local Icecast (as root it switches to its own user, see recipes) and a DJ's encoder.
ice_port=$(free_port)
ice_admin="admin-$RANDOM$RANDOM"
ice_source="source-$RANDOM$RANDOM"
mkdir -p "$work/icecast"
owner=""
if [ "$(id -u)" -eq 0 ]; then
  owner="<changeowner><user>icecast2</user><group>$(id -gn icecast2)</group></changeowner>"
  chown icecast2 "$work/icecast"
fi
cat >"$work/icecast/icecast.xml" <<XML
<icecast>
  <location>djcast demo</location><admin>demo@localhost</admin>
  <limits><clients>100</clients><sources>4</sources><source-timeout>5</source-timeout><burst-on-connect>1</burst-on-connect></limits>
  <authentication><source-password>$ice_source</source-password><admin-user>admin</admin-user><admin-password>$ice_admin</admin-password></authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>$ice_port</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <paths><basedir>/usr/share/icecast2</basedir><logdir>$work/icecast</logdir><webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot><pidfile>$work/icecast/icecast.pid</pidfile></paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>2</loglevel></logging>
  <security><chroot>0</chroot>$owner</security>
</icecast>
XML
chmod 644 "$work/icecast/icecast.xml"
icecast2 -c "$work/icecast/icecast.xml" >"$work/icecast.log" 2>&1 &
pids+=($!)
ice="http://127.0.0.1:$ice_port"
wait_until 20 "Icecast on $ice" sh -c "curl -fsS '$ice/status-json.xsl' | jq -e '.icestats.server_id' >/dev/null"
mount_live() { curl -fsS "$ice/status-json.xsl" | jq -e '[.icestats.source] | flatten | map(select(.listenurl != null and (.listenurl | endswith("/live")))) | length > 0'; }
set_title() {
  curl -fsS -u "admin:$ice_admin" --get --data-urlencode mount=/live --data-urlencode mode=updinfo \
    --data-urlencode "song=$1" --data-urlencode charset=UTF-8 "$ice/admin/metadata" | grep -q '<return>1</return>'
}
# The encoder: a tone whose pitch steps up every 12 s, as the DJ changes tracks.
ffmpeg -hide_banner -nostdin -loglevel error -re -f lavfi \
  -i "aevalsrc='0.4*sin(2*PI*(440+220*floor(t/12))*t)':s=44100" -ac 2 -c:a libmp3lame -b:a 128k \
  -content_type audio/mpeg -f mp3 "icecast://source:$ice_source@127.0.0.1:$ice_port/live" >"$work/encoder.log" 2>&1 &
encoder=$!
pids+=($encoder)
wait_until 20 "the encoder's mount on Icecast" mount_live
set_title "Track One"
say "Icecast: $ice/live (tone encoder, title \"Track One\")"

# ---------------------------------------------------------------------------
step "1. A DJ registers, creates a CI token and goes on with DJCAST_TOKEN only"
dj_email="dj-$RANDOM$RANDOM@djcast-demo.test"
password="demo-Turntable-42!"
DJCAST_PASSWORD="$password" djcast register --email "$dj_email" --display-name "DJ Demo" --json >/dev/null
say "registered $dj_email"
DJCAST_PASSWORD="$password" djcast login --email "$dj_email" --json >/dev/null
ci_token=$(djcast token create --name demo-ci --json \
  --scope streams:read,streams:write,uploads:write,playlists:read,playlists:write,podcasts:read,podcasts:write \
  --scope domains:write,monetization:write,analytics:read,subscriptions:read | jq -r .token)
[[ "$ci_token" == djc_* ]] || fail "token create printed no djc_ token"
djcast logout >/dev/null 2>&1
export DJCAST_TOKEN="$ci_token"
dj_id=$(djcast whoami --json | jq -r .id)
say "logged out; from here on the CLI acts with DJCAST_TOKEN=djc_… as $dj_id"

# ---------------------------------------------------------------------------
step "2. Upload a generated MP3, build a playlist with a mid-roll ad, play its MP3 and HLS"
ffmpeg -hide_banner -nostdin -loglevel error -f lavfi -i "sine=frequency=330:duration=40" -f lavfi -i "sine=frequency=495:duration=40" \
  -filter_complex amerge=inputs=2 -ac 2 -b:a 128k "$work/demo-set.mp3"
ffmpeg -hide_banner -nostdin -loglevel error -f lavfi -i "sine=frequency=1000:duration=5" -ac 2 -b:a 128k "$work/ad-spot.mp3"
# Without --json, upload shows its byte and transcode progress bars (on a terminal, on stderr).
djcast upload "$work/demo-set.mp3" --title "Demo set" --wait >/dev/null
set_id=$(djcast upload list --json | jq -r '[.[] | select(.title == "Demo set" and .status == "ready")][0].id // empty')
[ -n "$set_id" ] || fail "the upload did not become ready"
ad_id=$(djcast upload "$work/ad-spot.mp3" --title "Coffee spot" --wait --json | jq -r 'select(.status == "ready") | .id')
[ -n "$ad_id" ] || fail "the ad upload did not become ready"
say "uploaded $set_id (the set) and $ad_id (a 5 s spot)"
playlist=$(djcast playlist create --title "Demo playlist" --upload "$set_id" --json)
playlist_id=$(jq -r .id <<<"$playlist")
marker_id=$(djcast ads add --playlist "$playlist_id" --at 0:20 --duration 5 --source "$ad_id" --kind mid-roll --json | jq -r .id)
ad_ready() { djcast ads list --playlist "$playlist_id" --json | jq -e --arg id "$marker_id" '.[] | select(.id == $id and .status == "ready")'; }
wait_until 120 "the mid-roll to be normalized" ad_ready
say "mid-roll $marker_id at 0:20 is ready"
playlist=$(djcast playlist get "$playlist_id" --json)
playlist_mp3=$(jq -r .stream_mp3_url <<<"$playlist")
playlist_hls=$(jq -r .stream_m3u8_url <<<"$playlist")
playlist_page=$(jq -r .page_url <<<"$playlist")
bytes=$(play_mp3 "$playlist_mp3")
[ "$bytes" -gt 0 ] || fail "the playlist's MP3 stream sent nothing"
say "MP3: $playlist_mp3 ($bytes bytes read)"
bytes=$(play_hls "$playlist_hls") || fail "the playlist's HLS did not play"
say "HLS: $playlist_hls (first segment $bytes bytes)"

# ---------------------------------------------------------------------------
step "3. A podcast, an episode published by the CI pipeline example, the feed validated"
podcast=$(djcast podcast create --title "Demo Sessions" --description "Sets from the djcast demo" --author "DJ Demo" \
  --category Music --json)
podcast_id=$(jq -r .id <<<"$podcast")
podcast_feed=$(jq -r .feed_url <<<"$podcast")
podcast_page=$(jq -r .page_url <<<"$podcast")
ffmpeg -hide_banner -nostdin -loglevel error -f lavfi -i "sine=frequency=523:duration=8" -ac 2 -b:a 128k "$work/episode-1.mp3"
bash "$root/examples/ci-publish-episode.sh" "$work/episode-1.mp3" "Episode 1: the warm-up" "Demo Sessions" | sed 's/^/   /'
djcast feed validate "$podcast_id" --json | jq -e '.errors | length == 0' >/dev/null || fail "the feed has errors"
say "feed valid: $podcast_feed"

# ---------------------------------------------------------------------------
step "4. The live stream, archived to the podcast: play it, an ad break, stop, publish the set"
stream=$(djcast stream register --name "Friday set" --source "$ice/" --mount /live \
  --archive-to-podcast "$podcast_id" --wait --timeout 120 --json)
stream_id=$(jq -r .id <<<"$stream")
stream_live=$(jq -r .playback_url <<<"$stream")
stream_page=$(jq -r .page_url <<<"$stream")
say "live: $stream_id at $stream_live"
bytes=$(play_hls "$stream_live") || fail "the live HLS did not play"
live_status=$(status_of "$stream_live")
say "played the live HLS (first segment $bytes bytes, playlist $live_status)"
set_title "Track Two"
break_id=$(djcast ads break "$stream_id" --source "$ad_id" --duration 5 --json | jq -r .id)
[[ "$break_id" == brk_* ]] || fail "the ad break did not start"
# The relay learns the break from its next heartbeat, plays the spot in place of the source and
# marks it in the live playlist; wait until a player would see it.
marked=""
for _ in $(seq 1 90); do
  if curl -fsS "$stream_live" | grep -q "EXT-X-DATERANGE:ID=\"$break_id\""; then marked=yes; break; fi
  sleep 1
done
[ -n "$marked" ] || fail "the live playlist never marked the ad break $break_id"
say "ad break: $break_id played and marked in the live playlist (EXT-X-DATERANGE)"
sleep 12 # the DJ plays Track Two
set_title "Track Three"
sleep 12 # ... and Track Three
djcast stream status "$stream_id" --json | jq -r '"   status: \(.state // .status) now playing \"\(.now_playing.title // .current_track // "?")\""' || true
kill "$encoder"
wait "$encoder" 2>/dev/null || true
say "the encoder stopped"
episode_id=$(djcast stream archive "$stream_id" --wait --timeout 240 --json | jq -r .episode_id)
[[ "$episode_id" == epi_* ]] || fail "the archive made no episode"
episode=$(djcast episode publish "$episode_id" --json)
chapters=$(jq -r '[.chapters[]?.title] | join(", ")' <<<"$episode")
[ "$(jq '.chapters | length' <<<"$episode")" -ge 2 ] || fail "the archived episode has fewer than two chapters: $chapters"
say "episode $episode_id published, $(jq -r .duration_seconds <<<"$episode") s, chapters: $chapters"

# ---------------------------------------------------------------------------
step "5. A plan; a listener subscribes (local test mode) and the paywall opens"
members=$(djcast playlist create --title "Members only" --upload "$set_id" --monetization --json)
members_id=$(jq -r .id <<<"$members")
members_hls=$(jq -r .stream_m3u8_url <<<"$members")
djcast podcast update "$podcast_id" --monetization --json >/dev/null
plan=$(djcast plan create --name Gold --price 4.99 --currency usd --interval month --feature ad-free --json)
plan_id=$(jq -r .id <<<"$plan")
say "plan $plan_id ($(jq -r '"\(.price_cents) \(.currency) per \(.billing_interval), provider \(.provider)"' <<<"$plan"))"
listener_email="listener-$RANDOM$RANDOM@djcast-demo.test"
DJCAST_PASSWORD="$password" listener register --email "$listener_email" --role listener --json >/dev/null
DJCAST_PASSWORD="$password" listener login --email "$listener_email" --json >/dev/null
listener_id=$(listener whoami --json | jq -r .id)
listener_token=$(listener token create --name player --scope subscriptions:read --json | jq -r .token)
personal_feed=$(djcast podcast feed-url "$podcast_id" --listener "$listener_id" --json | jq -r .feed_url)
before_playlist=$(status_of -H "Authorization: Bearer $listener_token" "$members_hls")
before_feed=$(status_of "$personal_feed")
[ "$before_playlist" = 403 ] && [ "$before_feed" = 403 ] ||
  fail "before subscribing the paywall answered $before_playlist (playlist) and $before_feed (personal feed), not 403"
say "before subscribing: playlist $before_playlist, personal feed $before_feed"
subscription=$(listener subscription create --plan "$plan_id" --json)
say "subscribed: $(jq -r '"\(.id) \(.status) (\(.provider))"' <<<"$subscription")"
after_playlist=$(status_of -H "Authorization: Bearer $listener_token" "$members_hls")
after_feed=$(status_of "$personal_feed")
[ "$after_playlist" = 200 ] && [ "$after_feed" = 200 ] ||
  fail "after subscribing the paywall answered $after_playlist (playlist) and $after_feed (personal feed), not 200"
play_hls "$members_hls" "$listener_token" >/dev/null || fail "the subscriber could not play the members-only playlist"
enclosure=$(curl -fsS "$personal_feed" | grep -oE '<enclosure url="[^"]+/episodes/[^"]+"' | head -n 1 |
  sed -E 's/<enclosure url="([^"]+)"/\1/; s/&amp;/\&/g')
[ -n "$enclosure" ] || fail "the personal feed lists no enclosure"
say "paywall open: playlist $after_playlist, personal feed $after_feed (PAYWALL OPEN)"

# ---------------------------------------------------------------------------
step "6. A custom domain: DNS in PowerDNS, the certificate from Pebble"
domain_feed=""
if [ "$domains" = yes ]; then
  domain=$(djcast domain add podcast.djname.com --podcast "$podcast_id" --json)
  txt_name=$(jq -r '.records[] | select(.type == "TXT") | .name' <<<"$domain")
  txt_value=$(jq -r '.records[] | select(.type == "TXT") | .value' <<<"$domain")
  say "add the TXT record $txt_name = $txt_value (done here in the DJ's PowerDNS zone)"
  pdns_call PATCH /zones/djname.com. \
    "{\"rrsets\":[{\"name\":\"${txt_name%.}.\",\"type\":\"TXT\",\"ttl\":60,\"changetype\":\"REPLACE\",\"records\":[{\"content\":\"\\\"$txt_value\\\"\",\"disabled\":false}]}]}"
  djcast domain verify podcast.djname.com --wait --timeout 3m --json | jq -r '"   domain \(.hostname): \(.state)"'
  curl -fsS --cacert "$work/pebble/cert.pem" "https://127.0.0.1:$pebble_mgmt/roots/0" >"$work/pebble/root.pem"
  domain_feed="https://podcast.djname.com:$https_port/rss.xml"
  say "feed over HTTPS at $domain_feed (certificate from Pebble)"
else
  say "skipped: custom domain ($domains_why)"
fi

# ---------------------------------------------------------------------------
step "7. Analytics and the listener pages"
# Listening in steps 2 and 4 is recorded as sessions; the fold job (every 10 s here) turns them into days.
today=$(date -u +%F)
stream_counted() { djcast analytics stream "$stream_id" --from "$today" --json | jq -e '[.. | .unique_listeners? // empty] | add > 0'; }
wait_until 90 "the stream's listeners in its analytics" stream_counted
for kind in stream playlist podcast; do
  id_var="${kind}_id"
  echo "-- $kind ${!id_var}, today"
  djcast analytics "$kind" "${!id_var}" --from "$today"
done
say "pages: $stream_page  $playlist_page  $podcast_page"

# ---------------------------------------------------------------------------
step "8. Every URL a listener would open"
rows=()
check() { # check <what> <url> [curl options…]
  local what=$1 url=$2
  shift 2
  rows+=("$what|$url|$(status_of -L "$@" "$url")")
}
check "playlist page" "$playlist_page"
check "playlist MP3" "$playlist_mp3" --max-time 5 -r 0-1023
check "playlist HLS" "$playlist_hls"
check "members-only HLS (subscriber)" "$members_hls" -H "Authorization: Bearer $listener_token"
rows+=("live stream HLS (while live)|$stream_live|$live_status")
check "stream page" "$stream_page"
check "podcast page" "$podcast_page"
check "podcast feed" "$podcast_feed"
check "personal feed (subscriber)" "$personal_feed"
check "episode MP3 (personal feed)" "$enclosure" -r 0-1023
if [ -n "$domain_feed" ]; then
  check "custom domain feed" "$domain_feed" --cacert "$work/pebble/root.pem" --resolve "podcast.djname.com:$https_port:127.0.0.1"
fi
bad=0
printf '\n%-32s %-6s %s\n' "what" "status" "url"
for row in "${rows[@]}"; do
  IFS='|' read -r what url code <<<"$row"
  mark=ok
  [[ "$code" == 2?? ]] || {
    mark=FAILED
    bad=1
  }
  printf '%-32s %-6s %s  %s\n' "$what" "$code" "$url" "$mark"
done
[ "$domains" = yes ] || printf '%-32s %-6s %s\n' "custom domain feed" "-" "skipped: $domains_why"
[ "$bad" = 0 ] || fail "a listener URL did not answer 2xx"
echo
echo "demo: all URLs answered; done in $((SECONDS - started)) s"

if [ "${DEMO_KEEP:-0}" = 1 ]; then
  echo "demo: the server stays up on $api until Ctrl-C (CLI: DJCAST_API_URL=$api DJCAST_TOKEN=$DJCAST_TOKEN pnpm djcast whoami)"
  wait "${pids[0]}"
fi
