/* backend-model/devcore.c — the device core shared by the built-in models.
 *
 * Owns: features, status, config space and generation, per-queue state, and the
 * device worker (see devcore.h). It is also the generic vsim_backend_ops
 * implementation, so transports drive every built-in model the same way.
 * Must never: touch a queue before DRIVER_OK (unless the early-use mutant asks
 * it to), after DEVICE_NEEDS_RESET, or after a reset until re-initialised.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include "devcore.h"
#include "virtio_compat.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"

#define VIRTIO_VENDOR_SIM 0x5653494dU /* "VSIM" */

static inline bool mut(const vsim_devcore *dc, unsigned m) {
  return vsim_mut_has(&dc->mutants, (int)m);
}

bool vsim_devcore_has(const vsim_devcore *dc, unsigned bit) {
  return bit < 64 && ((dc->driver_features >> bit) & 1u);
}

int vsim_devcore_init(vsim_devcore *dc, const vsim_backend_params *p, uint32_t device_id,
                      uint64_t offered, uint32_t config_len,
                      const vsim_devmodel_ops *mops, void *model, char *err,
                      unsigned errlen) {
  memset(dc, 0, sizeof *dc);
  dc->host = p->host;
  dc->mops = mops;
  dc->model = model;
  dc->device_id = device_id;
  dc->vendor_id = VIRTIO_VENDOR_SIM;
  dc->offered = p->has_offered_features ? p->offered_features : offered;
  dc->mutants = p->mutants;
  dc->refuse = p->refuse_features;
  dc->latency = p->latency;
  dc->in_order_batch = p->in_order_batch;
  dc->coalesce_count = p->irq_coalesce_count;
  dc->coalesce_time = p->irq_coalesce_time;
  dc->poll_period = p->poll_period;
  if (mut(dc, VSIM_MUT_DEV_NO_VERSION1)) dc->offered &= ~(UINT64_C(1) << VIRTIO_F_VERSION_1);
  dc->nq = p->num_queues ? p->num_queues : 1;
  dc->qmax = p->queue_max_size ? p->queue_max_size : 256;
  dc->config_len = config_len;
  dc->config = calloc(1, config_len ? config_len : 1);
  dc->config_before = calloc(1, config_len ? config_len : 1);
  dc->q = calloc(dc->nq, sizeof *dc->q);
  dc->parts = calloc(3u * dc->nq, sizeof *dc->parts);
  dc->coal = calloc(dc->nq, sizeof *dc->coal);
  if (!dc->config || !dc->config_before || !dc->q || !dc->parts || !dc->coal) {
    snprintf(err, errlen, "out of memory");
    free(dc->config);
    free(dc->config_before);
    free(dc->q);
    free(dc->parts);
    free(dc->coal);
    dc->config = dc->config_before = NULL;
    return -1;
  }
  dc->guard.parts = dc->parts;
  return 0;
}

/* ---- one ring interface over the split and packed layouts ---- */

static int ring_pop(vsim_devq *q, vsim_chain *c) {
  return q->packed ? vsim_vqp_dev_pop(&q->pvq, c) : vsim_vq_dev_pop(&q->vq, c);
}
static void ring_push(vsim_devq *q, uint16_t id, uint32_t len) {
  if (q->packed) vsim_vqp_dev_push(&q->pvq, id, len);
  else vsim_vq_dev_push(&q->vq, id, len);
}
/* Something pushed that the driver has not been told about? */
static bool ring_unpublished(const vsim_devq *q) {
  if (q->packed) return q->pvq.next_used != q->pvq.signalled || q->pvq.used_wrap != q->pvq.signalled_wrap;
  return q->vq.next_used != q->vq.published_used;
}
static bool ring_publish(vsim_devq *q) {
  return q->packed ? vsim_vqp_dev_publish(&q->pvq) : vsim_vq_dev_publish(&q->vq);
}
static void ring_set_notify(vsim_devq *q, bool enable) {
  if (q->packed) vsim_vqp_dev_set_notify(&q->pvq, enable);
  else vsim_vq_dev_set_notify(&q->vq, enable);
}
/* > 0: more available; 0: empty; < 0: the ring is unusable (violation reported) */
static int ring_more(vsim_devq *q) {
  return q->packed ? vsim_vqp_dev_has_avail(&q->pvq) : vsim_vq_dev_avail_count(&q->vq);
}
static void ring_fini(vsim_devq *q) {
  if (q->packed) vsim_vqp_dev_fini(&q->pvq);
  else vsim_vq_dev_fini(&q->vq);
}

