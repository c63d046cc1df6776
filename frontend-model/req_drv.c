/* frontend-model/req_drv.c — generic requests (see req_drv.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arena_fast.h"
#include "blk_drv.h" /* vsim_data_expand */
#include "req_drv.h"
#include "virtiosim/checks.h"

#define GUEST_PAGE 4096u
#define MAX_SEGS 64u
#define MSG_MAX 512

/* The label a field past the used length fails under. */
#define USED_RING_DRV "drivernormative:Basic Facilities of a Virtio Device / Virtqueues / The Virtqueue Used Ring"

int vsim_req_drv_init(vsim_req_drv *r, vsim_driver *drv, const vsim_host *sink, char *const *names,
                      vsim_req_fail_fn fail, void *fail_ctx) {
  memset(r, 0, sizeof *r);
  r->drv = drv;
  r->sink = sink;
  r->names = names;
  r->fail = fail;
  r->fail_ctx = fail_ctx;
  r->nq = drv->cfg.num_queues;
  r->qsize = drv->cfg.queue_size;
  r->req = calloc((size_t)r->nq * r->qsize, sizeof *r->req);
  return r->req ? 0 : -1;
}

void vsim_req_drv_fini(vsim_req_drv *r) {
  free(r->req);
  r->req = NULL;
}

bool vsim_req_drv_owns(uint64_t token) {
  return token >= VSIM_REQ_DRV_TOKEN_BASE && token - VSIM_REQ_DRV_TOKEN_BASE < (UINT64_C(1) << 32);
}

