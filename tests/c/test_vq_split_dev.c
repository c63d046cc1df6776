/* tests/c/test_vq_split_dev.c — the device side of the split virtqueue.
 *
 * Owns: unit tests for backend-model/vq_split.c and chain.c. Rings are built
 * by hand in an arena, written from the driver side as a driver would; a small
 * recording host keeps every violation, event and arena fault. Each malformed
 * input class must report exactly its check and break the queue; a broken
 * queue must not touch guest memory again.
 * Never: depends on the driver model or the scheduler (this tests the device
 * half alone), or asserts on wall-clock time.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "testutil.h"
#include "virtiosim/arena.h"
#include "virtiosim/backend.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"
#include "vq_split.h"
#include "chain.h"

/* ---- fixture ---------------------------------------------------------------- */

#define ARENA (UINT64_C(2) << 20)
#define DESC UINT64_C(0x10000)   /* room for 32768 descriptors (512 KiB) */
#define AVAIL UINT64_C(0x90000)  /* 4 + 2*32768 + 2 bytes */
#define USED UINT64_C(0xA1000)   /* 4 + 8*32768 + 2 bytes */
#define IND UINT64_C(0xF0000)    /* indirect tables */
#define DATA UINT64_C(0x100000)  /* buffers */

#define F_IND (UINT64_C(1) << VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVT (UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX)
#define NEXT VRING_DESC_F_NEXT
#define WR VRING_DESC_F_WRITE
#define INDIR VRING_DESC_F_INDIRECT

#define MAX_EV 256
#define MAX_VIOL 16

typedef struct rec_ev {
  int kind, q;
  uint64_t a, b, c, d;
} rec_ev;

typedef struct rec {
  int nviol;
  int viol[MAX_VIOL];
  char detail[VSIM_VIOLATION_DETAIL_MAX];
  int nev; /* all events seen; the first MAX_EV are kept */
  rec_ev ev[MAX_EV];
  int nfault;
} rec;

typedef struct fx {
  vsim_arena *a;
  rec r;
  vsim_host host;
  vsim_queue_cfg cfg;
  vsim_vq_dev vq;
  uint64_t feat, mutants;
  uint16_t aidx; /* the driver's avail.idx */
} fx;

static void on_violation(void *ctx, int check, int q, const char *detail) {
  rec *r = ctx;
  if (r->nviol < MAX_VIOL) r->viol[r->nviol] = check;
  r->nviol++;
  snprintf(r->detail, sizeof r->detail, "%s", detail);
}

static void on_event(void *ctx, int kind, int q, uint64_t a, uint64_t b, uint64_t c,
                     uint64_t d) {
  rec *r = ctx;
  if (r->nev < MAX_EV) r->ev[r->nev] = (rec_ev){kind, q, a, b, c, d};
  r->nev++;
}

static void on_fault(void *ctx, const vsim_arena_fault *f) { ((rec *)ctx)->nfault++; }

static void fx_open_at(fx *f, uint16_t size, uint64_t feat, uint64_t mutants, uint64_t desc,
                       uint64_t avail, uint64_t used) {
  memset(f, 0, sizeof *f);
  f->a = vsim_arena_new(ARENA);
  vsim_arena_set_fault_sink(f->a, on_fault, &f->r);
  f->host = (vsim_host){.ctx = &f->r, .arena = f->a, .violation = on_violation, .event = on_event};
  f->cfg = (vsim_queue_cfg){.size = size, .desc = desc, .driver = avail, .device = used};
  f->feat = feat;
  f->mutants = mutants;
  CHECK_EQ(vsim_vq_dev_init(&f->vq, &f->host, 0, &f->cfg, feat, test_mutset(mutants)), 0);
}

static void fx_open(fx *f, uint16_t size, uint64_t feat, uint64_t mutants) {
  fx_open_at(f, size, feat, mutants, DESC, AVAIL, USED);
}

static void fx_close(fx *f) {
  vsim_vq_dev_fini(&f->vq);
  vsim_arena_free(f->a);
}

/* driver-side writes and reads */
static void put_desc(fx *f, uint64_t table, uint32_t i, uint64_t addr, uint32_t len,
                     uint16_t flags, uint16_t next) {
  uint64_t g = table + 16u * i;
  vsim_arena_write64(f->a, VSIM_SIDE_DRIVER, g + offsetof(struct vring_desc, addr), addr);
  vsim_arena_write32(f->a, VSIM_SIDE_DRIVER, g + offsetof(struct vring_desc, len), len);
  vsim_arena_write16(f->a, VSIM_SIDE_DRIVER, g + offsetof(struct vring_desc, flags), flags);
  vsim_arena_write16(f->a, VSIM_SIDE_DRIVER, g + offsetof(struct vring_desc, next), next);
}
static void desc(fx *f, uint32_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
  put_desc(f, f->cfg.desc, i, addr, len, flags, next);
}
static void wr16(fx *f, uint64_t g, uint16_t v) { vsim_arena_write16(f->a, VSIM_SIDE_DRIVER, g, v); }
static uint16_t rd16(fx *f, uint64_t g) {
  uint16_t v = 0;
  vsim_arena_read16(f->a, VSIM_SIDE_DRIVER, g, &v);
  return v;
}
static uint32_t rd32(fx *f, uint64_t g) {
  uint32_t v = 0;
  vsim_arena_read32(f->a, VSIM_SIDE_DRIVER, g, &v);
  return v;
}
static void set_avail_idx(fx *f, uint16_t v) {
  f->aidx = v;
  wr16(f, f->cfg.driver + offsetof(struct vring_avail, idx), v);
}
static void avail_push(fx *f, uint16_t head) {
  wr16(f, f->cfg.driver + offsetof(struct vring_avail, ring) + 2u * (f->aidx % f->cfg.size), head);
  set_avail_idx(f, (uint16_t)(f->aidx + 1));
}
static uint64_t used_event_gpa(fx *f) {
  return f->cfg.driver + offsetof(struct vring_avail, ring) + 2u * f->cfg.size;
}
static uint64_t avail_event_gpa(fx *f) {
  return f->cfg.device + offsetof(struct vring_used, ring) +
         sizeof(struct vring_used_elem) * f->cfg.size;
}
static uint16_t used_idx(fx *f) { return rd16(f, f->cfg.device + offsetof(struct vring_used, idx)); }
static uint16_t used_flags(fx *f) {
  return rd16(f, f->cfg.device + offsetof(struct vring_used, flags));
}
static uint32_t used_id(fx *f, uint32_t slot) {
  return rd32(f, f->cfg.device + offsetof(struct vring_used, ring) + 8u * slot +
                     offsetof(struct vring_used_elem, id));
}
static uint32_t used_len(fx *f, uint32_t slot) {
  return rd32(f, f->cfg.device + offsetof(struct vring_used, ring) + 8u * slot +
                     offsetof(struct vring_used_elem, len));
}
static void set_avail_flags(fx *f, uint16_t v) {
  wr16(f, f->cfg.driver + offsetof(struct vring_avail, flags), v);
}

static const rec_ev *last_ev(fx *f) {
  return f->r.nev > 0 && f->r.nev <= MAX_EV ? &f->r.ev[f->r.nev - 1] : NULL;
}

/* Make n single-descriptor chains available, pop each, push it with len 0.
 * The head is the ring position, so a head is always free when reused. */
static void complete(fx *f, int n) {
  for (int k = 0; k < n; k++) {
    uint16_t head = (uint16_t)(f->aidx % f->cfg.size);
    desc(f, head, DATA + 0x100u * head, 16, 0, 0);
    avail_push(f, head);
    vsim_chain c;
    CHECK_EQ(vsim_vq_dev_pop(&f->vq, &c), 1);
    CHECK_EQ(c.head, head);
    CHECK_EQ(vsim_vq_dev_push(&f->vq, head, 0), 0);
  }
}

/* The queue is broken: a further pop and avail_count return -1 without any
 * guest access (the whole arena is made inaccessible to the device: any
 * access would fault or report). */
static void check_dead(fx *f) {
  CHECK(f->vq.broken);
  int nv = f->r.nviol, nf = f->r.nfault, ne = f->r.nev;
  vsim_arena_set_region(f->a, 0, ARENA, VSIM_REGION_PERM(VSIM_ACC_RW, 0));
  vsim_chain c;
  CHECK_EQ(vsim_vq_dev_pop(&f->vq, &c), -1);
  CHECK_EQ(vsim_vq_dev_avail_count(&f->vq), -1);
  CHECK_EQ(f->r.nviol, nv);
  CHECK_EQ(f->r.nfault, nf);
  CHECK_EQ(f->r.nev, ne);
}

/* Pop once: it must fail with exactly `check`, leave the device state alone,
 * and the queue must be dead afterwards. */
static void expect_pop_violation(fx *f, int check) {
  uint32_t next_avail = f->vq.next_avail, inflight = f->vq.inflight;
  int ne = f->r.nev;
  vsim_chain c;
  CHECK_EQ(vsim_vq_dev_pop(&f->vq, &c), -1);
  CHECK_EQ(f->r.nviol, 1);
  CHECK_EQ(f->r.viol[0], check);
  CHECK_EQ(f->vq.next_avail, next_avail);
  CHECK_EQ(f->vq.inflight, inflight);
  CHECK_EQ(f->r.nev, ne); /* no POP event */
  if (f->r.nviol != 1 || f->r.viol[0] != check)
    fprintf(stderr, "  (got %d violations, first %d, detail \"%s\")\n", f->r.nviol,
            f->r.nviol ? f->r.viol[0] : -1, f->r.detail);
  check_dead(f);
}

