/* sim/cmd_trace.c — `virtio-sim replay | show | minimize` (see cmd_trace.h).
 *
 * Owns: the three commands' argument parsing, their output and exit status:
 * 0 success, 1 a divergence (replay, show) or a check that does not fire
 * (minimize), 2 usage, malformed trace or scenario.
 * Must never: print anything that depends on the wall clock or the host, so
 * that the same command prints the same bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_args.h"
#include "cmd_trace.h"
#include "minimize.h"
#include "replay.h"
#include "scenario.h"
#include "show.h"
#include "timeline.h"
#include "virtiosim/checks.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: virtio-sim replay TRACE.jsonl [--timeline FILE.json] [--trace OUT.jsonl]\n"
          "       virtio-sim show TRACE.jsonl --at STEP [--svg FILE.svg]\n"
          "       virtio-sim minimize SCENARIO.json --check ID [-o OUT.json] [--seed N]\n"
          "                           [--policy scripted|round-robin|random] [--ring split|packed]\n"
          "                           [--max-steps N]\n");
}


static int bad_arg(const char *what, const char *a) {
  fprintf(stderr, "virtio-sim: %s '%s'\n", what, a ? a : "(missing)");
  usage(stderr);
  return 2;
}

static int load_trace(const char *path, vsim_trace_file *t) {
  char err[1024];
  if (vsim_trace_file_load(path, t, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  if (strcmp(t->version, VSIM_VERSION) != 0)
    fprintf(stderr, "note: the trace was written by virtio-sim %s, this is %s\n", t->version, VSIM_VERSION);
  if (!t->text)
    fprintf(stderr, "note: the trace header has no scenario text: using the file %s\n", t->scenario_path);
  return 0;
}

static int write_timeline(const char *path, vsim_replay *r, const vsim_trace_file *t) {
  size_t n;
  const vsim_event *ev = vsim_replay_events(r, &n);
  FILE *f = fopen(path, "w");
  int rc = f ? vsim_timeline_write(f, t->scenario, ev, n, t->picks, t->npicks) : -1;
  if (f && fclose(f) != 0) rc = -1;
  if (rc) fprintf(stderr, "virtio-sim: cannot write the timeline %s\n", path);
  return rc;
}

static int cmd_replay(int argc, char **argv) {
  const char *path = NULL, *timeline = NULL, *out = NULL;
  bool live = false;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--live") == 0) {
      live = true;
    } else if (strcmp(a, "--timeline") == 0) {
      if (!v) return bad_arg("missing value for", a);
      timeline = v;
      i++;
    } else if (strcmp(a, "--trace") == 0) {
      if (!v) return bad_arg("missing value for", a);
      out = v;
      i++;
    } else if (a[0] == '-' || path) {
      return bad_arg("unexpected argument", a);
    } else {
      path = a;
    }
  }
  if (!path) return bad_arg("missing", "TRACE.jsonl");
  vsim_trace_file t;
  if (load_trace(path, &t)) return 2;
  t.use_backend = live;
  char err[1024];
  vsim_replay *r = vsim_replay_new(&t, out, timeline != NULL, err, sizeof err);
  if (!r) {
    fprintf(stderr, "%s\n", err);
    vsim_trace_file_free(&t);
    return 2;
  }
  int x = vsim_replay_finish(r);
  int rc;
  if (x == 0) {
    if (t.has_footer)
      printf("replayed %" PRIu64 " events, identical, hash %016" PRIx64 "\n", vsim_replay_event_count(r),
             vsim_sim_trace_hash(vsim_replay_sim(r)));
    else
      printf("replayed %zu events, identical (the trace has no footer: the run was cut short; the "
             "replay went on to %" PRIu64 " events, hash %016" PRIx64 ")\n",
             t.nev, vsim_replay_event_count(r), vsim_sim_trace_hash(vsim_replay_sim(r)));
    rc = 0;
  } else {
    printf("%s\n", vsim_replay_divergence(r));
    rc = 1;
  }
  if (timeline && write_timeline(timeline, r, &t)) rc = 2;
  vsim_replay_free(r);
  vsim_trace_file_free(&t);
  return rc;
}

static int cmd_show(int argc, char **argv) {
  const char *path = NULL, *svg = NULL;
  uint64_t at = 0;
  bool has_at = false;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--at") == 0) {
      if (vsim_cli_parse_u64(v, &at)) return bad_arg("bad value for --at:", v);
      has_at = true;
      i++;
    } else if (strcmp(a, "--svg") == 0) {
      if (!v) return bad_arg("missing value for", a);
      svg = v;
      i++;
    } else if (a[0] == '-' || path) {
      return bad_arg("unexpected argument", a);
    } else {
      path = a;
    }
  }
  if (!path || !has_at) return bad_arg("missing", path ? "--at STEP" : "TRACE.jsonl");
  vsim_trace_file t;
  if (load_trace(path, &t)) return 2;
  char err[1024];
  vsim_replay *r = vsim_replay_new(&t, NULL, false, err, sizeof err);
  if (!r) {
    fprintf(stderr, "%s\n", err);
    vsim_trace_file_free(&t);
    return 2;
  }
  int x = vsim_replay_run(r, at);
  int rc = 0;
  if (x != 0) {
    /* the state after a divergence is not the recorded run's: say so and stop */
    fprintf(stderr, "%s\n", vsim_replay_divergence(r));
    rc = 1;
  } else {
    vsim_sim *s = vsim_replay_sim(r);
    uint64_t steps = vsim_sim_steps(s);
    if (steps < at)
      printf("note: the run ended after %" PRIu64 " steps; this is its final state\n", steps);
    vsim_show_text(stdout, s, steps);
    if (svg) {
      FILE *f = fopen(svg, "w");
      if (f) vsim_show_svg(f, s, steps);
      if (!f || fclose(f) != 0) {
        fprintf(stderr, "virtio-sim: cannot write %s\n", svg);
        rc = 2;
      }
    }
  }
  vsim_replay_free(r);
  vsim_trace_file_free(&t);
  return rc;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 65536, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    size_t k = fread(buf + n, 1, cap - n, f);
    n += k;
    if (n < cap) break;
    if (cap > VSIM_SCENARIO_MAX_FILE) break;
    char *nb = realloc(buf, cap * 2);
    if (!nb) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nb;
    cap *= 2;
  }
  bool bad = ferror(f) != 0;
  fclose(f);
  if (bad) {
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

static int cmd_minimize(int argc, char **argv) {
  const char *path = NULL, *id = NULL, *out = NULL;
  vsim_options opt;
  memset(&opt, 0, sizeof opt);
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--check") == 0) {
      if (!v) return bad_arg("missing value for", a);
      id = v;
      i++;
    } else if (strcmp(a, "-o") == 0) {
      if (!v) return bad_arg("missing value for", a);
      out = v;
      i++;
    } else if (strcmp(a, "--seed") == 0) {
      if (vsim_cli_parse_u64(v, &opt.seed)) return bad_arg("bad value for --seed:", v);
      opt.has_seed = true;
      i++;
    } else if (strcmp(a, "--max-steps") == 0) {
      if (vsim_cli_parse_u64(v, &opt.max_steps)) return bad_arg("bad value for --max-steps:", v);
      opt.has_max_steps = true;
      i++;
    } else if (strcmp(a, "--policy") == 0) {
      opt.policy = -1;
      for (int p = 0; p < 3 && v; p++)
        if (strcmp(v, vsim_policy_name((enum vsim_policy)p)) == 0) opt.policy = p;
      if (opt.policy < 0) return bad_arg("bad value for --policy:", v);
      opt.has_policy = true;
      i++;
    } else if (strcmp(a, "--ring") == 0) {
      if (v && strcmp(v, "split") == 0) opt.ring = 0;
      else if (v && strcmp(v, "packed") == 0) opt.ring = 1;
      else return bad_arg("bad value for --ring:", v);
      opt.has_ring = true;
      i++;
    } else if (a[0] == '-' || path) {
      return bad_arg("unexpected argument", a);
    } else {
      path = a;
    }
  }
  if (!path || !id) return bad_arg("missing", path ? "--check ID" : "SCENARIO.json");
  int check = vsim_check_lookup(id);
  if (check < 0) {
    fprintf(stderr, "virtio-sim: unknown check '%s' (see `virtio-sim checks`)\n", id);
    return 2;
  }
  size_t len = 0;
  char *text = slurp(path, &len);
  if (!text) {
    fprintf(stderr, "%s:1:1: field '<file>': cannot read the file\n", path);
    return 2;
  }
  vsim_min_result res;
  char err[1024];
  int x = vsim_minimize(text, len, path, check, &opt, &res, err, sizeof err);
  free(text);
  if (x < 0) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  if (x == 1) {
    fprintf(stderr, "virtio-sim: check %s does not fire in %s: nothing to minimise\n", id, path);
    return 1;
  }
  /* the summary goes where the scenario does not */
  FILE *sum = out ? stdout : stderr;
  fprintf(sum, "steps: %zu -> %zu\n", res.steps_before, res.steps_after);
  fprintf(sum, "heads, mutants, features: %zu -> %zu\n", res.items_before, res.items_after);
  fprintf(sum, "candidates run: %zu\n", res.runs);
  int rc = 0;
  FILE *o = out ? fopen(out, "w") : stdout;
  bool ok = o && fputs(res.text, o) >= 0;
  if (o && o != stdout && fclose(o) != 0) ok = false;
  if (!ok) {
    fprintf(stderr, "virtio-sim: cannot write %s\n", out ? out : "the scenario");
    rc = 2;
  } else if (out) {
    fprintf(sum, "wrote %s\n", out);
  }
  vsim_min_result_free(&res);
  return rc;
}

int vsim_cli_trace_command(int argc, char **argv) {
  if (argc < 2) return -1;
  if (strcmp(argv[1], "replay") == 0) return cmd_replay(argc, argv);
  if (strcmp(argv[1], "show") == 0) return cmd_show(argc, argv);
  if (strcmp(argv[1], "minimize") == 0) return cmd_minimize(argc, argv);
  return -1;
}
