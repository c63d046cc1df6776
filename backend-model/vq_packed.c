/* backend-model/vq_packed.c — the device side of a packed virtqueue (see vq_packed.h).
 *
 * Owns: validating the lists the driver makes available in the descriptor
 * ring (each malformed class is one violation with its check id, and the
 * queue is then broken), writing one used descriptor per list in completion
 * order, the device event suppression structure (kicks) and the interrupt
 * decision from the driver event suppression structure.
 * Must never: read a guest field twice for one decision, look past a
 * descriptor whose flags do not say "available" for the current wrap, walk
 * more than O(queue size) descriptors per pop, allocate or format on the hot
 * path (only when reporting a violation), or touch guest memory except through
 * the arena's checked accessors on the device side. A broken queue does not
 * touch guest memory at all.
 *
 * Layout (struct vring_packed_desc, struct vring_packed_desc_event, flag bit
 * numbers) comes from the kernel UAPI <linux/virtio_ring.h>; values in guest
 * memory are little-endian and decoded byte by byte.
 *
 * Ring positions are (offset, wrap counter) pairs; where a linear order is
 * needed (the interrupt window) a position is mapped onto a circle of
 * 2 * size slots: offset + (wrap ? 0 : size). Both wrap counters start at 1,
 * so lap 0 is [0, size), lap 1 is [size, 2 size), lap 2 is lap 0 again.
 *
 * Guest reads and writes of ring structures are checked with vsim_arena_check
 * first: a ring the driver placed outside guest memory is the *driver's*
 * error (PACKED_DESC_ADDR), and pre-checking keeps the arena's fault sink
 * (which reports device out-of-bounds accesses) from blaming the device.
 *
 * Decisions the spec leaves open (documented here, tested in
 * tests/c/test_vq_packed_dev.c):
 * - INDIRECT combined with NEXT in the ring, or an INDIRECT descriptor after
 *   the first one of a NEXT chain, is PACKED_INDIR_FLAGS: in the packed ring
 *   a list is either direct descriptors or exactly one indirect descriptor
 *   (the driver MUST NOT put INDIRECT into a NEXT-linked list).
 * - Inside an indirect table entries are consumed by count (len / 16), not by
 *   NEXT; any flag bit other than WRITE there is PACKED_INDIR_FLAGS (the
 *   driver MUST NOT set them). The entries' ids are ignored (reserved).
 * - Driver event flags: DESC without EVENT_IDX, the reserved value 3, and a
 *   DESC offset >= queue size are all treated as ENABLE: an interrupt is
 *   never suppressed for ever by a value the device cannot honour (PEERS P5);
 *   at worst it is spurious. Reserved bits 2..15 of the flags are ignored.
 * - The DESC window is [old, new): the positions the device used since the
 *   last decision, old included (vring_need_event: the driver asks to hear
 *   about the descriptor at the event position, e.g. the next one it has not
 *   reaped, so an event equal to the old position MUST interrupt; one equal
 *   to the new position is not yet reached).
 * - A used descriptor gets VRING_DESC_F_WRITE when len != 0: in a used
 *   descriptor the bit says whether the device wrote any data, and len is
 *   reserved (ignored by drivers) without it.
 * - NOTIFICATION_DATA: a notified position `size` positions ahead of
 *   next_avail is a full ring, not a stale value (the two cannot be told
 *   apart on the 2 * size circle, and the full ring is legitimate); a
 *   position further round is behind. A claim is checked lazily, as pops
 *   reach it: the descriptor at next_avail must be available while the claim
 *   lies ahead. A list that runs past the claimed position ends the claim
 *   (the notification may be older than the list's last descriptors).
 * - IN_ORDER (spec "In-order use of descriptors"): push number n must be pop
 *   number n (`popped` remembers the ids). A batch's used descriptor overwrites
 *   the first descriptor of the batch's first list, with the wrap counter of
 *   that position; the batch's other descriptors keep the driver's available
 *   marks, and both sides skip them by the lengths they recorded. An open
 *   batch is not written once the queue is broken (a broken queue touches no
 *   guest memory): its completions are lost with the reset that follows, and
 *   its positions are taken back, so that the publish (and its
 *   VSIM_EV_USED_PUBLISH) never announces used descriptors that are not there.
 */
#include "arena_fast.h"
#include "host_report.h"
#include "le.h"
#include "vq_packed.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"

#define DESC_SIZE ((uint64_t)sizeof(struct vring_packed_desc))
#define D_ADDR ((size_t)offsetof(struct vring_packed_desc, addr))
#define D_LEN ((size_t)offsetof(struct vring_packed_desc, len))
#define D_ID ((size_t)offsetof(struct vring_packed_desc, id))
#define D_FLAGS ((size_t)offsetof(struct vring_packed_desc, flags))
#define EV_OFF_WRAP ((uint64_t)offsetof(struct vring_packed_desc_event, off_wrap))
#define EV_FLAGS ((uint64_t)offsetof(struct vring_packed_desc_event, flags))
#define EV_SIZE ((uint64_t)sizeof(struct vring_packed_desc_event))

_Static_assert(sizeof(struct vring_packed_desc) == 16, "packed descriptor is 16 bytes");
_Static_assert(sizeof(struct vring_packed_desc_event) == 4, "event structure is 4 bytes");
_Static_assert(offsetof(struct vring_packed_desc, id) + 2 ==
                   offsetof(struct vring_packed_desc, flags),
               "flags follow id");
_Static_assert(offsetof(struct vring_packed_desc, len) + 4 ==
                   offsetof(struct vring_packed_desc, id),
               "id follows len");

