/* frontend-model/driver.c — the simulated guest driver core (see driver.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include "arena_fast.h"
#include "virtio_compat.h"
#include "driver.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"

#define PAGE 4096u
#define INDIRECT_MAX 32u

static inline bool mut(const vsim_driver *d, unsigned k) { return vsim_mut_has(&d->cfg.mutants, (int)k); }
static inline uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

static uint64_t split_ring_bytes(uint16_t n) {
  uint64_t avail = 16u * n;
  uint64_t used = align_up(avail + 6u + 2u * n, 64);
  return align_up(used + 6u + 8u * n, PAGE);
}

int vsim_driver_create(vsim_driver *d, vsim_drv_transport tr, vsim_arena *arena,
                       const vsim_host *sink, const vsim_driver_config *cfg,
                       vsim_drv_complete_fn complete, void *complete_ctx) {
  memset(d, 0, sizeof *d);
  d->tr = tr;
  d->arena = arena;
  d->sink = sink;
  d->cfg = *cfg;
  d->complete = complete;
  d->complete_ctx = complete_ctx;
  if (cfg->num_queues == 0 || cfg->num_queues > VSIM_DRV_MAX_QUEUES || cfg->queue_size == 0)
    return -1;
  uint16_t n = cfg->queue_size;
  /* The tables are laid out for INDIRECT_DESC the driver would accept; the
   * indirect-not-negotiated mutants lay them out whatever it accepts, and
   * their rings use them whatever was negotiated (vq_*_drv init). */
  bool indirect = ((cfg->accept >> VIRTIO_RING_F_INDIRECT_DESC) & 1u) ||
                  vsim_mut_has(&cfg->mutants, VSIM_MUT_DRV_INDIR_NOT_NEG) ||
                  vsim_mut_has(&cfg->mutants, VSIM_MUT_DRV_PACKED_INDIR_NOT_NEG);
  d->indirect_max = indirect ? INDIRECT_MAX : 0;
  uint64_t size = vsim_arena_size(arena);
  /* page 0 stays unused so that a zero address in a descriptor is always wrong */
  uint64_t pos = PAGE;
  for (uint16_t q = 0; q < cfg->num_queues; q++) {
    d->ring_base[q] = pos;
    pos += split_ring_bytes(n);
    if (indirect) {
      d->indirect_base[q] = pos;
      pos = align_up(pos + (uint64_t)n * INDIRECT_MAX * 16u, PAGE);
    }
    d->req_base[q] = pos;
    pos = align_up(pos + (uint64_t)n * VSIM_DRV_REQ_SLOT, PAGE);
  }
  if (size < VSIM_DRV_SCRATCH_SIZE || pos + PAGE > size - VSIM_DRV_SCRATCH_SIZE) return -1;
  d->scratch_base = size - VSIM_DRV_SCRATCH_SIZE;
  d->pool_base = pos;
  d->pool_units = (d->scratch_base - pos) / VSIM_DRV_POOL_UNIT;
  d->pool_used = calloc(d->pool_units ? d->pool_units : 1, 1);
  return d->pool_used ? 0 : -1;
}

static void drop_queue(vsim_driver *d, uint16_t q);

void vsim_driver_on_stop(vsim_driver *d, vsim_drv_stopped_fn fn, void *ctx) {
  d->stopped = fn;
  d->stopped_ctx = ctx;
}

/* Called after every operation that may stop a queue (reaping, adding,
 * publishing): the device driver hears of it once per set-up of the queue. */
static void note_stop(vsim_driver *d, uint16_t q) {
  if (q >= d->nq || d->stop_told[q] || !vsim_driver_queue_stopped(d, q)) return;
  d->stop_told[q] = true;
  if (d->stopped) d->stopped(d->stopped_ctx, q);
}

static void drop_queues(vsim_driver *d) {
  for (uint16_t q = 0; q < VSIM_DRV_MAX_QUEUES; q++) drop_queue(d, q);
  d->nq = 0;
}

void vsim_driver_destroy(vsim_driver *d) {
  drop_queues(d);
  free(d->pool_used);
  d->pool_used = NULL;
}

/* ---- data pool: first fit over 512-byte units, bounded by the pool size ---- */

