/* tests/c/test_vq_split_drv.c — unit tests for the split virtqueue driver side.
 *
 * Owns: the tests of frontend-model/vq_split_drv.c. The device is played by
 * hand here (a tiny mock that reads the avail ring and descriptors and writes
 * used entries through the arena with VSIM_SIDE_DEVICE), so that every device
 * output — good or deliberately bad — is under the test's control, and a host
 * that records violations and events.
 * Must never: reach into the driver's private arrays to *drive* it (they are
 * only read, to check the free list is intact), or depend on other modules
 * beyond the arena and the check catalog.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include "testutil.h"
#include "virtiosim/arena.h"
#include "virtiosim/backend.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"
#include "vq_split_drv.h"

/* Guest layout. */
#define ARENA_SZ 0x100000u
#define DESC_GPA 0x1000u
#define AVAIL_GPA 0x2000u
#define USED_GPA 0x3000u
#define IND_GPA 0x10000u
#define BUF_GPA 0x40000u

#define F_EVENT_IDX (UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX)
#define F_INDIRECT (UINT64_C(1) << VIRTIO_RING_F_INDIRECT_DESC)

/* ---- recording host ---------------------------------------------------- */

typedef struct rec {
  int viol[VSIM_CHK__COUNT];
  int nviol;
  int last_check;
  char last_detail[VSIM_VIOLATION_DETAIL_MAX];
  int ev[VSIM_EV__COUNT];
  uint64_t ev_a[VSIM_EV__COUNT], ev_b[VSIM_EV__COUNT];
  uint64_t faults;
} rec;

static void rec_violation(void *ctx, int check, int q, const char *detail) {
  rec *r = ctx;
  if (check >= 0 && check < VSIM_CHK__COUNT) r->viol[check]++;
  r->nviol++;
  r->last_check = check;
  snprintf(r->last_detail, sizeof r->last_detail, "%s", detail);
}

static void rec_event(void *ctx, int kind, int q, uint64_t a, uint64_t b,
                      uint64_t c, uint64_t d) {
  rec *r = ctx;
  if (kind > 0 && kind < VSIM_EV__COUNT) {
    r->ev[kind]++;
    r->ev_a[kind] = a;
    r->ev_b[kind] = b;
  }
}

static void rec_fault(void *ctx, const vsim_arena_fault *f) { ((rec *)ctx)->faults++; }

typedef struct env {
  vsim_arena *a;
  rec r;
  vsim_host host;
  vsim_vq_drv vq;
  /* the hand-played device */
  uint16_t dev_next_avail;
  uint16_t dev_used_idx;
} env;

/* Fill the ring areas with garbage first, so that the zeroing at init is seen. */
static int env_init(env *e, uint16_t size, uint64_t features, uint64_t mutants,
                    uint16_t indirect_max) {
  *e = (env){0};
  e->a = vsim_arena_new(ARENA_SZ);
  if (!e->a) return -1;
  vsim_arena_set_fault_sink(e->a, rec_fault, &e->r);
  uint8_t junk[0x3000];
  memset(junk, 0xa5, sizeof junk);
  vsim_arena_write(e->a, VSIM_SIDE_DEVICE, DESC_GPA, junk, sizeof junk);
  e->host = (vsim_host){.ctx = &e->r, .arena = e->a, .violation = rec_violation,
                        .event = rec_event};
  vsim_vqd_config cfg = {.size = size, .desc = DESC_GPA, .avail = AVAIL_GPA,
                         .used = USED_GPA,
                         .indirect_base = indirect_max ? IND_GPA : 0,
                         .indirect_max = indirect_max, .features = features,
                         .mutants = test_mutset(mutants)};
  return vsim_vq_drv_init(&e->vq, &e->host, 3, &cfg);
}

static void env_fini(env *e) {
  vsim_vq_drv_fini(&e->vq);
  vsim_arena_free(e->a);
}

static uint16_t rd16(env *e, uint64_t gpa) {
  uint16_t v = 0;
  CHECK_EQ(vsim_arena_read16(e->a, VSIM_SIDE_DEVICE, gpa, &v), 0);
  return v;
}
static uint32_t rd32(env *e, uint64_t gpa) {
  uint32_t v = 0;
  CHECK_EQ(vsim_arena_read32(e->a, VSIM_SIDE_DEVICE, gpa, &v), 0);
  return v;
}
static uint64_t rd64(env *e, uint64_t gpa) {
  uint64_t v = 0;
  CHECK_EQ(vsim_arena_read64(e->a, VSIM_SIDE_DEVICE, gpa, &v), 0);
  return v;
}
static void wr16(env *e, uint64_t gpa, uint16_t v) {
  CHECK_EQ(vsim_arena_write16(e->a, VSIM_SIDE_DEVICE, gpa, v), 0);
}
static void wr32(env *e, uint64_t gpa, uint32_t v) {
  CHECK_EQ(vsim_arena_write32(e->a, VSIM_SIDE_DEVICE, gpa, v), 0);
}

static uint64_t avail_flags_gpa(void) { return AVAIL_GPA; }
static uint64_t avail_idx_gpa(void) { return AVAIL_GPA + 2; }
static uint64_t avail_ring_gpa(uint16_t i) { return AVAIL_GPA + 4 + 2u * i; }
static uint64_t used_event_gpa(env *e) { return avail_ring_gpa(e->vq.size); }
static uint64_t used_flags_gpa(void) { return USED_GPA; }
static uint64_t used_idx_gpa(void) { return USED_GPA + 2; }
static uint64_t used_elem_gpa(uint16_t i) { return USED_GPA + 4 + 8u * i; }
static uint64_t avail_event_gpa(env *e) { return used_elem_gpa(e->vq.size); }
static uint64_t desc_gpa(uint64_t table, uint32_t i) { return table + 16u * i; }

/* ---- the hand-played device -------------------------------------------- */

typedef struct popped {
  uint16_t head;
  unsigned nseg;
  uint64_t gpa[64];
  uint32_t len[64];
  bool wr[64];
  uint16_t didx[64]; /* table index of each segment (the indirect table's, if indirect) */
  uint16_t next[64]; /* its next field (meaningful with NEXT) */
  bool indirect;
  uint32_t wr_bytes;
} popped;

/* Pop the next available chain the way a device would, checking its shape:
 * bounded walk, readable before writable, indirect table well formed. */
static int dev_pop(env *e, popped *p) {
  uint16_t aidx = rd16(e, avail_idx_gpa());
  if (aidx == e->dev_next_avail) return 0;
  *p = (popped){0};
  p->head = rd16(e, avail_ring_gpa((uint16_t)(e->dev_next_avail % e->vq.size)));
  e->dev_next_avail++;
  CHECK(p->head < e->vq.size);
  uint64_t table = DESC_GPA;
  uint32_t d = p->head, max = e->vq.size;
  uint16_t flags = rd16(e, desc_gpa(table, d) + 12);
  if (flags & VRING_DESC_F_INDIRECT) {
    CHECK_EQ(flags, VRING_DESC_F_INDIRECT);
    p->indirect = true;
    table = rd64(e, desc_gpa(DESC_GPA, d));
    max = rd32(e, desc_gpa(DESC_GPA, d) + 8) / 16u;
    CHECK_EQ(rd32(e, desc_gpa(DESC_GPA, d) + 8) % 16u, 0);
    d = 0;
  }
  bool seen_wr = false;
  for (unsigned n = 0; n < max && n < 64; n++) {
    uint64_t dg = desc_gpa(table, d);
    flags = rd16(e, dg + 12);
    CHECK(!(flags & VRING_DESC_F_INDIRECT));
    p->gpa[p->nseg] = rd64(e, dg);
    p->len[p->nseg] = rd32(e, dg + 8);
    p->wr[p->nseg] = (flags & VRING_DESC_F_WRITE) != 0;
    p->didx[p->nseg] = (uint16_t)d;
    p->next[p->nseg] = rd16(e, dg + 14);
    if (p->wr[p->nseg]) {
      seen_wr = true;
      p->wr_bytes += p->len[p->nseg];
    } else {
      CHECK(!seen_wr);
    }
    p->nseg++;
    if (!(flags & VRING_DESC_F_NEXT)) return 1;
    d = rd16(e, dg + 14);
    CHECK(d < max);
  }
  CHECK(!"chain did not terminate");
  return 1;
}

/* Write a used element; publish used.idx when asked. */
static void dev_push(env *e, uint32_t id, uint32_t len, bool publish) {
  uint64_t g = used_elem_gpa((uint16_t)(e->dev_used_idx % e->vq.size));
  wr32(e, g, id);
  wr32(e, g + 4, len);
  e->dev_used_idx++;
  if (publish) wr16(e, used_idx_gpa(), e->dev_used_idx);
}

/* Walk the driver's private free list: exactly num_free distinct descriptors,
 * none of them the head of an in-flight chain. */
static bool free_list_ok(const vsim_vq_drv *vq) {
  uint8_t seen[1024] = {0};
  uint16_t d = vq->free_head;
  for (unsigned i = 0; i < vq->num_free; i++) {
    if (d >= vq->size || seen[d]) return false;
    if (vq->slot[d].in_flight) return false;
    seen[d] = 1;
    d = vq->free_next[d];
  }
  return true;
}

static vsim_seg seg(uint64_t gpa, uint32_t len, bool w) {
  return (vsim_seg){.gpa = gpa, .len = len, .write = w};
}

/* One full round trip: add a 1-out/1-in chain, kick, device completes it with
 * `len`, driver reaps. Used to move the indices around. */
static void cycle(env *e, uint32_t len) {
  vsim_seg s[2] = {seg(BUF_GPA, 16, false), seg(BUF_GPA + 16, 64, true)};
  int h = vsim_vq_drv_add(&e->vq, s, 1, 1, 7);
  (void)vsim_vq_drv_kick_prepare(&e->vq);
  popped p;
  if (dev_pop(e, &p) != 1 || h < 0) {
    CHECK(!"cycle: nothing popped");
    return;
  }
  dev_push(e, p.head, len, true);
  uint64_t tok;
  uint32_t l;
  CHECK_EQ(vsim_vq_drv_get_used(&e->vq, &tok, &l), 1);
}

/* ---- tests ------------------------------------------------------------- */

