/* reports/show.c — queue state as text and SVG (see show.h).
 *
 * Both renderers work from one snapshot per queue (what guest memory holds,
 * and who owns each entry), taken by snap_queue, so that the text and the
 * picture can never disagree.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include "devcore.h"
#include "driver.h"
#include "mmio.h"
#include "replay.h"
#include "scenario.h"
#include "show.h"

/* who an entry belongs to right now */
enum own {
  OWN_FREE = 0,   /* the driver's, unused */
  OWN_DEVICE,     /* made available: the device's to process (split: part of a chain in flight) */
  OWN_DRIVER,     /* used and not yet reaped: the driver's to take back */
  OWN_DONE,       /* consumed (avail slot popped, used slot reaped) */
};

typedef struct qdesc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next_or_id; /* split: next; packed: buffer id */
  enum own own;
  int head;            /* split: the chain's head, -1 none */
} qdesc;

typedef struct qsnap {
  int q;
  bool packed;
  uint16_t size;
  uint64_t desc, drv_area, dev_area;
  bool mem_ok;          /* all three parts lie inside the arena */
  qdesc *d;             /* [size] */
  /* split */
  uint16_t avail_flags, avail_idx, used_event, used_flags, used_idx, avail_event;
  uint16_t *avail_ring; /* [size] */
  enum own *avail_own;  /* [size] */
  uint32_t *used_id, *used_len; /* [size] */
  enum own *used_own;   /* [size] */
  /* packed */
  uint16_t drv_evt_off_wrap, drv_evt_flags, dev_evt_off_wrap, dev_evt_flags;
  /* private indices */
  const vsim_vq_drv *dv;
  const vsim_vq_pdrv *pdv;
  const vsim_vq_dev *vv;   /* NULL unless a built-in device has the ring live */
  const vsim_vqp_dev *pvv;
} qsnap;

/* ---- guest memory, read-only, bounds checked here ---- */

static bool in_arena(vsim_arena *a, uint64_t gpa, uint64_t len) {
  uint64_t size = vsim_arena_size(a);
  return gpa <= size && len <= size - gpa;
}

static uint64_t rd(vsim_arena *a, uint64_t gpa, unsigned width) {
  if (!in_arena(a, gpa, width)) return 0;
  const uint8_t *p = vsim_arena_base(a) + gpa;
  uint64_t v = 0;
  for (unsigned i = 0; i < width; i++) v |= (uint64_t)p[i] << (8 * i); /* little-endian */
  return v;
}

/* ---- the snapshot ---- */

static void snap_free(qsnap *s) {
  free(s->d);
  free(s->avail_ring);
  free(s->avail_own);
  free(s->used_id);
  free(s->used_len);
  free(s->used_own);
  memset(s, 0, sizeof *s);
}

/* Is ring position p (a free-running 16-bit counter) in [from, to)? */
static bool in_window(uint16_t p, uint16_t from, uint16_t to) {
  return (uint16_t)(p - from) < (uint16_t)(to - from);
}

/* A packed ring position as one number over two laps (the wrap counter
 * starts at 1, so wrap 1 is the even lap), and the distance from a to b. */
static uint32_t ext_pos(uint16_t off, bool wrap, uint16_t n) { return off % n + (wrap ? 0u : n); }
static uint32_t ring_dist(uint32_t a, uint32_t b, uint16_t n) { return (b + 2u * n - a) % (2u * n); }

