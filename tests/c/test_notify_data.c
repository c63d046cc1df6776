/* tests/c/test_notify_data.c — VIRTIO_F_NOTIFICATION_DATA through the device core.
 *
 * Owns: the path a notification value takes from the backend ops
 * (queue_notify) to the ring, on both layouts, with the built-in blk device
 * and rings written by hand in an arena: a notify naming a queue the device
 * does not have is ignored; bits 16-31 reach the ring only when the feature
 * was negotiated and the queue is live; a value that claims more than the
 * ring shows is the driver's NOTIFY_DATA violation, reported by the device's
 * worker, which keeps the queue working; a correct value changes nothing the
 * driver can see. The ring-level rules themselves are tested in
 * test_vq_split_dev.c and test_vq_packed_dev.c.
 * Never: depends on the driver model, the transport or the scheduler.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include "blk.h"
#include "devcore.h"
#include "testutil.h"
#include "virtio_compat.h"
#include "virtiosim/checks.h"

#define BIT(b) (UINT64_C(1) << (b))
#define ARENA_SIZE (UINT64_C(1) << 20)
#define RING_DESC 0x1000u  /* split table / packed ring */
#define RING_AVAIL 0x2000u /* split avail / packed driver event structure */
#define RING_USED 0x3000u  /* split used / packed device event structure */
#define HDR 0x10000u
#define STATUS 0x11000u
#define SIZE 8u

typedef struct rec {
  int nviol, viol[16];
  char detail[VSIM_VIOLATION_DETAIL_MAX];
} rec;

static void h_interrupt(void *ctx, uint16_t q) {}
static void h_config_changed(void *ctx) {}
static uint64_t h_now(void *ctx) { return 0; }
static void h_violation(void *ctx, int check, int q, const char *detail) {
  rec *r = ctx;
  if (r->nviol < 16) r->viol[r->nviol] = check;
  r->nviol++;
  snprintf(r->detail, sizeof r->detail, "%s", detail);
}
static void h_event(void *ctx, int kind, int q, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {}

typedef struct fx {
  vsim_arena *a;
  rec r;
  vsim_host host;
  vsim_backend be;
  bool packed;
  uint16_t next; /* the test driver's next avail index (split) / ring offset (packed, wrap 1) */
} fx;

/* A blk device with one queue of SIZE, features negotiated, queue 0 set up;
 * DRIVER_OK only when `live`. */
static void fx_open(fx *f, bool packed, bool notification_data, bool live) {
  memset(f, 0, sizeof *f);
  f->packed = packed;
  f->a = vsim_arena_new(ARENA_SIZE);
  f->host = (vsim_host){&f->r, f->a, h_interrupt, h_config_changed, h_violation, h_event, h_now};
  vsim_backend_params p = {.host = &f->host, .num_queues = 1};
  char err[128];
  CHECK_EQ(vsim_blk_create(&p, &f->be, err, sizeof err), 0);
  const vsim_backend_ops *ops = f->be.ops;
  uint64_t feat = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_FLUSH) |
                  (packed ? BIT(VIRTIO_F_RING_PACKED) : 0) |
                  (notification_data ? BIT(VIRTIO_F_NOTIFICATION_DATA) : 0);
  uint8_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
  ops->set_status(f->be.be, VIRTIO_CONFIG_S_ACKNOWLEDGE);
  ops->set_status(f->be.be, st);
  ops->set_driver_features(f->be.be, feat);
  st |= VIRTIO_CONFIG_S_FEATURES_OK;
  ops->set_status(f->be.be, st);
  CHECK(ops->get_status(f->be.be) & VIRTIO_CONFIG_S_FEATURES_OK);
  vsim_queue_cfg qc = {SIZE, RING_DESC, RING_AVAIL, RING_USED};
  CHECK_EQ(ops->queue_ready(f->be.be, 0, &qc), 0);
  if (live) ops->set_status(f->be.be, st | VIRTIO_CONFIG_S_DRIVER_OK);
}

