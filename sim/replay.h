/* sim/replay.h — reading a recorded JSON Lines trace and running it again.
 *
 * Owns: the trace file reader (header with the scenario text and the run
 * settings, the event lines, the footer with the scheduler's decisions), and
 * the replayer: it rebuilds the run from the header alone, forces the recorded
 * decisions on the scheduler, and compares every event the new run emits with
 * the recorded one, stopping at the first divergence. Also declares the
 * read-only views of a running simulation that the replay tools (show, SVG,
 * timeline) need; sim/sim.c defines them.
 * Must never: trust the file (every line is validated, errors name FILE:LINE),
 * or change what a run does: the replayer only observes and forces picks.
 *
 * Trace format (format 2), one JSON object per line:
 *   {"header":{"scenario":NAME,"path":PATH,"seed":S,"policy":P,"version":V,
 *              "format":2,"ring":"split"|"packed","max_steps":M,"checkers":B,
 *              "options":{the command-line overrides given},
 *              "scenario_text":"the scenario file, verbatim"}}
 *   {"step":N,"actor":"driver"|"dev.qN"|"engine","kind":K,"q":Q,"a":A,"b":B,"c":C,"d":D}  (per event)
 *   {"be":N,"op":...}  (a recorded backend's calls, when the header says
 *                       "backend_recorded": backend-model/be_log.h)
 *   {"footer":{"steps":N,"events":E,"hash":"16 hex digits","picks":"D*3 Q0 D T ..."}}
 * Picks are the actor run at each step, run-length encoded (sim/trace.h).
 * A trace without a footer (a run that crashed) still replays: the decisions
 * are then taken from the first event of each step, and only the recorded
 * prefix is compared.
 */
#ifndef VSIM_REPLAY_H
#define VSIM_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "be_log.h"
#include "trace.h"
#include "virtiosim/virtiosim.h"

/* ---- read-only views of a simulation (defined in sim/sim.c) ---- */
struct vsim_driver;
struct vsim_devcore;
struct vsim_tcore; /* the transport core (sim/tcore.h); vsim_mmio is its MMIO name */
struct vsim_sched;
const struct vsim_driver *vsim_sim_view_driver(const vsim_sim *s);
/* NULL unless the backend is a built-in model */
const struct vsim_devcore *vsim_sim_view_devcore(const vsim_sim *s);
const struct vsim_tcore *vsim_sim_view_mmio(const vsim_sim *s);
const struct vsim_sched *vsim_sim_view_sched(const vsim_sim *s);
uint8_t vsim_sim_view_status(const vsim_sim *s);
/* The device backend behind the transport (the fuzz oracle asks a scripted
 * vhost-user back-end for its judgement: backend-model/vu_script.h) */
struct vsim_backend;
const struct vsim_backend *vsim_sim_view_backend(const vsim_sim *s);

/* ---- the trace file ---- */

/* One recorded event, as written. */
typedef struct vsim_rec_event {
  uint64_t step;
  char actor[24];
  char kind[24];
  int32_t q;
  uint64_t a, b, c, d;
  uint32_t line;  /* in the trace file */
} vsim_rec_event;

typedef struct vsim_trace_file {
  char *path;
  /* header */
  char *scenario;       /* name */
  char *scenario_path;  /* the path the run was loaded from */
  char *version;
  char *text;           /* scenario text (NUL-terminated), NULL if the header has none */
  size_t text_len;
  uint64_t seed, max_steps;
  int policy;           /* enum vsim_policy */
  int ring;             /* enum vsim_ring */
  bool checkers;
  char *backend;        /* options.backend of the recorded run, or NULL */
  uint64_t features_off; /* options.features_off of the recorded run */
  int transport;         /* options.transport of the recorded run: -1 the scenario's, 0 mmio, 1 pci */
  /* the backend's calls, recorded ("backend_recorded" in the header, and
   * {"be":...} lines: backend-model/be_log.h): replay plays them back
   * instead of starting the backend, unless use_backend is set (by the
   * caller, before vsim_replay_new) */
  bool backend_recorded;
  bool use_backend;
  vsim_be_log be;
  char **be_lines;
  uint32_t *be_lineno;
  size_t be_cap;
  /* events */
  vsim_rec_event *ev;
  size_t nev;
  /* decisions: picks[i] is the actor id run at step i + 1 (-1: unknown) */
  int32_t *picks;
  size_t npicks;
  bool picks_recorded;  /* from the footer (else derived from the events) */
  /* footer */
  bool has_footer;
  uint32_t footer_line;
  uint64_t footer_steps, footer_events, footer_hash;
} vsim_trace_file;

/* Read and validate a trace. 0, or -1 with "FILE:LINE: what is wrong" in err. */
int vsim_trace_file_load(const char *path, vsim_trace_file *t, char *err, size_t errlen);
void vsim_trace_file_free(vsim_trace_file *t);

/* The actor's name as the trace writes it (0 "driver", 1 + q "dev.qN", else
 * "engine"), and the canonical line of an event. */
void vsim_replay_actor_name(int32_t actor, char *buf, size_t len);
void vsim_replay_format_event(const vsim_event *ev, char *buf, size_t len);

/* ---- the replayer ---- */

typedef struct vsim_replay vsim_replay;

/* Build the run the trace describes. `trace_out` (or NULL) records the replay
 * as a new trace; `keep_events` keeps every replayed event (for the timeline).
 * The trace file must outlive the replayer. NULL on error (message in err). */
vsim_replay *vsim_replay_new(const vsim_trace_file *t, const char *trace_out, bool keep_events,
                             char *err, size_t errlen);
void vsim_replay_free(vsim_replay *r);

/* Run until `until` scheduler steps have run (UINT64_MAX: to the end) or the
 * first divergence. 0 identical so far, 1 diverged, -1 engine error. */
int vsim_replay_run(vsim_replay *r, uint64_t until);
/* Run to the end and compare the totals with the footer. 0 identical,
 * 1 diverged, -1 engine error. */
int vsim_replay_finish(vsim_replay *r);

/* What diverged first ("" when nothing did). */
const char *vsim_replay_divergence(const vsim_replay *r);
uint64_t vsim_replay_event_count(const vsim_replay *r);
vsim_sim *vsim_replay_sim(vsim_replay *r);
/* The events replayed so far (keep_events only; else n = 0). */
const vsim_event *vsim_replay_events(const vsim_replay *r, size_t *n);

#endif
