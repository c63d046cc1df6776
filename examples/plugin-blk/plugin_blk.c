/* plugin_blk.c — a virtio-blk RAM disk as an out-of-tree virtio-sim backend plugin.
 *
 * Written the way a third-party device author would: it includes only the
 * installed <virtiosim/backend.h> (found with `pkg-config --cflags virtiosim`)
 * and the kernel's UAPI headers for the wire formats, and it does not link
 * libvirtiosim (the program that loads it provides the vsim_arena_* calls; see
 * "writing a plugin" in backend.h). Build and run:
 *
 *   make PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
 *   virtio-sim run SCENARIO.json --backend plugin:./libplugin-blk.so
 *
 * The device
 *  - Offers VERSION_1, INDIRECT_DESC, EVENT_IDX, SIZE_MAX, SEG_MAX, BLK_SIZE,
 *    FLUSH, and MQ when it has more than one queue. Split rings only.
 *  - device_config keys: "capacity" (sectors, default 2048 = 1 MiB) and
 *    "serial" (the GET_ID answer, at most 20 bytes). Any other key is refused,
 *    so a typo never passes silently. A scenario's offered_features may pick a
 *    subset of the features above (anything else is refused at creation), and
 *    its refuse_features are honoured. Latency, batching and mutants belong to
 *    the built-in models and are ignored.
 *  - Requests IN, OUT, FLUSH and GET_ID; any other type completes with
 *    UNSUPP, and FLUSH does too when VIRTIO_BLK_F_FLUSH was not negotiated. A
 *    data length that is not whole sectors, or a range outside the disk,
 *    completes with IOERR. The used length is what the device wrote into the
 *    driver's writable buffers: the data it read plus the status byte.
 *  - A chain it cannot use (bad head, loop, buffer outside guest memory, a
 *    buffer over a ring or over another buffer of the chain that the device
 *    would have to write although it must not, no room for the header or the
 *    status byte) puts the device in
 *    DEVICE_NEEDS_RESET, with a configuration-change notification when
 *    DRIVER_OK is set. The device does not judge the driver: the simulator's
 *    checkers do that.
 *  - Reset (status 0) forgets the features, the status and every queue. The
 *    disk's contents survive it, as a disk's do.
 *
 * The rules it keeps (the contract in backend.h)
 *  - Guest memory only through vsim_arena_* with VSIM_SIDE_DEVICE, and every
 *    address checked (vsim_arena_check) before it is touched: a bad address
 *    from the driver makes this device give up on the queue; it is never an
 *    out-of-bounds access by the device.
 *  - Every descriptor is read once; only that copy is used.
 *  - queue_run completes at most `budget` requests, and one request walks at
 *    most queue-size descriptors, whatever the guest wrote.
 *  - No global state, no clock, no randomness: a run is reproducible.
 *  - Trace events POP, USED, USED_PUBLISH and NEEDS_RESET tell the simulator's
 *    checkers what the device did, so they can judge it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <virtiosim/backend.h>

#define BIT(n) (UINT64_C(1) << (n))
#define SECTOR_BYTES 512u
#define DEFAULT_CAPACITY 2048u            /* sectors */
#define MAX_CAPACITY (UINT64_C(1) << 21)  /* sectors: a 1 GiB RAM disk at most */
#define DEFAULT_QUEUE_MAX 256u
#define SPLIT_QUEUE_MAX 32768u            /* the split ring's limit */
#define ADVERTISED_SEG_MAX 126u           /* data segments per request (config seg_max) */
#define ADVERTISED_SEGMENT_BYTES 65536u   /* bytes per segment (config size_max) */
#define MAX_CHAIN_BYTES (UINT64_C(1) << 32) /* the spec's limit on one chain */
#define HEADER_BYTES ((uint64_t)sizeof(struct virtio_blk_outhdr))
#define VENDOR_ID 0x4b4c4250u             /* "PBLK": virtio-mmio leaves the value to the device */

#define FEATURES_SUPPORTED                                                            \
  (BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |                       \
   BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_BLK_F_SIZE_MAX) | BIT(VIRTIO_BLK_F_SEG_MAX) | \
   BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_BLK_F_MQ))

/* Where ring fields are, from the UAPI structs. used_event sits right after
 * avail.ring[size], avail_event right after used.ring[size]. */