static void fx_close(fx *f) {
  f->be.ops->destroy(f->be.be);
  vsim_arena_free(f->a);
}

static void w16(fx *f, uint64_t g, uint16_t v) { vsim_arena_write16(f->a, VSIM_SIDE_DRIVER, g, v); }

/* One FLUSH request (header, status), made available at the driver's next
 * position: a two-descriptor chain (split: head = 2 * k) or list (packed). */
static void add_flush(fx *f) {
  uint64_t hdr = HDR + 0x20u * (f->next % SIZE), status = STATUS + (f->next % SIZE);
  vsim_arena_write32(f->a, VSIM_SIDE_DRIVER, hdr, VIRTIO_BLK_T_FLUSH);
  vsim_arena_write32(f->a, VSIM_SIDE_DRIVER, hdr + 4, 0);
  vsim_arena_write64(f->a, VSIM_SIDE_DRIVER, hdr + 8, 0);
  if (!f->packed) {
    uint16_t head = (uint16_t)((2u * f->next) % SIZE);
    uint64_t d = RING_DESC + 16u * head;
    vsim_arena_write64(f->a, VSIM_SIDE_DRIVER, d, hdr);
    vsim_arena_write32(f->a, VSIM_SIDE_DRIVER, d + 8, 16);
    w16(f, d + 12, VRING_DESC_F_NEXT);
    w16(f, d + 14, (uint16_t)(head + 1));
    vsim_arena_write64(f->a, VSIM_SIDE_DRIVER, d + 16, status);
    vsim_arena_write32(f->a, VSIM_SIDE_DRIVER, d + 24, 1);
    w16(f, d + 28, VRING_DESC_F_WRITE);
    w16(f, RING_AVAIL + offsetof(struct vring_avail, ring) + 2u * (f->next % SIZE), head);
    w16(f, RING_AVAIL + offsetof(struct vring_avail, idx), (uint16_t)(f->next + 1));
    f->next++;
    return;
  }
  /* packed, first lap only (wrap 1): the second descriptor first, then the head's flags */
  const uint16_t av = 1u << VRING_PACKED_DESC_F_AVAIL;
  uint64_t d = RING_DESC + 16u * f->next;
  vsim_arena_write64(f->a, VSIM_SIDE_DRIVER, d + 16, status);
  vsim_arena_write32(f->a, VSIM_SIDE_DRIVER, d + 24, 1);
  w16(f, d + 28, f->next);
  w16(f, d + 30, (uint16_t)(av | VRING_DESC_F_WRITE));
  vsim_arena_write64(f->a, VSIM_SIDE_DRIVER, d, hdr);
  vsim_arena_write32(f->a, VSIM_SIDE_DRIVER, d + 8, 16);
  w16(f, d + 12, f->next);
  w16(f, d + 14, (uint16_t)(av | VRING_DESC_F_NEXT));
  f->next += 2;
}

/* The notify value a correct driver writes: queue 0, its next position. */
static uint32_t value(const fx *f) {
  /* packed: offset | wrap << 15, the wrap counter flipping after the first lap */
  uint16_t next = !f->packed ? f->next
                  : f->next < SIZE ? (uint16_t)(f->next | 0x8000u) : (uint16_t)(f->next - SIZE);
  return (uint32_t)next << 16;
}

static int run(fx *f) {
  int done = 0;
  for (int guard = 0; guard < 16 && f->be.ops->queue_runnable(f->be.be, 0); guard++) {
    int r = f->be.ops->queue_run(f->be.be, 0, 16);
    if (r < 0) return r;
    done += r;
  }
  return done;
}

/* A notify naming a queue the device does not have changes nothing (the
 * transport reports it; the device ignores it), whatever its data says. */
