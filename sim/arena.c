/* sim/arena.c — guest RAM and its checked accessors (see virtiosim/arena.h).
 *
 * The common case is one RAM region covering the arena: then a check is two
 * comparisons. With a region table, permissions are resolved per region
 * overlap (at most VSIM_ARENA_MAX_REGIONS, later regions win), so a check is
 * bounded whatever the guest asks for.
 */
#include <stdlib.h>
#include <string.h>
#include "arena_fast.h"
#include "arena_shared.h"

vsim_arena *vsim_arena_new(uint64_t size) {
  if (size == 0 || size > (UINT64_C(1) << 40)) return NULL;
  vsim_arena *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->mem = calloc(1, (size_t)size);
  if (!a->mem) {
    free(a);
    return NULL;
  }
  a->size = size;
  return a;
}

void vsim_arena_free(vsim_arena *a) {
  if (!a) return;
  free(a->mspan);
  free(a->oext);
  if (a->release) a->release(a->release_ctx);
  else free(a->mem);
  free(a);
}

/* sim/arena_shared.h: the same arena over memory mapped by someone else. */
vsim_arena *vsim_arena_adopt(uint8_t *mem, uint64_t size, vsim_arena_release_fn release, void *ctx) {
  if (!mem || !release || size == 0 || size > (UINT64_C(1) << 40)) return NULL;
  vsim_arena *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  a->mem = mem;
  a->size = size;
  a->release = release;
  a->release_ctx = ctx;
  return a;
}

void *vsim_arena_owner(const vsim_arena *a, vsim_arena_release_fn release) {
  return a && a->release == release ? a->release_ctx : NULL;
}

uint64_t vsim_arena_size(const vsim_arena *a) { return a->size; }
const uint8_t *vsim_arena_base(const vsim_arena *a) { return a->mem; }

int vsim_arena_set_region(vsim_arena *a, uint64_t base, uint64_t len, unsigned perm) {
  if (a->nregions >= VSIM_ARENA_MAX_REGIONS + 1) return -1;
  if (len == 0 || base > a->size || len > a->size - base) return -1;
  if (a->nregions == 0) {
    /* materialise the implicit all-RAM region so later ones override it */
    a->regions[0] = (vsim_arena_region){0, a->size, VSIM_REGION_RAM};
    a->nregions = 1;
  }
  a->regions[a->nregions++] = (vsim_arena_region){base, len, perm & 0xf};
  return 0;
}

void vsim_arena_set_fault_sink(vsim_arena *a, vsim_arena_fault_fn fn, void *ctx) {
  a->fault_fn = fn;
  a->fault_ctx = ctx;
}

uint64_t vsim_arena_fault_count(const vsim_arena *a) { return a->faults; }
uint64_t vsim_arena_fault_count_side(const vsim_arena *a, enum vsim_side side) {
  return side == VSIM_SIDE_DEVICE ? a->side_faults[1] : a->side_faults[0];
}

uint64_t vsim_arena_access_count_side(const vsim_arena *a, enum vsim_side side) {
  return side == VSIM_SIDE_DEVICE ? a->side_access[1] : a->side_access[0];
}

static inline unsigned side_perm(unsigned perm, enum vsim_side side) {
  return side == VSIM_SIDE_DRIVER ? (perm & 3u) : ((perm >> 2) & 3u);
}

/* Every byte of [gpa, end) must be granted `access` by the last region that
 * covers it. Walk the range in pieces: for each position find the winning
 * region and the next boundary. Bounded by regions^2 steps. */
static bool regions_grant(const vsim_arena *a, enum vsim_side side, uint64_t gpa,
                          uint64_t end, unsigned access) {
  uint64_t pos = gpa;
  unsigned guard = 0;
  while (pos < end) {
    if (++guard > 4 * (VSIM_ARENA_MAX_REGIONS + 1) + 4) return false;
    int win = -1;
    uint64_t next = end;
    for (unsigned i = 0; i < a->nregions; i++) {
      const vsim_arena_region *r = &a->regions[i];
      uint64_t rend = r->base + r->len;
      if (pos >= r->base && pos < rend) {
        win = (int)i; /* later regions win */
      }
      /* the next boundary after pos */
      if (r->base > pos && r->base < next) next = r->base;
      if (rend > pos && rend < next) next = rend;
    }
    if (win < 0) return false;
    if ((side_perm(a->regions[win].perm, side) & access) != access) return false;
    pos = next;
  }
  return true;
}

bool vsim_arena_check(const vsim_arena *a, enum vsim_side side, uint64_t gpa,
                      uint64_t len, unsigned access) {
  if (gpa > a->size || len > a->size - gpa) return false; /* also catches wrap */
  if (a->nregions == 0 || len == 0) return true;
  return regions_grant(a, side, gpa, gpa + len, access);
}

