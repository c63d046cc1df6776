/* backend-model/be_record.h — record what a back-end does (be_log.h).
 *
 * Owns: a wrapper around any back-end's ops table that forwards every call,
 * finds the guest memory the back-end wrote without the accessors (an
 * out-of-process daemon writes the memfd directly) by comparing guest
 * memory with a mirror that follows the engine's own writes, hands each
 * written range to the engine (vsim_be_wrote_fn) before the callback that
 * follows it, and, when asked to, writes the call, its answer and its
 * effects as one trace line. The wrapped back-end stays the caller's to
 * destroy.
 * Must never: change what the back-end sees or answers, or keep anything
 * between calls except the mirror and the lines not yet written.
 */
#ifndef VSIM_BE_RECORD_H
#define VSIM_BE_RECORD_H

#include <stdbool.h>
#include "be_log.h"
#include "virtiosim/backend.h"

typedef struct vsim_recorder vsim_recorder;

/* `engine`: the host the back-end's callbacks reach; `arena`: guest memory
 * (the recorder installs itself as its fault sink and mirror); `lines`:
 * build trace lines (else only compare and report writes);
 * `out_of_process`: the back-end writes guest memory without the accessors
 * (else only the ranges it wrote through them are compared). NULL when out
 * of memory. Create it before the back-end: give the back-end
 * vsim_recorder_host() as its host. */
vsim_recorder *vsim_recorder_new(const vsim_host *engine, vsim_arena *arena, vsim_be_wrote_fn wrote,
                                 void *wrote_ctx, bool lines, bool out_of_process);
const vsim_host *vsim_recorder_host(vsim_recorder *r);
/* The back-end was created: `*out` becomes the recording wrapper of `inner`
 * (its destroy does nothing; destroy `inner` yourself, then free the
 * recorder). */
void vsim_recorder_attach(vsim_recorder *r, vsim_backend inner, vsim_backend *out);
/* Lines from now on go to `write` (those built before are written first). */
void vsim_recorder_output(vsim_recorder *r, void (*write)(void *ctx, const char *line), void *ctx);
/* The recording is incomplete: the back-end called the host outside any call
 * into it (its effect has no line to go in), a line or a range could not be
 * kept (out of memory; the comparisons may then have taken an engine write
 * for the back-end's). The trace then replays only with the back-end. */
bool vsim_recorder_lost(const vsim_recorder *r);
/* The engine drives the back-end outside its ops table (a built-in model's
 * host side: host.input, host.event, expect.output), which no line can hold
 * and a stand-in cannot answer: the recording is incomplete from here. */
void vsim_recorder_outside_call(vsim_recorder *r);
/* A built-in model's receive queues as a bit mask (the engine's liveness
 * judgement depends on them), recorded as a "receive_queues" line so that a
 * stand-in answers the same (vsim_standin_receive_queues). */
void vsim_recorder_receive_queues(vsim_recorder *r, uint64_t mask);
void vsim_recorder_free(vsim_recorder *r);

#endif
