/* tests/c/test_replay.c — the scheduler's forced-pick mode and the replayer.
 *
 * Covers: forced picks override every policy, -1 entries fall back to the
 * policy, a forced actor that cannot run while another can is a recorded
 * miss, and one that cannot run while nobody can lets time pass (no miss);
 * the decisions are recorded in a trace footer; a recorded random-policy run
 * replays identically under another seed through vsim_replay; a changed event
 * is the first divergence; a malformed line is refused with file:line.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "replay.h"
#include "sched.h"
#include "testutil.h"

typedef struct world {
  bool runnable[8];
  int log[64];
  int nlog;
} world;

static bool w_runnable(void *ctx, int id) { return ((world *)ctx)->runnable[id]; }

static int w_run(void *ctx, int id) {
  world *w = ctx;
  if (w->nlog < 64) w->log[w->nlog++] = id;
  return 0;
}

typedef struct picks {
  int id[64];
  int n;
} picks;

static void on_pick(void *ctx, uint64_t step, int id) {
  picks *p = ctx;
  if (p->n < 64 && (uint64_t)p->n + 1 == step) p->id[p->n++] = id;
}

static void test_forced_picks(void) {
  for (int policy = 0; policy <= VSIM_POLICY_RANDOM; policy++) {
    world w;
    memset(&w, 0, sizeof w);
    picks p = {{0}, 0};
    vsim_sched s;
    vsim_sched_init(&s, (enum vsim_policy)policy, 7, 1000);
    for (int i = 0; i < 3; i++) {
      vsim_actor a = {i, w_runnable, w_run, &w};
      CHECK_EQ(vsim_sched_add(&s, &a, i), i);
    }
    s.on_pick = on_pick;
    s.on_pick_ctx = &p;
    for (int i = 0; i < 3; i++) w.runnable[i] = true;
    static const int32_t forced[] = {2, 2, 1, -1, 0};
    vsim_sched_force(&s, forced, 5);
    for (int i = 0; i < 5; i++) CHECK_EQ(vsim_sched_step(&s), 1);
    CHECK_EQ(w.log[0], 2);
    CHECK_EQ(w.log[1], 2);
    CHECK_EQ(w.log[2], 1);
    CHECK_EQ(w.log[4], 0);
    CHECK_EQ(p.n, 5); /* every decision was told, forced or not */
    for (int i = 0; i < 5; i++) CHECK_EQ(p.id[i], w.log[i]);
    CHECK_EQ(s.forced_miss, 0);
  }
  /* a forced actor that cannot run while another can: a miss, nothing runs */
  world w;
  memset(&w, 0, sizeof w);
  vsim_sched s;
  vsim_sched_init(&s, VSIM_POLICY_SCRIPTED, 1, 1000);
  for (int i = 0; i < 2; i++) {
    vsim_actor a = {i, w_runnable, w_run, &w};
    vsim_sched_add(&s, &a, i);
  }
  static const int32_t f2[] = {1, 0};
  vsim_sched_force(&s, f2, 2);
  /* nobody can run: time must pass first, as when the run was recorded */
  CHECK_EQ(vsim_sched_step(&s), 0);
  CHECK_EQ(s.forced_miss, 0);
  w.runnable[0] = true;
  CHECK_EQ(vsim_sched_step(&s), 0);
  CHECK_EQ(s.forced_miss, 1);
  CHECK_EQ(w.nlog, 0);
  /* an unknown actor id is a miss too */
  static const int32_t f3[] = {5};
  vsim_sched_force(&s, f3, 1);
  CHECK_EQ(s.forced_miss, 0);
  CHECK_EQ(vsim_sched_step(&s), 0);
  CHECK_EQ(s.forced_miss, 1);
}

static const char SCEN[] =
    "{\"name\": \"mq\", \"device\": \"blk\", \"num_queues\": 2, \"policy\": \"random\",\n"
    " \"offered_features\": [\"VERSION_1\", \"MQ\", \"EVENT_IDX\"],\n"
    " \"steps\": [{\"op\": \"blk.write\", \"queue\": 0, \"sector\": 0, \"data\": {\"fill\": 1, \"len\": 512}},\n"
    "           {\"op\": \"blk.write\", \"queue\": 1, \"sector\": 1, \"data\": {\"fill\": 2, \"len\": 512}},\n"
    "           {\"op\": \"blk.read\", \"queue\": 0, \"sector\": 1}, {\"op\": \"wait\"}]}";

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  if (buf) buf[n] = '\0';
  fclose(f);
  return buf;
}

