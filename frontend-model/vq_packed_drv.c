/* frontend-model/vq_packed_drv.c — the driver side of a packed virtqueue
 * (see vq_packed_drv.h).
 *
 * Owns: the driver's private bookkeeping (a stack of free buffer ids, per-id
 * slots with the list length in ring descriptors, the free-descriptor count,
 * the driver and used wrap counters), every write the driver makes to the
 * descriptor ring, to indirect tables and to the driver event suppression
 * structure, the kick decision from the device event suppression structure,
 * and the driver-side checks of what the device wrote (PEERS.md table U: U1/U2
 * as PACKED_USED_ID, U3 as PACKED_USED_LEN, U10 as PACKED_USED_FLAGS).
 *
 * Must never: trust guest memory for its own bookkeeping (a descriptor is read
 * back only at next_used, once per decision, and only its id/len/flags are
 * used), reuse a buffer id that is in flight, free an id or a descriptor twice,
 * allocate or format strings on the hot path (only when a violation is
 * reported), or touch guest memory except through the arena with
 * VSIM_SIDE_DRIVER.
 *
 * Positions: a ring position is (offset, wrap). Encoded for events and the
 * event suppression structures as offset | wrap << 15 (the spec's off_wrap).
 * Sizes need not be powers of two, so nothing here uses "& (size - 1)".
 *
 * What the driver knows about the descriptor at next_used (the basis of the
 * PACKED_USED_FLAGS rule, see classify_used): with W = used_wrap,
 *  - something in flight: every position from next_used up to next_avail was
 *    written by this driver in the lap whose wrap is W (the device's used
 *    pointer, which next_used mirrors, never passes what was made available),
 *    so the descriptor there holds either the driver's own available mark
 *    (AVAIL = W, USED = !W) or the device's used mark (AVAIL = USED = W).
 *    AVAIL != W can only be the device writing wrong wrap bits.
 *  - nothing in flight: next_used == next_avail and used_wrap == avail_wrap;
 *    the last write at that position was made in the previous lap (or it is
 *    still zero from init): the driver's available mark (!W, W) left in the
 *    middle of a list or a position the device skipped, or an old used mark
 *    (!W, !W). AVAIL == W means the device wrote a descriptor there although
 *    it holds no buffer.
 * So AVAIL at next_used must equal (inflight > 0 ? W : !W); any other value is
 * a device bug (PACKED_USED_FLAGS), and with something in flight USED == W
 * says "used". This is stricter than Linux's is_used_desc_packed (which
 * treats every non-matching pattern as "not used yet", so a device writing
 * the wrong wrap bits hangs the queue instead of being named): the state
 * machine above leaves no legitimate way to see the flagged patterns, torn
 * device writes included (a correct used write only flips USED from !W to W).
 * One wrong pattern is indistinguishable from "not used yet" and stays so:
 * (AVAIL = W, USED = !W) with something in flight.
 *
 * IN_ORDER (spec "In-order use of descriptors"): ids come from a cursor, and
 * `order` keeps the ids in flight in the order their lists were made
 * available. A used descriptor at next_used names the last list of a batch
 * that starts with the oldest one (a batch of one is the unbatched form); the
 * driver finds it in `order`, moves next_used past every descriptor of the
 * batch by the lengths it recorded, and returns the batch's lists one per
 * call. next_used always lands on a list boundary, so the rule above still
 * holds there. Any id in flight is a legal batch end, so out-of-order use is
 * not visible as such to the driver; an id already reaped (a batch going
 * backwards) is not in flight and is caught as PACKED_USED_ID. The checker,
 * which also sees how far the device moved its used position, judges the
 * order (PACKED_USED_ORDER, conformance/checker.c).
 */
#include <assert.h>
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
#include "vq_packed_drv.h"

/* The spec's maximum queue size; also keeps offsets within 15 bits. */
#define VQPD_MAX_SIZE 32768u

/* Byte layout, from the UAPI structs (never hand-written). */
#define DESC_SZ ((uint64_t)sizeof(struct vring_packed_desc))
#define D_ADDR offsetof(struct vring_packed_desc, addr)
#define D_LEN offsetof(struct vring_packed_desc, len)
#define D_ID offsetof(struct vring_packed_desc, id)
#define D_FLAGS offsetof(struct vring_packed_desc, flags)
#define EVT_SZ ((uint64_t)sizeof(struct vring_packed_desc_event))
#define EVT_OFF_WRAP ((uint64_t)offsetof(struct vring_packed_desc_event, off_wrap))
#define EVT_FLAGS ((uint64_t)offsetof(struct vring_packed_desc_event, flags))

_Static_assert(sizeof(struct vring_packed_desc) == 16, "packed descriptor is 16 bytes");
_Static_assert(sizeof(struct vring_packed_desc_event) == 4, "event structure is 4 bytes");
/* kick_prepare reads the device event structure as one little-endian 32-bit
 * value: off_wrap must be its low half, flags its high half. */
_Static_assert(offsetof(struct vring_packed_desc_event, off_wrap) == 0 &&
                   offsetof(struct vring_packed_desc_event, flags) == 2,
               "event structure layout");
/* The head's flags are written separately, after the rest of the descriptor. */
_Static_assert(offsetof(struct vring_packed_desc, flags) == 14, "flags are the last field");

