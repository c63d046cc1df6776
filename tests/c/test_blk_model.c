/* tests/c/test_blk_model.c — unit tests of the virtio-blk device model.
 *
 * Owns: hand-built chains (header, data, status placed in an arena) fed
 * straight to vsim_blk_model_request on a model made by vsim_blk_create, with
 * features negotiated through the generic backend ops. Covers every request
 * type with its OK / IOERR / UNSUPP paths, overflow-prone sectors, RO, the
 * discard/write-zeroes flags and limits, GET_ID padding, image loading,
 * device_config errors and each DEV_BLK_* mutant (plus the generic
 * write-readonly and out-of-bounds ones the model implements).
 * One round trip goes through the device core's worker and a hand-written
 * split ring, to show the model is wired into the core as the transport
 * will drive it; the ring logic itself is tested elsewhere.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include "blk.h"
#include "devcore.h"
#include "testutil.h"
#include "virtio_compat.h"
#include "virtiosim/mutants.h"

#define BIT(b) (UINT64_C(1) << (b))
#define ARENA_SIZE (UINT64_C(1) << 20)
#define HDR_GPA 0x1000u
#define DATA_GPA 0x10000u
#define STATUS_GPA 0x8000u
#define CAP 2048u /* default capacity in sectors */

typedef struct rec {
  unsigned interrupts, config_changes, violations, events;
} rec;

static void h_interrupt(void *ctx, uint16_t q) { ((rec *)ctx)->interrupts++; }
static uint64_t h_now(void *ctx) { return 0; }
static void h_config_changed(void *ctx) { ((rec *)ctx)->config_changes++; }
static void h_violation(void *ctx, int check, int q, const char *detail) {
  ((rec *)ctx)->violations++;
}
static void h_event(void *ctx, int kind, int q, uint64_t a, uint64_t b, uint64_t c,
                    uint64_t d) {
  ((rec *)ctx)->events++;
}

typedef struct fixture {
  vsim_arena *arena;
  rec r;
  vsim_host host;
  vsim_backend be;
  vsim_seg segs[8];
  vsim_chain chain;
  char err[256];
} fixture;

typedef struct opts {
  const char *const *keys;
  const char *const *vals;
  unsigned n;
  uint64_t mutants;
  uint16_t nq;
  bool has_offered;
  uint64_t offered;
} opts;

/* Create the model; returns vsim_blk_create's result (err in f->err). */
static int fx_open(fixture *f, const opts *o) {
  memset(f, 0, sizeof *f);
  f->arena = vsim_arena_new(ARENA_SIZE);
  f->host = (vsim_host){&f->r, f->arena, h_interrupt, h_config_changed, h_violation, h_event, h_now};
  vsim_backend_params p = {0};
  p.host = &f->host;
  if (o) {
    p.num_queues = o->nq;
    p.mutants = test_mutset(o->mutants);
    p.config_keys = o->keys;
    p.config_values = o->vals;
    p.config_count = o->n;
    p.has_offered_features = o->has_offered;
    p.offered_features = o->offered;
  }
  return vsim_blk_create(&p, &f->be, f->err, sizeof f->err);
}

static void fx_close(fixture *f) {
  if (f->be.ops) f->be.ops->destroy(f->be.be);
  f->be.ops = NULL;
  vsim_arena_free(f->arena);
}

