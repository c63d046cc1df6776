/* sim/arena.c — guest RAM and its checked accessors (see virtiosim/arena.h).
 *
 * The common case is one RAM region covering the arena: then a check is two
 * comparisons. With a region table, permissions are resolved per region
 * overlap (at most VSIM_ARENA_MAX_REGIONS, later regions win), so a check is
 * bounded whatever the guest asks for.
 */
#include <stdlib.h>
#include <string.h>
#include "arena_shared.h"
#include "virtiosim/arena.h"

typedef struct arena_region {
  uint64_t base, len;
  unsigned perm;
} arena_region;

struct vsim_arena {
  uint8_t *mem;
  uint64_t size;
  unsigned nregions;               /* 0: the whole arena is RAM for both sides */
  /* +1: the implicit all-RAM region takes a slot once regions are set */
  arena_region regions[VSIM_ARENA_MAX_REGIONS + 1];
  vsim_arena_fault_fn fault_fn;
  void *fault_ctx;
  uint64_t faults;
  /* memory someone else owns (vsim_arena_adopt), freed through this */
  vsim_arena_release_fn release;
  void *release_ctx;
};

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
    a->regions[0] = (arena_region){0, a->size, VSIM_REGION_RAM};
    a->nregions = 1;
  }
  a->regions[a->nregions++] = (arena_region){base, len, perm & 0xf};
  return 0;
}

void vsim_arena_set_fault_sink(vsim_arena *a, vsim_arena_fault_fn fn, void *ctx) {
  a->fault_fn = fn;
  a->fault_ctx = ctx;
}

uint64_t vsim_arena_fault_count(const vsim_arena *a) { return a->faults; }

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
      const arena_region *r = &a->regions[i];
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
  if (a->fault_fn) {
    vsim_arena_fault f = {side, access, gpa, len};
    a->fault_fn(a->fault_ctx, &f);
  }
  return VSIM_ARENA_EFAULT;
}

int vsim_arena_read(vsim_arena *a, enum vsim_side side, uint64_t gpa, void *dst,
                    uint64_t len) {
  if (!vsim_arena_check(a, side, gpa, len, VSIM_ACC_READ))
    return fault(a, side, gpa, len, VSIM_ACC_READ);
  if (len) memcpy(dst, a->mem + gpa, (size_t)len);
  return 0;
}

int vsim_arena_write(vsim_arena *a, enum vsim_side side, uint64_t gpa,
                     const void *src, uint64_t len) {
  if (!vsim_arena_check(a, side, gpa, len, VSIM_ACC_WRITE))
    return fault(a, side, gpa, len, VSIM_ACC_WRITE);
  if (len) memcpy(a->mem + gpa, src, (size_t)len);
  return 0;
}

int vsim_arena_span(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint64_t len,
                    unsigned access, vsim_span *out) {
  if (!vsim_arena_check(a, side, gpa, len, access)) {
    out->ptr = NULL;
    out->gpa = gpa;
    out->len = 0;
    return fault(a, side, gpa, len, access);
  }
  out->ptr = a->mem + gpa;
  out->gpa = gpa;
  out->len = len;
  return 0;
}

/* Guest memory is little-endian; assemble bytes explicitly so the engine is
 * correct on any host. */
int vsim_arena_read16(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint16_t *v) {
  uint8_t b[2];
  int r = vsim_arena_read(a, side, gpa, b, 2);
  if (r) return r;
  *v = (uint16_t)(b[0] | (b[1] << 8));
  return 0;
}

int vsim_arena_read32(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint32_t *v) {
  uint8_t b[4];
  int r = vsim_arena_read(a, side, gpa, b, 4);
  if (r) return r;
  *v = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
  return 0;
}

int vsim_arena_read64(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint64_t *v) {
  uint32_t lo, hi;
  if (!vsim_arena_check(a, side, gpa, 8, VSIM_ACC_READ))
    return fault(a, side, gpa, 8, VSIM_ACC_READ);
  vsim_arena_read32(a, side, gpa, &lo);
  vsim_arena_read32(a, side, gpa + 4, &hi);
  *v = (uint64_t)lo | ((uint64_t)hi << 32);
  return 0;
}

int vsim_arena_write16(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint16_t v) {
  uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  return vsim_arena_write(a, side, gpa, b, 2);
}

int vsim_arena_write32(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  return vsim_arena_write(a, side, gpa, b, 4);
}

int vsim_arena_write64(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
  return vsim_arena_write(a, side, gpa, b, 8);
}
