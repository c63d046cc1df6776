/* sim/devscript.h — the scripted device: a scenario's dev.* steps.
 *
 * Owns: what a device does to the rings when a scenario plays it by hand
 * ("device_scripted": true): taking chains from the available ring (as a
 * device pops them, to learn their buffer id, length and last writable byte),
 * writing used elements / used descriptors, used.idx, used.flags, avail_event
 * and the packed device event suppression structure, raising used-buffer
 * interrupts through the host, writing guest memory as the device, changing
 * config space and entering DEVICE_NEEDS_RESET on a built-in device. Its own
 * state per queue: the available and used positions, and the chains it took.
 * Whatever the script says is written, right or wrong: that is the point (a
 * malicious device against the driver model); only what cannot be written at
 * all (a queue not set up, no chain to take, a config offset past the config
 * space) fails the step.
 * Must never: touch guest memory except through the arena with
 * VSIM_SIDE_DEVICE, read the driver model's private state (it knows what a
 * device knows: the transport's queue registers and the rings), loop beyond
 * the queue size, or hold global state.
 */
#ifndef VSIM_DEVSCRIPT_H
#define VSIM_DEVSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devcore.h"
#include "scenario.h"
#include "virtiosim/backend.h"

#define VSIM_DEVSCRIPT_MAX_QUEUES 64

/* A chain the device took from the available ring. */
typedef struct vsim_dsq_chain {
  bool known;
  bool has_wr;        /* it has a device-writable byte */
  uint64_t last_wr;   /* the address of its last device-writable byte */
  uint16_t ndescs;    /* ring descriptors it occupies (packed: how far a completion skips) */
} vsim_dsq_chain;

typedef struct vsim_dsq {
  bool live;             /* the rings below are the ones the driver set up */
  bool packed;
  bool event_idx;
  vsim_queue_cfg cfg;
  /* split: 16-bit indices; packed: offsets with their wrap counters */
  uint16_t avail_next;   /* the next available entry / descriptor to take */
  bool avail_wrap;
  uint16_t used_next;    /* where the next used element / descriptor goes */
  bool used_wrap;
  uint16_t published;    /* split: used.idx last written; packed: position (offset | wrap << 15) */
  bool has_last;
  uint32_t last_id;      /* the previous completion's id ("id": "last") */
  vsim_dsq_chain *chain; /* [cfg.size] by id: what taking it showed */
} vsim_dsq;

typedef struct vsim_devscript {
  const vsim_host *host; /* arena, interrupts, events */
  uint16_t nq;
  vsim_dsq q[VSIM_DEVSCRIPT_MAX_QUEUES];
} vsim_devscript;

void vsim_devscript_init(vsim_devscript *ds, const vsim_host *host, uint16_t num_queues);
void vsim_devscript_fini(vsim_devscript *ds);

/* The transport told the device: queue q is ready with `cfg` under the
 * negotiated `features` (fresh rings: positions start over); queue q was
 * reset; the whole device was reset. Returns 0, or -1 out of memory. */
int vsim_devscript_queue_ready(vsim_devscript *ds, uint16_t q, const vsim_queue_cfg *cfg,
                               uint64_t features);
void vsim_devscript_queue_reset(vsim_devscript *ds, uint16_t q);
void vsim_devscript_reset(vsim_devscript *ds);

/* Run one dev.* step. `dc` is the built-in device (NULL for another backend:
 * then dev.config and dev.needs_reset fail). Returns 0, or -1 with why the
 * step could not act in err. */
int vsim_devscript_step(vsim_devscript *ds, const vsim_step *st, vsim_devcore *dc, char *err,
                        size_t errlen);

#endif
