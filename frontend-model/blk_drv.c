/* frontend-model/blk_drv.c — the virtio-blk driver model (see blk_drv.h). */
#include <stddef.h>
#include <stdio.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include "arena_fast.h"
#include "blk_drv.h"
#include "virtio_compat.h"
#include "prng.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"

#define SECTOR 512u
#define SHADOW_LIMIT (UINT64_C(256) << 20) /* larger disks are not shadowed */
#define GUEST_PAGE 4096u
#define MAX_SEGS 64u
/* segments of a DISCARD / WRITE_ZEROES payload the driver reads back */
#define MAX_DWZ_SEGS 64

enum { SECT_UNKNOWN = 0, SECT_WRITTEN = 1, SECT_ZEROED = 2 };

uint64_t vsim_blk_drv_understood(void) {
  const unsigned bits[] = {VIRTIO_BLK_F_SIZE_MAX,
                           VIRTIO_BLK_F_SEG_MAX,    VIRTIO_BLK_F_GEOMETRY,
                           VIRTIO_BLK_F_RO,         VIRTIO_BLK_F_BLK_SIZE,
                           VIRTIO_BLK_F_FLUSH,      VIRTIO_BLK_F_TOPOLOGY,
                           VIRTIO_BLK_F_MQ,         VIRTIO_BLK_F_DISCARD,
                           VIRTIO_BLK_F_WRITE_ZEROES};
  uint64_t f = vsim_driver_core_features();
  for (unsigned i = 0; i < sizeof bits / sizeof bits[0]; i++) f |= UINT64_C(1) << bits[i];
  return f;
}

static void violation(vsim_blk_drv *b, int check, int q, const char *msg) {
  b->sink->violation(b->sink->ctx, check, q, msg);
}

static void failf(vsim_blk_drv *b, const vsim_step *st, uint32_t idx, const char *what) {
  char msg[256];
  snprintf(msg, sizeof msg, "step %u (%s, line %u): %s", idx, vsim_op_name(st->op), st->line,
           what);
  b->fail(b->fail_ctx, msg);
}

int vsim_blk_drv_init(vsim_blk_drv *b, vsim_driver *drv, const vsim_host *sink,
                      vsim_expect_fail_fn fail, void *fail_ctx) {
  memset(b, 0, sizeof *b);
  b->drv = drv;
  b->sink = sink;
  b->fail = fail;
  b->fail_ctx = fail_ctx;
  b->nq = drv->cfg.num_queues;
  b->qsize = drv->cfg.queue_size;
  b->req = calloc((size_t)b->nq * b->qsize, sizeof *b->req);
  b->words = (b->qsize + 63u) / 64u;
  b->busy_map = calloc((size_t)b->nq * b->words, sizeof *b->busy_map);
  return b->req && b->busy_map ? 0 : -1;
}

void vsim_blk_drv_fini(vsim_blk_drv *b) {
  free(b->req);
  free(b->busy_map);
  b->busy_map = NULL;
  free(b->shadow);
  free(b->known);
  b->req = NULL;
  b->shadow = b->known = NULL;
}

static bool has(const vsim_blk_drv *b, unsigned bit) { return (b->drv->features >> bit) & 1u; }

/* What the device's offer and config space must say at initialisation
 * (devicenormative: Block Device / Device Initialization). Padding bytes are
 * read only where the layout reaches them: a field after them exists only
 * when its feature is offered. */
static void check_device_init(vsim_blk_drv *b) {
  uint64_t off = b->drv->offered;
#define OFFERS(f) ((off >> (f)) & 1u)
  char msg[128];
  if (OFFERS(VIRTIO_BLK_F_CONFIG_WCE) && !OFFERS(VIRTIO_BLK_F_FLUSH)) {
    snprintf(msg, sizeof msg, "device features 0x%016" PRIx64 " offer CONFIG_WCE without FLUSH", off);
    violation(b, VSIM_CHK_BLK_DEV_WCE_FLUSH, -1, msg);
  }
  uint32_t pad0 = 0, pad1 = 0;
  bool has_pad0 = OFFERS(VIRTIO_BLK_F_CONFIG_WCE) || OFFERS(VIRTIO_BLK_F_MQ) || OFFERS(VIRTIO_BLK_F_DISCARD) ||
                  OFFERS(VIRTIO_BLK_F_WRITE_ZEROES) || OFFERS(VIRTIO_BLK_F_SECURE_ERASE) || OFFERS(VIRTIO_BLK_F_ZONED);
  bool has_pad1 = OFFERS(VIRTIO_BLK_F_WRITE_ZEROES) || OFFERS(VIRTIO_BLK_F_SECURE_ERASE) || OFFERS(VIRTIO_BLK_F_ZONED);
#undef OFFERS
  if (has_pad0) pad0 = (uint32_t)vsim_driver_config_read(b->drv, offsetof(struct virtio_blk_config, unused), 1);
  if (has_pad1) {
    uint32_t at = (uint32_t)offsetof(struct virtio_blk_config, unused1);
    pad1 = (uint32_t)vsim_driver_config_read(b->drv, at, 1) |
           (uint32_t)vsim_driver_config_read(b->drv, at + 1, 2) << 8;
  }
  if (pad0 || pad1) {
    snprintf(msg, sizeof msg, "config padding reads unused0 0x%02x, unused1 0x%06x", pad0, pad1);
    violation(b, VSIM_CHK_BLK_DEV_CONFIG_PAD, -1, msg);
  }
}

/* The fields of struct virtio_blk_config and the feature that makes each one
 * meaningful (-1: always). writeback (CONFIG_WCE) is left out: the driver
 * may write it once FEATURES_OK is set. */
