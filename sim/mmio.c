/* sim/mmio.c — virtio-mmio v2 register model (see mmio.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include "mmio.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"

static inline bool mut(const vsim_mmio *m, unsigned k) { return (m->mutants >> k) & 1u; }

__attribute__((format(printf, 4, 5))) static void violation(vsim_mmio *m, int check, int q,
                                                             const char *fmt, ...) {
  char d[VSIM_VIOLATION_DETAIL_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d, sizeof d, fmt, ap);
  va_end(ap);
  m->host->violation(m->host->ctx, check, q, d);
}

int vsim_mmio_init(vsim_mmio *m, vsim_backend be, const vsim_host *host, uint64_t mutants) {
  memset(m, 0, sizeof *m);
  m->be = be;
  m->host = host;
  m->mutants = mutants;
  m->nq = be.ops->num_queues(be.be);
  m->q = calloc(m->nq ? m->nq : 1, sizeof *m->q);
  return m->q ? 0 : -1;
}

void vsim_mmio_fini(vsim_mmio *m) {
  free(m->q);
  m->q = NULL;
}

void vsim_mmio_raise(vsim_mmio *m, uint32_t bits) { m->interrupt_status |= bits; }
uint32_t vsim_mmio_peek_isr(const vsim_mmio *m) { return m->interrupt_status; }
uint32_t vsim_mmio_peek_queue_ready(const vsim_mmio *m, uint16_t q) {
  return q < m->nq ? m->q[q].ready : 0;
}

enum reg_dir { REG_NONE = 0, REG_R = 1, REG_W = 2, REG_RW = 3 };

static enum reg_dir reg_direction(uint32_t off) {
  switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE:
    case VIRTIO_MMIO_VERSION:
    case VIRTIO_MMIO_DEVICE_ID:
    case VIRTIO_MMIO_VENDOR_ID:
    case VIRTIO_MMIO_DEVICE_FEATURES:
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
    case VIRTIO_MMIO_INTERRUPT_STATUS:
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH:
    case VIRTIO_MMIO_SHM_BASE_LOW:
    case VIRTIO_MMIO_SHM_BASE_HIGH:
    case VIRTIO_MMIO_CONFIG_GENERATION:
      return REG_R;
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
    case VIRTIO_MMIO_DRIVER_FEATURES:
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
    case VIRTIO_MMIO_QUEUE_SEL:
    case VIRTIO_MMIO_QUEUE_NUM:
    case VIRTIO_MMIO_QUEUE_NOTIFY:
    case VIRTIO_MMIO_INTERRUPT_ACK:
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
    case VIRTIO_MMIO_QUEUE_USED_LOW:
    case VIRTIO_MMIO_QUEUE_USED_HIGH:
    case VIRTIO_MMIO_SHM_SEL:
      return REG_W;
    case VIRTIO_MMIO_QUEUE_READY:
    case VIRTIO_MMIO_STATUS:
    case VIRTIO_MMIO_QUEUE_RESET:
      return REG_RW;
    default:
      return REG_NONE;
  }
}

/* Control registers: 32-bit, aligned. Config space: 1/2/4-byte accesses
 * aligned to their width (a 64-bit field is read as two 32-bit halves). */
static bool access_ok(vsim_mmio *m, uint32_t off, unsigned width, bool write, uint32_t val) {
  if (off < VIRTIO_MMIO_CONFIG) {
    if (width != 4 || (off & 3)) {
      violation(m, VSIM_CHK_MMIO_ACCESS_WIDTH, -1,
                "control register 0x%03x accessed with width %u", off, width);
      return false;
    }
    enum reg_dir d = reg_direction(off);
    if (d == REG_NONE) {
      violation(m, VSIM_CHK_MMIO_UNDEFINED, -1, "access to undefined register 0x%03x (value 0x%x)",
                off, val);
      return false;
    }
    if (write && !(d & REG_W)) {
      violation(m, VSIM_CHK_MMIO_WRITE_RO, -1, "write to read-only register 0x%03x (value 0x%x)",
                off, val);
      return false;
    }
    if (!write && !(d & REG_R)) {
      violation(m, VSIM_CHK_MMIO_READ_WO, -1, "read of write-only register 0x%03x", off);
      return false;
    }
    return true;
  }
  if (!(width == 1 || width == 2 || width == 4) || (off & (width - 1))) {
    violation(m, VSIM_CHK_MMIO_ACCESS_WIDTH, -1, "config access at 0x%03x with width %u", off,
              width);
    return false;
  }
  uint32_t cfg_off = off - VIRTIO_MMIO_CONFIG;
  uint32_t size = m->be.ops->config_size(m->be.be);
  if (cfg_off > size || width > size - cfg_off) {
    violation(m, VSIM_CHK_MMIO_UNDEFINED, -1, "config access at 0x%03x past the config space (%u bytes)",
              off, size);
    return false;
  }
  return true;
}

