/* frontend-model/gpu_drv.c — the virtio-gpu driver model (see gpu_drv.h). */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_gpu.h>
#include "gpu_drv.h"
#include "le.h"
#include "virtio_compat.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"

#define HDR_LEN ((uint32_t)sizeof(struct virtio_gpu_ctrl_hdr))
#define BIT(b) (UINT64_C(1) << (b))

uint64_t vsim_gpu_drv_understood(void) {
  return vsim_driver_core_features() | BIT(VIRTIO_GPU_F_EDID) | BIT(VIRTIO_GPU_F_RESOURCE_UUID) |
         BIT(VIRTIO_GPU_F_RESOURCE_BLOB) | BIT(VIRTIO_GPU_F_BLOB_ALIGNMENT);
}

void vsim_gpu_drv_init(vsim_gpu_drv *g, vsim_driver *drv, const vsim_host *sink) {
  memset(g, 0, sizeof *g);
  g->drv = drv;
  g->sink = sink;
}

static void violation(vsim_gpu_drv *g, int check, int q, const char *msg) {
  g->sink->violation(g->sink->ctx, check, q, msg);
}

void vsim_gpu_drv_probe(vsim_gpu_drv *g) {
  vsim_driver *d = g->drv;
  g->nfenced = 0; /* a new device instance: nothing it created survives a reset */
  char msg[256];
  /* "VIRTIO_GPU_F_BLOB_ALIGNMENT: configuration field blob_alignment is valid" */
  g->blob_alignment = (d->features & BIT(VIRTIO_GPU_F_BLOB_ALIGNMENT))
                          ? (uint32_t)vsim_driver_config_read(d, VSIM_GPU_CFG_BLOB_ALIGNMENT, 4)
                          : 0;
  g->num_scanouts = (uint32_t)vsim_driver_config_read(d, offsetof(struct virtio_gpu_config, num_scanouts), 4);
  if (g->num_scanouts < 1 || g->num_scanouts > VIRTIO_GPU_MAX_SCANOUTS) {
    snprintf(msg, sizeof msg, "gpu config: num_scanouts is %" PRIu32 ", outside 1..16", g->num_scanouts);
    violation(g, VSIM_CHK_GPU_DEV_DISPLAY_INFO, -1, msg);
  }
  /* As Linux does on a config change: a pending DISPLAY event is taken in,
   * then acknowledged by writing its bit to events_clear (write-to-clear). */
  uint32_t ev = (uint32_t)vsim_driver_config_read(d, offsetof(struct virtio_gpu_config, events_read), 4);
  if (!ev) return;
  uint8_t le[4];
  vsim_le_st32(le, ev);
  d->tr.ops->config_write(d->tr.t, offsetof(struct virtio_gpu_config, events_clear), le, sizeof le);
  uint32_t after = (uint32_t)vsim_driver_config_read(d, offsetof(struct virtio_gpu_config, events_read), 4);
  if (after & ev) {
    snprintf(msg, sizeof msg,
             "gpu config: events_read reads 0x%" PRIx32 " after the driver wrote 0x%" PRIx32
             " to events_clear: the bits were not cleared",
             after, ev);
    violation(g, VSIM_CHK_GPU_DEV_EVENTS_CLEAR, -1, msg);
  }
}

/* The OK response type a command is answered with, 0 when it has none the
 * negotiated features allow (only an error may answer it then). */
