/* backend-model/vq_packed.h — the device side of a packed virtqueue.
 *
 * Owns: reading the descriptor ring as a device does (AVAIL/USED flag bits
 * against the device's wrap counters, both starting at 1; the buffer id in the
 * last descriptor of a list; chained and indirect lists), with full validation
 * of guest input (each malformed class a reported violation with its spec
 * label, leaving the queue "broken" so the device core sets
 * DEVICE_NEEDS_RESET); writing one used descriptor per list, in completion
 * order, and advancing by the list's length; the device event suppression
 * structure (ENABLE / DISABLE / DESC with EVENT_IDX) it writes to control kicks,
 * and the interrupt decision from the driver's event suppression structure.
 * Queue sizes need not be powers of two.
 * With VIRTIO_F_IN_ORDER negotiated, lists are used in the order they were
 * made available (the spec's device MUST): a push must name the oldest list in
 * flight, anything else is a device-model bug and is refused. Optionally
 * (vsim_vqp_dev_set_in_order_batch) completions are batched: one used
 * descriptor per publish, with the last list's id and len, written over the
 * first descriptor of the batch; the device's used position skips every
 * descriptor of the batch.
 * With VIRTIO_F_NOTIFICATION_DATA negotiated (vsim_vqp_dev_notify_data), a
 * notification names the ring position where the driver will put its next
 * descriptor: every descriptor from the device's next_avail up to it is then
 * available. The device holds the ring to that as it pops (a descriptor
 * before that position that is not available means the notification claimed
 * more than the ring shows), and refuses a position outside the ring or
 * behind what it has consumed or was told before: each is the driver's
 * NOTIFY_DATA violation, reported and ignored (the value is a hint; the ring
 * stays the authority and the queue is not broken for it).
 * Must never: read a descriptor field twice for one decision, look at a
 * descriptor whose flags do not say "available" for the current wrap, loop
 * more than O(queue size) per pop, or touch guest memory except through the
 * arena.
 */
#ifndef VSIM_VQ_PACKED_H
#define VSIM_VQ_PACKED_H

#include <stdbool.h>
#include <stdint.h>
#include "virtiosim/backend.h"
#include "chain.h"

typedef struct vsim_vqp_dev {
  /* configuration */
  const vsim_host *host;
  vsim_arena *arena;
  int q;
  uint16_t size;
  uint64_t desc;        /* descriptor ring: 16 * size bytes */
  uint64_t driver_evt;  /* driver event suppression (the driver writes it): controls interrupts */
  uint64_t device_evt;  /* device event suppression (the device writes it): controls kicks */
  bool event_idx, indirect;
  vsim_mutset mutants;
  /* state */
  uint16_t next_avail;  /* ring offset where the next list starts */
  bool avail_wrap;      /* the device's wrap counter for reading (starts 1) */
  uint16_t next_used;   /* ring offset where the next used descriptor goes */
  bool used_wrap;       /* the device's wrap counter for writing (starts 1) */
  uint16_t signalled;   /* next_used at the last interrupt decision */
  bool signalled_wrap;
  uint32_t unsignalled; /* ring descriptors used since the last decision (saturating):
                         * the window width, exact even when it spans more than
                         * one lap of the ring */
  uint32_t inflight;    /* lists popped and not yet pushed */
  uint16_t *id_ndescs;  /* [size]: ring descriptors of the list with that buffer id; 0 = not in flight */
  vsim_seg *segs;       /* [size]: storage for the list being popped */
  vsim_range *scratch;  /* [size]: sorting room for the overlap check */
  vsim_ring_part own[3]; /* this queue's descriptor ring and event suppression structures */
  const vsim_ring_guard *guard; /* the ring parts of every live queue (device core), or NULL */
  bool notify_enabled;
  bool broken;
  uint8_t dup_state;    /* mutant DEV_USED_ID_DUP: 0 idle, 1 armed, 2 fired */
  uint16_t dup_id;      /* the first completed id, reported again */
  /* VIRTIO_F_IN_ORDER */
  bool in_order;        /* negotiated */
  bool batch;           /* batch completions (only with in_order) */
  uint16_t *popped;     /* [size], in_order only: ids by pop number (pop_seq % size) */
  uint32_t pop_seq, push_seq; /* lists popped / pushed so far (in_order only) */
  uint32_t batch_n;     /* completions recorded and not yet written (0 = none) */
  uint16_t batch_off;   /* ring position of the batch's first descriptor */
  bool batch_wrap;
  uint16_t batch_id;    /* what the batch's used descriptor will say */
  uint32_t batch_len;
  uint16_t last_used_off; /* where the last used descriptor was written (mutant DEV_PACKED_USED_REWRITE) */
  /* VIRTIO_F_NOTIFICATION_DATA (see the file comment) */
  bool nd_claim;        /* the descriptors up to nd_pos must be available */
  uint16_t nd_pos;      /* offset | wrap << 15, as the notification named it */
  /* mutant DEV_PACKED_TAKE_SKIP: 0 idle, 1 the second list was taken and
   * returned first, the first one taken right after it and kept in sk_chain
   * (its segments stay in segs) for the next pop, 2 done */
  uint8_t sk_state;
  vsim_chain sk_chain;
  vsim_seg *sk_segs;    /* [size], the mutant only: the second list's segments */
} vsim_vqp_dev;

