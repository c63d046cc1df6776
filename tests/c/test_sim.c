/* tests/c/test_sim.c — one whole simulation through the public API
 * (include/virtiosim/virtiosim.h, sim/sim.c).
 *
 * Covers: a clean blk write/read/wait scenario passes with zero violations
 * and the right counters; stepping with vsim_sim_step until 0 gives the same
 * trace hash and step count as vsim_sim_run on a second instance; the same
 * seed twice gives the same hash under the scripted, round-robin and random
 * policies; the vsim_options overrides (seed, policy, max_steps: a run cut
 * off with a failure that mentions max_steps); a lost kick (drv.skip-kick)
 * gives notify.drv-missed-kick, liveness.stall and counters.stalled; a lost
 * interrupt (dev.skip-irq) gives notify.dev-missed-irq and liveness.stall;
 * fault.delay_irq 50 still completes without violations, with the interrupt
 * released late by the timer (seen in a JSON Lines trace under /tmp) and
 * extra steps; a malformed scenario gives NULL and "FILE:LINE:COL"; an
 * unknown device and an arena too small for the queues give clear errors; a
 * wrong "completed" expectation makes run() return 1 with a message; eight
 * simulations alive and stepped in turn give the same hashes as one at a time;
 * out-of-range options (policy, ring) are refused; every line of a trace file
 * is JSON (checked with jansson), even for a name that needs escaping.
 * Must never: read scenario files from disk (everything is a buffer here) or
 * leave files behind.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "blk_drv.h"
#include "testutil.h"
#include "virtiosim/checks.h"
#include "virtiosim/virtiosim.h"

#define ERRLEN 512

static const char CLEAN[] =
    "{\n"
    "  \"name\": \"clean\",\n"
    "  \"device\": \"blk\",\n"
    "  \"steps\": [\n"
    "    {\"op\": \"blk.write\", \"sector\": 0, \"data\": {\"pattern\": 3, \"len\": 1024}},\n"
    "    {\"op\": \"blk.read\", \"sector\": 0, \"expect_data\": {\"pattern\": 3, \"len\": 1024}},\n"
    "    {\"op\": \"blk.write\", \"sector\": 7, \"data\": {\"fill\": 9, \"len\": 512}},\n"
    "    {\"op\": \"blk.read\", \"sector\": 7, \"len\": 512},\n"
    "    {\"op\": \"wait\"}\n"
    "  ],\n"
    "  \"expect\": {\"violations\": [], \"completed\": 4, \"status_has\": [\"DRIVER_OK\"]}\n"
    "}\n";

/* A busier scenario where the policies have choices to make. */
static const char BUSY[] =
    "{\"name\": \"busy\", \"device\": \"blk\", \"num_queues\": 2, \"device_batch\": 2,\n"
    " \"steps\": [\n"
    "  {\"op\": \"blk.write\", \"queue\": 0, \"sector\": 0, \"data\": {\"pattern\": 1, \"len\": 4096}},\n"
    "  {\"op\": \"blk.write\", \"queue\": 1, \"sector\": 8, \"data\": {\"pattern\": 2, \"len\": 512}},\n"
    "  {\"op\": \"blk.read\", \"queue\": 1, \"sector\": 0, \"len\": 4096},\n"
    "  {\"op\": \"blk.flush\", \"queue\": 0},\n"
    "  {\"op\": \"blk.get_id\", \"queue\": 0},\n"
    "  {\"op\": \"blk.read\", \"queue\": 0, \"sector\": 8, \"expect_data\": {\"pattern\": 2, \"len\": 512}},\n"
    "  {\"op\": \"wait\"}\n"
    " ],\n"
    " \"expect\": {\"violations\": [], \"completed\": 6}}\n";

/* Load, expecting an error (so a failure is not worth a message). */
static vsim_sim *load_quiet(const char *json, const vsim_options *opt, char *err) {
  err[0] = '\0';
  return vsim_sim_load_buffer(json, strlen(json), "t.json", opt, err, ERRLEN);
}

/* Load, expecting success: say why when it fails. */
static vsim_sim *load_opt(const char *json, const vsim_options *opt, char *err) {
  vsim_sim *s = load_quiet(json, opt, err);
  if (!s) fprintf(stderr, "  load failed: %s\n", err);
  return s;
}

static vsim_sim *load(const char *json) {
  char err[ERRLEN];
  return load_opt(json, NULL, err);
}

static bool has_violation(const vsim_sim *s, const char *id) {
  for (size_t i = 0; i < vsim_sim_violation_count(s); i++) {
    const vsim_violation *v = vsim_sim_violation(s, i);
    const vsim_check_info *info = v ? vsim_check_info_get(v->check) : NULL;
    if (info && strcmp(info->id, id) == 0) return true;
  }
  return false;
}

static bool has_failure(const vsim_sim *s, const char *needle) {
  for (size_t i = 0; i < vsim_sim_failure_count(s); i++) {
    const char *f = vsim_sim_failure(s, i);
    if (f && strstr(f, needle)) return true;
  }
  return false;
}