/* Walk the status machine as a driver would; returns the final status. */
static uint8_t negotiate(fixture *f, uint64_t features) {
  const vsim_backend_ops *ops = f->be.ops;
  void *be = f->be.be;
  ops->set_status(be, VIRTIO_CONFIG_S_ACKNOWLEDGE);
  ops->set_status(be, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
  ops->set_driver_features(be, features);
  uint8_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;
  ops->set_status(be, s);
  if (!(ops->get_status(be) & VIRTIO_CONFIG_S_FEATURES_OK)) return ops->get_status(be);
  ops->set_status(be, s | VIRTIO_CONFIG_S_DRIVER_OK);
  return ops->get_status(be);
}

static void negotiate_all(fixture *f) {
  negotiate(f, f->be.ops->device_features(f->be.be));
}

/* Open with config and negotiate everything offered; CHECKs success. */
static bool fx_ready(fixture *f, const opts *o) {
  int r = fx_open(f, o);
  CHECK_EQ(r, 0);
  if (r) {
    fprintf(stderr, "  create failed: %s\n", f->err);
    vsim_arena_free(f->arena);
    return false;
  }
  negotiate_all(f);
  return true;
}

/* ---- chain building ---- */

static void ch_reset(fixture *f) {
  memset(&f->chain, 0, sizeof f->chain);
  f->chain.seg = f->segs;
}

static void ch_add(fixture *f, uint64_t gpa, uint32_t len, bool write) {
  vsim_chain *c = &f->chain;
  c->seg[c->nseg++] = (vsim_seg){gpa, len, write};
  if (write)
    c->wr_bytes += len;
  else {
    c->nread++;
    c->rd_bytes += len;
  }
}

static void put_hdr(fixture *f, uint64_t gpa, uint32_t type, uint64_t sector) {
  vsim_arena_write32(f->arena, VSIM_SIDE_DRIVER, gpa, type);
  vsim_arena_write32(f->arena, VSIM_SIDE_DRIVER, gpa + 4, 0);
  vsim_arena_write64(f->arena, VSIM_SIDE_DRIVER, gpa + 8, sector);
}

static uint8_t *gmem(fixture *f, uint64_t gpa) {
  return (uint8_t *)vsim_arena_base(f->arena) + gpa;
}

/* Submit the built chain; returns the status byte (or 0xEE when request failed). */
static uint8_t submit(fixture *f, uint32_t *used) {
  uint32_t u = 0xdeadbeef;
  vsim_arena_write(f->arena, VSIM_SIDE_DRIVER, STATUS_GPA, &(uint8_t){0xCC}, 1);
  int r = vsim_blk_model_request(f->be.be, 0, &f->chain, &u);
  if (used) *used = u;
  if (r != 0) return 0xEE;
  return *gmem(f, STATUS_GPA);
}

/* header | (writable data of len) | status */
static uint8_t do_in(fixture *f, uint64_t sector, uint32_t len, uint32_t *used) {
  ch_reset(f);
  put_hdr(f, HDR_GPA, VIRTIO_BLK_T_IN, sector);
  ch_add(f, HDR_GPA, sizeof(struct virtio_blk_outhdr), false);
  if (len) ch_add(f, DATA_GPA, len, true);
  ch_add(f, STATUS_GPA, 1, true);
  return submit(f, used);
}

/* header | (readable data) | status */
static uint8_t do_out(fixture *f, uint64_t sector, const void *data, uint32_t len,
                      uint32_t *used) {
  ch_reset(f);
  put_hdr(f, HDR_GPA, VIRTIO_BLK_T_OUT, sector);
  vsim_arena_write(f->arena, VSIM_SIDE_DRIVER, DATA_GPA, data, len);
  ch_add(f, HDR_GPA, sizeof(struct virtio_blk_outhdr), false);
  if (len) ch_add(f, DATA_GPA, len, false);
  ch_add(f, STATUS_GPA, 1, true);
  return submit(f, used);
}

/* header with no data | status (FLUSH, unknown types) */
static uint8_t do_bare(fixture *f, uint32_t type, uint32_t *used) {
  ch_reset(f);
  put_hdr(f, HDR_GPA, type, 0);
  ch_add(f, HDR_GPA, sizeof(struct virtio_blk_outhdr), false);
  ch_add(f, STATUS_GPA, 1, true);
  return submit(f, used);
}

typedef struct dwz {
  uint64_t sector;
  uint32_t num, flags;
} dwz;

/* header | n raw 16-byte segments (+ extra stray bytes) | status */
static uint8_t do_dwz_raw(fixture *f, uint32_t type, const dwz *s, unsigned n, uint32_t extra,
                          uint32_t *used) {
  ch_reset(f);
  put_hdr(f, HDR_GPA, type, 0);
  for (unsigned i = 0; i < n; i++) {
    uint64_t g = DATA_GPA + 16u * i;
    vsim_arena_write64(f->arena, VSIM_SIDE_DRIVER, g, s[i].sector);
    vsim_arena_write32(f->arena, VSIM_SIDE_DRIVER, g + 8, s[i].num);
    vsim_arena_write32(f->arena, VSIM_SIDE_DRIVER, g + 12, s[i].flags);
  }
  ch_add(f, HDR_GPA, sizeof(struct virtio_blk_outhdr), false);
  if (n * 16u + extra) ch_add(f, DATA_GPA, n * 16u + extra, false);
  ch_add(f, STATUS_GPA, 1, true);
  return submit(f, used);
}

static uint8_t do_dwz(fixture *f, uint32_t type, const dwz *s, unsigned n) {
  return do_dwz_raw(f, type, s, n, 0, NULL);
}

static void fill_disk(fixture *f, uint8_t v) {
  uint8_t buf[4096];
  memset(buf, v, sizeof buf);
  for (uint64_t s = 0; s < CAP; s += sizeof buf / 512) do_out(f, s, buf, sizeof buf, NULL);
}

static bool disk_is(fixture *f, uint64_t sector, uint64_t n, uint8_t v) {
  uint64_t bytes = 0;
  const uint8_t *d = vsim_blk_disk(f->be.be, &bytes);
  if ((sector + n) * 512 > bytes) return false;
  for (uint64_t i = sector * 512; i < (sector + n) * 512; i++)
    if (d[i] != v) return false;
  return true;
}

static uint32_t cfg32(fixture *f, size_t off) {
  uint8_t b[4] = {0};
  f->be.ops->config_read(f->be.be, (uint32_t)off, b, 4);
  return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}
static uint64_t cfg64(fixture *f, size_t off) {
  return cfg32(f, off) | ((uint64_t)cfg32(f, off + 4) << 32);
}
#define CFG_OFF(field) offsetof(struct virtio_blk_config, field)

/* ---- tests ---- */

static void test_defaults(void) {
  fixture f;
  if (!fx_ready(&f, NULL)) return;
  const vsim_backend_ops *ops = f.be.ops;
  CHECK(ops == &vsim_devcore_ops);
  CHECK_EQ(ops->device_id(f.be.be), VIRTIO_ID_BLOCK);
  uint64_t want = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_RING_PACKED) | BIT(VIRTIO_F_NOTIFICATION_DATA) |
                  BIT(VIRTIO_F_RING_RESET) | BIT(VIRTIO_F_IN_ORDER) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |
                  BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_BLK_F_SIZE_MAX) |
                  BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_BLK_SIZE) |
                  BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_BLK_F_DISCARD) |
                  BIT(VIRTIO_BLK_F_WRITE_ZEROES);
  CHECK(ops->device_features(f.be.be) == want);
  CHECK_EQ(ops->config_size(f.be.be), sizeof(struct virtio_blk_config));
  CHECK(cfg64(&f, CFG_OFF(capacity)) == CAP);
  CHECK_EQ(cfg32(&f, CFG_OFF(size_max)), 65536);
  CHECK_EQ(cfg32(&f, CFG_OFF(seg_max)), 126);
  CHECK_EQ(cfg32(&f, CFG_OFF(blk_size)), 512);
  CHECK_EQ(cfg32(&f, CFG_OFF(num_queues)) & 0xffff, 1);
  CHECK_EQ(cfg32(&f, CFG_OFF(max_discard_sectors)), CAP);
  CHECK_EQ(cfg32(&f, CFG_OFF(max_discard_seg)), 16);
  CHECK_EQ(cfg32(&f, CFG_OFF(discard_sector_alignment)), 1);
  CHECK_EQ(cfg32(&f, CFG_OFF(max_write_zeroes_sectors)), CAP);
  CHECK_EQ(cfg32(&f, CFG_OFF(max_write_zeroes_seg)), 16);
  CHECK_EQ(cfg32(&f, CFG_OFF(write_zeroes_may_unmap)) & 0xff, 1);
  CHECK_EQ(cfg32(&f, CFG_OFF(unused1)) & 0xffffff, 0);
  CHECK(ops->get_status(f.be.be) & VIRTIO_CONFIG_S_DRIVER_OK);
  uint64_t bytes = 0;
  const uint8_t *d = vsim_blk_disk(f.be.be, &bytes);
  CHECK(d != NULL);
  CHECK(bytes == CAP * 512ull);
  CHECK(disk_is(&f, 0, CAP, 0));
  /* read-only config space: no CONFIG_WCE */
  uint8_t z = 0;
  CHECK(ops->config_write(f.be.be, 0, &z, 1) < 0);
  fx_close(&f);
}

