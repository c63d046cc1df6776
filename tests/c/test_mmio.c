/* tests/c/test_mmio.c — the device-side virtio-mmio register model (sim/mmio.c)
 * over the real built-in blk backend (backend-model/registry.h).
 *
 * Covers: MagicValue, Version, DeviceID (2 = blk) and VendorID; the device and
 * driver feature windows 0/1 (VERSION_1 is bit 32 → window 1 bit 0); every
 * driver access rule reported with the right check — MMIO_ACCESS_WIDTH (1/2/8
 * byte or unaligned control accesses, bad config widths and alignment),
 * MMIO_WRITE_RO, MMIO_READ_WO, MMIO_UNDEFINED (unknown and legacy offsets,
 * config past its end, undefined InterruptACK bits, QueueReset without
 * RING_RESET), MMIO_QUEUE_SIZE (QueueReady with size 0, above QueueSizeMax,
 * not a power of two; a missing queue), MMIO_QUEUE_LIVE (queue registers
 * while ready; the write is ignored, as a later QueueReady cycle shows),
 * MMIO_NOTIFY_QUEUE (missing or not-ready queue), FEAT_DRV_AFTER_OK (the late
 * value is ignored) — and that the faulty access has no effect; status 0
 * resets InterruptStatus and QueueReady; InterruptACK clears bits; config
 * reads at 0x100 with widths 1/2/4 return the blk capacity little-endian;
 * QueueReset with RING_RESET; a complete well-formed session (every register,
 * every config byte) produces no violation at all.
 * Must never: use the engine (sim.c): the host callbacks here record instead.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "mmio.h"
#include "registry.h"
#include "testutil.h"
#include "virtiosim/arena.h"
#include "virtiosim/checks.h"

/* ---- a recording host ------------------------------------------------------ */

#define MAXREC 4096

typedef struct rec_viol {
  int check, q;
  char detail[VSIM_VIOLATION_DETAIL_MAX];
} rec_viol;

typedef struct rec_event {
  int kind, q;
  uint64_t a, b, c, d;
} rec_event;

typedef struct rec {
  rec_viol viol[MAXREC];
  unsigned nviol;
  rec_event ev[MAXREC];
  unsigned nev;
  unsigned interrupts, config_changes;
  uint64_t clock; /* the virtual time the backend sees: stays 0 here */
} rec;

static void h_interrupt(void *ctx, uint16_t q) { ((rec *)ctx)->interrupts++; }
static void h_config(void *ctx) { ((rec *)ctx)->config_changes++; }
static void h_violation(void *ctx, int check, int q, const char *detail) {
  rec *r = ctx;
  if (r->nviol >= MAXREC) return;
  rec_viol *v = &r->viol[r->nviol++];
  v->check = check;
  v->q = q;
  snprintf(v->detail, sizeof v->detail, "%s", detail ? detail : "");
}
static uint64_t h_now(void *ctx) { return ((rec *)ctx)->clock; }
static void h_event(void *ctx, int kind, int q, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  rec *r = ctx;
  if (r->nev >= MAXREC) return;
  r->ev[r->nev++] = (rec_event){kind, q, a, b, c, d};
}

/* One device under test. */
typedef struct dut {
  rec r;
  vsim_host host;
  vsim_backend_handle be;
  vsim_mmio m;
  bool ok;
} dut;

static dut D; /* big (recorder arrays): static, re-initialised per test */

static bool dut_open_with(const vsim_backend_params *extra, const char *const *keys,
                          const char *const *vals, unsigned nkv) {
  memset(&D, 0, sizeof D);
  D.host = (vsim_host){.ctx = &D.r,
                       .arena = vsim_arena_new(UINT64_C(1) << 20),
                       .interrupt = h_interrupt,
                       .config_changed = h_config,
                       .violation = h_violation,
                       .event = h_event,
                       .now = h_now};
  CHECK(D.host.arena != NULL);
  vsim_backend_params p = {0};
  if (extra) p = *extra;
  p.host = &D.host;
  p.config_keys = keys;
  p.config_values = vals;
  p.config_count = nkv;
  char err[256] = "";
  int rc = vsim_backend_open("blk", &p, &D.be, err, sizeof err);
  if (rc) fprintf(stderr, "  backend open failed: %s\n", err);
  CHECK_EQ(rc, 0);
  if (rc) {
    vsim_arena_free(D.host.arena);
    return false;
  }
  CHECK_EQ(vsim_mmio_init(&D.m, D.be.backend, &D.host, VSIM_MUT_NONE), 0);
  D.ok = true;
  return true;
}

static bool dut_open(void) { return dut_open_with(NULL, NULL, NULL, 0); }

static void dut_close(void) {
  if (!D.ok) return;
  vsim_mmio_fini(&D.m);
  vsim_backend_close(&D.be);
  vsim_arena_free(D.host.arena);
  D.ok = false;
}

static uint32_t rd(uint32_t off) { return vsim_mmio_read(&D.m, off, 4); }
static void wr(uint32_t off, uint32_t v) { vsim_mmio_write(&D.m, off, 4, v); }

/* Forget the recorded violations and events. */
static void clear_rec(void) {
  D.r.nviol = 0;
  D.r.nev = 0;
}

