/* conformance/checker.c — event observers (see checker.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_input.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include "arena_fast.h"
#include "arena_shared.h"
#include "le.h"
#include "virtio_compat.h"
#include "checker.h"
#include "virtiosim/checks.h"

__attribute__((format(printf, 4, 5))) static void report(vsim_checker *c, int check, int q,
                                                          const char *fmt, ...) {
  char d[VSIM_VIOLATION_DETAIL_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d, sizeof d, fmt, ap);
  va_end(ap);
  /* once the device wrote what it must not, a descriptor that changed may be
   * its doing: the driver is not judged for one (mem.drv-alter-exposed) */
  if (check == VSIM_CHK_MEM_DEV_WRITE_RO) c->dev_scribbled = true;
  c->sink->violation(c->sink->ctx, check, q, d);
}

/* Observers read guest memory directly (bounds-checked here): they are not a
 * side of the device/driver contract and must not trip the arena's fault sink. */
static inline bool peek(const vsim_checker *c, uint64_t gpa, void *dst, uint64_t len) {
  if (gpa > c->mem_size || len > c->mem_size - gpa) return false;
  memcpy(dst, c->mem + gpa, len);
  return true;
}

/* [gpa, gpa+len) lies inside guest memory: c->mem + gpa may be read. */
static inline bool peek_ptr(const vsim_checker *c, uint64_t gpa, uint64_t len) {
  return gpa <= c->mem_size && len <= c->mem_size - gpa;
}

static inline bool peek16(const vsim_checker *c, uint64_t gpa, uint16_t *v) {
  uint8_t b[2];
  if (!peek(c, gpa, b, 2)) return false;
  *v = vsim_le_ld16(b);
  return true;
}

static bool has(const vsim_checker *c, unsigned bit) { return (c->features >> bit) & 1u; }

/* notify iff the event index lies in the window (old, new] */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx) {
  return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* Packed rings: a position is an offset plus the wrap counter (bit 15). On the
 * circle of 2 x size positions that one pass with each wrap value makes, the
 * same window test applies: notify iff the descriptor at the event position
 * was among those made available (or used) in this window. */
static uint32_t packed_lin(uint16_t pos, uint16_t size) {
  uint32_t off = pos & 0x7fffu;
  return (pos >> 15) ? off : off + size;
}

static bool packed_need(uint16_t event, uint16_t new_pos, uint16_t old_pos, uint16_t size) {
  uint32_t n = 2u * size;
  uint32_t e = packed_lin(event, size) % n, nw = packed_lin(new_pos, size) % n,
           od = packed_lin(old_pos, size) % n;
  return (nw + n - e - 1) % n < (nw + n - od) % n;
}

/* The decision an event suppression structure asks for over (old, new]. */
static bool packed_wants(const vsim_checker *c, uint64_t evt, uint16_t old_pos, uint16_t new_pos,
                         uint16_t size) {
  uint16_t off_wrap = 0, flags = 0;
  peek16(c, evt, &off_wrap);
  peek16(c, evt + 2, &flags);
  switch (flags & 3u) {
    case VRING_PACKED_EVENT_FLAG_DISABLE: return false;
    case VRING_PACKED_EVENT_FLAG_DESC:
      if (has(c, VIRTIO_RING_F_EVENT_IDX)) return packed_need(off_wrap, new_pos, old_pos, size);
      return true;
    default: return true; /* ENABLE, and the reserved value: never suppress forever */
  }
}

/* Packed positions on that circle: distance from one to another, and a
 * position k steps on. */
#define PK_WRAP 0x8000u
#define PK_OFF(pos) ((uint16_t)((pos) & 0x7fffu))

static uint32_t packed_dist(uint16_t from, uint16_t to, uint16_t size) {
  uint32_t n = 2u * size;
  return (packed_lin(to, size) % n + n - packed_lin(from, size) % n) % n;
}

static uint16_t packed_step(uint16_t pos, uint32_t k, uint16_t size) {
  uint32_t n = 2u * size, lin = (packed_lin(pos, size) + k) % n;
  return lin < size ? (uint16_t)(lin | PK_WRAP) : (uint16_t)(lin - size);
}

/* Who owns a packed ring descriptor, as the publishes say: nobody watched
 * (never published, or the driver took a used one back), the device (made
 * available, not yet used), the driver (used, not yet made available again). */
enum { PD_FREE = 0, PD_AVAIL = 1, PD_USED = 2 };

static uint16_t pd_flags(const uint8_t d[16]) { return vsim_le_ld16(d + 14); }

/* AVAIL == USED == wrap: used in the lap `wrap`; AVAIL == wrap != USED: available in it. */
static bool pd_used_in(uint16_t flags, bool wrap) {
  return (((flags >> VRING_PACKED_DESC_F_AVAIL) & 1u) == wrap) &&
         (((flags >> VRING_PACKED_DESC_F_USED) & 1u) == wrap);
}
static bool pd_avail_in(uint16_t flags, bool wrap) {
  return (((flags >> VRING_PACKED_DESC_F_AVAIL) & 1u) == wrap) &&
         (((flags >> VRING_PACKED_DESC_F_USED) & 1u) != wrap);
}

static bool pd_read(const vsim_checker *c, const vsim_chk_queue *q, uint16_t off, uint8_t d[16]) {
  return off < q->size && peek(c, q->desc + 16u * off, d, 16);
}

/* Stop the arena's write watches of a queue (the packed ring's; the parts
 * a device step must not write) and free their bits. */
static void unwatch(vsim_checker *c, vsim_chk_queue *q) {
  if (q->pd_watched) vsim_arena_watch_remove(c->arena, q->pd_dirty);
  free(q->pd_dirty);
  q->pd_dirty = NULL;
  q->pd_watched = false;
  for (unsigned k = 0; k < q->dw_n; k++) {
    vsim_arena_watch_remove(c->arena, q->dw[k].dirty);
    free(q->dw[k].dirty);
  }
  memset(q->dw, 0, sizeof q->dw);
  q->dw_n = 0;
  q->dw_fast = false;
}

void vsim_checker_init(vsim_checker *c, const vsim_host *sink, vsim_arena *arena,
                       const vsim_mmio *mmio) {
  memset(c, 0, sizeof *c);
  c->sink = sink;
  c->arena = arena;
  c->mmio = mmio;
  /* the arena never moves or changes size: looked up once, not per peek */
  c->mem = vsim_arena_base(arena);
  c->mem_size = vsim_arena_size(arena);
  vsim_chk_pci_init(&c->pcs);
}

void vsim_checker_fini(vsim_checker *c) {
  for (int i = 0; i < VSIM_CHECKER_MAX_QUEUES; i++) {
    free(c->q[i].fingerprint);
    free(c->q[i].pub_fp);
    free(c->q[i].pub_tab);
    free(c->q[i].outstanding);
    free(c->q[i].regions);
    free(c->q[i].pd_state);
    free(c->q[i].pd_bytes);
    unwatch(c, &c->q[i]);
    free(c->q[i].io_id);
    free(c->q[i].io_start);
    free(c->q[i].io_ndesc);
    free(c->q[i].wsnap);
    free(c->q[i].driver_copy);
    free(c->q[i].xp_val);
    free(c->q[i].xp_on);
  }
  memset(c->q, 0, sizeof c->q);
}

static vsim_chk_queue *queue(vsim_checker *c, int q) {
  if (q < 0 || q >= VSIM_CHECKER_MAX_QUEUES || !c->q[q].ready) return NULL;
  return &c->q[q];
}

/* ---- status, features, reset ---- */

static const uint8_t init_bits = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                                 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;

static void on_status(vsim_checker *c, uint8_t dev_old, uint8_t val) {
  if (val == 0) {
    c->reset_unverified = true;
    memset(c->qsetup, 0, sizeof c->qsetup); /* what follows is discovery, not a re-enable */
    c->status = 0;
    c->in_select = c->in_subsel = c->in_size_read = false;
    c->reset_check = true;
    c->status_zero_check = true;
    c->silent_after_reset = true;
    c->nr_open = false;
    c->refused = false;
    for (int i = 0; i < VSIM_CHECKER_MAX_QUEUES; i++) {
      c->q[i].ready = false;
      c->q[i].kick_open = c->q[i].irq_open = c->q[i].irq_held = false;
    }
    return;
  }
  c->status_zero_check = false; /* a later read is no longer about the reset */
  if (c->reset_unverified) {
    /* spec: the reset is complete when status reads back 0 */
    report(c, VSIM_CHK_RESET_DRV_REREAD, -1,
           "status 0x%02x written after a reset without reading status back", val);
    c->reset_unverified = false;
  }
  uint8_t prev = c->status;
  /* NEEDS_RESET is the device's bit: a driver need not echo it back */
  uint8_t cleared = (uint8_t)(prev & ~val & ~VIRTIO_CONFIG_S_NEEDS_RESET);
  if (cleared)
    report(c, VSIM_CHK_STATUS_DRV_CLEAR, -1, "status write 0x%02x clears bits 0x%02x", val,
           cleared);
  uint8_t set = (uint8_t)(val & ~prev & init_bits);
  uint8_t need = 0;
  if (set & VIRTIO_CONFIG_S_DRIVER) need |= VIRTIO_CONFIG_S_ACKNOWLEDGE;
  if (set & VIRTIO_CONFIG_S_FEATURES_OK) need |= VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
  if (set & VIRTIO_CONFIG_S_DRIVER_OK)
    need |= VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;
  if ((val & need) != need)
    report(c, VSIM_CHK_STATUS_DRV_ORDER, -1, "status 0x%02x sets a bit before 0x%02x",
           val, need & ~val);
  if (set & VIRTIO_CONFIG_S_FEATURES_OK) c->reread = false;
  if (set & VIRTIO_CONFIG_S_DRIVER_OK) {
    if (!c->reread)
      report(c, VSIM_CHK_STATUS_DRV_REREAD, -1,
             "DRIVER_OK (status 0x%02x) without re-reading status after FEATURES_OK", val);
    if (c->refused || !(dev_old & VIRTIO_CONFIG_S_FEATURES_OK))
      report(c, VSIM_CHK_STATUS_DRV_FAILED, -1,
             "DRIVER_OK after the device refused FEATURES_OK (device status 0x%02x)",
             dev_old);
    c->silent_after_reset = false;
  }
  c->status = val;
}

static void on_features(vsim_checker *c, uint64_t dev, uint64_t drv) {
  c->offered = dev;
  c->features = drv;
  const uint64_t v1 = UINT64_C(1) << VIRTIO_F_VERSION_1;
  if (!(dev & v1))
    report(c, VSIM_CHK_FEAT_DEV_VERSION1, -1, "device features 0x%016" PRIx64 " lack VERSION_1",
           dev);
  else if (!(drv & v1))
    report(c, VSIM_CHK_FEAT_DRV_VERSION1, -1,
           "driver features 0x%016" PRIx64 " lack VERSION_1 though offered", drv);
  if (drv & ~dev)
    report(c, VSIM_CHK_FEAT_DRV_UNOFFERED, -1, "driver accepted 0x%016" PRIx64 ", not offered in 0x%016" PRIx64,
           drv & ~dev, dev);
}

enum {
  VSIM_QS_SIZE = 1,
  VSIM_QS_DESC = 2,
  VSIM_QS_DRIVER = 4,
  VSIM_QS_DEVICE = 8,
  VSIM_QS_RESET = 0x80,
};

/* A queue re-enabled after its reset must be configured as at discovery
 * (Virtqueue Re-enable): its three ring addresses written again, and over
 * MMIO its size too (QueueNum is a step of MMIO discovery; virtio-pci's
 * queue_size is optional there, its reset value the maximum). */
static void queue_reenable_access(vsim_checker *c, bool read, uint32_t off, uint32_t val) {
  uint8_t *qs = &c->qsetup[c->queue_sel];
  if (read) return;
  if (off == VIRTIO_MMIO_QUEUE_RESET && val == 1) {
    *qs = VSIM_QS_RESET;
    return;
  }
  if (!(*qs & VSIM_QS_RESET)) return;
  switch (off) {
    case VIRTIO_MMIO_QUEUE_NUM: *qs |= VSIM_QS_SIZE; break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: *qs |= VSIM_QS_DESC; break;
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH: *qs |= VSIM_QS_DRIVER; break;
    case VIRTIO_MMIO_QUEUE_USED_LOW:
    case VIRTIO_MMIO_QUEUE_USED_HIGH: *qs |= VSIM_QS_DEVICE; break;
    case VIRTIO_MMIO_QUEUE_READY:
      if (val != 1) break;
      uint8_t need = VSIM_QS_DESC | VSIM_QS_DRIVER | VSIM_QS_DEVICE | (c->pci ? 0 : VSIM_QS_SIZE);
      uint8_t miss = (uint8_t)(need & ~*qs);
      if (miss) {
        static const char *const what[] = {"QueueNum", "the descriptor area", "the driver area", "the device area"};
        char list[96] = "";
        for (unsigned b = 0; b < 4; b++)
          if (miss & (1u << b))
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? ", " : "", what[b]);
        report(c, VSIM_CHK_RESET_DRV_REENABLE, (int)c->queue_sel,
               "queue %u enabled again after its reset without writing %s since", c->queue_sel, list);
      }
      *qs = 0;
      break;
    default: break;
  }
}

