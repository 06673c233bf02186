#!/usr/bin/env bash
# csp backfill against the simulator's REST klines (two days of generated
# history): interrupted after its first page and resumed, it stores every
# closed 1m bar once, equal to `csp bars` on the simulator's trade log, and
# the same indicators as an uninterrupted backfill (which waits out HTTP
# 429 answers); bad input is refused.
# Uses the PostgreSQL server from DB_* (scripts/services.sh), in databases
# of its own. Usage: backfill_test.sh <csp> <csp-exchange-sim>
set -u
. "$(dirname "$(readlink -f "$0")")/../../tools/exchange_sim/sim_port.sh"
csp=$(readlink -f "$1")
sim=$(readlink -f "$2")
work=$(mktemp -d)
pids=()
export PGPASSWORD=${DB_PASSWORD:-}
dbs=(csp_bf_a_$$ csp_bf_b_$$)
q() { psql -X -q -At -h "${DB_HOST:-127.0.0.1}" -p "${DB_PORT:-5432}" -U "${DB_USER:-csp}" -d "$1" -c "$2"; }
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  for d in "${dbs[@]}"; do q postgres "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1; done
  rm -rf "$work"
}
trap cleanup EXIT
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

for d in "${dbs[@]}"; do q postgres "CREATE DATABASE $d" || { echo "FAIL: create $d"; exit 1; }; done

"$sim" --listen 127.0.0.1:0 --symbols BTCUSDT --rate 2 --seed 5 --past-s 172800 \
  --trade-log "$work/trades.jsonl" --duration-s 300 >"$work/sim.out" 2>&1 &
pids+=($!)
port=$(sim_port "$work/sim.out") || { bad "simulator did not start"; exit 1; }
url=http://127.0.0.1:$port
d1=$(date -u -d '2 days ago' +%F)
d2=$(date -u +%F)
args=(--exchange binance --symbol BTCUSDT --start-date "$d1" --end-date "$d2" --timeframe 1m --rest-url "$url")

# Bad input is refused with a reason and exit status 2.
expect_usage() { # expected text, args...
  local want=$1; shift
  local out rc
  out=$(DB_NAME=${dbs[0]} "$csp" backfill "$@" 2>&1); rc=$?
  if [ $rc -eq 2 ] && grep -q -- "$want" <<<"$out"; then ok "refused: $want"; else bad "expected '$want' (rc 2), got rc $rc: $out"; fi
}
expect_usage "invalid symbol" --exchange binance --symbol "btc'usdt" --start-date "$d1" --end-date "$d2" --timeframe 1m --rest-url "$url"
expect_usage "must be a date" --exchange binance --symbol BTCUSDT --start-date 2024-02-30 --end-date "$d2" --timeframe 1m --rest-url "$url"
expect_usage "before --start-date" --exchange binance --symbol BTCUSDT --start-date "$d2" --end-date "$d1" --timeframe 1m --rest-url "$url"
expect_usage "unknown timeframe" --exchange binance --symbol BTCUSDT --start-date "$d1" --end-date "$d2" --timeframe 2m --rest-url "$url"
expect_usage "must be binance" --exchange kraken --symbol BTCUSDT --start-date "$d1" --end-date "$d2" --timeframe 1m --rest-url "$url"
old=$(date -u -d '400 days ago' +%F)
expect_usage "older than the 365-day retention" --exchange binance --symbol BTCUSDT --start-date "$old" --end-date "$d2" --timeframe 1d --rest-url "$url"
expect_usage "say where to fetch from" --exchange binance --symbol BTCUSDT --start-date "$d1" --end-date "$d2" --timeframe 1m

# First run: a weight budget of one request per minute, interrupted once
# its first page (1000 bars) is stored.
DB_NAME=${dbs[0]} "$csp" backfill "${args[@]}" --max-weight-per-minute 2 >"$work/run1.out" 2>&1 &
bf=$!
pids+=($bf)
for _ in $(seq 1 200); do grep -q "periods (" "$work/run1.out" && break; sleep 0.1; done
kill -INT "$bf"
wait "$bf"; rc=$?
n1=$(q "${dbs[0]}" "SELECT count(*) FROM candles")
if [ $rc -eq 130 ] && [ "$n1" = 1000 ] && grep -q "run the same command again to resume" "$work/run1.out"; then
  ok "interrupted after the first page (1000 bars, exit 130)"
else
  bad "interrupted run: rc $rc, $n1 bars: $(cat "$work/run1.out")"
fi

# Resumed: continues after the stored bars and completes.
DB_NAME=${dbs[0]} "$csp" backfill "${args[@]}" >"$work/run2.out" 2>&1; rc=$?
grep -q "resuming after" "$work/run2.out" && ok "second run resumed" || bad "second run did not resume: $(cat "$work/run2.out")"
[ $rc -eq 0 ] && ok "second run finished" || bad "second run exit status $rc: $(cat "$work/run2.out")"
grep -q "periods (100%)" "$work/run2.out" && ok "progress shown: $(grep 'periods (' "$work/run2.out" | tail -1)" || bad "no progress lines: $(cat "$work/run2.out")"