/* The UAPI gives bit numbers for these two. */
#define F_AVAIL ((uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL))
#define F_USED ((uint16_t)(1u << VRING_PACKED_DESC_F_USED))
#define EV_WRAP_BIT ((uint16_t)(1u << VRING_PACKED_EVENT_F_WRAP_CTR))
#define EV_FLAGS_MASK 0x3u /* desc_event_flags : 2; the rest is reserved */

#define PACKED_MAX_QUEUE 32768u
#define LIST_MAX_BYTES (UINT64_C(1) << 32) /* spec: at most 2^32 bytes per list */
#define DESC_ALIGN 16u
#define EVENT_ALIGN 4u

/* ---- little helpers ------------------------------------------------------ */


static inline bool mut(const vsim_vqp_dev *vq, int m) { return vsim_mut_has(&vq->mutants, m); }

static inline void emit(const vsim_vqp_dev *vq, int kind, uint64_t a, uint64_t b, uint64_t c,
                        uint64_t d) {
  if (vq->host->event) vq->host->event(vq->host->ctx, kind, vq->q, a, b, c, d);
}

/* A descriptor is available for wrap counter w when AVAIL == w and USED == !w
 * (spec "Driver and Device Ring Wrap Counters"). Anything else — the zeroed
 * ring, a used descriptor, a stale one from the previous lap, both bits set —
 * is simply not available (PEERS P1). */
static inline bool desc_avail(uint16_t flags, bool wrap) {
  return ((flags & F_AVAIL) != 0) == wrap && ((flags & F_USED) != 0) != wrap;
}

/* Ring position as stored in event structures and trace events. */
static inline uint16_t pos16(uint16_t off, bool wrap) {
  return (uint16_t)(off | (wrap ? EV_WRAP_BIT : 0));
}

