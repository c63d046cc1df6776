/* sim/replay.c — trace reader and replayer (see replay.h).
 *
 * Event lines are read by a small flat-object parser of our own rather than by
 * jansson: their fields are unsigned 64-bit integers, and jansson reads JSON
 * integers as signed 64-bit, so an address above 2^63 (which the malformed
 * scenarios write on purpose) would not survive. Header and footer lines hold
 * nested values and no such integers; jansson reads those.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "replay.h"
#include "scenario.h"
#include "sched.h"

/* ---- small helpers ---- */

static void errf(char *err, size_t errlen, const char *path, size_t line, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(err, errlen, "%s:%zu: %s", path, line, msg);
}

static char *dupstr(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

void vsim_replay_actor_name(int32_t actor, char *buf, size_t len) {
  if (actor == 0)
    snprintf(buf, len, "driver");
  else if (actor > 0)
    snprintf(buf, len, "dev.q%d", (int)actor - 1);
  else
    snprintf(buf, len, "engine");
}

void vsim_replay_format_event(const vsim_event *ev, char *buf, size_t len) {
  char actor[24];
  vsim_replay_actor_name(ev->actor, actor, sizeof actor);
  snprintf(buf, len,
           "{\"step\":%" PRIu64 ",\"actor\":\"%s\",\"kind\":\"%s\",\"q\":%d,\"a\":%" PRIu64
           ",\"b\":%" PRIu64 ",\"c\":%" PRIu64 ",\"d\":%" PRIu64 "}",
           ev->step, actor, vsim_event_kind_name(ev->kind), (int)ev->q, ev->a, ev->b, ev->c, ev->d);
}

static void format_rec(const vsim_rec_event *e, char *buf, size_t len) {
  snprintf(buf, len,
           "{\"step\":%" PRIu64 ",\"actor\":\"%s\",\"kind\":\"%s\",\"q\":%d,\"a\":%" PRIu64
           ",\"b\":%" PRIu64 ",\"c\":%" PRIu64 ",\"d\":%" PRIu64 "}",
           e->step, e->actor, e->kind, (int)e->q, e->a, e->b, e->c, e->d);
}

/* ---- the flat event-line parser ---- */

static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\r') p++;
  return p;
}

/* A JSON string without escapes beyond \" and \\ (the writer never makes
 * others); returns the char after the closing quote or NULL. */
static const char *parse_str(const char *p, char *out, size_t cap, const char **why) {
  if (*p != '"') {
    *why = "expected a string";
    return NULL;
  }
  p++;
  size_t n = 0;
  while (*p && *p != '"') {
    char c = *p++;
    if (c == '\\') {
      if (*p != '"' && *p != '\\' && *p != '/') {
        *why = "unsupported escape in a string";
        return NULL;
      }
      c = *p++;
    }
    if ((unsigned char)c < 0x20) {
      *why = "control character in a string";
      return NULL;
    }
    if (n + 1 >= cap) {
      *why = "string too long";
      return NULL;
    }
    out[n++] = c;
  }
  if (*p != '"') {
    *why = "unterminated string";
    return NULL;
  }
  out[n] = '\0';
  return p + 1;
}

/* A decimal integer: unsigned 64-bit, or (is_signed) a 32-bit signed one;
 * returns the char after it. */
static const char *parse_int(const char *p, bool is_signed, uint64_t *u, int64_t *sv,
                             const char **why) {
  bool neg = *p == '-';
  if (neg) p++;
  if (*p < '0' || *p > '9') {
    *why = "expected an integer";
    return NULL;
  }
  if (*p == '0' && p[1] >= '0' && p[1] <= '9') {
    *why = "leading zero in an integer";
    return NULL;
  }
  uint64_t v = 0;
  while (*p >= '0' && *p <= '9') {
    unsigned dgt = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - dgt) / 10) {
      *why = "integer out of range";
      return NULL;
    }
    v = v * 10 + dgt;
    p++;
  }
  if (*p == '.' || *p == 'e' || *p == 'E') {
    *why = "expected an integer, not a real";
    return NULL;
  }
  if (!is_signed) {
    if (neg) {
      *why = "negative value for an unsigned field";
      return NULL;
    }
    *u = v;
    return p;
  }
  if ((!neg && v > INT32_MAX) || (neg && v > (uint64_t)INT32_MAX + 1)) {
    *why = "integer out of range";
    return NULL;
  }
  *sv = neg ? -(int64_t)v : (int64_t)v;
  return p;
}

