/* backend-model/blk.c — the built-in virtio-blk device model.
 *
 * Owns: the RAM disk, the device_config parsing, the config-space bytes
 * (struct virtio_blk_config, little-endian) and the execution of one request
 * per chain. The device core (devcore.c) does features, status, queues and
 * the worker loop, and calls vsim_blk_model_request for every popped chain.
 * Must never: trust a guest length or sector (every range check is written so
 * that it cannot overflow), do more work than O(segments + data bytes) per
 * request, write an image file back, or report a violation about itself (a
 * device does not judge itself; the checkers observe it from outside).
 *
 * Decisions (where the spec leaves the device a choice):
 *  - features_ok accepts every subset of the offered features, including one
 *    without VERSION_1 (a device MAY refuse; accepting keeps the driver side
 *    under test) and one without MQ when num_queues > 1 (then only queue 0 is
 *    used, as the spec describes for N = 1).
 *  - The disk survives a device reset: writes are synchronous, so a reset has
 *    no request state to drop (devmodel reset is NULL).
 *  - RO is enforced when `ro` is true *or* VIRTIO_BLK_F_RO is in the offered
 *    set (the spec's MUST is keyed on "offered", not "negotiated").
 *  - Discard and write-zeroes both zero the range: a RAM disk "deallocates" by
 *    zeroing, which also satisfies write-zeroes-with-unmap.
 *  - Discard/write-zeroes: zero segments, a payload that is not a multiple of
 *    16 bytes, or more segments than max_*_seg complete with IOERR. All
 *    segments are validated before any is applied, so an error status means
 *    nothing was changed. Unknown flags (and unmap on discard) give UNSUPP
 *    and win over range errors. On a read-only device every write-type
 *    request (OUT, DISCARD, WRITE_ZEROES) gives IOERR before anything else is
 *    looked at: that is how the driver model's checks read the RO rule
 *    (blk.dev-ro-write, which blk.dev-discard-flags defers to under RO).
 *  - seg_max/size_max, when negotiated, are enforced as limits of this
 *    device: a chain with more than seg_max + 2 segments (the data segments
 *    plus one for the header and one for the status, the layout drivers use)
 *    or a segment above size_max completes with IOERR, as a device with a
 *    fixed-size scatter-gather table would.
 *  - used_len counts the bytes the device wrote: data + status when it
 *    succeeds, 1 (the status byte) on an error status.
 *  - A chain with fewer than 16 readable bytes or no writable byte cannot
 *    carry a request or its status: request returns -1 and the core sets
 *    DEVICE_NEEDS_RESET.
 *  - Zero-copy (the default): data moves between the disk and the guest
 *    buffers in place, through checked spans. The header (parsed from a
 *    private copy, so a guest rewriting it cannot change the decision), the
 *    status byte, GET_ID and discard payloads go through the model's own
 *    buffers and count as copied (core.bytes_copied); every request byte
 *    crossing between guest and device counts as moved (core.bytes_moved).
 *    "zero_copy": false sends the data through a bounce buffer as well.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include "arena_fast.h"
#include "le.h"
#include "blk.h"
#include "virtio_compat.h"
#include "devcore.h"
#include "virtiosim/mutants.h"
#include "devconfig.h"

#define SECTOR 512u
#define HDR_LEN ((uint64_t)sizeof(struct virtio_blk_outhdr))
#define DWZ_LEN ((uint64_t)sizeof(struct virtio_blk_discard_write_zeroes))
#define BIT(b) (UINT64_C(1) << (b))

typedef struct vsim_blk {
  vsim_devcore core; /* first: out->be points here and equals the model */
  uint8_t *disk;     /* capacity * 512 bytes (at least 1 allocated) */
  uint64_t capacity; /* sectors */
  bool ro;           /* refuse writes (config "ro" or RO offered) */
  uint32_t max_discard_sectors, max_discard_seg;
  uint32_t max_wz_sectors, max_wz_seg;
  uint32_t seg_max, size_max; /* enforced when SEG_MAX / SIZE_MAX are negotiated */
  uint8_t serial[VIRTIO_BLK_ID_BYTES]; /* NUL-padded GET_ID answer */
  uint8_t *dwz;      /* max(max_discard_seg, max_wz_seg) segments, sized once */
  bool zero_copy;    /* data moves in place through spans (default); false: through `bounce` */
  uint8_t bounce[4096]; /* the copy mode's staging buffer */
} vsim_blk;

