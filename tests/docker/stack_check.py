#!/usr/bin/python3
"""Consistency checks of the deployment files in docker/.

    stack_check.py compose      docker-compose config of docker/docker-compose.yml
    stack_check.py kubernetes   the manifests in docker/k8s/
    stack_check.py dockerfile   docker/Dockerfile and .dockerignore

Each prints one line per check and exits non-zero when any check fails.
The expectations below are the deployment contract of the monitoring guide
(host names, ports and mounts Prometheus, Grafana and the operators rely
on), written down here, not read from the files under test.
"""

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

REPO = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCKER = os.path.join(REPO, "docker")
K8S = os.path.join(DOCKER, "k8s")
ROLES = ("api", "collector", "processor")

# host:port targets of monitoring/prometheus.yml (the seed's scrape jobs and
# Alertmanager), Grafana's published port, and the database/cache ports.
SCRAPE_TARGETS = {
    "api": 8000,
    "collector": 9090,
    "processor": 9090,
    "timescaledb": 9187,
    "redis": 9121,
}
SERVICE_PORTS = dict(SCRAPE_TARGETS, prometheus=9090, alertmanager=9093,
                     grafana=3001)
# Ports a Kubernetes Service exposes besides the scrape targets.
EXTRA_K8S_PORTS = {"api": {9090}, "timescaledb": {5432}, "redis": {6379}}
# Published on the host: the seed's URLs (localhost:9090, :9093, :3001) and
# the API.
PUBLISHED = {"api": 8000, "prometheus": 9090, "alertmanager": 9093,
             "grafana": 3001}
EXPORTERS = {"postgres-exporter": "timescaledb", "redis-exporter": "redis"}

# Host path (repository-relative) -> (service, path in the container).
MOUNTS = {
    "monitoring/prometheus.yml": ("prometheus", "/etc/prometheus/prometheus.yml"),
    "monitoring/alerts/critical.yml":
        ("prometheus", "/etc/prometheus/alerts/critical.yml"),
    "monitoring/alerts/warning.yml":
        ("prometheus", "/etc/prometheus/alerts/warning.yml"),
    "monitoring/alertmanager.yml":
        ("alertmanager", "/etc/alertmanager/alertmanager.yml"),
    "monitoring/grafana/datasources/prometheus.yml":
        ("grafana", "/etc/grafana/provisioning/datasources/prometheus.yml"),
    "monitoring/grafana/provider/dashboards.yml":
        ("grafana", "/etc/grafana/provisioning/dashboards/dashboards.yml"),
    "monitoring/grafana/dashboards": ("grafana", "/var/lib/grafana/dashboards"),
    "monitoring/postgres-exporter/queries.yaml":
        ("postgres-exporter", "/etc/postgres-exporter/queries.yaml"),
}
# Operator-provided (docker/secrets.sh), never committed.
SECRETS_DIR = "docker/secrets"
ALERTMANAGER_SECRETS = ("/etc/alertmanager/secrets",
                        {"smtp_password", "slack_webhook_url"})

failures = 0


def check(name, ok, detail=""):
    global failures
    if ok:
        print("ok: " + name)
    else:
        failures += 1
        print("FAIL: " + name + (" -- " + detail if detail else ""))
    return ok


def finish():
    print("%d failed" % failures if failures else "all checks passed")
    return 1 if failures else 0


def load_yaml_file(path):
    with open(path) as f:
        return yaml.safe_load(f)


def role_config(role):
    with open(os.path.join(DOCKER, "config", role + ".json")) as f:
        return json.load(f)


def services_sh_default(var):
    """The default of NAME in scripts/services.sh's `x=${NAME:-default}`."""
    with open(os.path.join(REPO, "scripts", "services.sh")) as f:
        m = re.search(r"\$\{" + var + r":-([^}]+)\}", f.read())
    return m.group(1) if m else None