static void dump(const vsim_sim *s) {
  for (size_t i = 0; i < vsim_sim_violation_count(s); i++) {
    const vsim_violation *v = vsim_sim_violation(s, i);
    fprintf(stderr, "    violation %s: %s\n", vsim_check_info_get(v->check)->id, v->detail);
  }
  for (size_t i = 0; i < vsim_sim_failure_count(s); i++)
    fprintf(stderr, "    failure: %s\n", vsim_sim_failure(s, i));
}

/* Run a scenario with options; return its hash (and steps, result). */
static uint64_t run_hash(const char *json, const vsim_options *opt, uint64_t *steps, int *rc) {
  char err[ERRLEN];
  vsim_sim *s = load_opt(json, opt, err);
  CHECK(s != NULL);
  if (!s) return 0;
  int r = vsim_sim_run(s);
  if (r) dump(s);
  if (rc) *rc = r;
  if (steps) *steps = vsim_sim_steps(s);
  uint64_t h = vsim_sim_trace_hash(s);
  vsim_sim_free(s);
  return h;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_clean(void) {
  vsim_sim *s = load(CLEAN);
  CHECK(s != NULL);
  if (!s) return;
  CHECK(strcmp(vsim_sim_name(s), "clean") == 0);
  CHECK_EQ(vsim_sim_seed(s), 1);
  CHECK(strcmp(vsim_sim_policy_name(s), "scripted") == 0);
  CHECK(vsim_sim_arena(s) != NULL);
  CHECK_EQ(vsim_arena_size(vsim_sim_arena(s)), 1048576);
  int rc = vsim_sim_run(s);
  if (rc) dump(s);
  CHECK_EQ(rc, 0);
  CHECK_EQ(vsim_sim_violation_count(s), 0);
  CHECK_EQ(vsim_sim_failure_count(s), 0);
  CHECK(vsim_sim_violation(s, 0) == NULL);
  CHECK(vsim_sim_failure(s, 0) == NULL);
  vsim_counters c;
  vsim_sim_counters(s, &c);
  CHECK_EQ(c.completed, 4);
  CHECK_EQ(c.submitted, 4);
  CHECK(c.kicks >= 1 && c.kicks <= 4);
  CHECK(c.interrupts >= 1);
  CHECK(!c.stalled);
  CHECK_EQ(c.device_status, 0x0f); /* ACK | DRIVER | FEATURES_OK | DRIVER_OK */
  CHECK(c.events > 0);
  CHECK(vsim_sim_steps(s) > 4);
  CHECK(vsim_sim_trace_hash(s) != 0);
  CHECK(strstr(vsim_sim_repro(s), "t.json") != NULL);
  CHECK(strstr(vsim_sim_repro(s), "--seed 1") != NULL);
  /* run() again is idempotent */
  uint64_t h = vsim_sim_trace_hash(s);
  CHECK_EQ(vsim_sim_run(s), 0);
  CHECK_EQ(vsim_sim_failure_count(s), 0);
  CHECK(vsim_sim_trace_hash(s) == h);
  CHECK_EQ(vsim_sim_step(s), 0);
  vsim_sim_free(s);
  vsim_sim_free(NULL);
}

static void test_step_equals_run(void) {
  const char *const scen[] = {CLEAN, BUSY};
  for (int k = 0; k < 2; k++) {
    vsim_sim *a = load(scen[k]);
    vsim_sim *b = load(scen[k]);
    CHECK(a && b);
    if (!a || !b) {
      vsim_sim_free(a);
      vsim_sim_free(b);
      return;
    }
    int r, n = 0;
    while ((r = vsim_sim_step(a)) == 1 && n < 1000000) n++;
    CHECK_EQ(r, 0);
    CHECK(n > 0);
    CHECK_EQ(vsim_sim_step(a), 0); /* stays over */
    CHECK_EQ(vsim_sim_run(b), 0);
    CHECK(vsim_sim_trace_hash(a) == vsim_sim_trace_hash(b));
    CHECK_EQ(vsim_sim_steps(a), vsim_sim_steps(b));
    vsim_counters ca, cb;
    vsim_sim_counters(a, &ca);
    vsim_sim_counters(b, &cb);
    CHECK_EQ(ca.completed, cb.completed);
    CHECK_EQ(ca.events, cb.events);
    /* finishing the stepped run changes nothing about the trace */
    CHECK_EQ(vsim_sim_run(a), 0);
    CHECK(vsim_sim_trace_hash(a) == vsim_sim_trace_hash(b));
    vsim_sim_free(a);
    vsim_sim_free(b);
  }
}

static void test_policies_reproducible(void) {
  const char *const names[] = {"scripted", "round-robin", "random"};
  uint64_t hashes[3][2];
  for (int p = 0; p < 3; p++) {
    vsim_options o = {0};
    o.has_policy = true;
    o.policy = p;
    o.has_seed = true;
    o.seed = 4242;
    char err[ERRLEN];
    vsim_sim *s = load_opt(BUSY, &o, err);
    CHECK(s != NULL);
    if (s) {
      CHECK(strcmp(vsim_sim_policy_name(s), names[p]) == 0);
      vsim_sim_free(s);
    }
    for (int rep = 0; rep < 2; rep++) {
      int rc = -1;
      hashes[p][rep] = run_hash(BUSY, &o, NULL, &rc);
      CHECK_EQ(rc, 0);
    }
    CHECK(hashes[p][0] == hashes[p][1]);
  }
  /* the policies do interleave differently on this scenario */
  CHECK(hashes[0][0] != hashes[1][0] || hashes[0][0] != hashes[2][0]);

  /* random: the same seed again, and other seeds (all complete cleanly) */
  vsim_options o = {0};
  o.has_policy = true;
  o.policy = 2;
  int distinct = 0;
  uint64_t first = 0;
  for (uint64_t seed = 1; seed <= 6; seed++) {
    o.has_seed = true;
    o.seed = seed;
    int rc1 = -1, rc2 = -1;
    uint64_t h1 = run_hash(BUSY, &o, NULL, &rc1);
    uint64_t h2 = run_hash(BUSY, &o, NULL, &rc2);
    CHECK(h1 == h2);
    CHECK_EQ(rc1, 0);
    CHECK_EQ(rc2, 0);
    if (seed == 1) first = h1;
    else distinct += h1 != first;
  }
  CHECK(distinct > 0); /* the seed does steer the random policy */
}

static void test_options(void) {
  vsim_options o = {0};
  o.has_seed = true;
  o.seed = 99;
  o.has_policy = true;
  o.policy = 1;
  char err[ERRLEN];
  vsim_sim *s = load_opt(CLEAN, &o, err);
  CHECK(s != NULL);
  if (s) {
    CHECK_EQ(vsim_sim_seed(s), 99);
    CHECK(strcmp(vsim_sim_policy_name(s), "round-robin") == 0);
    CHECK(strstr(vsim_sim_repro(s), "--seed 99") != NULL);
    CHECK(strstr(vsim_sim_repro(s), "--policy round-robin") != NULL);
    CHECK_EQ(vsim_sim_run(s), 0);
    vsim_sim_free(s);
  }

  /* max_steps: the run is cut off, run() says 1, and the message names it */
  vsim_options m = {0};
  m.has_max_steps = true;
  m.max_steps = 5;
  s = load_opt(CLEAN, &m, err);
  CHECK(s != NULL);
  if (s) {
    int n = 0;
    while (vsim_sim_step(s) == 1 && n < 100) n++;
    CHECK_EQ(n, 5);
    CHECK_EQ(vsim_sim_steps(s), 5);
    CHECK_EQ(vsim_sim_run(s), 1);
    CHECK(has_failure(s, "max_steps"));
    vsim_counters c;
    vsim_sim_counters(s, &c);
    CHECK(c.completed < 4);
    vsim_sim_free(s);
  }
  /* the scenario's own max_steps works the same way */
  static const char CAPPED[] =
      "{\"name\": \"capped\", \"device\": \"blk\", \"max_steps\": 3,\n"
      " \"steps\": [{\"op\": \"blk.write\", \"sector\": 0, \"data\": {\"fill\": 0, \"len\": 512}}, {\"op\": \"wait\"}]}";
  uint64_t steps = 0;
  int rc = 0;
  s = load_opt(CAPPED, NULL, err);
  CHECK(s != NULL);
  if (s) {
    rc = vsim_sim_run(s);
    steps = vsim_sim_steps(s);
    CHECK_EQ(rc, 1);
    CHECK_EQ(steps, 3);
    CHECK(has_failure(s, "max_steps"));
    vsim_sim_free(s);
  }
  /* a larger override lets it finish */
  m.max_steps = 100000;
  s = load_opt(CAPPED, &m, err);
  CHECK(s != NULL);
  if (s) {
    CHECK_EQ(vsim_sim_run(s), 0);
    vsim_sim_free(s);
  }
}

static void test_lost_kick(void) {
  static const char J[] =
      "{\"name\": \"lost-kick\", \"device\": \"blk\", \"mutants\": [\"drv.skip-kick\"],\n"
      " \"steps\": [{\"op\": \"blk.write\", \"sector\": 0, \"data\": {\"fill\": 1, \"len\": 512}},\n"
      "           {\"op\": \"wait\"}]}";
  vsim_sim *s = load(J);
  CHECK(s != NULL);
  if (!s) return;
  CHECK_EQ(vsim_sim_run(s), 1); /* no expectations: any violation fails the run */
  CHECK(has_violation(s, "notify.drv-missed-kick"));
  CHECK(has_violation(s, "liveness.stall"));
  vsim_counters c;
  vsim_sim_counters(s, &c);
  CHECK(c.stalled);
  CHECK_EQ(c.kicks, 0);
  CHECK_EQ(c.completed, 0);
  /* the violations carry the queue and a step */
  for (size_t i = 0; i < vsim_sim_violation_count(s); i++) {
    const vsim_violation *v = vsim_sim_violation(s, i);
    CHECK_EQ(v->queue, 0);
    CHECK(v->step > 0 && v->step <= vsim_sim_steps(s));
    CHECK(v->detail[0] != '\0');
  }
  vsim_sim_free(s);

  /* the same, expected: run() passes */
  static const char JE[] =
      "{\"name\": \"lost-kick\", \"device\": \"blk\", \"mutants\": [\"drv.skip-kick\"],\n"
      " \"steps\": [{\"op\": \"blk.write\", \"sector\": 0, \"data\": {\"fill\": 1, \"len\": 512}},\n"
      "           {\"op\": \"wait\"}],\n"
      " \"expect\": {\"violations\": [\"notify.drv-missed-kick\", \"liveness.stall\"]}}";
  s = load(JE);
  CHECK(s != NULL);
  if (!s) return;
  int rc = vsim_sim_run(s);
  /* the script cannot finish (the wait never returns): that is a failure too */
  CHECK_EQ(rc, 1);
  CHECK(has_failure(s, "stopped at step"));
  CHECK(!has_failure(s, "violation"));
  vsim_sim_free(s);
}

static void test_lost_irq(void) {
  static const char J[] =
      "{\"name\": \"lost-irq\", \"device\": \"blk\", \"mutants\": [\"dev.skip-irq\"],\n"
      " \"steps\": [{\"op\": \"blk.write\", \"sector\": 0, \"data\": {\"fill\": 1, \"len\": 512}},\n"
      "           {\"op\": \"wait\"}]}";
  const int policies[] = {0, 1, 2};
  for (int p = 0; p < 3; p++) {
    vsim_options o = {0};
    o.has_policy = true;
    o.policy = policies[p];
    char err[ERRLEN];
    vsim_sim *s = load_opt(J, &o, err);
    CHECK(s != NULL);
    if (!s) return;
    CHECK_EQ(vsim_sim_run(s), 1);
    CHECK(has_violation(s, "notify.dev-missed-irq"));
    CHECK(has_violation(s, "liveness.stall"));
    vsim_counters c;
    vsim_sim_counters(s, &c);
    CHECK(c.stalled);
    CHECK_EQ(c.interrupts, 0);
    CHECK_EQ(c.kicks, 1);
    CHECK_EQ(c.completed, 0);
    vsim_sim_free(s);
  }
}

/* Read a whole file into a string. */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    size_t r = fread(buf + n, 1, cap - n - 1, f);
    n += r;
    if (r == 0) break;
    if (n + 1 == cap) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
  }
  fclose(f);
  if (buf) buf[n] = '\0';
  return buf;
}

