/* tests/c/test_perf_modes.c — the performance mechanisms as options of the
 * models (issue 9): batching, interrupt coalescing, polling, zero-copy
 * accounting, and "repeat" for long runs.
 *
 * Covers: the checker's view of a held (coalesced) interrupt, fed synthetic
 * events: a held interrupt covers the windows until it is sent (no missed
 * interrupt), the late one is not spurious though the driver's suppression
 * says no by then, and it must come at the device's first step that reaches
 * its count or its due time (else notify.dev-missed-irq); without a hold the
 * old rules stand (missed and spurious both still fire). The packed ring's
 * end-of-step comparison through the arena's write watch, and its fallback
 * when a span over the ring was handed out; the same for what a device step
 * must not write (descriptor table, available ring), and on a memfd arena,
 * whose writes by another process the watches cannot see. Then whole runs
 * through the public API, on both ring layouts: driver_batch/device_batch cut
 * kicks and interrupts per request; coalescing gives one interrupt per 4
 * completions without a violation under every policy, and a time bound
 * releases a held interrupt when nothing else can run; device polling runs
 * with no interrupt (driver_poll) and at most one kick, ends when the script is
 * done, and its polls are trace events; bytes copied per byte moved is small
 * in place (header and status only) and 1 in the copy mode, with the same
 * data; repeat runs the steps N times; latency counters follow
 * device_latency.
 * Must never: read scenario files from disk (everything is a buffer here).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "arena_shared.h"
#include "checker.h"
#include "testutil.h"
#include "virtiosim/checks.h"
#include "virtiosim/virtiosim.h"

/* ---- the checker, fed by hand ---- */

typedef struct sink {
  int viol[VSIM_CHK__COUNT];
  int n;
  uint64_t now;
  char last[256]; /* the last violation's detail */
} sink;

static void on_violation(void *ctx, int check, int q, const char *detail) {
  sink *s = ctx;
  if (check >= 0 && check < VSIM_CHK__COUNT) s->viol[check]++;
  s->n++;
  snprintf(s->last, sizeof s->last, "%s", detail);
}

static uint64_t on_now(void *ctx) { return ((sink *)ctx)->now; }

typedef struct fx {
  sink s;
  vsim_host host;
  vsim_arena *arena;
  vsim_mmio mmio;
  vsim_checker chk;
  uint64_t step;
} fx;

#define QSIZE 8
#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u

static void ev(fx *f, int actor, int kind, int q, uint64_t a, uint64_t b, uint64_t c) {
  vsim_event e = {++f->step, actor, kind, q, a, b, c, 0};
  vsim_checker_event(&f->chk, &e);
}

/* A live split queue 0 of QSIZE entries with EVENT_IDX, used_event 0. */
static void fx_open_on(fx *f, vsim_arena *arena, uint64_t avail) {
  memset(f, 0, sizeof *f);
  f->arena = arena;
  f->host = (vsim_host){&f->s, f->arena, NULL, NULL, on_violation, NULL, on_now};
  vsim_checker_init(&f->chk, &f->host, f->arena, &f->mmio);
  const uint64_t feat = (UINT64_C(1) << VIRTIO_F_VERSION_1) | (UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX);
  ev(f, 0, VSIM_EV_STATUS, -1, 0, VIRTIO_CONFIG_S_ACKNOWLEDGE, 0);
  ev(f, 0, VSIM_EV_STATUS, -1, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 0);
  ev(f, 0, VSIM_EV_FEATURES, -1, feat, feat, 0);
  const uint8_t fok = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;
  ev(f, 0, VSIM_EV_STATUS, -1, 3, fok, 0);
  ev(f, 0, VSIM_EV_MMIO_READ, -1, 0x070, 4, fok); /* the re-read of FEATURES_OK */
  ev(f, 0, VSIM_EV_STATUS, -1, fok, fok | VIRTIO_CONFIG_S_DRIVER_OK, 0);
  /* QUEUE_READY carries desc/avail/used in b/c/d: give d by hand */
  vsim_event qr = {++f->step, 0, VSIM_EV_QUEUE_READY, 0, QSIZE, DESC, avail, USED};
  vsim_checker_event(&f->chk, &qr);
  memset(f->s.viol, 0, sizeof f->s.viol);
  f->s.n = 0;
}

