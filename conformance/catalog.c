/* conformance/catalog.c — the check catalog as data.
 *
 * Owns: the tables built from check_list.h and mutants.h, and lookups by enum
 * and by name.
 * Must never: hold mutable state.
 */
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include "virtio_compat.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"

#define SEV_MUST VSIM_SEV_MUST
#define SEV_SHOULD VSIM_SEV_SHOULD
#define JUDGED_DRIVER VSIM_JUDGED_DRIVER
#define JUDGED_DEVICE VSIM_JUDGED_DEVICE
#define OBS_SNAPSHOT VSIM_OBS_SNAPSHOT
#define OBS_ACCESS VSIM_OBS_ACCESS

static const vsim_check_info catalog[VSIM_CHK__COUNT] = {
#define VSIM_X_INFO(e, id, label, sev, side, obs, what) \
  {id, label, SEV_##sev, JUDGED_##side, OBS_##obs, what},
    VSIM_CHECK_LIST(VSIM_X_INFO)
#undef VSIM_X_INFO
};

const vsim_check_info *vsim_check_info_get(int check) {
  if (check < 0 || check >= VSIM_CHK__COUNT) return NULL;
  return &catalog[check];
}

int vsim_check_lookup(const char *id) {
  for (int i = 0; i < VSIM_CHK__COUNT; i++)
    if (strcmp(catalog[i].id, id) == 0) return i;
  return -1;
}

int vsim_check_count(void) { return VSIM_CHK__COUNT; }

int vsim_check_on_packed(int check) {
  switch (check) {
    case VSIM_CHK_SPLIT_ALIGN: return VSIM_CHK_PACKED_ALIGN;
    case VSIM_CHK_SPLIT_HEAD_INFLIGHT: return VSIM_CHK_PACKED_ID_INFLIGHT;
    case VSIM_CHK_SPLIT_HEAD_RANGE: return VSIM_CHK_PACKED_ID_RANGE;
    case VSIM_CHK_SPLIT_CHAIN_LOOP: return VSIM_CHK_PACKED_LIST_LONG;
    case VSIM_CHK_SPLIT_CHAIN_BYTES: return VSIM_CHK_PACKED_LIST_LONG;
    case VSIM_CHK_SPLIT_DESC_ADDR: return VSIM_CHK_PACKED_DESC_ADDR;
    case VSIM_CHK_SPLIT_RD_AFTER_WR: return VSIM_CHK_PACKED_RD_AFTER_WR;
    case VSIM_CHK_INDIR_NOT_NEG: return VSIM_CHK_PACKED_INDIR_NOT_NEG;
    case VSIM_CHK_INDIR_WITH_NEXT: return VSIM_CHK_PACKED_INDIR_FLAGS;
    case VSIM_CHK_INDIR_NESTED: return VSIM_CHK_PACKED_INDIR_FLAGS;
    case VSIM_CHK_INDIR_LEN: return VSIM_CHK_PACKED_INDIR_LEN;
    case VSIM_CHK_SPLIT_WRITE_OVERLAP: return VSIM_CHK_PACKED_WRITE_OVERLAP;
    case VSIM_CHK_USED_ID_RANGE: return VSIM_CHK_PACKED_USED_ID;
    case VSIM_CHK_USED_ID_NOT_HEAD: return VSIM_CHK_PACKED_USED_ID;
    case VSIM_CHK_USED_LEN_OVER: return VSIM_CHK_PACKED_USED_LEN;
    case VSIM_CHK_NOTIFY_DRV_MISSED: return VSIM_CHK_PACKED_KICK_MISSED;
    case VSIM_CHK_SPLIT_USED_ORDER: return VSIM_CHK_PACKED_USED_ORDER;
    /* split-only ring fields: no packed counterpart */
    case VSIM_CHK_SPLIT_AVAIL_IDX:
    case VSIM_CHK_SPLIT_NEXT_RANGE:
    case VSIM_CHK_SPLIT_INORDER_NEXT:
    case VSIM_CHK_INDIR_INORDER_NEXT:
    case VSIM_CHK_USED_IDX_JUMP:
    case VSIM_CHK_NOTIFY_DRV_SPURIOUS:
    case VSIM_CHK_NOTIFY_DRV_FLAGS:
    case VSIM_CHK_NOTIFY_DRV_USED_INIT:
    case VSIM_CHK_NOTIFY_DEV_FLAGS:
      return -1;
    default:
      return check;
  }
}

static const struct {
  const char *name;
  int check;
  const char *what;
} mutants[VSIM_MUT__COUNT] = {
#define VSIM_X_MUT_INFO(e, name, check, what) {name, VSIM_CHK_##check, what},
    VSIM_MUTANT_LIST(VSIM_X_MUT_INFO)
#undef VSIM_X_MUT_INFO
};

int vsim_mutant_lookup(const char *name) {
  for (int i = 0; i < VSIM_MUT__COUNT; i++)
    if (strcmp(mutants[i].name, name) == 0) return i;
  return -1;
}

const char *vsim_mutant_name(int m) { return m >= 0 && m < VSIM_MUT__COUNT ? mutants[m].name : NULL; }
int vsim_mutant_check(int m) { return m >= 0 && m < VSIM_MUT__COUNT ? mutants[m].check : -1; }
const char *vsim_mutant_what(int m) { return m >= 0 && m < VSIM_MUT__COUNT ? mutants[m].what : NULL; }

int vsim_check_mutant(int check) {
  for (int m = 0; m < VSIM_MUT__COUNT; m++)
    if (mutants[m].check == check) return m;
  /* a packed-ring check is proven by the mutant of its split twin, which
   * breaks the same rule on whichever ring is negotiated */
  for (int m = 0; m < VSIM_MUT__COUNT; m++)
    if (mutants[m].check != check && vsim_check_on_packed(mutants[m].check) == check) return m;
  return -1;
}

void vsim_check_scope_get(int check, vsim_check_scope *out) {
  memset(out, 0, sizeof *out);
  out->ring = -1;
  const vsim_check_info *ci = vsim_check_info_get(check);
  if (!ci) return;
  /* the id's area says most of it */
  if (strncmp(ci->id, "split.", 6) == 0) out->ring = 0;
  if (strncmp(ci->id, "packed.", 7) == 0) {
    out->ring = 1;
    out->features |= UINT64_C(1) << VIRTIO_F_RING_PACKED;
  }
  if (strncmp(ci->id, "blk.", 4) == 0) out->device = "blk";
  if (strncmp(ci->id, "net.", 4) == 0) out->device = "net";
  if (strncmp(ci->id, "gpu.", 4) == 0) out->device = "gpu";
  if (strncmp(ci->id, "mmio.", 5) == 0) out->transport = "mmio";
  if (strncmp(ci->id, "pci.", 4) == 0) out->transport = "pci";
  if (strncmp(ci->id, "indirect.", 9) == 0 && check != VSIM_CHK_INDIR_NOT_NEG)
    out->features |= UINT64_C(1) << VIRTIO_RING_F_INDIRECT_DESC;
  /* and the rules that need a feature of their own */
  switch (check) {
    case VSIM_CHK_SPLIT_INORDER_NEXT:
    case VSIM_CHK_INDIR_INORDER_NEXT:
    case VSIM_CHK_SPLIT_USED_ORDER: out->features |= UINT64_C(1) << VIRTIO_F_IN_ORDER; break;
    case VSIM_CHK_NOTIFY_DATA: out->features |= UINT64_C(1) << VIRTIO_F_NOTIFICATION_DATA; break;
    case VSIM_CHK_RESET_DEV_QUEUE:
    case VSIM_CHK_RESET_DRV_VERIFY:
    case VSIM_CHK_MMIO_DEV_QRESET:
    case VSIM_CHK_PCI_DEV_QRESET:
    case VSIM_CHK_RESET_DRV_REENABLE: out->features |= UINT64_C(1) << VIRTIO_F_RING_RESET; break;
    case VSIM_CHK_NOTIFY_DRV_FLAGS:
    case VSIM_CHK_NOTIFY_DEV_FLAGS: out->features |= UINT64_C(1) << VIRTIO_RING_F_EVENT_IDX; break;
    case VSIM_CHK_PACKED_INDIR_FLAGS:
    case VSIM_CHK_PACKED_INDIR_LEN: out->features |= UINT64_C(1) << VIRTIO_RING_F_INDIRECT_DESC; break;
    /* generic rules judged through the blk driver model's requests and probe */
    case VSIM_CHK_RING_DEV_FRAMING:
    case VSIM_CHK_CONFIG_DEV_BEFORE_FEATURES_OK: out->device = "blk"; break;
    case VSIM_CHK_INDIR_DEV_SHAPE:
      out->device = "blk";
      out->ring = 0; /* the descriptor-table rule of the split ring */
      break;
    default: break;
  }
}
