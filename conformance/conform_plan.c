/* conformance/conform_plan.c — the test plan of a conformance run, and the
 * scenario each test runs (see conform.h).
 *
 * Owns: reading conformance/suites.json, listing each suite's scenarios in a
 * fixed order (sorted file names), classifying each scenario (well-formed or
 * adversarial; which features it needs; whether it needs the built-in model's
 * settings; which transports it runs on), expanding it over the transports
 * and the feature matrix the backend offers, and
 * rewriting a scenario into the test that runs it.
 * Must never: iterate a directory in the order the file system returns (the
 * plan, and so every test id, must be the same on every machine).
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include "conform.h"
#include "datafile.h"
#include "registry.h"
#include "scenario.h"
#include "virtio_compat.h"
#include "virtiosim/checks.h"
#include "virtiosim/virtiosim.h"

#define BIT(b) (UINT64_C(1) << (b))

/* The matrix: ring layout is one axis; these feature bits are the others. */
static const unsigned matrix_bits[] = {VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC,
                                       VIRTIO_F_IN_ORDER};

static const char *const matrix_short[] = {"event_idx", "indirect", "in_order"};

static char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *json_str_field(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

static int load_manifest(const char *path, vsim_conform_plan *plan, json_t **dirs_out, char *err,
                         size_t errlen) {
  json_error_t je;
  json_t *root = json_load_file(path, 0, &je);
  if (!root) {
    snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    return -1;
  }
  json_t *suites = json_object_get(root, "suites");
  if (!json_is_array(suites) || json_array_size(suites) == 0) {
    snprintf(err, errlen, "%s: field 'suites' must be a non-empty array", path);
    json_decref(root);
    return -1;
  }
  size_t n = json_array_size(suites);
  plan->suites = calloc(n, sizeof *plan->suites);
  json_t *dirs = json_array();
  if (!plan->suites || !dirs) {
    snprintf(err, errlen, "out of memory");
    json_decref(root);
    json_decref(dirs);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    json_t *s = json_array_get(suites, i);
    const char *name = json_str_field(s, "name"), *area = json_str_field(s, "area"),
               *title = json_str_field(s, "title"), *device = json_str_field(s, "device");
    json_t *d = json_object_get(s, "dirs");
    const char *bad = !json_is_object(s) ? ""
                      : !name            ? ".name"
                      : !area            ? ".area"
                      : !title           ? ".title"
                      : !json_is_array(d) ? ".dirs"
                      : (json_object_get(s, "device") && !device) ? ".device"
                                                                  : NULL;
    for (size_t k = 0; !bad && k < json_array_size(d); k++)
      if (!json_is_string(json_array_get(d, k))) bad = ".dirs[]";
    if (bad) {
      snprintf(err, errlen, "%s: field 'suites[%zu]%s' is missing or has the wrong type", path, i, bad);
      json_decref(root);
      json_decref(dirs);
      return -1;
    }
    vsim_conform_suite *cs = &plan->suites[plan->nsuites++];
    cs->name = xstrdup(name);
    cs->area = xstrdup(area);
    cs->title = xstrdup(title);
    cs->device = device ? xstrdup(device) : NULL;
    json_array_append(dirs, d);
  }
  json_decref(root);
  *dirs_out = dirs;
  return 0;
}

/* What a scenario is, as the plan needs to know it. */
typedef struct scen_class {
  bool adversarial, request_level, knobs, split_raw, ring_given, policy_dependent;
  int transport;          /* the one it is written for, or -1: either */
  int ring;
  bool has_accept;
  uint64_t requires;
  const char *knob; /* the first built-in-only setting it uses */
} scen_class;

/* Returns 1 for a scenario that is not a test of a device: one that expects
 * the device to break a rule (the built-in model configured to be wrong, to
 * show that the driver or a checker notices). */
static int classify(const vsim_scenario *sc, json_t *doc, scen_class *c) {
  memset(c, 0, sizeof *c);
  c->ring = sc->ring;
  c->ring_given = json_object_get(doc, "ring") != NULL;
  /* a scenario names its transport, or pokes registers by offset (the
   * mmio.* steps: virtio-mmio's layout unless it names pci): pinned */
  c->transport = json_object_get(doc, "transport") ? (int)sc->transport : -1;
  const char *desc = json_str_field(doc, "description");
  c->policy_dependent = desc && strstr(desc, "policy-dependent");
  c->has_accept = sc->has_accept;
  if (sc->has_expect_violations && sc->nexpect_violations > 0) {
    c->adversarial = true;
    c->request_level = true;
    for (size_t i = 0; i < sc->nexpect_violations; i++) {
      const vsim_check_info *ci = vsim_check_info_get(sc->expect_violations[i]);
      if (ci->judged != VSIM_JUDGED_DRIVER) return 1;
      if (strncmp(ci->id, "blk.", 4) != 0) c->request_level = false;
    }
  }
  if (sc->has_offered) c->knob = "offered_features";
  else if (sc->refuse) c->knob = "refuse_features";
  else if (sc->nconfig) c->knob = "device_config";
  else if (sc->device_latency) c->knob = "device_latency";
  else if (sc->device_in_order_batch) c->knob = "device_in_order_batch";
  else if (sc->irq_coalesce_count) c->knob = "device_irq_coalesce";
  else if (sc->device_poll) c->knob = "device_poll";
  else if (json_object_get(doc, "queue_max")) c->knob = "queue_max";
  for (size_t i = 0; i < sc->nsteps; i++) {
    switch (sc->steps[i].op) {
      case VSIM_OP_RAW_AVAIL:
      case VSIM_OP_RAW_AVAIL_IDX:
      case VSIM_OP_RAW_AVAIL_FLAGS:
      case VSIM_OP_RAW_USED_EVENT: c->split_raw = true; break;
      case VSIM_OP_RAW_DESC:
      case VSIM_OP_RAW_PDESC:
        /* raw descriptors written with INDIRECT need it negotiated (or are
         * the malformed input "indirect without the feature", which a
         * variant must not turn into a different test) */
        if (sc->steps[i].flags & VRING_DESC_F_INDIRECT) c->requires |= BIT(VIRTIO_RING_F_INDIRECT_DESC);
        if (sc->steps[i].op == VSIM_OP_RAW_DESC) c->split_raw = true;
        break;
      case VSIM_OP_BLK_RAW:
        /* a raw request of a feature-gated type tests the device with the
         * feature (without it, UNSUPP is the only right answer) */
        if (sc->steps[i].type == VIRTIO_BLK_T_DISCARD) c->requires |= BIT(VIRTIO_BLK_F_DISCARD);
        if (sc->steps[i].type == VIRTIO_BLK_T_WRITE_ZEROES) c->requires |= BIT(VIRTIO_BLK_F_WRITE_ZEROES);
        if (sc->steps[i].type == VIRTIO_BLK_T_FLUSH) c->requires |= BIT(VIRTIO_BLK_F_FLUSH);
        break;
      case VSIM_OP_BLK_DISCARD: c->requires |= BIT(VIRTIO_BLK_F_DISCARD); break;
      case VSIM_OP_BLK_WRITE_ZEROES: c->requires |= BIT(VIRTIO_BLK_F_WRITE_ZEROES); break;
      case VSIM_OP_BLK_FLUSH: c->requires |= BIT(VIRTIO_BLK_F_FLUSH); break;
      case VSIM_OP_QUEUE_RESET:
      case VSIM_OP_QUEUE_ENABLE: c->requires |= BIT(VIRTIO_F_RING_RESET); break;
      case VSIM_OP_MMIO_READ:
      case VSIM_OP_MMIO_WRITE:
        if (c->transport < 0) c->transport = VSIM_TRANSPORT_MMIO;
        break;
      case VSIM_OP_PCI_CFG_READ:
      case VSIM_OP_PCI_CFG_WRITE:
        /* configuration space is virtio-pci's alone */
        if (c->transport < 0) c->transport = VSIM_TRANSPORT_PCI;
        break;
      case VSIM_OP_FAULT_NEEDS_RESET:
        if (!c->knob) c->knob = "fault.needs_reset";
        break;
      case VSIM_OP_DEV_CONFIG:
        /* the host changing the config space: only the built-in model takes it */
        if (!c->knob) c->knob = "dev.config";
        break;
      case VSIM_OP_HOST_INPUT:
      case VSIM_OP_EXPECT_OUTPUT:
      case VSIM_OP_HOST_EVENT:
        /* the host side of a device is the built-in model's (sim.c); another
         * backend's is its own */
        if (!c->knob) c->knob = vsim_op_name(sc->steps[i].op);
        break;
      default: break;
    }
  }
  /* blk needs MQ for a second queue; a fs device always has hiprio + request queues */
  if (sc->num_queues > 1 && strcmp(sc->device, "blk") == 0) c->requires |= BIT(VIRTIO_BLK_F_MQ);
  /* net: a third queue is the control queue, more are a second pair */
  if (sc->num_queues > 2 && strcmp(sc->device, "net") == 0) c->requires |= BIT(VIRTIO_NET_F_CTRL_VQ);
  if (sc->num_queues > 3 && strcmp(sc->device, "net") == 0) c->requires |= BIT(VIRTIO_NET_F_MQ);
  /* in-order batching is a setting of IN_ORDER: without it the scenario
   * would be another test (and its raw steps assume the batch) */
  if (sc->device_in_order_batch) c->requires |= BIT(VIRTIO_F_IN_ORDER);
  /* a scenario about the device refusing a feature needs that feature accepted */
  c->requires |= sc->refuse;
  if (c->ring_given && sc->ring == VSIM_RING_PACKED) c->requires |= BIT(VIRTIO_F_RING_PACKED);
  /* a feature the scenario is written not to accept is not one it needs */
  if (sc->has_accept) {
    c->requires &= sc->accept | BIT(VIRTIO_F_RING_PACKED);
    const uint64_t ring_features = BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |
                                   BIT(VIRTIO_F_IN_ORDER) | BIT(VIRTIO_F_NOTIFICATION_DATA) |
                                   BIT(VIRTIO_F_RING_RESET);
    c->requires |= sc->accept & ring_features;
  }
  if (c->knob) c->knobs = true;
  return 0;
}

/* "split", "packed,pci", "split,-event_idx": virtio-mmio, the first
 * transport, is left unnamed, so that its ids stay what they were before
 * transport became a dimension (xfail lists name them). */
static void variant_name(int ring, int transport, uint64_t off, char *out, size_t outlen) {
  size_t n = (size_t)snprintf(out, outlen, "%s%s", ring ? "packed" : "split",
                              transport == VSIM_TRANSPORT_PCI ? ",pci" : "");
  for (size_t i = 0; i < sizeof matrix_bits / sizeof matrix_bits[0]; i++)
    if (off & BIT(matrix_bits[i]) && n < outlen) {
      const char *nm = matrix_short[i];
      n += (size_t)snprintf(out + n, outlen - n, ",-");
      for (; nm && *nm && n + 1 < outlen; nm++) out[n++] = (char)(*nm >= 'A' && *nm <= 'Z' ? *nm + 32 : *nm);
      out[n < outlen ? n : outlen - 1] = 0;
    }
}

static int add_test(vsim_conform_plan *plan, size_t *cap, const vsim_conform_test *t) {
  if (plan->ntests == *cap) {
    size_t nc = *cap ? *cap * 2 : 256;
    vsim_conform_test *nt = realloc(plan->tests, nc * sizeof *nt);
    if (!nt) return -1;
    plan->tests = nt;
    *cap = nc;
  }
  plan->tests[plan->ntests++] = *t;
  return 0;
}

static void missing_features(uint64_t need, uint64_t offered, const char *device, char *out,
                             size_t outlen) {
  size_t n = (size_t)snprintf(out, outlen, "needs");
  for (unsigned b = 0; b < 64; b++)
    if ((need & ~offered) & BIT(b)) {
      const char *nm = vsim_feature_name(device, b);
      n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, " %s", nm ? nm : "?");
    }
  if (n < outlen) snprintf(out + n, outlen - n, ", which the device does not offer");
}