static void held_free(vsim_held *h) {
  free(h->chain);
  free(h->due);
  free(h->pool);
  memset(h, 0, sizeof *h);
}

static void parked_free(vsim_parked *pk) {
  free(pk->chain);
  free(pk->seg_off);
  free(pk->pool);
  memset(pk, 0, sizeof *pk);
}

static int parked_alloc(vsim_parked *pk, uint16_t size) {
  pk->chain = calloc(size, sizeof *pk->chain);
  pk->seg_off = calloc(size, sizeof *pk->seg_off);
  pk->pool_cap = 2u * size;
  pk->pool = calloc(pk->pool_cap, sizeof *pk->pool);
  if (!pk->chain || !pk->seg_off || !pk->pool) {
    parked_free(pk);
    return -1;
  }
  return 0;
}

static int held_alloc(vsim_held *h, uint16_t size) {
  h->chain = calloc(size, sizeof *h->chain);
  h->due = calloc(size, sizeof *h->due);
  h->pool_cap = 4u * size;
  h->pool = calloc(h->pool_cap, sizeof *h->pool);
  if (!h->chain || !h->due || !h->pool) {
    held_free(h);
    return -1;
  }
  return 0;
}

/* The ring parts of every configured queue, which no device-writable buffer
 * of any queue may overlap (see chain.h). Recomputed whenever a queue is
 * configured or dropped; the live rings hold a pointer to dc->guard. */
static void update_guard(vsim_devcore *dc) {
  uint32_t n = 0;
  const bool packed = (dc->driver_features >> VIRTIO_F_RING_PACKED) & 1u;
  for (uint16_t i = 0; i < dc->nq; i++) {
    const vsim_devq *q = &dc->q[i];
    if (!q->ready) continue;
    const uint64_t sz = q->cfg.size;
    /* split: desc 16 n, avail 4 + 2 n + used_event, used 4 + 8 n + avail_event;
     * packed: desc 16 n, two 4-byte event structures */
    dc->parts[n++] = (vsim_ring_part){q->cfg.desc, 16u * sz, i, 0};
    dc->parts[n++] = (vsim_ring_part){q->cfg.driver, packed ? 4u : 6u + 2u * sz, i, 1};
    dc->parts[n++] = (vsim_ring_part){q->cfg.device, packed ? 4u : 6u + 8u * sz, i, 2};
  }
  dc->guard.n = n;
}

static void queue_drop(vsim_devcore *dc, uint16_t i) {
  vsim_devq *q = &dc->q[i];
  if (q->vq_live) ring_fini(q);
  held_free(&q->held); /* a reset forgets what the device held: it must never complete it */
  parked_free(&q->parked); /* the same for the receive buffers it kept */
  memset(q, 0, sizeof *q);
  update_guard(dc);
}

void vsim_devcore_fini(vsim_devcore *dc) {
  if (!dc->q) return;
  for (uint16_t i = 0; i < dc->nq; i++) queue_drop(dc, i);
  free(dc->q);
  free(dc->config);
  free(dc->config_before);
  free(dc->parts);
  free(dc->coal);
  dc->q = NULL;
  dc->config = dc->config_before = NULL;
  dc->parts = NULL;
  dc->coal = NULL;
  dc->guard = (vsim_ring_guard){NULL, 0};
}

void vsim_devcore_config_changed(vsim_devcore *dc) {
  dc->generation++;
  dc->host->config_changed(dc->host->ctx);
}

void vsim_devcore_needs_reset(vsim_devcore *dc, int q) {
  if (dc->status & VIRTIO_CONFIG_S_NEEDS_RESET) return;
  dc->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
  dc->host->event(dc->host->ctx, VSIM_EV_NEEDS_RESET, q, dc->status, 0, 0, 0);
  /* the spec: with DRIVER_OK set, a config-change notification MUST follow */
  if ((dc->status & VIRTIO_CONFIG_S_DRIVER_OK) && !mut(dc, VSIM_MUT_DEV_NR_SILENT))
    vsim_devcore_config_changed(dc);
}

