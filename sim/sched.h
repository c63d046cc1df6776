/* sim/sched.h — the deterministic scheduler.
 *
 * Owns: the actors (the driver, one device worker per queue, the interrupt
 * timer), the virtual clock, the step budget, and the choice of which runnable
 * actor goes next under a policy: scripted (fixed priority: device workers in
 * queue order, then the timer, then the driver, so each request is served as
 * soon as it is kicked), round-robin, or random (a seeded stream). All of the
 * run's non-determinism is decided here and nowhere else.
 * Must never: use the clock, threads, or anything but its own PRNG stream.
 */
#ifndef VSIM_SCHED_H
#define VSIM_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include "prng.h"
#include "scenario.h"

#define VSIM_SCHED_MAX_ACTORS 72

typedef bool (*vsim_actor_runnable_fn)(void *ctx, int id);
/* Run one step of the actor; returns 0 or a negative engine error. */
typedef int (*vsim_actor_run_fn)(void *ctx, int id);

typedef struct vsim_actor {
  int id;           /* the actor's number in the trace (0 driver, 1+q device) */
  vsim_actor_runnable_fn runnable;
  vsim_actor_run_fn run;
  void *ctx;
} vsim_actor;

typedef struct vsim_sched {
  enum vsim_policy policy;
  vsim_actor actors[VSIM_SCHED_MAX_ACTORS];
  int nactors;
  int prio[VSIM_SCHED_MAX_ACTORS];     /* each actor's scripted priority */
  int priority[VSIM_SCHED_MAX_ACTORS]; /* scripted order: indices into actors */
  uint64_t step;       /* steps run so far */
  uint64_t max_steps;
  uint64_t clock;      /* virtual time: one unit per step, may jump to a timer */
  int rr_next;
  int last;            /* the actor that ran last, or -1 */
  vsim_prng rng;       /* the scheduler's own stream */
  /* Replay: the actor id to run at step i + 1 is forced[i] (-1: the policy
   * decides), for the first nforced steps; see vsim_sched_force. */
  const int32_t *forced;
  uint64_t nforced;
  uint64_t forced_miss;  /* the first step whose forced actor was not runnable, 0 none */
  /* Told of every decision (step number, actor id) before the actor runs:
   * the trace records them so that a replay can force them. */
  void (*on_pick)(void *ctx, uint64_t step, int id);
  void *on_pick_ctx;
} vsim_sched;

void vsim_sched_init(vsim_sched *s, enum vsim_policy policy, uint64_t seed, uint64_t max_steps);
/* Add an actor; `prio` orders the scripted policy (lower first). Returns its
 * index or -1 when full. */
int vsim_sched_add(vsim_sched *s, const vsim_actor *a, int prio);
/* Pick the next actor under the policy: its index, or -1 if none is runnable. */
int vsim_sched_pick(vsim_sched *s);
/* Pick and run one step. 1 = a step ran, 0 = nothing runnable, -1 = step
 * budget exhausted, < -1 = an actor's engine error (its value - 1). */
int vsim_sched_step(vsim_sched *s);

/* Forced-pick mode (replay): from now on, step i + 1 runs the actor whose id
 * is ids[i] (while i < n) instead of asking the policy, so a recorded run
 * replays even where the policy's random choices would differ. An entry of -1
 * leaves that step to the policy. A forced actor that is not runnable ends the
 * run like "nothing runnable" and sets forced_miss. `ids` must outlive the
 * scheduler's use of it; n = 0 turns the mode off. */
void vsim_sched_force(vsim_sched *s, const int32_t *ids, uint64_t n);
/* The index of the actor forced for the next step; -1 when none is forced (or
 * the policy decides); -2 when the forced actor is unknown or not runnable
 * while another is; -3 when no actor at all is runnable (the engine then lets
 * virtual time pass, as it did in the recorded run). */
int vsim_sched_pick_forced(vsim_sched *s);

#endif
