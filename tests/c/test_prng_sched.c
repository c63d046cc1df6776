/* tests/c/test_prng_sched.c — the seeded PRNG (sim/prng.c) and the
 * deterministic scheduler (sim/sched.c).
 *
 * Covers: PRNG streams are reproducible (same seed and stream → same
 * sequence), distinct streams and seeds differ, below(n) stays in [0, n) and
 * below(0) == 0, fill() produces the next() bytes little-endian and never
 * writes past len; the scheduler's scripted policy (priority order, stable for
 * equal priorities, skips actors that cannot run), round-robin (cycles over
 * the runnable actors only), random (reproducible for a seed, only picks
 * runnable actors, reaches all of them), the step budget (-1 once exhausted),
 * 0 when nothing is runnable, the clock advancing by one per step, an actor
 * error propagating as a value < -1, and the actor table limit.
 * Must never: depend on anything but prng and sched.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "prng.h"
#include "sched.h"
#include "testutil.h"

/* ---- PRNG ------------------------------------------------------------------ */

static void test_prng_reproducible(void) {
  vsim_prng a, b;
  vsim_prng_seed(&a, 42, 3);
  vsim_prng_seed(&b, 42, 3);
  int same = 1;
  for (int i = 0; i < 1000; i++) same &= vsim_prng_next(&a) == vsim_prng_next(&b);
  CHECK(same);

  /* seed 0 stream 0 is still a working generator (never all-zero state) */
  vsim_prng z;
  vsim_prng_seed(&z, 0, 0);
  CHECK((z.s[0] | z.s[1] | z.s[2] | z.s[3]) != 0);
  uint64_t first = vsim_prng_next(&z);
  int varies = 0;
  for (int i = 0; i < 10; i++) varies |= vsim_prng_next(&z) != first;
  CHECK(varies);
}

/* The first 64 outputs of (seed, stream) as a set of values. */
static void draw(uint64_t seed, uint64_t stream, uint64_t *out, int n) {
  vsim_prng p;
  vsim_prng_seed(&p, seed, stream);
  for (int i = 0; i < n; i++) out[i] = vsim_prng_next(&p);
}

static int shared_values(const uint64_t *x, const uint64_t *y, int n) {
  int shared = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) shared += x[i] == y[j];
  return shared;
}

static void test_prng_streams_differ(void) {
  enum { N = 64 };
  uint64_t s0[N], s1[N], s2[N], t0[N], big[N];
  draw(7, 0, s0, N);
  draw(7, 1, s1, N);
  draw(7, 2, s2, N);
  draw(8, 0, t0, N);
  draw(7, UINT64_MAX, big, N);
  /* no stream is a shifted copy of another: no value in common at all */
  CHECK_EQ(shared_values(s0, s1, N), 0);
  CHECK_EQ(shared_values(s1, s2, N), 0);
  CHECK_EQ(shared_values(s0, t0, N), 0);
  CHECK_EQ(shared_values(s0, big, N), 0);
  /* stream numbers used by the engine (actor ids, the scheduler's) also differ */
  uint64_t sch[N];
  draw(7, 0x5C4ED, sch, N);
  CHECK_EQ(shared_values(s0, sch, N), 0);
}

static void test_prng_below(void) {
  vsim_prng p;
  vsim_prng_seed(&p, 1, 0);
  CHECK_EQ(vsim_prng_below(&p, 0), 0);
  for (int i = 0; i < 100; i++) CHECK_EQ(vsim_prng_below(&p, 1), 0);

  const uint64_t ns[] = {2, 3, 7, 10, 1000, UINT64_C(1) << 32, (UINT64_C(1) << 63) + 1,
                         UINT64_MAX - 1, UINT64_MAX};
  int in_range = 1;
  for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
    for (int i = 0; i < 2000; i++) in_range &= vsim_prng_below(&p, ns[k]) < ns[k];
  CHECK(in_range);

  /* every value of a small range shows up, roughly uniformly */
  unsigned hist[10] = {0};
  for (int i = 0; i < 20000; i++) hist[vsim_prng_below(&p, 10)]++;
  for (int v = 0; v < 10; v++) CHECK(hist[v] > 1600 && hist[v] < 2400);

  /* below() is reproducible like next() */
  vsim_prng a, b;
  vsim_prng_seed(&a, 99, 5);
  vsim_prng_seed(&b, 99, 5);
  int same = 1;
  for (int i = 0; i < 500; i++) same &= vsim_prng_below(&a, 12345) == vsim_prng_below(&b, 12345);
  CHECK(same);
}

