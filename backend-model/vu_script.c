/* backend-model/vu_script.c — the vhost-user-script backend (see vu_script.h). */
#include "vu_script.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "be_log.h"
#include "vhost_user.h"
#include "vhost_user_proto.h"

/* ---- the script format ---- */

typedef struct pctx {
  const char *name;
  size_t index;
  char *err;
  size_t errlen;
} pctx;

__attribute__((format(printf, 3, 4))) static int perr(pctx *c, const char *field, const char *fmt, ...) {
  char what[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (c->index == SIZE_MAX)
    snprintf(c->err, c->errlen, "%s: field '%s': %s", c->name, field, what);
  else
    snprintf(c->err, c->errlen, "%s: field 'actions[%zu].%s': %s", c->name, c->index, field, what);
  return -1;
}

/* An integer field: a JSON integer >= 0 or a "0x..." string, at most max. */
static int get_uint(pctx *c, json_t *v, const char *field, uint64_t max, uint64_t *out) {
  if (json_is_integer(v) && json_integer_value(v) >= 0) {
    *out = (uint64_t)json_integer_value(v);
  } else if (json_is_string(v) && strncmp(json_string_value(v), "0x", 2) == 0 && json_string_value(v)[2]) {
    /* hex digits only: strtoull alone would take a sign, blanks or a second 0x */
    const char *h = json_string_value(v) + 2;
    if (strspn(h, "0123456789abcdefABCDEF") != strlen(h) || strlen(h) > 16)
      return perr(c, field, "not a hex number");
    *out = strtoull(h, NULL, 16);
  } else {
    return perr(c, field, "expected an integer >= 0 or a \"0x...\" string");
  }
  if (*out > max) return perr(c, field, "%" PRIu64 " is above %" PRIu64, *out, max);
  return 0;
}

static int get_hex(pctx *c, json_t *v, const char *field, uint8_t *buf, size_t cap, uint32_t *n) {
  const char *s = json_string_value(v);
  if (!s) return perr(c, field, "expected a string of hex digits");
  size_t len = strlen(s);
  if (len % 2) return perr(c, field, "an odd number of hex digits");
  if (len / 2 > cap) return perr(c, field, "more than %zu bytes", cap);
  if (vsim_be_hex_decode(s, buf, len / 2)) {
    size_t bad = strspn(s, "0123456789abcdefABCDEF") & ~(size_t)1;
    return perr(c, field, "'%.2s' is not a hex byte", s + bad);
  }
  *n = (uint32_t)(len / 2);
  return 0;
}

/* Every key of o must be in the NULL-terminated list. */
static int only_keys(pctx *c, json_t *o, const char *const *keys) {
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v) {
    bool known = false;
    for (size_t i = 0; keys[i]; i++) known |= strcmp(k, keys[i]) == 0;
    if (!known) return perr(c, k, "unknown field");
  }
  return 0;
}

static int request_number(pctx *c, json_t *v, uint32_t *out) {
  if (json_is_string(v) && strncmp(json_string_value(v), "0x", 2) != 0) {
    char nb[32];
    for (uint32_t r = 0; r < VU__MAX_REQUEST; r++)
      if (strcmp(vu_request_name(r, nb, sizeof nb), json_string_value(v)) == 0) {
        *out = r;
        return 0;
      }
    return perr(c, "msg", "unknown request name '%s' (a number is fine too)", json_string_value(v));
  }
  uint64_t x;
  if (get_uint(c, v, "msg", UINT32_MAX, &x)) return -1;
  *out = (uint32_t)x;
  return 0;
}

static int ring_field(pctx *c, json_t *o, const char *key, uint16_t *q) {
  uint64_t x;
  if (get_uint(c, json_object_get(o, key), key, VUP_MAX_RINGS - 1, &x)) return -1;
  *q = (uint16_t)x;
  return 0;
}

