/* backend-model/chain.h — a descriptor chain as the device sees it after validation.
 *
 * Owns: the segment list a device gets from a ring pop (split or packed), and
 * the copy helpers that move bytes between a chain and device memory through
 * the arena's checked accessors. Segments are validated at pop time (in
 * bounds, readable before writable, total below 2^32), so a device can walk
 * them without re-checking; the accessors still go through the arena so that a
 * device bug (offset past the chain) is a reported fault, not a stray write.
 * Must never: read a descriptor from guest memory (that is the ring's job,
 * done once: a guest rewriting a descriptor after the pop cannot change it).
 */
#ifndef VSIM_CHAIN_H
#define VSIM_CHAIN_H

#include <stdbool.h>
#include <stdint.h>
#include "virtiosim/arena.h"

typedef struct vsim_seg {
  uint64_t gpa;
  uint32_t len;
  bool write; /* device-writable */
} vsim_seg;

typedef struct vsim_chain {
  uint16_t head;     /* buffer id reported back in the used ring */
  uint32_t nseg;     /* segments: all readable ones first, then writable */
  uint32_t nread;    /* how many of them are device-readable */
  uint64_t rd_bytes; /* total device-readable bytes */
  uint64_t wr_bytes; /* total device-writable bytes */
  vsim_seg *seg;     /* points into the queue's preallocated array */
} vsim_chain;

/* Copy `len` bytes at offset `off` of the chain's readable part into dst.
 * Returns 0, or -1 if the range passes the readable part or the arena refuses. */
int vsim_chain_read(const vsim_chain *c, vsim_arena *a, uint64_t off, void *dst,
                    uint64_t len);
/* Copy into the writable part at offset `off`. Returns 0 or -1 as above. */
int vsim_chain_write(const vsim_chain *c, vsim_arena *a, uint64_t off,
                     const void *src, uint64_t len);
/* Zero-copy: the segment and in-segment offset holding byte `off` of the
 * readable (write=false) or writable (write=true) part. Returns the segment
 * index or -1. */
int vsim_chain_locate(const vsim_chain *c, bool write, uint64_t off, uint64_t *seg_off);

#endif
