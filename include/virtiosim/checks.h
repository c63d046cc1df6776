/* virtiosim/checks.h — the check catalog and the violations a run records.
 *
 * Owns: the enum of checks (from check_list.h), the catalog lookup, and the
 * shape of a recorded violation. Recording is done by the engine (sim/report).
 */
#ifndef VIRTIOSIM_CHECKS_H
#define VIRTIOSIM_CHECKS_H

#include <stdint.h>
#include "virtiosim/check_list.h"

#ifdef __cplusplus
extern "C" {
#endif

enum vsim_check_id {
#define VSIM_X_ENUM(e, id, label, sev, side, obs, what) VSIM_CHK_##e,
  VSIM_CHECK_LIST(VSIM_X_ENUM)
#undef VSIM_X_ENUM
  VSIM_CHK__COUNT
};

enum vsim_severity { VSIM_SEV_MUST = 0, VSIM_SEV_SHOULD = 1 };
enum vsim_judged { VSIM_JUDGED_DRIVER = 0, VSIM_JUDGED_DEVICE = 1 };
enum vsim_observes { VSIM_OBS_SNAPSHOT = 0, VSIM_OBS_ACCESS = 1 };

typedef struct vsim_check_info {
  const char *id;
  const char *label;
  enum vsim_severity severity;
  enum vsim_judged judged;
  enum vsim_observes observes;
  const char *what;
} vsim_check_info;

const vsim_check_info *vsim_check_info_get(int check); /* NULL when out of range */
int vsim_check_lookup(const char *id);                 /* -1 when unknown */
int vsim_check_count(void);
/* The check that enforces the same rule on a packed ring: itself for
 * ring-agnostic checks, its packed counterpart for a split-ring check, or -1
 * when the rule has no packed equivalent (split-only fields) or is not
 * observed on packed rings yet. Scenarios written against the split ring run
 * unchanged on the packed ring through this map. */
int vsim_check_on_packed(int check);

/* Where a check applies: the feature bits that must be negotiated for it to
 * be observable, the ring layout, the device type (NULL: any) and the
 * transport (NULL: any). Derived from the rule, not from any scenario. */
typedef struct vsim_check_scope {
  uint64_t features;    /* bits that must be negotiated */
  int ring;             /* -1 any, 0 split, 1 packed */
  const char *device;   /* "blk", or NULL */
  const char *transport; /* "mmio", or NULL */
} vsim_check_scope;
void vsim_check_scope_get(int check, vsim_check_scope *out);
/* The mutant that breaks exactly this check (enum vsim_mutant), or -1. */
int vsim_check_mutant(int check);

#define VSIM_VIOLATION_DETAIL_MAX 160

typedef struct vsim_violation {
  int check;           /* enum vsim_check_id */
  uint64_t step;       /* scheduler step at which it was seen */
  int32_t queue;       /* -1 when not queue-specific */
  char detail[VSIM_VIOLATION_DETAIL_MAX];
} vsim_violation;

#ifdef __cplusplus
}
#endif
#endif