static void test_config_keys(void) {
  fixture f;
  static const char *const k[] = {"capacity", "ro", "blk_size", "seg_max", "size_max",
                                  "serial", "max_discard_sectors", "max_discard_seg",
                                  "max_write_zeroes_sectors", "max_write_zeroes_seg",
                                  "write_zeroes_may_unmap"};
  static const char *const v[] = {"64", "true", "4096", "8", "4096", "disk-7", "32", "3",
                                  "48", "5", "false"};
  opts o = {k, v, 11, 0, 4, false, 0};
  if (!fx_ready(&f, &o)) return;
  uint64_t feat = f.be.ops->device_features(f.be.be);
  CHECK(feat & BIT(VIRTIO_BLK_F_RO));
  CHECK(feat & BIT(VIRTIO_BLK_F_MQ));
  CHECK(cfg64(&f, CFG_OFF(capacity)) == 64);
  CHECK_EQ(cfg32(&f, CFG_OFF(blk_size)), 4096);
  CHECK_EQ(cfg32(&f, CFG_OFF(seg_max)), 8);
  CHECK_EQ(cfg32(&f, CFG_OFF(size_max)), 4096);
  CHECK_EQ(cfg32(&f, CFG_OFF(num_queues)) & 0xffff, 4);
  CHECK_EQ(cfg32(&f, CFG_OFF(max_discard_sectors)), 32);
  CHECK_EQ(cfg32(&f, CFG_OFF(max_discard_seg)), 3);
  CHECK_EQ(cfg32(&f, CFG_OFF(max_write_zeroes_sectors)), 48);
  CHECK_EQ(cfg32(&f, CFG_OFF(max_write_zeroes_seg)), 5);
  CHECK_EQ(cfg32(&f, CFG_OFF(write_zeroes_may_unmap)) & 0xff, 0);
  CHECK_EQ(f.be.ops->num_queues(f.be.be), 4);
  uint64_t bytes = 0;
  vsim_blk_disk(f.be.be, &bytes);
  CHECK(bytes == 64 * 512);
  fx_close(&f);

  /* empty disk: allowed, and limits stay usable (>= 1) */
  static const char *const k0[] = {"capacity"};
  static const char *const v0[] = {"0"};
  opts o0 = {k0, v0, 1, 0, 1, false, 0};
  if (!fx_ready(&f, &o0)) return;
  CHECK(cfg64(&f, CFG_OFF(capacity)) == 0);
  CHECK_EQ(cfg32(&f, CFG_OFF(max_discard_sectors)), 1);
  uint32_t used;
  CHECK_EQ(do_in(&f, 0, 512, &used), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(do_in(&f, 0, 0, &used), VIRTIO_BLK_S_OK);
  fx_close(&f);
}

/* every rejected device_config gives -1 and a message naming the problem */
static void expect_bad(const char *key, const char *val, const char *needle) {
  fixture f;
  const char *k[] = {key};
  const char *v[] = {val};
  opts o = {k, v, 1, 0, 1, false, 0};
  int r = fx_open(&f, &o);
  CHECK_EQ(r, -1);
  if (!strstr(f.err, needle)) {
    fprintf(stderr, "  error for %s=%s lacks \"%s\": %s\n", key, val, needle, f.err);
    CHECK(0);
  }
  if (r == 0) fx_close(&f);
  else vsim_arena_free(f.arena);
}

static void test_config_errors(void) {
  expect_bad("colour", "blue", "\"colour\"");
  expect_bad("capacity", "abc", "capacity");
  expect_bad("capacity", "-1", "capacity");
  expect_bad("capacity", "", "capacity");
  expect_bad("capacity", "12 ", "capacity");
  expect_bad("capacity", "99999999999999999999999", "capacity");
  expect_bad("capacity", "4194304", "capacity"); /* 2 GiB: above the RAM cap */
  expect_bad("blk_size", "1000", "power of two");
  expect_bad("blk_size", "256", "blk_size");
  expect_bad("seg_max", "0", "seg_max");
  expect_bad("seg_max", "4294967296", "seg_max");
  expect_bad("ro", "yes", "true or false");
  expect_bad("write_zeroes_may_unmap", "1", "true or false");
  expect_bad("serial", "123456789012345678901", "at most 20");
  expect_bad("serial", "tab\there", "printable");
  expect_bad("max_discard_seg", "0", "max_discard_seg");
  expect_bad("max_write_zeroes_seg", "100000", "max_write_zeroes_seg");
  expect_bad("image", "", "image");
  expect_bad("image", "/nonexistent/virtio-sim.img", "cannot open");

  /* duplicate key */
  fixture f;
  static const char *const kd[] = {"capacity", "capacity"};
  static const char *const vd[] = {"8", "16"};
  opts od = {kd, vd, 2, 0, 1, false, 0};
  CHECK_EQ(fx_open(&f, &od), -1);
  CHECK(strstr(f.err, "twice") != NULL);
  vsim_arena_free(f.arena);

  /* num_queues > 1 with an offered set that lacks MQ */
  opts om = {NULL, NULL, 0, 0, 2, true, BIT(VIRTIO_F_VERSION_1)};
  CHECK_EQ(fx_open(&f, &om), -1);
  CHECK(strstr(f.err, "MQ") != NULL);
  vsim_arena_free(f.arena);

  /* with MQ offered explicitly it is fine */
  om.offered |= BIT(VIRTIO_BLK_F_MQ);
  CHECK_EQ(fx_open(&f, &om), 0);
  CHECK(f.be.ops->device_features(f.be.be) == (BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_MQ)));
  fx_close(&f);
}

static void test_read_write(void) {
  fixture f;
  if (!fx_ready(&f, NULL)) return;
  uint8_t pat[1024];
  for (unsigned i = 0; i < sizeof pat; i++) pat[i] = (uint8_t)(i * 7 + 3);
  uint32_t used = 0;
  CHECK_EQ(do_out(&f, 5, pat, sizeof pat, &used), VIRTIO_BLK_S_OK);
  CHECK_EQ(used, 1);
  uint64_t bytes;
  const uint8_t *d = vsim_blk_disk(f.be.be, &bytes);
  CHECK(memcmp(d + 5 * 512, pat, sizeof pat) == 0);
  CHECK(disk_is(&f, 4, 1, 0) && disk_is(&f, 7, 1, 0));

  CHECK_EQ(do_in(&f, 5, sizeof pat, &used), VIRTIO_BLK_S_OK);
  CHECK_EQ(used, sizeof pat + 1);
  CHECK(memcmp(gmem(&f, DATA_GPA), pat, sizeof pat) == 0);

  /* scattered: header split 5+11, data in three odd-sized pieces, some empty */
  memset(gmem(&f, 0x20000), 0, 0x3000);
  ch_reset(&f);
  put_hdr(&f, 0x30000, VIRTIO_BLK_T_IN, 5);
  memcpy(gmem(&f, 0x40000), gmem(&f, 0x30000) + 5, 11);
  ch_add(&f, 0x30000, 5, false);
  ch_add(&f, 0x40000, 11, false);
  ch_add(&f, 0x20000, 100, true);
  ch_add(&f, 0x21000, 0, true);
  ch_add(&f, 0x22000, 500, true);
  ch_add(&f, 0x23000, 424, true);
  ch_add(&f, STATUS_GPA, 1, true);
  CHECK_EQ(submit(&f, &used), VIRTIO_BLK_S_OK);
  CHECK_EQ(used, 1025);
  CHECK(memcmp(gmem(&f, 0x20000), pat, 100) == 0);
  CHECK(memcmp(gmem(&f, 0x22000), pat + 100, 500) == 0);
  CHECK(memcmp(gmem(&f, 0x23000), pat + 600, 424) == 0);
  CHECK_EQ(*gmem(&f, 0x20000 + 100), 0); /* nothing past the segment */

  /* status byte sharing a segment with the data (last writable byte) */
  ch_reset(&f);
  put_hdr(&f, HDR_GPA, VIRTIO_BLK_T_IN, 5);
  ch_add(&f, HDR_GPA, 16, false);
  ch_add(&f, 0x50000, 513, true);
  CHECK_EQ(vsim_blk_model_request(f.be.be, 0, &f.chain, &used), 0);
  CHECK_EQ(used, 513);
  CHECK(memcmp(gmem(&f, 0x50000), pat, 512) == 0);
  CHECK_EQ(*gmem(&f, 0x50000 + 512), VIRTIO_BLK_S_OK);

  /* scattered write: data in readable pieces after the header */
  uint8_t pat2[512];
  memset(pat2, 0x5a, sizeof pat2);
  ch_reset(&f);
  put_hdr(&f, HDR_GPA, VIRTIO_BLK_T_OUT, CAP - 1);
  memcpy(gmem(&f, 0x60000), pat2, 200);
  memcpy(gmem(&f, 0x61000), pat2 + 200, 312);
  ch_add(&f, HDR_GPA, 16, false);
  ch_add(&f, 0x60000, 200, false);
  ch_add(&f, 0x61000, 312, false);
  ch_add(&f, STATUS_GPA, 1, true);
  CHECK_EQ(submit(&f, &used), VIRTIO_BLK_S_OK); /* last sector: in range */
  CHECK(disk_is(&f, CAP - 1, 1, 0x5a));
  fx_close(&f);
}

