/* conformance/checker_pci.h — the virtio-pci function's device rules, judged
 * from its register accesses and interrupt events.
 *
 * Owns: what the driver has seen of the function through BAR 0 (num_queues,
 * queue_select, the MSI-X vectors it wrote and what they read back, the
 * config_generation and device configuration bytes it read, ISR reads) and
 * the device rules that follow from it: queue_size 0 past the last queue and
 * a power of 2 on split rings (pci.dev-queue-size), the ISR byte cleared by
 * a read (pci.dev-isr-read-clears), config_generation changed after a
 * changed configuration value was read (pci.dev-config-generation), a vector
 * reading what was written or NO_VECTOR and interrupts going to it
 * (pci.dev-msix-vector), no interrupt for an unmapped queue
 * (pci.dev-msix-unmapped) or an unmapped configuration change
 * (pci.dev-config-irq-unmapped); from configuration space accesses, the PCI_CFG
 * window executing each access the driver makes through it
 * (pci.dev-cfg-window) and the non-transitional ids (revision, subsystem
 * device id: pci.dev-nontransitional-ids). Each access costs O(width) (a
 * window access: O(capabilities)); an interrupt O(1).
 * Must never: drive the function (no register access of its own), or judge
 * the driver (the function itself does, sim/pci.c).
 */
#ifndef VSIM_CHECKER_PCI_H
#define VSIM_CHECKER_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include "pci.h"
#include "trace.h"
#include "virtiosim/backend.h"

#define VSIM_CHK_PCI_QUEUES 64 /* queues whose vectors are followed */

typedef struct vsim_chk_pci {
  uint32_t queue_sel;
  uint32_t num_queues;          /* as read (0: not read yet) */
  bool isr_armed;               /* an interrupt was raised since the last ISR read */
  /* MSI-X: what the driver wrote, and what the device said it holds */
  uint16_t config_written, config_vector;
  uint16_t queue_written[VSIM_CHK_PCI_QUEUES], queue_vector[VSIM_CHK_PCI_QUEUES];
  /* configuration atomicity */
  bool gen_known;
  uint8_t gen;                  /* config_generation as last read */
  bool gen_must_change;         /* a changed value was read: the next generation read must differ from gen_old */
  uint8_t gen_old;
  uint8_t cfg_val[VSIM_PCI_DEVICE_MAX];   /* each device configuration byte as last read */
  uint8_t cfg_gen[VSIM_PCI_DEVICE_MAX];   /* the generation read before that */
  uint8_t cfg_seen[VSIM_PCI_DEVICE_MAX];  /* 1: read under a known generation */
  /* PCI configuration space as the driver read it (and, for the PCI_CFG
   * window's read-write fields, wrote it): the capability chain, the ids,
   * the window's cap.bar / cap.offset / cap.length / pci_cfg_data */
  uint8_t space[VSIM_PCI_CFG_SIZE];
  uint8_t space_known[VSIM_PCI_CFG_SIZE];
  bool ids_judged;              /* pci.dev-nontransitional-ids reported (once a run) */
  uint32_t expect_type;         /* the virtio device id the function must name (0: not judged) */
  bool discovery_judged;        /* pci.dev-discovery-ids reported (once a run) */
  /* the previous BAR access reported (a window read must be the one right
   * before its configuration read) */
  bool prev_valid;
  uint32_t prev_kind, prev_space, prev_off, prev_width, prev_val;
  /* a window write the function must execute next: the BAR write expected */
  bool win_pending;
  bool win_val_known;
  uint32_t win_space, win_off, win_len, win_val;
} vsim_chk_pci;

void vsim_chk_pci_init(vsim_chk_pci *k);

/* A BAR or configuration space access (VSIM_EV_PCI_READ / _WRITE), with the
 * features the driver accepted (the ring layout). */
void vsim_chk_pci_access(vsim_chk_pci *k, const vsim_host *sink, const vsim_event *ev, uint64_t features);

/* An interrupt (VSIM_EV_IRQ), or held interrupts released (released: a
 * VSIM_EV_FAULT of the delay fault). */
void vsim_chk_pci_irq(vsim_chk_pci *k, const vsim_host *sink, const vsim_event *ev);
void vsim_chk_pci_released(vsim_chk_pci *k);

#endif
