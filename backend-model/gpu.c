/* backend-model/gpu.c — the built-in virtio-gpu device model (2D).
 *
 * Owns: the device_config parsing, the config-space bytes (struct
 * virtio_gpu_config), the resources (pixels, a private copy of their backing
 * list), the scanouts, the cursor, and the execution of one command per chain
 * on the controlq (queue 0) and the cursorq (queue 1). The device core
 * (devcore.c) does features, status, queues and the worker loop.
 * Must never: trust a guest number (every size, rectangle and offset check is
 * written so that it cannot overflow), read a guest structure twice for one
 * decision (the request and the backing list are copied once, then only the
 * copies are looked at), write backing memory (2D transfers go to the host
 * only), hold more pixel bytes than max_resource_bytes, or do more work per
 * request than O(request + backing entries + bytes a transfer copies).
 *
 * Decisions (where the spec leaves the device a choice, after QEMU's 2D
 * device where it has one):
 *  - Everything is processed synchronously, so a fenced command is complete
 *    when its response is written (the fence rule holds trivially); the
 *    response echoes VIRTIO_GPU_FLAG_FENCE, fence_id and ctx_id.
 *  - Errors: a request shorter than the header, a command of a feature never
 *    offered (VIRGL: every 3D and context command; blobs without the
 *    blob_alignment option) or not negotiated (EDID, RESOURCE_UUID,
 *    RESOURCE_BLOB), SET_SCANOUT_BLOB / MAP_BLOB / UNMAP_BLOB (no host
 *    visible memory region, no blob scanout), an unknown command, a response buffer too small
 *    for the command's response, backing attached twice, and a transfer
 *    without backing: ERR_UNSPEC. Resource id 0, an unknown id or one
 *    created twice: ERR_INVALID_RESOURCE_ID. A body shorter than its
 *    command, a zero or oversized dimension, an unknown format, a rectangle
 *    or transfer source outside the resource or the backing, nr_entries 0 or
 *    above max_backing_entries, and a backing entry that is not device-
 *    readable guest memory: ERR_INVALID_PARAMETER. A scanout id past
 *    num_scanouts: ERR_INVALID_SCANOUT_ID (GET_EDID: ERR_INVALID_PARAMETER,
 *    as QEMU). A resource past the byte or count budget: ERR_OUT_OF_MEMORY.
 *  - A controlq request with fewer than 24 writable bytes has nowhere to say
 *    what happened: it is not executed and is used with length 0.
 *  - Backing may lie anywhere the device may read, over the rings included:
 *    the device only ever reads it (a device-readable buffer over a ring is
 *    allowed, scenarios/README.md), at transfer time, once per byte.
 *  - A scanout shows its resource directly (as QEMU's display surface does):
 *    RESOURCE_FLUSH validates and counts, it copies nothing, so no command
 *    costs O(width x height) except the bytes a transfer copies.
 *  - RESOURCE_UNREF of a resource on a scanout disables the scanout (and
 *    hides the cursor using it); a device reset drops every resource.
 *  - Blobs (device_config blob_alignment): RESOURCE_CREATE_BLOB of guest
 *    memory only (HOST3D: ERR_INVALID_PARAMETER), its entries covering a
 *    non-zero size, which with BLOB_ALIGNMENT negotiated must be a multiple
 *    of blob_alignment (ERR_INVALID_PARAMETER otherwise). The blob has no 2D
 *    pixels (0x0): 2D commands naming a rectangle of it are refused.
 *  - cursorq: UPDATE_CURSOR / MOVE_CURSOR need no response; one is written
 *    when the chain has room for a header. A cursor resource must be 64x64.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_gpu.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include "devcore.h"
#include "gpu.h"
#include "le.h"
#include "virtio_compat.h"
#include "virtiosim/mutants.h"
#include "devconfig.h"

#define BIT(b) (UINT64_C(1) << (b))
#define HDR_LEN ((uint32_t)sizeof(struct virtio_gpu_ctrl_hdr))
#define BPP 4u
#define CURSOR_DIM 64u
#define REQ_MAX 64u  /* the largest 2D request body we parse (update_cursor: 56) */
#define RESP_MAX ((uint32_t)sizeof(struct virtio_gpu_resp_edid))
#define EDID_BLOCK 128u

typedef struct gpu_entry {
  uint64_t addr;
  uint32_t len;
} gpu_entry;

typedef struct gpu_res {
  uint32_t id;          /* 0: the slot is free */
  uint32_t format, width, height;
  uint64_t bytes;       /* width * height * 4 */
  uint8_t *pixels;
  gpu_entry *backing;   /* [max_entries] in the pool; nbacking used */
  uint32_t nbacking;
  bool has_backing;
  uint64_t backing_len; /* sum of the entries' lengths */
} gpu_res;

typedef struct gpu_scanout {
  uint32_t res_id; /* 0: disabled */
  uint32_t x, y, w, h;
  uint64_t flushes;
} gpu_scanout;

typedef struct gpu_span {
  uint64_t lo, hi; /* backing offsets [lo, hi) */
  const uint8_t *ptr;
} gpu_span;