/* ---- well-formed input -------------------------------------------------------- */

static void test_direct_chain(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  vsim_arena_write(f.a, VSIM_SIDE_DRIVER, DATA, "0123456789abcdef", 16);
  desc(&f, 0, DATA, 16, NEXT, 5);
  desc(&f, 5, DATA + 0x1000, 100, WR | NEXT, 2);
  desc(&f, 2, DATA + 0x2000, 0, WR | NEXT, 3); /* zero-length: kept, harmless */
  desc(&f, 3, DATA + 0x3000, 28, WR, 0);
  avail_push(&f, 0);
  CHECK_EQ(vsim_vq_dev_avail_count(&f.vq), 1);
  vsim_chain c;
  CHECK_EQ(vsim_vq_dev_pop(&f.vq, &c), 1);
  CHECK_EQ(c.head, 0);
  CHECK_EQ(c.nseg, 4);
  CHECK_EQ(c.nread, 1);
  CHECK_EQ(c.rd_bytes, 16);
  CHECK_EQ(c.wr_bytes, 128);
  CHECK(c.seg[0].gpa == DATA && c.seg[0].len == 16 && !c.seg[0].write);
  CHECK(c.seg[1].gpa == DATA + 0x1000 && c.seg[1].len == 100 && c.seg[1].write);
  CHECK(c.seg[2].gpa == DATA + 0x2000 && c.seg[2].len == 0 && c.seg[2].write);
  CHECK(c.seg[3].gpa == DATA + 0x3000 && c.seg[3].len == 28 && c.seg[3].write);
  CHECK_EQ(f.vq.next_avail, 1);
  CHECK_EQ(f.vq.inflight, 1);
  CHECK_EQ(f.vq.head_inflight[0], 1);
  const rec_ev *e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_POP && e->q == 0 && e->a == 0 && e->b == 4 && e->c == 16 &&
        e->d == 128);

  /* chain copy helpers */
  char buf[32] = {0};
  CHECK_EQ(vsim_chain_read(&c, f.a, 4, buf, 8), 0);
  CHECK(memcmp(buf, "456789ab", 8) == 0);
  CHECK_EQ(vsim_chain_read(&c, f.a, 10, buf, 7), -1);       /* past the readable part */
  CHECK_EQ(vsim_chain_read(&c, f.a, 16, buf, 0), 0);        /* empty range at the end */
  CHECK_EQ(vsim_chain_read(&c, f.a, UINT64_MAX, buf, 2), -1); /* off+len would wrap */
  memset(buf, 'z', sizeof buf);
  /* off+len wraps to 2: refused before anything is copied */
  CHECK_EQ(vsim_chain_read(&c, f.a, 4, buf, UINT64_MAX - 1), -1);
  CHECK(buf[0] == 'z' && buf[11] == 'z');
  char src[20];
  for (int i = 0; i < 20; i++) src[i] = (char)('A' + i);
  CHECK_EQ(vsim_chain_write(&c, f.a, 90, src, 20), 0); /* 10 in seg 1, 0 in seg 2, 10 in seg 3 */
  char got[10];
  vsim_arena_read(f.a, VSIM_SIDE_DRIVER, DATA + 0x1000 + 90, got, 10);
  CHECK(memcmp(got, src, 10) == 0);
  vsim_arena_read(f.a, VSIM_SIDE_DRIVER, DATA + 0x3000, got, 10);
  CHECK(memcmp(got, src + 10, 10) == 0);
  CHECK_EQ(vsim_chain_write(&c, f.a, 120, src, 9), -1);
  CHECK_EQ(vsim_chain_write(&c, f.a, UINT64_MAX - 1, src, 4), -1);
  uint64_t so = 99;
  CHECK_EQ(vsim_chain_locate(&c, true, 100, &so), 3); /* skips the zero-length segment */
  CHECK_EQ(so, 0);
  CHECK_EQ(vsim_chain_locate(&c, true, 99, &so), 1);
  CHECK_EQ(so, 99);
  CHECK_EQ(vsim_chain_locate(&c, false, 15, &so), 0);
  CHECK_EQ(so, 15);
  CHECK_EQ(vsim_chain_locate(&c, false, 16, &so), -1);
  CHECK_EQ(vsim_chain_locate(&c, true, 128, &so), -1);

  CHECK_EQ(vsim_vq_dev_pop(&f.vq, &c), 0); /* empty */
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 0, 110), 0);
  CHECK_EQ(used_id(&f, 0), 0);
  CHECK_EQ(used_len(&f, 0), 110);
  CHECK_EQ(used_idx(&f), 0); /* not visible before publish */
  CHECK_EQ(f.vq.next_used, 1);
  CHECK_EQ(f.vq.inflight, 0);
  CHECK_EQ(f.vq.head_inflight[0], 0);
  e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_USED && e->a == 0 && e->b == 110);
  CHECK(vsim_vq_dev_publish(&f.vq)); /* avail.flags 0: interrupt */
  CHECK_EQ(used_idx(&f), 1);
  CHECK_EQ(f.vq.published_used, 1);
  e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_USED_PUBLISH && e->a == 0 && e->b == 1);
  int ne = f.r.nev;
  CHECK(!vsim_vq_dev_publish(&f.vq)); /* nothing new */
  CHECK_EQ(f.r.nev, ne);
  CHECK_EQ(f.r.nviol, 0);
  CHECK_EQ(f.r.nfault, 0);
  fx_close(&f);
}

static void test_indirect_chain(void) {
  fx f;
  fx_open(&f, 8, F_IND, 0);
  put_desc(&f, IND, 0, DATA, 10, NEXT, 2);
  put_desc(&f, IND, 2, DATA + 0x100, 20, WR | NEXT, 1);
  put_desc(&f, IND, 1, DATA + 0x200, 30, WR, 0);
  /* WRITE on the descriptor that points at the table: the device ignores it */
  desc(&f, 3, IND, 48, INDIR | WR, 0);
  avail_push(&f, 3);
  vsim_chain c;
  CHECK_EQ(vsim_vq_dev_pop(&f.vq, &c), 1);
  CHECK_EQ(c.head, 3);
  CHECK_EQ(c.nseg, 3);
  CHECK_EQ(c.nread, 1);
  CHECK_EQ(c.rd_bytes, 10);
  CHECK_EQ(c.wr_bytes, 50);
  CHECK(c.seg[0].gpa == DATA && !c.seg[0].write);
  CHECK(c.seg[1].gpa == DATA + 0x100 && c.seg[1].write);
  CHECK(c.seg[2].gpa == DATA + 0x200 && c.seg[2].write);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

static void test_direct_then_indirect(void) {
  fx f;
  fx_open(&f, 8, F_IND, 0);
  desc(&f, 1, DATA, 8, NEXT, 6);
  desc(&f, 6, DATA + 0x10, 4, NEXT, 4);
  desc(&f, 4, IND, 32, INDIR, 0);
  put_desc(&f, IND, 0, DATA + 0x20, 2, NEXT, 1);
  put_desc(&f, IND, 1, DATA + 0x100, 64, WR, 0);
  avail_push(&f, 1);
  vsim_chain c;
  CHECK_EQ(vsim_vq_dev_pop(&f.vq, &c), 1);
  CHECK_EQ(c.head, 1);
  CHECK_EQ(c.nseg, 4);
  CHECK_EQ(c.nread, 3);
  CHECK_EQ(c.rd_bytes, 14);
  CHECK_EQ(c.wr_bytes, 64);
  CHECK(c.seg[2].gpa == DATA + 0x20 && c.seg[3].gpa == DATA + 0x100 && c.seg[3].write);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

/* Boundaries that are still legal: a chain of exactly queue-size buffers, and
 * an indirect table of exactly queue-size entries, all chained. */
static void test_chain_limits_ok(void) {
  fx f;
  fx_open(&f, 8, F_IND, 0);
  for (uint16_t i = 0; i < 8; i++) desc(&f, i, DATA + i, 1, i < 7 ? NEXT : 0, (uint16_t)(i + 1));
  avail_push(&f, 0);
  vsim_chain c;
  CHECK_EQ(vsim_vq_dev_pop(&f.vq, &c), 1);
  CHECK_EQ(c.nseg, 8);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 0, 0), 0);
  for (uint16_t i = 0; i < 8; i++)
    put_desc(&f, IND, i, DATA + i, 1, i < 7 ? NEXT : 0, (uint16_t)(i + 1));
  desc(&f, 0, IND, 16 * 8, INDIR, 0);
  avail_push(&f, 0);
  CHECK_EQ(vsim_vq_dev_pop(&f.vq, &c), 1);
  CHECK_EQ(c.nseg, 8);
  /* zero-length buffer at the very end of guest memory: inside, legal */
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 0, 0), 0);
  desc(&f, 0, ARENA, 0, 0, 0);
  avail_push(&f, 0);
  CHECK_EQ(vsim_vq_dev_pop(&f.vq, &c), 1);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