static void test_rw_errors(void) {
  fixture f;
  if (!fx_ready(&f, NULL)) return;
  uint8_t buf[1024];
  memset(buf, 0x77, sizeof buf);
  uint32_t used = 0;
  CHECK_EQ(do_in(&f, 0, 511, &used), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(used, 1);
  CHECK_EQ(do_out(&f, 0, buf, 513, &used), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(used, 1);
  CHECK(disk_is(&f, 0, 2, 0));
  /* crossing the end */
  CHECK_EQ(do_in(&f, CAP - 1, 1024, &used), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(do_out(&f, CAP - 1, buf, 1024, &used), VIRTIO_BLK_S_IOERR);
  CHECK(disk_is(&f, CAP - 1, 1, 0));
  CHECK_EQ(do_in(&f, CAP, 512, &used), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(do_in(&f, CAP, 0, &used), VIRTIO_BLK_S_OK); /* empty range at the end */
  CHECK_EQ(do_in(&f, CAP + 1, 0, &used), VIRTIO_BLK_S_IOERR);
  /* sectors whose byte offset or end would wrap 64 bits */
  CHECK_EQ(do_in(&f, UINT64_MAX, 512, &used), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(do_out(&f, UINT64_MAX, buf, 512, &used), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(do_out(&f, UINT64_MAX - 1, buf, 1024, &used), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(do_out(&f, UINT64_C(1) << 55, buf, 512, &used), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(do_in(&f, (UINT64_MAX / 512) + 1, 512, &used), VIRTIO_BLK_S_IOERR);
  CHECK(disk_is(&f, 0, CAP, 0));
  CHECK_EQ(f.r.violations, 0);
  CHECK_EQ(vsim_arena_fault_count(f.arena), 0);
  fx_close(&f);
}

static void test_layout(void) {
  fixture f;
  if (!fx_ready(&f, NULL)) return;
  uint32_t used = 7;
  /* 15-byte header */
  ch_reset(&f);
  put_hdr(&f, HDR_GPA, VIRTIO_BLK_T_IN, 0);
  ch_add(&f, HDR_GPA, 15, false);
  ch_add(&f, STATUS_GPA, 1, true);
  CHECK_EQ(vsim_blk_model_request(f.be.be, 0, &f.chain, &used), -1);
  /* no writable byte for the status */
  ch_reset(&f);
  ch_add(&f, HDR_GPA, 16, false);
  ch_add(&f, DATA_GPA, 512, false);
  CHECK_EQ(vsim_blk_model_request(f.be.be, 0, &f.chain, &used), -1);
  /* nothing at all */
  ch_reset(&f);
  CHECK_EQ(vsim_blk_model_request(f.be.be, 0, &f.chain, &used), -1);
  /* writable-only chain */
  ch_reset(&f);
  ch_add(&f, STATUS_GPA, 17, true);
  CHECK_EQ(vsim_blk_model_request(f.be.be, 0, &f.chain, &used), -1);
  fx_close(&f);
}

static void test_ro(void) {
  fixture f;
  static const char *const k[] = {"ro"};
  static const char *const v[] = {"true"};
  opts o = {k, v, 1, 0, 1, false, 0};
  if (!fx_ready(&f, &o)) return;
  uint8_t buf[512];
  memset(buf, 0x11, sizeof buf);
  uint32_t used;
  CHECK_EQ(do_out(&f, 0, buf, sizeof buf, &used), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(used, 1);
  CHECK(disk_is(&f, 0, 1, 0));
  CHECK_EQ(do_in(&f, 0, 512, &used), VIRTIO_BLK_S_OK);
  CHECK_EQ(do_bare(&f, VIRTIO_BLK_T_FLUSH, &used), VIRTIO_BLK_S_OK);
  dwz s = {0, 1, 0};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &s, 1), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_WRITE_ZEROES, &s, 1), VIRTIO_BLK_S_IOERR);
  /* RO comes first for every write-type request, also with bad flags (the
   * driver model's flag check accepts IOERR under RO, its RO check nothing else) */
  dwz u = {0, 1, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &u, 1), VIRTIO_BLK_S_IOERR);
  dwz bad = {0, 1, 0x8};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_WRITE_ZEROES, &bad, 1), VIRTIO_BLK_S_IOERR);
  CHECK(disk_is(&f, 0, 1, 0));
  fx_close(&f);

  /* RO offered through an override (ro=false): still read-only */
  opts o2 = {NULL, NULL, 0, 0, 1, true,
             BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_RO)};
  if (!fx_ready(&f, &o2)) return;
  CHECK_EQ(do_out(&f, 0, buf, sizeof buf, &used), VIRTIO_BLK_S_IOERR);
  CHECK(disk_is(&f, 0, 1, 0));
  fx_close(&f);

  /* RO offered but not accepted by the driver: the MUST is about "offered";
   * discard not negotiated either: still IOERR, RO is looked at first */
  if (!fx_ready(&f, &o)) return;
  f.be.ops->set_status(f.be.be, 0);
  negotiate(&f, BIT(VIRTIO_F_VERSION_1));
  CHECK_EQ(do_out(&f, 0, buf, sizeof buf, &used), VIRTIO_BLK_S_IOERR);
  CHECK(disk_is(&f, 0, 1, 0));
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &s, 1), VIRTIO_BLK_S_IOERR);
  fx_close(&f);
}

static void test_flush(void) {
  fixture f;
  if (!fx_ready(&f, NULL)) return;
  uint32_t used = 0;
  CHECK_EQ(do_bare(&f, VIRTIO_BLK_T_FLUSH, &used), VIRTIO_BLK_S_OK);
  CHECK_EQ(used, 1);
  /* renegotiate without FLUSH */
  f.be.ops->set_status(f.be.be, 0);
  uint8_t st = negotiate(&f, BIT(VIRTIO_F_VERSION_1));
  CHECK(st & VIRTIO_CONFIG_S_DRIVER_OK);
  CHECK_EQ(do_bare(&f, VIRTIO_BLK_T_FLUSH, &used), VIRTIO_BLK_S_UNSUPP);
  CHECK_EQ(used, 1);
  fx_close(&f);
}

static void test_unknown_types(void) {
  fixture f;
  if (!fx_ready(&f, NULL)) return;
  static const uint32_t types[] = {2 /* legacy SCSI */, 3, VIRTIO_BLK_T_SECURE_ERASE, 10,
                                   0x80000000u /* legacy barrier bit */, UINT32_MAX};
  for (unsigned i = 0; i < sizeof types / sizeof types[0]; i++) {
    uint32_t used = 0;
    CHECK_EQ(do_bare(&f, types[i], &used), VIRTIO_BLK_S_UNSUPP);
    CHECK_EQ(used, 1);
  }
  fx_close(&f);
}

