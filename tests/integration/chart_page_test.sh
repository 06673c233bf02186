#!/usr/bin/env bash
# The live chart page end to end: csp-exchange-sim -> csp run (with its API,
# PostgreSQL and Redis) -> Debian's headless Chromium opening the page the
# node serves. The browser test (tests/web/chart_page_test.mjs) checks that
# candles are drawn and that a live update changes the last bar; its
# screenshot is kept in the artifact directory. Then a symbol is added at
# run time through the admin endpoint and the collector follows it without
# a restart.
# Usage: chart_page_test.sh <csp> <csp-exchange-sim> <artifact-dir>
# Needs DB_* and REDIS_URL (scripts/services.sh env), node and chromium.
set -u
csp=$(readlink -f "$1")
sim=$(readlink -f "$2")
artifacts=$3
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tools/exchange_sim/sim_port.sh"
work=$(mktemp -d)
db="csp_test_chart_$$"
pids=()
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }
psql_admin() {
  PGPASSWORD=${DB_PASSWORD:-} psql -X -q -At -h "${DB_HOST:-127.0.0.1}" \
    -p "${DB_PORT:-5432}" -U "${DB_USER:-csp}" -d postgres "$@"
}
# A Redis database of its own (index 9), emptied before and after.
redis_url=${REDIS_URL:-redis://127.0.0.1:6379}
redis_url="${redis_url%/}"
case "$redis_url" in
  redis://*/*) redis_url="${redis_url%/*}/9" ;;
  *) redis_url="$redis_url/9" ;;
esac
redis_flush() {
  local hostport=${redis_url#redis://}
  hostport=${hostport#*@}
  hostport=${hostport%/*}
  redis-cli -h "${hostport%:*}" -p "${hostport##*:}" -n 9 FLUSHDB >/dev/null 2>&1
}
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  redis_flush
  rm -rf "$work"
}
trap cleanup EXIT

command -v node >/dev/null || { echo "FAIL: node is not installed"; exit 1; }
[ -x /usr/bin/chromium ] || { echo "FAIL: chromium is not installed"; exit 1; }
[ -d "$root/web/node_modules/playwright-core" ] \
  || { echo "FAIL: web/node_modules missing (scripts/install-deps.sh)"; exit 1; }
mkdir -p "$artifacts"
psql_admin -c "CREATE DATABASE $db" >/dev/null || { echo "FAIL: cannot create $db"; exit 1; }
redis_flush

"$sim" --listen 127.0.0.1:0 --symbols BTCUSDT,ETHUSDT,SOLUSDT --stocks "" --rate 60 \
  --seed 7 --duration-s 150 >"$work/sim.out" 2>&1 &
pids+=($!)
port=$(sim_port "$work/sim.out") || { echo "FAIL: simulator did not start"; cat "$work/sim.out"; exit 1; }

secret="chart-test-secret-$$"
(cd "$work" && DB_NAME=$db REDIS_URL=$redis_url JWT_SECRET=$secret exec "$csp" run \
  --binance-ws-url "ws://127.0.0.1:$port" --binance-rest-url "http://127.0.0.1:$port" \
  --symbols BTCUSDT,ETHUSDT --stocks "" --metrics-port 0 --api-port 0 \
  --duration-s 140) >"$work/node.out" 2>&1 &
pids+=($!)
api=
for _ in $(seq 1 300); do
  api=$(grep -o 'chart and API on http://127.0.0.1:[0-9]*' "$work/node.out" | head -1 | grep -o '[0-9]*$')
  [ -n "$api" ] && break
  sleep 0.1
done
[ -n "$api" ] || { echo "FAIL: the node's API did not start"; cat "$work/node.out"; exit 1; }
ok "node serving on 127.0.0.1:$api"

# The page needs a bar to draw: wait until the forming bar is live.
health=
for _ in $(seq 1 150); do
  health=$(curl -s "http://127.0.0.1:$api/api/v1/health" || true)
  case "$health" in *'"feed.binance"'*) break ;; esac
  sleep 0.2
done
case "$health" in
  *'"feed.binance"'*) ok "bars are flowing (health: $health)" ;;
  *) bad "no bars reached the API: $health" ;;
esac

if node "$root/tests/web/chart_page_test.mjs" "http://127.0.0.1:$api" \
    "$artifacts/chart_page.png" --symbol BTCUSDT --timeframe 1m \
    --timeout-ms 30000; then
  ok "chart page renders and updates live (screenshot $artifacts/chart_page.png)"
else
  bad "chart page test failed (screenshot $artifacts/chart_page.png)"
  tail -20 "$work/node.out"
fi

# An admin token (HS256, signed here with Node's crypto) adds SOLUSDT.
token=$(SECRET=$secret node -e '
const c = require("crypto");
const b = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
const h = b({alg: "HS256", typ: "JWT"});
const p = b({sub: "ops", role: "admin", exp: Math.floor(Date.now() / 1000) + 300});
const s = c.createHmac("sha256", process.env.SECRET).update(h + "." + p).digest("base64url");
console.log(h + "." + p + "." + s);')
code=$(curl -s -o "$work/add.json" -w '%{http_code}' -X POST \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"exchange":"binance","symbol":"SOLUSDT"}' \
  "http://127.0.0.1:$api/api/v1/admin/symbols")
[ "$code" = 201 ] && ok "admin added SOLUSDT" || bad "admin add answered $code: $(cat "$work/add.json")"
seen=0
for _ in $(seq 1 100); do
  if curl -s "http://127.0.0.1:$api/metrics" \
      | grep -q 'trades_received_total{exchange="binance",symbol="SOLUSDT"}'; then
    seen=1; break
  fi
  sleep 0.2
done
[ "$seen" = 1 ] && ok "the collector streams SOLUSDT without a restart" \
  || bad "no SOLUSDT trades after the admin add"
listed=$(curl -s "http://127.0.0.1:$api/api/v1/symbols")
case "$listed" in
  *SOLUSDT*) ok "SOLUSDT is listed" ;;
  *) bad "SOLUSDT not in /api/v1/symbols: $listed" ;;
esac
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE \
  -H "Authorization: Bearer $token" \
  "http://127.0.0.1:$api/api/v1/admin/symbols/binance/SOLUSDT")
[ "$code" = 200 ] && ok "admin removed SOLUSDT" || bad "admin remove answered $code"

[ "$fail" -eq 0 ] && echo "chart page: PASSED" || echo "chart page: FAILED"
exit "$fail"
