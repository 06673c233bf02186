#!/usr/bin/env bash
# Installs every Debian package the build and the tests need. Idempotent:
# packages already present are not downloaded again.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config lld
  libcaf-dev prometheus-cpp-dev libboost-dev libssl-dev openssl
  libpqxx-dev libhiredis-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libsimdjson-dev libbenchmark-dev clang-format clang-tidy curl
  clang-14 libclang-rt-14-dev
  prometheus postgresql-15 postgresql-client-15 redis-server redis-tools
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