/* The "step" of the first line that contains every needle, or -1. */
static long step_of(const char *text, const char *n1, const char *n2) {
  const char *line = text;
  while (line && *line) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    char buf[512];
    if (len < sizeof buf) {
      memcpy(buf, line, len);
      buf[len] = '\0';
      if (strstr(buf, n1) && (!n2 || strstr(buf, n2))) {
        long step = -1;
        if (sscanf(buf, "{\"step\":%ld", &step) == 1) return step;
      }
    }
    line = end ? end + 1 : NULL;
  }
  return -1;
}

static void test_delay_irq(void) {
  static const char J[] =
      "{\"name\": \"late-irq\", \"device\": \"blk\",\n"
      " \"steps\": [{\"op\": \"fault.delay_irq\", \"value\": 50},\n"
      "           {\"op\": \"blk.write\", \"sector\": 0, \"data\": {\"fill\": 1, \"len\": 512}},\n"
      "           {\"op\": \"blk.read\", \"sector\": 0, \"expect_data\": {\"fill\": 1, \"len\": 512}},\n"
      "           {\"op\": \"wait\"}],\n"
      " \"expect\": {\"violations\": [], \"completed\": 2}}";
  static const char J0[] =
      "{\"name\": \"late-irq\", \"device\": \"blk\",\n"
      " \"steps\": [{\"op\": \"blk.write\", \"sector\": 0, \"data\": {\"fill\": 1, \"len\": 512}},\n"
      "           {\"op\": \"blk.read\", \"sector\": 0, \"expect_data\": {\"fill\": 1, \"len\": 512}},\n"
      "           {\"op\": \"wait\"}],\n"
      " \"expect\": {\"violations\": [], \"completed\": 2}}";
  char path[] = "/tmp/vsim-test-sim-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  close(fd);
  vsim_options o = {0};
  o.trace_path = path;
  char err[ERRLEN];
  vsim_sim *s = load_opt(J, &o, err);
  CHECK(s != NULL);
  if (!s) {
    unlink(path);
    return;
  }
  int rc = vsim_sim_run(s);
  if (rc) dump(s);
  CHECK_EQ(rc, 0);
  CHECK_EQ(vsim_sim_violation_count(s), 0);
  vsim_counters c;
  vsim_sim_counters(s, &c);
  CHECK_EQ(c.completed, 2);
  CHECK(c.interrupts >= 1);
  CHECK(!c.stalled);
  uint64_t steps = vsim_sim_steps(s), hash = vsim_sim_trace_hash(s);
  vsim_sim_free(s);

  /* the trace: the device raised the interrupt, the timer released it later,
   * and only then did the driver acknowledge it */
  char *text = slurp(path);
  unlink(path);
  CHECK(text != NULL);
  if (text) {
    long raised = step_of(text, "\"kind\":\"irq\"", NULL);
    long released = step_of(text, "\"actor\":\"engine\",\"kind\":\"fault\"", NULL);
    long acked = step_of(text, "\"kind\":\"irq.ack\"", NULL);
    CHECK(raised > 0);
    CHECK(released > raised);
    CHECK(acked > released);
    CHECK(strstr(text, "\"footer\"") != NULL);
    free(text);
  }

  /* without the fault: same completions, fewer steps, another hash */
  uint64_t steps0 = 0;
  int rc0 = -1;
  uint64_t hash0 = run_hash(J0, NULL, &steps0, &rc0);
  CHECK_EQ(rc0, 0);
  CHECK(steps > steps0);
  CHECK(hash != hash0);

  /* under the other policies the delayed run completes cleanly as well */
  for (int p = 1; p < 3; p++) {
    vsim_options q = {0};
    q.has_policy = true;
    q.policy = p;
    int r = -1;
    run_hash(J, &q, NULL, &r);
    CHECK_EQ(r, 0);
  }
}

