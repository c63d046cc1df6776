/* sim/arena_shared.h — guest RAM that another process can map.
 *
 * Owns: the arena constructors beyond the public header. vsim_arena_adopt
 * (sim/arena.c) wraps memory someone else mapped in the same checked
 * accessors; vsim_arena_new_memfd (sim/arena_memfd.c) makes that memory a
 * sealed memfd, so that an out-of-process vhost-user back-end can map the
 * very pages the driver model writes (SET_MEM_TABLE hands it the fd).
 * Must never: let the memfd grow or shrink under a peer that mapped it (it is
 * sealed against both), nor leak it into a child across exec (close-on-exec).
 */
#ifndef VSIM_ARENA_SHARED_H
#define VSIM_ARENA_SHARED_H

#include <stdint.h>
#include "virtiosim/arena.h"

/* Called once by vsim_arena_free with the ctx given to vsim_arena_adopt: it
 * unmaps and frees what the constructor mapped. */
typedef void (*vsim_arena_release_fn)(void *ctx);

/* An arena over `size` bytes at `mem`, which the caller mapped; `release`
 * frees them with the arena. NULL on a bad argument or out of memory. */
vsim_arena *vsim_arena_adopt(uint8_t *mem, uint64_t size, vsim_arena_release_fn release, void *ctx);
/* The ctx of an arena adopted with `release`, else NULL (how a module finds
 * its own bookkeeping again without the arena knowing what it is). */
void *vsim_arena_owner(const vsim_arena *a, vsim_arena_release_fn release);

/* Guest RAM as one memfd of `size` bytes (rounded up to whole pages in the
 * file, the arena keeps `size`), zeroed, sealed with F_SEAL_SHRINK and
 * F_SEAL_GROW, mapped MAP_SHARED. NULL with a message in err. */
vsim_arena *vsim_arena_new_memfd(uint64_t size, char *err, unsigned errlen);

/* The shared memory behind an arena made by vsim_arena_new_memfd: its fd
 * (owned by the arena: dup it to keep it), its length in the file (a whole
 * number of pages) and where this process mapped it. false for any other
 * arena. */
typedef struct vsim_arena_memfd_info {
  int fd;
  uint64_t file_size;
  uint8_t *map;
} vsim_arena_memfd_info;
bool vsim_arena_memfd(const vsim_arena *a, vsim_arena_memfd_info *out);

#endif
