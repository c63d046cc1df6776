/* fuzz/fuzz_split_driver.c — libFuzzer target: a malicious device's output on
 * the split ring (used elements, used.idx, used.flags, avail_event,
 * interrupts, config space, NEEDS_RESET), decoded by sim/fuzz_decode.c into a
 * "device_scripted" scenario, against the driver model. Input format and
 * oracles: fuzz/README.md. */
#include "fuzz_common.h"

VSIM_FUZZ_TARGET("fuzz_split_driver")
