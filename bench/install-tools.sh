#!/usr/bin/env bash
# Optional extras for `npm run bench` on Debian/Ubuntu: wrk, a C load
# generator that leaves more CPU to the proxy than the Node fallback, and
# haproxy, the reference proxy. The bench runs without either.
set -euo pipefail

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
if [ "${#missing[@]}" -eq 0 ]; then
  echo "wrk and haproxy are already installed"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi

"${sudo[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"

# The Debian package may start a system haproxy; the bench runs its own, and a
# stray daemon would only steal CPU from the measurements.
if command -v haproxy >/dev/null 2>&1 && pgrep -x haproxy >/dev/null 2>&1; then
  echo "note: a system haproxy service is running; stop it (e.g. 'service haproxy stop') before benchmarking"
fi
