/* sim/trace.c — event hashing and JSON Lines output (see trace.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "trace.h"
#include "virtiosim/backend.h"

void vsim_trace_init(vsim_trace *t) {
  memset(t, 0, sizeof *t);
  t->hash = UINT64_C(0x6a09e667f3bcc908); /* any fixed non-zero start */
}

int vsim_trace_open(vsim_trace *t, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  FILE *m = open_memstream(&t->held, &t->held_len);
  if (!m) {
    fclose(f);
    return -1;
  }
  t->file = f;
  t->out = m;
  t->out_owned = true;
  return 0;
}

void vsim_trace_begin(vsim_trace *t, const char *header) {
  if (!t->file) {
    vsim_trace_note(t, header);
    return;
  }
  fclose(t->out);
  fprintf(t->file, "%s\n", header);
  if (t->held_len) fwrite(t->held, 1, t->held_len, t->file);
  free(t->held);
  t->held = NULL;
  t->held_len = 0;
  t->out = t->file;
  t->file = NULL;
}

void vsim_trace_close(vsim_trace *t) {
  if (t->file) {
    /* no header was ever written (the run did not build): nothing to keep */
    fclose(t->out);
    free(t->held);
    t->held = NULL;
    t->out = t->file;
    t->file = NULL;
  }
  if (t->out && t->out_owned) fclose(t->out);
  t->out = NULL;
  free(t->pick_id);
  free(t->pick_n);
  t->pick_id = NULL;
  t->pick_n = NULL;
  t->npicks = t->pick_cap = 0;
}

static const char *const kind_names[VSIM_EV__COUNT] = {
    [VSIM_EV_STEP_BEGIN] = "step",          [VSIM_EV_MMIO_READ] = "mmio.read",
    [VSIM_EV_MMIO_WRITE] = "mmio.write",    [VSIM_EV_STATUS] = "status",
    [VSIM_EV_FEATURES] = "features",        [VSIM_EV_QUEUE_READY] = "queue.ready",
    [VSIM_EV_QUEUE_RESET] = "queue.reset",  [VSIM_EV_AVAIL_PUBLISH] = "avail.publish",
    [VSIM_EV_KICK] = "kick",                [VSIM_EV_POP] = "pop",
    [VSIM_EV_USED] = "used",                [VSIM_EV_USED_PUBLISH] = "used.publish",
    [VSIM_EV_IRQ] = "irq",                  [VSIM_EV_IRQ_ACK] = "irq.ack",
    [VSIM_EV_REAP] = "reap",                [VSIM_EV_REQ_DONE] = "req.done",
    [VSIM_EV_NEEDS_RESET] = "needs_reset",  [VSIM_EV_VIOLATION] = "violation",
    [VSIM_EV_FAULT] = "fault",              [VSIM_EV_STALL] = "stall",
    [VSIM_EV_NOTIFY_ENABLE] = "notify.enable", [VSIM_EV_HOLD] = "hold",
    [VSIM_EV_IRQ_HOLD] = "irq.hold",        [VSIM_EV_POLL] = "poll",
    [VSIM_EV_PCI_READ] = "pci.read",        [VSIM_EV_PCI_WRITE] = "pci.write",
};

const char *vsim_event_kind_name(int kind) {
  if (kind <= 0 || kind >= VSIM_EV__COUNT || !kind_names[kind]) return "unknown";
  return kind_names[kind];
}

void vsim_trace_write(vsim_trace *t, const vsim_event *ev) {
  char actor[24];
  if (ev->actor == 0)
    strcpy(actor, "driver");
  else if (ev->actor > 0)
    snprintf(actor, sizeof actor, "dev.q%d", ev->actor - 1);
  else
    strcpy(actor, "engine");
  fprintf(t->out,
          "{\"step\":%" PRIu64 ",\"actor\":\"%s\",\"kind\":\"%s\",\"q\":%d,\"a\":%" PRIu64
          ",\"b\":%" PRIu64 ",\"c\":%" PRIu64 ",\"d\":%" PRIu64 "}\n",
          ev->step, actor, vsim_event_kind_name(ev->kind), (int)ev->q, ev->a, ev->b, ev->c, ev->d);
}

void vsim_trace_note(vsim_trace *t, const char *json_object) {
  if (t->out) fprintf(t->out, "%s\n", json_object);
}

void vsim_trace_pick(vsim_trace *t, int32_t actor) {
  if (!t->out) return;
  if (t->npicks && t->pick_id[t->npicks - 1] == actor) {
    t->pick_n[t->npicks - 1]++;
    return;
  }
  if (t->npicks == t->pick_cap) {
    /* amortised doubling: runs of one actor make this rare */
    size_t cap = t->pick_cap ? 2 * t->pick_cap : 256;
    int32_t *id = realloc(t->pick_id, cap * sizeof *id);
    if (id) t->pick_id = id;
    uint64_t *n = id ? realloc(t->pick_n, cap * sizeof *n) : NULL;
    if (n) t->pick_n = n;
    if (!id || !n) {
      /* out of memory: the footer then lacks picks and replay derives them
       * from the events, which is right whenever every step emitted one */
      t->pick_cap = t->npicks = 0;
      free(t->pick_id);
      free(t->pick_n);
      t->pick_id = NULL;
      t->pick_n = NULL;
      return;
    }
    t->pick_cap = cap;
  }
  t->pick_id[t->npicks] = actor;
  t->pick_n[t->npicks] = 1;
  t->npicks++;
}

void vsim_trace_footer(vsim_trace *t, uint64_t steps) {
  if (!t->out) return;
  fprintf(t->out, "{\"footer\":{\"steps\":%" PRIu64 ",\"events\":%" PRIu64 ",\"hash\":\"%016" PRIx64
                  "\",\"picks\":\"",
          steps, t->count, t->hash);
  for (size_t i = 0; i < t->npicks; i++) {
    if (i) fputc(' ', t->out);
    int32_t id = t->pick_id[i];
    if (id == 0)
      fputc('D', t->out);
    else if (id > 0)
      fprintf(t->out, "Q%d", (int)id - 1);
    else
      fputc('T', t->out);
    if (t->pick_n[i] > 1) fprintf(t->out, "*%" PRIu64, t->pick_n[i]);
  }
  fputs("\"}}\n", t->out);
}