typedef struct vsim_gpu {
  vsim_devcore core; /* first: out->be points here and equals the model */
  uint32_t num_scanouts, disp_w, disp_h;
  uint32_t max_resources, max_entries;
  uint64_t max_bytes, used_bytes;
  uint32_t blob_alignment; /* 0: RESOURCE_BLOB and BLOB_ALIGNMENT not offered */
  uint32_t initial_events, events_read;
  gpu_res *res;         /* [max_resources] */
  gpu_entry *pool;      /* [max_resources * max_entries] */
  uint8_t *entry_buf;   /* [max_entries * 16]: the attach list as read, once */
  gpu_span *spans;      /* [max_entries]: a transfer's mapped backing */
  gpu_scanout scanout[VIRTIO_GPU_MAX_SCANOUTS];
  struct {
    uint32_t res_id, scanout, x, y, hot_x, hot_y;
    uint64_t updates, moves;
  } cursor;
  /* dev.gpu-fence-early: a fenced command answered and not yet processed */
  bool pending;
  uint8_t pending_req[REQ_MAX];
  uint32_t pending_len;
  uint8_t req[REQ_MAX];
  uint8_t resp[RESP_MAX];
} vsim_gpu;

static inline bool mut(const vsim_gpu *m, int bit) { return vsim_mut_has(&m->core.mutants, bit); }

/* ---- device_config ---- */

typedef struct gpu_opts {
  uint64_t num_scanouts, width, height, max_bytes, max_resources, max_entries, blob_alignment;
  bool edid, uuid, display_event;
} gpu_opts;

static int parse_opts(const vsim_backend_params *p, gpu_opts *o, char *err, unsigned errlen) {
  *o = (gpu_opts){.num_scanouts = 1, .width = 1024, .height = 768,
                  .max_bytes = UINT64_C(16) << 20, .max_resources = 64, .max_entries = 64,
                  .edid = true};
  static const struct {
    const char *name;
    uint64_t lo, hi;
    size_t off; /* into gpu_opts: a uint64_t, or a bool when hi == 0 */
  } keys[] = {
      {"num_scanouts", 1, VIRTIO_GPU_MAX_SCANOUTS, offsetof(gpu_opts, num_scanouts)},
      /* the EDID's detailed timing has 12 bits per dimension */
      {"width", 1, 4095, offsetof(gpu_opts, width)},
      {"height", 1, 4095, offsetof(gpu_opts, height)},
      {"max_resource_bytes", 0, VSIM_GPU_MAX_BYTES, offsetof(gpu_opts, max_bytes)},
      {"max_resources", 1, VSIM_GPU_MAX_RESOURCES, offsetof(gpu_opts, max_resources)},
      {"max_backing_entries", 1, VSIM_GPU_MAX_ENTRIES, offsetof(gpu_opts, max_entries)},
      {"edid", 0, 0, offsetof(gpu_opts, edid)},
      {"resource_uuid", 0, 0, offsetof(gpu_opts, uuid)},
      {"display_event", 0, 0, offsetof(gpu_opts, display_event)},
      /* a power of two (checked below); 0: no blobs */
      {"blob_alignment", 0, UINT64_C(1) << 20, offsetof(gpu_opts, blob_alignment)},
  };
  bool seen[sizeof keys / sizeof keys[0]] = {0};
  for (unsigned i = 0; i < p->config_count; i++) {
    const char *key = p->config_keys ? p->config_keys[i] : NULL;
    const char *val = p->config_values ? p->config_values[i] : NULL;
    if (!key) return vsim_devcfg_fail(err, errlen, "gpu: device_config entry %u has no key", i);
    size_t k = 0;
    while (k < sizeof keys / sizeof keys[0] && strcmp(key, keys[k].name) != 0) k++;
    if (k == sizeof keys / sizeof keys[0])
      return vsim_devcfg_fail(err, errlen,
                  "gpu: unknown device_config key \"%s\" (known: num_scanouts, width, height, "
                  "max_resource_bytes, max_resources, max_backing_entries, edid, resource_uuid, "
                  "display_event, blob_alignment)",
                  key);
    if (seen[k]) return vsim_devcfg_fail(err, errlen, "gpu: device_config key \"%s\" given twice", key);
    seen[k] = true;
    char *field = (char *)o + keys[k].off;
    if (keys[k].hi == 0) {
      bool b;
      if (val && strcmp(val, "true") == 0) b = true;
      else if (val && strcmp(val, "false") == 0) b = false;
      else
        return vsim_devcfg_fail(err, errlen, "gpu: device_config \"%s\" = \"%s\": expected true or false", key,
                    val ? val : "(null)");
      memcpy(field, &b, sizeof b);
    } else {
      uint64_t v;
      if (!vsim_devcfg_parse_u64(val, keys[k].lo, keys[k].hi, &v))
        return vsim_devcfg_fail(err, errlen,
                    "gpu: device_config \"%s\" = \"%s\": expected a decimal integer in [%llu, %llu]",
                    key, val ? val : "(null)", (unsigned long long)keys[k].lo,
                    (unsigned long long)keys[k].hi);
      memcpy(field, &v, sizeof v);
    }
  }
  if (o->blob_alignment & (o->blob_alignment - 1))
    return vsim_devcfg_fail(err, errlen, "gpu: device_config \"blob_alignment\" = %llu: not a power of two",
                            (unsigned long long)o->blob_alignment);
  return 0;
}

/* ---- resources ---- */

static gpu_res *res_find(vsim_gpu *m, uint32_t id) {
  if (id == 0) return NULL;
  for (uint32_t i = 0; i < m->max_resources; i++)
    if (m->res[i].id == id) return &m->res[i];
  return NULL;
}

static bool format_known(uint32_t f) {
  switch (f) {
  case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
  case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
  case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
  case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
  case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
  case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
  case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
  case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM: return true;
  default: return false;
  }
}

static void res_free(vsim_gpu *m, gpu_res *r) {
  for (uint32_t s = 0; s < m->num_scanouts; s++)
    if (m->scanout[s].res_id == r->id) m->scanout[s] = (gpu_scanout){0};
  if (m->cursor.res_id == r->id) m->cursor.res_id = 0;
  free(r->pixels);
  m->used_bytes -= r->bytes;
  gpu_entry *pool = r->backing;
  *r = (gpu_res){0};
  r->backing = pool;
}