def prometheus_targets():
    """host:port of every target in monitoring/prometheus.yml (empty while
    that file is empty), including Alertmanager."""
    doc = load_yaml_file(os.path.join(REPO, "monitoring", "prometheus.yml"))
    if not doc:
        return []
    out = []
    for job in doc.get("scrape_configs") or []:
        for sc in job.get("static_configs") or []:
            out += [(job.get("job_name"), t) for t in sc.get("targets") or []]
    for am in (doc.get("alerting") or {}).get("alertmanagers") or []:
        for sc in am.get("static_configs") or []:
            out += [("alertmanager", t) for t in sc.get("targets") or []]
    return out


# -- docker-compose ------------------------------------------------------------

def parse_volume(spec):
    """'src:dst[:mode]' or the long form -> (source, target)."""
    if isinstance(spec, dict):
        return spec.get("source"), spec.get("target")
    parts = spec.split(":")
    if len(parts) == 1:
        return None, parts[0]
    return parts[0], parts[1]


def parse_port(spec):
    """'[ip:]published:target[/proto]' or the long form -> (published, target)."""
    if isinstance(spec, dict):
        pub = spec.get("published")
        return (int(pub) if pub is not None else None), int(spec["target"])
    spec = str(spec).split("/")[0]
    parts = spec.split(":")
    if len(parts) == 1:
        return None, int(parts[0])
    return int(parts[-2]), int(parts[-1])


def listen_port(svc):
    """The port an exporter listens on, from its flags or environment."""
    for arg in svc.get("command") or []:
        m = re.match(r"--web\.listen-address=.*:(\d+)$", str(arg))
        if m:
            return int(m.group(1))
    for key, value in (svc.get("environment") or {}).items():
        if key.endswith("WEB_LISTEN_ADDRESS"):
            return int(str(value).rsplit(":", 1)[1])
    return None


def compose_config(env):
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    base.update(env)
    return subprocess.run(
        ["docker-compose", "-f", os.path.join(DOCKER, "docker-compose.yml"),
         "config"], env=base, capture_output=True, text=True, cwd=REPO)


def serves_port(services, host, port):
    """Whether `host:port` reaches something inside the compose network."""
    svc = services.get(host)
    if svc is None:
        return False, "no service named %s" % host
    if host in ROLES:
        cfg = role_config(host)
        m = cfg.get("metrics", {})
        a = cfg.get("api", {})
        if m.get("port") == port and m.get("bind") == "0.0.0.0":
            return True, ""
        if host == "api" and a.get("port") == port and a.get("bind") == "0.0.0.0":
            return True, ""
        return False, "docker/config/%s.json serves no %d on 0.0.0.0" % (host, port)
    for name, s in services.items():
        if s.get("network_mode") == "service:" + host and listen_port(s) == port:
            return True, ""
    default_ports = {"prometheus": 9090, "alertmanager": 9093}
    if default_ports.get(host) == port:
        return True, ""
    if host == "grafana":
        env = svc.get("environment") or {}
        return str(env.get("GF_SERVER_HTTP_PORT")) == str(port), "GF_SERVER_HTTP_PORT"
    return False, "nothing in %s listens on %d" % (host, port)


