/* fuzz/fuzz_gpu_request.c — libFuzzer target: a hostile driver's requests
 * against the built-in gpu model (controlq and cursorq commands, backing entries in guest memory), decoded into a
 * scenario and run through the engine with every checker on. Input format
 * and oracles: fuzz/README.md. */
#include "fuzz_common.h"

VSIM_FUZZ_TARGET("fuzz_gpu_request")
