#!/usr/bin/env python3
"""End to end on loopback: the monitoring stack against a live node.

csp-exchange-sim feeds `csp run` (with its own PostgreSQL database and
Redis index); scripts/monitoring.sh starts Prometheus (scraping the node's
API port and both exporters every second), Alertmanager and the exporters,
with the alert rules of monitoring/alerts whose `for` durations are cut to
seconds and whose group intervals to 1 s, and an Alertmanager configuration
with the routing tree of monitoring/alertmanager.yml whose receivers are
webhooks into this test. Then:

1. the simulated exchange stops answering (its process is stopped), the
   Binance collector's circuit opens and stays open or half-open,
   CircuitBreakerOpen fires in Prometheus and reaches the `warning` webhook;
   the exchange resumes and the circuit closes again;
2. every dashboard query returns data through Prometheus' HTTP API, and
   every metric the dashboards and rules name is in Prometheus;
3. the node is stopped: APIDown fires and reaches the `critical` webhook.

Usage: monitoring_test.py <csp> <csp-exchange-sim>
Needs DB_* and REDIS_URL (scripts/services.sh env).
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CSP, SIM = (str(Path(p).resolve()) for p in sys.argv[1:3])
work = Path(tempfile.mkdtemp(prefix="csp-monitoring-"))
db_name = f"csp_test_mon_{os.getpid()}"
procs = []
failures = []
env = dict(os.environ)
mon_env = None


def ok(what):
    print(f"ok: {what}", flush=True)


def bad(what):
    print(f"FAIL: {what}", flush=True)
    failures.append(what)


def psql_admin(sql):
    e = dict(env, PGPASSWORD=env.get("DB_PASSWORD", ""))
    return subprocess.run(
        ["psql", "-X", "-q", "-At", "-h", env.get("DB_HOST", "127.0.0.1"),
         "-p", env.get("DB_PORT", "5432"), "-U", env.get("DB_USER", "csp"),
         "-d", "postgres", "-c", sql], env=e, capture_output=True, text=True)


def redis_url_index(n):
    url = env.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
    base = re.sub(r"/\d+$", "", url)
    return f"{base}/{n}"


def start(args, out, **kw):
    f = open(out, "w")
    p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT, **kw)
    procs.append(p)
    return p


def wait_for(pattern, path, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = re.search(pattern, Path(path).read_text(errors="replace"))
        if m:
            return m
        time.sleep(0.1)
    return None


def http_json(url, data=None, timeout=5):
    req = urllib.request.Request(url, data=data)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read().decode())


# -- the webhook receiver -----------------------------------------------------

received = []   # (receiver path, alert name, status)
received_lock = threading.Lock()


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            doc = json.loads(body)
            with received_lock:
                for a in doc.get("alerts", []):
                    received.append((self.path.strip("/"),
                                     a["labels"].get("alertname"),
                                     a.get("status"), a))
        except (ValueError, KeyError):
            pass
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def hook_got(receiver, alert, status="firing"):
    with received_lock:
        return [a for r, n, s, a in received
                if r == receiver and n == alert and s == status]


# -- Prometheus ---------------------------------------------------------------

def prom_query(prom, expr):
    url = f"http://127.0.0.1:{prom}/api/v1/query?" + urllib.parse.urlencode(
        {"query": expr})
    doc = http_json(url)
    if doc.get("status") != "success":
        raise RuntimeError(f"{expr}: {doc}")
    return doc["data"]["result"]


def firing(prom, alert):
    doc = http_json(f"http://127.0.0.1:{prom}/api/v1/alerts")
    return [a for a in doc["data"]["alerts"]
            if a["labels"].get("alertname") == alert
            and a["state"] == "firing"]


def wait_until(what, cond, timeout):
    """Polls cond() every 0.5 s until it is truthy (returned) or `timeout`
    seconds passed (None; `what` is printed)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            got = cond()
        except (OSError, ValueError, RuntimeError):
            got = None
        if got:
            return got
        time.sleep(0.5)
    print(f"  gave up after {timeout} s: {what}", flush=True)
    return None


