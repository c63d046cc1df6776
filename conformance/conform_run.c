/* conformance/conform_run.c — running conformance tests and judging them
 * (see conform.h).
 *
 * Owns: one test's run (with the options that make it the test: ring, the
 * features the driver must not accept, the seed and policy, the backend) and
 * its verdict; the details of a failure (the ring state at the failing step
 * as SVG, the trace events of that step); the worker processes; xfail.
 * Must never: let a backend's crash or hang take the runner down: tests run
 * in worker processes, a worker that dies has its test recorded as crashed
 * and is replaced; one that stops answering is killed and its test recorded
 * as wedged.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "conform.h"
#include "show.h"
#include "trace.h"
#include "virtiosim/backend.h"
#include "virtiosim/checks.h"
#include "virtiosim/virtiosim.h"

static const char *const verdict_names[VSIM_V__COUNT] = {
    "pass", "fail", "warn", "reject", "wedged", "crashed", "skip", "xfail", "xpass"};
const char *vsim_verdict_name(enum vsim_verdict v) {
  return (unsigned)v < VSIM_V__COUNT ? verdict_names[v] : "?";
}

const char *vsim_failure_severity_name(enum vsim_failure_severity s) {
  static const char *const n[] = {"none", "low", "medium", "high", "critical"};
  return (unsigned)s <= VSIM_FS_CRITICAL ? n[s] : "?";
}

/* Compat profile: rules real devices are known to break and drivers are
 * known to tolerate; reported as warn instead of fail. */
static bool compat_tolerates(int check) {
  switch (check) {
    /* used len counted over the device-readable buffers too (seen in QEMU's
     * and others' block devices; Linux ignores len for blk) */
    case VSIM_CHK_USED_LEN_OVER:
    case VSIM_CHK_PACKED_USED_LEN: return true;
    default: return false;
  }
}

static bool critical_check(int check) {
  return check == VSIM_CHK_MEM_DEV_WRITE_RO || check == VSIM_CHK_MEM_DEV_OOB;
}

/* The first reason of each kind; the verdict picks which one is shown. */
enum reason_kind { R_FAIL = 0, R_WEDGED, R_WARN, R_INFO, R_CRASHED, R__COUNT };
typedef struct reasons {
  char text[R__COUNT][400];
} reasons;

__attribute__((format(printf, 3, 4))) static void note(reasons *rs, enum reason_kind k, const char *fmt, ...) {
  if (rs->text[k][0]) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(rs->text[k], sizeof rs->text[k], fmt, ap);
  va_end(ap);
}

static void add_check(vsim_conform_result *r, int check, bool downgraded) {
  for (unsigned i = 0; i < r->nchecks; i++)
    if (r->checks[i].check == check) return;
  if (r->nchecks < VSIM_CONFORM_MAX_CHECKS) r->checks[r->nchecks++] = (vsim_conform_check_hit){check, downgraded};
}

typedef struct run_watch {
  uint64_t needs_reset_step; /* first NEEDS_RESET event, 0 none */
  uint64_t want_step;        /* details: collect events of this step */
  char *buf;
  size_t len;
  FILE *excerpt;
  unsigned lines;
} run_watch;

static void on_event(void *ctx, uint64_t step, int32_t actor, int32_t kind, int32_t q, uint64_t a,
                     uint64_t b, uint64_t c, uint64_t d) {
  run_watch *w = ctx;
  if (kind == VSIM_EV_NEEDS_RESET && !w->needs_reset_step) w->needs_reset_step = step ? step : 1;
  if (w->excerpt && step == w->want_step && w->lines < 48) {
    const char *an = actor == 0 ? "driver" : actor > 0 ? "device" : "timer";
    fprintf(w->excerpt, "step %" PRIu64 " %s%s%.0d %s q=%d a=0x%" PRIx64 " b=0x%" PRIx64 " c=0x%" PRIx64
                        " d=0x%" PRIx64 "\n",
            step, an, actor > 0 ? ":q" : "", actor > 0 ? actor - 1 : 0, vsim_event_kind_name(kind), q, a, b,
            c, d);
    w->lines++;
  }
}