static void fx_open(fx *f) { fx_open_on(f, vsim_arena_new(1u << 16), AVAIL); }

static void fx_close(fx *f) {
  vsim_checker_fini(&f->chk);
  vsim_arena_free(f->arena);
}

/* The device uses `n` buffers and publishes used.idx from `old` to old + n. */
static void dev_publish(fx *f, uint16_t old, uint16_t n) {
  for (uint16_t i = 0; i < n; i++) ev(f, 1, VSIM_EV_USED, 0, (uint16_t)(old + i) % QSIZE, 1, 0);
  ev(f, 1, VSIM_EV_USED_PUBLISH, 0, old, (uint16_t)(old + n), 0);
}

static void set_used_event(fx *f, uint16_t v) {
  vsim_arena_write16(f->arena, VSIM_SIDE_DRIVER, AVAIL + 4 + 2u * QSIZE, v);
}

static void test_checker_held_irq(void) {
  fx f;
  /* held, then sent once the count is reached: late, not lost, not spurious */
  fx_open(&f);
  set_used_event(&f, 0);
  dev_publish(&f, 0, 1); /* crosses used_event 0: an interrupt is due */
  ev(&f, 1, VSIM_EV_IRQ_HOLD, 0, 2, 100, 1);
  vsim_checker_actor_end(&f.chk, 1);
  CHECK_EQ(f.s.n, 0);
  dev_publish(&f, 1, 1); /* (1, 2] does not cross used_event 0: no new interrupt asked for */
  ev(&f, 1, VSIM_EV_IRQ, 0, 1, 0, 0);
  vsim_checker_actor_end(&f.chk, 1);
  CHECK_EQ(f.s.viol[VSIM_CHK_NOTIFY_DEV_SPURIOUS], 0);
  CHECK_EQ(f.s.n, 0);
  fx_close(&f);

  /* held, count reached, not sent: missed, once */
  fx_open(&f);
  dev_publish(&f, 0, 1);
  ev(&f, 1, VSIM_EV_IRQ_HOLD, 0, 2, 100, 1);
  vsim_checker_actor_end(&f.chk, 1);
  dev_publish(&f, 1, 1);
  vsim_checker_actor_end(&f.chk, 1);
  CHECK_EQ(f.s.viol[VSIM_CHK_NOTIFY_DEV_MISSED], 1);
  vsim_checker_actor_end(&f.chk, 1);
  CHECK_EQ(f.s.n, 1);
  fx_close(&f);

  /* held until a due time: fine before it, missed at a device step at it */
  fx_open(&f);
  dev_publish(&f, 0, 1);
  ev(&f, 1, VSIM_EV_IRQ_HOLD, 0, 64, 50, 1);
  f.s.now = 49;
  vsim_checker_actor_end(&f.chk, 1);
  vsim_checker_actor_end(&f.chk, 0); /* other actors never judge it */
  CHECK_EQ(f.s.n, 0);
  f.s.now = 50;
  vsim_checker_actor_end(&f.chk, 0);
  CHECK_EQ(f.s.n, 0);
  vsim_checker_actor_end(&f.chk, 1);
  CHECK_EQ(f.s.viol[VSIM_CHK_NOTIFY_DEV_MISSED], 1);
  fx_close(&f);

  /* a device reset drops what was held: nothing to judge afterwards */
  fx_open(&f);
  dev_publish(&f, 0, 1);
  ev(&f, 1, VSIM_EV_IRQ_HOLD, 0, 1, 1, 1);
  ev(&f, 0, VSIM_EV_STATUS, -1, 0xf, 0, 0);
  f.s.now = 1000;
  vsim_checker_actor_end(&f.chk, 1);
  CHECK_EQ(f.s.viol[VSIM_CHK_NOTIFY_DEV_MISSED], 0);
  fx_close(&f);

  /* no hold: the rules as before */
  fx_open(&f);
  dev_publish(&f, 0, 1);
  vsim_checker_actor_end(&f.chk, 1);
  CHECK_EQ(f.s.viol[VSIM_CHK_NOTIFY_DEV_MISSED], 1);
  set_used_event(&f, 5);
  dev_publish(&f, 1, 1); /* (1, 2] misses used_event 5 */
  ev(&f, 1, VSIM_EV_IRQ, 0, 1, 0, 0);
  CHECK_EQ(f.s.viol[VSIM_CHK_NOTIFY_DEV_SPURIOUS], 1);
  fx_close(&f);
}