/* virtio-mmio's own driver rules: identify the device first (MagicValue and
 * Version before anything else, judged once, at the first initialisation),
 * and acknowledge only the interrupt causes read in InterruptStatus. */
static void mmio_driver_access(vsim_checker *c, bool read, uint32_t off, uint32_t val) {
  if (!(c->ident & 4)) {
    if (read && off == VIRTIO_MMIO_MAGIC_VALUE) c->ident |= 1;
    else if (read && off == VIRTIO_MMIO_VERSION) c->ident |= 2;
    else if ((c->ident & 3) != 3) {
      report(c, VSIM_CHK_MMIO_DRV_IDENTIFY, -1, "%s of register 0x%03x before MagicValue and Version were read",
             read ? "read" : "write", off);
      c->ident |= 4;
    }
    if ((c->ident & 3) == 3) c->ident |= 4;
  }
  if (read && off == VIRTIO_MMIO_INTERRUPT_STATUS) c->isr_seen |= val;
  if (!read && off == VIRTIO_MMIO_INTERRUPT_ACK) {
    if (val & ~c->isr_seen)
      report(c, VSIM_CHK_MMIO_DRV_IRQ_ACK, -1,
             "InterruptACK 0x%x acknowledges 0x%x, not read in InterruptStatus (0x%x) since the last acknowledgement",
             val, val & ~c->isr_seen, c->isr_seen);
    c->isr_seen &= ~val;
  }
}

/* Queue reset bookkeeping from register accesses: QueueSel names the queue,
 * QueueReset 1 resets it, a read of QueueReset or QueueReady verifies it. */
static void queue_reset_access(vsim_checker *c, bool read, uint32_t off, uint32_t val) {
  if (!read && off == VIRTIO_MMIO_QUEUE_SEL) c->queue_sel = val;
  if (c->queue_sel >= VSIM_CHECKER_MAX_QUEUES) return;
  queue_reenable_access(c, read, off, val);
  vsim_chk_queue *q = &c->q[c->queue_sel];
  if (!read && off == VIRTIO_MMIO_QUEUE_RESET && val == 1) q->reset_unread = true;
  if (read && (off == VIRTIO_MMIO_QUEUE_RESET || off == VIRTIO_MMIO_QUEUE_READY)) q->reset_unread = false;
  /* a completed queue reset (this model's devices complete at once: the
   * driver reads QueueReset 0) leaves QueueReady 0 until re-enabled */
  if (read && off == VIRTIO_MMIO_QUEUE_READY && q->reset && val != 0)
    report(c, c->pci ? VSIM_CHK_PCI_DEV_QRESET : VSIM_CHK_MMIO_DEV_QRESET, (int)c->queue_sel,
           "%s reads %u after the reset of queue %u completed", c->pci ? "queue_enable" : "QueueReady", val,
           c->queue_sel);
}

/* Config reads should sit between two ConfigGeneration reads (the spec's
 * loop): generation, fields..., generation. A field read outside such a
 * bracket, or a bracket left open by another access, is reported once. */
static void config_generation_access(vsim_checker *c, bool read, uint32_t off) {
  bool field = off >= VIRTIO_MMIO_CONFIG;
  if (read && off == VIRTIO_MMIO_CONFIG_GENERATION) {
    c->cfg_state = c->cfg_state == 2 ? 0 : 1;
    return;
  }
  if (field && read) {
    if (c->cfg_state == 0) {
      report(c, VSIM_CHK_CONFIG_DRV_GENERATION, -1,
             "config field at 0x%03x read without a ConfigGeneration read before it", off);
      c->cfg_state = 3; /* unbracketed reads, already reported */
    } else if (c->cfg_state == 1) {
      c->cfg_state = 2;
    }
    return;
  }
  if (c->cfg_state == 2)
    report(c, VSIM_CHK_CONFIG_DRV_GENERATION, -1,
           "config fields read without a ConfigGeneration read after them (next access 0x%03x)", off);
  c->cfg_state = 0;
}

/* virtio-console's emerg_wr "can be written at any time", even before the
 * feature is acknowledged (Console Device / Device Initialization): the
 * console's own rule wins over the general one of not writing the config
 * space before FEATURES_OK. */
static bool console_emerg_wr(const vsim_checker *c, uint32_t off) {
  const uint32_t ew = VIRTIO_MMIO_CONFIG + offsetof(struct virtio_console_config, emerg_wr);
  return c->console && off >= ew && off < ew + 4;
}

