/* tests/c/test_vq_packed_drv.c — unit tests for the packed virtqueue driver side.
 *
 * Owns: the tests of frontend-model/vq_packed_drv.c. The device is played by
 * hand here: a tiny mock that reads available lists by their AVAIL/USED bits
 * against its own wrap counter and writes used descriptors in completion
 * order (id and len first, flags last), advancing by each list's length with
 * its own used wrap counter — all through the arena with VSIM_SIDE_DEVICE —
 * so that every device output, good or deliberately bad, is under the test's
 * control; and a host that records violations and events.
 * Must never: reach into the driver's private arrays to *drive* it (they are
 * only read, to check the id stack is intact), or depend on other modules
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
#include "vq_packed_drv.h"

/* Guest layout. */
#define ARENA_SZ 0x100000u
#define DESC_GPA 0x1000u
#define DRV_EVT_GPA 0x3000u /* driver event suppression: the driver writes it */
#define DEV_EVT_GPA 0x3010u /* device event suppression: the device writes it */
#define IND_GPA 0x10000u
#define BUF_GPA 0x40000u

#define F_EVENT_IDX (UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX)
#define F_INDIRECT (UINT64_C(1) << VIRTIO_RING_F_INDIRECT_DESC)

#define FA ((uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL))
#define FU ((uint16_t)(1u << VRING_PACKED_DESC_F_USED))
#define WRAP ((uint16_t)(1u << VRING_PACKED_EVENT_F_WRAP_CTR))

#define MAXQ 128 /* largest queue the device mock tracks */

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

static void rec_event(void *ctx, int kind, int q, uint64_t a, uint64_t b, uint64_t c,
                      uint64_t d) {
  rec *r = ctx;
  if (kind > 0 && kind < VSIM_EV__COUNT) {
    r->ev[kind]++;
    r->ev_a[kind] = a;
    r->ev_b[kind] = b;
  }
}

static void rec_fault(void *ctx, const vsim_arena_fault *f) { ((rec *)ctx)->faults++; }

/* The hand-played device's state: its own positions and wrap counters, and
 * the list length of every buffer id it holds (0 = not held). */
typedef struct dev {
  uint16_t avail_off;
  bool avail_wrap;
  uint16_t used_off;
  bool used_wrap;
  uint16_t held[MAXQ];
} dev;

typedef struct env {
  vsim_arena *a;
  rec r;
  vsim_host host;
  vsim_vq_pdrv vq;
  dev d;
} env;

/* Fill the ring areas with garbage first, so that the zeroing at init is seen. */
static int env_init(env *e, uint16_t size, uint64_t features, uint64_t mutants,
                    uint16_t indirect_max) {
  *e = (env){0};
  e->a = vsim_arena_new(ARENA_SZ);
  if (!e->a) return -1;
  vsim_arena_set_fault_sink(e->a, rec_fault, &e->r);
  static uint8_t junk[0x3000];
  memset(junk, 0xa5, sizeof junk);
  vsim_arena_write(e->a, VSIM_SIDE_DEVICE, DESC_GPA, junk, sizeof junk);
  e->host = (vsim_host){.ctx = &e->r, .arena = e->a, .violation = rec_violation,
                        .event = rec_event};
  e->d.avail_wrap = e->d.used_wrap = true;
  vsim_vqd_config cfg = {.size = size, .desc = DESC_GPA, .avail = DRV_EVT_GPA,
                         .used = DEV_EVT_GPA,
                         .indirect_base = indirect_max ? IND_GPA : 0,
                         .indirect_max = indirect_max, .features = features,
                         .mutants = test_mutset(mutants)};
  return vsim_vq_pdrv_init(&e->vq, &e->host, 3, &cfg);
}

static void env_fini(env *e) {
  vsim_vq_pdrv_fini(&e->vq);
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

static uint64_t dg(uint64_t table, uint32_t i) { return table + 16u * i; }
/* descriptor fields: addr +0, len +8, id +12, flags +14 */
static uint16_t d_flags(env *e, uint64_t table, uint32_t i) { return rd16(e, dg(table, i) + 14); }
static uint16_t d_id(env *e, uint64_t table, uint32_t i) { return rd16(e, dg(table, i) + 12); }
static uint32_t d_len(env *e, uint64_t table, uint32_t i) { return rd32(e, dg(table, i) + 8); }
static uint64_t d_addr(env *e, uint64_t table, uint32_t i) { return rd64(e, dg(table, i)); }

static uint16_t drv_evt_off(env *e) { return rd16(e, DRV_EVT_GPA); }
static uint16_t drv_evt_flags(env *e) { return rd16(e, DRV_EVT_GPA + 2); }
static void set_dev_evt(env *e, uint16_t off_wrap, uint16_t flags) {
  wr16(e, DEV_EVT_GPA, off_wrap);
  wr16(e, DEV_EVT_GPA + 2, flags);
}

static uint16_t pos(uint16_t off, bool wrap) { return (uint16_t)(off | (wrap ? WRAP : 0)); }
static uint16_t used_bits(bool wrap) { return wrap ? (uint16_t)(FA | FU) : 0; }

/* ---- the hand-played device -------------------------------------------- */

typedef struct popped {
  uint16_t id;
  uint16_t ndescs;
  unsigned nseg;
  uint64_t gpa[64];
  uint32_t len[64];
  bool wr[64];
  bool indirect;
  uint32_t wr_bytes;
} popped;

/* Pop the next available list the way a device would, checking its shape:
 * every descriptor available for its own lap, the same id throughout (this
 * driver writes it everywhere), readable before writable, indirect tables
 * with only WRITE inside, bounded walk. */
static int dev_pop(env *e, popped *p) {
  dev *d = &e->d;
  uint16_t size = e->vq.size;
  uint16_t f = d_flags(e, DESC_GPA, d->avail_off);
  bool a = (f & FA) != 0, u = (f & FU) != 0;
  if (!(a == d->avail_wrap && u != d->avail_wrap)) return 0;
  *p = (popped){0};
  uint16_t off = d->avail_off;
  bool wrap = d->avail_wrap;
  uint16_t id = d_id(e, DESC_GPA, off);
  bool seen_wr = false;
  for (unsigned n = 0; n < size; n++) {
    f = d_flags(e, DESC_GPA, off);
    CHECK_EQ(f & (FA | FU), wrap ? FA : FU); /* available in its own lap */
    CHECK_EQ(d_id(e, DESC_GPA, off), id);
    p->ndescs++;
    if (f & VRING_DESC_F_INDIRECT) {
      CHECK_EQ(n, 0);
      CHECK(!(f & VRING_DESC_F_NEXT));
      p->indirect = true;
      uint64_t table = d_addr(e, DESC_GPA, off);
      uint32_t tlen = d_len(e, DESC_GPA, off);
      CHECK(tlen > 0 && tlen % 16u == 0);
      for (uint32_t i = 0; i < tlen / 16u && i < 64; i++) {
        uint16_t tf = d_flags(e, table, i);
        CHECK_EQ(tf & ~VRING_DESC_F_WRITE, 0); /* only WRITE inside a table */
        CHECK_EQ(d_id(e, table, i), 0);
        p->gpa[p->nseg] = d_addr(e, table, i);
        p->len[p->nseg] = d_len(e, table, i);
        p->wr[p->nseg] = (tf & VRING_DESC_F_WRITE) != 0;
        p->nseg++;
      }
    } else {
      p->gpa[p->nseg] = d_addr(e, DESC_GPA, off);
      p->len[p->nseg] = d_len(e, DESC_GPA, off);
      p->wr[p->nseg] = (f & VRING_DESC_F_WRITE) != 0;
      p->nseg++;
    }
    if (++off == size) {
      off = 0;
      wrap = !wrap;
    }
    if (!(f & VRING_DESC_F_NEXT)) break;
    CHECK(n + 1 < size); /* a list is at most the queue size */
  }
  for (unsigned i = 0; i < p->nseg; i++) {
    if (p->wr[i]) {
      seen_wr = true;
      p->wr_bytes += p->len[i];
    } else {
      CHECK(!seen_wr);
    }
  }
  p->id = id;
  d->avail_off = off;
  d->avail_wrap = wrap;
  CHECK(id < MAXQ);
  if (id < MAXQ) {
    CHECK_EQ(d->held[id], 0); /* the driver never reuses an id in flight */
    d->held[id] = p->ndescs;
  }
  return 1;
}

/* Write a raw descriptor as the device: id and len first, flags last (B6). */
static void dev_write(env *e, uint16_t off, uint16_t id, uint32_t len, uint16_t flags) {
  wr32(e, dg(DESC_GPA, off) + 8, len);
  wr16(e, dg(DESC_GPA, off) + 12, id);
  wr16(e, dg(DESC_GPA, off) + 14, flags);
}

/* Complete buffer `id` correctly: a used descriptor at the device's used
 * position, then skip the list's length. */
static void dev_push(env *e, uint16_t id, uint32_t len) {
  dev *d = &e->d;
  CHECK(id < MAXQ && d->held[id] > 0);
  if (id >= MAXQ) return;
  dev_write(e, d->used_off, id, len, used_bits(d->used_wrap));
  uint32_t next = (uint32_t)d->used_off + d->held[id];
  if (next >= e->vq.size) {
    next -= e->vq.size;
    d->used_wrap = !d->used_wrap;
  }
  d->used_off = (uint16_t)next;
  d->held[id] = 0;
}

/* The driver's id stack is intact: exactly the ids not in flight, each once. */
static bool ids_ok(const vsim_vq_pdrv *vq) {
  uint8_t seen[32768 / 8 + 1] = {0};
  uint32_t in_flight = 0;
  for (uint32_t i = 0; i < vq->size; i++) in_flight += vq->slot[i].in_flight;
  if (in_flight != vq->inflight) return false;
  if (vq->nfree_ids + in_flight != vq->size) return false;
  for (uint32_t i = 0; i < vq->nfree_ids; i++) {
    uint16_t id = vq->free_ids[i];
    if (id >= vq->size || vq->slot[id].in_flight || (seen[id / 8] & (1u << (id % 8))))
      return false;
    seen[id / 8] |= (uint8_t)(1u << (id % 8));
  }
  return true;
}

static vsim_seg seg(uint64_t gpa, uint32_t len, bool w) {
  return (vsim_seg){.gpa = gpa, .len = len, .write = w};
}

/* One full round trip of a 1-descriptor list: add, decide, device pops and
 * completes, driver reaps. Moves every position by one. */
static void cycle(env *e) {
  vsim_seg s[1] = {seg(BUF_GPA, 64, true)};
  int id = vsim_vq_pdrv_add(&e->vq, s, 0, 1, 7);
  CHECK(id >= 0);
  (void)vsim_vq_pdrv_kick_prepare(&e->vq);
  popped p;
  if (dev_pop(e, &p) != 1) {
    CHECK(!"cycle: nothing popped");
    return;
  }
  CHECK_EQ(p.id, id);
  dev_push(e, p.id, 32);
  uint64_t tok;
  uint32_t len;
  CHECK_EQ(vsim_vq_pdrv_get_used(&e->vq, &tok, &len), 1);
  CHECK_EQ(tok, 7);
  CHECK_EQ(len, 32);
}

static uint32_t lcg(uint32_t *s) {
  *s = *s * 1103515245u + 12345u;
  return *s >> 16;
}

/* ---- tests ------------------------------------------------------------- */

static void test_init(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, F_EVENT_IDX, 0, 0), 0);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK_EQ(e.vq.nfree_ids, 8);
  CHECK(e.vq.avail_wrap);
  CHECK(e.vq.used_wrap);
  CHECK_EQ(e.vq.next_avail, 0);
  CHECK_EQ(e.vq.next_used, 0);
  CHECK(e.vq.cb_enabled);
  CHECK(e.vq.event_idx);
  CHECK(!e.vq.indirect);
  CHECK(ids_ok(&e.vq));
  /* the stack pops 0, 1, 2, ... */
  for (unsigned i = 0; i < 8; i++) CHECK_EQ(e.vq.free_ids[7 - i], i);
  for (uint32_t b = 0; b < 8 * 16; b += 2) CHECK_EQ(rd16(&e, DESC_GPA + b), 0);
  CHECK_EQ(rd32(&e, DRV_EVT_GPA), 0); /* ENABLE */
  CHECK_EQ(rd32(&e, DEV_EVT_GPA), 0);
  CHECK_EQ(rd16(&e, DESC_GPA + 8 * 16), 0xa5a5); /* just past the ring: untouched */
  CHECK_EQ(rd16(&e, DRV_EVT_GPA + 4), 0xa5a5);
  CHECK_EQ(rd16(&e, DEV_EVT_GPA + 4), 0xa5a5);
  /* a zeroed ring has nothing used */
  uint64_t tok;
  uint32_t len;
  CHECK(!vsim_vq_pdrv_used_pending(&e.vq));
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 0);
  CHECK_EQ(e.r.nviol, 0);
  CHECK_EQ(e.r.faults, 0);
  env_fini(&e);

  /* bad configurations are refused; the largest size is accepted */
  vsim_vq_pdrv vq;
  vsim_arena *a = vsim_arena_new(ARENA_SZ);
  vsim_host h = {.arena = a};
  vsim_vqd_config c = {.size = 0, .desc = DESC_GPA, .avail = DRV_EVT_GPA, .used = DEV_EVT_GPA};
  CHECK_EQ(vsim_vq_pdrv_init(&vq, &h, 0, &c), -1);
  vsim_vq_pdrv_fini(&vq);
  c.size = 32769;
  CHECK_EQ(vsim_vq_pdrv_init(&vq, &h, 0, &c), -1);
  vsim_vq_pdrv_fini(&vq);
  c = (vsim_vqd_config){.size = 32768, .desc = 0x80000, .avail = DRV_EVT_GPA, .used = DEV_EVT_GPA};
  CHECK_EQ(vsim_vq_pdrv_init(&vq, &h, 0, &c), 0);
  CHECK_EQ(vq.nfree_ids, 32768);
  CHECK_EQ(vq.free_ids[32767], 0);
  vsim_vq_pdrv_fini(&vq);
  /* rings outside guest memory: the arena reports, init fails cleanly */
  c = (vsim_vqd_config){.size = 8, .desc = DESC_GPA, .avail = DRV_EVT_GPA, .used = ARENA_SZ - 2};
  CHECK_EQ(vsim_vq_pdrv_init(&vq, &h, 0, &c), -1);
  vsim_vq_pdrv_fini(&vq);
  c = (vsim_vqd_config){.size = 8, .desc = ARENA_SZ - 64, .avail = DRV_EVT_GPA, .used = DEV_EVT_GPA};
  CHECK_EQ(vsim_vq_pdrv_init(&vq, &h, 0, &c), -1);
  vsim_vq_pdrv_fini(&vq);
  CHECK_EQ(vsim_vq_pdrv_init(&vq, NULL, 0, &c), -1);
  vsim_vq_pdrv_fini(&vq);
  vsim_arena_free(a);
}