/* avail and used indices run past 65535; the device's 32-bit counters and the
 * 16-bit values in memory must agree modulo 2^16, and the EVENT_IDX window
 * must work across the wrap. */
static void test_wraparound(void) {
  fx f;
  fx_open(&f, 8, F_EVT, 0);
  f.vq.next_avail = f.vq.next_used = f.vq.published_used = 65530;
  set_avail_idx(&f, 65530);
  wr16(&f, used_event_gpa(&f), 65535);
  const bool want[3] = {false, true, false}; /* windows [65530,65535) [65535,4) [4,9) */
  for (int round = 0; round < 3; round++) {
    uint16_t start = f.aidx;
    for (int k = 0; k < 5; k++) {
      uint16_t head = (uint16_t)k;
      desc(&f, head, DATA + 0x100u * head, 16, WR, 0);
      avail_push(&f, head);
    }
    CHECK_EQ(vsim_vq_dev_avail_count(&f.vq), 5);
    for (int k = 0; k < 5; k++) {
      vsim_chain c;
      CHECK_EQ(vsim_vq_dev_pop(&f.vq, &c), 1);
      CHECK_EQ(c.head, k);
    }
    CHECK_EQ(vsim_vq_dev_pop(&f.vq, &(vsim_chain){0}), 0);
    for (int k = 0; k < 5; k++) CHECK_EQ(vsim_vq_dev_push(&f.vq, (uint16_t)k, (uint32_t)(k + 1)), 0);
    bool irq = vsim_vq_dev_publish(&f.vq);
    CHECK_EQ(irq, want[round]);
    uint16_t end = (uint16_t)(start + 5);
    CHECK_EQ(used_idx(&f), end);
    const rec_ev *e = last_ev(&f);
    CHECK(e && e->kind == VSIM_EV_USED_PUBLISH && e->a == start && e->b == end);
    for (int k = 0; k < 5; k++) {
      uint32_t slot = (uint16_t)(start + k) % 8u;
      CHECK_EQ(used_id(&f, slot), k);
      CHECK_EQ(used_len(&f, slot), k + 1);
    }
  }
  CHECK_EQ(f.vq.next_avail, 65545);
  CHECK_EQ(f.r.nviol, 0);
  /* re-enabling writes the 16-bit truncation of next_avail */
  vsim_vq_dev_set_notify(&f.vq, false);
  vsim_vq_dev_set_notify(&f.vq, true);
  CHECK_EQ(rd16(&f, avail_event_gpa(&f)), 9);
  fx_close(&f);
}

/* ---- interrupt decision and notification suppression ---------------------------- */

static void test_publish_flags(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  set_avail_flags(&f, VRING_AVAIL_F_NO_INTERRUPT);
  complete(&f, 1);
  CHECK(!vsim_vq_dev_publish(&f.vq));
  CHECK_EQ(used_idx(&f), 1); /* suppression does not hold back the publish */
  set_avail_flags(&f, 0xfffe); /* unknown bits are ignored */
  complete(&f, 1);
  CHECK(vsim_vq_dev_publish(&f.vq));
  set_avail_flags(&f, 0);
  complete(&f, 2);
  CHECK(vsim_vq_dev_publish(&f.vq));
  CHECK_EQ(used_idx(&f), 4);
  CHECK(!vsim_vq_dev_publish(&f.vq)); /* nothing new: never interrupt */
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

static void test_publish_event_idx(void) {
  fx f;
  fx_open(&f, 8, F_EVT, 0);
  struct {
    int n;
    uint16_t used_event;
    bool irq;
  } steps[] = {
      {3, 0, true},       /* [0,3): used_event == old idx, exact transition: MUST */
      {3, 5, true},       /* [3,6): used_event == new - 1 */
      {3, 9, false},      /* [6,9): used_event == new: not yet */
      {1, 1000, false},   /* far away */
      {1, 0xffff, false}, /* poisoned */
      {1, 10, false},     /* [11,12): already passed */
      {1, 12, true},      /* [12,13): exact transition again */
  };
  for (unsigned i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    wr16(&f, used_event_gpa(&f), steps[i].used_event);
    complete(&f, steps[i].n);
    bool irq = vsim_vq_dev_publish(&f.vq);
    if (irq != steps[i].irq) fprintf(stderr, "  event-idx step %u\n", i);
    CHECK_EQ(irq, steps[i].irq);
  }
  /* avail.flags is not consulted with EVENT_IDX */
  set_avail_flags(&f, VRING_AVAIL_F_NO_INTERRUPT);
  wr16(&f, used_event_gpa(&f), 13);
  complete(&f, 1);
  CHECK(vsim_vq_dev_publish(&f.vq));
  CHECK(!vsim_vq_dev_publish(&f.vq));
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

static void test_set_notify_flags(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  CHECK(f.vq.notify_enabled);
  vsim_vq_dev_set_notify(&f.vq, false);
  CHECK_EQ(used_flags(&f), VRING_USED_F_NO_NOTIFY);
  CHECK(!f.vq.notify_enabled);
  const rec_ev *e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_NOTIFY_ENABLE && e->a == 0 && e->b == 0);
  vsim_vq_dev_set_notify(&f.vq, true);
  CHECK_EQ(used_flags(&f), 0);
  CHECK(f.vq.notify_enabled);
  e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_NOTIFY_ENABLE && e->a == 1 && e->b == 0);
  fx_close(&f);
}

static void test_set_notify_event_idx(void) {
  fx f;
  fx_open(&f, 8, F_EVT, 0);
  wr16(&f, avail_event_gpa(&f), 0xbeef);
  wr16(&f, f.cfg.device + offsetof(struct vring_used, flags), 7);
  complete(&f, 5);
  /* two more popped but not completed: avail_event follows next_avail (7),
   * not next_used (5) */
  for (uint16_t h = 5; h < 7; h++) {
    desc(&f, h, DATA, 4, 0, 0);
    avail_push(&f, h);
    CHECK_EQ(vsim_vq_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  }
  vsim_vq_dev_set_notify(&f.vq, false);
  CHECK_EQ(used_flags(&f), 0);
  CHECK_EQ(rd16(&f, avail_event_gpa(&f)), 0xbeef); /* left alone when disabling */
  CHECK(!f.vq.notify_enabled);
  vsim_vq_dev_set_notify(&f.vq, true);
  CHECK_EQ(used_flags(&f), 0);
  CHECK_EQ(rd16(&f, avail_event_gpa(&f)), 7);
  const rec_ev *e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_NOTIFY_ENABLE && e->a == 1 && e->b == 7);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

/* ---- push misuse by the device model -------------------------------------------- */

static void test_push_misuse(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 8, 0), -1); /* never a ring write */
  CHECK_EQ(f.vq.next_used, 0);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 2, 5), 0); /* not in flight: written, counters intact */
  CHECK_EQ(f.vq.inflight, 0);
  CHECK_EQ(f.vq.next_used, 1);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);

  vsim_vq_dev vq;
  vsim_host h = {0};
  vsim_queue_cfg cfg = {.size = 0};
  CHECK_EQ(vsim_vq_dev_init(&vq, &h, 0, &cfg, 0, VSIM_MUT_NONE), -1);
  vsim_vq_dev_fini(&vq); /* safe after a failed init */
}

/* ---- malformed input: one check each ---------------------------------------- */

static void test_bad_avail_idx_jump(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  set_avail_idx(&f, 9);
  CHECK_EQ(vsim_vq_dev_avail_count(&f.vq), -1);
  CHECK_EQ(f.r.nviol, 1);
  CHECK_EQ(f.r.viol[0], VSIM_CHK_SPLIT_AVAIL_IDX);
  check_dead(&f);
  fx_close(&f);

  fx_open(&f, 8, 0, 0); /* the same through pop */
  set_avail_idx(&f, 200);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_AVAIL_IDX);
  fx_close(&f);
}

static void test_bad_avail_idx_back(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  complete(&f, 1);
  desc(&f, 1, DATA, 4, 0, 0);
  avail_push(&f, 1);
  avail_push(&f, 1);
  CHECK_EQ(vsim_vq_dev_avail_count(&f.vq), 2);
  set_avail_idx(&f, 2); /* withdraws one entry the device has seen */
  expect_pop_violation(&f, VSIM_CHK_SPLIT_AVAIL_IDX);
  fx_close(&f);

  fx_open(&f, 8, 0, 0);
  complete(&f, 2);
  set_avail_idx(&f, 1); /* behind the device */
  expect_pop_violation(&f, VSIM_CHK_SPLIT_AVAIL_IDX);
  fx_close(&f);
}