static int plan_scenario(const vsim_conform_config *cfg, vsim_conform_plan *plan, size_t *cap,
                         unsigned suite, const char *path, const char *rel, bool builtin,
                         char *err, size_t errlen) {
  char lerr[VSIM_ERR_MAX];
  vsim_scenario *sc = vsim_scenario_load_file(path, lerr, sizeof lerr);
  if (!sc) {
    snprintf(err, errlen, "suite %s: %s", plan->suites[suite].name, lerr);
    return -1;
  }
  json_error_t je;
  json_t *doc = json_load_file(path, 0, &je);
  int rc = 0;
  /* mutant proofs and other device types are not tests of this backend */
  if (!doc || vsim_mut_any(&sc->mutants) || strcmp(sc->device, cfg->device) != 0) goto out;
  scen_class c;
  if (classify(sc, doc, &c)) goto out;

  int rings[2], nrings = 0;
  if (c.ring_given || c.split_raw) rings[nrings++] = c.ring;
  else {
    rings[nrings++] = VSIM_RING_SPLIT;
    rings[nrings++] = VSIM_RING_PACKED;
  }
  /* the feature bits this scenario can flip: offered ones, unless it says
   * itself which features the driver accepts */
  uint64_t flippable = 0;
  if (!c.has_accept && cfg->matrix == VSIM_MATRIX_FULL)
    for (size_t i = 0; i < sizeof matrix_bits / sizeof matrix_bits[0]; i++)
      flippable |= BIT(matrix_bits[i]) & plan->offered;
  flippable &= ~c.requires;
  unsigned nseeds = c.policy_dependent ? 1 : (cfg->seeds ? cfg->seeds : 1);

  char stem[160];
  snprintf(stem, sizeof stem, "%.159s", rel);
  char *dot = strrchr(stem, '.');
  if (dot && strcmp(dot, ".json") == 0) *dot = 0;

  /* Transports: the one a scenario is written for, else both. The second
   * one (virtio-pci) runs the variants as the scenario enables them (no
   * feature flipped, the scenario's own order): the transport carries
   * register accesses, notifications and interrupts, none of which the
   * flipped ring features change, so the full cross product would double
   * the run for little more than virtio-mmio's variants already find. */
  int pin = cfg->transport - 1; /* -1: none */
  int transports[2], ntransports = 0;
  if (c.transport >= 0) transports[ntransports++] = c.transport;
  else {
    transports[ntransports++] = VSIM_TRANSPORT_MMIO;
    if (cfg->matrix == VSIM_MATRIX_FULL) transports[ntransports++] = VSIM_TRANSPORT_PCI;
  }

  for (int tri = 0; tri < ntransports * nrings; tri++) {
    int ti = tri / nrings, ri = tri % nrings;
    bool secondary = c.transport < 0 && transports[ti] != VSIM_TRANSPORT_MMIO;
    /* --transport pins one: another one's tests are left out, and a scenario
     * written for the other is skipped (said so) */
    if (pin >= 0 && c.transport < 0 && transports[ti] != pin) continue;
    /* every subset of the flippable bits, in a fixed order */
    for (uint64_t off = 0;; off = ((off | ~flippable) + 1) & flippable) {
      for (unsigned k = 0; k < nseeds; k++) {
        if (cfg->matrix == VSIM_MATRIX_NATIVE && (rings[ri] != c.ring || k > 0)) continue;
        if (secondary && (off != 0 || k > 0)) continue;
        vsim_conform_test t;
        memset(&t, 0, sizeof t);
        char var[96];
        variant_name(rings[ri], transports[ti], off, var, sizeof var);
        snprintf(t.id, sizeof t.id, "%.40s:%.150s[%.40s]#%u", plan->suites[suite].name, stem, var, k);
        t.suite = suite;
        t.ring = rings[ri];
        t.transport = transports[ti];
        t.features_off = off;
        t.seed_index = k;
        t.native = rings[ri] == c.ring && off == 0 && k == 0;
        t.adversarial = c.adversarial;
        t.request_level = c.request_level;
        t.needs_builtin_knobs = c.knobs;
        uint64_t need = c.requires | (rings[ri] == VSIM_RING_PACKED ? BIT(VIRTIO_F_RING_PACKED) : 0);
        t.protocol = strcmp(plan->suites[suite].area, "vhost-user") == 0;
        if (t.protocol && strncmp(cfg->backend, "vhost-user", 10) != 0)
          snprintf(t.skip, sizeof t.skip, "a test of the vhost-user protocol: needs --backend vhost-user");
        else if (pin >= 0 && t.transport != pin)
          snprintf(t.skip, sizeof t.skip, "written for %s; the run is pinned to --transport %s",
                   t.transport == VSIM_TRANSPORT_PCI ? "virtio-pci" : "virtio-mmio",
                   pin == VSIM_TRANSPORT_PCI ? "pci" : "mmio");
        else if (c.knobs && !builtin)
          snprintf(t.skip, sizeof t.skip,
                   "sets the built-in model's '%s', which another backend does not take", c.knob);
        else if (need & ~plan->offered)
          missing_features(need, plan->offered, cfg->device, t.skip, sizeof t.skip);
        if (cfg->only_test && strcmp(cfg->only_test, t.id) != 0) continue;
        t.path = xstrdup(path);
        t.rel = xstrdup(rel);
        if (!t.path || !t.rel || add_test(plan, cap, &t)) {
          free(t.path);
          free(t.rel);
          snprintf(err, errlen, "out of memory");
          rc = -1;
          goto out;
        }
      }
      if (off == flippable) break;
    }
  }
out:
  json_decref(doc);
  vsim_scenario_free(sc);
  return rc;
}

