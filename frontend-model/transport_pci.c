/* frontend-model/transport_pci.c — driver-side virtio-pci (see transport_pci.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include "transport_pci.h"
#include "host_report.h"
#include "virtio_compat.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"

/* configuration space */
static uint32_t cr(vsim_drv_pci *d, uint32_t off, unsigned w) { return vsim_pci_cfg_read(d->p, off, w); }
static void cw(vsim_drv_pci *d, uint32_t off, unsigned w, uint32_t v) { vsim_pci_cfg_write(d->p, off, w, v); }
/* a structure in its BAR */
static uint32_t rd(vsim_drv_pci *d, const vsim_drv_pci_region *r, uint32_t off, unsigned w) {
  return vsim_pci_bar_read(d->p, r->bar, r->offset + off, w);
}
static void wr(vsim_drv_pci *d, const vsim_drv_pci_region *r, uint32_t off, unsigned w, uint32_t v) {
  vsim_pci_bar_write(d->p, r->bar, r->offset + off, w, v);
}
#define CRD(off, w) rd(d, &d->common, (off), (w))
#define CWR(off, w, v) wr(d, &d->common, (off), (w), (v))

/* a violation of the device's, with a formatted detail, through the host (host_report.h) */
#define device_violation(d, check, ...) vsim_host_reportf((d)->host, (check), -1, __VA_ARGS__)

void vsim_drv_pci_init(vsim_drv_pci *d, vsim_pci *p, const vsim_host *host, const vsim_mutset *mutants) {
  memset(d, 0, sizeof *d);
  d->p = p;
  d->host = host;
  if (!mutants) return;
#define HAS(e) vsim_mut_has(mutants, VSIM_MUT_##e)
  d->mut = (vsim_drv_pci_mutants){
      .wide_access = HAS(DRV_PCI_WIDE_ACCESS),
      .write_ro = HAS(DRV_PCI_WRITE_RO),
      .enable_zero = HAS(DRV_PCI_ENABLE_ZERO),
      .notify_misplaced = HAS(DRV_PCI_NOTIFY_MISPLACED),
      .queue_reset_blind = HAS(DRV_QUEUE_RESET_BLIND),
      .msix_past_table = HAS(DRV_PCI_MSIX_PAST_TABLE),
      .msix_no_readback = HAS(DRV_PCI_MSIX_NO_READBACK),
      .msix_reads_isr = HAS(DRV_PCI_MSIX_READS_ISR),
      .reenable_stale = HAS(DRV_QUEUE_REENABLE_STALE),
      .queue_size_mask = HAS(DRV_PCI_QUEUE_SIZE_MASK),
      .queue_size_live = HAS(DRV_PCI_QUEUE_SIZE_LIVE),
      .cfg_window_misaligned = HAS(DRV_PCI_CFG_WINDOW_MISALIGNED),
      .cap_write = HAS(DRV_PCI_CAP_WRITE),
  };
#undef HAS
}

/* BAR sizing, as the bus enumeration does it: all ones, read back, restore. */
static uint32_t bar_size(vsim_drv_pci *d, unsigned bar) {
  uint32_t reg = PCI_BASE_ADDRESS_0 + 4 * bar;
  uint32_t orig = cr(d, reg, 4);
  cw(d, reg, 4, 0xffffffffu);
  uint32_t mask = cr(d, reg, 4) & (uint32_t)PCI_BASE_ADDRESS_MEM_MASK;
  cw(d, reg, 4, orig);
  return mask ? ~mask + 1 : 0;
}

static const char *const region_name[] = {"common", "notify", "ISR", "device"};

/* The device's side of the layout (what a driver relies on). Structures
 * missing or outside their BAR make the function unusable: the probe fails
 * (the driver sets FAILED); outside the BAR is the device's violation
 * (pci.dev-cap-layout). A notify capability that breaks its rules is
 * reported (pci.dev-notify-cap) and still used: the multiplier is a factor;
 * so is a device configuration at an offset not 4-byte aligned
 * (pci.dev-device-cfg-align): its fields are still there. */