def run_compose():
    missing = compose_config({})
    check("config refuses to run without DB_PASSWORD",
          missing.returncode != 0 and "DB_PASSWORD" in missing.stderr,
          missing.stderr.strip()[-300:])
    sentinel = "test-password-not-committed"
    res = compose_config({"DB_PASSWORD": sentinel})
    if not check("docker-compose config succeeds", res.returncode == 0,
                 res.stderr.strip()[-500:]):
        return
    doc = yaml.safe_load(res.stdout)
    services = doc.get("services") or {}
    expected = set(SERVICE_PORTS) | set(EXPORTERS)
    check("services: " + " ".join(sorted(expected)),
          expected <= set(services), "missing %s" % sorted(expected - set(services)))

    for host in SERVICE_PORTS:
        svc = services.get(host) or {}
        check("%s: host name %s" % (host, host),
              svc.get("hostname", host) == host and "network_mode" not in svc,
              "hostname %r" % svc.get("hostname"))
    for host, port in SERVICE_PORTS.items():
        ok, why = serves_port(services, host, port)
        check("%s:%d is served" % (host, port), ok, why)
    for job, target in prometheus_targets():
        host, _, port = target.rpartition(":")
        if host == "localhost":
            host = "prometheus" if job == "prometheus" else host
        ok, why = serves_port(services, host, int(port))
        check("monitoring/prometheus.yml target %s (%s) is served" % (target, job),
              ok, why)
    for host, port in PUBLISHED.items():
        ports = [parse_port(p) for p in (services.get(host) or {}).get("ports") or []]
        check("%s published on host port %d" % (host, port),
              any(p == (port, port) for p in ports), "ports %r" % ports)
    for name, host in EXPORTERS.items():
        check("%s shares the network of %s" % (name, host),
              (services.get(name) or {}).get("network_mode") == "service:" + host)

    # Mounts.
    mounts = {}
    for name, svc in services.items():
        for v in svc.get("volumes") or []:
            src, dst = parse_volume(v)
            mounts.setdefault(name, {})[dst] = src
    for rel, (name, dst) in MOUNTS.items():
        src = mounts.get(name, {}).get(dst)
        check("%s mounted at %s:%s" % (rel, name, dst),
              src is not None and os.path.realpath(src) == os.path.join(REPO, rel),
              "source %r" % src)
    for name, vols in sorted(mounts.items()):
        for dst, src in sorted(vols.items()):
            if src is None or not src.startswith("/"):
                continue  # named volume
            rel = os.path.relpath(os.path.realpath(src), REPO)
            operator = rel == SECRETS_DIR or rel.startswith(SECRETS_DIR + "/")
            check("%s: host path %s %s" % (name, rel,
                  "is operator-provided" if operator else "exists in the repository"),
                  operator or os.path.exists(src))
    am_src = mounts.get("alertmanager", {}).get(ALERTMANAGER_SECRETS[0])
    check("alertmanager secrets folder mounted from docker/secrets/",
          am_src is not None and os.path.relpath(am_src, REPO).startswith(SECRETS_DIR))

    # The platform nodes.
    for role in ROLES:
        svc = services.get(role) or {}
        cfg = role_config(role)
        build = svc.get("build") or {}
        check("%s: built from docker/Dockerfile with ROLE=%s" % (role, role),
              build.get("dockerfile") == "docker/Dockerfile"
              and os.path.realpath(build.get("context", "")) == REPO
              and (build.get("args") or {}).get("ROLE") == role)
        check("%s: docker/config/%s.json has node.role %s" % (role, role, role),
              cfg.get("node", {}).get("role") == role)
        env = svc.get("environment") or {}
        check("%s: DB_PASSWORD from the environment" % role,
              env.get("DB_PASSWORD") == sentinel)
        db = cfg.get("database", {})
        check("%s: database host and port are the timescaledb service" % role,
              db.get("host") == "timescaledb" and db.get("port", 5432) == 5432)
        check("%s: redis.url names the redis service" % role,
              re.match(r"redis://redis(:6379)?(/|$)", cfg.get("redis", {}).get("url", ""))
              is not None)
        check("%s: migrates on start only if it is the api" % role,
              db.get("migrate_on_start", True) == (role == "api"))
        deps = svc.get("depends_on") or {}
        check("%s: waits for a healthy database and cache" % role,
              all((deps.get(d) or {}).get("condition") == "service_healthy"
                  for d in ("timescaledb", "redis")))
        if role != "api":
            check("%s: starts after the api migrated the schema" % role,
                  (deps.get("api") or {}).get("condition") == "service_healthy")
    check("api has a health check", "healthcheck" in (services.get("api") or {}))

    db = services.get("timescaledb") or {}
    env = db.get("environment") or {}
    check("timescaledb: image timescale/timescaledb:latest-pg15",
          db.get("image") == "timescale/timescaledb:latest-pg15")
    check("timescaledb: database and user as scripts/services.sh",
          env.get("POSTGRES_DB") == services_sh_default("DB_NAME")
          and env.get("POSTGRES_USER") == services_sh_default("DB_USER")
          and env.get("POSTGRES_DB") == role_config("api")["database"]["name"]
          and env.get("POSTGRES_USER") == role_config("api")["database"]["user"],
          "env %r" % env)
    check("timescaledb: password from the environment",
          env.get("POSTGRES_PASSWORD") == sentinel)
    check("redis: a Redis 7 image",
          re.match(r"redis:7($|[.-])", (services.get("redis") or {}).get("image", ""))
          is not None)
    pe = services.get("postgres-exporter") or {}
    queries = MOUNTS["monitoring/postgres-exporter/queries.yaml"][1]
    check("postgres-exporter: --extend.query-path is the mounted queries.yaml",
          "--extend.query-path=" + queries in (pe.get("command") or []))
    check("postgres-exporter: password from the environment",
          (pe.get("environment") or {}).get("DATA_SOURCE_PASS") == sentinel)

    # Cross-checks with the monitoring files, once they have content.
    provider = load_yaml_file(
        os.path.join(REPO, "monitoring/grafana/provider/dashboards.yml"))
    if provider:
        paths = [(p.get("options") or {}).get("path")
                 for p in provider.get("providers") or []]
        check("grafana dashboard provider reads the mounted dashboards folder",
              MOUNTS["monitoring/grafana/dashboards"][1] in paths, "paths %r" % paths)
    am = load_yaml_file(os.path.join(REPO, "monitoring", "alertmanager.yml"))
    if am:
        files = re.findall(r"_file:\s*['\"]?([^'\"\s]+)", yaml.safe_dump(am))
        folder, names = ALERTMANAGER_SECRETS
        check("alertmanager.yml reads its secrets from the mounted folder",
              all(os.path.dirname(f) == folder and os.path.basename(f) in names
                  for f in files), "files %r" % files)