static vsim_sim *load_test(const vsim_conform_config *cfg, const vsim_conform_test *t, run_watch *w,
                           size_t *probe_start, const char *trace_path, char *err, size_t errlen) {
  char *text = vsim_conform_test_scenario(cfg, t, err, errlen);
  if (!text) return NULL;
  vsim_options o;
  memset(&o, 0, sizeof o);
  o.backend = cfg->backend;
  o.has_ring = true;
  o.ring = t->ring;
  o.features_off = t->features_off;
  o.has_transport = true;
  o.transport = t->transport;
  o.violations_judged_by_caller = true;
  if (t->seed_index > 0) {
    o.has_policy = true;
    o.policy = 2; /* random */
    o.has_seed = true;
    o.seed = cfg->seed + t->seed_index - 1;
  }
  o.on_event = on_event;
  o.on_event_ctx = w;
  o.trace_path = trace_path;
  vsim_sim *s = vsim_sim_load_buffer(text, strlen(text), t->rel, &o, err, errlen);
  free(text);
  if (s && probe_start) {
    /* the probe is the last steps appended by vsim_conform_test_scenario */
    size_t probe = vsim_conform_probe_steps(cfg, t);
    *probe_start = probe ? vsim_sim_script_length(s) - probe : SIZE_MAX;
  }
  return s;
}

static bool is_stuck_failure(const char *msg) {
  return strncmp(msg, "the run hit max_steps", 21) == 0 || strncmp(msg, "the script stopped", 18) == 0;
}

