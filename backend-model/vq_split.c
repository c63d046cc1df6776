/* backend-model/vq_split.c — the device side of a split virtqueue (see vq_split.h).
 *
 * Owns: validating what the driver put in the descriptor table and the
 * available ring (each malformed class is one violation with its check id, and
 * the queue is then broken), writing used elements / used.idx / used.flags /
 * avail_event, the interrupt decision, and what a NOTIFICATION_DATA value
 * says about the ring (checked at the next avail.idx read; a bad one is
 * reported without breaking the queue, a confirmed one bounds the drain).
 * Must never: read a guest field twice for one decision, walk more than
 * O(queue size) descriptors per pop (except the dev.no-loop-check mutant, up
 * to SPLIT_WALK_HARD_MAX), allocate or format on the hot path (only
 * when reporting a violation), or touch guest memory except through the
 * arena's checked accessors on the device side.
 *
 * Ring layout (offsets, flag values, feature bits) comes from the kernel UAPI
 * <linux/virtio_ring.h>; values in guest memory are little-endian and are
 * decoded byte by byte, so the host's endianness does not matter.
 *
 * Guest reads of ring structures are checked with vsim_arena_check before the
 * copy: a ring that lies outside guest memory is the *driver's* error
 * (reported as SPLIT_DESC_ADDR), and pre-checking keeps the arena's fault sink
 * (which reports device out-of-bounds accesses) from blaming the device for it.
 *
 * IN_ORDER: pop number n and push number n must be the same chain (`popped`
 * remembers the heads by pop number), so the used slot of a buffer is the
 * available slot it came from. A batch takes one used position per buffer but
 * writes only the element at its first position; the positions after it keep
 * whatever they held, and the driver skips them by the batch size it works
 * out from the id (spec "In-order use of descriptors").
 */
#include "arena_fast.h"
#include "host_report.h"
#include "le.h"
#include "vq_split.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"

/* Where things are, from the UAPI structs (never hand-written numbers). */
#include "ring_layout.h" /* AVAIL_*_OFF, USED_*_OFF */
#define USED_ELEM_SIZE ((uint64_t)sizeof(struct vring_used_elem))
#define DESC_SIZE ((uint64_t)sizeof(struct vring_desc))
#define AVAIL_ENTRY_SIZE ((uint64_t)sizeof(((struct vring_avail *)0)->ring[0]))

_Static_assert(sizeof(struct vring_desc) == 16, "split descriptor is 16 bytes");
_Static_assert(sizeof(struct vring_used_elem) == 8, "used element is 8 bytes");

#define SPLIT_MAX_QUEUE 32768u
#define CHAIN_MAX_BYTES (UINT64_C(1) << 32) /* spec: at most 2^32 bytes per chain */

/* The walk's hard bound, in descriptor reads per pop: the engine's own
 * guarantee that a pop ends, which no mutant switches off. The correct walk
 * never gets near it (its chain-length check stops it after queue size
 * buffers plus one indirect descriptor, at most 32769 reads); it exists for
 * dev.no-loop-check, the planted bug that skips that check and so follows a
 * descriptor loop: with it the mutant does "unbounded-looking" but finite
 * work, tens of milliseconds, instead of hanging the run or the fuzzer. It
 * lies far above the work bound liveness.dev-unbounded-work holds a device
 * to, whatever the queue size, so the mutant is always caught. */
#define SPLIT_WALK_HARD_MAX (UINT32_C(1) << 20)
_Static_assert(SPLIT_WALK_HARD_MAX > VSIM_BACKEND_CHAIN_WORK(SPLIT_MAX_QUEUE),
               "the hard bound must exceed the work check's bound for every queue size");

/* ---- little helpers ------------------------------------------------------ */


static inline bool mut(const vsim_vq_dev *vq, int m) { return vsim_mut_has(&vq->mutants, m); }