/* ---- small helpers ---- */

static inline bool mut(const vsim_blk *m, unsigned bit) {
  return vsim_mut_has(&m->core.mutants, (int)bit);
}

/* Guest-visible data is little-endian; assemble bytes so any host is right. */

/* ---- device_config ---- */

enum blk_key {
  K_CAPACITY, K_RO, K_BLK_SIZE, K_SEG_MAX, K_SIZE_MAX, K_SERIAL, K_IMAGE,
  K_MAX_DISCARD_SECTORS, K_MAX_DISCARD_SEG, K_MAX_WZ_SECTORS, K_MAX_WZ_SEG,
  K_WZ_MAY_UNMAP, K_ZERO_COPY, K__COUNT
};

static const char *const blk_key_names[K__COUNT] = {
    [K_CAPACITY] = "capacity",
    [K_RO] = "ro",
    [K_BLK_SIZE] = "blk_size",
    [K_SEG_MAX] = "seg_max",
    [K_SIZE_MAX] = "size_max",
    [K_SERIAL] = "serial",
    [K_IMAGE] = "image",
    [K_MAX_DISCARD_SECTORS] = "max_discard_sectors",
    [K_MAX_DISCARD_SEG] = "max_discard_seg",
    [K_MAX_WZ_SECTORS] = "max_write_zeroes_sectors",
    [K_MAX_WZ_SEG] = "max_write_zeroes_seg",
    [K_WZ_MAY_UNMAP] = "write_zeroes_may_unmap",
    [K_ZERO_COPY] = "zero_copy",
};

typedef struct blk_opts {
  bool seen[K__COUNT];
  uint64_t capacity;
  bool ro;
  uint32_t blk_size, seg_max, size_max;
  uint8_t serial[VIRTIO_BLK_ID_BYTES];
  const char *image;
  uint32_t max_discard_sectors, max_discard_seg;
  uint32_t max_wz_sectors, max_wz_seg;
  bool wz_may_unmap;
  bool zero_copy;
} blk_opts;