static int list_json(const char *dir, char ***names, size_t *n) {
  *names = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) return -1;
  size_t cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0) continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      char **nn = realloc(*names, cap * sizeof *nn);
      if (!nn) break;
      *names = nn;
    }
    (*names)[(*n)++] = xstrdup(e->d_name);
  }
  closedir(d);
  if (*n) qsort(*names, *n, sizeof **names, cmp_str);
  return 0;
}

/* The features the backend offers: one run of "init" against it. */
static int probe_in_process(const vsim_conform_config *cfg, uint64_t *offered, char *err, size_t errlen) {
  char text[256];
  snprintf(text, sizeof text,
           "{\"name\": \"conform-probe\", \"device\": \"%s\", \"num_queues\": 2, \"steps\": [{\"op\": \"init\"}]}",
           cfg->device);
  vsim_options o;
  memset(&o, 0, sizeof o);
  o.backend = cfg->backend;
  o.violations_judged_by_caller = true;
  char lerr[1024];
  vsim_sim *s = vsim_sim_load_buffer(text, strlen(text), "conform-probe", &o, lerr, sizeof lerr);
  if (!s) {
    snprintf(err, errlen, "backend %s: %s", cfg->backend, lerr);
    return -1;
  }
  vsim_sim_run(s);
  *offered = vsim_sim_device_features(s);
  vsim_sim_free(s);
  return 0;
}

