/* sim/minimize.c — ddmin over a scenario's parts (see minimize.h).
 *
 * The scenario is kept as a jansson tree. A candidate is a shallow copy of
 * the current best tree with one list replaced by a subset of its items (the
 * items themselves are shared, by reference count), serialised and run from
 * scratch. A candidate is kept when the check fires in it and, if the
 * scenario's own expectations all held apart from its violations, when they
 * still do: otherwise the minimal scenario could not serve as a regression
 * scenario (a step's expect_status, say, would start failing).
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "minimize.h"
#include "scenario.h"
#include "virtiosim/checks.h"

typedef struct mctx {
  json_t *root;        /* the current best scenario, without "expect" */
  const char *name;    /* for the loader's messages */
  int check;
  bool need_clean;     /* the original had no failure besides its violations */
  bool has_orig;       /* orig[] is filled: candidates may fire no other check */
  bool orig[VSIM_CHK__COUNT];
  size_t runs;
} mctx;

/* Failures that are about violations, not about the scenario's own
 * expectations: candidates run without "expect", so any violation adds this. */
static bool violation_failure(const char *f) { return strstr(f, "violation(s), none expected") != NULL; }

/* 1 the check fires (and the run is otherwise clean when it must be), 0 not,
 * -1 the candidate does not load. `fired` (if not NULL) gets the set of checks. */
static int run_doc(mctx *m, json_t *doc, bool *fired, bool *clean) {
  char *text = json_dumps(doc, JSON_COMPACT);
  if (!text) return -1;
  m->runs++;
  char err[VSIM_ERR_MAX];
  vsim_sim *s = vsim_sim_load_buffer(text, strlen(text), m->name, NULL, err, sizeof err);
  free(text);
  if (!s) return -1;
  vsim_sim_run(s);
  int hit = 0;
  bool foreign = false; /* a check the original did not fire: a different bug */
  int on_packed = vsim_check_on_packed(m->check);
  for (size_t i = 0; i < vsim_sim_violation_count(s); i++) {
    int c = vsim_sim_violation(s, i)->check;
    if (c == m->check || c == on_packed) hit = 1;
    if (m->has_orig && !m->orig[c]) foreign = true;
    if (fired) fired[c] = true;
  }
  if (foreign) hit = 0;
  bool ok = true;
  for (size_t i = 0; i < vsim_sim_failure_count(s); i++)
    if (!violation_failure(vsim_sim_failure(s, i))) ok = false;
  if (clean) *clean = ok;
  vsim_sim_free(s);
  if (hit && m->need_clean && !ok) hit = 0;
  return hit;
}

/* Where a list lives: a top-level key, or "heads" of step `step`. */
typedef struct where {
  const char *key;
  long step;  /* -1: top level */
} where;

static json_t *list_at(json_t *root, where w) {
  if (w.step < 0) return json_object_get(root, w.key);
  return json_object_get(json_array_get(json_object_get(root, "steps"), (size_t)w.step), w.key);
}

/* A new tree sharing everything with root except the list at w, which holds
 * the items of `items` named by idx[0..n). */
static json_t *with_list(json_t *root, where w, json_t *items, const size_t *idx, size_t n) {
  json_t *sub = json_array();
  for (size_t i = 0; i < n; i++) json_array_append(sub, json_array_get(items, idx[i]));
  json_t *doc = json_copy(root);
  if (w.step < 0) {
    json_object_set_new(doc, w.key, sub);
    return doc;
  }
  json_t *steps = json_copy(json_object_get(root, "steps"));
  json_t *st = json_copy(json_array_get(steps, (size_t)w.step));
  json_object_set_new(st, w.key, sub);
  json_array_set_new(steps, (size_t)w.step, st);
  json_object_set_new(doc, "steps", steps);
  return doc;
}

static int test_subset(mctx *m, where w, json_t *items, const size_t *idx, size_t n) {
  json_t *doc = with_list(m->root, w, items, idx, n);
  int r = doc ? run_doc(m, doc, NULL, NULL) : -1;
  json_decref(doc);
  return r == 1;
}

/* ddmin: the smallest subset (1-minimal: no single item can go) of the list at
 * w for which the check still fires; the tree is updated in place. Returns
 * how many items are left, or -1 when out of memory. */
