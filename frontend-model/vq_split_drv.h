/* frontend-model/vq_split_drv.h — the driver side of a split virtqueue.
 *
 * Owns: the descriptor free list (kept privately: the driver never trusts what
 * is in shared memory for its own bookkeeping), adding chains (direct or
 * through an indirect table when negotiated), publishing avail.idx, the kick
 * decision (used.flags NO_NOTIFY / avail_event with EVENT_IDX), interrupt
 * suppression (avail.flags NO_INTERRUPT / used_event), and reaping the used
 * ring with the driver-side checks of device output: id out of range, id not an
 * outstanding head, len above the writable bytes, used.idx jumping past what is
 * in flight. A bad device output is a violation and stops the queue (broken);
 * it never frees a descriptor twice.
 * With VIRTIO_F_IN_ORDER negotiated, descriptors are used in ring order: chains
 * start at a cursor that advances through the table (wrapping), their
 * descriptors are consecutive slots with next = x + 1 (0 after the last slot),
 * and the used ring is reaped in the order buffers were made available,
 * including the batched form (one used entry, with the id of the batch's last
 * buffer, at the position of its first; used.idx advanced by the batch size).
 * Must never: allocate per request, or read a used entry beyond used.idx (nor
 * one inside a batch: only the batch's first position was written).
 */
#ifndef VSIM_VQ_SPLIT_DRV_H
#define VSIM_VQ_SPLIT_DRV_H

#include <stdbool.h>
#include <stdint.h>
#include "virtiosim/backend.h"
#include "../backend-model/chain.h"

typedef struct vsim_vqd_slot {
  uint64_t token;     /* caller's cookie, returned by get_used */
  uint32_t wr_bytes;  /* device-writable bytes of the chain */
  uint16_t ndescs;    /* ring descriptors the chain occupies (1 if indirect) */
  uint16_t last;      /* last ring descriptor of the chain (to splice the free list) */
  uint16_t raw_dups;  /* extra times a raw op made this head available while in flight */
  bool in_flight;
} vsim_vqd_slot;

typedef struct vsim_vq_drv {
  const vsim_host *host; /* violation and event sink (interrupt unused) */
  vsim_arena *arena;
  int q;
  uint16_t size;
  uint64_t desc, avail, used;
  uint64_t indirect_base;  /* size * indirect_max * 16 bytes reserved, or 0 */
  uint16_t indirect_max;   /* descriptors per indirect table */
  bool event_idx, indirect;
  vsim_mutset mutants;
  /* state */
  uint16_t free_head;      /* first free descriptor */
  uint16_t num_free;
  uint16_t *free_next;     /* [size]: private copy of the free list links */
  vsim_vqd_slot *slot;     /* [size]: per head */
  uint32_t avail_idx;      /* shadow of avail.idx (32-bit counter) */
  uint32_t decided_idx;    /* avail_idx at the last kick decision */
  uint32_t last_used;      /* next used slot to reap */
  uint32_t inflight;       /* chains made available and not yet reaped */
  bool cb_enabled;         /* interrupts wanted */
  bool broken;
  /* VIRTIO_F_IN_ORDER (the free list above is then unused; the arrays below
   * exist only with in_order) */
  bool in_order;
  uint16_t next_desc;      /* cursor: the table slot where the next chain starts */
  uint8_t *desc_busy;      /* [size]: 1 while the descriptor belongs to a chain in flight */
  uint16_t *avail_shadow;  /* [size]: private copy of the heads made available, by avail
                            * slot; with IN_ORDER used position n is avail position n */
  uint16_t batch_left;     /* buffers of the used batch being returned, 0 = none */
  uint32_t batch_len;      /* used len of that batch's last buffer */
  uint16_t prev_head;      /* the head of the chain added before (mutant DRV_HEAD_INFLIGHT) */
  bool has_prev;
  /* The next chain's indirect shape (vsim_vq_drv_shape_next), taken by one
   * add: its first `shape_direct` segments as direct descriptors before the
   * indirect one, and WRITE set on the indirect descriptor. */
  uint16_t shape_direct;
  bool shape_write;
} vsim_vq_drv;

