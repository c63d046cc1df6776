/* conformance/catalog.c — the check catalog as data.
 *
 * Owns: the table built from check_list.h and lookups by enum and by id.
 * Must never: hold mutable state.
 */
#include <string.h>
#include "virtiosim/checks.h"

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
