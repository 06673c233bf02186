#!/usr/bin/env bash
# End to end on loopback: csp-exchange-sim -> csp run (collector, processing,
# --bars-out) must produce exactly the bars `csp bars` computes from the
# simulator's ground-truth trade log, for a clean feed and for a feed with
# drops, stalls, skipped ids, duplicates, reordering and malformed frames.
# The faulty run also checks that the faults show in the metrics and that
# the circuit breaker opens and closes again.
# Usage: live_bars_test.sh <csp> <csp-exchange-sim>
set -u
. "$(dirname "$(readlink -f "$0")")/../../tools/exchange_sim/sim_port.sh"
csp=$(readlink -f "$1")
sim=$(readlink -f "$2")
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

now_s() { date +%s; }
# The first whole minute starts at least 5 s from now; each run lasts until
# that minute has closed (plus the 2 s grace) with a small margin.
start=$(now_s)
boundary=$(( (start + 5 + 59) / 60 * 60 ))
duration=$(( boundary + 66 - start ))
boundary_ms=$(( boundary * 1000 ))
echo "runs last ${duration}s; compared bars open at or after ${boundary}"

run_case() { # name, sim options..., -- , node options...
  local name=$1; shift
  local dir=$work/$name
  mkdir -p "$dir"
  local sim_args=() node_args=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do sim_args+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  node_args=("$@")
  "$sim" --listen 127.0.0.1:0 --symbols BTCUSDT,ETHUSDT --rate 150 \
    --trade-log "$dir/trades.jsonl" --duration-s $((duration + 10)) \
    "${sim_args[@]}" >"$dir/sim.out" 2>&1 &
  pids+=($!)
  local port
  port=$(sim_port "$dir/sim.out") || { bad "$name: simulator did not start"; return; }
  (cd "$dir" && exec "$csp" run --binance-ws-url "ws://127.0.0.1:$port" \
    --binance-rest-url "http://127.0.0.1:$port" --symbols BTCUSDT,ETHUSDT \
    --stocks "" --metrics-port 0 --api-port 0 --duration-s "$duration" \
    --bars-out "$dir/bars.csv" --no-db --no-cache "${node_args[@]}") >"$dir/node.out" 2>&1 &
  pids+=($!)
  echo "$!" >"$dir/node.pid"
}

compare() { # name
  local dir=$work/$1
  "$csp" bars --timeframe 1m --input "$dir/trades.jsonl" >"$dir/expected.csv" 2>/dev/null
  # Bars from the compared minute up to the newest one the node wrote.
  local last
  last=$(awk -F, -v b="$boundary_ms" 'NR>1 && $2>=b {print $2}' "$dir/bars.csv" | sort -n | tail -1)
  if [ -z "$last" ]; then
    bad "$1: the node wrote no bar at or after the compared minute"
    head -20 "$dir/node.out"
    return
  fi
  awk -F, -v b="$boundary_ms" -v l="$last" 'NR>1 && $2>=b && $2<=l' "$dir/bars.csv" | sort >"$dir/got"
  awk -F, -v b="$boundary_ms" -v l="$last" 'NR>1 && $2>=b && $2<=l' "$dir/expected.csv" | sort >"$dir/want"
  local n
  n=$(wc -l <"$dir/want")
  if [ "$n" -lt 2 ]; then
    bad "$1: expected at least one bar per symbol, got $n rows"
  elif diff -u "$dir/want" "$dir/got"; then
    ok "$1: $n bars identical to csp bars on the trade log ($(wc -l <"$dir/trades.jsonl") trades)"
  else
    bad "$1: bars differ from csp bars on the trade log"
  fi
}

metric() { # port, series regex -> summed value
  curl -s "http://127.0.0.1:$1/metrics" | grep -E "^$2" | awk '{s+=$NF} END {print s+0}'
}

cat >"$work/breaker.json" <<'JSON'
{"circuit_breaker": {"failure_threshold": 1, "open_timeout_ms": 1500,
                     "success_threshold": 1, "max_open_timeout_ms": 3000}}
JSON

run_case clean --seed 11 --
run_case faults --seed 12 --drop-every-s 20 --stall-every-s 27 --stall-ms 3000 \
  --skip-prob 0.01 --duplicate-prob 0.01 --reorder-prob 0.01 \
  --malformed-prob 0.005 -- --config "$work/breaker.json"

# Scrape the faulty node's metrics shortly before it stops.
sleep $((duration - 4))
mport=$(grep -o '127.0.0.1:[0-9]*/metrics' "$work/faults/node.out" | head -1 | cut -d: -f2 | cut -d/ -f1)
if [ -n "$mport" ]; then
  malformed=$(metric "$mport" 'collector_errors_total\{.*error_type="malformed_json"')
  reconnects=$(metric "$mport" 'websocket_reconnections_total')
  opened=$(metric "$mport" 'circuit_breaker_transitions_total\{.*from_state="closed".*to_state="open"')
  closed=$(metric "$mport" 'circuit_breaker_transitions_total\{.*from_state="half_open".*to_state="closed"')
  received=$(metric "$mport" 'trades_received_total')
  [ "${malformed%.*}" -gt 0 ] && ok "malformed frames counted ($malformed)" || bad "malformed frames not counted"
  [ "${reconnects%.*}" -gt 0 ] && ok "reconnections counted ($reconnects)" || bad "no reconnection counted"
  [ "${opened%.*}" -gt 0 ] && ok "breaker opened ($opened)" || bad "breaker never opened"
  [ "${closed%.*}" -gt 0 ] && ok "breaker closed again ($closed)" || bad "breaker never closed again"
  [ "${received%.*}" -gt 0 ] && ok "trades received ($received)" || bad "no trades received"
else
  bad "faulty node did not report its metrics port"
fi

for name in clean faults; do
  pid=$(cat "$work/$name/node.pid")
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then bad "$name: node did not stop"; continue; fi
  wait "$pid"; rc=$?
  [ $rc -eq 0 ] && ok "$name: node exited cleanly" || { bad "$name: node exit status $rc"; tail -5 "$work/$name/node.out"; }
  compare "$name"
done
exit $fail