static int snap_queue(qsnap *s, vsim_sim *sim, int q) {
  memset(s, 0, sizeof *s);
  const vsim_driver *drv = vsim_sim_view_driver(sim);
  const vsim_devcore *dc = vsim_sim_view_devcore(sim);
  vsim_arena *a = vsim_sim_arena(sim);
  s->q = q;
  s->packed = drv->packed;
  if (s->packed) {
    s->pdv = &drv->pvq[q];
    s->size = s->pdv->size;
    s->desc = s->pdv->desc;
    s->drv_area = s->pdv->driver_evt;
    s->dev_area = s->pdv->device_evt;
  } else {
    s->dv = &drv->vq[q];
    s->size = s->dv->size;
    s->desc = s->dv->desc;
    s->drv_area = s->dv->avail;
    s->dev_area = s->dv->used;
  }
  if (dc && q < dc->nq && dc->q[q].vq_live && dc->q[q].packed == s->packed) {
    if (s->packed) s->pvv = &dc->q[q].pvq;
    else s->vv = &dc->q[q].vq;
  }
  uint16_t n = s->size;
  s->d = calloc(n ? n : 1, sizeof *s->d);
  if (!s->d) return -1;
  s->mem_ok = in_arena(a, s->desc, 16u * n);
  for (uint16_t i = 0; i < n; i++) {
    qdesc *d = &s->d[i];
    uint64_t g = s->desc + 16u * i;
    d->addr = rd(a, g, 8);
    d->len = (uint32_t)rd(a, g + 8, 4);
    d->head = -1;
    if (s->packed) {
      d->next_or_id = (uint16_t)rd(a, g + 12, 2);
      d->flags = (uint16_t)rd(a, g + 14, 2);
      bool av = d->flags >> VRING_PACKED_DESC_F_AVAIL & 1, us = d->flags >> VRING_PACKED_DESC_F_USED & 1;
      /* available when the two bits differ, used when they agree; a slot never
       * written (all zero) stays free */
      if (av != us) d->own = OWN_DEVICE;
      else if (d->addr || d->len || d->flags || d->next_or_id) d->own = OWN_DRIVER;
      else d->own = OWN_FREE;
    } else {
      d->flags = (uint16_t)rd(a, g + 12, 2);
      d->next_or_id = (uint16_t)rd(a, g + 14, 2);
    }
  }
  if (s->packed) {
    s->mem_ok = s->mem_ok && in_arena(a, s->drv_area, 4) && in_arena(a, s->dev_area, 4);
    s->drv_evt_off_wrap = (uint16_t)rd(a, s->drv_area, 2);
    s->drv_evt_flags = (uint16_t)rd(a, s->drv_area + 2, 2);
    s->dev_evt_off_wrap = (uint16_t)rd(a, s->dev_area, 2);
    s->dev_evt_flags = (uint16_t)rd(a, s->dev_area + 2, 2);
    /* With the device's indices, ownership follows from the four positions,
     * in ring order: driver next_used <= device next_used <= device
     * next_avail <= driver next_avail. The flag bits alone cannot tell (the
     * non-first descriptors of a used list keep their "available" bits). */
    if (s->pvv) {
      uint32_t du = ext_pos(s->pdv->next_used, s->pdv->used_wrap, n);
      uint32_t vu = ext_pos(s->pvv->next_used, s->pvv->used_wrap, n);
      uint32_t va = ext_pos(s->pvv->next_avail, s->pvv->avail_wrap, n);
      uint32_t da = ext_pos(s->pdv->next_avail, s->pdv->avail_wrap, n);
      uint32_t w_used = ring_dist(du, vu, n), w_popped = ring_dist(du, va, n), w_all = ring_dist(du, da, n);
      for (uint16_t i = 0; i < n; i++) {
        uint32_t d = (uint32_t)((i + n - s->pdv->next_used % n) % n);
        qdesc *e = &s->d[i];
        bool written = e->addr || e->len || e->flags || e->next_or_id;
        /* [du, vu) used, not reaped; [vu, va) popped, in flight; [va, da) available */
        if (d < w_used) e->own = OWN_DRIVER;
        else if (d < w_popped || d < w_all) e->own = OWN_DEVICE;
        else e->own = written ? OWN_DONE : OWN_FREE;
      }
    }
    return 0;
  }
  /* split: chains in flight, walked from the driver's private list of heads */
  for (uint16_t h = 0; h < n; h++) {
    if (!s->dv->slot || !s->dv->slot[h].in_flight) continue;
    uint16_t i = h;
    for (uint16_t k = 0; k < n && i < n; k++) {
      s->d[i].own = OWN_DEVICE;
      s->d[i].head = h;
      if ((s->d[i].flags & VRING_DESC_F_INDIRECT) || !(s->d[i].flags & VRING_DESC_F_NEXT)) break;
      i = s->d[i].next_or_id;
    }
  }
  s->avail_ring = calloc(n ? n : 1, sizeof *s->avail_ring);
  s->avail_own = calloc(n ? n : 1, sizeof *s->avail_own);
  s->used_id = calloc(n ? n : 1, sizeof *s->used_id);
  s->used_len = calloc(n ? n : 1, sizeof *s->used_len);
  s->used_own = calloc(n ? n : 1, sizeof *s->used_own);
  if (!s->avail_ring || !s->avail_own || !s->used_id || !s->used_len || !s->used_own) return -1;
  s->mem_ok = s->mem_ok && in_arena(a, s->drv_area, 6 + 2u * n) && in_arena(a, s->dev_area, 6 + 8u * n);
  s->avail_flags = (uint16_t)rd(a, s->drv_area, 2);
  s->avail_idx = (uint16_t)rd(a, s->drv_area + 2, 2);
  s->used_event = (uint16_t)rd(a, s->drv_area + 4 + 2u * n, 2);
  s->used_flags = (uint16_t)rd(a, s->dev_area, 2);
  s->used_idx = (uint16_t)rd(a, s->dev_area + 2, 2);
  s->avail_event = (uint16_t)rd(a, s->dev_area + 4 + 8u * n, 2);
  /* what the device has popped: its own counter if we can see it, else the
   * driver's view that everything up to avail.idx may be pending */
  uint16_t dev_next = s->vv ? (uint16_t)s->vv->next_avail : (uint16_t)(s->avail_idx - n);
  uint16_t last_used = (uint16_t)s->dv->last_used;
  for (uint16_t i = 0; i < n; i++) {
    s->avail_ring[i] = (uint16_t)rd(a, s->drv_area + 4 + 2u * i, 2);
    s->used_id[i] = (uint32_t)rd(a, s->dev_area + 4 + 8u * i, 4);
    s->used_len[i] = (uint32_t)rd(a, s->dev_area + 8 + 8u * i, 4);
  }
  /* each ring slot holds the latest of the positions that map to it */
  /* slots never written: fewer entries than the ring holds were ever
   * published (the 32-bit counters tell, where 16-bit indices wrap) */
  uint64_t avail_written = s->dv->avail_idx;
  uint64_t used_written = s->vv ? s->vv->published_used : s->used_idx;
  for (uint16_t k = 0; k < n; k++) {
    uint16_t pa = (uint16_t)(s->avail_idx - 1 - k); /* positions behind avail.idx */
    enum own o = in_window(pa, dev_next, s->avail_idx) ? OWN_DEVICE : OWN_DONE;
    if (k + 1u > avail_written) o = OWN_FREE;
    s->avail_own[pa % n] = o;
    uint16_t pu = (uint16_t)(s->used_idx - 1 - k);
    enum own u = in_window(pu, last_used, s->used_idx) ? OWN_DRIVER : OWN_DONE;
    if (k + 1u > used_written) u = OWN_FREE;
    s->used_own[pu % n] = u;
  }
  /* a chain the device has used and the driver not yet reaped is the driver's */
  for (uint16_t i = 0; i < n; i++) {
    if (s->used_own[i] != OWN_DRIVER || s->used_id[i] >= n) continue;
    for (uint16_t k = 0; k < n; k++)
      if (s->d[k].head == (int)s->used_id[i]) s->d[k].own = OWN_DRIVER;
  }
  return 0;
}

