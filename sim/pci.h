/* sim/pci.h — the virtio-pci (modern) function, device side.
 *
 * Owns: the PCI configuration space of one virtio function (vendor 0x1af4,
 * device 0x1040 + virtio device id, revision 1, subsystem ids, the
 * capability-list status bit and pointer, BAR 0 with the sizing protocol,
 * INTx pin) with its vendor capabilities COMMON_CFG, NOTIFY_CFG (with
 * notify_off_multiplier), ISR_CFG, DEVICE_CFG and PCI_CFG (the window into
 * the BAR through configuration space); the layout of the structures in BAR 0;
 * the decoding of BAR accesses into the common configuration structure
 * (feature windows, msix vectors reading NO_VECTOR (no MSI-X capability: INTx
 * and the ISR byte), num_queues, device_status, config_generation, the
 * per-queue fields with 64-bit addresses as 32-bit halves, queue_reset), the
 * notify region, the read-to-clear ISR byte and the device configuration;
 * and the driver access rules of this layout (field widths, read-only
 * fields, queue_size values, queue_enable 0, queue fields while enabled,
 * notification address, width and value, writes into capabilities), each a
 * reported violation; the access is then ignored, as a robust device would.
 * What an access means to the device (status machine, features, queue set-up,
 * reset, notify, interrupt status) is the transport core's (sim/tcore.c),
 * the same one virtio-mmio drives.
 * Must never: pass a queue index or config offset to the backend unchecked;
 * touch guest memory (BAR accesses are register accesses, not the arena).
 */
#ifndef VSIM_PCI_H
#define VSIM_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include "tcore.h"
#include "virtiosim/mutants.h"

#define VSIM_PCI_VENDOR 0x1af4u
#define VSIM_PCI_DEVICE_BASE 0x1040u  /* + virtio device id */
#define VSIM_PCI_SUBSYS_ID 0x0040u    /* non-transitional: 0x40 or higher */
#define VSIM_PCI_CFG_SIZE 256u
#define VSIM_PCI_BAR_SIZE 0x1000u     /* BAR 0: 32-bit memory, every structure */
#define VSIM_PCI_BAR_ADDR 0xfe000000u /* where the firmware put it (a number only) */
/* the structures in BAR 0 */
#define VSIM_PCI_COMMON_OFF 0x000u
#define VSIM_PCI_COMMON_LEN 0x40u     /* up to admin_queue_num */
#define VSIM_PCI_ISR_OFF 0x100u
#define VSIM_PCI_DEVICE_OFF 0x200u
#define VSIM_PCI_DEVICE_MAX 0x200u    /* the largest device configuration served */
#define VSIM_PCI_NOTIFY_OFF 0x800u
#define VSIM_PCI_NOTIFY_MULT 4u       /* queue_notify_off is the queue index */

/* Where an access lands (VSIM_EV_PCI_READ/WRITE's d field). */
enum vsim_pci_space {
  VSIM_PCI_SPACE_CONFIG = 0, /* PCI configuration space */
  VSIM_PCI_SPACE_COMMON = 1, /* = the cfg_type of the structure */
  VSIM_PCI_SPACE_NOTIFY = 2,
  VSIM_PCI_SPACE_ISR = 3,
  VSIM_PCI_SPACE_DEVICE = 4,
  VSIM_PCI_SPACE_NONE = 0xff /* a BAR offset outside every structure */
};

typedef struct vsim_pci {
  vsim_tcore *core;             /* the device state: shared with no other layout */
  vsim_mutset mutants;
  uint8_t cfg[VSIM_PCI_CFG_SIZE]; /* configuration space as presented */
  uint32_t bar0;                /* BAR 0 as written (sizing: all ones) */
  uint8_t cap_common, cap_notify, cap_isr, cap_device, cap_pcicfg; /* cap offsets */
  uint32_t notify_mult;
  uint32_t device_len;
} vsim_pci;

/* Build the function over a transport core whose backend is open: 0, or -1
 * when its queues have more notify addresses than the BAR holds. */
int vsim_pci_init(vsim_pci *p, vsim_tcore *core, vsim_mutset mutants);

/* Configuration-space accesses of `width` 1, 2 or 4 bytes. */
uint32_t vsim_pci_cfg_read(vsim_pci *p, uint32_t off, unsigned width);
void vsim_pci_cfg_write(vsim_pci *p, uint32_t off, unsigned width, uint32_t val);

/* Memory accesses to BAR `bar` at `off`, `width` 1, 2 or 4 bytes. */
uint32_t vsim_pci_bar_read(vsim_pci *p, unsigned bar, uint32_t off, unsigned width);
void vsim_pci_bar_write(vsim_pci *p, unsigned bar, uint32_t off, unsigned width, uint32_t val);

/* The length of the notify structure: every queue's address plus 4 bytes. */
uint32_t vsim_pci_notify_len(const vsim_pci *p);

#endif