uint64_t vsim_driver_alloc(vsim_driver *d, uint64_t len) {
  uint64_t units = (len + VSIM_DRV_POOL_UNIT - 1) / VSIM_DRV_POOL_UNIT;
  if (units == 0) units = 1;
  if (units > d->pool_units) return 0;
  /* start at the hint so that consecutive requests get distinct buffers */
  for (uint64_t pass = 0; pass < 2; pass++) {
    uint64_t start = pass == 0 ? d->pool_hint : 0;
    uint64_t end = pass == 0 ? d->pool_units : d->pool_hint;
    uint64_t run = 0;
    for (uint64_t i = start; i < end; i++) {
      run = d->pool_used[i] ? 0 : run + 1;
      if (run == units) {
        uint64_t first = i + 1 - units;
        memset(d->pool_used + first, 1, units);
        d->pool_hint = (i + 1) % d->pool_units;
        return d->pool_base + first * VSIM_DRV_POOL_UNIT;
      }
    }
  }
  return 0;
}

void vsim_driver_free(vsim_driver *d, uint64_t gpa, uint64_t len) {
  if (gpa < d->pool_base) return;
  uint64_t first = (gpa - d->pool_base) / VSIM_DRV_POOL_UNIT;
  uint64_t units = (len + VSIM_DRV_POOL_UNIT - 1) / VSIM_DRV_POOL_UNIT;
  if (units == 0) units = 1;
  if (first >= d->pool_units || units > d->pool_units - first) return;
  memset(d->pool_used + first, 0, units);
}

/* ---- status and initialisation ---- */

static void status_set(vsim_driver *d, uint8_t s) {
  d->status = s;
  d->tr.ops->set_status(d->tr.t, s);
}

static void status_add(vsim_driver *d, uint8_t bit) { status_set(d, (uint8_t)(d->status | bit)); }

void vsim_driver_reset(vsim_driver *d) {
  status_set(d, 0);
  /* the spec: the reset is complete when status reads back 0; a device that
   * never gets there is reported by the reset checker, the driver moves on */
  if (!mut(d, VSIM_MUT_DRV_RESET_NO_REREAD)) (void)d->tr.ops->get_status(d->tr.t);
  drop_queues(d);
  memset(d->qsize, 0, sizeof d->qsize); /* initialisation sets every queue up anew */
  d->live = false;
  d->failed = false;
  d->needs_reset = false;
  d->features = 0;
}

/* Pick the first feature bit the device did not offer (for the mutant that
 * accepts an unoffered feature). */