# -- Kubernetes ----------------------------------------------------------------

NAMESPACE = "crypto-stock"
CLUSTER_SCOPED = {"Namespace"}
WORKLOADS = {"Deployment", "StatefulSet"}


def generator_sources(entry):
    """(key, repository-relative path) of a kustomize generator's files."""
    out = []
    for f in entry.get("files") or []:
        key, _, path = f.partition("=") if "=" in f else (os.path.basename(f), "", f)
        out.append((key, os.path.relpath(os.path.normpath(os.path.join(K8S, path)), REPO)))
    for f in entry.get("envs") or []:
        out.append((None, os.path.relpath(os.path.normpath(os.path.join(K8S, f)), REPO)))
    return out


def secrets_sh_env_keys():
    """The variables docker/secrets.sh writes into docker/secrets/csp.env."""
    with open(os.path.join(DOCKER, "secrets.sh")) as f:
        return set(re.findall(r"printf '([A-Z_]+)=%s", f.read()))


def pod_refs(spec):
    """(kind, name, keys) of every ConfigMap/Secret a pod spec references."""
    refs = []
    for v in spec.get("volumes") or []:
        for kind, field, name_key in (("ConfigMap", "configMap", "name"),
                                      ("Secret", "secret", "secretName")):
            src = v.get(field)
            if src:
                refs.append((kind, src.get(name_key),
                             [i["key"] for i in src.get("items") or []]))
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for ef in c.get("envFrom") or []:
            if "configMapRef" in ef:
                refs.append(("ConfigMap", ef["configMapRef"]["name"], []))
            if "secretRef" in ef:
                refs.append(("Secret", ef["secretRef"]["name"], []))
        for e in c.get("env") or []:
            vf = e.get("valueFrom") or {}
            if "configMapKeyRef" in vf:
                r = vf["configMapKeyRef"]
                refs.append(("ConfigMap", r["name"], [r["key"]]))
            if "secretKeyRef" in vf:
                r = vf["secretKeyRef"]
                refs.append(("Secret", r["name"], [r["key"]]))
    return refs


