/* sim/scenario.c — load and validate a JSON scenario (format: scenarios/README.md).
 *
 * Owns: turning scenario text into a vsim_scenario, and freeing it. Every
 * field is checked for name, type and range here, so the engine can trust
 * what it gets; the first problem becomes one message
 * "FILE:LINE:COL: field 'steps[3].sector': what is wrong" (positions from
 * sim/json_pos.c, since jansson keeps none).
 * Must never: accept a field it does not know, keep a pointer into the
 * jansson tree after returning, abort or crash on bad input, or hold global
 * mutable state (the loader's state lives in a `loader` on the stack).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ring.h>

#include "json_pos.h"
#include "scenario.h"
#include "virtiosim/arena.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

#define DEFAULT_QUEUE_SIZE 8
#define DEFAULT_QUEUE_MAX 256
#define DEFAULT_ARENA_SIZE (1u << 20)
#define DEFAULT_MAX_STEPS 100000
#define DEFAULT_READ_LEN 512
#define MIN_ARENA_SIZE (64u << 10)
#define MAX_ARENA_SIZE (1u << 30)
#define MAX_QUEUE_SIZE 32768
#define MAX_NUM_QUEUES 64
#define MAX_DEVICE_LATENCY 1000000u
#define MAX_DEVICE_BATCH 4096
#define MAX_DRIVER_BATCH 4096
#define MAX_REPEAT 1000000000u
#define MAX_COALESCE_COUNT 65536u
#define MAX_COALESCE_TIME 1000000u
#define MAX_POLL_PERIOD 1000000u

/* ---- the loader's state and its one error --------------------------------- */

typedef struct loader {
  const char *text; /* the original bytes, for positions */
  size_t len;
  const char *file; /* as it appears in messages */
  char *err;
  size_t errlen;
  vsim_json_path path; /* where we are; the failing field's path */
  vsim_scenario *sc;
} loader;

static void ld_push(loader *ld, const char *key) { vsim_json_pos_push_key(&ld->path, key); }
static void ld_push_index(loader *ld, size_t i) { vsim_json_pos_push_index(&ld->path, i); }
static void ld_pop(loader *ld) { vsim_json_pos_pop(&ld->path); }

static void write_error(char *err, size_t errlen, const char *file, unsigned long line,
                        unsigned long col, const char *field, const char *msg) {
  if (err == NULL || errlen == 0) return;
  snprintf(err, errlen, "%s:%lu:%lu: field '%s': %s", file, line, col, field, msg);
}

/* Records the error at the current path and returns false, so that every
 * parser can `return ld_fail(...)`. */
__attribute__((format(printf, 2, 3))) static bool ld_fail(loader *ld, const char *fmt, ...) {
  char msg[VSIM_ERR_MAX], field[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  vsim_json_loc loc;
  vsim_json_pos_find(ld->text, ld->len, &ld->path, &loc);
  vsim_json_pos_format(&ld->path, field, sizeof(field));
  write_error(ld->err, ld->errlen, ld->file, loc.line, loc.col, field, msg);
  return false;
}

/* A user-supplied string made safe to echo: printable ASCII, cut at 40. */
typedef struct quoted {
  char s[48];
} quoted;

static quoted q(const char *s) {
  quoted out;
  size_t n = 0;
  for (; s[n] && n < 40; n++) {
    unsigned char c = (unsigned char)s[n];
    out.s[n] = (c >= 0x20 && c < 0x7f && c != '\'') ? (char)c : '?';
  }
  if (s[n]) {
    memcpy(out.s + n, "...", 3);
    n += 3;
  }
  out.s[n] = '\0';
  return out;
}

static const char *type_name(const json_t *v) {
  switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
  }
}

static char *ld_strdup(loader *ld, const char *s) {
  char *d = strdup(s);
  if (d == NULL) ld_fail(ld, "out of memory");
  return d;
}

/* ---- name lists: candidates, "did you mean", "expected one of" ------------ */

typedef const char *(*name_at_fn)(const void *ctx, size_t i);

static const char *const mutant_names[] = {
#define VSIM_X_MUT_NAME(e, name, check, what) name,
    VSIM_MUTANT_LIST(VSIM_X_MUT_NAME)
#undef VSIM_X_MUT_NAME
};

static const char *at_table(const void *ctx, size_t i) {
  const char *const *t = ctx;
  return t[i];
}
static const char *at_mutant(const void *ctx, size_t i) {
  return i < COUNT_OF(mutant_names) ? mutant_names[i] : NULL;
}
static const char *at_check(const void *ctx, size_t i) {
  const vsim_check_info *ci = vsim_check_info_get((int)i);
  return ci ? ci->id : NULL;
}
static const char *at_feature(const void *ctx, size_t i) { return vsim_feature_name_at(ctx, i); }
static const char *at_status(const void *ctx, size_t i) { return vsim_status_name_at(i); }
static const char *at_op(const void *ctx, size_t i) {
  return i + VSIM_OP_INIT <= VSIM_OP__LAST ? vsim_op_name((enum vsim_op)(i + VSIM_OP_INIT)) : NULL;
}

static int fold(int c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

/* Case-insensitive edit distance counting a swap of two neighbours as one
 * edit ("nmae" → "name"), for "did you mean"; names longer than 63 bytes are
 * never close. Three rows on the stack, no allocation. */
static size_t edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63) return SIZE_MAX;
  size_t pp[64] = {0}, prev[64], cur[64];
  for (size_t j = 0; j <= lb; j++) prev[j] = j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t sub = prev[j - 1] + (fold(a[i - 1]) != fold(b[j - 1]));
      size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
      size_t d = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
      if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) && fold(a[i - 2]) == fold(b[j - 1]) &&
          pp[j - 2] + 1 < d)
        d = pp[j - 2] + 1;
      cur[j] = d;
    }
    memcpy(pp, prev, (lb + 1) * sizeof(size_t));
    memcpy(prev, cur, (lb + 1) * sizeof(size_t));
  }
  return prev[lb];
}

/* The closest candidate within 2 edits (1 for short names), or NULL. */
static const char *closest_name(const char *s, name_at_fn at, const void *ctx) {
  const char *best = NULL;
  size_t best_d = SIZE_MAX;
  for (size_t i = 0; i < 4096; i++) {
    const char *cand = at(ctx, i);
    if (cand == NULL) break;
    size_t d = edit_distance(s, cand);
    size_t limit = strlen(cand) <= 4 ? 1 : 2;
    if (d <= limit && d < best_d) {
      best = cand;
      best_d = d;
    }
  }
  return best;
}

static void join_names(char *buf, size_t len, name_at_fn at, const void *ctx) {
  size_t n = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < 4096; i++) {
    const char *cand = at(ctx, i);
    if (cand == NULL) break;
    int w = snprintf(buf + n, len - n, "%s%s", i ? ", " : "", cand);
    if (w < 0 || (size_t)w >= len - n) break;
    n += (size_t)w;
  }
}

/* "unknown WHAT 'x' (did you mean 'y'?)" or "... (expected one of a, b)" */
static bool fail_unknown(loader *ld, const char *what, const char *s, name_at_fn at,
                         const void *ctx, const char *where) {
  const char *close = closest_name(s, at, ctx);
  if (where != NULL) {
    if (close) return ld_fail(ld, "unknown %s '%s', did you mean '%s'? (%s)", what, q(s).s, close, where);
    return ld_fail(ld, "unknown %s '%s' (%s)", what, q(s).s, where);
  }
  char list[640];
  join_names(list, sizeof(list), at, ctx);
  if (close) return ld_fail(ld, "unknown %s '%s', did you mean '%s'? (expected one of %s)", what, q(s).s, close, list);
  return ld_fail(ld, "unknown %s '%s' (expected one of %s)", what, q(s).s, list);
}

/* ---- scalar values at the current path ------------------------------------ */

/* "0x" then hex digits: the way to write u64 values JSON integers (signed
 * 64-bit in jansson) cannot hold, and addresses as people read them. */
static bool parse_hex_u64(const char *s, uint64_t *out) {
  if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || s[2] == '\0') return false;
  uint64_t v = 0;
  for (const char *p = s + 2; *p; p++) {
    int h;
    if (*p >= '0' && *p <= '9') h = *p - '0';
    else if (*p >= 'a' && *p <= 'f') h = *p - 'a' + 10;
    else if (*p >= 'A' && *p <= 'F') h = *p - 'A' + 10;
    else return false;
    if (v > (UINT64_MAX >> 4)) return false;
    v = (v << 4) | (uint64_t)h;
  }
  *out = v;
  return true;
}

static bool val_uint(loader *ld, json_t *v, uint64_t min, uint64_t max, uint64_t *out) {
  uint64_t u;
  if (json_is_integer(v)) {
    json_int_t i = json_integer_value(v);
    if (i < 0) return ld_fail(ld, "must not be negative (got %lld)", (long long)i);
    u = (uint64_t)i;
  } else if (json_is_string(v)) {
    const char *s = json_string_value(v);
    if (!parse_hex_u64(s, &u))
      return ld_fail(ld, "expected an integer or a \"0x...\" hex string (at most 64 bits), got '%s'", q(s).s);
  } else {
    return ld_fail(ld, "expected an integer, got %s", type_name(v));
  }
  if (u < min || u > max)
    return ld_fail(ld, "%llu is out of range %llu..%llu", (unsigned long long)u,
                   (unsigned long long)min, (unsigned long long)max);
  *out = u;
  return true;
}

static bool val_string(loader *ld, json_t *v, const char **out) {
  if (!json_is_string(v)) return ld_fail(ld, "expected a string, got %s", type_name(v));
  *out = json_string_value(v);
  return true;
}

static bool val_bool(loader *ld, json_t *v, bool *out) {
  if (!json_is_boolean(v)) return ld_fail(ld, "expected true or false, got %s", type_name(v));
  *out = json_is_true(v);
  return true;
}

/* One of the names `at` enumerates; *out is its index. */
static bool val_enum(loader *ld, json_t *v, name_at_fn at, const void *ctx, const char *what, int *out) {
  const char *s = NULL;
  if (!val_string(ld, v, &s)) return false;
  for (int i = 0; at(ctx, (size_t)i); i++)
    if (strcmp(at(ctx, (size_t)i), s) == 0) {
      *out = i;
      return true;
    }
  return fail_unknown(ld, what, s, at, ctx, NULL);
}

/* ---- object members ------------------------------------------------------- */

/* Every member of `obj` must be in the NULL-terminated `allowed`. Checked in
 * file order (jansson keeps insertion order) so the first typo is reported. */
static bool check_keys(loader *ld, json_t *obj, const char *const *allowed) {
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    bool ok = false;
    for (size_t i = 0; allowed[i] && !ok; i++) ok = strcmp(allowed[i], key) == 0;
    if (ok) continue;
    ld_push(ld, key);
    const char *close = closest_name(key, at_table, allowed);
    if (close) return ld_fail(ld, "unknown field, did you mean '%s'?", close);
    char list[640];
    join_names(list, sizeof(list), at_table, allowed);
    return ld_fail(ld, "unknown field (allowed here: %s)", list);
  }
  return true;
}

static bool need(loader *ld, json_t *obj, const char *key) {
  if (json_object_get(obj, key)) return true;
  ld_push(ld, key);
  return ld_fail(ld, "missing required field");
}