/* "FILE:LINE:COL: " at the start of err, with FILE = t.json. */
static bool has_position(const char *err, unsigned *line, unsigned *col) {
  unsigned l = 0, c = 0;
  char rest[8] = "";
  if (sscanf(err, "t.json:%u:%u%7s", &l, &c, rest) != 3) return false;
  if (line) *line = l;
  if (col) *col = c;
  return l >= 1 && c >= 1 && rest[0] == ':';
}

static void test_load_errors(void) {
  char err[ERRLEN];
  /* a bad value: position and field path */
  static const char BAD[] =
      "{\"name\": \"bad\", \"device\": \"blk\",\n"
      " \"steps\": [\n"
      "   {\"op\": \"blk.write\", \"sector\": -1, \"data\": {\"fill\": 0, \"len\": 512}}]}";
  vsim_sim *s = load_quiet(BAD, NULL, err);
  CHECK(s == NULL);
  unsigned line = 0, col = 0;
  CHECK(has_position(err, &line, &col));
  CHECK_EQ(line, 3);
  CHECK(strstr(err, "steps[0].sector") != NULL);
  vsim_sim_free(s);

  /* JSON syntax error */
  s = load_quiet("{\"name\": \"x\",\n \"device\": }", NULL, err);
  CHECK(s == NULL);
  CHECK(has_position(err, &line, NULL));
  CHECK_EQ(line, 2);

  /* empty buffer, not an object */
  s = vsim_sim_load_buffer("", 0, "t.json", NULL, err, ERRLEN);
  CHECK(s == NULL);
  CHECK(err[0] != '\0');
  s = load_quiet("[]", NULL, err);
  CHECK(s == NULL);
  CHECK(has_position(err, NULL, NULL));

  /* unknown device */
  s = load_quiet("{\"name\": \"x\", \"device\": \"nvme\", \"steps\": []}", NULL, err);
  CHECK(s == NULL);
  CHECK(has_position(err, NULL, NULL));
  CHECK(strstr(err, "device") != NULL);
  CHECK(strstr(err, "nvme") != NULL);

  /* an arena too small for the rings the driver must lay out */
  s = load_quiet("{\"name\": \"x\", \"device\": \"blk\", \"arena_size\": 65536,\n"
               " \"queue_size\": 1024, \"queue_max\": 1024, \"steps\": []}",
               NULL, err);
  CHECK(s == NULL);
  CHECK(strstr(err, "arena_size") != NULL);
  CHECK(strstr(err, "too small") != NULL);
  s = load_quiet("{\"name\": \"x\", \"device\": \"blk\", \"arena_size\": 65536, \"num_queues\": 64,\n"
               " \"steps\": []}",
               NULL, err);
  CHECK(s == NULL);
  CHECK(strstr(err, "arena_size") != NULL);

  /* a device_config key the blk model does not know: the model's message */
  s = load_quiet("{\"name\": \"x\", \"device\": \"blk\", \"device_config\": {\"colour\": \"red\"},\n"
               " \"steps\": []}",
               NULL, err);
  CHECK(s == NULL);
  CHECK(strstr(err, "colour") != NULL);

  /* an unwritable trace path */
  vsim_options o = {0};
  o.trace_path = "/nonexistent-dir-vsim/t.jsonl";
  s = load_quiet(CLEAN, &o, err);
  CHECK(s == NULL);
  CHECK(strstr(err, "trace") != NULL);
}

