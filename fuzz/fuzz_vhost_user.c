/* fuzz/fuzz_vhost_user.c — libFuzzer target: the vhost-user front-end
 * (backend-model/vhost_user.c) against a scripted back-end whose replies,
 * descriptors, hang-ups and ring updates come from the input, decoded by
 * sim/fuzz_vu.c into a scenario plus a back-end script. Input format and
 * oracles: fuzz/README.md. */
#include "fuzz_common.h"

VSIM_FUZZ_TARGET("fuzz_vhost_user")