static void test_init_zeroes(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, F_EVENT_IDX, 0, 0), 0);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK(e.vq.cb_enabled);
  CHECK(e.vq.event_idx);
  CHECK(!e.vq.indirect);
  CHECK(free_list_ok(&e.vq));
  /* free list 0 -> 1 -> ... -> 7 */
  uint16_t d = e.vq.free_head;
  for (unsigned i = 0; i < 8; i++) {
    CHECK_EQ(d, i);
    d = e.vq.free_next[d];
  }
  CHECK_EQ(rd16(&e, avail_flags_gpa()), 0);
  CHECK_EQ(rd16(&e, avail_idx_gpa()), 0);
  for (uint16_t i = 0; i < 8; i++) CHECK_EQ(rd16(&e, avail_ring_gpa(i)), 0);
  CHECK_EQ(rd16(&e, used_event_gpa(&e)), 0);
  CHECK_EQ(rd16(&e, used_flags_gpa()), 0);
  CHECK_EQ(rd16(&e, used_idx_gpa()), 0);
  for (uint16_t i = 0; i < 8; i++) {
    CHECK_EQ(rd32(&e, used_elem_gpa(i)), 0);
    CHECK_EQ(rd32(&e, used_elem_gpa(i) + 4), 0);
  }
  CHECK_EQ(rd16(&e, avail_event_gpa(&e)), 0);
  /* just past the used ring is untouched */
  CHECK_EQ(rd16(&e, avail_event_gpa(&e) + 2), 0xa5a5);
  CHECK_EQ(e.r.nviol, 0);
  CHECK_EQ(e.r.faults, 0);
  env_fini(&e);

  /* bad configurations are refused */
  vsim_vq_drv vq;
  vsim_arena *a = vsim_arena_new(ARENA_SZ);
  vsim_host h = {.arena = a};
  vsim_vqd_config c0 = {.size = 0, .desc = DESC_GPA, .avail = AVAIL_GPA, .used = USED_GPA};
  CHECK_EQ(vsim_vq_drv_init(&vq, &h, 0, &c0), -1);
  vsim_vq_drv_fini(&vq);
  /* rings outside guest memory: the arena reports, init fails cleanly */
  vsim_vqd_config c1 = {.size = 8, .desc = DESC_GPA, .avail = ARENA_SZ - 4, .used = USED_GPA};
  CHECK_EQ(vsim_vq_drv_init(&vq, &h, 0, &c1), -1);
  vsim_vq_drv_fini(&vq);
  vsim_arena_free(a);
}

static void test_round_trip_direct(void) {
  env e;
  CHECK_EQ(env_init(&e, 16, 0, 0, 0), 0);
  struct {
    unsigned nout, nin;
    uint32_t lens[5];
  } reqs[] = {
      {1, 0, {100}},              /* read-only */
      {0, 1, {4096}},             /* write-only */
      {1, 1, {16, 512}},          /* request/response */
      {2, 3, {1, 4097, 3, 0, 65536}}, /* mixed lengths, a zero-length one too */
  };
  int heads[4];
  uint64_t gpa = BUF_GPA;
  unsigned used_descs = 0;
  for (unsigned r = 0; r < 4; r++) {
    vsim_seg s[8];
    unsigned n = reqs[r].nout + reqs[r].nin;
    for (unsigned i = 0; i < n; i++) {
      uint32_t len = reqs[r].lens[i];
      s[i] = seg(gpa, len, i >= reqs[r].nout);
      gpa += len;
    }
    heads[r] = vsim_vq_drv_add(&e.vq, s, reqs[r].nout, reqs[r].nin, 1000 + r);
    CHECK(heads[r] >= 0);
    used_descs += n;
    CHECK_EQ(e.vq.num_free, 16 - used_descs);
  }
  CHECK_EQ(e.vq.inflight, 4);
  /* nothing visible before kick_prepare publishes */
  CHECK_EQ(rd16(&e, avail_idx_gpa()), 0);
  CHECK(vsim_vq_drv_kick_prepare(&e.vq)); /* used.flags 0: MUST notify */
  CHECK_EQ(rd16(&e, avail_idx_gpa()), 4);
  CHECK_EQ(e.r.ev[VSIM_EV_AVAIL_PUBLISH], 1);
  CHECK_EQ(e.r.ev_a[VSIM_EV_AVAIL_PUBLISH], 0);
  CHECK_EQ(e.r.ev_b[VSIM_EV_AVAIL_PUBLISH], 4);

  /* the device sees exactly what was added */
  popped p[4];
  gpa = BUF_GPA;
  for (unsigned r = 0; r < 4; r++) {
    CHECK_EQ(dev_pop(&e, &p[r]), 1);
    CHECK_EQ(p[r].head, heads[r]);
    CHECK(!p[r].indirect);
    unsigned n = reqs[r].nout + reqs[r].nin;
    CHECK_EQ(p[r].nseg, n);
    for (unsigned i = 0; i < n && i < p[r].nseg; i++) {
      uint32_t len = reqs[r].lens[i];
      CHECK_EQ(p[r].gpa[i], gpa);
      CHECK_EQ(p[r].len[i], len);
      CHECK_EQ(p[r].wr[i], i >= reqs[r].nout);
      gpa += len;
    }
  }
  popped none;
  CHECK_EQ(dev_pop(&e, &none), 0);

  /* complete out of order, with lens at or below the writable bytes */
  uint64_t tok;
  uint32_t len;
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 0);
  unsigned order[4] = {2, 0, 3, 1};
  for (unsigned k = 0; k < 4; k++) {
    unsigned r = order[k];
    dev_push(&e, p[r].head, p[r].wr_bytes / 2, true);
    CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
    CHECK_EQ(tok, 1000 + r);
    CHECK_EQ(len, p[r].wr_bytes / 2);
    CHECK_EQ(e.r.ev_a[VSIM_EV_REAP], p[r].head);
    CHECK_EQ(e.r.ev_b[VSIM_EV_REAP], p[r].wr_bytes / 2);
    CHECK(free_list_ok(&e.vq));
  }
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 0);
  CHECK_EQ(e.r.ev[VSIM_EV_REAP], 4);
  CHECK_EQ(e.vq.num_free, 16);
  CHECK_EQ(e.vq.inflight, 0);
  CHECK(free_list_ok(&e.vq));
  CHECK_EQ(e.r.nviol, 0);
  CHECK_EQ(e.r.faults, 0);
  env_fini(&e);
}

static void test_round_trip_indirect(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, F_INDIRECT, 0, 4), 0);
  CHECK(e.vq.indirect);
  /* 3 segments: one ring descriptor pointing at a 3-entry table */
  vsim_seg s3[3] = {seg(BUF_GPA, 16, false), seg(BUF_GPA + 16, 100, true),
                    seg(BUF_GPA + 116, 28, true)};
  int h = vsim_vq_drv_add(&e.vq, s3, 1, 2, 42);
  CHECK(h >= 0);
  CHECK_EQ(e.vq.num_free, 7);
  /* 1 segment: stays direct */
  vsim_seg s1[1] = {seg(BUF_GPA + 200, 8, true)};
  int h1 = vsim_vq_drv_add(&e.vq, s1, 0, 1, 43);
  CHECK(h1 >= 0);
  CHECK_EQ(e.vq.num_free, 6);
  /* 5 segments > indirect_max 4: falls back to 5 direct descriptors */
  vsim_seg s5[5];
  for (unsigned i = 0; i < 5; i++) s5[i] = seg(BUF_GPA + 0x1000 + 32u * i, 32, i >= 2);
  int h5 = vsim_vq_drv_add(&e.vq, s5, 2, 3, 44);
  CHECK(h5 >= 0);
  CHECK_EQ(e.vq.num_free, 1);
  CHECK(vsim_vq_drv_kick_prepare(&e.vq));

  /* the ring descriptor and its table, byte for byte */
  uint64_t table = IND_GPA + (uint64_t)h * 4 * 16;
  CHECK_EQ(rd64(&e, desc_gpa(DESC_GPA, (uint32_t)h)), table);
  CHECK_EQ(rd32(&e, desc_gpa(DESC_GPA, (uint32_t)h) + 8), 3 * 16);
  CHECK_EQ(rd16(&e, desc_gpa(DESC_GPA, (uint32_t)h) + 12), VRING_DESC_F_INDIRECT);
  CHECK_EQ(rd16(&e, desc_gpa(table, 0) + 12), VRING_DESC_F_NEXT);
  CHECK_EQ(rd16(&e, desc_gpa(table, 0) + 14), 1);
  CHECK_EQ(rd16(&e, desc_gpa(table, 1) + 12), VRING_DESC_F_NEXT | VRING_DESC_F_WRITE);
  CHECK_EQ(rd16(&e, desc_gpa(table, 1) + 14), 2);
  CHECK_EQ(rd16(&e, desc_gpa(table, 2) + 12), VRING_DESC_F_WRITE);

  popped p, p1, p5;
  CHECK_EQ(dev_pop(&e, &p), 1);
  CHECK(p.indirect);
  CHECK_EQ(p.nseg, 3);
  CHECK_EQ(p.wr_bytes, 128);
  CHECK_EQ(p.gpa[2], BUF_GPA + 116);
  CHECK_EQ(dev_pop(&e, &p1), 1);
  CHECK(!p1.indirect);
  CHECK_EQ(p1.nseg, 1);
  CHECK_EQ(dev_pop(&e, &p5), 1);
  CHECK(!p5.indirect);
  CHECK_EQ(p5.nseg, 5);
  CHECK_EQ(p5.wr_bytes, 96);

  uint64_t tok;
  uint32_t len;
  dev_push(&e, p5.head, 96, false);
  dev_push(&e, p.head, 128, false);
  dev_push(&e, p1.head, 0, true); /* three at once */
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 44);
  CHECK_EQ(len, 96);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 42);
  CHECK_EQ(len, 128);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 43);
  CHECK_EQ(len, 0);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 0);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK(free_list_ok(&e.vq));

  /* an indirect table counts toward the chain length ("A driver MUST NOT
   * create a descriptor chain longer than the Queue Size"): 4 segments never
   * fit a size-2 queue, 2 do, as one ring descriptor each */
  vsim_seg s4[4];
  for (unsigned i = 0; i < 4; i++) s4[i] = seg(BUF_GPA + 64u * i, 64, i >= 1);
  env e2;
  CHECK_EQ(env_init(&e2, 2, F_INDIRECT, 0, 4), 0);
  CHECK_EQ(vsim_vq_drv_add(&e2.vq, s4, 1, 3, 1), -1);
  CHECK(vsim_vq_drv_add(&e2.vq, s4, 1, 1, 1) >= 0);
  CHECK(vsim_vq_drv_add(&e2.vq, s4, 1, 1, 2) >= 0);
  CHECK_EQ(vsim_vq_drv_add(&e2.vq, s4, 1, 1, 3), -2); /* both ring slots used */
  CHECK_EQ(e2.r.nviol, 0);
  env_fini(&e2);

  /* negotiated but no table memory: direct */
  env e3;
  CHECK_EQ(env_init(&e3, 8, F_INDIRECT, 0, 0), 0);
  CHECK(vsim_vq_drv_add(&e3.vq, s3, 1, 2, 1) >= 0);
  CHECK_EQ(e3.vq.num_free, 5);
  env_fini(&e3);

  /* table memory but not negotiated: direct */
  env e4;
  CHECK_EQ(env_init(&e4, 8, 0, 0, 4), 0);
  CHECK(vsim_vq_drv_add(&e4.vq, s3, 1, 2, 1) >= 0);
  CHECK_EQ(e4.vq.num_free, 5);
  env_fini(&e4);

  CHECK_EQ(e.r.nviol, 0);
  CHECK_EQ(e.r.faults, 0);
  env_fini(&e);
}

