/* fuzz/fuzz_packed_driver.c — libFuzzer target: a malicious device's output
 * on the packed ring (used descriptors with any id, len and flags, skips,
 * the device event suppression structure, interrupts, config space,
 * NEEDS_RESET), decoded by sim/fuzz_decode.c into a "device_scripted"
 * scenario, against the driver model. Input format and oracles:
 * fuzz/README.md. */
#include "fuzz_common.h"

VSIM_FUZZ_TARGET("fuzz_packed_driver")
