/* sim/fuzz_decode.h — fuzz inputs as scenarios, and the fuzzers' oracles.
 *
 * Owns: the table of fuzz targets, the compact structured input format
 * (fuzz/README.md) and its decoders — every input of a ring target decodes to
 * a JSON scenario, so a finding is a file anyone can replay with
 * `virtio-sim run` — and the oracles the libFuzzer targets (fuzz/fuzz_*.c) and
 * `virtio-sim fuzz-repro` apply to a decoded input.
 * Must never: fail to decode (the decoders are total: any byte string, of any
 * length, gives a scenario the loader accepts; missing bytes read as zero),
 * abort (an oracle failure is a return value with a message: the fuzz target
 * is the one that aborts), or read the environment or the clock.
 */
#ifndef VSIM_FUZZ_DECODE_H
#define VSIM_FUZZ_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"

/* The version of the byte format; bumped when a decoding changes, so that a
 * corpus made for an older version is recognisably stale. */
#define VSIM_FUZZ_FORMAT_VERSION 1

enum vsim_fuzz_kind {
  VSIM_FUZZ_RING_DEVICE = 1, /* header + driver ops -> scenario -> run the device models */
  VSIM_FUZZ_SCENARIO,        /* the bytes are scenario text for the loader */
  VSIM_FUZZ_BLK_REQUEST,     /* one descriptor chain for the blk model's request parser */
  VSIM_FUZZ_RING_DRIVER,     /* header + scripted-device ops -> scenario -> run the driver model */
  VSIM_FUZZ_VHOST_USER,      /* driver header + back-end script -> scenario + script -> the vhost-user front-end */
  VSIM_FUZZ_REQ_DEVICE,      /* header + request ops -> scenario -> run a built-in net, gpu, console or input model */
};

typedef struct vsim_fuzz_op_def vsim_fuzz_op_def; /* one opcode (fuzz_decode.c) */
typedef struct vsim_fuzz_setup vsim_fuzz_setup;   /* a decoded ring header (fuzz_decode.c) */

/* The most header bytes a ring or device request target reads. */
#define VSIM_FUZZ_MAX_HEADER 8

typedef struct vsim_fuzz_target {
  const char *name;         /* the libFuzzer binary and corpus name */
  enum vsim_fuzz_kind kind;
  const char *what;         /* one line for listings */
  /* VSIM_FUZZ_RING_DEVICE and VSIM_FUZZ_RING_DRIVER: the ring, its header,
   * its layout and its opcode table; each ring is one entry with its own name
   * and tables. VSIM_FUZZ_REQ_DEVICE: one entry per device model, its header
   * choosing the ring (`ring` and `layout` are then the split defaults). */
  const char *ring;         /* "split", "packed" */
  unsigned header_len;      /* header bytes (<= VSIM_FUZZ_MAX_HEADER), zeros past the input's end */
  /* header bytes -> queue size (always a valid one for the ring), accepted
   * features and run settings */
  void (*header)(const uint8_t *hdr, vsim_fuzz_setup *out);
  /* where the driver model puts queue 0's three ring parts (descriptor
   * area, driver area, device area), for the address selectors; NULL: the
   * split or packed layout, as the header chose the ring */
  void (*layout)(uint16_t queue_size, uint64_t part[3]);
  const vsim_fuzz_op_def *ops;
  unsigned nops;
} vsim_fuzz_target;

/* The targets, NULL past the end; lookup by name (NULL when unknown). */
const vsim_fuzz_target *vsim_fuzz_target_at(size_t i);
const vsim_fuzz_target *vsim_fuzz_target_find(const char *name);

/* What a decoded ring input looks like, for the oracles. */
typedef struct vsim_fuzz_info {
  uint16_t queue_size;
  uint16_t num_queues;
  uint32_t ops;          /* opcodes decoded */
  uint32_t steps;        /* scenario steps emitted */
  uint64_t max_steps;    /* the scenario's max_steps: the O(steps x queue size) work bound */
  uint64_t input_hash;   /* FNV-1a 64 of the input bytes (named in the description) */
} vsim_fuzz_info;