static void test_exhaustion(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, 0, 0, 0), 0);
  vsim_seg s[9];
  for (unsigned i = 0; i < 9; i++) s[i] = seg(BUF_GPA + 64u * i, 64, i >= 1);
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 0, 0, 0), -1); /* empty chain */
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 1, 8, 0), -1); /* 9 > size: never fits */
  CHECK_EQ(e.vq.num_free, 8);
  int h0 = vsim_vq_drv_add(&e.vq, s, 1, 2, 10);
  int h1 = vsim_vq_drv_add(&e.vq, s, 1, 2, 11);
  CHECK(h0 >= 0 && h1 >= 0);
  CHECK_EQ(e.vq.num_free, 2);
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 1, 2, 12), -2); /* no room now */
  CHECK_EQ(e.vq.num_free, 2);
  CHECK_EQ(e.vq.inflight, 2);
  int h2 = vsim_vq_drv_add(&e.vq, s, 1, 1, 13); /* exactly the last two */
  CHECK(h2 >= 0);
  CHECK_EQ(e.vq.num_free, 0);
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 1, 0, 14), -2);
  CHECK(vsim_vq_drv_kick_prepare(&e.vq));

  popped p[3];
  for (unsigned i = 0; i < 3; i++) CHECK_EQ(dev_pop(&e, &p[i]), 1);
  dev_push(&e, p[1].head, 10, true);
  uint64_t tok;
  uint32_t len;
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 11);
  CHECK_EQ(e.vq.num_free, 3);
  /* recovery: the freed three descriptors are usable again */
  CHECK(vsim_vq_drv_add(&e.vq, s, 1, 2, 12) >= 0);
  CHECK_EQ(e.vq.num_free, 0);
  CHECK(free_list_ok(&e.vq));
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

/* > 70000 requests through a size-8 queue: avail.idx and used.idx wrap the
 * 16-bit space more than once; completions come in reverse batch order so the
 * free list is shuffled; at the end every descriptor is free exactly once. */
static void test_many_wraps(uint64_t features, uint16_t indirect_max) {
  env e;
  CHECK_EQ(env_init(&e, 8, features, 0, indirect_max), 0);
  unsigned done = 0, added = 0, kicks_needed = 0, kicks = 0;
  uint32_t rng = 12345;
  uint64_t next_tok = 0, want_tok_sum = 0, got_tok_sum = 0;
  int bad = 0;
  while (done < 70500 && bad < 5) {
    /* add a batch until full */
    unsigned batch = 0;
    for (unsigned guard = 0; guard <= 8; guard++) {
      rng = rng * 1103515245u + 12345u;
      unsigned n = 1 + (rng >> 16) % 3;
      vsim_seg s[3];
      for (unsigned i = 0; i < n; i++) s[i] = seg(BUF_GPA + 64u * i, 64, i == n - 1);
      int h = vsim_vq_drv_add(&e.vq, s, n - 1, 1, next_tok);
      if (h == -2) break;
      if (h < 0 || guard == 8) { /* 8 chains at most fit a size-8 queue */
        bad++;
        break;
      }
      want_tok_sum += next_tok++;
      added++;
      batch++;
    }
    if (batch == 0) {
      bad++;
      break;
    }
    bool kick = vsim_vq_drv_kick_prepare(&e.vq);
    kicks += kick;
    /* the device always re-arms right after draining: with EVENT_IDX
     * avail_event = next avail index it has not seen; flags stay 0. Either way
     * this window MUST be notified. */
    kicks_needed++;
    popped p[8];
    unsigned np = 0;
    while (np < 8 && dev_pop(&e, &p[np]) == 1) np++;
    if (np != batch) bad++;
    if (features & F_EVENT_IDX) wr16(&e, avail_event_gpa(&e), e.dev_next_avail);
    for (unsigned i = np; i-- > 0;) dev_push(&e, p[i].head, 64, i == 0);
    for (unsigned i = 0; i < np; i++) {
      uint64_t tok = 0;
      uint32_t len = 0;
      if (vsim_vq_drv_get_used(&e.vq, &tok, &len) != 1 || len != 64) bad++;
      got_tok_sum += tok;
      done++;
      if ((features & F_EVENT_IDX) &&
          rd16(&e, used_event_gpa(&e)) != (uint16_t)e.vq.last_used)
        bad++;
    }
  }
  CHECK_EQ(bad, 0);
  CHECK(done >= 70500);
  CHECK_EQ(added, done);
  CHECK_EQ(want_tok_sum, got_tok_sum);
  CHECK_EQ(kicks, kicks_needed);
  CHECK(e.vq.avail_idx > 65536 * 1u);
  CHECK_EQ(rd16(&e, avail_idx_gpa()), (uint16_t)e.vq.avail_idx);
  CHECK_EQ(e.vq.last_used, e.vq.avail_idx);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK_EQ(e.vq.inflight, 0);
  CHECK(free_list_ok(&e.vq));
  CHECK_EQ(e.r.nviol, 0);
  CHECK_EQ(e.r.faults, 0);
  CHECK_EQ(e.r.ev[VSIM_EV_REAP], done);
  env_fini(&e);
}
static void test_many_wraps_plain(void) { test_many_wraps(0, 0); }
static void test_many_wraps_event_idx_indirect(void) {
  test_many_wraps(F_EVENT_IDX | F_INDIRECT, 4);
}

static void test_kick_used_flags(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, 0, 0, 0), 0);
  vsim_seg s[1] = {seg(BUF_GPA, 8, true)};
  CHECK(!vsim_vq_drv_kick_prepare(&e.vq)); /* nothing new: no kick */
  CHECK(vsim_vq_drv_add(&e.vq, s, 0, 1, 1) >= 0);
  CHECK(vsim_vq_drv_kick_prepare(&e.vq));  /* flags 0: MUST */
  CHECK(!vsim_vq_drv_kick_prepare(&e.vq)); /* same window already decided */
  wr16(&e, used_flags_gpa(), VRING_USED_F_NO_NOTIFY);
  CHECK(vsim_vq_drv_add(&e.vq, s, 0, 1, 2) >= 0);
  CHECK(!vsim_vq_drv_kick_prepare(&e.vq)); /* suppressed: SHOULD NOT */
  CHECK_EQ(e.r.ev_a[VSIM_EV_AVAIL_PUBLISH], 1);
  CHECK_EQ(e.r.ev_b[VSIM_EV_AVAIL_PUBLISH], 2);
  /* avail_event is ignored without EVENT_IDX */
  wr16(&e, used_flags_gpa(), 0);
  wr16(&e, avail_event_gpa(&e), 100);
  CHECK(vsim_vq_drv_add(&e.vq, s, 0, 1, 3) >= 0);
  CHECK(vsim_vq_drv_kick_prepare(&e.vq));
  CHECK_EQ(rd16(&e, avail_idx_gpa()), 3);
  CHECK_EQ(e.r.ev[VSIM_EV_AVAIL_PUBLISH], 5);
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

/* Add `n` one-segment chains and decide once: the window is (old, old + n]. */
static bool batch_kick(env *e, unsigned n, uint16_t avail_event) {
  vsim_seg s[1] = {seg(BUF_GPA, 8, true)};
  for (unsigned i = 0; i < n; i++) CHECK(vsim_vq_drv_add(&e->vq, s, 0, 1, i) >= 0);
  wr16(e, avail_event_gpa(e), avail_event);
  return vsim_vq_drv_kick_prepare(&e->vq);
}

/* Complete everything in flight, in order, so the next batch has room. */
static void drain(env *e) {
  popped p;
  for (unsigned i = 0; i < e->vq.size && dev_pop(e, &p) == 1; i++)
    dev_push(e, p.head, 0, true);
  uint64_t tok;
  uint32_t len;
  for (unsigned i = 0; i <= e->vq.size; i++)
    if (vsim_vq_drv_get_used(&e->vq, &tok, &len) != 1) break;
  CHECK_EQ(e->vq.inflight, 0);
}

/* Round trips until the 16-bit avail index is `target` (bounded: a broken
 * driver must fail the test, not hang it). */
static void advance_to(env *e, uint16_t target) {
  for (unsigned i = 0; i < 65536 && (uint16_t)e->vq.avail_idx != target; i++)
    cycle(e, 0);
  CHECK_EQ((uint16_t)e->vq.avail_idx, target);
}

