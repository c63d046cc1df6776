/* sim/minimize.h — delta debugging of a scenario against one check.
 *
 * Owns: shrinking a scenario to a smaller one in which the same check still
 * fires, and no check that the original did not fire (that would be another
 * bug): ddmin (Zeller and Hildebrandt) over the steps, then over the heads
 * of each raw.avail step, then over the mutants and the feature lists; every
 * candidate is serialised with jansson and run in a fresh simulation through
 * vsim_sim_load_buffer. The result carries "expect": {"violations": [...]}
 * naming every check its run fires, so that it passes as a regression
 * scenario.
 * Must never: depend on anything but the input (no clock, no randomness: the
 * same scenario and check give the same minimal scenario), or keep a candidate
 * that does not load.
 */
#ifndef VSIM_MINIMIZE_H
#define VSIM_MINIMIZE_H

#include <stddef.h>
#include <stdint.h>
#include "virtiosim/virtiosim.h"

typedef struct vsim_min_result {
  size_t steps_before, steps_after;
  size_t items_before, items_after;  /* heads, mutants and features together */
  size_t runs;                       /* candidates run */
  char *text;                        /* the minimal scenario (JSON, malloc'd) */
} vsim_min_result;

/* `opt` may override seed, policy, ring and max_steps (they are written into
 * the result so that it stands alone); other fields are ignored. Returns 0
 * (result filled), 1 when the check does not fire in the scenario as given,
 * -1 on error (message in err). */
int vsim_minimize(const char *text, size_t len, const char *name, int check, const vsim_options *opt,
                  vsim_min_result *out, char *err, size_t errlen);
void vsim_min_result_free(vsim_min_result *r);

#endif
