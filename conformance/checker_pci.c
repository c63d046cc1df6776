/* conformance/checker_pci.c — the virtio-pci device rules (see checker_pci.h). */
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include "checker_pci.h"
#include "host_report.h"
#include "virtio_compat.h"
#include "virtiosim/checks.h"

void vsim_chk_pci_init(vsim_chk_pci *k) {
  memset(k, 0, sizeof *k);
  k->config_written = k->config_vector = VIRTIO_MSI_NO_VECTOR;
  for (unsigned i = 0; i < VSIM_CHK_PCI_QUEUES; i++) k->queue_written[i] = k->queue_vector[i] = VIRTIO_MSI_NO_VECTOR;
}

/* A reset unmaps every event: what was written no longer holds. */
static void unmap_all(vsim_chk_pci *k) {
  k->config_written = k->config_vector = VIRTIO_MSI_NO_VECTOR;
  for (unsigned i = 0; i < VSIM_CHK_PCI_QUEUES; i++) k->queue_written[i] = k->queue_vector[i] = VIRTIO_MSI_NO_VECTOR;
}

/* A vector read back: the one written, or NO_VECTOR (a mapping the device
 * could not make). What it reads is the mapping from now on. */
static void vector_read(const vsim_host *sink, int q, uint16_t written, uint16_t *held, uint32_t val) {
  if (val != written && val != VIRTIO_MSI_NO_VECTOR) {
    if (written == VIRTIO_MSI_NO_VECTOR)
      vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_MSIX_VECTOR, q, "%s reads %u, unmapped (NO_VECTOR) since the reset",
                        q < 0 ? "config_msix_vector" : "queue_msix_vector", val);
    else
      vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_MSIX_VECTOR, q, "%s reads %u after %u was written",
                        q < 0 ? "config_msix_vector" : "queue_msix_vector", val, written);
  }
  *held = (uint16_t)val;
}

static void common_access(vsim_chk_pci *k, const vsim_host *sink, bool read, uint32_t off, uint32_t val,
                          uint64_t features) {
  uint32_t sel = k->queue_sel;
  bool sel_ok = sel < VSIM_CHK_PCI_QUEUES;
  if (!read) {
    switch (off) {
      case VIRTIO_PCI_COMMON_Q_SELECT: k->queue_sel = val & 0xffff; break;
      case VIRTIO_PCI_COMMON_STATUS:
        if ((val & 0xff) == 0) unmap_all(k);
        break;
      case VIRTIO_PCI_COMMON_MSIX: k->config_written = k->config_vector = (uint16_t)val; break;
      case VIRTIO_PCI_COMMON_Q_MSIX:
        if (sel_ok) k->queue_written[sel] = k->queue_vector[sel] = (uint16_t)val;
        break;
      case VIRTIO_PCI_COMMON_Q_RESET:
        if (val == 1 && sel_ok && ((features >> VIRTIO_F_RING_RESET) & 1u))
          k->queue_written[sel] = k->queue_vector[sel] = VIRTIO_MSI_NO_VECTOR;
        break;
      default: break;
    }
    return;
  }
  switch (off) {
    case VIRTIO_PCI_COMMON_NUMQ: k->num_queues = val; break;
    case VIRTIO_PCI_COMMON_Q_SIZE:
      if (k->num_queues && sel >= k->num_queues && val != 0)
        vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_QUEUE_SIZE, -1,
                          "queue_size reads %u for queue_select %u (num_queues %u: no such queue)", val, sel,
                          k->num_queues);
      else if (!((features >> VIRTIO_F_RING_PACKED) & 1u) && (val & (val - 1)))
        vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_QUEUE_SIZE, (int)sel,
                          "queue_size reads %u (not a power of 2) without VIRTIO_F_RING_PACKED", val);
      break;
    case VIRTIO_PCI_COMMON_MSIX: vector_read(sink, -1, k->config_written, &k->config_vector, val); break;
    case VIRTIO_PCI_COMMON_Q_MSIX:
      if (sel_ok) vector_read(sink, (int)sel, k->queue_written[sel], &k->queue_vector[sel], val);
      break;
    case VIRTIO_PCI_COMMON_CFGGENERATION:
      if (k->gen_must_change && (uint8_t)val == k->gen_old)
        vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_GENERATION, -1,
                          "config_generation still reads %u after a changed configuration value was read",
                          (unsigned)k->gen_old);
      k->gen_must_change = false;
      k->gen_known = true;
      k->gen = (uint8_t)val;
      break;
    default: break;
  }
}

