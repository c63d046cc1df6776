/* sim/sched.c — actor choice under scripted / round-robin / random (see sched.h). */
#include <limits.h>
#include <string.h>
#include "sched.h"

/* the scheduler's stream number: actor streams use their actor id, so this
 * one sits far away from them */
#define SCHED_STREAM UINT64_C(0x5C4ED)

void vsim_sched_init(vsim_sched *s, enum vsim_policy policy, uint64_t seed, uint64_t max_steps) {
  memset(s, 0, sizeof *s);
  s->policy = policy;
  s->max_steps = max_steps;
  s->last = -1;
  vsim_prng_seed(&s->rng, seed, SCHED_STREAM);
}

int vsim_sched_add(vsim_sched *s, const vsim_actor *a, int prio) {
  if (s->nactors >= VSIM_SCHED_MAX_ACTORS) return -1;
  int idx = s->nactors++;
  s->actors[idx] = *a;
  s->prio[idx] = prio;
  /* insertion into the scripted order, stable for equal priorities */
  int pos = idx;
  while (pos > 0 && s->prio[s->priority[pos - 1]] > prio) {
    s->priority[pos] = s->priority[pos - 1];
    pos--;
  }
  s->priority[pos] = idx;
  return idx;
}

int vsim_sched_pick(vsim_sched *s) {
  int n = s->nactors;
  switch (s->policy) {
    case VSIM_POLICY_SCRIPTED:
      for (int i = 0; i < n; i++) {
        int k = s->priority[i];
        if (s->actors[k].runnable(s->actors[k].ctx, s->actors[k].id)) return k;
      }
      return -1;
    case VSIM_POLICY_ROUND_ROBIN:
      for (int i = 0; i < n; i++) {
        int k = (s->rr_next + i) % n;
        if (s->actors[k].runnable(s->actors[k].ctx, s->actors[k].id)) {
          s->rr_next = (k + 1) % n;
          return k;
        }
      }
      return -1;
    case VSIM_POLICY_RANDOM: {
      int cand[VSIM_SCHED_MAX_ACTORS];
      int m = 0;
      for (int k = 0; k < n; k++)
        if (s->actors[k].runnable(s->actors[k].ctx, s->actors[k].id)) cand[m++] = k;
      if (m == 0) return -1;
      return cand[vsim_prng_below(&s->rng, (uint64_t)m)];
    }
  }
  return -1;
}

int vsim_sched_step(vsim_sched *s) {
  if (s->step >= s->max_steps) return -1;
  int k = vsim_sched_pick_forced(s);
  if (k == -3) return 0; /* nobody can run: time passes first, as it did when recorded */
  if (k == -2) {
    if (!s->forced_miss) s->forced_miss = s->step + 1;
    return 0;
  }
  if (k < 0) k = vsim_sched_pick(s);
  if (k < 0) return 0;
  s->step++;
  s->clock++;
  s->last = k;
  if (s->on_pick) s->on_pick(s->on_pick_ctx, s->step, s->actors[k].id);
  int r = s->actors[k].run(s->actors[k].ctx, s->actors[k].id);
  if (r >= 0) return 1;
  return r > INT_MIN + 1 ? r - 1 : INT_MIN; /* keep errors distinct, never overflow */
}

void vsim_sched_force(vsim_sched *s, const int32_t *ids, uint64_t n) {
  s->forced = n ? ids : NULL;
  s->nforced = ids ? n : 0;
  s->forced_miss = 0;
}

int vsim_sched_pick_forced(vsim_sched *s) {
  if (s->step >= s->nforced || s->forced[s->step] == -1) return -1;
  int32_t id = s->forced[s->step];
  for (int k = 0; k < s->nactors; k++)
    if (s->actors[k].id == id && s->actors[k].runnable(s->actors[k].ctx, id)) return k;
  /* When the run was recorded, nothing could run here either: the engine
   * moved the clock to the next timed event and then ran the forced actor. */
  for (int k = 0; k < s->nactors; k++)
    if (s->actors[k].runnable(s->actors[k].ctx, s->actors[k].id)) return -2;
  return -3;
}
