/* frontend-model/transport_pci.h — the driver's virtio-pci (modern) accessor.
 *
 * Owns: what a driver does on virtio-pci: finding the function's structures
 * by walking the capability list in PCI configuration space (vendor and
 * device id, the BAR's size by the sizing protocol, each virtio vendor
 * capability by cfg_type, first one of each type, reserved types and BARs
 * ignored: bar / offset / length, notify_off_multiplier), judging the
 * device's layout as it goes (structures missing or outside the BAR: the
 * probe fails; pci.dev-notify-cap), and
 * then the common configuration accesses of the spec's sequences (feature
 * windows, queue selection, size, addresses as 32-bit halves, enable,
 * queue_notify_off, queue_reset), notifications at each queue's notify
 * address, the read-to-clear ISR byte, device configuration fields at their
 * width; and the driver mutants that break the PCI access rules.
 * Must never: bypass vsim_pci_cfg_* / vsim_pci_bar_*; use a structure the
 * walk did not find.
 */
#ifndef VSIM_TRANSPORT_PCI_H
#define VSIM_TRANSPORT_PCI_H

#include "pci.h"
#include "transport.h"
#include "virtiosim/mutants.h"

#define VSIM_DRV_PCI_MAX_QUEUES 64

typedef struct vsim_drv_pci_region {
  bool found;
  uint8_t bar;
  uint32_t offset, length;
} vsim_drv_pci_region;

typedef struct vsim_drv_pci {
  vsim_pci *p;
  const vsim_host *host;     /* the device's layout violations */
  vsim_mutset mutants;
  /* what the walk found */
  uint32_t bar_size;
  vsim_drv_pci_region common, notify, isr, device;
  uint32_t notify_mult;
  uint16_t num_queues;
  uint32_t device_id;        /* virtio device id */
  uint64_t features;         /* what the driver accepted (the notification width) */
  uint32_t notify_at[VSIM_DRV_PCI_MAX_QUEUES]; /* each queue's notify address in the BAR */
} vsim_drv_pci;

void vsim_drv_pci_init(vsim_drv_pci *d, vsim_pci *p, const vsim_host *host, vsim_mutset mutants);

extern const vsim_drv_transport_ops vsim_drv_pci_ops;

#endif
