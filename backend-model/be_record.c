/* backend-model/be_record.c — the recording wrapper (see be_record.h).
 *
 * Out of process, comparing all of guest memory with the mirror costs a
 * memcmp of the arena (a page at a time, bytes only where a page differs)
 * before every callback and at the end of every call but the constant ones.
 * That is what such a back-end allows: it writes without telling anyone,
 * and what it wrote must be known before the engine acts on what it says
 * next (a completion ends the chain's right to be written). Against a daemon
 * that answers in about a millisecond per request, a megabyte's memcmp per
 * callback is a small part. In process (a plugin, or a built-in model asked
 * to record), the arena lists where the back-end wrote through the
 * accessors or was handed a span, and only those ranges are compared.
 */
#include <stdlib.h>
#include <string.h>
#include "arena_fast.h"
#include "be_record.h"

#define PAGE 4096u
#define GAP 16u /* equal bytes inside one written range (fewer, longer records) */

struct vsim_recorder {
  const vsim_host *engine;
  vsim_host host; /* what the back-end calls */
  vsim_arena *arena;
  uint8_t *shadow;
  vsim_be_wrote_fn wrote;
  void *wrote_ctx;
  vsim_arena_fault_fn fault_fn; /* the engine's fault sink */
  void *fault_ctx;
  vsim_backend inner;
  vsim_backend_ops ops;
  bool lines;
  bool out_of_process; /* writes the memory directly: compare all of it */
  bool in_call;
  bool lost;
  uint64_t calls;
  vsim_be_line cur;  /* the call being recorded */
  vsim_be_line fx;   /* its effects */
  /* lines built before an output was set */
  char **pending;
  size_t npending, pending_cap;
  void (*write)(void *ctx, const char *line);
  void *write_ctx;
};

/* ---- guest memory: what the back-end wrote ---- */

static void found(vsim_recorder *r, uint64_t at, uint64_t len) {
  if (r->lines) {
    vsim_be_line_addf(&r->fx, "%s[\"w\",", r->fx.n ? "," : "");
    vsim_be_line_u64(&r->fx, at);
    vsim_be_line_addf(&r->fx, ",");
    vsim_be_line_hex(&r->fx, r->shadow + at, (size_t)len);
    vsim_be_line_addf(&r->fx, "]");
  }
  if (r->wrote) r->wrote(r->wrote_ctx, at, len);
}

/* Every byte of [from, to) that differs from the mirror is the back-end's:
 * take it into the mirror as it is read once (a daemon may still be
 * writing; what was read is what is recorded, and the rest shows at the
 * next comparison). */
static void compare(vsim_recorder *r, uint64_t from, uint64_t to) {
  const uint8_t *mem = vsim_arena_base(r->arena);
  uint8_t *sh = r->shadow;
  uint64_t i = from;
  while (i < to) {
    if (i % PAGE == 0 && to - i >= PAGE && memcmp(mem + i, sh + i, PAGE) == 0) {
      i += PAGE;
      continue;
    }
    uint8_t v = __atomic_load_n(&mem[i], __ATOMIC_RELAXED);
    if (v == sh[i]) {
      i++;
      continue;
    }
    uint64_t start = i, last = i;
    sh[i++] = v;
    while (i < to && i - last <= GAP) {
      v = __atomic_load_n(&mem[i], __ATOMIC_RELAXED);
      if (v != sh[i]) {
        sh[i] = v;
        last = i;
      }
      i++;
    }
    found(r, start, last + 1 - start);
    i = last + 1;
  }
}

/* What the back-end wrote since the last look. Out of process, anything in
 * guest memory may have changed; in process, only what the accessors saw
 * it write (or the spans it was handed) can have. */