/* ---- text ---- */

static const char *own_name(enum own o, bool packed) {
  switch (o) {
    case OWN_DEVICE: return packed ? "available / in flight (device's)" : "in flight (device's)";
    case OWN_DRIVER: return "used, not reaped (driver's)";
    case OWN_DONE: return "done";
    default: return "free";
  }
}

static void flag_text(char *buf, size_t len, uint16_t f, bool packed) {
  buf[0] = '\0';
  size_t n = 0;
  const struct {
    uint16_t bit;
    const char *name;
  } names[] = {{VRING_DESC_F_NEXT, "NEXT"},
               {VRING_DESC_F_WRITE, "WRITE"},
               {VRING_DESC_F_INDIRECT, "INDIRECT"},
               {1u << VRING_PACKED_DESC_F_AVAIL, "AVAIL"},
               {(uint16_t)(1u << VRING_PACKED_DESC_F_USED), "USED"}};
  uint16_t known = 0;
  for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (!packed && i >= 3) break;
    known |= names[i].bit;
    if (f & names[i].bit) n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "|" : "", names[i].name);
  }
  if (f & ~known) snprintf(buf + n, n < len ? len - n : 0, "%s0x%x", n ? "|" : "", f & ~known);
  if (!buf[0]) snprintf(buf, len, "-");
}

static void status_text(char *buf, size_t len, unsigned st) {
  static const struct {
    unsigned bit;
    const char *name;
  } bits[] = {{VIRTIO_CONFIG_S_ACKNOWLEDGE, "ACKNOWLEDGE"}, {VIRTIO_CONFIG_S_DRIVER, "DRIVER"},
              {VIRTIO_CONFIG_S_FEATURES_OK, "FEATURES_OK"}, {VIRTIO_CONFIG_S_DRIVER_OK, "DRIVER_OK"},
              {VIRTIO_CONFIG_S_NEEDS_RESET, "NEEDS_RESET"}, {VIRTIO_CONFIG_S_FAILED, "FAILED"}};
  size_t n = 0;
  buf[0] = '\0';
  for (unsigned i = 0; i < sizeof bits / sizeof bits[0]; i++)
    if (st & bits[i].bit) n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? " " : "", bits[i].name);
  if (!buf[0]) snprintf(buf, len, "(none: reset)");
}

static void features_text(FILE *out, const char *device, uint64_t f) {
  if (!f) {
    fprintf(out, " (none)");
    return;
  }
  for (unsigned b = 0; b < 64; b++) {
    if (!(f >> b & 1)) continue;
    const char *nm = vsim_feature_name(device, b);
    if (nm) fprintf(out, " %s", nm);
    else fprintf(out, " bit:%u", b);
  }
}

static const char *evt_flags_name(uint16_t f) {
  switch (f) {
    case VRING_PACKED_EVENT_FLAG_ENABLE: return "ENABLE";
    case VRING_PACKED_EVENT_FLAG_DISABLE: return "DISABLE";
    case VRING_PACKED_EVENT_FLAG_DESC: return "DESC";
    default: return "reserved";
  }
}

static void hex_bytes(FILE *out, vsim_arena *a, uint64_t gpa, uint32_t len) {
  uint32_t n = len < 16 ? len : 16;
  if (!in_arena(a, gpa, n)) {
    fprintf(out, " (outside guest memory)");
    return;
  }
  const uint8_t *p = vsim_arena_base(a) + gpa;
  for (uint32_t i = 0; i < n; i++) fprintf(out, "%s%02x", i ? " " : " ", p[i]);
  if (len > n) fprintf(out, " ...");
}

/* The entries of an indirect table (split layout: flags at 12, next at 14;
 * packed: id at 12, flags at 14), with the first bytes of their buffers. */
static void show_indirect(FILE *out, vsim_arena *a, uint64_t table, uint32_t len, bool packed) {
  uint32_t n = len / 16u;
  for (uint32_t k = 0; k < n && k < 64; k++) {
    uint64_t g = table + 16u * k;
    if (!in_arena(a, g, 16)) {
      fprintf(out, "        [%u] outside guest memory\n", k);
      return;
    }
    uint64_t addr = rd(a, g, 8);
    uint32_t l = (uint32_t)rd(a, g + 8, 4);
    uint16_t fl = (uint16_t)rd(a, g + (packed ? 14 : 12), 2);
    char ft[64];
    flag_text(ft, sizeof ft, fl, packed);
    fprintf(out, "        [%u] 0x%" PRIx64 " +%u %s:", k, addr, l, ft);
    hex_bytes(out, a, addr, l);
    fputc('\n', out);
  }
  if (n > 64) fprintf(out, "        ... %u more entries\n", n - 64);
}

