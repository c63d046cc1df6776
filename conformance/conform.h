/* conformance/conform.h — conformance runs: a backend through the suites, a
 * verdict per test.
 *
 * Owns: the test plan (suite x scenario x transport x feature-matrix variant x seed, from
 * conformance/suites.json and the scenario files), turning a scenario into the
 * test that runs it (expectations the runner judges itself, the recovery probe
 * after adversarial input), running one test and judging it (pass, fail, warn,
 * reject, wedged, crashed, skip; severity; strict or compat profile), the
 * worker processes that run tests in parallel and survive a backend that
 * crashes or hangs, and expected failures (xfail / xpass).
 * Must never: let the result of a test depend on which worker ran it, on
 * --jobs, or on the wall clock (the per-test wall-clock bound only ever turns
 * a hang into `wedged`; it never decides between two answers).
 */
#ifndef VSIM_CONFORM_H
#define VSIM_CONFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vsim_verdict {
  VSIM_V_PASS = 0,
  VSIM_V_FAIL,
  VSIM_V_WARN,
  VSIM_V_REJECT,
  VSIM_V_WEDGED,
  VSIM_V_CRASHED,
  VSIM_V_SKIP,
  VSIM_V_XFAIL,
  VSIM_V_XPASS,
  VSIM_V__COUNT
};

enum vsim_failure_severity {
  VSIM_FS_NONE = 0, /* pass, or a graceful rejection */
  VSIM_FS_LOW,      /* gave up with NEEDS_RESET where rejecting the one request would do */
  VSIM_FS_MEDIUM,   /* a protocol rule broken, a wrong result */
  VSIM_FS_HIGH,     /* crashed or hung */
  VSIM_FS_CRITICAL, /* memory written outside the writable buffers */
};

enum vsim_profile { VSIM_PROFILE_STRICT = 0, VSIM_PROFILE_COMPAT };
enum vsim_matrix { VSIM_MATRIX_FULL = 0, VSIM_MATRIX_NATIVE };

const char *vsim_verdict_name(enum vsim_verdict v);
const char *vsim_failure_severity_name(enum vsim_failure_severity s);

typedef struct vsim_conform_config {
  const char *backend;        /* backend spec (backend-model/registry.h) */
  const char *device;         /* device type the suites drive: "blk" */
  const char *suite;          /* only this suite, or NULL */
  const char *scenarios_root; /* NULL: found like the other data files */
  const char *suites_file;    /* NULL: conformance/suites.json */
  enum vsim_profile profile;
  enum vsim_matrix matrix;
  int transport;              /* 0: every transport a scenario runs on; 1 + VSIM_TRANSPORT_MMIO / _PCI
                                 (sim/scenario.h): that one only (`--transport`) */
  uint64_t seed;              /* first seed of the random-policy runs */
  unsigned seeds;             /* runs per variant: the scenario as written, then seeds-1 random */
  unsigned jobs;              /* worker processes */
  unsigned test_timeout_s;    /* wall-clock bound per test (0: none) */
  const char *only_test;      /* run just this test id */
  const char *xfail_file;     /* NULL: none */
  bool progress;              /* a progress line on stderr */
  bool details;               /* failing tests: ring picture and trace excerpt */
  /* NULL, or where each test's trace goes, with the backend's calls
   * recorded (backend-model/be_log.h): kept for every test that did not
   * pass, so that it replays without the backend (`virtio-sim replay`) */
  const char *trace_dir;
} vsim_conform_config;

#define VSIM_CONFORM_MAX_CHECKS 8

typedef struct vsim_conform_test {
  char id[256];
  unsigned suite;             /* index into the plan's suites */
  char *path;                 /* scenario file */
  char *rel;                  /* path relative to the scenarios root */
  int ring;                   /* 0 split, 1 packed */
  int transport;              /* 0 virtio-mmio, 1 virtio-pci (the transport is the simulator's own, so
                                 every backend runs over both) */
  uint64_t features_off;      /* bits the driver must not accept */
  unsigned seed_index;        /* 0: as written; k: random policy, seed cfg.seed + k - 1 */
  bool native;                /* the scenario's own configuration */
  bool adversarial;           /* the driver breaks a rule on purpose */
  bool request_level;         /* ...in one request's contents, not in the rings */
  bool needs_builtin_knobs;
  bool protocol;              /* a test of the vhost-user protocol itself (suite area
                                 "vhost-user"): the connection's own findings count here,
                                 and only here */
  char skip[160];             /* non-empty: not applicable, and why */
} vsim_conform_test;