#define AVAIL_FLAGS ((uint64_t)offsetof(struct vring_avail, flags))
#define AVAIL_IDX ((uint64_t)offsetof(struct vring_avail, idx))
#define AVAIL_RING ((uint64_t)offsetof(struct vring_avail, ring))
#define AVAIL_ENTRY ((uint64_t)sizeof(((struct vring_avail *)0)->ring[0]))
#define USED_IDX ((uint64_t)offsetof(struct vring_used, idx))
#define USED_RING ((uint64_t)offsetof(struct vring_used, ring))
#define USED_ENTRY ((uint64_t)sizeof(struct vring_used_elem))
#define DESC_BYTES ((uint64_t)sizeof(struct vring_desc))

/* One buffer of a chain, as validated when it was popped. */
struct segment {
  uint64_t gpa;
  uint32_t len;
  bool writable;
};

/* A popped request: the device-readable buffers come first, then the
 * device-writable ones (the ring's rule, checked by the walk). */
struct chain {
  uint16_t head;
  uint32_t nseg;
  uint64_t readable_bytes, writable_bytes;
  const struct segment *seg;
};

struct queue {
  bool enabled;             /* QueueReady 1 */
  uint16_t size;
  uint64_t desc, avail, used;
  uint16_t next_avail;      /* the next available-ring entry to take */
  uint16_t next_used;       /* the next used-ring entry to fill */
  uint16_t published_used;  /* used.idx as last written */
  bool kicked;              /* a notification not served yet */
  bool backlog;             /* the last run stopped at its budget: more may be waiting */
  struct segment *segs;     /* [size]: room for the longest chain the device accepts */
};

struct plugin_blk {
  const vsim_host *host;
  uint16_t nq, queue_max;
  uint64_t offered, refused, features;
  uint8_t status;
  uint8_t config[sizeof(struct virtio_blk_config)]; /* little-endian, as the driver reads it */
  uint64_t capacity;        /* sectors */
  uint8_t *disk;            /* capacity * 512 bytes */
  uint8_t serial[VIRTIO_BLK_ID_BYTES];
  struct queue *q;          /* [nq] */
};

/* ---- small helpers ---- */

static int fail(char *err, unsigned errlen, const char *msg, const char *detail) {
  if (err && errlen) snprintf(err, errlen, "plugin-blk: %s%s", msg, detail ? detail : "");
  return -1;
}

