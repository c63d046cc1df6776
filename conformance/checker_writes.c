/* conformance/checker_writes.c — judging guest-memory writes the accessors
 * did not see: an out-of-process back-end's, found by comparing guest memory
 * with its mirror (backend-model/be_record.c), or replayed from a trace
 * (backend-model/be_standin.c).
 *
 * Owns: vsim_checker_device_wrote: which bytes a device may write at this
 * moment, and the two reports when it wrote others. A device may write the
 * used ring of a live split queue (flags, idx, ring, avail_event), the
 * descriptor ring and device event suppression structure of a live packed
 * queue, and the device-writable buffers of the chains it holds: as they
 * were when it took each chain (its VSIM_EV_POP: a driver that rewrites a
 * descriptor afterwards must not turn the device's right into a violation),
 * and as the rings show them now (split: heads the driver published and the
 * device has not used, walked through the descriptor table and indirect
 * tables; packed: the descriptors available in the ring, as they were made
 * available and as they are), for chains it served before saying it took
 * them (an out-of-process back-end's takes are only seen afterwards).
 * A write to a descriptor table, an available ring, the driver event
 * suppression structure, an indirect table or a device-readable buffer the
 * device holds is mem.dev-write-readonly, even where a device-writable
 * buffer covers it too (the driver's error, split/packed.desc-write-overlap,
 * which the device must refuse rather than carry out: the same judgement as
 * the in-process checks'); a write anywhere else outside the used rings and
 * the writable buffers is mem.dev-out-of-bounds: memory nobody gave it.
 * Must never: read outside guest memory (every walk is bounded by the queue
 * size and checked against the arena).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "checker.h"
#include "le.h"
#include <linux/virtio_ring.h>
#include "virtio_compat.h"
#include "virtiosim/checks.h"

#define MAX_SPANS 4096 /* bounded: beyond it, what is not listed is not blamed */

typedef struct span {
  uint64_t lo, hi; /* [lo, hi) */
} span;

typedef struct span_list {
  span *v;
  size_t n, cap;
} span_list;

static void add(span_list *l, uint64_t gpa, uint64_t len) {
  if (!len || gpa + len < gpa || l->n >= MAX_SPANS) return;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 64;
    span *nv = realloc(l->v, cap * sizeof *nv);
    if (!nv) return;
    l->v = nv;
    l->cap = cap;
  }
  l->v[l->n++] = (span){gpa, gpa + len};
}

static bool peek(const vsim_checker *c, uint64_t gpa, uint8_t *dst, uint64_t len) {
  if (gpa > c->mem_size || len > c->mem_size - gpa) return false;
  memcpy(dst, c->mem + gpa, len);
  return true;
}

/* One buffer of a held chain: writable ones are the device's, the rest
 * (readable buffers) are not. */
static void buffer(span_list *ok, span_list *ro, uint64_t addr, uint32_t len, bool writable) {
  add(writable ? ok : ro, addr, len);
}

/* An indirect table of `len` bytes at `table` (flags at `flag_off`: 12 in a
 * split descriptor, 14 in a packed one). */
static void table(const vsim_checker *c, const vsim_chk_queue *q, uint64_t addr, uint32_t len,
                  unsigned flag_off, span_list *ok, span_list *ro) {
  add(ro, addr, len);
  for (uint32_t e = 0; e < len / 16u && e < q->size; e++) {
    uint8_t t[16];
    if (!peek(c, addr + 16u * e, t, 16)) return;
    buffer(ok, ro, vsim_le_ld64(t), vsim_le_ld32(t + 8), vsim_le_ld16(t + flag_off) & VRING_DESC_F_WRITE);
  }
}

/* The buffers of a chain as the ring shows them now (bounded by the queue
 * size): split, the chain at head `at` through the descriptor table;
 * packed, the list at ring position `at`, descriptor after descriptor. */