static bool opt_u64(loader *ld, json_t *obj, const char *key, uint64_t min, uint64_t max,
                    uint64_t *out, bool *present) {
  json_t *v = json_object_get(obj, key);
  if (present) *present = v != NULL;
  if (v == NULL) return true;
  ld_push(ld, key);
  if (!val_uint(ld, v, min, max, out)) return false;
  ld_pop(ld);
  return true;
}

static bool opt_u32(loader *ld, json_t *obj, const char *key, uint64_t min, uint64_t max,
                    uint32_t *out, bool *present) {
  uint64_t t = *out;
  if (!opt_u64(ld, obj, key, min, max > UINT32_MAX ? UINT32_MAX : max, &t, present)) return false;
  *out = (uint32_t)t;
  return true;
}

static bool opt_u16(loader *ld, json_t *obj, const char *key, uint64_t min, uint64_t max,
                    uint16_t *out, bool *present) {
  uint64_t t = *out;
  if (!opt_u64(ld, obj, key, min, max > UINT16_MAX ? UINT16_MAX : max, &t, present)) return false;
  *out = (uint16_t)t;
  return true;
}

static bool opt_bool(loader *ld, json_t *obj, const char *key, bool *out, bool *present) {
  json_t *v = json_object_get(obj, key);
  if (present) *present = v != NULL;
  if (v == NULL) return true;
  ld_push(ld, key);
  if (!val_bool(ld, v, out)) return false;
  ld_pop(ld);
  return true;
}

/* `names`: a NULL-terminated table. */
static bool opt_enum(loader *ld, json_t *obj, const char *key, const char *const *names,
                     const char *what, int *out) {
  json_t *v = json_object_get(obj, key);
  if (v == NULL) return true;
  ld_push(ld, key);
  if (!val_enum(ld, v, at_table, names, what, out)) return false;
  ld_pop(ld);
  return true;
}

/* A string copied out of the tree; *out untouched when absent. */
static bool opt_strdup(loader *ld, json_t *obj, const char *key, bool nonempty, char **out) {
  json_t *v = json_object_get(obj, key);
  if (v == NULL) return true;
  ld_push(ld, key);
  const char *s = NULL;
  if (!val_string(ld, v, &s)) return false;
  if (nonempty && s[0] == '\0') return ld_fail(ld, "must not be empty");
  if ((*out = ld_strdup(ld, s)) == NULL) return false;
  ld_pop(ld);
  return true;
}

static bool val_array(loader *ld, json_t *v, size_t max, const char *what) {
  if (!json_is_array(v)) return ld_fail(ld, "expected an array of %s, got %s", what, type_name(v));
  if (json_array_size(v) > max)
    return ld_fail(ld, "too many %s (%zu; at most %zu)", what, json_array_size(v), max);
  return true;
}

static bool val_object(loader *ld, json_t *v) {
  if (!json_is_object(v)) return ld_fail(ld, "expected an object, got %s", type_name(v));
  return true;
}

/* ---- sets of names → bit masks -------------------------------------------- */

enum name_kind { NAMES_FEATURE, NAMES_STATUS, NAMES_MUTANT, NAMES_DESC_FLAG };

static const char *const desc_flag_names[] = {"NEXT", "WRITE", "INDIRECT", "AVAIL", "USED", NULL};

/* The mask a name stands for, 0 when unknown. */
static uint64_t name_mask(const loader *ld, enum name_kind k, const char *s) {
  switch (k) {
    case NAMES_FEATURE: {
      int bit = vsim_feature_bit_by_name(ld->sc->device, s);
      return bit < 0 ? 0 : UINT64_C(1) << bit;
    }
    case NAMES_STATUS: {
      int v = vsim_status_bit_by_name(s);
      return v < 0 ? 0 : (uint64_t)v;
    }
    case NAMES_MUTANT: return 0; /* a vsim_mutset, wider than a mask: opt_mutant_set */
    case NAMES_DESC_FLAG:
      if (strcmp(s, "NEXT") == 0) return VRING_DESC_F_NEXT;
      if (strcmp(s, "WRITE") == 0) return VRING_DESC_F_WRITE;
      if (strcmp(s, "INDIRECT") == 0) return VRING_DESC_F_INDIRECT;
      if (strcmp(s, "AVAIL") == 0) return 1u << VRING_PACKED_DESC_F_AVAIL;
      if (strcmp(s, "USED") == 0) return 1u << VRING_PACKED_DESC_F_USED;
      return 0;
  }
  return 0;
}

static bool fail_unknown_name(loader *ld, enum name_kind k, const char *s) {
  switch (k) {
    case NAMES_FEATURE: {
      const char *dev = ld->sc->device;
      char list[640];
      join_names(list, sizeof(list), at_feature, dev);
      const char *close = closest_name(s, at_feature, dev);
      if (close) return ld_fail(ld, "unknown feature '%s' for device '%s', did you mean '%s'?", q(s).s, dev, close);
      return ld_fail(ld, "unknown feature '%s' for device '%s' (expected one of %s, or bit:N with N 0..63)",
                     q(s).s, dev, list);
    }
    case NAMES_STATUS: return fail_unknown(ld, "status bit", s, at_status, NULL, NULL);
    case NAMES_MUTANT:
      return fail_unknown(ld, "mutant", s, at_mutant, NULL, "see include/virtiosim/mutants.h");
    case NAMES_DESC_FLAG: return fail_unknown(ld, "descriptor flag", s, at_table, desc_flag_names, NULL);
  }
  return ld_fail(ld, "unknown name");
}

/* An array of names; duplicates are refused (a repeated line is usually a
 * copy-paste slip that meant another name). */
static bool val_name_set(loader *ld, json_t *v, enum name_kind k, uint64_t *mask) {
  if (!val_array(ld, v, 64, "names")) return false;
  uint64_t m = 0;
  size_t i;
  json_t *e;
  json_array_foreach(v, i, e) {
    ld_push_index(ld, i);
    const char *s = NULL;
    if (!val_string(ld, e, &s)) return false;
    uint64_t bit = name_mask(ld, k, s);
    if (bit == 0) return fail_unknown_name(ld, k, s);
    if (m & bit) return ld_fail(ld, "'%s' is listed twice", q(s).s);
    m |= bit;
    ld_pop(ld);
  }
  *mask = m;
  return true;
}

static bool opt_name_set(loader *ld, json_t *obj, const char *key, enum name_kind k,
                         uint64_t *mask, bool *present) {
  json_t *v = json_object_get(obj, key);
  if (present) *present = v != NULL;
  if (v == NULL) return true;
  ld_push(ld, key);
  if (!val_name_set(ld, v, k, mask)) return false;
  ld_pop(ld);
  return true;
}

/* "mutants": names of the mutants to plant, as a set (more of them exist than
 * a 64-bit name mask holds); duplicates refused as in val_name_set. */
static bool opt_mutant_set(loader *ld, json_t *obj, vsim_mutset *set) {
  json_t *v = json_object_get(obj, "mutants");
  if (v == NULL) return true;
  ld_push(ld, "mutants");
  if (!val_array(ld, v, VSIM_MUT__COUNT, "names")) return false;
  vsim_mutset m = VSIM_MUT_NONE;
  size_t i;
  json_t *e;
  json_array_foreach(v, i, e) {
    ld_push_index(ld, i);
    const char *s = NULL;
    if (!val_string(ld, e, &s)) return false;
    int id = -1;
    for (size_t j = 0; j < COUNT_OF(mutant_names); j++)
      if (strcmp(mutant_names[j], s) == 0) id = (int)j;
    if (id < 0) return fail_unknown_name(ld, NAMES_MUTANT, s);
    if (vsim_mut_has(&m, id)) return ld_fail(ld, "'%s' is listed twice", q(s).s);
    vsim_mut_add(&m, id);
    ld_pop(ld);
  }
  ld_pop(ld);
  *set = m;
  return true;
}

/* "status_has" / "status_lacks" in an object; a bit in both is a contradiction. */
static bool opt_status_pair(loader *ld, json_t *obj, uint8_t *has, uint8_t *lacks) {
  uint64_t h = 0, l = 0;
  if (!opt_name_set(ld, obj, "status_has", NAMES_STATUS, &h, NULL)) return false;
  if (!opt_name_set(ld, obj, "status_lacks", NAMES_STATUS, &l, NULL)) return false;
  if (h & l) {
    ld_push(ld, "status_lacks");
    return ld_fail(ld, "a status bit cannot be both in status_has and status_lacks");
  }
  *has = (uint8_t)h;
  *lacks = (uint8_t)l;
  return true;
}

/* ---- data specs ----------------------------------------------------------- */

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* "de ad be ef": hex digit pairs; spaces anywhere are ignored. */
static bool val_hex_bytes(loader *ld, const char *s, vsim_data *d) {
  size_t digits = 0;
  for (size_t i = 0; s[i]; i++) {
    if (s[i] == ' ') continue;
    if (hex_digit(s[i]) < 0) {
      unsigned char c = (unsigned char)s[i];
      if (c >= 0x20 && c < 0x7f) return ld_fail(ld, "bad hex: '%c' at offset %zu is not a hex digit", c, i);
      return ld_fail(ld, "bad hex: byte 0x%02x at offset %zu is not a hex digit", c, i);
    }
    digits++;
  }
  if (digits % 2) return ld_fail(ld, "bad hex: odd number of hex digits (%zu)", digits);
  if (digits / 2 > VSIM_SCENARIO_MAX_DATA)
    return ld_fail(ld, "too much data (%zu bytes; at most %u)", digits / 2, VSIM_SCENARIO_MAX_DATA);
  d->kind = VSIM_DATA_BYTES;
  d->len = (uint32_t)(digits / 2);
  if (d->len == 0) return true;
  if ((d->bytes = malloc(d->len)) == NULL) return ld_fail(ld, "out of memory");
  size_t n = 0;
  int hi = -1;
  for (size_t i = 0; s[i]; i++) {
    if (s[i] == ' ') continue;
    if (hi < 0) {
      hi = hex_digit(s[i]);
    } else {
      d->bytes[n++] = (uint8_t)(hi << 4 | hex_digit(s[i]));
      hi = -1;
    }
  }
  return true;
}

static const char *const data_obj_keys[] = {"pattern", "fill", "len", NULL};

/* {"pattern": SEED, "len": N} or {"fill": BYTE, "len": N} */
static bool val_data_object(loader *ld, json_t *v, vsim_data *d) {
  if (!check_keys(ld, v, data_obj_keys)) return false;
  bool has_pattern = json_object_get(v, "pattern") != NULL;
  bool has_fill = json_object_get(v, "fill") != NULL;
  if (has_pattern == has_fill)
    return ld_fail(ld, "a data object needs exactly one of \"pattern\" or \"fill\"");
  if (!need(ld, v, "len")) return false;
  if (!opt_u32(ld, v, "len", 0, VSIM_SCENARIO_MAX_DATA, &d->len, NULL)) return false;
  if (has_pattern) {
    d->kind = VSIM_DATA_PATTERN;
    return opt_u64(ld, v, "pattern", 0, UINT64_MAX, &d->seed, NULL);
  }
  uint64_t fill = 0;
  if (!opt_u64(ld, v, "fill", 0, 255, &fill, NULL)) return false;
  d->kind = VSIM_DATA_FILL;
  d->fill = (uint8_t)fill;
  return true;
}