static uint8_t do_get_id(fixture *f, uint32_t len, uint32_t *used) {
  ch_reset(f);
  put_hdr(f, HDR_GPA, VIRTIO_BLK_T_GET_ID, 0);
  memset(gmem(f, DATA_GPA), 0xAA, 64);
  ch_add(f, HDR_GPA, 16, false);
  if (len) ch_add(f, DATA_GPA, len, true);
  ch_add(f, STATUS_GPA, 1, true);
  return submit(f, used);
}

static void test_get_id(void) {
  fixture f;
  if (!fx_ready(&f, NULL)) return;
  uint32_t used = 0;
  CHECK_EQ(do_get_id(&f, 20, &used), VIRTIO_BLK_S_OK);
  CHECK_EQ(used, 21);
  static const uint8_t want[20] = "virtio-sim-blk"; /* NUL-padded */
  CHECK(memcmp(gmem(&f, DATA_GPA), want, 20) == 0);
  /* short buffer: write what fits */
  CHECK_EQ(do_get_id(&f, 8, &used), VIRTIO_BLK_S_OK);
  CHECK_EQ(used, 9);
  CHECK(memcmp(gmem(&f, DATA_GPA), want, 8) == 0);
  CHECK_EQ(*gmem(&f, DATA_GPA + 8), 0xAA);
  /* long buffer: exactly 20 bytes, the rest untouched */
  CHECK_EQ(do_get_id(&f, 30, &used), VIRTIO_BLK_S_OK);
  CHECK_EQ(used, 21);
  CHECK(memcmp(gmem(&f, DATA_GPA), want, 20) == 0);
  CHECK_EQ(*gmem(&f, DATA_GPA + 20), 0xAA);
  CHECK_EQ(*gmem(&f, DATA_GPA + 28), 0xAA);
  /* no data at all */
  CHECK_EQ(do_get_id(&f, 0, &used), VIRTIO_BLK_S_OK);
  CHECK_EQ(used, 1);
  fx_close(&f);

  /* a 20-byte serial has no terminator */
  static const char *const k[] = {"serial"};
  static const char *const v[] = {"ABCDEFGHIJKLMNOPQRST"};
  opts o = {k, v, 1, 0, 1, false, 0};
  if (!fx_ready(&f, &o)) return;
  CHECK_EQ(do_get_id(&f, 20, &used), VIRTIO_BLK_S_OK);
  CHECK(memcmp(gmem(&f, DATA_GPA), "ABCDEFGHIJKLMNOPQRST", 20) == 0);
  fx_close(&f);

  /* an empty serial is all NULs */
  static const char *const v0[] = {""};
  opts o0 = {k, v0, 1, 0, 1, false, 0};
  if (!fx_ready(&f, &o0)) return;
  CHECK_EQ(do_get_id(&f, 20, &used), VIRTIO_BLK_S_OK);
  static const uint8_t zeros[20] = {0};
  CHECK(memcmp(gmem(&f, DATA_GPA), zeros, 20) == 0);
  fx_close(&f);
}

static void test_discard(void) {
  fixture f;
  if (!fx_ready(&f, NULL)) return;
  fill_disk(&f, 0xff);
  uint32_t used = 0;
  dwz two[2] = {{10, 4, 0}, {100, 1, 0}};
  CHECK_EQ(do_dwz_raw(&f, VIRTIO_BLK_T_DISCARD, two, 2, 0, &used), VIRTIO_BLK_S_OK);
  CHECK_EQ(used, 1);
  CHECK(disk_is(&f, 10, 4, 0) && disk_is(&f, 100, 1, 0));
  CHECK(disk_is(&f, 9, 1, 0xff) && disk_is(&f, 14, 1, 0xff) && disk_is(&f, 101, 1, 0xff));
  /* whole disk in one segment, and an empty segment */
  dwz all = {0, CAP, 0}, none = {5, 0, 0};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &none, 1), VIRTIO_BLK_S_OK);
  fill_disk(&f, 0xff);
  /* unmap is forbidden on discard: UNSUPP, nothing done */
  dwz unmap = {0, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &unmap, 1), VIRTIO_BLK_S_UNSUPP);
  dwz unk = {0, 8, 0x2};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &unk, 1), VIRTIO_BLK_S_UNSUPP);
  dwz hi = {0, 8, 0x80000000u};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &hi, 1), VIRTIO_BLK_S_UNSUPP);
  /* a bad flag in the second segment also stops the first one */
  dwz mixed[2] = {{0, 8, 0}, {20, 1, 0x4}};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, mixed, 2), VIRTIO_BLK_S_UNSUPP);
  /* flags beat range errors */
  dwz mixed2[2] = {{CAP, 8, 0}, {20, 1, 0x4}};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, mixed2, 2), VIRTIO_BLK_S_UNSUPP);
  CHECK(disk_is(&f, 0, CAP, 0xff));
  /* ranges */
  dwz past = {CAP - 1, 2, 0}, at_end = {CAP, 1, 0}, wrap = {UINT64_MAX, 2, 0},
      wrap2 = {UINT64_MAX - 3, 8, 0}, big = {UINT64_C(1) << 60, 1, 0};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &past, 1), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &at_end, 1), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &wrap, 1), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &wrap2, 1), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &big, 1), VIRTIO_BLK_S_IOERR);
  /* an out-of-range second segment: IOERR and (our choice) nothing applied */
  dwz partial[2] = {{0, 8, 0}, {CAP, 1, 0}};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, partial, 2), VIRTIO_BLK_S_IOERR);
  CHECK(disk_is(&f, 0, CAP, 0xff));
  /* payload shape */
  CHECK_EQ(do_dwz_raw(&f, VIRTIO_BLK_T_DISCARD, two, 1, 8, &used), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(do_dwz_raw(&f, VIRTIO_BLK_T_DISCARD, two, 0, 0, &used), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(do_dwz_raw(&f, VIRTIO_BLK_T_DISCARD, two, 0, 15, &used), VIRTIO_BLK_S_IOERR);
  /* segment count: 16 is the limit */
  dwz many[17];
  for (unsigned i = 0; i < 17; i++) many[i] = (dwz){i * 2u, 1, 0};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, many, 17), VIRTIO_BLK_S_IOERR);
  CHECK(disk_is(&f, 0, CAP, 0xff));
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, many, 16), VIRTIO_BLK_S_OK);
  CHECK(disk_is(&f, 30, 1, 0) && disk_is(&f, 31, 1, 0xff) && disk_is(&f, 32, 1, 0xff));
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &all, 1), VIRTIO_BLK_S_OK);
  CHECK(disk_is(&f, 0, CAP, 0));
  CHECK_EQ(vsim_arena_fault_count(f.arena), 0);
  fx_close(&f);

  /* per-segment sector limit from device_config */
  static const char *const k[] = {"max_discard_sectors", "max_discard_seg"};
  static const char *const v[] = {"8", "2"};
  opts o = {k, v, 2, 0, 1, false, 0};
  if (!fx_ready(&f, &o)) return;
  dwz ok8 = {0, 8, 0}, over = {0, 9, 0};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &ok8, 1), VIRTIO_BLK_S_OK);
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &over, 1), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, many, 2), VIRTIO_BLK_S_OK);
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, many, 3), VIRTIO_BLK_S_IOERR);
  /* the write-zeroes limits are separate */
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_WRITE_ZEROES, &over, 1), VIRTIO_BLK_S_OK);
  fx_close(&f);

  /* not negotiated: UNSUPP, even for a well-formed request */
  if (!fx_ready(&f, NULL)) return;
  f.be.ops->set_status(f.be.be, 0);
  negotiate(&f, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_WRITE_ZEROES));
  fill_disk(&f, 0xff);
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &ok8, 1), VIRTIO_BLK_S_UNSUPP);
  CHECK(disk_is(&f, 0, 8, 0xff));
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_WRITE_ZEROES, &ok8, 1), VIRTIO_BLK_S_OK);
  CHECK(disk_is(&f, 0, 8, 0));
  fx_close(&f);
}