static void print_desc_rows(FILE *out, const qsnap *s) {
  char fl[64];
  for (uint16_t i = 0; i < s->size; i++) {
    const qdesc *d = &s->d[i];
    /* runs of untouched free descriptors are elided: large rings stay readable */
    if (d->own == OWN_FREE && !d->addr && !d->len && !d->flags && !d->next_or_id) {
      uint16_t j = i;
      while (j + 1 < s->size) {
        const qdesc *e = &s->d[j + 1];
        if (e->own != OWN_FREE || e->addr || e->len || e->flags || e->next_or_id) break;
        j++;
      }
      if (j > i) {
        fprintf(out, "    [%4u..%u] all zero, free\n", i, j);
        i = j;
        continue;
      }
    }
    flag_text(fl, sizeof fl, d->flags, s->packed);
    if (s->packed) {
      fprintf(out, "    [%4u] addr 0x%016" PRIx64 " len %6u id %5u flags %-22s A=%u U=%u  %s\n", i, d->addr, d->len,
              d->next_or_id, fl, d->flags >> VRING_PACKED_DESC_F_AVAIL & 1, d->flags >> VRING_PACKED_DESC_F_USED & 1,
              own_name(d->own, true));
    } else {
      fprintf(out, "    [%4u] addr 0x%016" PRIx64 " len %6u flags %-14s next %5u  %s", i, d->addr, d->len, fl,
              d->next_or_id, own_name(d->own, false));
      if (d->head >= 0) fprintf(out, " (chain of head %d)", d->head);
      fputc('\n', out);
    }
  }
}

static void show_split(FILE *out, const qsnap *s, vsim_arena *a) {
  const vsim_vq_drv *v = s->dv;
  fprintf(out, "queue %d: split, size %u; descriptor table 0x%" PRIx64 ", available ring 0x%" PRIx64
               ", used ring 0x%" PRIx64 "%s\n",
          s->q, s->size, s->desc, s->drv_area, s->dev_area, s->mem_ok ? "" : " (partly outside guest memory)");
  fprintf(out, "  driver: avail_idx %u (next avail slot %u), last_used %u, in flight %u, free descriptors %u"
               " (free head %u), interrupts %s, EVENT_IDX %s, INDIRECT %s, IN_ORDER %s%s\n",
          (uint16_t)v->avail_idx, s->size ? (uint16_t)v->avail_idx % s->size : 0, (uint16_t)v->last_used, v->inflight,
          v->num_free, v->free_head, v->cb_enabled ? "on" : "off", v->event_idx ? "yes" : "no",
          v->indirect ? "yes" : "no", v->in_order ? "yes" : "no", v->broken ? ", BROKEN" : "");
  if (s->vv)
    fprintf(out, "  device: next_avail %u, next_used %u, published used %u, in flight %u, notifications %s%s\n",
            (uint16_t)s->vv->next_avail, (uint16_t)s->vv->next_used, (uint16_t)s->vv->published_used,
            s->vv->inflight, s->vv->notify_enabled ? "on" : "off", s->vv->broken ? ", BROKEN" : "");
  else
    fprintf(out, "  device: ring not live (or not a built-in backend)\n");
  fprintf(out, "  descriptor table:\n");
  print_desc_rows(out, s);
  fprintf(out, "  available ring: flags 0x%04x%s, idx %u, used_event %u\n", s->avail_flags,
          s->avail_flags & VRING_AVAIL_F_NO_INTERRUPT ? " (NO_INTERRUPT)" : "", s->avail_idx, s->used_event);
  for (uint16_t i = 0; i < s->size; i++)
    fprintf(out, "    ring[%4u] = %5u  %s\n", i, s->avail_ring[i],
            s->avail_own[i] == OWN_DEVICE ? "published, not yet popped"
                                          : s->avail_own[i] == OWN_DONE ? "popped" : "never written");
  fprintf(out, "  used ring: flags 0x%04x%s, idx %u, avail_event %u\n", s->used_flags,
          s->used_flags & VRING_USED_F_NO_NOTIFY ? " (NO_NOTIFY)" : "", s->used_idx, s->avail_event);
  for (uint16_t i = 0; i < s->size; i++)
    fprintf(out, "    ring[%4u] = {id %5u, len %6u}  %s\n", i, s->used_id[i], s->used_len[i],
            s->used_own[i] == OWN_DRIVER ? "published, not yet reaped"
                                         : s->used_own[i] == OWN_DONE ? "reaped" : "never written");
  fprintf(out, "  chains in flight:%s\n", v->inflight ? "" : " none");
  for (uint16_t h = 0; h < s->size && v->slot; h++) {
    if (!v->slot[h].in_flight) continue;
    fprintf(out, "    head %u: %u descriptor(s), %u device-writable bytes\n", h, v->slot[h].ndescs,
            v->slot[h].wr_bytes);
    uint16_t i = h;
    for (uint16_t k = 0; k < s->size && i < s->size; k++) {
      const qdesc *d = &s->d[i];
      fprintf(out, "      desc %u: 0x%" PRIx64 " +%u %s%s:", i, d->addr, d->len,
              d->flags & VRING_DESC_F_WRITE ? "device-writable" : "device-readable",
              d->flags & VRING_DESC_F_INDIRECT ? ", indirect table" : "");
      hex_bytes(out, a, d->addr, d->len);
      fputc('\n', out);
      if (d->flags & VRING_DESC_F_INDIRECT) show_indirect(out, a, d->addr, d->len, false);
      if ((d->flags & VRING_DESC_F_INDIRECT) || !(d->flags & VRING_DESC_F_NEXT)) break;
      i = d->next_or_id;
    }
  }
}