static bool val_data(loader *ld, json_t *v, vsim_data *d) {
  if (json_is_string(v)) return val_hex_bytes(ld, json_string_value(v), d);
  if (json_is_object(v)) return val_data_object(ld, v, d);
  return ld_fail(ld, "expected a hex string or a {\"pattern\"|\"fill\", \"len\"} object, got %s",
                 type_name(v));
}

static bool opt_data(loader *ld, json_t *obj, const char *key, vsim_data *d) {
  json_t *v = json_object_get(obj, key);
  if (v == NULL) return true;
  ld_push(ld, key);
  if (!val_data(ld, v, d)) return false;
  ld_pop(ld);
  return true;
}

static void data_free(vsim_data *d) {
  free(d->bytes);
  d->bytes = NULL;
}

/* ---- steps ---------------------------------------------------------------- */

static bool device_is_gpu(const vsim_scenario *sc);
static bool step_parse_scanout(loader *ld, json_t *o, vsim_step *st);

enum step_field {
  SF_QUEUE, SF_VALUE, SF_SECTOR, SF_NSECTORS, SF_LEN, SF_TYPE, SF_FLAGS, SF_UNMAP,
  SF_INDEX, SF_ADDR, SF_NEXT, SF_HEADS, SF_DATA, SF_EXPECT_STATUS, SF_EXPECT_DATA,
  SF_EXPECT_DATA_WRITTEN, SF_STATUS_HAS, SF_STATUS_LACKS, SF_DRIVER_OK, SF_ID, SF_EXACT,
  SF_PUBLISH, SF_IRQ, SF_SKIP, SF_STATUS, SF_OFFSET, SF_UNCHANGED, SF_ACCEPT, SF_PATCH,
  SF_EXPECT_USED_LEN, SF_EXPECT_REPLY, SF_PORT, SF_FRAMING, SF__COUNT
};

static const char *const step_field_names[SF__COUNT] = {
    [SF_QUEUE] = "queue", [SF_VALUE] = "value", [SF_SECTOR] = "sector",
    [SF_NSECTORS] = "nsectors", [SF_LEN] = "len", [SF_TYPE] = "type",
    [SF_FLAGS] = "flags", [SF_UNMAP] = "unmap", [SF_INDEX] = "index",
    [SF_ADDR] = "addr", [SF_NEXT] = "next", [SF_HEADS] = "heads",
    [SF_DATA] = "data", [SF_EXPECT_STATUS] = "expect_status",
    [SF_EXPECT_DATA] = "expect_data", [SF_EXPECT_DATA_WRITTEN] = "expect_data_written",
    [SF_STATUS_HAS] = "status_has", [SF_STATUS_LACKS] = "status_lacks",
    [SF_DRIVER_OK] = "driver_ok", [SF_ID] = "id", [SF_EXACT] = "exact",
    [SF_PUBLISH] = "publish", [SF_IRQ] = "irq", [SF_SKIP] = "skip", [SF_STATUS] = "status",
    [SF_OFFSET] = "offset", [SF_UNCHANGED] = "unchanged", [SF_ACCEPT] = "accept_features",
    [SF_PATCH] = "patch", [SF_EXPECT_USED_LEN] = "expect_used_len", [SF_EXPECT_REPLY] = "expect_reply",
    [SF_PORT] = "port", [SF_FRAMING] = "framing",
};

#define B(f) (UINT64_C(1) << (f))
#define BLK_COMMON (B(SF_QUEUE) | B(SF_EXPECT_STATUS))
/* the fields of a completion by the scripted device, on either ring */
#define DEV_USED_FIELDS (B(SF_QUEUE) | B(SF_ID) | B(SF_LEN) | B(SF_SKIP) | B(SF_STATUS) | B(SF_IRQ))
_Static_assert(SF__COUNT <= 64, "step fields are bits of a uint64_t");

typedef struct op_fields {
  uint64_t allowed, required; /* B(SF_*) masks; "op" and "comment" always allowed */
} op_fields;

static const op_fields op_table[] = {
    [VSIM_OP_INIT] = {B(SF_DRIVER_OK) | B(SF_ACCEPT), 0},
    [VSIM_OP_DRIVER_OK] = {0, 0},
    [VSIM_OP_RAW_PDESC] = {B(SF_QUEUE) | B(SF_INDEX) | B(SF_ADDR) | B(SF_LEN) | B(SF_ID) | B(SF_FLAGS) |
                               B(SF_EXACT), B(SF_INDEX) | B(SF_ADDR) | B(SF_LEN)},
    [VSIM_OP_RAW_PPUBLISH] = {B(SF_QUEUE) | B(SF_VALUE) | B(SF_ID), B(SF_VALUE)},
    [VSIM_OP_QUEUE_RESET] = {B(SF_QUEUE), 0},
    [VSIM_OP_QUEUE_ENABLE] = {B(SF_QUEUE) | B(SF_VALUE), 0},
    [VSIM_OP_MMIO_READ] = {B(SF_OFFSET) | B(SF_LEN) | B(SF_VALUE) | B(SF_UNCHANGED), B(SF_OFFSET)},
    [VSIM_OP_MMIO_WRITE] = {B(SF_OFFSET) | B(SF_LEN) | B(SF_VALUE), B(SF_OFFSET) | B(SF_VALUE)},
    [VSIM_OP_RESET] = {0, 0},
    [VSIM_OP_WAIT] = {0, 0},
    [VSIM_OP_POLL] = {B(SF_QUEUE), 0},
    [VSIM_OP_KICK] = {B(SF_QUEUE) | B(SF_VALUE), 0},
    [VSIM_OP_BLK_READ] = {BLK_COMMON | B(SF_SECTOR) | B(SF_LEN) | B(SF_EXPECT_DATA) |
                              B(SF_EXPECT_DATA_WRITTEN) | B(SF_FRAMING), B(SF_SECTOR)},
    [VSIM_OP_BLK_WRITE] = {BLK_COMMON | B(SF_SECTOR) | B(SF_DATA) | B(SF_FRAMING), B(SF_SECTOR) | B(SF_DATA)},
    [VSIM_OP_BLK_FLUSH] = {BLK_COMMON | B(SF_SECTOR) | B(SF_FRAMING), 0},
    [VSIM_OP_BLK_GET_ID] = {BLK_COMMON | B(SF_EXPECT_DATA), 0},
    [VSIM_OP_BLK_DISCARD] = {BLK_COMMON | B(SF_SECTOR) | B(SF_NSECTORS) | B(SF_FLAGS) | B(SF_UNMAP),
                             B(SF_SECTOR) | B(SF_NSECTORS)},
    [VSIM_OP_BLK_WRITE_ZEROES] = {BLK_COMMON | B(SF_SECTOR) | B(SF_NSECTORS) | B(SF_FLAGS) |
                                      B(SF_UNMAP), B(SF_SECTOR) | B(SF_NSECTORS)},
    [VSIM_OP_BLK_RAW] = {BLK_COMMON | B(SF_TYPE) | B(SF_SECTOR) | B(SF_DATA) | B(SF_LEN), B(SF_TYPE)},
    [VSIM_OP_RAW_DESC] = {B(SF_QUEUE) | B(SF_INDEX) | B(SF_ADDR) | B(SF_LEN) | B(SF_FLAGS) | B(SF_NEXT),
                          B(SF_INDEX) | B(SF_ADDR) | B(SF_LEN)},
    [VSIM_OP_RAW_AVAIL] = {B(SF_QUEUE) | B(SF_HEADS), B(SF_HEADS)},
    [VSIM_OP_RAW_AVAIL_IDX] = {B(SF_QUEUE) | B(SF_VALUE), B(SF_VALUE)},
    [VSIM_OP_RAW_AVAIL_FLAGS] = {B(SF_QUEUE) | B(SF_VALUE), B(SF_VALUE)},
    [VSIM_OP_RAW_USED_EVENT] = {B(SF_QUEUE) | B(SF_VALUE), B(SF_VALUE)},
    [VSIM_OP_RAW_WRITE] = {B(SF_ADDR) | B(SF_DATA), B(SF_ADDR) | B(SF_DATA)},
    [VSIM_OP_FAULT_DEVICE_RESET] = {0, 0},
    [VSIM_OP_FAULT_DELAY_IRQ] = {B(SF_VALUE), B(SF_VALUE)},
    [VSIM_OP_FAULT_NEEDS_RESET] = {0, 0},
    [VSIM_OP_EXPECT] = {B(SF_STATUS_HAS) | B(SF_STATUS_LACKS), 0},
    [VSIM_OP_DEV_USED] = {DEV_USED_FIELDS | B(SF_PUBLISH), 0},
    [VSIM_OP_DEV_USED_IDX] = {B(SF_QUEUE) | B(SF_VALUE) | B(SF_IRQ), B(SF_VALUE)},
    [VSIM_OP_DEV_USED_FLAGS] = {B(SF_QUEUE) | B(SF_VALUE), B(SF_VALUE)},
    [VSIM_OP_DEV_AVAIL_EVENT] = {B(SF_QUEUE) | B(SF_VALUE), B(SF_VALUE)},
    [VSIM_OP_DEV_PUSED] = {DEV_USED_FIELDS | B(SF_FLAGS) | B(SF_EXACT), 0},
    [VSIM_OP_DEV_PEVENT] = {B(SF_QUEUE) | B(SF_FLAGS) | B(SF_VALUE), B(SF_FLAGS)},
    [VSIM_OP_DEV_IRQ] = {B(SF_QUEUE), 0},
    [VSIM_OP_DEV_WRITE] = {B(SF_ADDR) | B(SF_DATA), B(SF_ADDR) | B(SF_DATA)},
    [VSIM_OP_DEV_CONFIG] = {B(SF_OFFSET) | B(SF_DATA) | B(SF_IRQ), B(SF_DATA)},
    [VSIM_OP_DEV_NEEDS_RESET] = {B(SF_IRQ), 0},
    [VSIM_OP_REQ_RAW] = {B(SF_QUEUE) | B(SF_DATA) | B(SF_LEN) | B(SF_PATCH) | B(SF_EXPECT_USED_LEN) |
                             B(SF_EXPECT_REPLY), 0},
    [VSIM_OP_HOST_INPUT] = {B(SF_PORT) | B(SF_DATA), B(SF_DATA)},
    [VSIM_OP_EXPECT_OUTPUT] = {B(SF_PORT) | B(SF_DATA), B(SF_DATA)},
    [VSIM_OP_HOST_EVENT] = {B(SF_PORT) | B(SF_TYPE) | B(SF_VALUE), B(SF_TYPE)},
    [VSIM_OP_GPU_EXPECT_SCANOUT] = {B(SF_INDEX) | B(SF_EXPECT_DATA), B(SF_EXPECT_DATA)},
    [VSIM_OP_PCI_CFG_READ] = {B(SF_OFFSET) | B(SF_LEN) | B(SF_VALUE), B(SF_OFFSET)},
    [VSIM_OP_PCI_CFG_WRITE] = {B(SF_OFFSET) | B(SF_LEN) | B(SF_VALUE), B(SF_OFFSET) | B(SF_VALUE)},
};

static bool op_is_dev(enum vsim_op op) { return op >= VSIM_OP_DEV_USED && op <= VSIM_OP_DEV_NEEDS_RESET; }

static bool op_is_blk(enum vsim_op op) { return op >= VSIM_OP_BLK_READ && op <= VSIM_OP_BLK_RAW; }

