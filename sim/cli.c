/* sim/cli.c — the `virtio-sim` command line.
 *
 * Owns: argument parsing and the human/JSON output of `run`, `checks` and
 * `mutants`. Exit status: 0 every expectation held, 1 one did not, 2 usage or
 * scenario error.
 * Must never: print anything that depends on the wall clock or the host, so
 * that two runs of the same command print the same bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include "datafile.h"
#include "scenario.h"
#include "virtio_compat.h"
#include <linux/virtio_config.h>
#include "cli_args.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"
#include "virtiosim/virtiosim.h"
#include "cmd_conform.h"
#include "cmd_coverage.h"
#include "cmd_trace.h"
#include "fuzz_decode.h"
#include "scanout_png.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: virtio-sim run SCENARIO.json [--seed N] [--policy scripted|round-robin|random]\n"
          "                      [--ring split|packed] [--transport mmio|pci] [--backend builtin:blk[?mutant=NAME]|plugin:PATH.so|vhost-user:SOCKET]\n"
          "                      [--backend vhost-user-script:FILE.json]  the vhost-user front-end against a scripted back-end\n"
          "                      [--backend vhost-user --backend-cmd 'DAEMON ... {socket}']  start the daemon per run\n"
          "                      [--features-off MASK]  feature bits the driver must not accept\n"
          "                      [--trace FILE.jsonl] [--max-steps N] [--no-checkers] [--quiet] [--json]\n"
          "                      [--pcap FILE.pcap]  net: the wire's frames (sent and received) as a pcap\n"
          "                      [--record-backend]  record the backend's calls into the trace (always for vhost-user)\n"
          "                      [--scanout-png FILE.png [--scanout N]]  gpu: the picture scanout N (default 0) shows at the end\n"
          "       virtio-sim replay TRACE.jsonl [--timeline FILE.json] [--live]   re-run a trace, report the first divergence\n"
          "                      (a recorded backend is played back from the trace; --live starts it again)\n"
          "       virtio-sim show TRACE.jsonl --at STEP [--svg FILE.svg] queue state at a step\n"
          "       virtio-sim minimize SCENARIO.json --check ID [-o OUT]  shrink a failing scenario\n"
          "       virtio-sim fuzz-repro TARGET INPUT [-o OUT.json] [--mutants A,B]  the scenario a fuzz input stands for\n"
          "                      (fuzz_vhost_user: and its back-end script, OUT.vu-script.json)\n"
          "       virtio-sim fuzz-complete fuzz_vhost_user INPUT PROFILE -o OUT  add the replies a well-behaved back-end sends\n"
          "       virtio-sim conform --backend SPEC --device TYPE [...]  conformance suites, a verdict per test\n"
          "       virtio-sim checks [--json]     list the check catalog\n"
          "       virtio-sim coverage [--json]   normative sections with and without a check, per area\n"
          "       virtio-sim mutants             list the mutants and the check each one breaks\n"
          "       virtio-sim version\n");
}


static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

static const char *sev_name(enum vsim_severity s) { return s == VSIM_SEV_MUST ? "MUST" : "SHOULD"; }

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The first scenario (in sorted path order) that makes each check fire on
 * purpose without a mutant: a malicious driver written as raw steps, or the
 * built-in model configured to break the rule. */
static void scenario_proofs(const char *dir, const char *rel, char *proof[]) {
  DIR *d = opendir(dir);
  if (!d) return;
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 64;
      char **nn = realloc(names, cap * sizeof *nn);
      if (!nn) break;
      names = nn;
    }
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  if (n) qsort(names, n, sizeof *names, cmp_name);
  for (size_t i = 0; i < n; i++) {
    char path[2048], r[1024];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", names[i]);
    size_t len = strlen(names[i]);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
      scenario_proofs(path, r, proof);
    } else if (len > 5 && strcmp(names[i] + len - 5, ".json") == 0) {
      char err[VSIM_ERR_MAX];
      vsim_scenario *sc = vsim_scenario_load_file(path, err, sizeof err);
      if (sc && !vsim_mut_any(&sc->mutants))
        for (size_t k = 0; k < sc->nexpect_violations; k++)
          if (!proof[sc->expect_violations[k]]) proof[sc->expect_violations[k]] = strdup(r);
      vsim_scenario_free(sc);
    }
    free(names[i]);
  }
  free(names);
}