static void show_packed(FILE *out, const qsnap *s, vsim_arena *a) {
  const vsim_vq_pdrv *v = s->pdv;
  fprintf(out, "queue %d: packed, size %u; descriptor ring 0x%" PRIx64 ", driver event suppression 0x%" PRIx64
               ", device event suppression 0x%" PRIx64 "%s\n",
          s->q, s->size, s->desc, s->drv_area, s->dev_area, s->mem_ok ? "" : " (partly outside guest memory)");
  fprintf(out, "  driver: next_avail %u, avail wrap counter %u, next_used %u, used wrap counter %u, in flight %u,"
               " free descriptors %u, free ids %u, interrupts %s, EVENT_IDX %s, INDIRECT %s, IN_ORDER %s%s\n",
          v->next_avail, v->avail_wrap, v->next_used, v->used_wrap, v->inflight, v->num_free, v->nfree_ids,
          v->cb_enabled ? "on" : "off", v->event_idx ? "yes" : "no", v->indirect ? "yes" : "no",
          v->in_order ? "yes" : "no", v->broken ? ", BROKEN" : "");
  if (s->pvv)
    fprintf(out, "  device: next_avail %u, avail wrap counter %u, next_used %u, used wrap counter %u, in flight %u,"
                 " notifications %s%s\n",
            s->pvv->next_avail, s->pvv->avail_wrap, s->pvv->next_used, s->pvv->used_wrap, s->pvv->inflight,
            s->pvv->notify_enabled ? "on" : "off", s->pvv->broken ? ", BROKEN" : "");
  else
    fprintf(out, "  device: ring not live (or not a built-in backend)\n");
  fprintf(out, "  driver event suppression (controls interrupts): flags %s (%u), off_wrap 0x%04x (offset %u, wrap %u)\n",
          evt_flags_name(s->drv_evt_flags), s->drv_evt_flags, s->drv_evt_off_wrap, s->drv_evt_off_wrap & 0x7fff,
          s->drv_evt_off_wrap >> VRING_PACKED_EVENT_F_WRAP_CTR);
  fprintf(out, "  device event suppression (controls kicks): flags %s (%u), off_wrap 0x%04x (offset %u, wrap %u)\n",
          evt_flags_name(s->dev_evt_flags), s->dev_evt_flags, s->dev_evt_off_wrap, s->dev_evt_off_wrap & 0x7fff,
          s->dev_evt_off_wrap >> VRING_PACKED_EVENT_F_WRAP_CTR);
  fprintf(out, "  descriptor ring:\n");
  print_desc_rows(out, s);
  fprintf(out, "  lists in flight (by buffer id):%s\n", v->inflight ? "" : " none");
  for (uint16_t id = 0; id < s->size && v->slot; id++)
    if (v->slot[id].in_flight)
      fprintf(out, "    id %u: %u descriptor(s), %u device-writable bytes\n", id, v->slot[id].ndescs,
              v->slot[id].wr_bytes);
  bool any = false;
  for (uint16_t i = 0; i < s->size; i++) {
    const qdesc *d = &s->d[i];
    if (d->own != OWN_DEVICE) continue;
    if (!any) fprintf(out, "  buffers of the available descriptors:\n");
    any = true;
    fprintf(out, "    [%4u] id %u: 0x%" PRIx64 " +%u %s%s:", i, d->next_or_id, d->addr, d->len,
            d->flags & VRING_DESC_F_WRITE ? "device-writable" : "device-readable",
            d->flags & VRING_DESC_F_INDIRECT ? ", indirect table" : "");
    hex_bytes(out, a, d->addr, d->len);
    fputc('\n', out);
    if (d->flags & VRING_DESC_F_INDIRECT) show_indirect(out, a, d->addr, d->len, true);
  }
}