static void test_missing_queue(void) {
  for (int packed = 0; packed < 2; packed++) {
    fx f;
    fx_open(&f, packed, true, true);
    const vsim_backend_ops *ops = f.be.ops;
    add_flush(&f);
    ops->queue_notify(f.be.be, 1, value(&f) | 1u);
    ops->queue_notify(f.be.be, 0xffff, 0xffffffffu);
    CHECK(!ops->queue_runnable(f.be.be, 0));
    CHECK(!ops->queue_runnable(f.be.be, 1));
    CHECK_EQ(f.r.nviol, 0);
    /* queue 0 is untouched and serves the request once notified */
    ops->queue_notify(f.be.be, 0, value(&f));
    CHECK_EQ(run(&f), 1);
    CHECK_EQ(f.r.nviol, 0);
    CHECK_EQ(ops->get_status(f.be.be) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
    fx_close(&f);
  }
}

/* Correct values on both rings: requests complete, nothing reported. */
static void test_correct_values(void) {
  for (int packed = 0; packed < 2; packed++) {
    fx f;
    fx_open(&f, packed, true, true);
    for (int k = 0; k < 3; k++) {
      add_flush(&f);
      add_flush(&f);
      f.be.ops->queue_notify(f.be.be, 0, value(&f));
      f.be.ops->queue_notify(f.be.be, 0, value(&f)); /* again, nothing new: allowed */
      CHECK_EQ(run(&f), 2);
      if (packed && f.next + 4u > SIZE) break; /* add_flush writes the first lap only */
    }
    CHECK_EQ(f.r.nviol, 0);
    if (f.r.nviol) fprintf(stderr, "  (%s ring: %s)\n", packed ? "packed" : "split", f.r.detail);
    fx_close(&f);
  }
}

/* A value that claims more than the ring shows (the first request only is
 * there) and a stale one: the device reports NOTIFY_DATA, ignores the value
 * and keeps serving; the queue is not reset for it. */
static void test_bad_values(void) {
  for (int packed = 0; packed < 2; packed++) {
    fx f;
    fx_open(&f, packed, true, true);
    const vsim_backend_ops *ops = f.be.ops;
    add_flush(&f);
    ops->queue_notify(f.be.be, 0, value(&f) + (2u << 16)); /* two positions too far */
    CHECK_EQ(run(&f), 1);
    CHECK_EQ(f.r.nviol, 1);
    CHECK_EQ(f.r.viol[0], VSIM_CHK_NOTIFY_DATA);
    add_flush(&f);
    ops->queue_notify(f.be.be, 0, value(&f) - (packed ? (4u << 16) : (2u << 16))); /* behind */
    CHECK_EQ(run(&f), 1);
    CHECK_EQ(f.r.nviol, 2);
    CHECK_EQ(f.r.viol[1], VSIM_CHK_NOTIFY_DATA);
    add_flush(&f);
    ops->queue_notify(f.be.be, 0, value(&f));
    CHECK_EQ(run(&f), 1);
    CHECK_EQ(f.r.nviol, 2);
    CHECK_EQ(ops->get_status(f.be.be) & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
    fx_close(&f);
  }
}

/* Without the feature the upper bits are not notification data; on a queue
 * that is not live yet (before DRIVER_OK) there is nothing to hold them
 * against. Neither is judged. */
static void test_not_judged(void) {
  for (int packed = 0; packed < 2; packed++) {
    fx f;
    fx_open(&f, packed, false, true);
    add_flush(&f);
    f.be.ops->queue_notify(f.be.be, 0, 0x7fff0000u);
    CHECK_EQ(run(&f), 1);
    CHECK_EQ(f.r.nviol, 0);
    fx_close(&f);

    fx_open(&f, packed, true, false);
    f.be.ops->queue_notify(f.be.be, 0, 0x7fff0000u);
    CHECK_EQ(run(&f), 0); /* the kick is dropped: not live */
    CHECK_EQ(f.r.nviol, 0);
    fx_close(&f);
  }
}

int main(void) {
  RUN(test_missing_queue);
  RUN(test_correct_values);
  RUN(test_bad_values);
  RUN(test_not_judged);
  TEST_MAIN_END();
}
