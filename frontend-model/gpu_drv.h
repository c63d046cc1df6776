/* frontend-model/gpu_drv.h — the virtio-gpu driver model: what is gpu-specific.
 *
 * Owns: the feature bits a 2D virtio-gpu driver understands (EDID and
 * RESOURCE_UUID; never VIRGL, blobs or CONTEXT_INIT), the probe after
 * DRIVER_OK (num_scanouts read and judged; a pending VIRTIO_GPU_EVENT_DISPLAY
 * acknowledged through events_clear, then events_read read back), and the
 * device judged from outside on every completed req.raw request (the
 * scenario carries the command bytes): the response type, the fence echo,
 * fenced commands processed before their response, display info. Checks:
 * gpu.dev-response-type, gpu.dev-fence-echo, gpu.dev-fence-complete,
 * gpu.dev-display-info, gpu.dev-events-clear. And the driver's own rules on
 * each req.raw command before it goes (the bytes are the scenario's, a
 * driver mutant may change them): blob sizes and map offsets aligned to
 * blob_alignment (gpu.drv-blob-size-aligned, gpu.drv-map-offset-aligned).
 * Must never: write a config field but events_clear, or read a reply byte
 * past the used length (the req.raw layer bounds it).
 */
#ifndef VSIM_GPU_DRV_H
#define VSIM_GPU_DRV_H

#include <stdint.h>
#include "driver.h"

/* Resource ids remembered as created by a fenced, answered command. */
#define VSIM_GPU_DRV_FENCED 64u

typedef struct vsim_gpu_drv {
  vsim_driver *drv;
  const vsim_host *sink;
  uint32_t num_scanouts;           /* as read at probe */
  uint32_t blob_alignment;         /* as read at probe with BLOB_ALIGNMENT negotiated, else 0 */
  uint32_t fenced[VSIM_GPU_DRV_FENCED];
  uint32_t nfenced;
} vsim_gpu_drv;

uint64_t vsim_gpu_drv_understood(void);
void vsim_gpu_drv_init(vsim_gpu_drv *g, vsim_driver *drv, const vsim_host *sink);
/* A live device: read and judge the config space, acknowledge events, and
 * forget what the last device instance was told (a reset dropped it). */
void vsim_gpu_drv_probe(vsim_gpu_drv *g);
/* The req.raw observer before a request goes (vsim_req_drv.on_submit). */
void vsim_gpu_drv_submit(void *ctx, uint16_t q, uint8_t *out, uint32_t *out_len, uint32_t *in_len);
/* The req.raw observer (vsim_req_drv.on_complete): ctx is the vsim_gpu_drv. */
void vsim_gpu_drv_on_complete(void *ctx, uint16_t q, const uint8_t *out, uint32_t out_len,
                              const uint8_t *in, uint32_t in_len, uint32_t used);

#endif
