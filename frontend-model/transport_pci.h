/* frontend-model/transport_pci.h — the driver's virtio-pci (modern) accessor.
 *
 * Owns: what a driver does on virtio-pci: finding the function's structures
 * by walking the capability list in PCI configuration space (vendor and
 * device id, the BAR's size by the sizing protocol, each virtio vendor
 * capability by cfg_type, first one of each type, reserved types and BARs
 * ignored: bar / offset / length, notify_off_multiplier; the MSI-X
 * capability), judging the device's layout as it goes (structures missing:
 * the probe fails; outside the BAR, cap_len short, a misaligned device
 * configuration, an MSI-X table size outside 2..0x800, pci.dev-notify-cap,
 * no VIRTIO_PCI_CAP_PCI_CFG capability (pci.dev-cfg-cap: the driver does not
 * use the window, but it must be there): reported), setting up MSI-X when the table has at least 2 entries (each
 * entry programmed and unmasked, then enabled; with fewer it stays on INTx),
 * mapping the config vector (entry 0) and each queue's (its own entry when
 * the table has room, else entry 1 shared) with a read-back each, falling
 * back to INTx when a mapping fails; and
 * then the common configuration accesses of the spec's sequences (feature
 * windows, queue selection, size, addresses as 32-bit halves, enable,
 * queue_notify_off, queue_reset), notifications at each queue's notify
 * address, interrupts (MSI-X: the messages that arrived, by vector; INTx:
 * the read-to-clear ISR byte), device configuration fields at their
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

/* The mutants this driver plays (decoded once from the run's set). */
typedef struct vsim_drv_pci_mutants {
  bool wide_access;          /* num_queues read 4 bytes wide */
  bool write_ro;             /* queue_notify_off written back */
  bool enable_zero;          /* 0 written to queue_enable */
  bool notify_misplaced;     /* notifications 2 bytes past the address */
  bool queue_reset_blind;    /* queue_reset (and queue_enable before set-up) not read back */
  bool msix_past_table;      /* queue vectors from the table size on */
  bool msix_no_readback;     /* vectors written and never read back */
  bool msix_reads_isr;       /* the ISR byte read on every MSI-X queue interrupt */
  bool reenable_stale;       /* a queue re-enabled after its reset by queue_enable alone */
  bool queue_size_mask;      /* queue_size first written as size - 1 */
  bool queue_size_live;      /* queue_size written again after queue_enable */
  bool cfg_window_misaligned; /* config_generation read through the PCI_CFG window at an odd offset, 2 bytes wide */
  bool cap_write;            /* notify_off_multiplier written back into the notify capability */
} vsim_drv_pci_mutants;

typedef struct vsim_drv_pci {
  vsim_pci *p;
  const vsim_host *host;     /* the device's layout violations */
  vsim_drv_pci_mutants mut;
  /* what the walk found */
  uint32_t bar_size;
  vsim_drv_pci_region common, notify, isr, device;
  uint32_t notify_mult;
  uint16_t num_queues;
  uint16_t msix_size;        /* the MSI-X table size (0: no capability) */
  uint8_t cap_msix;
  uint8_t cap_pcicfg;        /* the first VIRTIO_PCI_CAP_PCI_CFG capability (0: none) */
  bool msix;                 /* MSI-X in use (enabled, every mapping read back) */
  bool config_mapped;        /* config_msix_vector mapped since the last reset */
  uint64_t queues_reset; /* queues reset alone and not enabled since (reenable_stale) */
  uint16_t queue_vector[VSIM_DRV_PCI_MAX_QUEUES]; /* what each queue was mapped to */
  uint32_t device_id;        /* virtio device id */
  uint64_t features;         /* what the driver accepted (the notification width) */
  uint32_t notify_at[VSIM_DRV_PCI_MAX_QUEUES]; /* each queue's notify address in the BAR */
} vsim_drv_pci;

void vsim_drv_pci_init(vsim_drv_pci *d, vsim_pci *p, const vsim_host *host, const vsim_mutset *mutants);

extern const vsim_drv_transport_ops vsim_drv_pci_ops;

#endif