static void sync_memory(vsim_recorder *r) {
  size_t n;
  bool lost;
  (void)vsim_arena_mirror_others(r->arena, &n, &lost);
  if (!vsim_arena_mirror_flush(r->arena)) r->lost = true;
  if (r->out_of_process || lost) {
    compare(r, 0, vsim_arena_size(r->arena));
  } else {
    /* found() tells the engine, which may note more ranges: by index, and
     * only those there were when the look began */
    for (size_t k = 0; k < n; k++) {
      size_t m;
      const vsim_arena_extent *e = vsim_arena_mirror_others(r->arena, &m, &lost);
      compare(r, e[k].gpa, e[k].gpa + e[k].len);
    }
  }
  vsim_arena_mirror_others_clear(r->arena);
}

/* ---- lines ---- */

static void emit_line(vsim_recorder *r, const char *text) {
  if (r->write) {
    r->write(r->write_ctx, text);
    return;
  }
  if (r->npending == r->pending_cap) {
    size_t cap = r->pending_cap ? 2 * r->pending_cap : 16;
    char **n = realloc(r->pending, cap * sizeof *n);
    if (!n) {
      r->lost = true;
      return;
    }
    r->pending = n;
    r->pending_cap = cap;
  }
  char *copy = strdup(text);
  if (!copy) {
    r->lost = true;
    return;
  }
  r->pending[r->npending++] = copy;
}

static void begin(vsim_recorder *r, int op) {
  r->in_call = true;
  if (!r->lines) return;
  vsim_be_line_reset(&r->cur);
  vsim_be_line_reset(&r->fx);
  vsim_be_line_addf(&r->cur, "{\"be\":%llu,\"op\":\"%s\",\"a\":[", (unsigned long long)++r->calls,
                    vsim_be_op_name(op));
}

static void arg(vsim_recorder *r, bool first, uint64_t v) {
  if (!r->lines) return;
  if (!first) vsim_be_line_addf(&r->cur, ",");
  vsim_be_line_u64(&r->cur, v);
}

/* The arguments are all given: close "a". */
static void args_done(vsim_recorder *r) {
  if (r->lines) vsim_be_line_addf(&r->cur, "]");
}

static void data(vsim_recorder *r, const void *p, uint32_t len) {
  if (!r->lines) return;
  vsim_be_line_addf(&r->cur, ",\"d\":");
  vsim_be_line_hex(&r->cur, p, len);
}

/* The call returned `ret`: what it wrote last, then the line. */
static void end(vsim_recorder *r, bool has_ret, uint64_t ret, bool compare) {
  if (compare) sync_memory(r);
  r->in_call = false;
  if (!r->lines) return;
  if (has_ret) {
    vsim_be_line_addf(&r->cur, ",\"r\":");
    vsim_be_line_u64(&r->cur, ret);
  }
  if (r->fx.n) vsim_be_line_addf(&r->cur, ",\"fx\":[%s]", r->fx.s);
  vsim_be_line_addf(&r->cur, "}");
  if (r->cur.oom || r->fx.oom) r->lost = true;
  else emit_line(r, r->cur.s);
}

/* ---- the host the back-end sees ---- */

/* A callback begins: what the back-end wrote before it comes first. One
 * outside any call (a built-in model driven by the engine directly, as
 * fault.needs_reset does) has no line to go in: the recording is then
 * incomplete, and says so (vsim_recorder_lost). */
static void effect(vsim_recorder *r) {
  if (!r->in_call) r->lost = true;
  sync_memory(r);
}

static void rec_interrupt(void *ctx, uint16_t q) {
  vsim_recorder *r = ctx;
  effect(r);
  if (r->lines) vsim_be_line_addf(&r->fx, "%s[\"irq\",%u]", r->fx.n ? "," : "", (unsigned)q);
  r->engine->interrupt(r->engine->ctx, q);
}

static void rec_config_changed(void *ctx) {
  vsim_recorder *r = ctx;
  effect(r);
  if (r->lines) vsim_be_line_addf(&r->fx, "%s[\"cfg\"]", r->fx.n ? "," : "");
  r->engine->config_changed(r->engine->ctx);
}

static void rec_violation(void *ctx, int check, int q, const char *detail) {
  vsim_recorder *r = ctx;
  effect(r);
  if (r->lines) {
    vsim_be_line_addf(&r->fx, "%s[\"viol\",%d,%d,", r->fx.n ? "," : "", check, q);
    vsim_be_line_str(&r->fx, detail ? detail : "");
    vsim_be_line_addf(&r->fx, "]");
  }
  r->engine->violation(r->engine->ctx, check, q, detail);
}

