/* tests/c/test_vq_packed_dev.c — the device side of the packed virtqueue.
 *
 * Owns: unit tests for backend-model/vq_packed.c. The descriptor ring is
 * written by hand in an arena, from the driver side, as a driver would (ids
 * in the last descriptor, the first descriptor's flags written last, wrap
 * counters starting at 1), and used descriptors are reaped the way a driver
 * does (poll the flags at its next_used, then skip the list's length). A
 * small recording host keeps every violation, event and arena fault. Each
 * malformed input class must report exactly its check and break the queue; a
 * broken queue must not touch guest memory again.
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
#include "vq_packed.h"
#include "chain.h"

/* ---- fixture ---------------------------------------------------------------- */

#define ARENA (UINT64_C(4) << 20)
#define DESC UINT64_C(0x10000)   /* room for 32768 descriptors (512 KiB) */
#define DRV_EVT UINT64_C(0x90000) /* driver event suppression (the device reads it) */
#define DEV_EVT UINT64_C(0x90010) /* device event suppression (the device writes it) */
#define IND UINT64_C(0x100000)   /* indirect tables: up to 32768 entries */
#define DATA UINT64_C(0x200000)  /* buffers */

#define F_IND (UINT64_C(1) << VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVT (UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX)
#define NEXT VRING_DESC_F_NEXT
#define WR VRING_DESC_F_WRITE
#define INDIR VRING_DESC_F_INDIRECT
#define P_AVAIL ((uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL))
#define P_USED ((uint16_t)(1u << VRING_PACKED_DESC_F_USED))
#define WRAP15 ((uint16_t)(1u << VRING_PACKED_EVENT_F_WRAP_CTR))
#define EV_ENABLE VRING_PACKED_EVENT_FLAG_ENABLE
#define EV_DISABLE VRING_PACKED_EVENT_FLAG_DISABLE
#define EV_DESC VRING_PACKED_EVENT_FLAG_DESC

#define MAX_EV 64 /* a ring of the most recent events */
#define MAX_VIOL 16

typedef struct rec_ev {
  int kind, q;
  uint64_t a, b, c, d;
} rec_ev;

typedef struct rec {
  int nviol;
  int viol[MAX_VIOL];
  char detail[VSIM_VIOLATION_DETAIL_MAX];
  int nev; /* all events seen; the last MAX_EV are kept */
  rec_ev ev[MAX_EV];
  int nfault;
} rec;

/* A buffer element as the test driver describes it. */
typedef struct tseg {
  uint64_t addr;
  uint32_t len;
  bool write;
} tseg;

typedef struct fx {
  vsim_arena *a;
  rec r;
  vsim_host host;
  vsim_queue_cfg cfg;
  vsim_vqp_dev vq;
  uint64_t feat, mutants;
  /* the test driver's own state (never read back from shared memory) */
  uint16_t dnext;   /* where its next list goes */
  bool dwrap;       /* its Driver Ring Wrap Counter */
  uint16_t dused;   /* where it expects the next used descriptor */
  bool duwrap;      /* the wrap counter used descriptors must carry */
  uint16_t *ndescs; /* [size] ring descriptors of the list with that id */
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
  r->ev[r->nev % MAX_EV] = (rec_ev){kind, q, a, b, c, d};
  r->nev++;
}

static void on_fault(void *ctx, const vsim_arena_fault *fl) { ((rec *)ctx)->nfault++; }

static void fx_open_at(fx *f, uint16_t size, uint64_t feat, uint64_t mutants, uint64_t desc,
                       uint64_t drv_evt, uint64_t dev_evt) {
  memset(f, 0, sizeof *f);
  f->a = vsim_arena_new(ARENA);
  vsim_arena_set_fault_sink(f->a, on_fault, &f->r);
  f->host = (vsim_host){.ctx = &f->r, .arena = f->a, .violation = on_violation, .event = on_event};
  f->cfg = (vsim_queue_cfg){.size = size, .desc = desc, .driver = drv_evt, .device = dev_evt};
  f->feat = feat;
  f->mutants = mutants;
  f->dwrap = f->duwrap = true;
  f->ndescs = calloc(size ? size : 1, sizeof *f->ndescs);
  CHECK_EQ(vsim_vqp_dev_init(&f->vq, &f->host, 0, &f->cfg, feat, test_mutset(mutants)), 0);
}

static void fx_open(fx *f, uint16_t size, uint64_t feat, uint64_t mutants) {
  fx_open_at(f, size, feat, mutants, DESC, DRV_EVT, DEV_EVT);
}

static void fx_close(fx *f) {
  vsim_vqp_dev_fini(&f->vq);
  vsim_arena_free(f->a);
  free(f->ndescs);
}

/* ---- the test driver ---------------------------------------------------------- */

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

/* The AVAIL/USED bits that make a descriptor available for driver wrap w. */
static uint16_t avail_bits(bool w) { return w ? P_AVAIL : P_USED; }

/* One descriptor in a table (ring or indirect), flags written last. */
static void put_pdesc(fx *f, uint64_t table, uint32_t i, uint64_t addr, uint32_t len,
                      uint16_t id, uint16_t flags) {
  uint64_t g = table + 16u * i;
  vsim_arena_write64(f->a, VSIM_SIDE_DRIVER, g + offsetof(struct vring_packed_desc, addr), addr);
  vsim_arena_write32(f->a, VSIM_SIDE_DRIVER, g + offsetof(struct vring_packed_desc, len), len);
  vsim_arena_write16(f->a, VSIM_SIDE_DRIVER, g + offsetof(struct vring_packed_desc, id), id);
  vsim_arena_write16(f->a, VSIM_SIDE_DRIVER, g + offsetof(struct vring_packed_desc, flags), flags);
}
static void ring_desc(fx *f, uint32_t off, uint64_t addr, uint32_t len, uint16_t id,
                      uint16_t flags) {
  put_pdesc(f, f->cfg.desc, off, addr, len, id, flags);
}
static uint64_t desc_gpa(fx *f, uint32_t off, size_t field) { return f->cfg.desc + 16u * off + field; }
static uint16_t ring_flags(fx *f, uint32_t off) {
  return rd16(f, desc_gpa(f, off, offsetof(struct vring_packed_desc, flags)));
}
static uint16_t ring_id(fx *f, uint32_t off) {
  return rd16(f, desc_gpa(f, off, offsetof(struct vring_packed_desc, id)));
}
static uint32_t ring_len(fx *f, uint32_t off) {
  return rd32(f, desc_gpa(f, off, offsetof(struct vring_packed_desc, len)));
}

static void drv_advance(fx *f, uint16_t *off, bool *wrap, uint32_t n) {
  uint32_t o = *off + n;
  while (o >= f->cfg.size) {
    o -= f->cfg.size;
    *wrap = !*wrap;
  }
  *off = (uint16_t)o;
}

/* Make a direct list available, as a driver does: every descriptor but the
 * first is written complete, the id goes into the last one (the others get
 * 0xffff, which the device must not look at), and the first descriptor's
 * flags are written last. `extra` is or-ed into every descriptor's flags.
 * Returns the ring offset of the first descriptor. */
static uint16_t add_list_x(fx *f, const tseg *s, unsigned n, uint16_t id, uint16_t extra) {
  const uint16_t first = f->dnext;
  const bool first_wrap = f->dwrap;
  uint16_t first_flags = 0;
  for (unsigned i = 0; i < n; i++) {
    uint16_t fl = (uint16_t)(avail_bits(f->dwrap) | (s[i].write ? WR : 0) |
                             (i + 1 < n ? NEXT : 0) | extra);
    uint16_t did = i + 1 == n ? id : 0xffff;
    if (i == 0) {
      first_flags = fl;
      ring_desc(f, f->dnext, s[i].addr, s[i].len, did, 0); /* not yet available */
      wr16(f, desc_gpa(f, f->dnext, offsetof(struct vring_packed_desc, flags)),
           avail_bits(!first_wrap)); /* stale: looks like the previous lap */
    } else {
      ring_desc(f, f->dnext, s[i].addr, s[i].len, did, fl);
    }
    drv_advance(f, &f->dnext, &f->dwrap, 1);
  }
  wr16(f, desc_gpa(f, first, offsetof(struct vring_packed_desc, flags)), first_flags);
  f->ndescs[id] = (uint16_t)n;
  return first;
}
static uint16_t add_list(fx *f, const tseg *s, unsigned n, uint16_t id) {
  return add_list_x(f, s, n, id, 0);
}

/* An indirect list: the table at `table` (entries' ids are garbage: reserved),
 * one ring descriptor pointing at it. */
static uint16_t add_indirect(fx *f, uint64_t table, const tseg *s, unsigned n, uint16_t id,
                             uint16_t ring_extra) {
  for (unsigned i = 0; i < n; i++)
    put_pdesc(f, table, i, s[i].addr, s[i].len, 0xabcd, s[i].write ? WR : 0);
  const uint16_t first = f->dnext;
  ring_desc(f, first, table, 16u * n, id, (uint16_t)(avail_bits(f->dwrap) | INDIR | ring_extra));
  drv_advance(f, &f->dnext, &f->dwrap, 1);
  f->ndescs[id] = 1;
  return first;
}

/* One-element list of `len` bytes at DATA + 0x100 * id. */
static uint16_t add_one(fx *f, uint16_t id, bool write) {
  tseg s = {DATA + 0x100u * id, 16, write};
  return add_list(f, &s, 1, id);
}

/* Reap the used descriptor at the driver's next_used, as a driver does:
 * flags first (AVAIL == USED == its used wrap counter), then id and len, then
 * skip the list's length. Returns 1 and fills id/len, or 0 when none. */
static int reap(fx *f, uint16_t *id, uint32_t *len) {
  uint16_t fl = ring_flags(f, f->dused);
  bool av = (fl & P_AVAIL) != 0, us = (fl & P_USED) != 0;
  if (av != f->duwrap || us != f->duwrap) return 0;
  uint16_t i = ring_id(f, f->dused);
  uint32_t l = ring_len(f, f->dused);
  CHECK(i < f->cfg.size);
  if (i >= f->cfg.size) return 0;
  CHECK(f->ndescs[i] != 0);
  /* WRITE in a used descriptor: the device wrote data (len is meaningful) */
  CHECK_EQ((fl & WR) != 0, l != 0);
  CHECK_EQ(fl & (uint16_t)~(P_AVAIL | P_USED | WR), 0);
  drv_advance(f, &f->dused, &f->duwrap, f->ndescs[i]);
  f->ndescs[i] = 0;
  *id = i;
  *len = l;
  return 1;
}

static void set_drv_event(fx *f, uint16_t off_wrap, uint16_t flags) {
  wr16(f, f->cfg.driver + offsetof(struct vring_packed_desc_event, off_wrap), off_wrap);
  wr16(f, f->cfg.driver + offsetof(struct vring_packed_desc_event, flags), flags);
}
static uint16_t dev_evt_flags(fx *f) {
  return rd16(f, f->cfg.device + offsetof(struct vring_packed_desc_event, flags));
}
static uint16_t dev_evt_off(fx *f) {
  return rd16(f, f->cfg.device + offsetof(struct vring_packed_desc_event, off_wrap));
}

static const rec_ev *last_ev(fx *f) {
  return f->r.nev > 0 ? &f->r.ev[(f->r.nev - 1) % MAX_EV] : NULL;
}

/* Add, pop, push (len 0 or `len`) and reap one list of n descriptors with id
 * `id`; the ring must have room. */
static void cycle(fx *f, uint16_t id, unsigned n, uint32_t len) {
  tseg s[8];
  for (unsigned i = 0; i < n; i++) s[i] = (tseg){DATA + 0x40u * i, 32, i + 1 == n};
  add_list(f, s, n, id);
  vsim_chain c;
  CHECK_EQ(vsim_vqp_dev_pop(&f->vq, &c), 1);
  CHECK_EQ(c.head, id);
  CHECK_EQ(c.nseg, n);
  CHECK_EQ(vsim_vqp_dev_push(&f->vq, id, len), 0);
  uint16_t rid = 0;
  uint32_t rlen = 0;
  CHECK_EQ(reap(f, &rid, &rlen), 1);
  CHECK_EQ(rid, id);
  CHECK_EQ(rlen, len);
}

/* The queue is broken: every entry point refuses without any guest access
 * (the whole arena is made inaccessible to the device: any access would
 * fault or report). */