static void test_kick_event_idx(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, F_EVENT_IDX, 0, 0), 0);
  /* exact transition: avail_event == the index of the entry just written */
  CHECK(batch_kick(&e, 1, 0));   /* 0 -> 1 crosses 0: MUST */
  drain(&e);
  CHECK(!batch_kick(&e, 1, 2));  /* 1 -> 2, event 2 not yet written */
  drain(&e);
  CHECK(batch_kick(&e, 1, 2));   /* 2 -> 3: now exactly at 2 */
  drain(&e);
  CHECK(!batch_kick(&e, 1, 1000)); /* far away */
  drain(&e);
  CHECK(!batch_kick(&e, 1, 2));  /* already passed before this window */
  drain(&e);
  /* lower bit of used.flags is ignored with EVENT_IDX */
  wr16(&e, used_flags_gpa(), VRING_USED_F_NO_NOTIFY);
  CHECK(batch_kick(&e, 1, 5)); /* 5 -> 6 */
  drain(&e);
  wr16(&e, used_flags_gpa(), 0);
  CHECK(!batch_kick(&e, 1, 5)); /* 6 -> 7 */
  drain(&e);
  /* batch window: old = 7, three adds, new = 10: events 7, 8, 9 are inside */
  CHECK(batch_kick(&e, 3, 7));
  drain(&e); /* 10 */
  CHECK(batch_kick(&e, 3, 11));
  drain(&e); /* 13 */
  CHECK(batch_kick(&e, 3, 15));
  drain(&e); /* 16 */
  CHECK(!batch_kick(&e, 3, 19)); /* new = 19: entry 19 not written yet */
  drain(&e);                     /* 19 */
  CHECK(!batch_kick(&e, 3, 18)); /* before the window (16..18 was the last) */
  drain(&e);                     /* 22 */
  /* two decisions inside one batch of adds: only the adds since the last
   * decision count */
  vsim_seg s[1] = {seg(BUF_GPA, 8, true)};
  CHECK(vsim_vq_drv_add(&e.vq, s, 0, 1, 0) >= 0);
  wr16(&e, avail_event_gpa(&e), 22);
  CHECK(vsim_vq_drv_kick_prepare(&e.vq)); /* 22 -> 23 */
  CHECK(!batch_kick(&e, 2, 22));          /* 23 -> 25, 22 was the previous window */
  CHECK_EQ(e.r.ev_a[VSIM_EV_AVAIL_PUBLISH], 23);
  CHECK_EQ(e.r.ev_b[VSIM_EV_AVAIL_PUBLISH], 25);
  drain(&e);

  /* across the 16-bit wrap: bring the index to 65534, then add 3 -> 1 */
  advance_to(&e, 65534);
  CHECK(batch_kick(&e, 3, 65535));
  drain(&e);
  CHECK_EQ(rd16(&e, avail_idx_gpa()), 1);
  advance_to(&e, 65534);
  CHECK(batch_kick(&e, 3, 0));
  drain(&e);
  advance_to(&e, 65534);
  CHECK(batch_kick(&e, 3, 65534));
  drain(&e);
  advance_to(&e, 65534);
  CHECK(!batch_kick(&e, 3, 1));
  drain(&e);
  advance_to(&e, 65534);
  CHECK(!batch_kick(&e, 3, 65533));
  drain(&e);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK(free_list_ok(&e.vq));
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

static void test_callbacks_flags(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, 0, 0, 0), 0);
  vsim_vq_drv_set_callbacks(&e.vq, false);
  CHECK(!e.vq.cb_enabled);
  CHECK_EQ(rd16(&e, avail_flags_gpa()), VRING_AVAIL_F_NO_INTERRUPT);
  CHECK_EQ(rd16(&e, used_event_gpa(&e)), 0); /* untouched without EVENT_IDX */
  cycle(&e, 0);
  CHECK_EQ(rd16(&e, used_event_gpa(&e)), 0);
  vsim_vq_drv_set_callbacks(&e.vq, true);
  CHECK(e.vq.cb_enabled);
  CHECK_EQ(rd16(&e, avail_flags_gpa()), 0);
  cycle(&e, 0);
  CHECK_EQ(rd16(&e, used_event_gpa(&e)), 0);
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

static void test_callbacks_event_idx(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, F_EVENT_IDX, 0, 0), 0);
  for (unsigned i = 0; i < 5; i++) cycle(&e, 0);
  /* callbacks on: each reap asks for the next completion */
  CHECK_EQ(rd16(&e, used_event_gpa(&e)), 5);
  vsim_vq_drv_set_callbacks(&e.vq, false);
  CHECK_EQ(rd16(&e, avail_flags_gpa()), 0); /* MUST stay 0 with EVENT_IDX */
  CHECK_EQ(rd16(&e, used_event_gpa(&e)), 4); /* as far away as possible */
  cycle(&e, 0);
  CHECK_EQ(rd16(&e, used_event_gpa(&e)), 4); /* reaping does not re-arm */
  vsim_vq_drv_set_callbacks(&e.vq, true);
  CHECK_EQ(rd16(&e, avail_flags_gpa()), 0);
  CHECK_EQ(rd16(&e, used_event_gpa(&e)), 6);
  cycle(&e, 0);
  CHECK_EQ(rd16(&e, used_event_gpa(&e)), 7);
  /* disabling at last_used 0 (mod 2^16) writes 0xffff */
  env e2;
  CHECK_EQ(env_init(&e2, 8, F_EVENT_IDX, 0, 0), 0);
  vsim_vq_drv_set_callbacks(&e2.vq, false);
  CHECK_EQ(rd16(&e2, used_event_gpa(&e2)), 0xffff);
  env_fini(&e2);
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

/* A queue with chains in flight, for the bad-device tests: heads of a 1-desc
 * chain (wr 64), a 3-desc chain (wr 200) and a read-only 1-desc chain. */
static void bad_setup(env *e, int h[3]) {
  CHECK_EQ(env_init(e, 8, 0, 0, 0), 0);
  vsim_seg a[1] = {seg(BUF_GPA, 64, true)};
  vsim_seg b[3] = {seg(BUF_GPA + 64, 16, false), seg(BUF_GPA + 80, 100, true),
                   seg(BUF_GPA + 180, 100, true)};
  vsim_seg c[1] = {seg(BUF_GPA + 400, 32, false)};
  h[0] = vsim_vq_drv_add(&e->vq, a, 0, 1, 100);
  h[1] = vsim_vq_drv_add(&e->vq, b, 1, 2, 101);
  h[2] = vsim_vq_drv_add(&e->vq, c, 1, 0, 102);
  CHECK(h[0] >= 0 && h[1] >= 0 && h[2] >= 0);
  CHECK(vsim_vq_drv_kick_prepare(&e->vq));
  CHECK_EQ(e->vq.num_free, 3);
  /* the device takes all three (so a later round trip pops fresh chains) */
  popped p;
  for (unsigned i = 0; i < 3; i++) {
    CHECK_EQ(dev_pop(e, &p), 1);
    CHECK_EQ(p.head, h[i]);
  }
}

/* After a fatal device error: every op refuses, nothing is freed (twice or
 * at all), no further violation is reported. */
static void check_broken(env *e, uint16_t num_free, uint32_t inflight) {
  int nviol = e->r.nviol;
  uint64_t tok;
  uint32_t len;
  CHECK(e->vq.broken);
  CHECK_EQ(vsim_vq_drv_get_used(&e->vq, &tok, &len), -1);
  CHECK_EQ(vsim_vq_drv_get_used(&e->vq, &tok, &len), -1);
  vsim_seg s[1] = {seg(BUF_GPA, 8, true)};
  CHECK_EQ(vsim_vq_drv_add(&e->vq, s, 0, 1, 0), -1);
  CHECK(!vsim_vq_drv_kick_prepare(&e->vq));
  CHECK_EQ(e->vq.num_free, num_free);
  CHECK_EQ(e->vq.inflight, inflight);
  CHECK(free_list_ok(&e->vq));
  CHECK_EQ(vsim_vq_drv_audit(&e->vq, NULL, 0), 0);
  CHECK_EQ(e->r.nviol, nviol);
}

static void test_bad_id_range(void) {
  env e;
  int h[3];
  bad_setup(&e, h);
  dev_push(&e, 8, 0, true); /* == size */
  uint64_t tok = 77;
  uint32_t len = 77;
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(tok, 77); /* outputs untouched */
  CHECK_EQ(e.r.nviol, 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_USED_ID_RANGE], 1);
  CHECK(strstr(e.r.last_detail, "8") != NULL);
  CHECK_EQ(e.r.ev[VSIM_EV_REAP], 0);
  check_broken(&e, 3, 3);
  env_fini(&e);

  bad_setup(&e, h);
  dev_push(&e, 0xffffffffu, 0, true); /* 32-bit id, far out */
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.viol[VSIM_CHK_USED_ID_RANGE], 1);
  CHECK_EQ(e.r.nviol, 1);
  check_broken(&e, 3, 3);
  env_fini(&e);
}

static void test_bad_not_head(void) {
  uint64_t tok;
  uint32_t len;
  int h[3];
  env e;
  /* never issued: a free descriptor */
  bad_setup(&e, h);
  dev_push(&e, 7, 0, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.nviol, 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_USED_ID_NOT_HEAD], 1);
  check_broken(&e, 3, 3);
  env_fini(&e);

  /* mid-chain: the second descriptor of the 3-descriptor chain */
  bad_setup(&e, h);
  uint16_t mid = e.vq.free_next[h[1]];
  CHECK(mid != h[1]);
  dev_push(&e, mid, 0, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.nviol, 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_USED_ID_NOT_HEAD], 1);
  check_broken(&e, 3, 3);
  env_fini(&e);

  /* duplicate completion: the second one is refused, nothing freed twice */
  bad_setup(&e, h);
  dev_push(&e, (uint32_t)h[1], 50, false);
  dev_push(&e, (uint32_t)h[1], 50, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 101);
  CHECK_EQ(e.vq.num_free, 6);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.nviol, 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_USED_ID_NOT_HEAD], 1);
  CHECK(strstr(e.r.last_detail, "not an outstanding head") != NULL);
  check_broken(&e, 6, 2);
  env_fini(&e);
}

static void test_bad_len_over(void) {
  uint64_t tok;
  uint32_t len;
  int h[3];
  env e;
  bad_setup(&e, h);
  dev_push(&e, (uint32_t)h[1], 201, true); /* writable is 200 */
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 101);
  CHECK_EQ(len, 200); /* clamped */
  CHECK_EQ(e.r.nviol, 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_USED_LEN_OVER], 1);
  CHECK_EQ(e.r.ev_b[VSIM_EV_REAP], 200);
  CHECK(!e.vq.broken);
  CHECK_EQ(e.vq.num_free, 6);
  /* read-only chain: any len above 0 is over */
  dev_push(&e, (uint32_t)h[2], 1, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 102);
  CHECK_EQ(len, 0);
  CHECK_EQ(e.r.viol[VSIM_CHK_USED_LEN_OVER], 2);
  /* exactly the writable bytes is fine */
  dev_push(&e, (uint32_t)h[0], 64, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(len, 64);
  CHECK_EQ(e.r.nviol, 2);
  /* the queue is still usable */
  cycle(&e, 64);
  cycle(&e, 3);
  CHECK_EQ(e.r.nviol, 2);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK(free_list_ok(&e.vq));
  env_fini(&e);
}

