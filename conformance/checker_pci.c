/* conformance/checker_pci.c — the virtio-pci device rules (see checker_pci.h). */
#include <string.h>
#include <linux/pci_regs.h>
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

/* ---- configuration space: the capability chain as read, the PCI_CFG window, the ids ---- */

/* n bytes (n <= 4) at off of the shadow, or false when one is unknown */
static bool shadow_get(const vsim_chk_pci *k, uint32_t off, unsigned n, uint32_t *v) {
  *v = 0;
  if (off + n > VSIM_PCI_CFG_SIZE) return false;
  for (unsigned i = 0; i < n; i++) {
    if (!k->space_known[off + i]) return false;
    *v |= (uint32_t)k->space[off + i] << (8 * i);
  }
  return true;
}

/* The virtio capability of cfg_type `type` the driver found (the first in the
 * chain, as read from the capabilities pointer on; bounded), or 0. */
static uint32_t shadow_cap(const vsim_chk_pci *k, uint32_t type) {
  uint32_t at, vndr, t;
  if (!shadow_get(k, PCI_CAPABILITY_LIST, 1, &at)) return 0;
  for (unsigned n = 0; n < 48 && at >= 0x40 && at + 20 <= VSIM_PCI_CFG_SIZE; n++) {
    at &= ~3u;
    if (shadow_get(k, at, 1, &vndr) && vndr == PCI_CAP_ID_VNDR && shadow_get(k, at + VIRTIO_PCI_CAP_CFG_TYPE, 1, &t) &&
        t == type)
      return at;
    if (!shadow_get(k, at + PCI_CAP_LIST_NEXT, 1, &at)) return 0;
  }
  return 0;
}

/* The structure (cfg_type 1..4) whose BAR range, as its capability reads,
 * holds len bytes at off of BAR bar: its type and base, or 0. */
static uint32_t window_structure(const vsim_chk_pci *k, uint32_t bar, uint32_t off, uint32_t len, uint32_t *base) {
  for (uint32_t type = VIRTIO_PCI_CAP_COMMON_CFG; type <= VIRTIO_PCI_CAP_DEVICE_CFG; type++) {
    uint32_t at = shadow_cap(k, type), b, o, l;
    if (!at || !shadow_get(k, at + VIRTIO_PCI_CAP_BAR, 1, &b) || !shadow_get(k, at + VIRTIO_PCI_CAP_OFFSET, 4, &o) ||
        !shadow_get(k, at + VIRTIO_PCI_CAP_LENGTH, 4, &l))
      continue;
    if (b == bar && off >= o && (uint64_t)off + len <= (uint64_t)o + l) {
      *base = o;
      return type;
    }
  }
  return 0;
}

/* The window as the driver set it up, when it is one the driver may use
 * (len 1, 2 or 4, aligned, inside a virtio structure): the structure's type
 * and the offset in it; 0 otherwise (the function judges the driver there). */
static uint32_t window_target(const vsim_chk_pci *k, uint32_t cap, uint32_t *soff, uint32_t *len) {
  uint32_t bar, off, base = 0;
  if (!shadow_get(k, cap + VIRTIO_PCI_CAP_BAR, 1, &bar) || !shadow_get(k, cap + VIRTIO_PCI_CAP_OFFSET, 4, &off) ||
      !shadow_get(k, cap + VIRTIO_PCI_CAP_LENGTH, 4, len))
    return 0;
  if (!(*len == 1 || *len == 2 || *len == 4) || off % *len) return 0;
  uint32_t type = window_structure(k, bar, off, *len, &base);
  *soff = off - base;
  return type;
}

/* Non-transitional ids (Device ID 0x1040..0x107f): Revision ID 1 or higher,
 * Subsystem Device ID 0x40 or higher; judged once both are read. */
static void judge_ids(vsim_chk_pci *k, const vsim_host *sink) {
  uint32_t dev, rev, sub;
  if (k->ids_judged || !shadow_get(k, PCI_DEVICE_ID, 2, &dev) || dev < 0x1040 || dev > 0x107f) return;
  bool have_rev = shadow_get(k, PCI_REVISION_ID, 1, &rev), have_sub = shadow_get(k, PCI_SUBSYSTEM_ID, 2, &sub);
  if ((have_rev && rev < 1) || (have_sub && sub < 0x40)) {
    k->ids_judged = true;
    vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_NONTRANSITIONAL_IDS, -1,
                      "device id 0x%04x (non-transitional) with %s 0x%x (a legacy driver's match)", dev,
                      have_rev && rev < 1 ? "revision id" : "subsystem device id", have_rev && rev < 1 ? rev : sub);
  }
}

/* The transitional PCI Device ID of a virtio device type (the spec's table),
 * or 0: a type without one. */
static uint32_t transitional_id(uint32_t type) {
  static const uint16_t ids[][2] = {{1, 0x1000}, {2, 0x1001}, {5, 0x1002}, {3, 0x1003},
                                    {8, 0x1004}, {4, 0x1005}, {9, 0x1009}};
  for (unsigned i = 0; i < sizeof ids / sizeof ids[0]; i++)
    if (ids[i][0] == type) return ids[i][1];
  return 0;
}

/* Vendor 0x1AF4, device 0x1040 + type (or the type's transitional id), each
 * judged once the driver read it. */
