#!/usr/bin/env python3
"""Checks the monitoring configuration against the monitoring guide.

- Prometheus: both configurations pass `promtool check config`.
- Alert rules: `promtool check rules`; the nine rules of the guide with its
  names, severities, `for` durations and annotations; `promtool test rules`
  on monitoring/alerts/tests; and every corrected expression is needed: with
  the guide's original expression put back, the unit tests fail.
- Alertmanager: `amtool check-config`; critical alerts route to the
  critical receiver, warnings to the warning receiver, the rest to the
  default; no secret in the file.
- Dashboards: valid JSON with the guide's uids and panel titles, equal to
  what build_dashboards.py writes, every query parses (promtool), and every
  metric a query or rule names is in the platform's catalogue
  (docs/METRICS.md, itself checked against the code) or in
  monitoring/exporter-metrics.txt (checked against the live exporters by
  integration.monitoring).

Usage: monitoring_config_test.py REPO_ROOT
"""

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else Path.cwd()
MON = ROOT / "monitoring"
failures = []


def check(cond, what):
    if cond:
        print(f"ok   {what}")
    else:
        print(f"FAIL {what}")
        failures.append(what)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


# -- the guide's promises, written out from it --------------------------------

SEED_RULES = {
    # name: (group, severity, for, summary, description, seed expression)
    "APIDown": ("critical", "critical", "1m", "API is down",
                "API has been down for more than 1 minute",
                'up{job="api"} == 0'),
    "HighErrorRate": ("critical", "critical", "5m", "High API error rate",
                      "Error rate is {{ $value | humanizePercentage }}",
                      'rate(http_requests_total{status=~"5.."}[5m]) / '
                      'rate(http_requests_total[5m]) > 0.05'),
    "DatabaseDown": ("critical", "critical", "1m", "Database is down",
                     "Database has been down for more than 1 minute",
                     'up{job="timescaledb"} == 0'),
    "RedisDown": ("critical", "critical", "1m", "Redis is down",
                  "Redis has been down for more than 1 minute",
                  'up{job="redis"} == 0'),
    "HighAPILatency": ("warning", "warning", "5m", "High API latency",
                       "95th percentile latency is {{ $value }}s",
                       'histogram_quantile(0.95, '
                       'rate(http_request_duration_seconds_bucket[5m])) > 0.5'),
    "LowCacheHitRate": ("warning", "warning", "10m", "Low cache hit rate",
                        "Cache hit rate is {{ $value | humanizePercentage }}",
                        'rate(cache_hits_total[5m]) / (rate(cache_hits_total'
                        '[5m]) + rate(cache_misses_total[5m])) < 0.7'),
    "CircuitBreakerOpen": ("warning", "warning", "5m",
                           "Circuit breaker is open",
                           "Circuit breaker for {{ $labels.collector }} is "
                           "open", 'circuit_breaker_state == 1'),
    "HighDataCollectionLag": ("warning", "warning", "5m",
                              "High data collection lag",
                              "Data collection lag is {{ $value }}s for "
                              "{{ $labels.symbol }}",
                              'data_collection_lag_seconds > 60'),
    "LowDataQualityScore": ("warning", "warning", "10m",
                            "Low data quality score",
                            "Quality score for {{ $labels.symbol }} is "
                            "{{ $value }}",
                            'avg(data_quality_score) by (symbol) < 70'),
}
SEED_GROUP_INTERVALS = {"critical": "30s", "warning": "1m"}

SEED_DASHBOARDS = {
    "operational": [
        "System Health Status", "Request Rate (RPS)", "Error Rate",
        "API Latency (p50, p95, p99)", "Active WebSocket Connections",
        "Database Query Rate", "Cache Hit Rate", "Collector Health Status"],
    "data-quality": [
        "Quality Score by Symbol", "Failed Quality Checks", "Data Freshness",
        "Price Anomalies Detected", "Volume Anomalies Detected",
        "Quality Check Distribution", "Data Collection Lag"],
    "circuit-breaker": [
        "Circuit Breaker States", "State Transitions",
        "Failure Rate by Collector", "Recovery Time", "Open Circuit Duration",
        "Half-Open Attempts"],
    "database-cache": [
        "Database Query Rate", "Query Latency", "Connection Pool Utilization",
        "Cache Hit Rate", "Cache Memory Usage", "Cache Eviction Rate",
        "Database Size", "Redis Memory Usage"],
}

# -- Prometheus ---------------------------------------------------------------

