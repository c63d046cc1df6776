/* sim/fuzz_vu.h — the fuzz_vhost_user target's input format, its oracles and
 * its seed completion (internal to sim/fuzz_decode.c, which dispatches to it;
 * the format is documented in fuzz/README.md).
 *
 * Owns: decoding an input into two texts, a blk scenario (what the driver
 * does) and a vhost-user back-end script (backend-model/vu_script.h: what
 * the back-end replies and does to the rings), running the scenario with
 * `--backend vhost-user-script:` on that script, and the oracles: no engine
 * error, a run that ends, no descriptor left open, and the adapter's
 * judgement agreeing with the scripted peer's (every malformed or missing
 * reply the front-end read is a vhost-user.* violation, and a conversation
 * without one has none).
 * Must never: emit a scenario or script the loaders refuse (the decoder
 * clamps every value), keep state between calls, or abort.
 */
#ifndef VSIM_FUZZ_VU_H
#define VSIM_FUZZ_VU_H

#include <stddef.h>
#include <stdint.h>
#include "fuzz_decode.h"

/* The scenario (returned) and the script (*script, *script_len) an input
 * decodes to, both malloc'd and NUL-terminated; NULL when out of memory. */
char *vsim_fuzz_vu_decode(const uint8_t *data, size_t size, size_t *len, char **script,
                          size_t *script_len, vsim_fuzz_info *info);

/* Decode, run, judge (fuzz_decode.h's vsim_fuzz_run for this target);
 * `oracle` (may be NULL) names checks whose violations are findings too. */
int vsim_fuzz_vu_run(const uint8_t *data, size_t size, const vsim_fuzz_oracle *oracle, char *msg,
                     size_t msglen);

/* The input with the replies it lacks added, as a back-end of `profile`
 * (0..VSIM_FUZZ_VU_PROFILES-1, fuzz/README.md) would have sent them: run,
 * find the first request the script left without a reply, put that reply
 * where the peer writes it in time, again until none is missing. For seed
 * corpora (the skeleton says what the driver does and when the back-end
 * uses buffers; this fills in the conversation). malloc'd, *outlen bytes;
 * NULL with a message when the input already has a malformed reply or the
 * conversation does not settle. */
#define VSIM_FUZZ_VU_PROFILES 4
uint8_t *vsim_fuzz_vu_complete(const uint8_t *data, size_t size, unsigned profile, size_t *outlen,
                               char *err, size_t errlen);

#endif