static void test_prng_fill(void) {
  vsim_prng a, b;
  vsim_prng_seed(&a, 5, 9);
  vsim_prng_seed(&b, 5, 9);
  uint8_t buf[32];
  memset(buf, 0xcc, sizeof buf);
  vsim_prng_fill(&a, buf, 0);
  CHECK_EQ(buf[0], 0xcc);
  /* fill(0) drew nothing: a and b are still in step */
  CHECK(memcmp(&a, &b, sizeof a) == 0);

  vsim_prng_fill(&a, buf, 13);
  uint64_t r0 = vsim_prng_next(&b), r1 = vsim_prng_next(&b);
  uint8_t want[16];
  for (int k = 0; k < 8; k++) {
    want[k] = (uint8_t)(r0 >> (8 * k));
    want[8 + k] = (uint8_t)(r1 >> (8 * k));
  }
  CHECK(memcmp(buf, want, 13) == 0);
  for (int i = 13; i < 32; i++) CHECK_EQ(buf[i], 0xcc); /* nothing past len */
  /* a partial word is consumed whole: both generators are in step again */
  CHECK_EQ(vsim_prng_next(&a), vsim_prng_next(&b));

  uint8_t x[100], y[100];
  vsim_prng_seed(&a, 77, 1);
  vsim_prng_seed(&b, 77, 1);
  vsim_prng_fill(&a, x, sizeof x);
  vsim_prng_fill(&b, y, sizeof y);
  CHECK(memcmp(x, y, sizeof x) == 0);
  vsim_prng_seed(&b, 77, 2);
  vsim_prng_fill(&b, y, sizeof y);
  CHECK(memcmp(x, y, sizeof x) != 0);
}

/* ---- the scheduler ----------------------------------------------------------- */

/* A fake actor world: each actor's runnability is a flag; runs are logged. */
typedef struct world {
  bool runnable[VSIM_SCHED_MAX_ACTORS + 1];
  int ret[VSIM_SCHED_MAX_ACTORS + 1];
  int log[256];
  int nlog;
  int runs[VSIM_SCHED_MAX_ACTORS + 1];
} world;

static bool w_runnable(void *ctx, int id) { return ((world *)ctx)->runnable[id]; }

static int w_run(void *ctx, int id) {
  world *w = ctx;
  if (w->nlog < 256) w->log[w->nlog++] = id;
  w->runs[id]++;
  return w->ret[id];
}

static void add_actors(vsim_sched *s, world *w, const int *prio, int n) {
  for (int i = 0; i < n; i++) {
    vsim_actor a = {i, w_runnable, w_run, w};
    CHECK_EQ(vsim_sched_add(s, &a, prio[i]), i);
  }
}

static void test_sched_scripted(void) {
  world w;
  memset(&w, 0, sizeof w);
  vsim_sched s;
  vsim_sched_init(&s, VSIM_POLICY_SCRIPTED, 1, 1000);
  /* priorities: actor 0 → 5, 1 → 1, 2 → 3, 3 → 1, 4 → 5 */
  const int prio[] = {5, 1, 3, 1, 5};
  add_actors(&s, &w, prio, 5);
  /* the scripted order: 1, 3 (equal priority, insertion order), 2, 0, 4 */
  const int order[] = {1, 3, 2, 0, 4};
  for (int i = 0; i < 5; i++) CHECK_EQ(s.priority[i], order[i]);

  CHECK_EQ(vsim_sched_pick(&s), -1); /* nothing runnable */
  for (int i = 0; i < 5; i++) w.runnable[i] = true;
  CHECK_EQ(vsim_sched_pick(&s), 1);
  CHECK_EQ(vsim_sched_pick(&s), 1); /* picking does not rotate */
  /* drop the winners one at a time: the next in order takes over */
  for (int i = 0; i < 5; i++) {
    CHECK_EQ(vsim_sched_pick(&s), order[i]);
    w.runnable[order[i]] = false;
  }
  CHECK_EQ(vsim_sched_pick(&s), -1);
  /* the two priority-5 actors: 0 was added first, so it wins */
  w.runnable[4] = true;
  w.runnable[0] = true;
  CHECK_EQ(vsim_sched_pick(&s), 0);

  /* steps run the picked actor and keep it winning while runnable */
  for (int i = 0; i < 3; i++) CHECK_EQ(vsim_sched_step(&s), 1);
  CHECK_EQ(w.runs[0], 3);
  CHECK_EQ(w.runs[4], 0);
  CHECK_EQ(s.last, 0);

  /* stable for equal priorities added later, and lower priorities go first */
  vsim_sched t;
  vsim_sched_init(&t, VSIM_POLICY_SCRIPTED, 1, 1000);
  const int same[] = {2, 2, 2, 2};
  add_actors(&t, &w, same, 4);
  for (int i = 0; i < 4; i++) CHECK_EQ(t.priority[i], i);
  const int down[] = {9, 8, 7, 6};
  vsim_sched u;
  vsim_sched_init(&u, VSIM_POLICY_SCRIPTED, 1, 1000);
  add_actors(&u, &w, down, 4);
  for (int i = 0; i < 4; i++) CHECK_EQ(u.priority[i], 3 - i);
}