enum { F_STEP, F_ACTOR, F_KIND, F_Q, F_A, F_B, F_C, F_D, F__N };
static const char *const field_names[F__N] = {"step", "actor", "kind", "q", "a", "b", "c", "d"};

/* 0, or -1 with a message (no file:line prefix) in why/buf. */
static int parse_event_line(const char *line, vsim_rec_event *e, char *why, size_t whylen) {
  const char *w = NULL;
  bool seen[F__N] = {false};
  const char *p = skip_ws(line);
  if (*p != '{') {
    snprintf(why, whylen, "expected a JSON object");
    return -1;
  }
  p = skip_ws(p + 1);
  for (;;) {
    char key[32];
    p = parse_str(p, key, sizeof key, &w);
    if (!p) {
      snprintf(why, whylen, "bad key: %s", w);
      return -1;
    }
    p = skip_ws(p);
    if (*p != ':') {
      snprintf(why, whylen, "expected ':' after \"%s\"", key);
      return -1;
    }
    p = skip_ws(p + 1);
    int f = -1;
    for (int i = 0; i < F__N; i++)
      if (strcmp(key, field_names[i]) == 0) f = i;
    if (f < 0) {
      snprintf(why, whylen, "unknown field '%s' in an event line", key);
      return -1;
    }
    if (seen[f]) {
      snprintf(why, whylen, "duplicate field '%s'", key);
      return -1;
    }
    seen[f] = true;
    uint64_t u = 0;
    int64_t sv = 0;
    switch (f) {
      case F_ACTOR: p = parse_str(p, e->actor, sizeof e->actor, &w); break;
      case F_KIND: p = parse_str(p, e->kind, sizeof e->kind, &w); break;
      case F_Q:
        p = parse_int(p, true, NULL, &sv, &w);
        e->q = (int32_t)sv;
        break;
      default: {
        p = parse_int(p, false, &u, NULL, &w);
        uint64_t *dst[F__N] = {[F_STEP] = &e->step, [F_A] = &e->a, [F_B] = &e->b, [F_C] = &e->c,
                               [F_D] = &e->d};
        *dst[f] = u;
      }
    }
    if (!p) {
      snprintf(why, whylen, "field '%s': %s", key, w);
      return -1;
    }
    p = skip_ws(p);
    if (*p == ',') {
      p = skip_ws(p + 1);
      continue;
    }
    if (*p == '}') break;
    snprintf(why, whylen, "expected ',' or '}' after field '%s'", key);
    return -1;
  }
  p = skip_ws(p + 1);
  if (*p && *p != '\n') {
    snprintf(why, whylen, "text after the event object");
    return -1;
  }
  for (int i = 0; i < F__N; i++)
    if (!seen[i]) {
      snprintf(why, whylen, "missing field '%s'", field_names[i]);
      return -1;
    }
  return 0;
}

/* ---- header and footer ---- */

static bool starts_with_key(const char *line, const char *key) {
  const char *p = skip_ws(line);
  if (*p != '{') return false;
  p = skip_ws(p + 1);
  size_t n = strlen(key);
  return *p == '"' && strncmp(p + 1, key, n) == 0 && p[1 + n] == '"';
}

static const char *const policy_names[] = {"scripted", "round-robin", "random"};

