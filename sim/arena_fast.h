/* sim/arena_fast.h — the engine's inline path into guest memory.
 *
 * Owns: the layout of vsim_arena (arena.c and this header only), and inline
 * twins of the checked accessors of <virtiosim/arena.h> for the engine's own
 * modules (ring sides, device and driver models). A run makes a few dozen
 * guest accesses per request; through the out-of-line API each one cost a
 * call chain (scalar helper -> copy -> check -> memcpy) several times the
 * access itself. The twins take the one case that covers nearly every access
 * inline: an arena without a region table and a range inside it. Everything
 * else (a region table, an access that faults) goes to arena.c, which stays
 * the only way in for plugins. Also the write watches: an engine observer
 * (the packed-ring checker) learns which 16-byte granules of a range were
 * written since it last looked, instead of comparing the whole range.
 * Must never: grant what arena.c would refuse, or report differently: the
 * inline case is exactly the one vsim_arena_check grants without looking at
 * regions, and a refused access is handed to arena.c to fail and report.
 */
#ifndef VSIM_ARENA_FAST_H
#define VSIM_ARENA_FAST_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "le.h"
#include "arena_shared.h"
#include "virtiosim/arena.h"

typedef struct vsim_arena_region {
  uint64_t base, len;
  unsigned perm;
} vsim_arena_region;

/* A range an observer watches for writes, 16-byte granules: bit i of `bits`
 * is set when a write touches [base + 16 i, base + 16 i + 16). The observer
 * clears bits as it looks. */
#define VSIM_ARENA_MAX_WATCHES 64
#define VSIM_ARENA_WATCH_GRAIN 16u

/* A range of guest memory. */
typedef struct vsim_arena_extent {
  uint64_t gpa, len;
} vsim_arena_extent;

typedef struct vsim_arena_watch {
  uint64_t base, len;
  uint64_t *bits;
} vsim_arena_watch;

struct vsim_arena {
  uint8_t *mem;
  uint64_t size;
  unsigned nregions;               /* 0: the whole arena is RAM for both sides */
  /* +1: the implicit all-RAM region takes a slot once regions are set */
  vsim_arena_region regions[VSIM_ARENA_MAX_REGIONS + 1];
  vsim_arena_fault_fn fault_fn;
  void *fault_ctx;
  uint64_t faults;
  uint64_t side_faults[2]; /* by enum vsim_side */
  uint64_t side_access[2]; /* by enum vsim_side: reads, writes and spans, refused ones too */
  /* memory someone else owns (vsim_arena_adopt), freed through this */
  vsim_arena_release_fn release;
  void *release_ctx;
  /* write watches (vsim_arena_watch_add); [watch_lo, watch_hi) bounds them
   * all, so a write elsewhere costs one comparison */
  unsigned nwatch;
  uint64_t watch_lo, watch_hi;
  bool watch_lost;                 /* a span over a watched range was handed out */
  vsim_arena_watch watch[VSIM_ARENA_MAX_WATCHES];
  /* the mirror (vsim_arena_mirror_start): writes of the sides in
   * mirror_sides (bit 1 << side) are copied into mirror[], so that what
   * differs between the arena and the mirror is what somebody else wrote;
   * spans those sides were handed out are copied at the next flush */
  uint8_t *mirror;
  unsigned mirror_sides;
  vsim_arena_extent *mspan;
  size_t nmspan, mspan_cap;
  bool mspan_lost;                 /* a span could not be remembered: the mirror is unreliable */
  /* with mirror_others: where the other sides wrote (or were handed a span)
   * since the last vsim_arena_mirror_others_clear */
  bool mirror_others;
  vsim_arena_extent *oext;
  size_t noext, oext_cap;
};

/* Out of line (arena.c): mark the granules [gpa, gpa+len) touches in every
 * watch it overlaps; a span over a watched range loses the watches (its
 * pointer can write at any time, unseen). */
void vsim_arena_note_write(vsim_arena *a, uint64_t gpa, uint64_t len);
void vsim_arena_note_span(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint64_t len);