static void check_dead(fx *f) {
  CHECK(f->vq.broken);
  int nv = f->r.nviol, nf = f->r.nfault, ne = f->r.nev;
  vsim_arena_set_region(f->a, 0, ARENA, VSIM_REGION_PERM(VSIM_ACC_RW, 0));
  vsim_chain c;
  CHECK_EQ(vsim_vqp_dev_pop(&f->vq, &c), -1);
  CHECK_EQ(vsim_vqp_dev_has_avail(&f->vq), -1);
  for (uint16_t id = 0; id < f->cfg.size && id < 4; id++)
    CHECK_EQ(vsim_vqp_dev_push(&f->vq, id, 0), -1);
  vsim_vqp_dev_set_notify(&f->vq, false);
  vsim_vqp_dev_set_notify(&f->vq, true);
  if (f->vq.unsignalled == 0) CHECK(!vsim_vqp_dev_publish(&f->vq));
  CHECK_EQ(f->r.nviol, nv);
  CHECK_EQ(f->r.nfault, nf);
  CHECK_EQ(f->r.nev, ne);
}

/* Pop once: it must fail with exactly `check`, leave the device state alone,
 * and the queue must be dead afterwards. */
static void expect_pop_violation_at(fx *f, int check, int line) {
  uint16_t next_avail = f->vq.next_avail;
  bool wrap = f->vq.avail_wrap;
  uint32_t inflight = f->vq.inflight;
  int nv = f->r.nviol, ne = f->r.nev;
  vsim_chain c;
  CHECK_EQ(vsim_vqp_dev_pop(&f->vq, &c), -1);
  CHECK_EQ(f->r.nviol, nv + 1);
  CHECK_EQ(f->r.viol[nv], check);
  CHECK_EQ(f->vq.next_avail, next_avail);
  CHECK_EQ(f->vq.avail_wrap, wrap);
  CHECK_EQ(f->vq.inflight, inflight);
  CHECK_EQ(f->r.nev, ne); /* no POP event */
  CHECK_EQ(f->r.nfault, 0); /* the driver's error, never a device out-of-bounds access */
  if (f->r.nviol != nv + 1 || f->r.viol[nv] != check)
    fprintf(stderr, "  (line %d: got %d violations, last %d, detail \"%s\")\n", line,
            f->r.nviol - nv, f->r.nviol ? f->r.viol[f->r.nviol - 1] : -1, f->r.detail);
  check_dead(f);
}
#define expect_pop_violation(f, check) expect_pop_violation_at(f, check, __LINE__)

/* ---- well-formed input -------------------------------------------------------- */

static void test_single_and_chain(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  vsim_chain c;
  CHECK_EQ(vsim_vqp_dev_has_avail(&f.vq), 0); /* zeroed ring: nothing */
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &c), 0);

  /* one readable element */
  vsim_arena_write(f.a, VSIM_SIDE_DRIVER, DATA, "0123456789abcdef", 16);
  tseg one = {DATA, 16, false};
  CHECK_EQ(add_list(&f, &one, 1, 5), 0);
  CHECK_EQ(vsim_vqp_dev_has_avail(&f.vq), 1);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &c), 1);
  CHECK_EQ(c.head, 5);
  CHECK_EQ(c.nseg, 1);
  CHECK_EQ(c.nread, 1);
  CHECK_EQ(c.rd_bytes, 16);
  CHECK_EQ(c.wr_bytes, 0);
  char buf[8];
  CHECK_EQ(vsim_chain_read(&c, f.a, 4, buf, 8), 0);
  CHECK(memcmp(buf, "456789ab", 8) == 0);
  CHECK_EQ(f.vq.next_avail, 1);
  CHECK_EQ(f.vq.id_ndescs[5], 1);
  CHECK_EQ(f.vq.inflight, 1);
  const rec_ev *e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_POP && e->q == 0 && e->a == 5 && (e->b & 0xffffffffu) == 1 && (e->b >> 32) == 0x8000 && e->c == 16 &&
        e->d == 0);

  /* four elements, readable then writable (a zero-length one kept) */
  tseg four[] = {{DATA + 0x100, 10, false},
                 {DATA + 0x200, 100, true},
                 {DATA + 0x300, 0, true},
                 {DATA + 0x400, 28, true}};
  CHECK_EQ(add_list(&f, four, 4, 2), 1);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &c), 1);
  CHECK_EQ(c.head, 2); /* from the last descriptor; the others carry 0xffff */
  CHECK_EQ(c.nseg, 4);
  CHECK_EQ(c.nread, 1);
  CHECK_EQ(c.rd_bytes, 10);
  CHECK_EQ(c.wr_bytes, 128);
  for (int i = 0; i < 4; i++)
    CHECK(c.seg[i].gpa == four[i].addr && c.seg[i].len == four[i].len &&
          c.seg[i].write == four[i].write);
  CHECK_EQ(f.vq.next_avail, 5);
  CHECK_EQ(f.vq.id_ndescs[2], 4);
  CHECK_EQ(f.vq.inflight, 2);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &c), 0);
  CHECK_EQ(vsim_vqp_dev_has_avail(&f.vq), 0);

  /* complete in order: used descriptors overwrite each list's first one */
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 5, 0), 0);
  CHECK_EQ(ring_id(&f, 0), 5);
  CHECK_EQ(ring_len(&f, 0), 0);
  CHECK_EQ(ring_flags(&f, 0), P_AVAIL | P_USED); /* wrap 1, no data written */
  CHECK_EQ(f.vq.next_used, 1);
  e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_USED && e->a == 5 && e->b == 0);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 2, 77), 0);
  CHECK_EQ(ring_id(&f, 1), 2);
  CHECK_EQ(ring_len(&f, 1), 77);
  CHECK_EQ(ring_flags(&f, 1), P_AVAIL | P_USED | WR);
  CHECK_EQ(f.vq.next_used, 5); /* skipped the list's four slots */
  CHECK(f.vq.used_wrap);
  CHECK_EQ(f.vq.inflight, 0);
  CHECK_EQ(f.vq.id_ndescs[2], 0);
  /* the driver's view agrees */
  uint16_t id;
  uint32_t len;
  CHECK_EQ(reap(&f, &id, &len), 1);
  CHECK_EQ(id, 5);
  CHECK_EQ(reap(&f, &id, &len), 1);
  CHECK_EQ(id, 2);
  CHECK_EQ(len, 77);
  CHECK_EQ(reap(&f, &id, &len), 0);

  /* publish: ENABLE (zeroed structure) interrupts, once */
  CHECK(vsim_vqp_dev_publish(&f.vq));
  e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_USED_PUBLISH && e->a == WRAP15 && e->b == (WRAP15 | 5));
  int ne = f.r.nev;
  CHECK(!vsim_vqp_dev_publish(&f.vq)); /* nothing new */
  CHECK_EQ(f.r.nev, ne);
  CHECK_EQ(f.r.nviol, 0);
  CHECK_EQ(f.r.nfault, 0);
  fx_close(&f);
}

/* A not-available first descriptor is not looked at, whatever it holds. */
static void test_not_available(void) {
  fx f;
  fx_open(&f, 4, F_IND, 0);
  const uint16_t bad[] = {0, P_AVAIL | P_USED, P_USED, P_USED | NEXT | INDIR,
                          (uint16_t)(P_AVAIL | P_USED | INDIR)};
  for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ring_desc(&f, 0, UINT64_MAX, 0xffffffffu, 0xffff, bad[i]); /* garbage body */
    CHECK_EQ(vsim_vqp_dev_has_avail(&f.vq), 0);
    CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 0);
  }
  CHECK_EQ(f.r.nviol, 0);
  CHECK_EQ(f.r.nev, 0);
  /* once the counter toggled, last lap's "available" bits are stale */
  for (uint16_t k = 0; k < 4; k++) cycle(&f, k, 1, 0);
  CHECK(!f.vq.avail_wrap);
  ring_desc(&f, 0, DATA, 4, 0, P_AVAIL); /* wrap-1 available: stale now */
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 0);
  ring_desc(&f, 0, DATA, 4, 0, P_USED); /* wrap-0 available */
  CHECK_EQ(vsim_vqp_dev_has_avail(&f.vq), 1);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

static void test_indirect(void) {
  fx f;
  fx_open(&f, 4, F_IND, 0);
  tseg t[] = {{DATA, 10, false}, {DATA + 0x100, 20, true}, {DATA + 0x200, 30, true}};
  /* WRITE on the ring descriptor that points at the table: reserved, ignored */
  CHECK_EQ(add_indirect(&f, IND, t, 3, 3, WR), 0);
  vsim_chain c;
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &c), 1);
  CHECK_EQ(c.head, 3);
  CHECK_EQ(c.nseg, 3);
  CHECK_EQ(c.nread, 1);
  CHECK_EQ(c.rd_bytes, 10);
  CHECK_EQ(c.wr_bytes, 50);
  for (int i = 0; i < 3; i++) CHECK(c.seg[i].gpa == t[i].addr && c.seg[i].write == t[i].write);
  CHECK_EQ(f.vq.next_avail, 1); /* one ring slot */
  CHECK_EQ(f.vq.id_ndescs[3], 1);

  /* an indirect table of exactly queue-size entries, then a direct list, in
   * one ring: mixing is valid as long as each list is of one kind */
  tseg t4[4];
  for (int i = 0; i < 4; i++) t4[i] = (tseg){DATA + 0x10u * i, 1, i >= 2};
  CHECK_EQ(add_indirect(&f, IND + 0x1000, t4, 4, 0, 0), 1);
  tseg d2[] = {{DATA, 4, false}, {DATA + 8, 4, true}};
  CHECK_EQ(add_list(&f, d2, 2, 1), 2);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &c), 1);
  CHECK_EQ(c.head, 0);
  CHECK_EQ(c.nseg, 4);
  CHECK_EQ(c.nread, 2);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &c), 1);
  CHECK_EQ(c.head, 1);
  CHECK_EQ(c.nseg, 2);
  CHECK_EQ(f.vq.next_avail, 0);
  CHECK(!f.vq.avail_wrap); /* 1 + 1 + 2 slots: a full lap */
  /* out of order: the direct list first (written at 0, skips 2), then the
   * two indirect ones (one slot each) */
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 1, 4), 0);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 3, 0), 0);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 0, 2), 0);
  CHECK_EQ(f.vq.next_used, 0);
  CHECK(!f.vq.used_wrap);
  uint16_t id;
  uint32_t len;
  const uint16_t want[] = {1, 3, 0};
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(reap(&f, &id, &len), 1);
    CHECK_EQ(id, want[i]);
  }
  CHECK_EQ(f.dused, 0);
  CHECK(!f.duwrap);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

/* A list that runs over the end of the ring: the descriptors after the
 * wrap carry the toggled counter's bits. */
static void test_chain_across_wrap(void) {
  fx f;
  fx_open(&f, 5, 0, 0);
  for (uint16_t k = 0; k < 3; k++) cycle(&f, k, 1, 0);
  tseg s[4];
  for (int i = 0; i < 4; i++) s[i] = (tseg){DATA + 0x10u * i, 8, i == 3};
  CHECK_EQ(add_list(&f, s, 4, 4), 3); /* slots 3, 4, 0, 1 */
  CHECK_EQ(ring_flags(&f, 0) & (P_AVAIL | P_USED), P_USED); /* driver wrap 0 there */
  vsim_chain c;
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &c), 1);
  CHECK_EQ(c.head, 4);
  CHECK_EQ(c.nseg, 4);
  CHECK_EQ(f.vq.next_avail, 2);
  CHECK(!f.vq.avail_wrap);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 4, 8), 0);
  CHECK_EQ(f.vq.next_used, 2);
  CHECK(!f.vq.used_wrap);
  CHECK_EQ(ring_flags(&f, 3), P_AVAIL | P_USED | WR); /* written with wrap 1 */
  uint16_t id;
  uint32_t len;
  CHECK_EQ(reap(&f, &id, &len), 1);
  CHECK_EQ(id, 4);
  cycle(&f, 0, 1, 0); /* at slot 2 with wrap 0: used flags 0 */
  CHECK_EQ(ring_flags(&f, 2), 0);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

/* A deterministic PRNG for the long runs (the tests own their seed). */
static uint32_t xs(uint32_t *s) {
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}

/* Many lists through small rings of sizes that are not powers of two:
 * random list lengths (direct and indirect), several in flight, completed in
 * random order, published now and then. The device's view (pop contents)
 * and the driver's view (used descriptors, reaped by flags and skipping each
 * list's length) must agree all the way; both wrap counters toggle many
 * times. */
