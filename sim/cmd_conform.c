/* sim/cmd_conform.c — `virtio-sim conform`: a backend through the conformance
 * suites, a verdict per test, a summary, and the reports.
 *
 * Owns: the command line of `conform`, the progress line (stderr), the
 * summary table and the list of failures (stdout), and the exit status:
 * 0 nothing failed, 1 something did (fail, wedged, crashed or xpass), 2 a
 * usage error or a plan that cannot be built.
 * Must never: print to stdout anything that depends on the wall clock, the
 * host or --jobs: two runs print the same bytes.
 */
#include <inttypes.h>
#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli_args.h"
#include "cmd_conform.h"
#include "conform.h"
#include "conform_report.h"
#include "daemon.h"
#include "scenario.h"
#include "virtiosim/checks.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: virtio-sim conform --backend SPEC --device TYPE [--suite NAME]\n"
          "           [--profile strict|compat] [--seed N] [--seeds K] [--matrix full|native]\n"
          "           [--transport mmio|pci]  only that transport (default: both, virtio-pci with the\n"
          "                           scenario's own features; a scenario written for one runs on it)\n"
          "           [--jobs N] [--timeout SEC] [--xfail FILE] [--report DIR]\n"
          "           [--scenarios DIR] [--suites FILE] [--test ID] [--list] [--quiet] [--no-details]\n"
          "           [--traces DIR]  keep each failing test's trace there (default for a back-end that is not\n"
          "                           built in, with --report: REPORT/traces; its calls are recorded, so the\n"
          "                           trace replays without it: virtio-sim replay TRACE)\n"
          "  SPEC: builtin:blk[?mutant=NAME[,NAME]] | plugin:PATH.so | vhost-user:SOCKET\n"
          "        | vhost-user --backend-cmd 'DAEMON ... {socket}'  (a fresh daemon per test; {dir}: its private directory)\n"
          "  exit: 0 nothing failed, 1 a test failed (fail, wedged, crashed, xpass), 2 usage\n");
}

static bool counts_as_failure(enum vsim_verdict v) {
  return v == VSIM_V_FAIL || v == VSIM_V_WEDGED || v == VSIM_V_CRASHED || v == VSIM_V_XPASS;
}

static void print_summary(const vsim_conform_config *cfg, const vsim_conform_plan *plan,
                          const vsim_conform_result *res) {
  /* the first column as wide as the longest suite name */
  int w = 12;
  for (size_t s = 0; s < plan->nsuites; s++)
    if ((int)strlen(plan->suites[s].name) > w) w = (int)strlen(plan->suites[s].name);
  printf("%-*s", w, "suite");
  for (int v = 0; v < VSIM_V__COUNT; v++) printf(" %7s", vsim_verdict_name((enum vsim_verdict)v));
  printf(" %7s\n", "total");
  size_t tot[VSIM_V__COUNT + 1] = {0};
  for (size_t s = 0; s < plan->nsuites; s++) {
    size_t c[VSIM_V__COUNT + 1] = {0};
    for (size_t i = 0; i < plan->ntests; i++)
      if (plan->tests[i].suite == s) {
        c[res[i].verdict]++;
        c[VSIM_V__COUNT]++;
      }
    if (!c[VSIM_V__COUNT]) continue;
    printf("%-*s", w, plan->suites[s].name);
    for (int v = 0; v <= VSIM_V__COUNT; v++) {
      printf(" %7zu", c[v]);
      tot[v] += c[v];
    }
    printf("\n");
  }
  printf("%-*s", w, "all");
  for (int v = 0; v <= VSIM_V__COUNT; v++) printf(" %7zu", tot[v]);
  printf("\n");
  (void)cfg;
}

static void print_failures(const vsim_conform_config *cfg, const vsim_conform_plan *plan,
                           const vsim_conform_result *res, bool verbose) {
  size_t shown = 0, total = 0;
  for (size_t i = 0; i < plan->ntests; i++) {
    const vsim_conform_result *r = &res[i];
    bool bad = counts_as_failure(r->verdict) || r->verdict == VSIM_V_WARN;
    if (!bad && !verbose) continue;
    total++;
    if (!verbose && shown >= 40) continue;
    shown++;
    printf("%-7s %-8s %s\n", vsim_verdict_name(r->verdict), vsim_failure_severity_name(r->severity),
           plan->tests[i].id);
    if (r->reason[0]) printf("        %s\n", r->reason);
    for (unsigned k = 0; k < r->nchecks; k++) {
      const vsim_check_info *ci = vsim_check_info_get(r->checks[k].check);
      printf("        %s [%s] %s\n", ci->id, ci->severity == VSIM_SEV_MUST ? "MUST" : "SHOULD", ci->label);
    }
    if (r->xfail_reason[0]) printf("        expected to fail: %s\n", r->xfail_reason);
    if (bad) {
      char repro[1024];
      vsim_conform_repro(cfg, &plan->tests[i], repro, sizeof repro);
      printf("        reproduce: %s\n", repro);
      if (vsim_conform_replay_cmd(cfg, &plan->tests[i], repro, sizeof repro))
        printf("        replay without the back-end: %s\n", repro);
    }
    if (verbose && r->excerpt) printf("        events of step %" PRIu64 ":\n%s", r->step, r->excerpt);
  }
  if (total > shown) printf("... and %zu more (see the report)\n", total - shown);
}