/* Called by every write of the arena, inline or not; gpa + len is in bounds.
 * Also by whoever learns of a write the accessors did not make (another
 * process's, found by comparing with the mirror), so that watches see it.
 * A write elsewhere costs the comparison of the bounds; one inside the only
 * watch that touches a single granule (a ring field, a descriptor) marks it
 * here; anything else goes to vsim_arena_note_write. */
void vsim_arena_mirror_other(vsim_arena *a, uint64_t gpa, uint64_t len);

static inline void vsim_arena_note(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint64_t len) {
  if (a->mirror) {
    if ((a->mirror_sides >> side) & 1u) memcpy(a->mirror + gpa, a->mem + gpa, (size_t)len);
    else if (a->mirror_others) vsim_arena_mirror_other(a, gpa, len);
  }
  if (!a->nwatch || gpa >= a->watch_hi || gpa + len <= a->watch_lo || !len) return;
  if (a->nwatch == 1 && gpa >= a->watch_lo && gpa + len <= a->watch_hi) {
    /* the bounds are that watch's own range */
    const uint64_t g = (gpa - a->watch_lo) / VSIM_ARENA_WATCH_GRAIN;
    if (g == (gpa + len - 1 - a->watch_lo) / VSIM_ARENA_WATCH_GRAIN) {
      a->watch[0].bits[g / 64] |= UINT64_C(1) << (g % 64);
      return;
    }
  }
  vsim_arena_note_write(a, gpa, len);
}

/* The mirror: a copy of guest memory that follows the writes of the given
 * sides (mask of 1u << enum vsim_side) through the accessors. Comparing it
 * with the arena finds the bytes written any other way: by an out-of-process
 * back-end that maps the memory (backend-model/be_record.c). `shadow` is
 * arena-sized, owned by the caller, and must equal the arena when the mirror
 * starts. A span handed to a mirrored side can write at any time after: its
 * range is copied at the next vsim_arena_mirror_flush. */
void vsim_arena_mirror_start(vsim_arena *a, uint8_t *shadow, unsigned sides);
/* Also remember where the other sides write through the accessors (and the
 * spans they are handed): an in-process back-end's writes are then found by
 * comparing only those ranges, not the whole arena. */
void vsim_arena_mirror_track_others(vsim_arena *a);
/* Those ranges since the last clear, in order; lost (out of memory) makes
 * the caller compare everything. */
const vsim_arena_extent *vsim_arena_mirror_others(const vsim_arena *a, size_t *n, bool *lost);
void vsim_arena_mirror_others_clear(vsim_arena *a);
void vsim_arena_mirror_stop(vsim_arena *a);
/* Copy the spans handed out since the last flush into the mirror. false when
 * one could not be remembered (out of memory): the mirror may then take a
 * mirrored side's write for somebody else's. */
bool vsim_arena_mirror_flush(vsim_arena *a);

/* Watch [base, base+len) for writes (bits: len / 16 bits, rounded up, zeroed
 * by the caller). 0, or -1 when every watch slot is taken: the observer then
 * has to look at the whole range itself. Engine observers only: a write the
 * arena does not see (through a span kept from before: vsim_arena_watch_lost
 * says so; by another process sharing the memory: it must not use watches). */
int vsim_arena_watch_add(vsim_arena *a, uint64_t base, uint64_t len, uint64_t *bits);
void vsim_arena_watch_remove(vsim_arena *a, const uint64_t *bits);
/* True once a span overlapping a watched range was handed out: the watches
 * can no longer say what changed, and stay so. */
static inline bool vsim_arena_watch_lost(const vsim_arena *a) { return a->watch_lost; }

/* One access of `side` begins: counted before it is checked, so that a
 * device hammering memory it may not touch is seen working too (the
 * engine's measure of device work, liveness.dev-unbounded-work). */
static inline void vsim_arena_count(vsim_arena *a, enum vsim_side side) {
  a->side_access[side == VSIM_SIDE_DEVICE ? 1 : 0]++;
}

/* The plain case: no region table, and [gpa, gpa+len) inside the arena
 * (written so that gpa + len is never computed: a hostile gpa may wrap). */