static void test_round_trip_direct(void) {
  env e;
  CHECK_EQ(env_init(&e, 16, 0, 0, 0), 0);
  struct {
    unsigned nout, nin;
    uint32_t lens[5];
  } reqs[] = {
      {1, 0, {100}},                  /* read-only */
      {0, 1, {4096}},                 /* write-only */
      {1, 1, {16, 512}},              /* request/response */
      {2, 3, {1, 4097, 3, 0, 65536}}, /* mixed lengths, a zero-length one too */
  };
  int ids[4];
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
    ids[r] = vsim_vq_pdrv_add(&e.vq, s, reqs[r].nout, reqs[r].nin, 1000 + r);
    CHECK_EQ(ids[r], r); /* fresh ids come in ascending order */
    used_descs += n;
    CHECK_EQ(e.vq.num_free, 16 - used_descs);
  }
  CHECK_EQ(e.vq.inflight, 4);
  CHECK_EQ(e.vq.next_avail, 9);
  CHECK(e.vq.avail_wrap);

  /* byte for byte: the 5-descriptor list at 4..8 */
  uint16_t av = FA; /* first lap: AVAIL = 1, USED = 0 */
  CHECK_EQ(d_flags(&e, DESC_GPA, 4), av | VRING_DESC_F_NEXT);
  CHECK_EQ(d_flags(&e, DESC_GPA, 5), av | VRING_DESC_F_NEXT);
  CHECK_EQ(d_flags(&e, DESC_GPA, 6), av | VRING_DESC_F_NEXT | VRING_DESC_F_WRITE);
  CHECK_EQ(d_flags(&e, DESC_GPA, 7), av | VRING_DESC_F_NEXT | VRING_DESC_F_WRITE);
  CHECK_EQ(d_flags(&e, DESC_GPA, 8), av | VRING_DESC_F_WRITE);
  for (unsigned i = 4; i <= 8; i++) CHECK_EQ(d_id(&e, DESC_GPA, i), 3);
  CHECK_EQ(d_len(&e, DESC_GPA, 5), 4097);
  CHECK_EQ(d_flags(&e, DESC_GPA, 0), av); /* read-only single */
  CHECK_EQ(d_flags(&e, DESC_GPA, 1), av | VRING_DESC_F_WRITE);
  CHECK_EQ(d_flags(&e, DESC_GPA, 9), 0); /* zeroed at init, not written */

  CHECK(vsim_vq_pdrv_kick_prepare(&e.vq)); /* ENABLE (zeroed): MUST notify */
  CHECK_EQ(e.r.ev[VSIM_EV_AVAIL_PUBLISH], 1);
  CHECK_EQ(e.r.ev_a[VSIM_EV_AVAIL_PUBLISH], pos(0, true));
  CHECK_EQ(e.r.ev_b[VSIM_EV_AVAIL_PUBLISH], pos(9, true));

  /* the device sees exactly what was added */
  popped p[4];
  gpa = BUF_GPA;
  for (unsigned r = 0; r < 4; r++) {
    CHECK_EQ(dev_pop(&e, &p[r]), 1);
    CHECK_EQ(p[r].id, ids[r]);
    CHECK(!p[r].indirect);
    unsigned n = reqs[r].nout + reqs[r].nin;
    CHECK_EQ(p[r].nseg, n);
    CHECK_EQ(p[r].ndescs, n);
    for (unsigned i = 0; i < n && i < p[r].nseg; i++) {
      CHECK_EQ(p[r].gpa[i], gpa);
      CHECK_EQ(p[r].len[i], reqs[r].lens[i]);
      CHECK_EQ(p[r].wr[i], i >= reqs[r].nout);
      gpa += reqs[r].lens[i];
    }
  }
  popped none;
  CHECK_EQ(dev_pop(&e, &none), 0);

  /* complete out of order, with lens at or below the writable bytes */
  uint64_t tok;
  uint32_t len;
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 0);
  unsigned order[4] = {2, 0, 3, 1};
  for (unsigned k = 0; k < 4; k++) {
    unsigned r = order[k];
    CHECK(!vsim_vq_pdrv_used_pending(&e.vq));
    dev_push(&e, p[r].id, p[r].wr_bytes / 2);
    CHECK(vsim_vq_pdrv_used_pending(&e.vq));
    CHECK(vsim_vq_pdrv_used_pending(&e.vq)); /* a peek changes nothing */
    CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
    CHECK_EQ(tok, 1000 + r);
    CHECK_EQ(len, p[r].wr_bytes / 2);
    CHECK_EQ(e.r.ev_a[VSIM_EV_REAP], p[r].id);
    CHECK_EQ(e.r.ev_b[VSIM_EV_REAP], p[r].wr_bytes / 2);
    CHECK_EQ(e.vq.next_used, e.d.used_off); /* skipped by the list's length */
    CHECK(ids_ok(&e.vq));
  }
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 0);
  CHECK_EQ(e.r.ev[VSIM_EV_REAP], 4);
  CHECK_EQ(e.vq.num_free, 16);
  CHECK_EQ(e.vq.inflight, 0);
  CHECK_EQ(e.vq.next_used, 9);
  CHECK(ids_ok(&e.vq));
  CHECK_EQ(e.r.nviol, 0);
  CHECK_EQ(e.r.faults, 0);
  env_fini(&e);
}

/* The head's flags are the last thing add writes (B5): make those two bytes
 * unwritable for the driver and look at what got written before the fault. */
static void test_head_flags_last(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, 0, 0, 0), 0);
  CHECK_EQ(vsim_arena_set_region(e.a, DESC_GPA + 14, 2,
                                 VSIM_REGION_PERM(VSIM_ACC_READ, VSIM_ACC_RW)), 0);
  vsim_seg s[3] = {seg(BUF_GPA, 16, false), seg(BUF_GPA + 16, 32, true),
                   seg(BUF_GPA + 48, 64, true)};
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s, 1, 2, 5), -1);
  CHECK_EQ(e.r.faults, 1);
  CHECK(e.vq.broken);
  CHECK_EQ(d_flags(&e, DESC_GPA, 0), 0); /* the head is still not available */
  CHECK_EQ(d_addr(&e, DESC_GPA, 0), BUF_GPA); /* but its body is written */
  CHECK_EQ(d_len(&e, DESC_GPA, 0), 16);
  CHECK_EQ(d_id(&e, DESC_GPA, 0), 0);
  CHECK_EQ(d_flags(&e, DESC_GPA, 1), FA | VRING_DESC_F_NEXT | VRING_DESC_F_WRITE);
  CHECK_EQ(d_flags(&e, DESC_GPA, 2), FA | VRING_DESC_F_WRITE);
  CHECK_EQ(d_addr(&e, DESC_GPA, 2), BUF_GPA + 48);
  /* nothing committed */
  CHECK_EQ(e.vq.num_free, 8);
  CHECK_EQ(e.vq.nfree_ids, 8);
  CHECK_EQ(e.vq.inflight, 0);
  CHECK_EQ(e.vq.next_avail, 0);
  CHECK(ids_ok(&e.vq));
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);

  /* indirect: the table and the ring descriptor's body come before its flags */
  CHECK_EQ(env_init(&e, 8, F_INDIRECT, 0, 4), 0);
  CHECK_EQ(vsim_arena_set_region(e.a, DESC_GPA + 14, 2,
                                 VSIM_REGION_PERM(VSIM_ACC_READ, VSIM_ACC_RW)), 0);
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s, 1, 2, 5), -1);
  CHECK_EQ(d_flags(&e, DESC_GPA, 0), 0);
  CHECK_EQ(d_addr(&e, DESC_GPA, 0), IND_GPA);
  CHECK_EQ(d_len(&e, DESC_GPA, 0), 48);
  CHECK_EQ(d_addr(&e, IND_GPA, 2), BUF_GPA + 48);
  CHECK_EQ(d_flags(&e, IND_GPA, 2), VRING_DESC_F_WRITE);
  CHECK_EQ(e.vq.num_free, 8);
  env_fini(&e);
}

