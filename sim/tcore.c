/* sim/tcore.c — the device side every virtio transport shares (see tcore.h). */
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include "tcore.h"
#include "virtio_compat.h"

int vsim_tcore_init(vsim_tcore *c, vsim_backend be, const vsim_host *host, vsim_mutset mutants) {
  memset(c, 0, sizeof *c);
  c->be = be;
  c->host = host;
  c->mutants = mutants;
  c->nq = be.ops->num_queues(be.be);
  c->q = calloc(c->nq ? c->nq : 1, sizeof *c->q);
  if (!c->q) return -1;
  c->config_vector = VIRTIO_MSI_NO_VECTOR;
  for (uint16_t i = 0; i < c->nq; i++) c->q[i].vector = VIRTIO_MSI_NO_VECTOR;
  return 0;
}

void vsim_tcore_fini(vsim_tcore *c) {
  free(c->q);
  c->q = NULL;
}

vsim_tcore_queue *vsim_tcore_sel_queue(vsim_tcore *c) {
  return c->queue_sel < c->nq ? &c->q[c->queue_sel] : NULL;
}

bool vsim_tcore_negotiated(const vsim_tcore *c, unsigned bit) {
  return (c->driver_features >> bit) & 1u;
}

void vsim_tcore_raise(vsim_tcore *c, uint32_t bits) { c->interrupt_status |= bits; }
uint32_t vsim_tcore_peek_isr(const vsim_tcore *c) { return c->interrupt_status; }
uint32_t vsim_tcore_peek_queue_ready(const vsim_tcore *c, uint16_t q) {
  return q < c->nq ? c->q[q].ready : 0;
}

uint32_t vsim_tcore_device_features(const vsim_tcore *c) {
  uint64_t f = c->be.ops->device_features(c->be.be);
  return c->dev_feat_sel == 0 ? (uint32_t)f : c->dev_feat_sel == 1 ? (uint32_t)(f >> 32) : 0;
}

uint32_t vsim_tcore_driver_features(const vsim_tcore *c) {
  return c->drv_feat_sel == 0   ? (uint32_t)c->driver_features
         : c->drv_feat_sel == 1 ? (uint32_t)(c->driver_features >> 32)
         : c->drv_feat_sel == 2 ? c->driver_features_hi
                                : 0;
}

int vsim_tcore_write_driver_features(vsim_tcore *c, uint32_t val) {
  uint8_t st = c->be.ops->get_status(c->be.be);
  uint64_t f = c->driver_features;
  uint32_t hi = c->driver_features_hi;
  if (c->drv_feat_sel == 0) f = (f & ~UINT64_C(0xffffffff)) | val;
  else if (c->drv_feat_sel == 1) f = (f & UINT64_C(0xffffffff)) | ((uint64_t)val << 32);
  else if (c->drv_feat_sel == 2) hi = val;
  if ((st & VIRTIO_CONFIG_S_FEATURES_OK) && (f != c->driver_features || hi != c->driver_features_hi))
    return -1; /* a device ignores late feature changes, in every window */
  c->driver_features = f;
  c->driver_features_hi = hi;
  c->be.ops->set_driver_features(c->be.be, f);
  return 0;
}

void vsim_tcore_set_status(vsim_tcore *c, uint32_t val, bool keep_ready) {
  const vsim_backend_ops *ops = c->be.ops;
  void *be = c->be.be;
  uint8_t old = ops->get_status(be);
  c->host->event(c->host->ctx, VSIM_EV_STATUS, -1, old, val & 0xff, 0, 0);
  if ((val & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK))
    c->host->event(c->host->ctx, VSIM_EV_FEATURES, -1, ops->device_features(be),
                   c->driver_features, 0, 0);
  if ((val & 0xff) == 0) {
    c->resets++;
    /* unmapped before the backend hears of the reset: an interrupt it sends
     * from inside its reset (reset.dev-silent's business) goes nowhere */
    c->config_vector = VIRTIO_MSI_NO_VECTOR;
    for (uint16_t i = 0; i < c->nq; i++) c->q[i].vector = VIRTIO_MSI_NO_VECTOR;
    ops->set_status(be, 0);
    /* the spec: reset clears the interrupt status and every queue's enable */
    c->interrupt_status = 0;
    for (uint16_t i = 0; i < c->nq; i++) {
      uint32_t keep = keep_ready ? c->q[i].ready : 0;
      memset(&c->q[i], 0, sizeof c->q[i]);
      c->q[i].ready = keep;
      c->q[i].vector = VIRTIO_MSI_NO_VECTOR; /* every event unmapped (virtio-pci) */
    }
    c->config_vector = VIRTIO_MSI_NO_VECTOR;
    /* the state of a device just powered on: no window selected, nothing
     * accepted (no rule reads a selector back; a driver writes it first) */
    c->driver_features = 0;
    c->driver_features_hi = 0;
    c->dev_feat_sel = c->drv_feat_sel = c->queue_sel = 0;
    return;
  }
  ops->set_status(be, (uint8_t)val);
}

int vsim_tcore_queue_ready(vsim_tcore *c, vsim_tcore_queue *q, uint32_t val, uint16_t *max_out) {
  uint16_t qi = (uint16_t)c->queue_sel;
  if (!val) {
    q->ready = 0;
    c->be.ops->queue_ready(c->be.be, qi, NULL);
    return 0;
  }
  if (q->ready) return 0;
  uint16_t max = c->be.ops->queue_max_size(c->be.be, qi);
  *max_out = max;
  bool packed = vsim_tcore_negotiated(c, VIRTIO_F_RING_PACKED);
  if (q->size == 0 || q->size > max || (!packed && (q->size & (q->size - 1)))) return -1;
  vsim_queue_cfg cfg = {(uint16_t)q->size, q->desc, q->driver, q->device};
  c->host->event(c->host->ctx, VSIM_EV_QUEUE_READY, qi, q->size, q->desc, q->driver, q->device);
  if (c->be.ops->queue_ready(c->be.be, qi, &cfg) == 0) q->ready = 1;
  return 0;
}

void vsim_tcore_queue_reset(vsim_tcore *c, vsim_tcore_queue *q, bool keep_ready) {
  if (c->be.ops->queue_reset) c->be.ops->queue_reset(c->be.be, (uint16_t)c->queue_sel);
  c->host->event(c->host->ctx, VSIM_EV_QUEUE_RESET, (int)c->queue_sel, 0, 0, 0, 0);
  uint32_t keep = keep_ready ? q->ready : 0;
  memset(q, 0, sizeof *q); /* the reset completes at once */
  q->ready = keep;
  q->vector = VIRTIO_MSI_NO_VECTOR;
}

int vsim_tcore_notify(vsim_tcore *c, uint32_t qi, uint32_t val) {
  c->notifies++;
  c->host->event(c->host->ctx, VSIM_EV_KICK, (int)qi, val, 0, 0, 0);
  if (qi >= c->nq || !c->q[qi].ready) return -1;
  c->be.ops->queue_notify(c->be.be, (uint16_t)qi, val);
  return 0;
}

void vsim_tcore_ack(vsim_tcore *c, uint32_t bits) {
  c->interrupt_status &= ~bits;
  c->host->event(c->host->ctx, VSIM_EV_IRQ_ACK, -1, bits, c->interrupt_status, 0, 0);
}
