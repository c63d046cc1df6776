/* backend-model/be_standin.c — the recorded back-end (see be_standin.h).
 *
 * Lines are parsed when their call comes (jansson), so a long trace costs
 * its text, not a tree per call.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "arena_fast.h"
#include "be_standin.h"

typedef struct standin {
  const vsim_be_log *log;
  const vsim_host *host;
  vsim_be_wrote_fn wrote;
  void *wrote_ctx;
  vsim_standin_diverged_fn diverged;
  void *diverged_ctx;
  vsim_backend_ops ops;
  char name[64];
  size_t next;    /* the next line to play */
  bool off;       /* diverged: nothing more is played */
  uint8_t status; /* the last status it answered */
} standin;

static void diverge(standin *s, size_t line_index, const char *fmt, ...) {
  if (s->off) return;
  s->off = true;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char full[768];
  if (line_index < s->log->n)
    snprintf(full, sizeof full, "%s:%u: recorded back-end: %s", s->log->path, (unsigned)s->log->lineno[line_index],
             msg);
  else
    snprintf(full, sizeof full, "%s: recorded back-end: %s", s->log->path, msg);
  if (s->diverged) s->diverged(s->diverged_ctx, full);
}

/* An integer field: a JSON integer, or a "0x..." string above 2^63 - 1. */
static bool get_u64(const json_t *v, uint64_t *out) {
  if (json_is_integer(v)) {
    *out = (uint64_t)json_integer_value(v);
    return true;
  }
  if (json_is_string(v)) {
    const char *t = json_string_value(v);
    /* hex digits only: strtoull alone would take a sign or blanks */
    size_t n = strlen(t);
    if (n < 3 || n > 18 || strncmp(t, "0x", 2) != 0 || strspn(t + 2, "0123456789abcdefABCDEF") != n - 2)
      return false;
    *out = strtoull(t + 2, NULL, 16);
    return true;
  }
  return false;
}

/* Take the next line for call `op` with arguments args[0..nargs). NULL
 * (diverged) when it is another call or malformed. */
static json_t *take(standin *s, int op, const uint64_t *args, size_t nargs) {
  if (s->off) return NULL;
  size_t at = s->next;
  if (at >= s->log->n) {
    diverge(s, at, "the engine calls %s after the last recorded call", vsim_be_op_name(op));
    return NULL;
  }
  s->next++;
  json_error_t je;
  json_t *rec = json_loads(s->log->lines[at], JSON_REJECT_DUPLICATES, &je);
  const json_t *jop = rec ? json_object_get(rec, "op") : NULL;
  const json_t *ja = rec ? json_object_get(rec, "a") : NULL;
  if (!rec || !json_is_string(jop) || !json_is_array(ja)) {
    diverge(s, at, "not a call record%s%s", rec ? "" : ": ", rec ? "" : je.text);
    json_decref(rec);
    return NULL;
  }
  if (strcmp(json_string_value(jop), vsim_be_op_name(op)) != 0) {
    diverge(s, at, "the engine calls %s, the recording has %s here", vsim_be_op_name(op), json_string_value(jop));
    json_decref(rec);
    return NULL;
  }
  bool same = json_array_size(ja) == nargs;
  for (size_t i = 0; same && i < nargs; i++) {
    uint64_t v;
    same = get_u64(json_array_get(ja, i), &v) && v == args[i];
  }
  if (!same) {
    char got[160] = "";
    size_t used = 0;
    for (size_t i = 0; i < nargs && used < sizeof got - 24; i++)
      used += (size_t)snprintf(got + used, sizeof got - used, "%s%" PRIu64, i ? "," : "", args[i]);
    diverge(s, at, "the engine calls %s(%s), the recording has other arguments", vsim_be_op_name(op), got);
    json_decref(rec);
    return NULL;
  }
  return rec;
}

