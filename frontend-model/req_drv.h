/* frontend-model/req_drv.h — generic requests: the req.raw step, for any device type.
 *
 * Owns: building a request from a req.raw step (the device-readable bytes,
 * then the device-writable ones, each split at guest page boundaries, out of
 * the driver's data pool), the values saved from replies ("save") and
 * written into later requests ("patch"), and judging each completion: the
 * used length (exact or a range) and the field checks on the bytes the
 * device wrote (a little-endian value, masked or in a range, an echo of what
 * was sent, or literal bytes). A mismatch is a step failure naming the
 * field. Only the first `len` bytes of the used element are trusted
 * (drivernormative: The Virtqueue Used Ring): a field past them fails too.
 * It knows nothing of any device's protocol; the scenario carries the bytes
 * (FUSE for virtio-fs, later net, console, input, gpu messages).
 * Requests on a queue the driver stopped (bad device output) fail without a
 * reply; a device reset forgets the requests in flight.
 * Must never: allocate per request outside its preallocated slot table (the
 * guest buffers come from the driver's pool), or read outside a request's
 * own buffers (the loader bounds every offset by the step's lengths).
 */
#ifndef VSIM_REQ_DRV_H
#define VSIM_REQ_DRV_H

#include <stdbool.h>
#include <stdint.h>
#include "driver.h"
#include "scenario.h"

/* Completion tokens of req.raw requests start here (blk requests use slot
 * numbers below the queue size, raw chains UINT64_MAX - head). */
#define VSIM_REQ_DRV_TOKEN_BASE (UINT64_C(1) << 40)

typedef void (*vsim_req_fail_fn)(void *ctx, const char *msg);

typedef struct vsim_req {
  bool busy;
  uint16_t q;
  uint64_t buf;          /* guest buffer: out_len device-readable bytes, then in_len device-writable */
  uint32_t out_len, in_len;
  uint32_t in_off;       /* where the writable part starts (data.len; the observer may send less) */
  uint32_t step_index;
  const vsim_step *step;
  uint64_t submitted_at; /* virtual time */
} vsim_req;

typedef struct vsim_req_drv {
  vsim_driver *drv;
  const vsim_host *sink;
  vsim_req_fail_fn fail;
  void *fail_ctx;
  uint16_t nq, qsize;
  vsim_req *req;         /* [nq * qsize]: slot k of queue q at q * qsize + k */
  char *const *names;    /* the scenario's saved names (vsim_scenario.saved_names), for messages */
  uint64_t saved[VSIM_SCENARIO_MAX_SAVED];
  uint32_t saved_set;    /* bit i: saved[i] holds a value from a reply */
  uint64_t completed;
  uint64_t latency_total, latency_max;
  /* A device type's look at each request (frontend-model/net_drv.h), or
   * NULL: before it goes (it may change the readable bytes or shorten
   * either part, as a driver mutant would), and when it is used (the bytes
   * written, `used` bounded by the writable length). */
  void (*on_submit)(void *ctx, uint16_t q, uint8_t *out, uint32_t *out_len, uint32_t *in_len);
  void (*on_complete)(void *ctx, uint16_t q, const uint8_t *out, uint32_t out_len, const uint8_t *in,
                      uint32_t in_len, uint32_t used);
  void *obs_ctx;
} vsim_req_drv;

int vsim_req_drv_init(vsim_req_drv *r, vsim_driver *drv, const vsim_host *sink, char *const *names,
                      vsim_req_fail_fn fail, void *fail_ctx);
void vsim_req_drv_fini(vsim_req_drv *r);
/* Is this completion token one of ours? */
bool vsim_req_drv_owns(uint64_t token);
/* Can the step go now (a free slot and ring room)? True also when it never
 * can: submit then says why. */
bool vsim_req_drv_can_submit(vsim_req_drv *r, const vsim_step *st);
/* Submit a req.raw step: 0, or -1 (the failure recorded). */
int vsim_req_drv_submit(vsim_req_drv *r, const vsim_step *st, uint32_t step_index);
/* The driver's completion callback for our tokens (vsim_req_drv_owns). */
void vsim_req_drv_complete(vsim_req_drv *r, uint16_t q, uint64_t token, uint32_t len);
/* Queue q stopped: its requests in flight fail (when they expected a reply). */
void vsim_req_drv_queue_stopped(vsim_req_drv *r, uint16_t q);
/* Forget the requests in flight on queue q (all when q < 0): a reset. */
void vsim_req_drv_drop(vsim_req_drv *r, int q);

#endif
