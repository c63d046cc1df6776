/* fuzz/fuzz_net_request.c — libFuzzer target: a hostile driver's requests
 * against the built-in net model (transmit header + frame, control-queue commands, receive buffers, host frames), decoded into a
 * scenario and run through the engine with every checker on. Input format
 * and oracles: fuzz/README.md. */
#include "fuzz_common.h"

VSIM_FUZZ_TARGET("fuzz_net_request")