static void test_bad_ring_outside_memory(void) {
  fx f;
  /* available ring straddles the end of guest memory */
  fx_open_at(&f, 8, 0, 0, DESC, ARENA - 2, USED);
  CHECK_EQ(vsim_vq_dev_avail_count(&f.vq), -1);
  CHECK_EQ(f.r.nviol, 1);
  CHECK_EQ(f.r.viol[0], VSIM_CHK_SPLIT_DESC_ADDR);
  CHECK(strstr(f.r.detail, "ring outside guest memory") != NULL);
  CHECK_EQ(f.r.nfault, 0); /* the driver's error, not a device out-of-bounds access */
  check_dead(&f);
  fx_close(&f);

  /* available ring at the top of the address space: base + offset wraps */
  fx_open_at(&f, 8, 0, 0, DESC, UINT64_MAX - 1, USED);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_DESC_ADDR);
  fx_close(&f);

  /* descriptor table outside guest memory */
  fx_open_at(&f, 8, 0, 0, ARENA + 0x1000, AVAIL, USED);
  avail_push(&f, 0);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_DESC_ADDR);
  CHECK_EQ(f.r.nfault, 0);
  fx_close(&f);

  /* descriptor table whose last entries wrap 2^64 */
  fx_open_at(&f, 8, 0, 0, UINT64_MAX - 15 - 16 * 3, AVAIL, USED);
  avail_push(&f, 5);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_DESC_ADDR);
  fx_close(&f);

  /* used ring outside memory: publish cannot write used.idx */
  fx_open_at(&f, 8, 0, 0, DESC, AVAIL, ARENA);
  desc(&f, 0, DATA, 4, 0, 0);
  avail_push(&f, 0);
  CHECK_EQ(vsim_vq_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 0, 0), -1);
  CHECK_EQ(f.r.nviol, 1);
  CHECK_EQ(f.r.viol[0], VSIM_CHK_SPLIT_DESC_ADDR);
  CHECK_EQ(f.r.nfault, 0);
  check_dead(&f);
  fx_close(&f);
}

static void test_bad_align(void) {
  fx f;
  fx_open_at(&f, 8, 0, 0, DESC, AVAIL, USED + 2);
  CHECK_EQ(f.r.nviol, 1);
  CHECK_EQ(f.r.viol[0], VSIM_CHK_SPLIT_ALIGN);
  check_dead(&f);
  fx_close(&f);
}

static void test_bad_head_range(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  avail_push(&f, 8);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_HEAD_RANGE);
  fx_close(&f);
}

static void test_bad_head_inflight(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  desc(&f, 0, DATA, 4, 0, 0);
  avail_push(&f, 0);
  avail_push(&f, 0);
  CHECK_EQ(vsim_vq_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_HEAD_INFLIGHT);
  fx_close(&f);
}

static void test_bad_next_range(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  desc(&f, 0, DATA, 4, NEXT, 8);
  avail_push(&f, 0);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_NEXT_RANGE);
  fx_close(&f);

  /* inside an indirect table the bound is the table, not the queue */
  fx_open(&f, 8, F_IND, 0);
  put_desc(&f, IND, 0, DATA, 4, NEXT, 2);
  put_desc(&f, IND, 1, DATA, 4, 0, 0);
  desc(&f, 0, IND, 32, INDIR, 0);
  avail_push(&f, 0);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_NEXT_RANGE);
  fx_close(&f);
}

static void test_bad_loop(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  desc(&f, 0, DATA, 4, NEXT, 1);
  desc(&f, 1, DATA, 4, NEXT, 0);
  avail_push(&f, 0);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_CHAIN_LOOP);
  fx_close(&f);

  /* a zero-length self-loop is still a loop */
  fx_open(&f, 8, 0, 0);
  desc(&f, 3, DATA, 0, NEXT, 3);
  avail_push(&f, 3);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_CHAIN_LOOP);
  fx_close(&f);

  /* a loop inside an indirect table */
  fx_open(&f, 8, F_IND, 0);
  put_desc(&f, IND, 0, DATA, 4, NEXT, 1);
  put_desc(&f, IND, 1, DATA, 4, NEXT, 0);
  desc(&f, 0, IND, 32, INDIR, 0);
  avail_push(&f, 0);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_CHAIN_LOOP);
  fx_close(&f);

  /* direct buffers and indirect entries count together: 1 + 8 > 8 */
  fx_open(&f, 8, F_IND, 0);
  for (uint16_t i = 0; i < 8; i++)
    put_desc(&f, IND, i, DATA + i, 1, i < 7 ? NEXT : 0, (uint16_t)(i + 1));
  desc(&f, 0, DATA, 1, NEXT, 1);
  desc(&f, 1, IND, 16 * 8, INDIR, 0);
  avail_push(&f, 0);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_CHAIN_LOOP);
  fx_close(&f);
}

/* The largest queue, one big cycle: the walk stops after 32768 buffers. */
static void test_bad_loop_32768(void) {
  fx f;
  fx_open(&f, 32768, 0, 0);
  for (uint32_t i = 0; i < 32768; i++) desc(&f, i, DATA, 1, NEXT, (uint16_t)((i + 1) % 32768));
  avail_push(&f, 12345);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_CHAIN_LOOP);
  fx_close(&f);
}

/* 2^32 bytes exactly is legal, one more byte is not. 32768 descriptors of
 * 128 KiB each all point at the same guest buffer (overlap is not forbidden),
 * so the test needs no 4 GiB of guest memory. */
static void test_chain_bytes(void) {
  for (int over = 0; over < 2; over++) {
    fx f;
    fx_open(&f, 32768, 0, 0);
    for (uint32_t i = 0; i < 32768; i++) {
      uint32_t len = (i == 32767 && over) ? 131073 : 131072;
      desc(&f, i, DATA, len, i < 32767 ? NEXT : 0, (uint16_t)(i + 1));
    }
    avail_push(&f, 0);
    if (!over) {
      vsim_chain c;
      CHECK_EQ(vsim_vq_dev_pop(&f.vq, &c), 1);
      CHECK_EQ(c.nseg, 32768);
      CHECK(c.rd_bytes == (UINT64_C(1) << 32));
      CHECK_EQ(f.r.nviol, 0);
    } else {
      expect_pop_violation(&f, VSIM_CHK_SPLIT_CHAIN_BYTES);
    }
    fx_close(&f);
  }
}

static void test_bad_desc_addr(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  desc(&f, 0, ARENA - 8, 16, 0, 0); /* past the end of guest memory */
  avail_push(&f, 0);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_DESC_ADDR);
  CHECK_EQ(f.r.nfault, 0);
  fx_close(&f);

  fx_open(&f, 8, 0, 0);
  desc(&f, 0, DATA, 4, NEXT, 1);
  desc(&f, 1, UINT64_MAX - 7, 16, WR, 0); /* addr + len wraps 2^64 */
  avail_push(&f, 0);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_DESC_ADDR);
  CHECK(strstr(f.r.detail, "wraps") != NULL);
  fx_close(&f);

  /* direction: device-writable buffer in memory the device may only read */
  fx_open(&f, 8, 0, 0);
  vsim_arena_set_region(f.a, DATA, 0x1000, VSIM_REGION_PERM(VSIM_ACC_RW, VSIM_ACC_READ));
  desc(&f, 0, DATA, 16, 0, 0); /* readable there: fine */
  avail_push(&f, 0);
  CHECK_EQ(vsim_vq_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  desc(&f, 1, DATA, 16, WR, 0);
  avail_push(&f, 1);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_DESC_ADDR);
  fx_close(&f);

  /* and a device-readable buffer in memory the device may only write */
  fx_open(&f, 8, 0, 0);
  vsim_arena_set_region(f.a, DATA, 0x1000, VSIM_REGION_PERM(VSIM_ACC_RW, VSIM_ACC_WRITE));
  desc(&f, 0, DATA, 16, 0, 0);
  avail_push(&f, 0);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_DESC_ADDR);
  fx_close(&f);
}

static void test_bad_rd_after_wr(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  desc(&f, 0, DATA, 4, WR | NEXT, 1);
  desc(&f, 1, DATA + 8, 4, 0, 0);
  avail_push(&f, 0);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_RD_AFTER_WR);
  fx_close(&f);

  /* the order holds across the switch into an indirect table */
  fx_open(&f, 8, F_IND, 0);
  desc(&f, 0, DATA, 4, WR | NEXT, 1);
  desc(&f, 1, IND, 16, INDIR, 0);
  put_desc(&f, IND, 0, DATA + 8, 4, 0, 0);
  avail_push(&f, 0);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_RD_AFTER_WR);
  fx_close(&f);
}


/* A buffer the device would have to write although it must not: a writable
 * one over a ring part of any guarded queue, over the chain's indirect table
 * or over a readable buffer of the chain; a readable one over a used ring. */