static void scope_text(int check, char *out, size_t outlen) {
  vsim_check_scope sc;
  vsim_check_scope_get(check, &sc);
  size_t n = (size_t)snprintf(out, outlen, "%s", sc.ring < 0 ? "any ring" : sc.ring ? "packed ring" : "split ring");
  for (unsigned b = 0; b < 64 && n < outlen; b++)
    if ((sc.features >> b) & 1 && b != VIRTIO_F_RING_PACKED)
      n += (size_t)snprintf(out + n, outlen - n, ", %s", vsim_feature_name("blk", b));
  if (n < outlen) n += (size_t)snprintf(out + n, outlen - n, ", %s device", sc.device ? sc.device : "any");
  if (n < outlen) snprintf(out + n, outlen - n, ", %s transport", sc.transport ? sc.transport : "any");
}

static int cmd_checks(int argc, char **argv) {
  bool json = argc > 2 && strcmp(argv[2], "--json") == 0;
  int n = vsim_check_count();
  char *proof[VSIM_CHK__COUNT] = {NULL};
  char root[600];
  vsim_datafile_find("scenarios", root, sizeof root);
  scenario_proofs(root, "", proof);
  int by_mutant = 0, by_scenario = 0, by_test = 0;
  if (json) printf("[\n");
  for (int i = 0; i < n; i++) {
    const vsim_check_info *c = vsim_check_info_get(i);
    int m = vsim_check_mutant(i);
    by_mutant += m >= 0;
    by_scenario += m < 0 && proof[i] != NULL;
    /* the vhost-user checks judge a back-end: the scripted one's vu.*
     * mutants prove them (scenarios/mutants), and the C tests break each
     * rule with hand-made replies too */
    const char *ctest = strncmp(c->id, "vhost-user.", 11) == 0 ? "tests/c/test_vhost_user.c" : NULL;
    by_test += m < 0 && !proof[i] && ctest;
    vsim_check_scope sc;
    vsim_check_scope_get(i, &sc);
    char scope[256];
    scope_text(i, scope, sizeof scope);
    if (json) {
      printf("  {\"id\":");
      json_str(stdout, c->id);
      printf(",\"label\":");
      json_str(stdout, c->label);
      printf(",\"severity\":\"%s\",\"judges\":\"%s\",\"observes\":\"%s\",\"what\":", sev_name(c->severity),
             c->judged == VSIM_JUDGED_DRIVER ? "driver" : "device",
             c->observes == VSIM_OBS_ACCESS ? "access" : "snapshot");
      json_str(stdout, c->what);
      printf(",\"applies\":{\"ring\":\"%s\",\"device\":\"%s\",\"transport\":\"%s\",\"features\":[",
             sc.ring < 0 ? "any" : sc.ring ? "packed" : "split", sc.device ? sc.device : "any",
             sc.transport ? sc.transport : "any");
      int k = 0;
      for (unsigned b = 0; b < 64; b++)
        if ((sc.features >> b) & 1) printf("%s\"%s\"", k++ ? "," : "", vsim_feature_name("blk", b));
      printf("]},\"mutant\":");
      if (m >= 0) json_str(stdout, vsim_mutant_name(m));
      else printf("null");
      printf(",\"scenario\":");
      if (proof[i]) json_str(stdout, proof[i]);
      else printf("null");
      printf(",\"test\":");
      if (ctest) json_str(stdout, ctest);
      else printf("null");
      printf("}%s\n", i + 1 < n ? "," : "");
    } else {
      printf("%-34s %-6s %-6s %s\n    %s\n    applies: %s; proven by %s%s\n", c->id, sev_name(c->severity),
             c->judged == VSIM_JUDGED_DRIVER ? "driver" : "device", c->what, c->label, scope,
             m >= 0 ? "mutant " : proof[i] ? "scenario " : ctest ? "the C test " : "nothing yet",
             m >= 0 ? vsim_mutant_name(m) : proof[i] ? proof[i] : ctest ? ctest : "");
    }
  }
  if (json) printf("]\n");
  else
    printf("%d checks: %d proven by a mutant of the built-in models or the scripted vhost-user back-end "
           "(mutation score %.0f%%), %d more by a malicious-driver scenario, %d by a C test only, %d by nothing\n",
           n, by_mutant, 100.0 * by_mutant / n, by_scenario, by_test, n - by_mutant - by_scenario - by_test);
  for (int i = 0; i < VSIM_CHK__COUNT; i++) free(proof[i]);
  return 0;
}