/* Guest-visible values are little-endian; assembling bytes is right on any host. */
static void put_le16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void put_le32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_le64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint16_t get_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t get_le32(const uint8_t *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static uint64_t get_le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static bool negotiated(const struct plugin_blk *d, unsigned bit) { return (d->features >> bit) & 1u; }

static void trace(const struct plugin_blk *d, int kind, int q, uint64_t a, uint64_t b, uint64_t c,
                  uint64_t e) {
  if (d->host->event) d->host->event(d->host->ctx, kind, q, a, b, c, e);
}

/* ---- guest memory: checked before it is touched ---- */

/* base + off as a guest address, or false when that wraps 64 bits (a ring
 * placed at the top of the address space must not alias address 0). */
static bool guest_addr(uint64_t base, uint64_t off, uint64_t *gpa) {
  if (off > UINT64_MAX - base) return false;
  *gpa = base + off;
  return true;
}

/* The driver placed the rings and the buffers, so a bad address is its
 * mistake. Checking first (vsim_arena_check does not report) keeps such an
 * address from ever being accessed, which the arena would count against the
 * device. */
static int guest_read(struct plugin_blk *d, uint64_t base, uint64_t off, void *dst, uint64_t len) {
  uint64_t gpa;
  if (!guest_addr(base, off, &gpa) ||
      !vsim_arena_check(d->host->arena, VSIM_SIDE_DEVICE, gpa, len, VSIM_ACC_READ))
    return -1;
  return vsim_arena_read(d->host->arena, VSIM_SIDE_DEVICE, gpa, dst, len);
}

static int guest_write(struct plugin_blk *d, uint64_t base, uint64_t off, const void *src,
                       uint64_t len) {
  uint64_t gpa;
  if (!guest_addr(base, off, &gpa) ||
      !vsim_arena_check(d->host->arena, VSIM_SIDE_DEVICE, gpa, len, VSIM_ACC_WRITE))
    return -1;
  return vsim_arena_write(d->host->arena, VSIM_SIDE_DEVICE, gpa, src, len);
}

static int guest_read16(struct plugin_blk *d, uint64_t base, uint64_t off, uint16_t *v) {
  uint8_t b[2];
  if (guest_read(d, base, off, b, sizeof b)) return -1;
  *v = get_le16(b);
  return 0;
}

static int guest_write16(struct plugin_blk *d, uint64_t base, uint64_t off, uint16_t v) {
  uint8_t b[2];
  put_le16(b, v);
  return guest_write(d, base, off, b, sizeof b);
}

/* Copy `len` bytes between `buf` and one part of the chain (the writable part
 * when to_guest), starting `off` bytes into that part. -1 when the part is
 * shorter than off + len or an access fails. */
static int chain_copy(struct plugin_blk *d, const struct chain *c, bool to_guest, uint64_t off,
                      uint8_t *buf, uint64_t len) {
  for (uint32_t s = 0; s < c->nseg && len > 0; s++) {
    const struct segment *sg = &c->seg[s];
    if (sg->writable != to_guest) continue;
    if (off >= sg->len) {
      off -= sg->len;
      continue;
    }
    uint64_t n = sg->len - off < len ? sg->len - off : len;
    int r = to_guest ? guest_write(d, sg->gpa, off, buf, n) : guest_read(d, sg->gpa, off, buf, n);
    if (r) return -1;
    buf += n;
    len -= n;
    off = 0;
  }
  return len ? -1 : 0;
}

/* ---- device status ---- */

/* DEVICE_NEEDS_RESET: the device stops using its queues until the driver
 * resets it. With DRIVER_OK set the spec wants a configuration-change
 * notification so that the driver notices. */
static void enter_needs_reset(struct plugin_blk *d, int q) {
  if (d->status & VIRTIO_CONFIG_S_NEEDS_RESET) return;
  d->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
  trace(d, VSIM_EV_NEEDS_RESET, q, d->status, 0, 0, 0);
  if (d->status & VIRTIO_CONFIG_S_DRIVER_OK) d->host->config_changed(d->host->ctx);
}

static void queue_clear(struct queue *q) {
  free(q->segs);
  memset(q, 0, sizeof *q);
}

static void device_reset(struct plugin_blk *d) {
  for (uint16_t i = 0; i < d->nq; i++) queue_clear(&d->q[i]);
  d->features = 0;
  d->status = 0;
}

/* Accept the driver's features at FEATURES_OK? Only offered ones, none the
 * scenario told the device to refuse, and VERSION_1 whenever it was offered
 * (this device has no legacy interface to fall back to). */
static bool features_acceptable(const struct plugin_blk *d) {
  uint64_t f = d->features;
  bool v1_ok = (f & BIT(VIRTIO_F_VERSION_1)) || !(d->offered & BIT(VIRTIO_F_VERSION_1));
  return (f & ~d->offered) == 0 && (f & d->refused) == 0 && v1_ok;
}

/* The device touches a queue only after DRIVER_OK with accepted features, not
 * in DEVICE_NEEDS_RESET, and only one the driver enabled. */
static bool may_serve(const struct plugin_blk *d, const struct queue *q) {
  const uint8_t need = VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;
  return (d->status & need) == need && !(d->status & VIRTIO_CONFIG_S_NEEDS_RESET) && q->enabled;
}

/* ---- the split ring, device side ---- */

enum pop_result { POP_BROKEN = -1, POP_EMPTY = 0, POP_GOT = 1 };

/* How many entries the driver has made available past next_avail; -1 when
 * avail.idx claims more than the ring holds, or cannot be read. */
static int avail_count(struct plugin_blk *d, struct queue *q) {
  uint16_t idx;
  if (guest_read16(d, q->avail, AVAIL_IDX, &idx)) return -1;
  uint16_t n = (uint16_t)(idx - q->next_avail);
  return n > q->size ? -1 : n;
}

/* [a, a + alen) and [b, b + blen) share a byte; the ends saturate, so a ring
 * placed at the top of the address space cannot wrap to look small. */
static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen) {
  uint64_t aend = alen > UINT64_MAX - a ? UINT64_MAX : a + alen;
  uint64_t bend = blen > UINT64_MAX - b ? UINT64_MAX : b + blen;
  return alen && blen && a < bend && b < aend;
}