#define BLK_CFG(field) offsetof(struct virtio_blk_config, field), sizeof(((struct virtio_blk_config *)0)->field)
static const struct blk_cfg_field {
  uint16_t off;
  uint8_t width;
  int feature;
} blk_cfg_fields[] = {
    {BLK_CFG(capacity), -1},
    {BLK_CFG(size_max), VIRTIO_BLK_F_SIZE_MAX},
    {BLK_CFG(seg_max), VIRTIO_BLK_F_SEG_MAX},
    {BLK_CFG(geometry.cylinders), VIRTIO_BLK_F_GEOMETRY},
    {BLK_CFG(geometry.heads), VIRTIO_BLK_F_GEOMETRY},
    {BLK_CFG(geometry.sectors), VIRTIO_BLK_F_GEOMETRY},
    {BLK_CFG(blk_size), VIRTIO_BLK_F_BLK_SIZE},
    {BLK_CFG(physical_block_exp), VIRTIO_BLK_F_TOPOLOGY},
    {BLK_CFG(alignment_offset), VIRTIO_BLK_F_TOPOLOGY},
    {BLK_CFG(min_io_size), VIRTIO_BLK_F_TOPOLOGY},
    {BLK_CFG(opt_io_size), VIRTIO_BLK_F_TOPOLOGY},
    {BLK_CFG(num_queues), VIRTIO_BLK_F_MQ},
    {BLK_CFG(max_discard_sectors), VIRTIO_BLK_F_DISCARD},
    {BLK_CFG(max_discard_seg), VIRTIO_BLK_F_DISCARD},
    {BLK_CFG(discard_sector_alignment), VIRTIO_BLK_F_DISCARD},
    {BLK_CFG(max_write_zeroes_sectors), VIRTIO_BLK_F_WRITE_ZEROES},
    {BLK_CFG(max_write_zeroes_seg), VIRTIO_BLK_F_WRITE_ZEROES},
    {BLK_CFG(write_zeroes_may_unmap), VIRTIO_BLK_F_WRITE_ZEROES},
};
#define N_BLK_CFG_FIELDS (sizeof blk_cfg_fields / sizeof blk_cfg_fields[0])
_Static_assert(N_BLK_CFG_FIELDS <= sizeof(((vsim_blk_drv *)0)->pre) / sizeof(((vsim_blk_drv *)0)->pre[0]),
               "room for every field");

/* Read the fields of `want` (offered features) in one ConfigGeneration
 * bracket (the spec's loop, bounded as vsim_driver_config_read's: a device
 * that keeps changing it gets the last pass): one bracket for the whole set
 * keeps the transport calls few, which an out-of-process back-end pays for
 * per call. Returns the generation the values belong to. */
static uint32_t read_cfg_fields(vsim_driver *d, uint64_t want, struct vsim_blk_pre_field *out,
                                unsigned *n) {
  uint32_t gen = 0;
  for (int tries = 0; tries < 8; tries++) {
    *n = 0;
    gen = d->tr.ops->config_generation(d->tr.t);
    for (size_t i = 0; i < N_BLK_CFG_FIELDS; i++) {
      const struct blk_cfg_field *f = &blk_cfg_fields[i];
      if (f->feature >= 0 && !((want >> f->feature) & 1u)) continue;
      uint8_t b[8] = {0};
      d->tr.ops->config_read(d->tr.t, f->off, b, f->width);
      uint64_t v = 0;
      for (unsigned k = 0; k < f->width; k++) v |= (uint64_t)b[k] << (8 * k);
      out[(*n)++] = (struct vsim_blk_pre_field){f->off, f->width, v};
    }
    if (d->tr.ops->config_generation(d->tr.t) == gen) break;
  }
  return gen;
}

void vsim_blk_drv_before_features_ok(void *ctx) {
  vsim_blk_drv *b = ctx;
  /* "The device MUST allow reading of any device-specific configuration
   * field before FEATURES_OK is set by the driver. This includes fields
   * which are conditional on feature bits, as long as those feature bits
   * are offered by the device." */
  b->pre_generation = read_cfg_fields(b->drv, b->drv->offered, b->pre, &b->npre);
  /* the mutant takes the cache mode now, with the rest (a driver that sizes
   * its cache handling before negotiation): the one field it may not read yet */
  if (vsim_mut_has(&b->drv->cfg.mutants, VSIM_MUT_DRV_BLK_WRITEBACK_EARLY))
    (void)vsim_driver_config_read(b->drv, offsetof(struct virtio_blk_config, wce), 1);
}

/* Each field read before FEATURES_OK, read again now: a different value with
 * the same config generation is a field the device did not let the driver
 * read then (a real change bumps the generation). */
static void check_pre_features_ok(vsim_blk_drv *b) {
  if (!b->npre) return;
  struct vsim_blk_pre_field now[N_BLK_CFG_FIELDS];
  unsigned n = 0;
  uint32_t gen = read_cfg_fields(b->drv, b->drv->offered, now, &n);
  for (unsigned i = 0; i < b->npre && i < n && gen == b->pre_generation; i++) {
    const struct vsim_blk_pre_field *f = &b->pre[i];
    if (now[i].value == f->value) continue;
    char msg[VSIM_VIOLATION_DETAIL_MAX];
    snprintf(msg, sizeof msg,
             "config field at offset %u (%u bytes) read 0x%llx before FEATURES_OK and 0x%llx after, "
             "config_generation unchanged",
             f->off, f->width, (unsigned long long)f->value, (unsigned long long)now[i].value);
    violation(b, VSIM_CHK_CONFIG_DEV_BEFORE_FEATURES_OK, -1, msg);
    break; /* one finding per initialisation */
  }
  b->npre = 0;
}

void vsim_blk_drv_probe(vsim_blk_drv *b) {
  check_pre_features_ok(b);
  uint64_t cap = vsim_driver_config_read(b->drv, 0, 8);
  check_device_init(b);
  b->seg_max = has(b, VIRTIO_BLK_F_SEG_MAX) ? (uint32_t)vsim_driver_config_read(b->drv, 12, 4) : 0;
  b->size_max = has(b, VIRTIO_BLK_F_SIZE_MAX) ? (uint32_t)vsim_driver_config_read(b->drv, 8, 4) : 0;
  /* "If the VIRTIO_BLK_F_DISCARD feature is negotiated, max_discard_sectors
   * and max_discard_seg can be read" (and likewise for WRITE_ZEROES) */
  b->max_discard_seg =
      has(b, VIRTIO_BLK_F_DISCARD)
          ? (uint32_t)vsim_driver_config_read(b->drv, offsetof(struct virtio_blk_config, max_discard_seg), 4)
          : 0;
  b->max_write_zeroes_seg =
      has(b, VIRTIO_BLK_F_WRITE_ZEROES)
          ? (uint32_t)vsim_driver_config_read(b->drv, offsetof(struct virtio_blk_config, max_write_zeroes_seg), 4)
          : 0;
  if (cap != b->capacity || !b->known) {
    free(b->shadow);
    free(b->known);
    b->shadow = b->known = NULL;
    b->capacity = cap;
    if (cap && cap <= SHADOW_LIMIT / SECTOR) {
      b->shadow = calloc(cap, SECTOR);
      b->known = calloc(cap, 1);
      if (!b->shadow || !b->known) {
        free(b->shadow);
        free(b->known);
        b->shadow = b->known = NULL;
      }
    }
  }
}