/* Forget the recorded violations only. */
static void clear_viol(void) { D.r.nviol = 0; }

static const char *check_id(int c) {
  const vsim_check_info *i = vsim_check_info_get(c);
  return i ? i->id : "?";
}

/* Exactly one violation since the last clear, of `check`; then forget it. */
static void expect_one_at(int line, int check) {
  bool ok = D.r.nviol == 1 && D.r.viol[0].check == check;
  if (!ok) {
    fprintf(stderr, "  test_mmio.c:%d: want exactly one %s, got %u:", line, check_id(check),
            D.r.nviol);
    for (unsigned i = 0; i < D.r.nviol; i++) fprintf(stderr, " %s", check_id(D.r.viol[i].check));
    fprintf(stderr, "\n");
  }
  CHECK(ok);
  clear_viol();
}
#define EXPECT_ONE(check) expect_one_at(__LINE__, check)

/* At least one violation since the last clear, all of them `check`; then forget them. */
static void expect_only_at(int line, int check) {
  bool ok = D.r.nviol >= 1;
  for (unsigned i = 0; i < D.r.nviol; i++) ok &= D.r.viol[i].check == check;
  if (!ok) {
    fprintf(stderr, "  test_mmio.c:%d: want only %s, got %u:", line, check_id(check), D.r.nviol);
    for (unsigned i = 0; i < D.r.nviol; i++) fprintf(stderr, " %s", check_id(D.r.viol[i].check));
    fprintf(stderr, "\n");
  }
  CHECK(ok);
  clear_viol();
}
#define EXPECT_ONLY(check) expect_only_at(__LINE__, check)

static void expect_none_at(int line) {
  if (D.r.nviol) {
    fprintf(stderr, "  test_mmio.c:%d: want no violation, got %u:", line, D.r.nviol);
    for (unsigned i = 0; i < D.r.nviol; i++)
      fprintf(stderr, " %s (%s)", check_id(D.r.viol[i].check), D.r.viol[i].detail);
    fprintf(stderr, "\n");
  }
  CHECK_EQ(D.r.nviol, 0);
  clear_viol();
}
#define EXPECT_NONE() expect_none_at(__LINE__)

/* The last recorded event of `kind`, or NULL. */
static const rec_event *last_event(int kind) {
  for (unsigned i = D.r.nev; i-- > 0;)
    if (D.r.ev[i].kind == kind) return &D.r.ev[i];
  return NULL;
}

static unsigned count_events(int kind) {
  unsigned n = 0;
  for (unsigned i = 0; i < D.r.nev; i++) n += D.r.ev[i].kind == kind;
  return n;
}

/* ---- well-formed driver sequences ------------------------------------------ */

#define S_ACK VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRV VIRTIO_CONFIG_S_DRIVER
#define S_FOK VIRTIO_CONFIG_S_FEATURES_OK
#define S_DOK VIRTIO_CONFIG_S_DRIVER_OK

static void write_features(uint64_t f) {
  wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
  wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
  wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
  wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

/* ACKNOWLEDGE, DRIVER, features, FEATURES_OK (re-read). */
static void negotiate(uint64_t f) {
  wr(VIRTIO_MMIO_STATUS, S_ACK);
  wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV);
  write_features(f);
  wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK);
  CHECK(rd(VIRTIO_MMIO_STATUS) & S_FOK);
}

static void set_queue_regs(uint32_t size, uint64_t desc, uint64_t avail, uint64_t used) {
  wr(VIRTIO_MMIO_QUEUE_NUM, size);
  wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
  wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
  wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail);
  wr(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(avail >> 32));
  wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used);
  wr(VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(used >> 32));
}

/* Queue 0, size 8, at the README's default layout, then QueueReady 1. */
static void setup_queue0(void) {
  wr(VIRTIO_MMIO_QUEUE_SEL, 0);
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
  set_queue_regs(8, 0x1000, 0x1080, 0x10c0);
  wr(VIRTIO_MMIO_QUEUE_READY, 1);
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 1);
}

static const uint64_t DRV_FEATURES =
    (UINT64_C(1) << VIRTIO_F_VERSION_1) | (UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX);

/* ---- tests ------------------------------------------------------------------ */

static void test_ids(void) {
  if (!dut_open()) return;
  CHECK_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976u);
  CHECK_EQ(rd(VIRTIO_MMIO_VERSION), 2);
  CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
  CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_ID), 2);
  CHECK_EQ(rd(VIRTIO_MMIO_VENDOR_ID), D.be.backend.ops->vendor_id(D.be.backend.be));
  CHECK(rd(VIRTIO_MMIO_VENDOR_ID) != 0);
  CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
  CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
  CHECK_EQ(rd(VIRTIO_MMIO_CONFIG_GENERATION), 0);
  EXPECT_NONE();
  /* every read is traced with its offset, width and value */
  CHECK_EQ(rd(VIRTIO_MMIO_VERSION), 2);
  const rec_event *e = last_event(VSIM_EV_MMIO_READ);
  CHECK(e != NULL);
  if (e) {
    CHECK_EQ(e->a, VIRTIO_MMIO_VERSION);
    CHECK_EQ(e->b, 4);
    CHECK_EQ(e->c, 2);
  }
  wr(VIRTIO_MMIO_QUEUE_SEL, 0);
  e = last_event(VSIM_EV_MMIO_WRITE);
  CHECK(e != NULL && e->a == VIRTIO_MMIO_QUEUE_SEL && e->b == 4 && e->c == 0);
  dut_close();
}

