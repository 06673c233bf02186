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

# Debian 12 merged /lib into /usr/lib; dpkg may know a file under either
# spelling, and ldd may report a symlink rather than the file itself. One
# dpkg-query call for every spelling of every library (it reads its whole
# database on each call).
declare -A spellings
candidates=()
for lib in $libs; do
  real=$(readlink -f "$lib")
  spellings[$lib]="$lib $real ${lib#/usr} /usr$lib ${real#/usr} /usr$real"
  # shellcheck disable=SC2206 # paths have no spaces
  candidates+=(${spellings[$lib]})
done
declare -A owner_of
# "libfoo1:amd64: /usr/lib/x86_64-linux-gnu/libfoo.so.1"
while IFS= read -r line; do
  owner_of[${line#*: }]=${line%%:*}
done < <(dpkg-query -S "${candidates[@]}" 2>/dev/null | grep -v '^diversion')
for lib in $libs; do
  owner=
  for path in ${spellings[$lib]}; do
    owner=${owner_of[$path]:-}
    [ -n "$owner" ] && break
  done
  [ -n "$owner" ] || { echo "runtime-packages: no package holds $lib" >&2; exit 1; }
  echo "$owner"
done | sort -u