/* The probe runs the backend too, so it gets the same protection as a test:
 * a child process, a wall-clock bound. */
static int probe_backend(const vsim_conform_config *cfg, uint64_t *offered, char *err, size_t errlen) {
  int p[2];
  if (pipe(p)) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    return -1;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    snprintf(err, errlen, "fork: %s", strerror(errno));
    return -1;
  }
  if (pid == 0) {
    close(p[0]);
    char msg[1100];
    uint64_t f = 0;
    int n = probe_in_process(cfg, &f, msg + 2, sizeof msg - 2) == 0
                ? snprintf(msg, sizeof msg, "O %016" PRIx64, f)
                : (msg[0] = 'E', msg[1] = ' ', (int)strlen(msg));
    ssize_t w = write(p[1], msg, (size_t)n);
    _exit(w == n ? 0 : 3);
  }
  close(p[1]);
  char buf[1100];
  size_t len = 0;
  unsigned waited_ms = 0, limit_ms = (cfg->test_timeout_s ? cfg->test_timeout_s : 60) * 1000u;
  for (;;) {
    struct pollfd pf = {p[0], POLLIN, 0};
    int r = poll(&pf, 1, 100);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      waited_ms += 100;
      if (waited_ms >= limit_ms) break;
      continue;
    }
    ssize_t got = read(p[0], buf + len, sizeof buf - 1 - len);
    if (got <= 0) break;
    len += (size_t)got;
  }
  buf[len] = 0;
  close(p[0]);
  int status = 0;
  if (waited_ms >= limit_ms) kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  if (len > 2 && buf[0] == 'O') {
    *offered = strtoull(buf + 2, NULL, 16);
    return 0;
  }
  if (len > 2 && buf[0] == 'E') snprintf(err, errlen, "%s", buf + 2);
  else if (waited_ms >= limit_ms)
    snprintf(err, errlen, "backend %s: no answer within %u s while negotiating features (the probe run)",
             cfg->backend, limit_ms / 1000);
  else if (WIFSIGNALED(status))
    snprintf(err, errlen, "backend %s died of signal %d (%s) while negotiating features (the probe run)",
             cfg->backend, WTERMSIG(status), strsignal(WTERMSIG(status)));
  else
    snprintf(err, errlen, "backend %s: the probe run exited with status %d", cfg->backend,
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return -1;
}