/* Carry out the recorded effects of the call in progress. */
static void play(standin *s, const json_t *rec) {
  const json_t *fx = json_object_get(rec, "fx");
  size_t at = s->next - 1;
  if (!fx) return;
  if (!json_is_array(fx)) {
    diverge(s, at, "'fx' is not an array");
    return;
  }
  vsim_arena *a = s->host->arena;
  for (size_t i = 0; i < json_array_size(fx) && !s->off; i++) {
    const json_t *e = json_array_get(fx, i);
    const char *kind = json_is_array(e) ? json_string_value(json_array_get(e, 0)) : NULL;
    size_t n = json_array_size(e);
    uint64_t v[6] = {0};
    if (!kind) {
      diverge(s, at, "effect %zu is not [\"kind\", ...]", i);
      return;
    }
    if (strcmp(kind, "w") == 0 && n == 3 && get_u64(json_array_get(e, 1), &v[0]) &&
        json_is_string(json_array_get(e, 2))) {
      const char *hex = json_string_value(json_array_get(e, 2));
      size_t len = strlen(hex) / 2;
      if (len == 0 || v[0] > a->size || len > a->size - v[0]) {
        diverge(s, at, "effect %zu writes outside guest memory", i);
        return;
      }
      uint8_t *dst = a->mem + v[0];
      uint8_t *tmp = malloc(len);
      if (!tmp || vsim_be_hex_decode(hex, tmp, len)) {
        free(tmp);
        diverge(s, at, "effect %zu: bad hex", i);
        return;
      }
      memcpy(dst, tmp, len);
      free(tmp);
      if (s->wrote) s->wrote(s->wrote_ctx, v[0], len);
    } else if (strcmp(kind, "ev") == 0 && n == 7) {
      bool ok = true;
      for (int k = 0; k < 6 && ok; k++) ok = get_u64(json_array_get(e, (size_t)k + 1), &v[k]);
      if (!ok) {
        diverge(s, at, "effect %zu: bad event", i);
        return;
      }
      s->host->event(s->host->ctx, (int)v[0], (int)(int64_t)v[1], v[2], v[3], v[4], v[5]);
    } else if (strcmp(kind, "irq") == 0 && n == 2 && get_u64(json_array_get(e, 1), &v[0])) {
      s->host->interrupt(s->host->ctx, (uint16_t)v[0]);
    } else if (strcmp(kind, "cfg") == 0 && n == 1) {
      s->host->config_changed(s->host->ctx);
    } else if (strcmp(kind, "viol") == 0 && n == 4 && get_u64(json_array_get(e, 1), &v[0]) &&
               get_u64(json_array_get(e, 2), &v[1]) && json_is_string(json_array_get(e, 3))) {
      s->host->violation(s->host->ctx, (int)v[0], (int)(int64_t)v[1], json_string_value(json_array_get(e, 3)));
    } else if (strcmp(kind, "fault") == 0 && n == 5) {
      bool ok = true;
      for (int k = 0; k < 4 && ok; k++) ok = get_u64(json_array_get(e, (size_t)k + 1), &v[k]);
      if (!ok) {
        diverge(s, at, "effect %zu: bad fault", i);
        return;
      }
      vsim_arena_fault f = {(enum vsim_side)(v[0] ? VSIM_SIDE_DEVICE : VSIM_SIDE_DRIVER), (unsigned)v[1], v[2], v[3]};
      if (a->fault_fn) a->fault_fn(a->fault_ctx, &f);
    } else {
      diverge(s, at, "effect %zu: unknown or malformed \"%s\"", i, kind);
      return;
    }
  }
}

/* The recorded answer of the call in progress, after its effects. */
static uint64_t answer(standin *s, json_t *rec) {
  uint64_t v = 0;
  if (!rec) return 0;
  play(s, rec);
  const json_t *r = json_object_get(rec, "r");
  if (!s->off && (!r || !get_u64(r, &v))) diverge(s, s->next - 1, "no answer 'r'");
  json_decref(rec);
  return s->off ? 0 : v;
}

static void effects_only(standin *s, json_t *rec) {
  if (!rec) return;
  play(s, rec);
  json_decref(rec);
}

#define S(be) standin *s = (be)
#define CALL0(op) take(s, op, NULL, 0)