static void test_bad_idx_jump(void) {
  uint64_t tok;
  uint32_t len;
  int h[3];
  env e;
  /* 3 in flight, used.idx moves by 4 */
  bad_setup(&e, h);
  dev_push(&e, (uint32_t)h[0], 0, false);
  wr16(&e, used_idx_gpa(), 4);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.nviol, 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_USED_IDX_JUMP], 1);
  CHECK_EQ(e.r.ev[VSIM_EV_REAP], 0);
  check_broken(&e, 3, 3);
  env_fini(&e);

  /* a jump after a legitimate reap: only what is still in flight counts */
  bad_setup(&e, h);
  dev_push(&e, (uint32_t)h[0], 0, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  wr16(&e, used_idx_gpa(), 4); /* 3 pending, 2 in flight */
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.viol[VSIM_CHK_USED_IDX_JUMP], 1);
  CHECK_EQ(e.r.nviol, 1);
  check_broken(&e, 4, 2);
  env_fini(&e);

  /* used.idx going backwards looks like a huge jump */
  bad_setup(&e, h);
  wr16(&e, used_idx_gpa(), 0xffff);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.viol[VSIM_CHK_USED_IDX_JUMP], 1);
  check_broken(&e, 3, 3);
  env_fini(&e);

  /* nothing in flight, used.idx moves */
  CHECK_EQ(env_init(&e, 8, 0, 0, 0), 0);
  wr16(&e, used_idx_gpa(), 1);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.viol[VSIM_CHK_USED_IDX_JUMP], 1);
  check_broken(&e, 8, 0);
  env_fini(&e);
}

static void test_mutants(void) {
  vsim_seg s[1] = {seg(BUF_GPA, 8, true)};
  env e;
  /* skip-kick: never notifies, even when the device asked for it */
  CHECK_EQ(env_init(&e, 8, 0, TMUT(DRV_SKIP_KICK), 0), 0);
  CHECK(vsim_vq_drv_add(&e.vq, s, 0, 1, 1) >= 0);
  CHECK(!vsim_vq_drv_kick_prepare(&e.vq));
  CHECK_EQ(rd16(&e, avail_idx_gpa()), 1); /* still published */
  env_fini(&e);
  CHECK_EQ(env_init(&e, 8, F_EVENT_IDX, TMUT(DRV_SKIP_KICK), 0), 0);
  CHECK(!batch_kick(&e, 1, 0));
  env_fini(&e);

  /* kick-always: notifies although the device suppressed it */
  CHECK_EQ(env_init(&e, 8, 0, TMUT(DRV_KICK_ALWAYS), 0), 0);
  wr16(&e, used_flags_gpa(), VRING_USED_F_NO_NOTIFY);
  CHECK(vsim_vq_drv_add(&e.vq, s, 0, 1, 1) >= 0);
  CHECK(vsim_vq_drv_kick_prepare(&e.vq));
  env_fini(&e);
  CHECK_EQ(env_init(&e, 8, F_EVENT_IDX, TMUT(DRV_KICK_ALWAYS), 0), 0);
  CHECK(batch_kick(&e, 1, 1000));
  env_fini(&e);

  /* used-flags-dirty: garbage in used.flags at allocation, rest still zero */
  CHECK_EQ(env_init(&e, 8, 0, TMUT(DRV_USED_FLAGS_DIRTY), 0), 0);
  CHECK_EQ(rd16(&e, used_flags_gpa()), 0xdead);
  CHECK_EQ(rd16(&e, used_idx_gpa()), 0);
  env_fini(&e);

  /* avail-flags: NO_INTERRUPT in avail.flags with EVENT_IDX when disabling */
  CHECK_EQ(env_init(&e, 8, F_EVENT_IDX, TMUT(DRV_AVAIL_FLAGS), 0), 0);
  CHECK_EQ(rd16(&e, avail_flags_gpa()), 0); /* not at init */
  vsim_vq_drv_set_callbacks(&e.vq, false);
  CHECK_EQ(rd16(&e, avail_flags_gpa()), VRING_AVAIL_F_NO_INTERRUPT);
  CHECK_EQ(rd16(&e, used_event_gpa(&e)), 0xffff); /* the rest is unchanged */
  vsim_vq_drv_set_callbacks(&e.vq, true);
  CHECK_EQ(rd16(&e, avail_flags_gpa()), 0);
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

static void test_raw_ops(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, 0, 0, 0), 0);
  uint64_t tok;
  uint32_t len;
  /* garbage heads go into the ring unvalidated, inflight untouched */
  uint16_t heads[3] = {5, 9999, 5};
  vsim_vq_drv_raw_avail(&e.vq, heads, 3);
  CHECK_EQ(e.vq.avail_idx, 3);
  CHECK_EQ(e.vq.inflight, 0);
  CHECK_EQ(rd16(&e, avail_ring_gpa(1)), 9999);
  CHECK(vsim_vq_drv_kick_prepare(&e.vq));
  CHECK_EQ(rd16(&e, avail_idx_gpa()), 3);
  /* track head 5: it leaves the free list, its completion is accepted */
  vsim_vq_drv_raw_track(&e.vq, 5, 40);
  CHECK_EQ(e.vq.inflight, 1);
  CHECK_EQ(e.vq.num_free, 7);
  CHECK(free_list_ok(&e.vq));
  vsim_vq_drv_raw_track(&e.vq, 8, 40);   /* out of range: ignored */
  CHECK_EQ(e.vq.inflight, 1);
  CHECK_EQ(e.vq.num_free, 7);
  /* a normal add never hands out descriptor 5 while it is tracked */
  vsim_seg s[7];
  for (unsigned i = 0; i < 7; i++) s[i] = seg(BUF_GPA + 8u * i, 8, true);
  int h = vsim_vq_drv_add(&e.vq, s, 0, 7, 1);
  CHECK(h >= 0);
  CHECK_EQ(e.vq.num_free, 0);
  for (uint16_t d = (uint16_t)h, i = 0; i < 7; i++, d = e.vq.free_next[d]) CHECK(d != 5);
  dev_push(&e, 5, 41, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, UINT64_MAX - 5);
  CHECK_EQ(len, 40);
  CHECK_EQ(e.r.viol[VSIM_CHK_USED_LEN_OVER], 1);
  CHECK_EQ(e.vq.num_free, 1);
  /* tracking a descriptor in the middle of the in-flight chain: its
   * completion is accepted but frees nothing; the chain frees it once */
  uint16_t mid = e.vq.free_next[h];
  vsim_vq_drv_raw_track(&e.vq, mid, 0);
  CHECK_EQ(e.vq.num_free, 1);
  dev_push(&e, mid, 0, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, UINT64_MAX - mid);
  CHECK_EQ(e.vq.num_free, 1);
  dev_push(&e, (uint32_t)h, 56, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 1);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK_EQ(e.vq.inflight, 0);
  CHECK(free_list_ok(&e.vq));
  CHECK_EQ(e.r.nviol, 1);
  env_fini(&e);

  /* a raw head published again while in flight: the device may complete it
   * once per publication; both completions are accepted, the descriptor is
   * freed once, after the last */
  CHECK_EQ(env_init(&e, 8, 0, 0, 0), 0);
  vsim_vq_drv_raw_track(&e.vq, 5, 40);
  vsim_vq_drv_raw_track(&e.vq, 5, 40);
  CHECK_EQ(e.vq.inflight, 2);
  CHECK_EQ(e.vq.num_free, 7);
  dev_push(&e, 5, 4, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(e.vq.num_free, 7); /* still held by the second publication */
  dev_push(&e, 5, 4, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK_EQ(e.vq.inflight, 0);
  CHECK(free_list_ok(&e.vq));
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

/* The driver's own ring memory can be made unreadable by a scenario: that is
 * an arena fault (reported by the arena), the queue stops, nothing crashes. */
static void test_arena_fault(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, 0, 0, 0), 0);
  vsim_seg s[1] = {seg(BUF_GPA, 8, true)};
  CHECK(vsim_vq_drv_add(&e.vq, s, 0, 1, 1) >= 0);
  CHECK(vsim_vq_drv_kick_prepare(&e.vq));
  CHECK_EQ(vsim_arena_set_region(e.a, USED_GPA, 0x100, VSIM_REGION_HOLE), 0);
  uint64_t tok;
  uint32_t len;
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), -1);
  CHECK(e.r.faults >= 1);
  CHECK(e.vq.broken);
  CHECK_EQ(e.r.nviol, 0);
  CHECK_EQ(e.vq.num_free, 7);
  env_fini(&e);
}

/* ---- IN_ORDER ------------------------------------------------------------ */

#define F_IN_ORDER (UINT64_C(1) << VIRTIO_F_IN_ORDER)

/* The in-order bookkeeping is intact: the busy map holds exactly the
 * descriptors not counted free, no more heads are in flight than buffers, and
 * (when only add made chains available) the free descriptors are one run from
 * the cursor. */
static bool in_order_ok(const vsim_vq_drv *vq, bool one_run) {
  uint32_t busy = 0, in_flight = 0;
  for (uint32_t i = 0; i < vq->size; i++) {
    busy += vq->desc_busy[i] != 0;
    in_flight += vq->slot[i].in_flight;
  }
  if (busy + vq->num_free != vq->size || in_flight > vq->inflight) return false;
  if (one_run)
    for (uint32_t i = 0, d = vq->next_desc; i < vq->num_free; i++, d = (d + 1) % vq->size)
      if (vq->desc_busy[d]) return false;
  return true;
}

/* The in-order device: one used element for the next `k` buffers it holds,
 * at the used position of the first, with the head of the last; used.idx
 * goes up by k (published when asked). k = 1 is the unbatched form. */
static void dev_batch(env *e, uint32_t last_head, uint32_t len, uint16_t k, bool publish) {
  uint64_t g = used_elem_gpa((uint16_t)(e->dev_used_idx % e->vq.size));
  wr32(e, g, last_head);
  wr32(e, g + 4, len);
  e->dev_used_idx = (uint16_t)(e->dev_used_idx + k);
  if (publish) wr16(e, used_idx_gpa(), e->dev_used_idx);
}

static void dev_publish(env *e) { wr16(e, used_idx_gpa(), e->dev_used_idx); }

static uint32_t lcg(uint32_t *s) {
  *s = *s * 1103515245u + 12345u;
  return *s >> 16;
}

/* Chains go into the table in ring order from slot 0, their descriptors
 * consecutive with next = x + 1 (0 after the last slot, for a chain that
 * crosses the end of the table); indirect tables chain 1, 2, ... */