void vsim_show_text(FILE *out, vsim_sim *s, uint64_t step) {
  const vsim_driver *drv = vsim_sim_view_driver(s);
  const vsim_devcore *dc = vsim_sim_view_devcore(s);
  const vsim_mmio *mm = vsim_sim_view_mmio(s);
  const char *device = !dc ? "" : dc->device_id == 2 ? "blk" : dc->device_id == 16 ? "gpu" : "";
  char st[128];
  fprintf(out, "state after step %" PRIu64 " of %s (seed %" PRIu64 ", policy %s)\n", step, vsim_sim_name(s),
          vsim_sim_seed(s), vsim_sim_policy_name(s));
  unsigned status = vsim_sim_view_status(s);
  status_text(st, sizeof st, status);
  fprintf(out, "device: status 0x%02x %s; interrupt status 0x%x; config generation %u\n", status, st,
          mm->interrupt_status, dc ? dc->generation : 0);
  if (dc) {
    fprintf(out, "  features offered 0x%016" PRIx64 ":", dc->offered);
    features_text(out, device, dc->offered);
    fprintf(out, "\n  features the driver wrote 0x%016" PRIx64 ":", dc->driver_features);
    features_text(out, device, dc->driver_features);
    fputc('\n', out);
  }
  status_text(st, sizeof st, drv->status);
  fprintf(out, "driver: status 0x%02x %s;%s%s%s %u queue(s), %s ring\n", drv->status, st, drv->live ? " live;" : "",
          drv->failed ? " FAILED;" : "", drv->needs_reset ? " saw NEEDS_RESET;" : "", drv->nq,
          drv->packed ? "packed" : "split");
  fprintf(out, "  features negotiated 0x%016" PRIx64 ":", drv->features);
  features_text(out, device, drv->features);
  fputc('\n', out);
  vsim_counters c;
  vsim_sim_counters(s, &c);
  fprintf(out, "counters: %" PRIu64 " kicks, %" PRIu64 " interrupts, %" PRIu64 " completed, %" PRIu64
               " events, %zu violation(s)\n",
          c.kicks, c.interrupts, c.completed, c.events, vsim_sim_violation_count(s));
  for (int q = 0; q < drv->nq; q++) {
    fputc('\n', out);
    if (!drv->vq_init[q]) {
      fprintf(out, "queue %d: not set up\n", q);
      continue;
    }
    qsnap sn;
    if (snap_queue(&sn, s, q)) {
      fprintf(out, "queue %d: out of memory\n", q);
      snap_free(&sn);
      continue;
    }
    if (sn.packed) show_packed(out, &sn, vsim_sim_arena(s));
    else show_split(out, &sn, vsim_sim_arena(s));
    snap_free(&sn);
  }
  if (drv->nq == 0) fprintf(out, "\nno queues set up\n");
}

/* ---- SVG ---- */

#define BOX_W 64
#define BOX_H 50
#define PER_ROW 16
#define MAX_BOXES 128
#define LEFT 150
#define SVG_W (LEFT + PER_ROW * BOX_W + 6) /* 1180: fits a 1200-pixel window */

static const char *own_fill(enum own o) {
  switch (o) {
    case OWN_DEVICE: return "#f6b26b"; /* orange: the device's */
    case OWN_DRIVER: return "#93c47d"; /* green: back to the driver */
    case OWN_DONE: return "#d9d9d9";   /* grey: consumed */
    default: return "#ffffff";
  }
}

typedef struct marker {
  uint16_t slot;
  const char *label;
  char text[48];
  const char *colour;
} marker;

static void svg_text(FILE *out, int x, int y, const char *anchor, int size, const char *weight, const char *txt) {
  fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" font-size=\"%d\" font-weight=\"%s\">", x, y, anchor, size,
          weight);
  for (const char *p = txt; *p; p++) {
    if (*p == '<') fputs("&lt;", out);
    else if (*p == '>') fputs("&gt;", out);
    else if (*p == '&') fputs("&amp;", out);
    else if (*p == '"') fputs("&quot;", out);
    else if ((unsigned char)*p >= 0x20) fputc(*p, out);
  }
  fputs("</text>\n", out);
}

/* One ring as rows of boxes; `label(i, l1, l2)` fills each box's two lines.
 * Returns the y below it. Markers are arrows under their slot, labelled. */
typedef void (*box_label_fn)(const qsnap *s, uint16_t i, char *l1, char *l2, size_t len);

static int svg_ring(FILE *out, int y, const char *title, const qsnap *s, uint16_t n, const enum own *own,
                    box_label_fn label, const marker *mk, int nmk) {
  char buf[160];
  uint16_t shown = n < MAX_BOXES ? n : MAX_BOXES;
  svg_text(out, 10, y + 28, "start", 13, "bold", title);
  int rows = (shown + PER_ROW - 1) / PER_ROW;
  if (rows == 0) rows = 1;
  for (uint16_t i = 0; i < shown; i++) {
    int x = LEFT + (i % PER_ROW) * BOX_W, by = y + (i / PER_ROW) * (BOX_H + 44);
    enum own o = own[i];
    fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"#444\"/>\n", x, by,
            BOX_W - 4, BOX_H, own_fill(o));
    char l1[48], l2[48];
    label(s, i, l1, l2, sizeof l1);
    snprintf(buf, sizeof buf, "%u", i);
    svg_text(out, x + 3, by + 11, "start", 9, "normal", buf);
    svg_text(out, x + (BOX_W - 4) / 2, by + 27, "middle", 11, "bold", l1);
    svg_text(out, x + (BOX_W - 4) / 2, by + 42, "middle", 8, "normal", l2);
  }
  /* markers: an arrow under the slot and a label below it */
  for (int m = 0; m < nmk; m++) {
    if (mk[m].slot >= shown) continue;
    int stack = m; /* one line per marker: labels of neighbouring slots never overlap */
    int x = LEFT + (mk[m].slot % PER_ROW) * BOX_W + (BOX_W - 4) / 2;
    int by = y + (mk[m].slot / PER_ROW) * (BOX_H + 44) + BOX_H;
    fprintf(out, "<path d=\"M %d %d l -6 10 l 12 0 z\" fill=\"%s\"/>\n", x, by + 2, mk[m].colour);
    fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"10\" fill=\"%s\">", x,
            by + 22 + 11 * stack, mk[m].colour);
    fprintf(out, "%s</text>\n", mk[m].text);
  }
  if (n > shown) {
    snprintf(buf, sizeof buf, "... %u more entries (see the text output)", n - shown);
    svg_text(out, LEFT, y + rows * (BOX_H + 44) + 4, "start", 11, "normal", buf);
    return y + rows * (BOX_H + 44) + 14;
  }
  return y + rows * (BOX_H + 44);
}