/* A device configuration read: a byte that reads other than it did when the
 * driver last read it changed since; the generation then read must differ
 * from the one seen around the old value. */
static void device_read(vsim_chk_pci *k, uint32_t off, unsigned width, uint32_t val) {
  for (unsigned i = 0; i < width && i < 4; i++) {
    uint32_t at = off + i;
    if (at >= VSIM_PCI_DEVICE_MAX) return;
    uint8_t b = (uint8_t)(val >> (8 * i));
    if (k->cfg_seen[at] && k->cfg_val[at] != b && !k->gen_must_change) {
      k->gen_must_change = true;
      k->gen_old = k->cfg_gen[at];
    }
    k->cfg_val[at] = b;
    k->cfg_seen[at] = k->gen_known;
    k->cfg_gen[at] = k->gen;
  }
}

/* The width of the common configuration fields followed here (0: not
 * followed). An access of another width is refused by the device (the
 * driver's pci.drv-access-width): it reads 0 and writes nothing, so it says
 * nothing of the device. */
static unsigned common_width(uint32_t off) {
  switch (off) {
    case VIRTIO_PCI_COMMON_STATUS:
    case VIRTIO_PCI_COMMON_CFGGENERATION: return 1;
    case VIRTIO_PCI_COMMON_MSIX:
    case VIRTIO_PCI_COMMON_NUMQ:
    case VIRTIO_PCI_COMMON_Q_SELECT:
    case VIRTIO_PCI_COMMON_Q_SIZE:
    case VIRTIO_PCI_COMMON_Q_MSIX:
    case VIRTIO_PCI_COMMON_Q_RESET: return 2;
    default: return 0;
  }
}

void vsim_chk_pci_access(vsim_chk_pci *k, const vsim_host *sink, const vsim_event *ev, uint64_t features) {
  bool read = ev->kind == VSIM_EV_PCI_READ;
  uint32_t off = (uint32_t)ev->a, width = (uint32_t)ev->b, val = (uint32_t)ev->c;
  switch ((unsigned)ev->d) {
    case VSIM_PCI_SPACE_COMMON:
      if (width == common_width(off)) common_access(k, sink, read, off, val, features);
      break;
    case VSIM_PCI_SPACE_DEVICE:
      /* field-width accesses only (1, 2 or 4 bytes, aligned): others are refused */
      if (read && (width == 1 || width == 2 || width == 4) && !(off & (width - 1))) device_read(k, off, width, val);
      break;
    case VSIM_PCI_SPACE_ISR:
      if (!read || width != 1) break;
      /* bits with no interrupt since the last read: that read did not clear them */
      if (val && !k->isr_armed)
        vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_ISR_CLEAR, -1,
                          "ISR status reads 0x%02x again with no interrupt since the last read", val);
      k->isr_armed = false;
      break;
    default: break;
  }
}

void vsim_chk_pci_released(vsim_chk_pci *k) { k->isr_armed = true; }

void vsim_chk_pci_irq(vsim_chk_pci *k, const vsim_host *sink, const vsim_event *ev) {
  if (ev->c != 1) { /* INTx: the ISR byte holds it until read */
    k->isr_armed = true;
    return;
  }
  int q = ev->q;
  uint32_t v = (uint32_t)ev->b;
  if (v == VIRTIO_MSI_NO_VECTOR) return; /* no message: right for an unmapped event */
  if (q >= VSIM_CHK_PCI_QUEUES) return;
  uint16_t want = q < 0 ? k->config_vector : k->queue_vector[q];
  if (want == VIRTIO_MSI_NO_VECTOR && q >= 0)
    vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_MSIX_UNMAPPED, q,
                      "queue %d's interrupt sent on vector %u though its queue_msix_vector is NO_VECTOR", q, v);
  else if (v != want)
    vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_MSIX_VECTOR, q, "%s interrupt sent on vector %u, mapped to %s%u",
                      q < 0 ? "configuration-change" : "queue", v, want == VIRTIO_MSI_NO_VECTOR ? "none: " : "", want);
}