static int fault(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint64_t len,
                 unsigned access) {
  a->faults++;
  a->side_faults[side == VSIM_SIDE_DEVICE ? 1 : 0]++;
  if (a->fault_fn) {
    vsim_arena_fault f = {side, access, gpa, len};
    a->fault_fn(a->fault_ctx, &f);
  }
  return VSIM_ARENA_EFAULT;
}

int vsim_arena_read(vsim_arena *a, enum vsim_side side, uint64_t gpa, void *dst,
                    uint64_t len) {
  vsim_arena_count(a, side);
  if (!vsim_arena_check(a, side, gpa, len, VSIM_ACC_READ))
    return fault(a, side, gpa, len, VSIM_ACC_READ);
  if (len) memcpy(dst, a->mem + gpa, (size_t)len);
  return 0;
}

int vsim_arena_write(vsim_arena *a, enum vsim_side side, uint64_t gpa,
                     const void *src, uint64_t len) {
  vsim_arena_count(a, side);
  if (!vsim_arena_check(a, side, gpa, len, VSIM_ACC_WRITE))
    return fault(a, side, gpa, len, VSIM_ACC_WRITE);
  if (len) memcpy(a->mem + gpa, src, (size_t)len);
  vsim_arena_note(a, side, gpa, len);
  return 0;
}

int vsim_arena_span(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint64_t len,
                    unsigned access, vsim_span *out) {
  vsim_arena_count(a, side);
  if (!vsim_arena_check(a, side, gpa, len, access)) {
    out->ptr = NULL;
    out->gpa = gpa;
    out->len = 0;
    return fault(a, side, gpa, len, access);
  }
  if (a->nwatch || a->mirror) vsim_arena_note_span(a, side, gpa, len); /* a span's pointer can write, whatever it asked for */
  out->ptr = a->mem + gpa;
  out->gpa = gpa;
  out->len = len;
  return 0;
}

/* ---- write watches ---- */

static bool overlaps(const vsim_arena_watch *w, uint64_t gpa, uint64_t len) {
  return len && gpa < w->base + w->len && gpa + len > w->base;
}

void vsim_arena_note_write(vsim_arena *a, uint64_t gpa, uint64_t len) {
  for (unsigned i = 0; i < a->nwatch; i++) {
    vsim_arena_watch *w = &a->watch[i];
    if (!overlaps(w, gpa, len)) continue;
    uint64_t lo = gpa > w->base ? gpa - w->base : 0;
    uint64_t hi = gpa + len < w->base + w->len ? gpa + len - w->base : w->len; /* exclusive */
    for (uint64_t g = lo / VSIM_ARENA_WATCH_GRAIN; g <= (hi - 1) / VSIM_ARENA_WATCH_GRAIN; g++)
      w->bits[g / 64] |= UINT64_C(1) << (g % 64);
  }
}

/* Append to a growing list of ranges; false when it cannot grow. */
static bool push_extent(vsim_arena_extent **v, size_t *n, size_t *cap, uint64_t gpa, uint64_t len) {
  if (*n == *cap) {
    size_t nc = *cap ? 2 * *cap : 64;
    vsim_arena_extent *nv = realloc(*v, nc * sizeof *nv);
    if (!nv) return false;
    *v = nv;
    *cap = nc;
  }
  (*v)[(*n)++] = (vsim_arena_extent){gpa, len};
  return true;
}

void vsim_arena_note_span(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint64_t len) {
  for (unsigned i = 0; i < a->nwatch; i++)
    if (overlaps(&a->watch[i], gpa, len)) a->watch_lost = true;
  if (!a->mirror || len == 0) return;
  if (!((a->mirror_sides >> side) & 1u)) {
    if (a->mirror_others) vsim_arena_mirror_other(a, gpa, len);
    return;
  }
  if (a->nmspan && a->mspan[a->nmspan - 1].gpa == gpa && a->mspan[a->nmspan - 1].len == len) return;
  if (!push_extent(&a->mspan, &a->nmspan, &a->mspan_cap, gpa, len)) a->mspan_lost = true;
}

/* ---- the mirror ---- */

void vsim_arena_mirror_start(vsim_arena *a, uint8_t *shadow, unsigned sides) {
  a->mirror = shadow;
  a->mirror_sides = sides;
  a->nmspan = 0;
  a->mspan_lost = false;
}

void vsim_arena_mirror_track_others(vsim_arena *a) { a->mirror_others = true; }

void vsim_arena_mirror_other(vsim_arena *a, uint64_t gpa, uint64_t len) {
  if (a->noext && a->oext[a->noext - 1].gpa + a->oext[a->noext - 1].len == gpa) {
    a->oext[a->noext - 1].len += len; /* the next bytes of the same run */
    return;
  }
  if (!push_extent(&a->oext, &a->noext, &a->oext_cap, gpa, len)) a->mspan_lost = true;
}

const vsim_arena_extent *vsim_arena_mirror_others(const vsim_arena *a, size_t *n, bool *lost) {
  *n = a->noext;
  *lost = a->mspan_lost;
  return a->oext;
}