static void test_features(void) {
  if (!dut_open()) return;
  uint64_t dev = D.be.backend.ops->device_features(D.be.backend.be);
  CHECK(dev & (UINT64_C(1) << VIRTIO_F_VERSION_1));
  wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
  uint32_t lo = rd(VIRTIO_MMIO_DEVICE_FEATURES);
  wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
  uint32_t hi = rd(VIRTIO_MMIO_DEVICE_FEATURES);
  wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
  uint32_t w2 = rd(VIRTIO_MMIO_DEVICE_FEATURES);
  CHECK_EQ(lo, (uint32_t)dev);
  CHECK_EQ(hi, (uint32_t)(dev >> 32));
  CHECK_EQ(hi & 1u, 1u); /* VERSION_1: window 1 bit 0 */
  CHECK(lo & (1u << VIRTIO_RING_F_INDIRECT_DESC));
  CHECK(lo & (1u << VIRTIO_RING_F_EVENT_IDX));
  CHECK(lo & (1u << VIRTIO_BLK_F_FLUSH));
  CHECK_EQ(w2, 0);
  wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffffffffu);
  CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
  EXPECT_NONE();

  /* driver windows 0 and 1 build the 64-bit value; window 2 is accepted */
  wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV);
  write_features(DRV_FEATURES | (UINT64_C(1) << VIRTIO_BLK_F_FLUSH));
  CHECK(D.m.driver_features == (DRV_FEATURES | (UINT64_C(1) << VIRTIO_BLK_F_FLUSH)));
  wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
  wr(VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_RING_F_EVENT_IDX); /* rewrite window 0 only */
  CHECK(D.m.driver_features == DRV_FEATURES);
  wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
  wr(VIRTIO_MMIO_DRIVER_FEATURES, 0);
  CHECK(D.m.driver_features == DRV_FEATURES);
  /* FEATURES_OK: the FEATURES event carries both sets */
  wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK);
  CHECK(rd(VIRTIO_MMIO_STATUS) & S_FOK);
  const rec_event *e = last_event(VSIM_EV_FEATURES);
  CHECK(e != NULL && e->a == dev && e->b == DRV_FEATURES);
  EXPECT_NONE();
  dut_close();
}

static void test_access_width(void) {
  if (!dut_open()) return;
  wr(VIRTIO_MMIO_STATUS, S_ACK);
  clear_rec();
  /* control registers: 1, 2 and 8-byte accesses, and unaligned 4-byte ones */
  const unsigned widths[] = {1, 2, 8, 3, 0};
  for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
    CHECK_EQ(vsim_mmio_read(&D.m, VIRTIO_MMIO_STATUS, widths[i]), 0);
    EXPECT_ONE(VSIM_CHK_MMIO_ACCESS_WIDTH);
    vsim_mmio_write(&D.m, VIRTIO_MMIO_STATUS, widths[i], 0);
    EXPECT_ONE(VSIM_CHK_MMIO_ACCESS_WIDTH);
  }
  CHECK_EQ(vsim_mmio_read(&D.m, VIRTIO_MMIO_MAGIC_VALUE, 1), 0); /* not 0x76 */
  EXPECT_ONE(VSIM_CHK_MMIO_ACCESS_WIDTH);
  CHECK_EQ(vsim_mmio_read(&D.m, VIRTIO_MMIO_MAGIC_VALUE + 1, 4), 0);
  EXPECT_ONE(VSIM_CHK_MMIO_ACCESS_WIDTH);
  CHECK_EQ(vsim_mmio_read(&D.m, VIRTIO_MMIO_STATUS + 2, 2), 0);
  EXPECT_ONE(VSIM_CHK_MMIO_ACCESS_WIDTH);
  vsim_mmio_write(&D.m, VIRTIO_MMIO_QUEUE_SEL + 1, 4, 0);
  EXPECT_ONE(VSIM_CHK_MMIO_ACCESS_WIDTH);
  /* the ignored status writes (including "0") did not reset the device */
  CHECK_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK);
  EXPECT_NONE();

  /* config: widths other than 1/2/4, and accesses not aligned to their width */
  const struct {
    uint32_t off;
    unsigned width;
  } bad[] = {{0x100, 8}, {0x100, 3}, {0x100, 0}, {0x101, 2}, {0x102, 4}, {0x103, 4}, {0x105, 2}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_EQ(vsim_mmio_read(&D.m, bad[i].off, bad[i].width), 0);
    EXPECT_ONE(VSIM_CHK_MMIO_ACCESS_WIDTH);
    vsim_mmio_write(&D.m, bad[i].off, bad[i].width, 0xffffffffu);
    EXPECT_ONE(VSIM_CHK_MMIO_ACCESS_WIDTH);
  }
  /* the capacity is still there */
  CHECK_EQ(vsim_mmio_read(&D.m, 0x100, 4), 2048);
  EXPECT_NONE();
  dut_close();
}