static int cmd_mutants(void) {
  static const struct {
    const char *name;
    int check;
    const char *what;
  } list[] = {
#define VSIM_X_M(e, name, check, what) {name, VSIM_CHK_##check, what},
      VSIM_MUTANT_LIST(VSIM_X_M)
#undef VSIM_X_M
  };
  for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
    printf("%-28s -> %-32s %s\n", list[i].name, vsim_check_info_get(list[i].check)->id, list[i].what);
  return 0;
}

static int cmd_run(int argc, char **argv) {
  const char *path = NULL;
  vsim_options opt;
  memset(&opt, 0, sizeof opt);
  bool quiet = false, json = false;
  const char *backend_cmd = NULL;
  const char *pcap_path = NULL; /* --pcap: the net model's wire, written after the run */
  const char *scanout_png = NULL; /* gpu: the scanout's picture at the end of the run */
  uint32_t scanout = 0;
  char spec[4096];
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--seed") == 0) {
      if (vsim_cli_parse_u64(v, &opt.seed)) goto bad;
      opt.has_seed = true;
      i++;
    } else if (strcmp(a, "--policy") == 0) {
      if (!v) goto bad;
      if (strcmp(v, "scripted") == 0) opt.policy = 0;
      else if (strcmp(v, "round-robin") == 0) opt.policy = 1;
      else if (strcmp(v, "random") == 0) opt.policy = 2;
      else goto bad;
      opt.has_policy = true;
      i++;
    } else if (strcmp(a, "--ring") == 0) {
      if (!v) goto bad;
      if (strcmp(v, "split") == 0) opt.ring = 0;
      else if (strcmp(v, "packed") == 0) opt.ring = 1;
      else goto bad;
      opt.has_ring = true;
      i++;
    } else if (strcmp(a, "--transport") == 0) {
      if (!v) goto bad;
      if (strcmp(v, "mmio") == 0) opt.transport = 0;
      else if (strcmp(v, "pci") == 0) opt.transport = 1;
      else goto bad;
      opt.has_transport = true;
      i++;
    } else if (strcmp(a, "--trace") == 0) {
      if (!v) goto bad;
      opt.trace_path = v;
      i++;
    } else if (strcmp(a, "--pcap") == 0) {
      if (!v) goto bad;
      pcap_path = v;
      i++;
    } else if (strcmp(a, "--max-steps") == 0) {
      if (vsim_cli_parse_u64(v, &opt.max_steps)) goto bad;
      opt.has_max_steps = true;
      i++;
    } else if (strcmp(a, "--features-off") == 0) {
      if (vsim_cli_parse_u64(v, &opt.features_off)) goto bad;
      i++;
    } else if (strcmp(a, "--backend") == 0) {
      if (!v) goto bad;
      opt.backend = v;
      i++;
    } else if (strcmp(a, "--backend-cmd") == 0) {
      if (!v) goto bad;
      backend_cmd = v;
      i++;
    } else if (strcmp(a, "--scanout-png") == 0) {
      if (!v) goto bad;
      scanout_png = v;
      i++;
    } else if (strcmp(a, "--scanout") == 0) {
      uint64_t n;
      if (vsim_cli_parse_u64(v, &n) || n >= 16) goto bad;
      scanout = (uint32_t)n;
      i++;
    } else if (strcmp(a, "--no-checkers") == 0) {
      opt.checkers_off = true;
    } else if (strcmp(a, "--record-backend") == 0) {
      opt.record_backend = true;
    } else if (strcmp(a, "--quiet") == 0) {
      quiet = true;
    } else if (strcmp(a, "--json") == 0) {
      json = true;
    } else if (a[0] == '-' || path) {
      fprintf(stderr, "virtio-sim: unexpected argument '%s'\n", a);
      usage(stderr);
      return 2;
    } else {
      path = a;
    }
    continue;
  bad:
    fprintf(stderr, "virtio-sim: bad value for %s\n", a);
    usage(stderr);
    return 2;
  }
  if (!path) {
    usage(stderr);
    return 2;
  }
  if (vsim_cli_backend_cmd(opt.backend, backend_cmd, spec, sizeof spec, &opt.backend)) return 2;
  char err[2048];
  vsim_sim *s = vsim_sim_load(path, &opt, err, sizeof err);
  if (!s) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  if (pcap_path && vsim_sim_write_pcap(s, NULL, err, sizeof err)) {
    fprintf(stderr, "virtio-sim: --pcap: %s\n", err);
    vsim_sim_free(s);
    return 2;
  }
  int rc = vsim_sim_run(s);
  /* a file asked for and not written is a usage error (2), whatever the run said */
  int out_rc = 0;
  if (pcap_path && vsim_sim_write_pcap(s, pcap_path, err, sizeof err)) {
    fprintf(stderr, "virtio-sim: --pcap: %s\n", err);
    out_rc = 2;
  }
  if (scanout_png) {
    char perr[512];
    if (vsim_scanout_png(s, scanout, scanout_png, perr, sizeof perr)) {
      fprintf(stderr, "%s\n", perr);
      out_rc = 2;
    }
  }
  vsim_counters c;
  vsim_sim_counters(s, &c);
  size_t nv = vsim_sim_violation_count(s), nf = vsim_sim_failure_count(s);
  if (json) {
    printf("{\"scenario\":");
    json_str(stdout, path);
    printf(",\"name\":");
    json_str(stdout, vsim_sim_name(s));
    printf(",\"result\":\"%s\",\"seed\":%" PRIu64 ",\"policy\":\"%s\",\"steps\":%" PRIu64
           ",\"events\":%" PRIu64 ",\"kicks\":%" PRIu64 ",\"interrupts\":%" PRIu64
           ",\"completed\":%" PRIu64 ",\"device_status\":%" PRIu64 ",\"trace_hash\":\"%016" PRIx64
           "\",\"violations\":[",
           rc ? "fail" : "pass", vsim_sim_seed(s), vsim_sim_policy_name(s), vsim_sim_steps(s),
           c.events, c.kicks, c.interrupts, c.completed, c.device_status, vsim_sim_trace_hash(s));
    for (size_t i = 0; i < nv; i++) {
      const vsim_violation *v = vsim_sim_violation(s, i);
      const vsim_check_info *ci = vsim_check_info_get(v->check);
      printf("%s{\"check\":\"%s\",\"label\":", i ? "," : "", ci->id);
      json_str(stdout, ci->label);
      printf(",\"severity\":\"%s\",\"step\":%" PRIu64 ",\"queue\":%d,\"detail\":", sev_name(ci->severity),
             v->step, (int)v->queue);
      json_str(stdout, v->detail);
      printf("}");
    }
    printf("],\"failures\":[");
    for (size_t i = 0; i < nf; i++) {
      printf("%s", i ? "," : "");
      json_str(stdout, vsim_sim_failure(s, i));
    }
    printf("],\"repro\":");
    json_str(stdout, vsim_sim_repro(s));
    printf("}\n");
  } else if (!quiet || rc) {
    printf("scenario %s (%s)\n", vsim_sim_name(s), path);
    printf("  seed %" PRIu64 ", policy %s: %" PRIu64 " steps, %" PRIu64 " events, %" PRIu64
           " kicks, %" PRIu64 " interrupts, %" PRIu64 " completed, device status 0x%02" PRIx64 "\n",
           vsim_sim_seed(s), vsim_sim_policy_name(s), vsim_sim_steps(s), c.events, c.kicks,
           c.interrupts, c.completed, c.device_status);
    for (size_t i = 0; i < nv; i++) {
      const vsim_violation *v = vsim_sim_violation(s, i);
      const vsim_check_info *ci = vsim_check_info_get(v->check);
      printf("  violation [%s] %s at step %" PRIu64 ", queue %d: %s\n      %s\n", sev_name(ci->severity),
             ci->id, v->step, (int)v->queue, v->detail, ci->label);
    }
    for (size_t i = 0; i < nf; i++) printf("  FAILED: %s\n", vsim_sim_failure(s, i));
    printf("  result: %s\n", rc ? "FAIL" : "pass");
    printf("  trace hash: %016" PRIx64 "\n", vsim_sim_trace_hash(s));
    printf("  reproduce: %s\n", vsim_sim_repro(s));
  }
  vsim_sim_free(s);
  return out_rc ? out_rc : rc ? 1 : 0;
}