static void test_round_trip_indirect(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, F_INDIRECT, 0, 4), 0);
  CHECK(e.vq.indirect);
  /* 3 segments: one ring descriptor pointing at a 3-entry table */
  vsim_seg s3[3] = {seg(BUF_GPA, 16, false), seg(BUF_GPA + 16, 100, true),
                    seg(BUF_GPA + 116, 28, true)};
  int id = vsim_vq_pdrv_add(&e.vq, s3, 1, 2, 42);
  CHECK_EQ(id, 0);
  CHECK_EQ(e.vq.num_free, 7);
  /* 1 segment: stays direct */
  vsim_seg s1[1] = {seg(BUF_GPA + 200, 8, true)};
  int id1 = vsim_vq_pdrv_add(&e.vq, s1, 0, 1, 43);
  CHECK_EQ(id1, 1);
  CHECK_EQ(e.vq.num_free, 6);
  /* 5 segments > indirect_max 4: 5 direct descriptors, crossing no wrap yet */
  vsim_seg s5[5];
  for (unsigned i = 0; i < 5; i++) s5[i] = seg(BUF_GPA + 0x1000 + 32u * i, 32, i >= 2);
  int id5 = vsim_vq_pdrv_add(&e.vq, s5, 2, 3, 44);
  CHECK_EQ(id5, 2);
  CHECK_EQ(e.vq.num_free, 1);
  CHECK_EQ(e.vq.next_avail, 7);
  CHECK(vsim_vq_pdrv_kick_prepare(&e.vq));

  /* the ring descriptor and its table, byte for byte */
  uint64_t table = IND_GPA + (uint64_t)id * 4 * 16;
  CHECK_EQ(d_addr(&e, DESC_GPA, 0), table);
  CHECK_EQ(d_len(&e, DESC_GPA, 0), 3 * 16);
  CHECK_EQ(d_id(&e, DESC_GPA, 0), id);
  CHECK_EQ(d_flags(&e, DESC_GPA, 0), FA | VRING_DESC_F_INDIRECT);
  CHECK_EQ(d_flags(&e, table, 0), 0);
  CHECK_EQ(d_flags(&e, table, 1), VRING_DESC_F_WRITE);
  CHECK_EQ(d_flags(&e, table, 2), VRING_DESC_F_WRITE);
  CHECK_EQ(d_len(&e, table, 1), 100);
  CHECK_EQ(d_addr(&e, table, 2), BUF_GPA + 116);

  popped p, p1, p5;
  CHECK_EQ(dev_pop(&e, &p), 1);
  CHECK(p.indirect);
  CHECK_EQ(p.nseg, 3);
  CHECK_EQ(p.ndescs, 1);
  CHECK_EQ(p.wr_bytes, 128);
  CHECK_EQ(dev_pop(&e, &p1), 1);
  CHECK(!p1.indirect);
  CHECK_EQ(p1.nseg, 1);
  CHECK_EQ(dev_pop(&e, &p5), 1);
  CHECK(!p5.indirect);
  CHECK_EQ(p5.nseg, 5);
  CHECK_EQ(p5.wr_bytes, 96);

  uint64_t tok;
  uint32_t len;
  dev_push(&e, p5.id, 96); /* three at once, out of order */
  dev_push(&e, p.id, 128);
  dev_push(&e, p1.id, 0);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 44);
  CHECK_EQ(len, 96);
  CHECK_EQ(e.vq.next_used, 5);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 42);
  CHECK_EQ(len, 128);
  CHECK_EQ(e.vq.next_used, 6);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 43);
  CHECK_EQ(len, 0);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 0);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK(ids_ok(&e.vq));

  /* the next indirect list reuses the last freed id, and its table slot */
  int id2 = vsim_vq_pdrv_add(&e.vq, s3, 1, 2, 45);
  CHECK_EQ(id2, 1);
  CHECK_EQ(d_addr(&e, DESC_GPA, 7), IND_GPA + 1u * 4 * 16);
  CHECK_EQ(d_flags(&e, DESC_GPA, 7), FA | VRING_DESC_F_INDIRECT);
  CHECK_EQ(e.r.nviol, 0);
  CHECK_EQ(e.r.faults, 0);
  env_fini(&e);

  /* an indirect list counts toward the list length: the spec's "MUST NOT
   * create a descriptor list longer than the Queue Size" holds through a
   * table too, so 4 segments never fit a size-2 queue; 2 do, as one ring
   * descriptor each */
  vsim_seg s4[4];
  for (unsigned i = 0; i < 4; i++) s4[i] = seg(BUF_GPA + 64u * i, 64, i >= 1);
  CHECK_EQ(env_init(&e, 2, F_INDIRECT, 0, 4), 0);
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s4, 1, 3, 1), -1);
  CHECK(vsim_vq_pdrv_add(&e.vq, s4, 1, 1, 1) >= 0);
  CHECK(vsim_vq_pdrv_add(&e.vq, s4, 1, 1, 2) >= 0);
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s4, 1, 1, 3), -2); /* both ring descriptors used */
  CHECK(!e.vq.avail_wrap); /* two descriptors on a size-2 ring: wrapped */
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);

  /* negotiated but no table memory: direct */
  CHECK_EQ(env_init(&e, 8, F_INDIRECT, 0, 0), 0);
  CHECK(vsim_vq_pdrv_add(&e.vq, s3, 1, 2, 1) >= 0);
  CHECK_EQ(e.vq.num_free, 5);
  env_fini(&e);

  /* table memory but not negotiated: direct */
  CHECK_EQ(env_init(&e, 8, 0, 0, 4), 0);
  CHECK(vsim_vq_pdrv_add(&e.vq, s3, 1, 2, 1) >= 0);
  CHECK_EQ(e.vq.num_free, 5);
  CHECK_EQ(d_flags(&e, DESC_GPA, 0) & VRING_DESC_F_INDIRECT, 0);
  env_fini(&e);
}

/* A list that crosses the end of the ring: each descriptor carries its own
 * lap's bits, the ones after the wrap point the toggled ones. */
static void test_list_across_wrap(void) {
  env e;
  CHECK_EQ(env_init(&e, 5, 0, 0, 0), 0);
  for (unsigned i = 0; i < 3; i++) cycle(&e);
  CHECK_EQ(e.vq.next_avail, 3);
  vsim_seg s[4];
  for (unsigned i = 0; i < 4; i++) s[i] = seg(BUF_GPA + 16u * i, 16, i >= 1);
  int id = vsim_vq_pdrv_add(&e.vq, s, 1, 3, 9);
  CHECK(id >= 0);
  CHECK_EQ(e.vq.next_avail, 2);
  CHECK(!e.vq.avail_wrap);
  CHECK_EQ(d_flags(&e, DESC_GPA, 3), FA | VRING_DESC_F_NEXT);
  CHECK_EQ(d_flags(&e, DESC_GPA, 4), FA | VRING_DESC_F_NEXT | VRING_DESC_F_WRITE);
  CHECK_EQ(d_flags(&e, DESC_GPA, 0), FU | VRING_DESC_F_NEXT | VRING_DESC_F_WRITE);
  CHECK_EQ(d_flags(&e, DESC_GPA, 1), FU | VRING_DESC_F_WRITE);
  CHECK(vsim_vq_pdrv_kick_prepare(&e.vq));
  CHECK_EQ(e.r.ev_a[VSIM_EV_AVAIL_PUBLISH], pos(3, true));
  CHECK_EQ(e.r.ev_b[VSIM_EV_AVAIL_PUBLISH], pos(2, false));
  popped p;
  CHECK_EQ(dev_pop(&e, &p), 1);
  CHECK_EQ(p.ndescs, 4);
  dev_push(&e, p.id, 48);
  uint64_t tok;
  uint32_t len;
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 9);
  CHECK_EQ(len, 48);
  CHECK_EQ(e.vq.next_used, 2);
  CHECK(!e.vq.used_wrap);
  /* second lap: the used mark is AVAIL = USED = 0 */
  cycle(&e);
  CHECK_EQ(d_flags(&e, DESC_GPA, 2) & (FA | FU), 0);
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

/* Sizes that are not powers of two (and size 1): many rounds of random list
 * lengths and completion orders; the mock device checks every descriptor's
 * wrap bits, so a wrong toggle anywhere shows up. */
static void run_odd_size(uint16_t size, uint64_t features, uint16_t indirect_max, unsigned rounds) {
  env e;
  CHECK_EQ(env_init(&e, size, features, 0, indirect_max), 0);
  uint32_t rng = 777u + size;
  uint64_t next_tok = 1;
  uint64_t tok_of[MAXQ] = {0};
  unsigned done = 0, bad = 0;
  for (unsigned round = 0; round < rounds && bad < 5; round++) {
    unsigned added = 0;
    for (unsigned guard = 0; guard <= size; guard++) {
      unsigned maxlen = size < 4 ? size : 4;
      unsigned n = 1 + lcg(&rng) % maxlen;
      unsigned nout = lcg(&rng) % (n + 1);
      vsim_seg s[4];
      for (unsigned i = 0; i < n; i++) s[i] = seg(BUF_GPA + 64u * i, 64, i >= nout);
      int id = vsim_vq_pdrv_add(&e.vq, s, nout, n - nout, next_tok);
      if (id == -2) break;
      if (id < 0 || id >= size || guard == size) {
        bad++;
        break;
      }
      tok_of[id] = next_tok++;
      added++;
    }
    (void)vsim_vq_pdrv_kick_prepare(&e.vq);
    popped p[MAXQ];
    unsigned np = 0;
    while (np < size && dev_pop(&e, &p[np]) == 1) np++;
    if (np != added) bad++;
    /* complete in a random order */
    for (unsigned left = np; left > 0; left--) {
      unsigned k = lcg(&rng) % left;
      popped pk = p[k];
      p[k] = p[left - 1];
      uint32_t want = pk.wr_bytes ? pk.wr_bytes - (uint32_t)(lcg(&rng) % 2) : 0;
      dev_push(&e, pk.id, want);
      uint64_t tok = 0;
      uint32_t len = 0;
      if (vsim_vq_pdrv_get_used(&e.vq, &tok, &len) != 1 || tok != tok_of[pk.id] || len != want)
        bad++;
      if (e.vq.next_used != e.d.used_off || e.vq.used_wrap != e.d.used_wrap) bad++;
      done++;
    }
  }
  CHECK_EQ(bad, 0);
  CHECK(done >= rounds);
  CHECK_EQ(e.vq.num_free, size);
  CHECK_EQ(e.vq.inflight, 0);
  CHECK_EQ(e.vq.next_avail, e.vq.next_used);
  CHECK_EQ(e.vq.avail_wrap, e.vq.used_wrap);
  CHECK(ids_ok(&e.vq));
  CHECK_EQ(e.r.nviol, 0);
  CHECK_EQ(e.r.faults, 0);
  env_fini(&e);
}

static void test_odd_sizes(void) {
  run_odd_size(1, 0, 0, 500);
  run_odd_size(3, 0, 0, 3000);
  run_odd_size(5, 0, 0, 3000);
  run_odd_size(100, 0, 0, 300);
  run_odd_size(5, F_INDIRECT | F_EVENT_IDX, 3, 3000);
  run_odd_size(100, F_INDIRECT, 2, 300);
}

static void test_exhaustion(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, 0, 0, 0), 0);
  vsim_seg s[9];
  for (unsigned i = 0; i < 9; i++) s[i] = seg(BUF_GPA + 64u * i, 64, i >= 1);
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s, 0, 0, 0), -1);    /* empty list */
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, NULL, 0, 1, 0), -1); /* no segments */
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s, 1, 8, 0), -1);    /* 9 > size: never fits */
  CHECK_EQ(e.vq.num_free, 8);
  int i0 = vsim_vq_pdrv_add(&e.vq, s, 1, 2, 10);
  int i1 = vsim_vq_pdrv_add(&e.vq, s, 1, 2, 11);
  CHECK(i0 >= 0 && i1 >= 0 && i0 != i1);
  CHECK_EQ(e.vq.num_free, 2);
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s, 1, 2, 12), -2); /* no room now */
  CHECK_EQ(e.vq.num_free, 2);
  CHECK_EQ(e.vq.inflight, 2);
  CHECK_EQ(e.vq.nfree_ids, 6);
  int i2 = vsim_vq_pdrv_add(&e.vq, s, 1, 1, 13); /* exactly the last two */
  CHECK(i2 >= 0);
  CHECK_EQ(e.vq.num_free, 0);
  CHECK(!e.vq.avail_wrap);
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s, 1, 0, 14), -2);
  CHECK(vsim_vq_pdrv_kick_prepare(&e.vq));

  popped p[3];
  for (unsigned i = 0; i < 3; i++) CHECK_EQ(dev_pop(&e, &p[i]), 1);
  dev_push(&e, p[1].id, 10);
  uint64_t tok;
  uint32_t len;
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 11);
  CHECK_EQ(e.vq.num_free, 3);
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s, 1, 3, 15), -2); /* 4 > 3 free */
  /* recovery: the freed three descriptors (ring positions 0..2, now in the
   * second lap) and the freed id are usable again */
  int i3 = vsim_vq_pdrv_add(&e.vq, s, 1, 2, 12);
  CHECK_EQ(i3, i1);
  CHECK_EQ(e.vq.num_free, 0);
  CHECK_EQ(d_flags(&e, DESC_GPA, 0), FU | VRING_DESC_F_NEXT);
  CHECK(vsim_vq_pdrv_kick_prepare(&e.vq));
  popped q;
  CHECK_EQ(dev_pop(&e, &q), 1);
  CHECK_EQ(q.id, i1);
  dev_push(&e, p[0].id, 0);
  dev_push(&e, p[2].id, 0);
  dev_push(&e, q.id, 0);
  for (unsigned i = 0; i < 3; i++) CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK(ids_ok(&e.vq));
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