static int parse_opts(const vsim_backend_params *p, blk_opts *o, char *err,
                      unsigned errlen) {
  memset(o, 0, sizeof *o);
  o->capacity = 2048; /* 1 MiB */
  o->blk_size = 512;
  o->seg_max = 126;
  o->size_max = 65536;
  memcpy(o->serial, "virtio-sim-blk", sizeof "virtio-sim-blk" - 1);
  o->max_discard_seg = 16;
  o->max_wz_seg = 16;
  o->wz_may_unmap = true;
  o->zero_copy = true;
  const uint64_t max_sectors = VSIM_BLK_MAX_BYTES / SECTOR;

  for (unsigned i = 0; i < p->config_count; i++) {
    const char *key = p->config_keys ? p->config_keys[i] : NULL;
    const char *val = p->config_values ? p->config_values[i] : NULL;
    if (!key) return vsim_devcfg_fail(err, errlen, "blk: device_config entry %u has no key", i);
    unsigned k = 0;
    while (k < K__COUNT && strcmp(key, blk_key_names[k]) != 0) k++;
    if (k == K__COUNT)
      return vsim_devcfg_fail(err, errlen,
                  "blk: unknown device_config key \"%s\" (known: capacity, ro, "
                  "blk_size, seg_max, size_max, serial, image, max_discard_sectors, "
                  "max_discard_seg, max_write_zeroes_sectors, max_write_zeroes_seg, "
                  "write_zeroes_may_unmap, zero_copy)",
                  key);
    if (o->seen[k]) return vsim_devcfg_fail(err, errlen, "blk: device_config key \"%s\" given twice", key);
    o->seen[k] = true;
    uint64_t v = 0;
    switch ((enum blk_key)k) {
    case K_CAPACITY:
      if (vsim_devcfg_u64("blk", key, val, 0, max_sectors, &v, err, errlen)) return -1;
      o->capacity = v;
      break;
    case K_RO:
      if (vsim_devcfg_bool("blk", key, val, &o->ro, err, errlen)) return -1;
      break;
    case K_BLK_SIZE:
      if (vsim_devcfg_u64("blk", key, val, 512, 65536, &v, err, errlen)) return -1;
      if (v & (v - 1))
        return vsim_devcfg_fail(err, errlen, "blk: device_config \"blk_size\" = \"%s\": not a power of two",
                    val);
      o->blk_size = (uint32_t)v;
      break;
    case K_SEG_MAX:
      if (vsim_devcfg_u64("blk", key, val, 1, UINT32_MAX, &v, err, errlen)) return -1;
      o->seg_max = (uint32_t)v;
      break;
    case K_SIZE_MAX:
      if (vsim_devcfg_u64("blk", key, val, 1, UINT32_MAX, &v, err, errlen)) return -1;
      o->size_max = (uint32_t)v;
      break;
    case K_SERIAL: {
      size_t n = val ? strlen(val) : 0;
      if (!val || n > VIRTIO_BLK_ID_BYTES)
        return vsim_devcfg_fail(err, errlen, "blk: device_config \"serial\" must be at most %u bytes",
                    (unsigned)VIRTIO_BLK_ID_BYTES);
      /* the spec calls it an ASCII string; keep it printable so reports stay readable */
      for (size_t j = 0; j < n; j++)
        if (val[j] < 0x20 || val[j] > 0x7e)
          return vsim_devcfg_fail(err, errlen,
                      "blk: device_config \"serial\": byte %zu is not printable ASCII", j);
      memset(o->serial, 0, sizeof o->serial);
      memcpy(o->serial, val, n);
      break;
    }
    case K_IMAGE:
      if (!val || !*val) return vsim_devcfg_fail(err, errlen, "blk: device_config \"image\" is empty");
      o->image = val;
      break;
    case K_MAX_DISCARD_SECTORS:
      if (vsim_devcfg_u64("blk", key, val, 1, UINT32_MAX, &v, err, errlen)) return -1;
      o->max_discard_sectors = (uint32_t)v;
      break;
    case K_MAX_DISCARD_SEG:
      if (vsim_devcfg_u64("blk", key, val, 1, VSIM_BLK_MAX_DWZ_SEG, &v, err, errlen)) return -1;
      o->max_discard_seg = (uint32_t)v;
      break;
    case K_MAX_WZ_SECTORS:
      if (vsim_devcfg_u64("blk", key, val, 1, UINT32_MAX, &v, err, errlen)) return -1;
      o->max_wz_sectors = (uint32_t)v;
      break;
    case K_MAX_WZ_SEG:
      if (vsim_devcfg_u64("blk", key, val, 1, VSIM_BLK_MAX_DWZ_SEG, &v, err, errlen)) return -1;
      o->max_wz_seg = (uint32_t)v;
      break;
    case K_WZ_MAY_UNMAP:
      if (vsim_devcfg_bool("blk", key, val, &o->wz_may_unmap, err, errlen)) return -1;
      break;
    case K_ZERO_COPY:
      if (vsim_devcfg_bool("blk", key, val, &o->zero_copy, err, errlen)) return -1;
      break;
    case K__COUNT:
      break;
    }
  }
  return 0;
}

/* Read a raw image fully into RAM. The file is never written: guest writes
 * stay in the RAM copy, so a run cannot damage its input. */
