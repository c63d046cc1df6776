/* fuzz/fuzz_blk_request.c — libFuzzer target: one descriptor chain against the
 * blk model's request parser (vsim_blk_model_request), after feature
 * negotiation through the backend ops table. Input format and oracles:
 * fuzz/README.md. */
#include "fuzz_common.h"

VSIM_FUZZ_TARGET("fuzz_blk_request")
