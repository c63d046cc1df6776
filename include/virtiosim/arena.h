/* virtiosim/arena.h — guest RAM as seen by the driver model and by device backends.
 *
 * Owns: the memory that stands for guest RAM, its region table, and the only
 * accessors through which a backend may touch it. Every access names its side
 * (driver or device) and direction; an access outside a region, across a hole,
 * or against the region's permission for that side fails with an error value
 * and is reported to the arena's fault sink. It never aborts.
 * Must never: hand out a pointer that has not been bounds-checked.
 */
#ifndef VIRTIOSIM_ARENA_H
#define VIRTIOSIM_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vsim_arena vsim_arena;

enum vsim_side { VSIM_SIDE_DRIVER = 0, VSIM_SIDE_DEVICE = 1 };

/* Access bits: a region grants them per side. */
enum vsim_access { VSIM_ACC_READ = 1u, VSIM_ACC_WRITE = 2u, VSIM_ACC_RW = 3u };

/* Region permissions: low two bits for the driver, next two for the device. */
#define VSIM_REGION_PERM(drv, dev) ((unsigned)(drv) | ((unsigned)(dev) << 2))
#define VSIM_REGION_RAM VSIM_REGION_PERM(VSIM_ACC_RW, VSIM_ACC_RW)
#define VSIM_REGION_HOLE VSIM_REGION_PERM(0, 0)

#define VSIM_ARENA_MAX_REGIONS 16

/* A checked window into the arena: valid until the arena is freed. */
typedef struct vsim_span {
  uint8_t *ptr;
  uint64_t gpa;
  uint64_t len;
} vsim_span;

/* What a failed access looked like; the sink turns it into a violation. */
typedef struct vsim_arena_fault {
  enum vsim_side side;
  unsigned access;
  uint64_t gpa;
  uint64_t len;
} vsim_arena_fault;

typedef void (*vsim_arena_fault_fn)(void *ctx, const vsim_arena_fault *fault);

/* Error values returned by the accessors (0 = success). */
#define VSIM_ARENA_OK 0
#define VSIM_ARENA_EFAULT (-14)

vsim_arena *vsim_arena_new(uint64_t size);
void vsim_arena_free(vsim_arena *a);
uint64_t vsim_arena_size(const vsim_arena *a);

/* Mark [base, base+len) with `perm` (VSIM_REGION_PERM). Later regions override
 * earlier ones where they overlap. Returns 0 or a negative error. */
int vsim_arena_set_region(vsim_arena *a, uint64_t base, uint64_t len, unsigned perm);

void vsim_arena_set_fault_sink(vsim_arena *a, vsim_arena_fault_fn fn, void *ctx);
uint64_t vsim_arena_fault_count(const vsim_arena *a);
/* The refused accesses of one side (the fuzzers tell a hostile device's from
 * the driver model's). */
uint64_t vsim_arena_fault_count_side(const vsim_arena *a, enum vsim_side side);

/* The accesses of one side so far: vsim_arena_read / write / span calls
 * (and the scalar helpers built on them), refused ones included. The
 * engine's measure of how much work a device does (VSIM_BACKEND_CHAIN_WORK
 * in backend.h); checks (vsim_arena_check) are not accesses. */
uint64_t vsim_arena_access_count_side(const vsim_arena *a, enum vsim_side side);

/* True when [gpa, gpa+len) is inside the arena, does not wrap, and every
 * byte is granted `access` for `side`. Does not report. len 0 is valid
 * anywhere inside or at the end of the arena. */
bool vsim_arena_check(const vsim_arena *a, enum vsim_side side, uint64_t gpa,
                      uint64_t len, unsigned access);

/* Checked copies; on failure nothing is copied, the fault is reported to the
 * sink, and VSIM_ARENA_EFAULT is returned. */
int vsim_arena_read(vsim_arena *a, enum vsim_side side, uint64_t gpa, void *dst,
                    uint64_t len);
int vsim_arena_write(vsim_arena *a, enum vsim_side side, uint64_t gpa,
                     const void *src, uint64_t len);

/* Zero-copy: a checked span into the arena, for in-place access. */
int vsim_arena_span(vsim_arena *a, enum vsim_side side, uint64_t gpa,
                    uint64_t len, unsigned access, vsim_span *out);

/* Little-endian scalar helpers (checked, reporting). */
int vsim_arena_read16(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint16_t *v);
int vsim_arena_read32(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint32_t *v);
int vsim_arena_read64(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint64_t *v);
int vsim_arena_write16(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint16_t v);
int vsim_arena_write32(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint32_t v);
int vsim_arena_write64(vsim_arena *a, enum vsim_side side, uint64_t gpa, uint64_t v);

/* Unchecked base pointer, for the engine's own observers (checkers, pictures),
 * which only read, always within bounds they have checked themselves. */
const uint8_t *vsim_arena_base(const vsim_arena *a);

#ifdef __cplusplus
}
#endif
#endif
