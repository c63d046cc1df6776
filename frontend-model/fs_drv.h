/* frontend-model/fs_drv.h — the virtio-fs driver model: what is fs-specific.
 *
 * Owns: the feature bits a virtio-fs driver understands (the ring and
 * transport ones only: VIRTIO_FS_F_NOTIFICATION is not implemented, so it is
 * never accepted), and the probe after DRIVER_OK: the configuration space
 * (tag[36], num_request_queues) read with the generation loop, and judged
 * (devicenormative: File System Device / Device configuration layout: at
 * least one request queue; the queues the driver uses exist). Requests are
 * FUSE messages the scenario carries as bytes (req.raw, req_drv.h): queue 0
 * is the hiprio queue, 1.. the request queues.
 * Must never: read or write a blk field, or write the configuration space.
 */
#ifndef VSIM_FS_DRV_H
#define VSIM_FS_DRV_H

#include <stdint.h>
#include "driver.h"

typedef void (*vsim_fs_fail_fn)(void *ctx, const char *msg);

typedef struct vsim_fs_drv {
  char tag[37];                 /* as read, NUL-terminated */
  uint32_t num_request_queues;
} vsim_fs_drv;

/* The feature bits this driver understands. */
uint64_t vsim_fs_drv_understood(void);
/* Read and judge the configuration space of a live device; a device that
 * breaks a rule is a failure through `fail`. */
void vsim_fs_drv_probe(vsim_fs_drv *f, vsim_driver *drv, vsim_fs_fail_fn fail, void *ctx);

#endif