/* x, y, w, h inside a width x height surface, without overflow. */
static bool rect_inside(uint32_t x, uint32_t y, uint32_t w, uint32_t h, uint32_t width,
                        uint32_t height) {
  return x <= width && w <= width - x && y <= height && h <= height - y;
}

/* ---- commands: each returns the response type, and fills m->resp beyond
 * the header when it has data (*resp_len then the whole response's size) ---- */

static uint32_t ld32(const vsim_gpu *m, size_t off) { return vsim_le_ld32(m->req + off); }

static uint32_t cmd_display_info(vsim_gpu *m, uint32_t *resp_len) {
  *resp_len = (uint32_t)sizeof(struct virtio_gpu_resp_display_info);
  uint8_t *p = m->resp + HDR_LEN;
  memset(p, 0, *resp_len - HDR_LEN);
  const size_t one = sizeof(struct virtio_gpu_display_one);
  uint32_t shown = m->num_scanouts;
  if (mut(m, VSIM_MUT_DEV_GPU_DISPLAY_PHANTOM) && shown < VIRTIO_GPU_MAX_SCANOUTS) shown++;
  for (uint32_t i = 0; i < shown; i++) {
    uint8_t *d = p + i * one;
    vsim_le_st32(d + offsetof(struct virtio_gpu_display_one, r.x), i * m->disp_w);
    vsim_le_st32(d + offsetof(struct virtio_gpu_display_one, r.y), 0);
    vsim_le_st32(d + offsetof(struct virtio_gpu_display_one, r.width), m->disp_w);
    vsim_le_st32(d + offsetof(struct virtio_gpu_display_one, r.height), m->disp_h);
    vsim_le_st32(d + offsetof(struct virtio_gpu_display_one, enabled), 1);
  }
  return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
}

/* A minimal EDID 1.4 base block: a fixed header and vendor, the display's
 * size as its preferred detailed timing, a monitor name, the checksum. */
