#!/bin/bash -eu
# fuzz/oss-fuzz/build.sh — build the fuzz targets under the OSS-Fuzz /
# ClusterFuzzLite build contract.
#
# Inputs (set by the infrastructure): CC, CFLAGS (sanitizer and coverage flags
# included), LIB_FUZZING_ENGINE (e.g. -fsanitize=fuzzer), OUT; CXX / CXXFLAGS
# when set are used for the final link (some engines are C++ archives).
# Outputs in $OUT, per target T: the binary T, T_seed_corpus.zip (the
# committed fuzz/corpus/T, flat), T.dict and T.options (max_len).
#
# The infrastructure copies this script to $SRC/build.sh and runs it from the
# project's WORKDIR; run by hand it finds the repository from its own path:
#   CC=clang CFLAGS="-fsanitize=address,undefined" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
#     OUT=/tmp/ossfuzz-out fuzz/oss-fuzz/build.sh
# No -Werror: the infrastructure's CFLAGS are not ours to vet.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -f "$here/../fuzz.mk" ]; then
  REPO=$(cd "$here/../.." && pwd)
elif [ -f fuzz/fuzz.mk ]; then
  REPO=$(pwd)
elif [ -f "${SRC:-/src}/virtio-sim/fuzz/fuzz.mk" ]; then
  REPO=${SRC:-/src}/virtio-sim
else
  echo "build.sh: cannot find the virtio-sim repository" >&2
  exit 1
fi
: "${CC:?}" "${OUT:?}" "${LIB_FUZZING_ENGINE:?}"
CFLAGS=${CFLAGS:-}
LINK=${CXX:-$CC}
LINKFLAGS=${CXXFLAGS:-$CFLAGS}
WORKDIR=${WORK:-$(mktemp -d)}/virtio-sim-obj
mkdir -p "$OUT" "$WORKDIR"

INC="-std=c11 -D_GNU_SOURCE -g -I$REPO/include -I$REPO/sim -I$REPO/backend-model -I$REPO/frontend-model -I$REPO/conformance -I$REPO/reports"
TARGETS="fuzz_split_device fuzz_packed_device fuzz_split_driver fuzz_packed_driver fuzz_scenario fuzz_blk_request fuzz_vhost_user fuzz_net_request fuzz_gpu_request fuzz_console_request fuzz_input_request"

# the library: the same sources as libvirtiosim (every module but the CLI)
objs=()
cd "$REPO"
for src in sim/*.c backend-model/*.c frontend-model/*.c conformance/*.c reports/*.c; do
  [ -f "$src" ] || continue
  [ "$src" = sim/cli.c ] && continue
  o="$WORKDIR/${src//\//_}.o"
  # shellcheck disable=SC2086
  $CC $CFLAGS $INC -c "$src" -o "$o"
  objs+=("$o")
done
rm -f "$WORKDIR/libvirtiosim.a"
ar rcs "$WORKDIR/libvirtiosim.a" "${objs[@]}"

# jansson statically when the archive exists: the runner image has no libjansson
jansson=$($CC -print-file-name=libjansson.a)
[ -f "$jansson" ] || jansson=-ljansson

zip_dir() { # zip_dir DIR ZIP: the files of DIR, flat
  rm -f "$2"
  if command -v python3 >/dev/null; then
    (cd "$1" && python3 -m zipfile -c "$2" ./*)
  else
    (cd "$1" && zip -qj "$2" ./*)
  fi
}

for t in $TARGETS; do
  # shellcheck disable=SC2086
  $CC $CFLAGS $INC -c "fuzz/$t.c" -o "$WORKDIR/$t.o"
  # shellcheck disable=SC2086
  $LINK $LINKFLAGS "$WORKDIR/$t.o" -o "$OUT/$t" $LIB_FUZZING_ENGINE "$WORKDIR/libvirtiosim.a" \
    $jansson -ldl -lm
  [ -d "fuzz/corpus/$t" ] && zip_dir "$REPO/fuzz/corpus/$t" "$OUT/${t}_seed_corpus.zip"
  [ -f "fuzz/dict/$t.dict" ] && cp "fuzz/dict/$t.dict" "$OUT/$t.dict"
  case $t in
    fuzz_scenario) max_len=16384 ;;
    *) max_len=4096 ;;
  esac
  printf '[libfuzzer]\nmax_len = %s\ndict = %s.dict\n' "$max_len" "$t" >"$OUT/$t.options"
done
echo "build.sh: built $TARGETS into $OUT"