static void spit(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

/* Replace the first occurrence of `from` with `to` (same length or not). */
static char *replace(const char *text, const char *from, const char *to) {
  const char *p = strstr(text, from);
  if (!p) return NULL;
  size_t n = strlen(text) - strlen(from) + strlen(to);
  char *out = malloc(n + 1);
  if (!out) return NULL;
  size_t k = (size_t)(p - text);
  memcpy(out, text, k);
  strcpy(out + k, to);
  strcat(out, p + strlen(from));
  return out;
}

static int replay_file(const char *path, char *msg, size_t len) {
  vsim_trace_file t;
  char err[1024];
  if (vsim_trace_file_load(path, &t, err, sizeof err)) {
    snprintf(msg, len, "%s", err);
    return 2;
  }
  vsim_replay *r = vsim_replay_new(&t, NULL, true, err, sizeof err);
  if (!r) {
    snprintf(msg, len, "%s", err);
    vsim_trace_file_free(&t);
    return 2;
  }
  int x = vsim_replay_finish(r);
  size_t n;
  vsim_replay_events(r, &n);
  snprintf(msg, len, "%s", x ? vsim_replay_divergence(r) : "identical");
  if (x == 0 && n != t.nev) x = 3;
  vsim_replay_free(r);
  vsim_trace_file_free(&t);
  return x;
}

static void test_replay_roundtrip(void) {
  char path[] = "/tmp/vsim-test-replay-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  if (fd < 0) return;
  close(fd);
  vsim_options o;
  memset(&o, 0, sizeof o);
  o.trace_path = path;
  o.has_seed = true;
  o.seed = 11;
  char err[1024];
  vsim_sim *s = vsim_sim_load_buffer(SCEN, strlen(SCEN), "mq.json", &o, err, sizeof err);
  CHECK(s != NULL);
  if (!s) {
    fprintf(stderr, "%s\n", err);
    unlink(path);
    return;
  }
  CHECK_EQ(vsim_sim_run(s), 0);
  vsim_sim_free(s);
  char *text = slurp(path);
  CHECK(text != NULL);
  if (!text) {
    unlink(path);
    return;
  }
  CHECK(strstr(text, "\"picks\":\"") != NULL);
  CHECK(strstr(text, "\"scenario_text\":\"{\\\"name\\\": \\\"mq\\\"") != NULL);
  char msg[2048];
  CHECK_EQ(replay_file(path, msg, sizeof msg), 0);

  /* another seed in the header: the recorded decisions still rule */
  char *other = replace(text, "\"seed\":11", "\"seed\":12");
  CHECK(other != NULL);
  if (other) {
    spit(path, other);
    CHECK_EQ(replay_file(path, msg, sizeof msg), 0);
    free(other);
  }
  /* one changed event: the first divergence names its line */
  char *bad = replace(text, "\"kind\":\"pop\",\"q\":0,\"a\":0,\"b\":", "\"kind\":\"pop\",\"q\":0,\"a\":0,\"b\":9");
  CHECK(bad != NULL);
  if (bad) {
    spit(path, bad);
    CHECK_EQ(replay_file(path, msg, sizeof msg), 1);
    CHECK(strstr(msg, "first divergence at step") != NULL);
    free(bad);
  }
  /* a malformed event line: refused with file:line */
  char *mal = replace(text, "\"kind\":\"pop\"", "\"kind\":pop");
  CHECK(mal != NULL);
  if (mal) {
    spit(path, mal);
    CHECK_EQ(replay_file(path, msg, sizeof msg), 2);
    CHECK(strncmp(msg, path, strlen(path)) == 0 && msg[strlen(path)] == ':');
    CHECK(strstr(msg, "field 'kind': expected a string") != NULL);
    free(mal);
  }
  free(text);
  unlink(path);
}

int main(void) {
  RUN(test_forced_picks);
  RUN(test_replay_roundtrip);
  TEST_MAIN_END();
}