static uint32_t expected_ok(const vsim_gpu_drv *g, uint16_t q, uint32_t type) {
  uint64_t f = g->drv->features;
  if (q == 1)
    return type == VIRTIO_GPU_CMD_UPDATE_CURSOR || type == VIRTIO_GPU_CMD_MOVE_CURSOR
               ? VIRTIO_GPU_RESP_OK_NODATA
               : 0;
  switch (type) {
  case VIRTIO_GPU_CMD_GET_DISPLAY_INFO: return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
  case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
  case VIRTIO_GPU_CMD_RESOURCE_UNREF:
  case VIRTIO_GPU_CMD_SET_SCANOUT:
  case VIRTIO_GPU_CMD_RESOURCE_FLUSH:
  case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
  case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
  case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING: return VIRTIO_GPU_RESP_OK_NODATA;
  case VIRTIO_GPU_CMD_GET_CAPSET_INFO: return VIRTIO_GPU_RESP_OK_CAPSET_INFO;
  case VIRTIO_GPU_CMD_GET_CAPSET: return VIRTIO_GPU_RESP_OK_CAPSET;
  case VIRTIO_GPU_CMD_GET_EDID: return f & BIT(VIRTIO_GPU_F_EDID) ? VIRTIO_GPU_RESP_OK_EDID : 0;
  case VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID:
    return f & BIT(VIRTIO_GPU_F_RESOURCE_UUID) ? VIRTIO_GPU_RESP_OK_RESOURCE_UUID : 0;
  case VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB:
  case VIRTIO_GPU_CMD_SET_SCANOUT_BLOB:
    return f & BIT(VIRTIO_GPU_F_RESOURCE_BLOB) ? VIRTIO_GPU_RESP_OK_NODATA : 0;
  case VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB:
    return f & BIT(VIRTIO_GPU_F_RESOURCE_BLOB) ? VIRTIO_GPU_RESP_OK_MAP_INFO : 0;
  case VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB:
    return f & BIT(VIRTIO_GPU_F_RESOURCE_BLOB) ? VIRTIO_GPU_RESP_OK_NODATA : 0;
  default:
    if (type >= VIRTIO_GPU_CMD_CTX_CREATE && type <= VIRTIO_GPU_CMD_SUBMIT_3D)
      return f & BIT(VIRTIO_GPU_F_VIRGL) ? VIRTIO_GPU_RESP_OK_NODATA : 0;
    return 0;
  }
}

/* The driver's rules on a controlq command about to go: with BLOB_ALIGNMENT
 * negotiated, CREATE_BLOB's size and MAP_BLOB's offset are multiples of
 * blob_alignment. The mutants change the field first (a driver counting in
 * 4 KiB pages), so what is judged is what the device gets. */
void vsim_gpu_drv_submit(void *ctx, uint16_t q, uint8_t *out, uint32_t *out_len, uint32_t *in_len) {
  vsim_gpu_drv *g = ctx;
  (void)in_len;
  if (q != 0 || *out_len < HDR_LEN) return;
  const vsim_mutset *mu = &g->drv->cfg.mutants;
  uint32_t type = vsim_le_ld32(out + offsetof(struct virtio_gpu_ctrl_hdr, type));
  uint32_t at, check;
  const char *what;
  bool mutate;
  if (type == VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB) {
    at = offsetof(struct virtio_gpu_resource_create_blob, size);
    check = VSIM_CHK_GPU_DRV_BLOB_SIZE;
    what = "RESOURCE_CREATE_BLOB size";
    mutate = vsim_mut_has(mu, VSIM_MUT_DRV_GPU_BLOB_SIZE_PAGES);
  } else if (type == VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB) {
    at = offsetof(struct virtio_gpu_resource_map_blob, offset);
    check = VSIM_CHK_GPU_DRV_MAP_OFFSET;
    what = "RESOURCE_MAP_BLOB offset";
    mutate = vsim_mut_has(mu, VSIM_MUT_DRV_GPU_MAP_OFFSET_PAGES);
  } else {
    return;
  }
  /* a command too short for the field is the device's to refuse */
  if (!g->blob_alignment || *out_len < at + 8) return;
  uint64_t v = vsim_le_ld64(out + at);
  if (mutate) {
    v += 4096;
    vsim_le_st64(out + at, v);
  }
  if (v % g->blob_alignment) {
    char msg[200];
    snprintf(msg, sizeof msg, "%s %" PRIu64 " is not a multiple of blob_alignment %" PRIu32 " (BLOB_ALIGNMENT negotiated)",
             what, v, g->blob_alignment);
    violation(g, (int)check, q, msg);
  }
}

static bool is_error(uint32_t t) {
  return t >= VIRTIO_GPU_RESP_ERR_UNSPEC && t <= VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
}

