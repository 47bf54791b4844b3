#!/usr/bin/env bash
# Packs what `--only scale` needs on a lent machine that reaches no network (issue 14's multi-worker
# curve): node, haproxy and wrk, and ferry built with its dependencies, in one xz tarball that the
# device tool carries (64 MiB at most). haproxy and wrk travel with every library they load, the
# dynamic loader among them, and run through that loader, so the other machine's own libraries do
# not matter; node runs as it is (its children are started from its own path), and needs a glibc
# as recent as this machine's. Run after `npm run build`, with bench/install-tools.sh done.
# Usage: bench/device/pack.sh [OUT]   (default .device/ferry-device.tar.xz, ignored by git)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/.device/ferry-device.tar.xz}
for tool in node haproxy wrk; do
  command -v "$tool" >/dev/null || { echo "pack: $tool not found (bench/install-tools.sh installs haproxy and wrk)" >&2; exit 1; }
done
[ -f "$root/dist/bench/run.js" ] || { echo "pack: no dist/bench/run.js: run npm run build first" >&2; exit 1; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/real" "$stage/lib" "$stage/ferry"
cp "$(command -v node)" "$stage/bin/node"
for tool in haproxy wrk; do
  path=$(command -v "$tool")
  cp "$path" "$stage/real/$tool"
  ldd "$path" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | while read -r lib; do cp -nL "$lib" "$stage/lib/"; done
  # Through the loader carried with them: the libraries found are these, whatever the machine has.
  printf '#!/bin/sh\nd=$(cd "$(dirname "$0")/.." && pwd)\nexec "$d/lib/ld-linux-x86-64.so.2" --library-path "$d/lib" "$d/real/%s" "$@"\n' "$tool" > "$stage/bin/$tool"
  chmod +x "$stage/bin/$tool"
done
cp -r "$root/dist" "$root/package.json" "$stage/ferry/"
cp -r "$root/node_modules" "$stage/ferry/"
# What neither ferry nor the bench loads at run time stays behind.
rm -rf "$stage/ferry/node_modules/typescript" "$stage/ferry/node_modules/@types" "$stage/ferry/node_modules/.cache"
mkdir -p "$(dirname "$out")"
tar -C "$stage" -cf - . | xz -T0 -6 > "$out"
echo "pack: $out, $(du -h "$out" | cut -f1)"