static int parse_action(pctx *c, json_t *o, vu_script *s, uint8_t *buf, size_t cap) {
  if (!json_is_object(o)) return perr(c, "", "expected an object");
  vu_peer_act a;
  memset(&a, 0, sizeof a);
  uint32_t n = 0;
  uint64_t x;
  if (json_object_get(o, "msg")) {
    static const char *const keys[] = {"msg", "flags", "size", "payload", "u64", "fds", NULL};
    if (only_keys(c, o, keys) || request_number(c, json_object_get(o, "msg"), &a.request)) return -1;
    a.kind = VUP_MSG;
    a.flags = VU_VERSION | VU_FLAG_REPLY;
    if (json_object_get(o, "payload") && json_object_get(o, "u64"))
      return perr(c, "u64", "give either payload or u64");
    if (json_object_get(o, "payload") && get_hex(c, json_object_get(o, "payload"), "payload", buf, cap, &n))
      return -1;
    if (json_object_get(o, "u64")) {
      if (get_uint(c, json_object_get(o, "u64"), "u64", UINT64_MAX, &x)) return -1;
      memcpy(buf, &x, 8); /* host byte order, as the protocol says */
      n = 8;
    }
    a.size = n;
    if (json_object_get(o, "flags")) {
      if (get_uint(c, json_object_get(o, "flags"), "flags", UINT32_MAX, &x)) return -1;
      a.flags = (uint32_t)x;
    }
    if (json_object_get(o, "size")) {
      if (get_uint(c, json_object_get(o, "size"), "size", UINT32_MAX, &x)) return -1;
      a.size = (uint32_t)x;
    }
    if (json_object_get(o, "fds")) {
      if (get_uint(c, json_object_get(o, "fds"), "fds", VUP_MAX_FDS, &x)) return -1;
      a.nfds = (uint32_t)x;
    }
  } else if (json_object_get(o, "raw")) {
    static const char *const keys[] = {"raw", NULL};
    if (only_keys(c, o, keys) || get_hex(c, json_object_get(o, "raw"), "raw", buf, cap, &n)) return -1;
    a.kind = VUP_RAW;
  } else if (json_object_get(o, "close")) {
    static const char *const keys[] = {"close", NULL};
    if (only_keys(c, o, keys)) return -1;
    if (!json_is_true(json_object_get(o, "close"))) return perr(c, "close", "expected true");
    a.kind = VUP_CLOSE;
  } else if (json_object_get(o, "await")) {
    static const char *const keys[] = {"await", NULL};
    if (only_keys(c, o, keys)) return -1;
    int ev = vu_peer_event_lookup(json_string_value(json_object_get(o, "await")));
    if (ev < 0) return perr(c, "await", "expected \"kick\", \"run\", \"status\" or \"queue\"");
    a.kind = VUP_AWAIT;
    a.event = (uint8_t)ev;
  } else if (json_object_get(o, "use")) {
    static const char *const keys[] = {"use", "id", "len", NULL};
    if (only_keys(c, o, keys) || ring_field(c, o, "use", &a.q)) return -1;
    a.kind = VUP_USE;
    json_t *id = json_object_get(o, "id");
    if (!id || (json_is_string(id) && strcmp(json_string_value(id), "next") == 0)) {
      a.id = VUP_ID_NEXT;
    } else {
      if (get_uint(c, id, "id", UINT32_MAX - 1, &x)) return -1;
      a.id = (uint32_t)x;
    }
    if (get_uint(c, json_object_get(o, "len"), "len", UINT32_MAX, &x)) return -1;
    a.len = (uint32_t)x;
  } else if (json_object_get(o, "used_idx")) {
    static const char *const keys[] = {"used_idx", "value", "delta", NULL};
    if (only_keys(c, o, keys) || ring_field(c, o, "used_idx", &a.q)) return -1;
    a.kind = VUP_USED_IDX;
    json_t *d = json_object_get(o, "delta");
    if (d && json_object_get(o, "value")) return perr(c, "delta", "give either value or delta");
    if (d) {
      if (!json_is_integer(d) || json_integer_value(d) < -32768 || json_integer_value(d) > 32767)
        return perr(c, "delta", "expected an integer in -32768..32767");
      a.relative = true;
      a.value = (uint16_t)json_integer_value(d);
    } else {
      if (get_uint(c, json_object_get(o, "value"), "value", UINT16_MAX, &x)) return -1;
      a.value = (uint16_t)x;
    }
  } else if (json_object_get(o, "call")) {
    static const char *const keys[] = {"call", NULL};
    if (only_keys(c, o, keys) || ring_field(c, o, "call", &a.q)) return -1;
    a.kind = VUP_CALL;
  } else if (json_object_get(o, "mem")) {
    static const char *const keys[] = {"mem", "data", NULL};
    if (only_keys(c, o, keys) || get_uint(c, json_object_get(o, "mem"), "mem", UINT64_MAX, &a.addr) ||
        get_hex(c, json_object_get(o, "data"), "data", buf, cap, &n))
      return -1;
    a.kind = VUP_MEM;
  } else {
    return perr(c, "", "an action is one of msg, raw, close, await, use, used_idx, call, mem");
  }
  if (vu_script_add(s, &a, buf, n)) return perr(c, "", "the script is too long");
  return 0;
}