static void test_sched_round_robin(void) {
  world w;
  memset(&w, 0, sizeof w);
  vsim_sched s;
  vsim_sched_init(&s, VSIM_POLICY_ROUND_ROBIN, 1, 1000);
  const int prio[] = {3, 2, 1}; /* ignored by round-robin */
  add_actors(&s, &w, prio, 3);
  CHECK_EQ(vsim_sched_step(&s), 0);
  for (int i = 0; i < 3; i++) w.runnable[i] = true;
  for (int i = 0; i < 7; i++) CHECK_EQ(vsim_sched_step(&s), 1);
  const int want[] = {0, 1, 2, 0, 1, 2, 0};
  CHECK_EQ(w.nlog, 7);
  for (int i = 0; i < 7; i++) CHECK_EQ(w.log[i], want[i]);

  /* actor 1 drops out: the cycle is 2, 0, 2, 0 (continuing after 0) */
  w.nlog = 0;
  w.runnable[1] = false;
  for (int i = 0; i < 4; i++) CHECK_EQ(vsim_sched_step(&s), 1);
  const int want2[] = {2, 0, 2, 0};
  for (int i = 0; i < 4; i++) CHECK_EQ(w.log[i], want2[i]);
  /* one runnable actor runs every time */
  w.nlog = 0;
  w.runnable[0] = false;
  for (int i = 0; i < 3; i++) CHECK_EQ(vsim_sched_step(&s), 1);
  for (int i = 0; i < 3; i++) CHECK_EQ(w.log[i], 2);
  w.runnable[2] = false;
  CHECK_EQ(vsim_sched_pick(&s), -1);
}

/* Run `n` random-policy steps with actors 0..4 where `mask` says which are
 * runnable; record the picks. */
static void random_run(uint64_t seed, unsigned mask, int n, int *picks) {
  world w;
  memset(&w, 0, sizeof w);
  for (int i = 0; i < 5; i++) w.runnable[i] = (mask >> i) & 1u;
  vsim_sched s;
  vsim_sched_init(&s, VSIM_POLICY_RANDOM, seed, 100000);
  const int prio[] = {0, 0, 0, 0, 0};
  add_actors(&s, &w, prio, 5);
  for (int i = 0; i < n; i++) {
    CHECK_EQ(vsim_sched_step(&s), 1);
    picks[i] = s.last;
  }
}

static void test_sched_random(void) {
  enum { N = 200 };
  int a[N], b[N], c[N];
  random_run(12345, 0x1f, N, a);
  random_run(12345, 0x1f, N, b);
  CHECK(memcmp(a, b, sizeof a) == 0);
  random_run(12346, 0x1f, N, c);
  CHECK(memcmp(a, c, sizeof a) != 0);
  int seen[5] = {0};
  for (int i = 0; i < N; i++) seen[a[i]]++;
  for (int i = 0; i < 5; i++) CHECK(seen[i] > 10); /* all runnable actors get turns */

  /* only runnable ones: actors 1 and 3 */
  random_run(7, 0x0a, N, a);
  int only = 1, saw1 = 0, saw3 = 0;
  for (int i = 0; i < N; i++) {
    only &= a[i] == 1 || a[i] == 3;
    saw1 |= a[i] == 1;
    saw3 |= a[i] == 3;
  }
  CHECK(only);
  CHECK(saw1 && saw3);

  /* nothing runnable: 0, no step taken */
  world w;
  memset(&w, 0, sizeof w);
  vsim_sched s;
  vsim_sched_init(&s, VSIM_POLICY_RANDOM, 3, 10);
  const int prio[] = {0, 0};
  add_actors(&s, &w, prio, 2);
  CHECK_EQ(vsim_sched_step(&s), 0);
  CHECK_EQ(s.step, 0);
  CHECK_EQ(w.nlog, 0);
}

