/* frontend-model/vq_split_drv.c — the driver side of a split virtqueue
 * (see vq_split_drv.h).
 *
 * Owns: the driver's private bookkeeping of descriptors (free list, per-head
 * slots), every write the driver makes to the descriptor table, the available
 * ring and used.flags-at-init, the kick decision, interrupt suppression, and
 * the driver-side checks of what the device wrote into the used ring
 * (PEERS.md table U: U1 id range, U2 id not an outstanding head, U3 len above
 * the writable bytes, U4 used.idx jumping past what is in flight).
 *
 * Must never: trust guest memory for its own bookkeeping (descriptors are never
 * read back: the device may have scribbled on them), read a used field twice
 * for one decision, read a used element at or beyond used.idx, free a
 * descriptor twice, allocate or format strings on the hot path (only when a
 * violation is reported), or touch guest memory except through the arena with
 * VSIM_SIDE_DRIVER.
 *
 * Indices: avail_idx / decided_idx / last_used are 32-bit counters; they are
 * truncated to 16 bits wherever they meet guest memory, and ring slots are
 * computed from the truncated value (`(uint16_t)idx % size`), which is exactly
 * what the device computes from the 16-bit field it reads.
 *
 * IN_ORDER (spec "In-order use of descriptors", and the Descriptor Table's
 * drivernormative next = x + 1): chains are taken from a cursor instead of the
 * LIFO free list, so the table is used in ring order from slot 0, wrapping.
 * Completions come back in the order buffers were made available, so the free
 * slots stay one run that starts at the cursor (only raw ops can break it up;
 * add then waits for the run, answering -2). Reaping relies on "used position
 * n is avail position n": a private copy of the available ring (avail_shadow)
 * names the buffer behind every used position, which is what lets the driver
 * expand a batched entry (one entry for k buffers, at the first one's
 * position, with the last one's id) without trusting the ring for it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include "arena_fast.h"
#include "le.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"
#include "vq_split_drv.h"

/* The spec's maximum split queue size; also keeps every index in uint16_t. */
#define VQD_MAX_SIZE 32768u

/* Byte layout of the rings, taken from the UAPI structs (never hand-written). */
#define DESC_SZ ((uint64_t)sizeof(struct vring_desc))
#define USED_ELEM_SZ ((uint64_t)sizeof(struct vring_used_elem))
#include "ring_layout.h" /* AVAIL_*_OFF, USED_*_OFF */

/* Address helpers. avail.ring[size] is used_event, used.ring[size] starts
 * avail_event (vring_used_event / vring_avail_event in the UAPI header). */
static uint64_t avail_slot_addr(const vsim_vq_drv *vq, uint16_t slot) {
  return vq->avail + AVAIL_RING_OFF + (uint64_t)slot * sizeof(uint16_t);
}
static uint64_t used_event_addr(const vsim_vq_drv *vq) {
  return avail_slot_addr(vq, vq->size);
}
static uint64_t used_elem_addr(const vsim_vq_drv *vq, uint16_t slot) {
  return vq->used + USED_RING_OFF + (uint64_t)slot * USED_ELEM_SZ;
}
static uint64_t avail_event_addr(const vsim_vq_drv *vq) {
  return used_elem_addr(vq, vq->size);
}
static uint16_t ring_slot(const vsim_vq_drv *vq, uint32_t counter) {
  return (uint16_t)((uint16_t)counter % vq->size);
}

/* The spec's event-index rule (Linux's vring_need_event), written out here on
 * purpose: the checkers that judge this driver may use the UAPI helper, and a
 * shared helper would let one bug hide on both sides. True when moving the
 * index from `old` to `new_idx` passes `event`, i.e. the entry at index `event`
 * was written in this window. All arithmetic is mod 2^16. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old) {
  return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

static bool mut(const vsim_vq_drv *vq, int m) { return vsim_mut_has(&vq->mutants, m); }

static void emit(const vsim_vq_drv *vq, int kind, uint64_t a, uint64_t b) {
  if (vq->host && vq->host->event)
    vq->host->event(vq->host->ctx, kind, vq->q, a, b, 0, 0);
}

/* Report a device-output violation and stop the queue, unless `keep_going`
 * (the only such check is USED_LEN_OVER: the buffer is still returned).
 * Formatting happens only here, on the error path. */
