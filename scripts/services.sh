#!/usr/bin/env bash
# Starts the servers the platform stores into: PostgreSQL 15 and Redis 7 on
# loopback, with their data under .data/ of this checkout. Idempotent:
# servers that already answer are reused, nothing is started twice.
#
#   scripts/services.sh start   start (or reuse) both, create the database
#   scripts/services.sh stop    stop the servers this checkout started
#   scripts/services.sh env     print the environment for the csp binary
#
# External servers instead of local ones: set DB_HOST (and DB_PORT,
# DB_NAME, DB_USER, DB_PASSWORD) and/or REDIS_URL; then nothing is started
# for that server. The local database password is generated on first start
# into .data/secrets/db_password (mode 600, never committed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
data="$root/.data"
pg_bin=/usr/lib/postgresql/15/bin

# The local cluster's port: DB_PORT, else the one chosen on first start
# (5432, or the next free one when another server holds it).
if [ -n "${DB_PORT:-}" ]; then
  db_port=$DB_PORT
elif [ -s "$data/pg_port" ]; then
  db_port=$(cat "$data/pg_port")
else
  db_port=5432
fi
db_name=${DB_NAME:-csp}
db_user=${DB_USER:-csp}
redis_port=6379

log() { echo "services: $*"; }
die() { echo "services: $*" >&2; exit 1; }

# -- PostgreSQL --------------------------------------------------------------

# The cluster's data folder. PostgreSQL refuses to run as root, so the
# cluster belongs to the postgres user; when that user cannot reach this
# checkout (a parent folder closed to others), the data lives under
# /var/lib/postgresql/csp-<hash> and .data/pg links to it.
pg_dir() {
  if [ -L "$data/pg" ] || [ -d "$data/pg" ]; then
    readlink -f "$data/pg"
    return
  fi
  mkdir -p "$data"
  if (cd / && runuser -u postgres -- test -x "$data"); then
    mkdir -p "$data/pg"
  else
    local alt
    alt="/var/lib/postgresql/csp-$(echo -n "$root" | md5sum | cut -c1-12)"
    mkdir -p "$alt"
    ln -sfn "$alt" "$data/pg"
  fi
  readlink -f "$data/pg"
}

db_password() {
  if [ -n "${DB_PASSWORD:-}" ]; then
    echo "$DB_PASSWORD"
    return
  fi
  mkdir -p "$data/secrets"
  chmod 700 "$data/secrets"
  if [ ! -s "$data/secrets/db_password" ]; then
    (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' \
      >"$data/secrets/db_password")
  fi
  cat "$data/secrets/db_password"
}

pg_ready() {
  "$pg_bin/pg_isready" -q -h "${DB_HOST:-127.0.0.1}" -p "$db_port" -t 2
}

as_postgres() { (cd / && runuser -u postgres -- "$@"); }

start_postgres() {
  if [ -n "${DB_HOST:-}" ]; then
    pg_ready || die "external PostgreSQL at $DB_HOST:$db_port does not answer"
    log "PostgreSQL: using external server $DB_HOST:$db_port"
    return
  fi
  local dir pw sock
  dir=$(pg_dir)
  sock="$dir/run"
  pw=$(db_password)
  if [ ! -f "$dir/PG_VERSION" ]; then
    if [ -z "${DB_PORT:-}" ]; then
      while pg_ready && [ "$db_port" -lt 5442 ]; do db_port=$((db_port + 1)); done
      echo "$db_port" >"$data/pg_port"
    fi
    log "PostgreSQL: initialising cluster in $dir"
    chown postgres:postgres "$dir"
    chmod 700 "$dir"
    as_postgres "$pg_bin/initdb" -D "$dir" -U postgres --auth-local=peer \
      --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$dir/postgresql.conf" <<CONF
# csp: loopback only, sized for a development machine
listen_addresses = '127.0.0.1'
port = $db_port
unix_socket_directories = '$sock'
max_connections = 200
shared_buffers = 256MB
synchronous_commit = off
# Write-heavy ingest: checkpoints every 15 minutes instead of every few
# seconds of WAL (after each one, the first change of every page logs the
# whole page), and those page images compressed.
max_wal_size = 4GB
checkpoint_timeout = 15min
wal_compression = lz4
wal_buffers = 64MB
CONF
  fi
  if as_postgres "$pg_bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    log "PostgreSQL: already running ($dir, port $db_port)"
  else
    if pg_ready; then
      die "another PostgreSQL answers on 127.0.0.1:$db_port; stop it, or set \
DB_HOST/DB_PORT/DB_PASSWORD to use it"
    fi
    as_postgres mkdir -p "$sock"
    as_postgres "$pg_bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      start >/dev/null || { tail -20 "$dir/server.log"; die "PostgreSQL did not start"; }
    log "PostgreSQL: started ($dir, port $db_port)"
  fi
  # Role and database, created once; the password follows DB_PASSWORD.
  local esc=${pw//\'/\'\'}
  as_postgres psql -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$db_port" \
    -d postgres <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$db_user') THEN
    CREATE ROLE "$db_user" LOGIN CREATEDB;
  END IF;
END \$\$;
ALTER ROLE "$db_user" PASSWORD '$esc';
SQL
  if ! as_postgres psql -X -tA -h "$sock" -p "$db_port" -d postgres \
      -c "SELECT 1 FROM pg_database WHERE datname = '$db_name'" | grep -q 1; then
    as_postgres createdb -h "$sock" -p "$db_port" -O "$db_user" "$db_name"
    log "PostgreSQL: created database $db_name"
  fi
}

stop_postgres() {
  [ -e "$data/pg" ] || return 0
  local dir
  dir=$(readlink -f "$data/pg")
  if [ -f "$dir/PG_VERSION" ] \
      && as_postgres "$pg_bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_postgres "$pg_bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
    log "PostgreSQL: stopped"
  fi
}

# -- Redis -------------------------------------------------------------------

redis_ready() { redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null | grep -q PONG; }

start_redis() {
  if [ -n "${REDIS_URL:-}" ]; then
    log "Redis: using $REDIS_URL"
    return
  fi
  if redis_ready; then
    log "Redis: already running (127.0.0.1:$redis_port)"
    return
  fi
  mkdir -p "$data/redis"
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$data/redis" \
    --daemonize yes --pidfile "$data/redis/redis.pid" \
    --logfile "$data/redis/redis.log" --save "" --appendonly no \
    --maxmemory 512mb --maxmemory-policy allkeys-lru >/dev/null
  for _ in $(seq 1 50); do
    redis_ready && { log "Redis: started (127.0.0.1:$redis_port)"; return; }
    sleep 0.1
  done
  tail -20 "$data/redis/redis.log" || true
  die "Redis did not start"
}

stop_redis() {
  if [ -f "$data/redis/redis.pid" ] && kill -0 "$(cat "$data/redis/redis.pid")" 2>/dev/null; then
    redis-cli -h 127.0.0.1 -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
    log "Redis: stopped"
  fi
}

print_env() {
  echo "export DB_HOST=${DB_HOST:-127.0.0.1}"
  echo "export DB_PORT=$db_port"
  echo "export DB_NAME=$db_name"
  echo "export DB_USER=$db_user"
  echo "export DB_PASSWORD='$(db_password)'"
  echo "export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:$redis_port}"
}

case "${1:-start}" in
  start) start_postgres; start_redis ;;
  stop) stop_redis; stop_postgres ;;
  env) print_env ;;
  *) die "usage: $0 start|stop|env" ;;
esac