static uint64_t unoffered_bit(uint64_t offered) {
  static const unsigned candidates[] = {VIRTIO_F_IN_ORDER, VIRTIO_F_RING_RESET, 38, 23, 3};
  for (unsigned i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
    if (!((offered >> candidates[i]) & 1u)) return UINT64_C(1) << candidates[i];
  return 0;
}

static int fail(vsim_driver *d) {
  /* the spec: SHOULD set FAILED, MUST NOT continue */
  status_add(d, VIRTIO_CONFIG_S_FAILED);
  d->failed = true;
  return -1;
}

uint64_t vsim_driver_core_features(void) {
  return (UINT64_C(1) << VIRTIO_F_VERSION_1) | (UINT64_C(1) << VIRTIO_F_RING_PACKED) |
         (UINT64_C(1) << VIRTIO_RING_F_INDIRECT_DESC) | (UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX) |
         (UINT64_C(1) << VIRTIO_F_NOTIFICATION_DATA) | (UINT64_C(1) << VIRTIO_F_RING_RESET) |
         (UINT64_C(1) << VIRTIO_F_IN_ORDER);
}

static int setup_queue(vsim_driver *d, uint16_t q);

static int setup_queues(vsim_driver *d) {
  for (uint16_t q = 0; q < d->nq; q++)
    if (setup_queue(d, q)) return -1;
  return 0;
}

/* Lay out, initialise and enable one queue (its rings start zeroed). */
static int setup_queue(vsim_driver *d, uint16_t q) {
  uint16_t n = d->qsize[q] ? d->qsize[q] : d->cfg.queue_size;
  {
    uint16_t max = d->tr.ops->queue_max(d->tr.t, q);
    if (max == 0) return -1;
    uint64_t base = d->ring_base[q];
    vsim_vqd_config c = {
        .size = n,
        .desc = base,
        .avail = base + 16u * n,
        .used = align_up(base + 16u * n + 6u + 2u * n, 64),
        .indirect_base = d->indirect_base[q],
        .indirect_max = d->indirect_max,
        .features = d->features,
        .mutants = d->cfg.mutants,
    };
    if (d->packed) {
      /* packed: the descriptor ring, then the driver and the device event
       * suppression structures (4 bytes each, 4-byte aligned) */
      c.avail = base + 16u * n;
      c.used = c.avail + 4;
    }
    if (mut(d, VSIM_MUT_DRV_MISALIGN)) c.used += 1;
    if (d->packed ? vsim_vq_pdrv_init(&d->pvq[q], d->sink, q, &c) : vsim_vq_drv_init(&d->vq[q], d->sink, q, &c))
      return -1;
    d->vq_init[q] = true;
    d->stop_told[q] = false;
    if (d->cfg.poll) {
      if (d->packed) vsim_vq_pdrv_set_callbacks(&d->pvq[q], false);
      else vsim_vq_drv_set_callbacks(&d->vq[q], false);
    }
    vsim_queue_cfg qc = {n, c.desc, c.avail, c.used};
    if (d->tr.ops->queue_enable(d->tr.t, q, &qc)) return -1;
  }
  return 0;
}

static void drop_queue(vsim_driver *d, uint16_t q) {
  if (!d->vq_init[q]) return;
  if (d->packed) vsim_vq_pdrv_fini(&d->pvq[q]);
  else vsim_vq_drv_fini(&d->vq[q]);
  d->vq_init[q] = false;
}

int vsim_driver_queue_reset(vsim_driver *d, uint16_t q) {
  if (q >= d->nq || !d->tr.ops->queue_reset) return -1;
  if (!((d->features >> VIRTIO_F_RING_RESET) & 1u)) return -1;
  int r = d->tr.ops->queue_reset(d->tr.t, q);
  drop_queue(d, q);
  return r;
}

int vsim_driver_queue_enable(vsim_driver *d, uint16_t q, uint16_t size) {
  if (q >= d->nq || d->vq_init[q] || d->failed || size > d->cfg.queue_size) return -1;
  d->qsize[q] = size;
  return setup_queue(d, q);
}

/* The device refused FEATURES_OK for `want`. "The device SHOULD accept any
 * valid subset of features the driver accepts, otherwise it MUST fail to set
 * the FEATURES_OK device status bit": a subset is valid here when it holds
 * only offered bits, VERSION_1 when offered, every requirement the device
 * type's table knows (close_features), and ACCESS_PLATFORM / ORDER_PLATFORM
 * when offered (a device may need those to work at all). A refusal of such a
 * set is feat.dev-accept-subset (SHOULD: a warning), unless the scenario told
 * the device to refuse it (refuse_features, which the built-in models and
 * plugins honour to drive the refusal path). */
static void judge_refusal(vsim_driver *d, uint64_t want) {
  const uint64_t platform = (UINT64_C(1) << VIRTIO_F_ACCESS_PLATFORM) | (UINT64_C(1) << VIRTIO_F_ORDER_PLATFORM);
  const uint64_t v1 = UINT64_C(1) << VIRTIO_F_VERSION_1;
  if (want & ~d->offered) return;
  if (want & d->cfg.refused_on_purpose) return;
  if ((d->offered & v1) && !(want & v1)) return;
  if ((d->offered & platform) & ~want) return;
  if (d->cfg.close_features && d->cfg.close_features(want) != want) return;
  char msg[VSIM_VIOLATION_DETAIL_MAX];
  snprintf(msg, sizeof msg, "FEATURES_OK refused for 0x%016llx, a valid subset of the offered 0x%016llx",
           (unsigned long long)want, (unsigned long long)d->offered);
  d->sink->violation(d->sink->ctx, VSIM_CHK_FEAT_DEV_ACCEPT_SUBSET, -1, msg);
}

int vsim_driver_init(vsim_driver *d, bool until_driver_ok) {
  /* the transport identifies the device before anything else (virtio-mmio:
   * MagicValue and Version first), then the generic sequence's reset */
  if (!d->tr.ops->probe(d->tr.t)) {
    vsim_driver_reset(d);
    return fail(d);
  }
  vsim_driver_reset(d);
  if (mut(d, VSIM_MUT_DRV_SKIP_ACK)) {
    status_set(d, VIRTIO_CONFIG_S_DRIVER);
  } else {
    status_add(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    if (mut(d, VSIM_MUT_DRV_CLEAR_BIT))
      status_set(d, VIRTIO_CONFIG_S_DRIVER); /* drops ACKNOWLEDGE */
    else
      status_add(d, VIRTIO_CONFIG_S_DRIVER);
  }
  d->offered = d->tr.ops->get_features(d->tr.t);
  if (mut(d, VSIM_MUT_DRV_CONFIG_EARLY_WRITE)) {
    uint8_t zero = 0;
    d->tr.ops->config_write(d->tr.t, 0, &zero, 1); /* the spec: MAY read, MUST NOT write, here */
  }
  if (d->cfg.before_features_ok) d->cfg.before_features_ok(d->cfg.hook_ctx);
  uint64_t want = d->offered & d->cfg.accept & d->cfg.understood;
  /* the spec: a driver MUST accept VERSION_1 when offered */
  if ((d->offered >> VIRTIO_F_VERSION_1) & 1u) want |= UINT64_C(1) << VIRTIO_F_VERSION_1;
  if (mut(d, VSIM_MUT_DRV_REJECT_VERSION1)) want &= ~(UINT64_C(1) << VIRTIO_F_VERSION_1);
  if (d->cfg.close_features && !mut(d, VSIM_MUT_DRV_NET_FEATURE_DEPS)) want = d->cfg.close_features(want);
  if (mut(d, VSIM_MUT_DRV_ACCEPT_UNOFFERED)) want |= unoffered_bit(d->offered);
  /* a net driver that leaves NOTF_COAL out yet sends its commands (net_drv.c judges them) */
  if (mut(d, VSIM_MUT_DRV_NET_COAL_UNNEGOTIATED)) want &= ~(UINT64_C(1) << VIRTIO_NET_F_NOTF_COAL);
  d->features = want;
  d->tr.ops->set_features(d->tr.t, want);
  status_add(d, VIRTIO_CONFIG_S_FEATURES_OK);
  if (mut(d, VSIM_MUT_DRV_FEATURES_LATE))
    d->tr.ops->set_features(d->tr.t, want | unoffered_bit(d->offered | want));
  if (!mut(d, VSIM_MUT_DRV_NO_REREAD)) {
    uint8_t st = d->tr.ops->get_status(d->tr.t);
    /* a refusal is a status that still shows what the driver wrote before
     * (ACKNOWLEDGE, DRIVER) without FEATURES_OK; a read that shows none of
     * it (a refused access reads 0) says nothing of the features */
    const uint8_t before = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
    if (!(st & VIRTIO_CONFIG_S_FEATURES_OK) && (st & before) == before) judge_refusal(d, want);
    if (!(st & VIRTIO_CONFIG_S_FEATURES_OK) && !mut(d, VSIM_MUT_DRV_IGNORE_REFUSAL))
      return fail(d);
  }
  d->nq = d->cfg.num_queues;
  /* without the device type's multiqueue feature there is one queue (N = 1) */
  if (d->cfg.mq_feature >= 0 && !((d->features >> d->cfg.mq_feature) & 1u)) d->nq = 1;
  d->packed = (d->features >> VIRTIO_F_RING_PACKED) & 1u;
  if (setup_queues(d)) return fail(d);
  if (mut(d, VSIM_MUT_DRV_EARLY_KICK)) vsim_driver_notify(d, 0, vsim_driver_notify_value(d, 0));
  if (!until_driver_ok) return 0;
  return vsim_driver_set_driver_ok(d);
}

int vsim_driver_set_driver_ok(vsim_driver *d) {
  if (d->failed) return -1;
  status_add(d, VIRTIO_CONFIG_S_DRIVER_OK);
  uint8_t st = d->tr.ops->get_status(d->tr.t);
  if (st & VIRTIO_CONFIG_S_NEEDS_RESET) d->needs_reset = true;
  d->live = (st & VIRTIO_CONFIG_S_DRIVER_OK) != 0;
  return d->live ? 0 : -1;
}

uint64_t vsim_driver_config_read(vsim_driver *d, uint32_t off, unsigned width) {
  /* the spec's generation loop; bounded, a device that keeps changing the
   * generation gets the last read */
  uint8_t b[8] = {0};
  if (mut(d, VSIM_MUT_DRV_CONFIG_NO_GENERATION)) {
    d->tr.ops->config_read(d->tr.t, off, b, width);
    uint64_t v = 0;
    for (unsigned i = 0; i < width && i < 8; i++) v |= (uint64_t)b[i] << (8 * i);
    return v;
  }
  for (int tries = 0; tries < 8; tries++) {
    uint32_t before = d->tr.ops->config_generation(d->tr.t);
    d->tr.ops->config_read(d->tr.t, off, b, width);
    if (d->tr.ops->config_generation(d->tr.t) == before) break;
  }
  uint64_t v = 0;
  for (unsigned i = 0; i < width && i < 8; i++) v |= (uint64_t)b[i] << (8 * i);
  return v;
}

/* ---- data path ---- */

void vsim_driver_notify(vsim_driver *d, uint16_t q, uint32_t value) {
  d->kicks++;
  d->tr.ops->notify(d->tr.t, q, value);
}

void vsim_driver_kick_if_needed(vsim_driver *d, uint16_t q) {
  if (q >= d->nq || !d->vq_init[q]) return;
  bool need = d->packed ? vsim_vq_pdrv_kick_prepare(&d->pvq[q]) : vsim_vq_drv_kick_prepare(&d->vq[q]);
  if (need) vsim_driver_notify(d, q, vsim_driver_notify_value(d, q));
  note_stop(d, q);
}

uint32_t vsim_driver_notify_value(const vsim_driver *d, uint16_t q) {
  uint32_t value = q;
  if (q < d->nq && d->vq_init[q] && ((d->features >> VIRTIO_F_NOTIFICATION_DATA) & 1u)) {
    /* next_off (15 bits) and next_wrap: where the next available entry goes */
    uint32_t off, wrap;
    if (d->packed) {
      off = d->pvq[q].next_avail;
      wrap = d->pvq[q].avail_wrap;
    } else {
      /* the published avail.idx, read back from the driver's own ring (a raw
       * scenario op may have written it directly) */
      uint16_t idx = (uint16_t)d->vq[q].avail_idx;
      vsim_arena_get16(d->arena, VSIM_SIDE_DRIVER, d->vq[q].avail + 2, &idx);
      off = idx & 0x7fffu;
      wrap = (idx >> 15) & 1u;
    }
    if (mut(d, VSIM_MUT_DRV_NOTIFY_DATA)) off = (off + 1) & 0x7fffu;
    value |= (off << 16) | (wrap << 31);
  }
  return value;
}

int vsim_driver_submit(vsim_driver *d, uint16_t q, const vsim_seg *segs, unsigned nout,
                       unsigned nin, uint64_t token) {
  if (q >= d->nq || !d->vq_init[q] || d->failed || d->needs_reset) return -1;
  int head = d->packed ? vsim_vq_pdrv_add(&d->pvq[q], segs, nout, nin, token)
                       : vsim_vq_drv_add(&d->vq[q], segs, nout, nin, token);
  if (head < 0) {
    note_stop(d, q);
    return head;
  }
  if (d->batching)
    d->kick_owed |= UINT64_C(1) << q; /* q < VSIM_DRV_MAX_QUEUES = 64 */
  else
    vsim_driver_kick_if_needed(d, q);
  return head;
}

bool vsim_driver_shape_next(vsim_driver *d, uint16_t q, uint16_t direct, bool write) {
  if (q >= d->nq || !d->vq_init[q] || d->packed) return false;
  return vsim_vq_drv_shape_next(&d->vq[q], direct, write);
}

void vsim_driver_batch_begin(vsim_driver *d) { d->batching = true; }

void vsim_driver_batch_end(vsim_driver *d) {
  d->batching = false;
  for (uint16_t q = 0; q < VSIM_DRV_MAX_QUEUES && d->kick_owed; q++) {
    if (!((d->kick_owed >> q) & 1u)) continue;
    d->kick_owed &= ~(UINT64_C(1) << q);
    vsim_driver_kick_if_needed(d, q);
  }
}

static unsigned reap(vsim_driver *d, uint16_t q) {
  unsigned n = 0;
  /* bounded: at most what is in flight, and the ring rejects bogus indices */
  for (uint32_t guard = 0; guard <= d->cfg.queue_size; guard++) {
    uint64_t token;
    uint32_t len;
    int r = d->packed ? vsim_vq_pdrv_get_used(&d->pvq[q], &token, &len)
                      : vsim_vq_drv_get_used(&d->vq[q], &token, &len);
    if (r != 1) break;
    n++;
    if (d->complete) d->complete(d->complete_ctx, q, token, len);
  }
  note_stop(d, q);
  return n;
}

unsigned vsim_driver_poll(vsim_driver *d, uint16_t q) {
  if (q >= d->nq || !d->vq_init[q]) return 0;
  return reap(d, q);
}

bool vsim_driver_irq_pending(vsim_driver *d) {
  return d->tr.ops->pending_interrupts(d->tr.t) != 0;
}

void vsim_driver_handle_irq(vsim_driver *d) {
  uint32_t isr = d->tr.ops->take_interrupts(d->tr.t);
  /* drv.combined-irq-queue-only: one interrupt for both is taken for the
   * queues' alone (pci.drv-combined-irq) */
  bool both = (isr & VIRTIO_MMIO_INT_CONFIG) && (isr & VIRTIO_MMIO_INT_VRING);
  if (both && mut(d, VSIM_MUT_DRV_COMBINED_IRQ_QUEUE_ONLY)) isr &= ~(uint32_t)VIRTIO_MMIO_INT_CONFIG;
  if (isr & VIRTIO_MMIO_INT_CONFIG) {
    uint8_t st = d->tr.ops->get_status(d->tr.t);
    if (st & VIRTIO_CONFIG_S_NEEDS_RESET) d->needs_reset = true;
  }
  if (isr & VIRTIO_MMIO_INT_VRING)
    for (uint16_t q = 0; q < d->nq; q++)
      if (d->vq_init[q]) reap(d, q);
}

uint32_t vsim_driver_queue_inflight(const vsim_driver *d, uint16_t q) {
  if (vsim_driver_queue_broken(d, q)) return 0;
  return d->packed ? d->pvq[q].inflight : d->vq[q].inflight;
}

bool vsim_driver_queue_used_pending(vsim_driver *d, uint16_t q) {
  if (vsim_driver_queue_inflight(d, q) == 0) return false;
  if (d->packed) return vsim_vq_pdrv_used_pending(&d->pvq[q]);
  uint16_t idx;
  return vsim_arena_get16(d->arena, VSIM_SIDE_DRIVER, d->vq[q].used + 2, &idx) == 0 &&
         idx != (uint16_t)d->vq[q].last_used;
}

bool vsim_driver_used_pending(vsim_driver *d) {
  for (uint16_t q = 0; q < d->nq; q++)
    if (vsim_driver_queue_used_pending(d, q)) return true;
  return false;
}

uint32_t vsim_driver_inflight(const vsim_driver *d) {
  uint32_t n = 0;
  for (uint16_t q = 0; q < d->nq; q++) n += vsim_driver_queue_inflight(d, q);
  return n;
}

/* ---- ring room ---- */

unsigned vsim_driver_max_segs(const vsim_driver *d) {
  /* an indirect table counts toward the chain length: it may not hold more
   * descriptors than the queue size either */
  bool indirect = (d->features >> VIRTIO_RING_F_INDIRECT_DESC) & 1u;
  unsigned n = d->cfg.queue_size;
  if (indirect && d->indirect_max && d->indirect_max < n) n = d->indirect_max;
  return n;
}

bool vsim_driver_has_room(const vsim_driver *d, uint16_t q, unsigned segs) {
  if (q >= d->nq || !d->vq_init[q]) return false;
  if (d->packed) {
    const vsim_vq_pdrv *vq = &d->pvq[q];
    unsigned need = (vq->indirect && vq->indirect_base && segs > 1 && segs <= vq->indirect_max &&
                     segs <= vq->size) ? 1 : segs;
    return vq->nfree_ids > 0 && vq->num_free >= need;
  }
  const vsim_vq_drv *vq = &d->vq[q];
  unsigned need = (vq->indirect && vq->indirect_base && segs > 1 && segs <= vq->indirect_max &&
                   segs <= vq->size) ? 1 : segs;
  return vq->num_free >= need;
}

bool vsim_driver_queue_broken(const vsim_driver *d, uint16_t q) {
  if (q >= d->nq || !d->vq_init[q]) return true;
  return d->packed ? d->pvq[q].broken : d->vq[q].broken;
}

bool vsim_driver_queue_stopped(const vsim_driver *d, uint16_t q) {
  return q < d->nq && d->vq_init[q] && vsim_driver_queue_broken(d, q);
}

int vsim_driver_audit(const vsim_driver *d, char *msg, size_t n) {
  for (uint16_t q = 0; q < d->nq; q++) {
    if (!d->vq_init[q]) continue;
    char what[256];
    int r = d->packed ? vsim_vq_pdrv_audit(&d->pvq[q], what, sizeof what)
                      : vsim_vq_drv_audit(&d->vq[q], what, sizeof what);
    if (r) {
      if (msg && n) snprintf(msg, n, "queue %u: %s", q, what);
      return -1;
    }
  }
  return 0;
}