static void test_write_zeroes(void) {
  fixture f;
  if (!fx_ready(&f, NULL)) return;
  fill_disk(&f, 0xee);
  uint32_t used = 0;
  dwz s[2] = {{3, 2, 0}, {50, 3, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP}};
  CHECK_EQ(do_dwz_raw(&f, VIRTIO_BLK_T_WRITE_ZEROES, s, 2, 0, &used), VIRTIO_BLK_S_OK);
  CHECK_EQ(used, 1);
  CHECK(disk_is(&f, 3, 2, 0) && disk_is(&f, 50, 3, 0));
  CHECK(disk_is(&f, 2, 1, 0xee) && disk_is(&f, 5, 1, 0xee) && disk_is(&f, 53, 1, 0xee));
  /* reads after write-zeroes return zeroes (the check BLK_DEV_ZEROES) */
  CHECK_EQ(do_in(&f, 3, 1024, &used), VIRTIO_BLK_S_OK);
  static const uint8_t z[1024];
  CHECK(memcmp(gmem(&f, DATA_GPA), z, sizeof z) == 0);
  dwz unk = {0, 1, 0x2};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_WRITE_ZEROES, &unk, 1), VIRTIO_BLK_S_UNSUPP);
  CHECK(disk_is(&f, 0, 1, 0xee));
  dwz past = {CAP - 2, 3, 0}, wrap = {UINT64_MAX - 1, 4, 0};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_WRITE_ZEROES, &past, 1), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_WRITE_ZEROES, &wrap, 1), VIRTIO_BLK_S_IOERR);
  CHECK(disk_is(&f, CAP - 2, 2, 0xee));
  CHECK_EQ(do_dwz_raw(&f, VIRTIO_BLK_T_WRITE_ZEROES, s, 1, 1, &used), VIRTIO_BLK_S_IOERR);
  fx_close(&f);

  static const char *const k[] = {"max_write_zeroes_seg", "max_write_zeroes_sectors"};
  static const char *const v[] = {"2", "4"};
  opts o = {k, v, 2, 0, 1, false, 0};
  if (!fx_ready(&f, &o)) return;
  dwz three[3] = {{0, 1, 0}, {2, 1, 0}, {4, 1, 0}};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_WRITE_ZEROES, three, 3), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_WRITE_ZEROES, three, 2), VIRTIO_BLK_S_OK);
  dwz five = {0, 5, 0};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_WRITE_ZEROES, &five, 1), VIRTIO_BLK_S_IOERR);
  fx_close(&f);

  /* not negotiated */
  if (!fx_ready(&f, NULL)) return;
  f.be.ops->set_status(f.be.be, 0);
  negotiate(&f, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_DISCARD));
  dwz one = {0, 1, 0};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_WRITE_ZEROES, &one, 1), VIRTIO_BLK_S_UNSUPP);
  fx_close(&f);
}

static void test_image(void) {
  char path[] = "/tmp/vsim-blk-test-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  uint8_t img[4 * 512];
  for (unsigned i = 0; i < sizeof img; i++) img[i] = (uint8_t)(i / 512 + 0x40 + (i & 3));
  CHECK_EQ(write(fd, img, sizeof img), (long long)sizeof img);
  close(fd);

  fixture f;
  const char *k[] = {"image"};
  const char *v[] = {path};
  opts o = {k, v, 1, 0, 1, false, 0};
  if (fx_ready(&f, &o)) {
    CHECK(cfg64(&f, CFG_OFF(capacity)) == 4);
    CHECK_EQ(cfg32(&f, CFG_OFF(max_discard_sectors)), 4);
    uint32_t used;
    CHECK_EQ(do_in(&f, 3, 512, &used), VIRTIO_BLK_S_OK);
    CHECK(memcmp(gmem(&f, DATA_GPA), img + 3 * 512, 512) == 0);
    CHECK_EQ(do_in(&f, 4, 512, &used), VIRTIO_BLK_S_IOERR);
    uint8_t w[512];
    memset(w, 0x99, sizeof w);
    CHECK_EQ(do_out(&f, 0, w, sizeof w, &used), VIRTIO_BLK_S_OK);
    CHECK(disk_is(&f, 0, 1, 0x99));
    fx_close(&f);
  }
  /* the file itself was never written */
  uint8_t back[sizeof img];
  FILE *fp = fopen(path, "rb");
  CHECK(fp != NULL);
  if (fp) {
    CHECK_EQ(fread(back, 1, sizeof back, fp), sizeof back);
    fclose(fp);
    CHECK(memcmp(back, img, sizeof img) == 0);
  }

  /* capacity agreeing with the image is fine, contradicting it is not */
  const char *k2[] = {"image", "capacity"};
  const char *v2[] = {path, "4"};
  opts o2 = {k2, v2, 2, 0, 1, false, 0};
  CHECK_EQ(fx_open(&f, &o2), 0);
  fx_close(&f);
  v2[1] = "8";
  CHECK_EQ(fx_open(&f, &o2), -1);
  CHECK(strstr(f.err, "contradicts") != NULL);
  vsim_arena_free(f.arena);

  /* size not a multiple of 512 */
  fp = fopen(path, "ab");
  if (fp) {
    fputc('x', fp);
    fclose(fp);
  }
  CHECK_EQ(fx_open(&f, &o), -1);
  CHECK(strstr(f.err, "multiple of 512") != NULL);
  vsim_arena_free(f.arena);
  unlink(path);

  /* a directory is not an image */
  const char *vd[] = {"/tmp"};
  opts od = {k, vd, 1, 0, 1, false, 0};
  CHECK_EQ(fx_open(&f, &od), -1);
  CHECK(strstr(f.err, "regular file") != NULL);
  vsim_arena_free(f.arena);
}

static void test_reset_keeps_disk(void) {
  fixture f;
  if (!fx_ready(&f, NULL)) return;
  uint8_t buf[512];
  memset(buf, 0x42, sizeof buf);
  uint32_t used;
  CHECK_EQ(do_out(&f, 9, buf, sizeof buf, &used), VIRTIO_BLK_S_OK);
  f.be.ops->set_status(f.be.be, 0);
  CHECK_EQ(f.be.ops->get_status(f.be.be), 0);
  CHECK(disk_is(&f, 9, 1, 0x42));
  negotiate_all(&f);
  CHECK_EQ(do_in(&f, 9, 512, &used), VIRTIO_BLK_S_OK);
  CHECK(memcmp(gmem(&f, DATA_GPA), buf, sizeof buf) == 0);
  fx_close(&f);
}