int vsim_vu_script_parse(const char *text, size_t len, const char *name, vu_script *s, char *err,
                         size_t errlen) {
  vu_script_init(s);
  pctx c = {name, SIZE_MAX, err, errlen};
  json_error_t je;
  json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!root) {
    snprintf(err, errlen, "%s:%d:%d: %s", name, je.line, je.column, je.text);
    return -1;
  }
  int rc = -1;
  size_t cap = 65536;
  uint8_t *buf = malloc(cap);
  static const char *const keys[] = {"vhost_user_script", "description", "reply_ms", "wait_ms", "actions", NULL};
  uint64_t x;
  json_t *acts = json_object_get(root, "actions");
  if (!buf) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  if (!json_is_object(root)) {
    perr(&c, "<root>", "expected an object");
    goto out;
  }
  if (only_keys(&c, root, keys)) goto out;
  if (!json_is_integer(json_object_get(root, "vhost_user_script")) ||
      json_integer_value(json_object_get(root, "vhost_user_script")) != 1) {
    perr(&c, "vhost_user_script", "expected 1 (the format's version)");
    goto out;
  }
  if (json_object_get(root, "reply_ms")) {
    if (get_uint(&c, json_object_get(root, "reply_ms"), "reply_ms", 60000, &x)) goto out;
    s->reply_ms = x ? (int)x : 1;
  }
  if (json_object_get(root, "wait_ms")) {
    if (get_uint(&c, json_object_get(root, "wait_ms"), "wait_ms", 60000, &x)) goto out;
    s->wait_ms = x ? (int)x : 1;
  }
  if (!json_is_array(acts)) {
    perr(&c, "actions", "expected an array of actions");
    goto out;
  }
  for (size_t i = 0; i < json_array_size(acts); i++) {
    c.index = i;
    if (parse_action(&c, json_array_get(acts, i), s, buf, cap)) goto out;
  }
  rc = 0;
out:
  free(buf);
  json_decref(root);
  if (rc) vu_script_clear(s);
  return rc;
}

/* ---- the backend: the adapter, with the peer run before each op ---- */

typedef struct vsim_vu_script {
  vu_script script;
  vu_peer *peer;
  vsim_backend inner;
} vsim_vu_script;

#define INNER(w) ((w)->inner.ops)
#define PUMP(be, ev) vu_peer_pump(((vsim_vu_script *)(be))->peer, (ev))
#define IN(be) (((vsim_vu_script *)(be))->inner.be)

static void sc_destroy(void *be) {
  vsim_vu_script *w = be;
  if (!w) return;
  if (w->inner.ops) INNER(w)->destroy(w->inner.be); /* closes the front-end's end first */
  vu_peer_free(w->peer);
  vu_script_clear(&w->script);
  free(w);
}

static uint32_t sc_device_id(void *be) { return INNER((vsim_vu_script *)be)->device_id(IN(be)); }
static uint32_t sc_vendor_id(void *be) { return INNER((vsim_vu_script *)be)->vendor_id(IN(be)); }
static uint16_t sc_num_queues(void *be) { return INNER((vsim_vu_script *)be)->num_queues(IN(be)); }
static uint16_t sc_queue_max(void *be, uint16_t q) { return INNER((vsim_vu_script *)be)->queue_max_size(IN(be), q); }
static uint64_t sc_device_features(void *be) { return INNER((vsim_vu_script *)be)->device_features(IN(be)); }
static void sc_set_driver_features(void *be, uint64_t f) {
  INNER((vsim_vu_script *)be)->set_driver_features(IN(be), f);
}
static uint8_t sc_get_status(void *be) { return INNER((vsim_vu_script *)be)->get_status(IN(be)); }
static void sc_set_status(void *be, uint8_t st) {
  PUMP(be, VUP_EV_STATUS);
  INNER((vsim_vu_script *)be)->set_status(IN(be), st);
}
static uint32_t sc_config_generation(void *be) { return INNER((vsim_vu_script *)be)->config_generation(IN(be)); }
static uint32_t sc_config_size(void *be) { return INNER((vsim_vu_script *)be)->config_size(IN(be)); }
static int sc_config_read(void *be, uint32_t off, void *dst, uint32_t len) {
  return INNER((vsim_vu_script *)be)->config_read(IN(be), off, dst, len);
}
static int sc_config_write(void *be, uint32_t off, const void *src, uint32_t len) {
  PUMP(be, VUP_EV_NONE);
  return INNER((vsim_vu_script *)be)->config_write(IN(be), off, src, len);
}
static int sc_queue_ready(void *be, uint16_t q, const vsim_queue_cfg *cfg) {
  PUMP(be, VUP_EV_QUEUE);
  return INNER((vsim_vu_script *)be)->queue_ready(IN(be), q, cfg);
}
static void sc_queue_notify(void *be, uint16_t q, uint32_t data) {
  PUMP(be, VUP_EV_KICK);
  INNER((vsim_vu_script *)be)->queue_notify(IN(be), q, data);
}
static bool sc_queue_runnable(void *be, uint16_t q) { return INNER((vsim_vu_script *)be)->queue_runnable(IN(be), q); }
static int sc_queue_run(void *be, uint16_t q, uint32_t budget) {
  PUMP(be, VUP_EV_RUN);
  return INNER((vsim_vu_script *)be)->queue_run(IN(be), q, budget);
}