static void test_bad_write_overlap(void) {
  struct { uint64_t addr; uint32_t len; bool write; } cases[] = {
      {DESC + 16 * 5, 16, true},       /* a descriptor of the table (not this chain's) */
      {AVAIL + 2, 2, true},            /* avail.idx */
      {AVAIL + 4 + 2 * 8, 1, true},    /* used_event */
      {USED + 4, 8, true},             /* used.ring[0] */
      {USED + 4 + 8 * 8, 2, true},     /* avail_event */
      {DATA + 2, 4, true},             /* the readable buffer of the chain */
      {USED + 1, 4, false},            /* readable, over used.flags/idx */
  };
  for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    fx f;
    fx_open(&f, 8, 0, 0);
    desc(&f, 0, DATA, 16, NEXT, 1);
    desc(&f, 1, cases[k].addr, cases[k].len, cases[k].write ? WR : 0, 0);
    if (!cases[k].write) {
      desc(&f, 1, cases[k].addr, cases[k].len, NEXT, 2);
      desc(&f, 2, DATA + 64, 1, WR, 0);
    }
    avail_push(&f, 0);
    expect_pop_violation(&f, VSIM_CHK_SPLIT_WRITE_OVERLAP);
    CHECK_EQ(f.r.nfault, 0);
    fx_close(&f);
  }
  /* the chain's own indirect table */
  fx f;
  fx_open(&f, 8, F_IND, 0);
  put_desc(&f, IND, 0, DATA, 16, NEXT, 1);
  put_desc(&f, IND, 1, IND + 8, 16, WR, 0);
  desc(&f, 0, IND, 32, INDIR, 0);
  avail_push(&f, 0);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_WRITE_OVERLAP);
  fx_close(&f);
  /* another queue's rings, through the device core's guard */
  vsim_ring_part other[3] = {{0x1000, 128, 1, 0}, {0x1080, 22, 1, 1}, {0x10c0, 70, 1, 2}};
  vsim_ring_guard g = {other, 3};
  fx_open(&f, 8, 0, 0);
  vsim_vq_dev_set_guard(&f.vq, &g);
  desc(&f, 0, DATA, 16, NEXT, 1);
  desc(&f, 1, 0x10c0 + 60, 4, WR, 0);
  avail_push(&f, 0);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_WRITE_OVERLAP);
  fx_close(&f);
  /* adjacent is not overlapping: header right before the writable buffer,
   * readable buffers over the descriptor table and the available ring, and
   * many readable buffers around a writable one (the sorted search) */
  fx_open(&f, 16, 0, 0);
  desc(&f, 0, DATA, 16, NEXT, 1);
  desc(&f, 1, DESC, 16, NEXT, 2);
  desc(&f, 2, AVAIL, 4, NEXT, 3);
  for (uint16_t i = 3; i < 12; i++) desc(&f, i, DATA + 0x1000 - 64u * i, 32, NEXT, (uint16_t)(i + 1));
  desc(&f, 12, DATA + 16, 8, WR | NEXT, 13);
  desc(&f, 13, DATA + 0x1000, 8, WR, 0);
  avail_push(&f, 0);
  vsim_chain c;
  CHECK_EQ(vsim_vq_dev_pop(&f.vq, &c), 1);
  CHECK_EQ(f.r.nviol, 0);
  CHECK_EQ(c.nseg, 14);
  fx_close(&f);
}

static void test_bad_indirect(void) {
  fx f;
  /* not negotiated */
  fx_open(&f, 8, 0, 0);
  put_desc(&f, IND, 0, DATA, 4, 0, 0);
  desc(&f, 0, IND, 16, INDIR, 0);
  avail_push(&f, 0);
  expect_pop_violation(&f, VSIM_CHK_INDIR_NOT_NEG);
  fx_close(&f);

  /* INDIRECT together with NEXT */
  fx_open(&f, 8, F_IND, 0);
  put_desc(&f, IND, 0, DATA, 4, 0, 0);
  desc(&f, 0, IND, 16, INDIR | NEXT, 1);
  desc(&f, 1, DATA, 4, 0, 0);
  avail_push(&f, 0);
  expect_pop_violation(&f, VSIM_CHK_INDIR_WITH_NEXT);
  fx_close(&f);

  /* nested */
  fx_open(&f, 8, F_IND, 0);
  put_desc(&f, IND, 0, DATA, 4, NEXT, 1);
  put_desc(&f, IND, 1, IND + 0x100, 16, INDIR, 0);
  put_desc(&f, IND + 0x100, 0, DATA, 4, 0, 0);
  desc(&f, 0, IND, 32, INDIR, 0);
  avail_push(&f, 0);
  expect_pop_violation(&f, VSIM_CHK_INDIR_NESTED);
  fx_close(&f);

  /* table length: 0, not a multiple of 16, more than queue-size entries */
  const uint32_t bad_len[] = {0, 24, 16 * 9};
  for (unsigned i = 0; i < 3; i++) {
    fx_open(&f, 8, F_IND, 0);
    for (uint16_t k = 0; k < 9; k++) put_desc(&f, IND, k, DATA, 4, 0, 0);
    desc(&f, 0, IND, bad_len[i], INDIR, 0);
    avail_push(&f, 0);
    expect_pop_violation(&f, VSIM_CHK_INDIR_LEN);
    fx_close(&f);
  }

  /* table outside memory, and a table wrapping 2^64 */
  const uint64_t bad_addr[] = {ARENA - 16, UINT64_MAX - 15};
  for (unsigned i = 0; i < 2; i++) {
    fx_open(&f, 8, F_IND, 0);
    desc(&f, 0, bad_addr[i], 32, INDIR, 0);
    avail_push(&f, 0);
    expect_pop_violation(&f, VSIM_CHK_SPLIT_DESC_ADDR);
    CHECK_EQ(f.r.nfault, 0);
    fx_close(&f);
  }
}

/* ---- time of check vs time of use -------------------------------------------- */

static void test_toctou(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  vsim_arena_write(f.a, VSIM_SIDE_DRIVER, DATA, "good", 4);
  vsim_arena_write(f.a, VSIM_SIDE_DRIVER, DATA + 0x800, "evil", 4);
  desc(&f, 0, DATA, 4, NEXT, 1);
  desc(&f, 1, DATA + 0x100, 8, WR, 0);
  avail_push(&f, 0);
  vsim_chain c;
  CHECK_EQ(vsim_vq_dev_pop(&f.vq, &c), 1);
  /* the driver rewrites the chain after the device validated it */
  desc(&f, 0, DATA + 0x800, 4000, WR | NEXT, 7);
  desc(&f, 1, ARENA - 4, 0x10000, 0, 0);
  wr16(&f, AVAIL + offsetof(struct vring_avail, ring), 6);
  CHECK_EQ(c.head, 0);
  CHECK_EQ(c.nseg, 2);
  CHECK(c.seg[0].gpa == DATA && c.seg[0].len == 4 && !c.seg[0].write);
  CHECK(c.seg[1].gpa == DATA + 0x100 && c.seg[1].len == 8 && c.seg[1].write);
  char buf[4];
  CHECK_EQ(vsim_chain_read(&c, f.a, 0, buf, 4), 0);
  CHECK(memcmp(buf, "good", 4) == 0);
  CHECK_EQ(vsim_chain_write(&c, f.a, 0, "12345678", 8), 0);
  CHECK_EQ(vsim_chain_write(&c, f.a, 8, "x", 1), -1);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, c.head, 8), 0);
  CHECK_EQ(used_id(&f, 0), 0);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

/* ---- mutants ---------------------------------------------------------------- */

/* dev.no-loop-check: the walk skips its chain-length check and nothing else.
 * A loop is walked up to the engine's hard bound (2^20 descriptor reads),
 * far above the work bound for any queue size, and then the queue breaks
 * without a report: no hang, no segs[] overrun, nothing the driver did wrong
 * reported. */
static void test_mutant_no_loop_check(void) {
  const uint64_t mut = TMUT(DEV_NO_LOOP_CHECK);
  fx f;
  fx_open(&f, 8, 0, mut);
  desc(&f, 3, DATA, 0, NEXT, 3); /* a zero-length self-loop: no byte limit either */
  avail_push(&f, 3);
  uint64_t before = vsim_arena_access_count_side(f.a, VSIM_SIDE_DEVICE);
  vsim_chain c;
  CHECK_EQ(vsim_vq_dev_pop(&f.vq, &c), -1);
  uint64_t did = vsim_arena_access_count_side(f.a, VSIM_SIDE_DEVICE) - before;
  CHECK_EQ(did, (UINT64_C(1) << 20) + 2); /* avail.idx, the head, 2^20 descriptors */
  CHECK(did > VSIM_BACKEND_CHAIN_WORK(32768));
  CHECK_EQ(f.r.nviol, 0);
  CHECK_EQ(f.r.nev, 0); /* no POP */
  CHECK_EQ(f.r.nfault, 0);
  check_dead(&f);
  fx_close(&f);

  /* a chain longer than the queue but finite (1 direct + 8 indirect in a
   * queue of 8): walked to its end, then refused silently (segs[] holds 8) */
  fx_open(&f, 8, F_IND, mut);
  for (uint16_t i = 0; i < 8; i++)
    put_desc(&f, IND, i, DATA + i, 1, i < 7 ? NEXT : 0, (uint16_t)(i + 1));
  desc(&f, 0, DATA, 1, NEXT, 1);
  desc(&f, 1, IND, 16 * 8, INDIR, 0);
  avail_push(&f, 0);
  before = vsim_arena_access_count_side(f.a, VSIM_SIDE_DEVICE);
  CHECK_EQ(vsim_vq_dev_pop(&f.vq, &c), -1);
  CHECK_EQ(vsim_arena_access_count_side(f.a, VSIM_SIDE_DEVICE) - before, 2 + 2 + 8);
  CHECK_EQ(f.r.nviol, 0);
  check_dead(&f);
  fx_close(&f);

  /* the other limits stay: a loop of 64 KiB buffers passes 2^32 bytes after
   * 65537 descriptors, which is reported as ever */
  fx_open(&f, 8, 0, mut);
  desc(&f, 0, DATA, 65536, NEXT, 1);
  desc(&f, 1, DATA, 65536, NEXT, 0);
  avail_push(&f, 0);
  expect_pop_violation(&f, VSIM_CHK_SPLIT_CHAIN_BYTES);
  fx_close(&f);

  /* and well-formed chains are served as by the correct model */
  fx_open(&f, 8, 0, mut);
  complete(&f, 20);
  CHECK_EQ(f.r.nviol, 0);
  CHECK_EQ(used_idx(&f), 0); /* pushed, not published */
  fx_close(&f);
}