__attribute__((format(printf, 4, 5))) static void failf(vsim_req_drv *r, const vsim_step *st, uint32_t idx,
                                                        const char *fmt, ...) {
  char what[MSG_MAX - 64], msg[MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(msg, sizeof msg, "step %u (%s, line %u): %s", idx, vsim_op_name(st->op), st->line, what);
  r->fail(r->fail_ctx, msg);
}

static vsim_req *free_slot(vsim_req_drv *r, uint16_t q, uint32_t *k_out) {
  for (uint32_t k = 0; k < r->qsize; k++) {
    vsim_req *x = &r->req[(size_t)q * r->qsize + k];
    if (!x->busy) {
      *k_out = k;
      return x;
    }
  }
  return NULL;
}

/* Segments a chain of these lengths takes: page-split, capped as split_data caps. */
static unsigned seg_limit(const vsim_req_drv *r) {
  unsigned lim = vsim_driver_max_segs(r->drv);
  return lim > MAX_SEGS ? MAX_SEGS : lim;
}

static uint64_t pages(uint64_t gpa, uint64_t len) {
  return len ? (gpa % GUEST_PAGE + len + GUEST_PAGE - 1) / GUEST_PAGE : 0;
}

/* Split [gpa, gpa+len) into at most `lim` segments, at page boundaries when
 * that fits, else in equal pieces. */
static unsigned split(uint64_t gpa, uint64_t len, bool write, unsigned lim, vsim_seg *out) {
  if (len == 0 || lim == 0) return 0;
  bool by_page = pages(gpa, len) <= lim;
  uint64_t chunk = by_page ? GUEST_PAGE : (len + lim - 1) / lim;
  unsigned n = 0;
  uint64_t pos = gpa, end = gpa + len;
  while (pos < end && n < lim) {
    uint64_t stop = by_page ? (pos / GUEST_PAGE + 1) * GUEST_PAGE : pos + chunk;
    if (stop > end || n + 1 == lim) stop = end;
    out[n++] = (vsim_seg){pos, (uint32_t)(stop - pos), write};
    pos = stop;
  }
  return n;
}

/* The segments of each part: the readable part gets its pages, or what is
 * left when the writable part needs one; both at least one when non-empty. */
static void seg_budget(const vsim_req_drv *r, uint64_t buf, uint32_t out_len, uint32_t in_len, unsigned *nout,
                       unsigned *nin) {
  unsigned lim = seg_limit(r);
  uint64_t po = pages(buf, out_len), pi = pages(buf + out_len, in_len);
  if (po + pi <= lim) {
    *nout = (unsigned)po;
    *nin = (unsigned)pi;
    return;
  }
  unsigned need_in = in_len ? 1 : 0, need_out = out_len ? 1 : 0;
  *nout = out_len ? (unsigned)(po < lim - need_in ? po : lim - need_in) : 0;
  *nin = in_len ? lim - *nout : 0;
  if (*nout < need_out) *nout = need_out;
}

bool vsim_req_drv_can_submit(vsim_req_drv *r, const vsim_step *st) {
  vsim_driver *d = r->drv;
  if (st->queue >= r->nq || vsim_driver_queue_broken(d, st->queue) || d->needs_reset || d->failed) return true;
  uint32_t k;
  if (!free_slot(r, st->queue, &k)) return false;
  /* the buffer's placement is not known yet: count the worst case */
  unsigned lim = seg_limit(r);
  uint64_t segs = pages(GUEST_PAGE - 1, st->data.len) + pages(GUEST_PAGE - 1, st->len);
  if (segs > lim) segs = lim;
  if (segs > vsim_driver_max_segs(d) && segs > r->qsize) return true; /* never fits */
  return vsim_driver_has_room(d, st->queue, (unsigned)segs);
}

static uint64_t le_value(const uint8_t *p, unsigned width) {
  uint64_t v = 0;
  for (unsigned i = width; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

static void le_store(uint8_t *p, unsigned width, uint64_t v) {
  for (unsigned i = 0; i < width; i++) p[i] = (uint8_t)(v >> (8 * i));
}

int vsim_req_drv_submit(vsim_req_drv *r, const vsim_step *st, uint32_t step_index) {
  vsim_driver *d = r->drv;
  uint16_t q = st->queue;
  if (q >= d->nq || !d->vq_init[q]) {
    failf(r, st, step_index, "queue %u is not set up", q);
    return -1;
  }
  if (vsim_driver_queue_stopped(d, q)) {
    if (st->nfields || st->expect_used_len.set)
      failf(r, st, step_index, "no reply: queue %u stopped (bad device output)", q);
    return -1;
  }
  uint32_t k;
  vsim_req *x = free_slot(r, q, &k);
  if (!x) {
    failf(r, st, step_index, "no free request slot");
    return -1;
  }
  /* the saved values the request carries must be there before anything is built */
  for (uint16_t i = 0; i < st->npatches; i++) {
    int s = st->patches[i].saved;
    if (!((r->saved_set >> s) & 1u)) {
      failf(r, st, step_index, "patch %u: no value saved as '%s' yet (the reply that saves it has not come, or "
            "failed: put a \"wait\" before this step)", i, r->names[s]);
      return -1;
    }
  }
  uint64_t total = (uint64_t)st->data.len + st->len;
  uint64_t buf = vsim_driver_alloc(d, total);
  if (!buf) {
    failf(r, st, step_index, "guest data pool exhausted (raise arena_size)");
    return -1;
  }
  vsim_span sp;
  if (st->data.len && vsim_arena_view(d->arena, VSIM_SIDE_DRIVER, buf, st->data.len, VSIM_ACC_WRITE, &sp) == 0) {
    vsim_data_expand(&st->data, sp.ptr);
    for (uint16_t i = 0; i < st->npatches; i++)
      le_store(sp.ptr + st->patches[i].offset, st->patches[i].width, r->saved[st->patches[i].saved]);
  }
  /* poison the writable part: bytes the device did not write show up as 0xa5 */
  if (st->len && vsim_arena_view(d->arena, VSIM_SIDE_DRIVER, buf + st->data.len, st->len, VSIM_ACC_WRITE, &sp) == 0)
    memset(sp.ptr, 0xa5, st->len);
  uint32_t out_len = st->data.len, in_len = st->len;
  if (r->on_submit) {
    uint8_t *out = NULL;
    if (out_len && vsim_arena_view(d->arena, VSIM_SIDE_DRIVER, buf, out_len, VSIM_ACC_WRITE, &sp) == 0) out = sp.ptr;
    r->on_submit(r->obs_ctx, q, out, &out_len, &in_len);
    if (out_len > st->data.len) out_len = st->data.len; /* shorter only */
    if (in_len > st->len) in_len = st->len;
    if (!out) out_len = 0;
    if (!out_len && !in_len) { /* an observer may shorten a request, never empty it */
      out_len = out ? st->data.len : 0;
      in_len = st->len;
    }
  }
  vsim_seg segs[MAX_SEGS];
  unsigned nout, nin;
  seg_budget(r, buf, out_len, in_len, &nout, &nin);
  nout = split(buf, out_len, false, nout, segs);
  nin = split(buf + st->data.len, in_len, true, nin, segs + nout);
  *x = (vsim_req){true, q, buf, out_len, in_len, st->data.len, step_index, st,
                  r->sink->now ? r->sink->now(r->sink->ctx) : 0};
  int head = vsim_driver_submit(d, q, segs, nout, nin, VSIM_REQ_DRV_TOKEN_BASE + k);
  if (head < 0) {
    /* a fault on the queue's own rings stopped it under this request: the
     * stop already failed it (vsim_req_drv_queue_stopped) */
    if (!x->busy) return -1;
    x->busy = false;
    vsim_driver_free(d, buf, total);
    failf(r, st, step_index, "%s", head == -2 ? "ring full" : "request cannot be submitted (queue broken or too many segments)");
    return -1;
  }
  return 0;
}

static void field_label(const vsim_field_expect *f, char *out, size_t n) {
  if (f->name) snprintf(out, n, "'%s' (offset %u)", f->name, f->offset);
  else snprintf(out, n, "at offset %u", f->offset);
}

/* One field check against the reply `in` of which the device wrote `used`
 * bytes; `out` is what was sent. Returns false (and says why) on a mismatch. */
static bool check_field(vsim_req_drv *r, const vsim_req *x, const vsim_field_expect *f, const uint8_t *out,
                        const uint8_t *in, uint32_t used) {
  char who[96];
  field_label(f, who, sizeof who);
  uint32_t width = f->kind == VSIM_FIELD_BYTES ? f->data.len : f->width;
  if (f->offset > used || width > used - f->offset) {
    failf(r, x->step, x->step_index,
          "reply field %s: %u byte(s) past the %u the device wrote (used len); the driver trusts only those (%s)",
          who, width, used, USED_RING_DRV);
    return false;
  }
  const uint8_t *p = in + f->offset;
  if (f->kind == VSIM_FIELD_BYTES) {
    uint8_t want = 0;
    uint32_t at = vsim_data_mismatch(&f->data, p, width, &want);
    if (at == width) return true;
    failf(r, x->step, x->step_index, "reply field %s: %u bytes differ from the expected data at byte %u "
          "(got 0x%02x, expected 0x%02x)", who, width, at, p[at], want);
    return false;
  }
  uint64_t got = le_value(p, f->width) & f->mask;
  if (f->save >= 0) {
    r->saved[f->save] = got;
    r->saved_set |= UINT32_C(1) << f->save;
  }
  char mask[40] = "";
  if (f->mask != (f->width >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * f->width)) - 1))
    snprintf(mask, sizeof mask, " (mask 0x%" PRIx64 ")", f->mask);
  switch (f->kind) {
    case VSIM_FIELD_VALUE:
      if (got == f->value) return true;
      failf(r, x->step, x->step_index, "reply field %s is 0x%" PRIx64 "%s, expected 0x%" PRIx64, who, got, mask, f->value);
      return false;
    case VSIM_FIELD_RANGE:
      if (got >= f->min && got <= f->max) return true;
      if (f->max == f->mask)
        failf(r, x->step, x->step_index, "reply field %s is %" PRIu64 "%s, expected at least %" PRIu64, who, got,
              mask, f->min);
      else
        failf(r, x->step, x->step_index, "reply field %s is %" PRIu64 "%s, expected %" PRIu64 "..%" PRIu64, who,
              got, mask, f->min, f->max);
      return false;
    case VSIM_FIELD_ECHO: {
      uint64_t sent = le_value(out + f->sent_offset, f->width) & f->mask;
      if (got == sent) return true;
      failf(r, x->step, x->step_index,
            "reply field %s is 0x%" PRIx64 "%s, expected 0x%" PRIx64 " as sent at offset %u", who, got, mask, sent,
            f->sent_offset);
      return false;
    }
    default: return true;
  }
}

void vsim_req_drv_complete(vsim_req_drv *r, uint16_t q, uint64_t token, uint32_t len) {
  uint64_t k = token - VSIM_REQ_DRV_TOKEN_BASE;
  if (q >= r->nq || k >= r->qsize) return;
  vsim_req *x = &r->req[(size_t)q * r->qsize + k];
  if (!x->busy) return;
  vsim_driver *d = r->drv;
  const vsim_step *st = x->step;
  r->completed++;
  if (r->sink->now) {
    uint64_t lat = r->sink->now(r->sink->ctx) - x->submitted_at;
    r->latency_total += lat;
    if (lat > r->latency_max) r->latency_max = lat;
  }
  unsigned bad = 0;
  if (st->expect_used_len.set && (len < st->expect_used_len.min || len > st->expect_used_len.max)) {
    bad++;
    if (st->expect_used_len.min == st->expect_used_len.max)
      failf(r, st, x->step_index, "used len %u, expected %" PRIu64, len, st->expect_used_len.min);
    else if (st->expect_used_len.max == UINT64_MAX)
      failf(r, st, x->step_index, "used len %u, expected at least %" PRIu64, len, st->expect_used_len.min);
    else
      failf(r, st, x->step_index, "used len %u, expected %" PRIu64 "..%" PRIu64, len, st->expect_used_len.min,
            st->expect_used_len.max);
  }
  vsim_span sp;
  if ((st->nfields || r->on_complete) &&
      vsim_arena_view(d->arena, VSIM_SIDE_DRIVER, x->buf, (uint64_t)x->in_off + x->in_len, VSIM_ACC_READ, &sp) == 0) {
    /* a used len beyond the writable bytes is the ring's violation
     * (split/packed.used-len-exceeds): trust no more than we gave */
    uint32_t used = len < x->in_len ? len : x->in_len;
    for (uint16_t i = 0; i < st->nfields; i++)
      if (!check_field(r, x, &st->fields[i], sp.ptr, sp.ptr + x->in_off, used)) bad++;
    if (r->on_complete) r->on_complete(r->obs_ctx, q, sp.ptr, x->out_len, sp.ptr + x->in_off, x->in_len, used);
  }
  /* REQ_DONE: a = step, b = expectations that failed, c = used len, d = 0 (a reply) */
  d->sink->event(d->sink->ctx, VSIM_EV_REQ_DONE, q, x->step_index, bad, len, 0);
  vsim_driver_free(d, x->buf, (uint64_t)x->in_off + x->step->len);
  x->busy = false;
}

void vsim_req_drv_queue_stopped(vsim_req_drv *r, uint16_t q) {
  if (q >= r->nq) return;
  for (uint32_t k = 0; k < r->qsize; k++) {
    vsim_req *x = &r->req[(size_t)q * r->qsize + k];
    if (!x->busy) continue;
    r->drv->sink->event(r->drv->sink->ctx, VSIM_EV_REQ_DONE, q, x->step_index, 1, 0, 1);
    if (x->step->nfields || x->step->expect_used_len.set)
      failf(r, x->step, x->step_index, "no reply: queue %u stopped (bad device output)", q);
    vsim_driver_free(r->drv, x->buf, (uint64_t)x->in_off + x->step->len);
    x->busy = false;
  }
}

void vsim_req_drv_drop(vsim_req_drv *r, int q) {
  size_t n = (size_t)r->nq * r->qsize;
  for (size_t i = 0; i < n; i++) {
    vsim_req *x = &r->req[i];
    if (!x->busy || (q >= 0 && x->q != q)) continue;
    vsim_driver_free(r->drv, x->buf, (uint64_t)x->in_off + x->step->len);
    x->busy = false;
  }
}
