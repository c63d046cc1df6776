/* sim/mmio.h — the virtio-mmio (version 2) register model, device side.
 *
 * Owns: the register file a driver reads and writes (magic, version, ids,
 * feature windows 0-2, queue select/size/ready/addresses/reset, notify,
 * interrupt status/ack, status, config generation, config space at 0x100), the
 * translation of register writes into backend ops, and the driver access rules
 * of the MMIO register layout (width, alignment, direction, undefined offsets,
 * queue registers while ready, QueueSize limits), each a reported violation.
 * The register write is then ignored, as a robust device would.
 * Must never: pass a queue index or config offset to the backend unchecked.
 */
#ifndef VSIM_MMIO_H
#define VSIM_MMIO_H

#include <stdbool.h>
#include <stdint.h>
#include "virtiosim/backend.h"

#include "virtio_compat.h"
#define VSIM_MMIO_MAGIC 0x74726976u

typedef struct vsim_mmio_queue {
  uint32_t size;
  uint32_t ready;
  uint64_t desc, driver, device;
} vsim_mmio_queue;

typedef struct vsim_mmio {
  vsim_backend be;
  const vsim_host *host;      /* violation and event sink */
  uint64_t mutants;
  uint16_t nq;
  vsim_mmio_queue *q;         /* [nq] */
  uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
  uint64_t driver_features;   /* windows 0 and 1 */
  uint32_t driver_features_hi; /* window 2 (bits 64-95): stored, unused */
  uint32_t interrupt_status;
  uint64_t notifies;
  uint64_t resets;            /* device resets (status 0 writes) so far */
} vsim_mmio;

int vsim_mmio_init(vsim_mmio *m, vsim_backend be, const vsim_host *host, uint64_t mutants);
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