static void rec_event(void *ctx, int kind, int q, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  vsim_recorder *r = ctx;
  effect(r);
  if (r->lines) {
    vsim_be_line_addf(&r->fx, "%s[\"ev\",%d,%d,", r->fx.n ? "," : "", kind, q);
    vsim_be_line_u64(&r->fx, a);
    vsim_be_line_addf(&r->fx, ",");
    vsim_be_line_u64(&r->fx, b);
    vsim_be_line_addf(&r->fx, ",");
    vsim_be_line_u64(&r->fx, c);
    vsim_be_line_addf(&r->fx, ",");
    vsim_be_line_u64(&r->fx, d);
    vsim_be_line_addf(&r->fx, "]");
  }
  r->engine->event(r->engine->ctx, kind, q, a, b, c, d);
}

static uint64_t rec_now(void *ctx) {
  vsim_recorder *r = ctx;
  return r->engine->now(r->engine->ctx);
}

/* A device-side access the arena refused, during a call: the engine's
 * sink hears of it now, and the stand-in will tell it again. */
static void rec_fault(void *ctx, const vsim_arena_fault *f) {
  vsim_recorder *r = ctx;
  if (r->in_call && f->side == VSIM_SIDE_DEVICE && r->lines) {
    vsim_be_line_addf(&r->fx, "%s[\"fault\",%d,%u,", r->fx.n ? "," : "", (int)f->side, f->access);
    vsim_be_line_u64(&r->fx, f->gpa);
    vsim_be_line_addf(&r->fx, ",");
    vsim_be_line_u64(&r->fx, f->len);
    vsim_be_line_addf(&r->fx, "]");
  }
  if (r->fault_fn) r->fault_fn(r->fault_ctx, f);
}

/* ---- the ops table ---- */

#define IN(be) vsim_recorder *r = (be)
#define INNER r->inner.ops
#define IB r->inner.be

static void w_destroy(void *be) {}

/* The constant answers (identity, sizes) are not moments at which the
 * back-end's writes matter: no comparison. */
static uint32_t w_device_id(void *be) {
  IN(be);
  begin(r, VSIM_BE_DEVICE_ID);
  args_done(r);
  uint32_t v = INNER->device_id(IB);
  end(r, true, v, false);
  return v;
}

static uint32_t w_vendor_id(void *be) {
  IN(be);
  begin(r, VSIM_BE_VENDOR_ID);
  args_done(r);
  uint32_t v = INNER->vendor_id(IB);
  end(r, true, v, false);
  return v;
}

static uint16_t w_num_queues(void *be) {
  IN(be);
  begin(r, VSIM_BE_NUM_QUEUES);
  args_done(r);
  uint16_t v = INNER->num_queues(IB);
  end(r, true, v, false);
  return v;
}

static uint16_t w_queue_max(void *be, uint16_t q) {
  IN(be);
  begin(r, VSIM_BE_QUEUE_MAX);
  arg(r, true, q);
  args_done(r);
  uint16_t v = INNER->queue_max_size(IB, q);
  end(r, true, v, false);
  return v;
}

static uint64_t w_device_features(void *be) {
  IN(be);
  begin(r, VSIM_BE_DEVICE_FEATURES);
  args_done(r);
  uint64_t v = INNER->device_features(IB);
  end(r, true, v, false);
  return v;
}

static void w_set_driver_features(void *be, uint64_t f) {
  IN(be);
  begin(r, VSIM_BE_SET_DRIVER_FEATURES);
  arg(r, true, f);
  args_done(r);
  INNER->set_driver_features(IB, f);
  end(r, false, 0, true);
}

static uint8_t w_get_status(void *be) {
  IN(be);
  begin(r, VSIM_BE_GET_STATUS);
  args_done(r);
  uint8_t v = INNER->get_status(IB);
  end(r, true, v, true);
  return v;
}

