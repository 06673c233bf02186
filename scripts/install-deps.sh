#!/usr/bin/env bash
# Installs every Debian package the build and the tests need, then the chart
# page's npm packages (web/package-lock.json). Idempotent: packages already
# present are not downloaded again.
#
#   scripts/install-deps.sh           everything (build, tests, services)
#   scripts/install-deps.sh --build   only what building the csp binary
#                                     needs (the container image's builder
#                                     stage, docker/Dockerfile)
set -euo pipefail
cd "$(dirname "$0")/.."

# Building the csp binary (and its tests and benchmarks).
packages=(
  build-essential cmake ninja-build ccache pkg-config lld
  libcaf-dev prometheus-cpp-dev libboost-dev libssl-dev
  libpqxx-dev libpq-dev libhiredis-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libsimdjson-dev zlib1g-dev libbenchmark-dev
)
# Tests, tools and the local servers.
case "${1:-}" in
  --build) ;;
  "")
    packages+=(
      openssl clang-format clang-tidy curl wrk linux-perf
      clang-14 libclang-rt-14-dev
      prometheus prometheus-alertmanager prometheus-postgres-exporter
      prometheus-redis-exporter python3 python3-yaml
      postgresql-15 postgresql-client-15 redis-server redis-tools
      chromium docker-compose
    )
    ;;
  *) echo "usage: $0 [--build]" >&2; exit 2 ;;
esac
# Node.js builds the chart page and runs its tests; machines that already
# have node and npm (from elsewhere than Debian) keep theirs.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
else
  echo "install-deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The chart page's library (bundled into the csp binary at build time) and
# the browser test's driver, exactly as web/package-lock.json pins them.
if [ ! -f web/node_modules/.package-lock.json ] \
   || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci --prefix web"
  npm ci --prefix web --no-audit --no-fund
else
  echo "install-deps: web/node_modules up to date"
fi
echo "install-deps: done"