/* A live packed queue 0 of QSIZE entries (driver event at AVAIL, device
 * event at USED). */
static void fx_open_packed(fx *f) {
  memset(f, 0, sizeof *f);
  f->arena = vsim_arena_new(1u << 16);
  f->host = (vsim_host){&f->s, f->arena, NULL, NULL, on_violation, NULL, on_now};
  vsim_checker_init(&f->chk, &f->host, f->arena, &f->mmio);
  const uint64_t feat = (UINT64_C(1) << VIRTIO_F_VERSION_1) | (UINT64_C(1) << VIRTIO_F_RING_PACKED);
  ev(f, 0, VSIM_EV_FEATURES, -1, feat, feat, 0);
  vsim_event qr = {++f->step, 0, VSIM_EV_QUEUE_READY, 0, QSIZE, DESC, AVAIL, USED};
  vsim_checker_event(&f->chk, &qr);
  vsim_checker_actor_end(&f->chk, 0);
  memset(f->s.viol, 0, sizeof f->s.viol);
  f->s.n = 0;
}

/* The driver makes descriptor 0 available (wrap 1: AVAIL set, USED clear). */
static void drv_avail0(fx *f) {
  uint8_t d[16] = {0};
  d[0] = 0x00;
  d[1] = 0x50; /* addr 0x5000 */
  d[8] = 16;   /* len */
  d[15] = 0x80; /* flags: AVAIL (bit 7 of the high byte: 1 << 7 << 8) */
  vsim_arena_write(f->arena, VSIM_SIDE_DRIVER, DESC, d, sizeof d);
  /* the device event structure says DISABLE: no kick is owed */
  vsim_arena_write16(f->arena, VSIM_SIDE_DEVICE, USED + 2, VRING_PACKED_EVENT_FLAG_DISABLE);
  ev(f, 0, VSIM_EV_AVAIL_PUBLISH, 0, 0x8000, 0x8001, 0);
  vsim_checker_actor_end(&f->chk, 0);
}

/* Packed rings: at the end of a step only the descriptors the arena saw
 * written are compared, and a span over the ring (writes the arena cannot
 * see) falls back to comparing the whole ring: the rule fires either way. */
static void test_checker_packed_watch(void) {
  fx f;
  for (int lost = 0; lost < 2; lost++) {
    fx_open_packed(&f);
    drv_avail0(&f);
    CHECK_EQ(f.s.n, 0);
    if (lost) {
      vsim_span sp;
      CHECK_EQ(vsim_arena_span(f.arena, VSIM_SIDE_DRIVER, DESC, 16, VSIM_ACC_WRITE, &sp), 0);
      sp.ptr[8] = 32; /* the driver changes len of an available descriptor, unseen */
    } else {
      vsim_arena_write32(f.arena, VSIM_SIDE_DRIVER, DESC + 8, 32);
    }
    vsim_checker_actor_end(&f.chk, 0);
    CHECK_EQ(f.s.viol[VSIM_CHK_PACKED_DRV_DESC_CHANGED], 1);
    vsim_checker_actor_end(&f.chk, 0); /* once per change */
    CHECK_EQ(f.s.n, 1);
    fx_close(&f);
  }
  /* the device writing a used descriptor over an available one is its right */
  fx_open_packed(&f);
  drv_avail0(&f);
  vsim_arena_write16(f.arena, VSIM_SIDE_DEVICE, DESC + 14, 0x8080); /* AVAIL | USED: used, wrap 1 */
  vsim_checker_actor_end(&f.chk, 1);
  CHECK_EQ(f.s.n, 0);
  /* and a write to a descriptor nobody owns is nobody's business */
  vsim_arena_write16(f.arena, VSIM_SIDE_DRIVER, DESC + 16 * 5 + 8, 99);
  vsim_checker_actor_end(&f.chk, 0);
  CHECK_EQ(f.s.n, 0);
  fx_close(&f);
}