static int load_image(const char *path, uint8_t **disk, uint64_t *bytes, char *err,
                      unsigned errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return vsim_devcfg_fail(err, errlen, "blk: cannot open image \"%s\": %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return vsim_devcfg_fail(err, errlen, "blk: image \"%s\" is not a regular file", path);
  }
  uint64_t size = (uint64_t)st.st_size;
  if (size % SECTOR != 0 || size > VSIM_BLK_MAX_BYTES) {
    close(fd);
    return vsim_devcfg_fail(err, errlen,
                "blk: image \"%s\" is %llu bytes: must be a multiple of 512 and at most %llu",
                path, (unsigned long long)size, (unsigned long long)VSIM_BLK_MAX_BYTES);
  }
  uint8_t *buf = calloc(1, size ? size : 1);
  if (!buf) {
    close(fd);
    return vsim_devcfg_fail(err, errlen, "blk: out of memory for image \"%s\"", path);
  }
  uint64_t got = 0;
  while (got < size) {
    size_t want = size - got > (UINT64_C(1) << 20) ? (size_t)1 << 20 : (size_t)(size - got);
    ssize_t r = read(fd, buf + got, want);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      int e = r < 0 ? errno : 0;
      close(fd);
      free(buf);
      return vsim_devcfg_fail(err, errlen, "blk: reading image \"%s\" failed: %s", path,
                  e ? strerror(e) : "file shrank while reading");
    }
    got += (uint64_t)r;
  }
  close(fd);
  *disk = buf;
  *bytes = size;
  return 0;
}

static void fill_config(vsim_blk *m, const blk_opts *o) {
  uint8_t *c = m->core.config;
#define CFG(field) (c + offsetof(struct virtio_blk_config, field))
  vsim_le_st64(CFG(capacity), m->capacity);
  m->seg_max = o->seg_max;
  m->size_max = o->size_max;
  vsim_le_st32(CFG(size_max), o->size_max);
  vsim_le_st32(CFG(seg_max), o->seg_max);
  vsim_le_st32(CFG(blk_size), o->blk_size);
  vsim_le_st16(CFG(num_queues), m->core.nq);
  vsim_le_st32(CFG(max_discard_sectors), m->max_discard_sectors);
  vsim_le_st32(CFG(max_discard_seg), m->max_discard_seg);
  /* no alignment constraint: a RAM disk discards any sector range */
  vsim_le_st32(CFG(discard_sector_alignment), 1);
  vsim_le_st32(CFG(max_write_zeroes_sectors), m->max_wz_sectors);
  vsim_le_st32(CFG(max_write_zeroes_seg), m->max_wz_seg);
  *CFG(write_zeroes_may_unmap) = o->wz_may_unmap ? 1 : 0;
  if (mut(m, VSIM_MUT_DEV_BLK_CONFIG_PAD)) *CFG(unused) = 0xa5;
  /* geometry, topology, writeback, padding and secure-erase fields stay 0
   * (calloc'd by the core): their features are not offered, and the spec
   * requires unused0/unused1 to be 0. */
#undef CFG
}

/* ---- requests ---- */

/* Bytes through the device's own buffers (a header parsed from a private
 * copy, a status byte, a bounce buffer) count as copied; every byte of a
 * request that crosses between guest memory and the device counts as moved.
 * Data moved through a span is moved, not copied: the model reads and writes
 * the guest buffer where it lies (zero-copy). */
static int copy_in(vsim_blk *m, vsim_arena *a, const vsim_chain *c, uint64_t off, void *dst,
                   uint64_t len) {
  if (vsim_chain_read(c, a, off, dst, len)) return -1;
  m->core.bytes_copied += len;
  m->core.bytes_moved += len;
  return 0;
}

static int copy_out(vsim_blk *m, vsim_arena *a, const vsim_chain *c, uint64_t off, const void *src,
                    uint64_t len) {
  if (vsim_chain_write(c, a, off, src, len)) return -1;
  m->core.bytes_copied += len;
  m->core.bytes_moved += len;
  return 0;
}

/* The copy mode of xfer ("zero_copy": false): the data goes through the
 * bounce buffer, as in a device that cannot address guest memory directly. */
static int xfer_copy(vsim_blk *m, vsim_arena *a, const vsim_chain *c, bool to_guest, uint64_t off,
                     uint8_t *disk, uint64_t len) {
  for (uint64_t pos = 0; pos < len;) {
    uint64_t n = len - pos < sizeof m->bounce ? len - pos : sizeof m->bounce;
    if (to_guest) {
      memcpy(m->bounce, disk + pos, n);
      if (copy_out(m, a, c, off + pos, m->bounce, n)) return -1;
    } else {
      if (copy_in(m, a, c, off + pos, m->bounce, n)) return -1;
      memcpy(disk + pos, m->bounce, n);
    }
    pos += n;
  }
  return 0;
}

