#!/usr/bin/env bash
# PostgreSQL write rates: the writers' path (bench/pg_write_bench.cpp)
# side by side with psql's \copy of the very same rows into the same tables
# of the same server. Uses the server of scripts/services.sh (or DB_*).
# Usage: bench/storage_bench.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
./scripts/services.sh start >/dev/null
eval "$(./scripts/services.sh env)"
export PGPASSWORD=$DB_PASSWORD
db=csp_bench_$$
dump=$(mktemp -d)
psql_db() { psql -X -q -At -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$1" "${@:2}"; }
cleanup() { psql_db postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true; rm -rf "$dump"; }
trap cleanup EXIT
psql_db postgres -c "CREATE DATABASE $db"
DB_NAME=$db "$build/app/csp" migrate >/dev/null

echo "== writers' path (encode + COPY + upsert), $db"
CSP_BENCH_DB=$db CSP_BENCH_DUMP_DIR=$dump "$build/bench/pg_write_bench" \
  --benchmark_counters_tabular=true

# The same rows again with psql \copy into the emptied tables (partitions
# stay, so both runs write into the same layout).
# The binary dumps (benchmarks since binary COPY write them) go in with
# FORMAT binary; rows are counted from the text dump.
copy_rate() { # table, file, columns[, copy options]
  psql_db "$db" -c "TRUNCATE $1"
  local rows start end
  rows=$(wc -l <"${2%.*}.copy")
  start=$(date +%s.%N)
  psql_db "$db" -c "\\copy $1 ($3) FROM '$2' ${4:-}"
  end=$(date +%s.%N)
  awk -v r="$rows" -v s="$start" -v e="$end" -v t="$1 ${4:-(text)}" \
    'BEGIN { printf "psql \\copy %-24s %8d rows in %6.3f s = %9.0f rows/s\n", t, r, e - s, r / (e - s) }'
}
echo "== psql \\copy of the same rows"
candle_cols="time, exchange, symbol, timeframe, open, high, low, close, volume, quote_volume, taker_buy_volume, taker_buy_quote_volume, trade_count, first_trade_id, last_trade_id, close_time, revision"
trade_cols="time, exchange, symbol, trade_id, price, quantity, buyer_is_maker, event_time, symbol_id"
copy_rate candles "$dump/candles.copy" "$candle_cols"
copy_rate trades "$dump/trades.copy" "$trade_cols"
if [ -f "$dump/candles.bin" ]; then
  copy_rate candles "$dump/candles.bin" "$candle_cols" "(FORMAT binary)"
  copy_rate trades "$dump/trades.bin" "$trade_cols" "(FORMAT binary)"
fi