void vsim_data_expand(const vsim_data *d, uint8_t *out) {
  switch (d->kind) {
    case VSIM_DATA_BYTES:
      if (d->len) memcpy(out, d->bytes, d->len); /* "" has no buffer at all */
      break;
    case VSIM_DATA_FILL: memset(out, d->fill, d->len); break;
    case VSIM_DATA_PATTERN: {
      vsim_prng p;
      vsim_prng_seed(&p, d->seed, UINT64_C(0xDA7A));
      vsim_prng_fill(&p, out, d->len);
      break;
    }
    default: break;
  }
}

uint32_t vsim_data_mismatch(const vsim_data *d, const uint8_t *p, uint32_t len, uint8_t *want) {
  uint8_t chunk[256]; /* a multiple of 8: the pattern's stream is the same in chunks as in one piece */
  vsim_prng prng;
  if (d->kind == VSIM_DATA_PATTERN) vsim_prng_seed(&prng, d->seed, UINT64_C(0xDA7A));
  for (uint32_t at = 0; at < len; at += sizeof chunk) {
    uint32_t n = len - at < sizeof chunk ? len - at : (uint32_t)sizeof chunk;
    switch (d->kind) {
      case VSIM_DATA_BYTES: memcpy(chunk, d->bytes + at, n); break;
      case VSIM_DATA_FILL: memset(chunk, d->fill, n); break;
      case VSIM_DATA_PATTERN: vsim_prng_fill(&prng, chunk, n); break;
      default: return len;
    }
    for (uint32_t k = 0; k < n; k++)
      if (p[at + k] != chunk[k]) {
        if (want) *want = chunk[k];
        return at + k;
      }
  }
  return len;
}

/* Request shape for a step: type, device-readable payload, device-writable bytes. */
typedef struct shape {
  uint32_t type;
  uint64_t out_len; /* payload after the header */
  uint64_t in_len;  /* writable bytes before the status byte */
  uint64_t sector;  /* the header's sector field */
} shape;

/* The driver model's mutants (include/virtiosim/mutants.h). */
#define DMUT(name) vsim_mut_has(&b->drv->cfg.mutants, VSIM_MUT_##name)

/* The request the driver builds for a step, mutants included: check_request
 * judges this shape, the very one submit writes, so a mutant is judged by the
 * driver's own check exactly as a scenario asking for the same request. */
static shape step_shape(const vsim_blk_drv *b, const vsim_step *st) {
  shape s = {0, 0, 0, st->sector};
  switch (st->op) {
    case VSIM_OP_BLK_READ: s.type = VIRTIO_BLK_T_IN; s.in_len = st->len; break;
    case VSIM_OP_BLK_WRITE: s.type = VIRTIO_BLK_T_OUT; s.out_len = st->data.len; break;
    case VSIM_OP_BLK_FLUSH: s.type = VIRTIO_BLK_T_FLUSH; break;
    case VSIM_OP_BLK_GET_ID: s.type = VIRTIO_BLK_T_GET_ID; s.in_len = VIRTIO_BLK_ID_BYTES; break;
    case VSIM_OP_BLK_DISCARD: s.type = VIRTIO_BLK_T_DISCARD; s.out_len = 16; break;
    case VSIM_OP_BLK_WRITE_ZEROES: s.type = VIRTIO_BLK_T_WRITE_ZEROES; s.out_len = 16; break;
    case VSIM_OP_BLK_RAW: s.type = st->type; s.out_len = st->data.len; s.in_len = st->len; break;
    default: break;
  }
  /* drv.blk-flush-sector: FLUSH carries sector 1 (not 0) */
  if (s.type == VIRTIO_BLK_T_FLUSH && DMUT(DRV_BLK_FLUSH_SECTOR)) s.sector = 1;
  /* drv.blk-read-short: a read's data buffer is one byte short of its
   * sectors, so IN data is no multiple of 512 */
  if (st->op == VSIM_OP_BLK_READ && s.in_len > 0 && DMUT(DRV_BLK_DATA_LEN)) s.in_len--;
  /* drv.blk-read-sector-plus-one: a read's header names the sector after
   * the one asked, so a read of the last sector lies past capacity */
  if (st->op == VSIM_OP_BLK_READ && DMUT(DRV_BLK_SECTOR_PLUS_ONE)) s.sector = st->sector + 1;
  /* drv.blk-discard-split: the range goes out as max_discard_seg + 1
   * segments (submit writes them), a limit checked with <=; only where the
   * device's limit is read (DISCARD negotiated) and the driver can read as
   * many back */
  if (st->op == VSIM_OP_BLK_DISCARD && DMUT(DRV_BLK_DISCARD_SPLIT) && has(b, VIRTIO_BLK_F_DISCARD) &&
      b->max_discard_seg < MAX_DWZ_SEGS)
    s.out_len = (b->max_discard_seg + 1u) * sizeof(struct virtio_blk_discard_write_zeroes);
  return s;
}

static unsigned max_data_segs(const vsim_blk_drv *b) {
  unsigned lim = vsim_driver_max_segs(b->drv);
  lim = lim > 2 ? lim - 2 : 1;
  if (b->seg_max && b->seg_max < lim) lim = b->seg_max;
  if (lim > MAX_SEGS - 2) lim = MAX_SEGS - 2;
  return lim;
}

/* Split [gpa, gpa+len) into segments at guest page boundaries, merging into
 * larger pieces when that would exceed the segment limit. */
static unsigned split_data(const vsim_blk_drv *b, uint64_t gpa, uint64_t len, bool write,
                           vsim_seg *out) {
  if (len == 0) return 0;
  unsigned lim = max_data_segs(b);
  uint64_t chunk = GUEST_PAGE;
  uint64_t pages = (gpa % GUEST_PAGE + len + GUEST_PAGE - 1) / GUEST_PAGE;
  if (pages > lim) chunk = ((len + lim - 1) / lim + SECTOR - 1) / SECTOR * SECTOR;
  if (b->size_max && chunk > b->size_max) chunk = b->size_max;
  unsigned n = 0;
  uint64_t pos = gpa, end = gpa + len;
  while (pos < end && n < MAX_SEGS - 2) {
    uint64_t stop = chunk == GUEST_PAGE ? (pos / GUEST_PAGE + 1) * GUEST_PAGE : pos + chunk;
    if (stop > end || n == MAX_SEGS - 3) stop = end;
    out[n++] = (vsim_seg){pos, (uint32_t)(stop - pos), write};
    pos = stop;
  }
  return n;
}

/* Descriptors a framing adds beyond the usual header + data + status. */
#define FRAMING_EXTRA_SEGS 4u

