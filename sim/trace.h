/* sim/trace.h — the event stream of a run: hash always, JSON Lines on request.
 *
 * Owns: the stable 64-bit hash of every event (step, actor, kind, queue and
 * four integer fields, in emission order) and the optional JSON Lines writer.
 * The hash depends only on those integers, never on pointers, time, or the
 * text form, so gcc/clang and -O0/-O2 builds agree.
 * Must never: allocate per event or format text unless a trace file is open.
 */
#ifndef VSIM_TRACE_H
#define VSIM_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct vsim_event {
  uint64_t step;
  int32_t actor;  /* 0 = driver, 1 + q = device worker of queue q, -1 = engine */
  int32_t kind;   /* enum vsim_event_kind */
  int32_t q;      /* queue, or -1 */
  uint64_t a, b, c, d;
} vsim_event;

typedef struct vsim_trace {
  uint64_t hash;
  uint64_t count;
  FILE *out;      /* JSON Lines sink, or NULL */
  bool out_owned;
  /* the scheduler's decisions, run-length encoded (only while a file is
   * open): pick_id[i] ran pick_n[i] steps in a row */
  int32_t *pick_id;
  uint64_t *pick_n;
  size_t npicks, pick_cap;
} vsim_trace;

void vsim_trace_init(vsim_trace *t);
/* Open a JSON Lines file; returns 0 or -1. */
int vsim_trace_open(vsim_trace *t, const char *path);
void vsim_trace_close(vsim_trace *t);
void vsim_trace_emit(vsim_trace *t, const vsim_event *ev);
/* A free-form header or footer line (JSON object text without newline). */
void vsim_trace_note(vsim_trace *t, const char *json_object);

const char *vsim_event_kind_name(int kind);

/* Record the scheduler's decision for the next step (actor id: 0 driver,
 * 1 + q device worker, -2 timer). Nothing happens unless a file is open. */
void vsim_trace_pick(vsim_trace *t, int32_t actor);
/* The footer line: {"footer":{"steps":S,"events":N,"hash":"H","picks":P}},
 * where P lists the decisions as space-separated tokens, D (driver), T
 * (timer) or Qn (device worker of queue n), each optionally followed by *k
 * for k steps in a row. Nothing happens unless a file is open. */
void vsim_trace_footer(vsim_trace *t, uint64_t steps);

#endif
