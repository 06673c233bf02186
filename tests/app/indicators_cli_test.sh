#!/usr/bin/env bash
# Contract of `csp indicators`: CSV header, one row per bar, empty fields
# before each indicator's first valid index, hand-computed values, and a
# clear error (exit 1, stderr naming the line) for every kind of bad input.
#
# usage: indicators_cli_test.sh <path-to-csp> <tests/data dir>
set -u

csp=$1
data=$2
# shellcheck source=cli_checks.sh
source "$(dirname "$0")/cli_checks.sh"

# field <csv> <bar index> <column name>: one field of the output.
field() {
  awk -F, -v row="$(($2 + 2))" -v name="$3" '
    NR == 1 { for (i = 1; i <= NF; ++i) col[$i] = i }
    NR == row { print $(col[name]); exit }' "$1"
}

header_in="open_time,open,high,low,close,volume"
header_out="open_time,sma_20,sma_50,sma_100,sma_200,ema_12,ema_26,ema_50,rsi_14,macd,macd_signal,macd_hist,bb_upper,bb_middle,bb_lower,stoch_k,stoch_d,atr_14,adx_14,vwap"

# First valid (0-based) bar index of each output column, from TA-Lib's
# lookbacks.
declare -A first=(
  [sma_20]=19 [sma_50]=49 [sma_100]=99 [sma_200]=199
  [ema_12]=11 [ema_26]=25 [ema_50]=49 [rsi_14]=14
  [macd]=33 [macd_signal]=33 [macd_hist]=33
  [bb_upper]=19 [bb_middle]=19 [bb_lower]=19
  [stoch_k]=17 [stoch_d]=17 [atr_14]=14 [adx_14]=27 [vwap]=0
)

# -- a constant series: 210 one-minute bars at 100, volume 2 ------------------
out=$tmp/constant.csv
"$csp" indicators --input "$data/indicators_constant.csv" >"$out" 2>"$tmp/err"
expect_eq "constant: exit status" "$?" 0
expect_eq "constant: header" "$(head -1 "$out")" "$header_out"
expect_eq "constant: rows" "$(($(wc -l <"$out") - 1))" 210
expect_eq "constant: columns" \
  "$(awk -F, '{ print NF }' "$out" | sort -u)" 20
expect_eq "constant: stderr" "$(cat "$tmp/err")" ""

# Null (empty) strictly before the first valid index, a value from it on.
for name in "${!first[@]}"; do
  idx=${first[$name]}
  if ((idx > 0)); then
    expect_eq "constant: $name empty at bar $((idx - 1))" \
      "$(field "$out" $((idx - 1)) "$name")" ""
    expect_eq "constant: $name empty at bar 0" "$(field "$out" 0 "$name")" ""
  fi
  if [[ -z "$(field "$out" "$idx" "$name")" ]]; then
    fail "constant: $name empty at its first valid bar $idx"
  fi
done

# By hand, at the last bar: every average is the constant, the bands have
# zero width, MACD is 0, RSI is 0 (TA-Lib: gain + loss == 0 gives 0), the
# stochastic is 0 (HH == LL), ATR is 0 and ADX is 0 (TR is 0, so no DX).
for name in sma_20 sma_50 sma_100 sma_200 ema_12 ema_26 ema_50 \
  bb_upper bb_middle bb_lower vwap; do
  expect_eq "constant: $name" "$(field "$out" 209 "$name")" 100
done
for name in rsi_14 macd macd_signal macd_hist stoch_k stoch_d atr_14 adx_14; do
  expect_eq "constant: $name" "$(field "$out" 209 "$name")" 0
done
expect_eq "constant: open_time echoed" "$(field "$out" 209 open_time)" \
  1705289340000

# -- a ramp: close i + 1, high close + 0.5, low close - 0.5, volume 1 --------
out=$tmp/ramp.csv
"$csp" indicators --input - <"$data/indicators_ramp.csv" >"$out"
expect_eq "ramp: exit status" "$?" 0
expect_eq "ramp: rows" "$(($(wc -l <"$out") - 1))" 30
# SMA 20 at bar 19: mean(1..20).
expect_eq "ramp: sma_20" "$(field "$out" 19 sma_20)" 10.5
expect_eq "ramp: bb_middle" "$(field "$out" 19 bb_middle)" 10.5
# EMA 12 seed at bar 11: mean(1..12); then c - 5.5 exactly on a ramp.
expect_eq "ramp: ema_12 seed" "$(field "$out" 11 ema_12)" 6.5
expect_eq "ramp: ema_12" "$(field "$out" 12 ema_12)" 7.5
# Only gains: RSI 100.
expect_eq "ramp: rsi_14" "$(field "$out" 14 rsi_14)" 100
# Every true range is |previous close - high| = 1.5.
expect_eq "ramp: atr_14" "$(field "$out" 14 atr_14)" 1.5
expect_eq "ramp: atr_14 later" "$(field "$out" 29 atr_14)" 1.5
# Only +DM: DX is 100 on every bar.
expect_eq "ramp: adx_14" "$(field "$out" 27 adx_14)" 100
# Typical price equals the close: VWAP of bar 3 = mean(1..4).
expect_eq "ramp: vwap" "$(field "$out" 3 vwap)" 2.5
# Bollinger: population stddev of 1..20 is sqrt(399 / 12); bands within 1e-9.
awk -F, 'NR == 21 {
  sd = sqrt(399 / 12)
  if (($13 - (10.5 + 2 * sd))^2 > 1e-18 || ($15 - (10.5 - 2 * sd))^2 > 1e-18)
    exit 1 }' "$out" || fail "ramp: bollinger bands"