static int read_header(vsim_trace_file *t, const char *line, size_t lineno, char *err, size_t errlen) {
  json_error_t je;
  json_t *root = json_loads(line, JSON_REJECT_DUPLICATES, &je);
  json_t *h = root ? json_object_get(root, "header") : NULL;
  int rc = -1;
  if (!root) {
    errf(err, errlen, t->path, lineno, "header: %s", je.text);
    goto out;
  }
  if (!json_is_object(h) || json_object_size(root) != 1) {
    errf(err, errlen, t->path, lineno, "expected {\"header\":{...}} as the first line");
    goto out;
  }
  json_t *v;
  if (!json_is_string(v = json_object_get(h, "scenario"))) {
    errf(err, errlen, t->path, lineno, "header: field 'scenario' missing or not a string");
    goto out;
  }
  t->scenario = dupstr(json_string_value(v));
  if (!json_is_string(v = json_object_get(h, "path"))) {
    errf(err, errlen, t->path, lineno, "header: field 'path' missing or not a string");
    goto out;
  }
  t->scenario_path = dupstr(json_string_value(v));
  v = json_object_get(h, "version");
  t->version = dupstr(json_is_string(v) ? json_string_value(v) : "?");
  /* the seed is written as a signed 64-bit JSON integer: a seed above 2^63
   * comes back negative, and the cast restores its bits */
  if (!json_is_integer(v = json_object_get(h, "seed"))) {
    errf(err, errlen, t->path, lineno, "header: field 'seed' missing or not an integer");
    goto out;
  }
  t->seed = (uint64_t)json_integer_value(v);
  t->policy = -1;
  v = json_object_get(h, "policy");
  for (int i = 0; i < 3 && json_is_string(v); i++)
    if (strcmp(json_string_value(v), policy_names[i]) == 0) t->policy = i;
  if (t->policy < 0) {
    errf(err, errlen, t->path, lineno,
         "header: field 'policy' must be \"scripted\", \"round-robin\" or \"random\"");
    goto out;
  }
  /* format 2 fields; a format-1 header (no scenario text) replays from the
   * scenario file at 'path', with the scenario's own ring and max_steps */
  t->ring = -1;
  if ((v = json_object_get(h, "ring"))) {
    if (json_is_string(v) && strcmp(json_string_value(v), "split") == 0) t->ring = VSIM_RING_SPLIT;
    else if (json_is_string(v) && strcmp(json_string_value(v), "packed") == 0) t->ring = VSIM_RING_PACKED;
    else {
      errf(err, errlen, t->path, lineno, "header: field 'ring' must be \"split\" or \"packed\"");
      goto out;
    }
  }
  if ((v = json_object_get(h, "max_steps"))) {
    if (!json_is_integer(v) || json_integer_value(v) < 1) {
      errf(err, errlen, t->path, lineno, "header: field 'max_steps' must be a positive integer");
      goto out;
    }
    t->max_steps = (uint64_t)json_integer_value(v);
  }
  t->checkers = true;
  if ((v = json_object_get(h, "checkers"))) {
    if (!json_is_boolean(v)) {
      errf(err, errlen, t->path, lineno, "header: field 'checkers' must be true or false");
      goto out;
    }
    t->checkers = json_is_true(v);
  }
  json_t *given = json_object_get(h, "options");
  if (given && (v = json_object_get(given, "backend"))) {
    if (!json_is_string(v)) {
      errf(err, errlen, t->path, lineno, "header: field 'options.backend' must be a string");
      goto out;
    }
    t->backend = strdup(json_string_value(v));
    if (!t->backend) {
      errf(err, errlen, t->path, lineno, "out of memory");
      goto out;
    }
  }
  t->transport = -1;
  if (given && (v = json_object_get(given, "transport")) && json_is_string(v))
    t->transport = strcmp(json_string_value(v), "pci") == 0 ? 1 : 0;
  if (given && (v = json_object_get(given, "features_off"))) {
    if (!json_is_integer(v)) {
      errf(err, errlen, t->path, lineno, "header: field 'options.features_off' must be an integer");
      goto out;
    }
    t->features_off = (uint64_t)json_integer_value(v);
  }
  t->backend_recorded = json_is_true(json_object_get(h, "backend_recorded"));
  if ((v = json_object_get(h, "scenario_text"))) {
    if (!json_is_string(v)) {
      errf(err, errlen, t->path, lineno, "header: field 'scenario_text' must be a string");
      goto out;
    }
    t->text_len = json_string_length(v);
    t->text = malloc(t->text_len + 1);
    if (!t->text) {
      errf(err, errlen, t->path, lineno, "out of memory");
      goto out;
    }
    memcpy(t->text, json_string_value(v), t->text_len);
    t->text[t->text_len] = '\0';
  }
  if (!t->scenario || !t->scenario_path || !t->version) {
    errf(err, errlen, t->path, lineno, "out of memory");
    goto out;
  }
  rc = 0;
out:
  json_decref(root);
  return rc;
}

