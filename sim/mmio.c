/* sim/mmio.c — virtio-mmio v2 register model (see mmio.h). */
#include <stdarg.h>
#include <stdio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include "mmio.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"
#include "host_report.h"

static inline bool mut(const vsim_mmio *m, unsigned k) { return vsim_mut_has(&m->mutants, (int)k); }

/* a violation with a formatted detail, through the host (host_report.h) */
#define violation(m, check, q, ...) vsim_host_reportf((m)->host, (check), (q), __VA_ARGS__)

int vsim_mmio_init(vsim_mmio *m, vsim_backend be, const vsim_host *host, vsim_mutset mutants) {
  return vsim_tcore_init(m, be, host, mutants);
}

void vsim_mmio_fini(vsim_mmio *m) { vsim_tcore_fini(m); }

void vsim_mmio_raise(vsim_mmio *m, uint32_t bits) { vsim_tcore_raise(m, bits); }
uint32_t vsim_mmio_peek_isr(const vsim_mmio *m) { return vsim_tcore_peek_isr(m); }
uint32_t vsim_mmio_peek_queue_ready(const vsim_mmio *m, uint16_t q) {
  return vsim_tcore_peek_queue_ready(m, q);
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

static vsim_mmio_queue *sel_queue(vsim_mmio *m) { return vsim_tcore_sel_queue(m); }

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
      case VIRTIO_MMIO_DEVICE_FEATURES: v = vsim_tcore_device_features(m); break;
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

static void queue_ready(vsim_mmio *m, vsim_mmio_queue *q, uint32_t val) {
  uint16_t max = 0;
  if (vsim_tcore_queue_ready(m, q, val, &max))
    violation(m, VSIM_CHK_MMIO_QUEUE_SIZE, (uint16_t)m->queue_sel,
              "QueueReady with QueueSize %u (QueueSizeMax %u)", q->size, max);
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
    case VIRTIO_MMIO_DRIVER_FEATURES:
      if (vsim_tcore_write_driver_features(m, val))
        violation(m, VSIM_CHK_FEAT_DRV_AFTER_OK, -1,
                  "DriverFeatures (window at 0x%03x) changed to 0x%x after FEATURES_OK", off, val);
      break;
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
      bool data = vsim_tcore_negotiated(m, VIRTIO_F_NOTIFICATION_DATA);
      if (vsim_tcore_notify(m, data ? val & 0xffff : val, val))
        violation(m, VSIM_CHK_MMIO_NOTIFY_QUEUE, -1, "QueueNotify 0x%x names no ready queue",
                  val);
      break;
    }
    case VIRTIO_MMIO_INTERRUPT_ACK:
      if (val & ~(uint32_t)(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG))
        violation(m, VSIM_CHK_MMIO_UNDEFINED, -1, "InterruptACK (0x%03x) sets undefined bits 0x%x",
                  off, val);
      vsim_tcore_ack(m, val);
      break;
    case VIRTIO_MMIO_STATUS: vsim_tcore_set_status(m, val, mut(m, VSIM_MUT_DEV_MMIO_RESET_READY)); break;
    case VIRTIO_MMIO_QUEUE_RESET:
      if (!vsim_tcore_negotiated(m, VIRTIO_F_RING_RESET)) {
        violation(m, VSIM_CHK_MMIO_UNDEFINED, -1,
                  "QueueReset (0x%03x) written without VIRTIO_F_RING_RESET (value 0x%x)", off, val);
        break;
      }
      if (q && val == 1) vsim_tcore_queue_reset(m, q, mut(m, VSIM_MUT_DEV_MMIO_QRESET_READY));
      break;
    case VIRTIO_MMIO_SHM_SEL: break;
    default: break;
  }
}