/* Cut one request into segments, readable ones first: the usual framing, or
 * one of the unusual but valid arrangements of enum vsim_framing (a device
 * "MUST NOT make assumptions about the particular arrangement of
 * descriptors"). The indirect shapes are the usual segments; the ring lays
 * them out (vsim_driver_shape_next). Returns the segment count, *nout the
 * readable ones. */
static unsigned frame_request(const vsim_blk_drv *b, uint8_t framing, uint64_t hdr, uint64_t data,
                              uint64_t out_len, uint64_t in_len, uint64_t status, vsim_seg *segs,
                              unsigned *nout) {
  unsigned n = 0;
  if (framing == VSIM_FRAMING_MERGED) {
    /* hdr, data and status are one buffer (see submit) */
    segs[n++] = (vsim_seg){hdr, (uint32_t)(16 + out_len), false};
    *nout = n;
    segs[n++] = (vsim_seg){hdr + 16 + out_len, (uint32_t)(in_len + 1), true};
    (void)status;
    return n;
  }
  if (framing == VSIM_FRAMING_HEADER_SPLIT) {
    /* type's first byte, the rest of type and reserved, sector */
    segs[n++] = (vsim_seg){hdr, 1, false};
    segs[n++] = (vsim_seg){hdr + 1, 7, false};
    segs[n++] = (vsim_seg){hdr + 8, 8, false};
  } else {
    segs[n++] = (vsim_seg){hdr, 16, false};
  }
  /* a zero-length buffer names memory the request owns anyway: the header */
  if (framing == VSIM_FRAMING_ZERO_LEN) segs[n++] = (vsim_seg){hdr, 0, false};
  for (int part = 0; part < 2; part++) {
    const bool w = part == 1;
    uint64_t pos = w ? data + out_len : data, len = w ? in_len : out_len;
    if (framing == VSIM_FRAMING_ODD_SPLIT && len >= 4) {
      /* cut at odd offsets: 1 byte, 3 bytes, then the rest as usual */
      segs[n++] = (vsim_seg){pos, 1, w};
      segs[n++] = (vsim_seg){pos + 1, 3, w};
      pos += 4;
      len -= 4;
    }
    n += split_data(b, pos, len, w, segs + n);
    if (!w) *nout = n;
  }
  if (framing == VSIM_FRAMING_ZERO_LEN) segs[n++] = (vsim_seg){status, 0, true};
  segs[n++] = (vsim_seg){status, 1, true};
  return n;
}

/* Must the device answer this request OK whatever its framing? A read or a
 * write of whole sectors within capacity (a write on a writable device), or
 * a FLUSH with VIRTIO_BLK_F_FLUSH negotiated, in a chain within the device's
 * seg_max / size_max. Anything else is not judged by its framing. */
static bool must_succeed(const vsim_blk_drv *b, const shape *s, uint64_t sector, const vsim_seg *segs,
                         unsigned n) {
  const uint64_t feat = b->drv->features;
  if (b->seg_max && n > b->seg_max + 2u) return false;
  for (unsigned i = 0; b->size_max && i < n; i++)
    if (segs[i].len > b->size_max) return false;
  if (s->type == VIRTIO_BLK_T_FLUSH) return (feat >> VIRTIO_BLK_F_FLUSH) & 1u;
  if (s->type != VIRTIO_BLK_T_IN && s->type != VIRTIO_BLK_T_OUT) return false;
  if (s->type == VIRTIO_BLK_T_OUT && ((feat >> VIRTIO_BLK_F_RO) & 1u)) return false;
  const uint64_t len = s->out_len + s->in_len;
  if (len == 0 || len % SECTOR) return false;
  return sector < b->capacity && len / SECTOR <= b->capacity - sector;
}

/* The lowest free slot of queue q: a bitmap of busy slots per queue keeps
 * this O(queue size / 64), where a scan of the slots would make a batch of
 * n requests cost O(n^2). */
static vsim_blk_req *free_slot(vsim_blk_drv *b, uint16_t q, uint32_t *k_out) {
  const uint64_t *map = b->busy_map + (size_t)q * b->words;
  for (uint32_t w = 0; w < b->words; w++) {
    if (map[w] == UINT64_MAX) continue;
    uint32_t k = w * 64u + (uint32_t)__builtin_ctzll(~map[w]);
    if (k >= b->qsize) break;
    *k_out = k;
    return &b->req[(size_t)q * b->qsize + k];
  }
  return NULL;
}

static void slot_set(vsim_blk_drv *b, vsim_blk_req *r, bool busy) {
  size_t i = (size_t)(r - b->req);
  uint32_t k = (uint32_t)(i % b->qsize);
  uint64_t *w = &b->busy_map[(i / b->qsize) * b->words + k / 64u];
  if (busy)
    *w |= UINT64_C(1) << (k % 64u);
  else
    *w &= ~(UINT64_C(1) << (k % 64u));
  r->busy = busy;
}

void vsim_blk_drv_drop(vsim_blk_drv *b, int q) {
  size_t n = (size_t)b->nq * b->qsize;
  for (size_t i = 0; i < n; i++) {
    vsim_blk_req *r = &b->req[i];
    if (q >= 0 && r->q != q) continue;
    if (r->busy && r->alloc) vsim_driver_free(b->drv, r->alloc, r->alloc_len);
    slot_set(b, r, false);
  }
}

bool vsim_blk_drv_can_submit(vsim_blk_drv *b, const vsim_step *st) {
  vsim_driver *d = b->drv;
  /* a queue that cannot take it ever: submit runs and reports why */
  if (vsim_driver_queue_broken(d, st->queue) || d->needs_reset || d->failed) return true;
  uint32_t k;
  if (!free_slot(b, st->queue, &k)) return false;
  shape s = step_shape(b, st);
  uint64_t data = s.out_len + s.in_len;
  unsigned segs = 2 + (data ? (unsigned)((data + GUEST_PAGE - 1) / GUEST_PAGE + 1) : 0);
  if (segs > max_data_segs(b) + 2) segs = max_data_segs(b) + 2;
  if (st->framing != VSIM_FRAMING_USUAL) segs += FRAMING_EXTRA_SEGS;
  if (segs > vsim_driver_max_segs(d) && segs > b->qsize) return true; /* never fits */
  /* the data pool must have room too; if it never will, submit reports it */
  return vsim_driver_has_room(d, st->queue, segs);
}

