/* fuzz/fuzz_input_request.c — libFuzzer target: a hostile driver's requests
 * against the built-in input model (statusq events, eventq buffers, host updates, select/subsel config writes), decoded into a
 * scenario and run through the engine with every checker on. Input format
 * and oracles: fuzz/README.md. */
#include "fuzz_common.h"

VSIM_FUZZ_TARGET("fuzz_input_request")