/* The device must leave the descriptor table and the available ring alone
 * (mem.dev-write-readonly), judged at the end of each device step against
 * what they held at its start: through the arena's write watches (only the
 * granules written), through a whole compare once a span over them was
 * handed out, and always through a whole compare on a memfd, which another
 * process writes unseen by the arena. The same first byte is reported. */
static void test_checker_device_writes(void) {
  /* 0 watches, 1 span (watches lost), 2 memfd; the available ring apart from
   * the table (two watched ranges) or right after it (one, as the driver
   * model lays them out) */
  for (int run = 0; run < 6; run++) {
    const int mode = run % 3;
    const uint64_t av = run < 3 ? AVAIL : DESC + 16u * QSIZE;
    fx f;
    char err[128];
    vsim_arena *a = mode == 2 ? vsim_arena_new_memfd(1u << 16, err, sizeof err) : vsim_arena_new(1u << 16);
    CHECK(a != NULL);
    if (!a) return;
    fx_open_on(&f, a, av);
    uint8_t *mem = NULL;
    vsim_span sp;
    if (mode == 1) {
      CHECK_EQ(vsim_arena_span(f.arena, VSIM_SIDE_DEVICE, DESC, 16u * QSIZE, VSIM_ACC_READ, &sp), 0);
      mem = sp.ptr - DESC;
    }
    if (mode == 2) {
      vsim_arena_memfd_info mi;
      CHECK(vsim_arena_memfd(f.arena, &mi));
      mem = mi.map; /* as the back-end's own mapping would */
    }
    /* the driver fills a descriptor and an avail slot between device steps: its right */
    vsim_checker_actor_begin(&f.chk, 0);
    vsim_arena_write64(f.arena, VSIM_SIDE_DRIVER, DESC + 16 * 3, 0x8000);
    vsim_arena_write16(f.arena, VSIM_SIDE_DRIVER, av + 4, 3);
    vsim_checker_actor_end(&f.chk, 0);
    vsim_checker_actor_begin(&f.chk, 1);
    vsim_arena_write16(f.arena, VSIM_SIDE_DEVICE, USED + 2, 1); /* the used ring is the device's */
    vsim_checker_actor_end(&f.chk, 1);
    CHECK_EQ(f.s.n, 0);
    /* the device rewrites descriptor 3's len (byte 0x1038 first), and writes the same avail slot again */
    vsim_checker_actor_begin(&f.chk, 1);
    if (mem) {
      mem[DESC + 16 * 3 + 9] = 0x22;
      mem[DESC + 16 * 3 + 8] = 0x11;
    } else {
      vsim_arena_write32(f.arena, VSIM_SIDE_DEVICE, DESC + 16 * 3 + 8, 0x2211);
    }
    vsim_arena_write16(f.arena, VSIM_SIDE_DEVICE, av + 4, 3);
    vsim_checker_actor_end(&f.chk, 1);
    CHECK_EQ(f.s.viol[VSIM_CHK_MEM_DEV_WRITE_RO], 1);
    CHECK(strstr(f.s.last, "descriptor table of queue 0 (byte at 0x1038)") != NULL);
    /* the next step starts from what is there now: nothing new */
    vsim_checker_actor_begin(&f.chk, 1);
    vsim_checker_actor_end(&f.chk, 1);
    CHECK_EQ(f.s.n, 1);
    /* the available ring: reported after the table, at its first changed byte */
    vsim_checker_actor_begin(&f.chk, 1);
    if (mem) mem[av + 4 + 2u * QSIZE + 1] = 1; /* used_event's high byte */
    else vsim_arena_write16(f.arena, VSIM_SIDE_DEVICE, av + 4 + 2u * QSIZE, 0x100);
    vsim_checker_actor_end(&f.chk, 1);
    CHECK_EQ(f.s.viol[VSIM_CHK_MEM_DEV_WRITE_RO], 2);
    char want[96];
    snprintf(want, sizeof want, "available ring of queue 0 (byte at 0x%" PRIx64 ")", av + 4 + 2u * QSIZE + 1);
    CHECK(strstr(f.s.last, want) != NULL);
    fx_close(&f);
  }
}

/* ---- whole runs ---- */

typedef struct run_out {
  int rc;
  vsim_counters c;
  uint64_t steps, hash, irq_holds, polls;
  size_t nviol;
} run_out;