/* "D*3 Q0 T": the decisions, one actor id per step. */
static int parse_picks(vsim_trace_file *t, const char *s, size_t lineno, char *err, size_t errlen) {
  size_t cap = 0;
  const char *p = s;
  while (*p) {
    while (*p == ' ') p++;
    if (!*p) break;
    int32_t id;
    if (*p == 'D') {
      id = 0;
      p++;
    } else if (*p == 'T') {
      id = -2;
      p++;
    } else if (*p == 'Q' && p[1] >= '0' && p[1] <= '9') {
      char *end;
      unsigned long q = strtoul(p + 1, &end, 10);
      if (q >= 64) {
        errf(err, errlen, t->path, lineno, "footer: picks: queue %lu out of range", q);
        return -1;
      }
      id = (int32_t)q + 1;
      p = end;
    } else {
      errf(err, errlen, t->path, lineno, "footer: picks: unexpected '%c' (expected D, T or Qn)", *p);
      return -1;
    }
    uint64_t n = 1;
    if (*p == '*') {
      char *end;
      errno = 0;
      n = strtoull(p + 1, &end, 10);
      if (end == p + 1 || errno || n == 0) {
        errf(err, errlen, t->path, lineno, "footer: picks: bad repeat count");
        return -1;
      }
      p = end;
    }
    if (*p && *p != ' ') {
      errf(err, errlen, t->path, lineno, "footer: picks: unexpected '%c'", *p);
      return -1;
    }
    if (n > VSIM_SCENARIO_MAX_RUN_STEPS || t->npicks + n > VSIM_SCENARIO_MAX_RUN_STEPS) {
      errf(err, errlen, t->path, lineno, "footer: picks: more steps than any run can have");
      return -1;
    }
    if (t->npicks + n > cap) {
      size_t nc = cap ? cap : 1024;
      while (nc < t->npicks + n) nc *= 2;
      int32_t *np = realloc(t->picks, nc * sizeof *np);
      if (!np) {
        errf(err, errlen, t->path, lineno, "out of memory");
        return -1;
      }
      t->picks = np;
      cap = nc;
    }
    for (uint64_t i = 0; i < n; i++) t->picks[t->npicks++] = id;
  }
  return 0;
}