static void judge(const vsim_conform_config *cfg, const vsim_conform_test *t, vsim_sim *s,
                  const run_watch *w, bool probe_started, size_t nviol_main, size_t nfail_main,
                  vsim_conform_result *r) {
  bool fail = false, warn = false, wedged = false, crashed = false;
  reasons rs;
  memset(&rs, 0, sizeof rs);
  uint64_t first_step = 0;
  if (!t->adversarial) {
    /* A well-formed test that this device's own limits make malformed: a
     * DISCARD / WRITE_ZEROES with more segments than its config space allows
     * (drivernormative Block Device / Device Operation: such requests "MUST
     * NOT contain more than max_discard_seg ... segments"). What the device
     * answers to it is not the test's question: not applicable here. */
    for (size_t i = 0; i < vsim_sim_violation_count(s); i++) {
      const vsim_violation *v = vsim_sim_violation(s, i);
      if (v->check != VSIM_CHK_BLK_DRV_SEGMENTS) continue;
      r->verdict = VSIM_V_SKIP;
      r->severity = VSIM_FS_NONE;
      snprintf(r->reason, sizeof r->reason,
               "not applicable to this device: %.200s (a driver MUST NOT send more: %.120s)", v->detail,
               vsim_check_info_get(v->check)->label);
      return;
    }
  }
  for (size_t i = 0; i < vsim_sim_violation_count(s); i++) {
    const vsim_violation *v = vsim_sim_violation(s, i);
    const vsim_check_info *ci = vsim_check_info_get(v->check);
    bool in_probe = t->adversarial && probe_started && i >= nviol_main;
    if (ci->judged == VSIM_JUDGED_DRIVER && t->adversarial && !in_probe) continue; /* the input itself */
    /* what a vhost-user back-end got wrong while connecting (step 0) is the
     * same in every test: judged once, by the vhost-user suite */
    if (v->step == 0 && strncmp(ci->id, "vhost-user.", 11) == 0 && !t->protocol) continue;
    if (v->check == VSIM_CHK_VU_BACKEND_GONE) {
      crashed = true;
      add_check(r, v->check, false);
      note(&rs, R_CRASHED, "the back-end is gone: %s", v->detail);
    } else if (v->check == VSIM_CHK_LIVENESS_STALL) {
      wedged = true;
      add_check(r, v->check, false);
      note(&rs, R_WEDGED, "%s%s: %s", in_probe ? "recovery probe: " : "", ci->id, v->detail);
    } else if (ci->severity == VSIM_SEV_SHOULD) {
      warn = true;
      add_check(r, v->check, false);
      note(&rs, R_WARN, "%s [SHOULD]: %s", ci->id, v->detail);
    } else if (cfg->profile == VSIM_PROFILE_COMPAT && compat_tolerates(v->check)) {
      warn = true;
      add_check(r, v->check, true);
      note(&rs, R_WARN, "%s [MUST, tolerated by the compat profile]: %s", ci->id, v->detail);
    } else {
      fail = true;
      add_check(r, v->check, false);
      note(&rs, R_FAIL, "%s [MUST]: %s", ci->id, v->detail);
      if (critical_check(v->check)) r->severity = VSIM_FS_CRITICAL;
    }
    if (!first_step) first_step = v->step;
  }
  /* A device that refused FEATURES_OK for a valid subset of its offer broke
   * a SHOULD (feat.dev-accept-subset, judged above as a warning); the driver
   * then rightly gave up (FAILED), so the test's steps could not run: what
   * they report is the refusal's consequence, not a wrong result. */
  bool refused = false;
  for (size_t i = 0; i < vsim_sim_violation_count(s); i++)
    if (vsim_sim_violation(s, i)->check == VSIM_CHK_FEAT_DEV_ACCEPT_SUBSET) refused = true;
  for (size_t i = 0; i < vsim_sim_failure_count(s); i++) {
    const char *msg = vsim_sim_failure(s, i);
    bool in_probe = t->adversarial && probe_started && i >= nfail_main;
    if (refused) {
      note(&rs, R_WARN, "not run (features refused): %s", msg);
      continue;
    }
    if (t->adversarial && !in_probe) {
      /* after NEEDS_RESET, requests that fail are the device saying so */
      if (w->needs_reset_step) continue;
      if (is_stuck_failure(msg)) {
        wedged = true;
        note(&rs, R_WEDGED, "%s", msg);
      } else {
        fail = true;
        note(&rs, R_FAIL, "wrong result: %s", msg);
      }
    } else if (in_probe || is_stuck_failure(msg)) {
      wedged = true;
      note(&rs, R_WEDGED, "%s%s", in_probe ? "recovery probe after the adversarial input: " : "", msg);
    } else {
      fail = true;
      note(&rs, R_FAIL, "wrong result: %s", msg);
    }
  }
  if (t->adversarial && !probe_started && !wedged && !refused) {
    wedged = true;
    note(&rs, R_WEDGED, "the recovery probe never ran: the script stopped before it");
  }
  r->step = first_step;
  if (crashed) {
    /* the daemon died or hung up: nothing after it says anything about the test */
    r->verdict = VSIM_V_CRASHED;
    r->severity = VSIM_FS_HIGH;
  } else if (fail) {
    r->verdict = VSIM_V_FAIL;
    if (r->severity < VSIM_FS_MEDIUM) r->severity = VSIM_FS_MEDIUM;
    if (wedged && r->severity < VSIM_FS_HIGH) r->severity = VSIM_FS_HIGH;
  } else if (wedged) {
    r->verdict = VSIM_V_WEDGED;
    r->severity = VSIM_FS_HIGH;
  } else if (warn) {
    r->verdict = VSIM_V_WARN;
    r->severity = VSIM_FS_LOW;
  } else if (t->adversarial) {
    r->verdict = VSIM_V_REJECT;
    r->severity = w->needs_reset_step && t->request_level ? VSIM_FS_LOW : VSIM_FS_NONE;
    if (w->needs_reset_step)
      note(&rs, R_INFO, "%s; the device entered DEVICE_NEEDS_RESET at step %" PRIu64 " and recovered after reset",
                 t->request_level ? "a malformed request (it could have failed just that request)"
                                  : "malformed ring input",
                 w->needs_reset_step);
    else
      note(&rs, R_INFO, "malformed input refused; the device recovered after reset");
  } else {
    r->verdict = VSIM_V_PASS;
  }
  /* the reason shown is the one behind the verdict; a fail that also hung
   * says both */
  const char *why = r->verdict == VSIM_V_CRASHED  ? rs.text[R_CRASHED]
                    : r->verdict == VSIM_V_FAIL   ? rs.text[R_FAIL]
                    : r->verdict == VSIM_V_WEDGED ? rs.text[R_WEDGED]
                    : r->verdict == VSIM_V_WARN   ? rs.text[R_WARN]
                                                  : rs.text[R_INFO];
  if (r->verdict == VSIM_V_FAIL && wedged)
    snprintf(r->reason, sizeof r->reason, "%.190s; and then: %.190s", why, rs.text[R_WEDGED]);
  else
    snprintf(r->reason, sizeof r->reason, "%s", why);
  if (!r->step && r->verdict != VSIM_V_PASS && r->verdict != VSIM_V_REJECT) r->step = vsim_sim_steps(s);
}