static void count_event(void *ctx, uint64_t step, int32_t actor, int32_t kind, int32_t q, uint64_t a,
                        uint64_t b, uint64_t c, uint64_t d) {
  run_out *o = ctx;
  if (kind == VSIM_EV_IRQ_HOLD) o->irq_holds++;
  if (kind == VSIM_EV_POLL) o->polls++;
}

static run_out run(const char *json, int ring, int policy, uint64_t seed) {
  run_out o;
  memset(&o, 0, sizeof o);
  vsim_options opt;
  memset(&opt, 0, sizeof opt);
  opt.has_ring = true;
  opt.ring = ring;
  opt.has_policy = true;
  opt.policy = policy;
  opt.has_seed = true;
  opt.seed = seed;
  opt.on_event = count_event;
  opt.on_event_ctx = &o;
  char err[512];
  vsim_sim *s = vsim_sim_load_buffer(json, strlen(json), "perf.json", &opt, err, sizeof err);
  if (!s) {
    fprintf(stderr, "  load failed: %s\n", err);
    o.rc = -1;
    return o;
  }
  o.rc = vsim_sim_run(s);
  for (size_t i = 0; i < vsim_sim_failure_count(s); i++) fprintf(stderr, "  failure: %s\n", vsim_sim_failure(s, i));
  vsim_sim_counters(s, &o.c);
  o.steps = vsim_sim_steps(s);
  o.hash = vsim_sim_trace_hash(s);
  o.nviol = vsim_sim_violation_count(s);
  vsim_sim_free(s);
  return o;
}

/* `n` 512-byte writes to sectors 0.., then a wait, with `extra` top-level fields. */
static char *writes(unsigned n, const char *extra) {
  size_t cap = 1024 + (size_t)n * 96;
  char *s = malloc(cap);
  size_t k = (size_t)snprintf(s, cap, "{\"name\":\"perf\",\"device\":\"blk\",\"queue_size\":64,%s\"steps\":[", extra);
  for (unsigned i = 0; i < n; i++)
    k += (size_t)snprintf(s + k, cap - k, "{\"op\":\"blk.write\",\"sector\":%u,\"data\":{\"fill\":%u,\"len\":512}},",
                          i % 256, i % 251);
  snprintf(s + k, cap - k, "{\"op\":\"wait\"}],\"expect\":{\"violations\":[],\"completed\":%u}}", n);
  return s;
}

static void test_batching(void) {
  char *one = writes(64, "");
  char *b16 = writes(64, "\"driver_batch\":16,\"device_batch\":16,");
  for (int ring = 0; ring < 2; ring++) {
    run_out a = run(one, ring, 0, 1), b = run(b16, ring, 0, 1);
    CHECK_EQ(a.rc, 0);
    CHECK_EQ(b.rc, 0);
    CHECK_EQ(a.c.kicks, 64);
    CHECK_EQ(a.c.interrupts, 64);
    CHECK_EQ(b.c.kicks, 4);
    CHECK_EQ(b.c.interrupts, 4);
    CHECK(b.steps < a.steps);
    for (uint64_t seed = 1; seed <= 4; seed++) {
      run_out r = run(b16, ring, 2, seed);
      CHECK_EQ(r.rc, 0);
      CHECK_EQ(r.c.completed, 64);
      CHECK(r.c.kicks <= 4);
    }
  }
  free(one);
  free(b16);
}

static void test_coalescing(void) {
  char *k4 = writes(16, "\"device_irq_coalesce\":{\"count\":4,\"time\":50},");
  for (int ring = 0; ring < 2; ring++) {
    run_out r = run(k4, ring, 0, 1);
    CHECK_EQ(r.rc, 0);
    CHECK_EQ(r.nviol, 0);
    CHECK_EQ(r.c.interrupts, 4);
    CHECK_EQ(r.irq_holds, 4);
    for (int policy = 1; policy <= 2; policy++)
      for (uint64_t seed = 1; seed <= 5; seed++) {
        run_out p = run(k4, ring, policy, seed);
        CHECK_EQ(p.rc, 0);
        CHECK_EQ(p.nviol, 0);
        CHECK(p.c.interrupts <= 16);
      }
  }
  free(k4);
  /* one request and a wait: only the time bound can release the interrupt,
   * and the clock jumps to it because nothing else can run */
  char *t = writes(1, "\"device_irq_coalesce\":{\"count\":8,\"time\":300},");
  for (int ring = 0; ring < 2; ring++) {
    run_out r = run(t, ring, 0, 1);
    CHECK_EQ(r.rc, 0);
    CHECK_EQ(r.c.interrupts, 1);
    CHECK(r.c.latency_max >= 300);
    CHECK(r.c.clock >= 300);
    CHECK(r.steps < 50);
  }
  free(t);
}