static int read_footer(vsim_trace_file *t, const char *line, size_t lineno, char *err, size_t errlen) {
  json_error_t je;
  json_t *root = json_loads(line, JSON_REJECT_DUPLICATES, &je);
  json_t *f = root ? json_object_get(root, "footer") : NULL;
  int rc = -1;
  json_t *v;
  if (!root) {
    errf(err, errlen, t->path, lineno, "footer: %s", je.text);
    goto out;
  }
  if (!json_is_object(f) || json_object_size(root) != 1) {
    errf(err, errlen, t->path, lineno, "expected {\"footer\":{...}}");
    goto out;
  }
  if (!json_is_integer(v = json_object_get(f, "steps")) || json_integer_value(v) < 0) {
    errf(err, errlen, t->path, lineno, "footer: field 'steps' missing or not a count");
    goto out;
  }
  t->footer_steps = (uint64_t)json_integer_value(v);
  if (!json_is_integer(v = json_object_get(f, "events")) || json_integer_value(v) < 0) {
    errf(err, errlen, t->path, lineno, "footer: field 'events' missing or not a count");
    goto out;
  }
  t->footer_events = (uint64_t)json_integer_value(v);
  v = json_object_get(f, "hash");
  const char *hs = json_is_string(v) ? json_string_value(v) : "";
  char *end;
  errno = 0;
  t->footer_hash = strtoull(hs, &end, 16);
  if (strlen(hs) != 16 || *end || errno) {
    errf(err, errlen, t->path, lineno, "footer: field 'hash' must be 16 hex digits");
    goto out;
  }
  if ((v = json_object_get(f, "picks"))) {
    if (!json_is_string(v)) {
      errf(err, errlen, t->path, lineno, "footer: field 'picks' must be a string");
      goto out;
    }
    if (parse_picks(t, json_string_value(v), lineno, err, errlen)) goto out;
    if (t->npicks != t->footer_steps) {
      errf(err, errlen, t->path, lineno, "footer: picks name %zu steps, 'steps' says %" PRIu64,
           t->npicks, t->footer_steps);
      goto out;
    }
    t->picks_recorded = true;
  }
  t->has_footer = true;
  t->footer_line = (uint32_t)lineno;
  rc = 0;
out:
  json_decref(root);
  return rc;
}

/* Without recorded decisions, the first event of a step names its actor. An
 * "engine" event (the timer, or the engine's own end-of-run report) is
 * ambiguous, so such steps, and steps without events, are left to the policy. */
static int derive_picks(vsim_trace_file *t, char *err, size_t errlen) {
  uint64_t steps = t->nev ? t->ev[t->nev - 1].step : 0;
  if (steps == 0) return 0;
  t->picks = malloc(steps * sizeof *t->picks);
  if (!t->picks) {
    snprintf(err, errlen, "%s: out of memory", t->path);
    return -1;
  }
  for (uint64_t i = 0; i < steps; i++) t->picks[i] = -1;
  uint64_t prev = 0;
  for (size_t i = 0; i < t->nev; i++) {
    const vsim_rec_event *e = &t->ev[i];
    if (e->step == 0 || e->step == prev) continue;
    prev = e->step;
    unsigned q;
    char tail;
    if (strcmp(e->actor, "driver") == 0) t->picks[e->step - 1] = 0;
    else if (sscanf(e->actor, "dev.q%u%c", &q, &tail) == 1 && q < 64) t->picks[e->step - 1] = (int32_t)q + 1;
  }
  t->npicks = steps;
  return 0;
}