static const vsim_backend_ops script_ops = {
    .abi_version = VSIM_BACKEND_ABI_VERSION,
    .name = "vhost-user-script",
    .destroy = sc_destroy,
    .device_id = sc_device_id,
    .vendor_id = sc_vendor_id,
    .num_queues = sc_num_queues,
    .queue_max_size = sc_queue_max,
    .device_features = sc_device_features,
    .set_driver_features = sc_set_driver_features,
    .get_status = sc_get_status,
    .set_status = sc_set_status,
    .config_generation = sc_config_generation,
    .config_size = sc_config_size,
    .config_read = sc_config_read,
    .config_write = sc_config_write,
    .queue_ready = sc_queue_ready,
    .queue_reset = NULL,
    .queue_notify = sc_queue_notify,
    .queue_runnable = sc_queue_runnable,
    .queue_run = sc_queue_run,
    .queue_next_due = NULL,
};

static char *read_file(const char *path, size_t *len, char *err, unsigned errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "cannot read the vhost-user script %s: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 4096, n = 0;
  char *p = malloc(cap);
  while (p) {
    size_t k = fread(p + n, 1, cap - n, f);
    n += k;
    if (n < cap) break;
    if (cap >= (size_t)64 << 20) { /* far above any script: not one */
      free(p);
      p = NULL;
      break;
    }
    char *q = realloc(p, cap * 2);
    if (!q) {
      free(p);
      p = NULL;
      break;
    }
    p = q;
    cap *= 2;
  }
  bool bad = ferror(f);
  fclose(f);
  if (!p || bad) {
    free(p);
    snprintf(err, errlen, "cannot read the vhost-user script %s", path);
    return NULL;
  }
  *len = n;
  return p;
}

int vsim_vu_script_create(const char *spec, const char *device, const vsim_backend_params *params,
                          vsim_backend *out, char *err, unsigned errlen) {
  const size_t pl = sizeof VSIM_VU_SCRIPT_PREFIX - 1;
  if (strncmp(spec, VSIM_VU_SCRIPT_PREFIX, pl) != 0 || !spec[pl]) {
    snprintf(err, errlen, "backend '%s': expected vhost-user-script:FILE.json", spec);
    return -1;
  }
  const char *path = spec + pl;
  size_t len = 0;
  char *text = read_file(path, &len, err, errlen);
  if (!text) return -1;
  vsim_vu_script *w = calloc(1, sizeof *w);
  if (!w) {
    free(text);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int rc = vsim_vu_script_parse(text, len, path, &w->script, err, errlen);
  free(text);
  if (rc) {
    free(w);
    return -1;
  }
  int front = -1;
  /* the scenario's mutants reach every backend in its params: the vu.* ones
     are the peer's to plant */
  w->peer = vu_peer_new_mut(&w->script, &params->mutants, &front, err, errlen);
  if (!w->peer) {
    sc_destroy(w);
    return -1;
  }
  vsim_vu_timeouts t = {w->script.reply_ms, w->script.wait_ms};
  if (vsim_vhost_user_create_on(front, device, params, &t, &w->inner, err, errlen)) {
    w->inner.ops = NULL;
    sc_destroy(w);
    return -1;
  }
  out->ops = &script_ops;
  out->be = w;
  return 0;
}

int vsim_vu_script_verdict(const vsim_backend *be, vu_peer_verdict *v) {
  if (!be || be->ops != &script_ops) return -1;
  vsim_vu_script *w = be->be;
  vu_peer_pump(w->peer, VUP_EV_NONE);
  vu_peer_judge(w->peer, v);
  return 0;
}