static void chain(const vsim_checker *c, const vsim_chk_queue *q, uint16_t at, span_list *ok, span_list *ro) {
  const unsigned flag_off = q->packed ? 14 : 12;
  uint32_t i = q->packed ? at & 0x7fffu : at;
  for (uint32_t hop = 0; hop < q->size && i < q->size; hop++) {
    uint8_t d[16];
    if (!peek(c, q->desc + 16u * i, d, 16)) return;
    const uint16_t flags = vsim_le_ld16(d + flag_off);
    if (flags & VRING_DESC_F_INDIRECT) {
      table(c, q, vsim_le_ld64(d), vsim_le_ld32(d + 8), flag_off, ok, ro);
      return;
    }
    buffer(ok, ro, vsim_le_ld64(d), vsim_le_ld32(d + 8), flags & VRING_DESC_F_WRITE);
    if (!(flags & VRING_DESC_F_NEXT)) return;
    i = q->packed ? (i + 1) % q->size : vsim_le_ld16(d + 14);
  }
}

static void split_queue(const vsim_checker *c, const vsim_chk_queue *q, span_list *ok, span_list *ro) {
  add(ok, q->used, 6u + 8u * (uint64_t)q->size);
  add(ro, q->desc, 16u * (uint64_t)q->size);
  add(ro, q->avail, 6u + 2u * (uint64_t)q->size);
  for (uint16_t head = 0; q->outstanding && head < q->size; head++)
    if (q->outstanding[head]) chain(c, q, head, ok, ro);
}

static void packed_queue(const vsim_checker *c, const vsim_chk_queue *q, span_list *ok, span_list *ro) {
  add(ok, q->desc, 16u * (uint64_t)q->size);
  add(ok, q->used, 4);
  add(ro, q->avail, 4);
  for (uint16_t off = 0; q->pd_state && q->pd_bytes && off < q->size; off++) {
    if (q->pd_state[off] != 1 /* available: the device's */) continue;
    /* as it was made available, and as it is now: a driver that rewrote it
     * is judged for that (packed.drv-desc-changed-before-used), and a device
     * that acted on either must not be blamed again */
    uint8_t now[16];
    const uint8_t *views[2] = {q->pd_bytes[off], peek(c, q->desc + 16u * off, now, 16) ? now : NULL};
    for (int v = 0; v < 2 && views[v]; v++) {
      const uint8_t *d = views[v];
      const uint16_t flags = vsim_le_ld16(d + 14);
      if (flags & VRING_DESC_F_INDIRECT)
        table(c, q, vsim_le_ld64(d), vsim_le_ld32(d + 8), 14, ok, ro);
      else
        buffer(ok, ro, vsim_le_ld64(d), vsim_le_ld32(d + 8), flags & VRING_DESC_F_WRITE);
    }
  }
}

/* ---- what the device took: its writable buffers at that moment ---- */

#define WSNAP_MAX 8 /* writable buffers kept per chain; beyond, the walk of the ring as it is now */

struct vsim_chk_wsnap {
  uint8_t n;
  span s[WSNAP_MAX];
};

void vsim_checker_writes_pop(vsim_checker *c, vsim_chk_queue *q, uint16_t head, uint16_t pos) {
  if (!q->wsnap) q->wsnap = calloc(q->size ? q->size : 1, sizeof *q->wsnap);
  if (!q->wsnap || head >= q->size) return;
  span_list ok = {0}, ro = {0};
  chain(c, q, q->packed ? pos : head, &ok, &ro);
  struct vsim_chk_wsnap *w = &q->wsnap[head];
  w->n = 0;
  for (size_t k = 0; k < ok.n && w->n < WSNAP_MAX; k++) w->s[w->n++] = ok.v[k];
  free(ok.v);
  free(ro.v);
}

void vsim_checker_writes_used(vsim_chk_queue *q, uint16_t id) {
  if (q->wsnap && id < q->size) q->wsnap[id].n = 0;
}

