/* backend-model/vq_split.h — the device side of a split virtqueue.
 *
 * Owns: reading the available ring and descriptor table as a device does, with
 * full validation of guest input (every malformed-input class below is a
 * reported violation with its spec label and leaves the queue "broken": the
 * device core then sets DEVICE_NEEDS_RESET); writing used elements and used.idx;
 * the device's notification suppression (used.flags NO_NOTIFY / avail_event) and
 * its interrupt decision (avail.flags NO_INTERRUPT / used_event).
 * Ring indices are 32-bit counters here and truncated to 16 bits only where
 * they are stored in guest memory.
 * With VIRTIO_F_IN_ORDER negotiated, buffers are used in the order they were
 * made available (the spec's device MUST): a push must name the oldest chain
 * in flight, anything else is a device-model bug and is refused. Optionally
 * (vsim_vq_dev_set_in_order_batch) completions are batched: one used element
 * per publish, carrying the last buffer's id and len, written at the used
 * slot of the batch's first buffer, with used.idx advanced by the batch size.
 * With VIRTIO_F_NOTIFICATION_DATA negotiated (vsim_vq_dev_notify_data), a
 * notification says which avail index the driver will publish next. The
 * device checks it against the ring the next time it reads avail.idx (a value
 * that claims more than the ring shows, or goes back behind what the ring or
 * an earlier notification already showed, is the driver's NOTIFY_DATA
 * violation; the ring's own avail.idx rules are judged first, so an honest
 * notification of a bad avail.idx is not blamed twice). A confirmed value
 * then bounds the drain: the device pops up to it without reading avail.idx
 * again, and reads it once more only when it gets there. A bad value is
 * reported and ignored; it never breaks the queue (it is a hint, and the ring
 * stays the authority).
 * Must never: read a guest field twice for one decision (TOCTOU), loop more
 * than O(queue size) per pop (the dev.no-loop-check mutant: a hard bound far
 * above, see vq_split.c), or touch guest memory except through the arena.
 */
#ifndef VSIM_VQ_SPLIT_H
#define VSIM_VQ_SPLIT_H

#include <stdbool.h>
#include <stdint.h>
#include "virtiosim/backend.h"
#include "chain.h"

typedef struct vsim_vq_dev {
  /* configuration */
  const vsim_host *host;
  vsim_arena *arena;
  int q;
  uint16_t size;
  uint64_t desc, avail, used;   /* guest addresses of the three parts */
  bool event_idx, indirect;
  vsim_mutset mutants;             /* VSIM_MUTBIT(DEV_...) bits that touch the ring */
  /* state */
  uint32_t next_avail;          /* next available-ring slot to consume */
  uint32_t next_used;           /* next used-ring slot to write */
  uint32_t published_used;      /* used.idx as last published */
  uint32_t inflight;            /* chains popped and not yet pushed */
  uint32_t avail_ahead;         /* entries past next_avail that the last avail_count
                                 * saw; lets it catch avail.idx moving back. Zero it
                                 * whenever next_avail is set by hand. */
  uint8_t *head_inflight;       /* [size]: 1 while that head is in flight */
  vsim_seg *segs;               /* [size]: storage for the chain being popped */
  vsim_range *scratch;          /* [size]: sorting room for the overlap check */
  vsim_ring_part own[3];        /* this queue's desc table, available and used ring */
  const vsim_ring_guard *guard; /* the ring parts of every live queue (device core), or NULL */
  bool notify_enabled;          /* false while the device drains the ring */
  bool broken;                  /* malformed input seen: no further processing */
  uint8_t dup_state;            /* mutant DEV_USED_ID_DUP: 0 idle, 1 armed, 2 fired */
  uint16_t dup_head;            /* the first completed head, reported again */
  /* VIRTIO_F_IN_ORDER */
  bool in_order;                /* negotiated */
  bool batch;                   /* batch completions (only with in_order) */
  uint16_t *popped;             /* [size], in_order only: heads by pop number
                                 * (next_avail % size); push number n must name popped[n % size] */
  uint32_t batch_n;             /* completions recorded and not yet written (0 = none);
                                 * they are the last batch_n of next_used */
  uint32_t batch_id, batch_len; /* what the batch's one element will say */
  /* VIRTIO_F_NOTIFICATION_DATA (see the file comment) */
  uint8_t nd_state;             /* 0 none; 1 a value waits for the next avail.idx read;
                                 * 2 a waiting value went backwards (reported then) */
  uint16_t nd_value;            /* the avail index the notification names */
  uint16_t nd_floor;            /* stale case: the index it fell behind */
  bool nd_bound;                /* nd_end is confirmed by the ring: pop up to it unread */
  uint16_t nd_end;
} vsim_vq_dev;

