/* frontend-model/fs_drv.c — the virtio-fs driver model (see fs_drv.h). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_fs.h>
#include "fs_drv.h"

#define FS_CONFIG_DEV "devicenormative:Device Types / File System Device / Device configuration layout"

uint64_t vsim_fs_drv_understood(void) { return vsim_driver_core_features(); }

void vsim_fs_drv_probe(vsim_fs_drv *f, vsim_driver *drv, vsim_fs_fail_fn fail, void *ctx) {
  memset(f, 0, sizeof *f);
  const uint32_t tag_off = offsetof(struct virtio_fs_config, tag);
  const uint32_t tag_len = sizeof ((struct virtio_fs_config *)0)->tag;
  for (uint32_t i = 0; i < tag_len; i += 4) {
    uint32_t w = (uint32_t)vsim_driver_config_read(drv, tag_off + i, 4);
    for (unsigned b = 0; b < 4; b++) f->tag[i + b] = (char)(w >> (8 * b));
  }
  f->tag[tag_len] = 0;
  f->num_request_queues =
      (uint32_t)vsim_driver_config_read(drv, offsetof(struct virtio_fs_config, num_request_queues), 4);
  char msg[320];
  if (f->num_request_queues == 0) {
    snprintf(msg, sizeof msg, "fs config: num_request_queues is 0; the device MUST set it to 1 or more (%s)",
             FS_CONFIG_DEV);
    fail(ctx, msg);
  } else if ((uint64_t)drv->nq > 1u + (uint64_t)f->num_request_queues) {
    snprintf(msg, sizeof msg,
             "fs config: num_request_queues is %u, so the device has %u queues, but the scenario sets up %u "
             "(num_queues)", f->num_request_queues, 1u + f->num_request_queues, drv->nq);
    fail(ctx, msg);
  }
}