uint64_t vsim_standin_receive_queues(void *be) {
  S(be);
  if (s->off || s->next >= s->log->n || !strstr(s->log->lines[s->next], "\"op\":\"receive_queues\""))
    return 0;
  return answer(s, CALL0(VSIM_BE_RECEIVE_QUEUES));
}

static void sb_destroy(void *be) {
  free(be);
}
static uint32_t sb_device_id(void *be) {
  S(be);
  return (uint32_t)answer(s, CALL0(VSIM_BE_DEVICE_ID));
}
static uint32_t sb_vendor_id(void *be) {
  S(be);
  return (uint32_t)answer(s, CALL0(VSIM_BE_VENDOR_ID));
}
static uint16_t sb_num_queues(void *be) {
  S(be);
  return (uint16_t)answer(s, CALL0(VSIM_BE_NUM_QUEUES));
}
static uint16_t sb_queue_max(void *be, uint16_t q) {
  S(be);
  uint64_t a[] = {q};
  return (uint16_t)answer(s, take(s, VSIM_BE_QUEUE_MAX, a, 1));
}
static uint64_t sb_device_features(void *be) {
  S(be);
  return answer(s, CALL0(VSIM_BE_DEVICE_FEATURES));
}
static void sb_set_driver_features(void *be, uint64_t f) {
  S(be);
  uint64_t a[] = {f};
  effects_only(s, take(s, VSIM_BE_SET_DRIVER_FEATURES, a, 1));
}
static uint8_t sb_get_status(void *be) {
  S(be);
  s->status = (uint8_t)answer(s, CALL0(VSIM_BE_GET_STATUS));
  return s->status;
}

uint8_t vsim_standin_last_status(void *be) { return ((standin *)be)->status; }
static void sb_set_status(void *be, uint8_t st) {
  S(be);
  uint64_t a[] = {st};
  effects_only(s, take(s, VSIM_BE_SET_STATUS, a, 1));
}
static uint32_t sb_config_generation(void *be) {
  S(be);
  return (uint32_t)answer(s, CALL0(VSIM_BE_CONFIG_GENERATION));
}
static uint32_t sb_config_size(void *be) {
  S(be);
  return (uint32_t)answer(s, CALL0(VSIM_BE_CONFIG_SIZE));
}

/* The bytes of "d", exactly len of them. */
static bool recorded_data(standin *s, const json_t *rec, uint8_t *out, uint32_t len) {
  const json_t *d = json_object_get(rec, "d");
  if (!json_is_string(d) || vsim_be_hex_decode(json_string_value(d), out, len)) {
    diverge(s, s->next - 1, "'d' is not %u bytes of hex", (unsigned)len);
    return false;
  }
  return true;
}