static int conform_command(int argc, char **argv);

/* mkdir -p: every missing directory of `path`; 0, or -1 with errno. */
static int make_dirs(const char *path) {
  char buf[1024];
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof buf) {
    errno = n ? ENAMETOOLONG : ENOENT;
    return -1;
  }
  memcpy(buf, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char c = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, 0777) && errno != EEXIST) return -1;
    buf[i] = c;
  }
  return 0;
}

int vsim_cli_conform_command(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "conform") != 0) return -1;
  /* a worker that hangs is SIGKILLed and cannot remove the directory of the
   * daemon it started: every daemon directory of this run goes under one
   * root of our own, swept when the run ends; under $TMPDIR when that is
   * short enough for the sockets below it (daemon.c), else under /tmp */
  const char *tmp = getenv("TMPDIR");
  if (!tmp || tmp[0] != '/' || strlen(tmp) > 24) tmp = "/tmp";
  char root[64];
  snprintf(root, sizeof root, "%s/vsim-conform-XXXXXX", tmp);
  bool own_root = !getenv(VSIM_DAEMON_ROOT_ENV) && mkdtemp(root) != NULL;
  if (own_root) setenv(VSIM_DAEMON_ROOT_ENV, root, 1);
  int rc = conform_command(argc, argv);
  if (own_root) {
    unsetenv(VSIM_DAEMON_ROOT_ENV);
    vsim_daemon_sweep(root);
  }
  return rc;
}

