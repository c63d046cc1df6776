/* tests/c/test_be_record.c — recording a back-end and playing it back.
 *
 * A fake back-end writes guest memory behind the accessors' back, as an
 * out-of-process daemon does (through the arena's base pointer), and calls
 * the host. The recorder must find exactly those writes (not the driver's,
 * whether through the accessors or through a span), tell them before the
 * callback that follows, and write lines from which the stand-in, on a fresh
 * arena without the back-end, reproduces the same memory, the same callbacks
 * in the same order and the same answers. A call the recording does not hold,
 * and every kind of malformed line, is a divergence naming the trace line,
 * never a crash or a write outside guest memory (this also runs under ASan).
 */
#include <stdlib.h>
#include <string.h>
#include "arena_fast.h"
#include "be_record.h"
#include "be_standin.h"
#include "testutil.h"
#include "virtiosim/checks.h"

#define ARENA 65536u

/* ---- what the engine hears, in order ---- */

typedef struct heard {
  char log[64][64];
  int n;
  char diverged[768];
} heard;

static void say(heard *h, const char *fmt, unsigned long long a, unsigned long long b) {
  if (h->n < 64) snprintf(h->log[h->n++], sizeof h->log[0], fmt, a, b);
}
static void e_irq(void *ctx, uint16_t q) { say(ctx, "irq %llu%llu", q, 0); }
static void e_cfg(void *ctx) { say(ctx, "cfg %llu%llu", 0, 0); }
static void e_viol(void *ctx, int check, int q, const char *d) { say(ctx, "viol %llu q%llu", (unsigned)check, (unsigned)(q + 1)); }
static void e_event(void *ctx, int kind, int q, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  say(ctx, "ev %llu a=%llu", (unsigned)kind, a);
}
static uint64_t e_now(void *ctx) { return 0; }
static void e_wrote(void *ctx, uint64_t gpa, uint64_t len) { say(ctx, "wrote 0x%llx+%llu", gpa, len); }
static void e_diverged(void *ctx, const char *msg) {
  heard *h = ctx;
  if (!h->diverged[0]) snprintf(h->diverged, sizeof h->diverged, "%s", msg);
}

/* ---- the fake back-end: a daemon's habits ---- */

typedef struct fake {
  const vsim_host *host;
  uint8_t status;
} fake;

static uint8_t *raw(const fake *f) { return (uint8_t *)vsim_arena_base(f->host->arena); }
static void f_destroy(void *be) { free(be); }
static uint32_t f_device_id(void *be) { return 2; }
static uint32_t f_vendor_id(void *be) { return 0x5653494d; }
static uint16_t f_num_queues(void *be) { return 1; }
static uint16_t f_queue_max(void *be, uint16_t q) { return 8; }
static uint64_t f_features(void *be) { return UINT64_C(1) << 63 | 1; /* above 2^63: written as a string */ }
static void f_set_features(void *be, uint64_t v) {}
static uint8_t f_get_status(void *be) { return ((fake *)be)->status; }
static void f_set_status(void *be, uint8_t st) {
  fake *f = be;
  f->status = st;
  /* it writes memory on its own schedule: found at the end of the call */
  raw(f)[0x5000] = st ? st : 0xee;
}
static uint32_t f_gen(void *be) { return 0; }
static uint32_t f_cfg_size(void *be) { return 4; }
static int f_cfg_read(void *be, uint32_t off, void *dst, uint32_t len) {
  memcpy(dst, "abcd", len <= 4 ? len : 4);
  return 0;
}
static int f_cfg_write(void *be, uint32_t off, const void *src, uint32_t len) { return -1; }
static int f_ready(void *be, uint16_t q, const vsim_queue_cfg *cfg) { return cfg && cfg->size > 8 ? -1 : 0; }
static void f_notify(void *be, uint16_t q, uint32_t v) {}
static bool f_runnable(void *be, uint16_t q) { return raw(be)[0x100] != 0; }
static int f_run(void *be, uint16_t q, uint32_t budget) {
  fake *f = be;
  memcpy(raw(f) + 0x3000, "\x01\x02\x03\x04\x05\x06\x07\x08", 8); /* a buffer */
  f->host->event(f->host->ctx, VSIM_EV_USED, q, 7, 8, 0, 0);
  raw(f)[0x3ffe] = 0x55; /* used.idx, say: two ranges, the second after the event */
  raw(f)[0x3fff] = 0x66;
  f->host->interrupt(f->host->ctx, q);
  f->host->violation(f->host->ctx, VSIM_CHK_MEM_DEV_OOB, q, "a \"quoted\" detail\\");
  return 1;
}

