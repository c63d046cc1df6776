/* fuzz/fuzz_scenario.c — libFuzzer target: the JSON scenario loader and
 * validator (a sim, or NULL with a positioned message; never a crash).
 * Oracles: fuzz/README.md. */
#include "fuzz_common.h"

VSIM_FUZZ_TARGET("fuzz_scenario")