/* --mutants A,B: the bits of the named mutants into *bits; -1 for an
 * unknown name (named on stderr). */
static int parse_mutant_list(const char *list, vsim_mutset *set) {
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", list);
  *set = VSIM_MUT_NONE;
  for (char *tok = strtok(buf, ", "); tok; tok = strtok(NULL, ", ")) {
    int m = vsim_mutant_lookup(tok);
    if (m < 0) {
      fprintf(stderr, "virtio-sim: unknown mutant '%s' (virtio-sim mutants lists them)\n", tok);
      return -1;
    }
    vsim_mut_add(set, m);
  }
  return 0;
}

/* `fuzz-repro TARGET INPUT [-o OUT.json] [--mutants A,B]`: print the
 * scenario a fuzz input decodes to (stdout, or OUT.json), then apply the
 * target's oracles to the input in this process, as the libFuzzer target does
 * (fuzz/README.md). --mutants plants the bugs a fuzzer ran with
 * VSIM_FUZZ_MUTANTS, into the scenario too, so that it replays the same run.
 * Exit 0 the oracles hold, 1 a finding (named on stderr), 2 usage or I/O. */
static int cmd_fuzz_repro(int argc, char **argv) {
  const char *target = NULL, *input = NULL, *out = NULL, *mutant_list = NULL;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
      out = argv[++i];
    } else if (strcmp(argv[i], "--mutants") == 0 && i + 1 < argc) {
      mutant_list = argv[++i];
    } else if (argv[i][0] == '-' || (target && input)) {
      fprintf(stderr, "virtio-sim: unexpected argument '%s'\n", argv[i]);
      target = NULL;
      break;
    } else if (!target) {
      target = argv[i];
    } else {
      input = argv[i];
    }
  }
  if (!target || !input) {
    fprintf(stderr, "usage: virtio-sim fuzz-repro TARGET INPUT [-o OUT.json] [--mutants A,B]\n");
    return 2;
  }
  const vsim_fuzz_target *t = vsim_fuzz_target_find(target);
  if (!t) {
    fprintf(stderr, "virtio-sim: unknown fuzz target '%s' (known:", target);
    for (size_t i = 0; vsim_fuzz_target_at(i); i++) fprintf(stderr, " %s", vsim_fuzz_target_at(i)->name);
    fprintf(stderr, ")\n");
    return 2;
  }
  vsim_fuzz_oracle oracle;
  memset(&oracle, 0, sizeof oracle);
  if (mutant_list) {
    if (parse_mutant_list(mutant_list, &oracle.mutants)) return 2;
    if (vsim_mut_any(&oracle.mutants) && !vsim_fuzz_target_plants(t)) {
      fprintf(stderr, "virtio-sim: fuzz target %s takes no mutants (the ring and device request targets do)\n", t->name);
      return 2;
    }
  }
  FILE *f = fopen(input, "rb");
  uint8_t *data = NULL;
  size_t n = 0, cap = 0;
  bool io_ok = f != NULL;
  while (io_ok) {
    if (n == cap) {
      cap = cap ? 2 * cap : 65536;
      uint8_t *p = realloc(data, cap);
      if (!p) {
        io_ok = false;
        break;
      }
      data = p;
    }
    size_t k = fread(data + n, 1, cap - n, f);
    n += k;
    if (k == 0) {
      io_ok = !ferror(f);
      break;
    }
  }
  if (f) fclose(f);
  if (!io_ok) {
    fprintf(stderr, "virtio-sim: cannot read fuzz input %s\n", input);
    free(data);
    return 2;
  }
  size_t len = 0;
  vsim_fuzz_info info;
  char *text = vsim_fuzz_decode(t, data, n, oracle.mutants, &len, &info);
  FILE *o = out ? fopen(out, "wb") : stdout;
  if (!text || !o || fwrite(text, 1, len, o) != len || fflush(o) != 0) {
    fprintf(stderr, "virtio-sim: cannot write the scenario%s%s\n", out ? " to " : "", out ? out : "");
    if (o && o != stdout) fclose(o);
    free(text);
    free(data);
    return 2;
  }
  if (o != stdout && fclose(o) != 0) {
    free(text);
    free(data);
    return 2;
  }
  free(text);
  size_t slen = 0;
  char *script = vsim_fuzz_decode_script(t, data, n, &slen);
  if (script) {
    /* the back-end the scenario runs with, beside it: OUT.json -> OUT.vu-script.json */
    if (!out) {
      fprintf(stderr, "fuzz-repro: %s: the scenario needs its back-end script; give -o OUT.json to write "
                      "both\n", t->name);
    } else {
      char path[4096];
      size_t ol = strlen(out);
      int k = ol > 5 && strcmp(out + ol - 5, ".json") == 0
                  ? snprintf(path, sizeof path, "%.*s.vu-script.json", (int)(ol - 5), out)
                  : snprintf(path, sizeof path, "%s.vu-script.json", out);
      FILE *sf = k > 0 && (size_t)k < sizeof path ? fopen(path, "wb") : NULL;
      bool ok = sf && fwrite(script, 1, slen, sf) == slen;
      if (sf && fclose(sf) != 0) ok = false;
      if (!ok) {
        fprintf(stderr, "virtio-sim: cannot write the back-end script %s\n", path);
        free(script);
        free(data);
        return 2;
      }
      fprintf(stderr, "fuzz-repro: replay: virtio-sim run %s --backend vhost-user-script:%s\n", out, path);
    }
    free(script);
  }
  char msg[2048];
  int v = vsim_fuzz_run(t, data, n, &oracle, msg, sizeof msg);
  free(data);
  if (v == VSIM_FUZZ_FINDING) {
    fprintf(stderr, "fuzz-repro: FINDING: %s\n", msg);
    return 1;
  }
  if (v != VSIM_FUZZ_OK) {
    fprintf(stderr, "fuzz-repro: the oracles could not run (out of memory)\n");
    return 2;
  }
  fprintf(stderr, "fuzz-repro: %s: the oracles hold for this input\n", t->name);
  return 0;
}

