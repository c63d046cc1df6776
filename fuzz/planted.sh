#!/bin/sh
# fuzz/planted.sh — the planted-bug test: the fuzzer finds a known bug within
# the smoke budget, and `virtio-sim fuzz-repro` turns its crash into a
# scenario that `virtio-sim run` fails the same way (called by fuzz/fuzz.mk:
# `make fuzz-planted`, and `make fuzz-smoke` after the targets).
#
#   sh fuzz/planted.sh SECONDS [SEED]
#
# The bug is the mutant dev.no-loop-check (include/virtiosim/mutants.h): the
# split ring's chain walk skips its chain-length check, so a descriptor loop
# is followed until the engine's hard bound stops it. The fuzzer knows nothing
# of it: fuzz_split_device runs with VSIM_FUZZ_MUTANTS planting the mutant
# into every decoded scenario, from an EMPTY corpus (the seed corpus holds the
# malformed-loop scenarios, i.e. the exact bug, so starting from it would
# prove nothing) and the target's ordinary dictionary, with a fixed -seed
# (libFuzzer is deterministic for a given seed, engine and corpus: the same
# run finds the same crash after the same number of executions, however slow
# the machine), for at most SECONDS (the smoke budget). -len_control=0: from an
# empty corpus libFuzzer otherwise starts with inputs of a few bytes and
# lengthens them only when coverage stalls (11 bytes after 30 s), while the
# shortest loop takes 12 (a 5-byte header, a raw.desc, a raw.avail). It
# passes when
#   1. libFuzzer saved a crash input within SECONDS, and the finding is the
#      mutant's check (the one `virtio-sim mutants` names for it);
#   2. `virtio-sim fuzz-repro fuzz_split_device --mutants MUTANT CRASH -o X.json`
#      reports that finding and writes a scenario that selects the mutant;
#   3. `virtio-sim run X.json` fails (exit 1) with a violation of that check;
#   4. the same scenario without its "mutants" line does not fire the check
#      (the correct model gives up on the loop within its bound).
# Everything is left in out/fuzz/planted/ (log.txt, the crash, its scenario,
# what fuzz-repro and run said); one line goes to out/fuzz/summary.txt.
# Environment: FUZZ_BUILD (build/fuzz), FUZZ_CLI (build/virtio-sim),
# FUZZ_RSS_MB (2048).
set -u
cd "$(dirname "$0")/.."
secs=${1:?seconds}
seed=${2:-1}
mutant=dev.no-loop-check
target=fuzz_split_device
bin=${FUZZ_BUILD:-build/fuzz}/$target
cli=${FUZZ_CLI:-build/virtio-sim}
rss=${FUZZ_RSS_MB:-2048}
dir=out/fuzz/planted
summary=out/fuzz/summary.txt

fail() {
  echo "!! planted $mutant: $*"
  printf '%-18s %-7s %s\n' "planted" "FAIL" "$*" >>"$summary"
  exit 1
}

check=$("$cli" mutants | awk -v m="$mutant" '$1 == m && $2 == "->" { print $3 }')
[ -n "$check" ] || fail "'$cli mutants' does not list $mutant"
rm -rf "$dir"
mkdir -p "$dir/corpus"
echo "== planted $mutant ($check): $target from an empty corpus, -seed=$seed, at most ${secs}s; log in $dir/log.txt"

start=$(date +%s%N)
VSIM_FUZZ_MUTANTS=$mutant UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
  "$bin" -seed="$seed" -max_total_time="$secs" -timeout=10 -rss_limit_mb="$rss" -max_len=4096 -len_control=0 \
  -dict="fuzz/dict/$target.dict" -artifact_prefix="$dir/" -print_final_stats=1 "$dir/corpus" \
  >"$dir/log.txt" 2>&1
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))

# 1. a crash, and it is the planted bug
crash=$(ls "$dir"/crash-* 2>/dev/null | head -n 1)
[ "$rc" -ne 0 ] && [ -n "$crash" ] ||
  fail "no finding within ${secs}s (libFuzzer exited $rc): the fuzzer did not find the planted bug"
grep -q "==vsim-fuzz== FINDING: .*$check" "$dir/log.txt" ||
  fail "the finding is not $check: $(grep -m1 -E '==vsim-fuzz== FINDING|ERROR:' "$dir/log.txt")"
# executions up to the crash (-print_final_stats=1 prints them on a crash too)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log.txt" | tail -n 1)

# 2. the crash as a scenario, with the mutant selected
"$cli" fuzz-repro "$target" --mutants "$mutant" "$crash" -o "$crash.json" >/dev/null 2>"$crash.repro.txt"
rrc=$?
[ "$rrc" -eq 1 ] && grep -q "FINDING: .*$check" "$crash.repro.txt" ||
  fail "fuzz-repro exited $rrc without the finding: $(tail -n 1 "$crash.repro.txt")"
grep -q "\"mutants\": \[\"$mutant\"\]" "$crash.json" || fail "$crash.json does not select $mutant"

# 3. the scenario fails the same way under virtio-sim run
"$cli" run "$crash.json" >"$crash.run.txt" 2>&1
xrc=$?
[ "$xrc" -eq 1 ] && grep -q "violation \[[A-Z]*\] $check " "$crash.run.txt" ||
  fail "virtio-sim run $crash.json exited $xrc without a $check violation (see $crash.run.txt)"

# 4. the correct model on the same scenario: the check stays quiet
grep -v '"mutants":' "$crash.json" >"$crash.correct.json"
"$cli" run "$crash.correct.json" >"$crash.correct.txt" 2>&1
if grep -q "violation \[[A-Z]*\] $check " "$crash.correct.txt"; then
  fail "the correct model fires $check on the scenario too (see $crash.correct.txt)"
fi

line=$(printf '%-18s %-7s %10s execs %7sms to find %s (-seed=%s); run fails with %s' \
  "planted" "ok" "${execs:-?}" "$ms" "$mutant" "$seed" "$check")
echo "$line"
echo "   crash:    $crash"
echo "   scenario: $crash.json   ($cli run $crash.json)"
echo "$line" >>"$summary"
exit 0
