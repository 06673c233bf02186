# Sourced by the benchmark scripts that run a node against real servers:
#   source bench/scratch_db.sh DB_NAME REDIS_INDEX
# Starts (or reuses) this checkout's PostgreSQL and Redis, or uses external
# ones given by DB_HOST/REDIS_URL; exports the node's settings with a
# scratch database DB_NAME (created empty, migrated by `$csp migrate`) and
# the Redis database REDIS_INDEX (flushed); gives `work` (a temporary
# folder), `pids` (processes to stop), `psql_db DB ARGS...`, and a cleanup
# on exit that stops the processes and drops both. Needs `$csp`.
./scripts/services.sh start >/dev/null
eval "$(./scripts/services.sh env)"
export PGPASSWORD=$DB_PASSWORD
export DB_NAME=$1
redis_base=${REDIS_URL%/}
[[ $redis_base =~ /[0-9]+$ ]] && redis_base=${redis_base%/*}
export REDIS_URL=$redis_base/$2
work=$(mktemp -d)
pids=()
psql_db() { psql -X -q -At -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$1" "${@:2}"; }
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  psql_db postgres -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" || true
  redis-cli -u "$REDIS_URL" FLUSHDB >/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
psql_db postgres -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" 2>/dev/null
psql_db postgres -c "CREATE DATABASE $DB_NAME"
redis-cli -u "$REDIS_URL" FLUSHDB >/dev/null
"$csp" migrate >/dev/null