static void test_mutant_used_id_range(void) {
  fx f;
  fx_open(&f, 8, 0, TMUT(DEV_USED_ID_RANGE));
  complete(&f, 1);
  CHECK_EQ(used_id(&f, 0), 8 + 3);
  CHECK_EQ(f.vq.inflight, 0); /* the real head was retired */
  const rec_ev *e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_USED && e->a == 11);
  fx_close(&f);
}

static void test_mutant_used_len_over(void) {
  fx f;
  fx_open(&f, 8, 0, TMUT(DEV_USED_LEN_OVER));
  desc(&f, 0, DATA, 16, WR, 0);
  avail_push(&f, 0);
  CHECK_EQ(vsim_vq_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 0, 10), 0);
  CHECK_EQ(used_len(&f, 0), 110);
  fx_close(&f);
}

static void test_mutant_used_id_dup(void) {
  fx f;
  fx_open(&f, 8, 0, TMUT(DEV_USED_ID_DUP));
  desc(&f, 0, DATA, 4, 0, 0);
  desc(&f, 1, DATA, 4, 0, 0);
  avail_push(&f, 0);
  avail_push(&f, 1);
  CHECK_EQ(vsim_vq_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vq_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 0, 1), 0);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 1, 2), 0); /* reports id 0 again instead of 1 */
  CHECK_EQ(f.vq.next_used, 2);
  CHECK_EQ(f.vq.inflight, 0);
  CHECK_EQ(used_id(&f, 0), 0);
  CHECK_EQ(used_id(&f, 1), 0);
  CHECK(vsim_vq_dev_publish(&f.vq));
  CHECK_EQ(used_idx(&f), 2);
  fx_close(&f);
}

static void test_mutant_used_idx_jump(void) {
  fx f;
  fx_open(&f, 8, 0, TMUT(DEV_USED_IDX_JUMP));
  complete(&f, 1);
  CHECK(vsim_vq_dev_publish(&f.vq));
  CHECK_EQ(used_idx(&f), 2);
  CHECK_EQ(f.vq.next_used, 1);
  const rec_ev *e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_USED_PUBLISH && e->a == 0 && e->b == 2);
  fx_close(&f);
}

static void test_mutant_irq(void) {
  fx f;
  fx_open(&f, 8, 0, TMUT(DEV_SKIP_IRQ));
  complete(&f, 1);
  CHECK(!vsim_vq_dev_publish(&f.vq)); /* avail.flags 0: the correct model interrupts */
  CHECK_EQ(used_idx(&f), 1);
  fx_close(&f);

  fx_open(&f, 8, 0, TMUT(DEV_IRQ_ALWAYS));
  set_avail_flags(&f, VRING_AVAIL_F_NO_INTERRUPT);
  complete(&f, 1);
  CHECK(vsim_vq_dev_publish(&f.vq));
  fx_close(&f);

  fx_open(&f, 8, F_EVT, TMUT(DEV_IRQ_ALWAYS));
  wr16(&f, used_event_gpa(&f), 1000);
  complete(&f, 1);
  CHECK(vsim_vq_dev_publish(&f.vq));
  fx_close(&f);
}

static void test_mutant_used_flags(void) {
  fx f;
  fx_open(&f, 8, F_EVT, TMUT(DEV_USED_FLAGS));
  vsim_vq_dev_set_notify(&f.vq, false);
  CHECK_EQ(used_flags(&f), VRING_USED_F_NO_NOTIFY);
  vsim_vq_dev_set_notify(&f.vq, true);
  CHECK_EQ(used_flags(&f), VRING_USED_F_NO_NOTIFY);
  fx_close(&f);
}

static void test_mutant_no_reenable(void) {
  fx f;
  fx_open(&f, 8, 0, TMUT(DEV_NO_REENABLE));
  vsim_vq_dev_set_notify(&f.vq, true); /* still enabled: harmless */
  CHECK_EQ(used_flags(&f), 0);
  vsim_vq_dev_set_notify(&f.vq, false);
  CHECK_EQ(used_flags(&f), VRING_USED_F_NO_NOTIFY);
  int ne = f.r.nev;
  vsim_vq_dev_set_notify(&f.vq, true);
  CHECK_EQ(used_flags(&f), VRING_USED_F_NO_NOTIFY);
  CHECK(!f.vq.notify_enabled);
  CHECK_EQ(f.r.nev, ne);
  fx_close(&f);

  fx_open(&f, 8, F_EVT, TMUT(DEV_NO_REENABLE));
  wr16(&f, avail_event_gpa(&f), 0xbeef);
  complete(&f, 3);
  vsim_vq_dev_set_notify(&f.vq, false);
  vsim_vq_dev_set_notify(&f.vq, true);
  CHECK_EQ(rd16(&f, avail_event_gpa(&f)), 0xbeef);
  fx_close(&f);
}

/* ---- IN_ORDER ------------------------------------------------------------- */

#define F_IO (UINT64_C(1) << VIRTIO_F_IN_ORDER)

static void wr32(fx *f, uint64_t g, uint32_t v) { vsim_arena_write32(f->a, VSIM_SIDE_DRIVER, g, v); }
static uint64_t used_elem_gpa(fx *f, uint32_t slot) {
  return f->cfg.device + offsetof(struct vring_used, ring) + 8u * slot;
}
/* Poison a used element (as a driver could have left anything there): a
 * batch must not write the positions it skips. */
static void poison_used(fx *f, uint32_t slot) {
  wr32(f, used_elem_gpa(f, slot), 0xdeadbeef);
  wr32(f, used_elem_gpa(f, slot) + 4, 0xfeedface);
}

/* Make `n` one-descriptor chains available (head = ring position, as the
 * in-order driver would) and pop them. */
static void avail_pop(fx *f, unsigned n) {
  for (unsigned k = 0; k < n; k++) {
    uint16_t head = (uint16_t)(f->aidx % f->cfg.size);
    desc(f, head, DATA + 0x100u * head, 16, WR, 0);
    avail_push(f, head);
  }
  for (unsigned k = 0; k < n; k++) CHECK_EQ(vsim_vq_dev_pop(&f->vq, &(vsim_chain){0}), 1);
}

static uint32_t lcg(uint32_t *s) {
  *s = *s * 1103515245u + 12345u;
  return *s >> 16;
}

/* With IN_ORDER the device must complete in pop order: anything else is the
 * model's bug and is refused with no ring write, no event, no violation. */
static void test_in_order_push_order(void) {
  fx f;
  fx_open(&f, 8, F_IO, 0);
  CHECK(f.vq.in_order);
  const uint16_t heads[4] = {3, 0, 6, 1};
  for (unsigned k = 0; k < 4; k++) {
    desc(&f, heads[k], DATA + 0x100u * k, 16, WR, 0);
    avail_push(&f, heads[k]);
  }
  for (unsigned k = 0; k < 4; k++) {
    vsim_chain c;
    CHECK_EQ(vsim_vq_dev_pop(&f.vq, &c), 1);
    CHECK_EQ(c.head, heads[k]);
  }
  for (uint32_t s = 0; s < 8; s++) poison_used(&f, s);
  int ne = f.r.nev;
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 0, 1), -1); /* the second one first */
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 1, 1), -1); /* the last one first */
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 5, 1), -1); /* never popped */
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 8, 1), -1); /* out of range */
  CHECK_EQ(f.vq.next_used, 0);
  CHECK_EQ(f.vq.inflight, 4);
  CHECK_EQ(used_id(&f, 0), 0xdeadbeef);
  CHECK_EQ(f.r.nev, ne);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 3, 10), 0);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 3, 10), -1); /* twice */
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 6, 10), -1); /* skips 0 */
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 0, 20), 0);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 6, 30), 0);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 1, 40), 0);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 1, 40), -1); /* nothing in flight */
  CHECK_EQ(f.vq.inflight, 0);
  CHECK(vsim_vq_dev_publish(&f.vq));
  CHECK_EQ(used_idx(&f), 4);
  for (unsigned k = 0; k < 4; k++) {
    CHECK_EQ(used_id(&f, k), heads[k]);
    CHECK_EQ(used_len(&f, k), 10u * (k + 1));
  }
  CHECK_EQ(f.r.nviol, 0);
  CHECK_EQ(f.r.nfault, 0);
  fx_close(&f);

  /* without IN_ORDER any order is fine (unchanged behaviour) */
  fx_open(&f, 8, 0, 0);
  avail_pop(&f, 2);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 1, 0), 0);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 0, 0), 0);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

/* Batching: pushes are recorded, publish writes one element at the used
 * slot of the batch's first buffer with the last one's id and len, and
 * used.idx moves by the batch size; skipped slots are not written. */
