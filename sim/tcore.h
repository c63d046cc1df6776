/* sim/tcore.h — the device side every virtio transport shares.
 *
 * Owns: the transport-neutral device state a driver reaches through a
 * register layout (feature windows and their selectors, the queue selector,
 * per-queue size / enable / ring addresses, the interrupt status, the
 * notification and reset counters), and what register writes mean to the
 * device: the status machine (reset clears the queues, the interrupt status
 * and the accepted features), feature-window writes (refused after
 * FEATURES_OK), enabling a queue (size checks, then the backend's
 * queue_ready), queue reset, notifications and interrupt acknowledgement,
 * each translated into backend ops and trace events.
 * The register layouts (virtio-mmio: sim/mmio.c, virtio-pci: sim/pci.c)
 * decode offsets and widths, judge the driver's access rules of their layout
 * and then call in here; rule breaches the core finds are returned as values
 * and reported by the layout, in its own words.
 * Must never: know a register offset; pass a queue index to the backend
 * unchecked.
 */
#ifndef VSIM_TCORE_H
#define VSIM_TCORE_H

#include <stdbool.h>
#include <stdint.h>
#include "virtiosim/backend.h"

typedef struct vsim_tcore_queue {
  uint32_t size;              /* 0 until the driver writes one */
  uint32_t ready;             /* QueueReady (mmio) / queue_enable (pci) */
  uint64_t desc, driver, device;
  uint16_t vector;            /* the interrupt vector a layout maps it to (virtio-pci's
                                 queue_msix_vector); VIRTIO_MSI_NO_VECTOR after any reset */
} vsim_tcore_queue;

typedef struct vsim_tcore {
  vsim_backend be;
  const vsim_host *host;      /* violation and event sink */
  vsim_mutset mutants;
  uint16_t nq;
  vsim_tcore_queue *q;        /* [nq] */
  uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
  uint64_t driver_features;   /* windows 0 and 1 */
  uint32_t driver_features_hi; /* window 2 (bits 64-95): stored, unused */
  uint32_t interrupt_status;
  uint16_t config_vector;     /* configuration-change vector (virtio-pci's config_msix_vector) */
  uint64_t notifies;
  uint64_t resets;            /* device resets (status 0 writes) so far */
} vsim_tcore;

int vsim_tcore_init(vsim_tcore *c, vsim_backend be, const vsim_host *host, vsim_mutset mutants);
void vsim_tcore_fini(vsim_tcore *c);

/* The queue queue_sel names, or NULL past the last one. */
vsim_tcore_queue *vsim_tcore_sel_queue(vsim_tcore *c);
bool vsim_tcore_negotiated(const vsim_tcore *c, unsigned bit);

/* The device features in the window dev_feat_sel selects (0 past window 1). */
uint32_t vsim_tcore_device_features(const vsim_tcore *c);
/* The driver features in the window drv_feat_sel selects. */
uint32_t vsim_tcore_driver_features(const vsim_tcore *c);
/* A driver-features window write; -1 (and ignored) when it would change the
 * accepted features after FEATURES_OK (in any window: window 2 and above
 * hold no feature a device offers, but a changed value there is a late
 * change all the same). */
int vsim_tcore_write_driver_features(vsim_tcore *c, uint32_t val);

/* A device status write; 0 resets the device: the queues (size, addresses,
 * enable, vector), the interrupt status and vectors, the feature windows
 * and their selectors, the queue selector (keep_ready: a mutant's reset that
 * leaves every queue enabled). */
void vsim_tcore_set_status(vsim_tcore *c, uint32_t val, bool keep_ready);

/* Enable (val != 0) or disable the selected queue. -1 (the queue stays
 * disabled) when its size is 0, above the maximum, or not a power of two
 * on a split ring; the caller reports it, with the maximum put in *max.
 * q must be the selected queue. */
int vsim_tcore_queue_ready(vsim_tcore *c, vsim_tcore_queue *q, uint32_t val, uint16_t *max);

/* Reset the selected queue (VIRTIO_F_RING_RESET): the backend forgets it,
 * and it reads back reset at once (keep_ready: a mutant's reset that leaves
 * it enabled). */
void vsim_tcore_queue_reset(vsim_tcore *c, vsim_tcore_queue *q, bool keep_ready);

/* An available-buffer notification for queue `qi` carrying `val` (counted and
 * traced); -1 when qi names no ready queue (then ignored; the caller reports). */
int vsim_tcore_notify(vsim_tcore *c, uint32_t qi, uint32_t val);

/* The driver acknowledges interrupt bits. */
void vsim_tcore_ack(vsim_tcore *c, uint32_t bits);

/* The device raises interrupt bits (bit 0 used buffer, bit 1 config change). */
void vsim_tcore_raise(vsim_tcore *c, uint32_t bits);

/* Side-effect-free views for observers. */
uint32_t vsim_tcore_peek_isr(const vsim_tcore *c);
uint32_t vsim_tcore_peek_queue_ready(const vsim_tcore *c, uint16_t q);

#endif
