/* reports/scanout_png.h — the picture a GPU scanout shows, as a PNG file.
 *
 * Owns: turning the built-in gpu model's scanout (its resource's pixels in
 * one of the virtio-gpu formats, which name the bytes in memory order) into
 * RGBA and writing it with the PNG encoder (png.h). `virtio-sim run
 * --scanout-png FILE` calls it at the end of a run.
 * Must never: look at a device that is not the built-in gpu model.
 */
#ifndef VSIM_SCANOUT_PNG_H
#define VSIM_SCANOUT_PNG_H

#include <stddef.h>
#include <stdint.h>
#include "virtiosim/virtiosim.h"

/* Convert n pixels of virtio-gpu format `format` to R G B A (an X byte
 * becomes alpha 255). Returns -1 for a format that is not one of
 * enum virtio_gpu_formats. */
int vsim_scanout_to_rgba(uint32_t format, const uint8_t *src, uint8_t *rgba, size_t n);
/* Write scanout `scanout` of the run's device to `path`: 0, or -1 with a
 * message in err (not a gpu model, the scanout shows nothing, I/O). */
int vsim_scanout_png(vsim_sim *s, uint32_t scanout, const char *path, char *err, size_t errlen);

#endif