static void test_direction(void) {
  if (!dut_open()) return;
  /* read-only registers: writes reported and ignored */
  const uint32_t ro[] = {VIRTIO_MMIO_MAGIC_VALUE,      VIRTIO_MMIO_VERSION,
                         VIRTIO_MMIO_DEVICE_ID,        VIRTIO_MMIO_VENDOR_ID,
                         VIRTIO_MMIO_DEVICE_FEATURES,  VIRTIO_MMIO_QUEUE_NUM_MAX,
                         VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_SHM_LEN_LOW,
                         VIRTIO_MMIO_SHM_LEN_HIGH,     VIRTIO_MMIO_SHM_BASE_LOW,
                         VIRTIO_MMIO_SHM_BASE_HIGH,    VIRTIO_MMIO_CONFIG_GENERATION};
  vsim_mmio_raise(&D.m, VIRTIO_MMIO_INT_VRING);
  for (size_t i = 0; i < sizeof ro / sizeof ro[0]; i++) {
    wr(ro[i], 0x12345678u);
    EXPECT_ONE(VSIM_CHK_MMIO_WRITE_RO);
    CHECK_EQ(D.r.viol[0].q, -1);
  }
  CHECK_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976u);
  CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_ID), 2);
  wr(VIRTIO_MMIO_QUEUE_SEL, 0);
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
  CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING); /* not cleared by the write */
  EXPECT_NONE();

  /* write-only registers: reads reported, return 0, have no effect */
  const uint32_t wo[] = {VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DRIVER_FEATURES,
                         VIRTIO_MMIO_DRIVER_FEATURES_SEL, VIRTIO_MMIO_QUEUE_SEL,
                         VIRTIO_MMIO_QUEUE_NUM,           VIRTIO_MMIO_QUEUE_NOTIFY,
                         VIRTIO_MMIO_INTERRUPT_ACK,       VIRTIO_MMIO_QUEUE_DESC_LOW,
                         VIRTIO_MMIO_QUEUE_DESC_HIGH,     VIRTIO_MMIO_QUEUE_AVAIL_LOW,
                         VIRTIO_MMIO_QUEUE_AVAIL_HIGH,    VIRTIO_MMIO_QUEUE_USED_LOW,
                         VIRTIO_MMIO_QUEUE_USED_HIGH,     VIRTIO_MMIO_SHM_SEL};
  wr(VIRTIO_MMIO_QUEUE_NUM, 8);
  for (size_t i = 0; i < sizeof wo / sizeof wo[0]; i++) {
    CHECK_EQ(rd(wo[i]), 0);
    EXPECT_ONE(VSIM_CHK_MMIO_READ_WO);
  }
  CHECK_EQ(D.m.notifies, 0);                                      /* reading Notify is no kick */
  CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING); /* reading ACK is no ack */
  EXPECT_NONE();
  dut_close();
}

static void test_undefined(void) {
  if (!dut_open()) return;
  /* holes in the layout, and the legacy (version 1) registers */
  const uint32_t undef[] = {0x018, 0x01c, VIRTIO_MMIO_GUEST_PAGE_SIZE, 0x02c,
                            VIRTIO_MMIO_QUEUE_ALIGN, VIRTIO_MMIO_QUEUE_PFN, 0x048, 0x04c,
                            0x054, 0x068, 0x074, 0x088, 0x0a8, 0x0c4, 0x0f8};
  for (size_t i = 0; i < sizeof undef / sizeof undef[0]; i++) {
    CHECK_EQ(rd(undef[i]), 0);
    EXPECT_ONE(VSIM_CHK_MMIO_UNDEFINED);
    wr(undef[i], 1);
    EXPECT_ONE(VSIM_CHK_MMIO_UNDEFINED);
  }
  CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
  EXPECT_NONE();

  /* config space is sizeof(struct virtio_blk_config) bytes: the last byte
   * and the last aligned word are fine, anything past the end is not */
  const uint32_t cfg = (uint32_t)sizeof(struct virtio_blk_config);
  CHECK_EQ(D.be.backend.ops->config_size(D.be.backend.be), cfg);
  (void)vsim_mmio_read(&D.m, 0x100 + cfg - 1, 1);
  (void)vsim_mmio_read(&D.m, 0x100 + cfg - 4, 4);
  EXPECT_NONE();
  const struct {
    uint32_t off;
    unsigned width;
  } past[] = {{0x100 + cfg, 1}, {0x100 + cfg, 4}, {0x100 + cfg + 2, 2}, {0xffc, 4},
              {0xfffffffcu, 4}, {0xffffffffu, 1}};
  for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
    CHECK_EQ(vsim_mmio_read(&D.m, past[i].off, past[i].width), 0);
    EXPECT_ONE(VSIM_CHK_MMIO_UNDEFINED);
    vsim_mmio_write(&D.m, past[i].off, past[i].width, 0);
    EXPECT_ONE(VSIM_CHK_MMIO_UNDEFINED);
  }

  /* InterruptACK with bits other than VRING/CONFIG */
  vsim_mmio_raise(&D.m, VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
  wr(VIRTIO_MMIO_INTERRUPT_ACK, 0x4);
  EXPECT_ONE(VSIM_CHK_MMIO_UNDEFINED);
  CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 3);
  wr(VIRTIO_MMIO_INTERRUPT_ACK, 0x80000001u);
  EXPECT_ONE(VSIM_CHK_MMIO_UNDEFINED);

  /* QueueReset without VIRTIO_F_RING_RESET */
  negotiate(DRV_FEATURES);
  setup_queue0();
  EXPECT_NONE();
  wr(VIRTIO_MMIO_QUEUE_RESET, 1);
  EXPECT_ONE(VSIM_CHK_MMIO_UNDEFINED);
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 1); /* ignored: the queue is untouched */
  CHECK_EQ(count_events(VSIM_EV_QUEUE_RESET), 0);
  EXPECT_NONE();
  dut_close();
}