/* > 70000 requests through a size-5 queue: random list lengths, random
 * interleaving of driver adds, device pops, device completions (any held
 * id, so fully out of order) and driver reaps. Ids are recycled: each id the
 * driver hands out is one the device does not hold, every token comes back
 * with its id, and at the end everything is free exactly once. */
static void run_many(uint64_t features, uint16_t indirect_max) {
  env e;
  CHECK_EQ(env_init(&e, 5, features, 0, indirect_max), 0);
  uint32_t rng = 4242;
  uint64_t tok_of[5] = {0};
  bool drv_out[5] = {false}; /* ids the test saw added and not yet reaped */
  uint64_t next_tok = 100;
  unsigned added = 0, reaped = 0, bad = 0;
  uint64_t want_sum = 0, got_sum = 0;
  /* bounded: a driver that stops making progress fails instead of hanging */
  for (uint32_t iter = 0; reaped < 70500 && bad < 5; iter++) {
    if (iter > 4000000u) {
      bad++;
      break;
    }
    unsigned act = lcg(&rng) % 8;
    if (act < 3 && added < 70500) {
      unsigned n = 1 + lcg(&rng) % 3;
      vsim_seg s[3];
      for (unsigned i = 0; i < n; i++) s[i] = seg(BUF_GPA + 64u * i, 64, i == n - 1);
      int id = vsim_vq_pdrv_add(&e.vq, s, n - 1, 1, next_tok);
      if (id == -2) continue;
      if (id < 0 || id >= 5 || drv_out[id]) {
        bad++;
        continue;
      }
      drv_out[id] = true;
      tok_of[id] = next_tok;
      want_sum += next_tok++;
      added++;
      if (lcg(&rng) % 2) (void)vsim_vq_pdrv_kick_prepare(&e.vq);
    } else if (act < 5) {
      popped p;
      for (unsigned k = 0; k < 5 && dev_pop(&e, &p) == 1; k++) {
      }
    } else if (act < 7) {
      /* complete one held id, chosen at random */
      unsigned start = lcg(&rng) % 5;
      for (unsigned k = 0; k < 5; k++) {
        uint16_t id = (uint16_t)((start + k) % 5);
        if (e.d.held[id]) {
          dev_push(&e, id, 64);
          break;
        }
      }
    } else {
      uint64_t tok;
      uint32_t len;
      int rc = 0;
      for (unsigned k = 0; k < 6 && (rc = vsim_vq_pdrv_get_used(&e.vq, &tok, &len)) == 1; k++) {
        uint16_t id = (uint16_t)e.r.ev_a[VSIM_EV_REAP];
        if (id >= 5 || !drv_out[id] || tok != tok_of[id] || len != 64) bad++;
        if (id < 5) drv_out[id] = false;
        got_sum += tok;
        reaped++;
        if ((features & F_EVENT_IDX) &&
            (drv_evt_off(&e) != pos(e.vq.next_used, e.vq.used_wrap) ||
             drv_evt_flags(&e) != VRING_PACKED_EVENT_FLAG_DESC))
          bad++;
      }
      if (rc != 0) bad++;
    }
    if (added >= 70500 && e.vq.inflight == 0) break;
  }
  /* drain */
  popped p;
  for (unsigned k = 0; k < 5 && dev_pop(&e, &p) == 1; k++) {
  }
  for (uint16_t id = 0; id < 5; id++)
    if (e.d.held[id]) dev_push(&e, id, 64);
  uint64_t tok;
  uint32_t len;
  for (unsigned k = 0; k < 5 && vsim_vq_pdrv_get_used(&e.vq, &tok, &len) == 1; k++) {
    got_sum += tok;
    reaped++;
  }
  CHECK_EQ(bad, 0);
  CHECK(added > 70000);
  CHECK_EQ(reaped, added);
  CHECK_EQ(want_sum, got_sum);
  CHECK_EQ(e.vq.num_free, 5);
  CHECK_EQ(e.vq.nfree_ids, 5);
  CHECK_EQ(e.vq.inflight, 0);
  CHECK(ids_ok(&e.vq));
  CHECK_EQ(e.vq.next_used, e.vq.next_avail);
  CHECK_EQ(e.r.ev[VSIM_EV_REAP], reaped);
  CHECK_EQ(e.r.nviol, 0);
  CHECK_EQ(e.r.faults, 0);
  env_fini(&e);
}
static void test_many_plain(void) { run_many(0, 0); }
static void test_many_event_idx_indirect(void) { run_many(F_EVENT_IDX | F_INDIRECT, 2); }

/* The window helper against an independent oracle: walk the descriptors
 * made available one by one (as add does) and see whether `event` is among
 * them. Every old position, window length and event position, for small
 * sizes; a few at the largest size. */
static void test_event_hit(void) {
  unsigned bad = 0;
  for (uint16_t size = 1; size <= 9; size++) {
    for (uint32_t c0 = 0; c0 < 2u * size; c0++) {
      uint16_t old = pos((uint16_t)(c0 % size), (c0 / size) == 0);
      for (uint32_t n = 0; n < 2u * size; n++) {
        bool seen[2][10] = {{false}};
        uint16_t off = (uint16_t)(c0 % size);
        bool wrap = (c0 / size) == 0;
        for (uint32_t k = 0; k < n; k++) {
          seen[wrap][off] = true;
          if (++off == size) {
            off = 0;
            wrap = !wrap;
          }
        }
        uint16_t new_pos = pos(off, wrap);
        for (uint16_t eo = 0; eo <= size; eo++)
          for (unsigned ew = 0; ew < 2; ew++) {
            bool want = eo < size && seen[ew][eo];
            if (vsim_vq_pdrv_event_hit(size, pos(eo, ew), old, new_pos) != want) bad++;
          }
      }
    }
  }
  CHECK_EQ(bad, 0);
  /* size 32768: the offset uses all 15 bits */
  uint16_t old = pos(32767, true), new_pos = pos(1, false);
  CHECK(vsim_vq_pdrv_event_hit(32768, pos(32767, true), old, new_pos));
  CHECK(vsim_vq_pdrv_event_hit(32768, pos(0, false), old, new_pos));
  CHECK(!vsim_vq_pdrv_event_hit(32768, pos(1, false), old, new_pos));
  CHECK(!vsim_vq_pdrv_event_hit(32768, pos(0, true), old, new_pos));
  CHECK(!vsim_vq_pdrv_event_hit(32768, pos(32766, true), old, new_pos));
  CHECK(!vsim_vq_pdrv_event_hit(32768, pos(32767, false), old, new_pos));
  CHECK(!vsim_vq_pdrv_event_hit(0, 0, 0, 1));
}

static void test_kick_flags(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, 0, 0, 0), 0);
  vsim_seg s[1] = {seg(BUF_GPA, 8, true)};
  CHECK(!vsim_vq_pdrv_kick_prepare(&e.vq)); /* nothing new: no kick */
  CHECK_EQ(e.r.ev[VSIM_EV_AVAIL_PUBLISH], 1);
  CHECK_EQ(e.r.ev_a[VSIM_EV_AVAIL_PUBLISH], e.r.ev_b[VSIM_EV_AVAIL_PUBLISH]);
  CHECK(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 1) >= 0);
  CHECK(vsim_vq_pdrv_kick_prepare(&e.vq));  /* ENABLE: MUST */
  CHECK(!vsim_vq_pdrv_kick_prepare(&e.vq)); /* same window already decided */
  set_dev_evt(&e, 0, VRING_PACKED_EVENT_FLAG_DISABLE);
  CHECK(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 2) >= 0);
  CHECK(!vsim_vq_pdrv_kick_prepare(&e.vq)); /* suppressed: SHOULD NOT */
  CHECK_EQ(e.r.ev_a[VSIM_EV_AVAIL_PUBLISH], pos(1, true));
  CHECK_EQ(e.r.ev_b[VSIM_EV_AVAIL_PUBLISH], pos(2, true));
  set_dev_evt(&e, 0, 3); /* reserved: treated as a request to notify */
  CHECK(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 3) >= 0);
  CHECK(vsim_vq_pdrv_kick_prepare(&e.vq));
  set_dev_evt(&e, 0, 0x0100 | VRING_PACKED_EVENT_FLAG_DISABLE); /* reserved bits set */
  CHECK(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 4) >= 0);
  CHECK(vsim_vq_pdrv_kick_prepare(&e.vq));
  /* DESC without EVENT_IDX is read as ENABLE, whatever the offset */
  set_dev_evt(&e, pos(7, false), VRING_PACKED_EVENT_FLAG_DESC);
  CHECK(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 5) >= 0);
  CHECK(vsim_vq_pdrv_kick_prepare(&e.vq));
  set_dev_evt(&e, 0, VRING_PACKED_EVENT_FLAG_ENABLE);
  CHECK(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 6) >= 0);
  CHECK(vsim_vq_pdrv_kick_prepare(&e.vq));
  CHECK_EQ(e.r.ev[VSIM_EV_AVAIL_PUBLISH], 8);
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

/* Move an idle EVENT_IDX queue to ring position (off, wrap) by round trips,
 * then decide once so that the next window starts there. */
static void goto_pos(env *e, uint16_t off, bool wrap) {
  set_dev_evt(e, 0, VRING_PACKED_EVENT_FLAG_ENABLE);
  for (unsigned guard = 0; guard < 4u * e->vq.size; guard++) {
    if (e->vq.next_avail == off && e->vq.avail_wrap == wrap) break;
    cycle(e);
  }
  CHECK_EQ(e->vq.next_avail, off);
  CHECK_EQ(e->vq.avail_wrap, wrap);
  (void)vsim_vq_pdrv_kick_prepare(&e->vq);
}

/* Add `n` one-descriptor lists, put the device's DESC at `event`, decide;
 * then let the device complete them and the driver reap (ring idle again). */
static bool desc_kick(env *e, unsigned n, uint16_t event) {
  vsim_seg s[1] = {seg(BUF_GPA, 8, true)};
  for (unsigned i = 0; i < n; i++) CHECK(vsim_vq_pdrv_add(&e->vq, s, 0, 1, i) >= 0);
  set_dev_evt(e, event, VRING_PACKED_EVENT_FLAG_DESC);
  bool kick = vsim_vq_pdrv_kick_prepare(&e->vq);
  popped p;
  for (unsigned k = 0; k < e->vq.size && dev_pop(e, &p) == 1; k++) dev_push(e, p.id, 0);
  uint64_t tok;
  uint32_t len;
  for (unsigned k = 0; k < e->vq.size && vsim_vq_pdrv_get_used(&e->vq, &tok, &len) == 1; k++) {
  }
  CHECK_EQ(e->vq.inflight, 0);
  return kick;
}