static void lab_desc(const qsnap *s, uint16_t i, char *l1, char *l2, size_t len) {
  const qdesc *d = &s->d[i];
  char fl[8];
  int k = 0;
  if (d->flags & VRING_DESC_F_NEXT) fl[k++] = 'N';
  if (d->flags & VRING_DESC_F_WRITE) fl[k++] = 'W';
  if (d->flags & VRING_DESC_F_INDIRECT) fl[k++] = 'I';
  fl[k] = '\0';
  snprintf(l1, len, "0x%" PRIx64, d->addr);
  if (s->packed)
    snprintf(l2, len, "%u id%u %s A%uU%u", d->len, d->next_or_id, fl, d->flags >> VRING_PACKED_DESC_F_AVAIL & 1,
             d->flags >> VRING_PACKED_DESC_F_USED & 1);
  else if (d->flags & VRING_DESC_F_NEXT)
    snprintf(l2, len, "%u %s >%u", d->len, fl, d->next_or_id);
  else
    snprintf(l2, len, "%u %s", d->len, fl);
}

static void lab_avail(const qsnap *s, uint16_t i, char *l1, char *l2, size_t len) {
  if (s->avail_own[i] == OWN_FREE) {
    snprintf(l1, len, "-");
    l2[0] = '\0';
    return;
  }
  snprintf(l1, len, "head %u", s->avail_ring[i]);
  snprintf(l2, len, "%s", s->avail_own[i] == OWN_DEVICE ? "to pop" : s->avail_own[i] == OWN_DONE ? "popped" : "");
}

static void lab_used(const qsnap *s, uint16_t i, char *l1, char *l2, size_t len) {
  if (s->used_own[i] == OWN_FREE) {
    snprintf(l1, len, "-");
    l2[0] = '\0';
    return;
  }
  snprintf(l1, len, "id %u", s->used_id[i]);
  snprintf(l2, len, "len %u", s->used_len[i]);
}

static void add_marker(marker *mk, int *n, uint16_t slot, const char *colour, const char *fmt, unsigned v) {
  mk[*n].slot = slot;
  mk[*n].colour = colour;
  snprintf(mk[*n].text, sizeof mk[*n].text, fmt, v);
  (*n)++;
}

/* The descriptor boxes take their colours from the snapshot's owners. */
static const enum own *desc_owners(const qsnap *s, enum own *tmp) {
  for (uint16_t i = 0; i < s->size && i < MAX_BOXES; i++) tmp[i] = s->d[i].own;
  return tmp;
}