/* ---- the generic backend ops ---- */

static void dc_destroy(void *be) {
  vsim_devcore *dc = be;
  void *model = dc->model;
  const vsim_devmodel_ops *mops = dc->mops;
  vsim_devcore_fini(dc);
  if (mops->destroy) mops->destroy(model);
}

static uint32_t dc_device_id(void *be) { return ((vsim_devcore *)be)->device_id; }
static uint32_t dc_vendor_id(void *be) { return ((vsim_devcore *)be)->vendor_id; }
static uint16_t dc_num_queues(void *be) { return ((vsim_devcore *)be)->nq; }
static uint16_t dc_queue_max(void *be, uint16_t q) {
  vsim_devcore *dc = be;
  return q < dc->nq ? dc->qmax : 0;
}
static uint64_t dc_device_features(void *be) { return ((vsim_devcore *)be)->offered; }

static void dc_set_driver_features(void *be, uint64_t f) {
  vsim_devcore *dc = be;
  /* features are frozen once FEATURES_OK was accepted */
  if (dc->status & VIRTIO_CONFIG_S_FEATURES_OK) return;
  dc->driver_features = f;
}

static uint8_t dc_get_status(void *be) { return ((vsim_devcore *)be)->status; }

static void dc_reset(vsim_devcore *dc) {
  for (uint16_t i = 0; i < dc->nq; i++) queue_drop(dc, i); /* reset_size too */
  /* the model's per-queue coalescing belonged to the negotiation now gone */
  memset(dc->coal, 0, (size_t)dc->nq * sizeof *dc->coal);
  dc->driver_features = 0;
  dc->status = 0;
  if (mut(dc, VSIM_MUT_DEV_RESET_STATUS)) dc->status = VIRTIO_CONFIG_S_ACKNOWLEDGE;
  /* a model's reset may put back the configuration it started with (gpu:
   * events_read, net: the mac, input: select and subsel): what the space
   * reads changed, so config_generation changes too, as for any other
   * change ("the device changes this every time the configuration
   * noticeably changes"); a driver that read a field before the reset and
   * reads it again after must see a new generation */
  memcpy(dc->config_before, dc->config, dc->config_len);
  if (dc->mops->reset) dc->mops->reset(dc->model);
  if (memcmp(dc->config_before, dc->config, dc->config_len) != 0) dc->generation++;
  if (mut(dc, VSIM_MUT_DEV_RESET_NOISY)) dc->host->interrupt(dc->host->ctx, 0);
}

static int queue_go_live(vsim_devcore *dc, uint16_t i) {
  vsim_devq *q = &dc->q[i];
  if (!q->ready || q->vq_live) return 0;
  q->packed = (dc->driver_features >> VIRTIO_F_RING_PACKED) & 1u;
  int r = q->packed ? vsim_vqp_dev_init(&q->pvq, dc->host, i, &q->cfg, dc->driver_features, dc->mutants)
                    : vsim_vq_dev_init(&q->vq, dc->host, i, &q->cfg, dc->driver_features, dc->mutants);
  if (r) return -1;
  if (q->packed) vsim_vqp_dev_set_guard(&q->pvq, &dc->guard);
  else vsim_vq_dev_set_guard(&q->vq, &dc->guard);
  if (dc->in_order_batch) {
    /* a no-op unless IN_ORDER was negotiated */
    if (q->packed) vsim_vqp_dev_set_in_order_batch(&q->pvq, true);
    else vsim_vq_dev_set_in_order_batch(&q->vq, true);
  }
  q->receive = dc->mops->receive_queue && dc->mops->receive_queue(dc->model, i);
  if ((dc->latency && !q->receive && held_alloc(&q->held, q->cfg.size)) ||
      (q->receive && parked_alloc(&q->parked, q->cfg.size))) {
    held_free(&q->held);
    ring_fini(q);
    return -1;
  }
  q->vq_live = true;
  if (dc->poll_period) {
    /* a polling device never wants a kick: off from the start, for good */
    ring_set_notify(q, false);
    q->next_poll = dc->host->now(dc->host->ctx) + dc->poll_period;
  }
  return 0;
}