static void test_queue_size(void) {
  if (!dut_open()) return;
  negotiate(DRV_FEATURES);
  wr(VIRTIO_MMIO_QUEUE_SEL, 0);
  /* never set: size 0 */
  set_queue_regs(0, 0x1000, 0x1080, 0x10c0);
  clear_rec();
  wr(VIRTIO_MMIO_QUEUE_READY, 1);
  EXPECT_ONE(VSIM_CHK_MMIO_QUEUE_SIZE);
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
  CHECK_EQ(count_events(VSIM_EV_QUEUE_READY), 0);
  /* above QueueSizeMax (256): reported (at the write and/or at QueueReady) */
  wr(VIRTIO_MMIO_QUEUE_NUM, 512);
  wr(VIRTIO_MMIO_QUEUE_READY, 1);
  EXPECT_ONLY(VSIM_CHK_MMIO_QUEUE_SIZE);
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
  /* not a power of two, for a split ring */
  wr(VIRTIO_MMIO_QUEUE_NUM, 6);
  wr(VIRTIO_MMIO_QUEUE_READY, 1);
  EXPECT_ONE(VSIM_CHK_MMIO_QUEUE_SIZE);
  CHECK_EQ(D.r.viol[0].q, 0);
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
  CHECK_EQ(count_events(VSIM_EV_QUEUE_READY), 0);
  /* the maximum itself and 1 are fine */
  wr(VIRTIO_MMIO_QUEUE_NUM, 256);
  wr(VIRTIO_MMIO_QUEUE_READY, 1);
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 1);
  wr(VIRTIO_MMIO_QUEUE_READY, 0);
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
  wr(VIRTIO_MMIO_QUEUE_NUM, 1);
  wr(VIRTIO_MMIO_QUEUE_READY, 1);
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 1);
  wr(VIRTIO_MMIO_QUEUE_READY, 0);
  EXPECT_NONE();

  /* mmio.h: a write that breaks an access rule is reported "and then
   * ignored". An oversized QueueSize write after a valid one should leave
   * the valid size in place, so QueueReady then succeeds with size 8. */
  wr(VIRTIO_MMIO_QUEUE_NUM, 8);
  EXPECT_NONE();
  wr(VIRTIO_MMIO_QUEUE_NUM, 257);
  EXPECT_ONE(VSIM_CHK_MMIO_QUEUE_SIZE);
  clear_rec();
  wr(VIRTIO_MMIO_QUEUE_READY, 1);
  if (D.r.nviol == 0 && rd(VIRTIO_MMIO_QUEUE_READY) == 1) {
    const rec_event *ev = last_event(VSIM_EV_QUEUE_READY);
    CHECK(ev != NULL && ev->a == 8);
  } else {
    vsim_test_failures++;
    printf("REGRESSION of a fixed bug: an oversized QueueSize write (257 > QueueSizeMax 256) is reported but "
           "stored, not ignored as mmio.h says: the following QueueReady fails (%u more "
           "violation(s)) instead of enabling the queue with the earlier size 8\n",
           D.r.nviol);
  }
  clear_viol();
  wr(VIRTIO_MMIO_QUEUE_READY, 0);
  EXPECT_NONE();

  /* a queue that does not exist: QueueSizeMax reads 0, its registers are errors */
  clear_rec();
  wr(VIRTIO_MMIO_QUEUE_SEL, 1);
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
  EXPECT_NONE();
  wr(VIRTIO_MMIO_QUEUE_NUM, 8);
  EXPECT_ONE(VSIM_CHK_MMIO_QUEUE_SIZE);
  wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
  EXPECT_ONE(VSIM_CHK_MMIO_QUEUE_SIZE);
  wr(VIRTIO_MMIO_QUEUE_READY, 1);
  EXPECT_ONE(VSIM_CHK_MMIO_QUEUE_SIZE);
  wr(VIRTIO_MMIO_QUEUE_SEL, 0xffffffffu);
  wr(VIRTIO_MMIO_QUEUE_READY, 1);
  EXPECT_ONE(VSIM_CHK_MMIO_QUEUE_SIZE);
  CHECK_EQ(count_events(VSIM_EV_QUEUE_READY), 0);
  dut_close();
}

