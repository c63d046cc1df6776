/* frontend-model/transport_mmio.h — the driver's virtio-mmio accessor.
 *
 * Owns: the register sequences a driver uses on virtio-mmio (feature windows,
 * queue selection and addresses, notify, interrupt ack), and the driver mutants
 * that break the MMIO access rules. Must never: bypass vsim_mmio_read/write.
 */
#ifndef VSIM_TRANSPORT_MMIO_H
#define VSIM_TRANSPORT_MMIO_H

#include "mmio.h"
#include "transport.h"
#include "virtiosim/mutants.h"

typedef struct vsim_drv_mmio {
  vsim_mmio *m;
  vsim_mutset mutants;
  uint64_t queues_reset; /* queues (below 64) reset alone and not enabled since: drv.queue-reenable-stale */
  uint32_t queues_set_up; /* highest queue index set up + 1: drv.mmio-notify-past-last */
} vsim_drv_mmio;

extern const vsim_drv_transport_ops vsim_drv_mmio_ops;

#endif