static const vsim_backend_ops fake_ops = {
    .abi_version = VSIM_BACKEND_ABI_VERSION, .name = "fake", .destroy = f_destroy,
    .device_id = f_device_id, .vendor_id = f_vendor_id, .num_queues = f_num_queues,
    .queue_max_size = f_queue_max, .device_features = f_features, .set_driver_features = f_set_features,
    .get_status = f_get_status, .set_status = f_set_status, .config_generation = f_gen,
    .config_size = f_cfg_size, .config_read = f_cfg_read, .config_write = f_cfg_write,
    .queue_ready = f_ready, .queue_reset = NULL, .queue_notify = f_notify,
    .queue_runnable = f_runnable, .queue_run = f_run, .queue_next_due = NULL,
};

/* ---- the lines ---- */

typedef struct lines {
  char *v[64];
  uint32_t no[64];
  size_t n;
} lines;

static void keep(void *ctx, const char *line) {
  lines *l = ctx;
  if (l->n < 64) {
    l->no[l->n] = (uint32_t)(l->n + 2); /* as if after a header */
    l->v[l->n++] = strdup(line);
  }
}

static void drop_lines(lines *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i]);
  l->n = 0;
}

/* What the driver does, the same in the recording and the playback. */
static void driver_writes(vsim_arena *a) {
  CHECK_EQ(vsim_arena_write(a, VSIM_SIDE_DRIVER, 0x100, "hello", 5), 0);
  vsim_span sp;
  CHECK_EQ(vsim_arena_span(a, VSIM_SIDE_DRIVER, 0x200, 16, VSIM_ACC_WRITE, &sp), 0);
  memset(sp.ptr, 0x5a, 16); /* written through the span, after it was handed out */
  CHECK_EQ(vsim_arena_put16(a, VSIM_SIDE_DRIVER, 0x300, 0x1234), 0);
}

/* The calls an engine makes; returns the answers folded into one value. */
static uint64_t calls(const vsim_backend *b, vsim_arena *a) {
  uint64_t acc = b->ops->device_id(b->be);
  acc = acc * 31 + b->ops->device_features(b->be);
  b->ops->set_status(b->be, 1);
  driver_writes(a);
  acc = acc * 31 + b->ops->queue_runnable(b->be, 0);
  uint8_t cfg[4];
  acc = acc * 31 + (uint64_t)b->ops->config_read(b->be, 0, cfg, 4);
  acc = acc * 31 + cfg[3];
  acc = acc * 31 + (uint64_t)(int64_t)b->ops->config_write(b->be, 0, "xy", 2);
  vsim_queue_cfg qc = {8, 0x1000, 0x2000, 0x3f00};
  acc = acc * 31 + (uint64_t)(int64_t)b->ops->queue_ready(b->be, 0, &qc);
  acc = acc * 31 + (uint64_t)(int64_t)b->ops->queue_run(b->be, 0, 4);
  acc = acc * 31 + b->ops->get_status(b->be);
  return acc;
}

