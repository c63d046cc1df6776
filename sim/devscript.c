/* sim/devscript.c — the scripted device (see devscript.h).
 *
 * Owns: the device side of the dev.* steps. Ring layouts come from the UAPI
 * structs; the notification decisions ("irq" absent: notify as a conforming
 * device would) are written out here rather than shared with the device
 * models or the driver model on purpose: a shared helper would let one bug
 * hide on several sides at once.
 *
 * Why the device takes chains itself (dev.used without an id): a script
 * cannot know which head or buffer id the driver model picked for a request
 * (that is the driver's free-list business); the device learns it as every
 * device does, from the available ring. Taking a chain also tells the device
 * its last device-writable byte (where a blk request wants its status) and,
 * on the packed ring, how many descriptors a completion must skip.
 */
#include "devscript.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include "blk_drv.h" /* vsim_data_expand */
#include "le.h"

#include "ring_layout.h" /* AVAIL_*_OFF, USED_*_OFF */
#define USED_ELEM_SZ ((uint64_t)sizeof(struct vring_used_elem))
#define DESC_SZ 16u
_Static_assert(sizeof(struct vring_desc) == DESC_SZ && sizeof(struct vring_packed_desc) == DESC_SZ,
               "descriptors are 16 bytes");
#define PD_LEN ((uint64_t)offsetof(struct vring_packed_desc, len))
#define PD_ID ((uint64_t)offsetof(struct vring_packed_desc, id))
#define PD_FLAGS ((uint64_t)offsetof(struct vring_packed_desc, flags))
_Static_assert(offsetof(struct vring_packed_desc, id) == offsetof(struct vring_packed_desc, len) + 4,
               "id follows len: one write for both");
#define EVT_OFF_WRAP ((uint64_t)offsetof(struct vring_packed_desc_event, off_wrap))
#define EVT_FLAGS ((uint64_t)offsetof(struct vring_packed_desc_event, flags))