static void check_request(vsim_blk_drv *b, const vsim_step *st, const shape *s) {
  char msg[VSIM_VIOLATION_DETAIL_MAX];
  if (s->type == VIRTIO_BLK_T_IN || s->type == VIRTIO_BLK_T_OUT) {
    uint64_t len = s->type == VIRTIO_BLK_T_IN ? s->in_len : s->out_len;
    if (len % SECTOR) {
      snprintf(msg, sizeof msg, "%s data of %llu bytes is not a multiple of 512",
               s->type == VIRTIO_BLK_T_IN ? "IN" : "OUT", (unsigned long long)len);
      violation(b, VSIM_CHK_BLK_DRV_DATA_LEN, st->queue, msg);
    }
    /* the header's sector: the step's, unless a mutant changed it */
    uint64_t n = (len + SECTOR - 1) / SECTOR;
    if (s->sector > b->capacity || n > b->capacity - s->sector) {
      snprintf(msg, sizeof msg, "sectors %llu+%llu beyond capacity %llu",
               (unsigned long long)s->sector, (unsigned long long)n,
               (unsigned long long)b->capacity);
      violation(b, VSIM_CHK_BLK_DRV_CAPACITY, st->queue, msg);
    }
  }
  if (s->type == VIRTIO_BLK_T_GET_ID && s->in_len != VIRTIO_BLK_ID_BYTES) {
    snprintf(msg, sizeof msg, "GET_ID with %llu data bytes, not %u", (unsigned long long)s->in_len,
             VIRTIO_BLK_ID_BYTES);
    violation(b, VSIM_CHK_BLK_DRV_DATA_LEN, st->queue, msg);
  }
  if ((s->type == VIRTIO_BLK_T_DISCARD || s->type == VIRTIO_BLK_T_WRITE_ZEROES) &&
      s->out_len % sizeof(struct virtio_blk_discard_write_zeroes) != 0) {
    snprintf(msg, sizeof msg, "%s payload of %llu bytes is not a multiple of %zu-byte segments",
             s->type == VIRTIO_BLK_T_DISCARD ? "DISCARD" : "WRITE_ZEROES",
             (unsigned long long)s->out_len, sizeof(struct virtio_blk_discard_write_zeroes));
    violation(b, VSIM_CHK_BLK_DRV_DATA_LEN, st->queue, msg);
  }
  if (s->type == VIRTIO_BLK_T_DISCARD || s->type == VIRTIO_BLK_T_WRITE_ZEROES) {
    /* drivernormative Block Device / Device Operation: "VIRTIO_BLK_T_DISCARD
     * requests MUST NOT contain more than max_discard_seg struct
     * virtio_blk_discard_write_zeroes segments in data" (max_write_zeroes_seg
     * for WRITE_ZEROES). The limit is the device's own: a scenario written
     * for one device may break it on another. Judged only with the feature
     * negotiated (the field is read only then). */
    const bool discard = s->type == VIRTIO_BLK_T_DISCARD;
    const uint32_t max = discard ? b->max_discard_seg : b->max_write_zeroes_seg;
    const bool negotiated = has(b, discard ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES);
    const uint64_t nseg = s->out_len / sizeof(struct virtio_blk_discard_write_zeroes);
    if (negotiated && nseg > max) {
      snprintf(msg, sizeof msg, "%s with %llu segments; the device's %s is %u",
               discard ? "DISCARD" : "WRITE_ZEROES", (unsigned long long)nseg,
               discard ? "max_discard_seg" : "max_write_zeroes_seg", max);
      violation(b, VSIM_CHK_BLK_DRV_SEGMENTS, st->queue, msg);
    }
  }
  if (s->type == VIRTIO_BLK_T_FLUSH && s->sector != 0) {
    snprintf(msg, sizeof msg, "FLUSH with sector %llu", (unsigned long long)s->sector);
    violation(b, VSIM_CHK_BLK_DRV_FLUSH_SECTOR, st->queue, msg);
  }
  if ((s->type == VIRTIO_BLK_T_DISCARD || s->type == VIRTIO_BLK_T_WRITE_ZEROES) && st->op == VSIM_OP_BLK_RAW) {
    /* a raw request carries its segments in the payload: each range is the
     * driver's to keep inside the disk, as for blk.discard / blk.write_zeroes */
    const size_t segsz = sizeof(struct virtio_blk_discard_write_zeroes);
    uint8_t *buf = st->data.len >= segsz ? malloc(st->data.len) : NULL;
    if (buf) {
      vsim_data_expand(&st->data, buf);
      for (size_t off = 0; off + segsz <= st->data.len; off += segsz) {
        const uint8_t *g = buf + off;
        uint64_t sector = 0;
        for (int i = 7; i >= 0; i--) sector = (sector << 8) | g[offsetof(struct virtio_blk_discard_write_zeroes, sector) + i];
        const uint8_t *n4 = g + offsetof(struct virtio_blk_discard_write_zeroes, num_sectors);
        uint32_t num = (uint32_t)n4[0] | ((uint32_t)n4[1] << 8) | ((uint32_t)n4[2] << 16) | ((uint32_t)n4[3] << 24);
        if (sector > b->capacity || num > b->capacity - sector) {
          snprintf(msg, sizeof msg, "segment %zu: range %llu+%u beyond capacity %llu", off / segsz,
                   (unsigned long long)sector, num, (unsigned long long)b->capacity);
          violation(b, VSIM_CHK_BLK_DRV_CAPACITY, st->queue, msg);
          break;
        }
      }
      free(buf);
    }
  } else if ((s->type == VIRTIO_BLK_T_DISCARD || s->type == VIRTIO_BLK_T_WRITE_ZEROES) &&
      (st->sector > b->capacity || st->nsectors > b->capacity - st->sector)) {
    snprintf(msg, sizeof msg, "range %llu+%u beyond capacity %llu", (unsigned long long)st->sector,
             st->nsectors, (unsigned long long)b->capacity);
    violation(b, VSIM_CHK_BLK_DRV_CAPACITY, st->queue, msg);
  }
}

static const char *status_name(unsigned s);

/* A request the driver fails itself, with IOERR, because its queue stopped:
 * the REQ_DONE event says so (d = 1); only a step that expected another
 * status fails the scenario. */
/* Does status byte `got` meet the step's expect_status? VSIM_BLK_S_ERROR
 * ("ERROR" in a scenario) takes either error status. */
static bool status_meets(uint8_t want, uint8_t got) {
  if (want == VSIM_BLK_S_ERROR) return got == VIRTIO_BLK_S_IOERR || got == VIRTIO_BLK_S_UNSUPP;
  return want == got;
}