/* A buffer the device could not use without writing what it must not: a
 * readable one over a used ring (completing would write into it), a writable
 * one over a descriptor table, an available or used ring of an enabled queue,
 * this chain's indirect table, or a readable buffer of this chain. ("A
 * device MUST NOT write to a device-readable buffer ... MUST NOT write to any
 * descriptor table entry.") The readable/writable pairs are compared one by
 * one: quadratic in the chain length, which the queue size bounds; a device
 * taking huge queues would sort instead. */
static bool forbidden_overlap(const struct plugin_blk *d, const struct segment *seg, uint32_t nseg,
                              uint64_t table, uint64_t table_len) {
  for (uint32_t i = 0; i < nseg; i++) {
    const struct segment *s = &seg[i];
    for (uint16_t k = 0; k < d->nq; k++) {
      const struct queue *o = &d->q[k];
      if (!o->enabled) continue;
      uint64_t used_len = USED_RING + USED_ENTRY * o->size + 2; /* + avail_event */
      if (overlap(s->gpa, s->len, o->used, used_len)) return true;
      if (s->writable && (overlap(s->gpa, s->len, o->desc, DESC_BYTES * o->size) ||
                          overlap(s->gpa, s->len, o->avail, AVAIL_RING + AVAIL_ENTRY * (o->size + 1u))))
        return true;
    }
    if (!s->writable) continue;
    if (overlap(s->gpa, s->len, table, table_len)) return true;
    for (uint32_t r = 0; r < nseg; r++)
      if (!seg[r].writable && overlap(s->gpa, s->len, seg[r].gpa, seg[r].len)) return true;
  }
  return false;
}

/* Take the next available chain and validate all of it before anything is
 * executed. Bounded: every buffer takes a slot of segs[size] and the walk
 * stops when they are full, so a loop in the guest's `next` fields ends it. */
static enum pop_result pop(struct plugin_blk *d, uint16_t qi, struct queue *q, struct chain *c) {
  int n = avail_count(d, q);
  if (n <= 0) return n < 0 ? POP_BROKEN : POP_EMPTY;
  uint16_t head;
  if (guest_read16(d, q->avail, AVAIL_RING + AVAIL_ENTRY * (q->next_avail % q->size), &head) ||
      head >= q->size)
    return POP_BROKEN;

  uint64_t table = q->desc;
  uint32_t entries = q->size; /* of the table being walked */
  bool in_indirect = false, seen_writable = false;
  uint64_t itable = 0, itable_len = 0;
  uint32_t i = head, nseg = 0;
  uint64_t rd = 0, wr = 0;
  for (;;) {
    if (nseg >= q->size) return POP_BROKEN; /* longer than the queue: a loop, or too long */
    uint8_t raw[DESC_BYTES];
    if (guest_read(d, table, DESC_BYTES * i, raw, sizeof raw)) return POP_BROKEN;
    uint64_t addr = get_le64(raw + offsetof(struct vring_desc, addr));
    uint32_t len = get_le32(raw + offsetof(struct vring_desc, len));
    uint16_t flags = get_le16(raw + offsetof(struct vring_desc, flags));
    uint16_t next = get_le16(raw + offsetof(struct vring_desc, next));

    if (flags & VRING_DESC_F_INDIRECT) {
      /* one level, negotiated, without NEXT, a whole number of descriptors */
      if (!negotiated(d, VIRTIO_RING_F_INDIRECT_DESC) || in_indirect ||
          (flags & VRING_DESC_F_NEXT) || len == 0 || len % DESC_BYTES != 0)
        return POP_BROKEN;
      table = itable = addr;
      itable_len = len;
      entries = len / (uint32_t)DESC_BYTES;
      in_indirect = true;
      i = 0;
      continue;
    }
    bool writable = (flags & VRING_DESC_F_WRITE) != 0;
    if (seen_writable && !writable) return POP_BROKEN; /* readable after writable */
    seen_writable |= writable;
    if (!vsim_arena_check(d->host->arena, VSIM_SIDE_DEVICE, addr, len,
                          writable ? VSIM_ACC_WRITE : VSIM_ACC_READ))
      return POP_BROKEN;
    if (writable)
      wr += len;
    else
      rd += len;
    if (rd + wr > MAX_CHAIN_BYTES) return POP_BROKEN; /* cannot overflow: < 2^15 * 2^32 */
    q->segs[nseg++] = (struct segment){addr, len, writable};
    if (!(flags & VRING_DESC_F_NEXT)) break;
    if (next >= entries) return POP_BROKEN;
    i = next;
  }
  if (forbidden_overlap(d, q->segs, nseg, itable, itable_len)) return POP_BROKEN;
  *c = (struct chain){head, nseg, rd, wr, q->segs};
  q->next_avail++;
  trace(d, VSIM_EV_POP, qi, head, nseg, rd, wr);
  return POP_GOT;
}

