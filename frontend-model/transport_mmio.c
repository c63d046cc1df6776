/* frontend-model/transport_mmio.c — driver-side virtio-mmio (see transport_mmio.h). */
#include <linux/virtio_mmio.h>
#include "virtio_compat.h"
#include "transport_mmio.h"
#include "virtiosim/mutants.h"

static inline bool mut(const vsim_drv_mmio *d, unsigned k) { return vsim_mut_has(&d->mutants, (int)k); }
static inline uint32_t rd(vsim_drv_mmio *d, uint32_t off) { return vsim_mmio_read(d->m, off, 4); }
static inline void wr(vsim_drv_mmio *d, uint32_t off, uint32_t v) { vsim_mmio_write(d->m, off, 4, v); }

static bool mm_probe(void *t) {
  vsim_drv_mmio *d = t;
  if (mut(d, VSIM_MUT_DRV_MMIO_NO_IDENTIFY)) return rd(d, VIRTIO_MMIO_DEVICE_ID) != 0;
  /* both read before either is judged: the spec starts initialisation with
   * reading and checking the two */
  uint32_t magic = rd(d, VIRTIO_MMIO_MAGIC_VALUE);
  uint32_t version = rd(d, VIRTIO_MMIO_VERSION);
  return magic == VSIM_MMIO_MAGIC && version == 2 && rd(d, VIRTIO_MMIO_DEVICE_ID) != 0;
}

static uint32_t mm_device_id(void *t) { return rd(t, VIRTIO_MMIO_DEVICE_ID); }

static uint8_t mm_get_status(void *t) {
  vsim_drv_mmio *d = t;
  if (mut(d, VSIM_MUT_DRV_MMIO_BYTE)) return (uint8_t)vsim_mmio_read(d->m, VIRTIO_MMIO_STATUS, 1);
  return (uint8_t)rd(d, VIRTIO_MMIO_STATUS);
}

static void mm_set_status(void *t, uint8_t s) { wr(t, VIRTIO_MMIO_STATUS, s); }

static uint64_t mm_get_features(void *t) {
  vsim_drv_mmio *d = t;
  wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
  uint64_t lo = rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
  wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
  uint64_t hi = rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
  return lo | (hi << 32);
}

static void mm_set_features(void *t, uint64_t f) {
  vsim_drv_mmio *d = t;
  wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
  wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
  wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
  wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

static uint16_t mm_queue_max(void *t, uint16_t q) {
  vsim_drv_mmio *d = t;
  wr(d, VIRTIO_MMIO_QUEUE_SEL, q);
  return (uint16_t)rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
}

static int mm_queue_enable(void *t, uint16_t q, const vsim_queue_cfg *c) {
  vsim_drv_mmio *d = t;
  wr(d, VIRTIO_MMIO_QUEUE_SEL, q);
  if (q + 1u > d->queues_set_up) d->queues_set_up = q + 1u;
  /* the spec: QueueReady must read 0 first (the mutant that does not verify
   * a queue reset skips this read too: it never looks back) */
  if (!mut(d, VSIM_MUT_DRV_QUEUE_RESET_BLIND) && rd(d, VIRTIO_MMIO_QUEUE_READY) != 0) return -1;
  uint32_t max = rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX);
  if (max == 0) return -1;
  bool was_reset = q < 64 && ((d->queues_reset >> q) & 1u);
  if (q < 64) d->queues_reset &= ~(UINT64_C(1) << q);
  if (was_reset && mut(d, VSIM_MUT_DRV_QUEUE_REENABLE_STALE)) {
    wr(d, VIRTIO_MMIO_QUEUE_READY, 1); /* as if the reset had kept size and addresses */
    return 0;                          /* and believes it */
  }
  if (mut(d, VSIM_MUT_DRV_MMIO_WRITE_RO)) wr(d, VIRTIO_MMIO_QUEUE_NUM_MAX, max);
  if (mut(d, VSIM_MUT_DRV_MMIO_READ_WO)) (void)rd(d, VIRTIO_MMIO_QUEUE_NOTIFY);
  if (mut(d, VSIM_MUT_DRV_MMIO_UNDEFINED)) (void)rd(d, 0x0f8); /* between SHM and ConfigGeneration */
  if (mut(d, VSIM_MUT_DRV_QUEUE_SIZE_BIG)) wr(d, VIRTIO_MMIO_QUEUE_NUM, max + 1);
  wr(d, VIRTIO_MMIO_QUEUE_NUM, c->size);
  wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)c->desc);
  wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(c->desc >> 32));
  wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)c->driver);
  wr(d, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(c->driver >> 32));
  wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)c->device);
  wr(d, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(c->device >> 32));
  wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
  if (mut(d, VSIM_MUT_DRV_QUEUE_WRITE_LIVE)) wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)c->desc);
  return rd(d, VIRTIO_MMIO_QUEUE_READY) == 1 ? 0 : -1;
}