static int sb_config_read(void *be, uint32_t off, void *dst, uint32_t len) {
  S(be);
  uint64_t a[] = {off, len};
  json_t *rec = take(s, VSIM_BE_CONFIG_READ, a, 2);
  memset(dst, 0, len);
  if (rec && !recorded_data(s, rec, dst, len)) {
    json_decref(rec);
    return -1;
  }
  return (int)(int64_t)answer(s, rec);
}
static int sb_config_write(void *be, uint32_t off, const void *src, uint32_t len) {
  S(be);
  uint64_t a[] = {off, len};
  json_t *rec = take(s, VSIM_BE_CONFIG_WRITE, a, 2);
  if (rec) {
    uint8_t *was = malloc(len ? len : 1);
    bool same = was && recorded_data(s, rec, was, len) && memcmp(was, src, len) == 0;
    if (was && !same && !s->off) diverge(s, s->next - 1, "the engine writes other configuration bytes");
    free(was);
    if (!same) {
      json_decref(rec);
      return -1;
    }
  }
  return (int)(int64_t)answer(s, rec);
}
static int sb_queue_ready(void *be, uint16_t q, const vsim_queue_cfg *cfg) {
  S(be);
  uint64_t a[] = {q, cfg ? cfg->size : 0, cfg ? cfg->desc : 0, cfg ? cfg->driver : 0, cfg ? cfg->device : 0};
  return (int)(int64_t)answer(s, take(s, VSIM_BE_QUEUE_READY, a, cfg ? 5 : 1));
}
static void sb_queue_reset(void *be, uint16_t q) {
  S(be);
  uint64_t a[] = {q};
  effects_only(s, take(s, VSIM_BE_QUEUE_RESET, a, 1));
}
static void sb_queue_notify(void *be, uint16_t q, uint32_t value) {
  S(be);
  uint64_t a[] = {q, value};
  effects_only(s, take(s, VSIM_BE_QUEUE_NOTIFY, a, 2));
}
static bool sb_queue_runnable(void *be, uint16_t q) {
  S(be);
  uint64_t a[] = {q};
  return answer(s, take(s, VSIM_BE_QUEUE_RUNNABLE, a, 1)) != 0;
}
static int sb_queue_run(void *be, uint16_t q, uint32_t budget) {
  S(be);
  uint64_t a[] = {q, budget};
  return (int)(int64_t)answer(s, take(s, VSIM_BE_QUEUE_RUN, a, 2));
}
static uint64_t sb_queue_next_due(void *be, uint16_t q) {
  S(be);
  uint64_t a[] = {q};
  json_t *rec = take(s, VSIM_BE_QUEUE_NEXT_DUE, a, 1);
  return rec ? answer(s, rec) : UINT64_MAX;
}

int vsim_standin_create(const vsim_be_log *log, const vsim_host *host, vsim_be_wrote_fn wrote,
                        void *wrote_ctx, vsim_standin_diverged_fn diverged, void *diverged_ctx,
                        vsim_backend *out, char *err, size_t errlen) {
  json_error_t je;
  json_t *rec = log->n ? json_loads(log->lines[0], JSON_REJECT_DUPLICATES, &je) : NULL;
  const json_t *op = rec ? json_object_get(rec, "op") : NULL;
  const json_t *has = rec ? json_object_get(rec, "has") : NULL;
  const json_t *name = rec ? json_object_get(rec, "name") : NULL;
  if (!rec || !json_is_string(op) || strcmp(json_string_value(op), "create") != 0 || !json_is_string(has) ||
      !json_is_string(name)) {
    snprintf(err, errlen, "%s:%u: the recorded back-end does not begin with its creation {\"be\":0,\"op\":\"create\",...}",
             log->path, log->n ? (unsigned)log->lineno[0] : 0u);
    json_decref(rec);
    return -1;
  }
  standin *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    json_decref(rec);
    return -1;
  }
  s->log = log;
  s->host = host;
  s->wrote = wrote;
  s->wrote_ctx = wrote_ctx;
  s->diverged = diverged;
  s->diverged_ctx = diverged_ctx;
  snprintf(s->name, sizeof s->name, "%s (recorded)", json_string_value(name));
  const char *h = json_string_value(has);
  s->ops = (vsim_backend_ops){
      .abi_version = VSIM_BACKEND_ABI_VERSION,
      .name = s->name,
      .destroy = sb_destroy,
      .device_id = sb_device_id,
      .vendor_id = sb_vendor_id,
      .num_queues = sb_num_queues,
      .queue_max_size = sb_queue_max,
      .device_features = sb_device_features,
      .set_driver_features = sb_set_driver_features,
      .get_status = sb_get_status,
      .set_status = sb_set_status,
      .config_generation = sb_config_generation,
      .config_size = sb_config_size,
      .config_read = sb_config_read,
      .config_write = sb_config_write,
      .queue_ready = sb_queue_ready,
      .queue_reset = strchr(h, 'r') ? sb_queue_reset : NULL,
      .queue_notify = sb_queue_notify,
      .queue_runnable = sb_queue_runnable,
      .queue_run = sb_queue_run,
      .queue_next_due = strchr(h, 'n') ? sb_queue_next_due : NULL,
  };
  s->next = 1;
  play(s, rec);
  json_decref(rec);
  *out = (vsim_backend){&s->ops, s};
  return 0;
}