static bool judge_layout(vsim_drv_pci *d) {
  if (!d->common.found || !d->notify.found || !d->isr.found) return false;
  if (d->common.offset % 4 || d->common.length < VIRTIO_PCI_COMMON_Q_USEDHI + 4) return false;
  const vsim_drv_pci_region *r[] = {&d->common, &d->notify, &d->isr, &d->device};
  for (unsigned i = 0; i < 4; i++)
    if (r[i]->found && r[i]->bar == 0 && (uint64_t)r[i]->offset + r[i]->length > d->bar_size) {
      device_violation(d, VSIM_CHK_PCI_DEV_CAP_LAYOUT, "the %s structure (0x%x bytes at 0x%x) ends past BAR 0 (0x%x bytes)",
                       region_name[i], r[i]->length, r[i]->offset, d->bar_size);
      return false;
    }
  uint32_t m = d->notify_mult;
  if (d->notify.offset % 2 || (m && ((m & (m - 1)) || m % 2)))
    device_violation(d, VSIM_CHK_PCI_DEV_NOTIFY_CAP, "notify cap offset 0x%x, notify_off_multiplier %u",
                     d->notify.offset, m);
  if (d->device.found && d->device.offset % 4)
    device_violation(d, VSIM_CHK_PCI_DEV_DEVCFG_ALIGN, "device configuration at BAR offset 0x%x (not 4-byte aligned)",
                     d->device.offset);
  return true;
}

/* The MSI-X capability: its Table Size (N - 1 in Message Control), and the
 * table inside its BAR. The spec's range for N is a SHOULD (2..0x800); a
 * driver MUST cope with any, and this one uses MSI-X from 2 entries on. */