static void test_queue_live(void) {
  if (!dut_open()) return;
  negotiate(DRV_FEATURES);
  setup_queue0();
  const rec_event *e = last_event(VSIM_EV_QUEUE_READY);
  CHECK(e != NULL && e->q == 0 && e->a == 8 && e->b == 0x1000 && e->c == 0x1080 && e->d == 0x10c0);
  EXPECT_NONE();
  /* every queue register written while ready: reported, queue 0, ignored */
  const uint32_t regs[] = {VIRTIO_MMIO_QUEUE_NUM,       VIRTIO_MMIO_QUEUE_DESC_LOW,
                           VIRTIO_MMIO_QUEUE_DESC_HIGH, VIRTIO_MMIO_QUEUE_AVAIL_LOW,
                           VIRTIO_MMIO_QUEUE_AVAIL_HIGH, VIRTIO_MMIO_QUEUE_USED_LOW,
                           VIRTIO_MMIO_QUEUE_USED_HIGH};
  const uint32_t vals[] = {16, 0x5000, 0x1, 0x6000, 0x2, 0x7000, 0x3};
  for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
    wr(regs[i], vals[i]);
    EXPECT_ONE(VSIM_CHK_MMIO_QUEUE_LIVE);
    CHECK_EQ(D.r.viol[0].q, 0);
  }
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 1);
  /* QueueSel and a second QueueReady 1 are not queue-state writes */
  wr(VIRTIO_MMIO_QUEUE_SEL, 0);
  wr(VIRTIO_MMIO_QUEUE_READY, 1);
  EXPECT_NONE();
  /* a QueueReady cycle shows what the device kept: the original values */
  wr(VIRTIO_MMIO_QUEUE_READY, 0);
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
  clear_rec();
  wr(VIRTIO_MMIO_QUEUE_READY, 1);
  e = last_event(VSIM_EV_QUEUE_READY);
  CHECK(e != NULL);
  if (e) {
    CHECK_EQ(e->a, 8);
    CHECK(e->b == 0x1000 && e->c == 0x1080 && e->d == 0x10c0);
  }
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 1);
  EXPECT_NONE();
  /* once not ready, the same registers are writable again */
  wr(VIRTIO_MMIO_QUEUE_READY, 0);
  set_queue_regs(16, 0x2000, 0x2100, 0x2140);
  wr(VIRTIO_MMIO_QUEUE_READY, 1);
  e = last_event(VSIM_EV_QUEUE_READY);
  CHECK(e != NULL && e->a == 16 && e->b == 0x2000 && e->c == 0x2100 && e->d == 0x2140);
  EXPECT_NONE();
  /* high halves land in the high 32 bits */
  wr(VIRTIO_MMIO_QUEUE_READY, 0);
  set_queue_regs(8, UINT64_C(0x0000000100001000), UINT64_C(0x0000000200002000),
                 UINT64_C(0x0000000300003000));
  CHECK(D.m.q[0].desc == UINT64_C(0x100001000));
  CHECK(D.m.q[0].driver == UINT64_C(0x200002000));
  CHECK(D.m.q[0].device == UINT64_C(0x300003000));
  EXPECT_NONE();
  dut_close();
}

static void test_notify(void) {
  if (!dut_open()) return;
  const vsim_backend_ops *ops = D.be.backend.ops;
  void *be = D.be.backend.be;
  negotiate(DRV_FEATURES);
  clear_rec();
  /* a queue that exists but is not ready */
  wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
  EXPECT_ONE(VSIM_CHK_MMIO_NOTIFY_QUEUE);
  CHECK(!ops->queue_runnable(be, 0));
  /* a queue that does not exist */
  wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
  EXPECT_ONE(VSIM_CHK_MMIO_NOTIFY_QUEUE);
  wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0xffff);
  EXPECT_ONE(VSIM_CHK_MMIO_NOTIFY_QUEUE);
  CHECK_EQ(D.m.notifies, 3); /* counted as kicks all the same */
  setup_queue0();
  wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
  CHECK_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK | S_DOK);
  clear_rec();
  /* a ready queue: the kick reaches the backend */
  wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
  EXPECT_NONE();
  CHECK(ops->queue_runnable(be, 0));
  const rec_event *e = last_event(VSIM_EV_KICK);
  CHECK(e != NULL && e->q == 0 && e->a == 0);
  CHECK_EQ(D.m.notifies, 4);

  /* without NOTIFICATION_DATA the value written is the queue index, so
   * 0x10000 names queue 65536, which does not exist */
  wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0x10000);
  if (D.r.nviol == 1 && D.r.viol[0].check == VSIM_CHK_MMIO_NOTIFY_QUEUE) {
    CHECK(1);
  } else {
    vsim_test_failures++;
    printf("REGRESSION of a fixed bug: QueueNotify 0x10000 without VIRTIO_F_NOTIFICATION_DATA is taken as a "
           "kick of queue 0 (mmio.c masks the value with 0xffff unconditionally); expected %s\n",
           check_id(VSIM_CHK_MMIO_NOTIFY_QUEUE));
  }
  clear_rec();
  dut_close();
}