static void judge_discovery(vsim_chk_pci *k, const vsim_host *sink) {
  uint32_t vendor, dev;
  if (k->discovery_judged || !k->expect_type) return;
  if (shadow_get(k, PCI_VENDOR_ID, 2, &vendor) && vendor != 0x1af4) {
    k->discovery_judged = true;
    vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_DISCOVERY_IDS, -1, "PCI Vendor ID 0x%04x, not 0x1af4", vendor);
    return;
  }
  uint32_t tid = transitional_id(k->expect_type);
  if (shadow_get(k, PCI_DEVICE_ID, 2, &dev) && dev != 0x1040 + k->expect_type && (!tid || dev != tid)) {
    k->discovery_judged = true;
    vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_DISCOVERY_IDS, -1,
                      "PCI Device ID 0x%04x for virtio device id %u (0x%04x expected%s)", dev, k->expect_type,
                      0x1040 + k->expect_type, tid ? ", or its transitional id" : "");
  }
}

static void config_access(vsim_chk_pci *k, const vsim_host *sink, bool read, uint32_t off, uint32_t width,
                          uint32_t val) {
  /* the function refuses other accesses (they read 0): they say nothing */
  if (!(width == 1 || width == 2 || width == 4) || (off & (width - 1)) || off + width > VSIM_PCI_CFG_SIZE) return;
  uint32_t cap = shadow_cap(k, VIRTIO_PCI_CAP_PCI_CFG), data = cap + 16;
  bool on_data = cap && off < data + 4 && off + width > data;
  if (read && on_data) {
    /* the device executed the window's read right before: that BAR read, and
     * pci_cfg_data presents its bytes */
    uint32_t soff = 0, len = 0, type = window_target(k, cap, &soff, &len);
    if (type) {
      if (!k->prev_valid || k->prev_kind != VSIM_EV_PCI_READ || k->prev_space != type || k->prev_off != soff ||
          k->prev_width != len)
        vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_CFG_WINDOW, -1,
                          "pci_cfg_data read (window: %u bytes at 0x%x of structure %u) executed no such BAR read", len,
                          soff, type);
      else
        for (uint32_t i = 0; i < width; i++) {
          uint32_t at = off + i - data; /* byte of pci_cfg_data */
          if (off + i < data || at >= len) continue;
          if ((uint8_t)(val >> (8 * i)) != (uint8_t)(k->prev_val >> (8 * at))) {
            vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_CFG_WINDOW, -1,
                              "pci_cfg_data reads 0x%x, the window's BAR read (%u bytes at 0x%x of structure %u) read 0x%x",
                              val, len, soff, type, k->prev_val);
            break;
          }
        }
    }
  }
  for (uint32_t i = 0; i < width; i++) {
    uint32_t at = off + i, r = at - cap;
    /* writes: only the window's read-write fields hold what is written */
    if (!read && !(cap && at >= cap && (r == VIRTIO_PCI_CAP_BAR || (r >= VIRTIO_PCI_CAP_OFFSET && r < 20)))) continue;
    k->space[at] = (uint8_t)(val >> (8 * i));
    k->space_known[at] = 1;
  }
  if (read) {
    judge_ids(k, sink);
    judge_discovery(k, sink);
  }
  if (!read && on_data) {
    uint32_t soff = 0, len = 0, type = window_target(k, cap, &soff, &len);
    if (type) {
      k->win_pending = true;
      k->win_space = type;
      k->win_off = soff;
      k->win_len = len;
      k->win_val_known = shadow_get(k, data, len, &k->win_val);
    }
  }
}

/* The access right after a window write: the BAR write it had to execute. */
static void window_write_due(vsim_chk_pci *k, const vsim_host *sink, const vsim_event *ev) {
  k->win_pending = false;
  bool ok = ev->kind == VSIM_EV_PCI_WRITE && (uint32_t)ev->d == k->win_space && (uint32_t)ev->a == k->win_off &&
            (uint32_t)ev->b == k->win_len;
  if (!ok)
    vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_CFG_WINDOW, -1,
                      "pci_cfg_data written (window: %u bytes at 0x%x of structure %u) and no such BAR write executed",
                      k->win_len, k->win_off, k->win_space);
  else if (k->win_val_known && (uint32_t)ev->c != k->win_val)
    vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_CFG_WINDOW, -1,
                      "pci_cfg_data 0x%x written through the window, 0x%x written to the BAR", k->win_val,
                      (uint32_t)ev->c);
}

void vsim_chk_pci_access(vsim_chk_pci *k, const vsim_host *sink, const vsim_event *ev, uint64_t features) {
  bool read = ev->kind == VSIM_EV_PCI_READ;
  uint32_t off = (uint32_t)ev->a, width = (uint32_t)ev->b, val = (uint32_t)ev->c;
  if (k->win_pending) window_write_due(k, sink, ev);
  if ((unsigned)ev->d == VSIM_PCI_SPACE_CONFIG) {
    config_access(k, sink, read, off, width, val);
    k->prev_valid = false;
    return;
  }
  k->prev_valid = true;
  k->prev_kind = ev->kind;
  k->prev_space = (uint32_t)ev->d;
  k->prev_off = off;
  k->prev_width = width;
  k->prev_val = val;
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
  if (want == VIRTIO_MSI_NO_VECTOR && q < 0)
    vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_CONFIG_IRQ_UNMAPPED, -1,
                      "configuration-change interrupt sent on vector %u though config_msix_vector is NO_VECTOR", v);
  else if (want == VIRTIO_MSI_NO_VECTOR && q >= 0)
    vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_MSIX_UNMAPPED, q,
                      "queue %d's interrupt sent on vector %u though its queue_msix_vector is NO_VECTOR", q, v);
  else if (v != want)
    vsim_host_reportf(sink, VSIM_CHK_PCI_DEV_MSIX_VECTOR, q, "%s interrupt sent on vector %u, mapped to %s%u",
                      q < 0 ? "configuration-change" : "queue", v, want == VIRTIO_MSI_NO_VECTOR ? "none: " : "", want);
}
