#!/usr/bin/env python3
"""Writes the four Grafana dashboards of the monitoring guide.

The dashboards are plain Grafana JSON models in dashboards/. This script is
their source: each panel is a title, a kind and its PromQL queries, laid out
on a 24-column grid. Run it after changing a panel; `--check` exits 1 when
the committed JSON differs from what it would write (a test runs that).

    python3 monitoring/grafana/build_dashboards.py [--check]
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}

# Shared expressions.
CACHE_HIT_RATE = (
    "(sum(rate(cache_hits_total[5m])) or vector(0))"
    " / ((sum(rate(cache_hits_total[5m])) or vector(0))"
    " + (sum(rate(cache_misses_total[5m])) or vector(0)))")
DB_QUERY_RATE = "sum by (operation, table) (rate(db_queries_total[5m]))"


def q(expr, legend=""):
    return (expr, legend)


def latency(metric, quantiles, by="le"):
    return [
        q(f"histogram_quantile({x}, sum by ({by}) (rate({metric}_bucket[5m])))",
          f"p{int(round(x * 100))}") for x in quantiles
    ]


# (title, kind, unit, queries, extra) per panel, in reading order. kind is
# a Grafana panel type; unit a Grafana unit id.
DASHBOARDS = [
    {
        "uid": "operational",
        "title": "Operational",
        "description": "System overview and health monitoring",
        "file": "operational-dashboard.json",
        "panels": [
            ("System Health Status", "stat", "none", [
                q('up{job=~"api|collectors|processors|timescaledb|redis"}',
                  "{{job}} {{instance}}"),
            ], {"mappings": "updown"}),
            ("Request Rate (RPS)", "timeseries", "reqps", [
                q("sum by (endpoint) (rate(http_requests_total[5m]))",
                  "{{endpoint}}"),
                q("sum(rate(http_requests_total[5m]))", "total"),
            ], {}),
            ("Error Rate", "timeseries", "percentunit", [
                q('(sum(rate(http_requests_total{status=~"5.."}[5m]))'
                  " or vector(0)) / sum(rate(http_requests_total[5m]))",
                  "5xx share"),
            ], {}),
            ("API Latency (p50, p95, p99)", "timeseries", "s",
             latency("http_request_duration_seconds", [0.5, 0.95, 0.99]), {}),
            ("Active WebSocket Connections", "stat", "none", [
                q("sum(websocket_connections)", "connections"),
            ], {}),
            ("Database Query Rate", "timeseries", "ops", [
                q(DB_QUERY_RATE, "{{operation}} {{table}}"),
            ], {}),
            ("Cache Hit Rate", "stat", "percentunit", [
                q(CACHE_HIT_RATE, "hit rate"),
            ], {}),
            ("Collector Health Status", "stat", "none", [
                q("collector_health_status", "{{exchange}}"),
            ], {"mappings": "health"}),
        ],
    },
    {
        "uid": "data-quality",
        "title": "Data Quality",
        "description": "Monitor data quality and validation",
        "file": "data-quality-dashboard.json",
        "panels": [
            ("Quality Score by Symbol", "timeseries", "none", [
                q("avg by (symbol) (data_quality_score)", "{{symbol}}"),
            ], {"min": 0, "max": 100}),
            ("Failed Quality Checks", "timeseries", "ops", [
                q("sum by (symbol, check_type)"
                  " (rate(data_quality_checks_failed_total[5m]))",
                  "{{symbol}} {{check_type}}"),
            ], {}),
            ("Data Freshness", "timeseries", "s", [
                q("max by (exchange, symbol) (data_freshness_seconds)",
                  "{{exchange}} {{symbol}}"),
            ], {}),
            ("Price Anomalies Detected", "timeseries", "none", [
                q("sum by (symbol)"
                  " (increase(price_anomalies_detected_total[1h]))",
                  "{{symbol}}"),
            ], {}),
            ("Volume Anomalies Detected", "timeseries", "none", [
                q("sum by (symbol)"
                  " (increase(volume_anomalies_detected_total[1h]))",
                  "{{symbol}}"),
            ], {}),
            ("Quality Check Distribution", "piechart", "none", [
                q("sum by (check_type)"
                  " (increase(data_quality_checks_failed_total[24h]))",
                  "{{check_type}}"),
            ], {}),
            ("Data Collection Lag", "timeseries", "s", [
                q("max by (exchange, symbol) (data_collection_lag_seconds)",
                  "{{exchange}} {{symbol}}"),
            ], {}),
        ],
    },
    {
        "uid": "circuit-breaker",
        "title": "Circuit Breaker",
        "description": "Monitor fault tolerance and resilience",
        "file": "circuit-breaker-dashboard.json",
        "panels": [
            ("Circuit Breaker States", "state-timeline", "none", [
                q("circuit_breaker_state", "{{collector}}"),
            ], {"mappings": "circuit"}),
            ("State Transitions", "timeseries", "none", [
                q("sum by (collector, from_state, to_state)"
                  " (increase(circuit_breaker_transitions_total[5m]))",
                  "{{collector}} {{from_state}} -> {{to_state}}"),
            ], {}),
            ("Failure Rate by Collector", "timeseries", "ops", [
                q("sum by (collector)"
                  " (rate(circuit_breaker_failures_total[5m]))",
                  "{{collector}}"),
            ], {}),
            ("Recovery Time", "timeseries", "s", [
                q("max by (collector)"
                  " (circuit_breaker_recovery_duration_seconds_sum"
                  " / circuit_breaker_recovery_duration_seconds_count)",
                  "{{collector}} mean since start"),
                q("histogram_quantile(0.95, sum by (collector, le)"
                  " (increase(circuit_breaker_recovery_duration_seconds_bucket"
                  "[6h])))", "{{collector}} p95 (6h)"),
            ], {}),
            ("Open Circuit Duration", "timeseries", "s", [
                q("max by (collector) (circuit_breaker_open_duration_seconds)",
                  "{{collector}}"),
            ], {}),
            ("Half-Open Attempts", "timeseries", "none", [
                q("sum by (collector)"
                  " (increase(circuit_breaker_half_open_attempts_total[1h]))",
                  "{{collector}}"),
            ], {}),
        ],
    },
    {
        "uid": "database-cache",
        "title": "Database & Cache",
        "description": "Monitor storage performance",
        "file": "database-cache-dashboard.json",
        "panels": [
            ("Database Query Rate", "timeseries", "ops", [
                q(DB_QUERY_RATE, "{{operation}} {{table}}"),
            ], {}),
            ("Query Latency", "timeseries", "s",
             latency("db_query_duration_seconds", [0.5, 0.95, 0.99]), {}),
            ("Connection Pool Utilization", "gauge", "percentunit", [
                q("(sum(db_connection_pool_size)"
                  " - sum(db_connection_pool_available))"
                  " / sum(db_connection_pool_size)", "in use"),
            ], {"min": 0, "max": 1}),
            ("Cache Hit Rate", "timeseries", "percentunit", [
                q(CACHE_HIT_RATE, "hit rate"),
            ], {}),
            ("Cache Memory Usage", "timeseries", "bytes", [
                q("sum(cache_memory_bytes)", "cache"),
            ], {}),
            ("Cache Eviction Rate", "timeseries", "ops", [
                q("sum(rate(cache_evictions_total[5m]))", "evictions"),
            ], {}),
            ("Database Size", "timeseries", "bytes", [
                q("sum by (datname) (pg_database_size_bytes)", "{{datname}}"),
            ], {}),
            ("Redis Memory Usage", "timeseries", "bytes", [
                q("sum by (instance) (redis_memory_used_bytes)",
                  "{{instance}}"),
            ], {}),
        ],
    },
]

MAPPINGS = {
    "updown": {"0": ("down", "red"), "1": ("up", "green")},
    "health": {"0": ("unhealthy", "red"), "1": ("healthy", "green")},
    "circuit": {
        "0": ("closed", "green"),
        "1": ("open", "red"),
        "2": ("half-open", "orange"),
    },
}


def panel(pid, title, kind, unit, queries, extra, x, y):
    defaults = {"unit": unit}
    for key in ("min", "max"):
        if key in extra:
            defaults[key] = extra[key]
    if "mappings" in extra:
        defaults["mappings"] = [{
            "type": "value",
            "options": {
                value: {"text": text, "color": color, "index": i}
                for i, (value, (text, color)) in enumerate(
                    MAPPINGS[extra["mappings"]].items())
            },
        }]
    targets = [{
        "datasource": DATASOURCE,
        "expr": expr,
        "legendFormat": legend,
        "refId": chr(ord("A") + i),
    } for i, (expr, legend) in enumerate(queries)]
    return {
        "id": pid,
        "type": kind,
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {},
        "targets": targets,
    }


def dashboard(spec):
    panels = []
    for i, (title, kind, unit, queries, extra) in enumerate(spec["panels"]):
        panels.append(
            panel(i + 1, title, kind, unit, queries, extra, (i % 2) * 12,
                  (i // 2) * 8))
    return {
        "uid": spec["uid"],
        "title": spec["title"],
        "description": spec["description"],
        "tags": ["crypto-stock-platform"],
        "timezone": "utc",
        "schemaVersion": 38,
        "version": 1,
        "editable": False,
        "refresh": "15s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": []},
        "annotations": {"list": []},
        "panels": panels,
    }


def render(spec):
    return json.dumps(dashboard(spec), indent=2, sort_keys=False) + "\n"


def main(argv):
    check = "--check" in argv
    out_dir = HERE / "dashboards"
    stale = []
    for spec in DASHBOARDS:
        path = out_dir / spec["file"]
        text = render(spec)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            out_dir.mkdir(exist_ok=True)
            path.write_text(text)
    if stale:
        print("stale dashboards (run build_dashboards.py): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