int vsim_trace_file_load(const char *path, vsim_trace_file *t, char *err, size_t errlen) {
  memset(t, 0, sizeof *t);
  t->path = dupstr(path);
  FILE *f = fopen(path, "r");
  if (!f || !t->path) {
    snprintf(err, errlen, "%s:1: cannot read the trace file", path);
    if (f) fclose(f);
    vsim_trace_file_free(t);
    return -1;
  }
  char *line = NULL;
  size_t cap = 0, lineno = 0, evcap = 0;
  ssize_t n;
  int rc = -1;
  bool header = false;
  while ((n = getline(&line, &cap, f)) >= 0) {
    lineno++;
    if ((size_t)n != strlen(line)) {
      errf(err, errlen, path, lineno, "NUL byte in the line");
      goto out;
    }
    const char *p = skip_ws(line);
    if (*p == '\n' || !*p) {
      errf(err, errlen, path, lineno, "empty line");
      goto out;
    }
    if (t->has_footer) {
      errf(err, errlen, path, lineno, "text after the footer");
      goto out;
    }
    if (!header) {
      if (!starts_with_key(line, "header")) {
        errf(err, errlen, path, lineno, "expected the header {\"header\":{...}} as the first line");
        goto out;
      }
      if (read_header(t, line, lineno, err, errlen)) goto out;
      header = true;
      continue;
    }
    if (starts_with_key(line, "header")) {
      errf(err, errlen, path, lineno, "a second header");
      goto out;
    }
    if (starts_with_key(line, "footer")) {
      if (read_footer(t, line, lineno, err, errlen)) goto out;
      continue;
    }
    if (starts_with_key(line, "be")) {
      /* a recorded backend call: kept as text, parsed when replayed */
      if (!t->backend_recorded) {
        errf(err, errlen, path, lineno, "a backend record, but the header does not say \"backend_recorded\"");
        goto out;
      }
      if (t->be.n == t->be_cap) {
        size_t nc = t->be_cap ? 2 * t->be_cap : 1024;
        char **nl = realloc(t->be_lines, nc * sizeof *nl);
        if (nl) t->be_lines = nl;
        uint32_t *nn = nl ? realloc(t->be_lineno, nc * sizeof *nn) : NULL;
        if (nn) t->be_lineno = nn;
        if (!nl || !nn) {
          errf(err, errlen, path, lineno, "out of memory");
          goto out;
        }
        t->be_cap = nc;
      }
      size_t len = strlen(line);
      while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
      if (!(t->be_lines[t->be.n] = dupstr(line))) {
        errf(err, errlen, path, lineno, "out of memory");
        goto out;
      }
      t->be_lineno[t->be.n++] = (uint32_t)lineno;
      t->be.lines = t->be_lines;
      t->be.lineno = t->be_lineno;
      t->be.path = t->path;
      continue;
    }
    if (t->nev == evcap) {
      size_t nc = evcap ? 2 * evcap : 4096;
      vsim_rec_event *ne = realloc(t->ev, nc * sizeof *ne);
      if (!ne) {
        errf(err, errlen, path, lineno, "out of memory");
        goto out;
      }
      t->ev = ne;
      evcap = nc;
    }
    vsim_rec_event *e = &t->ev[t->nev];
    memset(e, 0, sizeof *e);
    char why[256];
    if (parse_event_line(line, e, why, sizeof why)) {
      errf(err, errlen, path, lineno, "%s", why);
      goto out;
    }
    if (t->nev && e->step < t->ev[t->nev - 1].step) {
      errf(err, errlen, path, lineno, "step %" PRIu64 " after step %" PRIu64 " (steps never go back)",
           e->step, t->ev[t->nev - 1].step);
      goto out;
    }
    if (e->step > VSIM_SCENARIO_MAX_RUN_STEPS) {
      errf(err, errlen, path, lineno, "step %" PRIu64 " beyond any run's max_steps", e->step);
      goto out;
    }
    e->line = (uint32_t)lineno;
    t->nev++;
  }
  if (ferror(f)) {
    errf(err, errlen, path, lineno + 1, "read error");
    goto out;
  }
  if (!header) {
    errf(err, errlen, path, 1, "empty trace: no header");
    goto out;
  }
  if (t->has_footer && t->footer_events != t->nev) {
    errf(err, errlen, path, t->footer_line, "footer says %" PRIu64 " events, the trace has %zu",
         t->footer_events, t->nev);
    goto out;
  }
  if (t->has_footer && t->nev && t->ev[t->nev - 1].step > t->footer_steps) {
    errf(err, errlen, path, t->footer_line, "footer says %" PRIu64 " steps, an event has step %" PRIu64,
         t->footer_steps, t->ev[t->nev - 1].step);
    goto out;
  }
  if (!t->picks_recorded && derive_picks(t, err, errlen)) goto out;
  rc = 0;
out:
  free(line);
  fclose(f);
  if (rc) vsim_trace_file_free(t);
  return rc;
}

