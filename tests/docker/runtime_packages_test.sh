#!/usr/bin/env bash
# docker/runtime-packages.sh on the built csp binary: the runtime stage of
# docker/Dockerfile installs exactly what it prints, so it must name an
# installed package for every library csp loads (PostgreSQL, Redis, CAF,
# OpenSSL, the C++ runtime) and no -dev package; bad input is refused.
set -u
csp=$1
script="$(dirname "$0")/../../docker/runtime-packages.sh"
fail=0
check() { # name, condition result
  if [ "$2" -ne 0 ]; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi
}
out=$("$script" "$csp")
check "exit status 0" $?
# shellcheck disable=SC2086 # one package per word
printf '  %s\n' $out
for want in '^libc6$' '^libstdc\+\+6$' '^libpqxx-' '^libhiredis' '^libcaf-core' '^libssl3'; do
  echo "$out" | grep -Eq "$want"
  check "a package matching $want" $?
done
! echo "$out" | grep -q -- '-dev$'
check "no -dev package" $?
# Every line is an installed package, and every library ldd resolves lies in
# one of them.
while read -r p; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'
  check "$p is an installed package" $?
done <<<"$out"
# shellcheck disable=SC2086 # one package name per word
files=$(dpkg-query -L $out 2>/dev/null)
for lib in $(ldd "$csp" | awk '$2 == "=>" {print $3}'); do
  base=$(basename "$lib")
  grep -q "/$base\$" <<<"$files"
  check "$base comes from a listed package" $?
done
"$script" /nonexistent >/dev/null 2>&1
[ $? -eq 2 ]; check "a missing binary is refused (status 2)" $?
[ $fail -eq 0 ] && echo "all checks passed"
exit $fail
