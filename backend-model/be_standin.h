/* backend-model/be_standin.h — a back-end played back from a trace.
 *
 * Owns: an ops table that answers every call from the lines the recorder
 * wrote (be_log.h), in order: it checks that the engine makes the call the
 * recording holds (op and arguments), carries out the recorded effects
 * (guest-memory writes, told to the engine through vsim_be_wrote_fn first;
 * events, interrupts, violations, refused accesses) and returns the
 * recorded answer. A run against it needs neither the daemon nor the model
 * it recorded.
 * Must never: write outside guest memory or trust a line: a malformed or
 * out-of-step line is a divergence (reported once, with the trace's line
 * number), after which it answers nothing (0, false) and does nothing.
 */
#ifndef VSIM_BE_STANDIN_H
#define VSIM_BE_STANDIN_H

#include "be_log.h"
#include "virtiosim/backend.h"

typedef void (*vsim_standin_diverged_fn)(void *ctx, const char *msg);

/* `log` (and its lines) must outlive the back-end. Carries out call 0's
 * effects now. 0, or -1 with a message in err. Destroy with out->ops->destroy. */
int vsim_standin_create(const vsim_be_log *log, const vsim_host *host, vsim_be_wrote_fn wrote,
                        void *wrote_ctx, vsim_standin_diverged_fn diverged, void *diverged_ctx,
                        vsim_backend *out, char *err, size_t errlen);

/* The status the played-back backend last answered (for observers, which
 * must not make calls the recording does not hold). */
uint8_t vsim_standin_last_status(void *be);

/* The receive queues the recorded built-in model had at this point (its
 * "receive_queues" line), or 0 when the recording has none here (a back-end
 * whose host side is its own: no queue is exempt). */
uint64_t vsim_standin_receive_queues(void *be);

#endif