static void emit(vsim_mmio *m, int kind, uint32_t off, unsigned width, uint32_t val) {
  m->host->event(m->host->ctx, kind, -1, off, width, val, 0);
}

static vsim_mmio_queue *sel_queue(vsim_mmio *m) {
  return m->queue_sel < m->nq ? &m->q[m->queue_sel] : NULL;
}

uint32_t vsim_mmio_read(vsim_mmio *m, uint32_t off, unsigned width) {
  if (!access_ok(m, off, width, false, 0)) {
    emit(m, VSIM_EV_MMIO_READ, off, width, 0);
    return 0;
  }
  const vsim_backend_ops *ops = m->be.ops;
  void *be = m->be.be;
  uint32_t v = 0;
  vsim_mmio_queue *q = sel_queue(m);
  if (off >= VIRTIO_MMIO_CONFIG) {
    uint8_t b[4] = {0};
    ops->config_read(be, off - VIRTIO_MMIO_CONFIG, b, width);
    v = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
  } else {
    switch (off) {
      case VIRTIO_MMIO_MAGIC_VALUE:
        v = mut(m, VSIM_MUT_DEV_MMIO_MAGIC) ? VSIM_MMIO_MAGIC + 1 : VSIM_MMIO_MAGIC;
        break;
      case VIRTIO_MMIO_VERSION: v = 2; break;
      case VIRTIO_MMIO_DEVICE_ID: v = ops->device_id(be); break;
      case VIRTIO_MMIO_VENDOR_ID: v = ops->vendor_id(be); break;
      case VIRTIO_MMIO_DEVICE_FEATURES: {
        uint64_t f = ops->device_features(be);
        v = m->dev_feat_sel == 0 ? (uint32_t)f : m->dev_feat_sel == 1 ? (uint32_t)(f >> 32) : 0;
        break;
      }
      case VIRTIO_MMIO_QUEUE_NUM_MAX: v = q ? ops->queue_max_size(be, (uint16_t)m->queue_sel) : 0; break;
      case VIRTIO_MMIO_QUEUE_READY: v = q ? q->ready : 0; break;
      case VIRTIO_MMIO_INTERRUPT_STATUS: v = m->interrupt_status; break;
      case VIRTIO_MMIO_STATUS: v = ops->get_status(be); break;
      case VIRTIO_MMIO_SHM_LEN_LOW:
      case VIRTIO_MMIO_SHM_LEN_HIGH:
      case VIRTIO_MMIO_SHM_BASE_LOW:
      case VIRTIO_MMIO_SHM_BASE_HIGH: v = 0xffffffffu; break; /* no shared memory regions */
      case VIRTIO_MMIO_QUEUE_RESET: v = 0; break; /* resets complete synchronously */
      case VIRTIO_MMIO_CONFIG_GENERATION: v = ops->config_generation(be); break;
      default: v = 0; break;
    }
  }
  emit(m, VSIM_EV_MMIO_READ, off, width, v);
  return v;
}

static bool queue_reg_writable(vsim_mmio *m, vsim_mmio_queue *q, uint32_t off, uint32_t val) {
  if (!q) {
    violation(m, VSIM_CHK_MMIO_QUEUE_SIZE, -1, "queue register 0x%03x written for missing queue %u",
              off, m->queue_sel);
    return false;
  }
  if (q->ready) {
    violation(m, VSIM_CHK_MMIO_QUEUE_LIVE, (int)m->queue_sel,
              "register 0x%03x written while QueueReady is 1 (value 0x%x)", off, val);
    return false;
  }
  return true;
}

