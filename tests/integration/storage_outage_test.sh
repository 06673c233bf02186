#!/usr/bin/env bash
# Storage outages on loopback: csp-exchange-sim -> csp run -> PostgreSQL
# and Redis (private servers of this test), with PostgreSQL stopped for 30 s
# and then Redis for 20 s in the middle of the run. Afterwards every 1m
# candle in the database must equal `csp bars` on the simulator's trade log
# (no gaps, no duplicates), every trade of the compared minutes must be
# archived once, db_errors_total must have risen, and the cache must hold
# the compared bars again (refilled after Redis came back), with the
# cache errors counted.
# Usage: storage_outage_test.sh <csp> <csp-exchange-sim>
set -u
csp=$(readlink -f "$1")
sim=$(readlink -f "$2")
here=$(dirname "$(readlink -f "$0")")
. "$here/../../tools/exchange_sim/sim_port.sh"
work=$(mktemp -d)
pids=()
. "$here/pg_cluster.sh"
redis_port=
redis_start() {
  redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
    --dir "$work" --logfile "$work/redis.log" --daemonize yes \
    --pidfile "$work/redis.pid" >/dev/null
  for _ in $(seq 1 50); do
    redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  return 1
}
redis_stop() { redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1; }
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "$redis_port" ] && redis_stop
  pg_cluster_stop
  rm -rf "$work"
}
trap cleanup EXIT
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

pg_cluster_init "$work/pg" || { echo "FAIL: initdb"; exit 1; }
pg_cluster_start || { echo "FAIL: PostgreSQL did not start"; cat "$work/pg/server.log"; exit 1; }
createdb -h 127.0.0.1 -p "$PG_CLUSTER_PORT" -U postgres csp_it
export DB_HOST=127.0.0.1 DB_PORT=$PG_CLUSTER_PORT DB_NAME=csp_it DB_USER=postgres
unset DB_PASSWORD
for _ in $(seq 1 50); do
  redis_port=$(test_listen_port)
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 || break
done
redis_start || { echo "FAIL: Redis did not start"; exit 1; }
export REDIS_URL=redis://127.0.0.1:$redis_port

if out=$("$csp" migrate 2>&1) && grep -q "applied: 0001_tables" <<<"$out"; then
  ok "csp migrate: $out"
else
  bad "csp migrate: $out"
fi
out=$("$csp" migrate 2>&1)
grep -q "(up to date)" <<<"$out" && ok "second migrate: up to date" || bad "second migrate: $out"

# Timeline: compared minutes [boundary, boundary + 60 s]; PostgreSQL is
# down from boundary + 20 s to boundary + 50 s, Redis from boundary + 55 s to
# boundary + 75 s (the first compared bar closes at boundary + 62 s, while
# Redis is away); the run ends once the second compared minute has closed.
start=$(date +%s)
boundary=$(( (start + 5 + 59) / 60 * 60 ))
duration=$(( boundary + 128 - start ))
b_ms=$(( boundary * 1000 ))
last_ms=$(( (boundary + 60) * 1000 ))
echo "run lasts ${duration}s; database down at $((boundary + 20)) for 30 s"

"$sim" --listen 127.0.0.1:0 --symbols BTCUSDT,ETHUSDT,BNBUSDT --rate 300 \
  --seed 21 --trade-log "$work/trades.jsonl" --duration-s $((duration + 10)) \
  >"$work/sim.out" 2>&1 &
pids+=($!)
port=$(sim_port "$work/sim.out") || { bad "simulator did not start"; exit 1; }

cat >"$work/node.json" <<JSON
{"database": {"pool_size": 2, "spool_dir": "$work/spool", "flush_age_ms": 200}}
JSON
(cd "$work" && exec "$csp" run --config "$work/node.json" \
  --binance-ws-url "ws://127.0.0.1:$port" --binance-rest-url "http://127.0.0.1:$port" \
  --symbols BTCUSDT,ETHUSDT,BNBUSDT --stocks "" --metrics-port 0 --api-port 0 \
  --duration-s "$duration") >"$work/node.out" 2>&1 &
node=$!
pids+=($node)

sleep $(( boundary + 20 - $(date +%s) ))
pg_cluster_stop && ok "PostgreSQL stopped at $(date +%T)" || bad "could not stop PostgreSQL"
sleep 30
pg_cluster_start && ok "PostgreSQL started again at $(date +%T)" || bad "could not restart PostgreSQL"
sleep $(( boundary + 55 - $(date +%s) ))
redis_stop; ok "Redis stopped at $(date +%T)"
sleep 20
redis_start && ok "Redis started again (empty) at $(date +%T)" || bad "could not restart Redis"

