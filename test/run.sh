#!/usr/bin/env bash
# Runs the whole suite: the type check (tsc --noEmit, one counted test), unit tests (files in
# parallel), then integration, e2e and adversarial tests (one file and one test at a time: they share
# the kernel), then the leak check, where a leak is one failed test.
# Every suite runs inside a network namespace made here (nsenter --net only: mounts, cgroups and
# processes stay visible to the leak check), so the default bridge tinydock0, veths and firewall rules
# the tests make never touch the host's network; the namespace is checked for leftovers, then deleted.
# The leak check compares the host after the suite with the host before it: a user's containers, and
# the default bridge and chains that outlive them (as docker0 does), are neither blamed nor touched.
# Skips and todos are counted; under root a skip in a root-only suite (integration, e2e, adversarial)
# is a failure unless the test's name declares the host it needs, "(only on …)", and a todo always is.
# Ends with "adversarial: N cases tried, escapes: M" (N summed from $TD_ADVERSARIAL_LOG, which
# test/helpers/adversarial.ts recordCases() feeds; M = failed tests of test/adversarial) and then
# exactly one line "tests: N passed, N failed"; exits non-zero on any failure or when no test ran at
# all. Extra arguments go to every `bun test` (e.g. -t 'pull').
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Become a child subreaper (PR_SET_CHILD_SUBREAPER, kept across exec) so that what the suite
# daemonizes (monitors, registries) is reparented to this script rather than to init: the leak check
# then tells the suite's processes from other programs' on a shared host. Without perl, every new
# process on the host counts, as before.
if [ -z "${TD_RUN_SUBREAPER:-}" ] && command -v perl >/dev/null; then
  TD_RUN_SUBREAPER=tried exec perl -e 'require "syscall.ph"; $ENV{TD_RUN_SUBREAPER} = "on" if syscall(&SYS_prctl, 36, 1, 0, 0, 0) == 0; exec @ARGV or die "exec: $!\n"' bash "$0" "$@"
fi
under=()
[ "${TD_RUN_SUBREAPER:-}" = on ] && under=(--under $$)