static int conform_command(int argc, char **argv) {
  vsim_conform_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.seed = 1;
  cfg.seeds = 2;
  cfg.jobs = 1;
  cfg.test_timeout_s = 60;
  cfg.details = true;
  const char *report_dir = NULL, *backend_cmd = NULL;
  char spec[4096];
  bool quiet = false, list = false;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    uint64_t n;
#define VALUE() \
  do {          \
    if (!v) goto bad; \
    i++;        \
  } while (0)
    if (strcmp(a, "--backend") == 0) { VALUE(); cfg.backend = v; }
    else if (strcmp(a, "--backend-cmd") == 0) { VALUE(); backend_cmd = v; }
    else if (strcmp(a, "--device") == 0) { VALUE(); cfg.device = v; }
    else if (strcmp(a, "--suite") == 0) { VALUE(); cfg.suite = v; }
    else if (strcmp(a, "--scenarios") == 0) { VALUE(); cfg.scenarios_root = v; }
    else if (strcmp(a, "--suites") == 0) { VALUE(); cfg.suites_file = v; }
    else if (strcmp(a, "--test") == 0) { VALUE(); cfg.only_test = v; }
    else if (strcmp(a, "--xfail") == 0) { VALUE(); cfg.xfail_file = v; }
    else if (strcmp(a, "--report") == 0) { VALUE(); report_dir = v; }
    else if (strcmp(a, "--traces") == 0) { VALUE(); cfg.trace_dir = v; }
    else if (strcmp(a, "--profile") == 0) {
      VALUE();
      if (strcmp(v, "strict") == 0) cfg.profile = VSIM_PROFILE_STRICT;
      else if (strcmp(v, "compat") == 0) cfg.profile = VSIM_PROFILE_COMPAT;
      else goto bad;
    } else if (strcmp(a, "--transport") == 0) {
      VALUE();
      if (strcmp(v, "mmio") == 0) cfg.transport = 1 + VSIM_TRANSPORT_MMIO;
      else if (strcmp(v, "pci") == 0) cfg.transport = 1 + VSIM_TRANSPORT_PCI;
      else goto bad;
    } else if (strcmp(a, "--matrix") == 0) {
      VALUE();
      if (strcmp(v, "full") == 0) cfg.matrix = VSIM_MATRIX_FULL;
      else if (strcmp(v, "native") == 0) cfg.matrix = VSIM_MATRIX_NATIVE;
      else goto bad;
    } else if (strcmp(a, "--seed") == 0) {
      if (vsim_cli_parse_u64(v, &cfg.seed)) goto bad;
      i++;
    } else if (strcmp(a, "--seeds") == 0) {
      if (vsim_cli_parse_u64(v, &n) || n < 1 || n > 1000) goto bad;
      cfg.seeds = (unsigned)n;
      i++;
    } else if (strcmp(a, "--jobs") == 0) {
      if (vsim_cli_parse_u64(v, &n) || n < 1 || n > 64) goto bad;
      cfg.jobs = (unsigned)n;
      i++;
    } else if (strcmp(a, "--timeout") == 0) {
      if (vsim_cli_parse_u64(v, &n) || n > 86400) goto bad;
      cfg.test_timeout_s = (unsigned)n;
      i++;
    } else if (strcmp(a, "--quiet") == 0) {
      quiet = true;
    } else if (strcmp(a, "--no-details") == 0) {
      cfg.details = false;
    } else if (strcmp(a, "--list") == 0) {
      list = true;
    } else {
      fprintf(stderr, "virtio-sim conform: unexpected argument '%s'\n", a);
      usage(stderr);
      return 2;
    }
#undef VALUE
    continue;
  bad:
    fprintf(stderr, "virtio-sim conform: bad or missing value for %s\n", a);
    usage(stderr);
    return 2;
  }
  if (!cfg.backend || !cfg.device) {
    fprintf(stderr, "virtio-sim conform: --backend and --device are required\n");
    usage(stderr);
    return 2;
  }
  if (vsim_cli_backend_cmd(cfg.backend, backend_cmd, spec, sizeof spec, &cfg.backend)) return 2;
  cfg.progress = !quiet && !cfg.only_test && isatty(2);
  /* a back-end that is not ours may not be there tomorrow: the report keeps
   * each failing test's trace, its calls recorded, to replay without it */
  char traces[1024];
  if (!cfg.trace_dir && report_dir && strncmp(cfg.backend, "builtin:", 8) != 0 &&
      strchr(cfg.backend, ':')) {
    snprintf(traces, sizeof traces, "%s/traces", report_dir);
    cfg.trace_dir = traces;
  }
  /* the report's directory (and its parents) first: a run of minutes must
   * not end in "cannot create" */
  if (report_dir && !list && make_dirs(report_dir)) {
    fprintf(stderr, "virtio-sim conform: cannot create %s: %s\n", report_dir, strerror(errno));
    return 2;
  }
  if (cfg.trace_dir && !list) {
    if (mkdir(cfg.trace_dir, 0777) && errno != EEXIST) {
      fprintf(stderr, "virtio-sim conform: cannot create %s: %s\n", cfg.trace_dir, strerror(errno));
      return 2;
    }
  }
  char err[1024];
  vsim_conform_plan plan;
  if (vsim_conform_plan_build(&cfg, &plan, err, sizeof err)) {
    fprintf(stderr, "virtio-sim conform: %s\n", err);
    vsim_conform_plan_free(&plan);
    return 2;
  }
  if (list) {
    for (size_t i = 0; i < plan.ntests; i++)
      printf("%s%s%s%s\n", plan.tests[i].id, plan.tests[i].skip[0] ? "  (skip: " : "",
             plan.tests[i].skip, plan.tests[i].skip[0] ? ")" : "");
    vsim_conform_plan_free(&plan);
    return 0;
  }
  vsim_conform_result *res = calloc(plan.ntests ? plan.ntests : 1, sizeof *res);
  int rc = res ? 0 : -1;
  /* always in worker processes, even one test: a backend that crashes or
   * hangs must give a verdict, not take the runner down */
  if (rc == 0) rc = vsim_conform_run_all(&cfg, &plan, res, err, sizeof err);
  if (rc == 0 && cfg.xfail_file) rc = vsim_conform_apply_xfail(cfg.xfail_file, &plan, res, err, sizeof err);
  if (rc) {
    fprintf(stderr, "virtio-sim conform: %s\n", err);
    free(res);
    vsim_conform_plan_free(&plan);
    return 2;
  }
  printf("virtio-sim conform: backend %s, device %s, profile %s, %zu tests (offered features 0x%016" PRIx64 ")\n",
         cfg.backend, cfg.device, cfg.profile == VSIM_PROFILE_COMPAT ? "compat" : "strict", plan.ntests,
         plan.offered);
  const vsim_conform_unobserved *un;
  size_t nun = vsim_conform_unobserved_checks(&cfg, &un);
  for (size_t i = 0; i < nun; i++)
    printf("out of process: %s: %s\n", vsim_check_info_get(un[i].check)->id, un[i].why);
  if (!quiet || cfg.only_test) print_failures(&cfg, &plan, res, cfg.only_test != NULL);
  print_summary(&cfg, &plan, res);
  int exit_code = 0;
  for (size_t i = 0; i < plan.ntests; i++)
    if (counts_as_failure(res[i].verdict)) exit_code = 1;
  if (report_dir) {
    if (vsim_conform_report_write(report_dir, &cfg, &plan, res, err, sizeof err)) {
      fprintf(stderr, "virtio-sim conform: %s\n", err);
      exit_code = 2;
    } else {
      printf("report: %s/index.html, %s/report.json, %s/junit.xml\n", report_dir, report_dir, report_dir);
    }
  }
  printf("result: %s\n", exit_code == 0 ? "PASS" : "FAIL");
  for (size_t i = 0; i < plan.ntests; i++) vsim_conform_result_free(&res[i]);
  free(res);
  vsim_conform_plan_free(&plan);
  return exit_code;
}