static void test_record_and_play(void) {
  heard live = {0}, back = {0};
  vsim_arena *a = vsim_arena_new(ARENA);
  vsim_host engine = {&live, a, e_irq, e_cfg, e_viol, e_event, e_now};
  vsim_recorder *r = vsim_recorder_new(&engine, a, e_wrote, &live, true, true);
  CHECK(r != NULL);
  if (!r) return;
  fake *f = calloc(1, sizeof *f);
  f->host = vsim_recorder_host(r);
  /* the creation reports (a handshake finding) and writes nothing */
  f->host->violation(f->host->ctx, VSIM_CHK_VU_REPLY_SIZE, -1, "creation");
  vsim_backend wrapped;
  vsim_recorder_attach(r, (vsim_backend){&fake_ops, f}, &wrapped);
  CHECK(wrapped.ops->queue_reset == NULL && wrapped.ops->queue_next_due == NULL);
  lines l = {0};
  vsim_recorder_output(r, keep, &l);
  CHECK_EQ(l.n, 1); /* the creation, held until there was somewhere to write */
  uint64_t live_answers = calls(&wrapped, a);
  CHECK(!vsim_recorder_lost(r));

  /* the driver's writes are not the back-end's; the back-end's are found,
   * each before the callback that followed it */
  int w = 0;
  for (int i = 0; i < live.n; i++) {
    CHECK(strstr(live.log[i], "0x100+") == NULL && strstr(live.log[i], "0x200+") == NULL &&
          strstr(live.log[i], "0x300+") == NULL);
    if (strncmp(live.log[i], "wrote", 5) == 0) w++;
  }
  CHECK_EQ(w, 3);
  int ev_at = -1, first_w = -1, second_w = -1, irq_at = -1;
  for (int i = 0; i < live.n; i++) {
    if (strcmp(live.log[i], "wrote 0x3000+8") == 0) first_w = i;
    char ev[32];
    snprintf(ev, sizeof ev, "ev %d a=7", VSIM_EV_USED);
    if (strcmp(live.log[i], ev) == 0) ev_at = i;
    if (strcmp(live.log[i], "wrote 0x3ffe+2") == 0) second_w = i;
    if (strcmp(live.log[i], "irq 00") == 0) irq_at = i;
  }
  CHECK(first_w >= 0 && first_w < ev_at && ev_at < second_w && second_w < irq_at);
  /* a feature word above 2^63 is a string, the creation has no ops it lacks */
  CHECK(strstr(l.v[0], "\"op\":\"create\"") && strstr(l.v[0], "\"has\":\"\""));
  bool big = false;
  for (size_t i = 0; i < l.n; i++) big |= strstr(l.v[i], "\"0x8000000000000001\"") != NULL;
  CHECK(big);

  /* played back on fresh memory, without the back-end */
  vsim_arena *b = vsim_arena_new(ARENA);
  vsim_host engine2 = {&back, b, e_irq, e_cfg, e_viol, e_event, e_now};
  vsim_be_log log = {"rec.jsonl", l.v, l.no, l.n};
  vsim_backend sb;
  char err[256];
  CHECK_EQ(vsim_standin_create(&log, &engine2, e_wrote, &back, e_diverged, &back, &sb, err, sizeof err), 0);
  uint64_t back_answers = calls(&sb, b);
  CHECK(live_answers == back_answers);
  CHECK_EQ(back.n, live.n);
  for (int i = 0; i < live.n && i < back.n; i++) CHECK(strcmp(live.log[i], back.log[i]) == 0);
  CHECK(memcmp(vsim_arena_base(a), vsim_arena_base(b), ARENA) == 0);
  CHECK(back.diverged[0] == 0);
  CHECK_EQ(vsim_standin_last_status(sb.be), 1);

  /* one call more than recorded: a divergence naming the op, then silence */
  CHECK_EQ(sb.ops->queue_run(sb.be, 0, 4), 0);
  CHECK(strstr(back.diverged, "after the last recorded call") != NULL);
  sb.ops->destroy(sb.be);

  /* another call than recorded: named with the trace line */
  heard third = {0};
  vsim_host engine3 = {&third, b, e_irq, e_cfg, e_viol, e_event, e_now};
  CHECK_EQ(vsim_standin_create(&log, &engine3, e_wrote, &third, e_diverged, &third, &sb, err, sizeof err), 0);
  CHECK_EQ(sb.ops->device_id(sb.be), 2);
  CHECK_EQ(sb.ops->queue_runnable(sb.be, 0), 0); /* the recording has device_features here */
  CHECK(strstr(third.diverged, "rec.jsonl:4:") != NULL); /* lines[2], numbered from 2 */
  CHECK(strstr(third.diverged, "queue_runnable") != NULL && strstr(third.diverged, "device_features") != NULL);
  CHECK_EQ(sb.ops->device_id(sb.be), 0); /* after a divergence: nothing */
  sb.ops->destroy(sb.be);

  vsim_recorder_free(r);
  free(f);
  drop_lines(&l);
  vsim_arena_free(a);
  vsim_arena_free(b);
}

