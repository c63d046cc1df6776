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

/* A part of a live virtqueue in guest memory (split: descriptor table,
 * available ring, used ring; packed: descriptor ring, driver and device event
 * suppression structures). No device-writable buffer may overlap one: the
 * device would write a descriptor or a ring the driver owns (or corrupt its
 * own used ring), which the spec forbids it ("A device MUST NOT write to a
 * device-readable buffer ... MUST NOT write to any descriptor table entry"). */
typedef struct vsim_ring_part {
  uint64_t gpa, len;
  uint16_t q;
  uint8_t part; /* 0 descriptor table/ring, 1 driver area, 2 device area */
} vsim_ring_part;

/* The ring parts of every live queue of one device, kept by the device core. */
typedef struct vsim_ring_guard {
  const vsim_ring_part *parts;
  uint32_t n;
} vsim_ring_guard;

typedef struct vsim_range {
  uint64_t gpa, end; /* [gpa, end) */
} vsim_range;

/* What a device-writable segment overlaps (vsim_chain_write_overlap). */
typedef struct vsim_overlap {
  uint32_t seg;          /* the writable segment */
  int what;              /* 1 a ring part, 2 the chain's indirect table, 3 a readable segment,
                          * 4 a readable segment over a ring part the device writes (part) */
  vsim_ring_part part;   /* what == 1 */
  uint64_t gpa, len;     /* what == 2, 3: the overlapped range (3: one readable byte range) */
} vsim_overlap;

/* Does a device-readable segment of seg[0 .. nseg) (readable ones first,
 * nread of them) overlap a ring part the device itself writes (the part
 * kinds in the bit mask rd_parts: split, the used ring; packed, the
 * descriptor ring and the device event structure: completing the chain would
 * write a device-readable buffer), or a device-writable one overlap a guarded
 * ring part, the indirect table
 * [table, table + table_len) (table_len 0: none), or a readable segment?
 * `guards` are nguards lists of ring parts (a queue's own, the device's).
 * Returns 0 (none) or 1 with *out filled. Bounded: O(n log n) for the
 * readable/writable pairs (sorted in `scratch`, which holds at least nread
 * ranges; no allocation) plus O(writable segments * guarded parts). */
int vsim_chain_write_overlap(const vsim_seg *seg, uint32_t nseg, uint32_t nread,
                             const vsim_ring_guard *guards, unsigned nguards, unsigned rd_parts,
                             uint64_t table, uint64_t table_len, vsim_range *scratch,
                             vsim_overlap *out);

/* A text for a ring part in violation details: "the used ring of queue 1". */
const char *vsim_ring_part_name(const vsim_ring_part *p, bool packed);

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
