/* sim/datafile.c — finding shipped data files (see datafile.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "datafile.h"

static bool exists(const char *p) {
  struct stat st;
  return stat(p, &st) == 0;
}

bool vsim_datafile_find(const char *rel, char *out, size_t outlen) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0; /* the executable's directory: build/, build/asan/ or PREFIX/bin */
    /* its parent is the repository (or PREFIX); a build variant one level
     * deeper (build/asan/virtio-sim) finds it one level further up */
    for (int up = 0; slash && up < 2; up++) {
      slash = strrchr(exe, '/');
      if (!slash) break;
      *slash = 0;
      snprintf(out, outlen, "%s/%s", exe, rel);
      if (exists(out)) return true;
      snprintf(out, outlen, "%s/share/virtio-sim/%s", exe, rel);
      if (exists(out)) return true;
    }
  }
  snprintf(out, outlen, "%s", rel);
  return exists(out);
}