/* Move `len` bytes between the disk and one part of the chain (the writable
 * part when to_guest), starting at byte `off` of that part. Zero-copy: each
 * guest segment is bounds-checked once as a span and copied with memcpy. */
static int xfer(vsim_blk *m, vsim_arena *a, const vsim_chain *c, bool to_guest, uint64_t off,
                uint8_t *disk, uint64_t len) {
  if (len == 0) return 0;
  if (!m->zero_copy) return xfer_copy(m, a, c, to_guest, off, disk, len);
  uint64_t so = 0;
  int i = vsim_chain_locate(c, to_guest, off, &so);
  if (i < 0) return -1;
  for (uint32_t s = (uint32_t)i; s < c->nseg && len > 0; s++) {
    const vsim_seg *sg = &c->seg[s];
    if (sg->write != to_guest || so > sg->len) return -1; /* left the part */
    uint64_t n = sg->len - so;
    if (n > len) n = len;
    if (n) {
      vsim_span sp;
      if (vsim_arena_view(a, VSIM_SIDE_DEVICE, sg->gpa + so, n,
                          to_guest ? VSIM_ACC_WRITE : VSIM_ACC_READ, &sp))
        return -1;
      if (to_guest)
        memcpy(sp.ptr, disk, n);
      else
        memcpy(disk, sp.ptr, n);
      m->core.bytes_moved += n;
      disk += n;
      len -= n;
    }
    so = 0;
  }
  return len ? -1 : 0;
}

/* [sector, sector + nsect) inside the disk, written so it cannot wrap. */
static bool in_range(const vsim_blk *m, uint64_t sector, uint64_t nsect) {
  return sector <= m->capacity && nsect <= m->capacity - sector;
}

static uint8_t do_rw(vsim_blk *m, vsim_arena *a, const vsim_chain *c, bool out,
                     uint64_t sector, uint64_t data, uint32_t *written) {
  if (data % SECTOR) return VIRTIO_BLK_S_IOERR;
  if (!in_range(m, sector, data / SECTOR)) return VIRTIO_BLK_S_IOERR;
  uint8_t *at = m->disk + sector * SECTOR; /* < capacity*512 <= 1 GiB: no wrap */
  if (!out) {
    if (xfer(m, a, c, true, 0, at, data)) return VIRTIO_BLK_S_IOERR;
    *written = (uint32_t)data; /* data < wr_bytes <= UINT32_MAX */
    return VIRTIO_BLK_S_OK;
  }
  if (m->ro && !mut(m, VSIM_MUT_DEV_BLK_RO_WRITE)) return VIRTIO_BLK_S_IOERR;
  return xfer(m, a, c, false, HDR_LEN, at, data) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
}

static uint8_t do_get_id(vsim_blk *m, vsim_arena *a, const vsim_chain *c, uint64_t data,
                         uint32_t *written) {
  /* the driver MUST give exactly 20 bytes; tolerate less or more by writing
   * what fits (the driver-side check reports the driver's mistake) */
  uint32_t n = data < VIRTIO_BLK_ID_BYTES ? (uint32_t)data : VIRTIO_BLK_ID_BYTES;
  if (n && copy_out(m, a, c, 0, m->serial, n)) return VIRTIO_BLK_S_IOERR;
  *written = n;
  return VIRTIO_BLK_S_OK;
}

