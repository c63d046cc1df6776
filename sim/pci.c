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

/* The device mutants of this function, decoded once. */
static vsim_pci_mutants decode_mutants(const vsim_mutset *m) {
#define HAS(e) vsim_mut_has(m, VSIM_MUT_##e)
  return (vsim_pci_mutants){
      .notify_mult = HAS(DEV_PCI_NOTIFY_MULT),
      .qreset_enable = HAS(DEV_PCI_QRESET_ENABLE),
      .reset_enable = HAS(DEV_PCI_RESET_ENABLE),
      .isr_sticky = HAS(DEV_PCI_ISR_STICKY),
      .cap_len_short = HAS(DEV_PCI_CAP_LEN_SHORT),
      .device_misaligned = HAS(DEV_PCI_DEVCFG_MISALIGNED),
      .phantom_queue = HAS(DEV_PCI_PHANTOM_QUEUE),
      .generation_frozen = HAS(DEV_PCI_GENERATION_FROZEN),
      .msix_one_vector = HAS(DEV_PCI_MSIX_ONE_VECTOR),
      .msix_config_vector = HAS(DEV_PCI_MSIX_CONFIG_VECTOR),
      .msix_unmapped = HAS(DEV_PCI_MSIX_UNMAPPED_IRQ),
      .no_cfg_cap = HAS(DEV_PCI_NO_CFG_CAP),
      .cfg_window_stale = HAS(DEV_PCI_CFG_WINDOW_STALE),
      .revision_zero = HAS(DEV_PCI_REVISION_ZERO),
      .config_irq_unmapped = HAS(DEV_PCI_CONFIG_IRQ_UNMAPPED),
      .device_id_type = HAS(DEV_PCI_DEVICE_ID_TYPE),
  };
#undef HAS
}

