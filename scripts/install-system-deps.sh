#!/usr/bin/env bash
# Installs the system tools the platform and its tests drive for real, from
# Debian's packages: FFmpeg, Icecast, ClamAV's clamd, Pebble, Prometheus
# (promtool) and nginx; PowerDNS with its sqlite3 backend (the custom-domain tests); Chromium (the listener pages' browser tests); curl and jq (the walkthroughs use them, and the docs
# run as tests); ip and unshare (the SSRF test's network namespace). Run as root (or with sudo); it does nothing when all
# are present.
#   scripts/install-system-deps.sh               every tool
#   scripts/install-system-deps.sh ffmpeg nginx  only these (scripts/dev bench asks for what the bench runs)
set -euo pipefail

declare -A package_of=(
  [ffmpeg]=ffmpeg [ffprobe]=ffmpeg [icecast2]=icecast2 [clamd]=clamav-daemon [clamscan]=clamav
  [pebble]=pebble [promtool]=prometheus [nginx]=nginx [chromium]=chromium
  [curl]=curl [jq]=jq [ip]=iproute2 [unshare]=util-linux
  [prometheus]=prometheus [prometheus-alertmanager]=prometheus-alertmanager [amtool]=prometheus-alertmanager
  [pdns_server]="pdns-server pdns-backend-sqlite3" [sqlite3]=sqlite3
)
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=("${!package_of[@]}")
missing=()
for bin in "${wanted[@]}"; do
  if [ -z "${package_of[$bin]:-}" ]; then
    echo "djcast: install-system-deps.sh knows no tool named $bin" >&2
    exit 2
  fi
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || missing+=("${package_of[$bin]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "djcast: missing system packages: $packages" >&2
    echo "djcast: install them with: apt-get update && apt-get install -y $packages" >&2
    exit 1
  fi
else
  SUDO=
fi
echo "djcast: installing system packages: $packages" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $packages >&2
# The packages start daemons of their own on install; the tests run their own instances.
for svc in icecast2 clamav-daemon clamav-freshclam nginx prometheus prometheus-alertmanager prometheus-node-exporter pdns; do
  $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
