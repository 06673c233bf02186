# Sourced by the scripts that start csp-exchange-sim with its output in a
# file: sim_port FILE waits (at most 10 s) for the simulator's
# "listening on 127.0.0.1:PORT" line in FILE and prints PORT; it fails when
# the line does not come.
sim_port() {
  local port
  for _ in $(seq 1 100); do
    port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$1" 2>/dev/null | head -1 | cut -d: -f2 || true)
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.1
  done
  return 1
}