/* Run the test again up to the failing step: the ring picture and the
 * events of that step. Deterministic, so the second run is the first. */
static void collect_details(const vsim_conform_config *cfg, const vsim_conform_test *t,
                            vsim_conform_result *r) {
  run_watch w;
  memset(&w, 0, sizeof w);
  w.want_step = r->step;
  w.excerpt = open_memstream(&w.buf, &w.len);
  char err[512];
  vsim_sim *s = load_test(cfg, t, &w, NULL, NULL, err, sizeof err);
  if (s) {
    while (vsim_sim_steps(s) < r->step && vsim_sim_step(s) == 1) {
    }
    char *svg = NULL;
    size_t svglen = 0;
    FILE *f = open_memstream(&svg, &svglen);
    if (f) {
      vsim_show_svg(f, s, vsim_sim_steps(s));
      fclose(f);
      r->svg = svg;
    }
    vsim_sim_free(s);
  }
  if (w.excerpt) {
    fclose(w.excerpt);
    r->excerpt = w.buf;
  }
}

void vsim_conform_run_one(const vsim_conform_config *cfg, const vsim_conform_test *t,
                          vsim_conform_result *r) {
  memset(r, 0, sizeof *r);
  if (t->skip[0]) {
    r->verdict = VSIM_V_SKIP;
    snprintf(r->reason, sizeof r->reason, "%s", t->skip);
    return;
  }
  run_watch w;
  memset(&w, 0, sizeof w);
  char err[1024];
  size_t probe_start = SIZE_MAX;
  char trace[1024] = "";
  if (cfg->trace_dir) vsim_conform_trace_path(cfg, t, trace, sizeof trace);
  vsim_sim *s = load_test(cfg, t, &w, &probe_start, trace[0] ? trace : NULL, err, sizeof err);
  if (!s) {
    r->verdict = VSIM_V_FAIL;
    r->severity = VSIM_FS_MEDIUM;
    snprintf(r->reason, sizeof r->reason, "the test does not load: %.370s", err);
    return;
  }
  bool probe_started = false;
  size_t nviol_main = 0, nfail_main = 0;
  while (vsim_sim_step(s) == 1) {
    if (!probe_started && vsim_sim_script_position(s) > probe_start) {
      probe_started = true;
      nviol_main = vsim_sim_violation_count(s);
      nfail_main = vsim_sim_failure_count(s);
    }
  }
  vsim_sim_run(s); /* end-of-run expectations */
  r->needs_reset = w.needs_reset_step != 0;
  r->steps = vsim_sim_steps(s);
  r->hash = vsim_sim_trace_hash(s);
  judge(cfg, t, s, &w, probe_started, nviol_main, nfail_main, r);
  vsim_sim_free(s);
  /* a trace is kept for what needs looking at: not for a pass, a refusal or a skip */
  if (trace[0] && r->verdict != VSIM_V_FAIL && r->verdict != VSIM_V_WARN && r->verdict != VSIM_V_WEDGED &&
      r->verdict != VSIM_V_CRASHED)
    unlink(trace);
  if (cfg->details && (r->verdict == VSIM_V_FAIL || r->verdict == VSIM_V_WARN || r->verdict == VSIM_V_WEDGED))
    collect_details(cfg, t, r);
}

