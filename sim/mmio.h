/* sim/mmio.h — the virtio-mmio (version 2) register model, device side.
 *
 * Owns: the register file a driver reads and writes (magic, version, ids,
 * feature windows 0-2, queue select/size/ready/addresses/reset, notify,
 * interrupt status/ack, status, config generation, config space at 0x100), the
 * translation of register writes into backend ops, and the driver access rules
 * of the MMIO register layout (width, alignment, direction, undefined offsets,
 * queue registers while ready, QueueSize limits), each a reported violation.
 * The register write is then ignored, as a robust device would. What a
 * register write means to the device (status machine, feature windows, queue
 * set-up, reset, notify) is the transport core's (sim/tcore.c).
 * Must never: pass a queue index or config offset to the backend unchecked.
 */
#ifndef VSIM_MMIO_H
#define VSIM_MMIO_H

#include <stdbool.h>
#include <stdint.h>
#include "tcore.h"
#include "virtiosim/backend.h"

#include "virtio_compat.h"
#define VSIM_MMIO_MAGIC 0x74726976u

/* The device state behind the registers is the transport core's
 * (sim/tcore.h), shared with virtio-pci; these names keep the MMIO view. */
typedef vsim_tcore_queue vsim_mmio_queue;
typedef vsim_tcore vsim_mmio;

int vsim_mmio_init(vsim_mmio *m, vsim_backend be, const vsim_host *host, vsim_mutset mutants);
void vsim_mmio_fini(vsim_mmio *m);

/* A driver access of `width` bytes (1, 2, 4 or 8). */
uint32_t vsim_mmio_read(vsim_mmio *m, uint32_t off, unsigned width);
void vsim_mmio_write(vsim_mmio *m, uint32_t off, unsigned width, uint32_t val);

/* The device raises interrupt bits (VIRTIO_MMIO_INT_VRING / _CONFIG). */
void vsim_mmio_raise(vsim_mmio *m, uint32_t bits);

/* Side-effect-free views for observers. */
uint32_t vsim_mmio_peek_isr(const vsim_mmio *m);
uint32_t vsim_mmio_peek_queue_ready(const vsim_mmio *m, uint16_t q);

#endif
