/* reports/scanout_png.c — a GPU scanout as a PNG file (see scanout_png.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_gpu.h>
#include <linux/virtio_ids.h>
#include "devcore.h"
#include "gpu.h"
#include "png.h"
#include "replay.h"
#include "scanout_png.h"

int vsim_scanout_to_rgba(uint32_t format, const uint8_t *src, uint8_t *rgba, size_t n) {
  /* where R, G, B and A sit in a pixel's 4 bytes; -1: an X byte (opaque) */
  int r, g, b, a;
  switch (format) {
  case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM: b = 0, g = 1, r = 2, a = 3; break;
  case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM: b = 0, g = 1, r = 2, a = -1; break;
  case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM: a = 0, r = 1, g = 2, b = 3; break;
  case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM: a = -1, r = 1, g = 2, b = 3; break;
  case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM: r = 0, g = 1, b = 2, a = 3; break;
  case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM: a = -1, b = 1, g = 2, r = 3; break;
  case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM: a = 0, b = 1, g = 2, r = 3; break;
  case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM: r = 0, g = 1, b = 2, a = -1; break;
  default: return -1;
  }
  for (size_t i = 0; i < n; i++, src += 4, rgba += 4) {
    rgba[0] = src[r];
    rgba[1] = src[g];
    rgba[2] = src[b];
    rgba[3] = a < 0 ? 0xff : src[a];
  }
  return 0;
}

int vsim_scanout_png(vsim_sim *s, uint32_t scanout, const char *path, char *err, size_t errlen) {
  const vsim_devcore *dc = vsim_sim_view_devcore(s);
  if (!dc || dc->device_id != VIRTIO_ID_GPU) {
    snprintf(err, errlen, "--scanout-png: the device is not the built-in gpu model");
    return -1;
  }
  void *model = (void *)dc; /* the core is the gpu model's first member */
  uint32_t w, h, fmt;
  if (vsim_gpu_scanout_read(model, scanout, NULL, 0, &w, &h, &fmt)) {
    snprintf(err, errlen, "--scanout-png: scanout %u shows nothing at the end of the run", scanout);
    return -1;
  }
  size_t n = (size_t)w * h; /* a resource holds at most 2^28 pixels (1 GiB) */
  uint8_t *px = malloc(n * 4), *rgba = malloc(n * 4);
  int rc = -1;
  if (!px || !rgba) {
    snprintf(err, errlen, "--scanout-png: out of memory");
  } else {
    vsim_gpu_scanout_read(model, scanout, px, n * 4, &w, &h, &fmt);
    if (vsim_scanout_to_rgba(fmt, px, rgba, n))
      snprintf(err, errlen, "--scanout-png: unknown pixel format %u", fmt);
    else if (vsim_png_write(path, rgba, w, h))
      snprintf(err, errlen, "--scanout-png: cannot write %s: %s", path, strerror(errno));
    else
      rc = 0;
  }
  free(px);
  free(rgba);
  return rc;
}