/* The field names an op accepts, for messages: "op", "comment", then its own. */
typedef struct op_field_names {
  const char *names[SF__COUNT + 3];
} op_field_names;

static op_field_names fields_of(enum vsim_op op) {
  op_field_names f;
  size_t n = 0;
  f.names[n++] = "op";
  f.names[n++] = "comment";
  for (unsigned i = 0; i < SF__COUNT; i++)
    if (op_table[op].allowed & B(i)) f.names[n++] = step_field_names[i];
  f.names[n] = NULL;
  return f;
}

static int step_field_by_name(const char *key) {
  for (int i = 0; i < SF__COUNT; i++)
    if (strcmp(step_field_names[i], key) == 0) return i;
  return -1;
}

static bool step_parse_op(loader *ld, json_t *o, enum vsim_op *op) {
  if (!need(ld, o, "op")) return false;
  ld_push(ld, "op");
  const char *s = NULL;
  if (!val_string(ld, json_object_get(o, "op"), &s)) return false;
  for (int i = VSIM_OP_INIT; i <= VSIM_OP__LAST; i++)
    if (strcmp(vsim_op_name((enum vsim_op)i), s) == 0) {
      *op = (enum vsim_op)i;
      ld_pop(ld);
      return true;
    }
  char list[640];
  join_names(list, sizeof(list), at_op, NULL);
  return ld_fail(ld, "unknown op '%s' (expected one of %s)", q(s).s, list);
}

/* Unknown names, fields another op takes, missing required fields. */
static bool step_check_fields(loader *ld, json_t *o, enum vsim_op op) {
  op_field_names allowed = fields_of(op);
  const char *key;
  json_t *v;
  json_object_foreach(o, key, v) {
    if (strcmp(key, "op") == 0) continue;
    if (strcmp(key, "comment") == 0) {
      ld_push(ld, key);
      const char *s = NULL;
      if (!val_string(ld, v, &s)) return false;
      ld_pop(ld);
      continue;
    }
    int f = step_field_by_name(key);
    if (f >= 0 && (op_table[op].allowed & B(f))) continue;
    ld_push(ld, key);
    char list[640];
    join_names(list, sizeof(list), at_table, allowed.names);
    const char *close = f < 0 ? closest_name(key, at_table, allowed.names) : NULL;
    if (close) return ld_fail(ld, "unknown field, did you mean '%s'?", close);
    if (f < 0) return ld_fail(ld, "unknown field for op '%s' (allowed: %s)", vsim_op_name(op), list);
    return ld_fail(ld, "not allowed for op '%s' (allowed: %s)", vsim_op_name(op), list);
  }
  for (unsigned i = 0; i < SF__COUNT; i++) {
    if (!(op_table[op].required & B(i)) || json_object_get(o, step_field_names[i])) continue;
    ld_push(ld, step_field_names[i]);
    return ld_fail(ld, "missing required field for op '%s'", vsim_op_name(op));
  }
  return true;
}

static bool step_parse_queue(loader *ld, json_t *o, vsim_step *st) {
  bool present;
  if (!opt_u16(ld, o, "queue", 0, UINT16_MAX, &st->queue, &present)) return false;
  if (present && st->queue >= ld->sc->num_queues) {
    ld_push(ld, "queue");
    return ld_fail(ld, "queue %u out of range (num_queues is %u)", st->queue, ld->sc->num_queues);
  }
  return true;
}

/* `value` means different things per op, so its range does too. */
static bool step_parse_value(loader *ld, json_t *o, vsim_step *st) {
  uint64_t min = 0, max = UINT16_MAX;
  if (st->op == VSIM_OP_KICK) max = UINT32_MAX; /* notification data is 32 bits */
  if (st->op == VSIM_OP_HOST_EVENT) max = UINT32_MAX; /* the model's to judge */
  if (st->op == VSIM_OP_MMIO_READ || st->op == VSIM_OP_MMIO_WRITE || st->op == VSIM_OP_PCI_CFG_READ ||
      st->op == VSIM_OP_PCI_CFG_WRITE)
    max = UINT32_MAX; /* a register */
  if (st->op == VSIM_OP_FAULT_DELAY_IRQ) {
    min = 1;
    max = VSIM_SCENARIO_MAX_DELAY_IRQ;
  }
  if (st->op == VSIM_OP_QUEUE_ENABLE) {
    /* the queue size of the re-enabled queue: at most the one the rings were
     * laid out for, and a power of two, so that it holds on either ring */
    min = 1;
    max = ld->sc->queue_size;
    if (!opt_u64(ld, o, "value", min, max, &st->value, &st->has_value)) return false;
    if (st->has_value && (st->value & (st->value - 1))) {
      ld_push(ld, "value");
      return ld_fail(ld, "queue size %llu is not a power of two", (unsigned long long)st->value);
    }
    return true;
  }
  return opt_u64(ld, o, "value", min, max, &st->value, &st->has_value);
}

/* dev.used / dev.pused "id": a number (u32 on the split ring's 32-bit used
 * element; the packed ring's 16-bit ids are checked when the step runs, as the
 * ring can be chosen at run time), or "next" / "last". Absent: "next". */
static const char *const dev_id_names[] = {"next", "last", NULL};

static bool step_parse_dev_id(loader *ld, json_t *o, vsim_step *st) {
  json_t *v = json_object_get(o, "id");
  st->dev_id = VSIM_DEV_ID_NEXT;
  if (v == NULL) return true;
  ld_push(ld, "id");
  if (json_is_string(v) && json_string_value(v)[0] != '0') {
    int k = 0;
    if (!val_enum(ld, v, at_table, dev_id_names, "id", &k)) return false;
    st->dev_id = k == 0 ? VSIM_DEV_ID_NEXT : VSIM_DEV_ID_LAST;
  } else {
    uint64_t id = 0;
    if (!val_uint(ld, v, 0, UINT32_MAX, &id)) return false;
    st->id = (uint32_t)id;
    st->dev_id = VSIM_DEV_ID_VALUE;
  }
  ld_pop(ld);
  return true;
}

/* dev.pevent "flags": a number, or the name of a VRING_PACKED_EVENT_FLAG_* value. */
static const char *const pevent_flag_names[] = {"ENABLE", "DISABLE", "DESC", NULL};

static bool step_parse_pevent_flags(loader *ld, json_t *o, vsim_step *st) {
  json_t *v = json_object_get(o, "flags");
  ld_push(ld, "flags");
  if (json_is_string(v) && json_string_value(v)[0] != '0') {
    int k = 0;
    if (!val_enum(ld, v, at_table, pevent_flag_names, "event flag", &k)) return false;
    static const uint32_t vals[] = {VRING_PACKED_EVENT_FLAG_ENABLE, VRING_PACKED_EVENT_FLAG_DISABLE,
                                    VRING_PACKED_EVENT_FLAG_DESC};
    st->flags = vals[k];
  } else {
    uint64_t f = 0;
    if (!val_uint(ld, v, 0, UINT16_MAX, &f)) return false;
    st->flags = (uint32_t)f;
  }
  ld_pop(ld);
  return true;
}

/* The fields only the scripted device's steps take. */
static bool step_parse_dev(loader *ld, json_t *o, vsim_step *st) {
  if (!ld->sc->device_scripted) {
    ld_push(ld, "op");
    return ld_fail(ld, "op '%s' needs \"device_scripted\": true (the device model would serve the "
                   "same rings)", vsim_op_name(st->op));
  }
  if (st->op == VSIM_OP_DEV_USED || st->op == VSIM_OP_DEV_PUSED) {
    if (!step_parse_dev_id(ld, o, st)) return false;
    bool publish = true;
    if (!opt_bool(ld, o, "publish", &publish, NULL)) return false;
    st->no_publish = !publish;
    if (!opt_u16(ld, o, "skip", 0, MAX_QUEUE_SIZE, &st->skip, &st->has_skip)) return false;
    uint64_t status = 0;
    if (!opt_u64(ld, o, "status", 0, 255, &status, &st->has_status)) return false;
    st->status = (uint8_t)status;
  }
  if (st->op == VSIM_OP_DEV_PEVENT && !step_parse_pevent_flags(ld, o, st)) return false;
  if (!opt_bool(ld, o, "irq", &st->irq, &st->has_irq)) return false;
  if (!opt_u32(ld, o, "offset", 0, UINT16_MAX, &st->offset, NULL)) return false;
  return true;
}

static bool step_parse_desc_flags(loader *ld, json_t *o, vsim_step *st) {
  json_t *v = json_object_get(o, "flags");
  if (v == NULL) return true;
  ld_push(ld, "flags");
  uint64_t m = 0;
  bool ok = json_is_array(v) ? val_name_set(ld, v, NAMES_DESC_FLAG, &m) : val_uint(ld, v, 0, UINT16_MAX, &m);
  if (!ok) return false;
  st->flags = (uint32_t)m;
  ld_pop(ld);
  return true;
}

/* discard / write-zeroes: raw "flags", or the readable "unmap": true. */
static bool step_parse_blk_flags(loader *ld, json_t *o, vsim_step *st) {
  bool has_flags, has_unmap, unmap = false;
  if (!opt_u32(ld, o, "flags", 0, UINT32_MAX, &st->flags, &has_flags)) return false;
  if (!opt_bool(ld, o, "unmap", &unmap, &has_unmap)) return false;
  if (has_flags && has_unmap) {
    ld_push(ld, "unmap");
    return ld_fail(ld, "give either \"flags\" or \"unmap\", not both");
  }
  if (unmap) st->flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
  return true;
}

static bool step_parse_heads(loader *ld, json_t *o, vsim_step *st) {
  json_t *v = json_object_get(o, "heads");
  if (v == NULL) return true;
  ld_push(ld, "heads");
  if (!val_array(ld, v, VSIM_SCENARIO_MAX_HEADS, "heads")) return false;
  if (json_array_size(v) == 0) return ld_fail(ld, "needs at least one head");
  size_t i;
  json_t *e;
  json_array_foreach(v, i, e) {
    ld_push_index(ld, i);
    uint64_t h;
    if (!val_uint(ld, e, 0, UINT16_MAX, &h)) return false;
    st->heads[i] = (uint16_t)h;
    ld_pop(ld);
  }
  st->nheads = (uint16_t)json_array_size(v);
  ld_pop(ld);
  return true;
}

static const char *const blk_status_names[] = {"OK", "IOERR", "UNSUPP", "ERROR", NULL};
const char *const vsim_framing_names[] = {"usual", "header-split", "merged", "odd-split", "zero-len",
                                          "indirect-write", "direct-then-indirect", NULL};
_Static_assert(sizeof vsim_framing_names / sizeof *vsim_framing_names == VSIM_FRAMING__COUNT + 1,
               "one name per framing");
static const uint8_t blk_status_values[] = {VIRTIO_BLK_S_OK, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_UNSUPP,
                                            VSIM_BLK_S_ERROR};