/* `fuzz-complete TARGET INPUT PROFILE -o OUT`: the input with the replies it
 * lacks added, as a well-behaved back-end of PROFILE sends them
 * (fuzz_vhost_user; fuzz/make_corpus.py makes the seed corpus with it).
 * Exit 0 written, 1 it cannot be completed (why on stderr), 2 usage or I/O. */
static int cmd_fuzz_complete(int argc, char **argv) {
  if (argc != 7 || strcmp(argv[5], "-o") != 0) {
    fprintf(stderr, "usage: virtio-sim fuzz-complete TARGET INPUT PROFILE -o OUT\n");
    return 2;
  }
  const vsim_fuzz_target *t = vsim_fuzz_target_find(argv[2]);
  char *end;
  unsigned long profile = strtoul(argv[4], &end, 10);
  if (!t || *end || end == argv[4]) {
    fprintf(stderr, "virtio-sim: fuzz-complete: unknown target '%s' or bad profile '%s'\n", argv[2], argv[4]);
    return 2;
  }
  FILE *f = fopen(argv[3], "rb");
  uint8_t buf[65536];
  size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
  if (!f || ferror(f)) {
    fprintf(stderr, "virtio-sim: cannot read fuzz input %s\n", argv[3]);
    if (f) fclose(f);
    return 2;
  }
  fclose(f);
  char err[512] = "";
  size_t outlen = 0;
  uint8_t *done = vsim_fuzz_complete(t, buf, n, (unsigned)profile, &outlen, err, sizeof err);
  if (!done) {
    fprintf(stderr, "fuzz-complete: %s\n", err);
    return 1;
  }
  FILE *o = fopen(argv[6], "wb");
  bool ok = o && fwrite(done, 1, outlen, o) == outlen;
  if (o && fclose(o) != 0) ok = false;
  free(done);
  if (!ok) {
    fprintf(stderr, "virtio-sim: cannot write %s\n", argv[6]);
    return 2;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  int r = vsim_cli_trace_command(argc, argv); /* replay, show, minimize */
  if (r >= 0) return r;
  if ((r = vsim_cli_coverage_command(argc, argv)) >= 0) return r;
  if ((r = vsim_cli_conform_command(argc, argv)) >= 0) return r;
  if (strcmp(argv[1], "run") == 0) return cmd_run(argc, argv);
  if (strcmp(argv[1], "checks") == 0) return cmd_checks(argc, argv);
  if (strcmp(argv[1], "mutants") == 0) return cmd_mutants();
  if (strcmp(argv[1], "fuzz-repro") == 0) return cmd_fuzz_repro(argc, argv);
  if (strcmp(argv[1], "fuzz-complete") == 0) return cmd_fuzz_complete(argc, argv);
  if (strcmp(argv[1], "version") == 0) {
    printf("virtio-sim %s\n", VSIM_VERSION);
    return 0;
  }
  if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "virtio-sim: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
