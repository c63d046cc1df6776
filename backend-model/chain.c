/* backend-model/chain.c — byte access to a validated descriptor chain (see chain.h).
 *
 * Owns: copying between a chain's readable / writable part and device memory,
 * and locating a byte of either part for zero-copy access.
 * Must never: read a descriptor from guest memory (the segments are the
 * pop-time snapshot), or touch guest memory except through the arena's
 * checked accessors on the device side — so a device that copies past what
 * the driver gave it is refused and reported, not a stray access.
 */
#include "arena_fast.h"
#include "chain.h"

#include <stddef.h>

/* The readable part is seg[0 .. nread), the writable part seg[nread .. nseg). */
static inline void part(const vsim_chain *c, bool write, uint32_t *first, uint32_t *end,
                        uint64_t *bytes) {
  *first = write ? c->nread : 0;
  *end = write ? c->nseg : c->nread;
  *bytes = write ? c->wr_bytes : c->rd_bytes;
}

/* Range [off, off+len) inside a part of `bytes` bytes, without computing
 * off+len (which could wrap for a hostile or buggy offset). */
static inline bool in_part(uint64_t off, uint64_t len, uint64_t bytes) {
  return off <= bytes && len <= bytes - off;
}

/* Exactly one of dst (read from the chain) and src (write into it) is used. */
static int copy(const vsim_chain *c, vsim_arena *a, bool write, uint64_t off, uint8_t *dst,
                const uint8_t *src, uint64_t len) {
  uint32_t i, end;
  uint64_t bytes;
  part(c, write, &i, &end, &bytes);
  if (!in_part(off, len, bytes)) return -1;
  /* skip whole segments before `off` */
  for (; i < end && len; i++) {
    const vsim_seg *s = &c->seg[i];
    if (off >= s->len) {
      off -= s->len;
      continue;
    }
    uint64_t n = s->len - off;
    if (n > len) n = len;
    int r;
    if (write) {
      r = vsim_arena_put(a, VSIM_SIDE_DEVICE, s->gpa + off, src, n);
      src += n;
    } else {
      r = vsim_arena_get(a, VSIM_SIDE_DEVICE, s->gpa + off, dst, n);
      dst += n;
    }
    if (r) return -1;
    len -= n;
    off = 0;
  }
  /* len > 0 here only if the segments hold fewer bytes than rd/wr_bytes say
   * (a chain not built by a pop): refuse rather than report success */
  return len ? -1 : 0;
}

int vsim_chain_read(const vsim_chain *c, vsim_arena *a, uint64_t off, void *dst,
                    uint64_t len) {
  return copy(c, a, false, off, dst, NULL, len);
}

int vsim_chain_write(const vsim_chain *c, vsim_arena *a, uint64_t off, const void *src,
                     uint64_t len) {
  return copy(c, a, true, off, NULL, src, len);
}

int vsim_chain_locate(const vsim_chain *c, bool write, uint64_t off, uint64_t *seg_off) {
  uint32_t i, end;
  uint64_t bytes;
  part(c, write, &i, &end, &bytes);
  if (off >= bytes) return -1;
  for (; i < end; i++) {
    const vsim_seg *s = &c->seg[i];
    if (off < s->len) { /* zero-length segments hold no byte: skipped */
      if (seg_off) *seg_off = off;
      return (int)i;
    }
    off -= s->len;
  }
  return -1;
}

/* ---- overlap of device-writable segments with what the device must not write ---- */

static inline uint64_t end_of(uint64_t gpa, uint64_t len) {
  return len > UINT64_MAX - gpa ? UINT64_MAX : gpa + len; /* saturate: a ring at the top */
}

static inline bool overlaps(uint64_t a, uint64_t aend, uint64_t b, uint64_t bend) {
  return a < aend && b < bend && a < bend && b < aend;
}

/* In-place heapsort by gpa: no allocation (qsort may allocate), O(n log n). */
static void sift(vsim_range *r, uint32_t i, uint32_t n) {
  for (;;) {
    uint32_t m = i, l = 2 * i + 1, rr = l + 1;
    if (l < n && r[l].gpa > r[m].gpa) m = l;
    if (rr < n && r[rr].gpa > r[m].gpa) m = rr;
    if (m == i) return;
    vsim_range t = r[i];
    r[i] = r[m];
    r[m] = t;
    i = m;
  }
}