static void test_in_order_batch(void) {
  fx f;
  fx_open(&f, 8, F_IO, 0);
  vsim_vq_dev_set_in_order_batch(&f.vq, true);
  for (uint32_t s = 0; s < 8; s++) poison_used(&f, s);
  avail_pop(&f, 3);
  int ne = f.r.nev;
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 0, 10), 0);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 2, 30), -1); /* out of order: refused, batch intact */
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 1, 20), 0);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 2, 30), 0);
  CHECK_EQ(f.vq.next_used, 3); /* positions taken ... */
  CHECK_EQ(f.vq.inflight, 0);
  CHECK_EQ(used_id(&f, 0), 0xdeadbeef); /* ... nothing written yet */
  CHECK_EQ(used_idx(&f), 0);
  CHECK_EQ(f.r.nev, ne + 3); /* one USED event per buffer */
  for (int i = 0; i < 3; i++)
    CHECK(f.r.ev[ne + i].kind == VSIM_EV_USED && f.r.ev[ne + i].a == (uint64_t)i &&
          f.r.ev[ne + i].b == 10u * (i + 1));
  CHECK(vsim_vq_dev_publish(&f.vq));
  CHECK_EQ(used_idx(&f), 3);
  CHECK_EQ(used_id(&f, 0), 2);
  CHECK_EQ(used_len(&f, 0), 30);
  CHECK_EQ(used_id(&f, 1), 0xdeadbeef);
  CHECK_EQ(used_len(&f, 2), 0xfeedface);
  const rec_ev *e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_USED_PUBLISH && e->a == 0 && e->b == 3);
  CHECK(!vsim_vq_dev_publish(&f.vq)); /* nothing new: no write, no interrupt */
  CHECK_EQ(used_id(&f, 3), 0xdeadbeef);

  /* a batch of one: the unbatched form */
  avail_pop(&f, 1);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 3, 7), 0);
  CHECK(vsim_vq_dev_publish(&f.vq));
  CHECK_EQ(used_idx(&f), 4);
  CHECK_EQ(used_id(&f, 3), 3);
  CHECK_EQ(used_len(&f, 3), 7);

  /* the whole ring, crossing the end of the used ring: the element goes to
   * slot 4 (the first buffer's), used.idx + 8 */
  for (uint32_t s = 0; s < 8; s++) poison_used(&f, s);
  avail_pop(&f, 8);
  for (unsigned k = 0; k < 8; k++)
    CHECK_EQ(vsim_vq_dev_push(&f.vq, (uint16_t)((4 + k) % 8), k), 0);
  CHECK(vsim_vq_dev_publish(&f.vq));
  CHECK_EQ(used_idx(&f), 12);
  CHECK_EQ(used_id(&f, 4), 3); /* head of the 8th: position 11 -> 3 */
  CHECK_EQ(used_len(&f, 4), 7);
  for (uint32_t s = 0; s < 8; s++)
    if (s != 4) CHECK_EQ(used_id(&f, s), 0xdeadbeef);

  /* turning batching off closes the open batch where it stands (written, not
   * published); the next push is written after it */
  avail_pop(&f, 3);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 4, 1), 0);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 5, 2), 0);
  vsim_vq_dev_set_in_order_batch(&f.vq, false);
  CHECK_EQ(used_id(&f, 4), 5);
  CHECK_EQ(used_len(&f, 4), 2);
  CHECK_EQ(used_idx(&f), 12);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 6, 3), 0); /* written at once, at slot 6 */
  CHECK_EQ(used_id(&f, 6), 6);
  CHECK_EQ(used_id(&f, 5), 0xdeadbeef);
  CHECK(vsim_vq_dev_publish(&f.vq));
  CHECK_EQ(used_idx(&f), 15);
  CHECK_EQ(used_id(&f, 4), 5); /* the flush was not repeated */
  CHECK_EQ(f.r.nviol, 0);
  CHECK_EQ(f.r.nfault, 0);
  fx_close(&f);

  /* batching asked for without IN_ORDER: no effect */
  fx_open(&f, 8, 0, 0);
  vsim_vq_dev_set_in_order_batch(&f.vq, true);
  avail_pop(&f, 2);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 1, 5), 0);
  CHECK_EQ(used_id(&f, 0), 1); /* written at once */
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 0, 6), 0);
  CHECK_EQ(used_id(&f, 1), 0);
  fx_close(&f);

  /* mutants still apply to the batch's element */
  fx_open(&f, 8, F_IO, TMUT(DEV_USED_ID_RANGE) | TMUT(DEV_USED_LEN_OVER));
  vsim_vq_dev_set_in_order_batch(&f.vq, true);
  avail_pop(&f, 2);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 0, 1), 0);
  CHECK_EQ(vsim_vq_dev_push(&f.vq, 1, 2), 0);
  CHECK(vsim_vq_dev_publish(&f.vq));
  CHECK_EQ(used_id(&f, 0), 11);
  CHECK_EQ(used_len(&f, 0), 102);
  fx_close(&f);
}

/* The interrupt decision over a batch: the window is every position the
 * batch took, [old, old + k). */
