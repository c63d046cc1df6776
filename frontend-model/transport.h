/* frontend-model/transport.h — how the driver model reaches a device.
 *
 * Owns: the driver-side transport interface: status, features, queue set-up,
 * notify, interrupt status, config space. virtio-mmio implements it with
 * register accesses (transport_mmio.c); virtio-pci will implement it with
 * capability-structure accesses. The driver core never knows which.
 */
#ifndef VSIM_DRV_TRANSPORT_H
#define VSIM_DRV_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>
#include "virtiosim/backend.h"

typedef struct vsim_drv_transport_ops {
  bool (*probe)(void *t);                 /* magic/version/device id sane? */
  uint32_t (*device_id)(void *t);
  uint8_t (*get_status)(void *t);
  void (*set_status)(void *t, uint8_t status);
  uint64_t (*get_features)(void *t);
  void (*set_features)(void *t, uint64_t features);
  uint16_t (*queue_max)(void *t, uint16_t q);
  /* configure and enable a queue; returns 0, or -1 when the device refused */
  int (*queue_enable)(void *t, uint16_t q, const vsim_queue_cfg *cfg);
  void (*notify)(void *t, uint16_t q, uint32_t value);
  /* VIRTIO_F_RING_RESET: reset queue q and verify it reads back reset
   * (the spec: the driver MUST verify); 0 or -1 when it did not reset */
  int (*queue_reset)(void *t, uint16_t q);
  /* read and acknowledge the interrupt status: bit 0 used buffer, bit 1 config */
  uint32_t (*take_interrupts)(void *t);
  uint32_t (*pending_interrupts)(void *t); /* without acknowledging */
  uint32_t (*config_generation)(void *t);
  int (*config_read)(void *t, uint32_t off, void *dst, uint32_t len);
  int (*config_write)(void *t, uint32_t off, const void *src, uint32_t len);
} vsim_drv_transport_ops;

typedef struct vsim_drv_transport {
  const vsim_drv_transport_ops *ops;
  void *t;
} vsim_drv_transport;

#endif
