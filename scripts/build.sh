#!/usr/bin/env bash
# Configures and builds the project with Ninja (and ccache when present).
# Usage: scripts/build.sh [build-dir]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
jobs=${CSP_JOBS:-2}
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja \
    -DCMAKE_BUILD_TYPE="${CSP_BUILD_TYPE:-RelWithDebInfo}"
fi
cmake --build "$build_dir" -j "$jobs"