static void held_snapshots(const vsim_chk_queue *q, span_list *ok) {
  for (uint16_t id = 0; q->wsnap && id < q->size; id++)
    for (uint8_t k = 0; k < q->wsnap[id].n; k++)
      add(ok, q->wsnap[id].s[k].lo, q->wsnap[id].s[k].hi - q->wsnap[id].s[k].lo);
}

static int by_lo(const void *x, const void *y) {
  const span *a = x, *b = y;
  return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* Sort the spans and merge the ones that overlap or touch: afterwards they
 * are disjoint and in order, and a byte is looked up by bisection. */
static void normalize(span_list *l) {
  if (l->n < 2) return;
  qsort(l->v, l->n, sizeof *l->v, by_lo);
  size_t k = 0;
  for (size_t i = 1; i < l->n; i++) {
    if (l->v[i].lo <= l->v[k].hi) {
      if (l->v[i].hi > l->v[k].hi) l->v[k].hi = l->v[i].hi;
    } else {
      l->v[++k] = l->v[i];
    }
  }
  l->n = k + 1;
}

/* The first span (normalized list) that ends after `at`, or n. */
static size_t span_after(const span_list *l, uint64_t at) {
  size_t lo = 0, hi = l->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (l->v[mid].hi <= at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* Whether `at` is listed, and where that (when listed) or the gap before
 * the next listed byte (when not) ends, at most `limit`. */
static bool listed(const span_list *l, uint64_t at, uint64_t limit, uint64_t *until) {
  size_t i = span_after(l, at);
  bool hit = i < l->n && l->v[i].lo <= at;
  uint64_t e = i == l->n ? limit : hit ? l->v[i].hi : l->v[i].lo;
  *until = e < limit ? e : limit;
  return hit;
}

void vsim_checker_device_wrote(vsim_checker *c, uint64_t gpa, uint64_t len) {
  c->writes_judged = true;
  if (!len || gpa + len < gpa) return;
  span_list ok = {0}, ro = {0};
  for (int i = 0; i < c->nq; i++) {
    const vsim_chk_queue *q = &c->q[i];
    if (!q->ready) continue;
    if (q->packed) packed_queue(c, q, &ok, &ro);
    else split_queue(c, q, &ok, &ro);
    held_snapshots(q, &ok);
  }
  /* the driver's structures and the readable buffers it gave come first: a
   * device-writable buffer the driver placed over them is the driver's
   * error, which the device must refuse (split/packed.desc-write-overlap),
   * not carry out; then the writable buffers and used rings; the rest was
   * not given at all */
  normalize(&ok);
  normalize(&ro);
  uint64_t end = gpa + len, at = gpa;
  uint64_t ro_first = 0, ro_n = 0, oob_first = 0, oob_n = 0;
  while (at < end) {
    uint64_t stop;
    if (listed(&ro, at, end, &stop)) {
      if (!ro_n) ro_first = at;
      ro_n += stop - at;
      at = stop;
      continue;
    }
    /* [at, stop) is none of the driver's: writable, or not given */
    while (at < stop) {
      uint64_t e;
      if (!listed(&ok, at, stop, &e)) {
        if (!oob_n) oob_first = at;
        oob_n += e - at;
      }
      at = e;
    }
  }
  free(ok.v);
  free(ro.v);
  char d[VSIM_VIOLATION_DETAIL_MAX];
  if (ro_n) {
    snprintf(d, sizeof d,
             "device wrote %" PRIu64 " byte(s) of a descriptor, available ring, indirect table or "
             "readable buffer, first at 0x%" PRIx64,
             ro_n, ro_first);
    c->sink->violation(c->sink->ctx, VSIM_CHK_MEM_DEV_WRITE_RO, -1, d);
    c->dev_scribbled = true; /* a changed descriptor may be its doing from now on */
  }
  if (oob_n) {
    snprintf(d, sizeof d,
             "device wrote %" PRIu64 " byte(s) of guest memory no queue gave it, first at 0x%" PRIx64,
             oob_n, oob_first);
    c->sink->violation(c->sink->ctx, VSIM_CHK_MEM_DEV_OOB, -1, d);
  }
}