static void run_many(uint16_t size, uint32_t seed, int iters, uint64_t feat) {
  fx f;
  fx_open(&f, size, feat, 0);
  uint32_t rs = seed;
  uint16_t *free_ids = calloc(size, sizeof *free_ids);
  uint16_t *inflight = calloc(size, sizeof *inflight);
  uint16_t *fifo = calloc(size, sizeof *fifo); /* pushed, not yet reaped, in order */
  uint32_t *exp_nseg = calloc(size, sizeof *exp_nseg);
  uint64_t *exp_rd = calloc(size, sizeof *exp_rd);
  uint64_t *exp_wr = calloc(size, sizeof *exp_wr);
  uint32_t *exp_len = calloc(size, sizeof *exp_len);
  unsigned nfree_ids = size, ninfl = 0, nfifo = 0, nfree_slots = size;
  for (uint16_t i = 0; i < size; i++) free_ids[i] = (uint16_t)(size - 1 - i);
  unsigned toggles_avail = 0, toggles_used = 0, lists = 0;
  for (int it = 0; it < iters; it++) {
    /* the driver adds a few lists while it has room */
    while (nfree_slots > 0 && nfree_ids > 0 && xs(&rs) % 4 != 0) {
      uint16_t id = free_ids[--nfree_ids];
      bool indirect = (feat & F_IND) && xs(&rs) % 3 == 0;
      unsigned maxn = indirect ? size : (nfree_slots < 4 ? nfree_slots : 4);
      if (maxn > 4) maxn = 4;
      unsigned n = 1 + xs(&rs) % maxn;
      unsigned nrd = xs(&rs) % (n + 1);
      tseg s[4];
      exp_rd[id] = exp_wr[id] = 0;
      for (unsigned i = 0; i < n; i++) {
        s[i] = (tseg){DATA + 0x1000u * id + 0x100u * i, 1 + xs(&rs) % 200, i >= nrd};
        if (s[i].write)
          exp_wr[id] += s[i].len;
        else
          exp_rd[id] += s[i].len;
      }
      exp_nseg[id] = n;
      if (indirect)
        add_indirect(&f, IND + 0x100u * id, s, n, id, 0);
      else
        add_list(&f, s, n, id);
      nfree_slots -= f.ndescs[id];
      lists++;
    }
    /* the device pops everything available */
    for (;;) {
      bool w0 = f.vq.avail_wrap;
      vsim_chain c;
      int r = vsim_vqp_dev_pop(&f.vq, &c);
      CHECK(r >= 0);
      if (r <= 0) break;
      toggles_avail += f.vq.avail_wrap != w0;
      CHECK(c.head < size);
      CHECK_EQ(c.nseg, exp_nseg[c.head]);
      CHECK_EQ(c.rd_bytes, exp_rd[c.head]);
      CHECK_EQ(c.wr_bytes, exp_wr[c.head]);
      CHECK_EQ(f.vq.id_ndescs[c.head], f.ndescs[c.head]);
      inflight[ninfl++] = c.head;
    }
    /* and completes a random subset in random order */
    unsigned k = ninfl ? xs(&rs) % (ninfl + 1) : 0;
    for (unsigned j = 0; j < k; j++) {
      unsigned pick = xs(&rs) % ninfl;
      uint16_t id = inflight[pick];
      inflight[pick] = inflight[--ninfl];
      uint32_t len = exp_wr[id] ? xs(&rs) % ((uint32_t)exp_wr[id] + 1) : 0;
      bool w0 = f.vq.used_wrap;
      CHECK_EQ(vsim_vqp_dev_push(&f.vq, id, len), 0);
      toggles_used += f.vq.used_wrap != w0;
      exp_len[id] = len;
      fifo[nfifo++] = id;
    }
    if (xs(&rs) % 3 == 0) vsim_vqp_dev_publish(&f.vq);
    /* the driver reaps, in completion order */
    unsigned got = 0;
    uint16_t id;
    uint32_t len;
    while (reap(&f, &id, &len) == 1) {
      CHECK(got < nfifo);
      if (got >= nfifo) break;
      CHECK_EQ(id, fifo[got]);
      CHECK_EQ(len, exp_len[id]);
      got++;
      free_ids[nfree_ids++] = id;
    }
    CHECK_EQ(got, nfifo);
    nfifo = 0;
    /* free ring slots: everything the driver has reaped */
    unsigned outstanding = 0;
    for (uint16_t i = 0; i < size; i++) outstanding += f.ndescs[i];
    nfree_slots = size - outstanding;
    CHECK_EQ(f.vq.next_used, f.dused);
    CHECK_EQ(f.vq.used_wrap, f.duwrap);
    CHECK_EQ(f.vq.inflight, ninfl);
  }
  CHECK_EQ(f.vq.next_avail, f.dnext);
  CHECK_EQ(f.vq.avail_wrap, f.dwrap);
  CHECK(toggles_avail > 100);
  CHECK(toggles_used > 100);
  CHECK(lists > 1000);
  CHECK_EQ(f.r.nviol, 0);
  CHECK_EQ(f.r.nfault, 0);
  free(free_ids);
  free(inflight);
  free(fifo);
  free(exp_nseg);
  free(exp_rd);
  free(exp_wr);
  free(exp_len);
  fx_close(&f);
}

static void test_many_wraps(void) {
  run_many(5, 1u, 3000, 0);
  run_many(5, 7u, 3000, F_IND);
  run_many(7, 2u, 3000, F_IND);
  run_many(100, 3u, 3000, F_IND);
  run_many(3, 4u, 3000, 0);
}

/* Size 1 and 2: the smallest rings wrap on every list. */
static void test_tiny_rings(void) {
  fx f;
  fx_open(&f, 1, F_IND, 0);
  for (int i = 0; i < 10; i++) {
    cycle(&f, 0, 1, (uint32_t)i);
    CHECK_EQ(f.vq.avail_wrap, i % 2 == 1);
    CHECK_EQ(f.vq.used_wrap, i % 2 == 1);
  }
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
  fx_open(&f, 2, 0, 0);
  for (int i = 0; i < 10; i++) cycle(&f, (uint16_t)(i % 2), 2, 5);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

/* Out-of-order completion: used descriptors are written in completion order
 * from next_used, each advancing by its own list's length. */
static void test_out_of_order(void) {
  fx f;
  fx_open(&f, 7, 0, 0);
  tseg s[3] = {{DATA, 4, false}, {DATA + 0x10, 4, true}, {DATA + 0x20, 4, true}};
  CHECK_EQ(add_list(&f, s, 3, 6), 0); /* A: slots 0-2 */
  CHECK_EQ(add_list(&f, s + 2, 1, 0), 3); /* B: slot 3 */
  CHECK_EQ(add_list(&f, s + 1, 2, 3), 4); /* C: slots 4-5 */
  for (int i = 0; i < 3; i++) CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(f.vq.next_avail, 6);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 0, 1), 0); /* B first: at slot 0 */
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 3, 2), 0); /* C: at slot 1 */
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 6, 3), 0); /* A: at slot 3 */
  CHECK_EQ(ring_id(&f, 0), 0);
  CHECK_EQ(ring_id(&f, 1), 3);
  CHECK_EQ(ring_id(&f, 3), 6);
  CHECK_EQ(ring_len(&f, 3), 3);
  CHECK_EQ(f.vq.next_used, 6);
  /* slot 2 still holds A's last descriptor: skipped, never rewritten */
  CHECK_EQ(ring_flags(&f, 2), P_AVAIL | WR);
  CHECK_EQ(ring_id(&f, 2), 6);
  uint16_t id;
  uint32_t len;
  const uint16_t want[] = {0, 3, 6};
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(reap(&f, &id, &len), 1);
    CHECK_EQ(id, want[i]);
    CHECK_EQ(len, i + 1);
  }
  /* and across the wrap: two lists of 2 from slot 6 (slots 6,0 and 1,2),
   * completed in reverse: the second's used descriptor goes to slot 6 (wrap
   * 1), the first's to slot 1 (wrap 0) */
  CHECK_EQ(add_list(&f, s, 2, 1), 6);
  CHECK_EQ(add_list(&f, s, 2, 2), 1);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 2, 0), 0);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 1, 0), 0);
  CHECK_EQ(ring_id(&f, 6), 2);
  CHECK_EQ(ring_flags(&f, 6), P_AVAIL | P_USED);
  CHECK_EQ(ring_id(&f, 1), 1);
  CHECK_EQ(ring_flags(&f, 1), 0); /* wrap 0: AVAIL = USED = 0 */
  CHECK_EQ(f.vq.next_used, 3);
  CHECK(!f.vq.used_wrap);
  CHECK_EQ(reap(&f, &id, &len), 1);
  CHECK_EQ(id, 2);
  CHECK_EQ(reap(&f, &id, &len), 1);
  CHECK_EQ(id, 1);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

/* Boundaries that are still legal: a list of exactly queue-size descriptors,
 * a zero-length element at the very end of guest memory. */
static void test_limits_ok(void) {
  fx f;
  fx_open(&f, 6, 0, 0);
  tseg s[6];
  for (int i = 0; i < 6; i++) s[i] = (tseg){DATA + (uint64_t)i, 1, false};
  s[5] = (tseg){ARENA, 0, true};
  cycle(&f, 2, 1, 0); /* start mid-ring so the full list wraps */
  CHECK_EQ(add_list(&f, s, 6, 4), 1);
  vsim_chain c;
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &c), 1);
  CHECK_EQ(c.nseg, 6);
  CHECK_EQ(f.vq.next_avail, 1);
  CHECK(!f.vq.avail_wrap);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

/* The largest ring: a list of 32768 descriptors is legal, the walk is
 * bounded, and 2^32 bytes exactly is legal (all elements point at one
 * buffer: overlap is not forbidden). One more byte is LIST_LONG, and so is a
 * NEXT on the 32768th descriptor. The same through a 32768-entry table. */
static void test_size_32768(void) {
  for (int variant = 0; variant < 3; variant++) {
    fx f;
    fx_open(&f, 32768, 0, 0);
    for (uint32_t i = 0; i < 32768; i++) {
      uint32_t len = (variant == 1 && i == 32767) ? 131073 : 131072;
      uint16_t fl = (uint16_t)(P_AVAIL | (i < 32767 || variant == 2 ? NEXT : 0));
      if (i > 0) ring_desc(&f, i, DATA, len, 32767, fl);
    }
    ring_desc(&f, 0, DATA, 131072, 0xffff, P_AVAIL | NEXT);
    if (variant == 0) {
      vsim_chain c;
      CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &c), 1);
      CHECK_EQ(c.head, 32767);
      CHECK_EQ(c.nseg, 32768);
      CHECK(c.rd_bytes == (UINT64_C(1) << 32));
      CHECK_EQ(f.vq.next_avail, 0);
      CHECK(!f.vq.avail_wrap);
      CHECK_EQ(f.vq.id_ndescs[32767], 32768);
      CHECK_EQ(vsim_vqp_dev_push(&f.vq, 32767, 0), 0);
      CHECK_EQ(f.vq.next_used, 0);
      CHECK(!f.vq.used_wrap);
      CHECK_EQ(ring_flags(&f, 0), P_AVAIL | P_USED);
      CHECK_EQ(ring_id(&f, 0), 32767);
      CHECK_EQ(f.r.nviol, 0);
    } else {
      expect_pop_violation(&f, VSIM_CHK_PACKED_LIST_LONG);
    }
    fx_close(&f);
  }
  for (int over = 0; over < 2; over++) {
    fx f;
    fx_open(&f, 32768, F_IND, 0);
    for (uint32_t i = 0; i < 32768; i++)
      put_pdesc(&f, IND, i, DATA, (over && i == 0) ? 131073 : 131072, 0, 0);
    ring_desc(&f, 0, IND, 16u * 32768, 9, P_AVAIL | INDIR);
    if (!over) {
      vsim_chain c;
      CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &c), 1);
      CHECK_EQ(c.nseg, 32768);
      CHECK_EQ(f.vq.next_avail, 1);
      CHECK_EQ(f.r.nviol, 0);
    } else {
      expect_pop_violation(&f, VSIM_CHK_PACKED_LIST_LONG);
    }
    fx_close(&f);
  }
}

/* ---- interrupt decision ------------------------------------------------------- */

static void test_publish_flags(void) {
  for (int evt = 0; evt < 2; evt++) {
    fx f;
    fx_open(&f, 5, evt ? F_EVT : 0, 0);
    struct {
      uint16_t off_wrap, flags;
      bool irq;
    } steps[] = {
        {0, EV_ENABLE, true},
        {0, EV_DISABLE, false},
        {0, 0x3, true},                   /* reserved value: never suppress for ever */
        {0, 0xfff0 | EV_DISABLE, false},  /* reserved bits ignored */
        {0, 0xfff0 | EV_ENABLE, true},
        {0x1234, EV_ENABLE, true},        /* offset ignored unless DESC */
        {(uint16_t)(4 | WRAP15), EV_DISABLE, false},
    };
    for (unsigned i = 0; i < sizeof steps / sizeof steps[0]; i++) {
      set_drv_event(&f, steps[i].off_wrap, steps[i].flags);
      cycle(&f, (uint16_t)(i % 5), 1 + i % 2, 0);
      bool irq = vsim_vqp_dev_publish(&f.vq);
      if (irq != steps[i].irq) fprintf(stderr, "  flags step %u (event_idx %d)\n", i, evt);
      CHECK_EQ(irq, steps[i].irq);
      int ne = f.r.nev;
      CHECK(!vsim_vqp_dev_publish(&f.vq)); /* nothing new: no interrupt, no event */
      CHECK_EQ(f.r.nev, ne);
    }
    /* DESC without EVENT_IDX is not valid: treated as ENABLE. With EVENT_IDX a
     * far-away event suppresses. */
    uint16_t eo = f.vq.next_used;
    bool ew = f.vq.used_wrap;
    drv_advance(&f, &eo, &ew, 2); /* two positions ahead of the window */
    set_drv_event(&f, (uint16_t)(eo | (ew ? WRAP15 : 0)), EV_DESC);
    cycle(&f, 0, 1, 0);
    CHECK_EQ(vsim_vqp_dev_publish(&f.vq), !evt);
    CHECK_EQ(f.r.nviol, 0);
    fx_close(&f);
  }
}