static void test_kick_desc(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, F_EVENT_IDX, 0, 0), 0);
  /* window [0, 3) of the first lap */
  CHECK(desc_kick(&e, 3, pos(0, true)));  /* old edge: written now */
  CHECK_EQ(e.r.ev_a[VSIM_EV_AVAIL_PUBLISH], pos(0, true));
  CHECK_EQ(e.r.ev_b[VSIM_EV_AVAIL_PUBLISH], pos(3, true));
  CHECK(!desc_kick(&e, 3, pos(6, true))); /* [3, 6): 6 is the next one, not yet */
  CHECK(desc_kick(&e, 1, pos(6, true)));  /* [6, 7) */
  CHECK(!desc_kick(&e, 1, pos(6, true))); /* [7, 0'): 6 is behind */
  CHECK(!desc_kick(&e, 1, pos(0, true))); /* [0', 1'): lap 1's 0 is not lap 2's */
  CHECK(desc_kick(&e, 1, pos(1, false))); /* [1', 2') */
  CHECK(!vsim_vq_pdrv_kick_prepare(&e.vq)); /* empty window: no kick even at DESC */

  /* across the wrap: [6, 7, 0', 1') */
  goto_pos(&e, 6, true);
  CHECK(desc_kick(&e, 4, pos(0, false)));
  goto_pos(&e, 6, true);
  CHECK(desc_kick(&e, 4, pos(1, false)));  /* last one in the window */
  goto_pos(&e, 6, true);
  CHECK(!desc_kick(&e, 4, pos(2, false))); /* first one past it */
  goto_pos(&e, 6, true);
  CHECK(desc_kick(&e, 4, pos(7, true)));
  goto_pos(&e, 6, true);
  CHECK(!desc_kick(&e, 4, pos(5, true)));  /* just before old */
  goto_pos(&e, 6, true);
  CHECK(!desc_kick(&e, 4, pos(0, true)));  /* right offset, wrong lap */
  goto_pos(&e, 6, true);
  CHECK(!desc_kick(&e, 4, pos(6, false))); /* a lap ahead */
  /* and back from the second lap into the first: [7', 0, 1] */
  goto_pos(&e, 7, false);
  CHECK(desc_kick(&e, 3, pos(0, true)));
  goto_pos(&e, 7, false);
  CHECK(!desc_kick(&e, 3, pos(0, false)));
  goto_pos(&e, 7, false);
  CHECK(!desc_kick(&e, 3, pos(2, true)));

  /* an offset the ring never reaches: kick rather than wait forever */
  goto_pos(&e, 0, true);
  CHECK(desc_kick(&e, 1, pos(8, true)));
  CHECK(desc_kick(&e, 1, 0x7fff));
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);

  /* a polling device consumed many lists between two decisions: a window of
   * 2 * size descriptors or more covers every position */
  CHECK_EQ(env_init(&e, 4, F_EVENT_IDX, 0, 0), 0);
  vsim_seg s[1] = {seg(BUF_GPA, 8, true)};
  uint64_t tok;
  uint32_t len;
  popped p;
  for (unsigned i = 0; i < 7; i++) {
    CHECK(vsim_vq_pdrv_add(&e.vq, s, 0, 1, i) >= 0);
    CHECK_EQ(dev_pop(&e, &p), 1);
    dev_push(&e, p.id, 0);
    CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  }
  /* 7 made available from (0, w1): [0 .. 3, 0' .. 2'], new = 3' */
  set_dev_evt(&e, pos(3, false), VRING_PACKED_EVENT_FLAG_DESC);
  CHECK(!vsim_vq_pdrv_kick_prepare(&e.vq));
  env_fini(&e);
  CHECK_EQ(env_init(&e, 4, F_EVENT_IDX, 0, 0), 0);
  for (unsigned i = 0; i < 8; i++) {
    CHECK(vsim_vq_pdrv_add(&e.vq, s, 0, 1, i) >= 0);
    CHECK_EQ(dev_pop(&e, &p), 1);
    dev_push(&e, p.id, 0);
    CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  }
  /* 8 = 2 * size: back at (0, w1), every position was made available once */
  CHECK_EQ(e.vq.next_avail, 0);
  CHECK(e.vq.avail_wrap);
  set_dev_evt(&e, pos(3, false), VRING_PACKED_EVENT_FLAG_DESC);
  CHECK(vsim_vq_pdrv_kick_prepare(&e.vq));
  CHECK_EQ(e.r.ev_a[VSIM_EV_AVAIL_PUBLISH], e.r.ev_b[VSIM_EV_AVAIL_PUBLISH]);
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

static void test_callbacks_plain(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, 0, 0, 0), 0);
  cycle(&e);
  CHECK_EQ(rd32(&e, DRV_EVT_GPA), 0); /* ENABLE untouched by reaping */
  vsim_vq_pdrv_set_callbacks(&e.vq, false);
  CHECK(!e.vq.cb_enabled);
  CHECK_EQ(drv_evt_flags(&e), VRING_PACKED_EVENT_FLAG_DISABLE);
  CHECK_EQ(drv_evt_off(&e), 0);
  cycle(&e);
  CHECK_EQ(drv_evt_flags(&e), VRING_PACKED_EVENT_FLAG_DISABLE);
  vsim_vq_pdrv_set_callbacks(&e.vq, true);
  CHECK(e.vq.cb_enabled);
  CHECK_EQ(drv_evt_flags(&e), VRING_PACKED_EVENT_FLAG_ENABLE);
  CHECK_EQ(drv_evt_off(&e), 0); /* no DESC without EVENT_IDX */
  cycle(&e);
  CHECK_EQ(rd32(&e, DRV_EVT_GPA), 0);
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

static void test_callbacks_event_idx(void) {
  env e;
  CHECK_EQ(env_init(&e, 4, F_EVENT_IDX, 0, 0), 0);
  vsim_vq_pdrv_set_callbacks(&e.vq, true);
  CHECK_EQ(drv_evt_off(&e), pos(0, true));
  CHECK_EQ(drv_evt_flags(&e), VRING_PACKED_EVENT_FLAG_DESC);
  cycle(&e); /* each reap asks for the next used descriptor */
  CHECK_EQ(drv_evt_off(&e), pos(1, true));
  CHECK_EQ(drv_evt_flags(&e), VRING_PACKED_EVENT_FLAG_DESC);
  cycle(&e);
  cycle(&e);
  cycle(&e); /* across the used wrap: the wrap bit follows */
  CHECK_EQ(drv_evt_off(&e), pos(0, false));
  CHECK_EQ(drv_evt_flags(&e), VRING_PACKED_EVENT_FLAG_DESC);
  /* a 3-descriptor list: the rearm is at the position after it */
  vsim_seg s[3] = {seg(BUF_GPA, 8, false), seg(BUF_GPA + 8, 8, true), seg(BUF_GPA + 16, 8, true)};
  CHECK(vsim_vq_pdrv_add(&e.vq, s, 1, 2, 1) >= 0);
  popped p;
  CHECK_EQ(dev_pop(&e, &p), 1);
  dev_push(&e, p.id, 16);
  uint64_t tok;
  uint32_t len;
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(drv_evt_off(&e), pos(3, false));
  /* disabled: DISABLE, the offset left as it was, reaping does not re-arm */
  vsim_vq_pdrv_set_callbacks(&e.vq, false);
  CHECK_EQ(drv_evt_flags(&e), VRING_PACKED_EVENT_FLAG_DISABLE);
  CHECK_EQ(drv_evt_off(&e), pos(3, false));
  cycle(&e);
  CHECK_EQ(drv_evt_flags(&e), VRING_PACKED_EVENT_FLAG_DISABLE);
  CHECK_EQ(drv_evt_off(&e), pos(3, false));
  CHECK_EQ(e.vq.next_used, 0);
  CHECK(e.vq.used_wrap);
  /* re-enabled: DESC at the current next_used */
  vsim_vq_pdrv_set_callbacks(&e.vq, true);
  CHECK_EQ(drv_evt_off(&e), pos(0, true));
  CHECK_EQ(drv_evt_flags(&e), VRING_PACKED_EVENT_FLAG_DESC);
  cycle(&e);
  CHECK_EQ(drv_evt_off(&e), pos(1, true));
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

/* A queue with lists in flight, for the bad-device tests: id 0 a 1-descriptor
 * list (wr 64) at 0, id 1 a 3-descriptor list (wr 200) at 1..3, id 2 a
 * read-only 1-descriptor list at 4; the device holds all three. */
static void bad_setup(env *e) {
  CHECK_EQ(env_init(e, 8, 0, 0, 0), 0);
  vsim_seg a[1] = {seg(BUF_GPA, 64, true)};
  vsim_seg b[3] = {seg(BUF_GPA + 64, 16, false), seg(BUF_GPA + 80, 100, true),
                   seg(BUF_GPA + 180, 100, true)};
  vsim_seg c[1] = {seg(BUF_GPA + 400, 32, false)};
  CHECK_EQ(vsim_vq_pdrv_add(&e->vq, a, 0, 1, 100), 0);
  CHECK_EQ(vsim_vq_pdrv_add(&e->vq, b, 1, 2, 101), 1);
  CHECK_EQ(vsim_vq_pdrv_add(&e->vq, c, 1, 0, 102), 2);
  CHECK(vsim_vq_pdrv_kick_prepare(&e->vq));
  CHECK_EQ(e->vq.num_free, 3);
  popped p;
  for (unsigned i = 0; i < 3; i++) {
    CHECK_EQ(dev_pop(e, &p), 1);
    CHECK_EQ(p.id, i);
  }
}

/* After a fatal device error: every op refuses, nothing is freed (twice or
 * at all), no further violation is reported. */
static void check_broken(env *e, uint16_t num_free, uint32_t inflight) {
  int nviol = e->r.nviol;
  uint64_t tok;
  uint32_t len;
  CHECK(e->vq.broken);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e->vq, &tok, &len), -1);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e->vq, &tok, &len), -1);
  CHECK(!vsim_vq_pdrv_used_pending(&e->vq));
  vsim_seg s[1] = {seg(BUF_GPA, 8, true)};
  CHECK_EQ(vsim_vq_pdrv_add(&e->vq, s, 0, 1, 0), -1);
  CHECK(!vsim_vq_pdrv_kick_prepare(&e->vq));
  vsim_vq_pdrv_set_callbacks(&e->vq, true);
  CHECK_EQ(e->vq.num_free, num_free);
  CHECK_EQ(e->vq.inflight, inflight);
  CHECK_EQ(e->vq.nfree_ids, 8 - inflight);
  CHECK(ids_ok(&e->vq));
  CHECK_EQ(vsim_vq_pdrv_audit(&e->vq, NULL, 0), 0);
  CHECK_EQ(e->r.nviol, nviol);
}

static void test_bad_id(void) {
  env e;
  uint64_t tok = 77;
  uint32_t len = 77;
  /* out of range: == size */
  bad_setup(&e);
  dev_write(&e, 0, 8, 0, FA | FU);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(tok, 77); /* outputs untouched */
  CHECK_EQ(len, 77);
  CHECK_EQ(e.r.nviol, 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_ID], 1);
  CHECK(strstr(e.r.last_detail, "out of range") != NULL);
  CHECK_EQ(e.r.ev[VSIM_EV_REAP], 0);
  check_broken(&e, 3, 3);
  env_fini(&e);

  /* far out of range */
  bad_setup(&e);
  dev_write(&e, 0, 0xffff, 0, FA | FU);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.nviol, 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_ID], 1);
  check_broken(&e, 3, 3);
  env_fini(&e);

  /* in range, never issued */
  bad_setup(&e);
  dev_write(&e, 0, 7, 0, FA | FU);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.nviol, 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_ID], 1);
  CHECK(strstr(e.r.last_detail, "not in flight") != NULL);
  check_broken(&e, 3, 3);
  env_fini(&e);

  /* duplicate completion: the second one is refused, nothing freed twice */
  bad_setup(&e);
  dev_push(&e, 1, 50); /* at 0, device skips to 3 */
  dev_write(&e, 3, 1, 50, FA | FU);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 101);
  CHECK_EQ(e.vq.num_free, 6);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.nviol, 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_ID], 1);
  check_broken(&e, 6, 2);
  env_fini(&e);

  /* stale: a reaped id reported again later, after other completions */
  bad_setup(&e);
  dev_push(&e, 0, 8);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  dev_push(&e, 2, 0);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  dev_write(&e, 2, 0, 8, FA | FU);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_ID], 1);
  CHECK_EQ(e.r.nviol, 1);
  check_broken(&e, 5, 1);
  env_fini(&e);
}