static void sort_ranges(vsim_range *r, uint32_t n) {
  for (uint32_t i = n / 2; i-- > 0;) sift(r, i, n);
  for (uint32_t k = n; k-- > 1;) {
    vsim_range t = r[0];
    r[0] = r[k];
    r[k] = t;
    sift(r, 0, k);
  }
}

int vsim_chain_write_overlap(const vsim_seg *seg, uint32_t nseg, uint32_t nread,
                             const vsim_ring_guard *guards, unsigned nguards, unsigned rd_parts,
                             uint64_t table, uint64_t table_len, vsim_range *scratch,
                             vsim_overlap *out) {
  /* readable buffers over what the device writes when it completes the chain */
  for (uint32_t i = 0; i < nread && rd_parts; i++) {
    const uint64_t a = seg[i].gpa, aend = end_of(a, seg[i].len);
    for (unsigned g = 0; g < nguards; g++)
      for (uint32_t k = 0; guards[g].parts && k < guards[g].n; k++) {
        const vsim_ring_part *p = &guards[g].parts[k];
        if ((rd_parts >> p->part & 1u) && overlaps(a, aend, p->gpa, end_of(p->gpa, p->len))) {
          *out = (vsim_overlap){i, 4, *p, 0, 0};
          return 1;
        }
      }
  }
  if (nread >= nseg) return 0; /* nothing the device writes */
  const uint64_t tend = end_of(table, table_len);
  for (uint32_t i = nread; i < nseg; i++) {
    const uint64_t a = seg[i].gpa, aend = end_of(a, seg[i].len);
    for (unsigned g = 0; g < nguards; g++)
      for (uint32_t k = 0; guards[g].parts && k < guards[g].n; k++) {
        const vsim_ring_part *p = &guards[g].parts[k];
        if (overlaps(a, aend, p->gpa, end_of(p->gpa, p->len))) {
          *out = (vsim_overlap){i, 1, *p, 0, 0};
          return 1;
        }
      }
    if (table_len && overlaps(a, aend, table, tend)) {
      *out = (vsim_overlap){i, 2, {0, 0, 0, 0}, table, table_len};
      return 1;
    }
  }
  /* readable vs writable: sort the readable ranges, keep a running maximum
   * of their ends; a writable [a, aend) overlaps one iff, among those that
   * start before aend, the furthest end is past a */
  uint32_t n = 0;
  for (uint32_t i = 0; i < nread; i++)
    if (seg[i].len) scratch[n++] = (vsim_range){seg[i].gpa, end_of(seg[i].gpa, seg[i].len)};
  if (n == 0) return 0;
  sort_ranges(scratch, n);
  for (uint32_t i = 1; i < n; i++)
    if (scratch[i].end < scratch[i - 1].end) scratch[i].end = scratch[i - 1].end;
  for (uint32_t i = nread; i < nseg; i++) {
    if (!seg[i].len) continue;
    const uint64_t a = seg[i].gpa, aend = end_of(a, seg[i].len);
    /* the last readable range that starts before aend */
    uint32_t lo = 0, hi = n; /* answer in [lo, hi): first index with gpa >= aend */
    while (lo < hi) {
      uint32_t mid = lo + (hi - lo) / 2;
      if (scratch[mid].gpa < aend) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && scratch[lo - 1].end > a) {
      uint64_t from = a > scratch[lo - 1].gpa ? a : scratch[lo - 1].gpa;
      *out = (vsim_overlap){i, 3, {0, 0, 0, 0}, from, 1};
      return 1;
    }
  }
  return 0;
}

const char *vsim_ring_part_name(const vsim_ring_part *p, bool packed) {
  static const char *const split_names[] = {"descriptor table", "available ring", "used ring"};
  static const char *const packed_names[] = {"descriptor ring", "driver event suppression structure",
                                             "device event suppression structure"};
  return (packed ? packed_names : split_names)[p->part < 3 ? p->part : 0];
}