passed=0
failed=0
ran_any=0
escapes=0
is_root=0
[ "$(id -u)" = 0 ] && is_root=1
start=$SECONDS
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tinydock-test-run.XXXXXX")
log="$tmp/bun.log"
export TD_ADVERSARIAL_LOG="$tmp/adversarial.tsv"
: >"$TD_ADVERSARIAL_LOG"
ns="tdtest-$$"
cleanup() {
  rm -rf "$tmp"
  ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns" && ip -n "$ns" link set lo up || { echo "== cannot create the test network namespace $ns"; echo "tests: 0 passed, 1 failed"; exit 1; }
in_ns() { nsenter --net="/run/netns/$ns" "$@"; }

# What is already there (a user's containers, the default bridge they left, their cgroups, mounts and
# monitors) is not the suite's: both leak checks report only what is new since these snapshots.
bash test/leakcheck.sh "${under[@]}" --snapshot "$tmp/host-before" || echo "== leak check: no snapshot of the host"
in_ns bash test/leakcheck.sh "${under[@]}" --snapshot "$tmp/ns-before" || echo "== leak check: no snapshot in $ns"

has_tests() {
  [ -d "$1" ] && [ -n "$(find "$1" -type f \( -name '*.test.ts' -o -name '*.test.tsx' -o -name '*.test.js' -o -name '*_test.ts' -o -name '*.spec.ts' \) -print -quit)" ]
}

# count LABEL REGEX: the number in bun's last summary line matching " N <label>" (0 when absent).
count() {
  local n
  n=$(grep -E "^ *[0-9]+ $1\$" "$log" | tail -n1 | tr -dc '0-9')
  echo "${n:-0}"
}

# run_suite FOLDER ROOT_ONLY [bun test flags...]
run_suite() {
  local dir=$1 root_only=$2
  shift 2
  if ! has_tests "$dir"; then
    echo "== $dir: no test files"
    return
  fi
  echo "== bun test ./$dir $*"
  in_ns bun test "./$dir" "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  # bun's summary: " 12 pass", " 1 skip", " 1 todo", " 1 fail" (the last such lines of the run).
  local p f s t
  p=$(count pass)
  f=$(count fail)
  s=$(count skip)
  t=$(count todo)
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    # bun died or refused to run (syntax error, crash, unhandled error between tests): count it.
    echo "== $dir: bun test exited $rc without reporting a failed test; counting one failure"
    f=1
  fi
  if [ "$s" -gt 0 ] || [ "$t" -gt 0 ]; then
    echo "== $dir: $s skipped, $t todo"
  fi
  if [ "$t" -gt 0 ]; then
    echo "== $dir: a todo is a test that asserts nothing; counting $t failure(s)"
    f=$((f + t))
  fi
  if [ "$root_only" = 1 ] && [ "$is_root" = 1 ] && [ "$s" -gt 0 ]; then
    # Only a test that names the host it needs may skip here: under root nothing else should.
    # bun lists a skipped test twice (as it runs, and in the summary): count names once.
    local undeclared
    undeclared=$(grep -E '^\(skip\) ' "$log" | grep -vF '(only on ' | sort -u)
    if [ -n "$undeclared" ]; then
      echo "== $dir: test(s) skipped under root without saying which host they need:"
      echo "$undeclared" | sed 's/^/==   /'
      f=$((f + $(echo "$undeclared" | wc -l)))
    fi
  fi
  if [ "$p" -gt 0 ] || [ "$f" -gt 0 ]; then ran_any=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  last_failed=$f
}

# Types are part of the test: the strict tsconfig over src, test, images and bench.
echo "== tsc --noEmit -p ."
if [ -x node_modules/.bin/tsc ] && node_modules/.bin/tsc --noEmit -p . >"$log" 2>&1; then
  passed=$((passed + 1))
else
  [ -x node_modules/.bin/tsc ] || echo "node_modules/.bin/tsc is missing: run \`bun install\`" >"$log"
  cat "$log"
  echo "== tsc --noEmit: counting one failure"
  failed=$((failed + 1))
fi

run_suite test/unit 0 --parallel --timeout 60000 "$@"
run_suite test/integration 1 --max-concurrency=1 --timeout 300000 "$@"
run_suite test/e2e 1 --max-concurrency=1 --timeout 300000 "$@"
last_failed=0
run_suite test/adversarial 1 --max-concurrency=1 --timeout 300000 "$@"
escapes=$last_failed

echo "== leak check (inside the test network namespace, then on the host)"
# The default bridge and its NAT chains outlive containers on purpose (as docker0 does); `network
# prune` removes them when no container uses them, so whatever is left after it was leaked. It runs
# inside the test namespace only, on an empty root of its own: the host's bridge, rules and a user's
# networks are out of its reach.
prune_root=$(mktemp -d "$tmp/prune.XXXXXX")
TINYDOCK_ROOT="$prune_root" TINYDOCK_CONFIG="$prune_root/none.json" in_ns ./tinydock network prune -f >/dev/null || echo "== network prune failed"
if ! in_ns bash test/leakcheck.sh "${under[@]}" --since "$tmp/ns-before"; then
  echo "== leak check: the suite left the above behind (in $ns)"
  failed=$((failed + 1))
fi
ip netns del "$ns"
if ! bash test/leakcheck.sh "${under[@]}" --since "$tmp/host-before"; then
  echo "== leak check: the suite left the above behind (on the host)"
  failed=$((failed + 1))
fi

if [ "$ran_any" -eq 0 ]; then
  echo "== bun reported 0 tests"
  failed=$((failed + 1))
fi

cases=$(awk -F'\t' '$1 ~ /^[0-9]+$/ { n += $1 } END { print n + 0 }' "$TD_ADVERSARIAL_LOG")
echo "== wall time: $((SECONDS - start)) s"
echo "adversarial: $cases cases tried, escapes: $escapes"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