static void on_mmio_access(vsim_checker *c, bool read, uint32_t off, uint32_t val) {
  if (!c->pci) mmio_driver_access(c, read, off, val);
  queue_reset_access(c, read, off, val);
  config_generation_access(c, read, off);
  if (!read && off >= VIRTIO_MMIO_CONFIG && !(c->status & VIRTIO_CONFIG_S_FEATURES_OK) && !console_emerg_wr(c, off))
    report(c, VSIM_CHK_CONFIG_DRV_EARLY_WRITE, -1,
           "config field at 0x%03x written before FEATURES_OK (status 0x%02x)", off,
           (unsigned)c->status);
  if (c->reset_check) {
    /* the write that reset the device has been applied by now */
    c->reset_check = false;
    uint32_t isr = vsim_mmio_peek_isr(c->mmio);
    if (isr && !c->pci) /* virtio-pci: the ISR byte is read-to-clear, not a reset rule */
      report(c, VSIM_CHK_MMIO_DEV_RESET, -1, "InterruptStatus 0x%x after reset", isr);
    for (uint16_t i = 0; i < c->mmio->nq; i++)
      if (vsim_mmio_peek_queue_ready(c->mmio, i)) {
        report(c, c->pci ? VSIM_CHK_PCI_DEV_RESET : VSIM_CHK_MMIO_DEV_RESET, i, "%s of queue %u still 1 after reset",
               c->pci ? "queue_enable" : "QueueReady", i);
        break;
      }
  }
  if (!read) return;
  if (off == VIRTIO_MMIO_STATUS) {
    /* read back: whether it reads 0 is the device's rule (reset.dev-status-zero) */
    c->reset_unverified = false;
    if (c->status_zero_check) {
      c->status_zero_check = false;
      if (val != 0)
        report(c, VSIM_CHK_RESET_DEV_STATUS, -1, "status reads 0x%02x after reset", val);
    }
    if ((c->status & VIRTIO_CONFIG_S_FEATURES_OK) && !(c->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
      c->reread = true;
      if (!(val & VIRTIO_CONFIG_S_FEATURES_OK)) c->refused = true;
    }
  } else if (off == VIRTIO_MMIO_MAGIC_VALUE && val != VSIM_MMIO_MAGIC) {
    report(c, VSIM_CHK_MMIO_DEV_MAGIC, -1, "MagicValue reads 0x%08x", val);
  } else if (off == VIRTIO_MMIO_VERSION && val != 2) {
    report(c, VSIM_CHK_MMIO_DEV_MAGIC, -1, "Version reads %u", val);
  }
}

/* virtio-input's query rules (Input Device / Device Initialization, driver):
 * the driver writes select and subsel, in any order, then reads size, then
 * the answer in u; it writes no other field. `off` is in the device
 * configuration space, either transport. */
static void input_config_access(vsim_checker *c, bool read, uint32_t off, uint32_t width) {
  const uint32_t sel = offsetof(struct virtio_input_config, select);
  const uint32_t sub = offsetof(struct virtio_input_config, subsel);
  const uint32_t size = offsetof(struct virtio_input_config, size);
  const uint32_t u = offsetof(struct virtio_input_config, u);
  const uint32_t end = off + width;
  if (!read) {
    if (end > size)
      report(c, VSIM_CHK_INPUT_DRV_CFG_WRITE, -1, "a %u-byte write at config offset %u reaches past select and subsel "
             "(offsets 0, 1)", width, off);
    if (off <= sel && sel < end) c->in_select = true;
    if (off <= sub && sub < end) c->in_subsel = true;
    c->in_size_read = false;
    return;
  }
  if (off <= size && size < end) {
    if (c->in_select != c->in_subsel)
      report(c, VSIM_CHK_INPUT_DRV_SELECT, -1, "size read after a write of %s only (a query sets both select and "
             "subsel)", c->in_select ? "select" : "subsel");
    c->in_select = c->in_subsel = false;
    c->in_size_read = true;
  } else if (end > u && !c->in_size_read) {
    report(c, VSIM_CHK_INPUT_DRV_SIZE_FIRST, -1, "the answer at config offset %u read before size, after the last "
           "query", off);
    c->in_size_read = true; /* once per query */
  }
}

/* A virtio-pci access as the MMIO register it stands for, so that one set
 * of rules (status re-read, reset verification, the ConfigGeneration
 * bracket, config writes before FEATURES_OK) judges both layouts. Fields
 * with no MMIO counterpart map to an offset no rule looks at; PCI
 * configuration-space accesses (the capability walk) are not register
 * accesses of the device at all. */
/* virtio-blk: "The driver MUST NOT read writeback before setting the
 * FEATURES_OK device status bit" (Block Device / Device Initialization): the
 * cache mode is only settled once negotiation is (CONFIG_WCE accepted or
 * not), so a value read before it may be one the device no longer applies.
 * Any read whose bytes cover the field counts, whatever its width. */
static void blk_config_access(vsim_checker *c, bool read, uint32_t off, uint32_t width) {
  const uint32_t wb = offsetof(struct virtio_blk_config, wce);
  if (!read || !(off <= wb && wb < off + width) || (c->status & VIRTIO_CONFIG_S_FEATURES_OK)) return;
  report(c, VSIM_CHK_BLK_DRV_WRITEBACK_EARLY, -1,
         "a %u-byte read at config offset %u covers writeback (offset %u) before FEATURES_OK (status 0x%02x)", width,
         off, wb, (unsigned)c->status);
}

static void on_pci_access(vsim_checker *c, bool read, uint32_t space, uint32_t off, uint32_t val) {
  uint32_t m = 0x0f8; /* undefined in the MMIO layout: no rule reads it */
  switch (space) {
    case VIRTIO_PCI_CAP_COMMON_CFG:
      switch (off) {
        case VIRTIO_PCI_COMMON_DFSELECT: m = VIRTIO_MMIO_DEVICE_FEATURES_SEL; break;
        case VIRTIO_PCI_COMMON_DF: m = VIRTIO_MMIO_DEVICE_FEATURES; break;
        case VIRTIO_PCI_COMMON_GFSELECT: m = VIRTIO_MMIO_DRIVER_FEATURES_SEL; break;
        case VIRTIO_PCI_COMMON_GF: m = VIRTIO_MMIO_DRIVER_FEATURES; break;
        case VIRTIO_PCI_COMMON_STATUS: m = VIRTIO_MMIO_STATUS; break;
        case VIRTIO_PCI_COMMON_CFGGENERATION: m = VIRTIO_MMIO_CONFIG_GENERATION; break;
        case VIRTIO_PCI_COMMON_Q_SELECT: m = VIRTIO_MMIO_QUEUE_SEL; break;
        case VIRTIO_PCI_COMMON_Q_SIZE: m = VIRTIO_MMIO_QUEUE_NUM; break;
        case VIRTIO_PCI_COMMON_Q_ENABLE: m = VIRTIO_MMIO_QUEUE_READY; break;
        case VIRTIO_PCI_COMMON_Q_DESCLO: m = VIRTIO_MMIO_QUEUE_DESC_LOW; break;
        case VIRTIO_PCI_COMMON_Q_DESCHI: m = VIRTIO_MMIO_QUEUE_DESC_HIGH; break;
        case VIRTIO_PCI_COMMON_Q_AVAILLO: m = VIRTIO_MMIO_QUEUE_AVAIL_LOW; break;
        case VIRTIO_PCI_COMMON_Q_AVAILHI: m = VIRTIO_MMIO_QUEUE_AVAIL_HIGH; break;
        case VIRTIO_PCI_COMMON_Q_USEDLO: m = VIRTIO_MMIO_QUEUE_USED_LOW; break;
        case VIRTIO_PCI_COMMON_Q_USEDHI: m = VIRTIO_MMIO_QUEUE_USED_HIGH; break;
        case VIRTIO_PCI_COMMON_Q_RESET: m = VIRTIO_MMIO_QUEUE_RESET; break;
        default: break;
      }
      break;
    case VIRTIO_PCI_CAP_NOTIFY_CFG: m = VIRTIO_MMIO_QUEUE_NOTIFY; break;
    case VIRTIO_PCI_CAP_ISR_CFG: m = VIRTIO_MMIO_INTERRUPT_STATUS; break;
    case VIRTIO_PCI_CAP_DEVICE_CFG: m = VIRTIO_MMIO_CONFIG + off; break;
    case 0: return; /* PCI configuration space */
    default: break;
  }
  on_mmio_access(c, read, m, val);
}

/* ---- queues ---- */

static void guarded_watch(vsim_checker *c, vsim_chk_queue *q);
static uint64_t published_fp(const vsim_checker *c, const vsim_chk_queue *q, uint16_t id);
static uint64_t table_fp(const vsim_checker *c, const vsim_chk_queue *q, const struct vsim_chk_region *t);

static void on_queue_ready(vsim_checker *c, int qi, uint16_t size, uint64_t desc, uint64_t avail,
                           uint64_t used) {
  if (qi < 0 || qi >= VSIM_CHECKER_MAX_QUEUES) return;
  vsim_chk_queue *q = &c->q[qi];
  if (q->reset_unread)
    report(c, VSIM_CHK_RESET_DRV_VERIFY, qi,
           "queue %d enabled again without reading back that its reset completed", qi);
  if (qi + 1 > c->nq) c->nq = qi + 1;
  free(q->fingerprint);
  free(q->pub_fp);
  free(q->pub_tab);
  free(q->outstanding);
  free(q->regions);
  free(q->pd_state);
  free(q->pd_bytes);
  unwatch(c, q);
  free(q->io_id);
  free(q->io_start);
  free(q->io_ndesc);
  free(q->wsnap);
  free(q->driver_copy);
  free(q->xp_val);
  free(q->xp_on);
  const bool was_reset = q->reset; /* reset alone, now enabled again */
  memset(q, 0, sizeof *q);
  q->reenabled = was_reset;
  q->ready = true;
  q->packed = has(c, VIRTIO_F_RING_PACKED);
  q->published = 0x8000; /* offset 0, wrap counter 1 */
  q->used_pos = 0x8000;
  q->take_pos = 0x8000;
  if (!q->packed) {
    q->xp_val = calloc(size ? size : 1, sizeof *q->xp_val);
    q->xp_on = calloc(size ? size : 1, 1);
  }
  q->size = size;
  q->desc = desc;
  q->avail = avail;
  q->used = used;
  q->fingerprint = calloc(size ? size : 1, sizeof *q->fingerprint);
  q->pub_fp = calloc(size ? size : 1, sizeof *q->pub_fp);
  if (q->packed) q->pub_tab = calloc(size ? size : 1, sizeof *q->pub_tab);
  q->outstanding = calloc(size ? size : 1, 1);
  q->regions = calloc(size ? size : 1, sizeof *q->regions);
  if (q->packed && size) {
    /* the driver zeroed the ring before enabling the queue: nothing is owned */
    q->pd_state = calloc(size, 1);
    q->pd_bytes = calloc(size, sizeof *q->pd_bytes);
    /* the arena says which descriptors were written since the last look;
     * everything counts as written at first */
    q->pd_dirty = calloc((size + 63u) / 64u, sizeof *q->pd_dirty);
    if (q->pd_dirty && vsim_arena_watch_add(c->arena, desc, 16u * (uint64_t)size, q->pd_dirty) == 0) {
      q->pd_watched = true;
      for (uint16_t i = 0; i < size; i++) q->pd_dirty[i / 64u] |= UINT64_C(1) << (i % 64u);
    }
    if (has(c, VIRTIO_F_IN_ORDER)) {
      q->io_id = calloc(size, sizeof *q->io_id);
      q->io_start = calloc(size, sizeof *q->io_start);
      q->io_ndesc = calloc(size, sizeof *q->io_ndesc);
      q->io_used = PK_WRAP; /* offset 0, wrap counter 1 */
      q->io_lost = !q->io_id || !q->io_start || !q->io_ndesc;
    }
  }
  /* split: descriptor table, then flags, idx, ring[size], used_event */
  q->driver_len = q->packed ? 4u : 16u * size + 6u + 2u * size;
  q->driver_copy = calloc(q->driver_len, 1);
  guarded_watch(c, q);
  /* alignment (split.ring-align) is judged by the device-side ring when it
   * goes live: one report, and the queue is refused there */
  uint16_t flags;
  if (!q->packed && peek16(c, used, &flags) && flags != 0)
    report(c, VSIM_CHK_NOTIFY_DRV_USED_INIT, qi, "used.flags is 0x%x when the queue is enabled",
           flags);
}

static void close_kick(vsim_checker *c, int qi, vsim_chk_queue *q) {
  if (q->kick_open && q->kick_need && !q->kicked)
    report(c, q->packed ? VSIM_CHK_PACKED_KICK_MISSED : VSIM_CHK_NOTIFY_DRV_MISSED, qi,
           "avail.idx moved %u -> %u past the device's event point, no notification",
           q->kick_old, q->kick_new);
  q->kick_open = false;
}

static void close_irq(vsim_checker *c, int qi, vsim_chk_queue *q) {
  /* a held (coalesced) interrupt covers the window: it is late, not lost */
  if (q->irq_open && q->irq_need && !q->irq_sent && !q->irq_held)
    report(c, VSIM_CHK_NOTIFY_DEV_MISSED, qi,
           "used.idx moved %u -> %u past the driver's event point, no interrupt",
           q->irq_old, q->irq_new);
  q->irq_open = false;
}

/* The heads published in (old, new]: a head still outstanding (made
 * available, not yet used) must not be published again, whatever the
 * device's timing. A window longer than the ring is the device's to judge
 * (split.avail-idx-jump). */
static void note_published_heads(vsim_checker *c, int qi, vsim_chk_queue *q, uint16_t old,
                                 uint16_t new_idx) {
  uint16_t n = (uint16_t)(new_idx - old);
  if (!q->outstanding || n > q->size) return;
  for (uint16_t k = 0; k < n; k++) {
    uint16_t slot = (uint16_t)((uint16_t)(old + k) % q->size), head;
    if (!peek16(c, q->avail + 4 + 2u * slot, &head) || head >= q->size) continue;
    if (q->outstanding[head])
      report(c, VSIM_CHK_SPLIT_HEAD_INFLIGHT, qi,
             "head %u published again (avail.ring[%u]) before the device used it", head, slot);
    q->outstanding[head] = 1;
    /* its descriptors as the device may first see them: they must read the
     * same when it uses the chain (mem.drv-alter-exposed, judged in on_used) */
    if (q->pub_fp) q->pub_fp[head] = published_fp(c, q, head);
  }
}

/* Updating idx: the entries avail.idx now covers must already hold their
 * heads. The driver's step is one atomic stretch here (no device step can
 * fall inside it), so the store order shows only as an entry that changes
 * after the publish in the same step: noted here, judged at the step's end
 * (expose_judge). A window longer than the ring is split.avail-idx-jump's. */
static void note_exposed_entries(const vsim_checker *c, vsim_chk_queue *q, uint16_t old, uint16_t new_idx) {
  const uint16_t n = (uint16_t)(new_idx - old);
  if (!q->xp_val || !q->xp_on || n > q->size) return;
  for (uint16_t k = 0; k < n; k++) {
    const uint16_t slot = (uint16_t)((uint16_t)(old + k) % q->size);
    if (!peek16(c, q->avail + 4 + 2u * slot, &q->xp_val[slot])) continue;
    q->xp_on[slot] = 1;
    q->xp_any = true;
  }
}

/* The end of a step: at the driver's, an entry exposed in it that reads
 * otherwise now was written after the idx update; any step ends the window. */
static void expose_judge(vsim_checker *c, int qi, vsim_chk_queue *q, bool driver) {
  if (!q->xp_any) return;
  bool reported = false;
  for (uint16_t slot = 0; slot < q->size; slot++) {
    if (!q->xp_on[slot]) continue;
    q->xp_on[slot] = 0;
    uint16_t now;
    if (!driver || reported || !peek16(c, q->avail + 4 + 2u * slot, &now) || now == q->xp_val[slot]) continue;
    report(c, VSIM_CHK_SPLIT_DRV_IDX_BEFORE_ENTRY, qi,
           "avail.ring[%u] written (%u -> %u) after the avail.idx update that exposed it", slot,
           q->xp_val[slot], now);
    reported = true; /* one per publishing step */
  }
  q->xp_any = false;
}

/* ---- packed: who may change a descriptor when ---- */

/* The driver made [old, nw) available. Each descriptor becomes the device's,
 * with the bytes it holds now. One that was already the device's (made
 * available before and not yet used) and now reads differently was changed
 * by the driver before the device used it: the ring was full, or the driver
 * rewrote it. */
static void packed_track_avail(vsim_checker *c, int qi, vsim_chk_queue *q, uint16_t old, uint16_t nw) {
  if (!q->pd_state || PK_OFF(old) >= q->size || PK_OFF(nw) >= q->size) return;
  uint32_t n = packed_dist(old, nw, q->size);
  if (n > q->size) n = q->size; /* more than a ring: each descriptor once */
  bool reported = false;
  for (uint32_t k = 0; k < n; k++) {
    const uint16_t pos = packed_step(old, k, q->size), off = PK_OFF(pos);
    uint8_t d[16];
    if (!pd_read(c, q, off, d)) return;
    if (q->pd_state[off] == PD_AVAIL && memcmp(d, q->pd_bytes[off], 16) != 0 && !reported) {
      report(c, VSIM_CHK_PACKED_DRV_DESC_CHANGED, qi,
             "ring descriptor %u made available again (wrap %u) while the device had not used it",
             off, pos >> 15);
      reported = true;
    }
    memcpy(q->pd_bytes[off], d, 16);
    /* raw ops can let the device use a list before the driver model
     * publishes it: a descriptor that already says used in this lap is
     * the driver's again */
    q->pd_state[off] = pd_used_in(pd_flags(d), pos >> 15) ? PD_USED : PD_AVAIL;
    /* a list's last descriptor carries its buffer id: an indirect list's
     * table is noted and hashed (mem.drv-alter-exposed, judged in on_used);
     * the ring descriptors are this function's and verify_desc's to judge */
    const uint16_t fl = pd_flags(d), id = vsim_le_ld16(d + 12);
    if (q->pub_fp && q->pub_tab && q->pd_state[off] == PD_AVAIL && !(fl & VRING_DESC_F_NEXT) &&
        id < q->size) {
      if (fl & VRING_DESC_F_INDIRECT) {
        q->pub_tab[id] = (struct vsim_chk_region){vsim_le_ld64(d), vsim_le_ld32(d + 8)};
        q->pub_fp[id] = table_fp(c, q, &q->pub_tab[id]);
      } else {
        q->pub_fp[id] = 0;
      }
    }
  }
}

/* The device's used position moved over [old, nw): those descriptors are
 * the driver's now, with the bytes the device left (a used descriptor, or
 * the driver's own ones it skipped over). */
static void packed_track_used(const vsim_checker *c, vsim_chk_queue *q, uint16_t old, uint16_t nw) {
  if (!q->pd_state || PK_OFF(old) >= q->size || PK_OFF(nw) >= q->size) return;
  uint32_t n = packed_dist(old, nw, q->size);
  if (n > q->size) n = q->size;
  for (uint32_t k = 0; k < n; k++) {
    const uint16_t off = PK_OFF(packed_step(old, k, q->size));
    if (!pd_read(c, q, off, q->pd_bytes[off])) return;
    q->pd_state[off] = PD_USED;
  }
}

/* The end of an actor's step: every descriptor still owned by the other side
 * must read as it did when it changed hands. The driver may change the
 * used ones (it takes them back) but not the available ones; the device may
 * write used descriptors over the available ones (its publish says so), but
 * must leave the used ones alone. O(size). */
/* One descriptor at the end of a step (see packed_verify). */
static void verify_desc(vsim_checker *c, int qi, vsim_chk_queue *q, uint16_t off, bool driver,
                        bool *reported) {
  const uint8_t st = q->pd_state[off];
  uint8_t d[16];
  if (!pd_read(c, q, off, d) || memcmp(d, q->pd_bytes[off], 16) == 0) return;
  if (st == PD_FREE) {
    memcpy(q->pd_bytes[off], d, 16); /* not judged: only kept in step */
    return;
  }
  if (driver && st == PD_USED) {
    q->pd_state[off] = PD_FREE; /* taken back to be reused */
    memcpy(q->pd_bytes[off], d, 16);
    return;
  }
  if (!*reported && st == (driver ? PD_AVAIL : PD_USED)) {
    if (driver)
      report(c, VSIM_CHK_PACKED_DRV_DESC_CHANGED, qi,
             "driver changed ring descriptor %u (flags 0x%04x -> 0x%04x) while it was available, "
             "before the device used it",
             off, pd_flags(q->pd_bytes[off]), pd_flags(d));
    else
      report(c, VSIM_CHK_PACKED_DEV_USED_CHANGED, qi,
             "device changed ring descriptor %u (flags 0x%04x -> 0x%04x) after marking it used",
             off, pd_flags(q->pd_bytes[off]), pd_flags(d));
    *reported = true;
  }
  /* once per change: a device writing an available descriptor outside
   * its publish is not this rule's, and must not be blamed on the driver */
  memcpy(q->pd_bytes[off], d, 16);
}

/* The end of an actor's step: every descriptor still owned by the other side
 * must read as it did when it changed hands. The driver may change the
 * used ones (it takes them back) but not the available ones; the device may
 * write used descriptors over the available ones (its publish says so), but
 * must leave the used ones alone. pd_bytes is kept equal to the whole ring
 * after every look (free descriptors included, though only owned ones are
 * judged), so only descriptors written since the last look can differ: the
 * arena's write watch names them, in ring order. Without it (no watch slot,
 * or a span over the ring was handed out: writes through it go unseen), one
 * memcmp of the ring says whether anything changed, and a walk finds what. */
static void packed_verify(vsim_checker *c, int qi, vsim_chk_queue *q, bool driver) {
  if (!q->pd_state) return;
  bool reported = false;
  if (q->pd_watched && !vsim_arena_watch_lost(c->arena)) {
    const uint32_t words = (q->size + 63u) / 64u;
    for (uint32_t w = 0; w < words; w++)
      while (q->pd_dirty[w]) {
        const uint16_t off = (uint16_t)(w * 64u + (uint32_t)__builtin_ctzll(q->pd_dirty[w]));
        q->pd_dirty[w] &= q->pd_dirty[w] - 1;
        if (off < q->size) verify_desc(c, qi, q, off, driver, &reported);
      }
    return;
  }
  const uint64_t ring_len = 16u * (uint64_t)q->size;
  if (peek_ptr(c, q->desc, ring_len) && memcmp(c->mem + q->desc, q->pd_bytes, ring_len) == 0) return;
  for (uint16_t off = 0; off < q->size; off++) verify_desc(c, qi, q, off, driver, &reported);
}

/* ---- packed IN_ORDER: the batches in the used descriptors ---- */

/* The device popped list `id` at `pos`: note it, with its length in ring
 * descriptors as the ring shows it now (NEXT links; an indirect list is one). */
static void packed_in_order_pop(const vsim_checker *c, vsim_chk_queue *q, uint16_t id, uint16_t pos) {
  if (!q->io_id || q->io_lost) return;
  uint16_t off = PK_OFF(pos), n = 0;
  if (q->io_count >= q->size || off >= q->size) {
    q->io_lost = true;
    return;
  }
  for (;;) {
    uint8_t d[16];
    if (n >= q->size || !pd_read(c, q, off, d)) {
      q->io_lost = true;
      return;
    }
    n++;
    const uint16_t f = pd_flags(d);
    if ((f & VRING_DESC_F_INDIRECT) || !(f & VRING_DESC_F_NEXT)) break;
    off = (uint16_t)((off + 1u) % q->size);
  }
  const uint16_t k = (uint16_t)((q->io_head + q->io_count) % q->size);
  q->io_id[k] = id;
  q->io_start[k] = pos;
  q->io_ndesc[k] = n;
  q->io_count++;
}

/* The device published its used position moving from `old` to `nw`. With
 * IN_ORDER each used descriptor in that stretch stands for a batch: the
 * lists from the oldest one in flight up to the one whose id it carries,
 * and the next used descriptor lies right after the batch. The batch must
 * end within the stretch (else the device used a list before an older one),
 * and every list the stretch passes must be in some batch (else its used
 * descriptor never came). Anything this cannot follow (an id not in flight,
 * wrong wrap bits: other checks' violations) stops the judging. */
static void packed_in_order_used(vsim_checker *c, int qi, vsim_chk_queue *q, uint16_t old, uint16_t nw) {
  if (!q->io_id || q->io_lost) return;
  if (old != q->io_used || PK_OFF(nw) >= q->size) {
    q->io_lost = true;
    return;
  }
  uint32_t left = packed_dist(old, nw, q->size);
  uint16_t pos = old;
  while (left > 0 && !q->io_lost) { /* each turn retires >= 1 list: bounded by io_count */
    const uint16_t h = q->io_head;
    uint8_t d[16];
    if (q->io_count == 0 || q->io_start[h] != pos || !pd_read(c, q, PK_OFF(pos), d)) {
      q->io_lost = true;
      break;
    }
    const uint16_t f = pd_flags(d);
    const bool wrap = pos >> 15;
    if (!pd_used_in(f, wrap)) {
      if (pd_avail_in(f, wrap))
        report(c, VSIM_CHK_PACKED_USED_ORDER, qi,
               "used position moved past offset %u (to %u wrap %u) but list id %u there, the oldest "
               "in flight, got no used descriptor",
               PK_OFF(pos), PK_OFF(nw), nw >> 15, q->io_id[h]);
      q->io_lost = true;
      break;
    }
    const uint16_t id = vsim_le_ld16(d + 12);
    uint32_t k = 0, span = 0;
    for (; k < q->io_count; k++) {
      const uint16_t j = (uint16_t)((h + k) % q->size);
      span += q->io_ndesc[j];
      if (q->io_id[j] == id) break;
    }
    if (k == q->io_count) { /* not in flight: packed.used-id-not-outstanding */
      q->io_lost = true;
      break;
    }
    if (span > left) {
      report(c, VSIM_CHK_PACKED_USED_ORDER, qi,
             "used desc at offset %u names id %u: a batch from id %u over %u descs, but the used "
             "position moved only %u (id %u used before an older list)",
             PK_OFF(pos), id, q->io_id[h], span, left, id);
      q->io_lost = true;
      break;
    }
    q->io_head = (uint16_t)((h + k + 1u) % q->size);
    q->io_count = (uint16_t)(q->io_count - (k + 1u));
    pos = packed_step(pos, span, q->size);
    left -= span;
  }
  q->io_used = nw;
}

static void on_avail_publish(vsim_checker *c, int qi, uint16_t old, uint16_t new_idx) {
  vsim_chk_queue *q = queue(c, qi);
  if (!q) return;
  close_kick(c, qi, q);
  if (q->packed) {
    packed_track_avail(c, qi, q, old, new_idx);
    q->published = new_idx;
    if (new_idx == old) return;
    q->kick_open = true;
    q->kicked = false;
    q->kick_old = old;
    q->kick_new = new_idx;
    q->kick_need = packed_wants(c, q->used, old, new_idx, q->size); /* the device event structure */
    return;
  }
  note_published_heads(c, qi, q, old, new_idx);
  note_exposed_entries(c, q, old, new_idx);
  uint16_t aflags = 0, uflags = 0, avail_event = 0;
  peek16(c, q->avail, &aflags);
  peek16(c, q->used, &uflags);
  peek16(c, q->used + 4 + 8u * q->size, &avail_event);
  bool evidx = has(c, VIRTIO_RING_F_EVENT_IDX);
  if (evidx ? aflags != 0 : aflags > 1)
    report(c, VSIM_CHK_NOTIFY_DRV_FLAGS, qi, "avail.flags is 0x%x (EVENT_IDX %d)", aflags, evidx);
  if (new_idx == old) return;
  q->kick_open = true;
  q->kicked = false;
  q->kick_old = old;
  q->kick_new = new_idx;
  q->kick_need = evidx ? need_event(avail_event, new_idx, old) : !(uflags & VRING_USED_F_NO_NOTIFY);
}

/* NOTIFICATION_DATA: next_off and next_wrap name the next entry the driver
 * will make available (split: avail.idx; packed: the next free position). */
static void check_notify_data(vsim_checker *c, int qi, uint32_t value) {
  vsim_chk_queue *q = queue(c, qi);
  if (!q || !has(c, VIRTIO_F_NOTIFICATION_DATA)) return;
  uint16_t want;
  if (q->packed) {
    want = q->published;
  } else if (!peek16(c, q->avail + 2, &want)) {
    return;
  }
  uint16_t got = (uint16_t)(value >> 16);
  if (got != want)
    report(c, VSIM_CHK_NOTIFY_DATA, qi,
           "notification data next_off %u wrap %u, the next entry is at %u wrap %u", got & 0x7fffu,
           got >> 15, want & 0x7fffu, want >> 15);
}

/* A queue reset alone must stay silent until it is re-enabled. */
static void queue_reset_silence(vsim_checker *c, int qi, const char *what) {
  if (qi < 0 || qi >= VSIM_CHECKER_MAX_QUEUES || !c->q[qi].reset) return;
  report(c, VSIM_CHK_RESET_DEV_QUEUE, qi, "device %s on queue %d after the queue was reset", what, qi);
  c->q[qi].reset = false; /* once per reset */
}

static void on_kick(vsim_checker *c, int qi) {
  if (!(c->status & VIRTIO_CONFIG_S_DRIVER_OK))
    report(c, VSIM_CHK_NOTIFY_DRV_EARLY, qi, "notification of queue %d before DRIVER_OK (status 0x%02x)",
           qi, (unsigned)c->status);
  vsim_chk_queue *q = queue(c, qi);
  if (!q || !q->kick_open) return;
  /* the packed ring's notification section states no SHOULD NOT: only the
   * split ring's spurious-kick rule is checked */
  if (!q->kick_need && !q->kicked && !q->packed)
    report(c, VSIM_CHK_NOTIFY_DRV_SPURIOUS, qi,
           "notification for avail.idx %u -> %u though the device suppressed it", q->kick_old,
           q->kick_new);
  q->kicked = true;
}

static void early_use(vsim_checker *c, int qi, const char *what) {
  if (!(c->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
    char d[VSIM_VIOLATION_DETAIL_MAX];
    snprintf(d, sizeof d, "device %s on queue %d before DRIVER_OK", what, qi);
    c->sink->violation(c->sink->ctx, VSIM_CHK_STATUS_DEV_EARLY_USE, qi, d);
  }
}

static void on_used_publish(vsim_checker *c, int qi, uint16_t old, uint16_t new_idx) {
  early_use(c, qi, "published used entries");
  vsim_chk_queue *q = queue(c, qi);
  if (!q) return;
  close_irq(c, qi, q);
  if (q->packed) {
    packed_in_order_used(c, qi, q, old, new_idx);
    packed_track_used(c, q, old, new_idx);
    q->used_pos = new_idx;
    if (new_idx == old) return;
    q->irq_open = true;
    q->irq_sent = false;
    q->irq_old = old;
    q->irq_new = new_idx;
    q->irq_need = packed_wants(c, q->avail, old, new_idx, q->size); /* the driver event structure */
    return;
  }
  uint16_t aflags = 0, uflags = 0, used_event = 0;
  peek16(c, q->avail, &aflags);
  peek16(c, q->used, &uflags);
  peek16(c, q->avail + 4 + 2u * q->size, &used_event);
  bool evidx = has(c, VIRTIO_RING_F_EVENT_IDX);
  if (evidx ? uflags != 0 : uflags > 1)
    report(c, VSIM_CHK_NOTIFY_DEV_FLAGS, qi, "used.flags is 0x%x (EVENT_IDX %d)", uflags, evidx);
  if (new_idx == old) return;
  q->irq_open = true;
  q->irq_sent = false;
  q->irq_old = old;
  q->irq_new = new_idx;
  q->irq_need = evidx ? need_event(used_event, new_idx, old) : !(aflags & VRING_AVAIL_F_NO_INTERRUPT);
}

static void on_irq(vsim_checker *c, int qi) {
  if (c->silent_after_reset && !(c->status & VIRTIO_CONFIG_S_DRIVER_OK))
    report(c, VSIM_CHK_RESET_DEV_SILENT, qi, "notification (queue %d) after reset",
           qi);
  if (qi < 0) {
    c->nr_notified = true;
    return;
  }
  /* an interrupt before DRIVER_OK is always after a reset here (every
   * initialisation starts with one): reset.dev-silent above judges it */
  vsim_chk_queue *q = queue(c, qi);
  if (q && q->irq_held) {
    /* the held interrupt, sent at last: it answers a window that asked for
     * it, whatever the windows since then say */
    q->irq_held = false;
    q->irq_sent = true;
    return;
  }
  if (!q || !q->irq_open) return;
  if (!q->irq_need && !q->irq_sent)
    report(c, VSIM_CHK_NOTIFY_DEV_SPURIOUS, qi,
           "interrupt for used.idx %u -> %u though the driver suppressed it", q->irq_old,
           q->irq_new);
  q->irq_sent = true;
}

/* ---- device writes into device-readable buffers ---- */

/* A fingerprint of what the device must not write: the chain's descriptors
 * (direct walk from the table, bounded by the queue size) and the first 64
 * bytes of each device-readable buffer. Re-derived from guest memory rather
 * than taken from the device's own parse, so a device bug cannot hide it. */
typedef struct raw_desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags, next;
} raw_desc;

/* Fingerprints are compared only with themselves (never traced), so they mix
 * whole words: a byte-wise hash cost more than the rest of a request. */
static inline uint64_t mix(uint64_t h, uint64_t w) {
  h = (h ^ w) * UINT64_C(0x100000001b3);
  return h ^ (h >> 29);
}

/* Up to 64 bytes at gpa as eight words (zero-padded); false when unreadable. */
static bool hash64(const vsim_checker *c, uint64_t gpa, uint32_t len, uint64_t *h) {
  uint64_t w[8] = {0};
  if (len >= 64) {
    /* the usual case (a data buffer): a fixed-size copy the compiler inlines */
    if (!peek_ptr(c, gpa, 64)) return false;
    memcpy(w, c->mem + gpa, 64);
  } else if (!peek(c, gpa, w, len)) {
    return false;
  }
  for (int k = 0; k < 8; k++) *h = mix(*h, w[k] + (uint64_t)k);
  return true;
}

/* Hash one descriptor (16 bytes at gpa) into *h, and into *hd when given
 * (the descriptors alone: what mem.drv-alter-exposed compares); when bufs
 * and device-readable, the first 64 bytes of its buffer into *h only. */
/* Inlined: each caller's constant bufs / hd fold away, which keeps the
 * extra descriptor walk at every publish cheap. */
static inline __attribute__((always_inline)) bool hash_desc(const vsim_checker *c, uint64_t gpa,
                                                            uint64_t *h, uint64_t *hd, raw_desc *out,
                                                            bool bufs) {
  uint8_t d[16];
  if (!peek(c, gpa, d, 16)) return false;
  uint64_t w[2];
  memcpy(w, d, 16);
  *h = mix(mix(*h, w[0]), w[1]);
  if (hd) *hd = mix(mix(*hd, w[0]), w[1]);
  out->addr = vsim_le_ld64(d);
  out->len = vsim_le_ld32(d + 8);
  out->flags = vsim_le_ld16(d + 12);
  out->next = vsim_le_ld16(d + 14);
  if (bufs && !(out->flags & (VRING_DESC_F_WRITE | VRING_DESC_F_INDIRECT)))
    /* the header of a request is what a buggy device scribbles on; 64 bytes
     * keep this O(1) per descriptor */
    (void)hash64(c, out->addr, out->len, h);
  return true;
}

#define FP_SEED UINT64_C(1469598103934665603)

/* A fingerprint of what the device must not write: the chain's descriptors
 * (walked from the table, through one indirect table, bounded by the queue
 * size) and the first 64 bytes of each device-readable buffer. Re-derived from
 * guest memory rather than taken from the device's own parse, so a device bug
 * cannot hide it. With desc, the same walk also gives the descriptors' own
 * hash (one walk at a use, not two). */
static inline __attribute__((always_inline)) uint64_t fingerprint2(const vsim_checker *c,
                                                                   const vsim_chk_queue *q,
                                                                   uint16_t head, bool bufs,
                                                                   uint64_t *desc) {
  uint64_t h = FP_SEED;
  if (desc) *desc = FP_SEED;
  uint16_t i = head;
  for (uint32_t n = 0; n < q->size && i < q->size; n++) {
    raw_desc d;
    if (!hash_desc(c, q->desc + 16u * i, &h, desc, &d, bufs)) break;
    if (d.flags & VRING_DESC_F_INDIRECT) {
      uint32_t entries = d.len / 16u;
      uint16_t j = 0;
      for (uint32_t m = 0; m < entries && m < q->size && j < entries; m++) {
        raw_desc e;
        if (!hash_desc(c, d.addr + 16u * j, &h, desc, &e, bufs) || !(e.flags & VRING_DESC_F_NEXT)) break;
        j = e.next;
      }
      break;
    }
    if (!(d.flags & VRING_DESC_F_NEXT)) break;
    i = d.next;
  }
  if (desc) *desc |= 1u; /* never 0: 0 marks "not published" */
  return h;
}

static uint64_t fingerprint(const vsim_checker *c, const vsim_chk_queue *q, uint16_t head, bool bufs) {
  return fingerprint2(c, q, head, bufs, NULL);
}

/* Packed: the hash of an indirect table (every entry, bounded by the queue
 * size), never 0. */
static uint64_t table_fp(const vsim_checker *c, const vsim_chk_queue *q, const struct vsim_chk_region *t) {
  uint64_t h = FP_SEED;
  const uint32_t n = t->len / 16u < q->size ? t->len / 16u : q->size;
  if (peek_ptr(c, t->gpa, 16u * (uint64_t)n)) {
    /* the usual case: the whole table in guest memory, bounds checked once */
    const uint8_t *p = c->mem + t->gpa;
    for (uint32_t e = 0; e < n; e++) {
      uint64_t w[2];
      memcpy(w, p + 16u * e, 16);
      h = mix(mix(h, w[0]), w[1]);
    }
    return h | 1u;
  }
  for (uint32_t e = 0; e < n; e++) { /* the same, up to the first entry outside */
    uint64_t w[2];
    if (!peek(c, t->gpa + 16u * e, w, 16)) break;
    h = mix(mix(h, w[0]), w[1]);
  }
  return h | 1u;
}

/* The descriptors of chain / list `id` now, as pub_fp holds them. */
static uint64_t published_fp(const vsim_checker *c, const vsim_chk_queue *q, uint16_t id) {
  if (q->packed) return q->pub_tab ? table_fp(c, q, &q->pub_tab[id]) : 0;
  uint64_t d;
  (void)fingerprint2(c, q, id, false, &d);
  return d;
}

/* Packed: note the regions of list `id` from its ring position (consecutive
 * slots, through one indirect table): the indirect table and the first
 * device-readable buffers, up to VSIM_CHECKER_PACKED_REGIONS, 64 bytes each. */
static void packed_note_regions(const vsim_checker *c, vsim_chk_queue *q, uint16_t id, uint16_t pos) {
  struct vsim_chk_region *r = q->regions[id];
  unsigned n = 0;
  memset(r, 0, sizeof q->regions[id]);
  uint32_t off = pos & 0x7fffu;
  for (uint32_t k = 0; k < q->size && off < q->size && n < VSIM_CHECKER_PACKED_REGIONS; k++) {
    uint8_t d[16];
    if (!peek(c, q->desc + 16u * off, d, 16)) break;
    const uint64_t addr = vsim_le_ld64(d);
    const uint32_t len = vsim_le_ld32(d + 8);
    const uint16_t flags = vsim_le_ld16(d + 14);
    if (flags & VRING_DESC_F_INDIRECT) {
      r[n++] = (struct vsim_chk_region){addr, len < 64 ? len : 64};
      for (uint32_t e = 0; e < len / 16u && e < q->size && n < VSIM_CHECKER_PACKED_REGIONS; e++) {
        uint8_t t[16];
        if (!peek(c, addr + 16u * e, t, 16)) break;
        const uint64_t ta = vsim_le_ld64(t);
        const uint32_t tl = vsim_le_ld32(t + 8);
        if (!(vsim_le_ld16(t + 14) & VRING_DESC_F_WRITE)) r[n++] = (struct vsim_chk_region){ta, tl < 64 ? tl : 64};
      }
      break;
    }
    if (!(flags & VRING_DESC_F_WRITE)) r[n++] = (struct vsim_chk_region){addr, len < 64 ? len : 64};
    if (!(flags & VRING_DESC_F_NEXT)) break;
    off = (off + 1) % q->size;
  }
}

static uint64_t packed_fingerprint(const vsim_checker *c, const vsim_chk_queue *q, uint16_t id) {
  uint64_t h = UINT64_C(1469598103934665603);
  for (unsigned i = 0; i < VSIM_CHECKER_PACKED_REGIONS; i++) {
    const struct vsim_chk_region *r = &q->regions[id][i];
    if (r->len) (void)hash64(c, r->gpa, r->len, &h);
    h = mix(h, r->len);
  }
  return h | 1u; /* never 0: 0 marks "not fingerprinted" */
}

/* Packed Virtqueues (device): lists are taken in ring order. The list taken
 * at `pos` must start where the one taken before ended (its length in ring
 * descriptors as the ring shows it now: NEXT links, an indirect list is
 * one). After one report the queue is out of step: judged again once it is
 * set up anew. Not for out-of-process back-ends (writes_judged), whose pops
 * carry no ring position. */
static void packed_take_order(vsim_checker *c, int qi, vsim_chk_queue *q, uint16_t pos) {
  if (q->take_lost || PK_OFF(pos) >= q->size) return;
  if (pos != q->take_pos) {
    report(c, VSIM_CHK_PACKED_DEV_TAKE_ORDER, qi,
           "device took the list at ring offset %u wrap %u before the one at offset %u wrap %u, "
           "the next in ring order", PK_OFF(pos), pos >> 15, PK_OFF(q->take_pos), q->take_pos >> 15);
    q->take_lost = true;
    return;
  }
  uint16_t off = PK_OFF(pos), n = 0;
  for (;;) { /* bounded by the ring */
    uint8_t d[16];
    if (n >= q->size || !pd_read(c, q, off, d)) {
      q->take_lost = true; /* cannot follow: stop judging */
      return;
    }
    n++;
    const uint16_t f = pd_flags(d);
    if ((f & VRING_DESC_F_INDIRECT) || !(f & VRING_DESC_F_NEXT)) break;
    off = (uint16_t)((off + 1u) % q->size);
  }
  q->take_pos = packed_step(pos, n, q->size);
}

/* Virtqueue Re-enable (device): the device observes the configuration the
 * driver wrote when it re-enabled the queue. On the split ring the device
 * takes heads in ring order, so its n-th take since then is the head in
 * avail.ring[n % size] with the size now configured (a device still using
 * the old size reads another slot, or past the ring). Positions avail.idx
 * does not cover are other checks' to judge; once wrong, judged no more. */
static void reenable_take(vsim_checker *c, int qi, vsim_chk_queue *q, uint64_t head) {
  const uint16_t pos = q->taken++;
  uint16_t idx, want;
  if (!q->reenabled || q->packed || !q->size || c->writes_judged || !peek16(c, q->avail + 2, &idx)) return;
  const uint16_t ahead = (uint16_t)(idx - pos);
  if (ahead == 0 || ahead > q->size) return;
  const uint16_t slot = (uint16_t)(pos % q->size);
  if (!peek16(c, q->avail + 4 + 2u * slot, &want) || want == head) return;
  report(c, VSIM_CHK_RESET_DEV_REENABLE_CONFIG, qi,
         "queue %d re-enabled with size %u: the device's take %u is head %llu, avail.ring[%u] holds %u",
         qi, q->size, pos, (unsigned long long)head, slot, want);
  q->reenabled = false;
}

static void on_pop(vsim_checker *c, int qi, uint64_t head, uint64_t b) {
  early_use(c, qi, "consumed a buffer");
  vsim_chk_queue *q = queue(c, qi);
  if (q && !q->packed) reenable_take(c, qi, q, head);
  if (!q || !q->fingerprint || head >= q->size) return;
  if (c->writes_judged) vsim_checker_writes_pop(c, q, (uint16_t)head, (uint16_t)(b >> 32));
  if (!q->fingerprint[head]) q->held_n++;
  if (q->packed) {
    if (!c->writes_judged) packed_take_order(c, qi, q, (uint16_t)(b >> 32));
    packed_in_order_pop(c, q, (uint16_t)head, (uint16_t)(b >> 32));
    packed_note_regions(c, q, (uint16_t)head, (uint16_t)(b >> 32));
    q->fingerprint[head] = packed_fingerprint(c, q, (uint16_t)head);
    return;
  }
  q->fingerprint[head] = fingerprint(c, q, (uint16_t)head, true);
}

/* The device uses chain `id`: its descriptors must read as they did when the
 * driver published it. A difference is noted and judged at the end of the
 * step (vsim_checker_actor_end), once the device's own writes of that step
 * were judged: a device that wrote them is mem.dev-write-readonly's. */
static void alter_at_use(vsim_chk_queue *q, uint16_t id, uint64_t now) {
  if (q->pub_fp[id] && now != q->pub_fp[id] && !q->alter_pending) q->alter_pending = 1u + id;
  q->pub_fp[id] = 0;
}

static void on_used(vsim_checker *c, int qi, uint64_t id) {
  vsim_chk_queue *q = queue(c, qi);
  if (q && q->irq_held) q->irq_held_count++;
  if (q && q->outstanding && id < q->size) q->outstanding[id] = 0;
  if (q && id < q->size) vsim_checker_writes_used(q, (uint16_t)id);
  if (!q || !q->fingerprint || id >= q->size) return;
  if (!q->fingerprint[id]) {
    if (q->pub_fp && q->pub_fp[id]) alter_at_use(q, (uint16_t)id, published_fp(c, q, (uint16_t)id));
    return;
  }
  uint64_t now, desc = 0;
  if (q->packed) {
    now = packed_fingerprint(c, q, (uint16_t)id);
    if (q->pub_fp && q->pub_fp[id]) desc = published_fp(c, q, (uint16_t)id);
  } else {
    now = fingerprint2(c, q, (uint16_t)id, true, &desc); /* one walk for both */
  }
  if (q->pub_fp) alter_at_use(q, (uint16_t)id, desc);
  if (now != q->fingerprint[id] && !c->writes_judged)
    report(c, VSIM_CHK_MEM_DEV_WRITE_RO, qi,
           "chain %u: a descriptor or device-readable buffer changed while the device held it",
           (unsigned)id);
  q->fingerprint[id] = 0;
  if (q->held_n) q->held_n--;
}

void vsim_checker_event(vsim_checker *c, const vsim_event *ev) {
  switch (ev->kind) {
    case VSIM_EV_STATUS: on_status(c, (uint8_t)ev->a, (uint8_t)ev->b); break;
    case VSIM_EV_FEATURES: on_features(c, ev->a, ev->b); break;
    case VSIM_EV_MMIO_READ:
    case VSIM_EV_MMIO_WRITE:
      on_mmio_access(c, ev->kind == VSIM_EV_MMIO_READ, (uint32_t)ev->a, (uint32_t)ev->c);
      if (c->input && ev->a >= VIRTIO_MMIO_CONFIG)
        input_config_access(c, ev->kind == VSIM_EV_MMIO_READ, (uint32_t)(ev->a - VIRTIO_MMIO_CONFIG), (uint32_t)ev->b);
      if (c->blk && ev->a >= VIRTIO_MMIO_CONFIG)
        blk_config_access(c, ev->kind == VSIM_EV_MMIO_READ, (uint32_t)(ev->a - VIRTIO_MMIO_CONFIG), (uint32_t)ev->b);
      break;
    case VSIM_EV_PCI_READ:
    case VSIM_EV_PCI_WRITE:
      vsim_chk_pci_access(&c->pcs, c->sink, ev, c->features);
      on_pci_access(c, ev->kind == VSIM_EV_PCI_READ, (uint32_t)ev->d, (uint32_t)ev->a, (uint32_t)ev->c);
      if (c->input && ev->d == VIRTIO_PCI_CAP_DEVICE_CFG)
        input_config_access(c, ev->kind == VSIM_EV_PCI_READ, (uint32_t)ev->a, (uint32_t)ev->b);
      if (c->blk && ev->d == VIRTIO_PCI_CAP_DEVICE_CFG)
        blk_config_access(c, ev->kind == VSIM_EV_PCI_READ, (uint32_t)ev->a, (uint32_t)ev->b);
      break;
    case VSIM_EV_QUEUE_READY:
      on_queue_ready(c, ev->q, (uint16_t)ev->a, ev->b, ev->c, ev->d);
      break;
    case VSIM_EV_QUEUE_RESET:
      if (ev->q >= 0 && ev->q < VSIM_CHECKER_MAX_QUEUES) {
        c->q[ev->q].ready = false;
        c->q[ev->q].kick_open = c->q[ev->q].irq_open = c->q[ev->q].irq_held = false;
        c->q[ev->q].reset = true;
      }
      break;
    case VSIM_EV_AVAIL_PUBLISH: on_avail_publish(c, ev->q, (uint16_t)ev->a, (uint16_t)ev->b); break;
    case VSIM_EV_KICK:
      check_notify_data(c, ev->q, (uint32_t)ev->a);
      on_kick(c, ev->q);
      break;
    case VSIM_EV_POP:
      queue_reset_silence(c, ev->q, "consumed a buffer");
      on_pop(c, ev->q, ev->a, ev->b);
      break;
    case VSIM_EV_USED:
      queue_reset_silence(c, ev->q, "wrote a used entry");
      on_used(c, ev->q, ev->a);
      break;
    case VSIM_EV_USED_PUBLISH: on_used_publish(c, ev->q, (uint16_t)ev->a, (uint16_t)ev->b); break;
    case VSIM_EV_IRQ:
      queue_reset_silence(c, ev->q, "sent a used-buffer notification");
      on_irq(c, ev->q);
      if (c->pci) vsim_chk_pci_irq(&c->pcs, c->sink, ev);
      break;
    case VSIM_EV_FAULT:
      /* held interrupts released by the delay fault raise the ISR byte with
       * no VSIM_EV_IRQ of their own (theirs came when they were held) */
      if (c->pci) vsim_chk_pci_released(&c->pcs);
      break;
    case VSIM_EV_IRQ_HOLD:
      if (ev->q >= 0 && ev->q < VSIM_CHECKER_MAX_QUEUES && c->q[ev->q].ready) {
        vsim_chk_queue *q = &c->q[ev->q];
        q->irq_held = true;
        q->irq_held_k = (uint32_t)ev->a;
        q->irq_held_due = ev->b;
        q->irq_held_count = (uint32_t)ev->c;
      }
      break;
    case VSIM_EV_NEEDS_RESET:
      /* a device in NEEDS_RESET serves nothing more: what it held is dropped */
      for (int i = 0; i < VSIM_CHECKER_MAX_QUEUES; i++) c->q[i].irq_held = false;
      if (c->status & VIRTIO_CONFIG_S_DRIVER_OK) {
        c->nr_open = true;
        c->nr_notified = false;
      }
      break;
    default: break;
  }
}

/* ---- what a device step must leave alone ---- */

/* The parts a device step must leave alone: split, the descriptor table
 * (at copy offset 0) and the available ring; packed, the driver event
 * suppression structure. */
typedef struct guarded {
  uint64_t gpa;
  uint32_t off, len;
  const char *what;
} guarded;

static unsigned guarded_parts(const vsim_chk_queue *q, guarded g[2]) {
  if (q->packed) {
    g[0] = (guarded){q->avail, 0, q->driver_len, "driver event suppression structure"};
    return 1;
  }
  g[0] = (guarded){q->desc, 0, 16u * q->size, "descriptor table"};
  g[1] = (guarded){q->avail, 16u * q->size, q->driver_len - 16u * q->size, "available ring"};
  return 2;
}

#define DW_GRAIN VSIM_ARENA_WATCH_GRAIN

/* Watch the guarded parts of a split queue that just became ready, all
 * granules marked written (the first device step copies everything). Not
 * watched: packed (4 bytes: a copy costs less than noting every write to
 * them), memory another process writes (a vhost-user back-end's memfd, whose
 * writes the arena never sees), no watch slot left, a part outside the
 * arena; then every device step copies and compares the whole parts. */
static void guarded_watch(vsim_checker *c, vsim_chk_queue *q) {
  vsim_arena_memfd_info mi;
  if (q->packed || !q->driver_copy || vsim_arena_memfd(c->arena, &mi)) return;
  guarded g[2];
  unsigned n = guarded_parts(q, g);
  for (unsigned k = 0; k < n; k++)
    if (!peek_ptr(c, g[k].gpa, g[k].len)) return;
  /* the parts as ranges: one when they touch in memory as in the copy */
  struct vsim_chk_watch w[2];
  unsigned nw = 0;
  for (unsigned k = 0; k < n; k++) {
    if (nw && w[nw - 1].gpa + w[nw - 1].len == g[k].gpa && w[nw - 1].off + w[nw - 1].len == g[k].off) {
      w[nw - 1].len += g[k].len;
      continue;
    }
    w[nw++] = (struct vsim_chk_watch){g[k].gpa, g[k].off, g[k].len, NULL};
  }
  unsigned k;
  for (k = 0; k < nw; k++) {
    const uint32_t grains = (w[k].len + DW_GRAIN - 1) / DW_GRAIN;
    w[k].dirty = calloc((grains + 63u) / 64u, sizeof *w[k].dirty);
    if (!w[k].dirty) break;
    if (vsim_arena_watch_add(c->arena, w[k].gpa, w[k].len, w[k].dirty)) {
      free(w[k].dirty);
      break;
    }
    for (uint32_t i = 0; i < grains; i++) w[k].dirty[i / 64u] |= UINT64_C(1) << (i % 64u);
  }
  if (k < nw) { /* some range could not be watched: none is */
    for (unsigned j = 0; j < k; j++) {
      vsim_arena_watch_remove(c->arena, w[j].dirty);
      free(w[j].dirty);
    }
    return;
  }
  memcpy(q->dw, w, sizeof w);
  q->dw_n = nw;
}

static inline uint32_t dw_words(const struct vsim_chk_watch *w) {
  return ((w->len + DW_GRAIN - 1) / DW_GRAIN + 63u) / 64u;
}

/* Bring driver_copy up to date where the watch saw writes (runs of written
 * granules, one copy each), and forget the marks. */
static void dw_refresh(vsim_checker *c, vsim_chk_queue *q, struct vsim_chk_watch *w) {
  const uint32_t words = dw_words(w);
  for (uint32_t wi = 0; wi < words; wi++) {
    uint64_t m = w->dirty[wi];
    w->dirty[wi] = 0;
    while (m) {
      const uint32_t first = (uint32_t)__builtin_ctzll(m);
      const uint64_t from_first = m >> first;
      const uint32_t run = ~from_first ? (uint32_t)__builtin_ctzll(~from_first) : 64u - first;
      const uint32_t at = (wi * 64u + first) * DW_GRAIN;
      uint32_t len = run * DW_GRAIN;
      if (len > w->len - at) len = w->len - at;
      memcpy(q->driver_copy + w->off + at, c->mem + w->gpa + at, len);
      m = run + first >= 64u ? 0 : m & ~(((UINT64_C(1) << run) - 1) << first);
    }
  }
}

void vsim_checker_actor_begin(vsim_checker *c, int actor) {
  if (actor <= 0) return;
  for (int i = 0; i < c->nq; i++) {
    vsim_chk_queue *q = &c->q[i];
    q->driver_copied = false;
    q->dw_fast = false;
    if (!q->ready || !q->driver_copy) continue;
    if (q->dw_n && !vsim_arena_watch_lost(c->arena)) {
      /* every write since the last look was seen */
      for (unsigned k = 0; k < q->dw_n; k++) dw_refresh(c, q, &q->dw[k]);
      q->driver_copied = q->dw_fast = true;
      continue;
    }
    guarded g[2];
    unsigned n = guarded_parts(q, g);
    bool ok = true;
    for (unsigned k = 0; k < n && ok; k++) ok = peek(c, g[k].gpa, q->driver_copy + g[k].off, g[k].len);
    q->driver_copied = ok;
  }
}

/* The offset in driver_copy of the first byte that differs from guest
 * memory, looking only at the granules the watches marked, in address order
 * (the table's before the available ring's); driver_len when none does. The
 * marks stay: the next device step's start copies those granules again. */
static uint32_t dw_first_change(const vsim_checker *c, const vsim_chk_queue *q) {
  for (unsigned k = 0; k < q->dw_n; k++) {
    const struct vsim_chk_watch *w = &q->dw[k];
    const uint32_t words = dw_words(w);
    for (uint32_t wi = 0; wi < words; wi++)
      for (uint64_t m = w->dirty[wi]; m; m &= m - 1) {
        const uint32_t at = (wi * 64u + (uint32_t)__builtin_ctzll(m)) * DW_GRAIN;
        const uint8_t *was = q->driver_copy + w->off + at, *now = c->mem + w->gpa + at;
        if (w->len - at >= DW_GRAIN ? memcmp(now, was, DW_GRAIN) == 0 : memcmp(now, was, w->len - at) == 0)
          continue;
        uint32_t b = 0;
        while (now[b] == was[b]) b++;
        return w->off + at + b;
      }
  }
  return q->driver_len;
}

/* The device must not write a descriptor table or an available ring (split:
 * "A device MUST NOT write to any descriptor table entry"; the available ring
 * is the driver's), nor the driver event suppression structure (packed). A
 * buffer the driver placed over them is the driver's error, which the device
 * must refuse (split/packed.desc-write-overlap), not carry out. Judged once
 * per device step, against the copy taken at its start: where the arena's
 * write watches saw the whole step, only the granules written in it are
 * compared (O(granules written)); else (a span over the parts handed out
 * since, or no watch) one memcmp of the whole parts, O(queue size). Both
 * report the same byte: the first that differs, in the first part that
 * differs. */
static void device_step_writes(vsim_checker *c) {
  for (int i = 0; i < c->nq; i++) {
    vsim_chk_queue *q = &c->q[i];
    if (!q->ready || !q->driver_copied) continue;
    q->driver_copied = false;
    guarded g[2];
    unsigned n = guarded_parts(q, g);
    if (q->dw_fast && !vsim_arena_watch_lost(c->arena)) {
      const uint32_t o = dw_first_change(c, q);
      for (unsigned k = 0; k < n; k++)
        if (o >= g[k].off && o - g[k].off < g[k].len) {
          report(c, VSIM_CHK_MEM_DEV_WRITE_RO, i, "the device wrote the %s of queue %d (byte at 0x%" PRIx64 ")",
                 g[k].what, i, g[k].gpa + (o - g[k].off));
          break;
        }
      continue;
    }
    for (unsigned k = 0; k < n; k++) {
      const uint8_t *was = q->driver_copy + g[k].off;
      const uint8_t *now = c->mem + g[k].gpa; /* peeked at begin: in the arena */
      if (memcmp(now, was, g[k].len) == 0) continue;
      uint32_t at = 0;
      while (at < g[k].len && now[at] == was[at]) at++;
      report(c, VSIM_CHK_MEM_DEV_WRITE_RO, i, "the device wrote the %s of queue %d (byte at 0x%" PRIx64 ")",
             g[k].what, i, g[k].gpa + at);
      break;
    }
  }
}

/* ---- raw driver writes: exposed descriptors ---- */

/* Byte-wise FNV-1a: only at raw driver writes (scenario steps), never per
 * request, so its cost does not matter. */
static uint64_t fnv(uint64_t h, const uint8_t *p, uint64_t n) {
  for (uint64_t k = 0; k < n; k++) h = (h ^ p[k]) * UINT64_C(1099511628211);
  return h;
}

static uint64_t exposed_hash_ring(const vsim_checker *c, const vsim_chk_queue *q, uint64_t *ring) {
  uint64_t h = UINT64_C(1469598103934665603);
  if (!q->packed) {
    for (uint16_t id = 0; q->outstanding && id < q->size; id++)
      if (q->outstanding[id]) {
        uint64_t f = fingerprint(c, q, id, false);
        h = fnv(h, (const uint8_t *)&f, sizeof f);
      }
    return h;
  }
  /* packed: the indirect tables the ring slots from the device's used
   * position to the driver's published one point to (bounded by the ring
   * size); the ring descriptors themselves are packed.drv-desc-changed-
   * before-used's to judge, so one change is one violation */
  uint32_t n2 = 2u * q->size;
  uint32_t from = packed_lin(q->used_pos, q->size) % n2, to = packed_lin(q->published, q->size) % n2;
  uint32_t n = (to + n2 - from) % n2;
  if (n > q->size) n = q->size;
  for (uint32_t k = 0; k < n; k++) {
    uint32_t off = ((q->used_pos & 0x7fffu) + k) % q->size;
    uint8_t d[16];
    if (!peek(c, q->desc + 16u * off, d, 16)) break;
    if (ring) *ring = fnv(*ring, d, 16);
    uint16_t flags = (uint16_t)(d[14] | (d[15] << 8));
    if (flags & VRING_DESC_F_INDIRECT) {
      uint64_t addr = 0;
      for (int b = 0; b < 8; b++) addr |= (uint64_t)d[b] << (8 * b);
      uint32_t len = (uint32_t)d[8] | ((uint32_t)d[9] << 8) | ((uint32_t)d[10] << 16) | ((uint32_t)d[11] << 24);
      for (uint32_t e = 0; e < len / 16u && e < q->size; e++) {
        uint8_t t[16];
        if (!peek(c, addr + 16u * e, t, 16)) break;
        h = fnv(h, t, 16);
      }
    }
  }
  return h;
}

static uint64_t exposed_hash(const vsim_checker *c, const vsim_chk_queue *q, uint64_t *ring) {
  *ring = UINT64_C(1469598103934665603);
  return exposed_hash_ring(c, q, ring);
}

static uint64_t held_fingerprint(const vsim_checker *c, const vsim_chk_queue *q, uint16_t id) {
  return q->packed ? packed_fingerprint(c, q, id) : fingerprint(c, q, id, true);
}

void vsim_checker_driver_write_begin(vsim_checker *c) {
  for (int i = 0; i < c->nq; i++) {
    vsim_chk_queue *q = &c->q[i];
    if (!q->ready) continue;
    q->exposed = exposed_hash(c, q, &q->exposed_ring);
    for (uint16_t id = 0; q->fingerprint && id < q->size; id++)
      if (q->fingerprint[id] && !c->writes_judged && held_fingerprint(c, q, id) != q->fingerprint[id]) {
        report(c, VSIM_CHK_MEM_DEV_WRITE_RO, i,
               "chain %u: a descriptor or device-readable buffer changed while the device held it", id);
        q->fingerprint[id] = 0;
        if (q->held_n) q->held_n--;
      }
  }
}

void vsim_checker_driver_write_end(vsim_checker *c) {
  for (int i = 0; i < c->nq; i++) {
    vsim_chk_queue *q = &c->q[i];
    if (!q->ready) continue;
    uint64_t ring;
    /* a packed ring descriptor that changed is packed.drv-desc-changed-
     * before-used's; the tables behind unchanged ones are this check's */
    if (exposed_hash(c, q, &ring) != q->exposed && ring == q->exposed_ring)
      report(c, VSIM_CHK_DRV_ALTER_EXPOSED, i,
             "the driver changed a descriptor of a buffer it made available on queue %d before the device used it", i);
    for (uint16_t id = 0; q->fingerprint && id < q->size; id++)
      if (q->fingerprint[id]) q->fingerprint[id] = held_fingerprint(c, q, id);
    /* judged here already: the chains' uses must not report it again */
    for (uint16_t id = 0; q->pub_fp && id < q->size; id++)
      if (q->pub_fp[id]) q->pub_fp[id] = published_fp(c, q, id);
  }
}

/* The end of an actor's step. A chain found changed at its use in this step
 * is the driver's doing unless the device wrote what it must not (then it
 * may be the device's). At the end of a driver step, the chains the device
 * holds (popped, not used: usually none, so this costs nothing per request)
 * are looked at too: a change to one now is this driver step's, and must not
 * be blamed on the device when it uses the chain. */
static void alter_step_end(vsim_checker *c, int qi, vsim_chk_queue *q, bool driver) {
  if (q->alter_pending) {
    if (!c->dev_scribbled)
      report(c, VSIM_CHK_DRV_ALTER_EXPOSED, qi,
             "chain %u: the driver changed a descriptor (or indirect table entry) of it after "
             "making it available, before the device used it",
             q->alter_pending - 1u);
    q->alter_pending = 0;
  }
  if (!driver || !q->held_n || !q->pub_fp || !q->fingerprint || c->dev_scribbled) return;
  bool reported = false;
  for (uint16_t id = 0; id < q->size; id++) {
    if (!q->fingerprint[id] || !q->pub_fp[id]) continue;
    uint64_t desc;
    const uint64_t held = q->packed ? packed_fingerprint(c, q, id) : fingerprint2(c, q, id, true, &desc);
    if (q->packed) desc = published_fp(c, q, id);
    if (desc == q->pub_fp[id]) continue;
    if (!reported)
      report(c, VSIM_CHK_DRV_ALTER_EXPOSED, qi,
             "chain %u: the driver changed a descriptor (or indirect table entry) of it after "
             "making it available; the device has taken it and not used it yet",
             id);
    reported = true;
    q->pub_fp[id] = desc;
    /* what the device took is as the driver left it: the device is judged
     * on what it does from here */
    if (held != q->fingerprint[id] && !c->writes_judged) q->fingerprint[id] = held;
  }
}

/* The end of a step of queue qi's worker: a held interrupt whose release
 * condition it announced has come (enough completions, or its due time) must
 * have been sent in this step. Judged only at the device's own steps: under
 * the random policy the worker may not run at the due time, which is the
 * scheduler's doing, not the device's. */
static void held_irq_deadline(vsim_checker *c, int qi, vsim_chk_queue *q) {
  if (!q->irq_held) return;
  const uint64_t now = c->sink->now ? c->sink->now(c->sink->ctx) : 0;
  if (q->irq_held_count < q->irq_held_k && now < q->irq_held_due) return;
  report(c, VSIM_CHK_NOTIFY_DEV_MISSED, qi,
         "held (coalesced) interrupt not sent: %u completions of %u, time %llu of %llu",
         q->irq_held_count, q->irq_held_k, (unsigned long long)now,
         (unsigned long long)q->irq_held_due);
  q->irq_held = false;
}

void vsim_checker_actor_end(vsim_checker *c, int actor) {
  if (actor > 0 && !c->writes_judged) device_step_writes(c);
  for (int i = 0; i < c->nq; i++) {
    vsim_chk_queue *q = &c->q[i];
    if (!q->ready) continue;
    expose_judge(c, i, q, actor == 0);
    if (actor == 0) close_kick(c, i, q);
    else if (actor == i + 1) {
      close_irq(c, i, q);
      held_irq_deadline(c, i, q);
    }
    if (actor == 0 || actor == i + 1) packed_verify(c, i, q, actor == 0);
    if (q->alter_pending || (actor == 0 && q->held_n)) alter_step_end(c, i, q, actor == 0);
  }
  if (actor != 0 && c->nr_open) {
    if (!c->nr_notified)
      report(c, VSIM_CHK_STATUS_DEV_NR_NOTIFY, actor - 1,
             "DEVICE_NEEDS_RESET set with DRIVER_OK and no config-change notification");
    c->nr_open = false;
  }
}