def run_kubernetes():
    kust = load_yaml_file(os.path.join(K8S, "kustomization.yaml")) or {}
    files = sorted(f for f in os.listdir(K8S)
                   if f.endswith(".yaml") and f != "kustomization.yaml")
    check("kustomization: namespace " + NAMESPACE, kust.get("namespace") == NAMESPACE)
    check("kustomization: resources are exactly the manifests in docker/k8s",
          sorted(kust.get("resources") or []) == files,
          "%r vs %r" % (kust.get("resources"), files))
    objects = []
    for f in files:
        try:
            with open(os.path.join(K8S, f)) as fh:
                docs = [d for d in yaml.safe_load_all(fh) if d]
        except yaml.YAMLError as e:
            check("%s parses" % f, False, str(e))
            continue
        check("%s parses (%d objects)" % (f, len(docs)), len(docs) > 0)
        objects += [(f, d) for d in docs]

    by_kind = {}
    for f, o in objects:
        meta = o.get("metadata") or {}
        name = meta.get("name")
        check("%s: %s/%s has apiVersion, kind and name" % (f, o.get("kind"), name),
              bool(o.get("apiVersion") and o.get("kind") and name))
        if o.get("kind") in CLUSTER_SCOPED:
            check("%s: Namespace %s" % (f, name), name == NAMESPACE)
        else:
            check("%s: %s/%s in namespace %s" % (f, o.get("kind"), name, NAMESPACE),
                  meta.get("namespace") == NAMESPACE, "namespace %r" % meta.get("namespace"))
        by_kind.setdefault(o.get("kind"), {})[name] = o
    check("the Namespace object exists", NAMESPACE in by_kind.get("Namespace", {}))

    # Generated ConfigMaps and Secrets: their files exist (or are the
    # operator's secrets).
    generated = {"ConfigMap": {}, "Secret": {}}
    for kind, key in (("ConfigMap", "configMapGenerator"), ("Secret", "secretGenerator")):
        for g in kust.get(key) or []:
            srcs = generator_sources(g)
            keys = {k for k, _ in srcs if k}
            for _, rel in srcs:
                if rel == SECRETS_DIR + "/csp.env":
                    keys |= secrets_sh_env_keys()
            generated[kind][g["name"]] = keys
            for _, rel in srcs:
                operator = rel.startswith(SECRETS_DIR + "/")
                check("%s %s: source %s %s" % (kind, g["name"], rel,
                      "is operator-provided" if operator else "exists"),
                      (kind == "Secret" and operator)
                      or os.path.isfile(os.path.join(REPO, rel)))
    for kind in ("ConfigMap", "Secret"):
        for name in by_kind.get(kind, {}):
            generated[kind].setdefault(name, set(
                (by_kind[kind][name].get("data") or {}).keys()))

    dash_dir = "monitoring/grafana/dashboards"
    dashboards = sorted(f for f in os.listdir(os.path.join(REPO, dash_dir))
                        if f.endswith(".json"))
    listed = sorted(os.path.basename(rel) for g in kust.get("configMapGenerator") or []
                    if g["name"] == "grafana-dashboards"
                    for _, rel in generator_sources(g))
    check("ConfigMap grafana-dashboards lists every %s/*.json" % dash_dir,
          listed == dashboards, "listed %r, present %r" % (listed, dashboards))

    workloads = {}
    for kind in WORKLOADS:
        workloads.update(by_kind.get(kind, {}))
    for name, w in sorted(workloads.items()):
        spec = w.get("spec") or {}
        sel = (spec.get("selector") or {}).get("matchLabels") or {}
        tmpl = spec.get("template") or {}
        labels = (tmpl.get("metadata") or {}).get("labels") or {}
        check("%s: selector %r matches its pod template" % (name, sel),
              bool(sel) and all(labels.get(k) == v for k, v in sel.items()),
              "template labels %r" % labels)
        check("%s: labelled app=%s" % (name, name),
              labels.get("app") == name
              and ((w.get("metadata") or {}).get("labels") or {}).get("app") == name)
        pod = tmpl.get("spec") or {}
        for kind, ref, keys in pod_refs(pod):
            have = generated[kind].get(ref)
            check("%s: %s %s exists" % (name, kind, ref), have is not None)
            for k in keys:
                check("%s: %s %s has key %s" % (name, kind, ref, k),
                      have is not None and (not have or k in have), "keys %r" % have)
    for role in ROLES:
        w = by_kind.get("Deployment", {}).get(role)
        if not check("Deployment %s (app=%s)" % (role, role), w is not None):
            continue
        pod = w["spec"]["template"]["spec"]
        c = pod["containers"][0]
        check("%s: image crypto-stock/csp-%s" % (role, role),
              c.get("image", "").split(":")[0] == "crypto-stock/csp-" + role)
        cfg_vol = [v for v in pod.get("volumes") or []
                   if (v.get("configMap") or {}).get("items")]
        keys = [i["key"] for v in cfg_vol for i in v["configMap"]["items"]]
        check("%s: runs with docker/config/%s.json" % (role, role),
              keys == [role + ".json"]
              and ("csp-config" in generated["ConfigMap"])
              and os.path.isfile(os.path.join(DOCKER, "config", role + ".json")),
              "keys %r" % keys)

    # Services: select a pod template and expose the contract's ports.
    templates = [((w["spec"]["template"].get("metadata") or {}).get("labels") or {},
                  w["spec"]["template"]["spec"]) for w in workloads.values()]
    services = by_kind.get("Service", {})
    for name, port in SERVICE_PORTS.items():
        svc = services.get(name)
        if not check("Service %s" % name, svc is not None):
            continue
        spec = svc.get("spec") or {}
        sel = spec.get("selector") or {}
        pods = [p for labels, p in templates
                if sel and all(labels.get(k) == v for k, v in sel.items())]
        check("Service %s: selector %r selects a pod template" % (name, sel),
              len(pods) == 1, "%d templates" % len(pods))
        ports = {p.get("port"): p for p in spec.get("ports") or []}
        want = {port} | EXTRA_K8S_PORTS.get(name, set())
        check("Service %s: ports %s" % (name, sorted(want)),
              set(ports) == want, "ports %r" % sorted(ports))
        if len(pods) == 1:
            cports = {}
            for c in pods[0].get("containers") or []:
                for cp in c.get("ports") or []:
                    cports[cp.get("containerPort")] = cp
                    if cp.get("name"):
                        cports[cp["name"]] = cp
            for p, sp in ports.items():
                target = sp.get("targetPort", p)
                check("Service %s: port %s reaches a container port" % (name, p),
                      target in cports, "targetPort %r" % target)