int vsim_conform_plan_build(const vsim_conform_config *cfg, vsim_conform_plan *plan, char *err,
                            size_t errlen) {
  memset(plan, 0, sizeof *plan);
  vsim_backend_spec bs;
  if (vsim_backend_spec_parse(cfg->backend, &bs, err, (unsigned)errlen)) return -1;
  bool builtin = bs.kind == VSIM_BACKEND_BUILTIN;
  if (builtin && strcmp(bs.open_name, cfg->device) != 0) {
    snprintf(err, errlen, "backend %s is a %s device, not %s", cfg->backend, bs.open_name, cfg->device);
    return -1;
  }
  char manifest[600];
  if (cfg->suites_file) snprintf(manifest, sizeof manifest, "%s", cfg->suites_file);
  else vsim_datafile_find("conformance/suites.json", manifest, sizeof manifest);
  if (cfg->scenarios_root) snprintf(plan->root, sizeof plan->root, "%s", cfg->scenarios_root);
  else vsim_datafile_find("scenarios", plan->root, sizeof plan->root);
  if (probe_backend(cfg, &plan->offered, err, errlen)) return -1;
  json_t *dirs = NULL;
  if (load_manifest(manifest, plan, &dirs, err, errlen)) return -1;
  bool suite_found = !cfg->suite;
  size_t cap = 0;
  int rc = 0;
  for (unsigned i = 0; i < plan->nsuites && rc == 0; i++) {
    const vsim_conform_suite *su = &plan->suites[i];
    if (cfg->suite && strcmp(cfg->suite, su->name) != 0) continue;
    suite_found = true;
    if (su->device && strcmp(su->device, cfg->device) != 0) continue;
    json_t *d = json_array_get(dirs, i);
    for (size_t k = 0; k < json_array_size(d) && rc == 0; k++) {
      const char *sub = json_string_value(json_array_get(d, k));
      char dir[1100];
      snprintf(dir, sizeof dir, "%s/%s", plan->root, sub);
      char **names;
      size_t n;
      if (list_json(dir, &names, &n)) {
        snprintf(err, errlen, "%s: suite %s: cannot read directory %s", manifest, su->name, dir);
        rc = -1;
        break;
      }
      for (size_t j = 0; j < n; j++) {
        char path[1400], rel[400];
        snprintf(path, sizeof path, "%s/%s", dir, names[j]);
        snprintf(rel, sizeof rel, "%s/%s", sub, names[j]);
        if (rc == 0) rc = plan_scenario(cfg, plan, &cap, i, path, rel, builtin, err, errlen);
        free(names[j]);
      }
      free(names);
    }
  }
  json_decref(dirs);
  if (rc == 0 && !suite_found) {
    snprintf(err, errlen, "no suite named '%s' in %s", cfg->suite, manifest);
    rc = -1;
  }
  if (rc == 0 && cfg->only_test && plan->ntests == 0) {
    snprintf(err, errlen, "no test with id '%s'", cfg->only_test);
    rc = -1;
  }
  return rc;
}