static void w_set_status(void *be, uint8_t st) {
  IN(be);
  begin(r, VSIM_BE_SET_STATUS);
  arg(r, true, st);
  args_done(r);
  INNER->set_status(IB, st);
  end(r, false, 0, true);
}

static uint32_t w_config_generation(void *be) {
  IN(be);
  begin(r, VSIM_BE_CONFIG_GENERATION);
  args_done(r);
  uint32_t v = INNER->config_generation(IB);
  end(r, true, v, true);
  return v;
}

static uint32_t w_config_size(void *be) {
  IN(be);
  begin(r, VSIM_BE_CONFIG_SIZE);
  args_done(r);
  uint32_t v = INNER->config_size(IB);
  end(r, true, v, false);
  return v;
}

static int w_config_read(void *be, uint32_t off, void *dst, uint32_t len) {
  IN(be);
  begin(r, VSIM_BE_CONFIG_READ);
  arg(r, true, off);
  arg(r, false, len);
  args_done(r);
  int v = INNER->config_read(IB, off, dst, len);
  data(r, dst, len);
  end(r, true, (uint64_t)(int64_t)v, true);
  return v;
}

static int w_config_write(void *be, uint32_t off, const void *src, uint32_t len) {
  IN(be);
  begin(r, VSIM_BE_CONFIG_WRITE);
  arg(r, true, off);
  arg(r, false, len);
  args_done(r);
  data(r, src, len);
  int v = INNER->config_write(IB, off, src, len);
  end(r, true, (uint64_t)(int64_t)v, true);
  return v;
}

static int w_queue_ready(void *be, uint16_t q, const vsim_queue_cfg *cfg) {
  IN(be);
  begin(r, VSIM_BE_QUEUE_READY);
  arg(r, true, q);
  if (cfg) {
    arg(r, false, cfg->size);
    arg(r, false, cfg->desc);
    arg(r, false, cfg->driver);
    arg(r, false, cfg->device);
  }
  args_done(r);
  int v = INNER->queue_ready(IB, q, cfg);
  end(r, true, (uint64_t)(int64_t)v, true);
  return v;
}

static void w_queue_reset(void *be, uint16_t q) {
  IN(be);
  begin(r, VSIM_BE_QUEUE_RESET);
  arg(r, true, q);
  args_done(r);
  INNER->queue_reset(IB, q);
  end(r, false, 0, true);
}

static void w_queue_notify(void *be, uint16_t q, uint32_t value) {
  IN(be);
  begin(r, VSIM_BE_QUEUE_NOTIFY);
  arg(r, true, q);
  arg(r, false, value);
  args_done(r);
  INNER->queue_notify(IB, q, value);
  end(r, false, 0, true);
}

static bool w_queue_runnable(void *be, uint16_t q) {
  IN(be);
  begin(r, VSIM_BE_QUEUE_RUNNABLE);
  arg(r, true, q);
  args_done(r);
  bool v = INNER->queue_runnable(IB, q);
  end(r, true, v, true);
  return v;
}

static int w_queue_run(void *be, uint16_t q, uint32_t budget) {
  IN(be);
  begin(r, VSIM_BE_QUEUE_RUN);
  arg(r, true, q);
  arg(r, false, budget);
  args_done(r);
  int v = INNER->queue_run(IB, q, budget);
  end(r, true, (uint64_t)(int64_t)v, true);
  return v;
}

static uint64_t w_queue_next_due(void *be, uint16_t q) {
  IN(be);
  begin(r, VSIM_BE_QUEUE_NEXT_DUE);
  arg(r, true, q);
  args_done(r);
  uint64_t v = INNER->queue_next_due(IB, q);
  end(r, true, v, true);
  return v;
}

/* ---- life ---- */

