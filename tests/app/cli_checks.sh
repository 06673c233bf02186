# Shared by the tests/app/*_test.sh scripts (sourced, not a test itself): a
# scratch directory removed on exit ($tmp), failure counting and the final
# verdict.

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

expect_eq() { # name actual expected
  if [[ "$2" != "$3" ]]; then
    fail "$1: got '$2', expected '$3'"
  fi
}

finish() { # what passed
  if ((failures > 0)); then
    echo "$failures check(s) failed" >&2
    exit 1
  fi
  echo "$1: all checks passed"
}