static long ddmin(mctx *m, where w, size_t min_keep) {
  json_t *items = list_at(m->root, w);
  if (!json_is_array(items)) return 0;
  json_incref(items);
  size_t len = json_array_size(items);
  size_t *cur = malloc((len ? len : 1) * sizeof *cur), *cand = malloc((len ? len : 1) * sizeof *cand);
  if (!cur || !cand) {
    free(cur);
    free(cand);
    json_decref(items);
    return -1;
  }
  for (size_t i = 0; i < len; i++) cur[i] = i;
  /* nothing at all is the best outcome: try it first */
  if (min_keep == 0 && len > 0 && test_subset(m, w, items, cur, 0)) len = 0;
  size_t n = 2;
  while (len >= 2 && len > min_keep) {
    size_t chunk = (len + n - 1) / n;
    bool reduced = false;
    /* a single chunk that is enough on its own */
    for (size_t c = 0; c < n && !reduced; c++) {
      size_t from = c * chunk, to = from + chunk < len ? from + chunk : len;
      if (from >= to || to - from < min_keep) continue;
      if (test_subset(m, w, items, cur + from, to - from)) {
        memmove(cur, cur + from, (to - from) * sizeof *cur);
        len = to - from;
        n = 2;
        reduced = true;
      }
    }
    /* or everything but one chunk */
    for (size_t c = 0; c < n && !reduced && n > 2; c++) {
      size_t from = c * chunk, to = from + chunk < len ? from + chunk : len;
      if (from >= to) continue;
      size_t k = 0;
      for (size_t i = 0; i < len; i++)
        if (i < from || i >= to) cand[k++] = cur[i];
      if (k < min_keep) continue;
      if (test_subset(m, w, items, cand, k)) {
        memcpy(cur, cand, k * sizeof *cur);
        len = k;
        n = n - 1 > 2 ? n - 1 : 2;
        reduced = true;
      }
    }
    if (!reduced) {
      if (n >= len) break;
      n = 2 * n < len ? 2 * n : len;
    }
  }
  /* (with n = 2 the complements are the chunks themselves, already tried) */
  json_t *doc = with_list(m->root, w, items, cur, len);
  if (w.step < 0) {
    json_object_set(m->root, w.key, json_object_get(doc, w.key));
  } else {
    json_object_set(m->root, "steps", json_object_get(doc, "steps"));
  }
  json_decref(doc);
  json_decref(items);
  free(cur);
  free(cand);
  return (long)len;
}

static size_t list_len(json_t *root, const char *key) {
  json_t *a = json_object_get(root, key);
  return json_is_array(a) ? json_array_size(a) : 0;
}

static size_t count_items(json_t *root) {
  static const char *const keys[] = {"mutants", "offered_features", "accept_features", "refuse_features"};
  size_t n = 0;
  for (unsigned k = 0; k < 4; k++) n += list_len(root, keys[k]);
  json_t *steps = json_object_get(root, "steps");
  for (size_t i = 0; i < json_array_size(steps); i++) {
    json_t *h = json_object_get(json_array_get(steps, i), "heads");
    if (json_is_array(h)) n += json_array_size(h);
  }
  return n;
}

/* The output: one top-level field per line, one step per line. */
static char *serialise(json_t *root) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  fputs("{\n", f);
  const char *key;
  json_t *v;
  size_t i = 0, n = json_object_size(root);
  json_object_foreach(root, key, v) {
    json_t *k = json_string(key);
    char *ks = k ? json_dumps(k, JSON_ENCODE_ANY) : NULL;
    json_decref(k);
    fprintf(f, "  %s: ", ks ? ks : "\"?\"");
    free(ks);
    if (strcmp(key, "steps") == 0 && json_is_array(v) && json_array_size(v) > 0) {
      fputs("[\n", f);
      for (size_t s = 0; s < json_array_size(v); s++) {
        char *t = json_dumps(json_array_get(v, s), JSON_ENCODE_ANY);
        fprintf(f, "    %s%s\n", t ? t : "null", s + 1 < json_array_size(v) ? "," : "");
        free(t);
      }
      fputs("  ]", f);
    } else {
      char *t = json_dumps(v, JSON_ENCODE_ANY);
      fputs(t ? t : "null", f);
      free(t);
    }
    fputs(++i < n ? ",\n" : "\n", f);
  }
  fputs("}\n", f);
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

static void apply_options(json_t *root, const vsim_options *opt) {
  if (!opt) return;
  if (opt->has_seed) {
    if (opt->seed > (uint64_t)INT64_MAX) {
      char hex[24];
      snprintf(hex, sizeof hex, "0x%" PRIx64, opt->seed);
      json_object_set_new(root, "seed", json_string(hex));
    } else {
      json_object_set_new(root, "seed", json_integer((json_int_t)opt->seed));
    }
  }
  if (opt->has_policy && opt->policy >= 0 && opt->policy <= VSIM_POLICY_RANDOM)
    json_object_set_new(root, "policy", json_string(vsim_policy_name((enum vsim_policy)opt->policy)));
  if (opt->has_ring) json_object_set_new(root, "ring", json_string(opt->ring ? "packed" : "split"));
  if (opt->has_max_steps) json_object_set_new(root, "max_steps", json_integer((json_int_t)opt->max_steps));
}

