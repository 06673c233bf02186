#!/usr/bin/env bash
# `csp run` logs to logs/app_<UTC date>.log under its working directory (or
# the config's log.dir): JSON lines with the documented fields, the file
# printed on the "up" line, a readable console, plain files of earlier days
# gzipped at start-up (zcat | grep ERROR works), expired files deleted and
# other files left alone, the level from the config. A node without
# exchanges, database, cache or API runs for one second each time.
#
# usage: run_log_test.sh <path-to-csp> <tests/data dir>
set -u

csp=$1
# shellcheck source=cli_checks.sh
source "$(dirname "$0")/cli_checks.sh"

# run_node <dir> <config json>: one second of `csp run` in <dir>.
run_node() {
  printf '%s\n' "$2" >"$1/node.json"
  (cd "$1" && timeout 60 "$csp" run --config "$1/node.json" --no-db \
    --no-cache --no-api --metrics-port 0 --duration-s 1 \
    >"$1/out.txt" 2>"$1/err.txt")
}

quiet='"exchanges": {"binance": {"enabled": false}, "yahoo": {"enabled": false}}'

# -- the default directory: logs/ under the working directory -----------------
work=$tmp/node
mkdir -p "$work/logs"
yesterday=$(date -u -d yesterday +%F)
expired=$(date -u -d '40 days ago' +%F)
leftover='{"timestamp":"'$yesterday'T23:00:00.000Z","level":"ERROR","logger":"t","message":"left over"}'
printf '%s\n{"level":"INFO"}\n' "$leftover" >"$work/logs/app_$yesterday.log"
echo old >"$work/logs/app_$expired.log.gz"
echo mine >"$work/logs/app_$expired.txt"

run_node "$work" "{$quiet}"
expect_eq "exit status" "$?" 0
today=$(date -u +%F)
file=$work/logs/app_$today.log
grep -q "log file $file" "$work/out.txt" \
  || fail "the up line does not name $file: $(cat "$work/out.txt")"
[[ -s $file ]] || fail "$file is missing or empty"
# Every line is a JSON object with the seed's fields; the node's start is
# there with its context.
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8")
    .split("\n").filter((l) => l.length > 0);
  let started = 0;
  for (const l of lines) {
    const j = JSON.parse(l);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(j.timestamp))
      throw new Error("timestamp " + j.timestamp);
    if (!["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"].includes(j.level))
      throw new Error("level " + j.level);
    if (typeof j.logger !== "string" || typeof j.message !== "string")
      throw new Error("logger/message in " + l);
    if (j.logger === "node" && j.message === "node started"
        && j.level === "INFO" && typeof j.metrics_port === "number")
      ++started;
  }
  if (started !== 1) throw new Error("node started lines: " + started);
' "$file" || fail "the lines of $file are not as documented"
# The console is readable text, not JSON.
grep -Eq '^[0-9-]{10}T[0-9:.]{12}Z INFO node: node started node="csp"' \
  "$work/err.txt" || fail "console: $(head -3 "$work/err.txt")"
# Yesterday's plain file was gzipped; the seed's recipe finds its error.
[[ ! -e $work/logs/app_$yesterday.log ]] || fail "app_$yesterday.log left plain"
expect_eq "zcat | grep ERROR" \
  "$(zcat "$work/logs/app_$yesterday.log.gz" | grep ERROR)" "$leftover"
[[ ! -e $work/logs/app_$expired.log.gz ]] || fail "expired file kept"
expect_eq "other files" "$(cat "$work/logs/app_$expired.txt")" mine

# -- a second run the same day appends ------------------------------------------
lines_before=$(wc -l <"$file")
run_node "$work" "{$quiet}"
expect_eq "second exit status" "$?" 0
(($(wc -l <"$file") > lines_before)) || fail "the second run did not append"
[[ ! -e $file.gz ]] || fail "today's file was compressed"

# -- log.dir and log.level from the config ---------------------------------------
custom=$tmp/elsewhere/csp-logs
run_node "$tmp" "{\"log\": {\"dir\": \"$custom\", \"level\": \"warning\"}, $quiet}"
expect_eq "custom exit status" "$?" 0
grep -q "log file $custom/app_$today.log" "$tmp/out.txt" \
  || fail "the up line does not name $custom: $(cat "$tmp/out.txt")"
[[ -e $custom/app_$today.log ]] || fail "no file in $custom"
[[ ! -e $tmp/logs ]] || fail "logs/ created although log.dir is set"
if grep -q '"level":"INFO"' "$custom/app_$today.log"; then
  fail "INFO lines written at level warning"
fi
if grep -q 'INFO' "$tmp/err.txt"; then
  fail "INFO on the console at level warning"
fi

# -- a directory that cannot be created ------------------------------------------
touch "$tmp/plain-file"
run_node "$tmp" "{\"log\": {\"dir\": \"$tmp/plain-file/sub\"}, $quiet}"
expect_eq "unusable dir exit status" "$?" 1
grep -q "cannot open the log" "$tmp/err.txt" \
  || fail "no clear error for an unusable log dir: $(cat "$tmp/err.txt")"

finish "csp run logs"
