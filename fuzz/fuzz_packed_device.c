/* fuzz/fuzz_packed_device.c — libFuzzer target: a malicious driver's
 * packed-ring operations, decoded by sim/fuzz_decode.c into a scenario,
 * against the built-in blk device. Input format and oracles: fuzz/README.md. */
#include "fuzz_common.h"

VSIM_FUZZ_TARGET("fuzz_packed_device")