static void test_sched_budget_and_clock(void) {
  const enum vsim_policy pols[] = {VSIM_POLICY_SCRIPTED, VSIM_POLICY_ROUND_ROBIN,
                                   VSIM_POLICY_RANDOM};
  for (int p = 0; p < 3; p++) {
    world w;
    memset(&w, 0, sizeof w);
    vsim_sched s;
    vsim_sched_init(&s, pols[p], 9, 5);
    const int prio[] = {1, 2};
    add_actors(&s, &w, prio, 2);
    /* no actor runnable: 0, the clock does not move */
    CHECK_EQ(vsim_sched_step(&s), 0);
    CHECK_EQ(s.step, 0);
    CHECK_EQ(s.clock, 0);
    CHECK_EQ(s.last, -1);
    w.runnable[0] = w.runnable[1] = true;
    for (uint64_t i = 1; i <= 5; i++) {
      CHECK_EQ(vsim_sched_step(&s), 1);
      CHECK_EQ(s.step, i);
      CHECK_EQ(s.clock, i);
    }
    /* the budget is spent: -1 from now on, nothing runs */
    CHECK_EQ(vsim_sched_step(&s), -1);
    CHECK_EQ(vsim_sched_step(&s), -1);
    CHECK_EQ(w.nlog, 5);
    CHECK_EQ(s.step, 5);
    CHECK_EQ(s.clock, 5);
  }
  /* a budget of 0 runs nothing */
  world w;
  memset(&w, 0, sizeof w);
  w.runnable[0] = true;
  vsim_sched s;
  vsim_sched_init(&s, VSIM_POLICY_SCRIPTED, 1, 0);
  const int prio[] = {0};
  add_actors(&s, &w, prio, 1);
  CHECK_EQ(vsim_sched_step(&s), -1);
  CHECK_EQ(w.nlog, 0);
  /* an external clock jump (the engine does this for timers) is kept */
  vsim_sched_init(&s, VSIM_POLICY_SCRIPTED, 1, 10);
  add_actors(&s, &w, prio, 1);
  s.clock = 100;
  CHECK_EQ(vsim_sched_step(&s), 1);
  CHECK_EQ(s.clock, 101);
  CHECK_EQ(s.step, 1);
}

static void test_sched_actor_error(void) {
  world w;
  memset(&w, 0, sizeof w);
  vsim_sched s;
  vsim_sched_init(&s, VSIM_POLICY_SCRIPTED, 1, 100);
  const int prio[] = {0, 1};
  add_actors(&s, &w, prio, 2);
  w.runnable[0] = w.runnable[1] = true;
  w.ret[0] = 7; /* a positive return is a normal step */
  CHECK_EQ(vsim_sched_step(&s), 1);
  w.ret[0] = -1; /* must not look like "budget exhausted" (-1) */
  int r = vsim_sched_step(&s);
  CHECK(r < -1);
  w.ret[0] = -22;
  int r2 = vsim_sched_step(&s);
  CHECK(r2 < -1);
  CHECK(r2 != r); /* distinct errors stay distinct */
  CHECK_EQ(s.step, 3); /* the failed steps still count */
  w.ret[0] = 0;
  CHECK_EQ(vsim_sched_step(&s), 1);
}

static void test_sched_full(void) {
  world w;
  memset(&w, 0, sizeof w);
  vsim_sched s;
  vsim_sched_init(&s, VSIM_POLICY_SCRIPTED, 1, 100);
  vsim_actor a = {0, w_runnable, w_run, &w};
  int ok = 1;
  for (int i = 0; i < VSIM_SCHED_MAX_ACTORS; i++) ok &= vsim_sched_add(&s, &a, 100 - i) == i;
  CHECK(ok);
  CHECK_EQ(vsim_sched_add(&s, &a, 0), -1);
  CHECK_EQ(s.nactors, VSIM_SCHED_MAX_ACTORS);
  /* the last added has the lowest priority value, so it is first in order */
  CHECK_EQ(s.priority[0], VSIM_SCHED_MAX_ACTORS - 1);
  w.runnable[0] = true;
  CHECK_EQ(vsim_sched_pick(&s), VSIM_SCHED_MAX_ACTORS - 1);
}

int main(void) {
  RUN(test_prng_reproducible);
  RUN(test_prng_streams_differ);
  RUN(test_prng_below);
  RUN(test_prng_fill);
  RUN(test_sched_scripted);
  RUN(test_sched_round_robin);
  RUN(test_sched_random);
  RUN(test_sched_budget_and_clock);
  RUN(test_sched_actor_error);
  RUN(test_sched_full);
  TEST_MAIN_END();
}