static void edid_fill(uint8_t *e, uint32_t scanout, uint32_t w, uint32_t h) {
  static const uint8_t header[8] = {0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
  memset(e, 0, EDID_BLOCK);
  memcpy(e, header, sizeof header);
  uint16_t vendor = (uint16_t)((('V' - '@') << 10) | (('S' - '@') << 5) | ('M' - '@'));
  e[8] = (uint8_t)(vendor >> 8);
  e[9] = (uint8_t)vendor;
  e[10] = (uint8_t)scanout;
  e[17] = 34; /* 2024 */
  e[18] = 1;
  e[19] = 4;
  e[20] = 0xa5; /* digital, 8 bits per colour */
  e[23] = 120;  /* gamma 2.2 */
  e[24] = 0x06;
  for (int i = 38; i < 54; i++) e[i] = 0x01; /* no standard timings */
  const uint32_t hblank = 160, vblank = 30;
  uint32_t clock = (w + hblank) * (h + vblank) * 60u / 10000u; /* 10 kHz units */
  if (clock > 0xffff) clock = 0xffff; /* the field is 16 bits: 655.35 MHz at most */
  uint8_t *d = e + 54;
  d[0] = (uint8_t)clock;
  d[1] = (uint8_t)(clock >> 8);
  d[2] = (uint8_t)w;
  d[3] = (uint8_t)hblank;
  d[4] = (uint8_t)(((w >> 8) & 0xf) << 4 | ((hblank >> 8) & 0xf));
  d[5] = (uint8_t)h;
  d[6] = (uint8_t)vblank;
  d[7] = (uint8_t)(((h >> 8) & 0xf) << 4 | ((vblank >> 8) & 0xf));
  d[8] = 48;
  d[9] = 32;
  d[10] = 3 << 4 | 5;
  d[17] = 0x18;
  static const uint8_t name[18] = {0, 0, 0, 0xfc, 0, 'v', 'i', 'r', 't', 'i', 'o', '-', 's',
                                   'i', 'm', '\n', ' ', ' '};
  memcpy(e + 72, name, sizeof name);
  e[90 + 3] = 0x10; /* dummy descriptors */
  e[108 + 3] = 0x10;
  uint8_t sum = 0;
  for (unsigned i = 0; i < EDID_BLOCK - 1; i++) sum = (uint8_t)(sum + e[i]);
  e[EDID_BLOCK - 1] = (uint8_t)(0x100 - sum);
}

static uint32_t cmd_get_edid(vsim_gpu *m, uint32_t body, uint32_t *resp_len) {
  if (!vsim_devcore_has(&m->core, VIRTIO_GPU_F_EDID)) return VIRTIO_GPU_RESP_ERR_UNSPEC;
  if (body < sizeof(struct virtio_gpu_cmd_get_edid)) return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  uint32_t scanout = ld32(m, offsetof(struct virtio_gpu_cmd_get_edid, scanout));
  if (scanout >= m->num_scanouts) return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  *resp_len = (uint32_t)sizeof(struct virtio_gpu_resp_edid);
  memset(m->resp + HDR_LEN, 0, *resp_len - HDR_LEN);
  vsim_le_st32(m->resp + offsetof(struct virtio_gpu_resp_edid, size), EDID_BLOCK);
  edid_fill(m->resp + offsetof(struct virtio_gpu_resp_edid, edid), scanout, m->disp_w, m->disp_h);
  return VIRTIO_GPU_RESP_OK_EDID;
}

static uint32_t cmd_create_2d(vsim_gpu *m, uint32_t body) {
  typedef struct virtio_gpu_resource_create_2d T;
  if (body < sizeof(T)) return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  uint32_t id = ld32(m, offsetof(T, resource_id)), format = ld32(m, offsetof(T, format));
  uint32_t w = ld32(m, offsetof(T, width)), h = ld32(m, offsetof(T, height));
  if (id == 0 || res_find(m, id)) return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
  if (!format_known(format) || w == 0 || h == 0 || w > VSIM_GPU_MAX_DIM || h > VSIM_GPU_MAX_DIM)
    return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  uint64_t bytes = (uint64_t)w * h * BPP; /* <= 2^30: no overflow */
  if (bytes > m->max_bytes - m->used_bytes) return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
  gpu_res *r = NULL;
  for (uint32_t i = 0; i < m->max_resources && !r; i++)
    if (m->res[i].id == 0) r = &m->res[i];
  if (!r) return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
  /* calloc: the pages are zeroed lazily, so creating costs no O(w x h) work */
  uint8_t *px = calloc(1, (size_t)bytes);
  if (!px) return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
  gpu_entry *pool = r->backing;
  *r = (gpu_res){.id = id, .format = format, .width = w, .height = h, .bytes = bytes,
                 .pixels = px, .backing = pool};
  m->used_bytes += bytes;
  return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_unref(vsim_gpu *m, uint32_t body) {
  if (body < sizeof(struct virtio_gpu_resource_unref)) return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  gpu_res *r = res_find(m, ld32(m, offsetof(struct virtio_gpu_resource_unref, resource_id)));
  if (!r) return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
  res_free(m, r);
  return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_set_scanout(vsim_gpu *m, uint32_t body) {
  typedef struct virtio_gpu_set_scanout T;
  if (body < sizeof(T)) return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  uint32_t sid = ld32(m, offsetof(T, scanout_id)), id = ld32(m, offsetof(T, resource_id));
  uint32_t x = ld32(m, offsetof(T, r.x)), y = ld32(m, offsetof(T, r.y));
  uint32_t w = ld32(m, offsetof(T, r.width)), h = ld32(m, offsetof(T, r.height));
  if (sid >= m->num_scanouts) return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
  if (id == 0) { /* the driver disables the scanout */
    m->scanout[sid] = (gpu_scanout){0};
    return VIRTIO_GPU_RESP_OK_NODATA;
  }
  gpu_res *r = res_find(m, id);
  if (!r) return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
  /* "Scanout rectangles must be completely covered by the underlying resource" */
  if (w == 0 || h == 0 || !rect_inside(x, y, w, h, r->width, r->height))
    return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  m->scanout[sid] = (gpu_scanout){.res_id = id, .x = x, .y = y, .w = w, .h = h};
  return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_flush(vsim_gpu *m, uint32_t body) {
  typedef struct virtio_gpu_resource_flush T;
  if (body < sizeof(T)) return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  gpu_res *r = res_find(m, ld32(m, offsetof(T, resource_id)));
  if (!r) return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
  if (!rect_inside(ld32(m, offsetof(T, r.x)), ld32(m, offsetof(T, r.y)), ld32(m, offsetof(T, r.width)),
                   ld32(m, offsetof(T, r.height)), r->width, r->height))
    return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  for (uint32_t s = 0; s < m->num_scanouts; s++)
    if (m->scanout[s].res_id == r->id) m->scanout[s].flushes++;
  return VIRTIO_GPU_RESP_OK_NODATA;
}

/* Map the backing bytes [lo, hi) of r as checked spans, one per entry it
 * touches (the work is one arena access per entry). Returns the number of
 * spans, or -1 when an entry is no longer readable. */
static int map_backing(vsim_gpu *m, vsim_arena *a, const gpu_res *r, uint64_t lo, uint64_t hi) {
  int n = 0;
  uint64_t base = 0;
  for (uint32_t i = 0; i < r->nbacking && base < hi; i++) {
    uint64_t end = base + r->backing[i].len;
    uint64_t s = lo > base ? lo : base, e = hi < end ? hi : end;
    if (s < e) {
      vsim_span sp;
      if (vsim_arena_span(a, VSIM_SIDE_DEVICE, r->backing[i].addr + (s - base), e - s, VSIM_ACC_READ, &sp))
        return -1;
      m->spans[n++] = (gpu_span){s, e, sp.ptr};
    }
    base = end;
  }
  return n;
}

static uint32_t cmd_transfer(vsim_gpu *m, vsim_arena *a, uint32_t body) {
  typedef struct virtio_gpu_transfer_to_host_2d T;
  if (body < sizeof(T)) return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  gpu_res *r = res_find(m, ld32(m, offsetof(T, resource_id)));
  if (!r) return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
  uint32_t x = ld32(m, offsetof(T, r.x)), y = ld32(m, offsetof(T, r.y));
  uint32_t w = ld32(m, offsetof(T, r.width)), h = ld32(m, offsetof(T, r.height));
  uint64_t offset = vsim_le_ld64(m->req + offsetof(T, offset));
  if (!rect_inside(x, y, w, h, r->width, r->height)) return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  if (!r->has_backing) return VIRTIO_GPU_RESP_ERR_UNSPEC;
  if (w == 0 || h == 0) return VIRTIO_GPU_RESP_OK_NODATA;
  /* The source rows are laid out as the resource's (stride width x 4), from
   * `offset` on: they must lie inside the resource's size and the backing. */
  uint64_t stride = (uint64_t)r->width * BPP, row = (uint64_t)w * BPP;
  uint64_t span = (uint64_t)(h - 1) * stride + row; /* <= r->bytes: the rect is inside */
  if (offset > r->bytes || span > r->bytes - offset || offset + span > r->backing_len)
    return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  int n = map_backing(m, a, r, offset, offset + span);
  if (n < 0) return VIRTIO_GPU_RESP_ERR_UNSPEC;
  /* every span is mapped: copy row by row, walking the spans forward once */
  int k = 0;
  for (uint32_t j = 0; j < h; j++) {
    uint64_t src = offset + (uint64_t)j * stride, left = row;
    uint8_t *dst = r->pixels + (uint64_t)(y + j) * stride + (uint64_t)x * BPP;
    while (left > 0) {
      while (k < n && m->spans[k].hi <= src) k++;
      if (k >= n || m->spans[k].lo > src) return VIRTIO_GPU_RESP_ERR_UNSPEC; /* cannot happen */
      uint64_t c = m->spans[k].hi - src < left ? m->spans[k].hi - src : left;
      memcpy(dst, m->spans[k].ptr + (src - m->spans[k].lo), (size_t)c);
      dst += c;
      src += c;
      left -= c;
    }
  }
  m->core.bytes_moved += (uint64_t)h * row;
  return VIRTIO_GPU_RESP_OK_NODATA;
}

/* The nr_entries struct virtio_gpu_mem_entry that follow a request of
 * `fixed` bytes (ATTACH_BACKING, CREATE_BLOB), checked and copied into
 * `into` (a resource's pool slice); *total gets the sum of their lengths.
 * Returns 0 (OK) or the error response. */
static uint32_t read_entries(vsim_gpu *m, vsim_arena *a, const vsim_chain *c, uint32_t fixed, uint32_t nr,
                             gpu_entry *into, uint64_t *total) {
  const uint64_t esz = sizeof(struct virtio_gpu_mem_entry);
  if (nr == 0 || nr > m->max_entries) return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  if (c->rd_bytes - fixed < nr * esz) /* rd_bytes >= body >= fixed here */
    return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  /* one read of the whole list: the decisions below and the transfers later
   * use this copy, never the guest's, which the driver may rewrite */
  if (vsim_chain_read(c, a, fixed, m->entry_buf, nr * esz)) return VIRTIO_GPU_RESP_ERR_UNSPEC;
  *total = 0;
  for (uint32_t i = 0; i < nr; i++) {
    const uint8_t *e = m->entry_buf + i * esz;
    uint64_t addr = vsim_le_ld64(e + offsetof(struct virtio_gpu_mem_entry, addr));
    uint32_t len = vsim_le_ld32(e + offsetof(struct virtio_gpu_mem_entry, length));
    /* guest memory the device may read, not wrapping (checked, not accessed) */
    if (!vsim_arena_check(a, VSIM_SIDE_DEVICE, addr, len, VSIM_ACC_READ))
      return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    into[i] = (gpu_entry){addr, len};
    *total += len; /* <= 1024 x 2^32: no overflow */
  }
  m->core.bytes_copied += nr * esz;
  return 0;
}

static uint32_t cmd_attach(vsim_gpu *m, vsim_arena *a, const vsim_chain *c, uint32_t body) {
  typedef struct virtio_gpu_resource_attach_backing T;
  if (body < sizeof(T)) return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  gpu_res *r = res_find(m, ld32(m, offsetof(T, resource_id)));
  if (!r) return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
  if (r->has_backing) return VIRTIO_GPU_RESP_ERR_UNSPEC;
  uint32_t nr = ld32(m, offsetof(T, nr_entries));
  uint64_t total = 0;
  uint32_t e = read_entries(m, a, c, (uint32_t)sizeof(T), nr, r->backing, &total);
  if (e) return e;
  r->nbacking = nr;
  r->backing_len = total;
  r->has_backing = true;
  return VIRTIO_GPU_RESP_OK_NODATA;
}

/* RESOURCE_CREATE_BLOB, guest memory only (HOST3D needs VIRGL, never
 * offered): a resource of no pixels (width and height 0, so every 2D
 * command naming a rectangle of it is refused) whose backing is the entry
 * list, which must cover `size`. With BLOB_ALIGNMENT negotiated a size that
 * is not a multiple of blob_alignment is refused (the driver's MUST). */
static uint32_t cmd_create_blob(vsim_gpu *m, vsim_arena *a, const vsim_chain *c, uint32_t body) {
  typedef struct virtio_gpu_resource_create_blob T;
  if (!vsim_devcore_has(&m->core, VIRTIO_GPU_F_RESOURCE_BLOB)) return VIRTIO_GPU_RESP_ERR_UNSPEC;
  if (body < sizeof(T)) return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  uint32_t id = ld32(m, offsetof(T, resource_id));
  if (id == 0 || res_find(m, id)) return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
  uint64_t size = vsim_le_ld64(m->req + offsetof(T, size));
  /* blob_alignment is 0 when a scenario's offered_features offers the bit
   * without the option: no alignment to keep then (and no division by 0) */
  bool aligned = !vsim_devcore_has(&m->core, VIRTIO_GPU_F_BLOB_ALIGNMENT) || !m->blob_alignment ||
                 size % m->blob_alignment == 0;
  if (ld32(m, offsetof(T, blob_mem)) != VIRTIO_GPU_BLOB_MEM_GUEST || size == 0 || !aligned)
    return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  gpu_res *r = NULL;
  for (uint32_t i = 0; i < m->max_resources && !r; i++)
    if (m->res[i].id == 0) r = &m->res[i];
  if (!r) return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
  uint64_t total = 0;
  uint32_t e = read_entries(m, a, c, (uint32_t)sizeof(T), ld32(m, offsetof(T, nr_entries)), r->backing, &total);
  if (e) return e;
  if (total < size) return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  gpu_entry *pool = r->backing;
  *r = (gpu_res){.id = id, .backing = pool, .nbacking = ld32(m, offsetof(T, nr_entries)), .has_backing = true,
                 .backing_len = total};
  return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_detach(vsim_gpu *m, uint32_t body) {
  if (body < sizeof(struct virtio_gpu_resource_detach_backing))
    return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  gpu_res *r = res_find(m, ld32(m, offsetof(struct virtio_gpu_resource_detach_backing, resource_id)));
  if (!r) return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
  if (!r->has_backing) return VIRTIO_GPU_RESP_ERR_UNSPEC;
  r->has_backing = false;
  r->nbacking = 0;
  r->backing_len = 0;
  return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_assign_uuid(vsim_gpu *m, uint32_t body, uint32_t *resp_len) {
  typedef struct virtio_gpu_resource_assign_uuid T;
  if (!vsim_devcore_has(&m->core, VIRTIO_GPU_F_RESOURCE_UUID)) return VIRTIO_GPU_RESP_ERR_UNSPEC;
  if (body < sizeof(T)) return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  gpu_res *r = res_find(m, ld32(m, offsetof(T, resource_id)));
  if (!r) return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
  *resp_len = (uint32_t)sizeof(struct virtio_gpu_resp_resource_uuid);
  uint8_t *u = m->resp + offsetof(struct virtio_gpu_resp_resource_uuid, uuid);
  /* deterministic: "vsim", the resource id, RFC 4122 version 4 / variant bits */
  memset(u, 0, 16);
  memcpy(u, "vsim", 4);
  vsim_le_st32(u + 4, r->id);
  u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
  u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
  return VIRTIO_GPU_RESP_OK_RESOURCE_UUID;
}

static uint32_t cmd_update_cursor(vsim_gpu *m, uint32_t type, uint32_t body) {
  typedef struct virtio_gpu_update_cursor T;
  if (body < sizeof(T)) return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  uint32_t sid = ld32(m, offsetof(T, pos.scanout_id));
  if (sid >= m->num_scanouts) return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
  if (type == VIRTIO_GPU_CMD_UPDATE_CURSOR) {
    uint32_t id = ld32(m, offsetof(T, resource_id));
    if (id != 0) { /* 0 hides the cursor */
      gpu_res *r = res_find(m, id);
      if (!r) return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
      if (r->width != CURSOR_DIM || r->height != CURSOR_DIM) return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    m->cursor.res_id = id;
    m->cursor.hot_x = ld32(m, offsetof(T, hot_x));
    m->cursor.hot_y = ld32(m, offsetof(T, hot_y));
    m->cursor.updates++;
  } else {
    m->cursor.moves++;
  }
  m->cursor.scanout = sid;
  m->cursor.x = ld32(m, offsetof(T, pos.x));
  m->cursor.y = ld32(m, offsetof(T, pos.y));
  return VIRTIO_GPU_RESP_OK_NODATA;
}

/* One controlq command from m->req (body bytes of it valid). */
static uint32_t exec_ctrl(vsim_gpu *m, vsim_arena *a, const vsim_chain *c, uint32_t type, uint32_t body,
                          uint32_t *resp_len) {
  switch (type) {
  case VIRTIO_GPU_CMD_GET_DISPLAY_INFO: return cmd_display_info(m, resp_len);
  case VIRTIO_GPU_CMD_GET_EDID: return cmd_get_edid(m, body, resp_len);
  case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D: return cmd_create_2d(m, body);
  case VIRTIO_GPU_CMD_RESOURCE_UNREF: return cmd_unref(m, body);
  case VIRTIO_GPU_CMD_SET_SCANOUT: return cmd_set_scanout(m, body);
  case VIRTIO_GPU_CMD_RESOURCE_FLUSH: return cmd_flush(m, body);
  case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D: return cmd_transfer(m, a, body);
  case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING: return c ? cmd_attach(m, a, c, body) : VIRTIO_GPU_RESP_ERR_UNSPEC;
  case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING: return cmd_detach(m, body);
  case VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID: return cmd_assign_uuid(m, body, resp_len);
  case VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB: return c ? cmd_create_blob(m, a, c, body) : VIRTIO_GPU_RESP_ERR_UNSPEC;
  case VIRTIO_GPU_CMD_GET_CAPSET_INFO:
  case VIRTIO_GPU_CMD_GET_CAPSET:
    /* num_capsets is 0: no capset_index is below it */
    return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
  default:
    /* 3D and context commands (VIRGL never offered); SET_SCANOUT_BLOB,
     * MAP_BLOB and UNMAP_BLOB (no host visible memory region, no blob
     * scanout in this model, even with blobs offered); cursor commands on
     * the controlq, anything unknown */
    if (type >= VIRTIO_GPU_CMD_CTX_CREATE && type <= VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB &&
        mut(m, VSIM_MUT_DEV_GPU_3D_ACCEPTED))
      return VIRTIO_GPU_RESP_OK_NODATA;
    return VIRTIO_GPU_RESP_ERR_UNSPEC;
  }
}

/* Read the request (at most REQ_MAX bytes) into m->req; returns its length. */
static uint32_t read_req(vsim_gpu *m, vsim_arena *a, const vsim_chain *c) {
  uint32_t n = c->rd_bytes < REQ_MAX ? (uint32_t)c->rd_bytes : REQ_MAX;
  memset(m->req, 0, sizeof m->req);
  if (n && vsim_chain_read(c, a, 0, m->req, n)) return 0;
  m->core.bytes_copied += n;
  m->core.bytes_moved += n;
  return n;
}

int vsim_gpu_model_request(void *model, uint16_t q, const vsim_chain *c, uint32_t *used_len) {
  vsim_gpu *m = model;
  *used_len = 0;
  vsim_arena *a = m->core.host ? m->core.host->arena : NULL;
  if (!a || !c) return -1;
  if (c->rd_bytes > UINT32_MAX || c->wr_bytes > UINT32_MAX) return -1;
  uint32_t n = read_req(m, a, c);
  uint32_t wr = (uint32_t)c->wr_bytes;
  bool cursorq = q == 1;
  /* no room for a response header: the controlq command cannot say what it
   * did, so it is not done; cursor commands need no response */
  if (!cursorq && wr < HDR_LEN) return 0;

  uint32_t type = n >= HDR_LEN ? ld32(m, offsetof(struct virtio_gpu_ctrl_hdr, type)) : 0;
  uint32_t flags = n >= HDR_LEN ? ld32(m, offsetof(struct virtio_gpu_ctrl_hdr, flags)) : 0;
  uint64_t fence = n >= HDR_LEN ? vsim_le_ld64(m->req + offsetof(struct virtio_gpu_ctrl_hdr, fence_id)) : 0;
  uint32_t ctx = n >= HDR_LEN ? ld32(m, offsetof(struct virtio_gpu_ctrl_hdr, ctx_id)) : 0;
  uint32_t body = n; /* bytes of the request we hold (header included) */
  uint32_t resp_len = HDR_LEN, rtype;
  bool defer = false;

  if (n < HDR_LEN) {
    rtype = VIRTIO_GPU_RESP_ERR_UNSPEC;
  } else if (cursorq) {
    rtype = type == VIRTIO_GPU_CMD_UPDATE_CURSOR || type == VIRTIO_GPU_CMD_MOVE_CURSOR
                ? cmd_update_cursor(m, type, body)
                : VIRTIO_GPU_RESP_ERR_UNSPEC;
  } else if (mut(m, VSIM_MUT_DEV_GPU_FENCE_EARLY) && (flags & VIRTIO_GPU_FLAG_FENCE) && !m->pending &&
             type == VIRTIO_GPU_CMD_RESOURCE_CREATE_2D) {
    /* the mutant answers first and processes later (after the next command) */
    memcpy(m->pending_req, m->req, sizeof m->pending_req);
    m->pending_len = n;
    defer = true;
    rtype = VIRTIO_GPU_RESP_OK_NODATA;
  } else {
    rtype = exec_ctrl(m, a, c, type, body, &resp_len);
  }
  if (rtype >= VIRTIO_GPU_RESP_ERR_UNSPEC) resp_len = HDR_LEN;
  if (resp_len > wr) { /* the command's answer does not fit */
    rtype = VIRTIO_GPU_RESP_ERR_UNSPEC;
    resp_len = HDR_LEN;
  }
  if (m->pending && !defer) { /* dev.gpu-fence-early: now the held command runs */
    uint32_t ignored = HDR_LEN;
    memcpy(m->req, m->pending_req, sizeof m->req);
    exec_ctrl(m, a, NULL, VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, m->pending_len, &ignored);
    m->pending = false;
  }
  if (defer) m->pending = true;
  if (cursorq && wr < HDR_LEN) return 0;

  uint8_t *h = m->resp;
  memset(h, 0, HDR_LEN);
  vsim_le_st32(h + offsetof(struct virtio_gpu_ctrl_hdr, type), rtype);
  if ((flags & VIRTIO_GPU_FLAG_FENCE) && !mut(m, VSIM_MUT_DEV_GPU_FENCE_NO_ECHO)) {
    vsim_le_st32(h + offsetof(struct virtio_gpu_ctrl_hdr, flags), VIRTIO_GPU_FLAG_FENCE);
    vsim_le_st64(h + offsetof(struct virtio_gpu_ctrl_hdr, fence_id), fence);
  }
  vsim_le_st32(h + offsetof(struct virtio_gpu_ctrl_hdr, ctx_id), ctx);
  if (vsim_chain_write(c, a, 0, m->resp, resp_len)) return -1;
  m->core.bytes_copied += resp_len;
  m->core.bytes_moved += resp_len;
  *used_len = resp_len;
  return 0;
}

int vsim_gpu_scanout_read(void *model, uint32_t scanout, uint8_t *dst, size_t cap, uint32_t *w,
                          uint32_t *h, uint32_t *format) {
  vsim_gpu *m = model;
  if (!m || scanout >= m->num_scanouts) return -1;
  const gpu_scanout *s = &m->scanout[scanout];
  gpu_res *r = res_find(m, s->res_id);
  if (!r) return -1;
  *w = s->w;
  *h = s->h;
  *format = r->format;
  uint64_t row = (uint64_t)s->w * BPP, stride = (uint64_t)r->width * BPP;
  for (uint32_t j = 0; dst && j < s->h; j++) {
    uint64_t at = (uint64_t)j * row;
    if (at >= cap) break;
    uint64_t n = cap - at < row ? cap - at : row;
    memcpy(dst + at, r->pixels + (uint64_t)(s->y + j) * stride + (uint64_t)s->x * BPP, (size_t)n);
  }
  return 0;
}

/* ---- devmodel ops ---- */

static void config_store_events(vsim_gpu *m) {
  vsim_le_st32(m->core.config + offsetof(struct virtio_gpu_config, events_read), m->events_read);
}

static int gpu_config_write(void *model, uint32_t off, const void *src, uint32_t len) {
  vsim_gpu *m = model;
  const uint32_t ec = offsetof(struct virtio_gpu_config, events_clear);
  uint32_t before = m->events_read;
  /* only events_clear is writable (the driver MUST NOT write events_read);
   * a write of any width that touches it clears the bits it sets */
  for (uint32_t i = 0; i < len; i++) {
    uint32_t at = off + i;
    if (at < ec || at >= ec + 4) continue;
    uint32_t bits = (uint32_t)((const uint8_t *)src)[i] << (8 * (at - ec));
    if (!mut(m, VSIM_MUT_DEV_GPU_EVENTS_STICKY)) m->events_read &= ~bits;
  }
  /* a value the driver may have read changed: a new generation (no
   * config-change notification: the driver made the change itself) */
  if (m->events_read != before) m->core.generation++;
  config_store_events(m);
  return 0;
}

static bool gpu_features_ok(void *model, uint64_t features) { return true; }

static void gpu_reset(void *model) {
  vsim_gpu *m = model;
  for (uint32_t i = 0; i < m->max_resources; i++)
    if (m->res[i].id) res_free(m, &m->res[i]);
  memset(m->scanout, 0, sizeof m->scanout);
  memset(&m->cursor, 0, sizeof m->cursor);
  m->pending = false;
  m->events_read = m->initial_events; /* a new driver is told of the display anew */
  config_store_events(m);
}

static void gpu_destroy(void *model) {
  vsim_gpu *m = model;
  if (!m) return;
  vsim_devcore_fini(&m->core);
  if (m->res)
    for (uint32_t i = 0; i < m->max_resources; i++) free(m->res[i].pixels);
  free(m->res);
  free(m->pool);
  free(m->entry_buf);
  free(m->spans);
  free(m);
}

static const vsim_devmodel_ops gpu_model_ops = {
    .features_ok = gpu_features_ok,
    .activate = NULL,
    .reset = gpu_reset,
    .config_write = gpu_config_write,
    .request = vsim_gpu_model_request,
    .destroy = gpu_destroy,
};

int vsim_gpu_create(const vsim_backend_params *params, vsim_backend *out, char *err, unsigned errlen) {
  if (!params || !out) return vsim_devcfg_fail(err, errlen, "gpu: no parameters");
  gpu_opts o;
  if (parse_opts(params, &o, err, errlen)) return -1;
  if (params->num_queues && params->num_queues != 2)
    return vsim_devcfg_fail(err, errlen, "gpu: a gpu device has two queues (controlq, cursorq), not %u",
                (unsigned)params->num_queues);
  vsim_gpu *m = calloc(1, sizeof *m);
  if (!m) return vsim_devcfg_fail(err, errlen, "gpu: out of memory");
  m->num_scanouts = (uint32_t)o.num_scanouts;
  m->disp_w = (uint32_t)o.width;
  m->disp_h = (uint32_t)o.height;
  m->max_bytes = o.max_bytes;
  m->max_resources = (uint32_t)o.max_resources;
  m->max_entries = (uint32_t)o.max_entries;
  m->initial_events = o.display_event ? VIRTIO_GPU_EVENT_DISPLAY : 0;
  m->res = calloc(m->max_resources, sizeof *m->res);
  m->pool = calloc((size_t)m->max_resources * m->max_entries, sizeof *m->pool);
  m->entry_buf = calloc(m->max_entries, sizeof(struct virtio_gpu_mem_entry));
  m->spans = calloc(m->max_entries, sizeof *m->spans);
  if (!m->res || !m->pool || !m->entry_buf || !m->spans) {
    gpu_destroy(m);
    return vsim_devcfg_fail(err, errlen, "gpu: out of memory");
  }
  for (uint32_t i = 0; i < m->max_resources; i++) m->res[i].backing = m->pool + (size_t)i * m->max_entries;

  uint64_t offered = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_RING_PACKED) | BIT(VIRTIO_F_NOTIFICATION_DATA) |
                     BIT(VIRTIO_F_RING_RESET) | BIT(VIRTIO_F_IN_ORDER) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |
                     BIT(VIRTIO_RING_F_EVENT_IDX);
  if (o.edid) offered |= BIT(VIRTIO_GPU_F_EDID);
  if (o.uuid) offered |= BIT(VIRTIO_GPU_F_RESOURCE_UUID);
  if (o.blob_alignment) offered |= BIT(VIRTIO_GPU_F_RESOURCE_BLOB) | BIT(VIRTIO_GPU_F_BLOB_ALIGNMENT);
  m->blob_alignment = (uint32_t)o.blob_alignment;
  vsim_backend_params p = *params;
  p.num_queues = 2;
  if (vsim_devcore_init(&m->core, &p, VIRTIO_ID_GPU, offered, /* with BLOB_ALIGNMENT: and blob_alignment after it */
                        o.blob_alignment ? VSIM_GPU_CFG_BLOB_ALIGNMENT + 4 : (uint32_t)sizeof(struct virtio_gpu_config),
                        &gpu_model_ops, m, err, errlen)) {
    m->core.config = NULL; /* init failed: nothing of the core to free */
    free(m->res);
    free(m->pool);
    free(m->entry_buf);
    free(m->spans);
    free(m);
    return -1;
  }
  uint8_t *cfg = m->core.config;
  m->events_read = m->initial_events;
  config_store_events(m);
  vsim_le_st32(cfg + offsetof(struct virtio_gpu_config, num_scanouts), m->num_scanouts);
  vsim_le_st32(cfg + offsetof(struct virtio_gpu_config, num_capsets), 0);
  if (o.blob_alignment) vsim_le_st32(cfg + VSIM_GPU_CFG_BLOB_ALIGNMENT, m->blob_alignment);
  out->ops = &vsim_devcore_ops;
  out->be = &m->core;
  return 0;
}