# Uninterrupted reference run into the second database, through two
# HTTP 429 answers (Retry-After 1 s) that it must wait out.
curl -s -XPOST -d '{"http_429_next":2,"retry_after_s":1}' "$url/control/faults" >/dev/null
DB_NAME=${dbs[1]} "$csp" backfill "${args[@]}" >"$work/ref.out" 2>&1 || bad "reference run failed: $(cat "$work/ref.out")"
limited=$(grep -c "rate limited (HTTP 429), waiting 1 s" "$work/ref.out")
[ "$limited" -eq 2 ] && ok "reference run waited out two 429 answers" || bad "429 handling: $(cat "$work/ref.out")"

# Every closed minute of the simulated history, once, equal to csp bars.
export_bars() { # db
  q "$1" "SELECT symbol || ',' || (extract(epoch FROM time) * 1000)::bigint || ','
    || (extract(epoch FROM close_time) * 1000)::bigint || ',' || open || ',' || high
    || ',' || low || ',' || close || ',' || volume || ',' || trade_count
    FROM candles ORDER BY time"
}
export_bars "${dbs[0]}" >"$work/got"
first=$(head -1 "$work/got" | cut -d, -f2)
last=$(tail -1 "$work/got" | cut -d, -f2)
"$csp" bars --timeframe 1m --input "$work/trades.jsonl" >"$work/all.csv" 2>/dev/null
awk -F, -v f="$first" -v l="$last" 'NR>1 && $2>=f && $2<=l' "$work/all.csv" >"$work/want"
n=$(wc -l <"$work/got")
span=$(( (last - first) / 60000 + 1 ))
[ "$n" -eq "$span" ] && ok "$n bars, no gap and no duplicate" || bad "$n bars for $span minutes"
[ "$n" -gt 2000 ] && ok "more than two pages backfilled" || bad "only $n bars"
if diff -q "$work/want" "$work/got" >/dev/null; then
  ok "bars equal csp bars on the simulator's trade log"
else
  bad "bars differ from csp bars on the trade log"; diff "$work/want" "$work/got" | head -5
fi
# Indicators and features: one row per bar, identical to the
# uninterrupted run.
same_as_uninterrupted() { # name, columns, table
  q "${dbs[0]}" "SELECT (extract(epoch FROM time) * 1000)::bigint, $2 FROM $3 ORDER BY time" >"$work/$1_a"
  q "${dbs[1]}" "SELECT (extract(epoch FROM time) * 1000)::bigint, $2 FROM $3 ORDER BY time" >"$work/$1_b"
  local rows
  rows=$(wc -l <"$work/$1_a")
  [ "$rows" -eq "$n" ] && ok "one $1 row per bar" || bad "$rows $1 rows for $n bars"
  if cmp -s "$work/$1_a" "$work/$1_b"; then
    ok "$1 rows after the resume equal an uninterrupted backfill"
  else
    bad "$1 rows differ from the uninterrupted backfill"; diff "$work/$1_a" "$work/$1_b" | head -4
  fi
}
same_as_uninterrupted indicator "sma_20, ema_12, rsi_14, macd, macd_signal, bb_upper, stoch_k, atr_14, adx_14, vwap" indicators
same_as_uninterrupted feature "log_return_1, log_return_5, volatility_20, range_pct, atr_pct, rsi_norm, macd_hist_pct, bb_percent_b" features
# The 20-bar volatility needs 20 returns: null exactly for the first 20 bars.
fnulls=$(q "${dbs[0]}" "SELECT count(*) FROM features WHERE volatility_20 IS NULL")
[ "$fnulls" = 20 ] && ok "volatility_20 null for the first 20 bars only" || bad "volatility_20 null in $fnulls rows"
nulls=$(q "${dbs[0]}" "SELECT count(*) FROM indicators WHERE rsi_14 IS NULL")
[ "$nulls" = 14 ] && ok "rsi_14 null for the first 14 bars only" || bad "rsi_14 null in $nulls rows"

# Nothing left to do: a third run stores nothing new.
DB_NAME=${dbs[0]} "$csp" backfill "${args[@]}" >"$work/run3.out" 2>&1
# (The range ends now: a minute that closed since the second run is new.)
n3=$(q "${dbs[0]}" "SELECT count(*) FROM candles WHERE time <= to_timestamp($last / 1000.0)")
n3_new=$(q "${dbs[0]}" "SELECT count(*) FROM candles WHERE time > to_timestamp($last / 1000.0)")
if [ "$n3" = "$n" ] && [ "$n3_new" -le 2 ]; then
  ok "a third run adds nothing up to the newest bar ($n3 bars; $n3_new minute(s) closed since)"
else
  bad "third run: $n3 bars up to the newest, $n3_new after it"
fi
exit $fail