static void test_features_ok(void) {
  fixture f;
  /* without VERSION_1: accepted (our documented choice) */
  if (!fx_ready(&f, NULL)) return;
  f.be.ops->set_status(f.be.be, 0);
  uint8_t st = negotiate(&f, BIT(VIRTIO_BLK_F_FLUSH));
  CHECK(st & VIRTIO_CONFIG_S_FEATURES_OK);
  /* an unoffered bit is refused (by the core) */
  f.be.ops->set_status(f.be.be, 0);
  st = negotiate(&f, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_GEOMETRY));
  CHECK(!(st & VIRTIO_CONFIG_S_FEATURES_OK));
  fx_close(&f);
  /* several queues but MQ not accepted: accepted, queue 0 only */
  opts o = {NULL, NULL, 0, 0, 3, false, 0};
  if (!fx_ready(&f, &o)) return;
  f.be.ops->set_status(f.be.be, 0);
  st = negotiate(&f, BIT(VIRTIO_F_VERSION_1));
  CHECK(st & VIRTIO_CONFIG_S_FEATURES_OK);
  fx_close(&f);
}

/* ---- mutants ---- */

static void test_mut_ro_write(void) {
  fixture f;
  static const char *const k[] = {"ro"};
  static const char *const v[] = {"true"};
  opts o = {k, v, 1, TMUT(DEV_BLK_RO_WRITE), 1, false, 0};
  if (!fx_ready(&f, &o)) return;
  uint8_t buf[512];
  memset(buf, 0x33, sizeof buf);
  uint32_t used;
  CHECK_EQ(do_out(&f, 1, buf, sizeof buf, &used), VIRTIO_BLK_S_OK);
  CHECK(disk_is(&f, 1, 1, 0x33));
  /* range checks still hold in the mutant */
  CHECK_EQ(do_out(&f, UINT64_MAX, buf, sizeof buf, &used), VIRTIO_BLK_S_IOERR);
  fx_close(&f);
}

static void test_mut_discard_unmap(void) {
  fixture f;
  opts o = {NULL, NULL, 0, TMUT(DEV_BLK_DISCARD_UNMAP), 1, false, 0};
  if (!fx_ready(&f, &o)) return;
  fill_disk(&f, 0xff);
  dwz unmap = {0, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &unmap, 1), VIRTIO_BLK_S_OK);
  CHECK(disk_is(&f, 0, 8, 0));
  dwz unk = {0, 8, 0x2};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &unk, 1), VIRTIO_BLK_S_UNSUPP);
  fx_close(&f);
}

static void test_mut_zeroes_noop(void) {
  fixture f;
  opts o = {NULL, NULL, 0, TMUT(DEV_BLK_ZEROES_NOOP), 1, false, 0};
  if (!fx_ready(&f, &o)) return;
  fill_disk(&f, 0xab);
  dwz s = {4, 4, 0};
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_WRITE_ZEROES, &s, 1), VIRTIO_BLK_S_OK);
  CHECK(disk_is(&f, 4, 4, 0xab));
  /* discard is not affected by this mutant */
  CHECK_EQ(do_dwz(&f, VIRTIO_BLK_T_DISCARD, &s, 1), VIRTIO_BLK_S_OK);
  CHECK(disk_is(&f, 4, 4, 0));
  fx_close(&f);
}

static void test_mut_bad_status(void) {
  fixture f;
  opts o = {NULL, NULL, 0, TMUT(DEV_BLK_BAD_STATUS), 1, false, 0};
  if (!fx_ready(&f, &o)) return;
  uint32_t used;
  CHECK_EQ(do_in(&f, 0, 512, &used), 7);
  CHECK_EQ(do_bare(&f, VIRTIO_BLK_T_FLUSH, &used), 7);
  CHECK_EQ(do_bare(&f, 99, &used), 7);
  fx_close(&f);
}

static void test_mut_write_ro(void) {
  fixture f;
  /* correct model: the header is left alone */
  if (!fx_ready(&f, NULL)) return;
  uint32_t used;
  CHECK_EQ(do_in(&f, 0, 512, &used), VIRTIO_BLK_S_OK);
  CHECK_EQ(*gmem(&f, HDR_GPA), VIRTIO_BLK_T_IN);
  fx_close(&f);

  opts o = {NULL, NULL, 0, TMUT(DEV_WRITE_RO), 1, false, 0};
  if (!fx_ready(&f, &o)) return;
  CHECK_EQ(do_in(&f, 0, 512, &used), VIRTIO_BLK_S_OK); /* request still served */
  CHECK(*gmem(&f, HDR_GPA) != VIRTIO_BLK_T_IN);
  CHECK_EQ(f.r.violations, 0); /* the device does not report itself */
  fx_close(&f);
}

static void test_mut_oob(void) {
  fixture f;
  if (!fx_ready(&f, NULL)) return;
  uint32_t used;
  CHECK_EQ(do_in(&f, 0, 512, &used), VIRTIO_BLK_S_OK);
  CHECK_EQ(vsim_arena_fault_count(f.arena), 0);
  fx_close(&f);

  opts o = {NULL, NULL, 0, TMUT(DEV_OOB), 1, false, 0};
  if (!fx_ready(&f, &o)) return;
  CHECK_EQ(do_in(&f, 0, 512, &used), VIRTIO_BLK_S_OK);
  CHECK_EQ(vsim_arena_fault_count(f.arena), 1);
  fx_close(&f);
}

/* ---- through the device core's worker and a hand-written split ring ---- */

#define RING_DESC 0x80000u
#define RING_AVAIL 0x81000u
#define RING_USED 0x82000u
#define RING_SIZE 8u

static void put_desc(fixture *f, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next) {
  uint64_t g = RING_DESC + (uint64_t)i * sizeof(struct vring_desc);
  vsim_arena_write64(f->arena, VSIM_SIDE_DRIVER, g + offsetof(struct vring_desc, addr), addr);
  vsim_arena_write32(f->arena, VSIM_SIDE_DRIVER, g + offsetof(struct vring_desc, len), len);
  vsim_arena_write16(f->arena, VSIM_SIDE_DRIVER, g + offsetof(struct vring_desc, flags), flags);
  vsim_arena_write16(f->arena, VSIM_SIDE_DRIVER, g + offsetof(struct vring_desc, next), next);
}

static void publish(fixture *f, uint16_t idx, uint16_t head) {
  vsim_arena_write16(f->arena, VSIM_SIDE_DRIVER,
                     RING_AVAIL + offsetof(struct vring_avail, ring) +
                         2u * ((idx - 1u) % RING_SIZE),
                     head);
  vsim_arena_write16(f->arena, VSIM_SIDE_DRIVER, RING_AVAIL + offsetof(struct vring_avail, idx),
                     idx);
}