/* Where a command names its resource (0: it names none we track). The
 * offsets are those of <linux/virtio_gpu.h>'s request structures. */
static uint32_t resource_field(uint32_t type) {
  switch (type) {
  case VIRTIO_GPU_CMD_RESOURCE_UNREF: return offsetof(struct virtio_gpu_resource_unref, resource_id);
  case VIRTIO_GPU_CMD_SET_SCANOUT: return offsetof(struct virtio_gpu_set_scanout, resource_id);
  case VIRTIO_GPU_CMD_RESOURCE_FLUSH: return offsetof(struct virtio_gpu_resource_flush, resource_id);
  case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D: return offsetof(struct virtio_gpu_transfer_to_host_2d, resource_id);
  case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
    return offsetof(struct virtio_gpu_resource_attach_backing, resource_id);
  case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
    return offsetof(struct virtio_gpu_resource_detach_backing, resource_id);
  default: return 0;
  }
}

static int fenced_find(const vsim_gpu_drv *g, uint32_t id) {
  for (uint32_t i = 0; i < g->nfenced; i++)
    if (g->fenced[i] == id) return (int)i;
  return -1;
}

static void fenced_forget(vsim_gpu_drv *g, uint32_t id) {
  int i = fenced_find(g, id);
  if (i >= 0) g->fenced[i] = g->fenced[--g->nfenced];
}

static void judge_display_info(vsim_gpu_drv *g, const uint8_t *in, uint32_t used) {
  if (used < sizeof(struct virtio_gpu_resp_display_info)) {
    char msg[160];
    snprintf(msg, sizeof msg, "GET_DISPLAY_INFO answered OK_DISPLAY_INFO in %" PRIu32 " bytes, not %zu", used,
             sizeof(struct virtio_gpu_resp_display_info));
    violation(g, VSIM_CHK_GPU_DEV_DISPLAY_INFO, 0, msg);
    return;
  }
  const size_t one = sizeof(struct virtio_gpu_display_one);
  const uint8_t *p = in + offsetof(struct virtio_gpu_resp_display_info, pmodes);
  for (uint32_t i = 0; i < VIRTIO_GPU_MAX_SCANOUTS; i++) {
    const uint8_t *d = p + i * one;
    if (!vsim_le_ld32(d + offsetof(struct virtio_gpu_display_one, enabled))) continue;
    uint32_t w = vsim_le_ld32(d + offsetof(struct virtio_gpu_display_one, r.width));
    uint32_t h = vsim_le_ld32(d + offsetof(struct virtio_gpu_display_one, r.height));
    if (i < g->num_scanouts && w && h) continue;
    char msg[200];
    snprintf(msg, sizeof msg,
             "GET_DISPLAY_INFO: display %" PRIu32 " is enabled with size %" PRIu32 "x%" PRIu32
             ", but the device has %" PRIu32 " scanout(s): the driver cannot set it up",
             i, w, h, g->num_scanouts);
    violation(g, VSIM_CHK_GPU_DEV_DISPLAY_INFO, 0, msg);
    return;
  }
}

