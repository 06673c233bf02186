#!/usr/bin/env bash
# The platform's main job. Installs what is missing and builds; then
#   ./scripts/run.sh <csp command> [options]   runs that csp command, e.g.
#   ./scripts/run.sh bars --timeframe 1m --input trades.jsonl
# and without arguments runs the offline pipeline on the bundled sample:
# trades -> 1m bars -> indicators, printing a summary.
# Idempotent: a second run reuses the installed packages and the build.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh build >/dev/null
echo "run.sh: build ready (build/app/csp)"
csp=build/app/csp

if [ $# -gt 0 ]; then
  exec "$csp" "$@"
fi

out=.data/run
mkdir -p "$out"
sample=$out/sample_trades.jsonl
# Six hours of deterministic synthetic Binance trade events, two symbols.
awk 'BEGIN {
  seed = 12345; t = 1705276800000; btc = 42000; eth = 2500; n = 0; bid = 1000; eid = 5000
  while (t < 1705276800000 + 6 * 3600000) {
    seed = (seed * 1103515245 + 12345) % 2147483648; r = seed / 2147483648
    t += int(r * 4000) + 1; btc *= 1 + (r - 0.5) / 500; eth *= 1 + (0.5 - r) / 400
    n++; eth_trade = (n % 3 == 0); sym = eth_trade ? "ETHUSDT" : "BTCUSDT"; p = eth_trade ? eth : btc; id = eth_trade ? eid++ : bid++
    printf "{\"e\":\"trade\",\"E\":%.0f,\"s\":\"%s\",\"t\":%d,\"p\":\"%.2f\",\"q\":\"%.4f\",\"T\":%.0f,\"m\":%s,\"M\":true}\n",
      t + 3, sym, id, p, r * 2 + 0.0001, t, (r < 0.5) ? "true" : "false"
  }
}' >"$sample"
"$csp" bars --timeframe 1m --input "$sample" >"$out/bars_1m.csv"
# Indicators read open_time,open,high,low,close,volume: one symbol's bars.
awk -F, 'NR==1{print "open_time,open,high,low,close,volume"; next}
         $1=="BTCUSDT"{print $2","$4","$5","$6","$7","$8}' \
  "$out/bars_1m.csv" >"$out/btcusdt_1m.csv"
"$csp" indicators --input "$out/btcusdt_1m.csv" >"$out/btcusdt_indicators.csv"

echo
echo "== summary"
echo "trades:     $(wc -l <"$sample") lines from $sample"
echo "1m bars:    $(($(wc -l <"$out/bars_1m.csv") - 1)) rows -> $out/bars_1m.csv"
echo "indicators: $(($(wc -l <"$out/btcusdt_indicators.csv") - 1)) rows -> $out/btcusdt_indicators.csv"
echo "last BTCUSDT indicator row:"
tail -n 1 "$out/btcusdt_indicators.csv"
echo "run.sh: done"