void vsim_arena_mirror_others_clear(vsim_arena *a) { a->noext = 0; }

void vsim_arena_mirror_stop(vsim_arena *a) {
  a->mirror = NULL;
  a->mirror_sides = 0;
  a->mirror_others = false;
  free(a->oext);
  a->oext = NULL;
  a->noext = a->oext_cap = 0;
  free(a->mspan);
  a->mspan = NULL;
  a->nmspan = a->mspan_cap = 0;
}

bool vsim_arena_mirror_flush(vsim_arena *a) {
  for (size_t i = 0; a->mirror && i < a->nmspan; i++)
    memcpy(a->mirror + a->mspan[i].gpa, a->mem + a->mspan[i].gpa, (size_t)a->mspan[i].len);
  a->nmspan = 0;
  bool ok = !a->mspan_lost;
  a->mspan_lost = false;
  return ok;
}

static void watch_bounds(vsim_arena *a) {
  a->watch_lo = UINT64_MAX;
  a->watch_hi = 0;
  for (unsigned i = 0; i < a->nwatch; i++) {
    if (a->watch[i].base < a->watch_lo) a->watch_lo = a->watch[i].base;
    if (a->watch[i].base + a->watch[i].len > a->watch_hi) a->watch_hi = a->watch[i].base + a->watch[i].len;
  }
}

int vsim_arena_watch_add(vsim_arena *a, uint64_t base, uint64_t len, uint64_t *bits) {
  if (a->nwatch >= VSIM_ARENA_MAX_WATCHES || !bits || len == 0 || base > a->size || len > a->size - base)
    return -1;
  a->watch[a->nwatch++] = (vsim_arena_watch){base, len, bits};
  watch_bounds(a);
  return 0;
}

void vsim_arena_watch_remove(vsim_arena *a, const uint64_t *bits) {
  for (unsigned i = 0; i < a->nwatch; i++)
    if (a->watch[i].bits == bits) {
      a->watch[i] = a->watch[--a->nwatch];
      break;
    }
  watch_bounds(a);
}

/* Guest memory is little-endian; le.h assembles bytes explicitly so the
 * engine is correct on any host (compilers turn it into one load or store).
 * The scalar helpers are the hottest accessors of a run (ring indices,
 * descriptors, request headers): the plain case is checked and copied here
 * directly, everything else takes the general path with its region walk and
 * fault report. */
int vsim_arena_read16(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint16_t *v) {
  uint8_t b[2];
  if (vsim_arena_plain(a, gpa, 2)) {
    vsim_arena_count(a, side);
    *v = vsim_le_ld16(a->mem + gpa);
    return 0;
  }
  int r = vsim_arena_read(a, side, gpa, b, 2);
  if (r) return r;
  *v = vsim_le_ld16(b);
  return 0;
}

int vsim_arena_read32(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint32_t *v) {
  uint8_t b[4];
  if (vsim_arena_plain(a, gpa, 4)) {
    vsim_arena_count(a, side);
    *v = vsim_le_ld32(a->mem + gpa);
    return 0;
  }
  int r = vsim_arena_read(a, side, gpa, b, 4);
  if (r) return r;
  *v = vsim_le_ld32(b);
  return 0;
}

int vsim_arena_read64(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint64_t *v) {
  uint8_t b[8];
  if (vsim_arena_plain(a, gpa, 8)) {
    vsim_arena_count(a, side);
    *v = vsim_le_ld64(a->mem + gpa);
    return 0;
  }
  int r = vsim_arena_read(a, side, gpa, b, 8);
  if (r) return r;
  *v = vsim_le_ld64(b);
  return 0;
}

int vsim_arena_write16(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint16_t v) {
  uint8_t b[2];
  vsim_le_st16(b, v);
  if (vsim_arena_plain(a, gpa, 2)) {
    vsim_arena_count(a, side);
    memcpy(a->mem + gpa, b, 2);
    vsim_arena_note(a, side, gpa, 2);
    return 0;
  }
  return vsim_arena_write(a, side, gpa, b, 2);
}

int vsim_arena_write32(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint32_t v) {
  uint8_t b[4];
  vsim_le_st32(b, v);
  if (vsim_arena_plain(a, gpa, 4)) {
    vsim_arena_count(a, side);
    memcpy(a->mem + gpa, b, 4);
    vsim_arena_note(a, side, gpa, 4);
    return 0;
  }
  return vsim_arena_write(a, side, gpa, b, 4);
}

int vsim_arena_write64(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint64_t v) {
  uint8_t b[8];
  vsim_le_st64(b, v);
  if (vsim_arena_plain(a, gpa, 8)) {
    vsim_arena_count(a, side);
    memcpy(a->mem + gpa, b, 8);
    vsim_arena_note(a, side, gpa, 8);
    return 0;
  }
  return vsim_arena_write(a, side, gpa, b, 8);
}