static void test_features_after_ok(void) {
  if (!dut_open()) return;
  negotiate(DRV_FEATURES);
  EXPECT_NONE();
  /* a new bit in window 0 after FEATURES_OK: reported, ignored */
  wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
  wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)DRV_FEATURES | (1u << VIRTIO_BLK_F_FLUSH));
  EXPECT_ONE(VSIM_CHK_FEAT_DRV_AFTER_OK);
  CHECK(D.m.driver_features == DRV_FEATURES);
  /* dropping VERSION_1 in window 1: reported, ignored */
  wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
  wr(VIRTIO_MMIO_DRIVER_FEATURES, 0);
  EXPECT_ONE(VSIM_CHK_FEAT_DRV_AFTER_OK);
  CHECK(D.m.driver_features == DRV_FEATURES);
  /* rewriting the same value is not a change */
  write_features(DRV_FEATURES);
  EXPECT_NONE();
  /* the device still works with the features it accepted */
  setup_queue0();
  wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
  CHECK_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK | S_DOK);
  wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
  wr(VIRTIO_MMIO_DRIVER_FEATURES, 0);
  EXPECT_ONE(VSIM_CHK_FEAT_DRV_AFTER_OK);
  CHECK(D.m.driver_features == DRV_FEATURES);
  /* after a reset the driver may negotiate again */
  wr(VIRTIO_MMIO_STATUS, 0);
  negotiate(UINT64_C(1) << VIRTIO_F_VERSION_1);
  EXPECT_NONE();
  CHECK(D.m.driver_features == (UINT64_C(1) << VIRTIO_F_VERSION_1));
  dut_close();
}

static void test_reset_and_ack(void) {
  if (!dut_open()) return;
  negotiate(DRV_FEATURES);
  setup_queue0();
  wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
  vsim_mmio_raise(&D.m, VIRTIO_MMIO_INT_VRING);
  vsim_mmio_raise(&D.m, VIRTIO_MMIO_INT_CONFIG);
  CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 3);
  CHECK_EQ(vsim_mmio_peek_isr(&D.m), 3);
  /* InterruptACK clears exactly the bits written */
  wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
  CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
  const rec_event *e = last_event(VSIM_EV_IRQ_ACK);
  CHECK(e != NULL && e->a == VIRTIO_MMIO_INT_VRING && e->b == VIRTIO_MMIO_INT_CONFIG);
  wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING); /* already clear: harmless */
  CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
  wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
  CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
  vsim_mmio_raise(&D.m, 3);
  wr(VIRTIO_MMIO_INTERRUPT_ACK, 3);
  CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
  EXPECT_NONE();

  /* status 0: device reset clears InterruptStatus, QueueReady and the status */
  vsim_mmio_raise(&D.m, 3);
  CHECK_EQ(vsim_mmio_peek_queue_ready(&D.m, 0), 1);
  wr(VIRTIO_MMIO_STATUS, 0);
  CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
  CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
  wr(VIRTIO_MMIO_QUEUE_SEL, 0);
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
  CHECK_EQ(vsim_mmio_peek_queue_ready(&D.m, 0), 0);
  CHECK_EQ(vsim_mmio_peek_queue_ready(&D.m, 99), 0);
  e = last_event(VSIM_EV_STATUS);
  CHECK(e != NULL && e->a == (S_ACK | S_DRV | S_FOK | S_DOK) && e->b == 0);
  EXPECT_NONE();
  /* the queue can be set up again without QUEUE_LIVE complaints */
  negotiate(DRV_FEATURES);
  setup_queue0();
  wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
  CHECK_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK | S_DOK);
  EXPECT_NONE();
  dut_close();
}

static void check_capacity(uint64_t cap) {
  /* virtio_blk_config.capacity is the first field: le64 at 0x100 */
  uint8_t bytes[8];
  for (int i = 0; i < 8; i++) bytes[i] = (uint8_t)(cap >> (8 * i));
  for (int i = 0; i < 8; i++) CHECK_EQ(vsim_mmio_read(&D.m, 0x100 + (uint32_t)i, 1), bytes[i]);
  for (int i = 0; i < 8; i += 2)
    CHECK_EQ(vsim_mmio_read(&D.m, 0x100 + (uint32_t)i, 2), bytes[i] | (bytes[i + 1] << 8));
  CHECK_EQ(vsim_mmio_read(&D.m, 0x100, 4), (uint32_t)cap);
  CHECK_EQ(vsim_mmio_read(&D.m, 0x104, 4), (uint32_t)(cap >> 32));
  const rec_event *e = last_event(VSIM_EV_MMIO_READ);
  CHECK(e != NULL && e->a == 0x104 && e->b == 4 && e->c == (uint32_t)(cap >> 32));
  EXPECT_NONE();
}

static void test_config(void) {
  if (!dut_open()) return;
  check_capacity(2048);
  CHECK_EQ(vsim_mmio_read(&D.m, 0x100, 2), 0x0800);
  CHECK_EQ(vsim_mmio_read(&D.m, 0x101, 1), 0x08);
  /* blk_size (offset 20) is 512 */
  CHECK_EQ(vsim_mmio_read(&D.m, 0x100 + offsetof(struct virtio_blk_config, blk_size), 4), 512);
  /* blk config space is read-only for the driver (no CONFIG_WCE): a write
   * is legal at the transport level and changes nothing */
  vsim_mmio_write(&D.m, 0x100, 4, 0xdeadbeefu);
  CHECK_EQ(vsim_mmio_read(&D.m, 0x100, 4), 2048);
  EXPECT_NONE();
  dut_close();

  /* a capacity that uses every byte lane of the low word */
  static const char *const keys[] = {"capacity"};
  static const char *const vals[] = {"1193046"}; /* 0x123456 */
  if (!dut_open_with(NULL, keys, vals, 1)) return;
  check_capacity(0x123456);
  CHECK_EQ(vsim_mmio_read(&D.m, 0x100, 1), 0x56);
  CHECK_EQ(vsim_mmio_read(&D.m, 0x101, 1), 0x34);
  CHECK_EQ(vsim_mmio_read(&D.m, 0x102, 1), 0x12);
  CHECK_EQ(vsim_mmio_read(&D.m, 0x102, 2), 0x0012);
  CHECK_EQ(vsim_mmio_read(&D.m, 0x100, 2), 0x3456);
  EXPECT_NONE();
  dut_close();
}