void vsim_gpu_drv_on_complete(void *ctx, uint16_t q, const uint8_t *out, uint32_t out_len, const uint8_t *in,
                              uint32_t in_len, uint32_t used) {
  vsim_gpu_drv *g = ctx;
  char msg[256];
  bool whole = out_len >= HDR_LEN;
  uint32_t type = whole ? vsim_le_ld32(out + offsetof(struct virtio_gpu_ctrl_hdr, type)) : 0;
  uint32_t flags = whole ? vsim_le_ld32(out + offsetof(struct virtio_gpu_ctrl_hdr, flags)) : 0;
  uint64_t fence = whole ? vsim_le_ld64(out + offsetof(struct virtio_gpu_ctrl_hdr, fence_id)) : 0;
  uint32_t ctx_id = whole ? vsim_le_ld32(out + offsetof(struct virtio_gpu_ctrl_hdr, ctx_id)) : 0;
  if (used < HDR_LEN) {
    /* a controlq command given room for a header is answered with one */
    if (q == 0 && in_len >= HDR_LEN) {
      snprintf(msg, sizeof msg, "command 0x%" PRIx32 " used with %" PRIu32 " bytes: no response header", type,
               used);
      violation(g, VSIM_CHK_GPU_DEV_RESPONSE_TYPE, q, msg);
    }
    return;
  }
  uint32_t rtype = vsim_le_ld32(in + offsetof(struct virtio_gpu_ctrl_hdr, type));
  uint32_t rflags = vsim_le_ld32(in + offsetof(struct virtio_gpu_ctrl_hdr, flags));
  uint64_t rfence = vsim_le_ld64(in + offsetof(struct virtio_gpu_ctrl_hdr, fence_id));
  uint32_t rctx = vsim_le_ld32(in + offsetof(struct virtio_gpu_ctrl_hdr, ctx_id));

  uint32_t ok = whole ? expected_ok(g, q, type) : 0;
  if (!is_error(rtype) && rtype != ok) {
    if (ok)
      snprintf(msg, sizeof msg, "command 0x%" PRIx32 " answered with type 0x%" PRIx32 ", not 0x%" PRIx32
               " or an error", type, rtype, ok);
    else
      snprintf(msg, sizeof msg, "command 0x%" PRIx32 "%s answered with type 0x%" PRIx32
               ": only an error (VIRTIO_GPU_RESP_ERR_*) may answer it", type,
               whole ? " (unknown, or of a feature not negotiated)" : " (shorter than its header)", rtype);
    violation(g, VSIM_CHK_GPU_DEV_RESPONSE_TYPE, q, msg);
  }
  if (flags & VIRTIO_GPU_FLAG_FENCE) {
    if (!(rflags & VIRTIO_GPU_FLAG_FENCE) || rfence != fence) { /* ctx_id: 3D only (not offered here) */
      snprintf(msg, sizeof msg,
               "fenced command 0x%" PRIx32 " (fence_id %" PRIu64 ", ctx_id %" PRIu32 ") answered with flags 0x%" PRIx32
               ", fence_id %" PRIu64 ", ctx_id %" PRIu32,
               type, fence, ctx_id, rflags, rfence, rctx);
      violation(g, VSIM_CHK_GPU_DEV_FENCE_ECHO, q, msg);
    }
  }
  if (q != 0 || !whole) return;
  if (type == VIRTIO_GPU_CMD_GET_DISPLAY_INFO && rtype == VIRTIO_GPU_RESP_OK_DISPLAY_INFO)
    judge_display_info(g, in, used);
  /* fenced commands are complete when answered: what a fenced create made
   * exists for every later command, until the driver unreferences it */
  uint32_t rf = resource_field(type);
  uint32_t id = rf && out_len >= rf + 4 ? vsim_le_ld32(out + rf) : 0;
  if (type == VIRTIO_GPU_CMD_RESOURCE_CREATE_2D && (flags & VIRTIO_GPU_FLAG_FENCE) &&
      rtype == VIRTIO_GPU_RESP_OK_NODATA &&
      out_len >= offsetof(struct virtio_gpu_resource_create_2d, resource_id) + 4) {
    uint32_t nid = vsim_le_ld32(out + offsetof(struct virtio_gpu_resource_create_2d, resource_id));
    if (fenced_find(g, nid) < 0 && g->nfenced < VSIM_GPU_DRV_FENCED) g->fenced[g->nfenced++] = nid;
  } else if (id && rtype == VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID && fenced_find(g, id) >= 0) {
    snprintf(msg, sizeof msg,
             "command 0x%" PRIx32 " answered ERR_INVALID_RESOURCE_ID for resource %" PRIu32
             ", whose fenced RESOURCE_CREATE_2D was answered OK: the create was not processed before its response",
             type, id);
    violation(g, VSIM_CHK_GPU_DEV_FENCE_COMPLETE, q, msg);
    fenced_forget(g, id); /* once per resource */
  }
  if (type == VIRTIO_GPU_CMD_RESOURCE_UNREF && id) fenced_forget(g, id);
}