/* Decode `data` for target `t` into scenario text (malloc'd, NUL-terminated,
 * *len bytes without the NUL). Ring and device request targets give the
 * scenario the input decodes to; the blk target gives the split-ring
 * scenario that hands the same chain to the device; the scenario target
 * gives the input itself. `mutants` (a set; VSIM_MUT_NONE for none) are
 * planted into a ring or device request target's scenario as its "mutants"
 * list, so that the text still replays exactly
 * what the fuzzer ran; the other targets take none (their callers refuse
 * them: vsim_fuzz_target_plants). NULL only when out of memory. */
char *vsim_fuzz_decode(const vsim_fuzz_target *t, const uint8_t *data, size_t size,
                       vsim_mutset mutants, size_t *len, vsim_fuzz_info *info);

/* The second text of a target whose scenario needs a back-end of its own
 * (fuzz_vhost_user: the vhost-user back-end script the scenario runs with,
 * `--backend vhost-user-script:FILE`; backend-model/vu_script.h), malloc'd,
 * *len bytes; NULL for the other targets (and when out of memory). */
char *vsim_fuzz_decode_script(const vsim_fuzz_target *t, const uint8_t *data, size_t size, size_t *len);

/* fuzz_vhost_user: the input with the replies it lacks added, as a
 * well-behaved back-end of `profile` would send them (sim/fuzz_vu.h; for
 * seed corpora). NULL with a message in err otherwise. */
uint8_t *vsim_fuzz_complete(const vsim_fuzz_target *t, const uint8_t *data, size_t size, unsigned profile,
                            size_t *outlen, char *err, size_t errlen);

/* Whether target t's inputs become scenarios that can carry mutants (the
 * ring and the device request targets). */
bool vsim_fuzz_target_plants(const vsim_fuzz_target *t);

/* Oracle settings: checks whose violation counts as a finding on top of the
 * built-in ones (see fuzz/README.md), indexed by enum vsim_check_id. The
 * driver targets judge the driver model: a check that judges the device is
 * never a finding there (the device is the attacker); the device request
 * targets make every check that judges the device a finding (the driver
 * model builds the rings, only the request bytes are hostile). `mutants`
 * plants known bugs into the models (the planted-bug test, fuzz/README.md):
 * OR'ed into every decoded scenario of a ring or device request target. */
typedef struct vsim_fuzz_oracle {
  bool fatal[VSIM_CHK__COUNT];
  vsim_mutset mutants;
} vsim_fuzz_oracle;

enum vsim_fuzz_verdict {
  VSIM_FUZZ_OK = 0,      /* every oracle held */
  VSIM_FUZZ_FINDING = 1, /* an oracle failed: msg says which and how */
  VSIM_FUZZ_ERROR = -1,  /* the harness itself failed (out of memory) */
};

/* Decode and run one input of target `t` under its oracles (fuzz/README.md):
 * no crash, bounded work (per run, and per chain: liveness.dev-unbounded-work),
 * termination, no device access outside what the driver gave it, a loader
 * that answers with a sim or a positioned error, a blk request parser that
 * answers with a valid status and writes only where it may, a net, gpu,
 * console or input model that gives no device-judged check a reason to fire
 * whatever a driver's requests carry; against a
 * malicious device, a driver model whose bookkeeping stays
 * sound after every scheduler step, that never reaps a queue it stopped,
 * never returns a length above what it offered, does bounded work per step
 * and never touches guest memory outside the arena. `oracle` may be NULL. On
 * a finding, msg holds one paragraph. */
int vsim_fuzz_run(const vsim_fuzz_target *t, const uint8_t *data, size_t size,
                  const vsim_fuzz_oracle *oracle, char *msg, size_t msglen);

#endif