static uint8_t do_dwz(vsim_blk *m, vsim_arena *a, const vsim_chain *c, bool discard,
                      uint64_t data) {
  if (m->ro) return VIRTIO_BLK_S_IOERR; /* a write-type request: see the header */
  if (!vsim_devcore_has(&m->core, discard ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES))
    return VIRTIO_BLK_S_UNSUPP;
  uint32_t max_seg = discard ? m->max_discard_seg : m->max_wz_seg;
  uint32_t max_sectors = discard ? m->max_discard_sectors : m->max_wz_sectors;
  if (data == 0 || data % DWZ_LEN) return VIRTIO_BLK_S_IOERR;
  uint64_t n = data / DWZ_LEN;
  if (n > max_seg) return VIRTIO_BLK_S_IOERR;
  /* one read of the whole payload: every decision below uses this copy, so a
   * guest rewriting a segment meanwhile cannot change the outcome halfway */
  if (copy_in(m, a, c, HDR_LEN, m->dwz, n * DWZ_LEN)) return VIRTIO_BLK_S_IOERR;

  const size_t o_sec = offsetof(struct virtio_blk_discard_write_zeroes, sector);
  const size_t o_num = offsetof(struct virtio_blk_discard_write_zeroes, num_sectors);
  const size_t o_flags = offsetof(struct virtio_blk_discard_write_zeroes, flags);
  uint32_t known = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
  if (discard && !mut(m, VSIM_MUT_DEV_BLK_DISCARD_UNMAP))
    known = 0; /* the spec: unmap on a discard MUST give UNSUPP */
  /* flags before ranges: UNSUPP for unknown flags is a MUST and wins over a
   * range error in any segment */
  for (uint64_t i = 0; i < n; i++)
    if (vsim_le_ld32(m->dwz + i * DWZ_LEN + o_flags) & ~known) return VIRTIO_BLK_S_UNSUPP;
  for (uint64_t i = 0; i < n; i++) {
    const uint8_t *s = m->dwz + i * DWZ_LEN;
    uint32_t nsect = vsim_le_ld32(s + o_num);
    if (nsect > max_sectors || !in_range(m, vsim_le_ld64(s + o_sec), nsect))
      return VIRTIO_BLK_S_IOERR;
  }
  /* validated: apply. Discard deallocates, and a RAM disk deallocates by
   * zeroing, so both commands zero (the zeroes-noop mutant skips it). */
  if (!discard && mut(m, VSIM_MUT_DEV_BLK_ZEROES_NOOP)) return VIRTIO_BLK_S_OK;
  for (uint64_t i = 0; i < n; i++) {
    const uint8_t *s = m->dwz + i * DWZ_LEN;
    memset(m->disk + vsim_le_ld64(s + o_sec) * SECTOR, 0,
           (size_t)vsim_le_ld32(s + o_num) * SECTOR);
  }
  return VIRTIO_BLK_S_OK;
}

/* SEG_MAX / SIZE_MAX as this device's own limits (see the header comment). */
static bool within_limits(const vsim_blk *m, const vsim_chain *c) {
  if (vsim_devcore_has(&m->core, VIRTIO_BLK_F_SEG_MAX) && c->nseg > (uint64_t)m->seg_max + 2)
    return false;
  if (vsim_devcore_has(&m->core, VIRTIO_BLK_F_SIZE_MAX))
    for (uint32_t i = 0; i < c->nseg; i++)
      if (c->seg[i].len > m->size_max) return false;
  return true;
}

/* Execute one request of `type`; returns the status byte to write. */
static uint8_t execute(vsim_blk *m, vsim_arena *a, const vsim_chain *c, uint32_t type,
                       uint64_t sector, uint64_t rd_data, uint64_t wr_data, uint32_t *written) {
  switch (type) {
  case VIRTIO_BLK_T_IN:
    return do_rw(m, a, c, false, sector, wr_data, written);
  case VIRTIO_BLK_T_OUT:
    return do_rw(m, a, c, true, sector, rd_data, written);
  case VIRTIO_BLK_T_FLUSH:
    /* writes are synchronous to RAM: nothing to flush, only the feature gate */
    return vsim_devcore_has(&m->core, VIRTIO_BLK_F_FLUSH) ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_UNSUPP;
  case VIRTIO_BLK_T_GET_ID:
    return do_get_id(m, a, c, wr_data, written);
  case VIRTIO_BLK_T_DISCARD:
    return do_dwz(m, a, c, true, rd_data);
  case VIRTIO_BLK_T_WRITE_ZEROES:
    return do_dwz(m, a, c, false, rd_data);
  default:
    return VIRTIO_BLK_S_UNSUPP;
  }
}

