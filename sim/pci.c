/* sim/pci.c — the virtio-pci (modern) function, device side (see pci.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include "pci.h"
#include "virtio_compat.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"
#include "host_report.h"

static inline bool mut(const vsim_pci *p, unsigned k) { return vsim_mut_has(&p->mutants, (int)k); }

/* a violation with a formatted detail, through the host (host_report.h) */
#define violation(p, check, q, ...) vsim_host_reportf((p)->core->host, (check), (q), __VA_ARGS__)

static void emit(vsim_pci *p, int kind, uint32_t off, unsigned width, uint32_t val, unsigned space) {
  p->core->host->event(p->core->host->ctx, kind, -1, off, width, val, space);
}

static void put16(uint8_t *b, uint16_t v) {
  b[0] = (uint8_t)v;
  b[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *b, uint32_t v) {
  put16(b, (uint16_t)v);
  put16(b + 2, (uint16_t)(v >> 16));
}
static uint32_t get32(const uint8_t *b) {
  return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

uint32_t vsim_pci_notify_len(const vsim_pci *p) {
  uint32_t nq = p->core->nq ? p->core->nq : 1;
  return (nq - 1) * p->notify_mult + 4; /* room for a 32-bit NOTIFICATION_DATA write */
}

/* One virtio vendor capability at `at`; returns the next free offset. */
static uint8_t add_cap(vsim_pci *p, uint8_t at, uint8_t len, uint8_t type, uint32_t off,
                       uint32_t length) {
  uint8_t *c = p->cfg + at;
  c[0] = PCI_CAP_ID_VNDR;
  c[1] = 0; /* linked by the caller */
  c[2] = len;
  c[3] = type;
  c[4] = 0; /* bar */
  put32(c + 8, off);
  put32(c + 12, length);
  return (uint8_t)(at + len);
}

int vsim_pci_init(vsim_pci *p, vsim_tcore *core, vsim_mutset mutants) {
  memset(p, 0, sizeof *p);
  p->core = core;
  p->mutants = mutants;
  p->notify_mult = mut(p, VSIM_MUT_DEV_PCI_NOTIFY_MULT) ? 3 : VSIM_PCI_NOTIFY_MULT;
  /* every queue's notify address must fit in the one BAR after the notify offset */
  if (VSIM_PCI_NOTIFY_OFF + (uint64_t)vsim_pci_notify_len(p) > VSIM_PCI_BAR_SIZE) return -1;
  uint32_t size = core->be.ops->config_size(core->be.be);
  p->device_len = size < VSIM_PCI_DEVICE_MAX ? size : VSIM_PCI_DEVICE_MAX;
  uint32_t id = core->be.ops->device_id(core->be.be);
  uint8_t *c = p->cfg;
  put16(c + PCI_VENDOR_ID, (uint16_t)VSIM_PCI_VENDOR);
  put16(c + PCI_DEVICE_ID, (uint16_t)(VSIM_PCI_DEVICE_BASE + id));
  put16(c + PCI_STATUS, PCI_STATUS_CAP_LIST);
  c[PCI_REVISION_ID] = 1;
  c[PCI_CLASS_REVISION + 3] = 0xff; /* class: unassigned ("other") */
  c[PCI_HEADER_TYPE] = 0;
  put16(c + PCI_SUBSYSTEM_VENDOR_ID, (uint16_t)VSIM_PCI_VENDOR);
  put16(c + PCI_SUBSYSTEM_ID, VSIM_PCI_SUBSYS_ID);
  c[PCI_INTERRUPT_PIN] = 1; /* INTA#: no MSI-X capability, the ISR byte says why */
  p->bar0 = VSIM_PCI_BAR_ADDR;
  /* the capability list, in the order a driver prefers them */
  uint8_t at = 0x40;
  c[PCI_CAPABILITY_LIST] = at;
  p->cap_common = at;
  at = add_cap(p, at, 16, VIRTIO_PCI_CAP_COMMON_CFG, VSIM_PCI_COMMON_OFF, VSIM_PCI_COMMON_LEN);
  p->cap_notify = at;
  at = add_cap(p, at, 20, VIRTIO_PCI_CAP_NOTIFY_CFG, VSIM_PCI_NOTIFY_OFF, vsim_pci_notify_len(p));
  put32(c + p->cap_notify + 16, p->notify_mult);
  p->cap_isr = at;
  at = add_cap(p, at, 16, VIRTIO_PCI_CAP_ISR_CFG, VSIM_PCI_ISR_OFF, 1);
  p->cap_device = 0;
  if (p->device_len) {
    p->cap_device = at;
    at = add_cap(p, at, 16, VIRTIO_PCI_CAP_DEVICE_CFG, VSIM_PCI_DEVICE_OFF, p->device_len);
  }
  p->cap_pcicfg = at;
  at = add_cap(p, at, 20, VIRTIO_PCI_CAP_PCI_CFG, 0, 0);
  uint8_t caps[] = {p->cap_common, p->cap_notify, p->cap_isr, p->cap_device, p->cap_pcicfg};
  uint8_t prev = 0;
  for (unsigned i = 0; i < sizeof caps; i++) {
    if (!caps[i]) continue;
    if (prev) c[prev + PCI_CAP_LIST_NEXT] = caps[i];
    prev = caps[i];
  }
  return 0;
}

/* ---- where a BAR access lands ---- */

static unsigned locate(const vsim_pci *p, unsigned bar, uint32_t off, uint32_t *soff) {
  *soff = off;
  if (bar != 0 || off >= VSIM_PCI_BAR_SIZE) return VSIM_PCI_SPACE_NONE;
  struct {
    unsigned space;
    uint32_t base, len;
  } map[] = {
      {VSIM_PCI_SPACE_COMMON, VSIM_PCI_COMMON_OFF, VSIM_PCI_COMMON_LEN},
      {VSIM_PCI_SPACE_ISR, VSIM_PCI_ISR_OFF, 1},
      {VSIM_PCI_SPACE_DEVICE, VSIM_PCI_DEVICE_OFF, p->device_len},
      {VSIM_PCI_SPACE_NOTIFY, VSIM_PCI_NOTIFY_OFF, vsim_pci_notify_len(p)},
  };
  for (unsigned i = 0; i < sizeof map / sizeof map[0]; i++)
    if (off >= map[i].base && off - map[i].base < map[i].len) {
      *soff = off - map[i].base;
      return map[i].space;
    }
  return VSIM_PCI_SPACE_NONE;
}

/* ---- the common configuration structure ---- */

typedef struct field {
  uint8_t off, width;
  bool ro;
  const char *name;
} field;

static const field common_fields[] = {
    {VIRTIO_PCI_COMMON_DFSELECT, 4, false, "device_feature_select"},
    {VIRTIO_PCI_COMMON_DF, 4, true, "device_feature"},
    {VIRTIO_PCI_COMMON_GFSELECT, 4, false, "driver_feature_select"},
    {VIRTIO_PCI_COMMON_GF, 4, false, "driver_feature"},
    {VIRTIO_PCI_COMMON_MSIX, 2, false, "config_msix_vector"},
    {VIRTIO_PCI_COMMON_NUMQ, 2, true, "num_queues"},
    {VIRTIO_PCI_COMMON_STATUS, 1, false, "device_status"},
    {VIRTIO_PCI_COMMON_CFGGENERATION, 1, true, "config_generation"},
    {VIRTIO_PCI_COMMON_Q_SELECT, 2, false, "queue_select"},
    {VIRTIO_PCI_COMMON_Q_SIZE, 2, false, "queue_size"},
    {VIRTIO_PCI_COMMON_Q_MSIX, 2, false, "queue_msix_vector"},
    {VIRTIO_PCI_COMMON_Q_ENABLE, 2, false, "queue_enable"},
    {VIRTIO_PCI_COMMON_Q_NOFF, 2, true, "queue_notify_off"},
    {VIRTIO_PCI_COMMON_Q_DESCLO, 8, false, "queue_desc"},
    {VIRTIO_PCI_COMMON_Q_AVAILLO, 8, false, "queue_driver"},
    {VIRTIO_PCI_COMMON_Q_USEDLO, 8, false, "queue_device"},
    {VIRTIO_PCI_COMMON_Q_NDATA, 2, true, "queue_notify_data"},
    {VIRTIO_PCI_COMMON_Q_RESET, 2, false, "queue_reset"},
    {0x3c, 2, true, "admin_queue_index"},
    {0x3e, 2, true, "admin_queue_num"},
};

/* The field an access of `width` at `off` addresses, or NULL (reported) when
 * it is not one field at its own width (a 64-bit field: a 32-bit half). */
static const field *common_field(vsim_pci *p, uint32_t off, unsigned width, bool write) {
  for (unsigned i = 0; i < sizeof common_fields / sizeof common_fields[0]; i++) {
    const field *f = &common_fields[i];
    if (off < f->off || off >= (uint32_t)f->off + f->width) continue;
    if ((off == f->off && width == f->width) ||
        (f->width == 8 && width == 4 && (off - f->off) % 4 == 0))
      return f;
    violation(p, VSIM_CHK_PCI_ACCESS_WIDTH, -1, "common cfg %s (%u bytes at 0x%02x) %s with width %u at 0x%02x",
              f->name, f->width, f->off, write ? "written" : "read", width, off);
    return NULL;
  }
  violation(p, VSIM_CHK_PCI_ACCESS_WIDTH, -1, "common cfg access at 0x%02x (width %u) names no field", off, width);
  return NULL;
}

static uint64_t *queue_addr(vsim_tcore_queue *q, uint8_t field_off) {
  return field_off == VIRTIO_PCI_COMMON_Q_DESCLO    ? &q->desc
         : field_off == VIRTIO_PCI_COMMON_Q_AVAILLO ? &q->driver
                                                    : &q->device;
}

static uint32_t common_read(vsim_pci *p, uint32_t off, unsigned width) {
  const field *f = common_field(p, off, width, false);
  if (!f) return 0;
  vsim_tcore *c = p->core;
  const vsim_backend_ops *ops = c->be.ops;
  vsim_tcore_queue *q = vsim_tcore_sel_queue(c);
  uint16_t qi = (uint16_t)c->queue_sel;
  switch (f->off) {
    case VIRTIO_PCI_COMMON_DFSELECT: return c->dev_feat_sel;
    case VIRTIO_PCI_COMMON_DF: return vsim_tcore_device_features(c);
    case VIRTIO_PCI_COMMON_GFSELECT: return c->drv_feat_sel;
    case VIRTIO_PCI_COMMON_GF: return vsim_tcore_driver_features(c);
    case VIRTIO_PCI_COMMON_MSIX: return VIRTIO_MSI_NO_VECTOR;
    case VIRTIO_PCI_COMMON_NUMQ: return c->nq;
    case VIRTIO_PCI_COMMON_STATUS: return ops->get_status(c->be.be);
    case VIRTIO_PCI_COMMON_CFGGENERATION: return ops->config_generation(c->be.be) & 0xffu;
    case VIRTIO_PCI_COMMON_Q_SELECT: return qi;
    /* the maximum until the driver writes a smaller size */
    case VIRTIO_PCI_COMMON_Q_SIZE: return q ? (q->size ? q->size : ops->queue_max_size(c->be.be, qi)) : 0;
    case VIRTIO_PCI_COMMON_Q_MSIX: return VIRTIO_MSI_NO_VECTOR;
    case VIRTIO_PCI_COMMON_Q_ENABLE: return q ? q->ready : 0;
    case VIRTIO_PCI_COMMON_Q_NOFF: return q ? qi : 0;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
    case VIRTIO_PCI_COMMON_Q_USEDLO: {
      if (!q) return 0;
      uint64_t v = *queue_addr(q, f->off);
      return off == f->off ? (uint32_t)v : (uint32_t)(v >> 32);
    }
    case VIRTIO_PCI_COMMON_Q_NDATA: return q ? qi : 0; /* the queue index: the trivial choice */
    case VIRTIO_PCI_COMMON_Q_RESET: return 0;          /* resets complete at once */
    default: return 0;                                 /* no administration queues */
  }
}

static void queue_size_write(vsim_pci *p, vsim_tcore_queue *q, uint32_t val) {
  vsim_tcore *c = p->core;
  uint16_t max = c->be.ops->queue_max_size(c->be.be, (uint16_t)c->queue_sel);
  bool packed = vsim_tcore_negotiated(c, VIRTIO_F_RING_PACKED);
  if (val == 0 || val > max || (!packed && (val & (val - 1)))) {
    violation(p, VSIM_CHK_PCI_QUEUE_SIZE, (int)c->queue_sel,
              "queue_size %u written (maximum %u, %s ring)", val, max, packed ? "packed" : "split");
    return; /* a refused write is ignored, as a robust device would */
  }
  q->size = val;
}

static void queue_enable_write(vsim_pci *p, vsim_tcore_queue *q, uint32_t val) {
  vsim_tcore *c = p->core;
  if (val == 0) {
    violation(p, VSIM_CHK_PCI_QUEUE_ENABLE_ZERO, (int)c->queue_sel,
              "0 written to queue_enable of queue %u (ignored)", c->queue_sel);
    return;
  }
  if (q->ready) return;
  uint16_t max = 0;
  if (!q->size) q->size = c->be.ops->queue_max_size(c->be.be, (uint16_t)c->queue_sel);
  if (vsim_tcore_queue_ready(c, q, 1, &max))
    violation(p, VSIM_CHK_PCI_QUEUE_SIZE, (int)c->queue_sel,
              "queue_enable with queue_size %u (maximum %u)", q->size, max);
}

static void common_write(vsim_pci *p, uint32_t off, unsigned width, uint32_t val) {
  const field *f = common_field(p, off, width, true);
  if (!f) return;
  vsim_tcore *c = p->core;
  if (f->ro) {
    violation(p, VSIM_CHK_PCI_WRITE_RO, -1, "read-only common cfg field %s written (value 0x%x)", f->name,
              val);
    return;
  }
  vsim_tcore_queue *q = vsim_tcore_sel_queue(c);
  bool queue_field = f->off >= VIRTIO_PCI_COMMON_Q_SIZE && f->off != VIRTIO_PCI_COMMON_Q_SELECT;
  if (queue_field && !q) return; /* no such queue: nothing to configure */
  bool config_field = f->off == VIRTIO_PCI_COMMON_Q_SIZE || f->off == VIRTIO_PCI_COMMON_Q_DESCLO ||
                      f->off == VIRTIO_PCI_COMMON_Q_AVAILLO || f->off == VIRTIO_PCI_COMMON_Q_USEDLO;
  if (config_field && q->ready) {
    violation(p, VSIM_CHK_PCI_QUEUE_LIVE, (int)c->queue_sel,
              "%s of queue %u written while queue_enable is 1 (value 0x%x)", f->name, c->queue_sel, val);
    return;
  }
  switch (f->off) {
    case VIRTIO_PCI_COMMON_DFSELECT: c->dev_feat_sel = val; break;
    case VIRTIO_PCI_COMMON_GFSELECT: c->drv_feat_sel = val; break;
    case VIRTIO_PCI_COMMON_GF:
      if (vsim_tcore_write_driver_features(c, val))
        violation(p, VSIM_CHK_FEAT_DRV_AFTER_OK, -1,
                  "driver_feature (window %u) changed to 0x%x after FEATURES_OK", c->drv_feat_sel, val);
      break;
    case VIRTIO_PCI_COMMON_STATUS: vsim_tcore_set_status(c, val & 0xff, false); break;
    case VIRTIO_PCI_COMMON_Q_SELECT: c->queue_sel = val & 0xffff; break;
    case VIRTIO_PCI_COMMON_Q_SIZE: queue_size_write(p, q, val); break;
    case VIRTIO_PCI_COMMON_Q_ENABLE: queue_enable_write(p, q, val); break;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
    case VIRTIO_PCI_COMMON_Q_USEDLO: {
      uint64_t *r = queue_addr(q, f->off);
      if (off != f->off)
        *r = (*r & UINT64_C(0xffffffff)) | ((uint64_t)val << 32);
      else
        *r = (*r & ~UINT64_C(0xffffffff)) | val;
      break;
    }
    case VIRTIO_PCI_COMMON_Q_RESET:
      /* the field exists only with VIRTIO_F_RING_RESET */
      if (vsim_tcore_negotiated(c, VIRTIO_F_RING_RESET) && val == 1)
        vsim_tcore_queue_reset(c, q, mut(p, VSIM_MUT_DEV_PCI_QRESET_ENABLE));
      break;
    default: break; /* msix vectors: no MSI-X capability, they stay NO_VECTOR */
  }
}

/* ---- notify, ISR, device configuration ---- */

static void notify_write(vsim_pci *p, uint32_t off, unsigned width, uint32_t val) {
  vsim_tcore *c = p->core;
  bool data = vsim_tcore_negotiated(c, VIRTIO_F_NOTIFICATION_DATA);
  uint32_t qi = data ? val & 0xffff : val;
  char why[96] = "";
  /* mult 0: every queue shares one address, the value tells them apart */
  bool at_queue = p->notify_mult ? off % p->notify_mult == 0 && off / p->notify_mult < c->nq : off == 0;
  if (width != (data ? 4u : 2u))
    snprintf(why, sizeof why, "a %u-byte write (%u bytes %s NOTIFICATION_DATA)", width, data ? 4 : 2,
             data ? "with" : "without");
  else if (!at_queue)
    snprintf(why, sizeof why, "at notify offset 0x%x, no queue's notify address", off);
  else if (p->notify_mult && off / p->notify_mult != qi)
    snprintf(why, sizeof why, "at queue %u's notify address", off / p->notify_mult);
  /* a doorbell is not lost: the value names the queue */
  int r = vsim_tcore_notify(c, qi, val);
  if (why[0])
    violation(p, VSIM_CHK_PCI_NOTIFY, -1, "notification 0x%x %s", val, why);
  else if (r)
    violation(p, VSIM_CHK_PCI_NOTIFY, -1, "notification 0x%x names no ready queue", val);
}

static bool device_access_ok(vsim_pci *p, uint32_t off, unsigned width, bool write) {
  if ((width == 1 || width == 2 || width == 4) && !(off & (width - 1)) && width <= p->device_len - off)
    return true;
  violation(p, VSIM_CHK_PCI_ACCESS_WIDTH, -1, "device cfg %s at 0x%02x with width %u",
            write ? "written" : "read", off, width);
  return false;
}

uint32_t vsim_pci_bar_read(vsim_pci *p, unsigned bar, uint32_t off, unsigned width) {
  uint32_t soff;
  unsigned space = locate(p, bar, off, &soff);
  vsim_tcore *c = p->core;
  uint32_t v = 0;
  switch (space) {
    case VSIM_PCI_SPACE_COMMON: v = common_read(p, soff, width); break;
    case VSIM_PCI_SPACE_ISR:
      if (width != 1) {
        violation(p, VSIM_CHK_PCI_ACCESS_WIDTH, -1, "ISR status read with width %u", width);
        break;
      }
      /* reading it clears it (and de-asserts INTx) */
      v = c->interrupt_status & 0xff;
      if (v) vsim_tcore_ack(c, v);
      break;
    case VSIM_PCI_SPACE_DEVICE:
      if (device_access_ok(p, soff, width, false)) {
        uint8_t b[4] = {0};
        c->be.ops->config_read(c->be.be, soff, b, width);
        v = get32(b);
      }
      break;
    default: break; /* the notify region and unmapped offsets read 0 */
  }
  emit(p, VSIM_EV_PCI_READ, soff, width, v, space);
  return v;
}

void vsim_pci_bar_write(vsim_pci *p, unsigned bar, uint32_t off, unsigned width, uint32_t val) {
  uint32_t soff;
  unsigned space = locate(p, bar, off, &soff);
  emit(p, VSIM_EV_PCI_WRITE, soff, width, val, space);
  vsim_tcore *c = p->core;
  switch (space) {
    case VSIM_PCI_SPACE_COMMON: common_write(p, soff, width, val); break;
    case VSIM_PCI_SPACE_NOTIFY: notify_write(p, soff, width, val); break;
    case VSIM_PCI_SPACE_DEVICE:
      if (device_access_ok(p, soff, width, true)) {
        uint8_t b[4];
        put32(b, val);
        c->be.ops->config_write(c->be.be, soff, b, width);
      }
      break;
    default: break; /* ISR and unmapped offsets: writes are dropped */
  }
}

/* ---- configuration space ---- */

static bool in_cap_rw(const vsim_pci *p, uint32_t off) {
  /* PCI_CFG: cap.bar, cap.offset, cap.length and pci_cfg_data are the driver's */
  uint32_t r = off - p->cap_pcicfg;
  return off >= p->cap_pcicfg && (r == 4 || (r >= 8 && r < 20));
}

/* The PCI_CFG window: cap.length bytes of BAR cap.bar at cap.offset. */
static void pcicfg_access(vsim_pci *p, bool write) {
  uint8_t *cap = p->cfg + p->cap_pcicfg;
  uint32_t len = get32(cap + 12), off = get32(cap + 8);
  if (!(len == 1 || len == 2 || len == 4)) return;
  if (write)
    vsim_pci_bar_write(p, cap[4], off, len, get32(cap + 16) & (len == 4 ? 0xffffffffu : (1u << (8 * len)) - 1));
  else
    put32(cap + 16, vsim_pci_bar_read(p, cap[4], off, len));
}

uint32_t vsim_pci_cfg_read(vsim_pci *p, uint32_t off, unsigned width) {
  uint32_t v = 0;
  if ((width == 1 || width == 2 || width == 4) && !(off & (width - 1)) && off < VSIM_PCI_CFG_SIZE) {
    uint32_t data = p->cap_pcicfg + 16u;
    if (off < data + 4 && off + width > data) pcicfg_access(p, false);
    put32(p->cfg + PCI_BASE_ADDRESS_0, p->bar0);
    for (unsigned i = 0; i < width; i++) v |= (uint32_t)p->cfg[off + i] << (8 * i);
  }
  emit(p, VSIM_EV_PCI_READ, off, width, v, VSIM_PCI_SPACE_CONFIG);
  return v;
}

void vsim_pci_cfg_write(vsim_pci *p, uint32_t off, unsigned width, uint32_t val) {
  emit(p, VSIM_EV_PCI_WRITE, off, width, val, VSIM_PCI_SPACE_CONFIG);
  if (!(width == 1 || width == 2 || width == 4) || (off & (width - 1)) || off >= VSIM_PCI_CFG_SIZE) return;
  if (off == PCI_BASE_ADDRESS_0 && width == 4) {
    /* sizing: the address bits below the size read back 0 */
    p->bar0 = val & ~(VSIM_PCI_BAR_SIZE - 1);
    return;
  }
  if (off == PCI_COMMAND) {
    for (unsigned i = 0; i < width && i < 2; i++) p->cfg[off + i] = (uint8_t)(val >> (8 * i));
    return;
  }
  bool data = false;
  for (unsigned i = 0; i < width; i++) {
    if (!in_cap_rw(p, off + i)) continue; /* read-only bytes ignore writes */
    p->cfg[off + i] = (uint8_t)(val >> (8 * i));
    if (off + i >= p->cap_pcicfg + 16u) data = true;
  }
  if (data) pcicfg_access(p, true);
}