def run_kustomize():
    """Renders docker/k8s with kubectl's kustomize when kubectl is there (it
    is not one of the project's packages), on a copy with made-up secrets,
    and checks the rendered objects' namespaces and references."""
    if shutil.which("kubectl") is None:
        print("skipped: kubectl kustomize (kubectl not installed)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        for rel in ("docker/k8s", "docker/config", "monitoring"):
            shutil.copytree(os.path.join(REPO, rel), os.path.join(tmp, rel))
        secrets = os.path.join(tmp, SECRETS_DIR)
        os.makedirs(os.path.join(secrets, "alertmanager"))
        with open(os.path.join(secrets, "csp.env"), "w") as f:
            f.write("DB_PASSWORD=x\nJWT_SECRET=\nGRAFANA_ADMIN_PASSWORD=x\n")
        for name in ALERTMANAGER_SECRETS[1]:
            with open(os.path.join(secrets, "alertmanager", name), "w") as f:
                f.write("x")
        res = subprocess.run(
            ["kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone",
             os.path.join(tmp, "docker/k8s")], capture_output=True, text=True)
    if not check("kubectl kustomize renders docker/k8s", res.returncode == 0,
                 res.stderr.strip()[-500:]):
        return
    objs = [o for o in yaml.safe_load_all(res.stdout) if o]
    names = {(o["kind"], o["metadata"]["name"]) for o in objs}
    check("rendered: every namespaced object in %s" % NAMESPACE,
          all(o["metadata"].get("namespace") == NAMESPACE for o in objs
              if o["kind"] not in CLUSTER_SCOPED))
    for o in objs:
        if o["kind"] in WORKLOADS:
            for kind, ref, _ in pod_refs(o["spec"]["template"]["spec"]):
                check("rendered %s: %s %s exists" % (o["metadata"]["name"], kind, ref),
                      (kind, ref) in names)


# -- Dockerfile ----------------------------------------------------------------

def dockerfile_instructions(path):
    with open(path) as f:
        text = re.sub(r"\\\n", " ", f.read())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def dockerignore_patterns():
    with open(os.path.join(REPO, ".dockerignore")) as f:
        return [l.strip().rstrip("/") for l in f
                if l.strip() and not l.startswith("#")]


def ignored(rel, patterns):
    parts = rel.split("/")
    for pat in patterns:
        for i in range(1, len(parts) + 1):
            if fnmatch.fnmatch("/".join(parts[:i]), pat):
                return True
    return False


def run_dockerfile():
    ins = dockerfile_instructions(os.path.join(DOCKER, "Dockerfile"))
    froms = [(i, r) for i, (w, r) in enumerate(ins) if w == "FROM"]
    check("builder stage FROM debian:12 AS builder",
          bool(froms) and froms[0][1].split() == ["debian:12", "AS", "builder"],
          repr(froms[:1]))
    check("runtime stage FROM debian:12-slim",
          len(froms) >= 2 and froms[-1][1].split()[0] == "debian:12-slim",
          repr(froms[-1:]))
    last = froms[-1][0] if froms else 0
    builder = ins[:last]
    runtime = ins[last:]
    runs = " ".join(r for w, r in builder if w == "RUN")
    check("builder installs with scripts/install-deps.sh --build",
          "./scripts/install-deps.sh --build" in runs)
    check("builder builds with Ninja", "-G Ninja" in runs)
    check("no package list by hand (apt-get install only in the runtime stage)",
          "apt-get install" not in runs)
    rt_runs = " ".join(r for w, r in runtime if w == "RUN")
    check("runtime stage installs no -dev package",
          re.search(r"[a-z0-9.+]+-dev\b", rt_runs) is None)
    check("runtime stage copies only the binary and the package list from the builder",
          all(re.search(r"--from=builder\s+/out/", r)
              for w, r in runtime if w == "COPY" and "--from" in r))
    roles = [r for w, r in runtime if w == "ARG" and r.startswith("ROLE")]
    check("ARG ROLE only in the runtime stage (the build is shared)",
          len(roles) == 1 and not any(w == "ARG" and r.startswith("ROLE")
                                      for w, r in builder))
    check("runs as a non-root user",
          any(w == "USER" and r not in ("root", "0") for w, r in runtime))
    patterns = dockerignore_patterns()
    for w, r in ins:
        if w != "COPY" or "--from" in r:
            continue
        for src in r.split()[:-1]:
            for s in sorted({src.replace("${ROLE}", role) for role in ROLES}):
                check("COPY %s exists and is in the build context" % s,
                      s == "." or (os.path.exists(os.path.join(REPO, s))
                                   and not ignored(s, patterns)))
    for p in ("build", ".git", "web/node_modules", ".data", "docker/secrets"):
        check(".dockerignore leaves out %s" % p, ignored(p, patterns))


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    runners = {"compose": run_compose,
               "kubernetes": lambda: (run_kubernetes(), run_kustomize()),
               "dockerfile": run_dockerfile}
    if what not in runners:
        print("usage: stack_check.py compose|kubernetes|dockerfile", file=sys.stderr)
        return 2
    runners[what]()
    return finish()


if __name__ == "__main__":
    sys.exit(main())
