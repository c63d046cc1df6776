/* frontend-model/blk_drv.h — the virtio-blk driver model.
 *
 * Owns: building blk requests (header, data segments split at guest page
 * boundaries, status byte) from scenario steps, multiqueue, and checking what
 * comes back: the status byte, the data against a shadow of the disk (what was
 * last written, zeroed, or unknown), the RO and discard rules, and the
 * scenario's own per-step expectations. It also flags requests the scenario
 * asks for that a conforming driver must not send (beyond capacity, data not a
 * multiple of 512, FLUSH with a sector), then sends them anyway: the device
 * must cope. A request on a queue the driver stopped (bad device output)
 * fails with IOERR, as a block layer sees it: those in flight when the queue
 * stops, and any submitted to it later.
 * Must never: allocate per request outside its preallocated slot table.
 */
#ifndef VSIM_BLK_DRV_H
#define VSIM_BLK_DRV_H

#include <stdbool.h>
#include <stdint.h>
#include "driver.h"
#include "scenario.h"

typedef void (*vsim_expect_fail_fn)(void *ctx, const char *msg);

typedef struct vsim_blk_req {
  bool busy;
  uint16_t q;
  uint32_t type;
  uint64_t sector;
  uint32_t flags;
  uint64_t hdr;        /* header gpa; the status byte sits at hdr + 16 */
  uint64_t data;       /* data buffer gpa or 0 */
  uint64_t data_len;
  uint64_t out_len;    /* the device-readable part of data (payload after the header) */
  uint32_t step_index;
  const vsim_step *step;
  uint64_t submitted_at; /* virtual time of the submission */
  /* a read in flight together with an overlapping write: a device may
   * execute them in either order (an out-of-process one really does), so
   * its data proves nothing either way */
  bool racy;
  /* the guest memory the request owns beyond its header slot (freed at
   * completion), and where its status byte is: hdr + 16 in the usual
   * framing, the end of the merged buffer with "framing": "merged" */
  uint64_t alloc, alloc_len, status;
  /* the check a non-OK answer breaks: a well-formed request framed in an
   * unusual but valid way (vsim_step.framing), or -1 (not judged) */
  int framing_check;
} vsim_blk_req;

typedef struct vsim_blk_drv {
  vsim_driver *drv;
  const vsim_host *sink;
  vsim_expect_fail_fn fail;
  void *fail_ctx;
  uint64_t capacity;       /* sectors, from config space */
  uint32_t seg_max, size_max;
  /* max_discard_seg / max_write_zeroes_seg from config space, when their
   * feature is negotiated (0: not negotiated, nothing to judge) */
  uint32_t max_discard_seg, max_write_zeroes_seg;
  uint16_t nq, qsize;
  vsim_blk_req *req;       /* [nq * qsize]: slot k of queue q at q*qsize + k */
  uint64_t *busy_map;      /* [nq * words]: bit k of queue q set while req[q*qsize + k] is busy */
  uint32_t words;          /* 64-bit words per queue in busy_map */
  uint8_t *shadow;         /* capacity*512 bytes, or NULL if too large */
  uint8_t *known;          /* per sector: 0 unknown, 1 written, 2 zeroed */
  uint64_t completed;
  uint64_t latency_total;  /* virtual time from submission to completion, summed */
  uint64_t latency_max;
  uint64_t pattern_stream; /* counter for data patterns */
  /* config fields of offered features as read before FEATURES_OK, and the
   * config generation then, compared at probe (vsim_blk_drv_before_features_ok) */
  unsigned npre;
  struct vsim_blk_pre_field {
    uint16_t off;
    uint8_t width;
    uint64_t value;
  } pre[24];
  uint32_t pre_generation;
} vsim_blk_drv;

/* The feature bits this driver understands. */
uint64_t vsim_blk_drv_understood(void);

int vsim_blk_drv_init(vsim_blk_drv *b, vsim_driver *drv, const vsim_host *sink,
                      vsim_expect_fail_fn fail, void *fail_ctx);
void vsim_blk_drv_fini(vsim_blk_drv *b);
/* Before FEATURES_OK (vsim_driver_config.before_features_ok, ctx the
 * vsim_blk_drv): read every config field of an offered feature. The probe
 * reads them again: one that changed while config_generation did not is the
 * device's config.dev-readable-before-features-ok. */
void vsim_blk_drv_before_features_ok(void *ctx);
/* Read config after the device is live (capacity, seg_max...). */
void vsim_blk_drv_probe(vsim_blk_drv *b);

/* Forget the requests in flight on queue q (every queue when q < 0), freeing
 * their data buffers: after a device or queue reset they never complete. */
void vsim_blk_drv_drop(vsim_blk_drv *b, int q);
/* The device set DEVICE_NEEDS_RESET and the driver gave up: a well-formed
 * request framed in an unusual way that it still held is its framing
 * violation (vsim_blk_req.framing_check), as if it had failed it. */
void vsim_blk_drv_abandoned(vsim_blk_drv *b);
/* Can this step be submitted now (a free slot and room in the ring)? */
bool vsim_blk_drv_can_submit(vsim_blk_drv *b, const vsim_step *st);
/* Submit a blk.* step. Returns 0 submitted, -1 cannot ever (failure recorded). */
int vsim_blk_drv_submit(vsim_blk_drv *b, const vsim_step *st, uint32_t step_index);
/* The driver's completion callback (token = slot index). */
void vsim_blk_drv_complete(void *ctx, uint16_t q, uint64_t token, uint32_t len);
/* The driver core's queue-stopped callback (vsim_driver_on_stop): every
 * request in flight on q fails. */
void vsim_blk_drv_queue_stopped(void *ctx, uint16_t q);
/* Expand a data spec into bytes (pattern streams seeded from the spec). */
void vsim_data_expand(const vsim_data *d, uint8_t *out);
/* The first of p[0..len) that differs from d's bytes (len: none; len at
 * most d->len), and the byte expected there in *want (when not NULL):
 * compared in place, without allocating (a completion must not). */
uint32_t vsim_data_mismatch(const vsim_data *d, const uint8_t *p, uint32_t len, uint8_t *want);

#endif