int vsim_pci_init(vsim_pci *p, vsim_tcore *core, const vsim_mutset *mutants, unsigned msix_vectors) {
  memset(p, 0, sizeof *p);
  p->core = core;
  if (mutants) p->mut = decode_mutants(mutants);
  p->notify_mult = p->mut.notify_mult ? 3 : VSIM_PCI_NOTIFY_MULT;
  /* every queue's notify address must fit in the one BAR after the notify offset */
  if (VSIM_PCI_NOTIFY_OFF + (uint64_t)vsim_pci_notify_len(p) > VSIM_PCI_BAR_SIZE) return -1;
  if (msix_vectors > VSIM_PCI_MSIX_MAX) return -1;
  p->msix_size = (uint16_t)(p->mut.msix_one_vector && msix_vectors ? 1 : msix_vectors);
  for (unsigned i = 0; i < p->msix_size; i++) p->msix[i].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT; /* masked at reset */
  uint32_t size = core->be.ops->config_size(core->be.be);
  p->device_len = size < VSIM_PCI_DEVICE_MAX ? size : VSIM_PCI_DEVICE_MAX;
  p->device_off = VSIM_PCI_DEVICE_OFF + (p->mut.device_misaligned ? 2 : 0);
  uint32_t id = core->be.ops->device_id(core->be.be);
  uint8_t *c = p->cfg;
  put16(c + PCI_VENDOR_ID, (uint16_t)VSIM_PCI_VENDOR);
  put16(c + PCI_DEVICE_ID, (uint16_t)(VSIM_PCI_DEVICE_BASE + id + (p->mut.device_id_type ? 1 : 0)));
  put16(c + PCI_STATUS, PCI_STATUS_CAP_LIST);
  c[PCI_REVISION_ID] = p->mut.revision_zero ? 0 : 1; /* 0 is a transitional device's */
  c[PCI_CLASS_REVISION + 3] = 0xff; /* class: unassigned ("other") */
  c[PCI_HEADER_TYPE] = 0;
  put16(c + PCI_SUBSYSTEM_VENDOR_ID, (uint16_t)VSIM_PCI_VENDOR);
  put16(c + PCI_SUBSYSTEM_ID, VSIM_PCI_SUBSYS_ID);
  c[PCI_INTERRUPT_PIN] = 1; /* INTA#, while MSI-X is disabled (the ISR byte says why) */
  p->bar0 = VSIM_PCI_BAR_ADDR;
  /* the capability list, in the order a driver prefers them */
  uint8_t at = 0x40;
  c[PCI_CAPABILITY_LIST] = at;
  p->cap_common = at;
  at = add_cap(p, at, 16, VIRTIO_PCI_CAP_COMMON_CFG, VSIM_PCI_COMMON_OFF, VSIM_PCI_COMMON_LEN);
  p->cap_notify = at;
  at = add_cap(p, at, 20, VIRTIO_PCI_CAP_NOTIFY_CFG, VSIM_PCI_NOTIFY_OFF, vsim_pci_notify_len(p));
  put32(c + p->cap_notify + 16, p->notify_mult);
  if (p->mut.cap_len_short) c[p->cap_notify + PCI_CAP_FLAGS] = 16; /* the multiplier left out */
  p->cap_isr = at;
  at = add_cap(p, at, 16, VIRTIO_PCI_CAP_ISR_CFG, VSIM_PCI_ISR_OFF, 1);
  p->cap_device = 0;
  if (p->device_len) {
    p->cap_device = at;
    at = add_cap(p, at, 16, VIRTIO_PCI_CAP_DEVICE_CFG, p->device_off, p->device_len);
  }
  p->cap_pcicfg = 0;
  if (!p->mut.no_cfg_cap) {
    p->cap_pcicfg = at;
    at = add_cap(p, at, 20, VIRTIO_PCI_CAP_PCI_CFG, 0, 0);
  }
  if (p->msix_size) {
    /* the MSI-X capability: Table Size is encoded as N - 1; table and
     * pending-bit array in BAR 0 (BIR 0) */
    p->cap_msix = at;
    c[at] = PCI_CAP_ID_MSIX;
    put16(c + at + PCI_MSIX_FLAGS, (uint16_t)(p->msix_size - 1));
    put32(c + at + PCI_MSIX_TABLE, VSIM_PCI_MSIX_TABLE_OFF);
    put32(c + at + PCI_MSIX_PBA, VSIM_PCI_MSIX_PBA_OFF);
    at = (uint8_t)(at + 12);
  }
  uint8_t caps[] = {p->cap_common, p->cap_notify, p->cap_isr, p->cap_device, p->cap_pcicfg, p->cap_msix};
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
      {VSIM_PCI_SPACE_DEVICE, p->device_off, p->device_len},
      {VSIM_PCI_SPACE_NOTIFY, VSIM_PCI_NOTIFY_OFF, vsim_pci_notify_len(p)},
      {VSIM_PCI_SPACE_MSIX_TABLE, VSIM_PCI_MSIX_TABLE_OFF, p->msix_size * PCI_MSIX_ENTRY_SIZE},
      {VSIM_PCI_SPACE_MSIX_PBA, VSIM_PCI_MSIX_PBA_OFF, p->msix_size ? 8u : 0u},
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
  /* the read-back the driver owes after writing a vector */
  if ((p->verify_field == 1 && f->off == VIRTIO_PCI_COMMON_MSIX) ||
      (p->verify_field == 2 && f->off == VIRTIO_PCI_COMMON_Q_MSIX && p->verify_queue == c->queue_sel))
    p->verify_field = 0;
  switch (f->off) {
    case VIRTIO_PCI_COMMON_DFSELECT: return c->dev_feat_sel;
    case VIRTIO_PCI_COMMON_DF: return vsim_tcore_device_features(c);
    case VIRTIO_PCI_COMMON_GFSELECT: return c->drv_feat_sel;
    case VIRTIO_PCI_COMMON_GF: return vsim_tcore_driver_features(c);
    case VIRTIO_PCI_COMMON_MSIX: return c->config_vector;
    case VIRTIO_PCI_COMMON_NUMQ: return c->nq;
    case VIRTIO_PCI_COMMON_STATUS: p->config_due = false; return ops->get_status(c->be.be);
    case VIRTIO_PCI_COMMON_CFGGENERATION:
      p->config_due = false; /* either is how a driver looks at a change */
      return p->mut.generation_frozen ? 0 : ops->config_generation(c->be.be) & 0xffu;
    case VIRTIO_PCI_COMMON_Q_SELECT: return qi;
    /* the maximum until the driver writes a smaller size */
    case VIRTIO_PCI_COMMON_Q_SIZE:
      if (!q) return p->mut.phantom_queue && c->nq ? ops->queue_max_size(c->be.be, 0) : 0; /* unavailable */
      return q->size ? q->size : ops->queue_max_size(c->be.be, qi);
    case VIRTIO_PCI_COMMON_Q_MSIX: return q ? q->vector : VIRTIO_MSI_NO_VECTOR;
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

/* A vector written to config_msix_vector (q -1) or queue_msix_vector: a table
 * entry maps the event, NO_VECTOR unmaps it; a vector past the table cannot
 * be mapped (the driver's violation): the field reads NO_VECTOR, which is how
 * a device reports a mapping it could not make. */
static void vector_write(vsim_pci *p, uint16_t *vec, int q, uint32_t val) {
  if (val != VIRTIO_MSI_NO_VECTOR && val >= p->msix_size) {
    violation(p, VSIM_CHK_PCI_DRV_MSIX_RANGE, q, "%s vector %u written: the MSI-X table has %u entries",
              q < 0 ? "config_msix_vector" : "queue_msix_vector", val, p->msix_size);
    val = VIRTIO_MSI_NO_VECTOR;
  }
  *vec = (uint16_t)val;
  p->verify_field = q < 0 ? 1 : 2;
  p->verify_queue = p->core->queue_sel;
}

/* A vector written and not read back before the driver goes on (another
 * common configuration write, a notification): the mapping is unverified. */
static void verify_due(vsim_pci *p, const char *next) {
  if (!p->verify_field) return;
  violation(p, VSIM_CHK_PCI_DRV_MSIX_VERIFY, p->verify_field == 2 ? (int)p->verify_queue : -1,
            "%s written and not read back before %s",
            p->verify_field == 1 ? "config_msix_vector" : "queue_msix_vector", next);
  p->verify_field = 0;
}

static void common_write(vsim_pci *p, uint32_t off, unsigned width, uint32_t val) {
  const field *f = common_field(p, off, width, true);
  if (!f) return;
  verify_due(p, f->name);
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
    case VIRTIO_PCI_COMMON_STATUS: vsim_tcore_set_status(c, val & 0xff, p->mut.reset_enable); break;
    case VIRTIO_PCI_COMMON_MSIX: vector_write(p, &c->config_vector, -1, val); break;
    case VIRTIO_PCI_COMMON_Q_MSIX: vector_write(p, &q->vector, (int)c->queue_sel, val); break;
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
        vsim_tcore_queue_reset(c, q, p->mut.qreset_enable);
      break;
    default: break;
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
  verify_due(p, "a notification");
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

/* ---- MSI-X: the table, the pending bits, where an interrupt goes ---- */

bool vsim_pci_msix_enabled(const vsim_pci *p) {
  return p->cap_msix && (p->cfg[p->cap_msix + PCI_MSIX_FLAGS + 1] & (PCI_MSIX_FLAGS_ENABLE >> 8));
}

static bool msix_masked(const vsim_pci *p, unsigned v) {
  return (p->cfg[p->cap_msix + PCI_MSIX_FLAGS + 1] & (PCI_MSIX_FLAGS_MASKALL >> 8)) ||
         (p->msix[v].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

/* A message for vector v: sent, or held in the pending bits while masked. */
static void msix_send(vsim_pci *p, unsigned v) {
  if (v >= p->msix_size) return;
  if (msix_masked(p, v)) p->msix_pending |= UINT64_C(1) << v;
  else p->msix_delivered |= UINT64_C(1) << v;
}

/* A mask lifted: what it held is sent now. */
static void msix_unmasked(vsim_pci *p) {
  for (unsigned v = 0; v < p->msix_size; v++)
    if ((p->msix_pending >> v) & 1u && !msix_masked(p, v)) {
      p->msix_pending &= ~(UINT64_C(1) << v);
      p->msix_delivered |= UINT64_C(1) << v;
    }
}

/* The table is read and written a DWORD at a time (PCI: aligned DWORD or
 * QWORD accesses; the model serves DWORDs). */
static uint32_t msix_read(vsim_pci *p, unsigned space, uint32_t off, unsigned width) {
  if (width != 4 || off % 4) return 0;
  if (space == VSIM_PCI_SPACE_MSIX_PBA) return (uint32_t)(p->msix_pending >> (off * 8));
  const vsim_pci_msix_entry *e = &p->msix[off / PCI_MSIX_ENTRY_SIZE];
  switch (off % PCI_MSIX_ENTRY_SIZE) {
    case PCI_MSIX_ENTRY_LOWER_ADDR: return e->addr_lo;
    case PCI_MSIX_ENTRY_UPPER_ADDR: return e->addr_hi;
    case PCI_MSIX_ENTRY_DATA: return e->data;
    default: return e->ctrl;
  }
}

static void msix_write(vsim_pci *p, uint32_t off, unsigned width, uint32_t val) {
  if (width != 4 || off % 4) return;
  vsim_pci_msix_entry *e = &p->msix[off / PCI_MSIX_ENTRY_SIZE];
  switch (off % PCI_MSIX_ENTRY_SIZE) {
    case PCI_MSIX_ENTRY_LOWER_ADDR: e->addr_lo = val & ~3u; break; /* DWORD-aligned addresses */
    case PCI_MSIX_ENTRY_UPPER_ADDR: e->addr_hi = val; break;
    case PCI_MSIX_ENTRY_DATA: e->data = val; break;
    default:
      e->ctrl = val & PCI_MSIX_ENTRY_CTRL_MASKBIT;
      msix_unmasked(p);
      break;
  }
}

uint32_t vsim_pci_route(const vsim_pci *p, int q) {
  if (!vsim_pci_msix_enabled(p)) return VSIM_PCI_INTX;
  const vsim_tcore *c = p->core;
  uint32_t v = q < 0 ? c->config_vector : q < c->nq ? c->q[q].vector : VIRTIO_MSI_NO_VECTOR;
  if (p->mut.msix_config_vector && q >= 0) v = c->config_vector;
  if (p->mut.msix_unmapped && q >= 0 && v == VIRTIO_MSI_NO_VECTOR) v = 0; /* a queue's (the config vector: dev.pci-config-irq-unmapped) */
  if (p->mut.config_irq_unmapped && q < 0 && v == VIRTIO_MSI_NO_VECTOR) v = 0;
  return v;
}

void vsim_pci_interrupt(vsim_pci *p, int q, uint32_t bits) {
  uint32_t v = vsim_pci_route(p, q);
  if (v == VSIM_PCI_INTX) vsim_tcore_raise(p->core, bits);
  else if (v != VIRTIO_MSI_NO_VECTOR) msix_send(p, v); /* unmapped: no interrupt at all */
}

uint64_t vsim_pci_msix_peek(const vsim_pci *p) { return p->msix_delivered; }

uint64_t vsim_pci_msix_take(vsim_pci *p) {
  uint64_t v = p->msix_delivered;
  p->msix_delivered = 0;
  return v;
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
      /* with MSI-X the ISR byte is unused: a driver that reads it on a
       * queue interrupt spends an access for nothing */
      if (vsim_pci_msix_enabled(p))
        violation(p, VSIM_CHK_PCI_DRV_ISR_MSIX, -1, "ISR status read while MSI-X is enabled");
      /* reading it clears it (and de-asserts INTx) */
      v = c->interrupt_status & 0xff;
      if (p->config_due)
        violation(p, VSIM_CHK_PCI_DRV_COMBINED_IRQ, -1,
                  "ISR status read again after one that showed a used-buffer and a configuration change, with no "
                  "device_status, config_generation or device configuration read in between");
      p->config_due = (v & (VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG)) == (VIRTIO_PCI_ISR_QUEUE | VIRTIO_PCI_ISR_CONFIG);
      if (v && p->mut.isr_sticky && !p->isr_kept) p->isr_kept = true; /* the mutant: kept this time */
      else if (v) {
        p->isr_kept = false;
        vsim_tcore_ack(c, v);
      }
      break;
    case VSIM_PCI_SPACE_MSIX_TABLE:
    case VSIM_PCI_SPACE_MSIX_PBA: v = msix_read(p, space, soff, width); break;
    case VSIM_PCI_SPACE_DEVICE:
      p->config_due = false; /* the change looked at */
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
    case VSIM_PCI_SPACE_MSIX_TABLE: msix_write(p, soff, width, val); break;
    case VSIM_PCI_SPACE_DEVICE:
      if (device_access_ok(p, soff, width, true)) {
        uint8_t b[4];
        put32(b, val);
        vsim_tcore_config_write(c, soff, b, width);
      }
      break;
    default: break; /* ISR, pending bits and unmapped offsets: writes are dropped */
  }
}

/* ---- configuration space ---- */

static bool in_cap_rw(const vsim_pci *p, uint32_t off) {
  /* PCI_CFG: cap.bar, cap.offset, cap.length and pci_cfg_data are the driver's
   * (none without the capability: offset 0 is the header's) */
  uint32_t r = off - p->cap_pcicfg;
  return p->cap_pcicfg && off >= p->cap_pcicfg && (r == 4 || (r >= 8 && r < 20));
}

/* The len bytes at off of BAR bar lie inside the range a virtio structure
 * capability other than PCI_CFG names: the only ranges the driver may reach
 * through the window (not the MSI-X table, not a gap between structures). */
static bool window_in_structure(const vsim_pci *p, unsigned bar, uint32_t off, uint32_t len) {
  const uint8_t caps[] = {p->cap_common, p->cap_notify, p->cap_isr, p->cap_device};
  for (unsigned i = 0; i < sizeof caps; i++) {
    if (!caps[i]) continue;
    const uint8_t *c = p->cfg + caps[i];
    uint64_t base = get32(c + VIRTIO_PCI_CAP_OFFSET), end = base + get32(c + VIRTIO_PCI_CAP_LENGTH);
    if (c[VIRTIO_PCI_CAP_BAR] == bar && off >= base && (uint64_t)off + len <= end) return true;
  }
  return false;
}

/* A byte inside a virtio structure capability (vendor-specific, any of the
 * ones this function presents): the driver's to read, not to write (but for
 * the PCI_CFG window's fields, in_cap_rw). */
static bool in_virtio_cap(const vsim_pci *p, uint32_t off) {
  const uint8_t caps[] = {p->cap_common, p->cap_notify, p->cap_isr, p->cap_device, p->cap_pcicfg};
  for (unsigned i = 0; i < sizeof caps; i++)
    if (caps[i] && off >= caps[i] && off < (uint32_t)caps[i] + p->cfg[caps[i] + PCI_CAP_FLAGS]) return true;
  return false;
}

/* The PCI_CFG window: cap.length bytes of BAR cap.bar at cap.offset. A window
 * the driver must not use (pci.drv-cfg-window) is refused: no BAR access, a
 * read leaves pci_cfg_data as it was. */
static void pcicfg_access(vsim_pci *p, bool write) {
  uint8_t *cap = p->cfg + p->cap_pcicfg;
  uint32_t len = get32(cap + VIRTIO_PCI_CAP_LENGTH), off = get32(cap + VIRTIO_PCI_CAP_OFFSET);
  unsigned bar = cap[VIRTIO_PCI_CAP_BAR];
  const char *why = NULL;
  if (!(len == 1 || len == 2 || len == 4)) why = "cap.length is not 1, 2 or 4";
  else if (off % len) why = "cap.offset is not a multiple of cap.length";
  else if (!window_in_structure(p, bar, off, len)) why = "the bytes lie in no virtio structure's BAR range";
  if (why) {
    violation(p, VSIM_CHK_PCI_DRV_CFG_WINDOW, -1, "pci_cfg_data %s with cap.bar %u, cap.offset 0x%x, cap.length %u: %s",
              write ? "written" : "read", bar, off, len, why);
    return;
  }
  uint8_t *data = cap + 16;
  if (write) {
    vsim_pci_bar_write(p, bar, off, len, get32(data) & (len == 4 ? 0xffffffffu : (1u << (8 * len)) - 1));
    return;
  }
  if (p->mut.cfg_window_stale) return; /* the mutant: no access, the old bytes stay */
  /* the first cap.length bytes; the rest of pci_cfg_data is left alone */
  uint32_t v = vsim_pci_bar_read(p, bar, off, len);
  for (unsigned i = 0; i < len; i++) data[i] = (uint8_t)(v >> (8 * i));
}

uint32_t vsim_pci_cfg_read(vsim_pci *p, uint32_t off, unsigned width) {
  uint32_t v = 0;
  if ((width == 1 || width == 2 || width == 4) && !(off & (width - 1)) && off < VSIM_PCI_CFG_SIZE) {
    uint32_t data = p->cap_pcicfg + 16u;
    if (p->cap_pcicfg && off < data + 4 && off + width > data) pcicfg_access(p, false);
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
  bool data = false, cap_write = false;
  for (unsigned i = 0; i < width; i++) {
    if (p->cap_msix && off + i == p->cap_msix + PCI_MSIX_FLAGS + 1u) {
      /* Message Control: only MSI-X Enable and Function Mask are the driver's */
      uint8_t rw = (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;
      p->cfg[off + i] = (uint8_t)((p->cfg[off + i] & ~rw) | ((val >> (8 * i)) & rw));
      msix_unmasked(p);
      continue;
    }
    if (!in_cap_rw(p, off + i)) {
      cap_write |= in_virtio_cap(p, off + i);
      continue; /* read-only bytes ignore writes */
    }
    p->cfg[off + i] = (uint8_t)(val >> (8 * i));
    if (off + i >= p->cap_pcicfg + 16u) data = true;
  }
  if (cap_write)
    violation(p, VSIM_CHK_PCI_DRV_CAP_WRITE, -1, "configuration space 0x%02x (width %u, value 0x%x) written: a virtio capability's field (ignored)",
              off, width, val);
  if (data) pcicfg_access(p, true);
}