static void test_in_order_alloc(void) {
  env e;
  uint64_t tok;
  uint32_t len;
  CHECK_EQ(env_init(&e, 8, F_IN_ORDER, 0, 0), 0);
  CHECK(e.vq.in_order);
  vsim_seg s[8];
  for (unsigned i = 0; i < 8; i++) s[i] = seg(BUF_GPA + 64u * i, 64, i >= 1);
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 1, 0, 10), 0);
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 1, 2, 11), 1);
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 1, 1, 12), 4);
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 1, 1, 13), 6);
  CHECK_EQ(e.vq.num_free, 0);
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 0, 1, 14), -2);
  CHECK(in_order_ok(&e.vq, true));
  CHECK(vsim_vq_drv_kick_prepare(&e.vq));
  popped p[4];
  const uint16_t want_head[4] = {0, 1, 4, 6}, want_n[4] = {1, 3, 2, 2};
  for (unsigned i = 0; i < 4; i++) {
    CHECK_EQ(dev_pop(&e, &p[i]), 1);
    CHECK_EQ(p[i].head, want_head[i]);
    CHECK_EQ(p[i].nseg, want_n[i]);
    for (unsigned j = 0; j < p[i].nseg; j++) {
      CHECK_EQ(p[i].didx[j], (want_head[i] + j) % 8);
      if (j + 1 < p[i].nseg) CHECK_EQ(p[i].next[j], (want_head[i] + j + 1) % 8);
    }
  }
  /* the first two complete one by one: slots 0..3 come free, the cursor
   * (back at 0) takes a 4-descriptor chain there, and nothing else fits */
  dev_batch(&e, 0, 0, 1, false);
  dev_batch(&e, 1, 50, 1, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 10);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 11);
  CHECK_EQ(len, 50);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 0);
  CHECK_EQ(e.vq.num_free, 4);
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 2, 2, 15), 0);
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 0, 1, 16), -2);
  /* the other two as one batch: the skipped one gets its full writable bytes */
  dev_batch(&e, 6, 40, 2, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 12);
  CHECK_EQ(len, 64);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 13);
  CHECK_EQ(len, 40);
  CHECK_EQ(e.vq.num_free, 4);
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 1, 2, 17), 4);
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 1, 1, 18), -2); /* only 7 is free */
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 0, 1, 19), 7);
  CHECK(vsim_vq_drv_kick_prepare(&e.vq));
  CHECK(in_order_ok(&e.vq, true));
  for (unsigned i = 0; i < 3; i++) CHECK_EQ(dev_pop(&e, &p[i]), 1);
  CHECK_EQ(p[0].head, 0);
  CHECK_EQ(p[0].nseg, 4);
  for (unsigned j = 0; j < 3; j++) CHECK_EQ(p[0].next[j], j + 1);
  CHECK_EQ(p[1].head, 4);
  CHECK_EQ(p[2].head, 7);
  dev_batch(&e, 7, 8, 3, true); /* the three at once */
  const uint64_t want_tok[3] = {15, 17, 19};
  const uint32_t want_len[3] = {128, 128, 8};
  for (unsigned i = 0; i < 3; i++) {
    CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
    CHECK_EQ(tok, want_tok[i]);
    CHECK_EQ(len, want_len[i]);
  }
  CHECK_EQ(e.vq.num_free, 8);
  /* cursor at 0: a 6-chain, a 1-chain, then one crossing the end: 7, 0, 1 */
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 1, 5, 20), 0);
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 1, 0, 21), 6);
  CHECK(vsim_vq_drv_kick_prepare(&e.vq));
  for (unsigned i = 0; i < 2; i++) CHECK_EQ(dev_pop(&e, &p[i]), 1);
  dev_batch(&e, 6, 0, 2, true);
  for (unsigned i = 0; i < 2; i++) CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 1, 2, 22), 7);
  CHECK_EQ(e.vq.next_desc, 2);
  CHECK(vsim_vq_drv_kick_prepare(&e.vq));
  CHECK_EQ(dev_pop(&e, &p[0]), 1);
  CHECK_EQ(p[0].nseg, 3);
  CHECK_EQ(p[0].didx[0], 7);
  CHECK_EQ(p[0].next[0], 0); /* x = queue_size - 1: next is 0 */
  CHECK_EQ(p[0].didx[1], 0);
  CHECK_EQ(p[0].next[1], 1);
  CHECK_EQ(p[0].didx[2], 1);
  CHECK(in_order_ok(&e.vq, true));
  CHECK_EQ(e.r.nviol, 0);
  CHECK_EQ(e.r.faults, 0);
  env_fini(&e);

  /* indirect: one ring descriptor per chain, at the cursor; the table's
   * entries are sequential, next = 1, 2, ... */
  CHECK_EQ(env_init(&e, 4, F_IN_ORDER | F_INDIRECT, 0, 4), 0);
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 0, 1, 1), 0); /* one segment: direct */
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 1, 3, 2), 1); /* four: indirect */
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 1, 1, 3), 2);
  CHECK_EQ(e.vq.num_free, 1);
  CHECK(vsim_vq_drv_kick_prepare(&e.vq));
  CHECK_EQ(dev_pop(&e, &p[0]), 1);
  CHECK(!p[0].indirect);
  CHECK_EQ(dev_pop(&e, &p[1]), 1);
  CHECK(p[1].indirect);
  CHECK_EQ(p[1].nseg, 4);
  for (unsigned j = 0; j < 4; j++) {
    CHECK_EQ(p[1].didx[j], j);
    if (j < 3) CHECK_EQ(p[1].next[j], j + 1);
  }
  CHECK_EQ(dev_pop(&e, &p[2]), 1);
  CHECK(p[2].indirect);
  CHECK_EQ(p[2].next[0], 1);
  dev_batch(&e, 2, 64, 3, true);
  for (unsigned i = 0; i < 3; i++) CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(len, 64);
  CHECK_EQ(e.vq.num_free, 4);
  CHECK(in_order_ok(&e.vq, true));
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

/* A random in-order workload: chains of 1..3 segments (some indirect), the
 * device pops everything and completes in batches of 1, 3, everything it
 * holds, or a random size, publishing after some batches only (so one
 * used.idx move mixes batched and unbatched entries). Far past the 16-bit
 * wrap of both indices. The driver must return every buffer once, in the
 * order added, with the batch's len on its last buffer and the full writable
 * bytes on the others, and ask for the interrupt after each batch. */
static void in_order_random(uint16_t size, uint64_t features, uint16_t indirect_max,
                            uint32_t seed, unsigned target) {
  env e;
  CHECK_EQ(env_init(&e, size, F_IN_ORDER | features, 0, indirect_max), 0);
  enum { QMAX = 64 };
  struct item {
    uint16_t head;
    uint32_t wr;
    uint64_t tok;
    uint32_t want_len;
  } drv[QMAX], dq[QMAX];
  unsigned dh = 0, dn = 0;          /* driver-side expectation FIFO (added, not reaped) */
  unsigned qh = 0, qn = 0;          /* device FIFO (popped, not completed) */
  uint32_t want_len_of[QMAX] = {0}; /* by head: the len the driver must report */
  uint16_t cursor = 0;              /* the oracle's own in-order cursor */
  uint32_t rng = seed;
  uint64_t next_tok = 1;
  unsigned reaped = 0, added = 0, batches = 0, whole = 0, bad = 0, big = 0;
  while (reaped < target && bad < 5) {
    unsigned act = lcg(&rng) % 10;
    if (act < 4) {
      unsigned n = 1 + lcg(&rng) % (size < 3 ? size : 3), nout = lcg(&rng) % n;
      vsim_seg s[3];
      for (unsigned i = 0; i < n; i++) s[i] = seg(BUF_GPA + 256u * i, 16u * (1 + i), i >= nout);
      uint32_t wr = 0;
      for (unsigned i = nout; i < n; i++) wr += s[i].len;
      bool ind = (features & F_INDIRECT) && n > 1 && n <= indirect_max;
      unsigned need = ind ? 1 : n;
      int h = vsim_vq_drv_add(&e.vq, s, nout, n - nout, next_tok);
      if (h == -2) {
        if (need <= e.vq.num_free) bad++; /* the free run is exact in order */
        continue;
      }
      if (h != cursor) bad++;
      cursor = (uint16_t)((cursor + need) % size);
      drv[(dh + dn++) % QMAX] = (struct item){(uint16_t)h, wr, next_tok++, 0};
      added++;
      if (lcg(&rng) % 3 == 0) (void)vsim_vq_drv_kick_prepare(&e.vq);
    } else if (act < 5) {
      (void)vsim_vq_drv_kick_prepare(&e.vq);
      popped p;
      while (dev_pop(&e, &p) == 1) {
        /* in ring order: direct chains are consecutive slots, next = x + 1 */
        if (!p.indirect)
          for (unsigned j = 0; j + 1 < p.nseg; j++)
            if (p.didx[j + 1] != (p.didx[j] + 1) % size || p.next[j] != p.didx[j + 1]) bad++;
        dq[(qh + qn++) % QMAX] = (struct item){p.head, p.wr_bytes, 0, 0};
      }
    } else if (act < 8) {
      if (qn == 0) continue;
      unsigned pick = lcg(&rng) % 4;
      unsigned k = pick == 0 ? 1 : pick == 1 ? 3 : pick == 2 ? qn : 1 + lcg(&rng) % qn;
      if (k > qn) k = qn;
      whole += k == qn && k > 1; /* everything the device held */
      struct item last = dq[(qh + k - 1) % QMAX];
      uint32_t len = lcg(&rng) % (last.wr + 1);
      for (unsigned j = 0; j < k; j++) {
        struct item it = dq[(qh + j) % QMAX];
        want_len_of[it.head] = j + 1 < k ? it.wr : len;
      }
      dev_batch(&e, last.head, len, (uint16_t)k, lcg(&rng) % 2);
      qh = (qh + k) % QMAX;
      qn -= k;
      batches++;
      big += k > 1;
    } else if (act < 9) {
      dev_publish(&e);
    } else {
      uint64_t tok;
      uint32_t len;
      int rc;
      while ((rc = vsim_vq_drv_get_used(&e.vq, &tok, &len)) == 1) {
        struct item it = drv[dh];
        dh = (dh + 1) % QMAX;
        dn--;
        uint16_t head = (uint16_t)e.r.ev_a[VSIM_EV_REAP];
        if (head != it.head || tok != it.tok || len != want_len_of[head]) bad++;
        if ((features & F_EVENT_IDX) && e.vq.batch_left == 0 &&
            rd16(&e, used_event_gpa(&e)) != (uint16_t)e.vq.last_used)
          bad++;
        reaped++;
      }
      if (rc != 0) bad++;
      if (!in_order_ok(&e.vq, true)) bad++;
    }
  }
  CHECK_EQ(bad, 0);
  CHECK(reaped >= target);
  CHECK(batches > target / 8);
  CHECK(big > 0 || size == 1);
  CHECK(whole > 0 || size == 1);
  CHECK(e.vq.last_used > 2u * 65536u);
  CHECK_EQ(e.r.ev[VSIM_EV_REAP], reaped);
  if (bad) fprintf(stderr, "  (in_order_random size %u: %u bad, %u reaped)\n", size, bad, reaped);
  CHECK_EQ(e.r.nviol, 0);
  CHECK_EQ(e.r.faults, 0);
  env_fini(&e);
}