static void fail_io(vsim_blk_drv *b, uint16_t q, const vsim_step *st, uint32_t step_index,
                    uint32_t type) {
  b->drv->sink->event(b->drv->sink->ctx, VSIM_EV_REQ_DONE, q, step_index, VIRTIO_BLK_S_IOERR, type, 1);
  if (st->has_expect_status && !status_meets(st->expect_status, VIRTIO_BLK_S_IOERR)) {
    char msg[96];
    snprintf(msg, sizeof msg, "status IOERR (queue %u stopped: bad device output), expected %s", q,
             status_name(st->expect_status));
    failf(b, st, step_index, msg);
  }
}

static void framing_abandoned(vsim_blk_drv *b, const vsim_blk_req *r) {
  if (r->framing_check < 0) return;
  char msg[VSIM_VIOLATION_DETAIL_MAX];
  snprintf(msg, sizeof msg,
           "the device set DEVICE_NEEDS_RESET holding a well-formed type %u request framed \"%s\"",
           r->type, vsim_framing_names[r->step->framing]);
  violation(b, r->framing_check, r->q, msg);
}

void vsim_blk_drv_abandoned(vsim_blk_drv *b) {
  for (size_t i = 0; i < (size_t)b->nq * b->qsize; i++)
    if (b->req[i].busy) framing_abandoned(b, &b->req[i]);
}

void vsim_blk_drv_queue_stopped(void *ctx, uint16_t q) {
  vsim_blk_drv *b = ctx;
  if (q >= b->nq) return;
  for (uint32_t k = 0; k < b->qsize; k++) {
    vsim_blk_req *r = &b->req[(size_t)q * b->qsize + k];
    if (!r->busy) continue;
    fail_io(b, q, r->step, r->step_index, r->type);
    if (r->alloc) vsim_driver_free(b->drv, r->alloc, r->alloc_len);
    slot_set(b, r, false);
  }
}

static bool writes_data(uint32_t type) {
  return type == VIRTIO_BLK_T_OUT || type == VIRTIO_BLK_T_WRITE_ZEROES || type == VIRTIO_BLK_T_DISCARD;
}

/* Could w (a write-type request) touch what r (a read) reads? Write-zeroes
 * and discard carry their ranges in the payload: counted as overlapping. */
static bool overlaps(const vsim_blk_req *w, const vsim_blk_req *r) {
  if (w->type != VIRTIO_BLK_T_OUT) return true;
  uint64_t ws = w->sector, we = ws + w->out_len / SECTOR, rs = r->sector, re = rs + r->data_len / SECTOR;
  return ws < re && rs < we;
}

/* A new request r against those in flight: reads and overlapping writes
 * that are in flight together are racy (vsim_blk_req.racy). O(slots). */
static void mark_races(vsim_blk_drv *b, vsim_blk_req *r) {
  const bool reads = r->type == VIRTIO_BLK_T_IN, writes = writes_data(r->type);
  if (!reads && !writes) return; /* flush, get-id: nothing to race with */
  /* only the requests in flight: the busy bitmap names them (free_slot's) */
  const size_t nwords = (size_t)b->nq * b->words;
  for (size_t wi = 0; wi < nwords; wi++)
    for (uint64_t bits = b->busy_map[wi]; bits; bits &= bits - 1) {
      const size_t i = (wi / b->words) * b->qsize + (wi % b->words) * 64u + (size_t)__builtin_ctzll(bits);
      vsim_blk_req *o = &b->req[i];
      if (o == r) continue;
      if (reads && writes_data(o->type) && overlaps(o, r)) r->racy = true;
      if (writes && o->type == VIRTIO_BLK_T_IN && overlaps(r, o)) o->racy = true;
    }
}

int vsim_blk_drv_submit(vsim_blk_drv *b, const vsim_step *st, uint32_t step_index) {
  vsim_driver *d = b->drv;
  uint16_t q = st->queue;
  if (q >= d->nq || !d->vq_init[q]) {
    failf(b, st, step_index, "queue is not set up");
    return -1;
  }
  if (vsim_driver_queue_stopped(d, q)) {
    fail_io(b, q, st, step_index, step_shape(b, st).type);
    return -1;
  }
  uint32_t k;
  vsim_blk_req *r = free_slot(b, q, &k);
  if (!r) {
    failf(b, st, step_index, "no free request slot");
    return -1;
  }
  shape s = step_shape(b, st);
  check_request(b, st, &s);
  uint64_t hdr = d->req_base[q] + (uint64_t)k * VSIM_DRV_REQ_SLOT;
  uint64_t data_len = s.out_len + s.in_len;
  const bool merged = st->framing == VSIM_FRAMING_MERGED;
  /* merged: header, data and status in one buffer, so that one readable and
   * one writable descriptor can hold them */
  uint64_t alloc_len = merged ? 16 + data_len + 1 : data_len;
  uint64_t alloc = 0;
  if (alloc_len) {
    alloc = vsim_driver_alloc(d, alloc_len);
    if (!alloc) {
      failf(b, st, step_index, "guest data pool exhausted (raise arena_size)");
      return -1;
    }
  }
  if (merged) hdr = alloc;
  uint64_t data = !data_len ? 0 : merged ? alloc + 16 : alloc;
  uint64_t status_gpa = merged ? alloc + 16 + data_len : hdr + 16;
  /* header: le32 type, le32 reserved, le64 sector */
  vsim_arena_put32(d->arena, VSIM_SIDE_DRIVER, hdr, s.type);
  vsim_arena_put32(d->arena, VSIM_SIDE_DRIVER, hdr + 4, 0);
  vsim_arena_put64(d->arena, VSIM_SIDE_DRIVER, hdr + 8, s.sector);
  /* a status the device must overwrite: 0xff is no valid status */
  uint8_t poison = 0xff;
  vsim_arena_put(d->arena, VSIM_SIDE_DRIVER, status_gpa, &poison, 1);
  if (s.out_len) {
    if (st->op == VSIM_OP_BLK_DISCARD || st->op == VSIM_OP_BLK_WRITE_ZEROES) {
      /* one segment built from the step (for the drv.blk-discard-split
       * mutant, whose shape is nseg segments long: the range cut in nseg
       * pieces, the last taking the remainder); blk.raw carries its own
       * payload */
      const size_t segsz = sizeof(struct virtio_blk_discard_write_zeroes);
      const uint32_t nseg = (uint32_t)(s.out_len / segsz), piece = st->nsectors / nseg;
      for (uint32_t i = 0; i < nseg; i++) {
        const uint64_t g = data + i * segsz;
        vsim_arena_put64(d->arena, VSIM_SIDE_DRIVER, g, st->sector + (uint64_t)i * piece);
        vsim_arena_put32(d->arena, VSIM_SIDE_DRIVER, g + 8, i + 1 < nseg ? piece : st->nsectors - i * piece);
        vsim_arena_put32(d->arena, VSIM_SIDE_DRIVER, g + 12, st->flags);
      }
    } else {
      vsim_span sp;
      if (vsim_arena_view(d->arena, VSIM_SIDE_DRIVER, data, s.out_len, VSIM_ACC_WRITE, &sp) == 0)
        vsim_data_expand(&st->data, sp.ptr);
    }
  }
  if (s.in_len) {
    /* poison the read buffer so that bytes the device did not write show up */
    vsim_span sp;
    if (vsim_arena_view(d->arena, VSIM_SIDE_DRIVER, data + s.out_len, s.in_len, VSIM_ACC_WRITE,
                        &sp) == 0)
      memset(sp.ptr, 0xa5, s.in_len);
  }
  vsim_seg segs[MAX_SEGS + FRAMING_EXTRA_SEGS];
  unsigned nout = 0;
  unsigned n = frame_request(b, st->framing, hdr, data, s.out_len, s.in_len, status_gpa, segs, &nout);
  int framing_check = -1;
  if (st->framing == VSIM_FRAMING_INDIRECT_WRITE || st->framing == VSIM_FRAMING_DIRECT_INDIRECT) {
    /* only where the chain really goes through an indirect table (split
     * ring, INDIRECT_DESC negotiated); elsewhere it is an ordinary request */
    if (vsim_driver_shape_next(d, q, st->framing == VSIM_FRAMING_DIRECT_INDIRECT ? 1 : 0,
                               st->framing == VSIM_FRAMING_INDIRECT_WRITE))
      framing_check = VSIM_CHK_INDIR_DEV_SHAPE;
  } else if (st->framing != VSIM_FRAMING_USUAL) {
    framing_check = VSIM_CHK_RING_DEV_FRAMING;
  }
  if (framing_check >= 0 && !must_succeed(b, &s, s.sector, segs, n)) framing_check = -1;
  /* the sector the header names (a mutant's, where one changed it): what
   * the read is checked against and races with */
  *r = (vsim_blk_req){false, q, s.type, s.sector, st->flags, hdr, data, data_len, s.out_len, step_index, st,
                      b->sink->now ? b->sink->now(b->sink->ctx) : 0, false, alloc, alloc_len, status_gpa,
                      framing_check};
  slot_set(b, r, true);
  mark_races(b, r);
  int head = vsim_driver_submit(d, q, segs, nout, n - nout, (uint64_t)k);
  if (head < 0) {
    /* a fault on the queue's own rings stopped it under this request: the
     * stop already failed it (vsim_blk_drv_queue_stopped) */
    if (!r->busy) return -1;
    slot_set(b, r, false);
    if (alloc) vsim_driver_free(d, alloc, alloc_len);
    failf(b, st, step_index,
          head == -2 ? "ring full" : "request cannot be submitted (queue broken or too many segments)");
    return -1;
  }
  return 0;
}