/* Set up from the transport's queue configuration and the negotiated features.
 * Allocates the per-queue arrays once. Returns 0 or -1 (out of memory, or a
 * size of 0 or above 32768). Alignment of the three parts is checked here: a
 * misaligned part is a SPLIT_ALIGN violation and the queue starts broken
 * (init still returns 0). Bounds are checked on each access. */
int vsim_vq_dev_init(vsim_vq_dev *vq, const vsim_host *host, int q,
                     const vsim_queue_cfg *cfg, uint64_t features, vsim_mutset mutants);
void vsim_vq_dev_fini(vsim_vq_dev *vq);

/* The ring parts of the device's other live queues, which no device-writable
 * buffer may overlap (the queue's own parts are always guarded). The guard is
 * borrowed: it must outlive the queue or be replaced. */
void vsim_vq_dev_set_guard(vsim_vq_dev *vq, const vsim_ring_guard *guard);

/* Number of chains the driver has made available and the device has not yet
 * popped; -1 (and a violation, queue broken) if avail.idx moved by more than the
 * queue size; -1 also when the ring cannot be read. */
int vsim_vq_dev_avail_count(vsim_vq_dev *vq);

/* Pop the next chain: 1 = `out` filled, 0 = ring empty, -1 = malformed input
 * (violation reported, queue broken). `out->seg` points into vq->segs and stays
 * valid until the next pop. Emits VSIM_EV_POP. */
int vsim_vq_dev_pop(vsim_vq_dev *vq, vsim_chain *out);

/* Write one used element {head, len} at the next used slot (not yet visible to
 * the driver). Emits VSIM_EV_USED. Returns 0 or -1. With IN_ORDER, -1 (and no
 * write) also when `head` is not the oldest chain in flight; with batching on,
 * the element is only recorded (next_used still advances: the batch takes one
 * used position per buffer) and publish writes it. */
int vsim_vq_dev_push(vsim_vq_dev *vq, uint16_t head, uint32_t len);

/* Publish used.idx for everything pushed since the last publish (writing an
 * open IN_ORDER batch's element first). Returns true when the driver must be
 * interrupted (avail.flags / used_event rules, over the window of entries
 * published since the last decision). Emits VSIM_EV_USED_PUBLISH. */
bool vsim_vq_dev_publish(vsim_vq_dev *vq);

/* Batch IN_ORDER completions (default off; no effect unless IN_ORDER was
 * negotiated). Turning it off writes the element of an open batch (still
 * unpublished) so that later pushes are written one by one after it. */
void vsim_vq_dev_set_in_order_batch(vsim_vq_dev *vq, bool on);

/* VIRTIO_F_NOTIFICATION_DATA: a notification named `next_idx` (next_off |
 * next_wrap << 15, i.e. the 16-bit avail index the driver will publish
 * next). Recorded here, judged against the ring at the next avail.idx read
 * (see the file comment). No guest access. */
void vsim_vq_dev_notify_data(vsim_vq_dev *vq, uint16_t next_idx);

/* Enable (true) or suppress (false) available-buffer notifications: used.flags
 * NO_NOTIFY without EVENT_IDX, avail_event = next_avail with it. Emits
 * VSIM_EV_NOTIFY_ENABLE. */
void vsim_vq_dev_set_notify(vsim_vq_dev *vq, bool enable);

#endif