static void mm_notify(void *t, uint16_t q, uint32_t value) {
  vsim_drv_mmio *d = t;
  wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, value);
  /* drv.mmio-notify-past-last: a kick of the last queue set up is followed
   * by one of the index after it, as a kick loop bounded by <= would:
   * QueueNotify naming no queue (mmio.drv-notify-queue) */
  if (q + 1u == d->queues_set_up && mut(d, VSIM_MUT_DRV_MMIO_NOTIFY_PAST_LAST)) wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, q + 1u);
}

static int mm_queue_reset(void *t, uint16_t q) {
  vsim_drv_mmio *d = t;
  wr(d, VIRTIO_MMIO_QUEUE_SEL, q);
  wr(d, VIRTIO_MMIO_QUEUE_RESET, 1);
  if (q < 64) d->queues_reset |= UINT64_C(1) << q;
  if (mut(d, VSIM_MUT_DRV_QUEUE_RESET_BLIND)) return 0;
  /* the device presents 1 while the reset is ongoing and 0 with QueueReady 0
   * when done; this model's devices finish at once, so one read each */
  if (rd(d, VIRTIO_MMIO_QUEUE_RESET) != 0) return -1;
  return rd(d, VIRTIO_MMIO_QUEUE_READY) == 0 ? 0 : -1;
}

static uint32_t mm_take_interrupts(void *t) {
  vsim_drv_mmio *d = t;
  uint32_t isr = rd(d, VIRTIO_MMIO_INTERRUPT_STATUS);
  /* the spec: ignore undefined bits, acknowledge only the handled ones */
  isr &= VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG;
  if (isr)
    wr(d, VIRTIO_MMIO_INTERRUPT_ACK,
       mut(d, VSIM_MUT_DRV_MMIO_ACK_UNREAD) ? VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG : isr);
  return isr;
}

static uint32_t mm_pending_interrupts(void *t) { return vsim_mmio_peek_isr(((vsim_drv_mmio *)t)->m); }

static uint32_t mm_config_generation(void *t) { return rd(t, VIRTIO_MMIO_CONFIG_GENERATION); }

/* field-width accesses: the caller reads a field at a time (1, 2, 4 or 8 bytes) */
static int mm_config_read(void *t, uint32_t off, void *dst, uint32_t len) {
  vsim_drv_mmio *d = t;
  uint8_t *out = dst;
  unsigned w = len >= 4 ? 4 : len;
  for (uint32_t i = 0; i < len; i += w) {
    uint32_t v = vsim_mmio_read(d->m, VIRTIO_MMIO_CONFIG + off + i, w);
    for (unsigned k = 0; k < w && i + k < len; k++) out[i + k] = (uint8_t)(v >> (8 * k));
  }
  return 0;
}

static int mm_config_write(void *t, uint32_t off, const void *src, uint32_t len) {
  vsim_drv_mmio *d = t;
  const uint8_t *in = src;
  unsigned w = len >= 4 ? 4 : len;
  for (uint32_t i = 0; i < len; i += w) {
    uint32_t v = 0;
    for (unsigned k = 0; k < w && i + k < len; k++) v |= (uint32_t)in[i + k] << (8 * k);
    vsim_mmio_write(d->m, VIRTIO_MMIO_CONFIG + off + i, w, v);
  }
  return 0;
}

const vsim_drv_transport_ops vsim_drv_mmio_ops = {
    .probe = mm_probe,
    .device_id = mm_device_id,
    .get_status = mm_get_status,
    .set_status = mm_set_status,
    .get_features = mm_get_features,
    .set_features = mm_set_features,
    .queue_max = mm_queue_max,
    .queue_enable = mm_queue_enable,
    .notify = mm_notify,
    .queue_reset = mm_queue_reset,
    .take_interrupts = mm_take_interrupts,
    .pending_interrupts = mm_pending_interrupts,
    .config_generation = mm_config_generation,
    .config_read = mm_config_read,
    .config_write = mm_config_write,
};