static const char *status_name(unsigned s) {
  switch (s) {
    case VIRTIO_BLK_S_OK: return "OK";
    case VIRTIO_BLK_S_IOERR: return "IOERR";
    case VIRTIO_BLK_S_UNSUPP: return "UNSUPP";
    case VSIM_BLK_S_ERROR: return "ERROR (IOERR or UNSUPP)";
    default: return "invalid";
  }
}

/* Compare read data with the shadow; report the first differing sector. */
static void check_read(vsim_blk_drv *b, const vsim_blk_req *r, const uint8_t *got, uint64_t len) {
  if (!b->shadow) return;
  uint64_t nsect = len / SECTOR;
  for (uint64_t i = 0; i < nsect; i++) {
    uint64_t sec = r->sector + i;
    if (sec >= b->capacity) break;
    uint8_t k = b->known[sec];
    if (k == SECT_UNKNOWN) continue;
    if (memcmp(got + i * SECTOR, b->shadow + sec * SECTOR, SECTOR) != 0) {
      char msg[VSIM_VIOLATION_DETAIL_MAX];
      snprintf(msg, sizeof msg, "sector %llu read back differs from what was %s",
               (unsigned long long)sec, k == SECT_ZEROED ? "zeroed" : "written");
      violation(b, k == SECT_ZEROED ? VSIM_CHK_BLK_DEV_ZEROES : VSIM_CHK_BLK_DEV_STATUS, r->q, msg);
      return;
    }
  }
}

/* Mark [sector, sector + n) as `state` in the shadow (written from `data`). */
static void shadow_mark(vsim_blk_drv *b, uint64_t sector, uint64_t n, uint8_t state,
                        const uint8_t *data) {
  for (uint64_t i = 0; i < n; i++) {
    uint64_t sec = sector + i;
    if (sec >= b->capacity || sec < sector) break;
    b->known[sec] = state;
    if (state == SECT_WRITTEN)
      memcpy(b->shadow + sec * SECTOR, data + i * SECTOR, SECTOR);
    else
      memset(b->shadow + sec * SECTOR, 0, SECTOR);
  }
}

/* The {sector, num_sectors, flags} segments of a discard / write-zeroes
 * payload, as the driver wrote them (a blk.raw step may carry several). */
typedef struct dwz_seg {
  uint64_t sector;
  uint32_t n, flags;
} dwz_seg;

static unsigned dwz_segments(const vsim_blk_drv *b, const vsim_blk_req *r, dwz_seg *out,
                             unsigned max) {
  unsigned n = 0;
  /* whole segments of the device-readable payload only (a partial tail is
   * the driver's blk.drv-data-len, judged at submit) */
  for (uint64_t off = 0; off + 16 <= r->out_len && n < max; off += 16, n++) {
    vsim_arena_get64(b->drv->arena, VSIM_SIDE_DRIVER, r->data + off, &out[n].sector);
    vsim_arena_get32(b->drv->arena, VSIM_SIDE_DRIVER, r->data + off + 8, &out[n].n);
    vsim_arena_get32(b->drv->arena, VSIM_SIDE_DRIVER, r->data + off + 12, &out[n].flags);
  }
  return n;
}

static void shadow_update(vsim_blk_drv *b, const vsim_blk_req *r, const uint8_t *data) {
  if (!b->shadow) return;
  if (r->type == VIRTIO_BLK_T_OUT) {
    shadow_mark(b, r->sector, r->data_len / SECTOR, SECT_WRITTEN, data);
  } else if (r->type == VIRTIO_BLK_T_WRITE_ZEROES || r->type == VIRTIO_BLK_T_DISCARD) {
    dwz_seg seg[MAX_DWZ_SEGS];
    unsigned n = dwz_segments(b, r, seg, MAX_DWZ_SEGS);
    uint8_t state = r->type == VIRTIO_BLK_T_WRITE_ZEROES ? SECT_ZEROED : SECT_UNKNOWN;
    for (unsigned i = 0; i < n; i++) shadow_mark(b, seg[i].sector, seg[i].n, state, NULL);
  }
}