vsim_recorder *vsim_recorder_new(const vsim_host *engine, vsim_arena *arena, vsim_be_wrote_fn wrote,
                                 void *wrote_ctx, bool lines, bool out_of_process) {
  vsim_recorder *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->shadow = malloc((size_t)vsim_arena_size(arena));
  if (!r->shadow) {
    free(r);
    return NULL;
  }
  memcpy(r->shadow, vsim_arena_base(arena), (size_t)vsim_arena_size(arena));
  r->engine = engine;
  r->arena = arena;
  r->wrote = wrote;
  r->wrote_ctx = wrote_ctx;
  r->lines = lines;
  r->out_of_process = out_of_process;
  r->host = (vsim_host){r, engine->arena, rec_interrupt, rec_config_changed, rec_violation, rec_event, rec_now};
  r->fault_fn = arena->fault_fn;
  r->fault_ctx = arena->fault_ctx;
  vsim_arena_set_fault_sink(arena, rec_fault, r);
  vsim_arena_mirror_start(arena, r->shadow, 1u << VSIM_SIDE_DRIVER);
  if (!out_of_process) vsim_arena_mirror_track_others(arena);
  /* the creation is call 0: its effects (a handshake's findings) gather
   * until the back-end is attached */
  r->in_call = true;
  if (lines) vsim_be_line_addf(&r->cur, "{\"be\":0,\"op\":\"create\"");
  return r;
}

const vsim_host *vsim_recorder_host(vsim_recorder *r) { return &r->host; }

void vsim_recorder_attach(vsim_recorder *r, vsim_backend inner, vsim_backend *out) {
  r->inner = inner;
  const vsim_backend_ops *o = inner.ops;
  r->ops = (vsim_backend_ops){
      .abi_version = o->abi_version,
      .name = o->name,
      .destroy = w_destroy,
      .device_id = w_device_id,
      .vendor_id = w_vendor_id,
      .num_queues = w_num_queues,
      .queue_max_size = w_queue_max,
      .device_features = w_device_features,
      .set_driver_features = w_set_driver_features,
      .get_status = w_get_status,
      .set_status = w_set_status,
      .config_generation = w_config_generation,
      .config_size = w_config_size,
      .config_read = w_config_read,
      .config_write = w_config_write,
      .queue_ready = w_queue_ready,
      .queue_reset = o->queue_reset ? w_queue_reset : NULL,
      .queue_notify = w_queue_notify,
      .queue_runnable = w_queue_runnable,
      .queue_run = w_queue_run,
      .queue_next_due = o->queue_next_due ? w_queue_next_due : NULL,
  };
  if (r->lines) {
    vsim_be_line_addf(&r->cur, ",\"name\":");
    vsim_be_line_str(&r->cur, o->name ? o->name : "");
    vsim_be_line_addf(&r->cur, ",\"has\":\"%s%s\"", o->queue_reset ? "r" : "", o->queue_next_due ? "n" : "");
  }
  end(r, false, 0, true);
  *out = (vsim_backend){&r->ops, r};
}

void vsim_recorder_output(vsim_recorder *r, void (*write)(void *ctx, const char *line), void *ctx) {
  r->write = write;
  r->write_ctx = ctx;
  for (size_t i = 0; i < r->npending; i++) {
    write(ctx, r->pending[i]);
    free(r->pending[i]);
  }
  r->npending = 0;
}

bool vsim_recorder_lost(const vsim_recorder *r) { return r->lost; }

void vsim_recorder_outside_call(vsim_recorder *r) { r->lost = true; }

void vsim_recorder_receive_queues(vsim_recorder *r, uint64_t mask) {
  begin(r, VSIM_BE_RECEIVE_QUEUES);
  args_done(r);
  end(r, true, mask, false);
}

void vsim_recorder_free(vsim_recorder *r) {
  if (!r) return;
  vsim_arena_mirror_stop(r->arena);
  if (r->arena->fault_fn == rec_fault && r->arena->fault_ctx == r)
    vsim_arena_set_fault_sink(r->arena, r->fault_fn, r->fault_ctx);
  for (size_t i = 0; i < r->npending; i++) free(r->pending[i]);
  free(r->pending);
  vsim_be_line_free(&r->cur);
  vsim_be_line_free(&r->fx);
  free(r->shadow);
  free(r);
}