static void walk_msix(vsim_drv_pci *d, uint32_t at) {
  d->cap_msix = (uint8_t)at;
  d->msix_size = (uint16_t)((cr(d, at + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE) + 1);
  if (d->msix_size < 2)
    device_violation(d, VSIM_CHK_PCI_DEV_MSIX_TABLE, "MSI-X Table Size %u (fewer than 2 vectors)", d->msix_size);
  uint32_t table = cr(d, at + PCI_MSIX_TABLE, 4), pba = cr(d, at + PCI_MSIX_PBA, 4);
  uint64_t table_end = (uint64_t)(table & PCI_MSIX_TABLE_OFFSET) + (uint64_t)d->msix_size * PCI_MSIX_ENTRY_SIZE;
  uint64_t pba_end = (uint64_t)(pba & PCI_MSIX_PBA_OFFSET) + ((d->msix_size + 63u) / 64u) * 8u;
  if ((table & PCI_MSIX_TABLE_BIR) || (pba & PCI_MSIX_PBA_BIR) || table_end > d->bar_size || pba_end > d->bar_size) {
    /* a table this driver cannot reach: no MSI-X (not a virtio rule: PCI's) */
    d->msix_size = 0;
  }
}

/* The bus driver's part of MSI-X: each entry gets an address and data (the
 * data names the entry: the model's interrupt controller keys by it), is
 * unmasked, and the function is enabled. Virtio's part (mapping events to
 * entries) follows at queue set-up. */
static void msix_enable(vsim_drv_pci *d) {
  for (uint32_t v = 0; v < d->msix_size; v++) {
    uint32_t e = VSIM_PCI_MSIX_TABLE_OFF + v * PCI_MSIX_ENTRY_SIZE;
    vsim_pci_bar_write(d->p, 0, e + PCI_MSIX_ENTRY_LOWER_ADDR, 4, 0xfee00000u);
    vsim_pci_bar_write(d->p, 0, e + PCI_MSIX_ENTRY_UPPER_ADDR, 4, 0);
    vsim_pci_bar_write(d->p, 0, e + PCI_MSIX_ENTRY_DATA, 4, v);
    vsim_pci_bar_write(d->p, 0, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
  }
  uint32_t ctl = cr(d, d->cap_msix + PCI_MSIX_FLAGS, 2);
  cw(d, d->cap_msix + PCI_MSIX_FLAGS, 2, (ctl | PCI_MSIX_FLAGS_ENABLE) & ~(uint32_t)PCI_MSIX_FLAGS_MASKALL);
  d->msix = true;
}

/* A mapping the device could not make: MSI-X is given up for INTx (the
 * spec lets a driver retry with fewer vectors, disable MSI-X or fail). */
static void msix_disable(vsim_drv_pci *d) {
  uint32_t ctl = cr(d, d->cap_msix + PCI_MSIX_FLAGS, 2);
  cw(d, d->cap_msix + PCI_MSIX_FLAGS, 2, ctl & ~(uint32_t)PCI_MSIX_FLAGS_ENABLE);
  d->msix = false;
}

/* Map an event (the config_msix_vector or queue_msix_vector field at
 * `field`) to vector v and read it back: the device says NO_VECTOR when it
 * could not. */
static bool map_vector(vsim_drv_pci *d, uint32_t field, uint16_t v) {
  CWR(field, 2, v);
  if (d->mut.msix_no_readback) return true;
  return CRD(field, 2) == v;
}

/* drv.pci-cfg-window-misaligned: config_generation (one byte at 0x15) read
 * through the PCI_CFG window as a 2-byte access at its own offset, which is
 * not a multiple of cap.length (pci.drv-cfg-window); the device refuses it. */
static void window_read_misaligned(vsim_drv_pci *d) {
  uint32_t w = d->cap_pcicfg;
  cw(d, w + VIRTIO_PCI_CAP_BAR, 1, d->common.bar);
  cw(d, w + VIRTIO_PCI_CAP_LENGTH, 4, 2);
  cw(d, w + VIRTIO_PCI_CAP_OFFSET, 4, d->common.offset + VIRTIO_PCI_COMMON_CFGGENERATION);
  (void)cr(d, w + 16, 2);
}

static bool walk(vsim_drv_pci *d) {
  if (cr(d, PCI_VENDOR_ID, 2) != VSIM_PCI_VENDOR) return false;
  uint32_t dev = cr(d, PCI_DEVICE_ID, 2);
  if (dev < VSIM_PCI_DEVICE_BASE || dev > 0x107f) return false; /* modern ids only */
  d->device_id = dev - VSIM_PCI_DEVICE_BASE;
  if (!(cr(d, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST)) return false;
  d->bar_size = bar_size(d, 0);
  vsim_drv_pci_region *by_type[] = {NULL, &d->common, &d->notify, &d->isr, &d->device};
  uint32_t at = cr(d, PCI_CAPABILITY_LIST, 1) & ~3u;
  /* bounded: at most 48 capabilities fit after the header */
  for (unsigned n = 0; at >= 0x40 && n < 48; n++) {
    uint32_t vndr = cr(d, at, 1), next = cr(d, at + PCI_CAP_LIST_NEXT, 1) & ~3u;
    if (vndr == PCI_CAP_ID_VNDR) {
      uint32_t type = cr(d, at + VIRTIO_PCI_CAP_CFG_TYPE, 1), bar = cr(d, at + VIRTIO_PCI_CAP_BAR, 1);
      /* reserved types and BARs are ignored; the first of each type is used */
      if (type >= 1 && type <= 4 && bar <= 5 && !by_type[type]->found) {
        vsim_drv_pci_region *r = by_type[type];
        r->found = true;
        r->bar = (uint8_t)bar;
        r->offset = cr(d, at + VIRTIO_PCI_CAP_OFFSET, 4);
        r->length = cr(d, at + VIRTIO_PCI_CAP_LENGTH, 4);
        /* the structure's fields must lie inside cap_len: a virtio_pci_cap is
         * 16 bytes, the notify capability's multiplier follows it */
        uint32_t len = cr(d, at + PCI_CAP_FLAGS, 1), need = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? 20 : 16;
        if (len < need)
          device_violation(d, VSIM_CHK_PCI_DEV_CAP_LAYOUT, "capability at 0x%02x (cfg_type %u) has cap_len %u, its structure %u",
                           at, type, len, need);
        if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) d->notify_mult = cr(d, at + 16, 4);
        /* drv.pci-cap-write: the multiplier written back (pci.drv-cap-write) */
        if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && d->mut.cap_write) cw(d, at + 16, 4, d->notify_mult);
      } else if (type == VIRTIO_PCI_CAP_PCI_CFG && !d->cap_pcicfg) {
        d->cap_pcicfg = (uint8_t)at; /* the window: this driver does not need it, but it must be there */
      }
    } else if (vndr == PCI_CAP_ID_MSIX && !d->cap_msix) {
      walk_msix(d, at);
    }
    at = next;
  }
  /* the window is the way to the structures for a driver that cannot map
   * the BAR (firmware, boot loaders): every function presents one */
  if (!d->cap_pcicfg) device_violation(d, VSIM_CHK_PCI_DEV_CFG_CAP, "no VIRTIO_PCI_CAP_PCI_CFG capability in the list");
  if (!judge_layout(d)) return false;
  if (d->mut.cfg_window_misaligned && d->cap_pcicfg) window_read_misaligned(d);
  if (d->msix_size >= 2) msix_enable(d);
  d->num_queues = (uint16_t)(d->mut.wide_access ? CRD(VIRTIO_PCI_COMMON_NUMQ, 4) : CRD(VIRTIO_PCI_COMMON_NUMQ, 2));
  return d->num_queues != 0;
}

static bool pc_probe(void *t) {
  vsim_drv_pci *d = t;
  /* the walk is the bus driver's, done once; re-initialisations reuse it */
  if (!d->common.found) return walk(d) && d->device_id != 0;
  return d->device_id != 0 && d->num_queues != 0;
}

static uint32_t pc_device_id(void *t) { return ((vsim_drv_pci *)t)->device_id; }

static uint8_t pc_get_status(void *t) {
  vsim_drv_pci *d = t;
  return (uint8_t)CRD(VIRTIO_PCI_COMMON_STATUS, 1);
}

static void pc_set_status(void *t, uint8_t s) {
  vsim_drv_pci *d = t;
  if (s == 0) {
    d->features = 0;
    d->config_mapped = false; /* a reset unmaps every event */
    /* a driver that gave MSI-X up for this device instance tries again */
    if (!d->msix && d->msix_size >= 2 && d->common.found) msix_enable(d);
  }
  CWR(VIRTIO_PCI_COMMON_STATUS, 1, s);
}

static uint64_t pc_get_features(void *t) {
  vsim_drv_pci *d = t;
  CWR(VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
  uint64_t lo = CRD(VIRTIO_PCI_COMMON_DF, 4);
  CWR(VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
  uint64_t hi = CRD(VIRTIO_PCI_COMMON_DF, 4);
  return lo | (hi << 32);
}

static void pc_set_features(void *t, uint64_t f) {
  vsim_drv_pci *d = t;
  d->features = f;
  CWR(VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
  CWR(VIRTIO_PCI_COMMON_GF, 4, (uint32_t)f);
  CWR(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
  CWR(VIRTIO_PCI_COMMON_GF, 4, (uint32_t)(f >> 32));
}

static uint16_t pc_queue_max(void *t, uint16_t q) {
  vsim_drv_pci *d = t;
  if (q >= d->num_queues) return 0;
  CWR(VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
  return (uint16_t)CRD(VIRTIO_PCI_COMMON_Q_SIZE, 2);
}

static void addr_write(vsim_drv_pci *d, uint32_t off, uint64_t v) {
  CWR(off, 4, (uint32_t)v);
  CWR(off + 4, 4, (uint32_t)(v >> 32));
}

static int pc_queue_enable(void *t, uint16_t q, const vsim_queue_cfg *c) {
  vsim_drv_pci *d = t;
  if (q >= d->num_queues || q >= VSIM_DRV_PCI_MAX_QUEUES) return -1;
  CWR(VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
  /* queue_enable must read 0 first (the mutant that does not verify a queue
   * reset skips this read too: it never looks back) */
  if (!d->mut.queue_reset_blind && CRD(VIRTIO_PCI_COMMON_Q_ENABLE, 2) != 0) return -1;
  if (d->mut.enable_zero) CWR(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 0);
  if (CRD(VIRTIO_PCI_COMMON_Q_SIZE, 2) == 0) return -1; /* the queue is unavailable */
  bool was_reset = (d->queues_reset >> q) & 1u;
  d->queues_reset &= ~(UINT64_C(1) << q);
  if (was_reset && d->mut.reenable_stale) {
    CWR(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1); /* as if the reset had kept size and addresses */
    return 0;                              /* and believes it */
  }
  /* drv.pci-queue-size-mask: the ring's index mask first, the size after;
   * size - 1 is no power of 2 for any split size above 2 (pci.drv-queue-size) */
  if (d->mut.queue_size_mask) CWR(VIRTIO_PCI_COMMON_Q_SIZE, 2, (uint32_t)c->size - 1u);
  CWR(VIRTIO_PCI_COMMON_Q_SIZE, 2, c->size);
  addr_write(d, VIRTIO_PCI_COMMON_Q_DESCLO, c->desc);
  addr_write(d, VIRTIO_PCI_COMMON_Q_AVAILLO, c->driver);
  addr_write(d, VIRTIO_PCI_COMMON_Q_USEDLO, c->device);
  if (d->msix && !d->config_mapped) {
    /* the config vector first (entry 0), as the interrupt set-up does */
    d->config_mapped = true;
    if (!map_vector(d, VIRTIO_PCI_COMMON_MSIX, 0)) msix_disable(d);
  }
  if (d->msix) {
    /* its own entry when the table has room for every queue and the config
     * vector, else one entry the queues share */
    uint16_t v = d->msix_size > d->num_queues ? (uint16_t)(q + 1) : 1;
    if (d->mut.msix_past_table) v = (uint16_t)(d->msix_size + q);
    d->queue_vector[q] = v;
    if (!map_vector(d, VIRTIO_PCI_COMMON_Q_MSIX, v)) msix_disable(d);
  }
  uint32_t noff = CRD(VIRTIO_PCI_COMMON_Q_NOFF, 2);
  if (d->mut.write_ro) CWR(VIRTIO_PCI_COMMON_Q_NOFF, 2, noff);
  uint64_t at = (uint64_t)noff * d->notify_mult;
  /* the write at that address: 4 bytes with NOTIFICATION_DATA, else 2 */
  uint32_t width = (d->features >> VIRTIO_F_NOTIFICATION_DATA) & 1u ? 4 : 2;
  if (at + width > d->notify.length) return -1; /* the device's layout fault, judged at the walk */
  d->notify_at[q] = (uint32_t)at;
  CWR(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
  /* drv.pci-queue-size-after-enable: the size once more, the queue now
   * enabled (pci.drv-queue-while-enabled: configured before queue_enable,
   * never changed while enabled) */
  if (d->mut.queue_size_live) CWR(VIRTIO_PCI_COMMON_Q_SIZE, 2, c->size);
  return CRD(VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 1 ? 0 : -1;
}

static void pc_notify(void *t, uint16_t q, uint32_t value) {
  vsim_drv_pci *d = t;
  if (q >= VSIM_DRV_PCI_MAX_QUEUES) return;
  bool data = (d->features >> VIRTIO_F_NOTIFICATION_DATA) & 1u;
  uint32_t at = d->notify_at[q] + (d->mut.notify_misplaced ? 2 : 0);
  wr(d, &d->notify, at, data ? 4 : 2, data ? value : (value & 0xffff));
}

static int pc_queue_reset(void *t, uint16_t q) {
  vsim_drv_pci *d = t;
  CWR(VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
  CWR(VIRTIO_PCI_COMMON_Q_RESET, 2, 1);
  if (q < VSIM_DRV_PCI_MAX_QUEUES) d->queues_reset |= UINT64_C(1) << q;
  if (d->mut.queue_reset_blind) return 0;
  /* the device presents 1 while the reset is ongoing, then 0 with
   * queue_enable 0; this model's devices finish at once, so one read each */
  if (CRD(VIRTIO_PCI_COMMON_Q_RESET, 2) != 0) return -1;
  return CRD(VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 0 ? 0 : -1;
}

static uint32_t pc_take_interrupts(void *t) {
  vsim_drv_pci *d = t;
  if (vsim_pci_msix_enabled(d->p)) {
    /* the vectors say what happened: entry 0 is the config vector, every
     * other one a queue's; the ISR byte is unused */
    uint64_t v = vsim_pci_msix_take(d->p);
    uint32_t bits = (v & 1u ? VIRTIO_PCI_ISR_CONFIG : 0) | (v & ~UINT64_C(1) ? VIRTIO_PCI_ISR_QUEUE : 0);
    if (d->mut.msix_reads_isr && (bits & VIRTIO_PCI_ISR_QUEUE)) (void)rd(d, &d->isr, 0, 1);
    return bits;
  }
  /* reading the ISR byte acknowledges it; undefined bits are ignored */
  return rd(d, &d->isr, 0, 1) & (VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG);
}

static uint32_t pc_pending_interrupts(void *t) {
  vsim_drv_pci *d = t;
  /* what the interrupt controller holds: messages, or the INTx line (the OR
   * of the ISR bits) */
  if (vsim_pci_msix_enabled(d->p)) return vsim_pci_msix_peek(d->p) != 0;
  return vsim_tcore_peek_isr(d->p->core);
}

static uint32_t pc_config_generation(void *t) {
  vsim_drv_pci *d = t;
  return CRD(VIRTIO_PCI_COMMON_CFGGENERATION, 1);
}

/* field-width accesses: the caller reads a field at a time (1, 2, 4 or 8 bytes) */
static int pc_config_read(void *t, uint32_t off, void *dst, uint32_t len) {
  vsim_drv_pci *d = t;
  if (!d->device.found) return -1;
  uint8_t *out = dst;
  unsigned w = len >= 4 ? 4 : len;
  for (uint32_t i = 0; i < len; i += w) {
    uint32_t v = rd(d, &d->device, off + i, w);
    for (unsigned k = 0; k < w && i + k < len; k++) out[i + k] = (uint8_t)(v >> (8 * k));
  }
  return 0;
}

static int pc_config_write(void *t, uint32_t off, const void *src, uint32_t len) {
  vsim_drv_pci *d = t;
  if (!d->device.found) return -1;
  const uint8_t *in = src;
  unsigned w = len >= 4 ? 4 : len;
  for (uint32_t i = 0; i < len; i += w) {
    uint32_t v = 0;
    for (unsigned k = 0; k < w && i + k < len; k++) v |= (uint32_t)in[i + k] << (8 * k);
    wr(d, &d->device, off + i, w, v);
  }
  return 0;
}

const vsim_drv_transport_ops vsim_drv_pci_ops = {
    .probe = pc_probe,
    .device_id = pc_device_id,
    .get_status = pc_get_status,
    .set_status = pc_set_status,
    .get_features = pc_get_features,
    .set_features = pc_set_features,
    .queue_max = pc_queue_max,
    .queue_enable = pc_queue_enable,
    .notify = pc_notify,
    .queue_reset = pc_queue_reset,
    .take_interrupts = pc_take_interrupts,
    .pending_interrupts = pc_pending_interrupts,
    .config_generation = pc_config_generation,
    .config_read = pc_config_read,
    .config_write = pc_config_write,
};