static void dc_set_status(void *be, uint8_t st) {
  vsim_devcore *dc = be;
  uint8_t old = dc->status;
  if (st == 0) {
    dc_reset(dc);
    return;
  }
  uint8_t keep = old & VIRTIO_CONFIG_S_NEEDS_RESET; /* only the device clears it, by reset */
  if ((st & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
    /* FEATURES_OK: refuse unoffered bits or a set the model cannot do by not
     * reflecting the bit; the driver must re-read and give up */
    bool ok = (dc->driver_features & ~dc->offered) == 0 && (dc->driver_features & dc->refuse) == 0 &&
              /* the mutant: nothing but the whole offer will do */
              !(mut(dc, VSIM_MUT_DEV_REFUSE_SUBSET) && dc->driver_features != dc->offered) &&
              (!dc->mops->features_ok || dc->mops->features_ok(dc->model, dc->driver_features));
    if (!ok) st &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
  }
  dc->status = (uint8_t)(st | keep);
  if ((dc->status & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
    if (dc->mops->activate) dc->mops->activate(dc->model, dc->driver_features);
    for (uint16_t i = 0; i < dc->nq; i++)
      if (queue_go_live(dc, i)) vsim_devcore_needs_reset(dc, i);
  }
}

static uint32_t dc_config_generation(void *be) { return ((vsim_devcore *)be)->generation; }
static uint32_t dc_config_size(void *be) { return ((vsim_devcore *)be)->config_len; }

static int dc_config_read(void *be, uint32_t off, void *dst, uint32_t len) {
  vsim_devcore *dc = be;
  if (off > dc->config_len || len > dc->config_len - off) return -1;
  memcpy(dst, dc->config + off, len);
  /* the mutant: fields the driver may read before FEATURES_OK read 0 */
  if (mut(dc, VSIM_MUT_DEV_CONFIG_ZERO_EARLY) && !(dc->status & VIRTIO_CONFIG_S_FEATURES_OK))
    memset(dst, 0, len);
  return 0;
}

static int dc_config_write(void *be, uint32_t off, const void *src, uint32_t len) {
  vsim_devcore *dc = be;
  if (off > dc->config_len || len > dc->config_len - off) return -1;
  if (!dc->mops->config_write) return -1;
  return dc->mops->config_write(dc->model, off, src, len);
}

static int dc_queue_ready(void *be, uint16_t i, const vsim_queue_cfg *cfg) {
  vsim_devcore *dc = be;
  if (i >= dc->nq) return -1;
  if (!cfg) {
    queue_drop(dc, i);
    return 0;
  }
  if (cfg->size == 0 || cfg->size > dc->qmax) return -1;
  vsim_devq *q = &dc->q[i];
  const uint16_t stale = q->reset_size;
  queue_drop(dc, i);
  q->ready = true;
  q->cfg = *cfg;
  /* the mutant: a queue re-enabled after its reset keeps the size it had
   * before, whatever the driver configured now (the new addresses taken) */
  if (mut(dc, VSIM_MUT_DEV_QUEUE_REENABLE_STALE) && stale) q->cfg.size = stale;
  update_guard(dc);
  /* a queue enabled after DRIVER_OK (re-enable after a queue reset) goes live now;
   * otherwise at DRIVER_OK when features are final */
  if (mut(dc, VSIM_MUT_DEV_EARLY_USE)) {
    /* the mutant polls its rings from the moment they exist */
    q->draining = true;
    return queue_go_live(dc, i);
  }
  if (dc->status & VIRTIO_CONFIG_S_DRIVER_OK) return queue_go_live(dc, i);
  return 0;
}

static void dc_queue_reset(void *be, uint16_t i) {
  vsim_devcore *dc = be;
  /* the spec: reset the queue to its default state, available and used state
   * included; what the device held is dropped, never completed */
  if (i >= dc->nq || mut(dc, VSIM_MUT_DEV_QUEUE_RESET_IGNORED)) return;
  const uint16_t size = dc->q[i].ready ? dc->q[i].cfg.size : 0;
  queue_drop(dc, i);
  if (mut(dc, VSIM_MUT_DEV_QUEUE_REENABLE_STALE)) dc->q[i].reset_size = size;
}

static void dc_queue_notify(void *be, uint16_t i, uint32_t data) {
  vsim_devcore *dc = be;
  if (i >= dc->nq) return; /* the transport reports it; a device ignores it */
  vsim_devq *q = &dc->q[i];
  /* VIRTIO_F_NOTIFICATION_DATA: bits 16-31 name where the driver's next
   * available entry goes (split: the avail index; packed: next_off | next_wrap
   * << 15). The ring takes it as a hint of how far the driver has published,
   * checked against what the ring shows (vq_split.h, vq_packed.h). A queue
   * that is not live yet has nothing to hold it against: the kick alone counts. */
  if (q->vq_live && vsim_devcore_has(dc, VIRTIO_F_NOTIFICATION_DATA)) {
    const uint16_t next = (uint16_t)(data >> 16);
    if (q->packed) vsim_vqp_dev_notify_data(&q->pvq, next);
    else vsim_vq_dev_notify_data(&q->vq, next);
  }
  q->kicked = true;
}

/* Room to hold one more request of the worst-case length (queue size
 * segments): parked on a receive queue, else held when there is latency. */
static bool can_hold(const vsim_devcore *dc, const vsim_devq *q) {
  if (q->receive) {
    const vsim_parked *pk = &q->parked;
    return pk->count < q->cfg.size && pk->pool_top + q->cfg.size <= pk->pool_cap;
  }
  if (!dc->latency) return true;
  const vsim_held *h = &q->held;
  return h->count < q->cfg.size && h->pool_top + q->cfg.size <= h->pool_cap;
}

static bool held_due(const vsim_devcore *dc, const vsim_devq *q) {
  const vsim_held *h = &q->held;
  return h->count && h->due[h->head] <= dc->host->now(dc->host->ctx);
}

/* May the device touch queue q at all: after DRIVER_OK (or with the mutant
 * that does not wait), not in DEVICE_NEEDS_RESET, and only a live queue. */
static bool may_serve(const vsim_devcore *dc, const vsim_devq *q) {
  bool live_ok = (dc->status & VIRTIO_CONFIG_S_DRIVER_OK) || mut(dc, VSIM_MUT_DEV_EARLY_USE);
  return live_ok && !(dc->status & VIRTIO_CONFIG_S_NEEDS_RESET) && q->vq_live;
}

/* A held interrupt whose time has come. */
static bool irq_due(const vsim_devcore *dc, const vsim_devq *q) {
  return q->irq_owed && q->irq_due <= dc->host->now(dc->host->ctx);
}

static bool poll_due(const vsim_devcore *dc, const vsim_devq *q) {
  return dc->poll_period && q->next_poll <= dc->host->now(dc->host->ctx);
}

static bool dc_queue_runnable(void *be, uint16_t i) {
  vsim_devcore *dc = be;
  if (i >= dc->nq) return false;
  const vsim_devq *q = &dc->q[i];
  if (q->kicked) return true; /* even when it may not act: it drops the kick */
  /* a device that must not touch its queues has no work, whatever it holds */
  if (!may_serve(dc, q)) return false;
  return (q->draining && can_hold(dc, q)) || held_due(dc, q) || irq_due(dc, q) || poll_due(dc, q) ||
         (q->parked.woken && q->parked.count);
}

static uint64_t dc_queue_next_due(void *be, uint16_t i) {
  vsim_devcore *dc = be;
  if (i >= dc->nq) return UINT64_MAX;
  if (dc->status & VIRTIO_CONFIG_S_NEEDS_RESET) return UINT64_MAX; /* held forever */
  const vsim_devq *q = &dc->q[i];
  uint64_t due = q->held.count ? q->held.due[q->held.head] : UINT64_MAX;
  if (q->irq_owed && q->irq_due < due) due = q->irq_due;
  if (dc->poll_period && q->vq_live && q->next_poll < due) due = q->next_poll;
  return due;
}

/* Keep a receive buffer the model has no data for (can_hold said there is
 * room). Its segments are copied: the ring's pop storage is reused. */
static void park(vsim_devcore *dc, vsim_devq *q, uint16_t i, const vsim_chain *chain) {
  vsim_parked *pk = &q->parked;
  uint32_t slot = (pk->head + pk->count) % q->cfg.size;
  pk->chain[slot] = *chain;
  pk->chain[slot].seg = NULL;
  pk->seg_off[slot] = pk->pool_top;
  memcpy(pk->pool + pk->pool_top, chain->seg, (size_t)chain->nseg * sizeof *chain->seg);
  pk->pool_top += chain->nseg;
  pk->count++;
  /* a = head, b = 1: parked for lack of input (VSIM_EV_HOLD's due time is
   * UINT64_MAX: no time will release it, only data) */
  dc->host->event(dc->host->ctx, VSIM_EV_HOLD, i, chain->head, UINT64_MAX, 1, 0);
}

/* The oldest parked chain, with its segments. */
static vsim_chain parked_head(const vsim_parked *pk) {
  vsim_chain c = pk->chain[pk->head];
  c.seg = pk->pool + pk->seg_off[pk->head];
  return c;
}

/* The oldest parked chain was used: forget it and move the others'
 * segments down to the start of the pool. */
static void parked_pop(vsim_devq *q) {
  vsim_parked *pk = &q->parked;
  uint32_t n = pk->chain[pk->head].nseg;
  memmove(pk->pool, pk->pool + n, (size_t)(pk->pool_top - n) * sizeof *pk->pool);
  pk->pool_top -= n;
  pk->head = (pk->head + 1) % q->cfg.size;
  pk->count--;
  for (uint32_t k = 0; k < pk->count; k++) pk->seg_off[(pk->head + k) % q->cfg.size] -= n;
}

/* Execute one request and write its used element. Returns 0 (completed), 1
 * (parked: a receive buffer the model has no data for yet, or one behind
 * others already parked), or -1: the chain is unusable for this device, or
 * the model deferred on a queue that is not a receive queue (the core then
 * sets DEVICE_NEEDS_RESET). */
static int complete(vsim_devcore *dc, uint16_t i, const vsim_chain *chain) {
  vsim_devq *q = &dc->q[i];
  if (q->receive && q->parked.count) {
    park(dc, q, i, chain); /* the oldest buffer is filled first */
    /* but a buffer more is news for the model: input that waited for more
     * room (a net frame over several buffers, MRG_RXBUF) may fit now, so the
     * parked chains are offered again (the model defers when it does not) */
    q->parked.woken = true;
    return 1;
  }
  uint32_t used_len = 0;
  int r = dc->mops->request(dc->model, i, chain, &used_len);
  if (r == VSIM_DEVMODEL_DEFER && q->receive) {
    park(dc, q, i, chain);
    return 1;
  }
  if (r != 0) return -1;
  ring_push(q, chain->head, used_len);
  q->irq_completions++;
  if (q->together) q->together--;
  return 0;
}

/* After a wake: offer the parked chains again, oldest first, until the
 * model defers one (no more data) or the budget is spent, but never
 * between chains the model said go together (vsim_devcore_use_together).
 * Returns the chains completed, or -1 (broken: as complete). */
static int serve_parked(vsim_devcore *dc, vsim_devq *q, uint16_t i, uint32_t budget) {
  vsim_parked *pk = &q->parked;
  int done = 0;
  while (pk->woken && pk->count && ((uint32_t)done < budget || q->together)) {
    vsim_chain c = parked_head(pk);
    uint32_t used_len = 0;
    int r = dc->mops->request(dc->model, i, &c, &used_len);
    if (r == VSIM_DEVMODEL_DEFER) {
      pk->woken = false; /* no data left: wait for the next wake */
      break;
    }
    if (r != 0) return -1;
    ring_push(q, c.head, used_len);
    q->irq_completions++;
    if (q->together) q->together--;
    parked_pop(q);
    done++;
  }
  if (!pk->count) pk->woken = false;
  return done;
}

void vsim_devcore_use_together(vsim_devcore *dc, uint16_t q, uint32_t more) {
  /* + 1: the chain being completed counts itself down (complete, serve_parked) */
  if (q < dc->nq) dc->q[q].together = more + 1u;
}

void vsim_devcore_set_coalesce(vsim_devcore *dc, uint16_t q, uint32_t count, uint64_t time) {
  if (q >= dc->nq) return;
  dc->coal[q] = (vsim_devcoal){true, count, time};
  /* held under the old conditions: re-checked at once (sent at the next turn) */
  if (dc->q[q].irq_owed) dc->q[q].irq_due = dc->host->now(dc->host->ctx);
}

void vsim_devcore_wake(vsim_devcore *dc, uint16_t q) {
  if (q < dc->nq && dc->q[q].receive) dc->q[q].parked.woken = true;
}

bool vsim_devcore_receive_queue(const vsim_devcore *dc, uint16_t q) {
  return q < dc->nq && dc->mops->receive_queue && dc->mops->receive_queue(dc->model, q);
}

uint32_t vsim_devcore_parked(const vsim_devcore *dc, uint16_t q) {
  return q < dc->nq ? dc->q[q].parked.count : 0;
}

int vsim_devcore_host_input(vsim_devcore *dc, uint32_t target, const uint8_t *data, uint32_t len,
                            uint16_t *q_out, uint32_t *accepted, char *err, unsigned errlen) {
  if (!dc->mops->host_input) {
    snprintf(err, errlen, "this device model takes no host input");
    return -1;
  }
  uint16_t q = 0;
  int64_t n = dc->mops->host_input(dc->model, target, data, len, &q, err, errlen);
  if (n < 0) return -1;
  *q_out = q;
  *accepted = n > (int64_t)len ? len : (uint32_t)n;
  return 0;
}

int vsim_devcore_host_event(vsim_devcore *dc, uint32_t target, uint32_t kind, uint32_t value, char *err,
                            unsigned errlen) {
  if (!dc->mops->host_event) {
    snprintf(err, errlen, "this device model takes no host event");
    return -1;
  }
  return dc->mops->host_event(dc->model, target, kind, value, err, errlen) ? -1 : 0;
}

int64_t vsim_devcore_host_output(vsim_devcore *dc, uint32_t target, uint8_t *dst, uint32_t cap, char *err,
                                 unsigned errlen) {
  if (!dc->mops->host_output) {
    snprintf(err, errlen, "this device model has no host output");
    return -1;
  }
  int64_t n = dc->mops->host_output(dc->model, target, dst, cap, err, errlen);
  return n > (int64_t)cap ? (int64_t)cap : n;
}

/* Publish what was pushed and send, hold or drop the used-buffer
 * notification. Without coalescing the driver's suppression decides alone.
 * With it, an interrupt the driver asked for becomes owed: it goes once
 * coalesce_count completions have piled up since the last one, or when
 * coalesce_time has passed since it was first held (the worker is runnable
 * then: dc_queue_runnable, dc_queue_next_due). Owing survives later
 * publishes whatever the driver's suppression says by then: it asked once,
 * and a held notification is late, never dropped. */
static void publish_and_notify(vsim_devcore *dc, vsim_devq *q, uint16_t i) {
  bool need = ring_unpublished(q) && ring_publish(q);
  /* the queue's own parameters (vsim_devcore_set_coalesce) or the device's */
  const bool own = dc->coal[i].set;
  const uint32_t count = own ? dc->coal[i].count : dc->coalesce_count;
  const uint64_t time = own ? dc->coal[i].time : dc->coalesce_time;
  if (!count) {
    /* an interrupt held under parameters since set to 0 goes now too */
    const bool send = need || q->irq_owed;
    q->irq_owed = false;
    q->irq_completions = 0;
    if (send) dc->host->interrupt(dc->host->ctx, i);
    return;
  }
  const uint64_t now = dc->host->now(dc->host->ctx);
  bool newly = need && !q->irq_owed;
  if (newly) {
    q->irq_owed = true;
    q->irq_due = now + time;
  }
  if (q->irq_owed && (q->irq_completions >= count || now >= q->irq_due)) {
    q->irq_owed = false;
    q->irq_completions = 0;
    dc->host->interrupt(dc->host->ctx, i);
    return;
  }
  /* observers learn what the device owes and by when (checker: the held
   * interrupt is not a missed one, and must come by then) */
  if (newly)
    dc->host->event(dc->host->ctx, VSIM_EV_IRQ_HOLD, i, count, q->irq_due,
                    q->irq_completions, 0);
}

/* Keep a popped chain for `latency` units of virtual time. */
static void hold(vsim_devcore *dc, vsim_devq *q, uint16_t i, const vsim_chain *chain) {
  vsim_held *h = &q->held;
  uint32_t slot = (h->head + h->count) % q->cfg.size;
  vsim_chain *c = &h->chain[slot];
  *c = *chain;
  c->seg = h->pool + h->pool_top;
  memcpy(c->seg, chain->seg, (size_t)chain->nseg * sizeof *c->seg);
  h->pool_top += chain->nseg;
  h->due[slot] = dc->host->now(dc->host->ctx) + dc->latency;
  h->count++;
  dc->host->event(dc->host->ctx, VSIM_EV_HOLD, i, chain->head, h->due[slot], 0, 0);
}

/* The device worker: complete the held requests that are due; then, after a
 * kick, suppress further kicks and drain the ring; when it looks empty,
 * re-enable kicks and look once more (the enable/re-check pair closes the
 * lost-kick window B3' of PEERS.md (c)). Work per call is bounded by `budget`. */
static int dc_queue_run(void *be, uint16_t i, uint32_t budget) {
  vsim_devcore *dc = be;
  if (i >= dc->nq) return -1;
  vsim_devq *q = &dc->q[i];
  if (!may_serve(dc, q)) {
    /* a kick the device may not act on yet: the spec says ignore it */
    q->kicked = false;
    q->draining = false;
    return 0;
  }
  if (poll_due(dc, q)) {
    /* a polling device looks at the ring on its own clock: drain what is
     * there, with kicks still off */
    q->next_poll = dc->host->now(dc->host->ctx) + dc->poll_period;
    q->draining = true;
    dc->host->event(dc->host->ctx, VSIM_EV_POLL, i, q->next_poll, 0, 0, 0);
  }
  int done = 0;
  bool broken = false;
  if (q->receive) {
    done = serve_parked(dc, q, i, budget);
    if (done < 0) {
      done = 0;
      broken = true;
    }
  }
  vsim_held *h = &q->held;
  while (!broken && (uint32_t)done < budget && held_due(dc, q)) {
    if (complete(dc, i, &h->chain[h->head]) < 0) {
      broken = true;
      break;
    }
    h->head = (h->head + 1) % q->cfg.size;
    if (--h->count == 0) h->pool_top = 0;
    done++;
  }
  if (q->kicked && !broken) {
    q->kicked = false;
    if (!q->draining) {
      q->draining = true;
      if (!dc->poll_period) ring_set_notify(q, false);
    }
  }
  while (!broken && q->draining && (uint32_t)done < budget && can_hold(dc, q)) {
    vsim_chain chain;
    int r = ring_pop(q, &chain);
    if (r < 0) {
      broken = true;
      break;
    }
    if (r == 0) {
      if (dc->poll_period) {
        /* kicks stay off: the next poll looks again */
        q->draining = false;
        break;
      }
      ring_set_notify(q, true);
      int more = ring_more(q);
      if (more > 0) {
        ring_set_notify(q, false);
        continue;
      }
      q->draining = false;
      if (more < 0) broken = true;
      break;
    }
    if (dc->latency && !q->receive) {
      hold(dc, q, i, &chain);
    } else if (complete(dc, i, &chain) < 0) {
      broken = true;
      break;
    }
    done++;
  }
  publish_and_notify(dc, q, i);
  if (broken) {
    q->draining = false;
    vsim_devcore_needs_reset(dc, i);
  }
  return done;
}

const vsim_backend_ops vsim_devcore_ops = {
    .abi_version = VSIM_BACKEND_ABI_VERSION,
    .name = "builtin",
    .destroy = dc_destroy,
    .device_id = dc_device_id,
    .vendor_id = dc_vendor_id,
    .num_queues = dc_num_queues,
    .queue_max_size = dc_queue_max,
    .device_features = dc_device_features,
    .set_driver_features = dc_set_driver_features,
    .get_status = dc_get_status,
    .set_status = dc_set_status,
    .config_generation = dc_config_generation,
    .config_size = dc_config_size,
    .config_read = dc_config_read,
    .config_write = dc_config_write,
    .queue_ready = dc_queue_ready,
    .queue_reset = dc_queue_reset,
    .queue_notify = dc_queue_notify,
    .queue_runnable = dc_queue_runnable,
    .queue_run = dc_queue_run,
    .queue_next_due = dc_queue_next_due,
};