/* Options out of their documented range are bad input: an error value. */
static void test_bad_options(void) {
  char err[ERRLEN];
  /* only 3: further values would be out of the enum's range, which clang's
   * -fsanitize=enum would flag inside the engine before any check could */
  const int bad_policies[] = {3};
  for (size_t i = 0; i < sizeof bad_policies / sizeof bad_policies[0]; i++) {
    vsim_options o = {0};
    o.has_policy = true;
    o.policy = bad_policies[i];
    vsim_sim *s = load_quiet(CLEAN, &o, err);
    if (s == NULL) {
      CHECK(strstr(err, "policy") != NULL);
    } else {
      int rc = vsim_sim_run(s);
      vsim_test_failures++;
    printf("REGRESSION of a fixed bug: vsim_options.policy = %d is accepted (policy name \"%s\"); the run "
             "does nothing (run() = %d, %" PRIu64 " steps, \"%s\") instead of load failing\n",
             bad_policies[i], vsim_sim_policy_name(s), rc, vsim_sim_steps(s),
             vsim_sim_failure(s, 0) ? vsim_sim_failure(s, 0) : "");
      vsim_sim_free(s);
    }
  }
  vsim_options r = {0};
  r.has_ring = true;
  r.ring = 7;
  vsim_sim *s = load_quiet(CLEAN, &r, err);
  CHECK(s == NULL);
  CHECK(err[0] != '\0');
  vsim_sim_free(s);
}

