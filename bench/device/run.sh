#!/usr/bin/env bash
# On the lent machine, from the repository root the device tool runs in: unpacks what pack.sh made
# and runs the scale measure (ferry and haproxy with 1, 2, 4 ... workers), leaving its report in
# $OUT (or ./device-report). Extra arguments go to the bench (--rounds 3, say, to fit the time lent).
# Usage: bench/device/run.sh [bench options]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$(mktemp -d)
report=${OUT:-$root/device-report}
mkdir -p "$report"
xz -dc "$root/.device/ferry-device.tar.xz" | tar -C "$here" -xf -
export PATH="$here/bin:$PATH"
cd "$here/ferry"
{ nproc; node --version; haproxy -v | head -1; wrk --version 2>&1 | head -1 || true; } > "$report/machine.txt"
node dist/bench/run.js --only scale "$@" 2>&1 | tee "$report/scale.txt"