static int push_used(struct plugin_blk *d, uint16_t qi, struct queue *q, uint16_t id,
                     uint32_t len) {
  uint8_t e[USED_ENTRY];
  put_le32(e + offsetof(struct vring_used_elem, id), id);
  put_le32(e + offsetof(struct vring_used_elem, len), len);
  /* the element is complete before used.idx (written by publish) covers it */
  if (guest_write(d, q->used, USED_RING + USED_ENTRY * (q->next_used % q->size), e, sizeof e))
    return -1;
  q->next_used++;
  trace(d, VSIM_EV_USED, qi, id, len, 0, 0);
  return 0;
}

/* Make the used entries written since the last publish visible, then ask
 * whether the driver wants an interrupt for them: avail.flags without
 * EVENT_IDX, used_event with it. The driver's field is read only after
 * used.idx is written: that pairs with the driver writing it and then
 * re-reading used.idx, so neither side misses the other (the simulator runs
 * one thread, but the order is what makes a real device correct). */
static void publish_used(struct plugin_blk *d, uint16_t qi, struct queue *q) {
  uint16_t old = q->published_used, now = q->next_used;
  if (old == now) return;
  if (guest_write16(d, q->used, USED_IDX, now)) {
    enter_needs_reset(d, qi);
    return;
  }
  q->published_used = now;
  trace(d, VSIM_EV_USED_PUBLISH, qi, old, now, 0, 0);
  uint16_t v;
  bool notify;
  if (negotiated(d, VIRTIO_RING_F_EVENT_IDX))
    notify = guest_read16(d, q->avail, AVAIL_RING + AVAIL_ENTRY * q->size, &v) ||
             vring_need_event(v, now, old);
  else
    notify = guest_read16(d, q->avail, AVAIL_FLAGS, &v) || !(v & VRING_AVAIL_F_NO_INTERRUPT);
  /* an unreadable field means "interrupt": rather spurious than lost */
  if (notify) d->host->interrupt(d->host->ctx, qi);
}

/* The ring looks empty. With EVENT_IDX, ask for a kick when the driver makes
 * entry next_avail available (avail_event), then look again: a buffer
 * published just before that write may not have kicked. Without EVENT_IDX
 * this device never suppresses kicks (used.flags stays 0), so there is
 * nothing to re-arm. Returns POP_GOT when there is more after all. */
static enum pop_result rearm_kicks(struct plugin_blk *d, uint16_t qi, struct queue *q) {
  if (!negotiated(d, VIRTIO_RING_F_EVENT_IDX)) return POP_EMPTY;
  if (guest_write16(d, q->used, USED_RING + USED_ENTRY * q->size, q->next_avail)) return POP_BROKEN;
  trace(d, VSIM_EV_NOTIFY_ENABLE, qi, 1, q->next_avail, 0, 0);
  int n = avail_count(d, q);
  return n < 0 ? POP_BROKEN : n > 0 ? POP_GOT : POP_EMPTY;
}

/* ---- virtio-blk requests ---- */

/* [sector, sector + bytes / 512) lies inside the disk, written so it cannot wrap. */
static bool disk_range(const struct plugin_blk *d, uint64_t sector, uint64_t bytes) {
  return bytes % SECTOR_BYTES == 0 && sector <= d->capacity &&
         bytes / SECTOR_BYTES <= d->capacity - sector;
}

/* Execute one request; returns its status byte and sets *data_written to the
 * bytes put into the writable buffers before the status byte. */