/* Independent oracle for DESC: walk the positions the device used one by
 * one, (offset, wrap) from the old position, and see whether the event is
 * among the first n of them. */
static bool oracle_hit(uint16_t size, uint16_t off, bool wrap, uint32_t n, uint16_t eoff,
                       bool ewrap) {
  for (uint32_t k = 0; k < n; k++) {
    if (off == eoff && wrap == ewrap) return true;
    if (++off == size) {
      off = 0;
      wrap = !wrap;
    }
  }
  return false;
}

/* Every DESC event (all offsets, both wrap bits, plus offsets outside the
 * ring) against windows of every width from 1 to past two laps, from start
 * positions that move around the ring, with lists of 1..3 descriptors. */
static void test_publish_desc_sweep(void) {
  const uint16_t sizes[] = {5, 4, 7};
  for (unsigned si = 0; si < 3; si++) {
    const uint16_t size = sizes[si];
    fx f;
    fx_open(&f, size, F_EVT, 0);
    uint32_t rs = 99u + si;
    unsigned trials = 0, hits = 0;
    for (int rep = 0; rep < 3; rep++) {
      for (uint32_t width = 1; width <= 2u * size + 2; width++) {
        for (uint32_t ev = 0; ev < 2u * size + 2; ev++) {
          /* ev < 2 size: (ev % size, ev / size == 0 ? wrap 1 : wrap 0);
           * beyond: offsets >= size, which must never suppress */
          uint16_t eoff = (uint16_t)(ev < 2u * size ? ev % size : size + (ev & 1) * 0x7000u);
          bool ewrap = ev < 2u * size ? ev < size : (rs & 1);
          set_drv_event(&f, (uint16_t)(eoff | (ewrap ? WRAP15 : 0)), EV_DESC);
          const uint16_t off0 = f.dused;
          const bool wrap0 = f.duwrap;
          CHECK_EQ(f.vq.signalled, off0);
          CHECK_EQ(f.vq.signalled_wrap, wrap0);
          uint32_t done = 0;
          while (done < width) {
            uint32_t n = 1 + xs(&rs) % 3;
            if (n > width - done) n = width - done;
            if (n > size) n = size;
            cycle(&f, (uint16_t)(xs(&rs) % size), n, 0);
            done += n;
          }
          bool want = eoff >= size || oracle_hit(size, off0, wrap0, width, eoff, ewrap);
          bool got = vsim_vqp_dev_publish(&f.vq);
          if (got != want)
            fprintf(stderr, "  size %u: old (%u,%d) width %u event (%u,%d): got %d\n", size, off0,
                    wrap0, width, eoff, ewrap, got);
          CHECK_EQ(got, want);
          const rec_ev *e = last_ev(&f);
          CHECK(e && e->kind == VSIM_EV_USED_PUBLISH &&
                e->a == (uint64_t)(off0 | (wrap0 ? WRAP15 : 0)) &&
                e->b == (uint64_t)(f.dused | (f.duwrap ? WRAP15 : 0)));
          trials++;
          hits += got;
        }
      }
    }
    CHECK(hits > trials / 4 && hits < trials); /* both outcomes well exercised */
    CHECK_EQ(f.r.nviol, 0);
    fx_close(&f);
  }
}

/* The edges, spelled out: size 5, the window from (3, wrap 1) over four
 * positions (3,1) (4,1) (0,0) (1,0); new = (2,0). */
static void test_publish_desc_edges(void) {
  struct {
    uint16_t off;
    bool wrap, irq;
  } ev[] = {
      {3, true, true},   /* == old: the driver asked for exactly this one: MUST */
      {4, true, true},   /* last of the old lap */
      {0, false, true},  /* first of the new lap */
      {1, false, true},  /* == new - 1 */
      {2, false, false}, /* == new: not yet used */
      {3, false, false}, /* ahead, in the next lap */
      {2, true, false},  /* just behind old */
      {0, true, false},  /* stale wrap: a lap behind */
      {1, true, false},
      {4, false, false}, /* next lap */
  };
  for (unsigned i = 0; i < sizeof ev / sizeof ev[0]; i++) {
    fx f;
    fx_open(&f, 5, F_EVT, 0);
    for (uint16_t k = 0; k < 3; k++) cycle(&f, k, 1, 0);
    set_drv_event(&f, 0, EV_DISABLE);
    CHECK(!vsim_vqp_dev_publish(&f.vq));
    CHECK_EQ(f.vq.signalled, 3);
    set_drv_event(&f, (uint16_t)(ev[i].off | (ev[i].wrap ? WRAP15 : 0)), EV_DESC);
    cycle(&f, 0, 3, 7); /* (3,1) (4,1) (0,0) */
    cycle(&f, 1, 1, 0); /* (1,0) */
    CHECK_EQ(f.vq.next_used, 2);
    CHECK(!f.vq.used_wrap);
    bool irq = vsim_vqp_dev_publish(&f.vq);
    if (irq != ev[i].irq) fprintf(stderr, "  edge case %u\n", i);
    CHECK_EQ(irq, ev[i].irq);
    const rec_ev *e = last_ev(&f);
    CHECK(e && e->kind == VSIM_EV_USED_PUBLISH && e->a == (3u | WRAP15) && e->b == 2);
    fx_close(&f);
  }
  /* a window of more than a lap with no publish in between: every event in
   * range is covered, including the ones "behind" the old offset */
  fx f;
  fx_open(&f, 5, F_EVT, 0);
  set_drv_event(&f, (uint16_t)(2 | WRAP15), EV_DESC); /* (2,1): passed at the start */
  for (uint16_t k = 0; k < 7; k++) cycle(&f, k % 5, 1, 0); /* (0,1) .. (1,0) */
  CHECK(vsim_vqp_dev_publish(&f.vq));
  set_drv_event(&f, 2, EV_DESC); /* (2,0): first position of the window */
  for (uint16_t k = 0; k < 10; k++) cycle(&f, k % 5, 1, 0); /* two full laps */
  CHECK(vsim_vqp_dev_publish(&f.vq));
  set_drv_event(&f, 1, EV_DESC); /* (1,0): one lap of 5 from (2,0) misses it */
  for (uint16_t k = 0; k < 5; k++) cycle(&f, k, 1, 0);
  CHECK(!vsim_vqp_dev_publish(&f.vq));
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

/* The driver event structure outside guest memory: the driver's error,
 * reported once; the interrupt is sent (never lost). */
static void test_publish_unreadable(void) {
  fx f;
  fx_open_at(&f, 4, F_EVT, 0, DESC, ARENA, DEV_EVT);
  cycle(&f, 0, 1, 0);
  CHECK(vsim_vqp_dev_publish(&f.vq));
  CHECK_EQ(f.r.nviol, 1);
  CHECK_EQ(f.r.viol[0], VSIM_CHK_PACKED_DESC_ADDR);
  CHECK_EQ(f.r.nfault, 0);
  check_dead(&f);
  fx_close(&f);
}

/* Lists used before the queue broke still get their interrupt decision
 * (spurious rather than lost) without a guest access. */
static void test_publish_after_break(void) {
  fx f;
  fx_open(&f, 4, 0, 0);
  set_drv_event(&f, 0, EV_DISABLE);
  cycle(&f, 0, 1, 0);
  ring_desc(&f, 1, DATA, 4, 9, P_AVAIL); /* id out of range */
  expect_pop_violation(&f, VSIM_CHK_PACKED_ID_RANGE);
  int nf = f.r.nfault;
  CHECK(vsim_vqp_dev_publish(&f.vq)); /* region is device-inaccessible now: no access */
  CHECK_EQ(f.r.nfault, nf);
  CHECK_EQ(f.r.nviol, 1);
  const rec_ev *e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_USED_PUBLISH && e->a == WRAP15 && e->b == (1u | WRAP15));
  CHECK(!vsim_vqp_dev_publish(&f.vq));
  fx_close(&f);
}

/* ---- available-buffer notification suppression ------------------------------ */

static void test_set_notify_flags(void) {
  fx f;
  fx_open(&f, 5, 0, 0);
  wr16(&f, DEV_EVT, 0xbeef);
  CHECK(f.vq.notify_enabled);
  vsim_vqp_dev_set_notify(&f.vq, false);
  CHECK_EQ(dev_evt_flags(&f), EV_DISABLE);
  CHECK_EQ(dev_evt_off(&f), 0xbeef); /* offset left alone */
  CHECK(!f.vq.notify_enabled);
  const rec_ev *e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_NOTIFY_ENABLE && e->a == 0 && e->b == 0);
  vsim_vqp_dev_set_notify(&f.vq, true);
  CHECK_EQ(dev_evt_flags(&f), EV_ENABLE);
  CHECK_EQ(dev_evt_off(&f), 0xbeef);
  CHECK(f.vq.notify_enabled);
  e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_NOTIFY_ENABLE && e->a == 1 && e->b == 0);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

static void test_set_notify_event_idx(void) {
  fx f;
  fx_open(&f, 5, F_EVT, 0);
  vsim_vqp_dev_set_notify(&f.vq, true);
  CHECK_EQ(dev_evt_off(&f), WRAP15); /* (0, wrap 1) */
  CHECK_EQ(dev_evt_flags(&f), EV_DESC);
  /* popped but not completed lists count: the offset follows next_avail */
  cycle(&f, 0, 2, 0);
  add_one(&f, 1, false);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  vsim_vqp_dev_set_notify(&f.vq, false);
  CHECK_EQ(dev_evt_flags(&f), EV_DISABLE);
  CHECK_EQ(dev_evt_off(&f), WRAP15); /* left where the last enable put it */
  vsim_vqp_dev_set_notify(&f.vq, true);
  CHECK_EQ(dev_evt_off(&f), 3u | WRAP15);
  CHECK_EQ(dev_evt_flags(&f), EV_DESC);
  const rec_ev *e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_NOTIFY_ENABLE && e->a == 1 && e->b == (3u | WRAP15));
  /* past the wrap the wrap bit is 0 */
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 1, 0), 0);
  uint16_t id;
  uint32_t len;
  CHECK_EQ(reap(&f, &id, &len), 1);
  cycle(&f, 2, 3, 0); /* slots 3, 4, 0 */
  vsim_vqp_dev_set_notify(&f.vq, true);
  CHECK_EQ(dev_evt_off(&f), 1);
  CHECK_EQ(dev_evt_flags(&f), EV_DESC);
  e = last_ev(&f);
  CHECK(e && e->a == 1 && e->b == 1);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

static void test_set_notify_unwritable(void) {
  fx f;
  fx_open_at(&f, 4, F_EVT, 0, DESC, DRV_EVT, ARENA);
  int ne = f.r.nev;
  vsim_vqp_dev_set_notify(&f.vq, true);
  CHECK_EQ(f.r.nviol, 1);
  CHECK_EQ(f.r.viol[0], VSIM_CHK_PACKED_DESC_ADDR);
  CHECK_EQ(f.r.nev, ne);
  CHECK_EQ(f.r.nfault, 0);
  check_dead(&f);
  fx_close(&f);
}

/* ---- misuse by the device model and set-up errors ----------------------------- */

static void test_push_misuse(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 8, 0), -1);      /* out of range */
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 2, 5), -1);      /* never popped */
  CHECK_EQ(ring_flags(&f, 0), 0);                    /* no ring write */
  add_one(&f, 2, true);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 2, 5), 0);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 2, 5), -1);      /* twice */
  CHECK_EQ(f.vq.next_used, 1);
  CHECK_EQ(f.vq.inflight, 0);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);

  vsim_vqp_dev vq;
  vsim_host h = {0};
  vsim_queue_cfg cfg = {.size = 0};
  CHECK_EQ(vsim_vqp_dev_init(&vq, &h, 0, &cfg, 0, VSIM_MUT_NONE), -1);
  vsim_vqp_dev_fini(&vq); /* safe after a failed init */
  cfg.size = 32769;
  CHECK_EQ(vsim_vqp_dev_init(&vq, &h, 0, &cfg, 0, VSIM_MUT_NONE), -1);
  vsim_vqp_dev_fini(&vq);
  cfg.size = 4;
  CHECK_EQ(vsim_vqp_dev_init(&vq, NULL, 0, &cfg, 0, VSIM_MUT_NONE), -1);
  CHECK_EQ(vsim_vqp_dev_init(&vq, &h, 0, NULL, 0, VSIM_MUT_NONE), -1);
}

