#!/usr/bin/env bash
# Puts Debian's promtool (package `prometheus`, bookworm: 2.42) at
# ${PROMTOOL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/modulith/promtool}/promtool, where the metrics lint
# test (apps/api/src/observability/metrics-lint.e2e.spec.ts) looks for it. Only the binary is kept:
# the package is downloaded and unpacked, never installed, so no Prometheus service is set up.
# Idempotent: a promtool already there that runs is kept, and nothing is downloaded.
set -euo pipefail

home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
dir=${PROMTOOL_DIR:-${XDG_CACHE_HOME:-$home/.cache}/modulith/promtool}
if "$dir/promtool" --version >/dev/null 2>&1; then
  echo "promtool present: $dir/promtool ($("$dir/promtool" --version 2>&1 | head -n 1))"
  exit 0
fi

sudo=""
if (( EUID != 0 )); then sudo="sudo"; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt downloads as its sandbox user `_apt`, which must be able to write here.
chmod 777 "$work"
$sudo apt-get update -qq
(cd "$work" && apt-get download -qq prometheus)
dpkg -x "$work"/prometheus_*.deb "$work/root"
mkdir -p "$dir"
install -m 0755 "$work/root/usr/bin/promtool" "$dir/promtool"
echo "promtool installed: $dir/promtool ($("$dir/promtool" --version 2>&1 | head -n 1))"