#define F_AVAIL ((uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL))
#define F_USED ((uint16_t)(1u << VRING_PACKED_DESC_F_USED))
#define WRAP_BIT ((uint16_t)(1u << VRING_PACKED_EVENT_F_WRAP_CTR))
#define OFF_MASK ((uint16_t)(WRAP_BIT - 1u))

static uint16_t pos_encode(uint16_t off, bool wrap) {
  return (uint16_t)(off | (wrap ? WRAP_BIT : 0));
}

/* The AVAIL/USED pair that marks a descriptor available in the lap `wrap`. */
static uint16_t avail_bits(bool wrap) { return wrap ? F_AVAIL : F_USED; }

static bool mut(const vsim_vq_pdrv *vq, int m) { return vsim_mut_has(&vq->mutants, m); }

static void emit(const vsim_vq_pdrv *vq, int kind, uint64_t a, uint64_t b) {
  if (vq->host && vq->host->event) vq->host->event(vq->host->ctx, kind, vq->q, a, b, 0, 0);
}

/* Report a device-output violation and stop the queue, unless `keep_going`
 * (only PACKED_USED_LEN: the buffer is still returned, len clamped).
 * Formatting happens only here, on the error path. */
static void violation(vsim_vq_pdrv *vq, int check, bool keep_going, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void violation(vsim_vq_pdrv *vq, int check, bool keep_going, const char *fmt, ...) {
  char detail[VSIM_VIOLATION_DETAIL_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  if (vq->host && vq->host->violation) vq->host->violation(vq->host->ctx, check, vq->q, detail);
  if (!keep_going) vq->broken = true;
}


/* Write a descriptor at `gpa`. With `with_flags` false the flags field is
 * left untouched (the head of a list: its flags are written last). */
static int write_desc(vsim_arena *a, uint64_t gpa, uint64_t addr, uint32_t len, uint16_t id,
                      uint16_t flags, bool with_flags) {
  uint8_t b[16];
  vsim_le_st64(b + D_ADDR, addr);
  vsim_le_st32(b + D_LEN, len);
  vsim_le_st16(b + D_ID, id);
  vsim_le_st16(b + D_FLAGS, flags);
  return vsim_arena_put(a, VSIM_SIDE_DRIVER, gpa, b, with_flags ? DESC_SZ : D_FLAGS);
}

static uint64_t desc_addr(const vsim_vq_pdrv *vq, uint16_t off) {
  return vq->desc + (uint64_t)off * DESC_SZ;
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

/* Store the driver event structure: offset/wrap first, flags last (PEERS B7:
 * the device may read the flags at any moment; once they say DESC, the offset
 * they refer to must already be the new one). `off_wrap` < 0: flags only. */
static void write_driver_evt(vsim_vq_pdrv *vq, int32_t off_wrap, uint16_t flags) {
  if (off_wrap >= 0 &&
      vsim_arena_put16(vq->arena, VSIM_SIDE_DRIVER, vq->driver_evt + EVT_OFF_WRAP,
                         (uint16_t)off_wrap)) {
    vq->broken = true; /* fault reported by the arena */
    return;
  }
  if (vsim_arena_put16(vq->arena, VSIM_SIDE_DRIVER, vq->driver_evt + EVT_FLAGS, flags))
    vq->broken = true;
}

int vsim_vq_pdrv_init(vsim_vq_pdrv *vq, const vsim_host *host, int q, const vsim_vqd_config *cfg) {
  if (!vq || !cfg) return -1;
  *vq = (vsim_vq_pdrv){0};
  if (!host || !host->arena) return -1;
  /* Packed sizes need not be powers of two (spec "Structure Size and
   * Alignment"); the limit keeps offsets in the 15 bits of off_wrap. */
  if (cfg->size == 0 || cfg->size > VQPD_MAX_SIZE) return -1;

  vq->host = host;
  vq->arena = host->arena;
  vq->q = q;
  vq->size = cfg->size;
  vq->desc = cfg->desc;
  vq->driver_evt = cfg->avail;
  vq->device_evt = cfg->used;
  vq->indirect_base = cfg->indirect_base;
  vq->indirect_max = cfg->indirect_max;
  vq->event_idx = (cfg->features >> VIRTIO_RING_F_EVENT_IDX) & 1u;
  vq->indirect = ((cfg->features >> VIRTIO_RING_F_INDIRECT_DESC) & 1u) ||
                 vsim_mut_has(&cfg->mutants, VSIM_MUT_DRV_PACKED_INDIR_NOT_NEG); /* the mutant: whatever was negotiated */
  vq->in_order = (cfg->features >> VIRTIO_F_IN_ORDER) & 1u;
  vq->mutants = cfg->mutants;

  /* Sized once, here: nothing below allocates per request. At most `size`
   * distinct ids are in flight, so order[size] holds them all. */
  vq->free_ids = calloc(vq->size, sizeof *vq->free_ids);
  vq->slot = calloc(vq->size, sizeof *vq->slot);
  if (!vq->free_ids || !vq->slot) goto fail;
  if (vq->in_order && !(vq->order = calloc(vq->size, sizeof *vq->order))) goto fail;
  /* Pushed size-1 .. 0, so that the first pops hand out 0, 1, 2, ... */
  for (uint32_t i = 0; i < vq->size; i++) vq->free_ids[i] = (uint16_t)(vq->size - 1u - i);
  vq->nfree_ids = vq->size;
  vq->num_free = vq->size;

  /* "The descriptor ring is zero-initialized": with both wrap counters at 1,
   * zero flags (AVAIL = USED = 0) mean neither available nor used. Zeroed
   * event structures mean ENABLE on both sides, so nothing is suppressed
   * before either side has said so. */
  if (zero_range(vq->arena, vq->desc, (uint64_t)vq->size * DESC_SZ) ||
      zero_range(vq->arena, vq->driver_evt, EVT_SZ) ||
      zero_range(vq->arena, vq->device_evt, EVT_SZ))
    goto fail;

  vq->avail_wrap = true;
  vq->used_wrap = true;
  vq->decided_wrap = true;
  vq->cb_enabled = true;
  return 0;

fail:
  vsim_vq_pdrv_fini(vq);
  return -1;
}

void vsim_vq_pdrv_fini(vsim_vq_pdrv *vq) {
  if (!vq) return;
  free(vq->free_ids);
  free(vq->slot);
  free(vq->order);
  vq->free_ids = NULL;
  vq->slot = NULL;
  vq->order = NULL;
  vq->num_free = 0;
  vq->nfree_ids = 0;
  vq->broken = true; /* any later call is refused rather than touching freed arrays */
}

/* Sum the writable lengths, saturating: a used len is a 32-bit field, so
 * "more than 4 GiB writable" compares as UINT32_MAX. */
static uint32_t writable_bytes(const vsim_seg *segs, unsigned nout, unsigned total) {
  uint64_t sum = 0;
  for (unsigned i = nout; i < total; i++) {
    sum += segs[i].len;
    if (sum >= UINT32_MAX) return UINT32_MAX;
  }
  return (uint32_t)sum;
}

/* IN_ORDER: the id at the cursor, or (only after raw ops took ids out of
 * turn) the first free one after it. Bounded by size; the caller made sure
 * one is free. */
static uint16_t cursor_id(const vsim_vq_pdrv *vq) {
  uint16_t id = vq->next_id;
  for (uint32_t i = 0; i < vq->size && vq->slot[id].in_flight; i++)
    id = (uint16_t)(id + 1u == vq->size ? 0u : id + 1u);
  return id;
}

/* drv.packed-buffer-id-in-flight only: does the descriptor at next_used say
 * "used" (USED == used_wrap, something being in flight)? If so the device may
 * already have used the list the mutant means to reuse the id of, and would
 * take the reuse for a fresh list: other checks would fire, not this one. An
 * unreadable ring counts as pending, so the mutant stays out of it. */
static bool used_pending(const vsim_vq_pdrv *vq) {
  uint16_t flags;
  if (vsim_arena_get16(vq->arena, VSIM_SIDE_DRIVER, desc_addr(vq, vq->next_used) + D_FLAGS, &flags))
    return true;
  return ((flags & F_USED) != 0) == vq->used_wrap;
}

/* The buffer mutants, applied to element k of a list of `total`, the first
 * `nout` device-readable: each changes the address written, never the
 * segments the driver keeps (its writable bytes, its request).
 *   drv.packed-desc-addr-sign-extended: element 0's address with the upper
 *     32 bits set, no guest memory (packed.desc-addr-range: a buffer lies
 *     inside guest memory);
 *   drv.packed-desc-reply-in-place: the last writable element at element
 *     0's address, over a readable buffer of its own list (packed.desc-
 *     write-overlap: no device-writable buffer over a device-readable one). */
static uint64_t mutate_addr(const vsim_vq_pdrv *vq, const vsim_seg *segs, uint32_t k, unsigned nout,
                            uint64_t total) {
  uint64_t addr = segs[k].gpa;
  if (k == 0 && mut(vq, VSIM_MUT_DRV_PACKED_ADDR_SIGNEXT)) addr |= UINT64_C(0xffffffff00000000);
  if (nout > 0 && k + 1u == total && k >= nout && mut(vq, VSIM_MUT_DRV_PACKED_REPLY_IN_PLACE))
    addr = segs[0].gpa;
  return addr;
}

int vsim_vq_pdrv_add(vsim_vq_pdrv *vq, const vsim_seg *segs, unsigned nout, unsigned nin,
                     uint64_t token) {
  if (vq->broken) return -1;
  uint64_t total = (uint64_t)nout + nin;
  if (total == 0 || !segs) return -1;

  bool use_indirect = vq->indirect && total > 1 && vq->indirect_base != 0 &&
                      total <= vq->indirect_max && total <= vq->size;
  if (!use_indirect && total > vq->size) return -1; /* can never fit */
  uint32_t need = use_indirect ? 1u : (uint32_t)total; /* total <= size here */
  if (need > vq->num_free) return -2;               /* retry after reaping */
  /* Every in-flight list holds at least one ring descriptor, so a free
   * descriptor implies a free id; a miss here is our own bug, not the guest's. */
  assert(vq->nfree_ids > 0);
  if (vq->nfree_ids == 0) return -2;

  /* popped (or the cursor moved) at commit */
  uint16_t id = vq->in_order ? cursor_id(vq) : vq->free_ids[vq->nfree_ids - 1u];
  uint16_t head = vq->next_avail;
  bool head_wrap = vq->avail_wrap;
  uint16_t head_flags;
  /* The buffer id written into the ring; the bookkeeping keeps `id`.
   * drv.packed-buffer-id-range: id + size (< 2^16: size <= 32768);
   * drv.packed-buffer-id-in-flight: the id of the list added just before,
   * while the driver still counts it in flight (the likeliest still to be
   * held by the device). */
  uint16_t wid = id;
  if (mut(vq, VSIM_MUT_DRV_PACKED_ID_RANGE)) wid = (uint16_t)(id + vq->size);
  if (mut(vq, VSIM_MUT_DRV_PACKED_ID_INFLIGHT) && vq->has_prev && vq->slot[vq->prev_id].in_flight &&
      !used_pending(vq))
    wid = vq->prev_id;
  /* drv.packed-desc-rd-after-wr: with two readable buffers, the first is
   * marked writable, so a readable one follows a writable one */
  const bool rd_after_wr = nout >= 2 && mut(vq, VSIM_MUT_DRV_PACKED_RD_AFTER_WR);

  /* Write everything first and commit the bookkeeping only afterwards; a
   * fault (rings placed outside RAM) stops the queue with nothing committed. */
  if (use_indirect) {
    /* Inside a table only WRITE is valid (no NEXT: entries are consecutive);
     * the buffer id there is reserved, so 0. */
    uint64_t table = vq->indirect_base + (uint64_t)id * vq->indirect_max * DESC_SZ;
    for (uint32_t i = 0; i < total; i++) {
      uint16_t f = i >= nout || (i == 0 && rd_after_wr) ? VRING_DESC_F_WRITE : 0;
      if (write_desc(vq->arena, table + (uint64_t)i * DESC_SZ, mutate_addr(vq, segs, i, nout, total),
                     segs[i].len, 0, f, true))
        goto fault;
    }
    head_flags = (uint16_t)(VRING_DESC_F_INDIRECT | avail_bits(head_wrap));
    /* drv.packed-indirect-table-len: half an entry more than the table, so
     * the len is no multiple of 16 */
    uint32_t ilen = (uint32_t)(total * DESC_SZ);
    if (mut(vq, VSIM_MUT_DRV_PACKED_INDIR_LEN)) ilen += (uint32_t)(DESC_SZ / 2);
    if (write_desc(vq->arena, desc_addr(vq, head), table, ilen, wid, head_flags, false))
      goto fault;
  } else {
    /* Each descriptor carries the AVAIL/USED pair of its own lap: a list that
     * crosses the end of the ring is marked with the toggled wrap after it.
     * The id goes into every descriptor (the spec needs it in the last one;
     * Linux writes all, which keeps mid-list descriptors recognisable). */
    uint16_t off = head;
    bool wrap = head_wrap;
    head_flags = 0;
    for (uint32_t i = 0; i < total; i++) {
      /* drv.packed-rest-other-lap: the descriptors after the head get the
       * pair of the other lap, so they never read as available while the head
       * does (packed.list-partially-available: the head is made available
       * last, once every other descriptor of the list is) */
      const bool lap = i > 0 && mut(vq, VSIM_MUT_DRV_PACKED_REST_OTHER_LAP) ? !wrap : wrap;
      uint16_t f = (uint16_t)(avail_bits(lap) | (i + 1 < total ? VRING_DESC_F_NEXT : 0) |
                              (i >= nout || (i == 0 && rd_after_wr) ? VRING_DESC_F_WRITE : 0));
      if (i == 0) head_flags = f;
      if (write_desc(vq->arena, desc_addr(vq, off), mutate_addr(vq, segs, i, nout, total), segs[i].len, wid,
                     f, i != 0))
        goto fault;
      if (++off == vq->size) {
        off = 0;
        wrap = !wrap;
      }
    }
  }
  /* Barrier B5 (PEERS.md (c), spec "Updating flags"): a write barrier, then
   * the head's flags, last. The device may read the whole list as soon as the
   * head's flags flip, so every other byte of the list (and of the indirect
   * table) must be in place before. Single-threaded here: program order is
   * the barrier, and the order matters when the scheduler splits this
   * function at shared-memory accesses. */
  if (vsim_arena_put16(vq->arena, VSIM_SIDE_DRIVER, desc_addr(vq, head) + D_FLAGS, head_flags))
    goto fault;

  if (mut(vq, VSIM_MUT_DRV_PACKED_REWRITE_AVAIL) && vq->has_prev) {
    /* a reserved flag bit into the head of the list before, which the device
     * may not have used yet: harmless to the device, and a change all the same */
    uint16_t pf;
    if (vsim_arena_get16(vq->arena, VSIM_SIDE_DRIVER, desc_addr(vq, vq->prev_head) + D_FLAGS, &pf) == 0)
      (void)vsim_arena_put16(vq->arena, VSIM_SIDE_DRIVER, desc_addr(vq, vq->prev_head) + D_FLAGS,
                               (uint16_t)(pf | 0x8u));
  }
  vq->prev_head = head;
  vq->prev_id = id;
  vq->has_prev = true;

  /* Commit. */
  vq->nfree_ids--;
  if (vq->in_order) {
    vq->next_id = (uint16_t)(id + 1u == vq->size ? 0u : id + 1u);
    vq->order[(vq->order_head + vq->inflight) % vq->size] = id; /* inflight < size */
  }
  vq->num_free = (uint16_t)(vq->num_free - need);
  uint32_t next = (uint32_t)head + need;
  if (next >= vq->size) {
    next -= vq->size;
    vq->avail_wrap = !vq->avail_wrap;
  }
  vq->next_avail = (uint16_t)next;
  vq->added = vq->added > UINT32_MAX - need ? UINT32_MAX : vq->added + need;
  vq->slot[id] = (vsim_vqpd_slot){.token = token,
                                  .wr_bytes = writable_bytes(segs, nout, (unsigned)total),
                                  .ndescs = (uint16_t)need,
                                  .in_flight = true};
  vq->inflight++;
  return id;

fault:
  /* The arena already reported the fault; our own ring memory is unusable. */
  vq->broken = true;
  return -1;
}

/* Offset along the double lap 0 .. 2*size-1 that a position names: the first
 * lap (wrap 1) is 0 .. size-1, the second (wrap 0) size .. 2*size-1. */
static uint32_t lap_index(uint16_t size, uint16_t pos) {
  return (uint32_t)(pos & OFF_MASK) + ((pos & WRAP_BIT) ? 0u : size);
}

/* Written out here rather than shared with the device side on purpose: a
 * shared helper would let one bug hide on both sides. Linux un-wraps the
 * event by subtracting the size when its wrap differs from the current one
 * and then applies vring_need_event; walking the double lap is the same rule
 * without the 16-bit index detour, and holds for any window below 2 * size. */
bool vsim_vq_pdrv_event_hit(uint16_t size, uint16_t event, uint16_t old, uint16_t new_pos) {
  if (size == 0 || (event & OFF_MASK) >= size) return false;
  uint32_t span = 2u * size;
  uint32_t o = lap_index(size, old);
  uint32_t d_event = (lap_index(size, event) + span - o) % span;
  uint32_t d_new = (lap_index(size, new_pos) + span - o) % span;
  return d_event < d_new;
}

bool vsim_vq_pdrv_kick_prepare(vsim_vq_pdrv *vq) {
  if (vq->broken) return false;
  uint16_t old = pos_encode(vq->decided, vq->decided_wrap);
  uint16_t new_pos = pos_encode(vq->next_avail, vq->avail_wrap);
  uint32_t added = vq->added;
  emit(vq, VSIM_EV_AVAIL_PUBLISH, old, new_pos);
  /* drv.desc-relink-on-kick: a driver that frees a list when it kicks
   * instead of when the device uses it links the list's indirect table into
   * its free list through the last entry's id (reserved in a table, so the
   * device ignores it): an indirect table entry of an available buffer
   * altered before its use. The ring descriptors are left alone (their
   * change is packed.drv-desc-changed-before-used's). */
  if (mut(vq, VSIM_MUT_DRV_DESC_RELINK_ON_KICK) && new_pos != old && vq->has_prev &&
      vq->slot[vq->prev_id].in_flight) {
    uint16_t hf;
    uint64_t table;
    uint32_t tlen;
    const uint64_t hd = desc_addr(vq, vq->prev_head);
    if (vsim_arena_get16(vq->arena, VSIM_SIDE_DRIVER, hd + D_FLAGS, &hf) == 0 &&
        (hf & VRING_DESC_F_INDIRECT) && vsim_arena_get64(vq->arena, VSIM_SIDE_DRIVER, hd, &table) == 0 &&
        vsim_arena_get32(vq->arena, VSIM_SIDE_DRIVER, hd + 8, &tlen) == 0 && tlen >= DESC_SZ)
      (void)vsim_arena_put16(vq->arena, VSIM_SIDE_DRIVER, table + (tlen / DESC_SZ - 1u) * DESC_SZ + 12u,
                             (uint16_t)(vq->prev_id + 1u));
  }

  /* Barrier B8: a full barrier between the flag stores of add and this load
   * (spec "Sending Available Buffer Notifications": without it the load can
   * see the device's old DISABLE while the device re-enables after its last
   * look at the ring — a lost kick). Program order stands for it here.
   * Barrier B7: the structure is read as ONE 32-bit load so that flags and
   * off_wrap are a consistent snapshot (Linux kick_prepare_packed); two 16-bit
   * loads could pair a new DESC with a stale offset. */
  bool need;
  uint32_t snap;
  if (added == 0) {
    need = false; /* nothing made available since the last decision */
  } else if (vsim_arena_get32(vq->arena, VSIM_SIDE_DRIVER, vq->device_evt, &snap)) {
    need = true; /* unreadable (fault reported): a spurious kick (SHOULD) beats a lost one (MUST) */
  } else {
    uint16_t off_wrap = (uint16_t)snap;
    uint16_t flags = (uint16_t)(snap >> 16);
    switch (flags) {
      case VRING_PACKED_EVENT_FLAG_DISABLE:
        need = false;
        break;
      case VRING_PACKED_EVENT_FLAG_DESC:
        if (!vq->event_idx)
          need = true; /* DESC is only valid with EVENT_IDX: read it as ENABLE */
        else if (added >= 2u * vq->size)
          need = true; /* the window covered every position of both laps */
        else if ((off_wrap & OFF_MASK) >= vq->size)
          need = true; /* an offset the ring never reaches would suppress forever */
        else
          need = vsim_vq_pdrv_event_hit(vq->size, off_wrap, old, new_pos);
        break;
      default:
        /* ENABLE, the reserved value 3, and anything with reserved bits set:
         * only an exact DISABLE / DESC suppresses (as Linux), so a device
         * writing garbage gets spurious kicks rather than none. */
        need = true;
        break;
    }
  }
  vq->decided = vq->next_avail;
  vq->decided_wrap = vq->avail_wrap;
  vq->added = 0;

  if (mut(vq, VSIM_MUT_DRV_SKIP_KICK)) need = false;
  if (mut(vq, VSIM_MUT_DRV_KICK_ALWAYS)) need = true;
  return need;
}

enum used_state { US_NONE, US_USED, US_BAD };

/* Classify the flags at next_used by the rule in the header comment. */
static enum used_state classify_used(const vsim_vq_pdrv *vq, uint16_t flags) {
  bool a = (flags & F_AVAIL) != 0, u = (flags & F_USED) != 0, w = vq->used_wrap;
  if (vq->inflight == 0) return a == w ? US_BAD : US_NONE;
  if (a != w) return US_BAD;
  return u == w ? US_USED : US_NONE;
}

/* Move the used position `n` ring descriptors on (any n: a lap flips the wrap). */
static void used_skip(vsim_vq_pdrv *vq, uint64_t n) {
  if ((n / vq->size) & 1u) vq->used_wrap = !vq->used_wrap;
  uint32_t next = (uint32_t)vq->next_used + (uint32_t)(n % vq->size);
  if (next >= vq->size) {
    next -= vq->size;
    vq->used_wrap = !vq->used_wrap;
  }
  vq->next_used = (uint16_t)next;
}

/* As Linux's get_buf_packed in DESC mode: while callbacks are on, ask for an
 * interrupt when the descriptor at the new next_used is used. (A real driver
 * follows with a full barrier and a re-check, B4'/B8; the caller's loop of
 * get_used / used_pending does the re-check.) */
static void ask_next_interrupt(vsim_vq_pdrv *vq) {
  if (vq->cb_enabled && vq->event_idx)
    write_driver_evt(vq, pos_encode(vq->next_used, vq->used_wrap), VRING_PACKED_EVENT_FLAG_DESC);
}

/* IN_ORDER: the used descriptor at next_used carries `id` (in flight). It
 * stands for the lists in `order` from the oldest up to `id`. Moves next_used
 * past all their descriptors and opens the batch. Returns 0 or -1 (violation
 * reported, queue broken, nothing freed). */
static int open_batch(vsim_vq_pdrv *vq, uint16_t id, uint32_t ulen) {
  uint32_t k = 0;
  uint64_t descs = 0;
  for (; k < vq->inflight; k++) { /* bounded: inflight <= size */
    const uint16_t lid = vq->order[(vq->order_head + k) % vq->size];
    descs += vq->slot[lid].ndescs;
    if (lid == id) break;
  }
  if (k == vq->inflight) {
    /* every id in flight is in `order`: only a bookkeeping bug gets here */
    violation(vq, VSIM_CHK_PACKED_USED_ID, false,
              "used desc %u (wrap %u) id %u: in flight but not in the in-order list",
              (unsigned)vq->next_used, (unsigned)vq->used_wrap, (unsigned)id);
    return -1;
  }
  if (ulen > vq->slot[id].wr_bytes) {
    /* as in the unordered path: returned, clamped */
    violation(vq, VSIM_CHK_PACKED_USED_LEN, true,
              "used len %u for id %u exceeds its %u device-writable bytes", (unsigned)ulen,
              (unsigned)id, (unsigned)vq->slot[id].wr_bytes);
    ulen = vq->slot[id].wr_bytes;
  }
  /* The device skips forward by the batch; so do we, by the lengths we
   * recorded (never by anything read from the ring). */
  used_skip(vq, descs);
  vq->batch_left = (uint16_t)(k + 1u); /* k < inflight <= size */
  vq->batch_len = ulen;
  return 0;
}

/* IN_ORDER: return the oldest list of the open batch; no guest read. */
static int take_batched(vsim_vq_pdrv *vq, uint64_t *token, uint32_t *len) {
  const uint16_t id = vq->order[vq->order_head];
  vsim_vqpd_slot *s = &vq->slot[id];
  /* the skipped lists "are assumed to have been used completely" */
  const uint32_t ulen = vq->batch_left == 1 ? vq->batch_len : s->wr_bytes;
  vq->num_free = (uint16_t)(vq->num_free + s->ndescs);
  vq->nfree_ids++; /* the id goes back to the cursor's side: nothing to push */
  s->in_flight = false;
  vq->inflight--;
  vq->order_head = (uint16_t)(vq->order_head + 1u == vq->size ? 0u : vq->order_head + 1u);
  vq->batch_left--;
  emit(vq, VSIM_EV_REAP, id, ulen);
  /* next_used is already past the whole batch: ask once, at its end */
  if (vq->batch_left == 0) ask_next_interrupt(vq);
  if (token) *token = s->token;
  if (len) *len = ulen;
  return 1;
}

int vsim_vq_pdrv_get_used(vsim_vq_pdrv *vq, uint64_t *token, uint32_t *len) {
  if (vq->broken) return -1;
  if (vq->batch_left) return take_batched(vq, token, len);

  /* The whole descriptor in one read: a device rewriting it meanwhile cannot
   * pair new flags with an old id/len. (A real driver reads flags first, then
   * a read barrier, then id/len — PEERS B5'/B6; one read gives the same.) */
  uint8_t b[16];
  if (vsim_arena_get(vq->arena, VSIM_SIDE_DRIVER, desc_addr(vq, vq->next_used), b, DESC_SZ)) {
    vq->broken = true; /* fault reported by the arena */
    return -1;
  }
  uint16_t flags = vsim_le_ld16(b + D_FLAGS);
  switch (classify_used(vq, flags)) {
    case US_NONE:
      return 0;
    case US_BAD:
      violation(vq, VSIM_CHK_PACKED_USED_FLAGS, false,
                "desc %u flags 0x%04x: AVAIL %u USED %u, used wrap %u, %u buffers in flight",
                (unsigned)vq->next_used, (unsigned)flags, (unsigned)!!(flags & F_AVAIL),
                (unsigned)!!(flags & F_USED), (unsigned)vq->used_wrap, (unsigned)vq->inflight);
      return -1;
    case US_USED:
      break;
  }

  /* NEXT and WRITE in a used descriptor are not relied on: NEXT is reserved,
   * and len is used whatever WRITE says (devices such as QEMU's never set
   * WRITE on used descriptors, and Linux reads len regardless). */
  uint16_t id = vsim_le_ld16(b + D_ID);
  uint32_t ulen = vsim_le_ld32(b + D_LEN);
  if (id >= vq->size || !vq->slot[id].in_flight) {
    /* Covers out-of-range, duplicate, stale and never-issued ids alike;
     * refusing here is what keeps the id stack from a double push. */
    violation(vq, VSIM_CHK_PACKED_USED_ID, false,
              "used desc %u (wrap %u) id %u: %s (queue size %u)", (unsigned)vq->next_used,
              (unsigned)vq->used_wrap, (unsigned)id,
              id >= vq->size ? "out of range" : "not in flight", (unsigned)vq->size);
    return -1;
  }
  if (vq->in_order) {
    if (open_batch(vq, id, ulen)) return -1;
    return take_batched(vq, token, len);
  }
  vsim_vqpd_slot *s = &vq->slot[id];
  if (ulen > s->wr_bytes) {
    /* The spec lets len underestimate, never overestimate. The buffer is
     * still the device's answer, so it is returned with len clamped, so that
     * the caller never reads past what it offered. */
    violation(vq, VSIM_CHK_PACKED_USED_LEN, true,
              "used len %u for id %u exceeds its %u device-writable bytes", (unsigned)ulen,
              (unsigned)id, (unsigned)s->wr_bytes);
    ulen = s->wr_bytes;
  }

  /* The device skips the rest of the list; so do we, by the length we
   * recorded (never by anything read from the ring). */
  uint32_t next = (uint32_t)vq->next_used + s->ndescs;
  if (next >= vq->size) {
    next -= vq->size;
    vq->used_wrap = !vq->used_wrap;
  }
  vq->next_used = (uint16_t)next;
  vq->num_free = (uint16_t)(vq->num_free + s->ndescs);
  vq->free_ids[vq->nfree_ids++] = id; /* cannot overflow: id was in flight */
  s->in_flight = false;
  vq->inflight--;
  emit(vq, VSIM_EV_REAP, id, ulen);
  ask_next_interrupt(vq);

  if (token) *token = s->token;
  if (len) *len = ulen;
  return 1;
}

void vsim_vq_pdrv_set_callbacks(vsim_vq_pdrv *vq, bool enable) {
  vq->cb_enabled = enable;
  if (vq->broken) return;
  if (!enable)
    write_driver_evt(vq, -1, VRING_PACKED_EVENT_FLAG_DISABLE); /* the offset is then ignored */
  else if (vq->event_idx)
    write_driver_evt(vq, pos_encode(vq->next_used, vq->used_wrap), VRING_PACKED_EVENT_FLAG_DESC);
  else
    write_driver_evt(vq, -1, VRING_PACKED_EVENT_FLAG_ENABLE);
}

bool vsim_vq_pdrv_used_pending(vsim_vq_pdrv *vq) {
  if (vq->broken) return false;
  if (vq->batch_left) return true; /* the rest of an IN_ORDER batch: already known */
  uint16_t flags;
  /* Peek only: the flags, through the checked accessor; no state changes. */
  if (vsim_arena_get16(vq->arena, VSIM_SIDE_DRIVER, desc_addr(vq, vq->next_used) + D_FLAGS,
                        &flags))
    return false;
  bool a = (flags & F_AVAIL) != 0, u = (flags & F_USED) != 0;
  return a == vq->used_wrap && u == vq->used_wrap;
}

/* ---- raw ops ---- */

/* The slot `index` places after next_avail, and the wrap counter of its lap. */
static uint16_t raw_slot(const vsim_vq_pdrv *vq, uint16_t index, bool *wrap) {
  uint32_t pos = (uint32_t)vq->next_avail + index % vq->size;
  *wrap = vq->avail_wrap;
  if (pos >= vq->size) {
    pos -= vq->size;
    *wrap = !*wrap;
  }
  return (uint16_t)pos;
}

uint64_t vsim_vq_pdrv_slot_addr(const vsim_vq_pdrv *vq, uint16_t index) {
  bool wrap;
  return desc_addr(vq, raw_slot(vq, index, &wrap));
}

int vsim_vq_pdrv_raw_desc(vsim_vq_pdrv *vq, uint16_t index, uint64_t addr, uint32_t len,
                          uint16_t id, uint16_t flags, bool exact) {
  if (vq->broken) return -1;
  bool wrap;
  uint16_t pos = raw_slot(vq, index, &wrap);
  if (!exact) flags = (uint16_t)((flags & ~(F_AVAIL | F_USED)) | avail_bits(wrap));
  return write_desc(vq->arena, desc_addr(vq, pos), addr, len, id, flags, true);
}

void vsim_vq_pdrv_raw_publish(vsim_vq_pdrv *vq, uint16_t count, uint16_t id, uint32_t wr_bytes) {
  count = (uint16_t)(count % (vq->size + 1u));
  /* Zero slots hold no list (a count of size + 1 wraps to 0 here): tracking
   * an id for it would leave an id in flight that holds no descriptor, and
   * add relies on "a free descriptor implies a free id". */
  if (vq->broken || count == 0) return;
  uint32_t next = (uint32_t)vq->next_avail + count;
  if (next >= vq->size) {
    next -= vq->size;
    vq->avail_wrap = !vq->avail_wrap;
  }
  vq->next_avail = (uint16_t)next;
  vq->added = vq->added > UINT32_MAX - count ? UINT32_MAX : vq->added + count;
  vq->num_free = vq->num_free > count ? (uint16_t)(vq->num_free - count) : 0;
  if (id >= vq->size || vq->slot[id].in_flight) return;
  if (vq->in_order) {
    /* no stack to take it from: the cursor skips ids in flight */
    vq->nfree_ids--; /* > 0: this id is not in flight */
    vq->order[(vq->order_head + vq->inflight) % vq->size] = id; /* inflight < size */
    vq->slot[id] = (vsim_vqpd_slot){.token = UINT64_MAX - id, .wr_bytes = wr_bytes,
                                    .ndescs = count, .in_flight = true};
    vq->inflight++;
    return;
  }
  /* take the id off the free stack (bounded by its depth) */
  for (uint16_t i = 0; i < vq->nfree_ids; i++) {
    if (vq->free_ids[i] != id) continue;
    vq->free_ids[i] = vq->free_ids[vq->nfree_ids - 1u];
    vq->nfree_ids--;
    vq->slot[id] = (vsim_vqpd_slot){.token = UINT64_MAX - id, .wr_bytes = wr_bytes,
                                    .ndescs = count, .in_flight = true};
    vq->inflight++;
    return;
  }
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

int vsim_vq_pdrv_audit(const vsim_vq_pdrv *vq, char *msg, size_t n) {
  if (!vq->slot) return 0; /* finalised: nothing left to check */
  if (vq->nfree_ids > vq->size || vq->num_free > vq->size)
    return audit_fail(msg, n, "%u free ids and %u free descriptors in a ring of %u", vq->nfree_ids,
                      vq->num_free, vq->size);
  uint8_t *seen = calloc(vq->size, 1);
  if (!seen) return audit_fail(msg, n, "out of memory");
  int r = 0;
  uint64_t lists = 0, descs = 0;
  for (uint32_t id = 0; id < vq->size; id++)
    if (vq->slot[id].in_flight) {
      lists++;
      descs += vq->slot[id].ndescs;
    }
  if (lists != vq->inflight)
    r = audit_fail(msg, n, "inflight %u, but %llu ids in flight", vq->inflight, (unsigned long long)lists);
  if (!r && (uint64_t)vq->nfree_ids + vq->inflight != vq->size)
    r = audit_fail(msg, n, "%u free ids and %u in flight in a ring of %u", vq->nfree_ids, vq->inflight,
                   vq->size);
  if (!r && descs + vq->num_free > vq->size)
    r = audit_fail(msg, n, "%u free descriptors and %llu held by lists in flight in a ring of %u",
                   vq->num_free, (unsigned long long)descs, vq->size);
  if (!r && !vq->in_order) {
    /* the id stack: distinct ids, none in flight (a double push would repeat one) */
    for (uint32_t i = 0; !r && i < vq->nfree_ids; i++) {
      uint16_t id = vq->free_ids[i];
      if (id >= vq->size) r = audit_fail(msg, n, "free id %u beyond the ring (size %u)", id, vq->size);
      else if (seen[id]) r = audit_fail(msg, n, "id %u is on the free stack twice", id);
      else if (vq->slot[id].in_flight) r = audit_fail(msg, n, "id %u is both free and in flight", id);
      else seen[id] = 1;
    }
  }
  if (!r && vq->in_order) {
    /* the ids in flight in the order they were made available: each once */
    for (uint32_t k = 0; !r && k < vq->inflight; k++) {
      uint16_t id = vq->order[(vq->order_head + k) % vq->size];
      if (id >= vq->size || !vq->slot[id].in_flight)
        r = audit_fail(msg, n, "in-order entry %u names id %u, which is not in flight", k, id);
      else if (seen[id]) r = audit_fail(msg, n, "id %u is in the in-order list twice", id);
      else seen[id] = 1;
    }
  }
  if (!r && vq->batch_left > vq->inflight)
    r = audit_fail(msg, n, "an IN_ORDER batch of %u left with %u in flight", vq->batch_left, vq->inflight);
  free(seen);
  return r;
}
