/* sim/pci.h — the virtio-pci (modern) function, device side.
 *
 * Owns: the PCI configuration space of one virtio function (vendor 0x1af4,
 * device 0x1040 + virtio device id, revision 1, subsystem ids, the
 * capability-list status bit and pointer, BAR 0 with the sizing protocol,
 * INTx pin) with its vendor capabilities COMMON_CFG, NOTIFY_CFG (with
 * notify_off_multiplier), ISR_CFG, DEVICE_CFG and PCI_CFG (the window into
 * the BAR through configuration space) and the MSI-X capability (table size,
 * enable and function-mask bits; the table and the pending-bit array in
 * BAR 0); the layout of the structures in BAR 0; the decoding of BAR
 * accesses into the common configuration structure (feature windows, the
 * config and queue msix vectors (a vector outside the table reads back
 * NO_VECTOR), num_queues, device_status, config_generation, the per-queue
 * fields with 64-bit addresses as 32-bit halves, queue_reset), the notify
 * region, the read-to-clear ISR byte, the device configuration and the
 * MSI-X table; where an interrupt goes (INTx and the ISR byte while MSI-X is
 * disabled; else the event's vector: a message, held in the pending-bit
 * array while masked, none for NO_VECTOR); and the driver access rules of
 * this layout (field widths, read-only fields, queue_size values,
 * queue_enable 0, queue fields while enabled, notification address, width
 * and value, writes into a virtio capability other than the PCI_CFG
 * window's own fields (pci.drv-cap-write), a PCI_CFG window with a bad
 * length, a misaligned offset or bytes outside every virtio structure
 * (pci.drv-cfg-window), vectors outside the table, a vector not read back,
 * the ISR byte read while MSI-X is enabled), each a reported violation; the
 * access is then ignored, as a robust device would.
 * Decided where the spec is silent: a queue field written while
 * queue_select names no queue, and queue_reset written without
 * VIRTIO_F_RING_RESET (the field "exists only if" it was negotiated), are
 * ignored without a report: no driver sentence forbids them, and the device
 * keeps presenting queue_size 0 / queue_reset 0 there.
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
#define VSIM_PCI_MSIX_TABLE_OFF 0x400u /* MSI-X table: 16 bytes an entry */
#define VSIM_PCI_MSIX_PBA_OFF 0x600u  /* MSI-X pending-bit array: 64 bits */
#define VSIM_PCI_MSIX_MAX 64u         /* table entries served (and pending bits) */
#define VSIM_PCI_NOTIFY_OFF 0x800u
#define VSIM_PCI_NOTIFY_MULT 4u       /* queue_notify_off is the queue index */

/* Where an access lands (VSIM_EV_PCI_READ/WRITE's d field). */
enum vsim_pci_space {
  VSIM_PCI_SPACE_CONFIG = 0, /* PCI configuration space */
  VSIM_PCI_SPACE_COMMON = 1, /* = the cfg_type of the structure */
  VSIM_PCI_SPACE_NOTIFY = 2,
  VSIM_PCI_SPACE_ISR = 3,
  VSIM_PCI_SPACE_DEVICE = 4,
  VSIM_PCI_SPACE_MSIX_TABLE = 0x20, /* the MSI-X table (a = offset in it) */
  VSIM_PCI_SPACE_MSIX_PBA = 0x21,   /* the MSI-X pending-bit array */
  VSIM_PCI_SPACE_NONE = 0xff /* a BAR offset outside every structure */
};

/* The mutants this function plays (decoded once from the run's set). */
typedef struct vsim_pci_mutants {
  bool notify_mult;          /* notify_off_multiplier 3 */
  bool qreset_enable;        /* queue_reset leaves queue_enable 1 */
  bool reset_enable;         /* a device reset leaves every queue_enable 1 */
  bool isr_sticky;           /* reading the ISR byte clears it only every other time */
  bool cap_len_short;        /* the notify capability's cap_len leaves out notify_off_multiplier */
  bool device_misaligned;    /* the device configuration at a 2-byte aligned offset */
  bool phantom_queue;        /* queue_size past the last queue reads queue 0's */
  bool generation_frozen;    /* config_generation always reads 0 */
  bool msix_one_vector;      /* an MSI-X table of one entry */
  bool msix_config_vector;   /* queue interrupts go to the config vector */
  bool msix_unmapped;        /* a queue mapped to NO_VECTOR interrupts on vector 0 */
  bool no_cfg_cap;           /* no VIRTIO_PCI_CAP_PCI_CFG capability */
  bool cfg_window_stale;     /* a pci_cfg_data read executes no BAR read */
  bool revision_zero;        /* PCI Revision ID 0 (non-transitional ids otherwise) */
  bool config_irq_unmapped;  /* a configuration change with config_msix_vector NO_VECTOR interrupts on vector 0 */
  bool device_id_type;       /* PCI Device ID 0x1040 + virtio device id + 1 */
} vsim_pci_mutants;