int vsim_vqp_dev_init(vsim_vqp_dev *vq, const vsim_host *host, int q,
                      const vsim_queue_cfg *cfg, uint64_t features, vsim_mutset mutants);
void vsim_vqp_dev_fini(vsim_vqp_dev *vq);

/* Is the descriptor at next_avail available (flags match the wrap counter)?
 * 1 yes, 0 no, -1 the ring cannot be read (violation, queue broken). */
int vsim_vqp_dev_has_avail(vsim_vqp_dev *vq);

/* The ring parts of the device's other live queues, which no device-writable
 * buffer may overlap (the queue's own parts are always guarded). Borrowed. */
void vsim_vqp_dev_set_guard(vsim_vqp_dev *vq, const vsim_ring_guard *guard);

/* Pop the next list: 1 = `out` filled (out->head is the buffer id), 0 = nothing
 * available, -1 = malformed input (violation reported, queue broken). Emits
 * VSIM_EV_POP(q, id, segments, readable bytes, writable bytes). */
int vsim_vqp_dev_pop(vsim_vqp_dev *vq, vsim_chain *out);

/* Write the used descriptor for buffer `id` at next_used (id and len first,
 * flags last so that the driver never sees a half-written one), then advance
 * next_used by the list's length, toggling used_wrap past the end.
 * Emits VSIM_EV_USED(q, id, len). Returns 0 or -1. With IN_ORDER, -1 (and no
 * write) also when `id` is not the oldest list in flight; with batching on,
 * the completion is only recorded (next_used still advances) and publish
 * writes the batch's used descriptor. */
int vsim_vqp_dev_push(vsim_vqp_dev *vq, uint16_t id, uint32_t len);

/* The interrupt decision for everything pushed since the last decision (an
 * open IN_ORDER batch's used descriptor is written first): the driver event
 * structure's flags (ENABLE / DISABLE / DESC with its offset and wrap, only
 * meaningful with EVENT_IDX). Emits VSIM_EV_USED_PUBLISH(q, old, new) with
 * positions encoded as offset | wrap << 15. */
bool vsim_vqp_dev_publish(vsim_vqp_dev *vq);

/* Batch IN_ORDER completions (default off; no effect unless IN_ORDER was
 * negotiated). Turning it off writes the used descriptor of an open batch so
 * that later pushes are written one by one after it. */
void vsim_vqp_dev_set_in_order_batch(vsim_vqp_dev *vq, bool on);

/* VIRTIO_F_NOTIFICATION_DATA: a notification named `off_wrap` (next_off |
 * next_wrap << 15). A position outside the ring, or behind the device's
 * next_avail or an earlier claim still open, is reported at once (NOTIFY_DATA);
 * otherwise it becomes the claim the next pops check. No guest access. */
void vsim_vqp_dev_notify_data(vsim_vqp_dev *vq, uint16_t off_wrap);

/* Enable or suppress kicks through the device event structure: DISABLE; or
 * ENABLE, or with EVENT_IDX DESC at next_avail / avail_wrap. Writes the offset
 * first and the flags last. Emits VSIM_EV_NOTIFY_ENABLE. */
void vsim_vqp_dev_set_notify(vsim_vqp_dev *vq, bool enable);

#endif