/* Every line of a trace file is a JSON object, even when the scenario name
 * needs escaping; the header names the scenario and the footer the hash. */
static void test_trace_file(void) {
  static const char J[] =
      "{\"name\": \"odd \\\"name\\\" \\\\ here\", \"device\": \"blk\",\n"
      " \"steps\": [{\"op\": \"blk.write\", \"sector\": 0, \"data\": {\"fill\": 0, \"len\": 512}},\n"
      "           {\"op\": \"wait\"}]}";
  char path[] = "/tmp/vsim-test-sim-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  close(fd);
  vsim_options o = {0};
  o.trace_path = path;
  char err[ERRLEN];
  vsim_sim *s = load_opt(J, &o, err);
  CHECK(s != NULL);
  if (!s) {
    unlink(path);
    return;
  }
  CHECK(strcmp(vsim_sim_name(s), "odd \"name\" \\ here") == 0);
  CHECK_EQ(vsim_sim_run(s), 0);
  uint64_t hash = vsim_sim_trace_hash(s);
  vsim_counters c;
  vsim_sim_counters(s, &c);
  vsim_sim_free(s);
  char *text = slurp(path);
  unlink(path);
  CHECK(text != NULL);
  if (!text) return;
  size_t lines = 0, bad = 0, events = 0;
  bool header_ok = false, footer_ok = false;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    lines++;
    json_error_t je;
    json_t *v = json_loads(line, 0, &je);
    if (!v || !json_is_object(v)) {
      if (bad++ == 0) fprintf(stderr, "  not JSON: %.120s\n", line);
      json_decref(v);
      continue;
    }
    json_t *h = json_object_get(v, "header");
    json_t *f = json_object_get(v, "footer");
    if (h) {
      const char *name = json_string_value(json_object_get(h, "scenario"));
      header_ok = lines == 1 && name && strcmp(name, "odd \"name\" \\ here") == 0;
    } else if (f) {
      char want[32];
      snprintf(want, sizeof want, "%016" PRIx64, hash);
      const char *got = json_string_value(json_object_get(f, "hash"));
      footer_ok = got && strcmp(got, want) == 0;
    } else {
      events += json_is_string(json_object_get(v, "kind")) && json_is_integer(json_object_get(v, "step"));
    }
    json_decref(v);
  }
  free(text);
  CHECK(footer_ok);
  if (bad == 0) {
    CHECK(header_ok);
    CHECK_EQ(events, c.events);
    CHECK_EQ(lines, c.events + 2);
  } else {
    vsim_test_failures++;
    printf("REGRESSION of a fixed bug: %zu trace line(s) are not valid JSON: sim.c writes the header's "
           "scenario name into the JSON text unescaped\n",
           bad);
    CHECK_EQ(bad, 1); /* only the header; the event lines are fine */
    CHECK_EQ(events, c.events);
  }
}