int vsim_minimize(const char *text, size_t len, const char *name, int check, const vsim_options *opt,
                  vsim_min_result *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  /* the loader's message (FILE:LINE:COL) is the best report of a bad file */
  vsim_sim *probe = vsim_sim_load_buffer(text, len, name, NULL, err, errlen);
  if (!probe) return -1;
  vsim_sim_free(probe);
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!json_is_object(root)) {
    snprintf(err, errlen, "%s:%d:%d: %s", name, je.line, je.column, je.text);
    json_decref(root);
    return -1;
  }
  apply_options(root, opt);
  json_object_del(root, "expect");
  mctx m;
  memset(&m, 0, sizeof m);
  m.root = root;
  m.name = name;
  m.check = check;
  bool clean = false;
  int r = run_doc(&m, root, m.orig, &clean);
  if (r < 0) {
    /* an override made it invalid: say why */
    char *t = json_dumps(root, JSON_COMPACT);
    vsim_sim *s = t ? vsim_sim_load_buffer(t, strlen(t), name, NULL, err, errlen) : NULL;
    vsim_sim_free(s);
    free(t);
    json_decref(root);
    return -1;
  }
  if (r == 0) {
    json_decref(root);
    return 1;
  }
  m.need_clean = clean;
  m.has_orig = true;
  out->steps_before = list_len(root, "steps");
  out->items_before = count_items(root);

  /* Steps first (they dominate the size), then what is inside the remaining
   * steps and the lists that configure the device; a smaller configuration
   * may free more steps, so go round again while anything shrank (bounded). */
  for (int round = 0; round < 4; round++) {
    size_t before = list_len(m.root, "steps") + count_items(m.root);
    if (ddmin(&m, (where){"steps", -1}, 0) < 0) goto oom;
    json_t *steps = json_object_get(m.root, "steps");
    for (size_t i = 0; i < json_array_size(steps); i++) {
      json_t *h = json_object_get(json_array_get(steps, i), "heads");
      if (json_is_array(h) && json_array_size(h) > 1 && ddmin(&m, (where){"heads", (long)i}, 1) < 0) goto oom;
      steps = json_object_get(m.root, "steps");
    }
    static const char *const lists[] = {"mutants", "offered_features", "accept_features", "refuse_features"};
    for (unsigned k = 0; k < 4; k++)
      if (json_is_array(json_object_get(m.root, lists[k])) && ddmin(&m, (where){lists[k], -1}, 0) < 0) goto oom;
    if (list_len(m.root, "steps") + count_items(m.root) == before) break;
  }
  if (json_is_array(json_object_get(m.root, "mutants")) && list_len(m.root, "mutants") == 0)
    json_object_del(m.root, "mutants");
  if (json_is_array(json_object_get(m.root, "refuse_features")) && list_len(m.root, "refuse_features") == 0)
    json_object_del(m.root, "refuse_features");

  /* the expectation: every check the minimal run fires, in catalog order */
  bool fired[VSIM_CHK__COUNT] = {false};
  if (run_doc(&m, m.root, fired, NULL) != 1) {
    snprintf(err, errlen, "%s: internal error: the minimal scenario no longer fires the check", name);
    json_decref(m.root);
    return -1;
  }
  json_t *viol = json_array();
  for (int c = 0; c < VSIM_CHK__COUNT; c++)
    if (fired[c]) json_array_append_new(viol, json_string(vsim_check_info_get(c)->id));
  json_t *exp = json_object();
  json_object_set_new(exp, "violations", viol);
  json_object_set_new(m.root, "expect", exp);
  /* name and description first, the rest in the original order */
  json_t *nm = json_object_get(m.root, "name");
  json_t *fin = json_object();
  if (json_is_string(nm)) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s-min", json_string_value(nm));
    json_object_set_new(fin, "name", json_string(buf));
    snprintf(buf, sizeof buf, "minimised from %s by `virtio-sim minimize --check %s`", json_string_value(nm),
             vsim_check_info_get(check)->id);
    json_object_set_new(fin, "description", json_string(buf));
  }
  const char *key;
  json_t *val;
  json_object_foreach(m.root, key, val) {
    if (strcmp(key, "name") != 0 && strcmp(key, "description") != 0) json_object_set(fin, key, val);
  }
  json_decref(m.root);
  m.root = fin;
  out->steps_after = list_len(m.root, "steps");
  out->items_after = count_items(m.root);
  out->runs = m.runs;
  out->text = serialise(m.root);
  json_decref(m.root);
  if (!out->text) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
oom:
  json_decref(m.root);
  snprintf(err, errlen, "out of memory");
  return -1;
}

void vsim_min_result_free(vsim_min_result *r) {
  free(r->text);
  r->text = NULL;
}