static void test_bad_len(void) {
  uint64_t tok;
  uint32_t len;
  env e;
  bad_setup(&e);
  dev_push(&e, 1, 201); /* writable is 200 */
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 101);
  CHECK_EQ(len, 200); /* clamped */
  CHECK_EQ(e.r.nviol, 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_LEN], 1);
  CHECK_EQ(e.r.ev_b[VSIM_EV_REAP], 200);
  CHECK(!e.vq.broken);
  CHECK_EQ(e.vq.num_free, 6);
  /* read-only list: any len above 0 is over */
  dev_push(&e, 2, 1);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 102);
  CHECK_EQ(len, 0);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_LEN], 2);
  /* exactly the writable bytes is fine */
  dev_push(&e, 0, 64);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(len, 64);
  CHECK_EQ(e.r.nviol, 2);
  /* the queue is still usable, across the wrap */
  for (unsigned i = 0; i < 6; i++) cycle(&e);
  CHECK_EQ(e.r.nviol, 2);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK(ids_ok(&e.vq));
  env_fini(&e);
}

static void test_bad_flags(void) {
  uint64_t tok;
  uint32_t len;
  env e;
  /* in flight, AVAIL wrong, USED = wrap (inconsistent: the driver's own mark
   * there has AVAIL = wrap) */
  bad_setup(&e);
  dev_write(&e, 0, 0, 8, FU);
  CHECK(!vsim_vq_pdrv_used_pending(&e.vq)); /* a peek reports nothing */
  CHECK_EQ(e.r.nviol, 0);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.nviol, 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_FLAGS], 1);
  CHECK_EQ(e.r.ev[VSIM_EV_REAP], 0);
  check_broken(&e, 3, 3);
  env_fini(&e);

  /* in flight, AVAIL = USED = !wrap: the device's wrap counter is wrong
   * (a device that never toggles it writes exactly this in its second lap) */
  bad_setup(&e);
  dev_write(&e, 0, 0, 8, 0);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.nviol, 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_FLAGS], 1);
  check_broken(&e, 3, 3);
  env_fini(&e);

  /* the same in the second lap, after correct traffic */
  CHECK_EQ(env_init(&e, 4, 0, 0, 0), 0);
  for (unsigned i = 0; i < 5; i++) cycle(&e);
  CHECK(!e.vq.used_wrap);
  vsim_seg s[1] = {seg(BUF_GPA, 8, true)};
  CHECK(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 1) >= 0);
  popped p;
  CHECK_EQ(dev_pop(&e, &p), 1);
  dev_write(&e, 1, p.id, 0, FA | FU); /* wrap 1 in lap 2 */
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_FLAGS], 1);
  CHECK_EQ(e.r.nviol, 1);
  CHECK(e.vq.broken);
  CHECK_EQ(e.vq.inflight, 1);
  CHECK_EQ(e.vq.num_free, 3);
  env_fini(&e);

  /* nothing in flight, a used mark for the current wrap: a completion of
   * nothing (reported as flags, before the id is even looked at) */
  CHECK_EQ(env_init(&e, 8, 0, 0, 0), 0);
  dev_write(&e, 0, 0, 0, FA | FU);
  CHECK(vsim_vq_pdrv_used_pending(&e.vq)); /* the peek only looks at the bits */
  CHECK_EQ(e.r.nviol, 0);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.nviol, 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_FLAGS], 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_ID], 0);
  CHECK(e.vq.broken);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK_EQ(e.vq.nfree_ids, 8);
  env_fini(&e);

  /* nothing in flight, an "available" mark the driver did not write */
  CHECK_EQ(env_init(&e, 8, 0, 0, 0), 0);
  dev_write(&e, 0, 0, 0, FA);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.nviol, 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_FLAGS], 1);
  env_fini(&e);
}

/* What an idle queue legitimately leaves at next_used from the previous lap
 * is "nothing new", not a violation: an old used mark (!W, !W), and — USED
 * equal to the wrap but AVAIL not — the driver's own available mark in the
 * middle of a list, which the device skipped. */
static void test_idle_leftovers(void) {
  env e;
  uint64_t tok;
  uint32_t len;
  CHECK_EQ(env_init(&e, 4, 0, 0, 0), 0);
  vsim_seg s3[3] = {seg(BUF_GPA, 8, false), seg(BUF_GPA + 8, 8, true), seg(BUF_GPA + 16, 8, true)};
  vsim_seg s1[1] = {seg(BUF_GPA, 8, true)};
  CHECK(vsim_vq_pdrv_add(&e.vq, s3, 1, 2, 1) >= 0); /* 0..2 */
  CHECK(vsim_vq_pdrv_add(&e.vq, s1, 0, 1, 2) >= 0); /* 3 */
  popped p, q;
  CHECK_EQ(dev_pop(&e, &p), 1);
  CHECK_EQ(dev_pop(&e, &q), 1);
  dev_push(&e, p.id, 16); /* used at 0 */
  dev_push(&e, q.id, 8);  /* used at 3 */
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(e.vq.next_used, 0);
  CHECK(!e.vq.used_wrap);
  CHECK_EQ(d_flags(&e, DESC_GPA, 0) & (FA | FU), FA | FU); /* (!W, !W) */
  CHECK(!vsim_vq_pdrv_used_pending(&e.vq));
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 0);
  cycle(&e); /* lap 2 at 0 */
  CHECK_EQ(e.vq.next_used, 1);
  CHECK_EQ(d_flags(&e, DESC_GPA, 1) & (FA | FU), FA); /* (!W, W): mid-list leftover */
  CHECK(!vsim_vq_pdrv_used_pending(&e.vq));
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 0);
  CHECK_EQ(e.r.nviol, 0);
  for (unsigned i = 0; i < 9; i++) cycle(&e); /* and the queue goes on */
  CHECK_EQ(e.r.nviol, 0);
  CHECK(!e.vq.broken);
  env_fini(&e);
}

static void test_mutants(void) {
  vsim_seg s[1] = {seg(BUF_GPA, 8, true)};
  env e;
  /* skip-kick: never notifies, even when the device asked for it */
  CHECK_EQ(env_init(&e, 8, 0, TMUT(DRV_SKIP_KICK), 0), 0);
  CHECK(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 1) >= 0);
  CHECK(!vsim_vq_pdrv_kick_prepare(&e.vq));
  CHECK_EQ(e.r.ev[VSIM_EV_AVAIL_PUBLISH], 1); /* still published */
  env_fini(&e);
  CHECK_EQ(env_init(&e, 8, F_EVENT_IDX, TMUT(DRV_SKIP_KICK), 0), 0);
  CHECK(!desc_kick(&e, 1, pos(0, true)));
  env_fini(&e);

  /* kick-always: notifies although the device suppressed it, and with
   * nothing new */
  CHECK_EQ(env_init(&e, 8, 0, TMUT(DRV_KICK_ALWAYS), 0), 0);
  set_dev_evt(&e, 0, VRING_PACKED_EVENT_FLAG_DISABLE);
  CHECK(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 1) >= 0);
  CHECK(vsim_vq_pdrv_kick_prepare(&e.vq));
  CHECK(vsim_vq_pdrv_kick_prepare(&e.vq));
  env_fini(&e);
  CHECK_EQ(env_init(&e, 8, F_EVENT_IDX, TMUT(DRV_KICK_ALWAYS), 0), 0);
  CHECK(desc_kick(&e, 1, pos(5, true)));
  env_fini(&e);

  /* rewrite-available: adding a list sets a reserved bit (3) in the head's
   * flags of the list added before, and touches nothing else */
  CHECK_EQ(env_init(&e, 8, 0, TMUT(DRV_PACKED_REWRITE_AVAIL), 0), 0);
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 1), 0);
  const uint16_t head0 = rd16(&e, DESC_GPA + 14);
  CHECK_EQ(head0 & 0x8u, 0); /* nothing before the first list */
  CHECK(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 2) >= 0);
  CHECK_EQ(rd16(&e, DESC_GPA + 14), head0 | 0x8u);
  CHECK_EQ(rd16(&e, DESC_GPA + 16 + 14) & 0x8u, 0);
  env_fini(&e);

  /* the split-only mutants change nothing here */
  CHECK_EQ(env_init(&e, 8, F_EVENT_IDX,
                    TMUT(DRV_USED_FLAGS_DIRTY) | TMUT(DRV_AVAIL_FLAGS), 0), 0);
  CHECK_EQ(rd32(&e, DEV_EVT_GPA), 0);
  vsim_vq_pdrv_set_callbacks(&e.vq, false);
  CHECK_EQ(rd32(&e, DRV_EVT_GPA), (uint32_t)VRING_PACKED_EVENT_FLAG_DISABLE << 16);
  env_fini(&e);
}

/* The driver's own ring memory can be made unreadable by a scenario: that is
 * an arena fault (reported by the arena), the queue stops, nothing crashes. */
static void test_arena_fault(void) {
  env e;
  uint64_t tok;
  uint32_t len;
  CHECK_EQ(env_init(&e, 8, 0, 0, 0), 0);
  vsim_seg s[1] = {seg(BUF_GPA, 8, true)};
  CHECK(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 1) >= 0);
  /* unreadable device event structure: kick (a spurious kick beats a lost one) */
  CHECK_EQ(vsim_arena_set_region(e.a, DEV_EVT_GPA, 4, VSIM_REGION_PERM(0, VSIM_ACC_RW)), 0);
  CHECK(vsim_vq_pdrv_kick_prepare(&e.vq));
  CHECK_EQ(e.r.faults, 1);
  CHECK(!e.vq.broken);
  CHECK_EQ(vsim_arena_set_region(e.a, DESC_GPA, 0x80, VSIM_REGION_HOLE), 0);
  CHECK(!vsim_vq_pdrv_used_pending(&e.vq));
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), -1);
  CHECK(e.r.faults >= 2);
  CHECK(e.vq.broken);
  CHECK_EQ(e.r.nviol, 0);
  CHECK_EQ(e.vq.num_free, 7);
  env_fini(&e);

  /* unwritable driver event structure: set_callbacks stops the queue */
  CHECK_EQ(env_init(&e, 8, F_EVENT_IDX, 0, 0), 0);
  CHECK_EQ(vsim_arena_set_region(e.a, DRV_EVT_GPA, 4, VSIM_REGION_PERM(VSIM_ACC_READ, VSIM_ACC_RW)), 0);
  vsim_vq_pdrv_set_callbacks(&e.vq, true);
  CHECK(e.vq.broken);
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

/* ---- IN_ORDER ------------------------------------------------------------ */

#define F_IN_ORDER (UINT64_C(1) << VIRTIO_F_IN_ORDER)

/* The in-order bookkeeping is intact: `order` holds exactly the ids in
 * flight, each once, and the free-id count agrees. */
static bool ids_ok_io(const vsim_vq_pdrv *vq) {
  uint8_t seen[32768 / 8 + 1] = {0};
  uint32_t in_flight = 0;
  for (uint32_t i = 0; i < vq->size; i++) in_flight += vq->slot[i].in_flight;
  if (in_flight != vq->inflight || vq->nfree_ids + in_flight != vq->size) return false;
  for (uint32_t k = 0; k < vq->inflight; k++) {
    uint16_t id = vq->order[(vq->order_head + k) % vq->size];
    if (id >= vq->size || !vq->slot[id].in_flight || (seen[id / 8] & (1u << (id % 8))))
      return false;
    seen[id / 8] |= (uint8_t)(1u << (id % 8));
  }
  return true;
}

/* The in-order device: one used descriptor for the `k` lists it holds
 * longest (ids[0..k-1], oldest first), at its used position, with the id of
 * the last; it then skips every descriptor of the batch. */
