# Sourced by integration tests: a private PostgreSQL 15 cluster in a test's
# own folder, so a test may stop and start "the database" without touching
# the server other tests use. Needs root (the cluster runs as postgres).
#   pg_cluster_init DIR      initdb (trust auth, loopback) and pick a port
#   pg_cluster_start / pg_cluster_stop
# Sets PG_CLUSTER_DIR and PG_CLUSTER_PORT.
pg_bin=/usr/lib/postgresql/15/bin

# A random port for a test's server, below the kernel's ephemeral range:
# a port in that range can be taken at any moment as the local end of some
# outgoing connection (a benchmark's thousands of clients), and a server
# restarted on it later would fail to bind.
test_listen_port() {
  local low=32768 high
  read -r low high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  local top=$(( low > 12000 ? low - 100 : 12000 ))
  echo $(( 10000 + RANDOM % (top - 10000) ))
}

pg_cluster_init() {
  PG_CLUSTER_DIR=$1
  mkdir -p "$PG_CLUSTER_DIR"
  chmod 755 "$(dirname "$PG_CLUSTER_DIR")"
  chown postgres:postgres "$PG_CLUSTER_DIR"
  chmod 700 "$PG_CLUSTER_DIR"
  runuser -u postgres -- "$pg_bin/initdb" -D "$PG_CLUSTER_DIR" -U postgres \
    --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null || return 1
  # A free loopback port: nothing answers there now.
  for _ in $(seq 1 50); do
    PG_CLUSTER_PORT=$(test_listen_port)
    "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$PG_CLUSTER_PORT" -t 1 || break
  done
  cat >>"$PG_CLUSTER_DIR/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_CLUSTER_PORT
unix_socket_directories = '$PG_CLUSTER_DIR'
fsync = off
CONF
}

pg_cluster_start() {
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$PG_CLUSTER_DIR" \
    -l "$PG_CLUSTER_DIR/server.log" -w -t 60 start >/dev/null
}

pg_cluster_stop() {
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$PG_CLUSTER_DIR" -m fast -w \
    stop >/dev/null 2>&1
}

pg_cluster_psql() { # sql -> rows (tab-free, '|' separated)
  psql -X -q -At -h 127.0.0.1 -p "$PG_CLUSTER_PORT" -U postgres -d csp_it -c "$1"
}
