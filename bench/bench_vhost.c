/* bench/bench_vhost.c — what an out-of-process vhost-user back-end costs.
 *
 * Owns: the vhost-user figures of `make bench` (stdout and
 * out/bench_vhost.json, which bench_blk folds into out/bench.json):
 *  - per request, the same scenario (512-byte writes and reads in turn,
 *    queue size 128, batch 1 and 16; a 256-request body run once or 16 times)
 *    against qemu-storage-daemon's
 *    vhost-user-blk export and against the built-in blk model: the whole run
 *    of N_SHORT and of N_LONG requests (wall time: the daemon is another
 *    process, so this thread's CPU time would leave its share out), and from
 *    the two the cost of one request without the start-up (daemon start,
 *    socket, handshake, memory table, ring set-up, and the stop at the end):
 *    (t(N_LONG) - t(N_SHORT)) / (N_LONG - N_SHORT), the start-up being what
 *    is left of t(N_SHORT); the best (shortest) of REPS runs, as the machine
 *    may be shared and other work only ever adds time;
 *  - the wall time of the blk suite against the daemon (--matrix native,
 *    2 jobs, a fresh daemon per test), with its verdicts.
 * The daemon is the README's: a fresh 1 MiB raw image in a private temporary
 * directory, started and stopped by PID by the library's launcher
 * (backend-model/daemon.c: 10 s to listen, 5 s per reply, SIGTERM then
 * SIGKILL, a parent-death signal). An alarm bounds the whole program. No
 * daemon installed: a message and {"skipped": ...}, exit status 0.
 * Wall-clock time is read here, in the benchmark, never in the engine.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "conform.h"
#include "virtiosim/virtiosim.h"

#define N_SHORT 256
#define N_LONG 4096
#define REPS 5
#define ALARM_S 240 /* the whole program; the suite's tests are bounded by TEST_TIMEOUT_S each */
#define TEST_TIMEOUT_S 60

/* README.md's copy-and-paste daemon, as `--backend-cmd` takes it */
#define QSD_CMD                                                                                          \
  "sh -c \"truncate -s 1M {dir}/disk.img && exec qemu-storage-daemon --blockdev "                        \
  "driver=file,node-name=disk,filename={dir}/disk.img --export "                                         \
  "type=vhost-user-blk,id=exp,node-name=disk,addr.type=unix,addr.path={socket},writable=on,num-queues=4\""
#define QSD_BACKEND "vhost-user:?cmd=" QSD_CMD

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The daemon's path on PATH, or false. */
static bool find_daemon(char *out, size_t outlen) {
  const char *path = getenv("PATH");
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (char *save = NULL, *dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
    snprintf(out, outlen, "%s/qemu-storage-daemon", dir);
    if (access(out, X_OK) == 0) return true;
  }
  return false;
}

/* The first line of `qemu-storage-daemon --version`, JSON-safe. */
static void daemon_version(const char *bin, char *out, size_t outlen) {
  char cmd[4400];
  snprintf(out, outlen, "?");
  if ((size_t)snprintf(cmd, sizeof cmd, "timeout 10 '%s' --version 2>/dev/null", bin) >= sizeof cmd) return;
  FILE *p = popen(cmd, "r");
  if (!p) return;
  if (fgets(out, (int)outlen, p)) {
    out[strcspn(out, "\r\n")] = 0;
    for (char *c = out; *c; c++)
      if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20) *c = ' ';
  }
  pclose(p);
}

/* n requests (a multiple of BODY): a body of BODY 512-byte writes and reads
 * of the same sectors in turn, run n / BODY times ("repeat"), `batch` per
 * driver and device step. One body whatever n is, so that loading the
 * scenario (some microseconds per step) costs the short and the long run
 * the same and drops out of the per-request figure. */
#define BODY 256
static char *make_scenario(unsigned n, unsigned batch) {
  size_t cap = 512 + (size_t)BODY * 96;
  char *s = malloc(cap);
  if (!s) return NULL;
  size_t k = (size_t)snprintf(s, cap,
                              "{\"name\":\"bench-vhost\",\"device\":\"blk\",\"queue_size\":128,"
                              "\"driver_batch\":%u,\"device_batch\":%u,\"max_steps\":1000000000,\"repeat\":%u,"
                              "\"steps\":[",
                              batch, batch, n / BODY);
  for (unsigned i = 0; i < BODY; i++)
    k += (size_t)snprintf(s + k, cap - k, "{\"op\":\"blk.%s\",\"sector\":%u,%s},", i % 2 ? "read" : "write",
                          i / 2, i % 2 ? "\"len\":512" : "\"data\":{\"fill\":7,\"len\":512}");
  snprintf(s + k, cap - k, "{\"op\":\"wait\"}]}");
  return s;
}

/* One whole run (load: for vhost-user the daemon's start and the connection;
 * the run; the free: the daemon's stop), wall time; <0 when it did not
 * complete every request. */
