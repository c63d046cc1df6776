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
    /* up from the executable's directory: build/virtio-sim and
     * build/asan/virtio-sim both find the repository; PREFIX/bin/virtio-sim
     * finds PREFIX/share/virtio-sim */
    for (int up = 0; up < 3; up++) {
      char *slash = strrchr(exe, '/');
      if (!slash) break;
      *slash = 0;
      if (up == 0) continue; /* the executable's own directory */
      snprintf(out, outlen, "%s/%s", exe, rel);
      if (exists(out)) return true;
      snprintf(out, outlen, "%s/share/virtio-sim/%s", exe, rel);
      if (exists(out)) return true;
    }
  }
  snprintf(out, outlen, "%s", rel);
  return exists(out);
}