static bool step_parse_expectations(loader *ld, json_t *o, vsim_step *st) {
  int status = -1;
  if (!opt_enum(ld, o, "expect_status", blk_status_names, "status", &status)) return false;
  if (status >= 0) {
    st->has_expect_status = true;
    st->expect_status = blk_status_values[status];
  }
  if (!opt_data(ld, o, "expect_data", &st->expect_data)) return false;
  bool written = false, has_written;
  if (!opt_bool(ld, o, "expect_data_written", &written, &has_written)) return false;
  if (written && st->expect_data.kind != VSIM_DATA_NONE) {
    ld_push(ld, "expect_data_written");
    return ld_fail(ld, "give either \"expect_data\" or \"expect_data_written\", not both");
  }
  st->expect_data_written = written;
  int framing = -1;
  if (!opt_enum(ld, o, "framing", vsim_framing_names, "framing", &framing)) return false;
  if (framing > 0) st->framing = (uint8_t)framing;
  if (st->op == VSIM_OP_BLK_GET_ID && st->expect_data.len > VIRTIO_BLK_ID_BYTES) {
    ld_push(ld, "expect_data");
    return ld_fail(ld, "a device id has at most %d bytes, expect_data has %u", VIRTIO_BLK_ID_BYTES,
                   st->expect_data.len);
  }
  return true;
}

/* Fields whose defaults or limits depend on other fields. */
static bool step_finish(loader *ld, vsim_step *st, bool has_len) {
  if (st->op == VSIM_OP_BLK_READ) {
    bool has_expect = st->expect_data.kind != VSIM_DATA_NONE;
    if (!has_len) st->len = has_expect ? st->expect_data.len : DEFAULT_READ_LEN;
    if (has_len && has_expect && st->expect_data.len != st->len) {
      ld_push(ld, "expect_data");
      return ld_fail(ld, "expect_data has %u bytes but len is %u", st->expect_data.len, st->len);
    }
  }
  if (st->op == VSIM_OP_RAW_DESC && st->index >= ld->sc->queue_size) {
    ld_push(ld, "index");
    return ld_fail(ld, "descriptor index %u out of range (queue_size is %u)", st->index,
                   ld->sc->queue_size);
  }
  if (st->op == VSIM_OP_DEV_CONFIG && st->data.len > VSIM_SCENARIO_MAX_CONFIG_DATA) {
    ld_push(ld, "data");
    return ld_fail(ld, "%u bytes; a config space change writes at most %u", st->data.len,
                   VSIM_SCENARIO_MAX_CONFIG_DATA);
  }
  if (st->op == VSIM_OP_MMIO_READ || st->op == VSIM_OP_MMIO_WRITE || st->op == VSIM_OP_PCI_CFG_READ ||
      st->op == VSIM_OP_PCI_CFG_WRITE) {
    /* the access width: 4 unless given; 1, 2 and 4 are the widths a bus
     * access has (whether the register allows it is the checkers' call) */
    if (!has_len) st->len = 4;
    if (st->len != 1 && st->len != 2 && st->len != 4) {
      ld_push(ld, "len");
      return ld_fail(ld, "register access width %u: expected 1, 2 or 4", st->len);
    }
    if (st->op == VSIM_OP_MMIO_READ && st->unchanged && st->has_value) {
      ld_push(ld, "unchanged");
      return ld_fail(ld, "give either \"value\" or \"unchanged\", not both");
    }
  }
  if ((st->op == VSIM_OP_RAW_WRITE || st->op == VSIM_OP_DEV_WRITE) &&
      (st->addr > ld->sc->arena_size || st->data.len > ld->sc->arena_size - st->addr)) {
    ld_push(ld, "addr");
    return ld_fail(ld, "write of %u bytes at 0x%llx goes past the end of the arena (arena_size 0x%llx)",
                   st->data.len, (unsigned long long)st->addr, (unsigned long long)ld->sc->arena_size);
  }
  return true;
}

/* ---- req.raw: a request of any device type ------------------------------- */

static bool opt_count(loader *ld, json_t *obj, const char *key, vsim_count_expect *c);

static const char *const field_keys[] = {"name", "offset", "width", "value", "mask", "min", "max",
                                         "equals_sent", "data", "save", NULL};
static const char *const patch_keys[] = {"offset", "width", "saved", NULL};

static uint64_t width_ones(unsigned width) { return width >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * width)) - 1; }

/* "width": 1, 2, 4 or 8 (the little-endian integer a field is). */
static bool field_width(loader *ld, json_t *o, uint8_t *out) {
  if (!need(ld, o, "width")) return false;
  uint64_t w = 0;
  if (!opt_u64(ld, o, "width", 1, 8, &w, NULL)) return false;
  if (w != 1 && w != 2 && w != 4 && w != 8) {
    ld_push(ld, "width");
    return ld_fail(ld, "field width %llu: expected 1, 2, 4 or 8 (bytes of a little-endian integer)",
                   (unsigned long long)w);
  }
  *out = (uint8_t)w;
  return true;
}

/* A value that must fit the field's width. */
static bool opt_field_u64(loader *ld, json_t *o, const char *key, uint8_t width, uint64_t *out, bool *present) {
  return opt_u64(ld, o, key, 0, width_ones(width), out, present);
}

/* The index of a saved name, added when `add`; -1 when unknown (not added). */
static int saved_index(loader *ld, const char *name, bool add) {
  vsim_scenario *sc = ld->sc;
  for (unsigned i = 0; i < sc->nsaved; i++)
    if (strcmp(sc->saved_names[i], name) == 0) return (int)i;
  if (!add || sc->nsaved >= VSIM_SCENARIO_MAX_SAVED) return -1;
  if ((sc->saved_names[sc->nsaved] = strdup(name)) == NULL) return -1;
  return (int)sc->nsaved++;
}

static const char *at_saved(const void *ctx, size_t i) {
  const vsim_scenario *sc = ctx;
  return i < sc->nsaved ? sc->saved_names[i] : NULL;
}

/* One entry of "expect_reply". `wlen` is the device-writable length, `rlen`
 * the device-readable one: every offset is checked against them here, so
 * the driver model never reads outside the request's buffers. */
static bool parse_field(loader *ld, json_t *o, vsim_field_expect *f, uint32_t wlen, uint32_t rlen) {
  if (!val_object(ld, o) || !check_keys(ld, o, field_keys)) return false;
  f->save = -1;
  if (json_object_get(o, "name") && !opt_strdup(ld, o, "name", true, &f->name)) return false;
  if (!need(ld, o, "offset")) return false;
  if (!opt_u32(ld, o, "offset", 0, UINT32_MAX, &f->offset, NULL)) return false;
  bool has_value = json_object_get(o, "value") != NULL, has_echo = json_object_get(o, "equals_sent") != NULL;
  bool has_range = json_object_get(o, "min") != NULL || json_object_get(o, "max") != NULL;
  bool has_data = json_object_get(o, "data") != NULL, has_save = json_object_get(o, "save") != NULL;
  int kinds = has_value + has_echo + has_range + has_data;
  if (kinds > 1 || (kinds == 0 && !has_save))
    return ld_fail(ld, "give exactly one of \"value\", \"min\"/\"max\", \"equals_sent\" or \"data\" (or only "
                   "\"save\")");
  if (has_data) {
    const char *bad = json_object_get(o, "width") ? "width" : json_object_get(o, "mask") ? "mask"
                      : has_save ? "save" : NULL;
    if (bad) {
      ld_push(ld, bad);
      return ld_fail(ld, "not allowed with \"data\" (bytes are compared as they are)");
    }
    f->kind = VSIM_FIELD_BYTES;
    if (!opt_data(ld, o, "data", &f->data)) return false;
    if (f->offset > wlen || f->data.len > wlen - f->offset) {
      ld_push(ld, "data");
      return ld_fail(ld, "%u bytes at offset %u go past the %u device-writable bytes (the step's len)", f->data.len,
                     f->offset, wlen);
    }
    return true;
  }
  if (!field_width(ld, o, &f->width)) return false;
  if (f->offset > wlen || f->width > wlen - f->offset) {
    ld_push(ld, "offset");
    return ld_fail(ld, "a %u-byte field at offset %u goes past the %u device-writable bytes (the step's len)",
                   f->width, f->offset, wlen);
  }
  bool has_mask;
  f->mask = width_ones(f->width);
  if (!opt_field_u64(ld, o, "mask", f->width, &f->mask, &has_mask)) return false;
  if (has_mask && f->mask == 0) {
    ld_push(ld, "mask");
    return ld_fail(ld, "a zero mask compares nothing");
  }
  if (has_value) {
    f->kind = VSIM_FIELD_VALUE;
    if (!opt_field_u64(ld, o, "value", f->width, &f->value, NULL)) return false;
    if (f->value & ~f->mask) {
      ld_push(ld, "value");
      return ld_fail(ld, "value 0x%llx has bits outside mask 0x%llx: it can never match",
                     (unsigned long long)f->value, (unsigned long long)f->mask);
    }
  } else if (has_range) {
    f->kind = VSIM_FIELD_RANGE;
    f->max = f->mask;
    if (!opt_field_u64(ld, o, "min", f->width, &f->min, NULL)) return false;
    if (!opt_field_u64(ld, o, "max", f->width, &f->max, NULL)) return false;
    if (f->min > f->max) {
      ld_push(ld, "max");
      return ld_fail(ld, "min %llu is above max %llu", (unsigned long long)f->min, (unsigned long long)f->max);
    }
  } else if (has_echo) {
    f->kind = VSIM_FIELD_ECHO;
    if (!opt_u32(ld, o, "equals_sent", 0, UINT32_MAX, &f->sent_offset, NULL)) return false;
    if (f->sent_offset > rlen || f->width > rlen - f->sent_offset) {
      ld_push(ld, "equals_sent");
      return ld_fail(ld, "a %u-byte field at offset %u of what is sent goes past the %u device-readable bytes "
                     "(the step's data)", f->width, f->sent_offset, rlen);
    }
  }
  if (has_save) {
    ld_push(ld, "save");
    const char *nm = NULL;
    if (!val_string(ld, json_object_get(o, "save"), &nm)) return false;
    if (nm[0] == '\0') return ld_fail(ld, "must not be empty");
    if ((f->save = saved_index(ld, nm, true)) < 0)
      return ld_fail(ld, "too many saved names (at most %u)", VSIM_SCENARIO_MAX_SAVED);
    ld_pop(ld);
  }
  return true;
}

/* One entry of "patch": a saved value written into the data before it is sent. */
static bool parse_patch(loader *ld, json_t *o, vsim_patch *p, uint32_t rlen) {
  if (!val_object(ld, o) || !check_keys(ld, o, patch_keys)) return false;
  if (!need(ld, o, "offset") || !need(ld, o, "saved")) return false;
  if (!opt_u32(ld, o, "offset", 0, UINT32_MAX, &p->offset, NULL)) return false;
  if (!field_width(ld, o, &p->width)) return false;
  if (p->offset > rlen || p->width > rlen - p->offset) {
    ld_push(ld, "offset");
    return ld_fail(ld, "a %u-byte patch at offset %u goes past the %u device-readable bytes (the step's data)",
                   p->width, p->offset, rlen);
  }
  ld_push(ld, "saved");
  const char *nm = NULL;
  if (!val_string(ld, json_object_get(o, "saved"), &nm)) return false;
  /* only names an earlier step saves: patches are parsed before this step's own saves */
  if ((p->saved = saved_index(ld, nm, false)) < 0) {
    if (ld->sc->nsaved == 0) return ld_fail(ld, "no earlier step saves a value named '%s' (\"save\" in an expect_reply entry)", q(nm).s);
    return fail_unknown(ld, "saved value", nm, at_saved, ld->sc, "names saved by earlier steps");
  }
  ld_pop(ld);
  return true;
}

