/* sim/arena_memfd.c — guest RAM as a sealed memfd (see arena_shared.h).
 *
 * Why a memfd: a vhost-user back-end maps guest RAM from the fd it receives
 * with SET_MEM_TABLE, so the arena must be a file both processes map
 * MAP_SHARED. The seals make the length a fact the peer can rely on: a
 * truncation under a peer's mapping would SIGBUS it, which we would then
 * wrongly report as the back-end's crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "arena_shared.h"

typedef struct memfd_ram {
  vsim_arena_memfd_info info;
} memfd_ram;

static void memfd_release(void *ctx) {
  memfd_ram *r = ctx;
  munmap(r->info.map, (size_t)r->info.file_size);
  close(r->info.fd);
  free(r);
}

vsim_arena *vsim_arena_new_memfd(uint64_t size, char *err, unsigned errlen) {
  long page = sysconf(_SC_PAGESIZE);
  uint64_t pg = page > 0 ? (uint64_t)page : 4096;
  if (size == 0 || size > (UINT64_C(1) << 40)) {
    snprintf(err, errlen, "guest memory of %llu bytes is out of range", (unsigned long long)size);
    return NULL;
  }
  uint64_t file_size = (size + pg - 1) / pg * pg;
  memfd_ram *r = calloc(1, sizeof *r);
  if (!r) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  /* close-on-exec: the daemon we start gets the fd only through SCM_RIGHTS */
  int fd = memfd_create("virtio-sim-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    snprintf(err, errlen, "memfd_create: %s", strerror(errno));
    free(r);
    return NULL;
  }
  if (ftruncate(fd, (off_t)file_size) != 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    snprintf(err, errlen, "sizing and sealing the guest memory memfd: %s", strerror(errno));
    close(fd);
    free(r);
    return NULL;
  }
  void *map = mmap(NULL, (size_t)file_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) {
    snprintf(err, errlen, "mmap of the guest memory memfd: %s", strerror(errno));
    close(fd);
    free(r);
    return NULL;
  }
  r->info = (vsim_arena_memfd_info){fd, file_size, map};
  /* a fresh memfd reads as zeroes, like calloc'd guest RAM */
  vsim_arena *a = vsim_arena_adopt(map, size, memfd_release, r);
  if (!a) {
    memfd_release(r);
    snprintf(err, errlen, "out of memory");
  }
  return a;
}

bool vsim_arena_memfd(const vsim_arena *a, vsim_arena_memfd_info *out) {
  const memfd_ram *r = vsim_arena_owner(a, memfd_release);
  if (!r) return false;
  *out = r->info;
  return true;
}