void vsim_conform_plan_free(vsim_conform_plan *plan) {
  for (size_t i = 0; i < plan->nsuites; i++) {
    free(plan->suites[i].name);
    free(plan->suites[i].area);
    free(plan->suites[i].title);
    free(plan->suites[i].device);
  }
  free(plan->suites);
  for (size_t i = 0; i < plan->ntests; i++) {
    free(plan->tests[i].path);
    free(plan->tests[i].rel);
  }
  free(plan->tests);
  memset(plan, 0, sizeof *plan);
}

/* After adversarial input, the same device instance must recover: reset,
 * renegotiate, and serve one well-formed request with the right data
 * (delayed death shows up here as `wedged`). */
size_t vsim_conform_probe_steps(const vsim_conform_config *cfg, const vsim_conform_test *t) {
  if (!t->adversarial) return 0;
  if (strcmp(cfg->device, "console") == 0 || strcmp(cfg->device, "input") == 0) return 4;
  if (strcmp(cfg->device, "net") == 0) return 5;
  if (strcmp(cfg->device, "blk") != 0) return 0;
  return t->needs_builtin_knobs ? 4 : 5;
}

/* A console serves a transmit buffer on port 0 (used, nothing written). */
static const char probe_console[] =
    "[{\"op\": \"reset\"}, {\"op\": \"init\"},"
    " {\"op\": \"req.raw\", \"queue\": 1, \"data\": \"70726f6265\", \"expect_used_len\": 0}, {\"op\": \"wait\"}]";