/* An array of objects, each parsed by `one` into elements of `size` bytes. */
static bool parse_object_list(loader *ld, json_t *o, const char *key, size_t size, void **out, uint16_t *n,
                              bool (*one)(loader *, json_t *, void *, const vsim_step *), const vsim_step *st) {
  json_t *v = json_object_get(o, key);
  if (v == NULL) return true;
  ld_push(ld, key);
  if (!val_array(ld, v, VSIM_SCENARIO_MAX_FIELDS, "entries")) return false;
  if (json_array_size(v) == 0) return ld_fail(ld, "needs at least one entry");
  if ((*out = calloc(json_array_size(v), size)) == NULL) return ld_fail(ld, "out of memory");
  size_t i;
  json_t *e;
  json_array_foreach(v, i, e) {
    ld_push_index(ld, i);
    *n = (uint16_t)(i + 1); /* counted before parsing, so that a failure still frees it */
    if (!one(ld, e, (char *)*out + i * size, st)) return false;
    ld_pop(ld);
  }
  ld_pop(ld);
  return true;
}

static bool one_field(loader *ld, json_t *e, void *dst, const vsim_step *st) {
  vsim_field_expect *f = dst;
  vsim_json_loc at;
  vsim_json_pos_find(ld->text, ld->len, &ld->path, &at);
  f->line = at.line;
  f->col = at.col;
  return parse_field(ld, e, f, st->len, st->data.len);
}

static bool one_patch(loader *ld, json_t *e, void *dst, const vsim_step *st) {
  return parse_patch(ld, e, dst, st->data.len);
}

static bool step_parse_req(loader *ld, json_t *o, vsim_step *st, bool has_len) {
  if (st->data.len == 0 && st->len == 0) {
    ld_push(ld, has_len ? "len" : "op");
    return ld_fail(ld, "a request needs device-readable bytes (\"data\") or device-writable ones (\"len\" > 0)");
  }
  void *p = NULL;
  bool ok = parse_object_list(ld, o, "patch", sizeof(vsim_patch), &p, &st->npatches, one_patch, st);
  st->patches = p;
  if (!ok) return false;
  p = NULL;
  ok = parse_object_list(ld, o, "expect_reply", sizeof(vsim_field_expect), &p, &st->nfields, one_field, st);
  st->fields = p;
  if (!ok) return false;
  if (!opt_count(ld, o, "expect_used_len", &st->expect_used_len)) return false;
  if (st->expect_used_len.set && st->expect_used_len.min > st->len) {
    ld_push(ld, "expect_used_len");
    return ld_fail(ld, "at least %llu bytes expected, but the request has only %u device-writable bytes (len)",
                   (unsigned long long)st->expect_used_len.min, st->len);
  }
  return true;
}

static bool step_parse_fields(loader *ld, json_t *o, vsim_step *st) {
  uint64_t allowed = op_table[st->op].allowed;
  bool has_len = false;
  /* ring fields take any u32; only lengths the engine allocates are capped */
  bool ring_len = st->op == VSIM_OP_RAW_DESC || st->op == VSIM_OP_RAW_PDESC ||
                  st->op == VSIM_OP_DEV_USED || st->op == VSIM_OP_DEV_PUSED;
  uint64_t len_max = ring_len ? UINT32_MAX : VSIM_SCENARIO_MAX_DATA;
  if (!step_parse_queue(ld, o, st)) return false;
  if ((allowed & B(SF_VALUE)) && !step_parse_value(ld, o, st)) return false;
  if (!opt_u64(ld, o, "sector", 0, UINT64_MAX, &st->sector, NULL)) return false;
  if (!opt_u32(ld, o, "nsectors", 0, UINT32_MAX, &st->nsectors, NULL)) return false;
  if (!opt_u32(ld, o, "len", 0, len_max, &st->len, &has_len)) return false;
  if (!opt_u32(ld, o, "type", 0, UINT32_MAX, &st->type, NULL)) return false;
  if ((st->op == VSIM_OP_RAW_DESC || st->op == VSIM_OP_RAW_PDESC || st->op == VSIM_OP_DEV_PUSED) &&
      !step_parse_desc_flags(ld, o, st))
    return false;
  if (op_is_dev(st->op)) {
    if (!step_parse_dev(ld, o, st)) return false;
  } else if (!opt_u32(ld, o, "id", 0, UINT16_MAX, &st->id, NULL)) {
    return false;
  }
  if (!opt_bool(ld, o, "exact", &st->exact, NULL)) return false;
  if (!opt_u32(ld, o, "offset", 0, VSIM_SCENARIO_MMIO_WINDOW - 1, &st->offset, NULL)) return false;
  if (!opt_bool(ld, o, "unchanged", &st->unchanged, NULL)) return false;
  if ((allowed & B(SF_UNMAP)) && !step_parse_blk_flags(ld, o, st)) return false;
  if (!opt_u32(ld, o, "index", 0, UINT16_MAX, &st->index, NULL)) return false;
  if (!opt_u64(ld, o, "addr", 0, UINT64_MAX, &st->addr, NULL)) return false;
  if (!opt_u32(ld, o, "next", 0, UINT16_MAX, &st->next, NULL)) return false;
  if (!step_parse_heads(ld, o, st)) return false;
  if (st->op == VSIM_OP_INIT) {
    /* "driver_ok": false stops initialisation after queue set-up */
    bool ok = true;
    if (!opt_bool(ld, o, "driver_ok", &ok, &st->has_value)) return false;
    st->value = ok ? 1 : 0;
    /* "accept_features": what the driver accepts from this initialisation on */
    if (!opt_name_set(ld, o, "accept_features", NAMES_FEATURE, &st->accept, &st->has_accept)) return false;
  }
  if (!opt_data(ld, o, "data", &st->data)) return false;
  if (!opt_u32(ld, o, "port", 0, UINT32_MAX, &st->port, NULL)) return false;
  if (op_is_blk(st->op) && !step_parse_expectations(ld, o, st)) return false;
  if (st->op == VSIM_OP_REQ_RAW && !step_parse_req(ld, o, st, has_len)) return false;
  if (st->op == VSIM_OP_GPU_EXPECT_SCANOUT && !step_parse_scanout(ld, o, st)) return false;
  if (st->op == VSIM_OP_EXPECT) {
    if (!json_object_get(o, "status_has") && !json_object_get(o, "status_lacks"))
      return ld_fail(ld, "an expect step needs \"status_has\" or \"status_lacks\"");
    if (!opt_status_pair(ld, o, &st->status_has, &st->status_lacks)) return false;
  }
  return step_finish(ld, st, has_len);
}

/* gpu.expect_scanout: `index` a scanout id (below VIRTIO_GPU_MAX_SCANOUTS),
 * `expect_data` the bytes of the whole scanout rectangle, row-major. */
static bool step_parse_scanout(loader *ld, json_t *o, vsim_step *st) {
  if (st->index >= 16) { /* VIRTIO_GPU_MAX_SCANOUTS */
    ld_push(ld, "index");
    return ld_fail(ld, "scanout %u: a gpu device has at most 16 scanouts", st->index);
  }
  if (!opt_data(ld, o, "expect_data", &st->expect_data)) return false;
  if (st->expect_data.len == 0) {
    ld_push(ld, "expect_data");
    return ld_fail(ld, "expect_data is empty: give the bytes the scanout shows");
  }
  return true;
}

/* Fields not in op_table[op].allowed were refused by step_check_fields, so
 * the parsers above may look every field up unconditionally. */
static bool step_parse(loader *ld, json_t *o, vsim_step *st) {
  if (!val_object(ld, o)) return false;
  if (!step_parse_op(ld, o, &st->op)) return false;
  if (st->op == VSIM_OP_GPU_EXPECT_SCANOUT && !device_is_gpu(ld->sc)) {
    ld_push(ld, "op");
    return ld_fail(ld, "op '%s' needs device \"gpu\"", vsim_op_name(st->op));
  }
  if (op_is_blk(st->op) && strcmp(ld->sc->device, "blk") != 0) {
    ld_push(ld, "op");
    return ld_fail(ld, "op '%s' needs device \"blk\" (this scenario drives a %s device: use req.raw)",
                   vsim_op_name(st->op), ld->sc->device);
  }
  if (!step_check_fields(ld, o, st->op)) return false;
  return step_parse_fields(ld, o, st);
}

static bool parse_steps(loader *ld, json_t *root) {
  if (!need(ld, root, "steps")) return false;
  json_t *arr = json_object_get(root, "steps");
  ld_push(ld, "steps");
  if (!val_array(ld, arr, VSIM_SCENARIO_MAX_STEPS, "steps")) return false;
  vsim_scenario *sc = ld->sc;
  size_t n = json_array_size(arr);
  if (n == 0) {
    ld_pop(ld);
    return true;
  }
  vsim_json_loc *locs = calloc(n, sizeof(*locs));
  sc->steps = calloc(n, sizeof(*sc->steps));
  if (locs == NULL || sc->steps == NULL) {
    free(locs);
    return ld_fail(ld, "out of memory");
  }
  sc->nsteps = n; /* all zeroed, so vsim_scenario_free is safe from here on */
  vsim_json_loc whole;
  vsim_json_pos_find(ld->text, ld->len, &ld->path, &whole);
  size_t found = vsim_json_pos_elements(ld->text, ld->len, &ld->path, locs, n);
  bool ok = true;
  for (size_t i = 0; i < n && ok; i++) {
    vsim_json_loc at = i < found ? locs[i] : whole;
    sc->steps[i].line = at.line;
    sc->steps[i].col = at.col;
    ld_push_index(ld, i);
    ok = step_parse(ld, json_array_get(arr, i), &sc->steps[i]);
    if (ok) ld_pop(ld);
  }
  free(locs);
  if (ok) ld_pop(ld);
  return ok;
}

/* ---- the rest of the top level -------------------------------------------- */

static const char *const region_keys[] = {"base", "len", "access", NULL};
static const char *const access_names[] = {"rw", "none", "driver-only", "device-ro", NULL};
static const unsigned access_perms[] = {
    VSIM_REGION_RAM,
    VSIM_REGION_HOLE,
    VSIM_REGION_PERM(VSIM_ACC_RW, 0),
    VSIM_REGION_PERM(VSIM_ACC_RW, VSIM_ACC_READ),
};

static bool parse_region(loader *ld, json_t *o, vsim_region_spec *r) {
  if (!val_object(ld, o) || !check_keys(ld, o, region_keys)) return false;
  if (!need(ld, o, "base") || !need(ld, o, "len") || !need(ld, o, "access")) return false;
  uint64_t arena = ld->sc->arena_size;
  if (!opt_u64(ld, o, "base", 0, UINT64_MAX, &r->base, NULL)) return false;
  if (!opt_u64(ld, o, "len", 1, UINT64_MAX, &r->len, NULL)) return false;
  if (r->base >= arena || r->len > arena - r->base) {
    ld_push(ld, "len");
    return ld_fail(ld, "region [0x%llx, +0x%llx) goes past the end of the arena (arena_size 0x%llx)",
                   (unsigned long long)r->base, (unsigned long long)r->len, (unsigned long long)arena);
  }
  int a = 0;
  if (!opt_enum(ld, o, "access", access_names, "access", &a)) return false;
  r->perm = access_perms[a];
  return true;
}