static void dev_batch(env *e, const uint16_t *ids, unsigned k, uint32_t len) {
  dev *d = &e->d;
  dev_write(e, d->used_off, ids[k - 1], len, used_bits(d->used_wrap));
  for (unsigned j = 0; j < k; j++) {
    CHECK(ids[j] < MAXQ && d->held[ids[j]] > 0);
    if (ids[j] >= MAXQ) continue;
    uint32_t next = (uint32_t)d->used_off + d->held[ids[j]];
    if (next >= e->vq.size) {
      next -= e->vq.size;
      d->used_wrap = !d->used_wrap;
    }
    d->used_off = (uint16_t)next;
    d->held[ids[j]] = 0;
  }
}

/* Ids are handed out in order (a cursor, not the stack), wrapping at the
 * queue size, whatever order they come back in... which with IN_ORDER is
 * their own. */
static void test_in_order_ids(void) {
  env e;
  uint64_t tok;
  uint32_t len;
  CHECK_EQ(env_init(&e, 8, F_IN_ORDER, 0, 0), 0);
  CHECK(e.vq.in_order);
  CHECK(ids_ok_io(&e.vq));
  vsim_seg s[3] = {seg(BUF_GPA, 16, false), seg(BUF_GPA + 16, 100, true),
                   seg(BUF_GPA + 116, 28, true)};
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s + 1, 0, 1, 10), 0);
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s, 1, 2, 11), 1);
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s, 1, 1, 12), 2);
  CHECK(vsim_vq_pdrv_kick_prepare(&e.vq));
  popped p;
  for (unsigned i = 0; i < 3; i++) CHECK_EQ(dev_pop(&e, &p), 1);
  dev_push(&e, 0, 7);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 10);
  /* the stack would hand out 0 again; in order it is 3 */
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s + 1, 0, 1, 13), 3);
  CHECK(ids_ok_io(&e.vq));
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s + 1, 0, 1, 14), 4);
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s + 1, 0, 1, 15), 5);
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s + 1, 0, 1, 16), -2); /* ring full */
  CHECK(vsim_vq_pdrv_kick_prepare(&e.vq));
  for (unsigned i = 0; i < 3; i++) CHECK_EQ(dev_pop(&e, &p), 1);
  const uint16_t held[5] = {1, 2, 3, 4, 5};
  dev_batch(&e, held, 5, 1);
  for (unsigned i = 0; i < 5; i++) CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 15);
  CHECK_EQ(e.vq.inflight, 0);
  /* around the end of the id space: 6, 7, then 0, 1 */
  const int want[4] = {6, 7, 0, 1};
  for (unsigned i = 0; i < 4; i++) CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s + 1, 0, 1, 20 + i), want[i]);
  CHECK(ids_ok_io(&e.vq));
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

/* A random in-order workload: lists of 1..3 descriptors (some indirect),
 * the device pops everything and completes in batches of 1, 3, everything
 * it holds, or a random size; the driver returns every list once, in order,
 * with the batch's len on its last list and the full writable bytes on the
 * others; laps of both wrap counters many times over. */
static void in_order_random(uint16_t size, uint64_t features, uint16_t indirect_max,
                           uint32_t seed, unsigned target) {
  env e;
  CHECK_EQ(env_init(&e, size, F_IN_ORDER | features, 0, indirect_max), 0);
  enum { QM = 64 };
  struct item {
    uint16_t id;
    uint32_t wr;
    uint64_t tok;
  } drv[QM], dq[QM];
  unsigned dh = 0, dn = 0, qh = 0, qn = 0;
  uint32_t want_len_of[MAXQ] = {0};
  uint16_t cursor = 0;
  uint32_t rng = seed;
  uint64_t next_tok = 1;
  unsigned reaped = 0, batches = 0, big = 0, whole = 0, laps = 0, bad = 0;
  bool last_wrap = true;
  while (reaped < target && bad < 5) {
    unsigned act = lcg(&rng) % 10;
    if (act < 4) {
      unsigned n = 1 + lcg(&rng) % (size < 3 ? size : 3), nout = lcg(&rng) % n;
      vsim_seg s[3];
      for (unsigned i = 0; i < n; i++) s[i] = seg(BUF_GPA + 256u * i, 16u * (1 + i), i >= nout);
      uint32_t wr = 0;
      for (unsigned i = nout; i < n; i++) wr += s[i].len;
      int id = vsim_vq_pdrv_add(&e.vq, s, nout, n - nout, next_tok);
      if (id == -2) continue;
      if (id != cursor) bad++;
      cursor = (uint16_t)((cursor + 1) % size);
      drv[(dh + dn++) % QM] = (struct item){(uint16_t)id, wr, next_tok++};
      if (lcg(&rng) % 3 == 0) (void)vsim_vq_pdrv_kick_prepare(&e.vq);
    } else if (act < 5) {
      (void)vsim_vq_pdrv_kick_prepare(&e.vq);
      popped p;
      while (dev_pop(&e, &p) == 1) dq[(qh + qn++) % QM] = (struct item){p.id, p.wr_bytes, 0};
    } else if (act < 8) {
      if (qn == 0) continue;
      unsigned pick = lcg(&rng) % 4;
      unsigned k = pick == 0 ? 1 : pick == 1 ? 3 : pick == 2 ? qn : 1 + lcg(&rng) % qn;
      if (k > qn) k = qn;
      whole += k == qn && k > 1;
      big += k > 1;
      uint16_t ids[QM];
      for (unsigned j = 0; j < k; j++) ids[j] = dq[(qh + j) % QM].id;
      uint32_t len = lcg(&rng) % (dq[(qh + k - 1) % QM].wr + 1);
      for (unsigned j = 0; j < k; j++) want_len_of[ids[j]] = j + 1 < k ? dq[(qh + j) % QM].wr : len;
      dev_batch(&e, ids, k, len);
      qh = (qh + k) % QM;
      qn -= k;
      batches++;
    } else {
      uint64_t tok;
      uint32_t len;
      int rc;
      while ((rc = vsim_vq_pdrv_get_used(&e.vq, &tok, &len)) == 1) {
        struct item it = drv[dh];
        dh = (dh + 1) % QM;
        dn--;
        uint16_t id = (uint16_t)e.r.ev_a[VSIM_EV_REAP];
        if (id != it.id || tok != it.tok || len != want_len_of[id]) bad++;
        /* mid-batch: the rest is known, and pending */
        if (e.vq.batch_left && !vsim_vq_pdrv_used_pending(&e.vq)) bad++;
        if ((features & F_EVENT_IDX) && e.vq.batch_left == 0 &&
            (drv_evt_off(&e) != pos(e.vq.next_used, e.vq.used_wrap) ||
             drv_evt_flags(&e) != VRING_PACKED_EVENT_FLAG_DESC))
          bad++;
        reaped++;
      }
      if (rc != 0) bad++;
      if (!ids_ok_io(&e.vq)) bad++;
      if (dn == 0 && (e.vq.next_used != e.vq.next_avail || e.vq.used_wrap != e.vq.avail_wrap))
        bad++;
      laps += e.vq.used_wrap != last_wrap;
      last_wrap = e.vq.used_wrap;
    }
  }
  if (bad) fprintf(stderr, "  (in_order_random size %u: %u bad, %u reaped)\n", size, bad, reaped);
  CHECK_EQ(bad, 0);
  CHECK(reaped >= target);
  CHECK(batches > target / 8);
  CHECK(big > 0 || size == 1);
  CHECK(whole > 0 || size == 1);
  CHECK(laps > 1000);
  CHECK_EQ(e.r.ev[VSIM_EV_REAP], reaped);
  CHECK_EQ(e.r.nviol, 0);
  CHECK_EQ(e.r.faults, 0);
  env_fini(&e);
}

static void test_in_order_random(void) {
  in_order_random(8, 0, 0, 1, 60000);
  in_order_random(16, F_EVENT_IDX | F_INDIRECT, 2, 2, 60000);
  in_order_random(5, F_EVENT_IDX, 0, 3, 60000); /* not a power of two */
  in_order_random(1, 0, 0, 4, 20000);
}

/* The whole ring as one batch, lap after lap: one used descriptor at the
 * first position, the driver lands exactly where it started. */
static void test_in_order_whole_ring(void) {
  env e;
  CHECK_EQ(env_init(&e, 8, F_IN_ORDER | F_EVENT_IDX, 0, 0), 0);
  int bad = 0;
  for (unsigned round = 0; round < 3000 && bad < 5; round++) {
    uint16_t ids[8];
    for (unsigned i = 0; i < 8; i++) {
      vsim_seg s[1] = {seg(BUF_GPA + 64u * i, 64, true)};
      int id = vsim_vq_pdrv_add(&e.vq, s, 0, 1, 100u * round + i);
      if (id != (int)i) bad++;
      ids[i] = (uint16_t)id;
    }
    (void)vsim_vq_pdrv_kick_prepare(&e.vq);
    popped p;
    for (unsigned i = 0; i < 8; i++)
      if (dev_pop(&e, &p) != 1) bad++;
    dev_batch(&e, ids, 8, round % 65);
    for (unsigned i = 0; i < 8; i++) {
      uint64_t tok;
      uint32_t len;
      if (vsim_vq_pdrv_get_used(&e.vq, &tok, &len) != 1 || tok != 100u * round + i ||
          len != (i < 7 ? 64u : round % 65))
        bad++;
    }
    if (e.vq.next_used != 0 || e.vq.used_wrap != (round % 2 == 1)) bad++;
    if (drv_evt_off(&e) != pos(0, e.vq.used_wrap)) bad++;
    if (vsim_vq_pdrv_used_pending(&e.vq)) bad++;
  }
  CHECK_EQ(bad, 0);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK_EQ(e.vq.inflight, 0);
  CHECK(ids_ok_io(&e.vq));
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);
}

/* In-order bad-device setup: ids 0 (slot 0, wr 64), 1 (slots 1-3, wr 200),
 * 2 (slot 4, read-only), all popped. */
static void bad_setup_io(env *e) {
  CHECK_EQ(env_init(e, 8, F_IN_ORDER, 0, 0), 0);
  vsim_seg a[1] = {seg(BUF_GPA, 64, true)};
  vsim_seg b[3] = {seg(BUF_GPA + 64, 16, false), seg(BUF_GPA + 80, 100, true),
                   seg(BUF_GPA + 180, 100, true)};
  vsim_seg c[1] = {seg(BUF_GPA + 400, 32, false)};
  CHECK_EQ(vsim_vq_pdrv_add(&e->vq, a, 0, 1, 100), 0);
  CHECK_EQ(vsim_vq_pdrv_add(&e->vq, b, 1, 2, 101), 1);
  CHECK_EQ(vsim_vq_pdrv_add(&e->vq, c, 1, 0, 102), 2);
  CHECK(vsim_vq_pdrv_kick_prepare(&e->vq));
  popped p;
  for (unsigned i = 0; i < 3; i++) CHECK_EQ(dev_pop(e, &p), 1);
}

static void check_broken_io(env *e, uint16_t num_free, uint32_t inflight) {
  int nviol = e->r.nviol;
  uint64_t tok;
  uint32_t len;
  CHECK(e->vq.broken);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e->vq, &tok, &len), -1);
  CHECK(!vsim_vq_pdrv_used_pending(&e->vq));
  vsim_seg s[1] = {seg(BUF_GPA, 8, true)};
  CHECK_EQ(vsim_vq_pdrv_add(&e->vq, s, 0, 1, 0), -1);
  CHECK_EQ(e->vq.num_free, num_free);
  CHECK_EQ(e->vq.inflight, inflight);
  CHECK(ids_ok_io(&e->vq));
  CHECK_EQ(vsim_vq_pdrv_audit(&e->vq, NULL, 0), 0);
  CHECK_EQ(e->r.nviol, nviol);
}

