/* reports/timeline.c — Chrome trace-event export (see timeline.h).
 *
 * Request spans are collected first and laid out afterwards: a device with
 * latency or batching has several requests open at once, and complete events
 * on one track must nest, so each span goes to the first lane of its group
 * (driver requests, or one queue's device requests) that is free at its start.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "scenario.h"
#include "timeline.h"
#include "virtiosim/backend.h"
#include "virtiosim/checks.h"

#define STEP_US 1000u /* timeline microseconds per scheduler step */
#define PID 1
#define TID_DRIVER 1
#define TID_TIMER 2
#define TID_ENGINE 3
#define TID_DEVICE 100  /* + queue */
#define TID_LANES 1000  /* request lanes, numbered in order of creation */

typedef struct span {
  uint64_t start, end;
  int group;          /* -1 driver requests, q >= 0 device requests of queue q */
  bool done;          /* ended by a completion (else cut at the end of the run) */
  int32_t q;
  uint64_t key;       /* driver: scenario step index; device: head / buffer id */
  uint32_t op;        /* driver: the op */
  uint64_t a, b, c, d; /* what the opening event said */
  uint64_t r0, r1;    /* what the closing event said */
  size_t seq;         /* creation order: the tie-breaker that keeps sorting stable */
  int lane;
} span;

typedef struct spans {
  span *v;
  size_t n, cap;
} spans;

static span *span_push(spans *s) {
  if (s->n == s->cap) {
    size_t nc = s->cap ? 2 * s->cap : 256;
    span *nv = realloc(s->v, nc * sizeof *nv);
    if (!nv) return NULL;
    s->v = nv;
    s->cap = nc;
  }
  span *p = &s->v[s->n];
  memset(p, 0, sizeof *p);
  p->seq = s->n++;
  return p;
}

static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

static int actor_tid(int32_t actor) {
  if (actor == 0) return TID_DRIVER;
  if (actor > 0) return TID_DEVICE + actor - 1;
  return actor == -2 ? TID_TIMER : TID_ENGINE;
}

static void thread_meta(FILE *f, bool *first, int tid, const char *name, int sort) {
  fprintf(f, "%s\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"name\":\"thread_name\",\"args\":{\"name\":", *first ? "" : ",",
          PID, tid);
  json_str(f, name);
  fprintf(f, "}},\n{\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":%d}}",
          PID, tid, sort);
  *first = false;
}

static void instant(FILE *f, uint64_t ts, int tid, const char *name, const char *scope, const vsim_event *e) {
  fprintf(f, ",\n{\"ph\":\"i\",\"s\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":%" PRIu64 ",\"name\":", scope, PID,
          tid, ts);
  json_str(f, name);
  fprintf(f, ",\"args\":{\"step\":%" PRIu64 ",\"q\":%d,\"a\":%" PRIu64 ",\"b\":%" PRIu64 "}}", e->step,
          (int)e->q, e->a, e->b);
}

