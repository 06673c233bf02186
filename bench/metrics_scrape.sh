#!/usr/bin/env bash
# /metrics with many symbols: starts the loopback simulator and a node with
# N Binance symbols on a scratch database, waits until every symbol has its
# series, then measures
#   - the scrape: size, series, and the time of sequential scrapes of the
#     API port's /metrics (curl time_total: connect to last byte), plain
#     and then asking for gzip as Prometheus does (curl --compressed: size
#     on the wire, time including inflating);
#   - what scraping costs the node: its CPU seconds (utime + stime from
#     /proc) over alternating windows without scraping and with one scrape
#     per second, same feed, same run.
# Results in BENCHMARKS.md.
#
# Usage: bench/metrics_scrape.sh [build-dir] [--symbols N] [--rate N]
#          [--window-s N] [--rounds N] [--scrapes N]
# Defaults: 1000 symbols, 2000 trades/s in total, 4 rounds of two 15 s
# windows, 100 sequential scrapes. Loopback only; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/exchange_sim/sim_port.sh
build=build
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then build=$1; shift; fi
symbols_n=1000 rate=2000 window=15 rounds=4 scrapes=100
while [ $# -gt 0 ]; do
  case $1 in
    --symbols) symbols_n=$2 ;;
    --rate) rate=$2 ;;
    --window-s) window=$2 ;;
    --rounds) rounds=$2 ;;
    --scrapes) scrapes=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
csp=$build/app/csp
sim=$build/tools/exchange_sim/csp-exchange-sim

source bench/scratch_db.sh csp_bench_metrics 12

symbols=$(python3 -c "print(','.join(f'S{i:04d}USDT' for i in range($symbols_n)))")
total_s=$(( 60 + rounds * 2 * window + 120 ))
"$sim" --listen 127.0.0.1:0 --symbols "$symbols" --stocks "" --rate "$rate" \
  --seed 3 --duration-s "$total_s" >"$work/sim.out" 2>&1 &
pids+=($!)
port=$(sim_port "$work/sim.out") || { echo "simulator did not start"; cat "$work/sim.out"; exit 1; }
(cd "$work" && exec "$OLDPWD/$csp" run --binance-ws-url "ws://127.0.0.1:$port" \
  --binance-rest-url "http://127.0.0.1:$port" --symbols "$symbols" --stocks "" \
  --metrics-port 0 --api-port 0 --duration-s "$total_s") >"$work/node.out" 2>&1 &
node=$!
pids+=($node)
api=
for _ in $(seq 1 600); do
  api=$(grep -o 'chart and API on http://127.0.0.1:[0-9]*' "$work/node.out" | head -1 | grep -o '[0-9]*$' || true)
  [ -n "$api" ] && break
  sleep 0.1
done
[ -n "$api" ] || { echo "node did not start"; tail -20 "$work/node.out"; exit 1; }
url="http://127.0.0.1:$api/metrics"

# Every symbol has its trades_received_total series (bounded wait).
for _ in $(seq 1 120); do
  have=$(curl -s "$url" | grep -c '^trades_received_total{' || true)
  [ "$have" -ge "$symbols_n" ] && break
  sleep 1
done
echo "symbols with trades: $have of $symbols_n"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$node/stat"; }
hz=$(getconf CLK_TCK)

# Alternating windows: idle (no scrape) and scraped (one per second).
idle=0 scraped=0 n_scraped=0
for r in $(seq 1 "$rounds"); do
  a=$(cpu_ticks); sleep "$window"; b=$(cpu_ticks)
  idle=$((idle + b - a))
  a=$(cpu_ticks)
  end=$(( $(date +%s) + window ))
  while [ "$(date +%s)" -lt "$end" ]; do
    curl -s -o /dev/null "$url"; n_scraped=$((n_scraped + 1)); sleep 1
  done
  b=$(cpu_ticks)
  scraped=$((scraped + b - a))
done

# Sequential scrapes: time and size.
: >"$work/times"
for _ in $(seq 1 "$scrapes"); do
  curl -s -o "$work/body" -w '%{time_total} %{size_download}\n' "$url" >>"$work/times"
done
series=$(grep -vc '^#' "$work/body")
: >"$work/times_gz"
for _ in $(seq 1 "$scrapes"); do
  curl -s --compressed -o /dev/null -w '%{time_total} %{size_download}\n' \
    "$url" >>"$work/times_gz"
done
python3 - "$work/times" "$idle" "$scraped" "$n_scraped" "$hz" "$rounds" "$window" \
  "$series" "$symbols_n" "$rate" "$work/times_gz" <<'PY'
import sys
times, idle, scraped, n_scraped, hz, rounds, window, series, syms, rate, \
    times_gz = sys.argv[1:]

def load(path):
    rows = [l.split() for l in open(path) if l.strip()]
    return sorted(float(r[0]) * 1000 for r in rows), int(rows[-1][1])

def quantiles(t):
    q = lambda p: t[min(len(t) - 1, int(p * len(t)))]
    return (f"p50 {q(0.5):.1f} ms, p90 {q(0.9):.1f} ms, "
            f"p99 {q(0.99):.1f} ms, max {t[-1]:.1f} ms")

t, size = load(times)
tz, size_gz = load(times_gz)
idle_s, scraped_s = int(idle) / int(hz), int(scraped) / int(hz)
span = int(rounds) * int(window)
per_scrape = (scraped_s - idle_s) / max(1, int(n_scraped))
print(f"symbols {syms}, feed {rate} trades/s, {series} series, "
      f"{size} bytes per scrape")
print(f"scrape time over {len(t)} scrapes: {quantiles(t)}")
print(f"asking for gzip, {size_gz} bytes on the wire: over {len(tz)} "
      f"scrapes: {quantiles(tz)}")
print(f"node CPU: {idle_s / span * 100:.1f}% without scraping, "
      f"{scraped_s / span * 100:.1f}% with a scrape per second "
      f"({int(n_scraped)} scrapes in {span} s)")
print(f"CPU per scrape (difference / scrapes): {per_scrape * 1000:.1f} ms; "
      f"at Prometheus' 15 s interval that is "
      f"{per_scrape / 15 / max(1e-9, idle_s / span) * 100:.2f}% of the "
      f"node's ingest CPU")
PY