# Metrics a little before the node stops.
sleep $(( boundary + 110 - $(date +%s) ))
mport=$(grep -o '127.0.0.1:[0-9]*/metrics' "$work/node.out" | head -1 | cut -d: -f2 | cut -d/ -f1)
metric() { curl -s "http://127.0.0.1:$mport/metrics" | grep -E "^$1" | awk '{s+=$NF} END {print s+0}'; }
if [ -n "$mport" ]; then
  errors=$(metric 'db_errors_total')
  queries=$(metric 'db_queries_total\{.*table="candles"')
  pool=$(metric 'db_connection_pool_size')
  avail=$(metric 'db_connection_pool_available')
  [ "${errors%.*}" -gt 0 ] && ok "db_errors_total rose ($errors)" || bad "db_errors_total did not rise"
  [ "${queries%.*}" -gt 0 ] && ok "candle upserts counted ($queries)" || bad "no candle upsert counted"
  [ "${pool%.*}" -eq 2 ] && ok "pool size 2" || bad "db_connection_pool_size is $pool, not 2"
  [ "${avail%.*}" -ge 1 ] && ok "pool available again ($avail)" || bad "no connection available after the outage ($avail)"
  cerrors=$(metric 'cache_operations_total\{.*operation="error"')
  refills=$(metric 'cache_operations_total\{.*operation="refill"')
  [ "${cerrors%.*}" -gt 0 ] && ok "cache errors counted ($cerrors)" || bad "no cache error counted"
  [ "${refills%.*}" -ge 2 ] && ok "cache refilled after the outage ($refills refills)" || bad "cache refills: $refills"
else
  bad "node did not report its metrics port"
fi

for _ in $(seq 1 300); do kill -0 "$node" 2>/dev/null || break; sleep 0.1; done
wait "$node"; rc=$?
[ $rc -eq 0 ] && ok "node exited cleanly" || { bad "node exit status $rc"; tail -20 "$work/node.out"; }

# The database's 1m candles of the compared minutes, as `csp bars` CSV.
pg_cluster_psql "SELECT symbol || ',' || (extract(epoch FROM time) * 1000)::bigint
  || ',' || (extract(epoch FROM close_time) * 1000)::bigint || ',' || open || ','
  || high || ',' || low || ',' || close || ',' || volume || ',' || trade_count
  FROM candles WHERE exchange = 'binance' AND timeframe = '1m'
  AND time >= to_timestamp($boundary) AND time <= to_timestamp($((boundary + 60)))" \
  | sort >"$work/got"
"$csp" bars --timeframe 1m --input "$work/trades.jsonl" >"$work/expected.csv" 2>/dev/null
awk -F, -v b="$b_ms" -v l="$last_ms" 'NR>1 && $2>=b && $2<=l' "$work/expected.csv" | sort >"$work/want"
n=$(wc -l <"$work/want")
if [ "$n" -ne 6 ]; then
  bad "expected 6 bars (3 symbols x 2 minutes), the trade log gives $n"
elif diff -u "$work/want" "$work/got"; then
  ok "$n candles in PostgreSQL identical to csp bars on the trade log"
else
  bad "candles in PostgreSQL differ from csp bars on the trade log"
fi

# Every trade of the compared minutes archived exactly once.
want_trades=$(awk -v b="$b_ms" -v l="$((last_ms + 60000))" '
  { if (match($0, /"T":[0-9]+/)) { t = substr($0, RSTART + 4, RLENGTH - 4) + 0;
      if (t >= b && t < l) n++ } } END { print n + 0 }' "$work/trades.jsonl")
got_trades=$(pg_cluster_psql "SELECT count(*) FROM trades WHERE time >= to_timestamp($boundary)
  AND time < to_timestamp($((boundary + 120)))")
distinct=$(pg_cluster_psql "SELECT count(DISTINCT (symbol, trade_id)) FROM trades")
total=$(pg_cluster_psql "SELECT count(*) FROM trades")
[ "$want_trades" -gt 0 ] && [ "$got_trades" = "$want_trades" ] \
  && ok "$got_trades trades of the compared minutes archived" \
  || bad "archived $got_trades trades of the compared minutes, the log has $want_trades"
[ "$distinct" = "$total" ] && ok "no trade archived twice ($total)" || bad "$total trade rows, $distinct distinct"
# The cache holds the compared bars again, equal to the database's.
for sym in BTCUSDT ETHUSDT BNBUSDT; do
  cached=$(redis-cli -p "$redis_port" zrangebyscore "bars:binance:$sym:1m" "$b_ms" "$last_ms" \
    | sed -E 's/.*"symbol":"([A-Z]+)".*"open_time":([0-9]+).*"open":"([0-9.]+)".*"close":"([0-9.]+)".*"volume":"([0-9.]+)".*"trade_count":([0-9]+).*/\1,\2,\3,\4,\5,\6/')
  stored=$(grep "^$sym," "$work/got" | awk -F, '{print $1","$2","$4","$7","$8","$9}')
  if [ -n "$stored" ] && [ "$cached" = "$stored" ]; then
    ok "$sym: cache holds the 2 compared bars, equal to the database"
  else
    bad "$sym: cache has [$cached], database [$stored]"
  fi
done
exit $fail