static void test_in_order_batch_event_idx(void) {
  fx f;
  fx_open(&f, 8, F_IO | F_EVT, 0);
  vsim_vq_dev_set_in_order_batch(&f.vq, true);
  struct {
    unsigned k;
    uint16_t used_event;
    bool irq;
  } steps[] = {
      {3, 1, true},  /* [0,3): inside the batch (a skipped position) */
      {3, 6, false}, /* [3,6): the position after the batch: not yet */
      {2, 6, true},  /* [6,8): now its first position */
      {4, 8, true},  /* [8,12): the first position */
      {4, 11, false}, /* [12,16): 11 was in the previous batch */
  };
  for (unsigned i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    wr16(&f, used_event_gpa(&f), steps[i].used_event);
    uint16_t start = (uint16_t)f.vq.next_used;
    avail_pop(&f, steps[i].k);
    for (unsigned j = 0; j < steps[i].k; j++)
      CHECK_EQ(vsim_vq_dev_push(&f.vq, (uint16_t)((start + j) % 8), 0), 0);
    bool irq = vsim_vq_dev_publish(&f.vq);
    if (irq != steps[i].irq) fprintf(stderr, "  batch event-idx step %u\n", i);
    CHECK_EQ(irq, steps[i].irq);
  }
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

/* A reader of the used ring as an in-order driver would be: used.idx, then
 * the element at its next position, whose id ends a batch that starts at the
 * oldest buffer it still waits for. Checks every buffer comes back once, in
 * pop order, with the right len on the last of each batch. */
typedef struct io_reader {
  uint16_t last_used;
  uint16_t fifo[64]; /* heads popped, not yet read back */
  uint32_t lens[64];
  unsigned h, n;
  unsigned read, bad;
} io_reader;

static void io_read(fx *f, io_reader *r) {
  uint16_t idx = used_idx(f);
  while (r->last_used != idx && r->bad < 5) {
    uint16_t pending = (uint16_t)(idx - r->last_used);
    uint32_t id = used_id(f, r->last_used % f->cfg.size);
    uint32_t len = used_len(f, r->last_used % f->cfg.size);
    unsigned k = 0;
    while (k < r->n && k < pending && r->fifo[(r->h + k) % 64] != id) k++;
    if (k == r->n || k == pending || len != r->lens[(r->h + k) % 64]) {
      r->bad++;
      return;
    }
    r->h = (r->h + k + 1) % 64;
    r->n -= k + 1;
    r->read += k + 1;
    r->last_used = (uint16_t)(r->last_used + k + 1);
  }
}

/* Many rounds far past the 16-bit wrap (starting just below it): batches of
 * 1, 3, everything held, or a random size, with batching switched off now
 * and then (mixed batched and unbatched completions). */
static void test_in_order_batch_wrap(void) {
  fx f;
  fx_open(&f, 8, F_IO, 0);
  f.vq.next_avail = f.vq.next_used = f.vq.published_used = 65530;
  set_avail_idx(&f, 65530);
  io_reader r = {.last_used = 65530};
  uint32_t rng = 99;
  unsigned batches = 0, whole = 0;
  bool batching = false;
  while (r.read < 150000 && r.bad == 0) {
    if (lcg(&rng) % 16 == 0) {
      batching = !batching;
      vsim_vq_dev_set_in_order_batch(&f.vq, batching);
    }
    unsigned m = 1 + lcg(&rng) % 8;
    avail_pop(&f, m);
    for (unsigned j = 0; j < m; j++) r.fifo[(r.h + r.n + j) % 64] = (uint16_t)((f.vq.next_avail - m + j) % 8);
    unsigned done = 0;
    while (done < m) {
      unsigned pick = lcg(&rng) % 4, left = m - done;
      unsigned k = pick == 0 ? 1 : pick == 1 ? 3 : pick == 2 ? left : 1 + lcg(&rng) % left;
      if (k > left) k = left;
      whole += k == 8;
      for (unsigned j = 0; j < k; j++) {
        unsigned at = (r.h + r.n + done + j) % 64;
        uint32_t len = lcg(&rng) % 17;
        r.lens[at] = len;
        if (vsim_vq_dev_push(&f.vq, r.fifo[at], len) != 0) r.bad++;
      }
      done += k;
      (void)vsim_vq_dev_publish(&f.vq);
      batches++;
    }
    r.n += m;
    io_read(&f, &r);
    if (r.n != 0) r.bad++;
  }
  CHECK_EQ(r.bad, 0);
  CHECK(r.read >= 150000);
  CHECK(whole > 0);
  CHECK(f.vq.next_used > 65530u + 2u * 65536u);
  CHECK_EQ(used_idx(&f), (uint16_t)f.vq.next_used);
  CHECK_EQ(f.vq.inflight, 0);
  CHECK_EQ(f.r.nviol, 0);
  CHECK_EQ(f.r.nfault, 0);
  fx_close(&f);
}


/* ---- VIRTIO_F_NOTIFICATION_DATA ---------------------------------------------- */

/* One readable descriptor per head, made available; the head is its ring slot. */
static void publish_n(fx *f, int n) {
  for (int k = 0; k < n; k++) {
    uint16_t head = (uint16_t)(f->aidx % f->cfg.size);
    desc(f, head, DATA + 0x100u * head, 16, 0, 0);
    avail_push(f, head);
  }
}

static int pop_push(fx *f) {
  vsim_chain c;
  int r = vsim_vq_dev_pop(&f->vq, &c);
  if (r == 1) CHECK_EQ(vsim_vq_dev_push(&f->vq, c.head, 0), 0);
  return r;
}

/* A value the ring confirms bounds the drain: up to it the device pops
 * without reading avail.idx again (here made unreadable to the device after
 * the confirming read), and reads it once more only when it gets there. */
static void test_notify_data_bound(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  publish_n(&f, 3);
  vsim_vq_dev_notify_data(&f.vq, 3);
  CHECK_EQ(pop_push(&f), 1); /* reads avail.idx 3: the notification holds */
  CHECK_EQ(f.r.nviol, 0);
  CHECK(f.vq.nd_bound);
  vsim_arena_set_region(f.a, AVAIL + offsetof(struct vring_avail, idx), 2,
                        VSIM_REGION_PERM(VSIM_ACC_RW, 0));
  CHECK_EQ(pop_push(&f), 1);
  CHECK_EQ(pop_push(&f), 1);
  CHECK_EQ(f.r.nviol, 0); /* avail.idx not read: nothing to report */
  CHECK_EQ(f.vq.next_avail, 3);
  /* at the bound the device looks at the ring again, and cannot */
  CHECK_EQ(pop_push(&f), -1);
  CHECK_EQ(f.r.nviol, 1);
  CHECK_EQ(f.r.viol[0], VSIM_CHK_SPLIT_DESC_ADDR);
  CHECK_EQ(f.r.nfault, 0);
  fx_close(&f);

  /* across the 16-bit wrap of avail.idx (next_off 15 bits + next_wrap) */
  fx_open(&f, 8, 0, 0);
  f.vq.next_avail = f.vq.next_used = f.vq.published_used = 65533;
  set_avail_idx(&f, 65533);
  publish_n(&f, 5); /* avail.idx 2 */
  vsim_vq_dev_notify_data(&f.vq, 2);
  for (int k = 0; k < 5; k++) CHECK_EQ(pop_push(&f), 1);
  CHECK_EQ(pop_push(&f), 0);
  /* notifications that announce nothing new are fine */
  vsim_vq_dev_notify_data(&f.vq, 2);
  vsim_vq_dev_notify_data(&f.vq, 2);
  CHECK_EQ(pop_push(&f), 0);
  CHECK_EQ(f.r.nviol, 0);
  CHECK(!f.vq.broken);
  fx_close(&f);
}

/* A value ahead of what the ring shows: reported at the read, ignored; the
 * queue is not broken and the device keeps serving what the ring holds. */
static void test_notify_data_beyond(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  publish_n(&f, 1);
  vsim_vq_dev_notify_data(&f.vq, 3); /* claims 3, avail.idx is 1 */
  CHECK_EQ(f.r.nviol, 0);            /* judged against the ring, not on arrival */
  CHECK_EQ(pop_push(&f), 1);
  CHECK_EQ(f.r.nviol, 1);
  CHECK_EQ(f.r.viol[0], VSIM_CHK_NOTIFY_DATA);
  CHECK(!f.vq.broken);
  CHECK(!f.vq.nd_bound);
  CHECK_EQ(pop_push(&f), 0);
  publish_n(&f, 2);
  CHECK_EQ(pop_push(&f), 1);
  CHECK_EQ(pop_push(&f), 1);
  CHECK_EQ(f.r.nviol, 1);
  /* more than a queue ahead of the device: the same */
  vsim_vq_dev_notify_data(&f.vq, (uint16_t)(f.vq.next_avail + 8 + 5));
  CHECK_EQ(pop_push(&f), 0);
  CHECK_EQ(f.r.nviol, 2);
  CHECK_EQ(f.r.viol[1], VSIM_CHK_NOTIFY_DATA);
  CHECK(strstr(f.r.detail, "more than a queue ahead") != NULL);
  CHECK(!f.vq.broken);
  fx_close(&f);
}

/* A stale value: behind what the device consumed, behind what it already
 * read from the ring, or behind an earlier notification not yet checked. */
static void test_notify_data_stale(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  publish_n(&f, 2);
  CHECK_EQ(pop_push(&f), 1);
  CHECK_EQ(pop_push(&f), 1);
  vsim_vq_dev_notify_data(&f.vq, 1); /* next_avail is 2 */
  CHECK_EQ(pop_push(&f), 0);
  CHECK_EQ(f.r.nviol, 1);
  CHECK_EQ(f.r.viol[0], VSIM_CHK_NOTIFY_DATA);
  CHECK(strstr(f.r.detail, "behind") != NULL);

  publish_n(&f, 3); /* avail.idx 5 */
  CHECK_EQ(vsim_vq_dev_avail_count(&f.vq), 3); /* the device has seen 5 */
  vsim_vq_dev_notify_data(&f.vq, 4);
  CHECK_EQ(pop_push(&f), 1);
  CHECK_EQ(f.r.nviol, 2);
  CHECK_EQ(f.r.viol[1], VSIM_CHK_NOTIFY_DATA);

  publish_n(&f, 2); /* avail.idx 7, next_avail 3: nothing read past 5 yet */
  vsim_vq_dev_notify_data(&f.vq, 7);
  vsim_vq_dev_notify_data(&f.vq, 6); /* goes back before the device looked */
  vsim_vq_dev_notify_data(&f.vq, 7); /* one report per read */
  CHECK_EQ(f.r.nviol, 2);
  CHECK_EQ(pop_push(&f), 1);
  CHECK_EQ(f.r.nviol, 3);
  CHECK_EQ(f.r.viol[2], VSIM_CHK_NOTIFY_DATA);
  while (pop_push(&f) == 1) {
  }
  CHECK_EQ(f.vq.next_avail, 7);
  CHECK(!f.vq.broken);
  CHECK_EQ(f.r.nviol, 3);
  fx_close(&f);
}

/* An honest notification of a bad avail.idx is the ring's violation only. */
static void test_notify_data_bad_ring(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  set_avail_idx(&f, 9); /* 9 entries on a queue of 8 */
  vsim_vq_dev_notify_data(&f.vq, 9);
  CHECK_EQ(pop_push(&f), -1);
  CHECK_EQ(f.r.nviol, 1);
  CHECK_EQ(f.r.viol[0], VSIM_CHK_SPLIT_AVAIL_IDX);
  fx_close(&f);

  fx_open(&f, 8, 0, 0);
  publish_n(&f, 2);
  CHECK_EQ(pop_push(&f), 1);
  CHECK_EQ(pop_push(&f), 1);
  set_avail_idx(&f, 1); /* avail.idx moves back, and the driver says so */
  vsim_vq_dev_notify_data(&f.vq, 1);
  CHECK_EQ(pop_push(&f), -1);
  CHECK_EQ(f.r.nviol, 1);
  CHECK_EQ(f.r.viol[0], VSIM_CHK_SPLIT_AVAIL_IDX);
  /* a broken queue takes no notification data and touches nothing */
  vsim_vq_dev_notify_data(&f.vq, 5);
  check_dead(&f);
  fx_close(&f);
}

int main(void) {
  RUN(test_direct_chain);
  RUN(test_indirect_chain);
  RUN(test_direct_then_indirect);
  RUN(test_chain_limits_ok);
  RUN(test_wraparound);
  RUN(test_publish_flags);
  RUN(test_publish_event_idx);
  RUN(test_set_notify_flags);
  RUN(test_set_notify_event_idx);
  RUN(test_push_misuse);
  RUN(test_bad_avail_idx_jump);
  RUN(test_bad_avail_idx_back);
  RUN(test_bad_ring_outside_memory);
  RUN(test_bad_align);
  RUN(test_bad_head_range);
  RUN(test_bad_head_inflight);
  RUN(test_bad_next_range);
  RUN(test_bad_loop);
  RUN(test_bad_loop_32768);
  RUN(test_chain_bytes);
  RUN(test_bad_desc_addr);
  RUN(test_bad_rd_after_wr);
  RUN(test_bad_indirect);
  RUN(test_bad_write_overlap);
  RUN(test_toctou);
  RUN(test_mutant_used_id_range);
  RUN(test_mutant_used_len_over);
  RUN(test_mutant_used_id_dup);
  RUN(test_mutant_used_idx_jump);
  RUN(test_mutant_irq);
  RUN(test_mutant_used_flags);
  RUN(test_mutant_no_reenable);
  RUN(test_mutant_no_loop_check);
  RUN(test_in_order_push_order);
  RUN(test_in_order_batch);
  RUN(test_in_order_batch_event_idx);
  RUN(test_in_order_batch_wrap);
  RUN(test_notify_data_bound);
  RUN(test_notify_data_beyond);
  RUN(test_notify_data_stale);
  RUN(test_notify_data_bad_ring);
  TEST_MAIN_END();
}
