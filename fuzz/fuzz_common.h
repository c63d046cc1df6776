/* fuzz/fuzz_common.h — the body every libFuzzer target shares.
 *
 * Owns: the LLVMFuzzerTestOneInput of a target named at compile time, and the
 * two knobs the targets read from the environment (once, at the first input):
 * VSIM_FUZZ_FATAL (a comma list of check ids, or "device" for every check
 * that judges the device, or "all"): violations of those checks become
 * findings too; VSIM_FUZZ_MUTANTS (a comma list of mutant names; the ring and
 * device request targets): plants those bugs into every decoded scenario, for the planted-bug
 * test (fuzz/README.md). The decoding and the oracles live in the library
 * (sim/fuzz_decode.c), so that `virtio-sim fuzz-repro` applies exactly the
 * same ones (given the same --mutants).
 * Must never: keep state between inputs beyond the parsed settings, or
 * return a finding any other way than abort() (libFuzzer then saves the input).
 */
#ifndef VSIM_FUZZ_COMMON_H
#define VSIM_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_decode.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void vsim_fuzz_parse_fatal(vsim_fuzz_oracle *o) {
  memset(o, 0, sizeof *o);
  const char *env = getenv("VSIM_FUZZ_FATAL");
  if (!env || !*env) return;
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", env);
  for (char *tok = strtok(buf, ", "); tok; tok = strtok(NULL, ", ")) {
    bool all = strcmp(tok, "all") == 0, dev = strcmp(tok, "device") == 0;
    if (all || dev) {
      for (int c = 0; c < VSIM_CHK__COUNT; c++)
        if (all || vsim_check_info_get(c)->judged == VSIM_JUDGED_DEVICE) o->fatal[c] = true;
      continue;
    }
    int c = vsim_check_lookup(tok);
    if (c < 0) {
      fprintf(stderr, "VSIM_FUZZ_FATAL: unknown check id '%s'\n", tok);
      exit(2);
    }
    o->fatal[c] = true;
  }
}

/* VSIM_FUZZ_MUTANTS: the bugs to plant (o->mutants), and the names as given,
 * for the reproduce line. A target that cannot carry them refuses: a planted
 * bug silently left out would make the test prove nothing. */
static void vsim_fuzz_parse_mutants(const vsim_fuzz_target *t, vsim_fuzz_oracle *o, char *names,
                                    size_t cap) {
  names[0] = 0;
  const char *env = getenv("VSIM_FUZZ_MUTANTS");
  if (!env || !*env) return;
  if (!vsim_fuzz_target_plants(t)) {
    fprintf(stderr, "VSIM_FUZZ_MUTANTS: %s takes no mutants (the ring and device request targets do)\n", t->name);
    exit(2);
  }
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", env);
  for (char *tok = strtok(buf, ", "); tok; tok = strtok(NULL, ", ")) {
    int m = vsim_mutant_lookup(tok);
    if (m < 0) {
      fprintf(stderr, "VSIM_FUZZ_MUTANTS: unknown mutant '%s' (virtio-sim mutants lists them)\n", tok);
      exit(2);
    }
    vsim_mut_add(&o->mutants, m);
    size_t used = strlen(names);
    snprintf(names + used, cap - used, "%s%s", used ? "," : "", tok);
  }
  fprintf(stderr, "==vsim-fuzz== planted mutants: %s\n", names);
}

static int vsim_fuzz_one(const char *name, const uint8_t *data, size_t size) {
  static const vsim_fuzz_target *target;
  static vsim_fuzz_oracle oracle;
  static char planted[512];
  if (!target) {
    target = vsim_fuzz_target_find(name);
    if (!target) {
      fprintf(stderr, "fuzz target '%s' is not in the library's table\n", name);
      abort();
    }
    vsim_fuzz_parse_fatal(&oracle);
    vsim_fuzz_parse_mutants(target, &oracle, planted, sizeof planted);
  }
  char msg[2048];
  int v = vsim_fuzz_run(target, data, size, &oracle, msg, sizeof msg);
  if (v == VSIM_FUZZ_FINDING) {
    fprintf(stderr, "==vsim-fuzz== FINDING: %s\n", msg);
    fprintf(stderr, "==vsim-fuzz== reproduce: virtio-sim fuzz-repro %s%s%s CRASH_FILE -o repro.json"
                    " && virtio-sim run repro.json\n",
            name, planted[0] ? " --mutants " : "", planted);
    abort();
  }
  if (v != VSIM_FUZZ_OK) {
    fprintf(stderr, "==vsim-fuzz== %s: the harness ran out of memory\n", name);
    abort();
  }
  return 0;
}

#define VSIM_FUZZ_TARGET(NAME)                                        \
  int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {      \
    return vsim_fuzz_one(NAME, data, size);                           \
  }

#endif
