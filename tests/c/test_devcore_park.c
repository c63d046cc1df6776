/* tests/c/test_devcore_park.c — device-held receive buffers in the device core.
 *
 * Owns: the park / wake / host-input path of devcore.h with a tiny fake
 * model whose queue 0 is a receive queue (it fills buffers from a byte FIFO
 * and defers when the FIFO is empty) and whose queue 1 is not (a deferral
 * there is a model error: DEVICE_NEEDS_RESET). Split ring written by hand:
 * buffers stay parked (no used element) until input arrives; they are
 * filled in pop order; a buffer popped while others are parked is parked
 * behind them; a device reset and a queue reset drop what was parked; the
 * parked count never exceeds the queue size. Chains the model marks as one
 * unit (vsim_devcore_use_together) are used in one publish past the budget;
 * per-queue coalescing (vsim_devcore_set_coalesce) holds and releases
 * interrupts, and a change releases a held one.
 * Never: depends on the driver model, the transport or the scheduler.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include "devcore.h"
#include "testutil.h"

#define BIT(b) (UINT64_C(1) << (b))
#define ARENA_SIZE (UINT64_C(1) << 20)
#define SIZE 4u
#define DESC(q) (0x1000u + 0x1000u * (q))
#define AVAIL(q) (DESC(q) + 0x100u)
#define USED(q) (DESC(q) + 0x200u)
#define BUF 0x10000u

typedef struct fake {
  vsim_devcore core;
  uint8_t fifo[64];
  uint32_t n;
  bool defer_on_tx; /* defer on queue 1 (not a receive queue): a model error */
  uint32_t together; /* the next receive buffer filled starts a unit of this many more */
} fake;

static bool f_rx(void *m, uint16_t q) { return q == 0; }
static bool f_ok(void *m, uint64_t f) { return true; }

static int f_request(void *m, uint16_t q, const vsim_chain *c, uint32_t *used) {
  fake *f = m;
  if (q == 1) return f->defer_on_tx ? VSIM_DEVMODEL_DEFER : 0;
  if (!f->n) return VSIM_DEVMODEL_DEFER;
  uint32_t k = f->n < c->wr_bytes ? f->n : (uint32_t)c->wr_bytes;
  if (vsim_chain_write(c, f->core.host->arena, 0, f->fifo, k)) return -1;
  memmove(f->fifo, f->fifo + k, f->n - k);
  f->n -= k;
  *used = k;
  if (f->together) vsim_devcore_use_together(&f->core, q, f->together);
  f->together = 0;
  return 0;
}

static int64_t f_input(void *m, uint32_t target, const uint8_t *d, uint32_t len, uint16_t *q, char *err,
                       unsigned errlen) {
  fake *f = m;
  if (target != 0) {
    snprintf(err, errlen, "no input %u", target);
    return -1;
  }
  uint32_t k = len < sizeof f->fifo - f->n ? len : (uint32_t)sizeof f->fifo - f->n;
  memcpy(f->fifo + f->n, d, k);
  f->n += k;
  *q = 0;
  vsim_devcore_wake(&f->core, 0);
  return k;
}

static const vsim_devmodel_ops fake_ops = {
    .features_ok = f_ok, .request = f_request, .receive_queue = f_rx, .host_input = f_input};

typedef struct rec {
  int nused, nviol, npublish, nirq, nhold;
  uint16_t used_id[32];
  uint32_t used_len[32];
} rec;

static void h_irq(void *ctx, uint16_t q) { ((rec *)ctx)->nirq++; }
static void h_cfg(void *ctx) {}
static uint64_t h_now(void *ctx) { return 0; }
static void h_viol(void *ctx, int check, int q, const char *d) { ((rec *)ctx)->nviol++; }
static void h_event(void *ctx, int kind, int q, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  rec *r = ctx;
  if (kind == VSIM_EV_USED_PUBLISH) r->npublish++;
  if (kind == VSIM_EV_IRQ_HOLD) r->nhold++;
  if (kind == VSIM_EV_USED && r->nused < 32) {
    r->used_id[r->nused] = (uint16_t)a;
    r->used_len[r->nused] = (uint32_t)b;
    r->nused++;
  }
}

typedef struct fx {
  vsim_arena *a;
  rec r;
  vsim_host host;
  fake m;
  uint16_t next[2];
} fx;

static void fx_queue(fx *f, uint16_t q) {
  vsim_queue_cfg qc = {SIZE, DESC(q), AVAIL(q), USED(q)};
  CHECK_EQ(vsim_devcore_ops.queue_ready(&f->m.core, q, &qc), 0);
}