typedef struct vsim_conform_suite {
  char *name, *area, *title, *device;
} vsim_conform_suite;

typedef struct vsim_conform_plan {
  vsim_conform_suite *suites;
  size_t nsuites;
  vsim_conform_test *tests;
  size_t ntests;
  uint64_t offered;           /* what the backend offers (from the probe run) */
  char root[512];             /* scenarios root in use */
} vsim_conform_plan;

typedef struct vsim_conform_check_hit {
  int check;                  /* enum vsim_check_id */
  bool downgraded;            /* compat profile: reported as warn */
} vsim_conform_check_hit;

typedef struct vsim_conform_result {
  enum vsim_verdict verdict;
  enum vsim_failure_severity severity;
  vsim_conform_check_hit checks[VSIM_CONFORM_MAX_CHECKS];
  unsigned nchecks;
  uint64_t step;              /* step of the first failure (0: none) */
  uint64_t steps;             /* steps the run took */
  uint64_t hash;              /* trace hash */
  bool needs_reset;           /* the device signalled DEVICE_NEEDS_RESET */
  char reason[400];           /* one line: why this verdict */
  char xfail_reason[200];
  char *svg;                  /* ring state at the failing step (details) */
  char *excerpt;              /* trace events of the failing step (details) */
} vsim_conform_result;

/* Build the plan: suites from the manifest, scenarios from their directories,
 * the backend's offered features from a probe run. 0, or -1 with err. */
int vsim_conform_plan_build(const vsim_conform_config *cfg, vsim_conform_plan *plan, char *err,
                            size_t errlen);
void vsim_conform_plan_free(vsim_conform_plan *plan);

/* The scenario text test t runs (malloc'd), or NULL with err. */
char *vsim_conform_test_scenario(const vsim_conform_config *cfg, const vsim_conform_test *t,
                                 char *err, size_t errlen);

/* How many steps the recovery probe appends to test t's scenario (0: none). */
size_t vsim_conform_probe_steps(const vsim_conform_config *cfg, const vsim_conform_test *t);

/* Run one test in this process and judge it. */
void vsim_conform_run_one(const vsim_conform_config *cfg, const vsim_conform_test *t,
                          vsim_conform_result *r);

/* Run every test of the plan (in cfg->jobs worker processes) into results[]
 * (plan->ntests entries, caller-allocated). 0, or -1 with err. */
int vsim_conform_run_all(const vsim_conform_config *cfg, const vsim_conform_plan *plan,
                         vsim_conform_result *results, char *err, size_t errlen);

/* Apply the xfail list: a matching test that failed becomes xfail, one that
 * passed becomes xpass. 0, or -1 with err (file:line). */
int vsim_conform_apply_xfail(const char *path, const vsim_conform_plan *plan,
                             vsim_conform_result *results, char *err, size_t errlen);

/* The command that reproduces test t (static buffer per call site: caller copies). */
void vsim_conform_repro(const vsim_conform_config *cfg, const vsim_conform_test *t, char *out,
                        size_t outlen);

/* The checks this backend kind leaves (partly) unjudged, and why: an
 * out-of-process back-end's reads of guest memory are not seen. Shown in
 * the report beside the verdicts, so that a pass is not read as more than
 * it is. Returns how many (*out: a constant table). */
typedef struct vsim_conform_unobserved {
  int check;                  /* enum vsim_check_id */
  const char *why;
} vsim_conform_unobserved;
size_t vsim_conform_unobserved_checks(const vsim_conform_config *cfg, const vsim_conform_unobserved **out);

/* Where test t's trace goes under cfg->trace_dir. */
void vsim_conform_trace_path(const vsim_conform_config *cfg, const vsim_conform_test *t, char *out,
                             size_t outlen);
/* The command that replays test t's kept trace without the backend; false
 * when there is none (no trace_dir, or the test passed). */
bool vsim_conform_replay_cmd(const vsim_conform_config *cfg, const vsim_conform_test *t, char *out,
                             size_t outlen);

void vsim_conform_result_free(vsim_conform_result *r);

#endif
