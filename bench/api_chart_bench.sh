#!/usr/bin/env bash
# Load on GET /api/v1/charts/BTCUSDT?timeframe=1m&limit=500 with wrk, against
# a node fed by the loopback simulator; /api/v1/symbols for comparison (the
# server's own overhead without the bar data path).
#
# History: the simulator starts with --past-s (a day and more of trades) and
# `csp backfill` loads its 1m klines and their indicators into a scratch
# database, so the chart has 500 closed bars with indicators at once; the
# first chart request misses Redis, reads PostgreSQL and refills the cache,
# every later one is a cache hit (500 bars from Redis, their indicators from
# PostgreSQL; with the API's chart response cache, the rendered body). The
# chart is measured plain and with Accept-Encoding: gzip.
#
# Usage: bench/api_chart_bench.sh [build-dir]
# Environment: CSP_BENCH_DURATION_S (per wrk run, default 20),
# CSP_BENCH_CONNECTIONS (default "1 4 16 64"), CSP_BENCH_REDIS_DB (11),
# CSP_BENCH_PERF=1 to record a 10 s perf profile of the node under load.
# Loopback only; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/exchange_sim/sim_port.sh
build=${1:-build}
csp=$build/app/csp
sim=$build/tools/exchange_sim/csp-exchange-sim
duration=${CSP_BENCH_DURATION_S:-20}
conns=${CSP_BENCH_CONNECTIONS:-"1 4 16 64"}
redis_db=${CSP_BENCH_REDIS_DB:-11}
command -v wrk >/dev/null || { echo "api_chart_bench: wrk missing (scripts/install-deps.sh)"; exit 1; }

source bench/scratch_db.sh csp_bench_api "$redis_db"

# The simulator: 25 h of past trades at 10 trades/s, then live.
"$sim" --listen 127.0.0.1:0 --symbols BTCUSDT,ETHUSDT --stocks AAPL \
  --rate 10 --seed 11 --past-s 90000 --duration-s 900 >"$work/sim.out" 2>&1 &
pids+=($!)
port=$(sim_port "$work/sim.out") || { echo "api_chart_bench: simulator did not start"; cat "$work/sim.out"; exit 1; }

start_day=$(date -u -d '1 day ago' +%F)
end_day=$(date -u +%F)
echo "== backfill 1m BTCUSDT $start_day..$end_day from the simulator"
timeout 300 "$csp" backfill --exchange binance --symbol BTCUSDT --timeframe 1m \
  --start-date "$start_day" --end-date "$end_day" \
  --rest-url "http://127.0.0.1:$port" | tail -2
echo "candles stored: $(psql_db "$DB_NAME" -c "SELECT count(*) FROM candles WHERE symbol='BTCUSDT' AND timeframe='1m'")"

# The node: no rate limit for the benchmark client (one address).
cat >"$work/node.json" <<'JSON'
{"api": {"rate_limit_per_second": 1000000000, "rate_limit_burst": 1000000000}}
JSON
api_port=$(free_port)
"$csp" run --config "$work/node.json" --symbols BTCUSDT,ETHUSDT --stocks "" \
  --binance-ws-url "ws://127.0.0.1:$port" --binance-rest-url "http://127.0.0.1:$port" \
  --yahoo-url "http://127.0.0.1:$port" --api-port "$api_port" --metrics-port 0 \
  --duration-s 900 >"$work/node.out" 2>&1 &
node=$!
pids+=($node)

base=http://127.0.0.1:$api_port
chart="$base/api/v1/charts/BTCUSDT?timeframe=1m&limit=500"
bars=0
for _ in $(seq 1 300); do
  bars=$( (curl -s --max-time 2 "$chart" || true) | python3 -c 'import json,sys
try: print(len(json.load(sys.stdin)["bars"]))
except Exception: print(0)')
  [ "$bars" = 500 ] && break
  sleep 0.2
done
[ "$bars" = 500 ] || { echo "api_chart_bench: chart has $bars bars, not 500"; tail -20 "$work/node.out"; exit 1; }
size=$(curl -s "$chart" | wc -c)
echo "== node on $base (pid $node); chart of 500 bars = $size bytes"
curl -s "$chart" | python3 -c 'import json,sys
b=json.load(sys.stdin)["bars"]; print("bars with indicators:", sum(1 for x in b if x["indicators"]))'

# The worker's indicator read on its own (the query of
# pg_store::load_indicators for the same 500 bars), server side only.
cols=sma_20,sma_50,sma_100,sma_200,ema_12,ema_26,ema_50,rsi_14,macd,macd_signal,macd_hist,bb_upper,bb_middle,bb_lower,stoch_k,stoch_d,atr_14,adx_14,vwap
psql_db "$DB_NAME" -c "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) SELECT (extract(epoch FROM time) * 1000)::bigint, $cols FROM indicators WHERE exchange = 'binance' AND symbol = 'BTCUSDT' AND timeframe = '1m' ORDER BY time DESC LIMIT 500" \
  | grep -E 'Execution Time' | sed 's/^ */indicator query (500 rows, PostgreSQL side): /'

cat >"$work/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format(
    "RESULT requests=%d rps=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f non2xx=%d socket_errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
LUA

run_wrk() { # label url connections [extra wrk arguments...]
  local threads=2
  [ "$3" -lt 2 ] && threads=1
  echo "-- $1, $3 connection(s): wrk -t$threads -c$3 -d${duration}s --timeout 5s ${*:4} -s report.lua $2"
  wrk -t"$threads" -c"$3" -d"${duration}s" --timeout 5s "${@:4}" -s "$work/report.lua" "$2" \
    | grep -E 'RESULT|Requests/sec'
}

echo "== machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg)"
for c in $conns; do run_wrk "chart 500 bars" "$chart" "$c"; done
gz_size=$(curl -s -H 'Accept-Encoding: gzip' "$chart" | wc -c)
echo "== the same chart with Accept-Encoding: gzip = $gz_size bytes"
for c in $conns; do
  run_wrk "chart 500 bars, gzip" "$chart" "$c" -H "Accept-Encoding: gzip"
done
for c in $conns; do run_wrk "symbols" "$base/api/v1/symbols" "$c"; done
# The server alone: a body built in memory (the 198 KB chart library), and
# the health check (no worker, a few hundred bytes).
for c in $conns; do
  run_wrk "static 198 KB asset" "$base/vendor/lightweight-charts.standalone.production.js" "$c"
done
run_wrk "health" "$base/health" 16

if [ "${CSP_BENCH_PERF:-0}" = 1 ] && command -v perf >/dev/null; then
  echo "== perf profile of the node under chart load (16 connections, 10 s)"
  wrk -t2 -c16 -d14s --timeout 5s "$chart" >/dev/null &
  load=$!
  sleep 2
  perf record -F 199 --call-graph dwarf,16384 -p "$node" -o "$work/perf.data" -- sleep 10 >/dev/null 2>&1 || true
  wait "$load" || true
  perf report -i "$work/perf.data" --no-children --sort dso,symbol -g none \
    --percent-limit 0.7 --stdio 2>/dev/null | grep -E '^ +[0-9]' | cut -c1-160 | head -40
  echo "-- inclusive (with callees), project frames only"
  perf report -i "$work/perf.data" --children --sort symbol -g none \
    --percent-limit 2 --stdio 2>/dev/null | grep -E '^ +[0-9].*csp::' | cut -c1-200 | head -30
  echo "-- PostgreSQL and Redis server CPU in the same window is not in this profile"
fi
echo "== done; load $(cut -d' ' -f1-3 /proc/loadavg)"