for name in ("prometheus.yml", "prometheus.local.yml"):
    r = run(["promtool", "check", "config", str(MON / name)])
    check(r.returncode == 0 and "SUCCESS" in r.stdout,
          f"promtool check config {name}")
compose_cfg = yaml.safe_load((MON / "prometheus.yml").read_text())
jobs = {j["job_name"]: j["static_configs"][0]["targets"]
        for j in compose_cfg["scrape_configs"]}
check(jobs == {
    "api": ["api:8000"], "collectors": ["collector:9090"],
    "processors": ["processor:9090"], "timescaledb": ["timescaledb:9187"],
    "redis": ["redis:9121"], "prometheus": ["localhost:9090"]},
    "prometheus.yml scrapes the guide's jobs and targets")
check(compose_cfg["alerting"]["alertmanagers"][0]["static_configs"][0]
      ["targets"] == ["alertmanager:9093"], "prometheus.yml alerts to "
      "alertmanager:9093")
check(compose_cfg["rule_files"] == ["alerts/*.yml"],
      "prometheus.yml loads alerts/*.yml")

# -- alert rules --------------------------------------------------------------

rule_files = sorted((MON / "alerts").glob("*.yml"))
r = run(["promtool", "check", "rules", *map(str, rule_files)])
check(r.returncode == 0, "promtool check rules alerts/*.yml")

rules = {}
for f in rule_files:
    for group in yaml.safe_load(f.read_text())["groups"]:
        check(group.get("interval") == SEED_GROUP_INTERVALS.get(group["name"]),
              f"group {group['name']} has the guide's interval")
        for rule in group["rules"]:
            rules[rule["alert"]] = (group["name"], rule)
check(set(rules) == set(SEED_RULES), "exactly the guide's nine alerts")
for name, (grp, sev, dur, summary, desc, _) in SEED_RULES.items():
    if name not in rules:
        continue
    g, rule = rules[name]
    check(g == grp and rule["labels"] == {"severity": sev}
          and rule["for"] == dur, f"{name}: group, severity and for")
    check(rule["annotations"] == {"summary": summary, "description": desc},
          f"{name}: annotations as written in the guide")

tests = sorted((MON / "alerts" / "tests").glob("*.yml"))
check(len(tests) >= 2, "alert unit tests exist")
r = run(["promtool", "test", "rules", *map(str, tests)])
print(r.stdout[-2000:])
check(r.returncode == 0, "promtool test rules alerts/tests/*.yml")

# Each corrected expression is needed: with the guide's original put back
# (one rule at a time) the unit tests fail.
for name, (_, _, _, _, _, seed_expr) in SEED_RULES.items():
    if name not in rules or rules[name][1]["expr"].strip() == seed_expr:
        continue
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for f in rule_files:
            doc = yaml.safe_load(f.read_text())
            for group in doc["groups"]:
                for rule in group["rules"]:
                    if rule["alert"] == name:
                        rule["expr"] = seed_expr
            (tmp / f.name).write_text(yaml.safe_dump(doc, sort_keys=False))
        (tmp / "tests").mkdir()
        for t in tests:
            shutil.copy(t, tmp / "tests" / t.name)
        r = run(["promtool", "test", "rules",
                 *[str(tmp / "tests" / t.name) for t in tests]])
        check(r.returncode != 0 and name in r.stdout + r.stderr,
              f"{name}: the guide's expression fails the unit tests "
              "(the correction is needed)")

# -- Alertmanager -------------------------------------------------------------

am = MON / "alertmanager.yml"
r = run(["amtool", "check-config", str(am)])
check(r.returncode == 0, "amtool check-config alertmanager.yml")
for labels, receiver in (
        (["alertname=APIDown", "severity=critical"], "critical"),
        (["alertname=RedisDown", "severity=critical"], "critical"),
        (["alertname=CircuitBreakerOpen", "severity=warning"], "warning"),
        (["alertname=LowCacheHitRate", "severity=warning"], "warning"),
        (["alertname=Other"], "default")):
    r = run(["amtool", "config", "routes", "test", f"--config.file={am}",
             *labels])
    check(r.returncode == 0 and r.stdout.split() == [receiver],
          f"route {' '.join(labels)} -> {receiver} (got {r.stdout.split()})")
am_cfg = yaml.safe_load(am.read_text())
secret_keys = []


