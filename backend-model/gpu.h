/* backend-model/gpu.h — the built-in virtio-gpu device model (2D).
 *
 * Owns: the virtio_gpu_config bytes (events_read, events_clear write-to-clear,
 * num_scanouts, num_capsets), the host side of 2D resources (pixels held by
 * the device, a private copy of each resource's backing list), the scanouts
 * and the cursor, and the execution of one controlq or cursorq command per
 * chain. Features, status, queues and the worker loop belong to the device
 * core (devcore.h).
 * Must never: trust a guest size, rectangle or offset without overflow-safe
 * checks, hold more resource bytes than its `max_resource_bytes` budget, do
 * work beyond O(request + backing entries + bytes a transfer copies), read a
 * guest structure twice to make one decision, write backing memory, or report
 * a violation about itself (the driver model judges it from outside).
 */
#ifndef VSIM_GPU_H
#define VSIM_GPU_H

#include <stddef.h>
#include <stdint.h>
#include "virtiosim/backend.h"
#include "chain.h"

/* Upper bounds of the device_config settings (memory sized up front). */
#define VSIM_GPU_MAX_RESOURCES 1024u
#define VSIM_GPU_MAX_ENTRIES 1024u
#define VSIM_GPU_MAX_BYTES (UINT64_C(1) << 30)
#define VSIM_GPU_MAX_DIM 16384u

/* Create a virtio-gpu device. device_config keys (all values are strings):
 * num_scanouts (1..16, default 1), width / height (the displays' preferred
 * size, default 1024x768), edid (offer VIRTIO_GPU_F_EDID, default true),
 * resource_uuid (offer VIRTIO_GPU_F_RESOURCE_UUID, default false),
 * max_resource_bytes (total pixel bytes of all resources, default 16 MiB),
 * max_resources (default 64), max_backing_entries (per attach, default 64;
 * a transfer maps each entry it touches once, one guest-memory access each,
 * so above 4 x queue size + 60 entries it can pass the engine's per-chain
 * work bound, liveness.dev-unbounded-work),
 * display_event (events_read starts with VIRTIO_GPU_EVENT_DISPLAY, as after a
 * display hot-plug, default false). Returns 0, or -1 with a message. */
int vsim_gpu_create(const vsim_backend_params *params, vsim_backend *out, char *err,
                    unsigned errlen);

/* For unit tests: the model's request handler (devmodel ops->request). */
int vsim_gpu_model_request(void *model, uint16_t q, const vsim_chain *chain, uint32_t *used_len);

/* The picture a scanout shows: the rectangle of its resource that
 * SET_SCANOUT named, 4 bytes per pixel in the resource's format, row-major.
 * Writes at most cap bytes to dst (dst may be NULL to ask the size) and
 * returns 0 with *w, *h and *format set, or -1 when the scanout is out of
 * range or shows nothing. `model` is vsim_backend.be of a gpu model. */
int vsim_gpu_scanout_read(void *model, uint32_t scanout, uint8_t *dst, size_t cap, uint32_t *w,
                          uint32_t *h, uint32_t *format);

#endif
