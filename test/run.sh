#!/usr/bin/env bash
# Runs the whole suite: unit tests (files in parallel), then integration and e2e tests (one file and
# one test at a time: they share the kernel), then the leak check, where a leak is one failed test.
# Every suite runs inside a network namespace made here (nsenter --net only: mounts, cgroups and
# processes stay visible to the leak check), so the default bridge tinydock0, veths and firewall rules
# the tests make never touch the host's network; the namespace is checked for leftovers, then deleted.
# Ends with exactly one line "tests: N passed, N failed"; exits non-zero on any failure or when no
# test ran at all. Extra arguments go to every `bun test` (e.g. -t 'pull').
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

passed=0
failed=0
ran_any=0
log=$(mktemp "${TMPDIR:-/tmp}/tinydock-test-run.XXXXXX")
ns="tdtest-$$"
cleanup() {
  rm -f "$log"
  ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns" && ip -n "$ns" link set lo up || { echo "== cannot create the test network namespace $ns"; echo "tests: 0 passed, 1 failed"; exit 1; }
in_ns() { nsenter --net="/run/netns/$ns" "$@"; }

has_tests() {
  [ -d "$1" ] && [ -n "$(find "$1" -type f \( -name '*.test.ts' -o -name '*.test.tsx' -o -name '*.test.js' -o -name '*_test.ts' -o -name '*.spec.ts' \) -print -quit)" ]
}

# run_suite FOLDER [bun test flags...]
run_suite() {
  local dir=$1
  shift
  if ! has_tests "$dir"; then
    echo "== $dir: no test files"
    return
  fi
  echo "== bun test ./$dir $*"
  in_ns bun test "./$dir" "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  # bun's summary: " 12 pass", " 1 fail" (the last such lines of the run).
  local p f
  p=$(grep -E '^ *[0-9]+ pass$' "$log" | tail -n1 | tr -dc '0-9')
  f=$(grep -E '^ *[0-9]+ fail$' "$log" | tail -n1 | tr -dc '0-9')
  p=${p:-0}
  f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    # bun died or refused to run (syntax error, crash, unhandled error between tests): count it.
    echo "== $dir: bun test exited $rc without reporting a failed test; counting one failure"
    f=1
  fi
  if [ "$p" -gt 0 ] || [ "$f" -gt 0 ]; then ran_any=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
}

run_suite test/unit --parallel --timeout 60000 "$@"
run_suite test/integration --max-concurrency=1 --timeout 300000 "$@"
run_suite test/e2e --max-concurrency=1 --timeout 300000 "$@"

echo "== leak check (inside the test network namespace, then on the host)"
# The default bridge and its NAT chains outlive containers on purpose (as docker0 does); `network
# prune` removes them when no container uses them, so whatever is left after it was leaked.
prune_root=$(mktemp -d "${TMPDIR:-/tmp}/tinydock-prune.XXXXXX")
TINYDOCK_ROOT="$prune_root" TINYDOCK_CONFIG="$prune_root/none.json" in_ns ./tinydock network prune -f >/dev/null || echo "== network prune failed"
rm -rf "$prune_root"
if ! in_ns bash test/leakcheck.sh; then
  echo "== leak check: the suite left the above behind (in $ns)"
  failed=$((failed + 1))
fi
ip netns del "$ns"
if ! bash test/leakcheck.sh; then
  echo "== leak check: the suite left the above behind (on the host)"
  failed=$((failed + 1))
fi

if [ "$ran_any" -eq 0 ]; then
  echo "== bun reported 0 tests"
  failed=$((failed + 1))
fi

echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