static int cmp_span(const void *x, const void *y) {
  const span *a = x, *b = y;
  if (a->group != b->group) return a->group < b->group ? -1 : 1;
  if (a->start != b->start) return a->start < b->start ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static bool is_blk_op(uint64_t op) { return op >= VSIM_OP_BLK_READ && op <= VSIM_OP_BLK_RAW; }

/* Open spans are few (at most the requests in flight): a linear search. */
static span *find_open(spans *s, int group, uint64_t key) {
  for (size_t i = s->n; i-- > 0;) {
    span *p = &s->v[i];
    if (p->end == UINT64_MAX && p->group == group && p->key == key) return p;
  }
  return NULL;
}

static void step_name(char *buf, size_t len, int32_t actor, const vsim_event *ev, size_t from, size_t to) {
  unsigned pops = 0, used = 0, reaps = 0, status = 0;
  for (size_t i = from; i < to; i++) {
    if (ev[i].kind == VSIM_EV_STEP_BEGIN) {
      snprintf(buf, len, "%s (scenario step %" PRIu64 ")", vsim_op_name((enum vsim_op)ev[i].b), ev[i].a);
      return;
    }
    pops += ev[i].kind == VSIM_EV_POP;
    used += ev[i].kind == VSIM_EV_USED;
    reaps += ev[i].kind == VSIM_EV_REAP;
    status += ev[i].kind == VSIM_EV_STATUS;
  }
  if (actor > 0)
    snprintf(buf, len, "device: %u popped, %u used", pops, used);
  else if (actor == 0 && status)
    snprintf(buf, len, "driver: device status (initialisation / reset)");
  else if (actor == 0 && reaps)
    snprintf(buf, len, "driver: reap %u", reaps);
  else if (actor == 0)
    snprintf(buf, len, "driver");
  else if (actor == -2)
    snprintf(buf, len, "timer: release held interrupts");
  else
    snprintf(buf, len, "step");
}

int vsim_timeline_write(FILE *out, const char *name, const vsim_event *ev, size_t nev,
                        const int32_t *picks, size_t npicks) {
  spans sp = {0};
  int rc = -1;
  uint64_t last_ts = 0;
  /* which tracks exist: the driver always; devices, timer and engine when seen */
  bool dev_seen[64] = {false}, timer_seen = false, engine_seen = false;
  for (size_t i = 0; i < npicks; i++) {
    if (picks[i] > 0 && picks[i] <= 64) dev_seen[picks[i] - 1] = true;
    if (picks[i] == -2) timer_seen = true;
  }
  for (size_t i = 0; i < nev; i++) {
    if (ev[i].actor > 0 && ev[i].actor <= 64) dev_seen[ev[i].actor - 1] = true;
    if (ev[i].actor == -2) timer_seen = true;
    if (ev[i].actor == -1) engine_seen = true;
  }

  fprintf(out, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"scenario\":");
  json_str(out, name ? name : "");
  fprintf(out, ",\"time\":\"virtual: 1 scheduler step = %u us\"},\n\"traceEvents\":[", STEP_US);
  bool first = true;
  fprintf(out, "\n{\"ph\":\"M\",\"pid\":%d,\"name\":\"process_name\",\"args\":{\"name\":", PID);
  json_str(out, name ? name : "virtio-sim");
  fprintf(out, "}}");
  first = false;
  thread_meta(out, &first, TID_DRIVER, "driver", 0);
  for (int q = 0; q < 64; q++)
    if (dev_seen[q]) {
      char t[32];
      snprintf(t, sizeof t, "dev.q%d", q);
      thread_meta(out, &first, TID_DEVICE + q, t, 10 + q);
    }
  if (timer_seen) thread_meta(out, &first, TID_TIMER, "interrupt timer", 100);
  if (engine_seen) thread_meta(out, &first, TID_ENGINE, "engine", 101);

  /* walk the events step by step: one slice per step, instants, and spans */
  size_t i = 0;
  uint64_t step = 0;
  while (i < nev || step < npicks) {
    uint64_t s = i < nev ? ev[i].step : UINT64_MAX;
    if (step + 1 < s && step < npicks) s = step + 1; /* a step without events */
    size_t from = i;
    while (i < nev && ev[i].step == s) i++;
    step = s;
    int32_t actor = s >= 1 && s - 1 < npicks ? picks[s - 1] : -1;
    /* a step without a recorded decision is the first event's actor's */
    if (actor == -1 && from < i) actor = ev[from].actor;
    if (s >= 1 && actor != -1) {
      char nm[96];
      step_name(nm, sizeof nm, actor, ev, from, i);
      fprintf(out, ",\n{\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":%" PRIu64 ",\"dur\":%u,\"name\":", PID,
              actor_tid(actor), s * STEP_US, STEP_US - 1);
      json_str(out, nm);
      fprintf(out, ",\"args\":{\"step\":%" PRIu64 ",\"events\":%zu}}", s, i - from);
    }
    for (size_t k = from; k < i; k++) {
      const vsim_event *e = &ev[k];
      uint64_t ts = s * STEP_US + (k - from < STEP_US - 2 ? k - from : STEP_US - 2);
      last_ts = ts;
      int tid = actor_tid(e->actor);
      char nm[96];
      switch (e->kind) {
        case VSIM_EV_STEP_BEGIN:
          if (is_blk_op(e->b)) {
            span *p = span_push(&sp);
            if (!p) goto out;
            *p = (span){.start = ts, .end = UINT64_MAX, .group = -1, .q = -1, .key = e->a,
                        .op = (uint32_t)e->b, .a = e->a, .b = e->b, .seq = p->seq};
          }
          break;
        case VSIM_EV_REQ_DONE: {
          span *p = find_open(&sp, -1, e->a);
          if (p) {
            p->end = ts + 1;
            p->done = true;
            p->q = e->q;
            p->r0 = e->b;
          }
          break;
        }
        case VSIM_EV_POP:
          if (e->q >= 0 && e->q < 64) {
            span *p = span_push(&sp);
            if (!p) goto out;
            *p = (span){.start = ts, .end = UINT64_MAX, .group = e->q, .q = e->q, .key = e->a,
                        .a = e->a, .b = e->b, .c = e->c, .d = e->d, .seq = p->seq};
          }
          break;
        case VSIM_EV_USED: {
          span *p = e->q >= 0 && e->q < 64 ? find_open(&sp, e->q, e->a) : NULL;
          if (p) {
            p->end = ts + 1;
            p->done = true;
            p->r0 = e->b;
          }
          break;
        }
        case VSIM_EV_KICK:
          snprintf(nm, sizeof nm, "kick q%d", (int)e->q);
          instant(out, ts, tid, nm, "t", e);
          break;
        case VSIM_EV_IRQ:
          if (e->q >= 0) snprintf(nm, sizeof nm, "interrupt q%d", (int)e->q);
          else snprintf(nm, sizeof nm, "config interrupt");
          instant(out, ts, tid, nm, "t", e);
          break;
        case VSIM_EV_IRQ_ACK: instant(out, ts, tid, "interrupt ack", "t", e); break;
        case VSIM_EV_VIOLATION: {
          const vsim_check_info *ci = e->a < (uint64_t)vsim_check_count() ? vsim_check_info_get((int)e->a) : NULL;
          snprintf(nm, sizeof nm, "violation %s", ci ? ci->id : "?");
          instant(out, ts, tid, nm, "p", e);
          break;
        }
        case VSIM_EV_FAULT:
          snprintf(nm, sizeof nm, "%s", vsim_op_name((enum vsim_op)e->a));
          instant(out, ts, tid, nm, "t", e);
          break;
        case VSIM_EV_STALL: instant(out, ts, tid, "stall", "p", e); break;
        case VSIM_EV_NEEDS_RESET: instant(out, ts, tid, "needs reset", "t", e); break;
        case VSIM_EV_QUEUE_RESET:
          snprintf(nm, sizeof nm, "queue reset q%d", (int)e->q);
          instant(out, ts, tid, nm, "t", e);
          break;
        default: break;
      }
    }
    if (i >= nev && step >= npicks) break;
  }

  /* lay the spans out on lanes and write them */
  uint64_t end_of_run = (last_ts / STEP_US + 1) * STEP_US;
  for (size_t k = 0; k < sp.n; k++)
    if (sp.v[k].end == UINT64_MAX) sp.v[k].end = end_of_run;
  qsort(sp.v, sp.n, sizeof *sp.v, cmp_span);
  uint64_t *lane_end = NULL;
  size_t nlanes = 0, lane_cap = 0;
  int next_tid = TID_LANES, group_tid0 = 0;
  for (size_t k = 0; k < sp.n; k++) {
    span *p = &sp.v[k];
    if (k == 0 || p->group != sp.v[k - 1].group) {
      nlanes = 0;
      group_tid0 = next_tid;
    }
    size_t lane = 0;
    while (lane < nlanes && lane_end[lane] > p->start) lane++;
    if (lane == nlanes) {
      if (nlanes == lane_cap) {
        size_t nc = lane_cap ? 2 * lane_cap : 16;
        uint64_t *nl = realloc(lane_end, nc * sizeof *nl);
        if (!nl) {
          free(lane_end);
          goto out;
        }
        lane_end = nl;
        lane_cap = nc;
      }
      nlanes++;
      char t[64];
      if (p->group < 0) snprintf(t, sizeof t, "driver requests #%zu", lane + 1);
      else snprintf(t, sizeof t, "dev.q%d requests #%zu", p->group, lane + 1);
      thread_meta(out, &first, next_tid++, t, p->group < 0 ? 1 + (int)lane : 10 + 64 * (1 + p->group) + (int)lane);
    }
    lane_end[lane] = p->end;
    char nm[96];
    if (p->group < 0)
      snprintf(nm, sizeof nm, "%s (scenario step %" PRIu64 ")%s", vsim_op_name((enum vsim_op)p->op), p->key,
               p->done ? "" : " never completed");
    else
      snprintf(nm, sizeof nm, "request %" PRIu64 "%s", p->key, p->done ? "" : " never completed");
    fprintf(out, ",\n{\"ph\":\"X\",\"pid\":%d,\"tid\":%d,\"ts\":%" PRIu64 ",\"dur\":%" PRIu64 ",\"name\":", PID,
            group_tid0 + (int)lane, p->start, p->end - p->start);
    json_str(out, nm);
    if (p->group < 0)
      fprintf(out, ",\"args\":{\"queue\":%d,\"status\":%" PRIu64 ",\"completed\":%s}}", (int)p->q, p->r0,
              p->done ? "true" : "false");
    else
      fprintf(out,
              ",\"args\":{\"queue\":%d,\"head\":%" PRIu64 ",\"segments\":%" PRIu64 ",\"readable\":%" PRIu64
              ",\"writable\":%" PRIu64 ",\"used_len\":%" PRIu64 ",\"completed\":%s}}",
              p->group, p->key, p->b, p->c, p->d, p->r0, p->done ? "true" : "false");
  }
  free(lane_end);
  fprintf(out, "\n]}\n");
  rc = ferror(out) ? -1 : 0;
out:
  free(sp.v);
  return rc;
}