/* ---- malformed input: one check each ---------------------------------------- */

static void test_bad_align(void) {
  const uint64_t at[3][3] = {{DESC + 8, DRV_EVT, DEV_EVT},
                             {DESC, DRV_EVT + 2, DEV_EVT},
                             {DESC, DRV_EVT, DEV_EVT + 1}};
  for (int i = 0; i < 3; i++) {
    fx f;
    fx_open_at(&f, 8, 0, 0, at[i][0], at[i][1], at[i][2]);
    CHECK_EQ(f.r.nviol, 1);
    CHECK_EQ(f.r.viol[0], VSIM_CHK_PACKED_ALIGN);
    check_dead(&f);
    fx_close(&f);
  }
}

static void test_bad_id(void) {
  fx f;
  const uint16_t bad[] = {8, 9, 0xffff};
  for (unsigned i = 0; i < 3; i++) {
    fx_open(&f, 8, 0, 0);
    ring_desc(&f, 0, DATA, 4, bad[i], P_AVAIL);
    expect_pop_violation(&f, VSIM_CHK_PACKED_ID_RANGE);
    fx_close(&f);
  }
  /* the id is taken from the last descriptor: a good one in the first does
   * not help */
  fx_open(&f, 8, 0, 0);
  ring_desc(&f, 1, DATA, 4, 8, P_AVAIL);
  ring_desc(&f, 0, DATA, 4, 3, P_AVAIL | NEXT);
  expect_pop_violation(&f, VSIM_CHK_PACKED_ID_RANGE);
  fx_close(&f);
  /* an indirect list's id is the ring descriptor's */
  fx_open(&f, 8, F_IND, 0);
  put_pdesc(&f, IND, 0, DATA, 4, 1, 0);
  ring_desc(&f, 0, IND, 16, 8, P_AVAIL | INDIR);
  expect_pop_violation(&f, VSIM_CHK_PACKED_ID_RANGE);
  fx_close(&f);

  /* in flight */
  fx_open(&f, 8, 0, 0);
  add_one(&f, 3, false);
  tseg s2[] = {{DATA, 4, false}, {DATA, 4, true}};
  add_list(&f, s2, 2, 3);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  expect_pop_violation(&f, VSIM_CHK_PACKED_ID_INFLIGHT);
  fx_close(&f);
  /* once completed, the id may come back */
  fx_open(&f, 8, 0, 0);
  cycle(&f, 3, 1, 0);
  cycle(&f, 3, 2, 0);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

static void test_bad_list_long(void) {
  fx f;
  /* every descriptor has NEXT: after `size` the list would come round to its
   * own first descriptor */
  fx_open(&f, 4, 0, 0);
  for (uint16_t i = 1; i < 4; i++) ring_desc(&f, i, DATA, 4, 0, P_AVAIL | NEXT);
  ring_desc(&f, 0, DATA, 4, 0, P_AVAIL | NEXT);
  expect_pop_violation(&f, VSIM_CHK_PACKED_LIST_LONG);
  fx_close(&f);
  /* the same starting mid-ring, with the right wrap bits after the end */
  fx_open(&f, 4, 0, 0);
  cycle(&f, 0, 2, 0);
  ring_desc(&f, 3, DATA, 4, 0, P_AVAIL | NEXT);
  ring_desc(&f, 0, DATA, 4, 0, P_USED | NEXT);
  ring_desc(&f, 1, DATA, 4, 0, P_USED | NEXT);
  ring_desc(&f, 2, DATA, 4, 0, P_AVAIL | NEXT);
  expect_pop_violation(&f, VSIM_CHK_PACKED_LIST_LONG);
  fx_close(&f);
}

static void test_bad_partial(void) {
  fx f;
  /* second descriptor never written (zeroed ring) */
  fx_open(&f, 4, 0, 0);
  ring_desc(&f, 0, DATA, 4, 0, P_AVAIL | NEXT);
  expect_pop_violation(&f, VSIM_CHK_PACKED_PARTIAL);
  fx_close(&f);
  /* second descriptor with last lap's bits, both bits, or looking used */
  const uint16_t bad[] = {P_USED, P_AVAIL | P_USED, 0};
  for (unsigned i = 0; i < 3; i++) {
    fx_open(&f, 4, 0, 0);
    ring_desc(&f, 1, DATA, 4, 0, bad[i]);
    ring_desc(&f, 0, DATA, 4, 0, P_AVAIL | NEXT);
    expect_pop_violation(&f, VSIM_CHK_PACKED_PARTIAL);
    fx_close(&f);
  }
  /* across the end of the ring: the descriptor after the wrap carries the
   * old counter's bits */
  fx_open(&f, 4, 0, 0);
  for (uint16_t k = 0; k < 3; k++) cycle(&f, k, 1, 0);
  ring_desc(&f, 0, DATA, 4, 1, P_AVAIL); /* should be P_USED on lap 1 */
  ring_desc(&f, 3, DATA, 4, 0xffff, P_AVAIL | NEXT);
  expect_pop_violation(&f, VSIM_CHK_PACKED_PARTIAL);
  fx_close(&f);
  /* the third of three */
  fx_open(&f, 6, 0, 0);
  ring_desc(&f, 1, DATA, 4, 0, P_AVAIL | NEXT);
  ring_desc(&f, 0, DATA, 4, 0, P_AVAIL | NEXT);
  expect_pop_violation(&f, VSIM_CHK_PACKED_PARTIAL);
  fx_close(&f);
}

static void test_bad_rd_after_wr(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  tseg s[] = {{DATA, 4, true}, {DATA + 8, 4, false}};
  add_list(&f, s, 2, 0);
  expect_pop_violation(&f, VSIM_CHK_PACKED_RD_AFTER_WR);
  fx_close(&f);
  fx_open(&f, 8, F_IND, 0);
  tseg t[] = {{DATA, 4, false}, {DATA + 8, 4, true}, {DATA + 16, 4, false}};
  add_indirect(&f, IND, t, 3, 0, 0);
  expect_pop_violation(&f, VSIM_CHK_PACKED_RD_AFTER_WR);
  fx_close(&f);
}


/* A buffer the device would have to write although it must not: a writable
 * one over the descriptor ring, an event structure, the list's indirect table
 * or a readable buffer of the list; a readable one over the descriptor ring
 * or the device event structure (the device writes both). */
static void test_bad_write_overlap(void) {
  tseg cases[][2] = {
      {{DATA, 16, false}, {DESC + 16 * 6, 16, true}},  /* ring slot 6 */
      {{DATA, 16, false}, {DRV_EVT, 1, true}},         /* driver event structure */
      {{DATA, 16, false}, {DEV_EVT + 2, 2, true}},     /* device event structure */
      {{DATA, 16, false}, {DATA + 15, 2, true}},       /* the list's readable buffer */
      {{DESC + 16 * 3, 16, false}, {DATA, 1, true}},   /* readable, over the ring */
      {{DEV_EVT, 4, false}, {DATA, 1, true}},          /* readable, device event */
  };
  for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    fx f;
    fx_open(&f, 8, 0, 0);
    add_list(&f, cases[k], 2, 0);
    expect_pop_violation(&f, VSIM_CHK_PACKED_WRITE_OVERLAP);
    fx_close(&f);
  }
  fx f;
  fx_open(&f, 8, F_IND, 0);
  tseg t[] = {{DATA, 16, false}, {IND + 16, 4, true}};
  add_indirect(&f, IND, t, 2, 0, 0);
  expect_pop_violation(&f, VSIM_CHK_PACKED_WRITE_OVERLAP);
  fx_close(&f);
  /* readable from the driver event structure is fine; adjacent is not overlapping */
  fx_open(&f, 8, 0, 0);
  tseg ok[] = {{DRV_EVT, 4, false}, {DATA, 12, false}, {DATA + 12, 1, true}};
  add_list(&f, ok, 3, 0);
  vsim_chain c;
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &c), 1);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

static void test_bad_desc_addr(void) {
  fx f;
  const tseg bad[] = {
      {ARENA - 8, 16, false},        /* past the end of guest memory */
      {UINT64_MAX - 7, 16, true},    /* addr + len wraps 2^64 */
      {ARENA + 0x1000, 0, false},    /* zero length, but outside */
  };
  for (unsigned i = 0; i < 3; i++) {
    fx_open(&f, 8, 0, 0);
    tseg s[] = {{DATA, 4, false}, bad[i]};
    add_list(&f, s, 2, 0);
    expect_pop_violation(&f, VSIM_CHK_PACKED_DESC_ADDR);
    if (i == 1) CHECK(strstr(f.r.detail, "wraps") != NULL);
    fx_close(&f);
  }
  /* direction: device-writable element in memory the device may only read */
  fx_open(&f, 8, 0, 0);
  vsim_arena_set_region(f.a, DATA, 0x1000, VSIM_REGION_PERM(VSIM_ACC_RW, VSIM_ACC_READ));
  tseg ok = {DATA, 16, false}, w = {DATA, 16, true};
  add_list(&f, &ok, 1, 0);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  add_list(&f, &w, 1, 1);
  expect_pop_violation(&f, VSIM_CHK_PACKED_DESC_ADDR);
  fx_close(&f);
  /* and a readable one in memory the device may only write */
  fx_open(&f, 8, 0, 0);
  vsim_arena_set_region(f.a, DATA, 0x1000, VSIM_REGION_PERM(VSIM_ACC_RW, VSIM_ACC_WRITE));
  add_list(&f, &ok, 1, 0);
  expect_pop_violation(&f, VSIM_CHK_PACKED_DESC_ADDR);
  fx_close(&f);
  /* an element inside an indirect table */
  fx_open(&f, 8, F_IND, 0);
  tseg t[] = {{DATA, 4, false}, {ARENA - 2, 4, true}};
  add_indirect(&f, IND, t, 2, 0, 0);
  expect_pop_violation(&f, VSIM_CHK_PACKED_DESC_ADDR);
  CHECK(strstr(f.r.detail, "indirect entry 1") != NULL);
  fx_close(&f);
  /* the table itself outside memory, or wrapping 2^64 */
  const uint64_t bad_tab[] = {ARENA - 16, UINT64_MAX - 15};
  for (unsigned i = 0; i < 2; i++) {
    fx_open(&f, 8, F_IND, 0);
    ring_desc(&f, 0, bad_tab[i], 32, 0, P_AVAIL | INDIR);
    expect_pop_violation(&f, VSIM_CHK_PACKED_DESC_ADDR);
    fx_close(&f);
  }
}

/* The ring itself outside guest memory: the driver's error (no arena fault). */
static void test_bad_ring_outside_memory(void) {
  fx f;
  fx_open_at(&f, 8, 0, 0, ARENA + 0x1000, DRV_EVT, DEV_EVT);
  CHECK_EQ(vsim_vqp_dev_has_avail(&f.vq), -1);
  CHECK_EQ(f.r.nviol, 1);
  CHECK_EQ(f.r.viol[0], VSIM_CHK_PACKED_DESC_ADDR);
  CHECK(strstr(f.r.detail, "descriptor ring outside guest memory") != NULL);
  CHECK_EQ(f.r.nfault, 0);
  check_dead(&f);
  fx_close(&f);
  /* at the top of the address space: base + offset wraps */
  fx_open_at(&f, 8, 0, 0, UINT64_MAX - 15, DRV_EVT, DEV_EVT);
  expect_pop_violation(&f, VSIM_CHK_PACKED_DESC_ADDR);
  fx_close(&f);
  fx_open_at(&f, 8, 0, 0, UINT64_MAX - 31, DRV_EVT, DEV_EVT);
  f.vq.next_avail = 2; /* base + 16 * 2 wraps to 0: must not alias guest address 0 */
  put_pdesc(&f, 0, 0, DATA, 4, 0, P_AVAIL); /* what an aliasing device would find */
  expect_pop_violation(&f, VSIM_CHK_PACKED_DESC_ADDR);
  CHECK(strstr(f.r.detail, "descriptor ring") != NULL);
  fx_close(&f);
  /* a ring whose tail leaves guest memory: the list runs into it */
  fx_open_at(&f, 4, 0, 0, ARENA - 32, DRV_EVT, DEV_EVT);
  ring_desc(&f, 1, DATA, 4, 0, P_AVAIL | NEXT);
  ring_desc(&f, 0, DATA, 4, 0, P_AVAIL | NEXT);
  expect_pop_violation(&f, VSIM_CHK_PACKED_DESC_ADDR);
  fx_close(&f);
  /* a ring the device may read but not write: the used write is refused */
  fx_open(&f, 4, 0, 0);
  vsim_arena_set_region(f.a, DESC, 64, VSIM_REGION_PERM(VSIM_ACC_RW, VSIM_ACC_READ));
  add_one(&f, 0, false);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 0, 0), -1);
  CHECK_EQ(f.r.nviol, 1);
  CHECK_EQ(f.r.viol[0], VSIM_CHK_PACKED_DESC_ADDR);
  CHECK_EQ(f.r.nfault, 0);
  check_dead(&f);
  fx_close(&f);
}