static uint8_t execute(struct plugin_blk *d, const struct chain *c, uint32_t type, uint64_t sector,
                       uint32_t *data_written) {
  uint64_t in_bytes = c->writable_bytes - 1;         /* room before the status byte */
  uint64_t out_bytes = c->readable_bytes - HEADER_BYTES; /* payload after the header */
  switch (type) {
    case VIRTIO_BLK_T_IN:
      if (!disk_range(d, sector, in_bytes) ||
          chain_copy(d, c, true, 0, d->disk + sector * SECTOR_BYTES, in_bytes))
        return VIRTIO_BLK_S_IOERR;
      *data_written = (uint32_t)in_bytes; /* < 2^32: the chain is */
      return VIRTIO_BLK_S_OK;
    case VIRTIO_BLK_T_OUT:
      if (!disk_range(d, sector, out_bytes) ||
          chain_copy(d, c, false, HEADER_BYTES, d->disk + sector * SECTOR_BYTES, out_bytes))
        return VIRTIO_BLK_S_IOERR;
      return VIRTIO_BLK_S_OK;
    case VIRTIO_BLK_T_FLUSH:
      /* writes land in RAM at once: nothing to flush, only the feature gate */
      return negotiated(d, VIRTIO_BLK_F_FLUSH) ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_UNSUPP;
    case VIRTIO_BLK_T_GET_ID: {
      /* the driver gives 20 bytes; write what fits if it gave fewer */
      uint32_t n = in_bytes < VIRTIO_BLK_ID_BYTES ? (uint32_t)in_bytes : VIRTIO_BLK_ID_BYTES;
      if (chain_copy(d, c, true, 0, d->serial, n)) return VIRTIO_BLK_S_IOERR;
      *data_written = n;
      return VIRTIO_BLK_S_OK;
    }
    default:
      return VIRTIO_BLK_S_UNSUPP;
  }
}

/* One request from header to used element. -1: the chain cannot carry a
 * request (no room for the header or the status byte), or the used ring
 * cannot be written; the caller then gives up on the device. */
static int serve(struct plugin_blk *d, uint16_t qi, struct queue *q, const struct chain *c) {
  if (c->readable_bytes < HEADER_BYTES || c->writable_bytes < 1) return -1;
  uint8_t hdr[HEADER_BYTES];
  if (chain_copy(d, c, false, 0, hdr, sizeof hdr)) return -1;
  uint32_t type = get_le32(hdr + offsetof(struct virtio_blk_outhdr, type));
  uint64_t sector = get_le64(hdr + offsetof(struct virtio_blk_outhdr, sector));
  uint32_t data_written = 0;
  uint8_t status = execute(d, c, type, sector, &data_written);
  if (status != VIRTIO_BLK_S_OK) data_written = 0;
  /* the status is the last writable byte */
  if (chain_copy(d, c, true, c->writable_bytes - 1, &status, 1)) return -1;
  return push_used(d, qi, q, c->head, data_written + 1);
}

/* ---- the ops table ---- */

static void pb_destroy(void *be) {
  struct plugin_blk *d = be;
  if (!d) return;
  if (d->q)
    for (uint16_t i = 0; i < d->nq; i++) queue_clear(&d->q[i]);
  free(d->q);
  free(d->disk);
  free(d);
}

static uint32_t pb_device_id(void *be) { return VIRTIO_ID_BLOCK; }
static uint32_t pb_vendor_id(void *be) { return VENDOR_ID; }
static uint16_t pb_num_queues(void *be) { return ((struct plugin_blk *)be)->nq; }

static uint16_t pb_queue_max_size(void *be, uint16_t q) {
  const struct plugin_blk *d = be;
  return q < d->nq ? d->queue_max : 0;
}

static uint64_t pb_device_features(void *be) { return ((struct plugin_blk *)be)->offered; }

static void pb_set_driver_features(void *be, uint64_t features) {
  struct plugin_blk *d = be;
  if (!(d->status & VIRTIO_CONFIG_S_FEATURES_OK)) d->features = features; /* frozen after */
}

static uint8_t pb_get_status(void *be) { return ((struct plugin_blk *)be)->status; }

static void pb_set_status(void *be, uint8_t status) {
  struct plugin_blk *d = be;
  if (status == 0) {
    device_reset(d);
    return;
  }
  uint8_t old = d->status;
  /* refuse FEATURES_OK by not reflecting it: the driver re-reads and gives up */
  if ((status & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK) &&
      !features_acceptable(d))
    status &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
  /* DEVICE_NEEDS_RESET is the device's bit: only a reset clears it */
  d->status = (uint8_t)(status | (old & VIRTIO_CONFIG_S_NEEDS_RESET));
}