static uint16_t used_idx(fixture *f) {
  uint16_t v = 0;
  vsim_arena_read16(f->arena, VSIM_SIDE_DRIVER, RING_USED + offsetof(struct vring_used, idx), &v);
  return v;
}

static uint32_t used_len_at(fixture *f, uint16_t slot) {
  uint32_t v = 0;
  vsim_arena_read32(f->arena, VSIM_SIDE_DRIVER,
                    RING_USED + offsetof(struct vring_used, ring) +
                        slot * sizeof(struct vring_used_elem) +
                        offsetof(struct vring_used_elem, len),
                    &v);
  return v;
}

static void test_worker_roundtrip(void) {
  fixture f;
  if (fx_open(&f, NULL)) {
    CHECK(0);
    vsim_arena_free(f.arena);
    return;
  }
  const vsim_backend_ops *ops = f.be.ops;
  void *be = f.be.be;
  /* the driver's initialisation order: queues are set up before DRIVER_OK */
  uint8_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
  ops->set_status(be, VIRTIO_CONFIG_S_ACKNOWLEDGE);
  ops->set_status(be, st);
  ops->set_driver_features(be, BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_BLK_F_FLUSH));
  st |= VIRTIO_CONFIG_S_FEATURES_OK;
  ops->set_status(be, st);
  vsim_queue_cfg qc = {RING_SIZE, RING_DESC, RING_AVAIL, RING_USED};
  CHECK_EQ(ops->queue_ready(be, 0, &qc), 0);
  ops->set_status(be, st | VIRTIO_CONFIG_S_DRIVER_OK);

  /* OUT: header | 512 bytes | status */
  memset(gmem(&f, DATA_GPA), 0x6c, 512);
  put_hdr(&f, HDR_GPA, VIRTIO_BLK_T_OUT, 7);
  put_desc(&f, 0, HDR_GPA, 16, VRING_DESC_F_NEXT, 1);
  put_desc(&f, 1, DATA_GPA, 512, VRING_DESC_F_NEXT, 2);
  put_desc(&f, 2, STATUS_GPA, 1, VRING_DESC_F_WRITE, 0);
  publish(&f, 1, 0);
  ops->queue_notify(be, 0, 0);
  CHECK(ops->queue_runnable(be, 0));
  CHECK_EQ(ops->queue_run(be, 0, 16), 1);
  CHECK_EQ(used_idx(&f), 1);
  CHECK_EQ(used_len_at(&f, 0), 1);
  CHECK_EQ(*gmem(&f, STATUS_GPA), VIRTIO_BLK_S_OK);
  CHECK(disk_is(&f, 7, 1, 0x6c));
  CHECK(f.r.interrupts >= 1);

  /* IN of the same sector into a fresh buffer */
  put_hdr(&f, HDR_GPA + 0x100, VIRTIO_BLK_T_IN, 7);
  put_desc(&f, 3, HDR_GPA + 0x100, 16, VRING_DESC_F_NEXT, 4);
  put_desc(&f, 4, DATA_GPA + 0x1000, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 5);
  put_desc(&f, 5, STATUS_GPA + 1, 1, VRING_DESC_F_WRITE, 0);
  publish(&f, 2, 3);
  ops->queue_notify(be, 0, 0);
  while (ops->queue_runnable(be, 0) && ops->queue_run(be, 0, 16) > 0) {
  }
  CHECK_EQ(used_idx(&f), 2);
  CHECK_EQ(used_len_at(&f, 1), 513);
  CHECK_EQ(*gmem(&f, STATUS_GPA + 1), VIRTIO_BLK_S_OK);
  CHECK(memcmp(gmem(&f, DATA_GPA + 0x1000), gmem(&f, DATA_GPA), 512) == 0);

  /* a chain with no writable byte: the device cannot answer -> NEEDS_RESET,
   * announced by a config-change notification */
  unsigned cc = f.r.config_changes;
  put_desc(&f, 6, HDR_GPA, 16, 0, 0);
  publish(&f, 3, 6);
  ops->queue_notify(be, 0, 0);
  ops->queue_run(be, 0, 16);
  CHECK(ops->get_status(be) & VIRTIO_CONFIG_S_NEEDS_RESET);
  CHECK_EQ(f.r.config_changes, cc + 1);
  CHECK_EQ(used_idx(&f), 2);
  CHECK_EQ(vsim_arena_fault_count(f.arena), 0);
  fx_close(&f);
}

/* SEG_MAX and SIZE_MAX are this device's limits once negotiated: a chain with
 * more than seg_max data segments, or one segment above size_max, is IOERR. */
static void test_seg_size_limits(void) {
  static const char *const keys[] = {"seg_max", "size_max"};
  static const char *const vals[] = {"2", "1024"};
  opts o = {keys, vals, 2, 0, 1, false, 0};
  fixture f;
  if (!fx_ready(&f, &o)) return;
  uint32_t used = 0;
  /* two data segments of 512: within both limits */
  ch_reset(&f);
  put_hdr(&f, HDR_GPA, VIRTIO_BLK_T_IN, 0);
  ch_add(&f, HDR_GPA, 16, false);
  ch_add(&f, DATA_GPA, 512, true);
  ch_add(&f, DATA_GPA + 512, 512, true);
  ch_add(&f, STATUS_GPA, 1, true);
  CHECK_EQ(submit(&f, &used), VIRTIO_BLK_S_OK);
  /* three data segments: one more than seg_max */
  ch_reset(&f);
  put_hdr(&f, HDR_GPA, VIRTIO_BLK_T_IN, 0);
  ch_add(&f, HDR_GPA, 16, false);
  for (int i = 0; i < 3; i++) ch_add(&f, DATA_GPA + 512u * (unsigned)i, 512, true);
  ch_add(&f, STATUS_GPA, 1, true);
  CHECK_EQ(submit(&f, &used), VIRTIO_BLK_S_IOERR);
  CHECK_EQ(used, 1);
  /* one 2048-byte segment: above size_max */
  ch_reset(&f);
  put_hdr(&f, HDR_GPA, VIRTIO_BLK_T_IN, 0);
  ch_add(&f, HDR_GPA, 16, false);
  ch_add(&f, DATA_GPA, 2048, true);
  ch_add(&f, STATUS_GPA, 1, true);
  CHECK_EQ(submit(&f, &used), VIRTIO_BLK_S_IOERR);
  fx_close(&f);
}

int main(void) {
  RUN(test_defaults);
  RUN(test_seg_size_limits);
  RUN(test_config_keys);
  RUN(test_config_errors);
  RUN(test_read_write);
  RUN(test_rw_errors);
  RUN(test_layout);
  RUN(test_ro);
  RUN(test_flush);
  RUN(test_unknown_types);
  RUN(test_get_id);
  RUN(test_discard);
  RUN(test_write_zeroes);
  RUN(test_image);
  RUN(test_reset_keeps_disk);
  RUN(test_features_ok);
  RUN(test_mut_ro_write);
  RUN(test_mut_discard_unmap);
  RUN(test_mut_zeroes_noop);
  RUN(test_mut_bad_status);
  RUN(test_mut_write_ro);
  RUN(test_mut_oob);
  RUN(test_worker_roundtrip);
  TEST_MAIN_END();
}