static void test_polling(void) {
  char *p = writes(32, "\"device_poll\":6,\"driver_poll\":true,");
  for (int ring = 0; ring < 2; ring++)
    for (int policy = 0; policy <= 2; policy++) {
      run_out r = run(p, ring, policy, 3);
      CHECK_EQ(r.rc, 0);
      CHECK_EQ(r.nviol, 0);
      CHECK_EQ(r.c.interrupts, 0);
      CHECK(r.c.kicks <= 1); /* split with EVENT_IDX: the one avail_event 0 asks for */
      CHECK(r.polls > 0);
      CHECK(r.steps < 2000); /* the run ends with the script, polls or not */
    }
  free(p);
}

static const char COPY[] =
    "{\"name\":\"copy\",\"device\":\"blk\",%s\"steps\":["
    "{\"op\":\"blk.write\",\"sector\":3,\"data\":{\"pattern\":5,\"len\":8192}},"
    "{\"op\":\"blk.read\",\"sector\":3,\"expect_data\":{\"pattern\":5,\"len\":8192}},"
    "{\"op\":\"wait\"}],\"expect\":{\"violations\":[],\"completed\":2}}";

static void test_zero_copy(void) {
  char in_place[512], copy[512];
  snprintf(in_place, sizeof in_place, COPY, "");
  snprintf(copy, sizeof copy, COPY, "\"device_config\":{\"zero_copy\":false},");
  run_out a = run(in_place, 0, 0, 1), b = run(copy, 0, 0, 1);
  CHECK_EQ(a.rc, 0);
  CHECK_EQ(b.rc, 0);
  /* two requests: 16-byte header + 8192 data + 1 status each */
  CHECK_EQ(a.c.bytes_moved, 2 * (16 + 8192 + 1));
  CHECK_EQ(b.c.bytes_moved, a.c.bytes_moved);
  CHECK_EQ(a.c.bytes_copied, 2 * (16 + 1));
  CHECK_EQ(b.c.bytes_copied, b.c.bytes_moved);
  /* the guest cannot tell: the same events, so the same trace */
  CHECK_EQ(a.hash, b.hash);
}

static void test_repeat_and_latency(void) {
  const char *rep =
      "{\"name\":\"rep\",\"device\":\"blk\",\"repeat\":300,\"device_latency\":7,\"steps\":["
      "{\"op\":\"blk.write\",\"sector\":1,\"data\":{\"fill\":2,\"len\":512}},"
      "{\"op\":\"blk.read\",\"sector\":1,\"expect_data\":{\"fill\":2,\"len\":512}},"
      "{\"op\":\"wait\"}],\"expect\":{\"violations\":[],\"completed\":600}}";
  for (int ring = 0; ring < 2; ring++) {
    run_out r = run(rep, ring, 0, 1);
    CHECK_EQ(r.rc, 0);
    CHECK_EQ(r.c.completed, 600);
    CHECK(r.c.latency_max >= 7);
    CHECK(r.c.latency_total >= 7 * 600);
  }
  /* a wrong count over all passes fails the run */
  const char *bad =
      "{\"name\":\"rep\",\"device\":\"blk\",\"repeat\":3,\"steps\":["
      "{\"op\":\"blk.flush\"},{\"op\":\"wait\"}],\"expect\":{\"completed\":2}}";
  run_out b = run(bad, 0, 0, 1);
  CHECK_EQ(b.rc, 1);
  CHECK_EQ(b.c.completed, 3);
}

int main(void) {
  RUN(test_checker_held_irq);
  RUN(test_checker_packed_watch);
  RUN(test_checker_device_writes);
  RUN(test_batching);
  RUN(test_coalescing);
  RUN(test_polling);
  RUN(test_zero_copy);
  RUN(test_repeat_and_latency);
  TEST_MAIN_END();
}