static void set_status(vsim_mmio *m, uint32_t val) {
  const vsim_backend_ops *ops = m->be.ops;
  void *be = m->be.be;
  uint8_t old = ops->get_status(be);
  m->host->event(m->host->ctx, VSIM_EV_STATUS, -1, old, val & 0xff, 0, 0);
  if ((val & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK))
    m->host->event(m->host->ctx, VSIM_EV_FEATURES, -1, ops->device_features(be),
                   m->driver_features, 0, 0);
  if ((val & 0xff) == 0) {
    m->resets++;
    ops->set_status(be, 0);
    /* the spec: reset clears InterruptStatus and every QueueReady */
    m->interrupt_status = 0;
    for (uint16_t i = 0; i < m->nq; i++) {
      uint32_t keep = mut(m, VSIM_MUT_DEV_MMIO_RESET_READY) ? m->q[i].ready : 0;
      memset(&m->q[i], 0, sizeof m->q[i]);
      m->q[i].ready = keep;
    }
    m->driver_features = 0;
    return;
  }
  ops->set_status(be, (uint8_t)val);
}

static void queue_ready(vsim_mmio *m, vsim_mmio_queue *q, uint32_t val) {
  uint16_t qi = (uint16_t)m->queue_sel;
  if (!val) {
    q->ready = 0;
    m->be.ops->queue_ready(m->be.be, qi, NULL);
    return;
  }
  if (q->ready) return;
  uint16_t max = m->be.ops->queue_max_size(m->be.be, qi);
  bool packed = (m->driver_features >> VIRTIO_F_RING_PACKED) & 1u;
  if (q->size == 0 || q->size > max || (!packed && (q->size & (q->size - 1)))) {
    violation(m, VSIM_CHK_MMIO_QUEUE_SIZE, qi, "QueueReady with QueueSize %u (QueueSizeMax %u)",
              q->size, max);
    return;
  }
  vsim_queue_cfg cfg = {(uint16_t)q->size, q->desc, q->driver, q->device};
  m->host->event(m->host->ctx, VSIM_EV_QUEUE_READY, qi, q->size, q->desc, q->driver, q->device);
  if (m->be.ops->queue_ready(m->be.be, qi, &cfg) == 0) q->ready = 1;
}