static void test_bad_indirect(void) {
  fx f;
  tseg t[] = {{DATA, 4, false}, {DATA + 8, 4, true}};
  /* not negotiated */
  fx_open(&f, 8, 0, 0);
  add_indirect(&f, IND, t, 2, 0, 0);
  expect_pop_violation(&f, VSIM_CHK_PACKED_INDIR_NOT_NEG);
  fx_close(&f);
  /* flags other than WRITE inside a table */
  const uint16_t bad_fl[] = {NEXT, INDIR, P_AVAIL, P_USED, WR | NEXT, 0x0100};
  for (unsigned i = 0; i < sizeof bad_fl / sizeof bad_fl[0]; i++) {
    fx_open(&f, 8, F_IND, 0);
    add_indirect(&f, IND, t, 2, 0, 0);
    put_pdesc(&f, IND, 1, DATA + 8, 4, 0, bad_fl[i]);
    expect_pop_violation(&f, VSIM_CHK_PACKED_INDIR_FLAGS);
    fx_close(&f);
  }
  /* INDIRECT with NEXT in the ring (PEERS I: the QEMU CPU-spin input) */
  fx_open(&f, 8, F_IND, 0);
  add_one(&f, 1, false); /* slot 0: a normal list first */
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  add_indirect(&f, IND, t, 2, 0, NEXT);
  ring_desc(&f, 2, DATA, 4, 0, P_AVAIL);
  expect_pop_violation(&f, VSIM_CHK_PACKED_INDIR_FLAGS);
  CHECK(strstr(f.r.detail, "NEXT") != NULL);
  fx_close(&f);
  /* an INDIRECT descriptor as a later element of a NEXT chain */
  fx_open(&f, 8, F_IND, 0);
  for (int i = 0; i < 2; i++)
    put_pdesc(&f, IND, (uint32_t)i, t[i].addr, t[i].len, 0, t[i].write ? WR : 0);
  ring_desc(&f, 1, IND, 32, 0, P_AVAIL | INDIR);
  ring_desc(&f, 0, DATA, 4, 0xffff, P_AVAIL | NEXT);
  expect_pop_violation(&f, VSIM_CHK_PACKED_INDIR_FLAGS);
  fx_close(&f);
  /* table length: 0, not a multiple of 16, more than queue-size entries */
  const uint32_t bad_len[] = {0, 24, 16 * 9};
  for (unsigned i = 0; i < 3; i++) {
    fx_open(&f, 8, F_IND, 0);
    for (uint16_t k = 0; k < 9; k++) put_pdesc(&f, IND, k, DATA, 4, 0, 0);
    ring_desc(&f, 0, IND, bad_len[i], 0, P_AVAIL | INDIR);
    expect_pop_violation(&f, VSIM_CHK_PACKED_INDIR_LEN);
    fx_close(&f);
  }
}

/* ---- time of check vs time of use -------------------------------------------- */

static void test_toctou(void) {
  fx f;
  fx_open(&f, 8, F_IND, 0);
  vsim_arena_write(f.a, VSIM_SIDE_DRIVER, DATA, "good", 4);
  vsim_arena_write(f.a, VSIM_SIDE_DRIVER, DATA + 0x800, "evil", 4);
  tseg s[] = {{DATA, 4, false}, {DATA + 0x100, 8, true}};
  add_list(&f, s, 2, 3);
  vsim_chain c;
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &c), 1);
  /* the driver rewrites the list after the device validated it: other
   * buffers, another id, flags that are no longer available */
  ring_desc(&f, 0, DATA + 0x800, 4000, 7, P_AVAIL | WR | NEXT);
  ring_desc(&f, 1, ARENA - 4, 0x10000, 7, P_AVAIL | P_USED);
  CHECK_EQ(c.head, 3);
  CHECK_EQ(c.nseg, 2);
  CHECK(c.seg[0].gpa == DATA && c.seg[0].len == 4 && !c.seg[0].write);
  CHECK(c.seg[1].gpa == DATA + 0x100 && c.seg[1].len == 8 && c.seg[1].write);
  char buf[4];
  CHECK_EQ(vsim_chain_read(&c, f.a, 0, buf, 4), 0);
  CHECK(memcmp(buf, "good", 4) == 0);
  CHECK_EQ(vsim_chain_write(&c, f.a, 0, "12345678", 8), 0);
  CHECK_EQ(vsim_chain_write(&c, f.a, 8, "x", 1), -1);
  /* completion uses the popped id and list length, not what is in memory */
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, c.head, 8), 0);
  CHECK_EQ(ring_id(&f, 0), 3);
  CHECK_EQ(f.vq.next_used, 2);
  /* an indirect table rewritten after the pop: the segments stay */
  tseg t[] = {{DATA, 4, false}};
  add_indirect(&f, IND, t, 1, 4, 0);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &c), 1);
  put_pdesc(&f, IND, 0, ARENA - 1, 100, 0, NEXT | INDIR);
  CHECK(c.seg[0].gpa == DATA && c.seg[0].len == 4);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

/* ---- mutants ---------------------------------------------------------------- */

static void test_mutant_used_id_range(void) {
  fx f;
  fx_open(&f, 8, 0, TMUT(DEV_USED_ID_RANGE));
  tseg s[] = {{DATA, 4, false}, {DATA + 64, 4, true}}; /* distinct: a writable buffer may not overlap a readable one */
  add_list(&f, s, 2, 1);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 1, 0), 0);
  CHECK_EQ(ring_id(&f, 0), 8 + 3);
  CHECK_EQ(f.vq.inflight, 0); /* the real id was retired */
  CHECK_EQ(f.vq.next_used, 2); /* by the real list's length */
  const rec_ev *e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_USED && e->a == 11);
  fx_close(&f);
}

static void test_mutant_used_len_over(void) {
  fx f;
  fx_open(&f, 8, 0, TMUT(DEV_USED_LEN_OVER));
  add_one(&f, 0, true);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 0, 10), 0);
  CHECK_EQ(ring_len(&f, 0), 110);
  CHECK_EQ(ring_flags(&f, 0), P_AVAIL | P_USED | WR);
  fx_close(&f);
}

static void test_mutant_used_id_dup(void) {
  fx f;
  fx_open(&f, 8, 0, TMUT(DEV_USED_ID_DUP));
  add_one(&f, 4, false);
  add_one(&f, 5, false);
  add_one(&f, 6, false);
  for (int i = 0; i < 3; i++) CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 4, 1), 0);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 5, 2), 0); /* reports id 4 again instead of 5 */
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 6, 3), 0); /* fired once only */
  CHECK_EQ(ring_id(&f, 0), 4);
  CHECK_EQ(ring_id(&f, 1), 4);
  CHECK_EQ(ring_id(&f, 2), 6);
  CHECK_EQ(f.vq.next_used, 3);
  CHECK_EQ(f.vq.inflight, 0);
  fx_close(&f);
}

static void test_mutant_irq(void) {
  fx f;
  fx_open(&f, 8, 0, TMUT(DEV_SKIP_IRQ));
  cycle(&f, 0, 1, 0);
  CHECK(!vsim_vqp_dev_publish(&f.vq)); /* ENABLE: the correct model interrupts */
  fx_close(&f);

  fx_open(&f, 8, 0, TMUT(DEV_IRQ_ALWAYS));
  set_drv_event(&f, 0, EV_DISABLE);
  cycle(&f, 0, 1, 0);
  CHECK(vsim_vqp_dev_publish(&f.vq));
  fx_close(&f);

  fx_open(&f, 8, F_EVT, TMUT(DEV_IRQ_ALWAYS));
  set_drv_event(&f, 5, EV_DESC);
  cycle(&f, 0, 1, 0);
  CHECK(vsim_vqp_dev_publish(&f.vq));
  fx_close(&f);
}

static void test_mutant_no_reenable(void) {
  for (int evt = 0; evt < 2; evt++) {
    fx f;
    fx_open(&f, 8, evt ? F_EVT : 0, TMUT(DEV_NO_REENABLE));
    vsim_vqp_dev_set_notify(&f.vq, true); /* still enabled: harmless */
    CHECK_EQ(dev_evt_flags(&f), evt ? EV_DESC : EV_ENABLE);
    vsim_vqp_dev_set_notify(&f.vq, false);
    CHECK_EQ(dev_evt_flags(&f), EV_DISABLE);
    cycle(&f, 0, 1, 0);
    int ne = f.r.nev;
    vsim_vqp_dev_set_notify(&f.vq, true);
    CHECK_EQ(dev_evt_flags(&f), EV_DISABLE);
    CHECK(!f.vq.notify_enabled);
    CHECK_EQ(f.r.nev, ne);
    fx_close(&f);
  }
}

static void test_mutant_packed_wrap(void) {
  fx f;
  fx_open(&f, 3, 0, TMUT(DEV_PACKED_WRAP));
  for (uint16_t k = 0; k < 6; k++) {
    add_one(&f, 0, false);
    CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
    bool w = f.vq.used_wrap;
    uint16_t at = f.vq.next_used;
    CHECK_EQ(vsim_vqp_dev_push(&f.vq, 0, 0), 0);
    CHECK_EQ(ring_flags(&f, at), w ? 0 : (P_AVAIL | P_USED));
    if (k == 0) {
      /* the driver does not see the first completion as used */
      uint16_t id;
      uint32_t len;
      CHECK_EQ(reap(&f, &id, &len), 0);
    }
    f.ndescs[0] = 0; /* the driver cannot reap it: forget it by hand */
  }
  CHECK_EQ(f.vq.next_used, 0);
  CHECK(f.vq.used_wrap); /* the device's own counter is right: only the bits lie */
  fx_close(&f);
}

/* Split-only mutants leave the packed ring exactly as the correct model. */
static void test_mutant_split_only(void) {
  const uint64_t m[] = {TMUT(DEV_USED_FLAGS), TMUT(DEV_USED_IDX_JUMP)};
  for (int i = 0; i < 2; i++) {
    fx f;
    fx_open(&f, 5, F_EVT, m[i]);
    vsim_vqp_dev_set_notify(&f.vq, false);
    CHECK_EQ(dev_evt_flags(&f), EV_DISABLE);
    for (uint16_t k = 0; k < 6; k++) cycle(&f, k % 5, 1, 0);
    vsim_vqp_dev_set_notify(&f.vq, true);
    CHECK_EQ(dev_evt_flags(&f), EV_DESC);
    CHECK_EQ(dev_evt_off(&f), 1);
    set_drv_event(&f, 0, EV_ENABLE);
    CHECK(vsim_vqp_dev_publish(&f.vq));
    const rec_ev *e = last_ev(&f);
    CHECK(e && e->kind == VSIM_EV_USED_PUBLISH && e->a == WRAP15 && e->b == 1);
    CHECK_EQ(f.r.nviol, 0);
    fx_close(&f);
  }
}

/* ---- IN_ORDER ------------------------------------------------------------- */

#define F_IO (UINT64_C(1) << VIRTIO_F_IN_ORDER)

static uint32_t lcg(uint32_t *s) {
  *s = *s * 1103515245u + 12345u;
  return *s >> 16;
}

/* The test driver reaping in order: the used descriptor at its next_used
 * names the last list of a batch that starts with the oldest list it still
 * waits for (`fifo`, ids in the order made available); it skips every
 * descriptor of the batch. Checks the len (the batch's last list's) and
 * counts what was read. */
typedef struct io_reader {
  uint16_t fifo[64];
  uint32_t lens[64];
  unsigned h, n, read, batches, bad;
} io_reader;

static void io_expect(io_reader *r, uint16_t id, uint32_t len) {
  r->fifo[(r->h + r->n) % 64] = id;
  r->lens[(r->h + r->n) % 64] = len;
  r->n++;
}