static void test_in_order_random(void) {
  in_order_random(8, 0, 0, 1, 140000);
  in_order_random(16, F_EVENT_IDX | F_INDIRECT, 2, 2, 140000);
  in_order_random(4, F_EVENT_IDX, 0, 3, 140000);
  in_order_random(1, 0, 0, 4, 140000);
}

/* The whole ring as one batch, again and again across the 16-bit wrap: one
 * used element at the first position, with the last head, used.idx + size. */
static void test_in_order_whole_ring(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, F_IN_ORDER | F_EVENT_IDX, 0, 0), 0);
  int bad = 0;
  for (unsigned round = 0; round < 20000 && bad < 5; round++) {
    for (unsigned i = 0; i < 8; i++) {
      vsim_seg s[1] = {seg(BUF_GPA + 64u * i, 64, true)};
      if (vsim_vq_drv_add(&e.vq, s, 0, 1, 100u * round + i) != (int)i) bad++;
    }
    (void)vsim_vq_drv_kick_prepare(&e.vq);
    popped p;
    for (unsigned i = 0; i < 8; i++)
      if (dev_pop(&e, &p) != 1) bad++;
    uint16_t first_slot = (uint16_t)(e.dev_used_idx % 8u);
    dev_batch(&e, 7, (uint32_t)round % 65, 8, true);
    for (unsigned i = 0; i < 8; i++) {
      uint64_t tok;
      uint32_t len;
      if (vsim_vq_drv_get_used(&e.vq, &tok, &len) != 1 || tok != 100u * round + i ||
          len != (i < 7 ? 64u : round % 65))
        bad++;
    }
    if (first_slot != 0 || rd16(&e, used_event_gpa(&e)) != (uint16_t)e.vq.last_used) bad++;
    uint64_t tok;
    if (vsim_vq_drv_get_used(&e.vq, &tok, NULL) != 0) bad++;
  }
  CHECK_EQ(bad, 0);
  CHECK(e.vq.last_used > 2u * 65536u);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK_EQ(e.vq.inflight, 0);
  CHECK(in_order_ok(&e.vq, true));
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

/* Callbacks switched while a batch is being returned: used_event names the
 * entry after the batch (already known), not a position inside it. */
static void test_in_order_callbacks(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, F_IN_ORDER | F_EVENT_IDX, 0, 0), 0);
  vsim_seg s[1] = {seg(BUF_GPA, 64, true)};
  for (unsigned i = 0; i < 4; i++) CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 0, 1, i), (int)i);
  CHECK(vsim_vq_drv_kick_prepare(&e.vq));
  popped p;
  for (unsigned i = 0; i < 4; i++) CHECK_EQ(dev_pop(&e, &p), 1);
  dev_batch(&e, 2, 5, 3, true);
  uint64_t tok;
  uint32_t len;
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(e.vq.batch_left, 2);
  CHECK_EQ(rd16(&e, used_event_gpa(&e)), 0); /* not written inside a batch */
  vsim_vq_drv_set_callbacks(&e.vq, false);
  CHECK_EQ(rd16(&e, used_event_gpa(&e)), 2); /* batch end - 1: already written */
  vsim_vq_drv_set_callbacks(&e.vq, true);
  CHECK_EQ(rd16(&e, used_event_gpa(&e)), 3);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 2);
  CHECK_EQ(len, 5);
  CHECK_EQ(rd16(&e, used_event_gpa(&e)), 3);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 0);
  dev_batch(&e, 3, 1, 1, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(rd16(&e, used_event_gpa(&e)), 4);
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

/* In-order bad-device setup: heads 0 (1 desc, wr 64), 1 (3 descs, wr 200),
 * 4 (1 desc, read-only), all popped. */
static void bad_setup_io(env *e) {
  CHECK_EQ(env_init(e, 8, F_IN_ORDER, 0, 0), 0);
  vsim_seg a[1] = {seg(BUF_GPA, 64, true)};
  vsim_seg b[3] = {seg(BUF_GPA + 64, 16, false), seg(BUF_GPA + 80, 100, true),
                   seg(BUF_GPA + 180, 100, true)};
  vsim_seg c[1] = {seg(BUF_GPA + 400, 32, false)};
  CHECK_EQ(vsim_vq_drv_add(&e->vq, a, 0, 1, 100), 0);
  CHECK_EQ(vsim_vq_drv_add(&e->vq, b, 1, 2, 101), 1);
  CHECK_EQ(vsim_vq_drv_add(&e->vq, c, 1, 0, 102), 4);
  CHECK(vsim_vq_drv_kick_prepare(&e->vq));
  popped p;
  for (unsigned i = 0; i < 3; i++) CHECK_EQ(dev_pop(e, &p), 1);
}

static void check_broken_io(env *e, uint16_t num_free, uint32_t inflight) {
  int nviol = e->r.nviol;
  uint64_t tok;
  uint32_t len;
  CHECK(e->vq.broken);
  CHECK_EQ(vsim_vq_drv_get_used(&e->vq, &tok, &len), -1);
  CHECK_EQ(vsim_vq_drv_get_used(&e->vq, &tok, &len), -1);
  vsim_seg s[1] = {seg(BUF_GPA, 8, true)};
  CHECK_EQ(vsim_vq_drv_add(&e->vq, s, 0, 1, 0), -1);
  CHECK_EQ(e->vq.num_free, num_free);
  CHECK_EQ(e->vq.inflight, inflight);
  CHECK(in_order_ok(&e->vq, true));
  CHECK_EQ(vsim_vq_drv_audit(&e->vq, NULL, 0), 0);
  CHECK_EQ(e->r.nviol, nviol);
}

/* One bad in-order completion: exactly `check`, queue broken, nothing freed. */
static void expect_io_violation(env *e, int check, uint16_t num_free, uint32_t inflight) {
  uint64_t tok = 77;
  uint32_t len = 77;
  int reaps = e->r.ev[VSIM_EV_REAP];
  CHECK_EQ(vsim_vq_drv_get_used(&e->vq, &tok, &len), -1);
  CHECK_EQ(tok, 77);
  CHECK_EQ(len, 77);
  CHECK_EQ(e->r.nviol, 1);
  CHECK_EQ(e->r.viol[check], 1);
  if (e->r.viol[check] != 1) fprintf(stderr, "  (detail \"%s\")\n", e->r.last_detail);
  CHECK_EQ(e->r.ev[VSIM_EV_REAP], reaps);
  check_broken_io(e, num_free, inflight);
}

static void test_in_order_bad(void) {
  env e;
  uint64_t tok;
  uint32_t len;
  /* never issued */
  bad_setup_io(&e);
  dev_batch(&e, 7, 0, 1, true);
  expect_io_violation(&e, VSIM_CHK_USED_ID_NOT_HEAD, 3, 3);
  env_fini(&e);
  /* a descriptor in the middle of a chain */
  bad_setup_io(&e);
  dev_batch(&e, 2, 0, 1, true);
  expect_io_violation(&e, VSIM_CHK_USED_ID_NOT_HEAD, 3, 3);
  env_fini(&e);
  /* out of range */
  bad_setup_io(&e);
  dev_batch(&e, 8, 0, 1, true);
  expect_io_violation(&e, VSIM_CHK_USED_ID_RANGE, 3, 3);
  env_fini(&e);
  /* out of order, unbatched: the second buffer first, used.idx + 1 */
  bad_setup_io(&e);
  dev_batch(&e, 1, 0, 1, true);
  expect_io_violation(&e, VSIM_CHK_SPLIT_USED_ORDER, 3, 3);
  CHECK(strstr(e.r.last_detail, "IN_ORDER") != NULL);
  env_fini(&e);
  /* a batch of three but used.idx moved by two */
  bad_setup_io(&e);
  dev_batch(&e, 4, 0, 2, true);
  expect_io_violation(&e, VSIM_CHK_SPLIT_USED_ORDER, 3, 3);
  env_fini(&e);
  /* a batch larger than what is in flight */
  bad_setup_io(&e);
  dev_batch(&e, 4, 0, 4, true);
  expect_io_violation(&e, VSIM_CHK_USED_IDX_JUMP, 3, 3);
  env_fini(&e);
  /* backwards: the first buffer again after it was reaped */
  bad_setup_io(&e);
  dev_batch(&e, 0, 64, 1, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  dev_batch(&e, 0, 64, 1, true);
  expect_io_violation(&e, VSIM_CHK_USED_ID_NOT_HEAD, 4, 2);
  env_fini(&e);
  /* backwards after a batch: its last id again; nothing freed twice */
  bad_setup_io(&e);
  dev_batch(&e, 1, 200, 2, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 100);
  CHECK_EQ(len, 64);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 101);
  CHECK_EQ(len, 200);
  CHECK_EQ(e.vq.num_free, 7);
  dev_batch(&e, 1, 0, 1, true);
  expect_io_violation(&e, VSIM_CHK_USED_ID_NOT_HEAD, 7, 1);
  env_fini(&e);
  /* a batch whose last buffer is one already reaped, covering the rest:
   * going backwards inside a batch is refused before anything is freed */
  bad_setup_io(&e);
  dev_batch(&e, 0, 0, 1, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  dev_batch(&e, 0, 0, 2, true);
  expect_io_violation(&e, VSIM_CHK_USED_ID_NOT_HEAD, 4, 2);
  env_fini(&e);
  /* len above the last buffer's writable bytes: reported, clamped, the
   * batch still returned; the skipped buffer gets its full bytes */
  bad_setup_io(&e);
  dev_batch(&e, 1, 201, 2, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_USED_LEN_OVER], 1);
  CHECK_EQ(len, 64);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(len, 200);
  CHECK(!e.vq.broken);
  CHECK_EQ(e.r.nviol, 1);
  dev_batch(&e, 4, 0, 1, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 102);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK(in_order_ok(&e.vq, true));
  env_fini(&e);
}

/* Raw ops with IN_ORDER: a raw head at the cursor moves it; raw heads go
 * into the private copy of the ring, so a batch over them is expanded right;
 * a raw head inside another chain owns nothing and frees nothing. */
static void test_in_order_raw(void) {
  env e;
  uint64_t tok;
  uint32_t len;
  CHECK_EQ(env_init(&e, 8, F_IN_ORDER, 0, 0), 0);
  vsim_vq_drv_raw_track(&e.vq, 0, 64);
  CHECK_EQ(e.vq.num_free, 7);
  CHECK_EQ(e.vq.next_desc, 1);
  uint16_t h0 = 0;
  vsim_vq_drv_raw_avail(&e.vq, &h0, 1);
  vsim_seg s[2] = {seg(BUF_GPA, 16, false), seg(BUF_GPA + 16, 32, true)};
  CHECK_EQ(vsim_vq_drv_add(&e.vq, s, 1, 1, 5), 1);
  CHECK(in_order_ok(&e.vq, true));
  /* a raw head inside the chain just added: tracked, owns no descriptor */
  vsim_vq_drv_raw_track(&e.vq, 2, 0);
  uint16_t h2 = 2;
  vsim_vq_drv_raw_avail(&e.vq, &h2, 1);
  CHECK_EQ(e.vq.num_free, 5);
  CHECK_EQ(e.vq.inflight, 3);
  /* a raw head away from the cursor: busy, the cursor stays */
  vsim_vq_drv_raw_track(&e.vq, 6, 8);
  uint16_t h6 = 6;
  vsim_vq_drv_raw_avail(&e.vq, &h6, 1);
  CHECK_EQ(e.vq.num_free, 4);
  CHECK_EQ(e.vq.next_desc, 3);
  CHECK(in_order_ok(&e.vq, false));
  /* the device uses them in order: the first two as a batch, the raw mid-chain
   * one alone, the last with a batch of one */
  e.dev_next_avail = 4;
  dev_batch(&e, 1, 30, 2, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, UINT64_MAX - 0);
  CHECK_EQ(len, 64);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 5);
  CHECK_EQ(len, 30);
  CHECK_EQ(e.vq.num_free, 7);
  dev_batch(&e, 2, 0, 1, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, UINT64_MAX - 2);
  CHECK_EQ(e.vq.num_free, 7); /* it owned nothing */
  dev_batch(&e, 6, 8, 1, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK_EQ(e.vq.inflight, 0);
  CHECK(in_order_ok(&e.vq, true));
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);

  /* a raw head published twice while in flight, completed once per
   * publication (unbatched): freed once, after the second */
  CHECK_EQ(env_init(&e, 8, F_IN_ORDER, 0, 0), 0);
  uint16_t hh[2] = {3, 3};
  vsim_vq_drv_raw_track(&e.vq, 3, 4);
  vsim_vq_drv_raw_track(&e.vq, 3, 4);
  vsim_vq_drv_raw_avail(&e.vq, hh, 2);
  CHECK_EQ(e.vq.inflight, 2);
  CHECK_EQ(e.vq.num_free, 7);
  dev_batch(&e, 3, 4, 1, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(e.vq.num_free, 7);
  dev_batch(&e, 3, 4, 1, true);
  CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK_EQ(e.vq.inflight, 0);
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

/* ---- a stopped queue stays stopped; the audit ---------------------------- */

/* Each class of bad device output that stops the queue, then the device
 * behaving: it completes a chain that is really in flight, correctly, and
 * publishes it. The driver must not take it (a stopped queue is never reaped
 * again: its bookkeeping would be built on output it already refused), must
 * not report again, and its bookkeeping must stay sound. */
enum breaker { BRK_ID_RANGE, BRK_NEVER_ISSUED, BRK_MID_CHAIN, BRK_DUPLICATE, BRK_IDX_JUMP, BRK__N };

static void test_stopped_never_reaped(void) {
  for (int b = 0; b < BRK__N; b++) {
    env e;
    int h[3];
    uint64_t tok;
    uint32_t len;
    bad_setup(&e, h);
    int good = h[0]; /* a chain still in flight after the bad output */
    switch (b) {
      case BRK_ID_RANGE: dev_push(&e, 8, 0, true); break;
      case BRK_NEVER_ISSUED: dev_push(&e, 7, 0, true); break;
      case BRK_MID_CHAIN: dev_push(&e, e.vq.free_next[h[1]], 0, true); break;
      case BRK_DUPLICATE:
        dev_push(&e, (uint32_t)h[1], 1, true);
        CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), 1);
        dev_push(&e, (uint32_t)h[1], 1, true);
        break;
      default:
        e.dev_used_idx = 5; /* 5 entries for 3 chains; the device carries on from there */
        wr16(&e, used_idx_gpa(), 5);
        break;
    }
    uint32_t inflight = e.vq.inflight;
    uint16_t num_free = e.vq.num_free;
    uint16_t used_event = rd16(&e, used_event_gpa(&e));
    CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), -1);
    CHECK_EQ(e.r.nviol, 1);
    CHECK(e.vq.broken);
    int reaps = e.r.ev[VSIM_EV_REAP];
    /* now correct output for a chain in flight, published, several times */
    for (int k = 0; k < 3; k++) {
      dev_push(&e, (uint32_t)good, 64, true);
      CHECK_EQ(vsim_vq_drv_get_used(&e.vq, &tok, &len), -1);
    }
    vsim_vq_drv_set_callbacks(&e.vq, true);
    CHECK_EQ(rd16(&e, used_event_gpa(&e)), used_event); /* no more writes into the rings */
    CHECK_EQ(e.r.ev[VSIM_EV_REAP], reaps);
    CHECK_EQ(e.r.nviol, 1);
    CHECK_EQ(e.vq.inflight, inflight);
    CHECK_EQ(e.vq.num_free, num_free);
    check_broken(&e, num_free, inflight);
    env_fini(&e);
  }
}