void vsim_mmio_write(vsim_mmio *m, uint32_t off, unsigned width, uint32_t val) {
  emit(m, VSIM_EV_MMIO_WRITE, off, width, val);
  if (!access_ok(m, off, width, true, val)) return;
  const vsim_backend_ops *ops = m->be.ops;
  void *be = m->be.be;
  if (off >= VIRTIO_MMIO_CONFIG) {
    uint8_t b[4] = {(uint8_t)val, (uint8_t)(val >> 8), (uint8_t)(val >> 16), (uint8_t)(val >> 24)};
    ops->config_write(be, off - VIRTIO_MMIO_CONFIG, b, width);
    return;
  }
  vsim_mmio_queue *q = sel_queue(m);
  switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: m->dev_feat_sel = val; break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: m->drv_feat_sel = val; break;
    case VIRTIO_MMIO_DRIVER_FEATURES: {
      uint8_t st = ops->get_status(be);
      uint64_t f = m->driver_features;
      if (m->drv_feat_sel == 0) f = (f & ~UINT64_C(0xffffffff)) | val;
      else if (m->drv_feat_sel == 1) f = (f & UINT64_C(0xffffffff)) | ((uint64_t)val << 32);
      else if (m->drv_feat_sel == 2) m->driver_features_hi = val;
      if ((st & VIRTIO_CONFIG_S_FEATURES_OK) && f != m->driver_features) {
        violation(m, VSIM_CHK_FEAT_DRV_AFTER_OK, -1,
                  "DriverFeatures (window at 0x%03x) changed to 0x%x after FEATURES_OK", off, val);
        return; /* a device ignores late feature changes */
      }
      m->driver_features = f;
      ops->set_driver_features(be, f);
      break;
    }
    case VIRTIO_MMIO_QUEUE_SEL: m->queue_sel = val; break;
    case VIRTIO_MMIO_QUEUE_NUM:
      if (queue_reg_writable(m, q, off, val)) {
        uint16_t max = ops->queue_max_size(be, (uint16_t)m->queue_sel);
        if (val > max || val == 0)
          violation(m, VSIM_CHK_MMIO_QUEUE_SIZE, (int)m->queue_sel,
                    "QueueSize 0x%x above QueueSizeMax (%u) or zero", val, max);
        else
          q->size = val; /* a refused write is ignored, as a robust device would */
      }
      break;
    case VIRTIO_MMIO_QUEUE_READY:
      if (!q) {
        violation(m, VSIM_CHK_MMIO_QUEUE_SIZE, -1, "QueueReady (0x%03x) for missing queue %u", off,
                  m->queue_sel);
        break;
      }
      queue_ready(m, q, val);
      break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
    case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
    case VIRTIO_MMIO_QUEUE_USED_LOW:
    case VIRTIO_MMIO_QUEUE_USED_HIGH: {
      if (!queue_reg_writable(m, q, off, val)) break;
      uint64_t *r = off < VIRTIO_MMIO_QUEUE_AVAIL_LOW ? &q->desc
                    : off < VIRTIO_MMIO_QUEUE_USED_LOW ? &q->driver
                                                       : &q->device;
      if (off & 4)
        *r = (*r & UINT64_C(0xffffffff)) | ((uint64_t)val << 32);
      else
        *r = (*r & ~UINT64_C(0xffffffff)) | val;
      break;
    }
    case VIRTIO_MMIO_QUEUE_NOTIFY: {
      /* with NOTIFICATION_DATA the low 16 bits carry the queue index and the
       * rest the next offset and wrap; without it the value is the index */
      bool data = (m->driver_features >> VIRTIO_F_NOTIFICATION_DATA) & 1u;
      uint32_t qi = data ? val & 0xffff : val;
      m->notifies++;
      m->host->event(m->host->ctx, VSIM_EV_KICK, (int)qi, val, 0, 0, 0);
      if (qi >= m->nq || !m->q[qi].ready) {
        violation(m, VSIM_CHK_MMIO_NOTIFY_QUEUE, -1, "QueueNotify 0x%x names no ready queue",
                  val);
        break;
      }
      ops->queue_notify(be, (uint16_t)qi, val);
      break;
    }
    case VIRTIO_MMIO_INTERRUPT_ACK:
      if (val & ~(uint32_t)(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG))
        violation(m, VSIM_CHK_MMIO_UNDEFINED, -1, "InterruptACK (0x%03x) sets undefined bits 0x%x",
                  off, val);
      m->interrupt_status &= ~val;
      m->host->event(m->host->ctx, VSIM_EV_IRQ_ACK, -1, val, m->interrupt_status, 0, 0);
      break;
    case VIRTIO_MMIO_STATUS: set_status(m, val); break;
    case VIRTIO_MMIO_QUEUE_RESET:
      if (!((m->driver_features >> VIRTIO_F_RING_RESET) & 1u)) {
        violation(m, VSIM_CHK_MMIO_UNDEFINED, -1,
                  "QueueReset (0x%03x) written without VIRTIO_F_RING_RESET (value 0x%x)", off, val);
        break;
      }
      if (q && val == 1) {
        if (ops->queue_reset) ops->queue_reset(be, (uint16_t)m->queue_sel);
        m->host->event(m->host->ctx, VSIM_EV_QUEUE_RESET, (int)m->queue_sel, 0, 0, 0, 0);
        uint32_t keep = mut(m, VSIM_MUT_DEV_MMIO_QRESET_READY) ? q->ready : 0;
        memset(q, 0, sizeof *q); /* the reset completes at once: QueueReset reads 0 */
        q->ready = keep;
      }
      break;
    case VIRTIO_MMIO_SHM_SEL: break;
    default: break;
  }
}