static void io_read(fx *f, io_reader *r) {
  while (r->bad < 5) {
    uint16_t fl = ring_flags(f, f->dused);
    if (((fl & P_AVAIL) != 0) != f->duwrap || ((fl & P_USED) != 0) != f->duwrap) return;
    uint16_t id = ring_id(f, f->dused);
    uint32_t len = ring_len(f, f->dused);
    unsigned k = 0;
    while (k < r->n && r->fifo[(r->h + k) % 64] != id) k++;
    if (k == r->n || len != r->lens[(r->h + k) % 64] || ((fl & WR) != 0) != (len != 0)) {
      r->bad++;
      return;
    }
    for (unsigned j = 0; j <= k; j++) {
      uint16_t lid = r->fifo[(r->h + j) % 64];
      drv_advance(f, &f->dused, &f->duwrap, f->ndescs[lid]);
      f->ndescs[lid] = 0;
    }
    r->h = (r->h + k + 1) % 64;
    r->n -= k + 1;
    r->read += k + 1;
    r->batches++;
  }
}

/* With IN_ORDER the device must complete in pop order: anything else is the
 * model's bug and is refused with no ring write, no event, no violation. */
static void test_in_order_push_order(void) {
  fx f;
  fx_open(&f, 8, F_IO, 0);
  CHECK(f.vq.in_order);
  tseg s[3] = {{DATA, 4, false}, {DATA + 0x10, 4, true}, {DATA + 0x20, 4, true}};
  CHECK_EQ(add_list(&f, s + 2, 1, 5), 0); /* slot 0 */
  CHECK_EQ(add_list(&f, s, 3, 2), 1);     /* slots 1-3 */
  CHECK_EQ(add_list(&f, s + 1, 1, 7), 4); /* slot 4 */
  for (int i = 0; i < 3; i++) CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  int ne = f.r.nev;
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 2, 1), -1); /* the second one first */
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 7, 1), -1); /* the last one first */
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 3, 1), -1); /* never popped */
  CHECK_EQ(ring_flags(&f, 0), P_AVAIL | WR); /* nothing written */
  CHECK_EQ(f.vq.next_used, 0);
  CHECK_EQ(f.vq.inflight, 3);
  CHECK_EQ(f.r.nev, ne);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 5, 4), 0);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 5, 4), -1); /* twice */
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 7, 4), -1); /* skips 2 */
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 2, 8), 0);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 7, 0), 0);
  CHECK_EQ(f.vq.next_used, 5);
  uint16_t id;
  uint32_t len;
  const uint16_t want[3] = {5, 2, 7};
  const uint32_t want_len[3] = {4, 8, 0};
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(reap(&f, &id, &len), 1);
    CHECK_EQ(id, want[i]);
    CHECK_EQ(len, want_len[i]);
  }
  CHECK_EQ(f.r.nviol, 0);
  CHECK_EQ(f.r.nfault, 0);
  fx_close(&f);
}

/* Batching: pushes are recorded, publish writes one used descriptor over the
 * batch's first descriptor with the last list's id and len; the batch's
 * other descriptors keep the driver's marks; the device's used position is
 * past every descriptor of the batch. */
static void test_in_order_batch(void) {
  fx f;
  fx_open(&f, 8, F_IO, 0);
  vsim_vqp_dev_set_in_order_batch(&f.vq, true);
  tseg s[3] = {{DATA, 4, false}, {DATA + 0x10, 4, true}, {DATA + 0x20, 4, true}};
  CHECK_EQ(add_list(&f, s + 1, 1, 0), 0); /* slot 0 */
  CHECK_EQ(add_list(&f, s, 3, 1), 1);     /* slots 1-3 */
  CHECK_EQ(add_list(&f, s, 2, 2), 4);     /* slots 4-5 */
  for (int i = 0; i < 3; i++) CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  int ne = f.r.nev;
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 0, 1), 0);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 2, 3), -1); /* out of order: refused, batch intact */
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 1, 2), 0);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 2, 3), 0);
  CHECK_EQ(f.vq.next_used, 6);
  CHECK_EQ(f.vq.unsignalled, 6);
  CHECK_EQ(f.vq.inflight, 0);
  CHECK_EQ(ring_flags(&f, 0), P_AVAIL | WR); /* not written yet */
  CHECK_EQ(f.r.nev, ne + 3);                 /* one USED event per list */
  CHECK(vsim_vqp_dev_publish(&f.vq));        /* ENABLE (zeroed structure) */
  CHECK_EQ(ring_flags(&f, 0), P_AVAIL | P_USED | WR);
  CHECK_EQ(ring_id(&f, 0), 2);
  CHECK_EQ(ring_len(&f, 0), 3);
  for (uint32_t o = 1; o < 6; o++) CHECK_EQ(ring_flags(&f, o) & P_USED, 0); /* untouched */
  const rec_ev *e = last_ev(&f);
  CHECK(e && e->kind == VSIM_EV_USED_PUBLISH && e->a == WRAP15 && e->b == (6u | WRAP15));
  CHECK(!vsim_vqp_dev_publish(&f.vq));
  io_reader r = {0};
  io_expect(&r, 0, 1);
  io_expect(&r, 1, 2);
  io_expect(&r, 2, 3);
  io_read(&f, &r);
  CHECK_EQ(r.read, 3);
  CHECK_EQ(r.batches, 1);
  CHECK_EQ(r.bad, 0);

  /* a batch that crosses the end of the ring: slots 6, 7 and 0-1 (lap 2):
   * its used descriptor at 6 carries wrap 1 */
  CHECK_EQ(add_list(&f, s + 1, 1, 3), 6);
  CHECK_EQ(add_list(&f, s, 3, 4), 7);
  for (int i = 0; i < 2; i++) CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 3, 0), 0);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 4, 9), 0);
  CHECK_EQ(f.vq.next_used, 2);
  CHECK(!f.vq.used_wrap);
  CHECK(vsim_vqp_dev_publish(&f.vq));
  CHECK_EQ(ring_flags(&f, 6), P_AVAIL | P_USED | WR);
  CHECK_EQ(ring_id(&f, 6), 4);
  CHECK_EQ(ring_flags(&f, 0), P_USED | WR | NEXT); /* lap 2's available mark, untouched */
  io_expect(&r, 3, 0);
  io_expect(&r, 4, 9);
  io_read(&f, &r);
  CHECK_EQ(r.read, 5);
  CHECK_EQ(r.batches, 2);

  /* turning batching off closes an open batch where it stands (written over
   * its first descriptor); the next push is written at once after it */
  CHECK_EQ(add_list(&f, s + 1, 1, 5), 2);
  CHECK_EQ(add_list(&f, s + 1, 1, 6), 3);
  CHECK_EQ(add_list(&f, s + 1, 1, 7), 4);
  for (int i = 0; i < 3; i++) CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 5, 1), 0);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 6, 2), 0);
  vsim_vqp_dev_set_in_order_batch(&f.vq, false);
  CHECK_EQ(ring_flags(&f, 2), WR); /* used in lap 2: AVAIL = USED = 0 */
  CHECK_EQ(ring_id(&f, 2), 6);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 7, 3), 0);
  CHECK_EQ(ring_id(&f, 4), 7);
  CHECK_EQ(ring_flags(&f, 3), P_USED | WR); /* skipped */
  CHECK(vsim_vqp_dev_publish(&f.vq));
  io_expect(&r, 5, 1);
  io_expect(&r, 6, 2);
  io_expect(&r, 7, 3);
  io_read(&f, &r);
  CHECK_EQ(r.read, 8);
  CHECK_EQ(r.batches, 4);
  CHECK_EQ(r.bad, 0);
  CHECK_EQ(f.r.nviol, 0);
  CHECK_EQ(f.r.nfault, 0);
  fx_close(&f);

  /* batching asked for without IN_ORDER: no effect */
  fx_open(&f, 8, 0, 0);
  vsim_vqp_dev_set_in_order_batch(&f.vq, true);
  CHECK_EQ(add_one(&f, 0, true), 0);
  CHECK_EQ(add_one(&f, 1, true), 1);
  for (int i = 0; i < 2; i++) CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 1, 5), 0);
  CHECK_EQ(ring_id(&f, 0), 1); /* written at once, out of order */
  fx_close(&f);

  /* mutants still apply to the batch's used descriptor */
  fx_open(&f, 8, F_IO, TMUT(DEV_PACKED_WRAP) | TMUT(DEV_USED_LEN_OVER));
  vsim_vqp_dev_set_in_order_batch(&f.vq, true);
  CHECK_EQ(add_one(&f, 0, true), 0);
  CHECK_EQ(add_one(&f, 1, true), 1);
  for (int i = 0; i < 2; i++) CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 0, 1), 0);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 1, 2), 0);
  (void)vsim_vqp_dev_publish(&f.vq);
  CHECK_EQ(ring_flags(&f, 0), WR); /* wrong wrap bits */
  CHECK_EQ(ring_len(&f, 0), 102);
  CHECK_EQ(ring_id(&f, 0), 1);
  fx_close(&f);
}

/* An open batch when the queue breaks: a broken queue touches no guest
 * memory, so the batch is not written; the interrupt is still sent (rather
 * spurious than lost). */
static void test_in_order_batch_break(void) {
  fx f;
  fx_open(&f, 4, F_IO, 0);
  vsim_vqp_dev_set_in_order_batch(&f.vq, true);
  set_drv_event(&f, 0, EV_DISABLE);
  CHECK_EQ(add_one(&f, 0, true), 0);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 0, 4), 0);
  ring_desc(&f, 1, DATA, 4, 9, P_AVAIL); /* id out of range */
  expect_pop_violation(&f, VSIM_CHK_PACKED_ID_RANGE);
  int nf = f.r.nfault, ne = f.r.nev;
  /* nothing was written, so nothing is announced: the batch's positions are
   * taken back, no USED_PUBLISH, and no interrupt for it */
  CHECK(!vsim_vqp_dev_publish(&f.vq));
  CHECK_EQ(f.r.nev, ne);
  CHECK_EQ(f.vq.next_used, 0);
  CHECK(f.vq.used_wrap);
  CHECK_EQ(f.vq.unsignalled, 0);
  CHECK_EQ(f.r.nfault, nf);
  vsim_arena_set_region(f.a, 0, ARENA, VSIM_REGION_PERM(VSIM_ACC_RW, VSIM_ACC_RW));
  CHECK_EQ(ring_flags(&f, 0), P_AVAIL | WR); /* never written */
  CHECK_EQ(f.r.nviol, 1);
  fx_close(&f);

  /* a batch after a published one: only the batch is taken back */
  fx_open(&f, 4, F_IO, 0);
  vsim_vqp_dev_set_in_order_batch(&f.vq, true);
  set_drv_event(&f, 0, EV_ENABLE);
  CHECK_EQ(add_one(&f, 0, true), 0);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 0, 4), 0);
  CHECK(vsim_vqp_dev_publish(&f.vq));
  CHECK_EQ(add_one(&f, 1, true), 1);
  CHECK_EQ(add_one(&f, 2, true), 2);
  for (int i = 0; i < 2; i++) CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 1, 4), 0);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 2, 4), 0);
  CHECK_EQ(f.vq.next_used, 3);
  ring_desc(&f, 3, DATA, 4, 9, P_AVAIL); /* id out of range */
  expect_pop_violation(&f, VSIM_CHK_PACKED_ID_RANGE);
  CHECK(!vsim_vqp_dev_publish(&f.vq));
  CHECK_EQ(f.vq.next_used, 1);
  CHECK_EQ(f.vq.unsignalled, 0);
  fx_close(&f);
}

/* The interrupt decision over a batch: DESC at a skipped position inside it
 * is in the window [old, new) of every descriptor the batch took. */
static void test_in_order_batch_event(void) {
  fx f;
  fx_open(&f, 8, F_IO | F_EVT, 0);
  vsim_vqp_dev_set_in_order_batch(&f.vq, true);
  tseg s[3] = {{DATA, 4, false}, {DATA + 0x10, 4, true}, {DATA + 0x20, 4, true}};
  CHECK_EQ(add_list(&f, s, 3, 0), 0);
  CHECK_EQ(add_list(&f, s, 2, 1), 3);
  for (int i = 0; i < 2; i++) CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 0, 0), 0);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 1, 0), 0);
  set_drv_event(&f, 4 | WRAP15, EV_DESC); /* inside the second list, skipped */
  CHECK(vsim_vqp_dev_publish(&f.vq));
  CHECK_EQ(add_list(&f, s, 2, 2), 5);
  CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 2, 0), 0);
  set_drv_event(&f, 7 | WRAP15, EV_DESC); /* the position after: not yet */
  CHECK(!vsim_vqp_dev_publish(&f.vq));
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

/* Many rounds, many laps of the wrap counters: lists of 1..3 descriptors,
 * completed in batches of 1, 3, everything held, or a random size, with
 * batching switched off now and then (mixed batched and unbatched). */
