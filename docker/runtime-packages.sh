#!/usr/bin/env bash
# Prints, one per line and sorted, the Debian packages that hold the shared
# libraries a binary loads (ldd), so the image's runtime stage installs
# exactly those and none of the -dev packages of the builder stage.
# Usage: docker/runtime-packages.sh BINARY
set -euo pipefail
bin=${1:?usage: $0 BINARY}
[ -x "$bin" ] || { echo "runtime-packages: $bin is not an executable" >&2; exit 2; }

# "libfoo.so.1 => /usr/lib/x86_64-linux-gnu/libfoo.so.1 (0x...)" and the
# loader's own "/lib64/ld-linux-x86-64.so.2 (0x...)".
libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
[ -n "$libs" ] || { echo "runtime-packages: ldd found no libraries in $bin" >&2; exit 1; }
missing=$(ldd "$bin" | awk '/not found/ {print $1}')
[ -z "$missing" ] || { echo "runtime-packages: unresolved: $missing" >&2; exit 1; }

for lib in $libs; do
  # Debian 12 merged /lib into /usr/lib; dpkg may know a file under either
  # spelling, and ldd may report a symlink rather than the file itself.
  real=$(readlink -f "$lib")
  owner=
  for path in "$lib" "$real" "${lib#/usr}" "/usr$lib" "${real#/usr}" "/usr$real"; do
    if owner=$(dpkg-query -S "$path" 2>/dev/null); then
      break
    fi
    owner=
  done
  [ -n "$owner" ] || { echo "runtime-packages: no package holds $lib" >&2; exit 1; }
  # "libfoo1:amd64: /usr/lib/..." -> libfoo1
  echo "${owner%%:*}"
done | sort -u