static void fx_open(fx *f) {
  memset(f, 0, sizeof *f);
  f->a = vsim_arena_new(ARENA_SIZE);
  f->host = (vsim_host){&f->r, f->a, h_irq, h_cfg, h_viol, h_event, h_now};
  vsim_backend_params p = {.host = &f->host, .num_queues = 2};
  char err[128];
  CHECK_EQ(vsim_devcore_init(&f->m.core, &p, 3, BIT(VIRTIO_F_VERSION_1), 4, &fake_ops, &f->m, err, sizeof err), 0);
  void *be = &f->m.core;
  vsim_devcore_ops.set_status(be, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
  vsim_devcore_ops.set_driver_features(be, BIT(VIRTIO_F_VERSION_1));
  vsim_devcore_ops.set_status(be, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
  fx_queue(f, 0);
  fx_queue(f, 1);
  vsim_devcore_ops.set_status(be, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                                      VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

static void fx_close(fx *f) {
  vsim_devcore_fini(&f->m.core);
  vsim_arena_free(f->a);
}

/* One device-writable buffer of `len` bytes on queue q (descriptor = slot). */
static void post(fx *f, uint16_t q, uint32_t len) {
  uint16_t head = f->next[q] % SIZE;
  uint64_t d = DESC(q) + 16u * head;
  vsim_arena_write64(f->a, VSIM_SIDE_DRIVER, d, BUF + 0x1000u * q + 0x100u * head);
  vsim_arena_write32(f->a, VSIM_SIDE_DRIVER, d + 8, len);
  vsim_arena_write16(f->a, VSIM_SIDE_DRIVER, d + 12, VRING_DESC_F_WRITE);
  vsim_arena_write16(f->a, VSIM_SIDE_DRIVER, AVAIL(q) + 4 + 2u * head, head);
  f->next[q]++;
  vsim_arena_write16(f->a, VSIM_SIDE_DRIVER, AVAIL(q) + 2, f->next[q]);
  vsim_devcore_ops.queue_notify(&f->m.core, q, q);
}

static void run(fx *f, uint16_t q) {
  for (int guard = 0; guard < 16 && vsim_devcore_ops.queue_runnable(&f->m.core, q); guard++)
    CHECK(vsim_devcore_ops.queue_run(&f->m.core, q, 16) >= 0);
}

static void input(fx *f, const char *s) {
  uint16_t q = 9;
  uint32_t took = 0;
  char err[64];
  CHECK_EQ(vsim_devcore_host_input(&f->m.core, 0, (const uint8_t *)s, (uint32_t)strlen(s), &q, &took, err,
                                   sizeof err),
           0);
  CHECK_EQ(q, 0);
  CHECK_EQ(took, strlen(s));
}

/* Buffers wait for input, then are filled oldest first; the model is asked
 * again only after a wake. */
static void test_park_then_fill_in_order(void) {
  fx f;
  fx_open(&f);
  post(&f, 0, 4);
  post(&f, 0, 4);
  run(&f, 0);
  CHECK_EQ(f.r.nused, 0);
  CHECK_EQ(vsim_devcore_parked(&f.m.core, 0), 2);
  CHECK(!vsim_devcore_ops.queue_runnable(&f.m.core, 0)); /* nothing to do until data comes */
  input(&f, "abcdef");
  CHECK(vsim_devcore_ops.queue_runnable(&f.m.core, 0));
  run(&f, 0);
  CHECK_EQ(f.r.nused, 2);
  CHECK_EQ(f.r.used_id[0], 0);
  CHECK_EQ(f.r.used_len[0], 4);
  CHECK_EQ(f.r.used_id[1], 1);
  CHECK_EQ(f.r.used_len[1], 2);
  uint8_t got[4];
  CHECK_EQ(vsim_arena_read(f.a, VSIM_SIDE_DRIVER, BUF, got, 4), 0);
  CHECK(memcmp(got, "abcd", 4) == 0);
  CHECK_EQ(vsim_devcore_parked(&f.m.core, 0), 0);
  /* a later buffer with data waiting: served at once */
  input(&f, "xy");
  post(&f, 0, 8);
  run(&f, 0);
  CHECK_EQ(f.r.nused, 3);
  CHECK_EQ(f.r.used_len[2], 2);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

/* A whole ring of parked buffers: the count stays at the queue size, and
 * the device takes new ones as parked ones are used. */
static void test_bounded_by_queue_size(void) {
  fx f;
  fx_open(&f);
  for (unsigned i = 0; i < SIZE; i++) post(&f, 0, 1);
  run(&f, 0);
  CHECK_EQ(vsim_devcore_parked(&f.m.core, 0), SIZE);
  input(&f, "12");
  run(&f, 0);
  CHECK_EQ(f.r.nused, 2);
  CHECK_EQ(vsim_devcore_parked(&f.m.core, 0), SIZE - 2);
  post(&f, 0, 1);
  run(&f, 0);
  CHECK_EQ(vsim_devcore_parked(&f.m.core, 0), SIZE - 1);
  input(&f, "345");
  run(&f, 0);
  CHECK_EQ(f.r.nused, 5);
  CHECK_EQ(f.r.used_id[2], 2); /* pop order: 2, 3, then the re-posted slot 0 */
  CHECK_EQ(f.r.used_id[3], 3);
  CHECK_EQ(f.r.used_id[4], 0);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

/* A device reset and a queue reset drop parked buffers: they are never used. */
static void test_reset_drops(void) {
  fx f;
  fx_open(&f);
  post(&f, 0, 4);
  run(&f, 0);
  CHECK_EQ(vsim_devcore_parked(&f.m.core, 0), 1);
  vsim_devcore_ops.queue_reset(&f.m.core, 0);
  CHECK_EQ(vsim_devcore_parked(&f.m.core, 0), 0);
  input(&f, "z");
  CHECK(!vsim_devcore_ops.queue_runnable(&f.m.core, 0));
  CHECK_EQ(f.r.nused, 0);
  vsim_devcore_ops.set_status(&f.m.core, 0);
  CHECK_EQ(vsim_devcore_parked(&f.m.core, 0), 0);
  fx_close(&f);
}

/* Deferring on a queue that is not a receive queue is the model's error. */
static void test_defer_elsewhere_is_broken(void) {
  fx f;
  fx_open(&f);
  f.m.defer_on_tx = true;
  post(&f, 1, 4);
  run(&f, 1);
  CHECK(vsim_devcore_ops.get_status(&f.m.core) & VIRTIO_CONFIG_S_NEEDS_RESET);
  CHECK(!vsim_devcore_receive_queue(&f.m.core, 1));
  CHECK(vsim_devcore_receive_queue(&f.m.core, 0));
  char err[64];
  uint16_t q;
  uint32_t took;
  CHECK_EQ(vsim_devcore_host_input(&f.m.core, 7, (const uint8_t *)"a", 1, &q, &took, err, sizeof err), -1);
  fx_close(&f);
}

/* Three parked buffers the model marks as one unit: a worker call with a
 * budget of 1 uses all three, and publishes once. */
static void test_use_together_passes_budget(void) {
  fx f;
  fx_open(&f);
  for (int i = 0; i < 3; i++) post(&f, 0, 2);
  run(&f, 0);
  CHECK_EQ(vsim_devcore_parked(&f.m.core, 0), 3);
  f.m.together = 2;
  input(&f, "abcdef");
  const int pub = f.r.npublish;
  CHECK_EQ(vsim_devcore_ops.queue_run(&f.m.core, 0, 1), 3);
  CHECK_EQ(f.r.nused, 3);
  CHECK_EQ(f.r.npublish, pub + 1);
  /* without a unit the budget holds: one per call */
  for (int i = 0; i < 2; i++) post(&f, 0, 2);
  run(&f, 0);
  input(&f, "ghij");
  CHECK_EQ(vsim_devcore_ops.queue_run(&f.m.core, 0, 1), 1);
  CHECK_EQ(f.r.nused, 4);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

/* Per-queue coalescing: one interrupt per two completions; a held one goes
 * when the parameters change. */
static void test_set_coalesce(void) {
  fx f;
  fx_open(&f);
  vsim_devcore_set_coalesce(&f.m.core, 1, 2, 100);
  post(&f, 1, 1);
  run(&f, 1);
  CHECK_EQ(f.r.nirq, 0);
  CHECK_EQ(f.r.nhold, 1);
  post(&f, 1, 1);
  run(&f, 1);
  CHECK_EQ(f.r.nirq, 1);
  post(&f, 1, 1);
  run(&f, 1);
  CHECK_EQ(f.r.nirq, 1); /* held again */
  vsim_devcore_set_coalesce(&f.m.core, 1, 0, 0);
  CHECK(vsim_devcore_ops.queue_runnable(&f.m.core, 1));
  run(&f, 1);
  CHECK_EQ(f.r.nirq, 2);
  post(&f, 1, 1);
  run(&f, 1);
  CHECK_EQ(f.r.nirq, 3); /* count 0: every completion */
  CHECK_EQ(f.r.nhold, 2);
  /* a device reset drops the queue's own parameters: back to the device's (none) */
  vsim_devcore_set_coalesce(&f.m.core, 1, 2, 100);
  vsim_devcore_ops.set_status(&f.m.core, 0);
  CHECK(!f.m.core.coal[1].set);
  fx_close(&f);
}

int main(void) {
  RUN(test_park_then_fill_in_order);
  RUN(test_bounded_by_queue_size);
  RUN(test_reset_drops);
  RUN(test_defer_elsewhere_is_broken);
  RUN(test_use_together_passes_budget);
  RUN(test_set_coalesce);
  TEST_MAIN_END();
}