static bool parse_memory(loader *ld, json_t *root) {
  json_t *v = json_object_get(root, "memory");
  if (v == NULL) return true;
  ld_push(ld, "memory");
  if (!val_array(ld, v, VSIM_SCENARIO_MAX_REGIONS, "regions")) return false;
  size_t i;
  json_t *e;
  json_array_foreach(v, i, e) {
    ld_push_index(ld, i);
    if (!parse_region(ld, e, &ld->sc->regions[i])) return false;
    ld->sc->nregions = (unsigned)i + 1;
    ld_pop(ld);
  }
  ld_pop(ld);
  return true;
}

/* device_config values become strings; the device model parses them. */
static char *config_value(loader *ld, json_t *v) {
  char tmp[32];
  if (json_is_string(v)) return ld_strdup(ld, json_string_value(v));
  if (json_is_boolean(v)) return ld_strdup(ld, json_is_true(v) ? "true" : "false");
  if (json_is_integer(v)) {
    snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(v));
    return ld_strdup(ld, tmp);
  }
  ld_fail(ld, "expected a string, an integer or a boolean, got %s", type_name(v));
  return NULL;
}

static bool parse_device_config(loader *ld, json_t *root) {
  json_t *o = json_object_get(root, "device_config");
  if (o == NULL) return true;
  ld_push(ld, "device_config");
  if (!val_object(ld, o)) return false;
  size_t n = json_object_size(o);
  if (n > VSIM_SCENARIO_MAX_CONFIG)
    return ld_fail(ld, "too many entries (%zu; at most %u)", n, VSIM_SCENARIO_MAX_CONFIG);
  if (n && (ld->sc->config = calloc(n, sizeof(vsim_kv))) == NULL) return ld_fail(ld, "out of memory");
  const char *key;
  json_t *v;
  json_object_foreach(o, key, v) {
    ld_push(ld, key);
    if (key[0] == '\0') return ld_fail(ld, "empty key");
    vsim_kv *kv = &ld->sc->config[ld->sc->nconfig];
    if ((kv->key = ld_strdup(ld, key)) == NULL) return false;
    ld->sc->nconfig++; /* count it now so a failure below still frees the key */
    if ((kv->value = config_value(ld, v)) == NULL) return false;
    ld_pop(ld);
  }
  ld_pop(ld);
  return true;
}

static bool parse_features(loader *ld, json_t *root) {
  vsim_scenario *sc = ld->sc;
  if (!opt_name_set(ld, root, "offered_features", NAMES_FEATURE, &sc->offered, &sc->has_offered))
    return false;
  if (!opt_name_set(ld, root, "accept_features", NAMES_FEATURE, &sc->accept, &sc->has_accept))
    return false;
  return opt_name_set(ld, root, "refuse_features", NAMES_FEATURE, &sc->refuse, NULL);
}

static const char *const top_keys[] = {
    "name", "description", "device", "transport", "ring", "queue_size", "queue_max",
    "num_queues", "arena_size", "seed", "policy", "max_steps", "repeat", "device_batch", "driver_batch", "device_latency", "device_in_order_batch",
    "device_irq_coalesce", "device_poll",
    "offered_features", "accept_features", "refuse_features", "driver_poll", "auto_init", "device_scripted", "mutants",
    "backend", "memory", "device_config", "steps", "expect", "msix_vectors", NULL};

/* fs (virtio-fs) has no built-in model: its scenarios run against a back-end
 * given on the command line (a vhost-user daemon such as virtiofsd). */
static const char *const device_names[] = {"blk", "fs", "console", "input", "net", "gpu", NULL};

static bool device_is_fs(const vsim_scenario *sc) { return strcmp(sc->device, "fs") == 0; }
static bool device_is_gpu(const vsim_scenario *sc) { return strcmp(sc->device, "gpu") == 0; }
static const char *const transport_names[] = {"mmio", "pci", NULL};
static const char *const ring_names[] = {"split", "packed", NULL};
static const char *at_policy(const void *ctx, size_t i) {
  return i <= VSIM_POLICY_RANDOM ? vsim_policy_name((enum vsim_policy)i) : NULL;
}

static bool parse_identity(loader *ld, json_t *root) {
  vsim_scenario *sc = ld->sc;
  if (!need(ld, root, "name") || !opt_strdup(ld, root, "name", true, &sc->name)) return false;
  json_t *desc = json_object_get(root, "description");
  if (desc != NULL) {
    const char *s = NULL;
    ld_push(ld, "description");
    if (!val_string(ld, desc, &s)) return false;
    ld_pop(ld);
  }
  int dev = 0;
  if (!need(ld, root, "device") || !opt_enum(ld, root, "device", device_names, "device", &dev))
    return false;
  if ((sc->device = ld_strdup(ld, device_names[dev])) == NULL) return false;
  int t = VSIM_TRANSPORT_MMIO, r = VSIM_RING_SPLIT, p = VSIM_POLICY_SCRIPTED;
  if (!opt_enum(ld, root, "transport", transport_names, "transport", &t)) return false;
  if (!opt_enum(ld, root, "ring", ring_names, "ring", &r)) return false;
  json_t *pv = json_object_get(root, "policy");
  if (pv != NULL) {
    ld_push(ld, "policy");
    if (!val_enum(ld, pv, at_policy, NULL, "policy", &p)) return false;
    ld_pop(ld);
  }
  sc->transport = (enum vsim_transport_kind)t;
  sc->ring = (enum vsim_ring)r;
  sc->policy = (enum vsim_policy)p;
  return true;
}

static bool parse_queues(loader *ld, json_t *root) {
  vsim_scenario *sc = ld->sc;
  bool has_max;
  /* virtio-fs: the hiprio queue and at least one request queue */
  bool console = strcmp(sc->device, "console") == 0, input = strcmp(sc->device, "input") == 0;
  if (device_is_fs(sc) || device_is_gpu(sc) || console || input) sc->num_queues = 2;
  /* virtio-net: receiveq1, transmitq1 and the control queue */
  if (strcmp(sc->device, "net") == 0) sc->num_queues = 3;
  if (!opt_u16(ld, root, "num_queues", 1, MAX_NUM_QUEUES, &sc->num_queues, NULL)) return false;
  if (device_is_gpu(sc) && sc->num_queues != 2) {
    ld_push(ld, "num_queues");
    return ld_fail(ld, "a gpu device has exactly two queues, controlq and cursorq: num_queues must be 2 (the "
                   "default for gpu)");
  }
  if (device_is_fs(sc) && sc->num_queues < 2) {
    ld_push(ld, "num_queues");
    return ld_fail(ld, "a fs device has a hiprio queue and at least one request queue: num_queues must be at "
                   "least 2 (the default for fs)");
  }
  if (console && sc->num_queues < 2) {
    ld_push(ld, "num_queues");
    return ld_fail(ld, "a console device has port 0's receiveq and transmitq: num_queues must be at least 2 (the "
                   "default for console; 4 or more add the control queues and MULTIPORT)");
  }
  if (input && sc->num_queues != 2) {
    ld_push(ld, "num_queues");
    return ld_fail(ld, "an input device has two queues, eventq and statusq: num_queues must be 2 (the default for input)");
  }
  uint16_t msix = 0;
  bool has_msix = false;
  if (!opt_u16(ld, root, "msix_vectors", 0, 64, &msix, &has_msix)) return false; /* VSIM_PCI_MSIX_MAX */
  if (has_msix) sc->msix_vectors = msix;
  if (!opt_u16(ld, root, "queue_size", 1, MAX_QUEUE_SIZE, &sc->queue_size, NULL)) return false;
  if (!opt_u16(ld, root, "queue_max", 1, MAX_QUEUE_SIZE, &sc->queue_max, &has_max)) return false;
  /* Split rings index with `idx % size`, which needs a power of two (spec
   * 2.7: "Queue Size value is always a power of 2"); packed rings do not. */
  if (sc->ring == VSIM_RING_SPLIT && (sc->queue_size & (sc->queue_size - 1)) != 0) {
    ld_push(ld, "queue_size");
    return ld_fail(ld, "%u is not a power of two (required with \"ring\": \"split\")", sc->queue_size);
  }
  if (sc->queue_size > sc->queue_max) {
    ld_push(ld, has_max ? "queue_max" : "queue_size");
    return ld_fail(ld, "queue_size %u exceeds queue_max %u%s", sc->queue_size, sc->queue_max,
                   has_max ? "" : " (the default; set \"queue_max\")");
  }
  return true;
}

static const char *const coalesce_keys[] = {"count", "time", NULL};

/* {"count": K, "time": T}: both required. A time bound is what keeps a held
 * interrupt from waiting for ever on completions that never come. */
static bool parse_coalesce(loader *ld, json_t *root) {
  json_t *o = json_object_get(root, "device_irq_coalesce");
  if (o == NULL) return true;
  vsim_scenario *sc = ld->sc;
  ld_push(ld, "device_irq_coalesce");
  if (!val_object(ld, o) || !check_keys(ld, o, coalesce_keys)) return false;
  if (!need(ld, o, "count") || !need(ld, o, "time")) return false;
  if (!opt_u32(ld, o, "count", 1, MAX_COALESCE_COUNT, &sc->irq_coalesce_count, NULL)) return false;
  if (!opt_u64(ld, o, "time", 1, MAX_COALESCE_TIME, &sc->irq_coalesce_time, NULL)) return false;
  ld_pop(ld);
  return true;
}

/* "backend": "vhost-user-script:FILE": the scenario's own back-end, the
 * scripted vhost-user peer (backend-model/vu_script.h), FILE relative to the
 * scenario's directory. Only that one: it runs in this process on a
 * socketpair, so the scenario stays a deterministic, self-contained test (a
 * daemon, a socket or a plugin is a machine's, given with --backend, which
 * overrides this). Resolved here and checked readable, so that a typo is
 * named with the field's line and column rather than at creation. */
#define SCRIPT_PREFIX "vhost-user-script:"
static bool parse_backend(loader *ld, json_t *root) {
  vsim_scenario *sc = ld->sc;
  json_t *v = json_object_get(root, "backend");
  if (v == NULL) return true;
  const char *s = NULL;
  ld_push(ld, "backend");
  if (!val_string(ld, v, &s)) return false;
  const size_t pl = sizeof SCRIPT_PREFIX - 1;
  if (strncmp(s, SCRIPT_PREFIX, pl) != 0 || s[pl] == '\0')
    return ld_fail(ld, "expected \"vhost-user-script:FILE\" (the scripted back-end, FILE relative to the "
                   "scenario); other back-ends are given on the command line (--backend), got '%s'", q(s).s);
  const char *file = s + pl;
  /* relative to the scenario's directory: the directory part of its path
   * (a buffer's name without one: the current directory) */
  const char *slash = file[0] == '/' ? NULL : strrchr(sc->path, '/');
  size_t dl = slash ? (size_t)(slash - sc->path) + 1 : 0;
  size_t n = pl + dl + strlen(file) + 1;
  if (n > VSIM_SCENARIO_MAX_BACKEND) return ld_fail(ld, "the path is too long (at most %d bytes resolved)",
                                                    VSIM_SCENARIO_MAX_BACKEND - 1);
  char *spec = malloc(n);
  if (spec == NULL) return ld_fail(ld, "out of memory");
  snprintf(spec, n, "%s%.*s%s", SCRIPT_PREFIX, (int)dl, sc->path, file);
  if (access(spec + pl, R_OK) != 0) {
    bool ok = ld_fail(ld, "cannot read the vhost-user script %s: %s", spec + pl, strerror(errno));
    free(spec);
    return ok;
  }
  sc->backend = spec;
  ld_pop(ld);
  return true;
}