def find_secrets(node, path):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("smtp_auth_password", "auth_password", "api_url",
                     "slack_api_url", "url") and isinstance(v, str):
                secret_keys.append(f"{path}.{k}")
            find_secrets(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            find_secrets(v, f"{path}[{i}]")


find_secrets(am_cfg, "")
check(not secret_keys, f"no secret or webhook URL inline ({secret_keys})")
check(am_cfg["global"].get("smtp_auth_password_file", "").startswith("/")
      and am_cfg["global"].get("slack_api_url_file", "").startswith("/"),
      "SMTP password and Slack URL come from files")

# -- dashboards ---------------------------------------------------------------

r = run([sys.executable, str(MON / "grafana" / "build_dashboards.py"),
         "--check"])
check(r.returncode == 0, "dashboards equal build_dashboards.py's output")

dashboards = {}
for f in sorted((MON / "grafana" / "dashboards").glob("*.json")):
    try:
        d = json.loads(f.read_text())
    except json.JSONDecodeError as e:
        check(False, f"{f.name} is valid JSON ({e})")
        continue
    dashboards[d.get("uid")] = d
check(set(dashboards) == set(SEED_DASHBOARDS),
      f"dashboard uids {sorted(dashboards)}")
exprs = []
for uid, titles in SEED_DASHBOARDS.items():
    d = dashboards.get(uid, {"panels": []})
    got = [p["title"] for p in d["panels"]]
    check(got == titles, f"{uid}: the guide's panels in order")
    for p in d["panels"]:
        check(bool(p.get("targets")), f"{uid}/{p['title']} has a query")
        for t in p.get("targets", []):
            check(t.get("datasource", {}).get("uid") == "prometheus",
                  f"{uid}/{p['title']}/{t['refId']} uses the provisioned "
                  "datasource")
            exprs.append((f"{uid}/{p['title']}/{t['refId']}", t["expr"]))

ds = yaml.safe_load((MON / "grafana" / "datasources" /
                     "prometheus.yml").read_text())
check(ds["datasources"][0]["uid"] == "prometheus"
      and ds["datasources"][0]["url"] == "http://prometheus:9090",
      "datasource provisioning")
prov = yaml.safe_load((MON / "grafana" / "provider" /
                       "dashboards.yml").read_text())
check(prov["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards",
      "dashboard provider path")

# Every query parses: promtool checks them as recording rules.
with tempfile.TemporaryDirectory() as tmp:
    rec = {"groups": [{"name": "dashboards", "rules": [
        {"record": f"dashboard:query_{i}", "expr": e}
        for i, (_, e) in enumerate(exprs)]}]}
    path = Path(tmp) / "queries.yml"
    path.write_text(yaml.safe_dump(rec))
    r = run(["promtool", "check", "rules", str(path)])
    check(r.returncode == 0, f"all {len(exprs)} dashboard queries parse "
          f"{r.stdout[-500:]}{r.stderr[-500:]}")

# Every metric named is exported by the platform or an exporter.
FUNCS_AND_WORDS = {
    "sum", "avg", "max", "min", "count", "rate", "increase", "irate", "by",
    "without", "on", "ignoring", "group_left", "group_right", "or", "and",
    "unless", "histogram_quantile", "vector", "bool", "offset", "topk",
    "bottomk", "max_over_time", "min_over_time", "avg_over_time", "abs",
    "clamp_min", "clamp_max", "delta", "deriv", "time", "scalar", "le",
}


def metric_names(expr):
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)   # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)              # matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)             # ranges
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)
    names = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))
    return {n for n in names if n not in FUNCS_AND_WORDS
            and not re.fullmatch(r"\d+[smhd]", n)}


catalogue = set(re.findall(r"^\| `([a-z_:]+)` \|",
                           (ROOT / "docs" / "METRICS.md").read_text(), re.M))
check(len(catalogue) > 30, f"catalogue read from docs/METRICS.md "
      f"({len(catalogue)} metrics)")
exporter = {line.split()[0] for line in
            (MON / "exporter-metrics.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")}
known = set(catalogue) | exporter | {"up"}
for m in list(catalogue):
    known |= {m + "_bucket", m + "_sum", m + "_count"}
for where, e in exprs + [(f"rule {n}", r["expr"])
                         for n, (_, r) in rules.items()]:
    unknown = metric_names(e) - known
    check(not unknown, f"{where}: metrics exported ({sorted(unknown)})")

print()
if failures:
    print(f"monitoring config: {len(failures)} FAILED")
    sys.exit(1)
print("monitoring config: all checks passed")
