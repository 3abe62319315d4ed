#!/bin/sh
# What --metrics costs (docs/performance.md): `catroom bench server --scenario throughput`
# against a fresh release server per run, alternating metrics off and on, RUNS times
# each (default 4; even, so the order evens out), so both see the same machine. Prints one line per run; with metrics on,
# also the server's own deliveries counter, scraped after the run.
#   swift build -c release --product catroom && scripts/bench-metrics.sh [ROOMS OCCUPANTS]
set -eu
BIN=${CATROOM_BIN:-.build/release/catroom}
RUNS=${RUNS:-4}
ROOMS=${1:-1}
OCCUPANTS=${2:-50}
PORT=15222
METRICS_PORT=19464
DATA=$(mktemp -d)
trap 'rm -rf "$DATA"' EXIT
ulimit -n 20000

run() {  # $1: off or on
    extra=""
    [ "$1" = on ] && extra="--metrics 127.0.0.1:$METRICS_PORT"
    # shellcheck disable=SC2086
    "$BIN" serve --host 127.0.0.1 --port $PORT --direct-tls-port 0 --data-dir "$DATA" --allow-plain-registration \
        --max-connections 100000 --connections-per-address 100000 --connection-attempts-per-minute 1000000 \
        --registrations-per-minute 1000000 --total-registrations-per-minute 1000000 --max-accounts 100000 \
        --stanza-rate 100000 --max-occupants 500 --log-level warning $extra > "$DATA/serve.out" &
    server=$!
    for _ in $(seq 50); do grep -q "^join with" "$DATA/serve.out" 2>/dev/null && break; sleep 0.2; done
    "$BIN" bench server --port $PORT --server-pid $server --source-addresses 50 --scenario throughput \
        --rooms "$ROOMS" --occupants "$OCCUPANTS" --messages "${MESSAGES:-400}" --json > "$DATA/report.json"
    counted=""
    if [ "$1" = on ]; then
        counted=$(python3 -c "import urllib.request; print(next(l for l in urllib.request.urlopen('http://127.0.0.1:$METRICS_PORT/metrics', timeout=10).read().decode().splitlines() if l.startswith('catroom_deliveries_total')))")
    fi
    kill -TERM $server
    wait $server || true
    python3 - "$1" "$counted" "$DATA/report.json" <<'PY'
import json, sys
mode, counted, path = sys.argv[1], sys.argv[2], sys.argv[3]
scenario = json.load(open(path))["scenarios"][0]
t, server = scenario["throughput"], scenario["server"]
other = scenario.get("otherProcessesCPUSeconds")
print(f"metrics {mode:3}  {t['stanzasPerSecond']:>9,.0f} stanzas/s  delivered {t['delivered']:,}  server CPU {server['cpuSeconds']:.2f} s"
      f"  other CPU {other if other is None else round(other, 2)} s  {counted}")
PY
}

# off on, on off, ...: a machine that drifts slower or faster during the runs favours neither.
for i in $(seq "$RUNS"); do
    if [ $((i % 2)) = 1 ]; then run off; run on; else run on; run off; fi
done