/* Each malformed line: a divergence (or a creation error), no crash, no
 * write outside guest memory. */
static void test_malformed(void) {
  const char *bad[] = {
      "not json",
      "{\"be\":1,\"op\":\"queue_run\",\"a\":[0,4],\"r\":1,\"fx\":[[\"w\",65535,\"0102\"]]}",     /* past the end */
      "{\"be\":1,\"op\":\"queue_run\",\"a\":[0,4],\"r\":1,\"fx\":[[\"w\",\"0xffffffffffffffff\",\"01\"]]}",
      "{\"be\":1,\"op\":\"queue_run\",\"a\":[0,4],\"r\":1,\"fx\":[[\"w\",16,\"0g\"]]}",        /* bad hex */
      "{\"be\":1,\"op\":\"queue_run\",\"a\":[0,4],\"r\":1,\"fx\":[[\"w\",16,\"\"]]}",          /* empty */
      "{\"be\":1,\"op\":\"queue_run\",\"a\":[0,4],\"r\":1,\"fx\":[[\"boom\"]]}",
      "{\"be\":1,\"op\":\"queue_run\",\"a\":[0,4],\"r\":1,\"fx\":[[\"ev\",1,2]]}",
      "{\"be\":1,\"op\":\"queue_run\",\"a\":[0,4],\"r\":1,\"fx\":{}}",
      "{\"be\":1,\"op\":\"queue_run\",\"a\":[0,4],\"fx\":[]}",                                  /* no answer */
      "{\"be\":1,\"op\":\"queue_run\",\"a\":[0],\"r\":1}",                                      /* arguments */
      "{\"be\":1,\"op\":\"queue_run\",\"a\":[0,\"0xzz\"],\"r\":1}",
      "{\"be\":1,\"op\":7,\"a\":[0,4],\"r\":1}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char *v[2] = {strdup("{\"be\":0,\"op\":\"create\",\"name\":\"x\",\"has\":\"\"}"), strdup(bad[i])};
    uint32_t no[2] = {2, 3};
    vsim_be_log log = {"bad.jsonl", v, no, 2};
    heard h = {0};
    vsim_arena *a = vsim_arena_new(ARENA);
    vsim_host engine = {&h, a, e_irq, e_cfg, e_viol, e_event, e_now};
    vsim_backend sb;
    char err[256];
    CHECK_EQ(vsim_standin_create(&log, &engine, e_wrote, &h, e_diverged, &h, &sb, err, sizeof err), 0);
    CHECK_EQ(sb.ops->queue_run(sb.be, 0, 4), 0);
    if (!strstr(h.diverged, "bad.jsonl:3:")) fprintf(stderr, "line %zu: '%s'\n", i, h.diverged);
    CHECK(strstr(h.diverged, "bad.jsonl:3:") != NULL);
    sb.ops->destroy(sb.be);
    vsim_arena_free(a);
    free(v[0]);
    free(v[1]);
  }
  /* no creation record: refused at creation */
  char *v[1] = {strdup("{\"be\":1,\"op\":\"device_id\",\"a\":[],\"r\":2}")};
  uint32_t no[1] = {5};
  vsim_be_log log = {"bad.jsonl", v, no, 1};
  vsim_arena *a = vsim_arena_new(ARENA);
  heard h = {0};
  vsim_host engine = {&h, a, e_irq, e_cfg, e_viol, e_event, e_now};
  vsim_backend sb;
  char err[256] = "";
  CHECK_EQ(vsim_standin_create(&log, &engine, e_wrote, &h, e_diverged, &h, &sb, err, sizeof err), -1);
  CHECK(strstr(err, "bad.jsonl:5:") != NULL);
  vsim_arena_free(a);
  free(v[0]);
}

int main(void) {
  RUN(test_record_and_play);
  RUN(test_malformed);
  TEST_MAIN_END();
}
