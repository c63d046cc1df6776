#!/bin/sh
# fuzz/run_fuzz.sh — run libFuzzer targets from their seed corpora (called by fuzz/fuzz.mk).
#
#   sh fuzz/run_fuzz.sh smoke SECONDS TARGET...   fresh working corpus, each target SECONDS
#   sh fuzz/run_fuzz.sh long  SECONDS TARGET      keeps out/fuzz/TARGET/corpus between runs;
#                                                 SECONDS 0 runs until stopped
#
# Seeds are read from fuzz/corpus/TARGET/ and copied into out/fuzz/TARGET/corpus/,
# where libFuzzer adds what it finds: the committed corpus never changes by
# running. A finding (crash, sanitizer report, oracle abort, timeout, OOM)
# fails the run and leaves in out/fuzz/TARGET/:
#   crash-<sha1>            the input, as libFuzzer saved it
#   crash-<sha1>.json       the scenario it decodes to (virtio-sim fuzz-repro)
#   crash-<sha1>.repro.txt  what fuzz-repro said about it (the oracle message)
#   log.txt                 libFuzzer's output, with the stack
# and prints the commands that replay it. out/fuzz/summary.txt gets one line
# per target: executions, execs/s, coverage (edges) and features.
# Environment: FUZZ_BUILD (build/fuzz), FUZZ_CLI (build/virtio-sim),
# FUZZ_RSS_MB (2048), FUZZ_JOBS (1, long runs only), VSIM_FUZZ_FATAL and
# VSIM_FUZZ_MUTANTS (fuzz/README.md; with mutants planted, fuzz-repro is given
# the same ones, so that the scenario replays what the target ran).
set -u
cd "$(dirname "$0")/.."
mode=${1:?mode}
secs=${2:?seconds}
shift 2
bin_dir=${FUZZ_BUILD:-build/fuzz}
cli=${FUZZ_CLI:-build/virtio-sim}
rss=${FUZZ_RSS_MB:-2048}
jobs=${FUZZ_JOBS:-1}
out=out/fuzz
# UBSan reports carry their stack in the log
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
mkdir -p "$out"
summary=$out/summary.txt
[ "$mode" = smoke ] && : >"$summary"
status=0
planted=${VSIM_FUZZ_MUTANTS:+--mutants $VSIM_FUZZ_MUTANTS}

max_len() {
  case "$1" in
    fuzz_scenario) echo 16384 ;;
    fuzz_split_device | fuzz_packed_device | fuzz_split_driver | fuzz_packed_driver | fuzz_blk_request | \
      fuzz_vhost_user) echo 4096 ;;
    *) echo 4096 ;;
  esac
}

for t in "$@"; do
  dir=$out/$t
  [ "$mode" = smoke ] && rm -rf "$dir"
  mkdir -p "$dir/corpus"
  rm -f "$dir"/crash-* "$dir"/timeout-* "$dir"/oom-* "$dir"/leak-* "$dir"/slow-unit-*
  if [ -d "fuzz/corpus/$t" ]; then cp fuzz/corpus/"$t"/* "$dir/corpus/" 2>/dev/null; fi
  set -- -rss_limit_mb="$rss" -timeout=10 -max_len="$(max_len "$t")" \
    -artifact_prefix="$dir/" -print_final_stats=1
  [ -f "fuzz/dict/$t.dict" ] && set -- "$@" -dict="fuzz/dict/$t.dict"
  [ "$secs" -gt 0 ] && set -- "$@" -max_total_time="$secs"
  [ "$mode" = long ] && [ "$jobs" -gt 1 ] && set -- "$@" -jobs="$jobs" -workers="$jobs"
  echo "== $t: ${secs}s (0 = until stopped) from $(ls "$dir/corpus" | wc -l) inputs; log in $dir/log.txt"
  start=$(date +%s)
  "$bin_dir/$t" "$@" "$dir/corpus" >"$dir/log.txt" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log.txt" | tail -n 1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log.txt" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$dir/log.txt" | tail -n 1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$dir/log.txt" | tail -n 1 | cut -d' ' -f2)
  found=$(ls "$dir"/crash-* "$dir"/timeout-* "$dir"/oom-* "$dir"/leak-* 2>/dev/null | grep -v '\.json$\|\.txt$')
  verdict=ok
  if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
    verdict=FINDING
    status=1
    echo "!! $t: libFuzzer exited $rc"
    grep -E '==vsim-fuzz==|ERROR: (AddressSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|SUMMARY:|runtime error' \
      "$dir/log.txt" | head -n 8 | sed 's/^/   /'
    for f in $found; do
      # $planted unquoted on purpose: empty, or two words
      "$cli" fuzz-repro "$t" $planted "$f" -o "$f.json" >/dev/null 2>"$f.repro.txt"
      echo "   input:    $f"
      echo "   scenario: $f.json"
      echo "   $(tail -n 1 "$f.repro.txt")"
      if grep -q 'oracles hold' "$f.repro.txt"; then
        echo "   (the oracles hold outside the sanitizers: the finding is the sanitizer report;"
        echo "    replay the scenario with an ASan build, e.g. build/asan/virtio-sim from make test)"
      fi
      echo "   replay:   ${VSIM_FUZZ_MUTANTS:+VSIM_FUZZ_MUTANTS=$VSIM_FUZZ_MUTANTS }$bin_dir/$t $f      # the crash with its stack"
      echo "             $cli run $f.json    # the scenario, deterministically"
    done
  fi
  line=$(printf '%-18s %-7s %10s execs %7s exec/s  cov %6s  ft %7s  %5ss' \
    "$t" "$verdict" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "$took")
  echo "$line"
  echo "$line" >>"$summary"
done
[ "$status" -eq 0 ] && echo "fuzz ($mode): no findings" || echo "fuzz ($mode): FINDINGS above, reproducers in $out/"
exit "$status"