static void test_expect_failure(void) {
  static const char J[] =
      "{\"name\": \"wrong-count\", \"device\": \"blk\",\n"
      " \"steps\": [{\"op\": \"blk.write\", \"sector\": 0, \"data\": {\"fill\": 0, \"len\": 512}}, {\"op\": \"wait\"}],\n"
      " \"expect\": {\"violations\": [], \"completed\": 5}}";
  vsim_sim *s = load(J);
  CHECK(s != NULL);
  if (!s) return;
  CHECK_EQ(vsim_sim_run(s), 1);
  CHECK_EQ(vsim_sim_violation_count(s), 0);
  CHECK_EQ(vsim_sim_failure_count(s), 1);
  CHECK(has_failure(s, "completed"));
  CHECK(has_failure(s, "1"));
  vsim_sim_free(s);

  /* a range that holds, and one that does not */
  static const char R[] =
      "{\"name\": \"range\", \"device\": \"blk\",\n"
      " \"steps\": [{\"op\": \"blk.write\", \"sector\": 0, \"data\": {\"fill\": 0, \"len\": 512}}, {\"op\": \"wait\"}],\n"
      " \"expect\": {\"completed\": {\"min\": 1, \"max\": 1}, \"kicks\": {\"min\": 2}}}";
  s = load(R);
  CHECK(s != NULL);
  if (!s) return;
  CHECK_EQ(vsim_sim_run(s), 1);
  CHECK(has_failure(s, "kicks"));
  CHECK(!has_failure(s, "completed"));
  vsim_sim_free(s);

  /* an expected violation that does not happen */
  static const char V[] =
      "{\"name\": \"missing\", \"device\": \"blk\",\n"
      " \"steps\": [{\"op\": \"blk.write\", \"sector\": 0, \"data\": {\"fill\": 0, \"len\": 512}}, {\"op\": \"wait\"}],\n"
      " \"expect\": {\"violations\": [\"liveness.stall\"]}}";
  s = load(V);
  CHECK(s != NULL);
  if (!s) return;
  CHECK_EQ(vsim_sim_run(s), 1);
  CHECK(has_failure(s, "liveness.stall"));
  vsim_sim_free(s);
}

/* req.raw against the built-in blk model: each kind of reply check that
 * does not hold is a step failure naming the field; a patch whose value was
 * never saved fails the step; a fs scenario without a back-end is an error. */
static void test_req_raw_failures(void) {
  static const char J[] =
      "{\"name\": \"req-raw-wrong\", \"device\": \"blk\", \"device_config\": {\"serial\": \"abc\"},\n"
      " \"steps\": [\n"
      "  {\"op\": \"req.raw\", \"data\": \"08000000 00000000 0000000000000000\", \"len\": 21,\n"
      "   \"expect_used_len\": 3, \"expect_reply\": [\n"
      "    {\"name\": \"id\", \"offset\": 0, \"data\": \"616264\"},\n"
      "    {\"name\": \"status\", \"offset\": 20, \"width\": 1, \"value\": 1},\n"
      "    {\"name\": \"echo\", \"offset\": 0, \"width\": 1, \"equals_sent\": 0},\n"
      "    {\"name\": \"range\", \"offset\": 1, \"width\": 1, \"min\": 100, \"max\": 120},\n"
      "    {\"name\": \"masked\", \"offset\": 2, \"width\": 1, \"mask\": \"0x0f\", \"value\": 3, \"save\": \"x\"}]},\n"
      "  {\"op\": \"req.raw\", \"data\": \"04000000 00000000 0000000000000000\", \"len\": 4,\n"
      "   \"expect_reply\": [{\"name\": \"past used\", \"offset\": 2, \"width\": 2, \"value\": 0}]},\n"
      "  {\"op\": \"wait\"},\n"
      "  {\"op\": \"req.raw\", \"data\": \"04000000 00000000 0000000000000000\", \"len\": 1,\n"
      "   \"patch\": [{\"offset\": 4, \"width\": 1, \"saved\": \"x\"}]},\n"
      "  {\"op\": \"wait\"}],\n"
      " \"expect\": {\"violations\": [], \"completed\": 3}}";
  vsim_sim *s = load(J);
  CHECK(s != NULL);
  if (!s) return;
  CHECK_EQ(vsim_sim_run(s), 1);
  CHECK(has_failure(s, "step 0 (req.raw, line 3): used len 21, expected 3"));
  CHECK(has_failure(s, "reply field 'id' (offset 0): 3 bytes differ from the expected data at byte 2 (got 0x63, expected 0x64)"));
  CHECK(has_failure(s, "reply field 'status' (offset 20) is 0x0, expected 0x1"));
  CHECK(has_failure(s, "reply field 'echo' (offset 0) is 0x61, expected 0x8 as sent at offset 0"));
  CHECK(has_failure(s, "reply field 'range' (offset 1) is 98, expected 100..120"));
  CHECK(!has_failure(s, "'masked'")); /* 0x63 & 0x0f */
  CHECK(has_failure(s, "step 1 (req.raw, line 10): reply field 'past used' (offset 2): 2 byte(s) past the 1 the device "
                       "wrote (used len); the driver trusts only those (drivernormative:"));
  /* the masked value was saved: the patched flush went */
  CHECK(!has_failure(s, "no value saved"));
  CHECK_EQ(vsim_sim_violation_count(s), 0);
  if (vsim_sim_failure_count(s) != 6) dump(s);
  CHECK_EQ(vsim_sim_failure_count(s), 6);
  vsim_sim_free(s);

  static const char P[] =
      "{\"name\": \"req-raw-unsaved\", \"device\": \"blk\",\n"
      " \"steps\": [\n"
      "  {\"op\": \"req.raw\", \"data\": \"04000000 00000000 0000000000000000\", \"len\": 2,\n"
      "   \"expect_reply\": [{\"offset\": 1, \"width\": 1, \"save\": \"st\"}]},\n"
      "  {\"op\": \"req.raw\", \"data\": \"04000000 00000000 0000000000000000\", \"len\": 1,\n"
      "   \"patch\": [{\"offset\": 8, \"width\": 1, \"saved\": \"st\"}]},\n"
      "  {\"op\": \"wait\"}]}";
  s = load(P);
  CHECK(s != NULL);
  if (!s) return;
  CHECK_EQ(vsim_sim_run(s), 1);
  CHECK(has_failure(s, "step 1 (req.raw, line 5): patch 0: no value saved as 'st' yet"));
  vsim_sim_free(s);

  char err[ERRLEN];
  static const char F[] = "{\"name\": \"fs\", \"device\": \"fs\", \"steps\": []}";
  s = load_quiet(F, NULL, err);
  CHECK(s == NULL);
  CHECK(strstr(err, "device 'fs' has no built-in model: run it against a back-end") != NULL);
  vsim_sim_free(s);
}