/* Advance (off, wrap) by n <= size ring slots: at most one lap boundary. */
static inline void advance(uint16_t *off, bool *wrap, uint32_t n, uint32_t size) {
  uint32_t o = (uint32_t)*off + n;
  if (o >= size) {
    o -= size;
    *wrap = !*wrap;
  }
  *off = (uint16_t)o;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
/* Report one violation, break the queue, return -1. The only place that
 * formats text: it runs once per queue lifetime at most. */
static int violate(vsim_vqp_dev *vq, int check, const char *fmt, ...) {
  char detail[VSIM_VIOLATION_DETAIL_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  vq->broken = true;
  if (vq->host->violation) vq->host->violation(vq->host->ctx, check, vq->q, detail);
  return -1;
}

/* base+off of a driver-placed part, checked for `access` before the copy (see
 * the file comment). A part whose addresses wrap 2^64 must not alias guest
 * address 0. */
static int guest_at(vsim_vqp_dev *vq, uint64_t base, uint64_t off, uint64_t len,
                    unsigned access, const char *what, uint64_t *gpa) {
  if (off > UINT64_MAX - base ||
      !vsim_arena_ok(vq->arena, VSIM_SIDE_DEVICE, base + off, len, access))
    return violate(vq, VSIM_CHK_PACKED_DESC_ADDR,
                   "%s outside guest memory (or not %s by the device): 0x%llx+0x%llx "
                   "(%llu bytes)",
                   what, access == VSIM_ACC_WRITE ? "writable" : "readable",
                   (unsigned long long)base, (unsigned long long)off,
                   (unsigned long long)len);
  *gpa = base + off;
  return 0;
}

static int guest_read(vsim_vqp_dev *vq, uint64_t base, uint64_t off, void *dst, uint64_t len,
                      const char *what) {
  uint64_t gpa = 0;
  if (guest_at(vq, base, off, len, VSIM_ACC_READ, what, &gpa)) return -1;
  return vsim_arena_get(vq->arena, VSIM_SIDE_DEVICE, gpa, dst, len) ? -1 : 0;
}

static int guest_write(vsim_vqp_dev *vq, uint64_t base, uint64_t off, const void *src,
                       uint64_t len, const char *what) {
  uint64_t gpa = 0;
  if (guest_at(vq, base, off, len, VSIM_ACC_WRITE, what, &gpa)) return -1;
  return vsim_arena_put(vq->arena, VSIM_SIDE_DEVICE, gpa, src, len) ? -1 : 0;
}

static int ring_write16(vsim_vqp_dev *vq, uint64_t base, uint64_t off, uint16_t v,
                        const char *what) {
  uint8_t b[2];
  vsim_le_st16(b, v);
  return guest_write(vq, base, off, b, sizeof b, what);
}

/* One read of the whole descriptor at ring offset `off`: a 16-byte snapshot.
 * Every field the pop uses comes from this copy, so a driver rewriting the
 * descriptor cannot make the device validate one value and use another. In
 * the simulator the copy is one access; a device on real hardware would read
 * flags, then rmb, then the body (PEERS B5'), pairing with the driver's wmb
 * before it writes the first descriptor's flags (B5). */
static int read_desc(vsim_vqp_dev *vq, uint32_t off, uint8_t d[DESC_SIZE]) {
  return guest_read(vq, vq->desc, DESC_SIZE * off, d, DESC_SIZE, "descriptor ring");
}

/* ---- set-up -------------------------------------------------------------- */

int vsim_vqp_dev_init(vsim_vqp_dev *vq, const vsim_host *host, int q,
                      const vsim_queue_cfg *cfg, uint64_t features, vsim_mutset mutants) {
  memset(vq, 0, sizeof *vq);
  /* size 0 leaves nothing to index; packed rings hold at most 2^15 entries
   * (the event offset has 15 bits). Sizes need not be powers of two. */
  if (!host || !cfg || cfg->size == 0 || cfg->size > PACKED_MAX_QUEUE) return -1;
  vq->host = host;
  vq->arena = host->arena;
  vq->q = q;
  vq->size = cfg->size;
  vq->desc = cfg->desc;
  vq->driver_evt = cfg->driver;
  vq->device_evt = cfg->device;
  vq->event_idx = (features >> VIRTIO_RING_F_EVENT_IDX) & 1u;
  vq->indirect = (features >> VIRTIO_RING_F_INDIRECT_DESC) & 1u;
  vq->in_order = (features >> VIRTIO_F_IN_ORDER) & 1u;
  vq->mutants = mutants;
  /* spec: both wrap counters start at 1 */
  vq->avail_wrap = vq->used_wrap = vq->signalled_wrap = true;
  vq->notify_enabled = true;
  /* Sized up front: a pop never allocates, and a validated list never has
   * more than `size` buffers (direct: at most size ring descriptors; indirect:
   * at most size table entries), so segs[size] always suffices. */
  vq->id_ndescs = calloc(cfg->size, sizeof *vq->id_ndescs);
  vq->segs = calloc(cfg->size, sizeof *vq->segs);
  vq->scratch = calloc(cfg->size, sizeof *vq->scratch);
  /* at most `size` distinct ids are in flight */
  if (vq->in_order) vq->popped = calloc(cfg->size, sizeof *vq->popped);
  if (mut(vq, VSIM_MUT_DEV_PACKED_TAKE_SKIP)) vq->sk_segs = calloc(cfg->size, sizeof *vq->sk_segs);
  if (!vq->id_ndescs || !vq->segs || !vq->scratch || (vq->in_order && !vq->popped) ||
      (mut(vq, VSIM_MUT_DEV_PACKED_TAKE_SKIP) && !vq->sk_segs)) {
    vsim_vqp_dev_fini(vq);
    return -1;
  }
  /* What no device-writable buffer may overlap (see chain.h). */
  const uint16_t q16 = (uint16_t)(q < 0 ? 0 : q);
  vq->own[0] = (vsim_ring_part){vq->desc, DESC_SIZE * cfg->size, q16, 0};
  vq->own[1] = (vsim_ring_part){vq->driver_evt, EV_SIZE, q16, 1};
  vq->own[2] = (vsim_ring_part){vq->device_evt, EV_SIZE, q16, 2};
  /* Checked once: the addresses cannot change while the queue is live. */
  if (vq->desc % DESC_ALIGN || vq->driver_evt % EVENT_ALIGN || vq->device_evt % EVENT_ALIGN)
    violate(vq, VSIM_CHK_PACKED_ALIGN,
            "packed ring misaligned: desc 0x%llx (16), driver event 0x%llx (4), "
            "device event 0x%llx (4)",
            (unsigned long long)vq->desc, (unsigned long long)vq->driver_evt,
            (unsigned long long)vq->device_evt);
  return 0;
}

void vsim_vqp_dev_set_guard(vsim_vqp_dev *vq, const vsim_ring_guard *guard) { vq->guard = guard; }

void vsim_vqp_dev_fini(vsim_vqp_dev *vq) {
  free(vq->id_ndescs);
  free(vq->segs);
  free(vq->scratch);
  vq->scratch = NULL;
  free(vq->popped);
  free(vq->sk_segs);
  vq->sk_segs = NULL;
  vq->id_ndescs = NULL;
  vq->segs = NULL;
  vq->popped = NULL;
}

/* ---- available descriptors ------------------------------------------------ */

int vsim_vqp_dev_has_avail(vsim_vqp_dev *vq) {
  if (vq->broken) return -1;
  if (vq->sk_state == 1) return 1; /* the mutant still owes the list it skipped */
  uint8_t b[2];
  if (guest_read(vq, vq->desc, DESC_SIZE * vq->next_avail + D_FLAGS, b, sizeof b,
                 "descriptor ring"))
    return -1;
  return desc_avail(vsim_le_ld16(b), vq->avail_wrap) ? 1 : 0;
}

/* Running totals of the list being popped. */
typedef struct walk {
  uint32_t nseg, nread;
  uint64_t rd, wr;
  bool seen_write;
} walk;

/* Validate one buffer element and append it. `ent` is the indirect table
 * entry index, or -1 for a ring descriptor; `off` the ring offset of the
 * descriptor (the indirect one for table entries). */
static int take(vsim_vqp_dev *vq, walk *w, uint64_t addr, uint32_t len, bool write, long ent,
                uint32_t off) {
  if (write) {
    w->seen_write = true;
  } else if (w->seen_write) {
    if (ent >= 0)
      return violate(vq, VSIM_CHK_PACKED_RD_AFTER_WR,
                     "readable indirect entry %ld (ring offset %u) follows a writable one", ent,
                     off);
    return violate(vq, VSIM_CHK_PACKED_RD_AFTER_WR,
                   "readable descriptor at ring offset %u follows a writable one", off);
  }
  /* The direction checked is the one the descriptor grants the device: a
   * readable buffer in memory the device may not read is as bad as one
   * outside RAM. Zero-length elements are kept (harmless; they cannot extend
   * the walk, which is bounded by descriptors, not bytes). */
  if (!vsim_arena_ok(vq->arena, VSIM_SIDE_DEVICE, addr, len,
                        write ? VSIM_ACC_WRITE : VSIM_ACC_READ)) {
    const char *why = len && addr + len - 1 < addr ? "wraps the address space"
                                                   : "is outside guest memory or not accessible";
    if (ent >= 0)
      return violate(vq, VSIM_CHK_PACKED_DESC_ADDR,
                     "%s buffer 0x%llx+%u (indirect entry %ld, ring offset %u) %s",
                     write ? "writable" : "readable", (unsigned long long)addr, len, ent, off,
                     why);
    return violate(vq, VSIM_CHK_PACKED_DESC_ADDR, "%s buffer 0x%llx+%u (ring offset %u) %s",
                   write ? "writable" : "readable", (unsigned long long)addr, len, off, why);
  }
  /* At most size * (2^32 - 1) < 2^47: the sums cannot overflow. */
  if (write)
    w->wr += len;
  else
    w->rd += len;
  if (w->rd + w->wr > LIST_MAX_BYTES)
    return violate(vq, VSIM_CHK_PACKED_LIST_LONG,
                   "list at ring offset %u holds more than 2^32 bytes", vq->next_avail);
  /* Cannot trigger (callers bound the count by size), kept so that segs[]
   * is never overrun whatever a future caller does. */
  if (w->nseg >= vq->size)
    return violate(vq, VSIM_CHK_PACKED_LIST_LONG,
                   "list at ring offset %u has more than %u (queue size) elements",
                   vq->next_avail, vq->size);
  vq->segs[w->nseg].gpa = addr;
  vq->segs[w->nseg].len = len;
  vq->segs[w->nseg].write = write;
  w->nseg++;
  w->nread += !write;
  return 0;
}

/* The one indirect descriptor of a list (at ring offset `off`): validate the
 * table and take its entries, in order, by count. */
static int take_indirect(vsim_vqp_dev *vq, walk *w, uint64_t addr, uint32_t len, uint32_t off) {
  const uint32_t size = vq->size;
  if (len == 0 || len % DESC_SIZE != 0 || len / DESC_SIZE > size)
    return violate(vq, VSIM_CHK_PACKED_INDIR_LEN,
                   "indirect table len %u (ring offset %u): not a non-zero multiple of 16 "
                   "of at most %u entries",
                   len, off, size);
  if (!vsim_arena_ok(vq->arena, VSIM_SIDE_DEVICE, addr, len, VSIM_ACC_READ))
    return violate(vq, VSIM_CHK_PACKED_DESC_ADDR, "indirect table 0x%llx+%u (ring offset %u) %s",
                   (unsigned long long)addr, len, off,
                   addr + len < addr ? "wraps the address space" : "is outside guest memory");
  /* The WRITE flag of the indirect descriptor itself is reserved and ignored:
   * it describes the table, not a buffer. Bounded: len / 16 <= size entries. */
  const uint32_t n = len / (uint32_t)DESC_SIZE;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t e[DESC_SIZE];
    /* the whole table was checked readable above */
    if (vsim_arena_get(vq->arena, VSIM_SIDE_DEVICE, addr + DESC_SIZE * i, e, sizeof e))
      return violate(vq, VSIM_CHK_PACKED_DESC_ADDR, "indirect entry %u unreadable", i);
    const uint16_t ef = vsim_le_ld16(e + D_FLAGS);
    /* Only WRITE is valid in a table (NEXT, INDIRECT, AVAIL, USED and the
     * reserved bits are not): entries are consumed by count, and nesting is
     * not allowed. The entry's id is reserved and ignored. */
    if (ef & (uint16_t)~VRING_DESC_F_WRITE)
      return violate(vq, VSIM_CHK_PACKED_INDIR_FLAGS,
                     "indirect entry %u (ring offset %u) has flags 0x%04x: only WRITE is valid",
                     i, off, ef);
    if (take(vq, w, vsim_le_ld64(e + D_ADDR), vsim_le_ld32(e + D_LEN), (ef & VRING_DESC_F_WRITE) != 0, (long)i,
             off))
      return -1;
  }
  return 0;
}

/* ---- notification data ----------------------------------------------------- */

/* A bad NOTIFICATION_DATA value: reported, and the queue goes on (the value
 * is a hint; the ring stays the authority). Only on the error path. */
#define notify_data_violation(vq, ...) vsim_host_reportf((vq)->host, VSIM_CHK_NOTIFY_DATA, (vq)->q, __VA_ARGS__)

/* How far position `pos` (offset < size | wrap << 15) lies ahead of the
 * device's next_avail, on the circle of 2 * size positions that one lap with
 * each wrap value makes (see the file comment). */
static uint32_t ahead_of_next(const vsim_vqp_dev *vq, uint16_t pos) {
  const uint32_t circle = 2u * vq->size;
  const uint32_t p = (pos & (uint16_t)~EV_WRAP_BIT) + ((pos & EV_WRAP_BIT) ? 0u : vq->size);
  const uint32_t n = vq->next_avail + (vq->avail_wrap ? 0u : vq->size);
  return (p + circle - n) % circle;
}

void vsim_vqp_dev_notify_data(vsim_vqp_dev *vq, uint16_t off_wrap) {
  if (vq->broken) return;
  const unsigned off = off_wrap & (uint16_t)~EV_WRAP_BIT, wrap = off_wrap >> 15;
  if (off >= vq->size) {
    notify_data_violation(vq, "notification names ring offset %u (wrap %u), outside a ring of %u",
                          off, wrap, vq->size);
    return;
  }
  /* At most `size` descriptors can be available ahead of the device; a
   * position further round the circle is behind it: already consumed. */
  const uint32_t a = ahead_of_next(vq, off_wrap);
  if (a > vq->size) {
    notify_data_violation(vq,
                          "notification names ring offset %u wrap %u, behind the device's next "
                          "descriptor %u wrap %u (already consumed)",
                          off, wrap, vq->next_avail, vq->avail_wrap ? 1u : 0u);
    return;
  }
  if (vq->nd_claim && a < ahead_of_next(vq, vq->nd_pos)) {
    notify_data_violation(vq, "notification names ring offset %u wrap %u, behind %u wrap %u named before",
                          off, wrap, vq->nd_pos & (uint16_t)~EV_WRAP_BIT, vq->nd_pos >> 15);
    return;
  }
  vq->nd_claim = true;
  vq->nd_pos = off_wrap;
}

/* ---- pop ------------------------------------------------------------------- */

static int pop_next(vsim_vqp_dev *vq, vsim_chain *out);

/* The mutant dev.packed-take-skip, once per queue: with two lists available
 * it takes the second first, then the first right after it (before any used
 * descriptor could overwrite it), returns them in that order and goes on
 * after the second: nothing lost, only the order of taking broken
 * (packed.dev-take-order). */
static int pop_skip(vsim_vqp_dev *vq, vsim_chain *out) {
  if (vq->sk_state == 1) {
    *out = vq->sk_chain; /* its segments are still in segs: no pop since */
    vq->sk_state = 2;
    return 1;
  }
  /* the first list's length in ring descriptors (bounded by the ring), and
   * whether a second one is available right after it */
  uint16_t off = vq->next_avail;
  bool wrap = vq->avail_wrap;
  uint8_t d[DESC_SIZE];
  uint32_t n = 0;
  for (;;) {
    if (n >= vq->size || read_desc(vq, off, d) || !desc_avail(vsim_le_ld16(d + D_FLAGS), wrap))
      return pop_next(vq, out);
    n++;
    advance(&off, &wrap, 1, vq->size);
    const uint16_t f = vsim_le_ld16(d + D_FLAGS);
    if ((f & VRING_DESC_F_INDIRECT) || !(f & VRING_DESC_F_NEXT)) break;
  }
  if (n >= vq->size || read_desc(vq, off, d) || !desc_avail(vsim_le_ld16(d + D_FLAGS), wrap))
    return pop_next(vq, out);
  const uint16_t first_off = vq->next_avail;
  const bool first_wrap = vq->avail_wrap;
  vq->next_avail = off;
  vq->avail_wrap = wrap;
  int r = pop_next(vq, out);
  if (r != 1) {
    vq->next_avail = first_off;
    vq->avail_wrap = first_wrap;
    return r;
  }
  memcpy(vq->sk_segs, out->seg, (size_t)out->nseg * sizeof *out->seg);
  out->seg = vq->sk_segs;
  const uint16_t res_off = vq->next_avail;
  const bool res_wrap = vq->avail_wrap;
  vq->next_avail = first_off;
  vq->avail_wrap = first_wrap;
  r = pop_next(vq, &vq->sk_chain);
  if (r < 0) return -1; /* broken, reported */
  vq->next_avail = res_off;
  vq->avail_wrap = res_wrap;
  vq->sk_state = 1;
  return 1;
}

int vsim_vqp_dev_pop(vsim_vqp_dev *vq, vsim_chain *out) {
  /* not with IN_ORDER: there a used descriptor of the second list would also
   * stand for the first (a batch), a different rule broken */
  if (mut(vq, VSIM_MUT_DEV_PACKED_TAKE_SKIP) && !vq->in_order && vq->sk_state != 2 && !vq->broken)
    return pop_skip(vq, out);
  return pop_next(vq, out);
}

static int pop_next(vsim_vqp_dev *vq, vsim_chain *out) {
  if (vq->broken) return -1; /* no guest access at all once broken */
  const uint32_t size = vq->size;
  uint16_t off = vq->next_avail;
  bool wrap = vq->avail_wrap;
  uint8_t d[DESC_SIZE];
  if (read_desc(vq, off, d)) return -1;
  uint16_t flags = vsim_le_ld16(d + D_FLAGS);
  /* What a notification claimed ahead of next_avail (0: nothing open). */
  const uint32_t claimed = vq->nd_claim ? ahead_of_next(vq, vq->nd_pos) : 0;
  /* The first descriptor's flags decide; nothing else of it is looked at
   * unless it is available for the current wrap. */
  if (!desc_avail(flags, wrap)) {
    if (claimed) /* the driver notified that it had made this one available */
      notify_data_violation(vq,
                            "notification named ring offset %u wrap %u as the next free descriptor, "
                            "but the one at %u wrap %u is not available (flags 0x%04x)",
                            vq->nd_pos & (uint16_t)~EV_WRAP_BIT, vq->nd_pos >> 15, off, wrap ? 1u : 0u,
                            flags);
    vq->nd_claim = false;
    return 0;
  }

  /* The walk: consecutive ring slots while NEXT is set, each descriptor one
   * snapshot. Bounded: at most `size` ring descriptors (checked before the
   * next read), plus at most `size` entries of one indirect table. */
  walk w = {0};
  uint32_t nring = 0;
  uint64_t itable = 0, itable_len = 0; /* the list's indirect table, if any */
  for (;;) {
    nring++;
    const uint64_t addr = vsim_le_ld64(d + D_ADDR);
    const uint32_t len = vsim_le_ld32(d + D_LEN);
    if (flags & VRING_DESC_F_INDIRECT) {
      if (!vq->indirect)
        return violate(vq, VSIM_CHK_PACKED_INDIR_NOT_NEG,
                       "descriptor at ring offset %u is INDIRECT but INDIRECT_DESC was not "
                       "negotiated",
                       off);
      /* An indirect descriptor is a whole list on its own. */
      if (nring > 1 || (flags & VRING_DESC_F_NEXT))
        return violate(vq, VSIM_CHK_PACKED_INDIR_FLAGS,
                       "INDIRECT descriptor at ring offset %u is part of a NEXT chain (%s)", off,
                       nring > 1 ? "not the first descriptor" : "NEXT set on it");
      itable = addr;
      itable_len = len;
      if (take_indirect(vq, &w, addr, len, off)) return -1;
      break;
    }
    if (take(vq, &w, addr, len, (flags & VRING_DESC_F_WRITE) != 0, -1, off)) return -1;
    if (!(flags & VRING_DESC_F_NEXT)) break;
    if (nring >= size)
      return violate(vq, VSIM_CHK_PACKED_LIST_LONG,
                     "list at ring offset %u has more than %u (queue size) descriptors",
                     vq->next_avail, size);
    advance(&off, &wrap, 1, size);
    if (read_desc(vq, off, d)) return -1;
    flags = vsim_le_ld16(d + D_FLAGS);
    /* The driver makes the first descriptor available last (spec, "Next
     * Flag"): once it is, every later one of the list must already be. */
    if (!desc_avail(flags, wrap))
      return violate(vq, VSIM_CHK_PACKED_PARTIAL,
                     "list at ring offset %u: descriptor %u at ring offset %u not available "
                     "(flags 0x%04x, wrap %d)",
                     vq->next_avail, nring, off, flags, wrap ? 1 : 0);
  }

  /* The buffer id is in the last descriptor of the list (the indirect one
   * for an indirect list); `d` holds it. It indexes a host array, so it is
   * range-checked before any use. */
  const uint16_t id = vsim_le_ld16(d + D_ID);
  if (id >= size)
    return violate(vq, VSIM_CHK_PACKED_ID_RANGE,
                   "list at ring offset %u has buffer id %u, queue size %u", vq->next_avail, id,
                   size);
  if (vq->id_ndescs[id])
    return violate(vq, VSIM_CHK_PACKED_ID_INFLIGHT,
                   "list at ring offset %u reuses buffer id %u, still in flight",
                   vq->next_avail, id);

  /* Every buffer is valid guest memory; what the device will write must not
   * be a device-readable buffer of this list, its indirect table, or a ring
   * part of a live queue (its own descriptor ring included: a buffer write
   * there would forge or destroy descriptors). */
  vsim_overlap ov;
  const vsim_ring_guard guards[2] = {{vq->own, 3}, vq->guard ? *vq->guard : (vsim_ring_guard){NULL, 0}};
  if (!mut(vq, VSIM_MUT_DEV_TRUST_BUFFERS) && /* the mutant carries them out */
      vsim_chain_write_overlap(vq->segs, w.nseg, w.nread, guards, 2, (1u << 0) | (1u << 2), itable, itable_len, vq->scratch, &ov)) {
    const vsim_seg *ws = &vq->segs[ov.seg];
    if (ov.what == 4)
      return violate(vq, VSIM_CHK_PACKED_WRITE_OVERLAP,
                     "readable buffer 0x%llx+%u (list at ring offset %u) overlaps the %s of queue %u, which the "
                     "device writes itself",
                     (unsigned long long)ws->gpa, ws->len, vq->next_avail, vsim_ring_part_name(&ov.part, true), ov.part.q);
    if (ov.what == 1)
      return violate(vq, VSIM_CHK_PACKED_WRITE_OVERLAP,
                     "writable buffer 0x%llx+%u (list at ring offset %u) overlaps the %s of queue %u "
                     "(0x%llx+%llu)",
                     (unsigned long long)ws->gpa, ws->len, vq->next_avail,
                     vsim_ring_part_name(&ov.part, true), ov.part.q, (unsigned long long)ov.part.gpa,
                     (unsigned long long)ov.part.len);
    return violate(vq, VSIM_CHK_PACKED_WRITE_OVERLAP,
                   "writable buffer 0x%llx+%u (list at ring offset %u) overlaps %s",
                   (unsigned long long)ws->gpa, ws->len, vq->next_avail,
                   ov.what == 2 ? "the list's own indirect table" : "a device-readable buffer of the same list");
  }

  out->head = id;
  out->nseg = w.nseg;
  out->nread = w.nread;
  out->rd_bytes = w.rd;
  out->wr_bytes = w.wr;
  out->seg = vq->segs;
  vq->id_ndescs[id] = (uint16_t)nring; /* <= size <= 32768 */
  if (vq->in_order) vq->popped[vq->pop_seq++ % size] = id;
  /* the list's ring position rides in the upper half of `b` (backend.h), so
   * that observers can find the descriptors of buffer `id` */
  uint64_t pos = (uint64_t)(vq->next_avail | (vq->avail_wrap ? 0x8000u : 0u));
  if (claimed <= nring) vq->nd_claim = false; /* the claim is consumed */
  advance(&vq->next_avail, &vq->avail_wrap, nring, size);
  vq->inflight++;
  emit(vq, VSIM_EV_POP, id, w.nseg | (pos << 32), w.rd, w.wr);
  return 1;
}

/* ---- used descriptors ------------------------------------------------------ */

/* Write a used descriptor {id, len} at ring offset `off` for the lap `wrap`.
 * B6 ordering: len and id first (one write, they are adjacent), flags last in
 * a separate write. The driver polls the flags of the slot at its next_used
 * and reads id/len only once they say "used" for its wrap; were the flags
 * visible first it could take a stale id (and skip by a wrong list length) or
 * a stale len. A device on real hardware puts a wmb between the two writes.
 * addr is unused in a used descriptor and left alone. */
static int write_used(vsim_vqp_dev *vq, uint16_t off, bool wrap, uint16_t id, uint32_t len) {
  if (mut(vq, VSIM_MUT_DEV_PACKED_WRAP)) wrap = !wrap;
  /* Used: AVAIL == USED == the device's wrap counter. WRITE says the device
   * wrote data (len is reserved without it). Other bits: 0 (NEXT is reserved
   * in used descriptors). */
  const uint16_t flags =
      (uint16_t)((wrap ? (F_AVAIL | F_USED) : 0) | (len ? VRING_DESC_F_WRITE : 0));
  const uint64_t at = DESC_SIZE * off;
  vq->last_used_off = off;
  uint8_t body[D_FLAGS - D_LEN]; /* len, id */
  vsim_le_st32(body, len);
  vsim_le_st16(body + (D_ID - D_LEN), id);
  if (guest_write(vq, vq->desc, at + D_LEN, body, sizeof body, "descriptor ring")) return -1;
  return ring_write16(vq, vq->desc, at + D_FLAGS, flags, "descriptor ring");
}

int vsim_vqp_dev_push(vsim_vqp_dev *vq, uint16_t id, uint32_t len) {
  if (vq->broken) return -1;
  /* An id the device never got from the ring (or already completed) is a
   * device-model bug, not guest input: refuse it without a ring write, since
   * there is no list length to advance by. */
  if (id >= vq->size || vq->id_ndescs[id] == 0) return -1;
  /* IN_ORDER: push number n must complete pop number n (the spec: the device
   * MUST use buffers in the order they were made available). Anything else is
   * again the model's bug, refused before any ring write; the device core
   * completes in pop order. */
  if (vq->in_order && vq->popped[vq->push_seq % vq->size] != id) return -1;
  const uint16_t ndescs = vq->id_ndescs[id];
  uint16_t wid = id;
  uint32_t wlen = len;
  if (mut(vq, VSIM_MUT_DEV_IN_ORDER_SWAP) && vq->in_order && vq->inflight >= 2)
    wid = vq->popped[(vq->push_seq + 1u) % vq->size]; /* a younger list's id first */
  if (mut(vq, VSIM_MUT_DEV_USED_ID_RANGE)) wid = (uint16_t)(vq->size + 3u);
  if (mut(vq, VSIM_MUT_DEV_USED_LEN_OVER)) wlen = len + 100u;
  if (mut(vq, VSIM_MUT_DEV_USED_ID_DUP)) {
    /* the first completion is remembered; a later one of another id reports
     * that stale id again instead of its own */
    if (vq->dup_state == 0) {
      vq->dup_id = id;
      vq->dup_state = 1;
    } else if (vq->dup_state == 1 && id != vq->dup_id) {
      wid = vq->dup_id;
      vq->dup_state = 2;
    }
  }

  if (vq->in_order && vq->batch) {
    /* Recorded only: publish writes the batch's one used descriptor, over the
     * first descriptor of the batch. The position still advances now, so the
     * device core's "anything unpublished?" test and the interrupt window see
     * the completion. */
    if (vq->batch_n == 0) {
      vq->batch_off = vq->next_used;
      vq->batch_wrap = vq->used_wrap;
    }
    /* the mutant keeps the first list's id: the batch then seems to end there */
    if (vq->batch_n == 0 || !mut(vq, VSIM_MUT_DEV_PACKED_BATCH_ID)) vq->batch_id = wid;
    vq->batch_n++;
    vq->batch_len = wlen;
  } else {
    /* One descriptor per completion is written and made visible at once, in
     * completion order, so there is no batch whose head must go last. */
    if (write_used(vq, vq->next_used, vq->used_wrap, wid, wlen)) return -1;
  }

  /* Skip the rest of the list: its ring slots were all read at pop. */
  advance(&vq->next_used, &vq->used_wrap, ndescs, vq->size);
  vq->id_ndescs[id] = 0;
  vq->inflight--;
  if (vq->in_order) vq->push_seq++;
  vq->unsignalled = vq->unsignalled > UINT32_MAX - ndescs ? UINT32_MAX : vq->unsignalled + ndescs;
  /* per list, batched or not: each one is used, and observers track lists */
  emit(vq, VSIM_EV_USED, wid, wlen, 0, 0);
  if (mut(vq, VSIM_MUT_DEV_WRITE_DESC)) {
    /* the device writes the driver's event suppression structure (a
     * reserved flags bit, which no side acts on) */
    uint8_t b[2];
    if (vsim_arena_read(vq->arena, VSIM_SIDE_DEVICE, vq->driver_evt + EV_FLAGS, b, sizeof b) == 0) {
      b[1] ^= 0x80;
      vsim_arena_write(vq->arena, VSIM_SIDE_DEVICE, vq->driver_evt + EV_FLAGS, b, sizeof b);
    }
  }
  return 0;
}

/* Write the used descriptor of the open IN_ORDER batch over the batch's first
 * descriptor (spec: "the used descriptor overwriting the first available
 * descriptor in the batch"), with the id and len of its last list. Nothing is
 * written once the queue is broken (see the file comment). */
static int flush_batch(vsim_vqp_dev *vq) {
  if (vq->batch_n == 0) return 0;
  vq->batch_n = 0;
  if (!vq->broken && write_used(vq, vq->batch_off, vq->batch_wrap, vq->batch_id, vq->batch_len) == 0)
    return 0;
  /* Not written (the queue broke before, or this write broke it): take the
   * batch's positions back. It began after the last publish, so all of them
   * are in `unsignalled`; at most a ring's worth. */
  const uint32_t size = vq->size;
  const uint32_t from = vq->batch_off + (vq->batch_wrap ? 0u : size);
  const uint32_t to = vq->next_used + (vq->used_wrap ? 0u : size);
  const uint32_t n = (to + 2u * size - from) % (2u * size);
  vq->next_used = vq->batch_off;
  vq->used_wrap = vq->batch_wrap;
  vq->unsignalled = vq->unsignalled > n ? vq->unsignalled - n : 0;
  return -1;
}

void vsim_vqp_dev_set_in_order_batch(vsim_vqp_dev *vq, bool on) {
  /* an open batch is closed where it stands: later pushes go after it */
  if (!on) (void)flush_batch(vq); /* a failed write was reported and broke the queue */
  vq->batch = on;
}

/* Does the driver's DESC event (offset `eoff` < size, wrap `ewrap`) lie in
 * the window of `n` positions starting at (old_off, old_wrap)? Positions are
 * placed on the 2 * size circle (see the file comment); the window is
 * [old, old + n). n is exact (counted by push, not derived from the two
 * end positions), so windows of a lap or more are judged right too: with
 * n >= 2 * size every position is covered, as dist < 2 * size <= n. This is
 * vring_need_event's (new - event - 1) < (new - old) on that circle. */
static bool desc_event_hit(uint32_t size, uint16_t old_off, bool old_wrap, uint32_t n,
                           uint16_t eoff, bool ewrap) {
  const uint32_t circle = 2u * size;
  const uint32_t old = old_off + (old_wrap ? 0u : size);
  const uint32_t ev = eoff + (ewrap ? 0u : size);
  const uint32_t dist = (ev + circle - old) % circle; /* how far past old the event is */
  return dist < n;
}

bool vsim_vqp_dev_publish(vsim_vqp_dev *vq) {
  bool need = false;
  /* an IN_ORDER batch's used descriptor goes in before the interrupt decision
   * (the same store-then-load order as a single push) */
  (void)flush_batch(vq); /* a failed write broke the queue: handled below */
  /* Nothing used since the last decision: no read, no event, no interrupt
   * (there is nothing new for the driver to see). */
  if (vq->unsignalled != 0) {
    const uint16_t old_pos = pos16(vq->signalled, vq->signalled_wrap);
    const uint16_t new_pos = pos16(vq->next_used, vq->used_wrap);
    emit(vq, VSIM_EV_USED_PUBLISH, old_pos, new_pos, 0, 0);
    if (vq->broken) {
      /* Used descriptors written before the queue broke: the driver's wish
       * cannot be read (a broken queue touches no guest memory), and a
       * spurious interrupt is better than a lost one. */
      need = true;
    } else {
      /* The driver event structure is read once, as one 4-byte snapshot (a
       * torn {flags, offset} pair could give a wrong decision — PEERS B7), and
       * only after the used descriptors' flags were written: this is the
       * device half of the store-then-load pair with the driver (it writes
       * its event structure, then re-checks the ring), which keeps an
       * interrupt from being lost on either side (B4; a full barrier on real
       * hardware). */
      uint8_t e[EV_SIZE];
      if (guest_read(vq, vq->driver_evt, 0, e, sizeof e, "driver event suppression")) {
        need = true; /* cannot read the driver's wish: rather spurious than lost */
      } else {
        const uint16_t off_wrap = vsim_le_ld16(e + EV_OFF_WRAP);
        const unsigned fl = vsim_le_ld16(e + EV_FLAGS) & EV_FLAGS_MASK;
        const uint16_t eoff = (uint16_t)(off_wrap & (uint16_t)~EV_WRAP_BIT);
        if (fl == VRING_PACKED_EVENT_FLAG_DISABLE)
          need = false;
        else if (fl == VRING_PACKED_EVENT_FLAG_DESC && vq->event_idx && eoff < vq->size)
          need = desc_event_hit(vq->size, vq->signalled, vq->signalled_wrap, vq->unsignalled,
                                eoff, (off_wrap & EV_WRAP_BIT) != 0);
        else
          need = true; /* ENABLE; and DESC without EVENT_IDX, DESC with an
                        * offset outside the ring, reserved 3: see the file
                        * comment */
      }
    }
    vq->signalled = vq->next_used;
    vq->signalled_wrap = vq->used_wrap;
    vq->unsignalled = 0;
    if (mut(vq, VSIM_MUT_DEV_PACKED_USED_REWRITE) && !vq->broken) {
      /* a late "tidy-up" of a descriptor already marked used (and published) */
      static const uint8_t zero[D_LEN - D_ADDR];
      (void)guest_write(vq, vq->desc, DESC_SIZE * vq->last_used_off + D_ADDR, zero, sizeof zero,
                        "descriptor ring");
    }
  }
  if (mut(vq, VSIM_MUT_DEV_SKIP_IRQ)) return false;
  if (mut(vq, VSIM_MUT_DEV_IRQ_ALWAYS)) return true;
  return need;
}

/* ---- available-buffer notification suppression ------------------------------ */

void vsim_vqp_dev_set_notify(vsim_vqp_dev *vq, bool enable) {
  if (vq->broken) return;
  if (enable && !vq->notify_enabled && mut(vq, VSIM_MUT_DEV_NO_REENABLE)) return;
  uint16_t off_wrap = 0;
  uint16_t fl = VRING_PACKED_EVENT_FLAG_DISABLE;
  if (enable) {
    fl = VRING_PACKED_EVENT_FLAG_ENABLE;
    if (vq->event_idx) {
      /* Ask for a kick when the driver makes the descriptor at next_avail
       * (with the current wrap) available: the first one the device has not
       * consumed. The offset is written before the flags (B7: a driver that
       * sees DESC must see the new offset; wmb on real hardware). The caller
       * re-checks has_avail after enabling: a list made available before
       * this write became visible may not have kicked (B3'). */
      off_wrap = pos16(vq->next_avail, vq->avail_wrap);
      if (ring_write16(vq, vq->device_evt, EV_OFF_WRAP, off_wrap, "device event suppression"))
        return;
      fl = VRING_PACKED_EVENT_FLAG_DESC;
    }
  }
  /* Disabling writes only the flags: the offset is not read by the driver
   * under DISABLE. */
  if (ring_write16(vq, vq->device_evt, EV_FLAGS, fl, "device event suppression")) return;
  vq->notify_enabled = enable;
  emit(vq, VSIM_EV_NOTIFY_ENABLE, enable ? 1 : 0, off_wrap, 0, 0);
}