static uint32_t pb_config_generation(void *be) { return 0; /* the config never changes */ }
static uint32_t pb_config_size(void *be) { return (uint32_t)sizeof(struct virtio_blk_config); }

static int pb_config_read(void *be, uint32_t off, void *dst, uint32_t len) {
  const struct plugin_blk *d = be;
  if (off > sizeof d->config || len > sizeof d->config - off) return -1;
  memcpy(dst, d->config + off, len);
  return 0;
}

static int pb_config_write(void *be, uint32_t off, const void *src, uint32_t len) {
  return -1; /* no CONFIG_WCE: nothing in this config space is writable */
}

static int pb_queue_ready(void *be, uint16_t qi, const vsim_queue_cfg *cfg) {
  struct plugin_blk *d = be;
  if (qi >= d->nq) return -1;
  struct queue *q = &d->q[qi];
  queue_clear(q); /* enabling starts from scratch; disabling (cfg NULL) forgets */
  if (!cfg) return 0;
  if (cfg->size == 0 || cfg->size > d->queue_max || (cfg->size & (cfg->size - 1))) return -1;
  q->segs = calloc(cfg->size, sizeof *q->segs); /* sized once: pop never allocates */
  if (!q->segs) return -1;
  q->size = cfg->size;
  q->desc = cfg->desc;
  q->avail = cfg->driver;
  q->used = cfg->device;
  q->enabled = true;
  return 0;
}

static void pb_queue_notify(void *be, uint16_t qi, uint32_t data) {
  struct plugin_blk *d = be;
  if (qi < d->nq) d->q[qi].kicked = true;
}

static bool pb_queue_runnable(void *be, uint16_t qi) {
  const struct plugin_blk *d = be;
  if (qi >= d->nq) return false;
  const struct queue *q = &d->q[qi];
  /* a kick always gets a run, if only to be dropped when the device may not act */
  return q->kicked || (q->backlog && may_serve(d, q));
}

/* The worker: drain the ring, at most `budget` requests, then publish the
 * used entries with one interrupt decision for the lot. */
static int pb_queue_run(void *be, uint16_t qi, uint32_t budget) {
  struct plugin_blk *d = be;
  if (qi >= d->nq) return -1;
  struct queue *q = &d->q[qi];
  q->kicked = false;
  if (!may_serve(d, q)) {
    q->backlog = false; /* a kick before DRIVER_OK or in NEEDS_RESET is ignored */
    return 0;
  }
  uint32_t done = 0, looks = 0;
  bool broken = false, drained = false;
  /* Each turn completes a request or re-arms kicks and looks again, and both
   * are counted: a driver moving avail.idx back and forth cannot keep the
   * device here. */
  while (done < budget && looks <= budget) {
    struct chain c;
    enum pop_result r = pop(d, qi, q, &c);
    if (r == POP_EMPTY) {
      looks++;
      r = rearm_kicks(d, qi, q);
      if (r == POP_GOT) continue; /* more arrived meanwhile: pop it next turn */
      if (r == POP_EMPTY) {
        drained = true;
        break;
      }
    }
    if (r == POP_BROKEN || serve(d, qi, q, &c)) {
      broken = true;
      break;
    }
    done++;
  }
  q->backlog = !broken && !drained;
  publish_used(d, qi, q); /* what completed before a failure still reaches the driver */
  if (broken) enter_needs_reset(d, qi);
  return (int)done;
}

static const vsim_backend_ops plugin_blk_ops = {
    .abi_version = VSIM_BACKEND_ABI_VERSION,
    .name = "plugin-blk",
    .destroy = pb_destroy,
    .device_id = pb_device_id,
    .vendor_id = pb_vendor_id,
    .num_queues = pb_num_queues,
    .queue_max_size = pb_queue_max_size,
    .device_features = pb_device_features,
    .set_driver_features = pb_set_driver_features,
    .get_status = pb_get_status,
    .set_status = pb_set_status,
    .config_generation = pb_config_generation,
    .config_size = pb_config_size,
    .config_read = pb_config_read,
    .config_write = pb_config_write,
    .queue_ready = pb_queue_ready,
    .queue_reset = NULL,    /* VIRTIO_F_RING_RESET is not offered */
    .queue_notify = pb_queue_notify,
    .queue_runnable = pb_queue_runnable,
    .queue_run = pb_queue_run,
    .queue_next_due = NULL, /* requests complete at once: nothing is ever held */
};