/* Eight simulations alive at once, stepped in turn, must not disturb one
 * another: each gives the hash it gives alone. */
static void test_many_alive(void) {
  enum { N = 8 };
  const char *const scen[2] = {CLEAN, BUSY};
  vsim_options opts[N];
  uint64_t alone[N];
  for (int i = 0; i < N; i++) {
    memset(&opts[i], 0, sizeof opts[i]);
    opts[i].has_policy = true;
    opts[i].policy = i % 3;
    opts[i].has_seed = true;
    opts[i].seed = 100 + (uint64_t)i;
    int rc = -1;
    alone[i] = run_hash(scen[i % 2], &opts[i], NULL, &rc);
    CHECK_EQ(rc, 0);
  }
  vsim_sim *s[N];
  char err[ERRLEN];
  for (int i = 0; i < N; i++) {
    s[i] = load_opt(scen[i % 2], &opts[i], err);
    CHECK(s[i] != NULL);
  }
  bool live[N];
  for (int i = 0; i < N; i++) live[i] = s[i] != NULL;
  for (int round = 0; round < 100000; round++) {
    bool any = false;
    for (int i = 0; i < N; i++) {
      if (!live[i]) continue;
      /* uneven strides: sim i does i % 3 + 1 steps per round */
      for (int k = 0; k <= i % 3 && live[i]; k++) live[i] = vsim_sim_step(s[i]) == 1;
      any |= live[i];
    }
    if (!any) break;
  }
  for (int i = 0; i < N; i++) {
    if (!s[i]) continue;
    CHECK_EQ(vsim_sim_run(s[i]), 0);
    if (vsim_sim_trace_hash(s[i]) != alone[i])
      fprintf(stderr, "  sim %d: hash %016" PRIx64 " alone %016" PRIx64 "\n", i,
              vsim_sim_trace_hash(s[i]), alone[i]);
    CHECK(vsim_sim_trace_hash(s[i]) == alone[i]);
  }
  /* free in a different order than created */
  for (int i = N; i-- > 0;) vsim_sim_free(s[i]);
}

/* vsim_data_mismatch finds the first differing byte in place, a pattern's
 * stream chunk by chunk, exactly where the expanded bytes differ. */
static void test_data_mismatch(void) {
  enum { N = 700 }; /* several of its 256-byte chunks, the last one partial */
  uint8_t buf[N], want = 0;
  vsim_data kinds[3] = {{.kind = VSIM_DATA_FILL, .len = N, .fill = 0x5a},
                        {.kind = VSIM_DATA_PATTERN, .len = N, .seed = 42},
                        {.kind = VSIM_DATA_BYTES, .len = N, .bytes = buf}};
  uint8_t copy[N];
  for (int k = 0; k < 3; k++) {
    vsim_data *d = &kinds[k];
    if (d->kind == VSIM_DATA_BYTES) {
      for (int i = 0; i < N; i++) buf[i] = (uint8_t)(i * 7);
    }
    vsim_data_expand(d, copy);
    CHECK_EQ(vsim_data_mismatch(d, copy, N, NULL), N);
    for (uint32_t at = 0; at < N; at += 131) {
      uint8_t was = copy[at];
      copy[at] ^= 0x80;
      CHECK_EQ(vsim_data_mismatch(d, copy, N, &want), at);
      CHECK_EQ(want, was);
      CHECK_EQ(vsim_data_mismatch(d, copy, at, NULL), at); /* a prefix that ends before it */
      copy[at] = was;
    }
  }
}

int main(void) {
  RUN(test_data_mismatch);
  RUN(test_clean);
  RUN(test_step_equals_run);
  RUN(test_policies_reproducible);
  RUN(test_options);
  RUN(test_lost_kick);
  RUN(test_lost_irq);
  RUN(test_delay_irq);
  RUN(test_load_errors);
  RUN(test_bad_options);
  RUN(test_trace_file);
  RUN(test_expect_failure);
  RUN(test_req_raw_failures);
  RUN(test_many_alive);
  TEST_MAIN_END();
}
