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
