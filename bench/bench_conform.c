/* bench/bench_conform.c — how long the conformance suites take.
 *
 * Owns: the wall time of `virtio-sim conform` against the built-in blk model:
 * the blk suite alone and every suite, over the full feature matrix with two
 * runs per variant (the defaults), in one worker process and in two. Figures
 * go to stdout and out/bench_conform.json. Wall-clock time is read here, in
 * the benchmark, never in the engine.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "conform.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct fig {
  size_t tests, failed;
  double seconds;
} fig;

static int run(const char *suite, unsigned jobs, fig *out) {
  vsim_conform_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.backend = "builtin:blk";
  cfg.device = "blk";
  cfg.suite = suite;
  cfg.seed = 1;
  cfg.seeds = 2;
  cfg.jobs = jobs;
  cfg.test_timeout_s = 60;
  cfg.details = true;
  char err[1024];
  double t0 = now_s();
  vsim_conform_plan plan;
  if (vsim_conform_plan_build(&cfg, &plan, err, sizeof err)) {
    fprintf(stderr, "bench_conform: %s\n", err);
    return -1;
  }
  static vsim_conform_result res[1 << 16];
  if (plan.ntests > sizeof res / sizeof res[0] ||
      vsim_conform_run_all(&cfg, &plan, res, err, sizeof err)) {
    fprintf(stderr, "bench_conform: %s\n", plan.ntests > 65536 ? "too many tests" : err);
    vsim_conform_plan_free(&plan);
    return -1;
  }
  out->seconds = now_s() - t0;
  out->tests = plan.ntests;
  out->failed = 0;
  for (size_t i = 0; i < plan.ntests; i++) {
    if (res[i].verdict == VSIM_V_FAIL || res[i].verdict == VSIM_V_WEDGED || res[i].verdict == VSIM_V_CRASHED)
      out->failed++;
    vsim_conform_result_free(&res[i]);
  }
  vsim_conform_plan_free(&plan);
  return 0;
}

int main(void) {
  fig blk1, blk2, all1, all2;
  if (run("blk", 1, &blk1) || run("blk", 2, &blk2) || run(NULL, 1, &all1) || run(NULL, 2, &all2)) return 2;
  printf("virtio-sim conform bench (builtin:blk, full matrix, 2 runs per variant)\n");
  printf("  %-28s %8s %10s %12s\n", "what", "tests", "seconds", "tests/s");
  const struct {
    const char *what;
    fig *f;
  } rows[] = {{"blk suite, 1 job", &blk1}, {"blk suite, 2 jobs", &blk2}, {"all suites, 1 job", &all1},
              {"all suites, 2 jobs", &all2}};
  for (int i = 0; i < 4; i++)
    printf("  %-28s %8zu %10.2f %12.0f%s\n", rows[i].what, rows[i].f->tests, rows[i].f->seconds,
           rows[i].f->tests / rows[i].f->seconds, rows[i].f->failed ? "  (FAILURES)" : "");
  FILE *f = fopen("out/bench_conform.json", "w");
  if (f) {
    fprintf(f,
            "{\"blk_suite_tests\":%zu,\"blk_suite_seconds_1job\":%.3f,\"blk_suite_seconds_2jobs\":%.3f,"
            "\"all_suites_tests\":%zu,\"all_suites_seconds_1job\":%.3f,\"all_suites_seconds_2jobs\":%.3f}\n",
            blk1.tests, blk1.seconds, blk2.seconds, all1.tests, all1.seconds, all2.seconds);
    fclose(f);
  }
  return blk1.failed || all1.failed ? 1 : 0;
}