void vsim_trace_file_free(vsim_trace_file *t) {
  free(t->path);
  free(t->scenario);
  free(t->scenario_path);
  free(t->version);
  free(t->text);
  free(t->backend);
  for (size_t i = 0; i < t->be.n; i++) free(t->be_lines[i]);
  free(t->be_lines);
  free(t->be_lineno);
  free(t->ev);
  free(t->picks);
  memset(t, 0, sizeof *t);
}

/* ---- the replayer ---- */

struct vsim_replay {
  const vsim_trace_file *t;
  vsim_sim *sim;
  uint64_t count;        /* events the replay emitted */
  bool diverged;
  bool ended;
  char msg[2048];
  bool keep;
  vsim_event *ev;        /* keep: every replayed event */
  size_t nev, evcap;
  bool oom;
};

static void diverge(vsim_replay *r, const char *fmt, ...) {
  if (r->diverged) return;
  r->diverged = true;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->msg, sizeof r->msg, fmt, ap);
  va_end(ap);
}

static void on_event(void *ctx, uint64_t step, int32_t actor, int32_t kind, int32_t q, uint64_t a,
                     uint64_t b, uint64_t c, uint64_t d) {
  vsim_replay *r = ctx;
  vsim_event got = {step, actor, kind, q, a, b, c, d};
  uint64_t i = r->count++;
  if (r->keep && !r->oom) {
    if (r->nev == r->evcap) {
      size_t nc = r->evcap ? 2 * r->evcap : 4096;
      vsim_event *ne = realloc(r->ev, nc * sizeof *ne);
      if (ne) {
        r->ev = ne;
        r->evcap = nc;
      } else {
        r->oom = true;
      }
    }
    if (!r->oom) r->ev[r->nev++] = got;
  }
  if (r->diverged) return;
  const vsim_trace_file *t = r->t;
  char g[256], e[256];
  vsim_replay_format_event(&got, g, sizeof g);
  if (i >= t->nev) {
    /* past a truncated trace's end nothing is known: not a divergence */
    if (t->has_footer)
      diverge(r, "%s:%u: first divergence at step %" PRIu64 " (event %" PRIu64
                 "): the trace ends here\n  expected: (no more events)\n  got:      %s",
              t->path, t->footer_line, step, i + 1, g);
    return;
  }
  const vsim_rec_event *x = &t->ev[i];
  char an[24];
  vsim_replay_actor_name(actor, an, sizeof an);
  if (x->step != step || strcmp(x->actor, an) != 0 || strcmp(x->kind, vsim_event_kind_name(kind)) != 0 ||
      x->q != q || x->a != a || x->b != b || x->c != c || x->d != d) {
    format_rec(x, e, sizeof e);
    diverge(r, "%s:%u: first divergence at step %" PRIu64 " (event %" PRIu64 ")\n  expected: %s\n  got:      %s",
            t->path, x->line, x->step < step ? x->step : step, i + 1, e, g);
  }
}

/* The recorded backend was asked for a call it does not hold: the run has
 * left the recording. */
static void standin_diverged(void *ctx, const char *msg) { diverge(ctx, "%s", msg); }

vsim_replay *vsim_replay_new(const vsim_trace_file *t, const char *trace_out, bool keep_events,
                             char *err, size_t errlen) {
  vsim_replay *r = calloc(1, sizeof *r);
  if (!r) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  r->t = t;
  r->keep = keep_events;
  vsim_options o;
  memset(&o, 0, sizeof o);
  o.has_seed = true;
  o.seed = t->seed;
  o.has_policy = true;
  o.policy = t->policy;
  if (t->ring >= 0) {
    o.has_ring = true;
    o.ring = t->ring;
  }
  if (t->max_steps) {
    o.has_max_steps = true;
    o.max_steps = t->max_steps;
  }
  o.checkers_off = !t->checkers;
  o.backend = t->backend;
  o.features_off = t->features_off;
  if (t->transport >= 0) {
    o.has_transport = true;
    o.transport = t->transport;
  }
  if (t->backend_recorded && !t->use_backend) {
    o.standin = &t->be;
    o.standin_diverged = standin_diverged;
    o.standin_ctx = r;
  }
  o.trace_path = trace_out;
  o.forced_picks = t->picks;
  o.nforced_picks = t->npicks;
  o.on_event = on_event;
  o.on_event_ctx = r;
  char lerr[1024];
  if (t->text)
    r->sim = vsim_sim_load_buffer(t->text, t->text_len, t->scenario_path, &o, lerr, sizeof lerr);
  else
    r->sim = vsim_sim_load(t->scenario_path, &o, lerr, sizeof lerr);
  if (!r->sim) {
    snprintf(err, errlen, "%s:1: the scenario %s does not load: %s", t->path,
             t->text ? "in the header" : "named by the header's 'path'", lerr);
    free(r);
    return NULL;
  }
  return r;
}