static void in_order_wrap(uint16_t size, uint32_t seed) {
  fx f;
  fx_open(&f, size, F_IO, 0);
  io_reader r = {0};
  uint32_t rng = seed;
  unsigned whole = 0, laps = 0;
  bool batching = false, last_wrap = true;
  uint16_t next_id = 0;
  tseg s[3] = {{DATA, 4, false}, {DATA + 0x10, 4, true}, {DATA + 0x20, 4, true}};
  while (r.read < 60000 && r.bad == 0) {
    if (lcg(&rng) % 16 == 0) {
      batching = !batching;
      vsim_vqp_dev_set_in_order_batch(&f.vq, batching);
    }
    /* fill up to `size` descriptors, ids in order */
    uint16_t ids[64];
    unsigned m = 0, used = 0;
    for (unsigned want = 1 + lcg(&rng) % size; m < want;) {
      unsigned n = 1 + lcg(&rng) % 3;
      if (used + n > size) break;
      add_list(&f, s + 3 - n, n, next_id);
      ids[m++] = next_id;
      next_id = (uint16_t)((next_id + 1) % size);
      used += n;
    }
    if (m == 0) continue;
    for (unsigned i = 0; i < m; i++)
      if (vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}) != 1) r.bad++;
    unsigned done = 0;
    while (done < m) {
      unsigned pick = lcg(&rng) % 4, left = m - done;
      unsigned k = pick == 0 ? 1 : pick == 1 ? 3 : pick == 2 ? left : 1 + lcg(&rng) % left;
      if (k > left) k = left;
      whole += k == m && k > 1;
      for (unsigned j = 0; j < k; j++) {
        uint32_t len = lcg(&rng) % 9;
        io_expect(&r, ids[done + j], len);
        if (vsim_vqp_dev_push(&f.vq, ids[done + j], len) != 0) r.bad++;
      }
      done += k;
      (void)vsim_vqp_dev_publish(&f.vq);
    }
    io_read(&f, &r);
    if (r.n != 0) r.bad++;
    laps += f.vq.used_wrap != last_wrap;
    last_wrap = f.vq.used_wrap;
  }
  CHECK_EQ(r.bad, 0);
  CHECK(r.read >= 60000);
  CHECK(whole > 0);
  CHECK(laps > 1000);
  CHECK_EQ(f.dused, f.vq.next_used);
  CHECK_EQ(f.duwrap, f.vq.used_wrap);
  CHECK_EQ(f.vq.inflight, 0);
  CHECK_EQ(f.r.nviol, 0);
  CHECK_EQ(f.r.nfault, 0);
  fx_close(&f);
}

static void test_in_order_wrap(void) {
  in_order_wrap(8, 5);
  in_order_wrap(5, 6); /* not a power of two */
  in_order_wrap(3, 7);
}


/* ---- VIRTIO_F_NOTIFICATION_DATA ---------------------------------------------- */

#define POS(off, wrap) ((uint16_t)((off) | ((wrap) ? WRAP15 : 0)))

static int pop_push1(fx *f) {
  vsim_chain c;
  int r = vsim_vqp_dev_pop(&f->vq, &c);
  if (r == 1) {
    CHECK_EQ(vsim_vqp_dev_push(&f->vq, c.head, 0), 0);
    uint16_t id;
    uint32_t len;
    CHECK_EQ(reap(f, &id, &len), 1);
  }
  return r;
}

/* Notifications that name the test driver's next free position, across
 * several laps (next_wrap flips), and repeated ones that announce nothing new:
 * never a violation, and the claim is consumed as the device pops. */
static void test_notify_data_ok(void) {
  fx f;
  fx_open(&f, 5, 0, 0);
  tseg s[2] = {{DATA, 16, false}, {DATA + 0x100, 16, true}};
  for (int round = 0; round < 12; round++) {
    add_list(&f, s, 2, 0);
    add_one(&f, 1, true);
    vsim_vqp_dev_notify_data(&f.vq, POS(f.dnext, f.dwrap));
    vsim_vqp_dev_notify_data(&f.vq, POS(f.dnext, f.dwrap));
    CHECK(f.vq.nd_claim);
    CHECK_EQ(pop_push1(&f), 1);
    CHECK(f.vq.nd_claim); /* one descriptor still to come */
    CHECK_EQ(pop_push1(&f), 1);
    CHECK(!f.vq.nd_claim);
    CHECK_EQ(pop_push1(&f), 0);
    vsim_vqp_dev_notify_data(&f.vq, POS(f.dnext, f.dwrap)); /* nothing new */
    CHECK_EQ(pop_push1(&f), 0);
  }
  CHECK_EQ(f.r.nviol, 0);
  CHECK(!f.vq.broken);
  fx_close(&f);
}

/* A position the ring does not back up (the descriptor there is not
 * available), one outside the ring, one behind the device: each reported
 * once, ignored, and the queue keeps working. */
static void test_notify_data_bad(void) {
  fx f;
  fx_open(&f, 8, 0, 0);
  add_one(&f, 0, true);
  vsim_vqp_dev_notify_data(&f.vq, POS(3, 1)); /* claims 3 descriptors, 1 is there */
  CHECK_EQ(f.r.nviol, 0);
  CHECK_EQ(pop_push1(&f), 1);
  CHECK_EQ(pop_push1(&f), 0);
  CHECK_EQ(f.r.nviol, 1);
  CHECK_EQ(f.r.viol[0], VSIM_CHK_NOTIFY_DATA);
  CHECK(strstr(f.r.detail, "not available") != NULL);
  CHECK(!f.vq.nd_claim);
  CHECK_EQ(pop_push1(&f), 0); /* reported once */
  CHECK_EQ(f.r.nviol, 1);

  vsim_vqp_dev_notify_data(&f.vq, POS(8, 1)); /* offset 8 on a ring of 8 */
  CHECK_EQ(f.r.nviol, 2);
  CHECK_EQ(f.r.viol[1], VSIM_CHK_NOTIFY_DATA);
  CHECK(strstr(f.r.detail, "outside") != NULL);
  vsim_vqp_dev_notify_data(&f.vq, POS(0x7fff, 0));
  CHECK_EQ(f.r.nviol, 3);

  /* stale: behind the device's next_avail (1, wrap 1) */
  vsim_vqp_dev_notify_data(&f.vq, POS(0, 1));
  CHECK_EQ(f.r.nviol, 4);
  CHECK(strstr(f.r.detail, "behind") != NULL);
  /* offset 7 with wrap 0 is 14 positions on, i.e. 2 behind: stale too */
  vsim_vqp_dev_notify_data(&f.vq, POS(7, 0));
  CHECK_EQ(f.r.nviol, 5);
  /* while offset 1 with wrap 0 is a whole ring ahead: a full ring is a
   * legitimate claim (judged as the device pops) */
  vsim_vqp_dev_notify_data(&f.vq, POS(1, 0));
  CHECK_EQ(f.r.nviol, 5);
  CHECK(f.vq.nd_claim);
  f.vq.nd_claim = false; /* not backed by the ring here: drop it by hand */

  /* stale: going back from an earlier notification before the device looked */
  add_one(&f, 1, true);
  add_one(&f, 2, true);
  vsim_vqp_dev_notify_data(&f.vq, POS(3, 1));
  vsim_vqp_dev_notify_data(&f.vq, POS(2, 1));
  CHECK_EQ(f.r.nviol, 6);
  CHECK_EQ(f.r.viol[5], VSIM_CHK_NOTIFY_DATA);
  CHECK(f.vq.nd_claim); /* the first claim stands */
  CHECK_EQ(pop_push1(&f), 1);
  CHECK_EQ(pop_push1(&f), 1);
  CHECK_EQ(pop_push1(&f), 0);
  CHECK_EQ(f.r.nviol, 6);
  CHECK(!f.vq.broken);
  CHECK_EQ(f.r.nfault, 0);
  /* a broken queue takes no notification data */
  f.vq.broken = true;
  vsim_vqp_dev_notify_data(&f.vq, POS(7, 0));
  CHECK_EQ(f.r.nviol, 6);
  fx_close(&f);
}

/* ---- mutants that break the packed IN_ORDER and used-descriptor rules -------- */

/* dev.in-order-out-of-order: the oldest list's used descriptor carries the
 * next list's id; the device's used position moves past the oldest only. */
static void test_mutant_in_order_swap(void) {
  fx f;
  fx_open(&f, 8, F_IO, TMUT(DEV_IN_ORDER_SWAP));
  add_one(&f, 0, true);
  add_one(&f, 1, true);
  for (int i = 0; i < 2; i++) CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 0, 1), 0);
  CHECK_EQ(ring_id(&f, 0), 1);
  CHECK_EQ(f.vq.next_used, 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 1, 1), 0); /* alone in flight: its own id */
  CHECK_EQ(ring_id(&f, 1), 1);
  fx_close(&f);
}

/* dev.packed-in-order-batch-id: the batch's used descriptor names its first
 * list; the used position still moves past the whole batch. */
static void test_mutant_batch_id(void) {
  fx f;
  fx_open(&f, 8, F_IO, TMUT(DEV_PACKED_BATCH_ID));
  vsim_vqp_dev_set_in_order_batch(&f.vq, true);
  for (uint16_t id = 0; id < 3; id++) add_one(&f, id, true);
  for (int i = 0; i < 3; i++) CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  for (uint16_t id = 0; id < 3; id++) CHECK_EQ(vsim_vqp_dev_push(&f.vq, id, 1), 0);
  vsim_vqp_dev_publish(&f.vq);
  CHECK_EQ(ring_flags(&f, 0), P_AVAIL | P_USED | WR);
  CHECK_EQ(ring_id(&f, 0), 0);
  CHECK_EQ(f.vq.next_used, 3);
  fx_close(&f);
}

/* dev.packed-used-rewrite: after the publish, the address of the last used
 * descriptor is cleared; nothing else changes. */
static void test_mutant_used_rewrite(void) {
  fx f;
  fx_open(&f, 8, 0, TMUT(DEV_PACKED_USED_REWRITE));
  add_one(&f, 4, true);
  add_one(&f, 5, true);
  for (int i = 0; i < 2; i++) CHECK_EQ(vsim_vqp_dev_pop(&f.vq, &(vsim_chain){0}), 1);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 4, 1), 0);
  CHECK_EQ(vsim_vqp_dev_push(&f.vq, 5, 2), 0);
  uint64_t a0 = 0, a1 = 0;
  vsim_arena_read64(f.a, VSIM_SIDE_DRIVER, desc_gpa(&f, 1, offsetof(struct vring_packed_desc, addr)), &a1);
  CHECK_EQ(a1, DATA + 0x500);
  vsim_vqp_dev_publish(&f.vq);
  vsim_arena_read64(f.a, VSIM_SIDE_DRIVER, desc_gpa(&f, 0, offsetof(struct vring_packed_desc, addr)), &a0);
  vsim_arena_read64(f.a, VSIM_SIDE_DRIVER, desc_gpa(&f, 1, offsetof(struct vring_packed_desc, addr)), &a1);
  CHECK_EQ(a0, DATA + 0x400);
  CHECK_EQ(a1, 0);
  CHECK_EQ(ring_id(&f, 1), 5);
  CHECK_EQ(ring_len(&f, 1), 2);
  CHECK_EQ(f.r.nviol, 0);
  fx_close(&f);
}

int main(void) {
  RUN(test_single_and_chain);
  RUN(test_not_available);
  RUN(test_indirect);
  RUN(test_chain_across_wrap);
  RUN(test_many_wraps);
  RUN(test_tiny_rings);
  RUN(test_out_of_order);
  RUN(test_limits_ok);
  RUN(test_size_32768);
  RUN(test_publish_flags);
  RUN(test_publish_desc_sweep);
  RUN(test_publish_desc_edges);
  RUN(test_publish_unreadable);
  RUN(test_publish_after_break);
  RUN(test_set_notify_flags);
  RUN(test_set_notify_event_idx);
  RUN(test_set_notify_unwritable);
  RUN(test_push_misuse);
  RUN(test_bad_align);
  RUN(test_bad_id);
  RUN(test_bad_list_long);
  RUN(test_bad_partial);
  RUN(test_bad_rd_after_wr);
  RUN(test_bad_write_overlap);
  RUN(test_bad_desc_addr);
  RUN(test_bad_ring_outside_memory);
  RUN(test_bad_indirect);
  RUN(test_toctou);
  RUN(test_mutant_used_id_range);
  RUN(test_mutant_used_len_over);
  RUN(test_mutant_used_id_dup);
  RUN(test_mutant_irq);
  RUN(test_mutant_no_reenable);
  RUN(test_mutant_packed_wrap);
  RUN(test_mutant_split_only);
  RUN(test_in_order_push_order);
  RUN(test_in_order_batch);
  RUN(test_in_order_batch_break);
  RUN(test_in_order_batch_event);
  RUN(test_in_order_wrap);
  RUN(test_notify_data_ok);
  RUN(test_notify_data_bad);
  RUN(test_mutant_in_order_swap);
  RUN(test_mutant_batch_id);
  RUN(test_mutant_used_rewrite);
  TEST_MAIN_END();
}
