/* frontend-model/vq_packed_drv.h — the driver side of a packed virtqueue.
 *
 * Owns: buffer ids (a private free stack: the driver never trusts shared
 * memory for its bookkeeping), writing descriptor lists with the first
 * descriptor's flags written last, the driver wrap counter (starts 1), indirect
 * lists (only WRITE inside a table), the kick decision from the device event
 * suppression structure, the driver event suppression structure (interrupts
 * on/off, DESC with EVENT_IDX), and reaping used descriptors with the checks of
 * device output: id out of range or not in flight, len above the writable
 * bytes, flags inconsistent with the used wrap counter. A bad device output is
 * a violation and stops the queue; nothing is freed twice.
 * With VIRTIO_F_IN_ORDER negotiated, buffer ids are handed out in order (a
 * cursor instead of the stack) and used descriptors are reaped in the order
 * lists were made available, including the batched form: one used descriptor,
 * with the id of the batch's last list, at the position of its first; the
 * driver then skips every descriptor of the batch.
 * Must never: allocate per request, or read a descriptor the device has not
 * marked used for the current wrap (nor one inside a batch).
 */
#ifndef VSIM_VQ_PACKED_DRV_H
#define VSIM_VQ_PACKED_DRV_H

#include <stdbool.h>
#include <stdint.h>
#include "virtiosim/backend.h"
#include "../backend-model/chain.h"
#include "vq_split_drv.h" /* vsim_vqd_config */

typedef struct vsim_vqpd_slot {
  uint64_t token;
  uint32_t wr_bytes;
  uint16_t ndescs;  /* ring descriptors the list occupies (1 if indirect) */
  bool in_flight;
} vsim_vqpd_slot;

typedef struct vsim_vq_pdrv {
  const vsim_host *host;
  vsim_arena *arena;
  int q;
  uint16_t size;
  uint64_t desc, driver_evt, device_evt;
  uint64_t indirect_base;  /* size * indirect_max * 16 bytes, or 0 */
  uint16_t indirect_max;
  bool event_idx, indirect;
  vsim_mutset mutants;
  /* state */
  uint16_t next_avail;     /* where the next list goes */
  bool avail_wrap;         /* starts 1 */
  uint16_t num_free;       /* ring descriptors free */
  uint16_t *free_ids;      /* [size] stack of free buffer ids */
  uint16_t nfree_ids;
  vsim_vqpd_slot *slot;    /* [size] by buffer id */
  uint16_t next_used;      /* where the next used descriptor will appear */
  bool used_wrap;          /* starts 1 */
  uint16_t decided;        /* next_avail at the last kick decision */
  bool decided_wrap;
  uint32_t added;          /* ring descriptors made available since then (saturating) */
  uint32_t inflight;
  bool cb_enabled;
  bool broken;
  /* VIRTIO_F_IN_ORDER (free_ids is then unused; nfree_ids still counts) */
  bool in_order;
  uint16_t next_id;        /* cursor: the buffer id the next list gets */
  uint16_t *order;         /* [size], in_order only: ids in flight, oldest at order_head */
  uint16_t order_head;
  uint16_t batch_left;     /* lists of the used batch being returned, 0 = none */
  uint32_t batch_len;      /* used len of that batch's last list */
  uint16_t prev_head;      /* the head of the list added before (mutant DRV_PACKED_REWRITE_AVAIL) */
  uint16_t prev_id;        /* its buffer id (mutant DRV_PACKED_ID_INFLIGHT) */
  bool has_prev;
} vsim_vq_pdrv;

/* cfg->desc is the descriptor ring, cfg->avail the driver event structure,
 * cfg->used the device event structure (the transport's three addresses).
 * Zeroes the ring and both event structures. Returns 0 or -1. */
int vsim_vq_pdrv_init(vsim_vq_pdrv *vq, const vsim_host *host, int q, const vsim_vqd_config *cfg);
void vsim_vq_pdrv_fini(vsim_vq_pdrv *vq);

/* Same contract as vsim_vq_drv_add: returns the buffer id, -2 no room, -1 broken / never fits. */
int vsim_vq_pdrv_add(vsim_vq_pdrv *vq, const vsim_seg *segs, unsigned nout, unsigned nin,
                     uint64_t token);
/* The kick decision over the window since the last decision. Emits
 * VSIM_EV_AVAIL_PUBLISH(q, old, new) with positions as offset | wrap << 15. */
bool vsim_vq_pdrv_kick_prepare(vsim_vq_pdrv *vq);
/* 1 = reaped one, 0 = none, -1 = broken (violation reported). Emits VSIM_EV_REAP.
 * With IN_ORDER a used descriptor may stand for a batch: its lists are then
 * returned one per call, oldest first, without reading the ring again; all but
 * the last get their full device-writable bytes as len (the spec: "assumed to
 * have been used completely"), the last the descriptor's len. */
int vsim_vq_pdrv_get_used(vsim_vq_pdrv *vq, uint64_t *token, uint32_t *len);
void vsim_vq_pdrv_set_callbacks(vsim_vq_pdrv *vq, bool enable);
/* Is the descriptor at next_used marked used for the current wrap, or is an
 * IN_ORDER batch still being returned? (polling) */
bool vsim_vq_pdrv_used_pending(vsim_vq_pdrv *vq);

/* Raw ops for scenarios that write malformed input on purpose. raw_desc writes
 * one descriptor `index` slots after next_avail; unless `exact`, the AVAIL/USED
 * bits that make it available for that slot's lap are added to `flags`. It
 * changes no bookkeeping. raw_publish then says that the next `count` slots
 * hold list `id` (device-writable bytes `wr_bytes`): next_avail advances, the
 * id is in flight so that its completion is accepted (an id already in flight,
 * or out of range, is left for the checks to judge). `count` is taken modulo
 * size + 1; zero slots publish nothing. */
int vsim_vq_pdrv_raw_desc(vsim_vq_pdrv *vq, uint16_t index, uint64_t addr, uint32_t len,
                          uint16_t id, uint16_t flags, bool exact);
void vsim_vq_pdrv_raw_publish(vsim_vq_pdrv *vq, uint16_t count, uint16_t id, uint32_t wr_bytes);
/* The guest address of the descriptor `index` slots after next_avail. */
uint64_t vsim_vq_pdrv_slot_addr(const vsim_vq_pdrv *vq, uint16_t index);

/* Check the private bookkeeping, whatever the device did: every buffer id is
 * either free (on the id stack, once) or in flight, never both, and the
 * counters agree (nfree_ids + inflight = size; the free descriptors and those
 * of the lists in flight fit in the ring; the IN_ORDER list of ids in flight
 * names each of them once; an open batch is not longer than what is in
 * flight). 0, or -1 with what is wrong in msg. Allocates a scratch map: for
 * tests and the fuzz oracles, not for the data path. */
int vsim_vq_pdrv_audit(const vsim_vq_pdrv *vq, char *msg, size_t n);

/* The EVENT_IDX window test, exposed for its unit test. Positions are
 * offset | wrap << 15 on a ring of `size` (the first lap has wrap 1). True when
 * the descriptor at `event` is among those made available going from `old` to
 * `new_pos`, i.e. in [old, new_pos) along the ring (an empty window when they
 * are equal; windows of 2 * size descriptors or more are the caller's case).
 * An event offset >= size is never made available: false. */
bool vsim_vq_pdrv_event_hit(uint16_t size, uint16_t event, uint16_t old, uint16_t new_pos);

#endif