/* An input device serves a status event (statusq: used, nothing written). */
static const char probe_input[] =
    "[{\"op\": \"reset\"}, {\"op\": \"init\"},"
    " {\"op\": \"req.raw\", \"queue\": 1, \"data\": \"1100000000000000\", \"expect_used_len\": 0}, {\"op\": \"wait\"}]";

/* net: after a reset and a new initialisation, a receive buffer takes a
 * frame from the host with a sound header (num_buffers 1) and the frame
 * intact. Receive, not transmit: what the adversarial part sent may still
 * be on the wire ahead of a probe frame. */
static const char *const net_probe =
    "[{\"op\": \"reset\"}, {\"op\": \"init\"},"
    " {\"op\": \"req.raw\", \"queue\": 0, \"len\": 1526, \"expect_used_len\": 72, \"expect_reply\": ["
    "   {\"name\": \"num_buffers\", \"offset\": 10, \"width\": 2, \"value\": 1},"
    "   {\"name\": \"frame\", \"offset\": 12, \"data\": \"ffffffffffff5254000000aa0806 00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"}]},"
    " {\"op\": \"host.input\", \"data\": \"ffffffffffff5254000000aa0806 00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"},"
    " {\"op\": \"wait\"}]";

static int append_probe(json_t *steps, const char *device, bool data_check) {
  const char *text = strcmp(device, "console") == 0 ? probe_console
                     : strcmp(device, "input") == 0 ? probe_input
                     : strcmp(device, "net") == 0   ? net_probe
                                                    : NULL;
  if (text) {
    json_error_t je;
    json_t *p = json_loads(text, 0, &je);
    if (!p) return -1;
    int rc = json_array_extend(steps, p);
    json_decref(p);
    return rc;
  }
  if (strcmp(device, "blk") != 0) return 0;
  const char *probe_rw =
      "[{\"op\": \"reset\"}, {\"op\": \"init\"},"
      " {\"op\": \"blk.write\", \"sector\": 1, \"data\": {\"pattern\": 24301, \"len\": 1024}, \"expect_status\": \"OK\"},"
      " {\"op\": \"blk.read\", \"sector\": 1, \"len\": 1024, \"expect_data\": {\"pattern\": 24301, \"len\": 1024}},"
      " {\"op\": \"wait\"}]";
  /* a device the scenario configured specially (read-only, tiny) still
   * answers GET_ID */
  const char *probe_id = "[{\"op\": \"reset\"}, {\"op\": \"init\"}, {\"op\": \"blk.get_id\", \"expect_status\": \"OK\"}, {\"op\": \"wait\"}]";
  json_error_t je;
  json_t *p = json_loads(data_check ? probe_rw : probe_id, 0, &je);
  if (!p) return -1;
  int rc = json_array_extend(steps, p);
  json_decref(p);
  return rc;
}

/* In a test that breaks a driver rule on purpose, a step expecting IOERR or
 * UNSUPP is the malformed request; which of the two the built-in model gives
 * is its own choice, not the spec's. The status byte's definition says only
 * "VIRTIO_BLK_S_IOERR for device or driver error or VIRTIO_BLK_S_UNSUPP for a
 * request unsupported by device" (Block Device / Device Operation), and no
 * devicenormative sentence fixes the answer to a request that breaks a
 * drivernormative one (too many segments, a partial segment, a range beyond
 * capacity): either error is right, OK is not (the request did not succeed
 * as asked). Where the spec does fix it (UNSUPP for discard flags, IOERR for
 * a write to a read-only device), the checks blk.dev-discard-flags and
 * blk.dev-ro-write judge it, whatever the step expects. */
static void relax_error_statuses(json_t *steps) {
  size_t i;
  json_t *st;
  json_array_foreach(steps, i, st) {
    const char *op = json_str_field(st, "op");
    const char *want = json_str_field(st, "expect_status");
    if (!op || strncmp(op, "blk.", 4) != 0 || !want) continue;
    if (strcmp(want, "IOERR") == 0 || strcmp(want, "UNSUPP") == 0)
      json_object_set_new(st, "expect_status", json_string("ERROR"));
  }
}

