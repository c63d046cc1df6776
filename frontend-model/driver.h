/* frontend-model/driver.h — the simulated guest driver, device-independent part.
 *
 * Owns: the guest memory layout the driver uses (rings, indirect tables,
 * request headers, a data-buffer pool, a scratch area for raw scenario ops),
 * the initialisation sequence in the spec's order (reset, ACKNOWLEDGE, DRIVER,
 * features, FEATURES_OK and its re-read, queue set-up, DRIVER_OK) with its
 * failure paths (FEATURES_OK refused -> FAILED; DEVICE_NEEDS_RESET), the
 * virtqueues, interrupt handling and reaping. Device drivers (blk_drv) sit on
 * top and get completions through a callback.
 * A queue whose ring shows bad device output stops (the ring's driver side
 * refuses every further operation on it); the driver core tells the device
 * driver once, so that the requests in flight on that queue fail instead of
 * waiting for completions that will never be reaped.
 * Must never: continue after FAILED, or submit after DEVICE_NEEDS_RESET.
 */
#ifndef VSIM_DRIVER_H
#define VSIM_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include "transport.h"
#include "vq_packed_drv.h"
#include "vq_split_drv.h"
#include "virtiosim/mutants.h"

#define VSIM_DRV_MAX_QUEUES 64
#define VSIM_DRV_SCRATCH_SIZE (64u * 1024u)
#define VSIM_DRV_REQ_SLOT 32u      /* bytes per request slot: header + status */
#define VSIM_DRV_POOL_UNIT 512u    /* data pool allocation unit */

typedef void (*vsim_drv_complete_fn)(void *ctx, uint16_t q, uint64_t token, uint32_t len);
/* Queue q stopped: its ring will not be reaped again until it is set up anew. */
typedef void (*vsim_drv_stopped_fn)(void *ctx, uint16_t q);

typedef struct vsim_driver_config {
  uint64_t accept;          /* features the driver is willing to accept */
  uint64_t understood;      /* features the device driver knows */
  uint16_t queue_size;
  uint16_t num_queues;      /* queues to set up (device type decides) */
  int mq_feature;           /* feature bit that allows more than one queue, or -1 */
  bool poll;                /* no interrupts: NO_INTERRUPT / used_event far away */
  vsim_mutset mutants;
  /* The device type's feature requirements: given what the driver would
   * accept, what it does accept (a bit whose requirement is missing
   * dropped). NULL: no requirements. */
  uint64_t (*close_features)(uint64_t features);
  /* Features the scenario told the device to refuse FEATURES_OK for
   * (refuse_features, to drive the refusal path): a refusal of a set with
   * any of them is asked for, not the device's own (feat.dev-accept-subset). */
  uint64_t refused_on_purpose;
  /* Called once per initialisation after the device features are read and
   * before the driver writes its own (the device type's driver reads config
   * fields there: a device MUST allow it), or NULL. */
  void (*before_features_ok)(void *ctx);
  void *hook_ctx;
} vsim_driver_config;

typedef struct vsim_driver {
  vsim_drv_transport tr;
  vsim_arena *arena;
  const vsim_host *sink;    /* violations and events */
  vsim_driver_config cfg;
  vsim_drv_complete_fn complete;
  void *complete_ctx;
  /* layout */
  uint64_t ring_base[VSIM_DRV_MAX_QUEUES];
  uint64_t indirect_base[VSIM_DRV_MAX_QUEUES];
  uint64_t req_base[VSIM_DRV_MAX_QUEUES];
  uint16_t indirect_max;
  uint64_t pool_base, pool_units;
  uint8_t *pool_used;       /* [pool_units] */
  uint64_t pool_hint;
  uint64_t scratch_base;
  /* state */
  uint64_t offered, features;
  uint8_t status;           /* what the driver believes it has written */
  bool live;                /* DRIVER_OK written and acknowledged */
  bool failed;
  bool needs_reset;
  uint16_t nq;              /* queues in use */
  bool packed;              /* VIRTIO_F_RING_PACKED negotiated: pvq[] are the rings, else vq[] */
  vsim_vq_drv vq[VSIM_DRV_MAX_QUEUES];
  vsim_vq_pdrv pvq[VSIM_DRV_MAX_QUEUES];
  bool vq_init[VSIM_DRV_MAX_QUEUES];
  /* the size a queue was re-enabled with after its reset (0: the scenario's
   * queue_size); a device reset forgets it */
  uint16_t qsize[VSIM_DRV_MAX_QUEUES];
  uint64_t kicks;
  vsim_drv_stopped_fn stopped;
  void *stopped_ctx;
  bool stop_told[VSIM_DRV_MAX_QUEUES]; /* `stopped` was called for the queue's current rings */
  bool batching;            /* between batch_begin and batch_end */
  uint64_t kick_owed;       /* queues (bit q) that took a chain in the open batch */
} vsim_driver;

int vsim_driver_create(vsim_driver *d, vsim_drv_transport tr, vsim_arena *arena,
                       const vsim_host *sink, const vsim_driver_config *cfg,
                       vsim_drv_complete_fn complete, void *complete_ctx);