void vsim_blk_drv_complete(void *ctx, uint16_t q, uint64_t token, uint32_t len) {
  vsim_blk_drv *b = ctx;
  if (token >= b->qsize) return; /* a raw chain's completion: nothing to check here */
  vsim_blk_req *r = &b->req[(size_t)q * b->qsize + token];
  if (!r->busy) return;
  vsim_driver *d = b->drv;
  const vsim_step *st = r->step;
  uint8_t status = 0xff;
  vsim_arena_get(d->arena, VSIM_SIDE_DRIVER, r->status, &status, 1);
  b->completed++;
  if (b->sink->now) {
    uint64_t lat = b->sink->now(b->sink->ctx) - r->submitted_at;
    b->latency_total += lat;
    if (lat > b->latency_max) b->latency_max = lat;
  }
  d->sink->event(d->sink->ctx, VSIM_EV_REQ_DONE, q, r->step_index, status, r->type, 0);
  char msg[VSIM_VIOLATION_DETAIL_MAX];
  /* an invalid status byte is blk.dev-status-value's, not a framing finding */
  if (r->framing_check >= 0 && (status == VIRTIO_BLK_S_IOERR || status == VIRTIO_BLK_S_UNSUPP)) {
    snprintf(msg, sizeof msg, "a well-formed type %u request framed \"%s\" completed with %s",
             r->type, vsim_framing_names[st->framing], status_name(status));
    violation(b, r->framing_check, q, msg);
  }
  if (status > VIRTIO_BLK_S_UNSUPP) {
    snprintf(msg, sizeof msg, "status byte %u is not OK/IOERR/UNSUPP (type %u)", status, r->type);
    violation(b, VSIM_CHK_BLK_DEV_STATUS, q, msg);
  }
  bool ro = (d->features >> VIRTIO_BLK_F_RO) & 1u;
  bool writes = r->type == VIRTIO_BLK_T_OUT || r->type == VIRTIO_BLK_T_WRITE_ZEROES ||
                r->type == VIRTIO_BLK_T_DISCARD;
  if (ro && writes && status != VIRTIO_BLK_S_IOERR) {
    snprintf(msg, sizeof msg, "write-type request %u on a read-only device completed with %s",
             r->type, status_name(status));
    violation(b, VSIM_CHK_BLK_DEV_RO_WRITE, q, msg);
  }
  /* discard: any flag; write-zeroes: any flag but UNMAP; in any segment */
  bool flag_rule = false;
  uint32_t seg_flags = 0;
  if (r->type == VIRTIO_BLK_T_DISCARD || r->type == VIRTIO_BLK_T_WRITE_ZEROES) {
    dwz_seg seg[MAX_DWZ_SEGS];
    unsigned n = dwz_segments(b, r, seg, MAX_DWZ_SEGS);
    uint32_t allowed = r->type == VIRTIO_BLK_T_DISCARD ? 0u : VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
    for (unsigned i = 0; i < n; i++)
      if (seg[i].flags & ~allowed) {
        flag_rule = true;
        seg_flags = seg[i].flags;
      }
  }
  if (flag_rule && status != VIRTIO_BLK_S_UNSUPP && !(ro && status == VIRTIO_BLK_S_IOERR)) {
    snprintf(msg, sizeof msg, "type %u with flags 0x%x completed with %s, not UNSUPP", r->type,
             seg_flags, status_name(status));
    violation(b, VSIM_CHK_BLK_DEV_UNMAP_DISCARD, q, msg);
  }
  const uint8_t *in = NULL;
  uint64_t in_len = r->type == VIRTIO_BLK_T_IN ? r->data_len
                    : r->type == VIRTIO_BLK_T_GET_ID ? VIRTIO_BLK_ID_BYTES : 0;
  vsim_span sp;
  if (r->data &&
      vsim_arena_view(d->arena, VSIM_SIDE_DRIVER, r->data, r->data_len, VSIM_ACC_READ, &sp) == 0)
    in = sp.ptr;
  if (status == VIRTIO_BLK_S_OK && in) {
    if (r->type == VIRTIO_BLK_T_IN && !r->racy) check_read(b, r, in, in_len);
    if (r->type == VIRTIO_BLK_T_IN && st->expect_data_written && !r->racy) {
      /* the scenario wants proof that the comparison covered every sector */
      uint64_t unknown = UINT64_MAX;
      for (uint64_t i = 0; b->known && i < in_len / SECTOR && unknown == UINT64_MAX; i++)
        if (r->sector + i >= b->capacity || b->known[r->sector + i] == SECT_UNKNOWN) unknown = r->sector + i;
      if (!b->known) unknown = r->sector;
      if (unknown != UINT64_MAX) {
        snprintf(msg, sizeof msg, "expect_data_written: sector %llu was not written in this run",
                 (unsigned long long)unknown);
        failf(b, st, r->step_index, msg);
      }
    }
    if (!ro || !writes) shadow_update(b, r, in);
  } else if (status != VIRTIO_BLK_S_OK && writes && b->shadow) {
    /* a failed write leaves the range undefined */
    if (r->type == VIRTIO_BLK_T_OUT) {
      shadow_mark(b, r->sector, r->data_len / SECTOR, SECT_UNKNOWN, NULL);
    } else {
      dwz_seg seg[MAX_DWZ_SEGS];
      unsigned n = dwz_segments(b, r, seg, MAX_DWZ_SEGS);
      for (unsigned i = 0; i < n; i++) shadow_mark(b, seg[i].sector, seg[i].n, SECT_UNKNOWN, NULL);
    }
  }
  if (st->has_expect_status && !status_meets(st->expect_status, status)) {
    snprintf(msg, sizeof msg, "status %s, expected %s", status_name(status),
             status_name(st->expect_status));
    failf(b, st, r->step_index, msg);
  }
  if (st->expect_data.kind != VSIM_DATA_NONE && in) {
    uint32_t n = st->expect_data.len;
    if (n > in_len || vsim_data_mismatch(&st->expect_data, in, n, NULL) < n)
      failf(b, st, r->step_index, "data differs from expect_data");
  }
  (void)len;
  if (r->alloc) vsim_driver_free(d, r->alloc, r->alloc_len);
  slot_set(b, r, false);
}