static void test_in_order_bad(void) {
  env e;
  uint64_t tok = 77;
  uint32_t len = 77;
  /* never issued */
  bad_setup_io(&e);
  dev_write(&e, 0, 7, 0, FA | FU);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(tok, 77);
  CHECK_EQ(e.r.nviol, 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_ID], 1);
  CHECK_EQ(e.r.ev[VSIM_EV_REAP], 0);
  check_broken_io(&e, 3, 3);
  env_fini(&e);
  /* out of range */
  bad_setup_io(&e);
  dev_write(&e, 0, 8, 0, FA | FU);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_ID], 1);
  check_broken_io(&e, 3, 3);
  env_fini(&e);
  /* backwards: the first list again after it was reaped */
  bad_setup_io(&e);
  uint16_t ids[3] = {0, 1, 2};
  dev_batch(&e, ids, 1, 64);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  dev_write(&e, 1, 0, 64, FA | FU);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.nviol, 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_ID], 1);
  check_broken_io(&e, 4, 2);
  env_fini(&e);
  /* backwards after a batch: its last id again; nothing freed twice */
  bad_setup_io(&e);
  dev_batch(&e, ids, 2, 200);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 100);
  CHECK_EQ(len, 64);
  CHECK(vsim_vq_pdrv_used_pending(&e.vq));
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 101);
  CHECK_EQ(len, 200);
  CHECK_EQ(e.vq.next_used, 4);
  CHECK_EQ(e.vq.num_free, 7);
  dev_write(&e, 4, 1, 0, FA | FU);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), -1);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_ID], 1);
  check_broken_io(&e, 7, 1);
  env_fini(&e);
  /* len above the last list's writable bytes: reported, clamped, the batch
   * still returned */
  bad_setup_io(&e);
  dev_batch(&e, ids, 2, 201);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(e.r.viol[VSIM_CHK_PACKED_USED_LEN], 1);
  CHECK_EQ(len, 64);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(len, 200);
  CHECK(!e.vq.broken);
  dev_batch(&e, ids + 2, 1, 0);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 102);
  CHECK_EQ(e.vq.num_free, 8);
  CHECK_EQ(e.r.nviol, 1);
  CHECK(ids_ok_io(&e.vq));
  env_fini(&e);
}

/* raw_publish with IN_ORDER: the raw list joins the order; the cursor steps
 * over its id; a batch over it is expanded by the recorded lengths. */
static void test_in_order_raw(void) {
  env e;
  uint64_t tok;
  uint32_t len;
  CHECK_EQ(env_init(&e, 8, F_IN_ORDER, 0, 0), 0);
  vsim_seg s[1] = {seg(BUF_GPA, 64, true)};
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 1), 0);
  CHECK_EQ(vsim_vq_pdrv_raw_desc(&e.vq, 0, BUF_GPA, 16, 1, VRING_DESC_F_NEXT, false), 0);
  CHECK_EQ(vsim_vq_pdrv_raw_desc(&e.vq, 1, BUF_GPA, 16, 1, VRING_DESC_F_WRITE, false), 0);
  vsim_vq_pdrv_raw_publish(&e.vq, 2, 1, 16); /* id 1, slots 1-2 */
  CHECK_EQ(e.vq.inflight, 2);
  CHECK_EQ(e.vq.nfree_ids, 6);
  CHECK(ids_ok_io(&e.vq));
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 3), 2); /* the cursor steps over id 1 */
  CHECK_EQ(e.vq.next_avail, 4);
  CHECK(vsim_vq_pdrv_kick_prepare(&e.vq));
  popped p;
  for (unsigned i = 0; i < 2; i++) CHECK_EQ(dev_pop(&e, &p), 1);
  uint16_t ids[2] = {0, 1};
  dev_batch(&e, ids, 2, 16);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, 1);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(tok, UINT64_MAX - 1);
  CHECK_EQ(len, 16);
  CHECK_EQ(e.vq.next_used, 3);
  CHECK(ids_ok_io(&e.vq));
  CHECK_EQ(e.r.nviol, 0);
  env_fini(&e);

  /* a raw id ahead of the cursor: the cursor steps over it */
  CHECK_EQ(env_init(&e, 4, F_IN_ORDER, 0, 0), 0);
  CHECK_EQ(vsim_vq_pdrv_raw_desc(&e.vq, 0, BUF_GPA, 16, 1, VRING_DESC_F_WRITE, false), 0);
  vsim_vq_pdrv_raw_publish(&e.vq, 1, 1, 16);
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 1), 0);
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 2), 2);
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 3), 3);
  CHECK_EQ(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 4), -2);
  CHECK(ids_ok_io(&e.vq));
  env_fini(&e);
}

/* ---- a stopped queue stays stopped; the audit ---------------------------- */

/* Each class of bad device output that stops the queue, then the device
 * behaving: a correct used descriptor for a list really in flight, at the
 * device's used position. The driver must not take it, must not report
 * again, must not write its event structure again, and its bookkeeping must
 * stay sound. */
enum breaker { BRK_ID_RANGE, BRK_NEVER_ISSUED, BRK_WRAP_BITS, BRK_USED_ONLY, BRK_DUPLICATE, BRK__N };

static void test_stopped_never_reaped(void) {
  for (int b = 0; b < BRK__N; b++) {
    env e;
    uint64_t tok;
    uint32_t len;
    bad_setup(&e);
    switch (b) {
      case BRK_ID_RANGE: dev_write(&e, 0, 8, 0, FA | FU); break;
      case BRK_NEVER_ISSUED: dev_write(&e, 0, 7, 0, FA | FU); break;
      case BRK_WRAP_BITS: dev_write(&e, 0, 0, 8, 0); break;
      case BRK_USED_ONLY: dev_write(&e, 0, 0, 8, FU); break;
      default:
        dev_push(&e, 1, 50);
        CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
        dev_write(&e, 3, 1, 50, FA | FU);
        break;
    }
    uint32_t inflight = e.vq.inflight;
    uint16_t num_free = e.vq.num_free;
    uint32_t evt = (uint32_t)rd16(&e, DRV_EVT_GPA) | ((uint32_t)rd16(&e, DRV_EVT_GPA + 2) << 16);
    CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), -1);
    CHECK_EQ(e.r.nviol, 1);
    CHECK(e.vq.broken);
    int reaps = e.r.ev[VSIM_EV_REAP];
    /* now a correct used descriptor for list 0, still in flight */
    dev_push(&e, 0, 64);
    CHECK(!vsim_vq_pdrv_used_pending(&e.vq));
    CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), -1);
    vsim_vq_pdrv_set_callbacks(&e.vq, false);
    vsim_vq_pdrv_set_callbacks(&e.vq, true);
    CHECK_EQ((uint32_t)rd16(&e, DRV_EVT_GPA) | ((uint32_t)rd16(&e, DRV_EVT_GPA + 2) << 16), evt);
    CHECK_EQ(e.r.ev[VSIM_EV_REAP], reaps);
    CHECK_EQ(e.r.nviol, 1);
    check_broken(&e, num_free, inflight);
    env_fini(&e);
  }
}

/* The audit passes whatever a well-behaved run does, and catches each kind
 * of broken bookkeeping in a corrupted copy (the driver itself is only read). */
/* Regression: raw_publish of size + 1 slots (0 after the modulo) used to
 * track an id that holds no descriptor; enough of them left descriptors free
 * but no id, and add asserted. Zero slots now publish nothing. */
static void test_raw_publish_zero_slots(void) {
  env e;
  CHECK_EQ(env_init(&e, 2, 0, 0, 0), 0);
  vsim_vq_pdrv_raw_publish(&e.vq, 3, 0, 16);
  vsim_vq_pdrv_raw_publish(&e.vq, 3, 1, 16);
  CHECK_EQ(e.vq.inflight, 0);
  CHECK_EQ(e.vq.nfree_ids, 2);
  CHECK_EQ(e.vq.next_avail, 0);
  CHECK_EQ(vsim_vq_pdrv_audit(&e.vq, NULL, 0), 0);
  vsim_seg s[1] = {seg(BUF_GPA, 8, true)};
  CHECK(vsim_vq_pdrv_add(&e.vq, s, 0, 1, 5) >= 0);
  CHECK_EQ(vsim_vq_pdrv_audit(&e.vq, NULL, 0), 0);
  env_fini(&e);
}

static void test_audit(void) {
  env e;
  char msg[256];
  bad_setup(&e);
  CHECK_EQ(vsim_vq_pdrv_audit(&e.vq, msg, sizeof msg), 0);
  uint64_t tok;
  uint32_t len;
  dev_push(&e, 1, 50);
  CHECK_EQ(vsim_vq_pdrv_get_used(&e.vq, &tok, &len), 1);
  CHECK_EQ(vsim_vq_pdrv_audit(&e.vq, msg, sizeof msg), 0);

  vsim_vq_pdrv c = e.vq;
  uint16_t ids[8];
  vsim_vqpd_slot sl[8];
  memcpy(ids, e.vq.free_ids, sizeof ids);
  memcpy(sl, e.vq.slot, sizeof sl);
  c.free_ids = ids;
  c.slot = sl;
  CHECK_EQ(vsim_vq_pdrv_audit(&c, msg, sizeof msg), 0);

  /* an id pushed twice onto the free stack (a double free), in place of another */
  CHECK(c.nfree_ids >= 2);
  ids[0] = ids[1];
  CHECK_EQ(vsim_vq_pdrv_audit(&c, msg, sizeof msg), -1);
  CHECK(strstr(msg, "twice") != NULL);
  memcpy(ids, e.vq.free_ids, sizeof ids);

  /* an id both free and in flight */
  ids[0] = 0; /* id 0 is in flight */
  CHECK(sl[0].in_flight);
  CHECK_EQ(vsim_vq_pdrv_audit(&c, msg, sizeof msg), -1);
  CHECK(strstr(msg, "both free and in flight") != NULL);
  memcpy(ids, e.vq.free_ids, sizeof ids);

  /* counters that disagree */
  c.inflight++;
  CHECK_EQ(vsim_vq_pdrv_audit(&c, msg, sizeof msg), -1);
  c.inflight--;
  c.num_free = 8; /* with 2 lists holding 2 descriptors */
  CHECK_EQ(vsim_vq_pdrv_audit(&c, msg, sizeof msg), -1);
  c.num_free = e.vq.num_free;
  CHECK_EQ(vsim_vq_pdrv_audit(&c, msg, sizeof msg), 0);
  env_fini(&e);

  /* IN_ORDER: the order list names every id in flight once */
  bad_setup_io(&e);
  CHECK_EQ(vsim_vq_pdrv_audit(&e.vq, msg, sizeof msg), 0);
  c = e.vq;
  uint16_t ord[8];
  memcpy(ord, e.vq.order, sizeof ord);
  c.order = ord;
  ord[(c.order_head + 1) % 8] = ord[c.order_head];
  CHECK_EQ(vsim_vq_pdrv_audit(&c, msg, sizeof msg), -1);
  CHECK(strstr(msg, "in-order list twice") != NULL);
  env_fini(&e);
}

int main(void) {
  RUN(test_init);
  RUN(test_round_trip_direct);
  RUN(test_head_flags_last);
  RUN(test_round_trip_indirect);
  RUN(test_list_across_wrap);
  RUN(test_odd_sizes);
  RUN(test_exhaustion);
  RUN(test_many_plain);
  RUN(test_many_event_idx_indirect);
  RUN(test_event_hit);
  RUN(test_kick_flags);
  RUN(test_kick_desc);
  RUN(test_callbacks_plain);
  RUN(test_callbacks_event_idx);
  RUN(test_bad_id);
  RUN(test_bad_len);
  RUN(test_bad_flags);
  RUN(test_idle_leftovers);
  RUN(test_mutants);
  RUN(test_arena_fault);
  RUN(test_in_order_ids);
  RUN(test_in_order_random);
  RUN(test_in_order_whole_ring);
  RUN(test_in_order_bad);
  RUN(test_in_order_raw);
  RUN(test_stopped_never_reaped);
  RUN(test_raw_publish_zero_slots);
  RUN(test_audit);
  TEST_MAIN_END();
}