void vsim_driver_destroy(vsim_driver *d);
/* Who to tell when a queue stops (once per set-up of the queue); NULL: nobody. */
void vsim_driver_on_stop(vsim_driver *d, vsim_drv_stopped_fn fn, void *ctx);

/* Initialise the device. `until_driver_ok` false stops after queue set-up
 * (for scenarios that poke the rings before DRIVER_OK). Returns 0 when the
 * device is live (or set up), -1 when initialisation failed (FAILED set). */
int vsim_driver_init(vsim_driver *d, bool until_driver_ok);
int vsim_driver_set_driver_ok(vsim_driver *d);
/* Reset the device (status 0), wait for it to read 0, forget all queues. */
void vsim_driver_reset(vsim_driver *d);
/* VIRTIO_F_RING_RESET: reset queue q alone (its in-flight chains are
 * forgotten), and re-enable it with fresh rings. 0 or -1. */
int vsim_driver_queue_reset(vsim_driver *d, uint16_t q);
/* `size` 0: the scenario's queue_size; else at most that (the ring memory is
 * laid out for it), as a driver may re-enable with other parameters. */
int vsim_driver_queue_enable(vsim_driver *d, uint16_t q, uint16_t size);
/* Ring and transport features this driver core implements (device drivers
 * add their own bits). */
uint64_t vsim_driver_core_features(void);

/* Read a config field of 1, 2, 4 or 8 bytes at `off` (generation-checked). */
uint64_t vsim_driver_config_read(vsim_driver *d, uint32_t off, unsigned width);

/* Submit a chain on queue q and kick if the ring says so. Returns the head,
 * -2 when the queue is full, -1 when it can never go (broken / not live). */
int vsim_driver_submit(vsim_driver *d, uint16_t q, const vsim_seg *segs, unsigned nout,
                       unsigned nin, uint64_t token);
/* Shape the next chain submitted on queue q through an indirect table (split
 * ring with INDIRECT_DESC only; false otherwise): vsim_vq_drv_shape_next. */
bool vsim_driver_shape_next(vsim_driver *d, uint16_t q, uint16_t direct, bool write);
/* Batching: between begin and end, submit adds chains without deciding
 * whether to kick; end makes that decision once per queue that took a chain
 * (Linux: virtqueue_add_sgs N times, then one virtqueue_kick_prepare). */
void vsim_driver_batch_begin(vsim_driver *d);
void vsim_driver_batch_end(vsim_driver *d);
/* The notify decision and the notify itself (used by submit and raw ops). */
void vsim_driver_kick_if_needed(vsim_driver *d, uint16_t q);
void vsim_driver_notify(vsim_driver *d, uint16_t q, uint32_t value);
/* The value a notification of queue q carries: the queue index, and with
 * NOTIFICATION_DATA the next available position and wrap bit. */
uint32_t vsim_driver_notify_value(const vsim_driver *d, uint16_t q);

/* Ring room, whatever the layout: the most segments one chain may have
 * (an indirect table's size when negotiated, else the queue size), and
 * whether a chain of `segs` segments fits in queue q right now. */
unsigned vsim_driver_max_segs(const vsim_driver *d);
bool vsim_driver_has_room(const vsim_driver *d, uint16_t q, unsigned segs);
/* Chains in flight on queue q, and whether completions wait in its used ring. */
uint32_t vsim_driver_queue_inflight(const vsim_driver *d, uint16_t q);
bool vsim_driver_queue_used_pending(vsim_driver *d, uint16_t q);
/* The queue stopped (bad device output) or cannot be used at all. */
bool vsim_driver_queue_broken(const vsim_driver *d, uint16_t q);
/* The queue is set up and stopped: bad device output (or a fault on its own
 * rings) made the driver give up on it. */
bool vsim_driver_queue_stopped(const vsim_driver *d, uint16_t q);

/* Check the bookkeeping of every queue that is set up (vsim_vq_drv_audit /
 * vsim_vq_pdrv_audit): 0, or -1 with "queue Q: what is wrong" in msg. For
 * tests and the fuzz targets' oracles; O(queues x queue size). */
int vsim_driver_audit(const vsim_driver *d, char *msg, size_t n);

/* Interrupts: pending? handle (ack, config change, reap every queue). */
bool vsim_driver_irq_pending(vsim_driver *d);
void vsim_driver_handle_irq(vsim_driver *d);
/* Reap queue q without an interrupt (polling). Returns completions reaped. */
unsigned vsim_driver_poll(vsim_driver *d, uint16_t q);
/* Any used entries waiting on any queue (poll-mode readiness)? */
bool vsim_driver_used_pending(vsim_driver *d);
uint32_t vsim_driver_inflight(const vsim_driver *d);

/* Data pool: contiguous guest buffer of `len` bytes (rounded up to the unit),
 * or 0 when the pool is exhausted. */
uint64_t vsim_driver_alloc(vsim_driver *d, uint64_t len);
void vsim_driver_free(vsim_driver *d, uint64_t gpa, uint64_t len);

#endif