#define F_AVAIL ((uint16_t)(1u << VRING_PACKED_DESC_F_AVAIL))
#define F_USED ((uint16_t)(1u << VRING_PACKED_DESC_F_USED))
#define WRAP_BIT ((uint16_t)(1u << VRING_PACKED_EVENT_F_WRAP_CTR))
#define OFF_MASK ((uint16_t)(WRAP_BIT - 1u))

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t n, const char *fmt, ...) {
  if (err && n) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static void emit(const vsim_devscript *ds, int kind, int q, uint64_t a, uint64_t b, uint64_t c,
                 uint64_t d) {
  if (ds->host->event) ds->host->event(ds->host->ctx, kind, q, a, b, c, d);
}

/* Guest memory as the device. A refused access is reported by the arena's
 * fault sink (mem.dev-out-of-bounds); reads then fail the step, writes are
 * simply lost, as on a bus that drops them. */
static vsim_arena *arena(const vsim_devscript *ds) { return ds->host->arena; }
static int rd16(const vsim_devscript *ds, uint64_t gpa, uint16_t *v) {
  return vsim_arena_read16(arena(ds), VSIM_SIDE_DEVICE, gpa, v);
}
static void wr16(const vsim_devscript *ds, uint64_t gpa, uint16_t v) {
  (void)vsim_arena_write16(arena(ds), VSIM_SIDE_DEVICE, gpa, v);
}
static void wr32(const vsim_devscript *ds, uint64_t gpa, uint32_t v) {
  (void)vsim_arena_write32(arena(ds), VSIM_SIDE_DEVICE, gpa, v);
}
static int rd_desc(const vsim_devscript *ds, uint64_t gpa, uint8_t d[DESC_SZ]) {
  return vsim_arena_read(arena(ds), VSIM_SIDE_DEVICE, gpa, d, DESC_SZ);
}

static uint16_t pos16(uint16_t off, bool wrap) { return (uint16_t)(off | (wrap ? WRAP_BIT : 0)); }

/* Move a packed position `n` descriptors on (n <= size; a lap flips the wrap). */
static void advance(uint16_t *off, bool *wrap, uint32_t n, uint16_t size) {
  uint32_t next = (uint32_t)*off + n;
  if (next >= size) {
    next -= size;
    *wrap = !*wrap;
  }
  *off = (uint16_t)next;
}

/* ---- set-up ---- */

void vsim_devscript_init(vsim_devscript *ds, const vsim_host *host, uint16_t num_queues) {
  memset(ds, 0, sizeof *ds);
  ds->host = host;
  ds->nq = num_queues < VSIM_DEVSCRIPT_MAX_QUEUES ? num_queues : VSIM_DEVSCRIPT_MAX_QUEUES;
}

void vsim_devscript_fini(vsim_devscript *ds) {
  for (uint16_t i = 0; i < VSIM_DEVSCRIPT_MAX_QUEUES; i++) {
    free(ds->q[i].chain);
    ds->q[i].chain = NULL;
    ds->q[i].live = false;
  }
}

int vsim_devscript_queue_ready(vsim_devscript *ds, uint16_t qi, const vsim_queue_cfg *cfg,
                               uint64_t features) {
  if (qi >= ds->nq) return 0; /* the transport judges a queue that does not exist */
  vsim_dsq *q = &ds->q[qi];
  free(q->chain);
  *q = (vsim_dsq){0};
  if (cfg->size == 0) return 0;
  q->chain = calloc(cfg->size, sizeof *q->chain);
  if (!q->chain) return -1;
  q->cfg = *cfg;
  q->packed = (features >> VIRTIO_F_RING_PACKED) & 1u;
  q->event_idx = (features >> VIRTIO_RING_F_EVENT_IDX) & 1u;
  /* packed rings start on the lap whose wrap counter is 1 */
  q->avail_wrap = q->used_wrap = true;
  q->published = q->packed ? pos16(0, true) : 0;
  q->live = true;
  return 0;
}

void vsim_devscript_queue_reset(vsim_devscript *ds, uint16_t qi) {
  if (qi < ds->nq) ds->q[qi].live = false;
}

void vsim_devscript_reset(vsim_devscript *ds) {
  for (uint16_t i = 0; i < ds->nq; i++) ds->q[i].live = false;
}

/* ---- taking a chain from the available ring ---- */

typedef struct taken {
  uint32_t nseg;
  uint64_t rd, wr;
} taken;

static void note_seg(taken *t, vsim_dsq_chain *c, uint64_t addr, uint32_t len, bool write) {
  t->nseg++;
  if (!write) {
    t->rd += len;
    return;
  }
  t->wr += len;
  if (len) {
    c->has_wr = true;
    c->last_wr = addr + len - 1u;
  }
}

/* The entries of an indirect table (at most the queue size of them). */
static void walk_table(const vsim_devscript *ds, const vsim_dsq *q, uint64_t table, uint32_t len,
                       unsigned flags_off, taken *t, vsim_dsq_chain *c) {
  for (uint32_t e = 0; e < len / DESC_SZ && e < q->cfg.size; e++) {
    uint8_t d[DESC_SZ];
    if (rd_desc(ds, table + (uint64_t)e * DESC_SZ, d)) return;
    note_seg(t, c, vsim_le_ld64(d), vsim_le_ld32(d + 8), vsim_le_ld16(d + flags_off) & VRING_DESC_F_WRITE);
  }
}

/* Split: the chain from `head`, followed as the driver linked it (bounded:
 * at most the queue size of ring descriptors, one indirect table). */
static void split_walk(const vsim_devscript *ds, const vsim_dsq *q, uint16_t head, taken *t,
                       vsim_dsq_chain *c) {
  uint32_t i = head;
  for (uint32_t n = 0; n < q->cfg.size && i < q->cfg.size; n++) {
    uint8_t d[DESC_SZ];
    if (rd_desc(ds, q->cfg.desc + (uint64_t)i * DESC_SZ, d)) return;
    uint16_t flags = vsim_le_ld16(d + offsetof(struct vring_desc, flags));
    if (flags & VRING_DESC_F_INDIRECT) {
      walk_table(ds, q, vsim_le_ld64(d), vsim_le_ld32(d + 8), offsetof(struct vring_desc, flags), t, c);
      return;
    }
    note_seg(t, c, vsim_le_ld64(d), vsim_le_ld32(d + 8), flags & VRING_DESC_F_WRITE);
    if (!(flags & VRING_DESC_F_NEXT)) return;
    i = vsim_le_ld16(d + offsetof(struct vring_desc, next));
  }
}

static int split_take(vsim_devscript *ds, uint16_t qi, vsim_dsq *q, uint32_t *id, char *err,
                      size_t n) {
  uint16_t idx, head;
  if (rd16(ds, q->cfg.driver + AVAIL_IDX_OFF, &idx))
    return fail(err, n, "queue %u: avail.idx is outside what the device may read", qi);
  if (idx == q->avail_next)
    return fail(err, n, "queue %u: nothing to take: the device took every entry up to avail.idx %u",
                qi, idx);
  uint64_t slot = q->cfg.driver + AVAIL_RING_OFF + 2u * (uint64_t)(q->avail_next % q->cfg.size);
  if (rd16(ds, slot, &head))
    return fail(err, n, "queue %u: the available ring is outside what the device may read", qi);
  q->avail_next++;
  taken t = {0};
  vsim_dsq_chain c = {.known = true, .ndescs = 1};
  if (head < q->cfg.size) {
    split_walk(ds, q, head, &t, &c);
    q->chain[head] = c;
  }
  emit(ds, VSIM_EV_POP, qi, head, t.nseg, t.rd, t.wr);
  *id = head;
  return 0;
}

static int packed_take(vsim_devscript *ds, uint16_t qi, vsim_dsq *q, uint32_t *id, char *err,
                       size_t n) {
  const uint16_t size = q->cfg.size;
  uint8_t d[DESC_SZ];
  if (rd_desc(ds, q->cfg.desc + (uint64_t)q->avail_next * DESC_SZ, d))
    return fail(err, n, "queue %u: the descriptor ring is outside what the device may read", qi);
  uint16_t flags = vsim_le_ld16(d + PD_FLAGS);
  bool a = (flags & F_AVAIL) != 0, u = (flags & F_USED) != 0;
  if (a != q->avail_wrap || u == q->avail_wrap)
    return fail(err, n, "queue %u: nothing to take: descriptor %u (wrap %u) is not available (flags 0x%04x)",
                qi, q->avail_next, q->avail_wrap, flags);
  const uint16_t start = q->avail_next;
  const bool start_wrap = q->avail_wrap;
  taken t = {0};
  vsim_dsq_chain c = {.known = true};
  uint16_t off = start;
  bool wrap = start_wrap;
  uint16_t list_id = 0;
  uint32_t k = 0;
  /* the list ends at the first descriptor without NEXT; its id is the list's */
  while (k < size) {
    if (k > 0 && rd_desc(ds, q->cfg.desc + (uint64_t)off * DESC_SZ, d)) break;
    flags = vsim_le_ld16(d + PD_FLAGS);
    list_id = vsim_le_ld16(d + PD_ID);
    if (flags & VRING_DESC_F_INDIRECT)
      walk_table(ds, q, vsim_le_ld64(d), vsim_le_ld32(d + PD_LEN), PD_FLAGS, &t, &c);
    else
      note_seg(&t, &c, vsim_le_ld64(d), vsim_le_ld32(d + PD_LEN), flags & VRING_DESC_F_WRITE);
    k++;
    advance(&off, &wrap, 1, size);
    if (!(flags & VRING_DESC_F_NEXT)) break;
  }
  c.ndescs = (uint16_t)k;
  q->avail_next = off;
  q->avail_wrap = wrap;
  if (list_id < size) q->chain[list_id] = c;
  emit(ds, VSIM_EV_POP, qi, list_id, t.nseg | ((uint64_t)pos16(start, start_wrap) << 32), t.rd, t.wr);
  *id = list_id;
  return 0;
}

/* ---- notification decisions (the "irq" default) ---- */

/* Linux's vring_need_event: the entry at `event` was written in (old, new]. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old) {
  return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

static bool split_wants(const vsim_devscript *ds, const vsim_dsq *q, uint16_t old, uint16_t new_idx) {
  if (new_idx == old) return false;
  uint16_t v;
  if (q->event_idx) {
    if (rd16(ds, q->cfg.driver + AVAIL_RING_OFF + 2u * (uint64_t)q->cfg.size, &v)) return true;
    return need_event(v, new_idx, old);
  }
  if (rd16(ds, q->cfg.driver + AVAIL_FLAGS_OFF, &v)) return true;
  return !(v & VRING_AVAIL_F_NO_INTERRUPT);
}

/* The place of a packed position on the double lap 0 .. 2*size-1. */
static uint32_t lap(uint16_t size, uint16_t pos) {
  return (uint32_t)(pos & OFF_MASK) + ((pos & WRAP_BIT) ? 0u : size);
}

/* The driver event structure asks for a notification when the descriptor at
 * its position is used: is it among [old, new)? Unreadable, or a value that is
 * neither DISABLE nor DESC: notify (as a device that cannot tell must). */
static bool packed_wants(const vsim_devscript *ds, const vsim_dsq *q, uint16_t old, uint16_t new_pos) {
  if (new_pos == old) return false;
  uint8_t e[4];
  if (vsim_arena_read(arena(ds), VSIM_SIDE_DEVICE, q->cfg.driver, e, sizeof e)) return true;
  uint16_t off_wrap = vsim_le_ld16(e + EVT_OFF_WRAP), flags = vsim_le_ld16(e + EVT_FLAGS);
  if (flags == VRING_PACKED_EVENT_FLAG_DISABLE) return false;
  if (flags != VRING_PACKED_EVENT_FLAG_DESC || !q->event_idx) return true;
  const uint16_t size = q->cfg.size;
  if ((off_wrap & OFF_MASK) >= size) return false; /* a position the ring never reaches */
  uint32_t span = 2u * size, o = lap(size, old);
  return (lap(size, off_wrap) + span - o) % span < (lap(size, new_pos) + span - o) % span;
}

static void notify(const vsim_devscript *ds, uint16_t qi, const vsim_step *st, bool wanted) {
  if (st->has_irq ? st->irq : wanted) ds->host->interrupt(ds->host->ctx, qi);
}

/* ---- completions ---- */

static void split_publish(vsim_devscript *ds, uint16_t qi, vsim_dsq *q, uint16_t new_idx,
                          const vsim_step *st) {
  uint16_t old = q->published;
  wr16(ds, q->cfg.device + USED_IDX_OFF, new_idx);
  q->published = new_idx;
  emit(ds, VSIM_EV_USED_PUBLISH, qi, old, new_idx, 0, 0);
  notify(ds, qi, st, split_wants(ds, q, old, new_idx));
}

/* The chain `id` as the device took it, or NULL. */
static const vsim_dsq_chain *chain_of(const vsim_dsq *q, uint32_t id) {
  return id < q->cfg.size && q->chain[id].known ? &q->chain[id] : NULL;
}

/* "status": the byte goes into the chain's last device-writable byte, before
 * the completion is written (the buffer first, then the ring). */
static int write_status(vsim_devscript *ds, uint16_t qi, const vsim_dsq *q, uint32_t id,
                        const vsim_step *st, char *err, size_t n) {
  if (!st->has_status) return 0;
  const vsim_dsq_chain *c = chain_of(q, id);
  if (!c || !c->has_wr)
    return fail(err, n, "queue %u: \"status\" for id %u: the device has not taken a chain with "
                "that id that has a device-writable byte", qi, (unsigned)id);
  (void)vsim_arena_write(arena(ds), VSIM_SIDE_DEVICE, c->last_wr, &st->status, 1);
  return 0;
}

static int resolve_id(vsim_devscript *ds, uint16_t qi, vsim_dsq *q, const vsim_step *st,
                      uint32_t *id, char *err, size_t n) {
  switch (st->dev_id) {
    case VSIM_DEV_ID_VALUE: *id = st->id; return 0;
    case VSIM_DEV_ID_LAST:
      if (!q->has_last) return fail(err, n, "queue %u: \"id\": \"last\" but nothing was completed yet", qi);
      *id = q->last_id;
      return 0;
    case VSIM_DEV_ID_NEXT: break;
  }
  return q->packed ? packed_take(ds, qi, q, id, err, n) : split_take(ds, qi, q, id, err, n);
}

static int split_used(vsim_devscript *ds, uint16_t qi, vsim_dsq *q, const vsim_step *st, char *err,
                      size_t n) {
  if (st->has_skip) return fail(err, n, "\"skip\" needs the packed ring");
  uint32_t id;
  if (resolve_id(ds, qi, q, st, &id, err, n) || write_status(ds, qi, q, id, st, err, n)) return -1;
  uint64_t elem = q->cfg.device + USED_RING_OFF + USED_ELEM_SZ * (uint64_t)(q->used_next % q->cfg.size);
  wr32(ds, elem + offsetof(struct vring_used_elem, id), id);
  wr32(ds, elem + offsetof(struct vring_used_elem, len), st->len);
  q->used_next++;
  q->has_last = true;
  q->last_id = id;
  emit(ds, VSIM_EV_USED, qi, id, st->len, 0, 0);
  if (!st->no_publish) split_publish(ds, qi, q, q->used_next, st);
  return 0;
}

static int packed_used(vsim_devscript *ds, uint16_t qi, vsim_dsq *q, const vsim_step *st, char *err,
                       size_t n) {
  const uint16_t size = q->cfg.size;
  if (st->no_publish)
    return fail(err, n, "\"publish\": false needs the split ring (a packed used descriptor is "
                "published by its flags: write them with dev.pused)");
  if (st->has_skip && st->skip > size)
    return fail(err, n, "\"skip\" %u is more than the queue size %u", st->skip, size);
  if (st->dev_id == VSIM_DEV_ID_VALUE && st->id > UINT16_MAX)
    return fail(err, n, "id %u: packed buffer ids are 16 bits", (unsigned)st->id);
  uint32_t id;
  if (resolve_id(ds, qi, q, st, &id, err, n) || write_status(ds, qi, q, id, st, err, n)) return -1;
  const vsim_dsq_chain *c = chain_of(q, id);
  uint16_t skip = st->has_skip ? st->skip : c ? c->ndescs : 1;
  /* dev.used writes what a conforming device would (WRITE when it wrote
   * data, as the built-in model does); dev.pused the flags given */
  uint16_t flags = st->op == VSIM_OP_DEV_PUSED ? (uint16_t)st->flags
                                               : (uint16_t)(st->len ? VRING_DESC_F_WRITE : 0);
  bool exact = st->op == VSIM_OP_DEV_PUSED && st->exact;
  if (!exact) flags = (uint16_t)((flags & ~(F_AVAIL | F_USED)) | (q->used_wrap ? F_AVAIL | F_USED : 0));
  /* len and id first, the flags last (PEERS.md B6): a driver that sees the
   * flags say "used" must find the id and len already there */
  uint64_t at = q->cfg.desc + (uint64_t)q->used_next * DESC_SZ;
  uint8_t body[6];
  vsim_le_st32(body, st->len);
  vsim_le_st16(body + (PD_ID - PD_LEN), (uint16_t)id);
  (void)vsim_arena_write(arena(ds), VSIM_SIDE_DEVICE, at + PD_LEN, body, sizeof body);
  wr16(ds, at + PD_FLAGS, flags);
  q->has_last = true;
  q->last_id = id;
  emit(ds, VSIM_EV_USED, qi, id, st->len, 0, 0);
  uint16_t old = q->published;
  advance(&q->used_next, &q->used_wrap, skip, size);
  q->published = pos16(q->used_next, q->used_wrap);
  emit(ds, VSIM_EV_USED_PUBLISH, qi, old, q->published, 0, 0);
  notify(ds, qi, st, packed_wants(ds, q, old, q->published));
  return 0;
}

/* ---- the steps ---- */

/* The queue a ring step acts on: set up on the device side, with the layout
 * the step writes (-1: any). */
static vsim_dsq *ring_queue(vsim_devscript *ds, const vsim_step *st, int want_packed, char *err,
                            size_t n) {
  if (st->queue >= ds->nq || !ds->q[st->queue].live) {
    fail(err, n, "queue %u is not set up on the device side (QueueReady is 0)", st->queue);
    return NULL;
  }
  vsim_dsq *q = &ds->q[st->queue];
  if (want_packed >= 0 && q->packed != (want_packed != 0)) {
    fail(err, n, "%s needs the %s ring (this run uses the %s ring)", vsim_op_name(st->op),
         want_packed ? "packed" : "split", q->packed ? "packed" : "split");
    return NULL;
  }
  return q;
}

static int dev_write(vsim_devscript *ds, const vsim_step *st, char *err, size_t n) {
  uint8_t *buf = malloc(st->data.len ? st->data.len : 1);
  if (!buf) return fail(err, n, "out of memory");
  vsim_data_expand(&st->data, buf);
  /* a refused write is the device's violation (mem.dev-out-of-bounds), not a script error */
  (void)vsim_arena_write(arena(ds), VSIM_SIDE_DEVICE, st->addr, buf, st->data.len);
  free(buf);
  return 0;
}

static int dev_config(vsim_devcore *dc, const vsim_step *st, char *err, size_t n) {
  if (!dc) return fail(err, n, "dev.config needs a built-in device");
  if (st->offset > dc->config_len || st->data.len > dc->config_len - st->offset)
    return fail(err, n, "config bytes %u..%u are outside the device's %u-byte config space",
                st->offset, st->offset + st->data.len, dc->config_len);
  if (st->data.len) vsim_data_expand(&st->data, dc->config + st->offset);
  /* the spec: the device changes ConfigGeneration with any change, and
   * notifies the driver, unless the script says it does not */
  if (!st->has_irq || st->irq)
    vsim_devcore_config_changed(dc);
  else
    dc->generation++;
  return 0;
}

static int dev_needs_reset(vsim_devscript *ds, vsim_devcore *dc, const vsim_step *st, char *err,
                           size_t n) {
  if (!dc) return fail(err, n, "dev.needs_reset needs a built-in device");
  if (!st->has_irq || st->irq) {
    vsim_devcore_needs_reset(dc, -1); /* with the notification the spec asks for */
    return 0;
  }
  if (dc->status & VIRTIO_CONFIG_S_NEEDS_RESET) return 0;
  dc->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
  emit(ds, VSIM_EV_NEEDS_RESET, -1, dc->status, 0, 0, 0);
  return 0;
}

int vsim_devscript_step(vsim_devscript *ds, const vsim_step *st, vsim_devcore *dc, char *err,
                        size_t n) {
  vsim_dsq *q = NULL;
  switch (st->op) {
    case VSIM_OP_DEV_USED:
      if (!(q = ring_queue(ds, st, -1, err, n))) return -1;
      return q->packed ? packed_used(ds, st->queue, q, st, err, n) : split_used(ds, st->queue, q, st, err, n);
    case VSIM_OP_DEV_PUSED:
      if (!(q = ring_queue(ds, st, 1, err, n))) return -1;
      return packed_used(ds, st->queue, q, st, err, n);
    case VSIM_OP_DEV_USED_IDX:
      if (!(q = ring_queue(ds, st, 0, err, n))) return -1;
      q->used_next = (uint16_t)st->value;
      split_publish(ds, st->queue, q, (uint16_t)st->value, st);
      return 0;
    case VSIM_OP_DEV_USED_FLAGS:
      if (!(q = ring_queue(ds, st, 0, err, n))) return -1;
      wr16(ds, q->cfg.device + USED_FLAGS_OFF, (uint16_t)st->value);
      return 0;
    case VSIM_OP_DEV_AVAIL_EVENT:
      if (!(q = ring_queue(ds, st, 0, err, n))) return -1;
      wr16(ds, q->cfg.device + USED_RING_OFF + USED_ELEM_SZ * q->cfg.size, (uint16_t)st->value);
      return 0;
    case VSIM_OP_DEV_PEVENT:
      if (!(q = ring_queue(ds, st, 1, err, n))) return -1;
      /* off_wrap first, flags last (PEERS.md B7): once the flags say DESC,
       * the position they refer to is the new one */
      wr16(ds, q->cfg.device + EVT_OFF_WRAP, (uint16_t)st->value);
      wr16(ds, q->cfg.device + EVT_FLAGS, (uint16_t)st->flags);
      return 0;
    case VSIM_OP_DEV_IRQ:
      /* whenever the script says: before set-up, after a reset, suppressed */
      ds->host->interrupt(ds->host->ctx, st->queue);
      return 0;
    case VSIM_OP_DEV_WRITE: return dev_write(ds, st, err, n);
    case VSIM_OP_DEV_CONFIG: return dev_config(dc, st, err, n);
    case VSIM_OP_DEV_NEEDS_RESET: return dev_needs_reset(ds, dc, st, err, n);
    default: return fail(err, n, "%s is not a dev.* op", vsim_op_name(st->op));
  }
}
