#!/usr/bin/env bash
# Starts the monitoring stack on loopback next to a local node: Prometheus
# (monitoring/prometheus.local.yml and the alert rules of monitoring/alerts),
# Alertmanager (monitoring/alertmanager.yml) and the PostgreSQL and Redis
# exporters, so the `timescaledb` and `redis` scrape jobs are real. State
# and logs under .data/monitoring/. Idempotent: what runs is kept and its
# configuration reloaded.
#
#   scripts/monitoring.sh start   start (or reload) all four
#   scripts/monitoring.sh stop    stop what this checkout started
#   scripts/monitoring.sh urls    print where they listen
#
# Needs the database and Redis settings of scripts/services.sh env in the
# environment (DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD, REDIS_URL).
# Environment (defaults in brackets):
#   CSP_API_PORT [8000]        the node Prometheus scrapes as job "api"
#   PROMETHEUS_PORT [9090], ALERTMANAGER_PORT [9093],
#   PG_EXPORTER_PORT [9187], REDIS_EXPORTER_PORT [9121]
#                              a port held by another program moves to the
#                              next free one (printed by `urls`)
#   ALERT_SMTP_PASSWORD, ALERT_SLACK_WEBHOOK_URL
#                              written to .data/monitoring/secrets/ (mode
#                              600) for Alertmanager's *_file settings
#   CSP_MON_DIR                state folder [.data/monitoring]
#   CSP_MON_RULES_DIR          alert rules [monitoring/alerts]
#   CSP_MON_ALERTMANAGER_CONFIG  Alertmanager file [monitoring/alertmanager.yml]
#   CSP_MON_SCRAPE_INTERVAL, CSP_MON_EVAL_INTERVAL
#                              override every scrape / evaluation interval
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir=${CSP_MON_DIR:-$root/.data/monitoring}
rules_dir=$(readlink -f "${CSP_MON_RULES_DIR:-$root/monitoring/alerts}")
am_source=${CSP_MON_ALERTMANAGER_CONFIG:-$root/monitoring/alertmanager.yml}
mkdir -p "$dir"

log() { echo "monitoring: $*"; }
die() { echo "monitoring: $*" >&2; exit 1; }

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() { # name -> pid of ours that still runs
  local f="$dir/$1.pid"
  [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

# The port of a component: the one it used before if it still runs, else
# the wanted one, else the next free one.
pick_port() { # name wanted
  local name=$1 port=$2
  if running "$name" >/dev/null && [ -s "$dir/$name.port" ]; then
    cat "$dir/$name.port"
    return
  fi
  while answers "$port"; do port=$((port + 1)); done
  echo "$port" >"$dir/$name.port"
  echo "$port"
}

wait_port() { # name port
  for _ in $(seq 1 100); do
    answers "$2" && return 0
    running "$1" >/dev/null || break
    sleep 0.1
  done
  tail -20 "$dir/$1.log" >&2 || true
  die "$1 did not start (log: $dir/$1.log)"
}

# Starts a component unless it runs; Prometheus and Alertmanager reload
# their configuration on SIGHUP (the exporters would end on it, and their
# settings do not change).
launch() { # name port command...
  local name=$1 port=$2
  shift 2
  if pid=$(running "$name"); then
    case $name in
      prometheus|alertmanager)
        kill -HUP "$pid" 2>/dev/null || true
        log "$name: running (pid $pid, 127.0.0.1:$port), configuration reloaded" ;;
      *) log "$name: running (pid $pid, 127.0.0.1:$port)" ;;
    esac
    return
  fi
  setsid "$@" >"$dir/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
  wait_port "$name" "$port"
  log "$name: started on 127.0.0.1:$port (log $dir/$name.log)"
}

write_secret() { # file value
  (umask 077; printf '%s' "$2" >"$dir/secrets/$1")
}