int vsim_blk_model_request(void *model, uint16_t q, const vsim_chain *c,
                           uint32_t *used_len) {
  vsim_blk *m = model;
  *used_len = 0;
  vsim_arena *a = m->core.host ? m->core.host->arena : NULL;
  if (!a || !c) return -1;
  /* pop guarantees totals below 2^32; re-check so the casts below are safe */
  if (c->rd_bytes > UINT32_MAX || c->wr_bytes > UINT32_MAX) return -1;
  /* no room for the header or the status byte: nothing sensible to answer */
  if (c->rd_bytes < HDR_LEN || c->wr_bytes < 1) return -1;

  uint8_t hdr[sizeof(struct virtio_blk_outhdr)];
  if (copy_in(m, a, c, 0, hdr, sizeof hdr)) return -1;
  uint32_t type = vsim_le_ld32(hdr + offsetof(struct virtio_blk_outhdr, type));
  uint64_t sector = vsim_le_ld64(hdr + offsetof(struct virtio_blk_outhdr, sector));
  uint64_t status_off = c->wr_bytes - 1; /* the status is the last writable byte */
  uint64_t rd_data = c->rd_bytes - HDR_LEN;
  uint64_t wr_data = status_off;

  uint32_t written = 0;
  /* the mutant: a device that assumes the usual arrangement (a header
   * descriptor of its own, a status descriptor of its own), which Message
   * Framing forbids */
  const bool framing_refused =
      mut(m, VSIM_MUT_DEV_FRAMING_HEADER_ALONE) &&
      (c->nread == 0 || c->seg[0].len != HDR_LEN || c->seg[c->nseg - 1].len != 1 ||
       c->seg[c->nseg - 1].write == false);
  uint8_t st = !framing_refused && within_limits(m, c)
                   ? execute(m, a, c, type, sector, rd_data, wr_data, &written)
                   : VIRTIO_BLK_S_IOERR;
  if (st != VIRTIO_BLK_S_OK) written = 0;

  if (mut(m, VSIM_MUT_DEV_WRITE_RO)) {
    /* flip the first header byte in place; the checker sees the readable
     * buffer change (the arena does not know descriptor directions) */
    uint64_t so = 0;
    int s = vsim_chain_locate(c, false, 0, &so);
    if (s >= 0) {
      uint8_t b = (uint8_t)~hdr[0];
      vsim_arena_put(a, VSIM_SIDE_DEVICE, c->seg[s].gpa + so, &b, 1);
    }
  }
  if (mut(m, VSIM_MUT_DEV_OOB)) {
    /* straddle the end of guest memory; the arena refuses and reports it */
    uint8_t junk[16];
    uint64_t size = vsim_arena_size(a);
    vsim_arena_get(a, VSIM_SIDE_DEVICE, size >= 8 ? size - 8 : 0, junk, sizeof junk);
  }
  if (mut(m, VSIM_MUT_DEV_BLK_BAD_STATUS)) st = 7;
  if (copy_out(m, a, c, status_off, &st, 1)) return -1;
  *used_len = written + 1;
  return 0;
}

const uint8_t *vsim_blk_disk(void *model, uint64_t *bytes) {
  const vsim_blk *m = model;
  if (bytes) *bytes = m->capacity * SECTOR;
  return m->disk;
}

/* ---- devmodel ops ---- */

static bool blk_features_ok(void *model, uint64_t features) {
  /* permissive by choice, see the header comment */
  return true;
}

static void blk_destroy(void *model) {
  vsim_blk *m = model;
  if (!m) return;
  vsim_devcore_fini(&m->core); /* idempotent: the core may have done it already */
  free(m->dwz);
  free(m->disk);
  free(m);
}

static const vsim_devmodel_ops blk_model_ops = {
    .features_ok = blk_features_ok,
    .activate = NULL,     /* features are read per request */
    .reset = NULL,        /* a disk survives reset; no request state is kept */
    .config_write = NULL, /* no CONFIG_WCE: config space is read-only */
    .request = vsim_blk_model_request,
    .destroy = blk_destroy,
};