void vsim_conform_result_free(vsim_conform_result *r) {
  free(r->svg);
  free(r->excerpt);
  r->svg = r->excerpt = NULL;
}

/* ---- worker processes -------------------------------------------------- */

static char *result_to_line(size_t idx, const vsim_conform_result *r) {
  json_t *checks = json_array();
  for (unsigned i = 0; i < r->nchecks; i++)
    json_array_append_new(checks, json_pack("[ib]", r->checks[i].check, r->checks[i].downgraded));
  json_t *o = json_pack("{sI,si,si,so,sI,sI,sI,sb,ss}", "i", (json_int_t)idx, "v", (int)r->verdict, "sev",
                        (int)r->severity, "checks", checks, "step", (json_int_t)r->step, "steps",
                        (json_int_t)r->steps, "hash", (json_int_t)r->hash, "nr", r->needs_reset, "reason",
                        r->reason);
  if (o && r->svg) json_object_set_new(o, "svg", json_string(r->svg));
  if (o && r->excerpt) json_object_set_new(o, "excerpt", json_string(r->excerpt));
  char *line = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
  json_decref(o);
  return line;
}

static int line_to_result(const char *line, size_t *idx, vsim_conform_result *r) {
  json_error_t je;
  json_t *o = json_loads(line, 0, &je);
  if (!o) return -1;
  memset(r, 0, sizeof *r);
  *idx = (size_t)json_integer_value(json_object_get(o, "i"));
  r->verdict = (enum vsim_verdict)json_integer_value(json_object_get(o, "v"));
  r->severity = (enum vsim_failure_severity)json_integer_value(json_object_get(o, "sev"));
  json_t *checks = json_object_get(o, "checks");
  for (size_t i = 0; i < json_array_size(checks) && i < VSIM_CONFORM_MAX_CHECKS; i++) {
    json_t *c = json_array_get(checks, i);
    r->checks[r->nchecks++] = (vsim_conform_check_hit){(int)json_integer_value(json_array_get(c, 0)),
                                                       json_is_true(json_array_get(c, 1))};
  }
  r->step = (uint64_t)json_integer_value(json_object_get(o, "step"));
  r->steps = (uint64_t)json_integer_value(json_object_get(o, "steps"));
  r->hash = (uint64_t)json_integer_value(json_object_get(o, "hash"));
  r->needs_reset = json_is_true(json_object_get(o, "nr"));
  const char *reason = json_string_value(json_object_get(o, "reason"));
  snprintf(r->reason, sizeof r->reason, "%s", reason ? reason : "");
  const char *svg = json_string_value(json_object_get(o, "svg"));
  const char *ex = json_string_value(json_object_get(o, "excerpt"));
  r->svg = svg ? strdup(svg) : NULL;
  r->excerpt = ex ? strdup(ex) : NULL;
  json_decref(o);
  return 0;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t k = write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* A worker runs tests first, first + stride, ... and reports, per test, a
 * start line ("S idx") and a result line (JSON). */
static void worker_main(int fd, const vsim_conform_config *cfg, const vsim_conform_plan *plan,
                        size_t first, size_t stride) {
  signal(SIGPIPE, SIG_DFL);
  for (size_t i = first; i < plan->ntests; i += stride) {
    char s[40];
    int n = snprintf(s, sizeof s, "S %zu\n", i);
    if (write_all(fd, s, (size_t)n)) _exit(3);
    vsim_conform_result r;
    vsim_conform_run_one(cfg, &plan->tests[i], &r);
    char *line = result_to_line(i, &r);
    vsim_conform_result_free(&r);
    if (!line || write_all(fd, line, strlen(line)) || write_all(fd, "\n", 1)) _exit(3);
    free(line);
  }
  _exit(0);
}

typedef struct worker {
  pid_t pid;
  int fd;
  size_t next;      /* the next test index of its stripe it has not finished */
  bool running;     /* a test has started and not reported */
  size_t current;
  struct timespec started;
  char *buf;
  size_t len, cap;
} worker;

static double elapsed_s(const struct timespec *a) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - a->tv_sec) + (double)(now.tv_nsec - a->tv_nsec) / 1e9;
}