start() {
  command -v prometheus >/dev/null || die "prometheus missing: run scripts/install-deps.sh"
  : "${DB_HOST:?run: eval \"\$(scripts/services.sh env)\" first}"
  local prom_port am_port pg_port redis_port api_port
  prom_port=$(pick_port prometheus "${PROMETHEUS_PORT:-9090}")
  am_port=$(pick_port alertmanager "${ALERTMANAGER_PORT:-9093}")
  pg_port=$(pick_port postgres-exporter "${PG_EXPORTER_PORT:-9187}")
  redis_port=$(pick_port redis-exporter "${REDIS_EXPORTER_PORT:-9121}")
  api_port=${CSP_API_PORT:-8000}

  # Prometheus: the local configuration with the ports in use, the rules
  # of the checkout and, when asked, other intervals.
  sed -e "s|127.0.0.1:8000|127.0.0.1:$api_port|" \
      -e "s|127.0.0.1:9090|127.0.0.1:$prom_port|" \
      -e "s|127.0.0.1:9093|127.0.0.1:$am_port|" \
      -e "s|127.0.0.1:9187|127.0.0.1:$pg_port|" \
      -e "s|127.0.0.1:9121|127.0.0.1:$redis_port|" \
      -e "s|'alerts/\*.yml'|'$rules_dir/*.yml'|" \
      monitoring/prometheus.local.yml >"$dir/prometheus.yml"
  if [ -n "${CSP_MON_SCRAPE_INTERVAL:-}" ]; then
    sed -i -E "s/(scrape_interval: ).*/\1$CSP_MON_SCRAPE_INTERVAL/" "$dir/prometheus.yml"
  fi
  if [ -n "${CSP_MON_EVAL_INTERVAL:-}" ]; then
    sed -i -E "s/(evaluation_interval: ).*/\1$CSP_MON_EVAL_INTERVAL/" "$dir/prometheus.yml"
  fi
  promtool check config "$dir/prometheus.yml" >/dev/null \
    || die "generated $dir/prometheus.yml does not check"

  # Alertmanager: secrets from the environment into files, the paths of
  # monitoring/alertmanager.yml pointed at them.
  mkdir -p "$dir/secrets"
  chmod 700 "$dir/secrets"
  write_secret smtp_password "${ALERT_SMTP_PASSWORD:-}"
  write_secret slack_webhook_url "${ALERT_SLACK_WEBHOOK_URL:-http://127.0.0.1:9/slack-webhook-not-configured}"
  sed -e "s|/etc/alertmanager/secrets/|$dir/secrets/|g" "$am_source" \
    >"$dir/alertmanager.yml"
  amtool check-config "$dir/alertmanager.yml" >/dev/null \
    || die "generated $dir/alertmanager.yml does not check"

  local dsn
  dsn="postgresql://$DB_USER:$DB_PASSWORD@$DB_HOST:$DB_PORT/$DB_NAME?sslmode=disable"
  DATA_SOURCE_NAME=$dsn launch postgres-exporter "$pg_port" \
    prometheus-postgres-exporter --web.listen-address="127.0.0.1:$pg_port" \
    --extend.query-path="$root/monitoring/postgres-exporter/queries.yaml"
  launch redis-exporter "$redis_port" prometheus-redis-exporter \
    --web.listen-address="127.0.0.1:$redis_port" \
    --redis.addr="${REDIS_URL:-redis://127.0.0.1:6379}"
  mkdir -p "$dir/alertmanager-data" "$dir/prometheus-data"
  launch alertmanager "$am_port" prometheus-alertmanager \
    --config.file="$dir/alertmanager.yml" \
    --storage.path="$dir/alertmanager-data" \
    --web.listen-address="127.0.0.1:$am_port" \
    --cluster.listen-address=
  launch prometheus "$prom_port" prometheus \
    --config.file="$dir/prometheus.yml" \
    --storage.tsdb.path="$dir/prometheus-data" \
    --web.listen-address="127.0.0.1:$prom_port"
}

stop() {
  local name pid
  for name in prometheus alertmanager redis-exporter postgres-exporter; do
    if pid=$(running "$name"); then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      log "$name: stopped"
    fi
    rm -f "$dir/$name.pid"
  done
}

urls() {
  local p
  p() { cat "$dir/$1.port" 2>/dev/null || echo "$2"; }
  echo "prometheus:   http://127.0.0.1:$(p prometheus 9090)/  (targets: /targets, alerts: /alerts)"
  echo "alertmanager: http://127.0.0.1:$(p alertmanager 9093)/"
  echo "exporters:    http://127.0.0.1:$(p postgres-exporter 9187)/metrics (PostgreSQL)," \
       "http://127.0.0.1:$(p redis-exporter 9121)/metrics (Redis)"
  echo "grafana:      not a Debian package; the dashboards in monitoring/grafana/dashboards"
  echo "              load into any Grafana (docker/docker-compose.yml runs one on :3001)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  urls) urls ;;
  *) echo "usage: $0 start|stop|urls" >&2; exit 2 ;;
esac