# Stochastic: (c - (c - 13.5)) / (14 / 100) = 96.428571... within 1e-9.
awk -F, 'NR == 20 {
  if (($16 - 1350 / 14)^2 > 1e-18 || ($17 - 1350 / 14)^2 > 1e-18) exit 1
}' "$out" || fail "ramp: stochastic"

# -- VWAP resets at 00:00 UTC ----------------------------------------------------
printf '%s\n%s\n%s\n' "$header_in" \
  "1705363140000,10,11,9,10,1" "1705363200000,20,21,19,20,3" \
  >"$tmp/midnight.csv"
"$csp" indicators --input "$tmp/midnight.csv" >"$tmp/out" 2>/dev/null
expect_eq "midnight: before" "$(field "$tmp/out" 0 vwap)" 10
expect_eq "midnight: after reset" "$(field "$tmp/out" 1 vwap)" 20
# Zero volume: VWAP is null, not 0.
printf '%s\n%s\n' "$header_in" "0,1,1,1,1,0" >"$tmp/zero.csv"
"$csp" indicators --input "$tmp/zero.csv" >"$tmp/out" 2>/dev/null
expect_eq "zero volume: vwap" "$(field "$tmp/out" 0 vwap)" ""

# -- bad input: exit 1 and stderr names the line ---------------------------------
# bad_case <name> <expected line> <csv text>
bad_case() {
  printf '%s' "$3" >"$tmp/bad.csv"
  "$csp" indicators --input "$tmp/bad.csv" >/dev/null 2>"$tmp/err"
  local rc=$?
  expect_eq "$1: exit status" "$rc" 1
  if ! grep -q "line $2:" "$tmp/err"; then
    fail "$1: stderr does not name line $2: '$(cat "$tmp/err")'"
  fi
}

ok1="1705276800000,1,2,0.5,1.5,10"
bad_case "empty input (missing header)" 1 ""
bad_case "wrong header" 1 "time,open,high,low,close,volume
$ok1
"
bad_case "header only missing a column" 1 "open_time,open,high,low,close
"
bad_case "too few columns" 3 "$header_in
$ok1
1705276860000,1,2,0.5,1.5
"
bad_case "too many columns" 2 "$header_in
1705276800000,1,2,0.5,1.5,10,7
"
bad_case "empty line" 3 "$header_in
$ok1

"
bad_case "non-numeric price" 2 "$header_in
1705276800000,1,abc,0.5,1.5,10
"
bad_case "empty field" 2 "$header_in
1705276800000,1,2,,1.5,10
"
bad_case "price with spaces" 2 "$header_in
1705276800000,1, 2,0.5,1.5,10
"
bad_case "non-integer open_time" 2 "$header_in
1705276800000.5,1,2,0.5,1.5,10
"
bad_case "non-numeric open_time" 2 "$header_in
yesterday,1,2,0.5,1.5,10
"
bad_case "infinite price" 2 "$header_in
1705276800000,1,inf,0.5,1.5,10
"
bad_case "nan close" 2 "$header_in
1705276800000,1,2,0.5,nan,10
"
bad_case "overflowing volume" 2 "$header_in
1705276800000,1,2,0.5,1.5,1e999
"
bad_case "high below low" 3 "$header_in
$ok1
1705276860000,1,1,2,1.5,10
"
bad_case "close outside the range" 2 "$header_in
1705276800000,1,2,0.5,2.5,10
"
bad_case "open_time repeated" 3 "$header_in
$ok1
$ok1
"
bad_case "open_time decreasing" 4 "$header_in
$ok1
1705276860000,1,2,0.5,1.5,10
1705276830000,1,2,0.5,1.5,10
"
bad_case "negative volume" 2 "$header_in
1705276800000,1,2,0.5,1.5,-0.1
"

# The message says what is wrong, not only where.
printf '%s\n%s\n' "$header_in" "1705276800000,1,2,0.5,1.5,-3" >"$tmp/bad.csv"
"$csp" indicators --input "$tmp/bad.csv" >/dev/null 2>"$tmp/err"
grep -q "negative volume" "$tmp/err" || fail "negative volume: message"
printf '%s\n%s\n' "$header_in" "1705276800000,1,2,3,1.5,1" >"$tmp/bad.csv"
"$csp" indicators --input "$tmp/bad.csv" >/dev/null 2>"$tmp/err"
grep -q "high 2 < low 3" "$tmp/err" || fail "high < low: message"

# -- usage errors: exit 2 ----------------------------------------------------------
"$csp" indicators >/dev/null 2>&1
expect_eq "missing --input: exit status" "$?" 2
"$csp" indicators --input >/dev/null 2>&1
expect_eq "--input without a value: exit status" "$?" 2
"$csp" indicators --input "$tmp/does-not-exist.csv" >/dev/null 2>"$tmp/err"
expect_eq "missing file: exit status" "$?" 2
grep -q "does-not-exist.csv" "$tmp/err" || fail "missing file: message"
"$csp" indicators --input "$tmp" >/dev/null 2>&1
expect_eq "directory: exit status" "$?" 2
"$csp" indicators --input "$data/indicators_ramp.csv" --bogus >/dev/null 2>&1
expect_eq "unknown option: exit status" "$?" 2

finish "indicators CLI"