static void violation(vsim_vq_drv *vq, int check, bool keep_going,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void violation(vsim_vq_drv *vq, int check, bool keep_going,
                      const char *fmt, ...) {
  char detail[VSIM_VIOLATION_DETAIL_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  if (vq->host && vq->host->violation)
    vq->host->violation(vq->host->ctx, check, vq->q, detail);
  if (!keep_going) vq->broken = true;
}

/* Zero [gpa, gpa+len) in bounded chunks without allocating. */
static int zero_range(vsim_arena *a, uint64_t gpa, uint64_t len) {
  static const uint8_t zeros[256];
  while (len > 0) {
    uint64_t n = len < sizeof zeros ? len : sizeof zeros;
    if (vsim_arena_put(a, VSIM_SIDE_DRIVER, gpa, zeros, n) != 0) return -1;
    gpa += n;
    len -= n;
  }
  return 0;
}

static int write_desc(vsim_arena *a, uint64_t table, uint32_t i, uint64_t addr,
                      uint32_t len, uint16_t flags, uint16_t next) {
  uint64_t d = table + (uint64_t)i * DESC_SZ;
  if (vsim_arena_plain(a, d, DESC_SZ)) {
    /* the common case in one store; otherwise field by field, so that a
     * table straddling a region edge gets exactly the fields it can hold */
    uint8_t b[DESC_SZ];
    vsim_le_st64(b + offsetof(struct vring_desc, addr), addr);
    vsim_le_st32(b + offsetof(struct vring_desc, len), len);
    vsim_le_st16(b + offsetof(struct vring_desc, flags), flags);
    vsim_le_st16(b + offsetof(struct vring_desc, next), next);
    return vsim_arena_put(a, VSIM_SIDE_DRIVER, d, b, DESC_SZ);
  }
  if (vsim_arena_put64(a, VSIM_SIDE_DRIVER, d + offsetof(struct vring_desc, addr), addr) ||
      vsim_arena_put32(a, VSIM_SIDE_DRIVER, d + offsetof(struct vring_desc, len), len) ||
      vsim_arena_put16(a, VSIM_SIDE_DRIVER, d + offsetof(struct vring_desc, flags), flags) ||
      vsim_arena_put16(a, VSIM_SIDE_DRIVER, d + offsetof(struct vring_desc, next), next))
    return -1;
  return 0;
}

int vsim_vq_drv_init(vsim_vq_drv *vq, const vsim_host *host, int q,
                     const vsim_vqd_config *cfg) {
  if (!vq || !cfg) return -1;
  *vq = (vsim_vq_drv){0};
  if (!host || !host->arena) return -1;
  /* Power-of-two sizes are the transport's rule to enforce (and its check to
   * report); the ring arithmetic here is the device's own (16-bit idx % size),
   * so any size in range works consistently on both sides. */
  if (cfg->size == 0 || cfg->size > VQD_MAX_SIZE) return -1;

  vq->host = host;
  vq->arena = host->arena;
  vq->q = q;
  vq->size = cfg->size;
  vq->desc = cfg->desc;
  vq->avail = cfg->avail;
  vq->used = cfg->used;
  vq->indirect_base = cfg->indirect_base;
  vq->indirect_max = cfg->indirect_max;
  vq->event_idx = (cfg->features >> VIRTIO_RING_F_EVENT_IDX) & 1u;
  vq->indirect = ((cfg->features >> VIRTIO_RING_F_INDIRECT_DESC) & 1u) ||
                 vsim_mut_has(&cfg->mutants, VSIM_MUT_DRV_INDIR_NOT_NEG); /* the mutant: whatever was negotiated */
  vq->in_order = (cfg->features >> VIRTIO_F_IN_ORDER) & 1u;
  vq->mutants = cfg->mutants;

  /* Sized once, here: nothing below allocates per request. */
  vq->free_next = calloc(vq->size, sizeof *vq->free_next);
  vq->slot = calloc(vq->size, sizeof *vq->slot);
  if (!vq->free_next || !vq->slot) goto fail;
  if (vq->in_order) {
    vq->desc_busy = calloc(vq->size, sizeof *vq->desc_busy);
    if (!vq->desc_busy) goto fail;
  }
  /* drv.avail-idx-before-entry keeps the heads it has not written yet here */
  if (vq->in_order || mut(vq, VSIM_MUT_DRV_AVAIL_IDX_BEFORE_ENTRY)) {
    vq->avail_shadow = calloc(vq->size, sizeof *vq->avail_shadow);
    if (!vq->avail_shadow) goto fail;
  }
  for (uint32_t i = 0; i < vq->size; i++)
    vq->free_next[i] = (uint16_t)((i + 1u) % vq->size); /* last link unused */
  vq->free_head = 0;
  vq->num_free = vq->size;

  /* A freshly allocated ring: avail {flags, idx, ring[size], used_event} and
   * used {flags, idx, ring[size], avail_event} all zero. used.flags = 0 is a
   * MUST (the device may not have written it yet, and a stale NO_NOTIFY would
   * make the driver skip kicks the device needs). */
  uint64_t avail_len = AVAIL_RING_OFF + (uint64_t)vq->size * sizeof(uint16_t) + sizeof(uint16_t);
  uint64_t used_len = USED_RING_OFF + (uint64_t)vq->size * USED_ELEM_SZ + sizeof(uint16_t);
  if (zero_range(vq->arena, vq->avail, avail_len) ||
      zero_range(vq->arena, vq->used, used_len))
    goto fail;
  if (mut(vq, VSIM_MUT_DRV_USED_FLAGS_DIRTY) &&
      vsim_arena_put16(vq->arena, VSIM_SIDE_DRIVER, vq->used + USED_FLAGS_OFF, 0xdead))
    goto fail;

  vq->cb_enabled = true;
  return 0;

fail:
  vsim_vq_drv_fini(vq);
  return -1;
}

void vsim_vq_drv_fini(vsim_vq_drv *vq) {
  if (!vq) return;
  free(vq->free_next);
  free(vq->slot);
  free(vq->desc_busy);
  free(vq->avail_shadow);
  vq->free_next = NULL;
  vq->slot = NULL;
  vq->desc_busy = NULL;
  vq->avail_shadow = NULL;
  vq->num_free = 0;
  vq->broken = true; /* any later call is refused rather than touching freed arrays */
}

/* Sum the writable lengths, saturating: a chain's used.len is a 32-bit field,
 * so "more than 4 GiB writable" compares as UINT32_MAX. */
static uint32_t writable_bytes(const vsim_seg *segs, unsigned nout, unsigned total) {
  uint64_t sum = 0;
  for (unsigned i = nout; i < total; i++) {
    sum += segs[i].len;
    if (sum >= UINT32_MAX) return UINT32_MAX;
  }
  return (uint32_t)sum;
}

/* IN_ORDER: the table slot after `d`, in ring order. */
static uint16_t ring_next(const vsim_vq_drv *vq, uint16_t d) {
  return (uint16_t)(d + 1u == vq->size ? 0u : d + 1u);
}

/* IN_ORDER: are the `n` slots from `d` on (wrapping) all free? Always true
 * when only add made chains available (see the file comment). */
static bool run_free(const vsim_vq_drv *vq, uint16_t d, uint32_t n) {
  for (uint32_t i = 0; i < n; i++, d = ring_next(vq, d))
    if (vq->desc_busy[d]) return false;
  return true;
}

/* IN_ORDER: mark the `n` slots from `d` on busy (taken by a chain) or free
 * them. Freeing counts only slots that were busy, so no slot is returned twice
 * whatever a raw op did to the bookkeeping. */
static void run_set(vsim_vq_drv *vq, uint16_t d, uint32_t n, bool busy) {
  for (uint32_t i = 0; i < n; i++, d = ring_next(vq, d)) {
    if (vq->desc_busy[d] == busy) continue;
    vq->desc_busy[d] = busy;
    vq->num_free = (uint16_t)(busy ? vq->num_free - 1u : vq->num_free + 1u);
  }
}

/* The descriptor mutants, applied to entry `i` (at table offset `x`) of a
 * chain or indirect table of `tsize` entries, `more` when a next one follows:
 * each changes the flags / next that are written, never the chain the driver
 * keeps track of, so exactly the one rule is broken in guest memory.
 *   drv.desc-next-range: next + tsize (< 2^16: tsize <= 32768), out of the table;
 *   drv.desc-chain-loop (without IN_ORDER): the last entry links to itself,
 *     an endless chain;
 *   drv.inorder-next-skip / drv.indirect-inorder-next-skip (IN_ORDER only):
 *     the first link skips an entry, x+2 modulo the table;
 *   drv.desc-rd-after-wr: with two readable buffers, the first is marked
 *     writable, so a readable one follows a writable one. */
static void mutate_link(const vsim_vq_drv *vq, bool in_table, uint32_t i, unsigned nout,
                        uint16_t x, uint16_t tsize, bool more, uint16_t *flags,
                        uint16_t *next) {
  if (more && mut(vq, VSIM_MUT_DRV_NEXT_RANGE)) *next = (uint16_t)(*next + tsize);
  /* Not with IN_ORDER: there every link must be x + 1 (and the last entry
   * of a table cannot link on), so any loop would break that rule first */
  if (!more && !vq->in_order && mut(vq, VSIM_MUT_DRV_CHAIN_LOOP)) {
    *flags |= VRING_DESC_F_NEXT;
    *next = x;
  }
  /* (x + 2) % tsize is never x + 1 (nor 0 at the table's end) when tsize >= 2,
   * which `more` guarantees */
  if (more && i == 0 && vq->in_order &&
      mut(vq, in_table ? VSIM_MUT_DRV_INDIR_INORDER_NEXT : VSIM_MUT_DRV_INORDER_NEXT))
    *next = (uint16_t)(((uint32_t)x + 2u) % tsize);
  if (i == 0 && nout >= 2 && mut(vq, VSIM_MUT_DRV_RD_AFTER_WR)) *flags |= VRING_DESC_F_WRITE;
  /* drv.indirect-nested: the table's last entry keeps the INDIRECT of the
   * descriptor that points to the table ("The driver MUST NOT set the
   * VIRTQ_DESC_F_INDIRECT flag within an indirect descriptor") */
  if (in_table && !more && mut(vq, VSIM_MUT_DRV_INDIR_NESTED)) *flags |= VRING_DESC_F_INDIRECT;
}

/* The buffer mutants, applied to segment k of a chain of `total` segments,
 * the first `nout` device-readable: each changes the address written, never
 * the segments the driver keeps (its writable bytes, its request), so
 * exactly the one rule is broken in guest memory.
 *   drv.desc-addr-sign-extended: segment 0's address with the upper 32 bits
 *     set, no guest memory (split.desc-addr-range: a buffer lies inside
 *     guest memory);
 *   drv.desc-reply-in-place: the last writable segment at segment 0's
 *     address, over a readable buffer of its own chain (split.desc-write-
 *     overlap: no device-writable buffer over a device-readable one). */
static void mutate_buf(const vsim_vq_drv *vq, const vsim_seg *segs, uint32_t k, unsigned nout,
                       uint32_t total, uint64_t *addr) {
  if (k == 0 && mut(vq, VSIM_MUT_DRV_DESC_ADDR_SIGNEXT)) *addr |= UINT64_C(0xffffffff00000000);
  if (nout > 0 && k + 1 == total && k >= nout && mut(vq, VSIM_MUT_DRV_REPLY_IN_PLACE)) *addr = segs[0].gpa;
}

int vsim_vq_drv_add(vsim_vq_drv *vq, const vsim_seg *segs, unsigned nout,
                    unsigned nin, uint64_t token) {
  if (vq->broken) return -1;
  uint64_t total = (uint64_t)nout + nin;
  if (total == 0 || !segs) return -1;

  /* a shape asked for applies to this chain only */
  const uint32_t direct = vq->shape_direct;
  const bool ind_write = vq->shape_write;
  vq->shape_direct = 0;
  vq->shape_write = false;
  bool use_indirect = vq->indirect && total > 1 && vq->indirect_base != 0 &&
                      total <= vq->indirect_max && total <= vq->size && direct < total &&
                      direct < vq->size;
  if (!use_indirect && total > vq->size) return -1; /* can never fit */
  uint32_t need = use_indirect ? direct + 1u : (uint32_t)total; /* <= size here */
  if (need > vq->num_free) return -2;               /* retry after reaping */

  /* IN_ORDER: the chain starts at the cursor and takes the slots after it. */
  uint16_t head = vq->in_order ? vq->next_desc : vq->free_head;
  if (vq->in_order && !run_free(vq, head, need)) return -2;
  uint16_t last = head;

  /* Write everything first and commit the bookkeeping only afterwards, so that
   * an arena fault (rings placed outside RAM) leaves the free list intact.
   * The chain's descriptors are the first `need` entries of the free list,
   * and its private links stay in free_next while it is in flight: that is
   * what lets get_used splice it back without reading guest memory.
   * IN_ORDER: consecutive slots instead, next = x + 1 and 0 after the last
   * slot of the table, as the spec's drivernormative asks. With an indirect
   * table, the chain in the queue's table is the `direct` descriptors (a
   * shape asked for, usually none) and then the indirect one. */
  const uint32_t in_table = use_indirect ? direct : (uint32_t)total;
  uint16_t d = head;
  for (uint32_t i = 0; i < in_table; i++) {
    bool more = i + 1 < in_table || use_indirect;
    uint16_t flags = (uint16_t)((more ? VRING_DESC_F_NEXT : 0) |
                                (i >= nout ? VRING_DESC_F_WRITE : 0));
    uint16_t next = !more ? 0 : vq->in_order ? ring_next(vq, d) : vq->free_next[d];
    /* the mutants change only what is written: the chain the driver keeps
     * in its bookkeeping (and walks here) is the correct one; they break a
     * direct chain's rules (an indirect chain's are broken in its table) */
    uint16_t wflags = flags, wnext = next;
    uint64_t waddr = segs[i].gpa;
    if (!use_indirect) mutate_link(vq, false, i, nout, d, (uint16_t)vq->size, more, &wflags, &wnext);
    mutate_buf(vq, segs, i, nout, (uint32_t)total, &waddr);
    if (write_desc(vq->arena, vq->desc, d, waddr, segs[i].len, wflags, wnext))
      goto fault;
    last = d;
    d = next;
  }
  if (use_indirect) {
    /* one table per head slot: the chain's head names it */
    uint64_t table = vq->indirect_base + (uint64_t)head * vq->indirect_max * DESC_SZ;
    const uint32_t n = (uint32_t)total - direct;
    const unsigned tout = nout > direct ? nout - direct : 0; /* readable entries in the table */
    for (uint32_t i = 0; i < n; i++) {
      bool more = i + 1 < n;
      uint16_t flags = (uint16_t)((more ? VRING_DESC_F_NEXT : 0) |
                                  (direct + i >= nout ? VRING_DESC_F_WRITE : 0));
      uint16_t next = (uint16_t)(more ? i + 1 : 0);
      uint64_t waddr = segs[direct + i].gpa;
      mutate_link(vq, true, i, tout, (uint16_t)i, (uint16_t)n, more, &flags, &next);
      mutate_buf(vq, segs, direct + i, nout, (uint32_t)total, &waddr);
      if (write_desc(vq->arena, table, i, waddr, segs[direct + i].len, flags, next))
        goto fault;
    }
    /* The mutants' indirect descriptor: NEXT alongside INDIRECT (next 0 is
     * in range, so only the combination is wrong), or a len that is not a
     * whole number of entries (half an entry more than the table). */
    uint16_t iflags = (uint16_t)(VRING_DESC_F_INDIRECT | (ind_write ? VRING_DESC_F_WRITE : 0));
    uint32_t ilen = n * DESC_SZ;
    if (mut(vq, VSIM_MUT_DRV_INDIR_WITH_NEXT)) iflags |= VRING_DESC_F_NEXT;
    if (mut(vq, VSIM_MUT_DRV_INDIR_LEN)) ilen += (uint32_t)(DESC_SZ / 2);
    if (write_desc(vq->arena, vq->desc, d, table, ilen, iflags, 0))
      goto fault;
    last = d;
  }
  /* drv.avail-head-range: head + size (< 2^16 as size <= 32768) names the
   * same slot modulo the queue size, but is no descriptor index */
  uint16_t ring_head = (uint16_t)(head + (mut(vq, VSIM_MUT_DRV_HEAD_RANGE) ? vq->size : 0u));
  /* drv.avail-head-in-flight: the head of the chain added just before,
   * instead of the new chain's, while the device still holds it: the driver
   * has not reaped it, and used.idx shows nothing the driver has not reaped.
   * (A chain the device already used would be a fresh chain to it, served
   * twice: other checks would fire, not this one.) */
  uint16_t uidx;
  if (mut(vq, VSIM_MUT_DRV_HEAD_INFLIGHT) && vq->has_prev && vq->slot[vq->prev_head].in_flight &&
      vsim_arena_get16(vq->arena, VSIM_SIDE_DRIVER, vq->used + USED_IDX_OFF, &uidx) == 0 &&
      uidx == (uint16_t)vq->last_used)
    ring_head = vq->prev_head;
  if (mut(vq, VSIM_MUT_DRV_AVAIL_IDX_BEFORE_ENTRY)) {
    /* the mutant: the entry is written only after avail.idx covers it
     * (kick_prepare), from the shadow */
    vq->avail_shadow[ring_slot(vq, vq->avail_idx)] = ring_head;
  } else if (vsim_arena_put16(vq->arena, VSIM_SIDE_DRIVER,
                                avail_slot_addr(vq, ring_slot(vq, vq->avail_idx)), ring_head)) {
    goto fault;
  }

  /* Commit. */
  if (vq->in_order) {
    run_set(vq, head, need, true); /* takes `need` off num_free */
    vq->next_desc = ring_next(vq, last);
    vq->avail_shadow[ring_slot(vq, vq->avail_idx)] = head;
  } else {
    vq->free_head = vq->free_next[last];
    vq->num_free = (uint16_t)(vq->num_free - need);
  }
  vsim_vqd_slot *s = &vq->slot[head];
  if (s->in_flight && vq->inflight > 0) {
    /* Only reachable through raw_track of a descriptor that was part of
     * another chain (it owned nothing, ndescs 0) and has since been freed by
     * that chain: the stale tracking is dropped in favour of the real chain. */
    vq->inflight--;
  }
  *s = (vsim_vqd_slot){.token = token,
                       .wr_bytes = writable_bytes(segs, nout, (unsigned)total),
                       .ndescs = (uint16_t)need,
                       .last = last,
                       .in_flight = true};
  vq->prev_head = head;
  vq->has_prev = true;
  vq->avail_idx++; /* shadow only: avail.idx is published by kick_prepare */
  vq->inflight++;
  return head;

fault:
  /* The arena already reported the fault; our own ring memory is unusable. */
  vq->broken = true;
  return -1;
}

bool vsim_vq_drv_shape_next(vsim_vq_drv *vq, uint16_t direct, bool write) {
  if (!vq->indirect || vq->indirect_base == 0) return false;
  vq->shape_direct = direct;
  vq->shape_write = write;
  return true;
}

bool vsim_vq_drv_kick_prepare(vsim_vq_drv *vq) {
  if (vq->broken) return false;
  uint16_t old = (uint16_t)vq->decided_idx;
  uint16_t new_idx = (uint16_t)vq->avail_idx;

  /* Barrier before publishing (spec "Updating idx": a write memory barrier
   * before the idx update): the ring entries and descriptors written by add
   * must be visible before the device can see the new avail.idx, or it would
   * read stale heads. This model is single-threaded, so program order is the
   * barrier; the order still matters because the scheduler may later split
   * this function at shared-memory accesses and run the device in between.
   * An out-of-process device (vhost-user) reads the ring concurrently: there
   * the fences are real. */
  __atomic_thread_fence(__ATOMIC_RELEASE);
  /* drv.avail-idx-jump: with at least one new entry, a queue size more puts
   * avail.idx more than a queue ahead of the device (a publish with nothing
   * new stays correct: exactly a queue ahead is still allowed) */
  uint16_t pub = new_idx;
  if (mut(vq, VSIM_MUT_DRV_AVAIL_IDX_JUMP) && new_idx != old)
    pub = (uint16_t)(new_idx + vq->size);
  if (vsim_arena_put16(vq->arena, VSIM_SIDE_DRIVER, vq->avail + AVAIL_IDX_OFF, pub)) {
    vq->broken = true;
    return false;
  }
  emit(vq, VSIM_EV_AVAIL_PUBLISH, old, new_idx);
  /* drv.desc-relink-on-kick: a driver that frees a chain when it kicks
   * instead of when the device uses it threads the chain's last descriptor
   * onto its free list (a free list kept in the table's next fields). The
   * device ignores next without NEXT, so only the change itself shows: a
   * descriptor of an available buffer altered before its use. */
  if (mut(vq, VSIM_MUT_DRV_DESC_RELINK_ON_KICK) && new_idx != old && vq->has_prev &&
      vq->slot[vq->prev_head].in_flight) {
    const uint16_t link = vq->in_order ? vq->next_desc : vq->free_head;
    (void)vsim_arena_put16(vq->arena, VSIM_SIDE_DRIVER,
                           vq->desc + (uint64_t)DESC_SZ * vq->slot[vq->prev_head].last +
                               offsetof(struct vring_desc, next),
                           link);
  }
  if (mut(vq, VSIM_MUT_DRV_AVAIL_IDX_BEFORE_ENTRY)) {
    /* the mutant's late stores: the entries the new avail.idx already exposes
     * (bounded: add never runs more than a queue size ahead) */
    for (uint16_t k = 0; k != (uint16_t)(new_idx - old) && k < vq->size; k++) {
      const uint16_t slot = ring_slot(vq, (uint16_t)(old + k));
      if (vsim_arena_put16(vq->arena, VSIM_SIDE_DRIVER, avail_slot_addr(vq, slot), vq->avail_shadow[slot])) {
        vq->broken = true;
        return false;
      }
    }
  }

  /* Full barrier between the avail.idx store and the load of used.flags /
   * avail_event (spec "Notifying The Device"): otherwise the load could be
   * satisfied before the store is visible, while the device re-enables
   * notifications after its last check of avail.idx — both sides would then
   * wait for each other (lost kick). Same single-threaded note as above. */
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  bool need = false;
  if (new_idx != old) {
    if (vq->event_idx) {
      /* The lower bit of used.flags MUST be ignored here. */
      uint16_t event;
      if (vsim_arena_get16(vq->arena, VSIM_SIDE_DRIVER, avail_event_addr(vq), &event))
        need = true; /* unreadable: a spurious kick (SHOULD) beats a lost one (MUST) */
      else
        need = need_event(event, new_idx, old);
    } else {
      uint16_t flags;
      if (vsim_arena_get16(vq->arena, VSIM_SIDE_DRIVER, vq->used + USED_FLAGS_OFF, &flags))
        need = true;
      else
        need = !(flags & VRING_USED_F_NO_NOTIFY);
    }
  }
  vq->decided_idx = vq->avail_idx;

  if (mut(vq, VSIM_MUT_DRV_SKIP_KICK)) need = false;
  if (mut(vq, VSIM_MUT_DRV_KICK_ALWAYS)) need = true;
  return need;
}

/* The used position the device writes next: last_used, or with a batch being
 * returned, the position after that batch (its buffers are already known). */
static uint32_t reap_pos(const vsim_vq_drv *vq) { return vq->last_used + vq->batch_left; }

/* As Linux's get_buf: while callbacks are on, ask for an interrupt at the
 * next completion (the entry at index reap_pos). */
static void ask_next_interrupt(vsim_vq_drv *vq) {
  if (vq->cb_enabled && vq->event_idx &&
      vsim_arena_put16(vq->arena, VSIM_SIDE_DRIVER, used_event_addr(vq),
                         (uint16_t)reap_pos(vq)))
    vq->broken = true; /* fault reported by the arena; the reap still stands */
  /* B4': used_event visible before the next look at used.idx (a concurrent
   * out-of-process device reads it after its own used.idx store) */
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* IN_ORDER: the used entry at last_used carries `id`. In order, it stands for
 * the buffers made available at positions last_used .. last_used + k, the
 * last of them being `id` (k = 0: the unbatched form). Find k among the
 * `pending` positions used.idx covers, from the driver's own copy of the
 * available ring, and open the batch. Every buffer of the batch must be
 * outstanding; an id further on than used.idx covers means the device used a
 * buffer before an older one (or advanced used.idx by less than its batch).
 * Returns 0 or -1 (violation reported, queue broken, nothing freed). */
static int open_batch(vsim_vq_drv *vq, uint32_t id, uint32_t ulen, uint16_t pending,
                      uint16_t used_idx) {
  const unsigned at = ring_slot(vq, vq->last_used);
  if (!vq->slot[id].in_flight) {
    /* duplicates, ids already reaped (a batch going backwards), mid-chain
     * descriptors and never-issued ones alike */
    violation(vq, VSIM_CHK_USED_ID_NOT_HEAD, false,
              "used.ring[%u].id = %u is not an outstanding head (used.idx %u, in order)",
              at, (unsigned)id, (unsigned)used_idx);
    return -1;
  }
  uint32_t k = 0;
  for (; k < pending; k++) { /* bounded: pending <= inflight <= size (checked by the caller) */
    const uint16_t h = vq->avail_shadow[ring_slot(vq, vq->last_used + k)];
    if (h == id) break;
    if (h >= vq->size || !vq->slot[h].in_flight) {
      violation(vq, VSIM_CHK_USED_ID_NOT_HEAD, false,
                "used.ring[%u].id = %u: the batch would cover head %u, not outstanding",
                at, (unsigned)id, (unsigned)h);
      return -1;
    }
  }
  if (k == pending) {
    /* The device used a buffer before an older one (or advanced used.idx by
     * less than its batch): the spec's device MUST for IN_ORDER. */
    violation(vq, VSIM_CHK_SPLIT_USED_ORDER, false,
              "used.ring[%u].id = %u: not the buffer at this position nor the last of a "
              "batch within used.idx %u (IN_ORDER)",
              at, (unsigned)id, (unsigned)used_idx);
    return -1;
  }
  if (ulen > vq->slot[id].wr_bytes) {
    /* as in the unordered path: returned, clamped */
    violation(vq, VSIM_CHK_USED_LEN_OVER, true,
              "used len %u for head %u exceeds its %u device-writable bytes",
              (unsigned)ulen, (unsigned)id, (unsigned)vq->slot[id].wr_bytes);
    ulen = vq->slot[id].wr_bytes;
  }
  vq->batch_left = (uint16_t)(k + 1u); /* k < pending <= 65535 */
  vq->batch_len = ulen;
  return 0;
}

/* IN_ORDER: return the oldest buffer of the open batch. No guest read: the
 * batch was validated when it was opened, and its other positions in the used
 * ring were never written by the device. */
static int take_batched(vsim_vq_drv *vq, uint64_t *token, uint32_t *len) {
  const uint16_t head = vq->avail_shadow[ring_slot(vq, vq->last_used)];
  /* open_batch checked every head; checked again because a head a raw op
   * published twice could appear in one batch more often than it is in flight */
  if (head >= vq->size || !vq->slot[head].in_flight) {
    violation(vq, VSIM_CHK_USED_ID_NOT_HEAD, false,
              "batched used entries cover head %u more often than it was made available",
              (unsigned)head);
    return -1;
  }
  vsim_vqd_slot *s = &vq->slot[head];
  /* the skipped buffers "are assumed to have been used completely" */
  const uint32_t ulen = vq->batch_left == 1 ? vq->batch_len : s->wr_bytes;
  if (s->raw_dups) {
    s->raw_dups--;
  } else {
    run_set(vq, head, s->ndescs, false); /* a direct chain's slots are consecutive */
    s->in_flight = false;
  }
  vq->inflight--;
  vq->last_used++;
  vq->batch_left--;
  emit(vq, VSIM_EV_REAP, head, ulen);
  /* Only once the batch is done: while it lasts the interesting entry is the
   * one after it, which reap_pos already names. */
  if (vq->batch_left == 0) ask_next_interrupt(vq);
  if (token) *token = s->token;
  if (len) *len = ulen;
  return 1;
}

int vsim_vq_drv_get_used(vsim_vq_drv *vq, uint64_t *token, uint32_t *len) {
  if (vq->broken) return -1;
  if (vq->batch_left) return take_batched(vq, token, len);

  /* One read of used.idx per call; on real hardware a read barrier follows it
   * so that the element below is not read before the index that covers it
   * (U5). Program order gives that here; keep the order for the scheduler. */
  uint16_t used_idx;
  if (vsim_arena_get16(vq->arena, VSIM_SIDE_DRIVER, vq->used + USED_IDX_OFF, &used_idx)) {
    vq->broken = true;
    return -1;
  }
  uint16_t pending = (uint16_t)(used_idx - (uint16_t)vq->last_used);
  if (pending == 0) return 0;
  if (pending > vq->inflight) {
    violation(vq, VSIM_CHK_USED_IDX_JUMP, false,
              "used.idx %u is %u entries past the driver's last_used, only %u in flight",
              (unsigned)used_idx, (unsigned)pending, (unsigned)vq->inflight);
    return -1;
  }

  /* Read the element once: a device rewriting it cannot change our decision. */
  uint64_t elem = used_elem_addr(vq, ring_slot(vq, vq->last_used));
  uint32_t id, ulen;
  if (vsim_arena_get32(vq->arena, VSIM_SIDE_DRIVER, elem + offsetof(struct vring_used_elem, id), &id) ||
      vsim_arena_get32(vq->arena, VSIM_SIDE_DRIVER, elem + offsetof(struct vring_used_elem, len), &ulen)) {
    vq->broken = true;
    return -1;
  }
  if (id >= vq->size) {
    violation(vq, VSIM_CHK_USED_ID_RANGE, false,
              "used.ring[%u].id = %u, queue size %u",
              (unsigned)ring_slot(vq, vq->last_used), (unsigned)id, (unsigned)vq->size);
    return -1;
  }
  if (vq->in_order) {
    if (open_batch(vq, id, ulen, pending, used_idx)) return -1;
    return take_batched(vq, token, len);
  }
  vsim_vqd_slot *s = &vq->slot[id];
  if (!s->in_flight) {
    /* Covers duplicates, stale ids, mid-chain descriptors and never-issued
     * ones alike; refusing here is what keeps the free list from a double free. */
    violation(vq, VSIM_CHK_USED_ID_NOT_HEAD, false,
              "used.ring[%u].id = %u is not an outstanding head (used.idx %u)",
              (unsigned)ring_slot(vq, vq->last_used), (unsigned)id, (unsigned)used_idx);
    return -1;
  }
  if (ulen > s->wr_bytes) {
    /* The spec lets len underestimate, never overestimate. The buffer itself
     * is still the device's answer, so it is returned, with len clamped so the
     * caller never reads past what it offered. */
    violation(vq, VSIM_CHK_USED_LEN_OVER, true,
              "used len %u for head %u exceeds its %u device-writable bytes",
              (unsigned)ulen, (unsigned)id, (unsigned)s->wr_bytes);
    ulen = s->wr_bytes;
  }

  if (s->raw_dups) {
    /* a raw op published this head again while it was in flight: the device
     * may complete it once per publication; the chain stays ours until the last */
    s->raw_dups--;
  } else {
    /* Splice the chain back onto the free list from our private links. A
     * raw-tracked head that was not free owns no descriptor (ndescs 0). */
    if (s->ndescs > 0) {
      vq->free_next[s->last] = vq->free_head;
      vq->free_head = (uint16_t)id;
      vq->num_free = (uint16_t)(vq->num_free + s->ndescs);
    }
    s->in_flight = false;
  }
  vq->inflight--;
  vq->last_used++;
  emit(vq, VSIM_EV_REAP, id, ulen);
  ask_next_interrupt(vq);

  if (token) *token = s->token;
  if (len) *len = ulen;
  return 1;
}

void vsim_vq_drv_set_callbacks(vsim_vq_drv *vq, bool enable) {
  vq->cb_enabled = enable;
  if (vq->broken) return;
  int rc = 0;
  if (!vq->event_idx) {
    rc = vsim_arena_put16(vq->arena, VSIM_SIDE_DRIVER, vq->avail + AVAIL_FLAGS_OFF,
                            enable ? 0 : VRING_AVAIL_F_NO_INTERRUPT);
  } else {
    /* With EVENT_IDX avail.flags MUST stay 0; used_event does the work.
     * Enabling: interrupt at the next completion (index last_used, or the
     * one after an IN_ORDER batch still being returned).
     * Disabling: Linux leaves a stale value (or writes 0 as a hack); we write
     * last_used - 1 (or one before the entry after an IN_ORDER batch still
     * being returned), the index that is as far away as the 16-bit space allows:
     * that entry has already been written, so the device's window cannot cross
     * it until used.idx wraps all the way round. 0 could be the very next
     * entry (whenever last_used is a multiple of 65536). */
    uint16_t ev = enable ? (uint16_t)reap_pos(vq) : (uint16_t)(reap_pos(vq) - 1u);
    rc = vsim_arena_put16(vq->arena, VSIM_SIDE_DRIVER, used_event_addr(vq), ev);
    if (!rc && mut(vq, VSIM_MUT_DRV_AVAIL_FLAGS))
      rc = vsim_arena_put16(vq->arena, VSIM_SIDE_DRIVER, vq->avail + AVAIL_FLAGS_OFF,
                              enable ? 0 : VRING_AVAIL_F_NO_INTERRUPT);
  }
  if (rc) vq->broken = true;
}

void vsim_vq_drv_raw_avail(vsim_vq_drv *vq, const uint16_t *heads, unsigned n) {
  if (vq->broken || !heads) return;
  for (unsigned i = 0; i < n; i++) {
    if (vsim_arena_put16(vq->arena, VSIM_SIDE_DRIVER,
                           avail_slot_addr(vq, ring_slot(vq, vq->avail_idx)), heads[i])) {
      vq->broken = true;
      return;
    }
    if (vq->avail_shadow) vq->avail_shadow[ring_slot(vq, vq->avail_idx)] = heads[i];
    vq->avail_idx++;
  }
}

void vsim_vq_drv_raw_track(vsim_vq_drv *vq, uint16_t head, uint32_t wr_bytes) {
  if (vq->broken || head >= vq->size) return;
  if (vq->slot[head].in_flight) {
    /* published again while in flight (a driver violation the checkers judge):
     * count it, so that a device completing it twice is not blamed */
    vq->slot[head].raw_dups++;
    vq->inflight++;
    return;
  }

  /* Unlink `head` from the free list if it is there (bounded by num_free).
   * If it is not, it belongs to some other in-flight chain: the tracking then
   * owns no descriptor (ndescs 0), so its completion frees nothing and the
   * descriptor is returned once, by its real owner. */
  uint16_t ndescs = 0;
  if (vq->in_order) {
    /* IN_ORDER: the same, with the busy map for the free list */
    if (!vq->desc_busy[head]) {
      run_set(vq, head, 1, true);
      ndescs = 1;
      /* keep the free slots one run from the cursor when the raw head is
       * the very next slot in ring order (the common case) */
      if (head == vq->next_desc) vq->next_desc = ring_next(vq, head);
    }
  } else {
    uint16_t prev = 0, d = vq->free_head;
    for (uint32_t i = 0; i < vq->num_free; i++) {
      if (d == head) {
        if (i == 0)
          vq->free_head = vq->free_next[d];
        else
          vq->free_next[prev] = vq->free_next[d];
        vq->num_free--;
        ndescs = 1;
        break;
      }
      prev = d;
      d = vq->free_next[d];
    }
  }
  vq->slot[head] = (vsim_vqd_slot){.token = UINT64_MAX - head,
                                   .wr_bytes = wr_bytes,
                                   .ndescs = ndescs,
                                   .last = head,
                                   .in_flight = true};
  vq->inflight++;
}

/* ---- audit ---- */

__attribute__((format(printf, 3, 4))) static int audit_fail(char *msg, size_t n, const char *fmt, ...) {
  if (msg && n) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, n, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* Claim descriptor `d` for `owner` (0 free, else head + 1) in `map`. */
static int audit_claim(uint32_t *map, const vsim_vq_drv *vq, uint32_t d, uint32_t owner, char *msg,
                       size_t n) {
  if (d >= vq->size)
    return audit_fail(msg, n, "descriptor %u beyond the table (size %u)", (unsigned)d, vq->size);
  if (map[d]) {
    return audit_fail(msg, n, "descriptor %u owned twice (%s and %s)", (unsigned)d,
                      map[d] == 1 ? "free" : "a chain in flight", owner == 1 ? "free" : "a chain in flight");
  }
  map[d] = owner;
  return 0;
}

int vsim_vq_drv_audit(const vsim_vq_drv *vq, char *msg, size_t n) {
  if (!vq->slot) return 0; /* finalised: nothing left to check */
  if (vq->num_free > vq->size) return audit_fail(msg, n, "num_free %u above the size %u", vq->num_free, vq->size);
  uint32_t *map = calloc(vq->size, sizeof *map); /* 0 unclaimed, 1 free, 2 + head a chain's */
  if (!map) return audit_fail(msg, n, "out of memory");
  int r = 0;
  uint64_t chains = 0, dups = 0, owned = 0;
  if (vq->in_order) {
    uint32_t busy = 0;
    for (uint32_t d = 0; d < vq->size; d++) busy += vq->desc_busy[d] != 0;
    if (busy + vq->num_free != vq->size)
      r = audit_fail(msg, n, "%u busy and %u free descriptors in a table of %u", busy, vq->num_free, vq->size);
  } else {
    /* the free list: num_free distinct descriptors */
    uint32_t d = vq->free_head;
    for (uint32_t i = 0; !r && i < vq->num_free; i++) {
      r = audit_claim(map, vq, d, 1, msg, n);
      d = vq->free_next[d < vq->size ? d : 0];
    }
  }
  for (uint32_t h = 0; !r && h < vq->size; h++) {
    const vsim_vqd_slot *s = &vq->slot[h];
    if (!s->in_flight) continue;
    chains++;
    dups += s->raw_dups;
    if (s->ndescs > vq->size) {
      r = audit_fail(msg, n, "head %u: %u descriptors in a table of %u", h, s->ndescs, vq->size);
      break;
    }
    uint32_t d = h;
    for (uint32_t i = 0; !r && i < s->ndescs; i++) {
      if (vq->in_order) {
        if (!vq->desc_busy[d]) r = audit_fail(msg, n, "head %u: descriptor %u of its chain is not busy", h, d);
        else r = audit_claim(map, vq, d, 2 + h, msg, n);
        d = (d + 1u) % vq->size;
        continue;
      }
      r = audit_claim(map, vq, d, 2 + h, msg, n);
      if (!r && i + 1u == s->ndescs && d != s->last)
        r = audit_fail(msg, n, "head %u: its private links end at %u, not at its last descriptor %u", h, d,
                       s->last);
      d = vq->free_next[d];
    }
    owned += s->ndescs;
  }
  if (!r && !vq->in_order && owned + vq->num_free > vq->size)
    r = audit_fail(msg, n, "%u free and %llu owned descriptors in a table of %u", vq->num_free,
                   (unsigned long long)owned, vq->size);
  if (!r && chains + dups != vq->inflight)
    r = audit_fail(msg, n, "inflight %u, but %llu chains (and %llu repeated publications) in flight",
                   vq->inflight, (unsigned long long)chains, (unsigned long long)dups);
  if (!r && vq->batch_left > vq->inflight)
    r = audit_fail(msg, n, "an IN_ORDER batch of %u left with %u in flight", vq->batch_left, vq->inflight);
  free(map);
  return r;
}