static int svg_queue(FILE *out, int y, vsim_sim *sim, int q) {
  qsnap s;
  char buf[256];
  enum own downer[MAX_BOXES];
  if (snap_queue(&s, sim, q)) {
    snap_free(&s);
    return y;
  }
  uint16_t n = s.size ? s.size : 1;
  fprintf(out, "<line x1=\"10\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", y, SVG_W - 10, y);
  if (s.packed) {
    snprintf(buf, sizeof buf, "queue %d: packed, size %u (ring 0x%" PRIx64 ")", q, s.size, s.desc);
    svg_text(out, 10, y + 22, "start", 15, "bold", buf);
    snprintf(buf, sizeof buf,
             "driver: next_avail %u wrap %u, next_used %u wrap %u, in flight %u   |   driver event: %s off %u wrap %u"
             "   |   device event: %s off %u wrap %u",
             s.pdv->next_avail, s.pdv->avail_wrap, s.pdv->next_used, s.pdv->used_wrap, s.pdv->inflight,
             evt_flags_name(s.drv_evt_flags), s.drv_evt_off_wrap & 0x7fff, s.drv_evt_off_wrap >> 15,
             evt_flags_name(s.dev_evt_flags), s.dev_evt_off_wrap & 0x7fff, s.dev_evt_off_wrap >> 15);
    svg_text(out, 10, y + 40, "start", 11, "normal", buf);
    if (s.pvv) {
      snprintf(buf, sizeof buf, "device: next_avail %u wrap %u, next_used %u wrap %u, in flight %u%s",
               s.pvv->next_avail, s.pvv->avail_wrap, s.pvv->next_used, s.pvv->used_wrap, s.pvv->inflight,
               s.pvv->broken ? ", BROKEN" : "");
      svg_text(out, 10, y + 55, "start", 11, "normal", buf);
    }
    marker mk[4];
    int nmk = 0;
    add_marker(mk, &nmk, s.pdv->next_avail % n, "#1155cc", "drv avail w%u", s.pdv->avail_wrap);
    add_marker(mk, &nmk, s.pdv->next_used % n, "#38761d", "drv used w%u", s.pdv->used_wrap);
    if (s.pvv) {
      add_marker(mk, &nmk, s.pvv->next_avail % n, "#b45f06", "dev avail w%u", s.pvv->avail_wrap);
      add_marker(mk, &nmk, s.pvv->next_used % n, "#990000", "dev used w%u", s.pvv->used_wrap);
    }
    y = svg_ring(out, y + 64, "descriptor ring", &s, s.size, desc_owners(&s, downer), lab_desc, mk, nmk);
  } else {
    snprintf(buf, sizeof buf, "queue %d: split, size %u (desc 0x%" PRIx64 ", avail 0x%" PRIx64 ", used 0x%" PRIx64 ")",
             q, s.size, s.desc, s.drv_area, s.dev_area);
    svg_text(out, 10, y + 22, "start", 15, "bold", buf);
    snprintf(buf, sizeof buf, "driver: avail_idx %u, last_used %u, in flight %u, free %u%s   |   avail.flags 0x%x,"
                              " used_event %u   |   used.flags 0x%x, avail_event %u",
             (uint16_t)s.dv->avail_idx, (uint16_t)s.dv->last_used, s.dv->inflight, s.dv->num_free,
             s.dv->broken ? ", BROKEN" : "", s.avail_flags, s.used_event, s.used_flags, s.avail_event);
    svg_text(out, 10, y + 40, "start", 11, "normal", buf);
    if (s.vv) {
      snprintf(buf, sizeof buf, "device: next_avail %u, next_used %u, published used %u, in flight %u%s",
               (uint16_t)s.vv->next_avail, (uint16_t)s.vv->next_used, (uint16_t)s.vv->published_used,
               s.vv->inflight, s.vv->broken ? ", BROKEN" : "");
      svg_text(out, 10, y + 55, "start", 11, "normal", buf);
    }
    y = svg_ring(out, y + 64, "descriptor table", &s, s.size, desc_owners(&s, downer), lab_desc, NULL, 0);
    marker mk[4];
    int nmk = 0;
    add_marker(mk, &nmk, s.avail_idx % n, "#1155cc", "avail.idx %u", s.avail_idx);
    if (s.vv) add_marker(mk, &nmk, (uint16_t)s.vv->next_avail % n, "#b45f06", "dev next %u", (uint16_t)s.vv->next_avail);
    y = svg_ring(out, y + 8, "available ring", &s, s.size, s.avail_own, lab_avail, mk, nmk);
    nmk = 0;
    add_marker(mk, &nmk, s.used_idx % n, "#990000", "used.idx %u", s.used_idx);
    add_marker(mk, &nmk, (uint16_t)s.dv->last_used % n, "#38761d", "drv last_used %u", (uint16_t)s.dv->last_used);
    y = svg_ring(out, y + 8, "used ring", &s, s.size, s.used_own, lab_used, mk, nmk);
  }
  snap_free(&s);
  return y + 16;
}

void vsim_show_svg(FILE *out, vsim_sim *s, uint64_t step) {
  const vsim_driver *drv = vsim_sim_view_driver(s);
  /* first pass into memory would double the work: the height is computed
   * from the queue sizes instead */
  int height = 120;
  for (int q = 0; q < drv->nq; q++) {
    uint16_t n = drv->packed ? drv->pvq[q].size : drv->vq[q].size;
    if (n > MAX_BOXES) n = MAX_BOXES;
    int rows = (n + PER_ROW - 1) / PER_ROW;
    if (rows < 1) rows = 1;
    height += 96 + (drv->packed ? 1 : 3) * (rows * (BOX_H + 44) + 22);
  }
  fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"monospace\">\n",
          SVG_W, height, SVG_W, height);
  fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fafafa\"/>\n", SVG_W, height);
  char buf[256], st[128];
  snprintf(buf, sizeof buf, "%s: state after step %" PRIu64 " (seed %" PRIu64 ", policy %s)", vsim_sim_name(s), step,
           vsim_sim_seed(s), vsim_sim_policy_name(s));
  svg_text(out, 10, 24, "start", 16, "bold", buf);
  unsigned status = vsim_sim_view_status(s);
  status_text(st, sizeof st, status);
  snprintf(buf, sizeof buf, "device status 0x%02x %s; driver features 0x%" PRIx64 "; %zu violation(s)", status, st,
           drv->features, vsim_sim_violation_count(s));
  svg_text(out, 10, 44, "start", 12, "normal", buf);
  /* legend */
  static const struct {
    enum own o;
    const char *what;
  } legend[] = {{OWN_FREE, "free / never written"},
                {OWN_DEVICE, "the device's (in flight / available)"},
                {OWN_DRIVER, "the driver's (used, not reaped)"},
                {OWN_DONE, "consumed"}};
  for (int i = 0; i < 4; i++) {
    int x = 10 + i * 290;
    fprintf(out, "<rect x=\"%d\" y=\"56\" width=\"16\" height=\"12\" fill=\"%s\" stroke=\"#444\"/>\n", x,
            own_fill(legend[i].o));
    svg_text(out, x + 22, 67, "start", 11, "normal", legend[i].what);
  }
  int y = 84;
  for (int q = 0; q < drv->nq; q++)
    if (drv->vq_init[q]) y = svg_queue(out, y, s, q);
  if (drv->nq == 0) svg_text(out, 10, y + 20, "start", 13, "normal", "no queues set up");
  fprintf(out, "</svg>\n");
}