static int spawn(worker *w, const vsim_conform_config *cfg, const vsim_conform_plan *plan, size_t stride) {
  int p[2];
  if (pipe(p)) return -1;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return -1;
  }
  if (pid == 0) {
    close(p[0]);
    worker_main(p[1], cfg, plan, w->next, stride);
  }
  close(p[1]);
  w->pid = pid;
  w->fd = p[0];
  w->running = false;
  w->len = 0;
  return 0;
}

static void progress(const vsim_conform_config *cfg, size_t done, size_t total, const char *id) {
  if (!cfg->progress) return;
  fprintf(stderr, "\r\033[K[%zu/%zu] %.70s", done, total, id);
  if (done == total) fputc('\n', stderr);
}

static void finish_worker_death(worker *w, const vsim_conform_plan *plan, vsim_conform_result *res,
                                bool *have, size_t *done, int status, bool timed_out, unsigned timeout) {
  if (w->running) {
    vsim_conform_result *r = &res[w->current];
    memset(r, 0, sizeof *r);
    if (timed_out) {
      r->verdict = VSIM_V_WEDGED;
      r->severity = VSIM_FS_HIGH;
      snprintf(r->reason, sizeof r->reason,
               "no answer within %u s of wall-clock time: the backend hangs (the worker was killed)", timeout);
    } else {
      r->verdict = VSIM_V_CRASHED;
      r->severity = VSIM_FS_HIGH;
      if (WIFSIGNALED(status))
        snprintf(r->reason, sizeof r->reason, "the process running the backend died of signal %d (%s)",
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
      else
        snprintf(r->reason, sizeof r->reason, "the process running the backend exited with status %d",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    have[w->current] = true;
    (*done)++;
    w->next = w->current + 1; /* its stripe goes on past the broken test */
    (void)plan;
  }
  w->running = false;
}

int vsim_conform_run_all(const vsim_conform_config *cfg, const vsim_conform_plan *plan,
                         vsim_conform_result *results, char *err, size_t errlen) {
  size_t n = plan->ntests;
  unsigned jobs = cfg->jobs ? cfg->jobs : 1;
  if (jobs > n) jobs = n ? (unsigned)n : 1;
  bool *have = calloc(n ? n : 1, sizeof *have);
  worker *ws = calloc(jobs, sizeof *ws);
  if (!have || !ws) {
    free(have);
    free(ws);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  size_t done = 0;
  int rc = 0;
  for (unsigned j = 0; j < jobs; j++) {
    ws[j].next = j;
    ws[j].fd = -1;
    if (ws[j].next < n && spawn(&ws[j], cfg, plan, jobs)) {
      snprintf(err, errlen, "cannot start a worker process: %s", strerror(errno));
      rc = -1;
    }
  }
  while (rc == 0 && done < n) {
    struct pollfd pf[64];
    unsigned map[64], np = 0;
    for (unsigned j = 0; j < jobs && np < 64; j++)
      if (ws[j].fd >= 0) {
        pf[np] = (struct pollfd){ws[j].fd, POLLIN, 0};
        map[np++] = j;
      }
    if (np == 0) break;
    int pr = poll(pf, np, 1000);
    if (pr < 0 && errno != EINTR) {
      snprintf(err, errlen, "poll: %s", strerror(errno));
      rc = -1;
      break;
    }
    for (unsigned k = 0; k < np; k++) {
      worker *w = &ws[map[k]];
      bool dead = false, timed_out = false;
      if (pf[k].revents & (POLLIN | POLLHUP | POLLERR)) {
        if (w->cap - w->len < 65536) {
          size_t nc = w->cap ? w->cap * 2 : 131072;
          char *nb = realloc(w->buf, nc);
          if (!nb) {
            rc = -1;
            snprintf(err, errlen, "out of memory");
            break;
          }
          w->buf = nb;
          w->cap = nc;
        }
        ssize_t got = read(w->fd, w->buf + w->len, w->cap - w->len - 1);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) dead = true;
        else w->len += (size_t)got;
        /* complete lines */
        char *start = w->buf, *nl;
        while ((nl = memchr(start, '\n', (size_t)(w->buf + w->len - start)))) {
          *nl = 0;
          if (start[0] == 'S' && start[1] == ' ') {
            w->current = (size_t)strtoull(start + 2, NULL, 10);
            w->running = true;
            clock_gettime(CLOCK_MONOTONIC, &w->started);
          } else {
            size_t idx;
            vsim_conform_result r;
            if (line_to_result(start, &idx, &r) == 0 && idx < n) {
              results[idx] = r;
              if (!have[idx]) done++;
              have[idx] = true;
              w->running = false;
              w->next = idx + jobs;
              progress(cfg, done, n, plan->tests[idx].id);
            }
          }
          start = nl + 1;
        }
        size_t rest = (size_t)(w->buf + w->len - start);
        memmove(w->buf, start, rest);
        w->len = rest;
      }
      if (!dead && w->running && cfg->test_timeout_s && elapsed_s(&w->started) > cfg->test_timeout_s) {
        kill(w->pid, SIGKILL);
        dead = timed_out = true;
      }
      if (dead) {
        int status = 0;
        close(w->fd);
        w->fd = -1;
        waitpid(w->pid, &status, 0);
        finish_worker_death(w, plan, results, have, &done, status, timed_out, cfg->test_timeout_s);
        if (w->next < n && !(WIFEXITED(status) && WEXITSTATUS(status) == 0 && !timed_out && !w->running)) {
          /* restart the stripe after the test that broke the worker */
          if (spawn(w, cfg, plan, jobs)) {
            snprintf(err, errlen, "cannot restart a worker process: %s", strerror(errno));
            rc = -1;
          }
        }
      }
    }
  }
  for (unsigned j = 0; j < jobs; j++) {
    if (ws[j].fd >= 0) {
      kill(ws[j].pid, SIGKILL);
      close(ws[j].fd);
      waitpid(ws[j].pid, NULL, 0);
    }
    free(ws[j].buf);
  }
  if (rc == 0 && done < n) {
    snprintf(err, errlen, "%zu test(s) got no result", n - done);
    rc = -1;
  }
  free(ws);
  free(have);
  return rc;
}

/* ---- expected failures ---------------------------------------------------- */

int vsim_conform_apply_xfail(const char *path, const vsim_conform_plan *plan,
                             vsim_conform_result *results, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  char line[1024];
  unsigned lineno = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '#' || *p == '\n' || *p == 0) continue;
    char *end = p;
    while (*end && *end != ' ' && *end != '\t' && *end != '\n') end++;
    char *reason = end;
    if (*reason) *reason++ = 0;
    while (*reason == ' ' || *reason == '\t') reason++;
    reason[strcspn(reason, "\n")] = 0;
    if (!*reason) {
      fclose(f);
      snprintf(err, errlen, "%s:%u: expected 'TEST-ID-PATTERN REASON' (the reason is required)", path, lineno);
      return -1;
    }
    for (size_t i = 0; i < plan->ntests; i++) {
      /* an exact id (its brackets are not a character class), or a pattern */
      if (strcmp(p, plan->tests[i].id) != 0 && fnmatch(p, plan->tests[i].id, 0) != 0) continue;
      vsim_conform_result *r = &results[i];
      if (r->verdict == VSIM_V_FAIL || r->verdict == VSIM_V_WEDGED || r->verdict == VSIM_V_CRASHED ||
          r->verdict == VSIM_V_WARN)
        r->verdict = VSIM_V_XFAIL;
      else if (r->verdict == VSIM_V_PASS || r->verdict == VSIM_V_REJECT)
        r->verdict = VSIM_V_XPASS;
      else
        continue;
      snprintf(r->xfail_reason, sizeof r->xfail_reason, "%.199s", reason);
    }
  }
  fclose(f);
  return 0;
}