typedef struct vsim_pci_msix_entry {
  uint32_t addr_lo, addr_hi, data, ctrl;
} vsim_pci_msix_entry;

typedef struct vsim_pci {
  vsim_tcore *core;             /* the device state: shared with no other layout */
  vsim_pci_mutants mut;
  uint8_t cfg[VSIM_PCI_CFG_SIZE]; /* configuration space as presented */
  uint32_t bar0;                /* BAR 0 as written (sizing: all ones) */
  uint8_t cap_common, cap_notify, cap_isr, cap_device, cap_pcicfg; /* cap offsets */
  uint8_t cap_msix;             /* 0: no MSI-X capability */
  uint32_t notify_mult;
  uint32_t device_off, device_len;
  /* MSI-X */
  uint16_t msix_size;           /* table entries (0: no capability) */
  vsim_pci_msix_entry msix[VSIM_PCI_MSIX_MAX];
  uint64_t msix_pending;        /* the pending-bit array: messages held by a mask */
  uint64_t msix_delivered;      /* messages sent and not yet taken by the driver's
                                   interrupt controller (vsim_pci_msix_take) */
  /* a vector the driver wrote and has not read back yet (pci.drv-msix-verify):
   * 0 none, 1 config_msix_vector, 2 queue_msix_vector of verify_queue */
  unsigned verify_field;
  bool isr_kept;                /* the isr_sticky mutant kept the ISR byte at the last read */
  /* the last ISR read showed a used-buffer and a configuration-change
   * interrupt at once: the driver owes a configuration read (device_status,
   * config_generation, device configuration) before its next ISR read
   * (pci.drv-combined-irq) */
  bool config_due;
  uint32_t verify_queue;
} vsim_pci;

/* Build the function over a transport core whose backend is open, with an
 * MSI-X table of msix_vectors entries (0: no MSI-X capability; at most
 * VSIM_PCI_MSIX_MAX): 0, or -1 when its queues have more notify addresses
 * than the BAR holds. */
int vsim_pci_init(vsim_pci *p, vsim_tcore *core, const vsim_mutset *mutants, unsigned msix_vectors);

/* MSI-X is enabled (the capability's enable bit): interrupts are messages. */
bool vsim_pci_msix_enabled(const vsim_pci *p);

/* Where an interrupt for queue q (-1: a configuration change) goes now: its
 * MSI-X vector, VIRTIO_MSI_NO_VECTOR when MSI-X is enabled and the event is
 * unmapped, VSIM_PCI_INTX while MSI-X is disabled. */
#define VSIM_PCI_INTX 0x10000u
uint32_t vsim_pci_route(const vsim_pci *p, int q);

/* The device interrupts for queue q (-1: configuration change, bits the ISR
 * bits): INTx sets the ISR byte; MSI-X sends the vector's message (held in
 * the pending-bit array while masked), or nothing for NO_VECTOR. */
void vsim_pci_interrupt(vsim_pci *p, int q, uint32_t bits);

/* The driver's interrupt controller: the vectors whose messages arrived
 * (take: and forget them). */
uint64_t vsim_pci_msix_peek(const vsim_pci *p);
uint64_t vsim_pci_msix_take(vsim_pci *p);

/* Configuration-space accesses of `width` 1, 2 or 4 bytes. */
uint32_t vsim_pci_cfg_read(vsim_pci *p, uint32_t off, unsigned width);
void vsim_pci_cfg_write(vsim_pci *p, uint32_t off, unsigned width, uint32_t val);

/* Memory accesses to BAR `bar` at `off`, `width` 1, 2 or 4 bytes. */
uint32_t vsim_pci_bar_read(vsim_pci *p, unsigned bar, uint32_t off, unsigned width);
void vsim_pci_bar_write(vsim_pci *p, unsigned bar, uint32_t off, unsigned width, uint32_t val);

/* The length of the notify structure: every queue's address plus 4 bytes. */
uint32_t vsim_pci_notify_len(const vsim_pci *p);

#endif