int vsim_blk_create(const vsim_backend_params *params, vsim_backend *out, char *err,
                    unsigned errlen) {
  if (!params || !out) return vsim_devcfg_fail(err, errlen, "blk: no parameters");
  blk_opts o;
  if (parse_opts(params, &o, err, errlen)) return -1;

  vsim_blk *m = calloc(1, sizeof *m);
  if (!m) return vsim_devcfg_fail(err, errlen, "blk: out of memory");
  uint64_t bytes = 0;
  if (o.image) {
    if (load_image(o.image, &m->disk, &bytes, err, errlen)) {
      free(m);
      return -1;
    }
    if (o.seen[K_CAPACITY] && o.capacity != bytes / SECTOR) {
      free(m->disk);
      free(m);
      return vsim_devcfg_fail(err, errlen,
                  "blk: device_config \"capacity\" = %llu contradicts image \"%s\" (%llu sectors)",
                  (unsigned long long)o.capacity, o.image,
                  (unsigned long long)(bytes / SECTOR));
    }
  } else {
    bytes = o.capacity * SECTOR; /* capacity <= 2^21: no wrap */
    m->disk = calloc(1, bytes ? bytes : 1);
    if (!m->disk) {
      free(m);
      return vsim_devcfg_fail(err, errlen, "blk: out of memory for a %llu-byte disk",
                  (unsigned long long)bytes);
    }
  }
  m->capacity = bytes / SECTOR;
  /* default per-segment limits: the whole disk, kept >= 1 so that the field
   * is a usable limit even on an empty disk */
  uint64_t whole = m->capacity ? m->capacity : 1;
  if (whole > UINT32_MAX) whole = UINT32_MAX;
  m->max_discard_sectors = o.seen[K_MAX_DISCARD_SECTORS] ? o.max_discard_sectors : (uint32_t)whole;
  m->max_wz_sectors = o.seen[K_MAX_WZ_SECTORS] ? o.max_wz_sectors : (uint32_t)whole;
  m->max_discard_seg = o.max_discard_seg;
  m->max_wz_seg = o.max_wz_seg;
  memcpy(m->serial, o.serial, sizeof m->serial);
  uint32_t nbuf = m->max_discard_seg > m->max_wz_seg ? m->max_discard_seg : m->max_wz_seg;
  m->dwz = calloc(nbuf, (size_t)DWZ_LEN);
  if (!m->dwz) {
    free(m->disk);
    free(m);
    return vsim_devcfg_fail(err, errlen, "blk: out of memory");
  }

  uint16_t nq = params->num_queues ? params->num_queues : 1;
  uint64_t offered = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_RING_PACKED) | BIT(VIRTIO_F_NOTIFICATION_DATA) |
                     BIT(VIRTIO_F_RING_RESET) | BIT(VIRTIO_F_IN_ORDER) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |
                     BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_BLK_F_SIZE_MAX) |
                     BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_BLK_SIZE) |
                     BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_BLK_F_DISCARD) |
                     BIT(VIRTIO_BLK_F_WRITE_ZEROES);
  if (nq > 1) offered |= BIT(VIRTIO_BLK_F_MQ);
  if (o.ro) offered |= BIT(VIRTIO_BLK_F_RO);
  if (vsim_mut_has(&params->mutants, VSIM_MUT_DEV_BLK_WCE_NO_FLUSH))
    offered = (offered | BIT(VIRTIO_BLK_F_CONFIG_WCE)) & ~BIT(VIRTIO_BLK_F_FLUSH);
  if (vsim_devcore_init(&m->core, params, VIRTIO_ID_BLOCK, offered,
                        (uint32_t)sizeof(struct virtio_blk_config), &blk_model_ops, m, err,
                        errlen)) {
    free(m->dwz);
    free(m->disk);
    free(m);
    return -1;
  }
  if (m->core.nq > 1 && !(m->core.offered & BIT(VIRTIO_BLK_F_MQ))) {
    unsigned n = m->core.nq;
    blk_destroy(m);
    return vsim_devcfg_fail(err, errlen, "blk: %u queues need VIRTIO_BLK_F_MQ in the offered features", n);
  }
  /* the spec's RO MUST is keyed on the offered bit, so an override that
   * offers RO makes the disk read-only too */
  m->ro = o.ro || (m->core.offered & BIT(VIRTIO_BLK_F_RO));
  m->zero_copy = o.zero_copy;
  fill_config(m, &o);
  out->ops = &vsim_devcore_ops;
  out->be = &m->core;
  return 0;
}