static void test_queue_reset(void) {
  vsim_backend_params p = {0};
  p.has_offered_features = true;
  p.offered_features = (UINT64_C(1) << VIRTIO_F_VERSION_1) | (UINT64_C(1) << VIRTIO_F_RING_RESET);
  if (!dut_open_with(&p, NULL, NULL, 0)) return;
  negotiate(p.offered_features);
  setup_queue0();
  wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
  EXPECT_NONE();
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_RESET), 0);
  wr(VIRTIO_MMIO_QUEUE_RESET, 1);
  EXPECT_NONE();
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
  CHECK_EQ(count_events(VSIM_EV_QUEUE_RESET), 1);
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_RESET), 0); /* the reset completed */
  /* re-enable after the reset: the registers start from zero again */
  CHECK_EQ(D.m.q[0].size, 0);
  set_queue_regs(8, 0x1000, 0x1080, 0x10c0);
  wr(VIRTIO_MMIO_QUEUE_READY, 1);
  CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 1);
  wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
  CHECK(D.be.backend.ops->queue_runnable(D.be.backend.be, 0));
  EXPECT_NONE();
  dut_close();
}

/* A complete, careful driver session: every readable register read, every
 * writable one written, config read byte by byte and field by field; not a
 * single violation. */
static void test_clean_session(void) {
  vsim_backend_params p = {0};
  p.num_queues = 2;
  if (!dut_open_with(&p, NULL, NULL, 0)) return;
  CHECK_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976u);
  CHECK_EQ(rd(VIRTIO_MMIO_VERSION), 2);
  CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_ID), 2);
  (void)rd(VIRTIO_MMIO_VENDOR_ID);
  wr(VIRTIO_MMIO_STATUS, 0);
  wr(VIRTIO_MMIO_STATUS, S_ACK);
  wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV);
  wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
  uint64_t f = rd(VIRTIO_MMIO_DEVICE_FEATURES);
  wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
  f |= (uint64_t)rd(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
  write_features(f);
  wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
  wr(VIRTIO_MMIO_DRIVER_FEATURES, 0);
  wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK);
  CHECK(rd(VIRTIO_MMIO_STATUS) & S_FOK);
  for (uint32_t q = 0; q < 2; q++) {
    wr(VIRTIO_MMIO_QUEUE_SEL, q);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
    set_queue_regs(8, 0x1000 + 0x1000 * q, 0x1080 + 0x1000 * q, 0x10c0 + 0x1000 * q);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 1);
  }
  wr(VIRTIO_MMIO_SHM_SEL, 0);
  CHECK_EQ(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu); /* no shared memory region */
  CHECK_EQ(rd(VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffffu);
  (void)rd(VIRTIO_MMIO_SHM_BASE_LOW);
  (void)rd(VIRTIO_MMIO_SHM_BASE_HIGH);
  uint32_t gen = rd(VIRTIO_MMIO_CONFIG_GENERATION);
  const uint32_t cfg = D.be.backend.ops->config_size(D.be.backend.be);
  for (uint32_t i = 0; i < cfg; i++) (void)vsim_mmio_read(&D.m, 0x100 + i, 1);
  for (uint32_t i = 0; i + 2 <= cfg; i += 2) (void)vsim_mmio_read(&D.m, 0x100 + i, 2);
  for (uint32_t i = 0; i + 4 <= cfg; i += 4) (void)vsim_mmio_read(&D.m, 0x100 + i, 4);
  CHECK_EQ(rd(VIRTIO_MMIO_CONFIG_GENERATION), gen);
  wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
  CHECK_EQ(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK | S_DOK);
  wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
  wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
  vsim_mmio_raise(&D.m, VIRTIO_MMIO_INT_VRING);
  uint32_t isr = rd(VIRTIO_MMIO_INTERRUPT_STATUS);
  wr(VIRTIO_MMIO_INTERRUPT_ACK, isr);
  wr(VIRTIO_MMIO_INTERRUPT_ACK, 0);
  wr(VIRTIO_MMIO_QUEUE_SEL, 1);
  wr(VIRTIO_MMIO_QUEUE_READY, 0);
  wr(VIRTIO_MMIO_STATUS, 0);
  CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
  EXPECT_NONE();
  CHECK_EQ(D.m.notifies, 2);
  dut_close();
}

int main(void) {
  RUN(test_ids);
  RUN(test_features);
  RUN(test_access_width);
  RUN(test_direction);
  RUN(test_undefined);
  RUN(test_queue_size);
  RUN(test_queue_live);
  RUN(test_notify);
  RUN(test_features_after_ok);
  RUN(test_reset_and_ack);
  RUN(test_config);
  RUN(test_queue_reset);
  RUN(test_clean_session);
  TEST_MAIN_END();
}
