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
  /* until the header is written (vsim_trace_begin), lines gather in memory:
   * a backend's creation can report before the run knows its header */
  FILE *file;
  char *held;
  size_t held_len;
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
/* One event as a JSON Lines record (only called with a file open). */
void vsim_trace_write(vsim_trace *t, const vsim_event *ev);

/* The event is folded into one word (each field multiplied by its own odd
 * constant, so that equal values in different fields do not cancel), then that
 * word enters the running hash through the SplitMix64 finaliser and a
 * rotate-multiply chain: order matters, and a one-bit change anywhere flips
 * about half the bits of the final hash. One finaliser per event keeps the
 * cost near 20 instructions; inline, because every event of a run comes
 * through here and the text form is the rare case. */
static inline uint64_t vsim_trace_fmix(uint64_t v) {
  v ^= v >> 30;
  v *= UINT64_C(0xbf58476d1ce4e5b9);
  v ^= v >> 27;
  v *= UINT64_C(0x94d049bb133111eb);
  return v ^ (v >> 31);
}

static inline uint64_t vsim_trace_fold(const vsim_event *ev) {
  uint64_t w = ev->step * UINT64_C(0x9E3779B97F4A7C15);
  w ^= (((uint64_t)(uint32_t)ev->actor << 32) | (uint32_t)ev->kind) * UINT64_C(0xC2B2AE3D27D4EB4F);
  w ^= (uint64_t)(uint32_t)ev->q * UINT64_C(0x165667B19E3779F9);
  w ^= (ev->a + UINT64_C(0x27D4EB2F165667C5)) * UINT64_C(0x85EBCA77C2B2AE63);
  w ^= (ev->b + UINT64_C(0x94D049BB133111EB)) * UINT64_C(0xFF51AFD7ED558CCD);
  w ^= (ev->c + UINT64_C(0xBF58476D1CE4E5B9)) * UINT64_C(0xC4CEB9FE1A85EC53);
  w ^= (ev->d + UINT64_C(0x632BE59BD9B4E019)) * UINT64_C(0xD6E8FEB86659FD93);
  return w;
}

static inline void vsim_trace_emit(vsim_trace *t, const vsim_event *ev) {
  uint64_t h = t->hash ^ vsim_trace_fmix(vsim_trace_fold(ev));
  h = (h << 27) | (h >> 37);
  t->hash = h * UINT64_C(0x9E3779B97F4A7C15) + UINT64_C(0x632BE59BD9B4E019);
  t->count++;
  if (t->out) vsim_trace_write(t, ev);
}
/* A free-form header or footer line (JSON object text without newline). */
void vsim_trace_note(vsim_trace *t, const char *json_object);
/* The header line: written first in the file, before the lines that came
 * before it. */
void vsim_trace_begin(vsim_trace *t, const char *header);

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