static inline void emit(const vsim_vq_dev *vq, int kind, uint64_t a, uint64_t b, uint64_t c,
                        uint64_t d) {
  if (vq->host->event) vq->host->event(vq->host->ctx, kind, vq->q, a, b, c, d);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
/* Report one violation, break the queue, return -1. The only place that
 * formats text: it runs once per queue lifetime at most. */
static int violate(vsim_vq_dev *vq, int check, const char *fmt, ...) {
  char detail[VSIM_VIOLATION_DETAIL_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  vq->broken = true;
  if (vq->host->violation) vq->host->violation(vq->host->ctx, check, vq->q, detail);
  return -1;
}

/* Guest address of base+off for one of the driver-placed ring parts, or false
 * when that wraps 64 bits (a ring configured at the top of the address space
 * must not alias guest address 0). */
static inline bool ring_addr(uint64_t base, uint64_t off, uint64_t *gpa) {
  if (off > UINT64_MAX - base) return false;
  *gpa = base + off;
  return true;
}

/* One read of a ring part the driver placed; a bad placement is the driver's
 * SPLIT_DESC_ADDR violation (see the file comment for why this is checked
 * before the copy). */
static int ring_read(vsim_vq_dev *vq, uint64_t base, uint64_t off, void *dst, uint64_t len,
                     const char *what) {
  uint64_t gpa;
  if (ring_addr(base, off, &gpa) && vsim_arena_plain(vq->arena, gpa, len))
    return vsim_arena_get(vq->arena, VSIM_SIDE_DEVICE, gpa, dst, len); /* checked once */
  if (!ring_addr(base, off, &gpa) ||
      !vsim_arena_ok(vq->arena, VSIM_SIDE_DEVICE, gpa, len, VSIM_ACC_READ))
    return violate(vq, VSIM_CHK_SPLIT_DESC_ADDR,
                   "%s outside guest memory: 0x%llx+0x%llx (%llu bytes)", what,
                   (unsigned long long)base, (unsigned long long)off,
                   (unsigned long long)len);
  if (vsim_arena_get(vq->arena, VSIM_SIDE_DEVICE, gpa, dst, len)) return -1;
  return 0;
}

/* One write into the used ring (device-owned, driver-placed). */
static int ring_write(vsim_vq_dev *vq, uint64_t off, const void *src, uint64_t len) {
  uint64_t gpa;
  if (ring_addr(vq->used, off, &gpa) && vsim_arena_plain(vq->arena, gpa, len))
    return vsim_arena_put(vq->arena, VSIM_SIDE_DEVICE, gpa, src, len); /* checked once */
  if (!ring_addr(vq->used, off, &gpa) ||
      !vsim_arena_ok(vq->arena, VSIM_SIDE_DEVICE, gpa, len, VSIM_ACC_WRITE))
    return violate(vq, VSIM_CHK_SPLIT_DESC_ADDR,
                   "used ring outside guest memory: 0x%llx+0x%llx (%llu bytes)",
                   (unsigned long long)vq->used, (unsigned long long)off,
                   (unsigned long long)len);
  if (vsim_arena_put(vq->arena, VSIM_SIDE_DEVICE, gpa, src, len)) return -1;
  return 0;
}

static int ring_write16(vsim_vq_dev *vq, uint64_t off, uint16_t v) {
  uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  return ring_write(vq, off, b, 2);
}

/* ---- set-up -------------------------------------------------------------- */

int vsim_vq_dev_init(vsim_vq_dev *vq, const vsim_host *host, int q,
                     const vsim_queue_cfg *cfg, uint64_t features, vsim_mutset mutants) {
  memset(vq, 0, sizeof *vq);
  /* size 0 would make every ring slot computation divide by zero; sizes above
   * the split-ring maximum would not fit the 16-bit indices. The transport
   * reports the driver's error; here it is simply not a usable queue. */
  if (!host || !cfg || cfg->size == 0 || cfg->size > SPLIT_MAX_QUEUE) return -1;
  vq->host = host;
  vq->arena = host->arena;
  vq->q = q;
  vq->size = cfg->size;
  vq->desc = cfg->desc;
  vq->avail = cfg->driver;
  vq->used = cfg->device;
  vq->event_idx = (features >> VIRTIO_RING_F_EVENT_IDX) & 1u;
  vq->indirect = (features >> VIRTIO_RING_F_INDIRECT_DESC) & 1u;
  vq->in_order = (features >> VIRTIO_F_IN_ORDER) & 1u;
  vq->mutants = mutants;
  vq->notify_enabled = true;
  /* Sized up front: a pop never allocates, and a validated chain never has
   * more than `size` buffers, so segs[size] always suffices. At most `size`
   * distinct heads are in flight, so popped[size] holds every one of them. */
  vq->head_inflight = calloc(cfg->size, sizeof *vq->head_inflight);
  vq->segs = calloc(cfg->size, sizeof *vq->segs);
  vq->scratch = calloc(cfg->size, sizeof *vq->scratch);
  if (vq->in_order) vq->popped = calloc(cfg->size, sizeof *vq->popped);
  if (!vq->head_inflight || !vq->segs || !vq->scratch || (vq->in_order && !vq->popped)) {
    vsim_vq_dev_fini(vq);
    return -1;
  }
  /* What no device-writable buffer may overlap: the three parts, each with
   * its event field (used_event, avail_event) whether or not EVENT_IDX is
   * negotiated (the driver places them all the same). */
  const uint16_t q16 = (uint16_t)(q < 0 ? 0 : q);
  vq->own[0] = (vsim_ring_part){vq->desc, DESC_SIZE * cfg->size, q16, 0};
  vq->own[1] = (vsim_ring_part){vq->avail, AVAIL_RING_OFF + AVAIL_ENTRY_SIZE * (cfg->size + 1u), q16, 1};
  vq->own[2] = (vsim_ring_part){vq->used, USED_RING_OFF + USED_ELEM_SIZE * cfg->size + 2u, q16, 2};
  /* Checked once: the addresses cannot change while the queue is live. */
  if (vq->desc % VRING_DESC_ALIGN_SIZE || vq->avail % VRING_AVAIL_ALIGN_SIZE ||
      vq->used % VRING_USED_ALIGN_SIZE)
    violate(vq, VSIM_CHK_SPLIT_ALIGN,
            "ring misaligned: desc 0x%llx (16), avail 0x%llx (2), used 0x%llx (4)",
            (unsigned long long)vq->desc, (unsigned long long)vq->avail,
            (unsigned long long)vq->used);
  return 0;
}

void vsim_vq_dev_set_guard(vsim_vq_dev *vq, const vsim_ring_guard *guard) { vq->guard = guard; }

void vsim_vq_dev_fini(vsim_vq_dev *vq) {
  free(vq->head_inflight);
  free(vq->segs);
  free(vq->scratch);
  vq->scratch = NULL;
  free(vq->popped);
  vq->head_inflight = NULL;
  vq->segs = NULL;
  vq->popped = NULL;
}

/* ---- notification data ----------------------------------------------------- */

/* A bad NOTIFICATION_DATA value: reported, and the queue goes on (the value
 * is a hint; the ring stays the authority). Only on the error path. */
#define notify_data_violation(vq, ...) vsim_host_reportf((vq)->host, VSIM_CHK_NOTIFY_DATA, (vq)->q, __VA_ARGS__)

void vsim_vq_dev_notify_data(vsim_vq_dev *vq, uint16_t v) {
  if (vq->broken || vq->nd_state == 2) return; /* one stale report per ring read */
  const uint16_t next = (uint16_t)vq->next_avail;
  /* Indices as distances ahead of next_avail: the driver can never be more
   * than a queue ahead of the device, so anything above `size` is behind it
   * (or absurdly far ahead). The floor is the furthest index the device
   * already knows was published: its last read of avail.idx, or a value
   * still waiting to be checked. An honest notification is never below it
   * (avail.idx only moves forward, and the driver publishes before it
   * notifies). */
  uint16_t floor_ahead = (uint16_t)vq->avail_ahead;
  if (vq->nd_state == 1) {
    uint16_t w = (uint16_t)(vq->nd_value - next);
    if (w <= vq->size && w > floor_ahead) floor_ahead = w;
  }
  const uint16_t a = (uint16_t)(v - next);
  const bool behind_next = a > vq->size && (uint16_t)(next - v) <= vq->size;
  if ((a <= vq->size && a < floor_ahead) || behind_next) {
    /* judged at the next read of avail.idx, after the ring's own rules: if
     * avail.idx itself went back, that is the violation, not this */
    vq->nd_state = 2;
    vq->nd_value = v;
    vq->nd_floor = (uint16_t)(next + floor_ahead);
    return;
  }
  vq->nd_state = 1;
  vq->nd_value = v;
}

/* The first avail.idx read after a notification: hold its value against
 * what the ring shows (`count` entries past next_avail, already validated). */
static void judge_notify_data(vsim_vq_dev *vq, uint16_t idx, uint16_t count) {
  const uint16_t next = (uint16_t)vq->next_avail;
  const uint8_t st = vq->nd_state;
  vq->nd_state = 0;
  if (st == 2) {
    notify_data_violation(vq,
                          "notification names avail index %u, behind %u that the ring or an earlier "
                          "notification already showed (next_avail %u)",
                          vq->nd_value, vq->nd_floor, next);
    return;
  }
  const uint16_t a = (uint16_t)(vq->nd_value - next);
  if (a > count) {
    notify_data_violation(vq, "notification names avail index %u, but avail.idx is %u (next_avail %u%s)",
                          vq->nd_value, idx, next, a > vq->size ? ", more than a queue ahead" : "");
    return;
  }
  /* Confirmed: the entries up to it are published, and will stay so. */
  if (a > 0) {
    vq->nd_bound = true;
    vq->nd_end = vq->nd_value;
  }
}

/* ---- available ring -------------------------------------------------------- */

int vsim_vq_dev_avail_count(vsim_vq_dev *vq) {
  if (vq->broken) return -1;
  /* A notification confirmed by the ring bounds the drain: up to its index
   * avail.idx need not be read again (the read that confirmed it showed at
   * least that much, and the driver never takes entries back). avail_ahead
   * covers the bound, so the move-back check below still judges the next
   * read against everything seen. A new notification is judged first. */
  if (vq->nd_bound && vq->nd_state == 0) {
    uint16_t left = (uint16_t)(vq->nd_end - (uint16_t)vq->next_avail);
    if (left != 0 && left <= vq->avail_ahead) return left;
    vq->nd_bound = false;
  }
  uint8_t b[2];
  /* avail.idx is read once: count and the range check below must judge the
   * same value, or a driver flipping it between two reads could pass the
   * check with one value and be consumed with another. */
  if (ring_read(vq, vq->avail, AVAIL_IDX_OFF, b, sizeof b, "available ring")) return -1;
  uint16_t idx = vsim_le_ld16(b);
  uint16_t next = (uint16_t)vq->next_avail;
  uint16_t count = (uint16_t)(idx - next);
  uint16_t seen = (uint16_t)(next + vq->avail_ahead);
  if (count > vq->size)
    return violate(vq, VSIM_CHK_SPLIT_AVAIL_IDX,
                   "avail.idx moved from %u to %u: %u entries past next_avail %u, queue size %u",
                   seen, idx, count, next, vq->size);
  /* A move back that still stays ahead of the device (e.g. 12 -> 11 with the
   * device at 10) withdraws buffers the device was already allowed to see. */
  if (count < vq->avail_ahead)
    return violate(vq, VSIM_CHK_SPLIT_AVAIL_IDX,
                   "avail.idx moved back from %u to %u (next_avail %u)", seen, idx, next);
  vq->avail_ahead = count;
  if (vq->nd_state) judge_notify_data(vq, idx, count);
  return count;
}

/* ---- pop ----------------------------------------------------------------- */

int vsim_vq_dev_pop(vsim_vq_dev *vq, vsim_chain *out) {
  if (vq->broken) return -1; /* no guest access at all once broken */
  int avail = vsim_vq_dev_avail_count(vq);
  if (avail <= 0) return avail;

  const uint32_t size = vq->size;
  const uint32_t slot = vq->next_avail % size;
  uint8_t hb[2];
  /* the head is read once: the range and in-flight checks and the walk all
   * use this one value */
  if (ring_read(vq, vq->avail, AVAIL_RING_OFF + AVAIL_ENTRY_SIZE * slot, hb, sizeof hb,
                "available ring"))
    return -1;
  const uint16_t head = vsim_le_ld16(hb);
  if (head >= size)
    return violate(vq, VSIM_CHK_SPLIT_HEAD_RANGE,
                   "avail.ring[%u] = %u is not below queue size %u", slot, head, size);
  if (vq->head_inflight[head])
    return violate(vq, VSIM_CHK_SPLIT_HEAD_INFLIGHT,
                   "head %u made available again (avail.ring[%u]) while still in flight",
                   head, slot);

  /* The walk. Every descriptor is copied once into `d` and only that copy is
   * used: a driver rewriting the table while (or after) the device walks it
   * cannot change what was validated, and segs[] keeps the validated values.
   * Bounded: every non-indirect descriptor adds a segment and there are at
   * most `size` segments, plus at most one indirect descriptor, so a pop
   * reads at most size + 1 descriptors whatever the guest wrote.
   * The dev.no-loop-check mutant skips that segment bound: it walks on, keeps
   * only the first `size` segments (segs[] holds no more), and stops at
   * SPLIT_WALK_HARD_MAX reads or at the end of the chain, and then gives up on
   * the queue without a report (it never noticed what was wrong). */
  const bool loop_check = !mut(vq, VSIM_MUT_DEV_NO_LOOP_CHECK);
  uint64_t table = vq->desc; /* current table: the queue's, then the indirect one */
  uint32_t tsize = size;     /* entries in the current table */
  bool in_indirect = false;
  uint32_t idx = head;
  uint32_t nseg = 0, nread = 0, walked = 0;
  uint64_t rd = 0, wr = 0;
  bool seen_write = false;
  vsim_seg *segs = vq->segs;
  uint64_t itable = 0, itable_len = 0; /* the chain's indirect table, if any */

  for (;;) {
    if (nseg >= size && loop_check)
      return violate(vq, VSIM_CHK_SPLIT_CHAIN_LOOP,
                     "chain from head %u has more than %u (queue size) descriptors: a loop?",
                     head, size);
    if (walked++ >= SPLIT_WALK_HARD_MAX) {
      vq->broken = true; /* only the mutant gets here (see above) */
      return -1;
    }
    uint8_t d[DESC_SIZE];
    if (in_indirect) {
      /* the whole table was checked readable when it was entered */
      if (vsim_arena_get(vq->arena, VSIM_SIDE_DEVICE, table + DESC_SIZE * idx, d, sizeof d))
        return violate(vq, VSIM_CHK_SPLIT_DESC_ADDR, "indirect table entry %u unreadable",
                       idx);
    } else if (ring_read(vq, table, DESC_SIZE * idx, d, sizeof d, "descriptor table")) {
      return -1;
    }
    const uint64_t addr = vsim_le_ld64(d + offsetof(struct vring_desc, addr));
    const uint32_t len = vsim_le_ld32(d + offsetof(struct vring_desc, len));
    const uint16_t flags = vsim_le_ld16(d + offsetof(struct vring_desc, flags));
    const uint16_t next = vsim_le_ld16(d + offsetof(struct vring_desc, next));

    if (flags & VRING_DESC_F_INDIRECT) {
      if (in_indirect)
        return violate(vq, VSIM_CHK_INDIR_NESTED,
                       "entry %u of the indirect table of head %u has INDIRECT set", idx,
                       head);
      if (!vq->indirect)
        return violate(vq, VSIM_CHK_INDIR_NOT_NEG,
                       "descriptor %u (head %u) is INDIRECT but INDIRECT_DESC was not negotiated",
                       idx, head);
      /* the mutants: a device that refuses what the spec says it MUST take
       * (it stops the queue without blaming the driver) */
      if ((mut(vq, VSIM_MUT_DEV_INDIRECT_WRITE_FLAG) && (flags & VRING_DESC_F_WRITE)) ||
          (mut(vq, VSIM_MUT_DEV_INDIRECT_NOT_HEAD) && nseg > 0)) {
        vq->broken = true;
        return -1;
      }
      if (flags & VRING_DESC_F_NEXT)
        return violate(vq, VSIM_CHK_INDIR_WITH_NEXT,
                       "descriptor %u (head %u) has both INDIRECT and NEXT", idx, head);
      if (len == 0 || len % DESC_SIZE != 0 || len / DESC_SIZE > size)
        return violate(vq, VSIM_CHK_INDIR_LEN,
                       "indirect table len %u (descriptor %u, head %u): not a non-zero "
                       "multiple of 16 of at most %u entries",
                       len, idx, head, size);
      if (!vsim_arena_ok(vq->arena, VSIM_SIDE_DEVICE, addr, len, VSIM_ACC_READ))
        return violate(vq, VSIM_CHK_SPLIT_DESC_ADDR,
                       "indirect table 0x%llx+%u (descriptor %u, head %u) %s",
                       (unsigned long long)addr, len, idx, head,
                       addr + len < addr ? "wraps the address space" : "is outside guest memory");
      /* The WRITE flag of this descriptor is ignored (the spec says the
       * device MUST): it describes the table, not a buffer. The indirect
       * descriptor ends the queue-table part of the chain. */
      table = addr;
      tsize = len / (uint32_t)DESC_SIZE;
      itable = addr;
      itable_len = len;
      in_indirect = true;
      idx = 0;
      continue;
    }

    const bool w = (flags & VRING_DESC_F_WRITE) != 0;
    if (w) {
      seen_write = true;
    } else if (seen_write) {
      return violate(vq, VSIM_CHK_SPLIT_RD_AFTER_WR,
                     "readable %sdescriptor %u follows a writable one (head %u)",
                     in_indirect ? "indirect " : "", idx, head);
    }
    /* The direction checked is the one the descriptor grants the device:
     * a readable buffer in memory the device may not read is as bad as one
     * outside RAM. Zero-length buffers are kept (harmless, and they cannot
     * extend the walk: the segment bound above counts them). */
    if (!vsim_arena_ok(vq->arena, VSIM_SIDE_DEVICE, addr, len,
                          w ? VSIM_ACC_WRITE : VSIM_ACC_READ))
      return violate(vq, VSIM_CHK_SPLIT_DESC_ADDR,
                     "%s buffer 0x%llx+%u (%sdescriptor %u, head %u) %s",
                     w ? "writable" : "readable", (unsigned long long)addr, len,
                     in_indirect ? "indirect " : "", idx, head,
                     len && addr + len - 1 < addr ? "wraps the address space"
                                                  : "is outside guest memory or not accessible");
    /* At most size * (2^32 - 1) < 2^47 (the mutant: SPLIT_WALK_HARD_MAX *
     * (2^32 - 1) < 2^52): the sum cannot overflow. */
    if (w)
      wr += len;
    else
      rd += len;
    if (rd + wr > CHAIN_MAX_BYTES)
      return violate(vq, VSIM_CHK_SPLIT_CHAIN_BYTES,
                     "chain from head %u holds more than 2^32 bytes", head);
    if (nseg < size) { /* always, unless the mutant walks past the bound */
      segs[nseg].gpa = addr;
      segs[nseg].len = len;
      segs[nseg].write = w;
    }
    nseg++;
    nread += !w;

    if (!(flags & VRING_DESC_F_NEXT)) break;
    if (next >= tsize)
      return violate(vq, VSIM_CHK_SPLIT_NEXT_RANGE,
                     "%sdescriptor %u (head %u) has next %u, table holds %u",
                     in_indirect ? "indirect " : "", idx, head, next, tsize);
    /* IN_ORDER: descriptors are used in table order, next = x + 1 (0 after
     * the last one in the queue's table; never wrapping inside a table) */
    if (vq->in_order) {
      uint32_t want = in_indirect ? idx + 1u : (idx + 1u) % size;
      if (next != want)
        return violate(vq, in_indirect ? VSIM_CHK_INDIR_INORDER_NEXT : VSIM_CHK_SPLIT_INORDER_NEXT,
                       "%sdescriptor %u (head %u) has next %u, IN_ORDER wants %u",
                       in_indirect ? "indirect " : "", idx, head, next, want);
    }
    idx = next;
  }
  if (nseg > size) {
    /* the mutant reached the end of a chain longer than the queue: segs[]
     * holds only part of it, so it cannot be served */
    vq->broken = true;
    return -1;
  }

  /* Every buffer is valid guest memory; now what the device will write must
   * not be something it must never write: a device-readable buffer of this
   * chain, a descriptor table (the queue's or this chain's indirect table),
   * or a ring of a live queue (its own used ring included, which the device
   * writes itself and a buffer write would corrupt). */
  vsim_overlap ov;
  const vsim_ring_guard guards[2] = {{vq->own, 3}, vq->guard ? *vq->guard : (vsim_ring_guard){NULL, 0}};
  if (!mut(vq, VSIM_MUT_DEV_TRUST_BUFFERS) && /* the mutant carries them out */
      vsim_chain_write_overlap(segs, nseg, nread, guards, 2, 1u << 2, itable, itable_len, vq->scratch, &ov)) {
    const vsim_seg *ws = &segs[ov.seg];
    if (ov.what == 4)
      return violate(vq, VSIM_CHK_SPLIT_WRITE_OVERLAP,
                     "readable buffer 0x%llx+%u (chain of head %u) overlaps the %s of queue %u, which the "
                     "device writes itself",
                     (unsigned long long)ws->gpa, ws->len, head, vsim_ring_part_name(&ov.part, false), ov.part.q);
    if (ov.what == 1)
      return violate(vq, VSIM_CHK_SPLIT_WRITE_OVERLAP,
                     "writable buffer 0x%llx+%u (chain of head %u) overlaps the %s of queue %u "
                     "(0x%llx+%llu)",
                     (unsigned long long)ws->gpa, ws->len, head, vsim_ring_part_name(&ov.part, false),
                     ov.part.q, (unsigned long long)ov.part.gpa, (unsigned long long)ov.part.len);
    return violate(vq, VSIM_CHK_SPLIT_WRITE_OVERLAP,
                   "writable buffer 0x%llx+%u (chain of head %u) overlaps %s", (unsigned long long)ws->gpa,
                   ws->len, head,
                   ov.what == 2 ? "the chain's own indirect table" : "a device-readable buffer of the same chain");
  }

  out->head = head;
  out->nseg = nseg;
  out->nread = nread;
  out->rd_bytes = rd;
  out->wr_bytes = wr;
  out->seg = segs;
  vq->head_inflight[head] = 1;
  if (vq->in_order) vq->popped[vq->next_avail % size] = head;
  vq->next_avail++;
  vq->avail_ahead--; /* >= 1: avail_count just saw this entry */
  vq->inflight++;
  emit(vq, VSIM_EV_POP, head, nseg, rd, wr);
  return 1;
}

/* ---- used ring ------------------------------------------------------------- */

int vsim_vq_dev_push(vsim_vq_dev *vq, uint16_t head, uint32_t len) {
  /* A head the device never got from the ring is a device-model bug, not
   * guest input: refuse it rather than index head_inflight with it. */
  if (head >= vq->size) return -1;
  /* IN_ORDER: push number next_used must complete pop number next_used (the
   * spec: the device MUST use buffers in the order they were made available).
   * Anything else is again the model's bug, refused before any ring write, so
   * the driver never sees it; the device core completes in pop order. */
  if (vq->in_order && (vq->inflight == 0 || !vq->head_inflight[head] ||
                       vq->popped[vq->next_used % vq->size] != head))
    return -1;
  uint32_t id = head;
  uint32_t wlen = len;
  if (mut(vq, VSIM_MUT_DEV_IN_ORDER_SWAP) && vq->in_order && vq->inflight >= 2)
    id = vq->popped[(vq->next_used + 1u) % vq->size]; /* a younger chain's head first */
  if (mut(vq, VSIM_MUT_DEV_USED_ID_RANGE)) id = (uint32_t)vq->size + 3u;
  if (mut(vq, VSIM_MUT_DEV_USED_LEN_OVER)) wlen = len + 100u;
  int copies = 1;
  if (mut(vq, VSIM_MUT_DEV_USED_ID_DUP)) {
    /* the first completion is remembered; the second one reports that stale
     * id again instead of its own (a duplicate completion the driver must catch) */
    if (vq->dup_state == 0) {
      vq->dup_head = head;
      vq->dup_state = 1;
    } else if (vq->dup_state == 1 && head != vq->dup_head) {
      id = vq->dup_head;
      vq->dup_state = 2;
    }
  }
  if (vq->in_order && vq->batch) {
    /* Recorded only: publish writes the batch's one element. The position is
     * taken now (next_used counts used positions, batched or not), so the
     * device core's "anything unpublished?" test still sees it. The event is
     * per buffer: each one is used, and observers track buffers, not elements. */
    vq->batch_n++;
    vq->batch_id = id;
    vq->batch_len = wlen;
    vq->next_used++;
    emit(vq, VSIM_EV_USED, id, wlen, 0, 0);
  } else {
    uint8_t e[USED_ELEM_SIZE];
    vsim_le_st32(e + offsetof(struct vring_used_elem, id), id);
    vsim_le_st32(e + offsetof(struct vring_used_elem, len), wlen);
    for (int i = 0; i < copies; i++) {
      const uint32_t slot = vq->next_used % vq->size;
      /* one 8-byte write: the driver never sees a half-written element once
       * used.idx covers it (publish writes used.idx only after this) */
      if (ring_write(vq, USED_RING_OFF + USED_ELEM_SIZE * slot, e, sizeof e)) return -1;
      vq->next_used++;
      emit(vq, VSIM_EV_USED, id, wlen, 0, 0);
    }
  }
  if (vq->head_inflight[head]) {
    vq->head_inflight[head] = 0;
    vq->inflight--;
  }
  if (mut(vq, VSIM_MUT_DEV_WRITE_DESC)) {
    /* the device writes the descriptor table (the completed head's `next`,
     * which nobody reads until the driver rewrites the descriptor) */
    uint64_t at = vq->desc + DESC_SIZE * head + offsetof(struct vring_desc, next);
    uint8_t b[2];
    if (vsim_arena_read(vq->arena, VSIM_SIDE_DEVICE, at, b, sizeof b) == 0) {
      b[1] ^= 0x80;
      vsim_arena_write(vq->arena, VSIM_SIDE_DEVICE, at, b, sizeof b);
    }
  }
  return 0;
}

/* Write the element of the open IN_ORDER batch: at the used slot of its first
 * buffer (the spec: "at an offset matching the first available ring entry in
 * the batch"), with the id and len of its last one. Not visible to the driver
 * until used.idx covers it. */
static int flush_batch(vsim_vq_dev *vq) {
  if (vq->batch_n == 0) return 0;
  const uint32_t slot = (vq->next_used - vq->batch_n) % vq->size;
  vq->batch_n = 0;
  uint8_t e[USED_ELEM_SIZE];
  vsim_le_st32(e + offsetof(struct vring_used_elem, id), vq->batch_id);
  vsim_le_st32(e + offsetof(struct vring_used_elem, len), vq->batch_len);
  return ring_write(vq, USED_RING_OFF + USED_ELEM_SIZE * slot, e, sizeof e);
}

void vsim_vq_dev_set_in_order_batch(vsim_vq_dev *vq, bool on) {
  /* an open batch is closed where it stands: later pushes go after it */
  if (!on) (void)flush_batch(vq); /* a failed write was reported and broke the queue */
  vq->batch = on;
}

bool vsim_vq_dev_publish(vsim_vq_dev *vq) {
  const uint32_t old = vq->published_used;
  /* an IN_ORDER batch's element goes in before the used.idx that covers it */
  const bool batch_ok = flush_batch(vq) == 0;
  uint32_t nw = vq->next_used;
  if (mut(vq, VSIM_MUT_DEV_USED_IDX_JUMP)) nw++; /* one entry that was never written */
  bool need = false;
  /* Nothing new: no write, no event, and no interrupt (there is nothing for
   * the driver to see). */
  if (nw != old && batch_ok) {
    /* used.idx is written after every element it covers (push wrote them):
     * the driver reads idx, then elements. */
    if (ring_write16(vq, USED_IDX_OFF, (uint16_t)nw) == 0) {
      vq->published_used = nw;
      emit(vq, VSIM_EV_USED_PUBLISH, (uint16_t)old, (uint16_t)nw, 0, 0);
      /* The suppression field is read once, and only after used.idx is
       * written: this is the device half of the store-then-load pair with
       * the driver (it writes used_event / flags, then re-reads used.idx),
       * which is what keeps an interrupt from being lost on either side. */
      uint8_t b[2];
      if (!vq->event_idx) {
        if (ring_read(vq, vq->avail, AVAIL_FLAGS_OFF, b, sizeof b, "available ring"))
          need = true; /* cannot read the driver's wish: rather spurious than lost */
        else
          need = !(vsim_le_ld16(b) & VRING_AVAIL_F_NO_INTERRUPT); /* other bits: ignored */
      } else {
        if (ring_read(vq, vq->avail, AVAIL_RING_OFF + AVAIL_ENTRY_SIZE * vq->size, b,
                      sizeof b, "available ring (used_event)")) {
          need = true;
        } else {
          /* Interrupt when used_event lies in the window [old, new) of
           * entries published since the last decision, i.e. the driver asked
           * to hear about entry number used_event and it is now visible.
           * Modulo 2^16: new - event - 1 counts how far past the requested
           * entry new is; it must be less than the window width. */
          const uint16_t ev = vsim_le_ld16(b);
          const uint16_t n16 = (uint16_t)nw, o16 = (uint16_t)old;
          need = (uint16_t)(n16 - ev - 1u) < (uint16_t)(n16 - o16);
        }
      }
    }
  }
  if (mut(vq, VSIM_MUT_DEV_SKIP_IRQ)) return false;
  if (mut(vq, VSIM_MUT_DEV_IRQ_ALWAYS)) return true;
  return need;
}

/* ---- available-buffer notification suppression ------------------------------ */

void vsim_vq_dev_set_notify(vsim_vq_dev *vq, bool enable) {
  if (enable && !vq->notify_enabled && mut(vq, VSIM_MUT_DEV_NO_REENABLE)) return;
  uint16_t ev = 0;
  if (!vq->event_idx) {
    if (ring_write16(vq, USED_FLAGS_OFF, enable ? 0 : VRING_USED_F_NO_NOTIFY)) return;
  } else {
    /* With EVENT_IDX used.flags must stay 0 (the mutant breaks exactly that). */
    uint16_t fl = mut(vq, VSIM_MUT_DEV_USED_FLAGS) ? VRING_USED_F_NO_NOTIFY : 0;
    if (ring_write16(vq, USED_FLAGS_OFF, fl)) return;
    if (enable) {
      /* Ask for a kick when the driver makes entry next_avail available,
       * i.e. on its next publish past what the device has consumed. The
       * caller re-checks avail_count after enabling (a publish that raced
       * with this write may not have kicked). */
      ev = (uint16_t)vq->next_avail;
      if (ring_write16(vq, USED_RING_OFF + USED_ELEM_SIZE * vq->size, ev)) return;
    }
    /* Disabling leaves avail_event where the last enable put it, at or
     * behind next_avail. Once the driver has published past that index its
     * kick test (is avail_event inside the window it just published?) stays
     * false until avail.idx comes round 2^16 entries, which cannot happen
     * before the device drains the ring and re-enables. If the driver has not
     * published past it yet, its next publish kicks once: that is the kick
     * avail_event asked for, not a spurious one. Either way, writing nothing
     * keeps the device's writes to what the protocol needs. */
  }
  vq->notify_enabled = enable;
  emit(vq, VSIM_EV_NOTIFY_ENABLE, enable ? 1 : 0, ev, 0, 0);
}