static inline bool vsim_arena_plain(const vsim_arena *a, uint64_t gpa, uint64_t len) {
  return a->nregions == 0 && gpa <= a->size && len <= a->size - gpa;
}

/* vsim_arena_check */
static inline bool vsim_arena_ok(const vsim_arena *a, enum vsim_side side, uint64_t gpa,
                                 uint64_t len, unsigned access) {
  return vsim_arena_plain(a, gpa, len) || vsim_arena_check(a, side, gpa, len, access);
}

/* vsim_arena_read / vsim_arena_write */
static inline int vsim_arena_get(vsim_arena *a, enum vsim_side side, uint64_t gpa, void *dst,
                                 uint64_t len) {
  if (!vsim_arena_plain(a, gpa, len)) return vsim_arena_read(a, side, gpa, dst, len);
  vsim_arena_count(a, side);
  if (len) memcpy(dst, a->mem + gpa, (size_t)len);
  return 0;
}

static inline int vsim_arena_put(vsim_arena *a, enum vsim_side side, uint64_t gpa,
                                 const void *src, uint64_t len) {
  if (!vsim_arena_plain(a, gpa, len)) return vsim_arena_write(a, side, gpa, src, len);
  vsim_arena_count(a, side);
  if (len) memcpy(a->mem + gpa, src, (size_t)len);
  vsim_arena_note(a, side, gpa, len);
  return 0;
}

/* vsim_arena_span */
static inline int vsim_arena_view(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint64_t len,
                                  unsigned access, vsim_span *out) {
  if (!vsim_arena_plain(a, gpa, len)) return vsim_arena_span(a, side, gpa, len, access, out);
  vsim_arena_count(a, side);
  /* a span's pointer can write, whatever it asked for; one far from every
   * watch (a data buffer) costs the comparison of the bounds only, unless a
   * mirror must learn of it */
  if (a->mirror || (a->nwatch && gpa < a->watch_hi && gpa + len > a->watch_lo))
    vsim_arena_note_span(a, side, gpa, len);
  out->ptr = a->mem + gpa;
  out->gpa = gpa;
  out->len = len;
  return 0;
}

/* vsim_arena_read16/32/64 and vsim_arena_write16/32/64 (little-endian) */
static inline int vsim_arena_get16(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint16_t *v) {
  if (!vsim_arena_plain(a, gpa, 2)) return vsim_arena_read16(a, side, gpa, v);
  vsim_arena_count(a, side);
  *v = vsim_le_ld16(a->mem + gpa);
  return 0;
}
static inline int vsim_arena_get32(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint32_t *v) {
  if (!vsim_arena_plain(a, gpa, 4)) return vsim_arena_read32(a, side, gpa, v);
  vsim_arena_count(a, side);
  *v = vsim_le_ld32(a->mem + gpa);
  return 0;
}
static inline int vsim_arena_get64(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint64_t *v) {
  if (!vsim_arena_plain(a, gpa, 8)) return vsim_arena_read64(a, side, gpa, v);
  vsim_arena_count(a, side);
  *v = vsim_le_ld64(a->mem + gpa);
  return 0;
}
static inline int vsim_arena_put16(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint16_t v) {
  if (!vsim_arena_plain(a, gpa, 2)) return vsim_arena_write16(a, side, gpa, v);
  vsim_arena_count(a, side);
  vsim_le_st16(a->mem + gpa, v);
  vsim_arena_note(a, side, gpa, 2);
  return 0;
}
static inline int vsim_arena_put32(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint32_t v) {
  if (!vsim_arena_plain(a, gpa, 4)) return vsim_arena_write32(a, side, gpa, v);
  vsim_arena_count(a, side);
  vsim_le_st32(a->mem + gpa, v);
  vsim_arena_note(a, side, gpa, 4);
  return 0;
}
static inline int vsim_arena_put64(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint64_t v) {
  if (!vsim_arena_plain(a, gpa, 8)) return vsim_arena_write64(a, side, gpa, v);
  vsim_arena_count(a, side);
  vsim_le_st64(a->mem + gpa, v);
  vsim_arena_note(a, side, gpa, 8);
  return 0;
}

#endif