/* ---- creation ---- */

/* A decimal number in [0, max]: no sign, no blanks, no overflow. */
static bool parse_decimal(const char *s, uint64_t max, uint64_t *out) {
  if (!s || !*s) return false;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return false;
    unsigned digit = (unsigned)(*s - '0');
    if (v > (max - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *out = v;
  return true;
}

/* device_config: the scenario's key/value strings, valid only during create. */
static int parse_device_config(struct plugin_blk *d, const vsim_backend_params *p, char *err,
                               unsigned errlen) {
  d->capacity = DEFAULT_CAPACITY;
  memcpy(d->serial, "plugin-blk", sizeof "plugin-blk" - 1);
  if (p->config_count && (!p->config_keys || !p->config_values))
    return fail(err, errlen, "device_config entries without their arrays", NULL);
  for (unsigned i = 0; i < p->config_count; i++) {
    const char *key = p->config_keys[i], *val = p->config_values[i];
    if (!key || !val) return fail(err, errlen, "device_config entry without key or value", NULL);
    if (strcmp(key, "capacity") == 0) {
      if (!parse_decimal(val, MAX_CAPACITY, &d->capacity))
        return fail(err, errlen, "device_config \"capacity\": expected sectors in [0, 2097152], got ",
                    val);
    } else if (strcmp(key, "serial") == 0) {
      size_t n = strlen(val);
      if (n > VIRTIO_BLK_ID_BYTES)
        return fail(err, errlen, "device_config \"serial\" is longer than 20 bytes: ", val);
      memset(d->serial, 0, sizeof d->serial);
      memcpy(d->serial, val, n);
    } else {
      return fail(err, errlen, "unknown device_config key (known: capacity, serial): ", key);
    }
  }
  return 0;
}

static void fill_config(struct plugin_blk *d) {
  uint8_t *c = d->config;
#define FIELD(name) (c + offsetof(struct virtio_blk_config, name))
  put_le64(FIELD(capacity), d->capacity);
  put_le32(FIELD(size_max), ADVERTISED_SEGMENT_BYTES);
  put_le32(FIELD(seg_max), ADVERTISED_SEG_MAX);
  put_le32(FIELD(blk_size), SECTOR_BYTES);
  put_le16(FIELD(num_queues), d->nq);
#undef FIELD
  /* every other field stays 0: its feature is not offered */
}

int vsim_plugin_create(const vsim_backend_params *p, vsim_backend *out, char *err,
                       unsigned errlen) {
  if (!p || !p->host || !p->host->arena || !out) return fail(err, errlen, "no host or parameters", NULL);
  uint16_t nq = p->num_queues ? p->num_queues : 1;
  uint16_t queue_max = p->queue_max_size ? p->queue_max_size : DEFAULT_QUEUE_MAX;
  if (queue_max > SPLIT_QUEUE_MAX) return fail(err, errlen, "queue_max above 32768", NULL);
  uint64_t offered = FEATURES_SUPPORTED & ~(nq > 1 ? 0 : BIT(VIRTIO_BLK_F_MQ));
  if (p->has_offered_features) {
    if (p->offered_features & ~FEATURES_SUPPORTED) {
      char bits[40];
      snprintf(bits, sizeof bits, "0x%llx",
               (unsigned long long)(p->offered_features & ~FEATURES_SUPPORTED));
      return fail(err, errlen, "the scenario asks to offer features this device lacks: ", bits);
    }
    offered = p->offered_features;
  }

  struct plugin_blk *d = calloc(1, sizeof *d);
  if (!d) return fail(err, errlen, "out of memory", NULL);
  d->host = p->host; /* lives as long as the backend (backend.h) */
  d->nq = nq;
  d->queue_max = queue_max;
  d->offered = offered;
  d->refused = p->refuse_features;
  if (parse_device_config(d, p, err, errlen)) {
    pb_destroy(d);
    return -1;
  }
  d->q = calloc(nq, sizeof *d->q);
  d->disk = calloc(1, d->capacity ? d->capacity * SECTOR_BYTES : 1);
  if (!d->q || !d->disk) {
    pb_destroy(d);
    return fail(err, errlen, "out of memory", NULL);
  }
  fill_config(d);
  out->ops = &plugin_blk_ops;
  out->be = d;
  return 0;
}
