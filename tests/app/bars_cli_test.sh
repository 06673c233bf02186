#!/usr/bin/env bash
# Contract of `csp bars` (see README and issue text): CSV of final bars,
# zero-volume rows between trades, duplicates once, malformed lines reported
# with their line number and skipped, exit status non-zero only when the
# input cannot be read. Expected rows below were worked out by hand from
# tests/data/bars_basic.jsonl.
set -u
csp=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # name, condition result
  if [ "$2" -ne 0 ]; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi
}
same() { # name, expected file, actual file
  if diff -u "$2" "$3"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi
}

# 1m bars. BTCUSDT 2024-01-15 10:36 (1705314960000) .. 10:40:
#  10:36: trades 100 (42000.5 @ :40.000), 101 (42010 @ :50), 102 (41990.25 @
#         :58.999); 101 duplicated; 103 invalid -> O 42000.5 H 42010
#         L 41990.25 C 41990.25 V 0.4 n 3
#  10:37: trade 104 at 10:37:01 -> 42005 x1
#  10:38: no trade -> zero bar at 42005
#  10:39: trade 105 (41900 @ 10:39:50, arrives after 106)
#  10:40: trade 106 (42100 @ 10:40:05)
cat > "$tmp/want_1m.csv" <<'CSV'
symbol,open_time,close_time,open,high,low,close,volume,trade_count
BTCUSDT,1705314960000,1705315019999,42000.5,42010,41990.25,41990.25,0.4,3
BTCUSDT,1705315020000,1705315079999,42005,42005,42005,42005,1,1
BTCUSDT,1705315080000,1705315139999,42005,42005,42005,42005,0,0
BTCUSDT,1705315140000,1705315199999,41900,41900,41900,41900,0.5,1
BTCUSDT,1705315200000,1705315259999,42100,42100,42100,42100,2,1
ETHUSDT,1705314960000,1705315019999,2500,2500,2500,2500,1.5,1
ETHUSDT,1705315020000,1705315079999,2500,2500,2500,2500,0,0
ETHUSDT,1705315080000,1705315139999,2490.5,2490.5,2490.5,2490.5,2,1
CSV
"$csp" bars --timeframe 1m --input "$data/bars_basic.jsonl" >"$tmp/out.csv" 2>"$tmp/err"
check "1m exit status 0 despite bad lines" $?
same "1m bars" "$tmp/want_1m.csv" "$tmp/out.csv"
grep -q '^line 6: ' "$tmp/err"; check "non-JSON line 6 reported" $?
grep -q '^line 7: .*invalid_field' "$tmp/err"; check "bad price on line 7 reported" $?
grep -q '1 duplicate' "$tmp/err"; check "duplicate counted in summary" $?

# 5m: 10:35-10:39 and 10:40-10:44 (UTC-aligned).
cat > "$tmp/want_5m.csv" <<'CSV'
symbol,open_time,close_time,open,high,low,close,volume,trade_count
BTCUSDT,1705314900000,1705315199999,42000.5,42010,41900,41900,1.9,5
BTCUSDT,1705315200000,1705315499999,42100,42100,42100,42100,2,1
ETHUSDT,1705314900000,1705315199999,2500,2500,2490.5,2490.5,3.5,2
CSV
"$csp" bars --timeframe 5m --input - <"$data/bars_basic.jsonl" >"$tmp/out5.csv" 2>/dev/null
check "5m from stdin exit 0" $?
same "5m bars" "$tmp/want_5m.csv" "$tmp/out5.csv"

# 1d: one bar per symbol, open at 2024-01-15T00:00Z.
"$csp" bars --timeframe 1d --input "$data/bars_basic.jsonl" >"$tmp/out1d.csv" 2>/dev/null
grep -q '^BTCUSDT,1705276800000,1705363199999,42000.5,42100,41900,42100,3.9,6$' "$tmp/out1d.csv"
check "1d bar" $?

# Lateness: trade 105 (10:39:50) arrives after 106 (10:40:05), 15 s behind.
"$csp" bars --timeframe 1m --allowed-lateness-ms 10000 --input "$data/bars_basic.jsonl" >"$tmp/late.csv" 2>"$tmp/late.err"
check "lateness run exit 0" $?
grep -q '^line 10: late trade 105' "$tmp/late.err"; check "late trade reported with line" $?
grep -q '^BTCUSDT,1705315140000,1705315199999,42005,42005,42005,42005,0,0$' "$tmp/late.csv"
check "late minute stays a zero bar" $?

# Unreadable input: non-zero exit and a message.
"$csp" bars --timeframe 1m --input "$tmp/does-not-exist.jsonl" >/dev/null 2>"$tmp/err2"
rc=$?; [ $rc -ne 0 ]; check "missing file exit non-zero ($rc)" $?
grep -q "cannot open" "$tmp/err2"; check "missing file message" $?
"$csp" bars --timeframe 1m --input "$tmp" >/dev/null 2>&1
rc=$?; [ $rc -ne 0 ]; check "directory as input exit non-zero ($rc)" $?

# Usage errors.
"$csp" bars --timeframe 2m --input "$data/bars_basic.jsonl" >/dev/null 2>&1
[ $? -eq 2 ]; check "unknown timeframe exit 2" $?
"$csp" bars --input "$data/bars_basic.jsonl" >/dev/null 2>&1
[ $? -eq 2 ]; check "missing timeframe exit 2" $?
"$csp" bars --timeframe 1m --input "$data/bars_basic.jsonl" --allowed-lateness-ms -5 >/dev/null 2>&1
[ $? -eq 2 ]; check "negative lateness exit 2" $?

# Empty input: header only.
printf '' | "$csp" bars --timeframe 1m --input - >"$tmp/empty.csv" 2>/dev/null
check "empty input exit 0" $?
[ "$(cat "$tmp/empty.csv")" = "symbol,open_time,close_time,open,high,low,close,volume,trade_count" ]
check "empty input gives the header only" $?

exit $fail
