/* fuzz/fuzz_console_request.c — libFuzzer target: a hostile driver's requests
 * against the built-in console model (port data, control messages (MULTIPORT), receive buffers, host input and events), decoded into a
 * scenario and run through the engine with every checker on. Input format
 * and oracles: fuzz/README.md. */
#include "fuzz_common.h"

VSIM_FUZZ_TARGET("fuzz_console_request")