static bool parse_run(loader *ld, json_t *root) {
  vsim_scenario *sc = ld->sc;
  if (!opt_u64(ld, root, "arena_size", MIN_ARENA_SIZE, MAX_ARENA_SIZE, &sc->arena_size, NULL)) return false;
  if (!opt_u64(ld, root, "seed", 0, UINT64_MAX, &sc->seed, NULL)) return false;
  if (!opt_u64(ld, root, "max_steps", 1, VSIM_SCENARIO_MAX_RUN_STEPS, &sc->max_steps, NULL)) return false;
  if (!opt_u64(ld, root, "repeat", 1, MAX_REPEAT, &sc->repeat, NULL)) return false;
  if (!opt_u32(ld, root, "device_batch", 1, MAX_DEVICE_BATCH, &sc->device_batch, NULL)) return false;
  if (!opt_u32(ld, root, "driver_batch", 1, MAX_DRIVER_BATCH, &sc->driver_batch, NULL)) return false;
  if (!parse_coalesce(ld, root)) return false;
  if (!opt_u64(ld, root, "device_poll", 1, MAX_POLL_PERIOD, &sc->device_poll, NULL)) return false;
  if (!opt_u64(ld, root, "device_latency", 0, MAX_DEVICE_LATENCY, &sc->device_latency, NULL)) return false;
  if (!opt_bool(ld, root, "device_in_order_batch", &sc->device_in_order_batch, NULL)) return false;
  if (!opt_bool(ld, root, "driver_poll", &sc->driver_poll, NULL)) return false;
  if (!opt_bool(ld, root, "auto_init", &sc->auto_init, NULL)) return false;
  if (!opt_bool(ld, root, "device_scripted", &sc->device_scripted, NULL)) return false;
  if (sc->device_scripted && device_is_fs(sc)) {
    ld_push(ld, "device_scripted");
    return ld_fail(ld, "a scripted device needs a built-in model to answer the transport; device 'fs' has none");
  }
  if (!opt_mutant_set(ld, root, &sc->mutants)) return false;
  return parse_backend(ld, root);
}

/* ---- "expect" ------------------------------------------------------------- */

static const char *const expect_keys[] = {"violations", "status_has", "status_lacks", "kicks",
                                          "interrupts", "completed", NULL};
static const char *const range_keys[] = {"min", "max", NULL};

/* N, or {"min": a, "max": b} with either bound optional. */
static bool opt_count(loader *ld, json_t *obj, const char *key, vsim_count_expect *c) {
  json_t *v = json_object_get(obj, key);
  if (v == NULL) return true;
  ld_push(ld, key);
  c->set = true;
  c->min = 0;
  c->max = UINT64_MAX;
  if (!json_is_object(v)) {
    if (!val_uint(ld, v, 0, UINT64_MAX, &c->min)) return false;
    c->max = c->min;
    ld_pop(ld);
    return true;
  }
  if (!check_keys(ld, v, range_keys)) return false;
  if (json_object_size(v) == 0) return ld_fail(ld, "give \"min\", \"max\" or both");
  if (!opt_u64(ld, v, "min", 0, UINT64_MAX, &c->min, NULL)) return false;
  if (!opt_u64(ld, v, "max", 0, UINT64_MAX, &c->max, NULL)) return false;
  if (c->min > c->max)
    return ld_fail(ld, "min %llu is above max %llu", (unsigned long long)c->min, (unsigned long long)c->max);
  ld_pop(ld);
  return true;
}

static bool parse_violations(loader *ld, json_t *obj) {
  json_t *v = json_object_get(obj, "violations");
  if (v == NULL) return true;
  vsim_scenario *sc = ld->sc;
  ld_push(ld, "violations");
  if (!val_array(ld, v, (size_t)vsim_check_count(), "check ids")) return false;
  sc->has_expect_violations = true;
  size_t n = json_array_size(v);
  if (n && (sc->expect_violations = calloc(n, sizeof(int))) == NULL) return ld_fail(ld, "out of memory");
  size_t i;
  json_t *e;
  json_array_foreach(v, i, e) {
    ld_push_index(ld, i);
    const char *s = NULL;
    if (!val_string(ld, e, &s)) return false;
    int id = vsim_check_lookup(s);
    if (id < 0) return fail_unknown(ld, "check id", s, at_check, NULL, "see include/virtiosim/check_list.h");
    for (size_t j = 0; j < sc->nexpect_violations; j++)
      if (sc->expect_violations[j] == id) return ld_fail(ld, "'%s' is listed twice", q(s).s);
    sc->expect_violations[sc->nexpect_violations++] = id;
    ld_pop(ld);
  }
  ld_pop(ld);
  return true;
}

static bool parse_expect(loader *ld, json_t *root) {
  json_t *o = json_object_get(root, "expect");
  if (o == NULL) return true;
  vsim_scenario *sc = ld->sc;
  ld_push(ld, "expect");
  if (!val_object(ld, o) || !check_keys(ld, o, expect_keys)) return false;
  if (!parse_violations(ld, o)) return false;
  if (!opt_status_pair(ld, o, &sc->expect_status_has, &sc->expect_status_lacks)) return false;
  if (!opt_count(ld, o, "kicks", &sc->expect_kicks)) return false;
  if (!opt_count(ld, o, "interrupts", &sc->expect_irqs)) return false;
  if (!opt_count(ld, o, "completed", &sc->expect_completed)) return false;
  ld_pop(ld);
  return true;
}

/* ---- entry points --------------------------------------------------------- */

static void set_defaults(vsim_scenario *sc) {
  sc->transport = VSIM_TRANSPORT_MMIO;
  sc->ring = VSIM_RING_SPLIT;
  sc->queue_size = DEFAULT_QUEUE_SIZE;
  sc->queue_max = DEFAULT_QUEUE_MAX;
  sc->num_queues = 1;
  sc->msix_vectors = -1;
  sc->arena_size = DEFAULT_ARENA_SIZE;
  sc->seed = 1;
  sc->policy = VSIM_POLICY_SCRIPTED;
  sc->max_steps = DEFAULT_MAX_STEPS;
  sc->device_batch = 1;
  sc->driver_batch = 1;
  sc->repeat = 1;
  sc->auto_init = true;
}

/* Order matters: device before features (names depend on it), ring before
 * queue_size, queues and arena before steps and memory that refer to them. */
static bool parse_root(loader *ld, json_t *root) {
  if (!json_is_object(root)) return ld_fail(ld, "a scenario must be a JSON object, got %s", type_name(root));
  return check_keys(ld, root, top_keys) && parse_identity(ld, root) && parse_queues(ld, root) &&
         parse_run(ld, root) && parse_features(ld, root) && parse_memory(ld, root) &&
         parse_device_config(ld, root) && parse_steps(ld, root) && parse_expect(ld, root);
}

/* jansson's "near 'x'" may quote raw input bytes; keep the message printable. */
static void json_syntax_error(const char *file, const json_error_t *je, char *err, size_t errlen) {
  char text[JSON_ERROR_TEXT_LENGTH];
  size_t i = 0;
  for (; je->text[i] && i + 1 < sizeof(text); i++) {
    unsigned char c = (unsigned char)je->text[i];
    text[i] = (c >= 0x20 && c != 0x7f) ? (char)c : '?';
  }
  text[i] = '\0';
  unsigned long line = je->line < 1 ? 1 : (unsigned long)je->line;
  unsigned long col = je->column < 1 ? 1 : (unsigned long)je->column;
  write_error(err, errlen, file, line, col, "<json>", text);
}

vsim_scenario *vsim_scenario_load_buffer(const char *text, size_t len, const char *name,
                                         char *err, size_t errlen) {
  const char *file = name ? name : "<buffer>";
  if (err && errlen) err[0] = '\0';
  if (text == NULL) {
    text = "";
    len = 0;
  }
  json_error_t je;
  /* Duplicate keys are refused: with them, one of two values is silently lost. */
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (root == NULL) {
    json_syntax_error(file, &je, err, errlen);
    return NULL;
  }
  vsim_scenario *sc = calloc(1, sizeof(*sc));
  loader ld = {text, len, file, err, errlen, {0}, sc};
  vsim_json_pos_path_init(&ld.path);
  bool ok = sc != NULL;
  if (!ok) ld_fail(&ld, "out of memory");
  if (ok) {
    set_defaults(sc);
    ok = (sc->path = ld_strdup(&ld, file)) != NULL && parse_root(&ld, root);
  }
  json_decref(root);
  if (!ok) {
    vsim_scenario_free(sc);
    return NULL;
  }
  return sc;
}

/* The whole file, at most VSIM_SCENARIO_MAX_FILE bytes; NULL with errno set. */
static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  size_t cap = 0, n = 0;
  char *buf = NULL;
  for (;;) {
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 65536;
      if (ncap > (size_t)VSIM_SCENARIO_MAX_FILE + 1) ncap = (size_t)VSIM_SCENARIO_MAX_FILE + 1;
      if (ncap == cap) {
        errno = EFBIG;
        break;
      }
      char *nb = realloc(buf, ncap);
      if (nb == NULL) break;
      buf = nb;
      cap = ncap;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f)) break;
      fclose(f);
      *len = n;
      return buf;
    }
  }
  int saved = errno;
  fclose(f);
  free(buf);
  errno = saved;
  return NULL;
}

vsim_scenario *vsim_scenario_load_file(const char *path, char *err, size_t errlen) {
  if (path == NULL) {
    write_error(err, errlen, "<null>", 1, 1, "<file>", "no path given");
    return NULL;
  }
  size_t len = 0;
  errno = 0;
  char *text = read_file(path, &len);
  if (text == NULL) {
    char msg[160];
    if (errno == EFBIG)
      snprintf(msg, sizeof(msg), "file is larger than %u bytes", VSIM_SCENARIO_MAX_FILE);
    else
      snprintf(msg, sizeof(msg), "cannot read: %s", strerror(errno ? errno : EIO));
    write_error(err, errlen, path, 1, 1, "<file>", msg);
    return NULL;
  }
  vsim_scenario *sc = vsim_scenario_load_buffer(text, len, path, err, errlen);
  free(text);
  return sc;
}

void vsim_scenario_free(vsim_scenario *sc) {
  if (sc == NULL) return;
  for (size_t i = 0; i < sc->nsteps; i++) {
    vsim_step *st = &sc->steps[i];
    data_free(&st->data);
    data_free(&st->expect_data);
    for (uint16_t k = 0; k < st->nfields; k++) {
      free(st->fields[k].name);
      data_free(&st->fields[k].data);
    }
    free(st->fields);
    free(st->patches);
  }
  for (unsigned i = 0; i < sc->nsaved; i++) free(sc->saved_names[i]);
  free(sc->steps);
  for (unsigned i = 0; i < sc->nconfig; i++) {
    free(sc->config[i].key);
    free(sc->config[i].value);
  }
  free(sc->config);
  free(sc->expect_violations);
  free(sc->path);
  free(sc->backend);
  free(sc->name);
  free(sc->device);
  free(sc);
}