typedef struct vsim_vqd_config {
  uint16_t size;
  uint64_t desc, avail, used;
  uint64_t indirect_base;
  uint16_t indirect_max;
  uint64_t features;       /* negotiated */
  vsim_mutset mutants;
} vsim_vqd_config;

/* Initialise: writes a zeroed available ring and used ring (used.flags = 0 as
 * the spec requires) into the arena. Returns 0 or -1. */
int vsim_vq_drv_init(vsim_vq_drv *vq, const vsim_host *host, int q,
                     const vsim_vqd_config *cfg);
void vsim_vq_drv_fini(vsim_vq_drv *vq);

/* Add a chain of `nout` device-readable then `nin` device-writable segments.
 * Uses an indirect table when negotiated and the chain has more than one
 * segment. Returns the head (>= 0), -2 when there is no room (try after
 * reaping), -1 when the queue is broken or the request can never fit. */
int vsim_vq_drv_add(vsim_vq_drv *vq, const vsim_seg *segs, unsigned nout,
                    unsigned nin, uint64_t token);

/* Shape the next chain added, when it goes through an indirect table: its
 * first `direct` segments as direct descriptors, then one indirect descriptor
 * for the rest, with WRITE set on that descriptor when `write` (both valid:
 * a device "MUST ignore the write-only flag ... in the descriptor that refers
 * to an indirect table" and "MUST handle the case of zero or more normal
 * chained descriptors followed by a single descriptor with
 * flags&VIRTQ_DESC_F_INDIRECT"). Returns false (and shapes nothing) when the
 * queue does not use indirect tables. */
bool vsim_vq_drv_shape_next(vsim_vq_drv *vq, uint16_t direct, bool write);

/* Publish avail.idx (after the barrier the spec asks for) and decide whether the
 * device must be notified, over the window since the last decision. Emits
 * VSIM_EV_AVAIL_PUBLISH(old, new). */
bool vsim_vq_drv_kick_prepare(vsim_vq_drv *vq);

/* Reap one used element: 1 = got one (*token, *len), 0 = none, -1 = broken
 * (violation reported). Emits VSIM_EV_REAP. With IN_ORDER one used entry may
 * stand for a batch: the buffers of the batch are then returned one per call,
 * oldest first, without reading the ring again; all but the last get their
 * full device-writable bytes as len (the spec: "assumed to have been used
 * completely"), the last the entry's len. An entry naming a buffer that is not
 * outstanding, or one beyond what used.idx covers, is USED_ID_NOT_HEAD. */
int vsim_vq_drv_get_used(vsim_vq_drv *vq, uint64_t *token, uint32_t *len);

/* Ask for (true) or suppress (false) used-buffer notifications. With EVENT_IDX
 * writes used_event = last_used; otherwise avail.flags NO_INTERRUPT. */
void vsim_vq_drv_set_callbacks(vsim_vq_drv *vq, bool enable);

/* Raw ops for scenarios that write malformed input on purpose: put heads into
 * the available ring and bump avail.idx (no validation), and tell the
 * bookkeeping that `head` is in flight with `wr_bytes` writable bytes so that
 * its completion is accepted. Descriptors named by raw heads are taken off the
 * free list when they are free (with IN_ORDER: marked busy; a raw head at the
 * cursor moves the cursor past it). */
void vsim_vq_drv_raw_avail(vsim_vq_drv *vq, const uint16_t *heads, unsigned n);
void vsim_vq_drv_raw_track(vsim_vq_drv *vq, uint16_t head, uint32_t wr_bytes);

/* Check the private bookkeeping, whatever the device did: the free
 * descriptors (the free list, or with IN_ORDER the busy map) and the
 * descriptors of the chains in flight are disjoint and within the table, no
 * descriptor is owned twice (so none was freed twice), each chain's private
 * links lead from its head to its last descriptor, and the counters agree
 * (num_free, inflight, an open IN_ORDER batch). 0, or -1 with what is wrong in
 * msg. Allocates a scratch map: for tests and the fuzz oracles, not for the
 * data path. */
int vsim_vq_drv_audit(const vsim_vq_drv *vq, char *msg, size_t n);

#endif