char *vsim_conform_test_scenario(const vsim_conform_config *cfg, const vsim_conform_test *t,
                                 char *err, size_t errlen) {
  json_error_t je;
  json_t *doc = json_load_file(t->path, 0, &je);
  if (!doc) {
    snprintf(err, errlen, "%s:%d:%d: %s", t->path, je.line, je.column, je.text);
    return NULL;
  }
  json_t *expect = json_object_get(doc, "expect");
  vsim_backend_spec bs;
  char serr[256];
  bool builtin = vsim_backend_spec_parse(cfg->backend, &bs, serr, sizeof serr) == 0 &&
                 bs.kind == VSIM_BACKEND_BUILTIN;
  if (!builtin) {
    /* the serial GET_ID returns is the device's own: another backend is
     * held to the format (status, length), not to the built-in's value */
    json_t *steps = json_object_get(doc, "steps");
    size_t i;
    json_t *st;
    json_array_foreach(steps, i, st) {
      const char *op = json_str_field(st, "op");
      if (op && strcmp(op, "blk.get_id") == 0) json_object_del(st, "expect_data");
    }
  }
  if (t->adversarial) {
    /* what the built-in model answers (which violation it names, whether it
     * enters NEEDS_RESET) is one correct answer among several: judged by the
     * runner, not by the scenario's end-of-run expectations */
    json_object_del(doc, "expect");
    json_t *steps = json_object_get(doc, "steps");
    if (!json_is_array(steps)) {
      steps = json_array();
      json_object_set_new(doc, "steps", steps);
    }
    relax_error_statuses(steps);
    if (append_probe(steps, cfg->device, !t->needs_builtin_knobs)) {
      snprintf(err, errlen, "out of memory");
      json_decref(doc);
      return NULL;
    }
  } else if (json_is_object(expect)) {
    /* notification counts belong to the driver model in the scenario's own
     * configuration; against a device the suppression checkers judge every
     * notification, with the rule's own MUST or SHOULD */
    json_object_del(expect, "kicks");
    json_object_del(expect, "interrupts");
  }
  char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(doc);
  if (!text) snprintf(err, errlen, "out of memory");
  return text;
}

void vsim_conform_repro(const vsim_conform_config *cfg, const vsim_conform_test *t, char *out,
                        size_t outlen) {
  size_t n = (size_t)snprintf(out, outlen, "virtio-sim conform --backend '%s' --device %s", cfg->backend,
                              cfg->device);
  if (cfg->profile == VSIM_PROFILE_COMPAT && n < outlen)
    n += (size_t)snprintf(out + n, outlen - n, " --profile compat");
  if (t->seed_index > 0 && cfg->seed != 1 && n < outlen)
    n += (size_t)snprintf(out + n, outlen - n, " --seed %" PRIu64, cfg->seed);
  if (cfg->scenarios_root && n < outlen)
    n += (size_t)snprintf(out + n, outlen - n, " --scenarios '%s'", cfg->scenarios_root);
  if (n < outlen) snprintf(out + n, outlen - n, " --test '%s'", t->id);
}

void vsim_conform_trace_path(const vsim_conform_config *cfg, const vsim_conform_test *t, char *out,
                             size_t outlen) {
  /* the id as a file name: what a shell or a browser would trip on becomes _ */
  char name[256];
  size_t n = 0;
  for (const char *p = t->id; *p && n + 1 < sizeof name; p++) {
    char c = *p;
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                 c == '.' || c == ',';
    name[n++] = plain ? c : '_';
  }
  name[n] = 0;
  snprintf(out, outlen, "%s/%s.jsonl", cfg->trace_dir ? cfg->trace_dir : ".", name);
}

bool vsim_conform_replay_cmd(const vsim_conform_config *cfg, const vsim_conform_test *t, char *out,
                             size_t outlen) {
  if (!cfg->trace_dir) return false;
  char path[1024];
  vsim_conform_trace_path(cfg, t, path, sizeof path);
  if (access(path, R_OK) != 0) return false;
  snprintf(out, outlen, "virtio-sim replay '%s'", path);
  return true;
}

static const vsim_conform_unobserved out_of_process[] = {
    {VSIM_CHK_LIVENESS_DEV_WORK,
     "not judged: the daemon's reads of guest memory are not seen, so its work per chain is not counted"},
    {VSIM_CHK_MEM_DEV_OOB,
     "judged for writes only (guest memory compared with the driver's mirror); reads outside what it was "
     "given are not seen"},
};

size_t vsim_conform_unobserved_checks(const vsim_conform_config *cfg, const vsim_conform_unobserved **out) {
  *out = out_of_process;
  return strncmp(cfg->backend, "vhost-user", 10) == 0 ? sizeof out_of_process / sizeof out_of_process[0] : 0;
}
