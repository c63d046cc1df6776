/* virtiosim/virtiosim.h — the public API of the simulator: load a scenario, run
 * or step it, read what happened.
 *
 * Owns: the vsim_sim handle and its lifecycle. Everything hangs off the handle:
 * no global state, so many simulations can live in one process (Python,
 * fuzzers, tests). Errors are values: functions return 0 / NULL on failure and
 * put a message in the caller's buffer.
 */
#ifndef VIRTIOSIM_H
#define VIRTIOSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "virtiosim/arena.h"
#include "virtiosim/checks.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VSIM_VERSION "0.1.0"

typedef struct vsim_sim vsim_sim;

/* Overrides from the command line; a field is used when its has_ flag is set. */
typedef struct vsim_options {
  bool has_seed;
  uint64_t seed;
  bool has_policy;
  int policy;              /* 0 scripted, 1 round-robin, 2 random */
  bool has_ring;
  int ring;                /* 0 split, 1 packed */
  const char *trace_path;  /* JSON Lines trace, or NULL */
  bool has_max_steps;
  uint64_t max_steps;
  bool checkers_off;       /* run without observers (benchmarks) */
  /* The device backend instead of the scenario's built-in model (the
   * scenario's "device" still picks the driver): "builtin:blk?mutant=NAME",
   * "plugin:PATH.so", ... (backend-model/registry.h); NULL for the default. */
  const char *backend;
  /* Feature bits the driver must not accept (a conformance matrix variant). */
  uint64_t features_off;
  /* Leave violations to the caller: the scenario's "expect.violations" (or
   * its absence) is not turned into failures; every other expectation is. */
  bool violations_judged_by_caller;
  /* Replay (sim/replay.c): the actor id the scheduler must run at step i + 1
   * is forced_picks[i] (0 driver, 1 + q device worker of queue q, -2 the
   * interrupt timer, -1 the policy decides), for the first nforced_picks
   * steps. The array must outlive the simulation. */
  const int32_t *forced_picks;
  size_t nforced_picks;
  /* Told of every trace event as it is emitted (step, actor, kind: enum
   * vsim_event_kind, queue or -1, four fields), whether or not a trace file
   * is written; NULL for none. */
  void (*on_event)(void *ctx, uint64_t step, int32_t actor, int32_t kind, int32_t q, uint64_t a,
                   uint64_t b, uint64_t c, uint64_t d);
  void *on_event_ctx;
  /* Record what the backend does (every call into it, its answers, the
   * guest memory it writes, its callbacks) as lines of the trace, so that
   * the run replays without it (backend-model/be_log.h). Always on for an
   * out-of-process backend when a trace is written; this asks for it with
   * any backend. */
  bool record_backend;
  /* Replay: the recorded lines stand in for the backend (backend-model/
   * be_standin.h); a call the engine makes that the recording does not
   * hold is told to standin_diverged. NULL: the backend itself runs. */
  const struct vsim_be_log *standin;
  void (*standin_diverged)(void *ctx, const char *msg);
  void *standin_ctx;
  /* The transport instead of the scenario's "transport": 0 virtio-mmio,
   * 1 virtio-pci (a conformance matrix dimension, `run --transport`). */
  bool has_transport;
  int transport;
} vsim_options;

/* Load a scenario file and build the simulation. NULL on error with a message
 * "FILE:LINE:COL: field 'x': ..." in err. */
vsim_sim *vsim_sim_load(const char *path, const vsim_options *opt, char *err, size_t errlen);
vsim_sim *vsim_sim_load_buffer(const char *json, size_t len, const char *name,
                               const vsim_options *opt, char *err, size_t errlen);
void vsim_sim_free(vsim_sim *s);

/* One scheduler step. Returns 1 when a step ran, 0 when the run is over
 * (script done and quiescent, stalled, or out of steps), -1 on an engine error. */
int vsim_sim_step(vsim_sim *s);
/* Run to the end. Returns 0 when every expectation held, 1 when one did not. */
int vsim_sim_run(vsim_sim *s);

uint64_t vsim_sim_trace_hash(const vsim_sim *s);
uint64_t vsim_sim_steps(const vsim_sim *s);
uint64_t vsim_sim_seed(const vsim_sim *s);
const char *vsim_sim_policy_name(const vsim_sim *s);
vsim_arena *vsim_sim_arena(vsim_sim *s);

size_t vsim_sim_violation_count(const vsim_sim *s);
const vsim_violation *vsim_sim_violation(const vsim_sim *s, size_t i);
/* Expectation failures (not spec violations: the scenario's own expectations). */
size_t vsim_sim_failure_count(const vsim_sim *s);
const char *vsim_sim_failure(const vsim_sim *s, size_t i);

typedef struct vsim_counters {
  uint64_t kicks;          /* available-buffer notifications written by the driver */
  uint64_t interrupts;     /* used-buffer notifications raised by the device */
  uint64_t config_irqs;    /* configuration-change notifications */
  uint64_t submitted;      /* requests the driver made available */
  uint64_t completed;      /* requests the driver reaped */
  uint64_t device_status;  /* status as the driver last read it */
  uint64_t events;         /* trace events emitted */
  bool stalled;
  uint64_t latency_total;  /* virtual time from submission to completion, summed over completed requests */
  uint64_t latency_max;    /* ... and the longest */
  uint64_t clock;          /* virtual time at the end (or now) */
  uint64_t bytes_copied;   /* built-in devices: request bytes that went through the device's own buffers */
  uint64_t bytes_moved;    /* built-in devices: request bytes moved between guest memory and the device */
} vsim_counters;
void vsim_sim_counters(const vsim_sim *s, vsim_counters *out);

/* The scenario step the script will run next (== number of steps when the
 * script is done). */
size_t vsim_sim_script_position(const vsim_sim *s);
/* The number of steps in the scenario's script. */
size_t vsim_sim_script_length(const vsim_sim *s);
/* Features the device offered, and those the driver accepted (0 before the
 * driver read or wrote them). */
uint64_t vsim_sim_device_features(const vsim_sim *s);
uint64_t vsim_sim_driver_features(const vsim_sim *s);

/* The one-line command that reproduces this run. */
const char *vsim_sim_repro(const vsim_sim *s);
const char *vsim_sim_name(const vsim_sim *s);

/* The built-in net model's wire (frames transmitted and received, in the
 * order they crossed it, stamped with virtual time in microseconds) as a
 * pcap file at `path`. 0, or -1 with a message in err (not a built-in net
 * device, or the file cannot be written). A NULL path only says whether
 * this run has such a wire (before running it, say). */
int vsim_sim_write_pcap(const vsim_sim *s, const char *path, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