/* The audit passes whatever a well-behaved run does, and catches each kind
 * of broken bookkeeping in a corrupted copy (the driver itself is only read). */
static void test_audit(void) {
  env e;
  char msg[256];
  CHECK_EQ(env_init(&e, 8, 0, 0, 0), 0);
  CHECK_EQ(vsim_vq_drv_audit(&e.vq, msg, sizeof msg), 0);
  int h[3];
  vsim_vq_drv_fini(&e.vq);
  vsim_arena_free(e.a);
  bad_setup(&e, h);
  CHECK_EQ(vsim_vq_drv_audit(&e.vq, msg, sizeof msg), 0);
  for (unsigned i = 0; i < 20; i++) {
    cycle(&e, 10);
    CHECK_EQ(vsim_vq_drv_audit(&e.vq, msg, sizeof msg), 0);
  }

  /* a copy of the state with private arrays of its own */
  vsim_vq_drv c = e.vq;
  uint16_t fn[8];
  vsim_vqd_slot sl[8];
  memcpy(fn, e.vq.free_next, sizeof fn);
  memcpy(sl, e.vq.slot, sizeof sl);
  c.free_next = fn;
  c.slot = sl;
  CHECK_EQ(vsim_vq_drv_audit(&c, msg, sizeof msg), 0);

  /* a free descriptor that is also the head of a chain in flight: freed twice */
  uint16_t f = c.free_head;
  sl[f] = (vsim_vqd_slot){.ndescs = 1, .last = f, .in_flight = true};
  c.inflight++;
  CHECK_EQ(vsim_vq_drv_audit(&c, msg, sizeof msg), -1);
  CHECK(strstr(msg, "owned twice") != NULL);
  memcpy(sl, e.vq.slot, sizeof sl);
  c.inflight = e.vq.inflight;

  /* the free list runs into itself: num_free counts a descriptor twice */
  fn[c.free_head] = c.free_head;
  CHECK_EQ(vsim_vq_drv_audit(&c, msg, sizeof msg), -1);
  CHECK(strstr(msg, "owned twice") != NULL);
  memcpy(fn, e.vq.free_next, sizeof fn);

  /* the counters disagree */
  c.inflight++;
  CHECK_EQ(vsim_vq_drv_audit(&c, msg, sizeof msg), -1);
  CHECK(strstr(msg, "inflight") != NULL);
  c.inflight--;
  c.num_free = 9;
  CHECK_EQ(vsim_vq_drv_audit(&c, msg, sizeof msg), -1);
  c.num_free = e.vq.num_free;

  /* a chain whose private links do not end at its last descriptor */
  sl[h[1]].last = (uint16_t)h[1];
  CHECK_EQ(vsim_vq_drv_audit(&c, msg, sizeof msg), -1);
  CHECK(strstr(msg, "private links") != NULL);
  memcpy(sl, e.vq.slot, sizeof sl);
  CHECK_EQ(vsim_vq_drv_audit(&c, msg, sizeof msg), 0);
  env_fini(&e);

  /* IN_ORDER: the busy map instead of the free list */
  CHECK_EQ(env_init(&e, 8, F_IN_ORDER, 0, 0), 0);
  for (unsigned i = 0; i < 11; i++) {
    cycle(&e, 5);
    CHECK_EQ(vsim_vq_drv_audit(&e.vq, msg, sizeof msg), 0);
  }
  vsim_seg s1[2] = {seg(BUF_GPA, 16, false), seg(BUF_GPA + 16, 16, true)};
  CHECK(vsim_vq_drv_add(&e.vq, s1, 1, 1, 1) >= 0);
  CHECK_EQ(vsim_vq_drv_audit(&e.vq, msg, sizeof msg), 0);
  c = e.vq;
  uint8_t busy[8];
  memcpy(busy, e.vq.desc_busy, sizeof busy);
  c.desc_busy = busy;
  for (unsigned d = 0; d < 8; d++)
    if (busy[d]) {
      busy[d] = 0; /* a chain's descriptor freed while the chain is in flight */
      break;
    }
  CHECK_EQ(vsim_vq_drv_audit(&c, msg, sizeof msg), -1);
  env_fini(&e);
}

int main(void) {
  RUN(test_init_zeroes);
  RUN(test_round_trip_direct);
  RUN(test_round_trip_indirect);
  RUN(test_exhaustion);
  RUN(test_many_wraps_plain);
  RUN(test_many_wraps_event_idx_indirect);
  RUN(test_kick_used_flags);
  RUN(test_kick_event_idx);
  RUN(test_callbacks_flags);
  RUN(test_callbacks_event_idx);
  RUN(test_bad_id_range);
  RUN(test_bad_not_head);
  RUN(test_bad_len_over);
  RUN(test_bad_idx_jump);
  RUN(test_mutants);
  RUN(test_raw_ops);
  RUN(test_arena_fault);
  RUN(test_in_order_alloc);
  RUN(test_in_order_random);
  RUN(test_in_order_whole_ring);
  RUN(test_in_order_callbacks);
  RUN(test_in_order_bad);
  RUN(test_in_order_raw);
  RUN(test_stopped_never_reaped);
  RUN(test_audit);
  TEST_MAIN_END();
}
