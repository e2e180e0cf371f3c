#!/usr/bin/env bash
# Start-up time and idle memory of the observer as its bin runs it (README, "Start-up time and
# memory"). Usage: scripts/measure-startup.sh [config] (default collector.yaml). Needs root for
# the eBPF receiver (or TAPIO_MOCK_MODE=true in the environment for the synthetic source).
# RUNS (default 9) validate runs give the median; the run is sampled after IDLE_SECONDS (20).
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${1:-collector.yaml}
RUNS=${RUNS:-9}
IDLE_SECONDS=${IDLE_SECONDS:-20}

times=()
for _ in $(seq "$RUNS"); do
  start=$(date +%s%N)
  node bin/network-observer.js validate --config "$CONFIG" >/dev/null
  times+=($(( ($(date +%s%N) - start) / 1000000 )))
done
mapfile -t sorted < <(printf '%s\n' "${times[@]}" | sort -n)
echo "validate (process start to exit): median ${sorted[$((RUNS / 2))]} ms, min ${sorted[0]} ms, max ${sorted[-1]} ms over $RUNS runs"

node bin/network-observer.js run --config "$CONFIG" >/dev/null 2>&1 &
pid=$!
sleep "$IDLE_SECONDS"
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
# RSS also counts node's own code (shared with every node process) and the eBPF ring buffer
# mapped into the process (kernel memory, data pages mapped twice): private dirty memory is
# what the observer itself allocated.
private=$(awk '/^Private_Dirty/ { print $2 }' "/proc/$pid/smaps_rollup")
ring=$(awk '/^[0-9a-f]/ { name = $6 } /^Rss/ && name == "anon_inode:bpf-map" { kb += $2 } END { print kb + 0 }' "/proc/$pid/smaps")
kill -TERM "$pid"
wait "$pid" || true
echo "run after ${IDLE_SECONDS} s: RSS $((rss / 1024)) MiB (peak $((hwm / 1024)) MiB), private dirty $((private / 1024)) MiB, eBPF maps mapped $((ring / 1024)) MiB"