def main():
    global mon_env
    r = psql_admin(f"CREATE DATABASE {db_name}")
    if r.returncode != 0:
        bad(f"cannot create database {db_name}: {r.stderr}")
        return
    redis_url = redis_url_index(10)
    subprocess.run(["redis-cli", "-u", redis_url, "FLUSHDB"],
                   capture_output=True)

    # Webhook receiver.
    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    hook_port = hook.server_address[1]

    # Alert rules with short `for` and 1 s evaluation.
    rules_dir = work / "rules"
    rules_dir.mkdir()
    for f in (ROOT / "monitoring" / "alerts").glob("*.yml"):
        doc = yaml.safe_load(f.read_text())
        for g in doc["groups"]:
            g["interval"] = "1s"
            for rule in g["rules"]:
                rule["for"] = "3s"
        (rules_dir / f.name).write_text(yaml.safe_dump(doc, sort_keys=False))

    # Alertmanager: the committed routing tree, webhook receivers.
    am = yaml.safe_load((ROOT / "monitoring" / "alertmanager.yml").read_text())
    am["route"]["group_wait"] = "1s"
    am["route"]["group_interval"] = "1s"
    am["receivers"] = [
        {"name": r["name"], "webhook_configs": [{
            "url": f"http://127.0.0.1:{hook_port}/{r['name']}",
            "send_resolved": True}]} for r in am["receivers"]]
    am_file = work / "alertmanager.yml"
    am_file.write_text(yaml.safe_dump(am, sort_keys=False))

    # Simulator and node.
    sim = start([SIM, "--listen", "127.0.0.1:0", "--symbols", "BTCUSDT,ETHUSDT",
           "--stocks", "", "--rate", "80", "--seed", "5",
           "--duration-s", "400"], work / "sim.out")
    m = wait_for(r"listening on 127\.0\.0\.1:(\d+)", work / "sim.out")
    if not m:
        bad("simulator did not start")
        return
    sim_port = m.group(1)
    (work / "node.json").write_text(json.dumps({"circuit_breaker": {
        "failure_threshold": 1, "open_timeout_ms": 1500,
        "success_threshold": 1, "max_open_timeout_ms": 3000}}))
    node_env = dict(env, DB_NAME=db_name, REDIS_URL=redis_url)
    node = start([CSP, "run", "--config", str(work / "node.json"),
                  "--binance-ws-url", f"ws://127.0.0.1:{sim_port}",
                  "--binance-rest-url", f"http://127.0.0.1:{sim_port}",
                  "--symbols", "BTCUSDT,ETHUSDT", "--stocks", "",
                  "--metrics-port", "0", "--api-port", "0",
                  "--duration-s", "380"],
                 work / "node.out", env=node_env, cwd=work)
    m = wait_for(r"chart and API on http://127\.0\.0\.1:(\d+)/",
                 work / "node.out", 60)
    if not m:
        bad("the node's API did not start: "
            + (work / "node.out").read_text()[-2000:])
        return
    api = m.group(1)
    ok(f"node serving on 127.0.0.1:{api}")

    # The monitoring stack, through the project's own script.
    # Below the kernel's ephemeral range: a port in it can be taken at any
    # moment as the local end of an outgoing connection, and pick_port only
    # sees listeners.
    low = 32768
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range")
                  .read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    span = max(low - 100 - 10000, 1000)
    base = 10000 + os.getpid() % span
    mon_env = dict(env, DB_NAME=db_name, REDIS_URL=redis_url,
                   CSP_API_PORT=api, CSP_MON_DIR=str(work / "mon"),
                   CSP_MON_RULES_DIR=str(rules_dir),
                   CSP_MON_ALERTMANAGER_CONFIG=str(am_file),
                   CSP_MON_SCRAPE_INTERVAL="1s", CSP_MON_EVAL_INTERVAL="1s",
                   PROMETHEUS_PORT=str(base), ALERTMANAGER_PORT=str(base + 10),
                   PG_EXPORTER_PORT=str(base + 20),
                   REDIS_EXPORTER_PORT=str(base + 30))
    r = subprocess.run([str(ROOT / "scripts" / "monitoring.sh"), "start"],
                       env=mon_env, capture_output=True, text=True)
    print(r.stdout + r.stderr, flush=True)
    if r.returncode != 0:
        bad("scripts/monitoring.sh start failed")
        return
    prom = (work / "mon" / "prometheus.port").read_text().strip()

    up = wait_until("all targets up", lambda: len([
        x for x in prom_query(prom, "up == 1")]) >= 4, 60)
    if up:
        ok("Prometheus scrapes the node, both exporters and itself")
    else:
        bad(f"targets not up: {prom_query(prom, 'up')}")

    # Traffic for the API, database and cache series.
    deadline = time.time() + 25
    while time.time() < deadline:
        for path in ("/api/v1/charts/BTCUSDT?timeframe=1m&limit=50",
                     "/api/v1/klines?symbol=ETHUSDT&interval=1m&limit=20",
                     "/api/v1/symbols", "/api/v1/quality/BTCUSDT",
                     "/api/v1/charts/NOSUCH?timeframe=1m"):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{api}{path}",
                                       timeout=5).read()
            except OSError:
                pass
        time.sleep(0.5)

    # 1. A circuit opens: the exchange stops answering (the simulator
    # process is stopped: open connections stall, new ones connect but never
    # complete the handshake, so half-open probes fail too).
    sim.send_signal(signal.SIGSTOP)
    got = wait_until("CircuitBreakerOpen firing",
                     lambda: firing(prom, "CircuitBreakerOpen"), 90)
    if got:
        ok("CircuitBreakerOpen fires for "
           + ", ".join(a["labels"]["collector"] for a in got))
    else:
        bad("CircuitBreakerOpen did not fire; circuit_breaker_state: "
            + json.dumps(prom_query(prom, "circuit_breaker_state")))
    hooked = wait_until("webhook warning",
                        lambda: hook_got("warning", "CircuitBreakerOpen"), 30)
    if hooked:
        desc = hooked[0]["annotations"].get("description", "")
        col = hooked[0]["labels"].get("collector", "")
        if desc == f"Circuit breaker for {col} is open":
            ok(f"the warning receiver got CircuitBreakerOpen: {desc!r}")
        else:
            bad(f"CircuitBreakerOpen description rendered as {desc!r}")
    else:
        bad(f"the warning webhook never got CircuitBreakerOpen ({received})")
    if hook_got("critical", "CircuitBreakerOpen"):
        bad("a warning reached the critical receiver")

    sim.send_signal(signal.SIGCONT)
    closed = wait_until("circuit closed", lambda: prom_query(
        prom, 'max(circuit_breaker_state{collector=~"binance.*"}) == 0'), 90)
    if closed:
        ok("the circuit closed again after the fault was lifted")
    else:
        bad("the circuit did not close again")
    time.sleep(3)   # a few scrapes after the recovery

    # 2. Every dashboard query returns data.
    names = set(http_json(
        f"http://127.0.0.1:{prom}/api/v1/label/__name__/values")["data"])
    empty = []
    n = 0
    for f in sorted((ROOT / "monitoring" / "grafana" /
                     "dashboards").glob("*.json")):
        d = json.loads(f.read_text())
        for p in d["panels"]:
            for t in p["targets"]:
                n += 1
                try:
                    res = prom_query(prom, t["expr"])
                except (OSError, RuntimeError) as e:
                    res = []
                    print(f"  query error {e}")
                if not res:
                    empty.append(f"{d['uid']}/{p['title']}/{t['refId']}: "
                                 f"{t['expr']}")
    if empty:
        bad(f"{len(empty)} of {n} dashboard queries returned no data:\n  "
            + "\n  ".join(empty))
    else:
        ok(f"all {n} dashboard queries return data")
    exporter = [ln.split()[0] for ln in
                (ROOT / "monitoring" / "exporter-metrics.txt").read_text()
                .splitlines() if ln.strip() and not ln.startswith("#")]
    missing = [m for m in exporter if m not in names]
    if missing:
        bad(f"exporter series missing from Prometheus: {missing}")
    else:
        ok(f"the exporters' series are scraped: {', '.join(exporter)}")

    # 3. The API node stops: APIDown fires and reaches the critical receiver.
    node.send_signal(signal.SIGINT)
    try:
        node.wait(30)
    except subprocess.TimeoutExpired:
        node.kill()
    got = wait_until("APIDown firing", lambda: firing(prom, "APIDown"), 60)
    if got:
        ok("APIDown fires after the node stopped")
    else:
        bad("APIDown did not fire")
    hooked = wait_until("webhook critical",
                        lambda: hook_got("critical", "APIDown"), 30)
    if hooked:
        ok("the critical receiver got APIDown: "
           + repr(hooked[0]["annotations"].get("summary")))
    else:
        bad(f"the critical webhook never got APIDown ({received})")


try:
    main()
finally:
    if mon_env is not None:
        subprocess.run([str(ROOT / "scripts" / "monitoring.sh"), "stop"],
                       env=mon_env, capture_output=True)
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGCONT)
            p.terminate()
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
    psql_admin(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")
    subprocess.run(["redis-cli", "-u", redis_url_index(10), "FLUSHDB"],
                   capture_output=True)
    if failures:
        print(f"\nnode log tail:\n{(work / 'node.out').read_text()[-3000:]}"
              if (work / "node.out").exists() else "")
    subprocess.run(["rm", "-rf", str(work)])

if failures:
    print(f"integration.monitoring: {len(failures)} FAILED")
    sys.exit(1)
print("integration.monitoring: all checks passed")
