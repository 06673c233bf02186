#!/usr/bin/env bash
# The platform's main job. Installs what is missing, builds, starts
# PostgreSQL and Redis on loopback (scripts/services.sh), then
#   ./scripts/run.sh            starts the loopback exchange simulator and a
#                               platform node reading it (no internet needed)
#   ./scripts/run.sh --live     starts a node on the real Binance and Yahoo
#   ./scripts/run.sh <csp command> [options]   runs that csp command, e.g.
#                               ./scripts/run.sh bars --timeframe 1m --input f
# The node runs until Ctrl-C (or CSP_RUN_DURATION_S seconds) and then prints
# a summary. Prometheus, Alertmanager and the PostgreSQL and Redis exporters
# run beside it on loopback (scripts/monitoring.sh; they keep running after
# the node stops, `scripts/monitoring.sh stop` ends them; CSP_NO_MONITORING=1
# skips them). Environment: CSP_METRICS_PORT (the node's own metrics
# listener, default 9095: Prometheus has 9090), CSP_API_PORT
# (chart page, REST and WebSocket API; default 8000), CSP_SIM_RATE
# (trades/s, default 200), CSP_SYMBOLS (default BTCUSDT,ETHUSDT,BNBUSDT),
# CSP_SIM_PAST_S (seconds of simulated trade history before now, default 0).
# Idempotent: a second run reuses the installed packages and the build.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh build >/dev/null
echo "run.sh: build ready (build/app/csp)"
./scripts/services.sh start
eval "$(./scripts/services.sh env)"
csp=build/app/csp
sim=build/tools/exchange_sim/csp-exchange-sim

live=0
if [ $# -gt 0 ]; then
  if [ "$1" = "--live" ]; then
    live=1
  else
    exec "$csp" "$@"
  fi
fi

out=.data/run
mkdir -p "$out"
symbols=${CSP_SYMBOLS:-BTCUSDT,ETHUSDT,BNBUSDT}
metrics_port=${CSP_METRICS_PORT:-9095}
api_port=${CSP_API_PORT:-8000}
duration=${CSP_RUN_DURATION_S:-0}
pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

node_args=(run --symbols "$symbols" --metrics-port "$metrics_port"
           --api-port "$api_port"
           --bars-out "$out/bars_1m.csv" --duration-s "$duration")
if [ "$live" = 0 ]; then
  rm -f "$out/trades.jsonl" "$out/bars_1m.csv"
  "$sim" --listen 127.0.0.1:0 --symbols "$symbols" --stocks AAPL,MSFT \
    --rate "${CSP_SIM_RATE:-200}" --seed 1 --trade-log "$out/trades.jsonl" \
    --past-s "${CSP_SIM_PAST_S:-0}" \
    >"$out/sim.out" 2>&1 &
  pids+=($!)
  port=
  for _ in $(seq 1 100); do
    port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$out/sim.out" | head -1 | cut -d: -f2 || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "run.sh: simulator did not start:"; cat "$out/sim.out"; exit 1; }
  node_args+=(--binance-ws-url "ws://127.0.0.1:$port"
              --binance-rest-url "http://127.0.0.1:$port"
              --yahoo-url "http://127.0.0.1:$port")
  feed="simulated exchange at http://127.0.0.1:$port (trade log $out/trades.jsonl)"
else
  feed="the real Binance (wss://stream.binance.com:9443) and Yahoo endpoints"
fi

monitoring=
if [ "${CSP_NO_MONITORING:-0}" != 1 ]; then
  CSP_API_PORT=$api_port ./scripts/monitoring.sh start
  monitoring=$(./scripts/monitoring.sh urls)
fi

# csp run writes logs/app_<UTC date>.log relative to this directory (the
# config's log.dir; see docs/LOGGING.md) and prints the exact file.
log_file="$(pwd)/logs/app_$(date -u +%F).log"

cat <<MSG

== platform node starting
feed:      $feed
symbols:   $symbols
chart:     http://127.0.0.1:$api_port/  (live candles and indicators)
api:       http://127.0.0.1:$api_port/api/v1/symbols, /api/v1/charts/BTCUSDT?timeframe=1m,
           /api/v1/klines?symbol=BTCUSDT&interval=1m, ws://127.0.0.1:$api_port/ws,
           http://127.0.0.1:$api_port/openapi.json
metrics:   http://127.0.0.1:$api_port/metrics (also http://127.0.0.1:$metrics_port/metrics)
${monitoring:-monitoring: off (CSP_NO_MONITORING=1)}
database:  postgresql://$DB_USER@$DB_HOST:$DB_PORT/$DB_NAME (password in .data/secrets/db_password)
           tables symbols, trades, candles, indicators, data_quality
bars:      $out/bars_1m.csv (final 1m bars, csp bars format)
logs:      $log_file (JSON lines; the console shows them
           readable; earlier days gzipped: zcat logs/app_<date>.log.gz | grep ERROR)
stop:      Ctrl-C
MSG
set +e
"$csp" "${node_args[@]}"
rc=$?
set -e
echo
echo "== summary"
[ -f "$out/trades.jsonl" ] && echo "trades generated: $(wc -l <"$out/trades.jsonl")"
[ -f "$out/bars_1m.csv" ] && echo "1m bars written:  $(($(wc -l <"$out/bars_1m.csv") - 1))"
if count=$(PGPASSWORD=$DB_PASSWORD psql -X -At -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" \
    -d "$DB_NAME" -c "SELECT count(*) FROM candles" 2>/dev/null); then
  echo "candles stored:   $count (all timeframes, in $DB_NAME)"
fi
if [ "$live" = 0 ] && [ -f "$out/trades.jsonl" ]; then
  echo "compare with:     $csp bars --timeframe 1m --input $out/trades.jsonl"
fi
[ -f "$log_file" ] && echo "log file:         $log_file ($(wc -l <"$log_file") lines)"
echo "run.sh: node exited with status $rc"
exit $rc