static double whole_run(const char *backend, const char *json, unsigned n) {
  vsim_options o;
  memset(&o, 0, sizeof o);
  o.backend = backend;
  /* the daemon's known handshake findings are the vhost-user suite's to judge */
  o.violations_judged_by_caller = true;
  char err[1024];
  double t0 = now_s();
  vsim_sim *s = vsim_sim_load_buffer(json, strlen(json), "bench-vhost", &o, err, sizeof err);
  if (!s) {
    fprintf(stderr, "bench_vhost: %s: %s\n", backend, err);
    return -1;
  }
  vsim_sim_run(s);
  vsim_counters c;
  vsim_sim_counters(s, &c);
  size_t nfail = vsim_sim_failure_count(s);
  for (size_t i = 0; i < nfail && i < 3; i++) fprintf(stderr, "bench_vhost: %s: %s\n", backend, vsim_sim_failure(s, i));
  vsim_sim_free(s);
  double t = now_s() - t0;
  if (c.completed != n || nfail) {
    fprintf(stderr, "bench_vhost: %s: %" PRIu64 " of %u requests completed\n", backend, (uint64_t)c.completed, n);
    return -1;
  }
  return t;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct cost {
  const char *name, *backend;
  unsigned batch;
  double t_short, t_long; /* best of REPS, seconds */
  double per_req_us, startup_ms;
  bool ok;
} cost;

static void measure(cost *c) {
  char *js = make_scenario(N_SHORT, c->batch), *jl = make_scenario(N_LONG, c->batch);
  double ts[REPS], tl[REPS];
  c->ok = js && jl;
  for (int r = 0; r < REPS && c->ok; r++) {
    ts[r] = whole_run(c->backend, js, N_SHORT);
    tl[r] = ts[r] < 0 ? -1 : whole_run(c->backend, jl, N_LONG);
    c->ok = ts[r] >= 0 && tl[r] >= 0;
  }
  free(js);
  free(jl);
  if (!c->ok) return;
  /* best of REPS: on a shared machine other work only ever adds time */
  qsort(ts, REPS, sizeof ts[0], cmp_double);
  qsort(tl, REPS, sizeof tl[0], cmp_double);
  c->t_short = ts[0];
  c->t_long = tl[0];
  double per = (c->t_long - c->t_short) / (N_LONG - N_SHORT);
  c->per_req_us = 1e6 * per;
  c->startup_ms = 1e3 * (c->t_short - per * N_SHORT);
}

typedef struct suite_fig {
  size_t tests;
  double seconds;
  size_t verdicts[VSIM_V__COUNT];
  bool ok;
} suite_fig;

static suite_fig blk_suite(const char *backend) {
  suite_fig f;
  memset(&f, 0, sizeof f);
  vsim_conform_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.backend = backend;
  cfg.device = "blk";
  cfg.suite = "blk";
  cfg.matrix = VSIM_MATRIX_NATIVE;
  cfg.seed = 1;
  cfg.seeds = 1;
  cfg.jobs = 2;
  cfg.test_timeout_s = TEST_TIMEOUT_S;
  char err[1024];
  double t0 = now_s();
  vsim_conform_plan plan;
  if (vsim_conform_plan_build(&cfg, &plan, err, sizeof err)) {
    fprintf(stderr, "bench_vhost: %s\n", err);
    return f;
  }
  vsim_conform_result *res = calloc(plan.ntests ? plan.ntests : 1, sizeof *res);
  if (!res || vsim_conform_run_all(&cfg, &plan, res, err, sizeof err)) {
    fprintf(stderr, "bench_vhost: %s\n", res ? err : "out of memory");
    free(res);
    vsim_conform_plan_free(&plan);
    return f;
  }
  f.seconds = now_s() - t0;
  f.tests = plan.ntests;
  for (size_t i = 0; i < plan.ntests; i++) {
    if ((unsigned)res[i].verdict < VSIM_V__COUNT) f.verdicts[res[i].verdict]++;
    vsim_conform_result_free(&res[i]);
  }
  free(res);
  vsim_conform_plan_free(&plan);
  f.ok = true;
  return f;
}

static void json_verdicts(FILE *f, const suite_fig *s) {
  fprintf(f, "{");
  bool first = true;
  for (int v = 0; v < VSIM_V__COUNT; v++)
    if (s->verdicts[v]) {
      fprintf(f, "%s\"%s\":%zu", first ? "" : ",", vsim_verdict_name((enum vsim_verdict)v), s->verdicts[v]);
      first = false;
    }
  fprintf(f, "}");
}

int main(void) {
  alarm(ALARM_S); /* SIGALRM ends us; a daemon we started dies with us (parent-death signal) */
  mkdir("out", 0777);
  char bin[4200];
  if (!find_daemon(bin, sizeof bin)) {
    const char *why = "qemu-storage-daemon is not installed (Debian: apt-get install qemu-system-common)";
    printf("\nvhost-user: skipped: %s\n", why);
    FILE *f = fopen("out/bench_vhost.json", "w");
    if (f) {
      fprintf(f, "{\"skipped\":\"%s\"}\n", why);
      fclose(f);
    }
    return 0;
  }
  char version[200];
  daemon_version(bin, version, sizeof version);

  cost costs[] = {
      {"built-in blk model", "builtin:blk", 1, 0, 0, 0, 0, false},
      {"qemu-storage-daemon", QSD_BACKEND, 1, 0, 0, 0, 0, false},
      {"built-in blk model", "builtin:blk", 16, 0, 0, 0, 0, false},
      {"qemu-storage-daemon", QSD_BACKEND, 16, 0, 0, 0, 0, false},
  };
  const size_t ncost = sizeof costs / sizeof costs[0];
  for (size_t i = 0; i < ncost; i++) measure(&costs[i]);
  suite_fig qsd = blk_suite(QSD_BACKEND), builtin = blk_suite("builtin:blk");

  printf("\nvhost-user: %s (vhost-user-blk on a 1 MiB raw image) vs the built-in blk model\n", version);
  printf("  the same scenario: 512-byte writes and reads in turn, queue size 128, split ring; wall time, best of %d\n",
         REPS);
  printf("  %-22s %5s %14s %14s %14s %12s\n", "backend", "batch", "run of 256 (s)", "run of 4096 (s)",
         "us/request", "start-up (ms)");
  for (size_t i = 0; i < ncost; i++) {
    const cost *c = &costs[i];
    if (!c->ok) {
      printf("  %-22s %5u   FAILED (see above)\n", c->name, c->batch);
      continue;
    }
    printf("  %-22s %5u %14.3f %14.3f %14.1f %12.1f\n", c->name, c->batch, c->t_short, c->t_long, c->per_req_us,
           c->startup_ms);
  }
  for (size_t i = 0; i + 1 < ncost; i += 2)
    if (costs[i].ok && costs[i + 1].ok && costs[i].per_req_us > 0)
      printf("  batch %u: a request costs %.0f x the built-in model's against the daemon\n", costs[i].batch,
             costs[i + 1].per_req_us / costs[i].per_req_us);
  printf("  us/request: (t(4096) - t(256)) / 3840, without the start-up (daemon start, connection, handshake,\n"
         "  ring set-up, and its stop); start-up: the rest of t(256)\n");
  const suite_fig *sf[] = {&qsd, &builtin};
  const char *sn[] = {"qemu-storage-daemon", "built-in blk model"};
  for (int k = 0; k < 2; k++) {
    if (!sf[k]->ok) {
      printf("  blk suite (--matrix native, 2 jobs) against the %s: FAILED to run\n", sn[k]);
      continue;
    }
    printf("  blk suite (--matrix native, 2 jobs%s) against the %s: %zu tests in %.2f s (", 
           k == 0 ? ", a fresh daemon per test" : "", sn[k], sf[k]->tests, sf[k]->seconds);
    bool first = true;
    for (int v = 0; v < VSIM_V__COUNT; v++)
      if (sf[k]->verdicts[v]) {
        printf("%s%zu %s", first ? "" : ", ", sf[k]->verdicts[v], vsim_verdict_name((enum vsim_verdict)v));
        first = false;
      }
    printf(")\n");
  }

  FILE *f = fopen("out/bench_vhost.json", "w");
  if (f) {
    fprintf(f, "{\"daemon\":\"%s\",\"requests_short\":%d,\"requests_long\":%d,\"best_of\":%d,\"per_request\":[",
            version, N_SHORT, N_LONG, REPS);
    for (size_t i = 0; i < ncost; i++) {
      const cost *c = &costs[i];
      fprintf(f, "%s{\"backend\":\"%s\",\"batch\":%u,\"ok\":%s", i ? "," : "",
              strncmp(c->backend, "builtin", 7) == 0 ? "builtin:blk" : "qemu-storage-daemon", c->batch,
              c->ok ? "true" : "false");
      if (c->ok)
        fprintf(f, ",\"run_short_s\":%.4f,\"run_long_s\":%.4f,\"us_per_request\":%.2f,\"startup_ms\":%.2f",
                c->t_short, c->t_long, c->per_req_us, c->startup_ms);
      fprintf(f, "}");
    }
    fprintf(f, "],\"blk_suite_native\":{");
    for (int k = 0; k < 2; k++) {
      fprintf(f, "%s\"%s\":{\"ok\":%s,\"tests\":%zu,\"seconds\":%.3f,\"verdicts\":", k ? "," : "",
              k == 0 ? "qemu-storage-daemon" : "builtin:blk", sf[k]->ok ? "true" : "false", sf[k]->tests,
              sf[k]->seconds);
      json_verdicts(f, sf[k]);
      fprintf(f, "}");
    }
    fprintf(f, "}}\n");
    fclose(f);
  }
  bool all_ok = qsd.ok && builtin.ok;
  for (size_t i = 0; i < ncost; i++) all_ok &= costs[i].ok;
  return all_ok ? 0 : 1;
}
