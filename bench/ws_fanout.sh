#!/usr/bin/env bash
# WebSocket fan-out: starts the loopback simulator and a node on a scratch
# database, then build/bench/csp-ws-fanout with the given options (N clients
# on /ws, one symbol and timeframe). Results in BENCHMARKS.md.
#
# Usage: bench/ws_fanout.sh [build-dir] [csp-ws-fanout options...]
#   e.g. bench/ws_fanout.sh build --clients 10000 --duration-s 60
# Environment: CSP_SIM_RATE (trades/s over all symbols, default 300),
# CSP_BENCH_REDIS_DB (default 11). Loopback only; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then build=$1; shift; fi
csp=$build/app/csp
sim=$build/tools/exchange_sim/csp-exchange-sim
fanout=$build/bench/csp-ws-fanout
redis_db=${CSP_BENCH_REDIS_DB:-11}

source bench/scratch_db.sh csp_bench_ws "$redis_db"

symbols=BTCUSDT,ETHUSDT,BNBUSDT
"$sim" --listen 127.0.0.1:0 --symbols "$symbols" --stocks AAPL \
  --rate "${CSP_SIM_RATE:-300}" --seed 13 --duration-s 1800 >"$work/sim.out" 2>&1 &
pids+=($!)
port=
for _ in $(seq 1 100); do
  port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/sim.out" | head -1 | cut -d: -f2 || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "ws_fanout: simulator did not start"; cat "$work/sim.out"; exit 1; }

# One client address for all connections: no per-client rate limit.
cat >"$work/node.json" <<'JSON'
{"api": {"rate_limit_per_second": 1000000000, "rate_limit_burst": 1000000000}}
JSON
api_port=$(free_port)
"$csp" run --config "$work/node.json" --symbols "$symbols" --stocks "" \
  --binance-ws-url "ws://127.0.0.1:$port" --binance-rest-url "http://127.0.0.1:$port" \
  --yahoo-url "http://127.0.0.1:$port" --api-port "$api_port" --metrics-port 0 \
  --duration-s 1800 >"$work/node.out" 2>&1 &
node=$!
pids+=($node)
up=0
for _ in $(seq 1 150); do
  curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$api_port/health" && { up=1; break; }
  sleep 0.2
done
[ "$up" = 1 ] || { echo "ws_fanout: node did not start"; tail -20 "$work/node.out"; exit 1; }
echo "== node pid $node on 127.0.0.1:$api_port, simulator $port at ${CSP_SIM_RATE:-300} trades/s; load $(cut -d' ' -f1-3 /proc/loadavg)"
set +e
/usr/bin/time -f "client: %e s wall, %U s user, %S s sys, %M KB max RSS" \
  "$fanout" --port "$api_port" "$@"
rc=$?
set -e
echo "node: $(ps -o rss=,time= -p "$node" | awk '{print $1 " KB RSS, " $2 " CPU time"}'); load $(cut -d' ' -f1-3 /proc/loadavg)"
exit $rc