void vsim_replay_free(vsim_replay *r) {
  if (!r) return;
  vsim_sim_free(r->sim);
  free(r->ev);
  free(r);
}

static void check_forced(vsim_replay *r) {
  const vsim_sched *sc = vsim_sim_view_sched(r->sim);
  if (!sc->forced_miss) return;
  uint64_t step = sc->forced_miss;
  int32_t id = step - 1 < r->t->npicks ? r->t->picks[step - 1] : -1;
  char an[24];
  if (id == -2) snprintf(an, sizeof an, "timer");
  else vsim_replay_actor_name(id, an, sizeof an);
  /* this explains what follows better than the events it caused */
  r->diverged = false;
  diverge(r, "%s: first divergence at step %" PRIu64 ": the recorded decision (run %s) is not "
             "possible in the replay: that actor has nothing to do",
          r->t->path, step, an);
}

int vsim_replay_run(vsim_replay *r, uint64_t until) {
  while (!r->diverged && !r->ended && vsim_sim_steps(r->sim) < until) {
    int x = vsim_sim_step(r->sim);
    check_forced(r);
    if (x < 0) {
      diverge(r, "engine error at step %" PRIu64, vsim_sim_steps(r->sim));
      return -1;
    }
    if (x == 0) r->ended = true;
  }
  return r->diverged ? 1 : 0;
}

int vsim_replay_finish(vsim_replay *r) {
  int x = vsim_replay_run(r, UINT64_MAX);
  if (x < 0) return -1;
  vsim_sim_run(r->sim); /* end-of-run work: expectations, footer of a re-recorded trace */
  if (r->diverged) return 1;
  const vsim_trace_file *t = r->t;
  if (r->count < t->nev) {
    char e[256];
    format_rec(&t->ev[r->count], e, sizeof e);
    diverge(r, "%s:%u: first divergence at step %" PRIu64 " (event %" PRIu64
               "): the replay ended after %" PRIu64 " steps\n  expected: %s\n  got:      (no more events)",
            t->path, t->ev[r->count].line, t->ev[r->count].step, r->count + 1,
            vsim_sim_steps(r->sim), e);
    return 1;
  }
  if (t->has_footer && (t->footer_steps != vsim_sim_steps(r->sim) ||
                        t->footer_hash != vsim_sim_trace_hash(r->sim))) {
    diverge(r, "%s:%u: the footer says %" PRIu64 " steps, hash %016" PRIx64 "; the replay ran %" PRIu64
               " steps, hash %016" PRIx64 " (every event matched: the footer was changed)",
            t->path, t->footer_line, t->footer_steps, t->footer_hash, vsim_sim_steps(r->sim),
            vsim_sim_trace_hash(r->sim));
    return 1;
  }
  return 0;
}

const char *vsim_replay_divergence(const vsim_replay *r) { return r->diverged ? r->msg : ""; }
uint64_t vsim_replay_event_count(const vsim_replay *r) { return r->count; }
vsim_sim *vsim_replay_sim(vsim_replay *r) { return r->sim; }
const vsim_event *vsim_replay_events(const vsim_replay *r, size_t *n) {
  *n = r->keep && !r->oom ? r->nev : 0;
  return r->ev;
}
