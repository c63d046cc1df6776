/* sim/fuzz_dec.h — what the scenario-emitting fuzz decoders share: the
 * decoder state, a decoded header, an opcode, the step writer, and the ops
 * and selectors every target's table may use (sim/fuzz_decode.c: the ring
 * targets, the oracles and the target table; sim/fuzz_dev.c: the device
 * request targets); internal to them.
 *
 * Owns: the layout of `dec` (the reader, the steps written so far, the
 * decoder's guesses about the ring), `vsim_fuzz_setup` (what a header says:
 * the scenario's settings, its device and that device's configuration), and
 * the JSON of one step (step_open ... step_close).
 * Must never: read anything but the input (every value comes from the byte
 * reader, so a decoding is a pure function of the input), or emit a field the
 * loader would refuse (the callers clamp values into range first).
 */
#ifndef VSIM_FUZZ_DEC_H
#define VSIM_FUZZ_DEC_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include "fuzz_decode.h"
#include "fuzz_text.h"

typedef struct dec {
  rd r;
  sb steps;
  uint32_t nsteps;
  uint32_t nops;
  uint16_t qsize;
  uint16_t avail_est; /* split: a guess at avail.idx, to bias raw index values near it */
  uint64_t desc, avail, used; /* the layout's three parts (packed: ring, driver and device event areas) */
  /* driver targets: */
  bool packed;
  uint16_t nq;        /* queues the scenario sets up */
  uint16_t curq;      /* the queue the next ops act on (0 for the device targets) */
  uint16_t used_est;  /* split: a guess at the scripted device's used.idx */
  /* guest memory: the arena's size and its scratch area (the last 64 KiB,
   * which the driver model never touches) */
  uint64_t arena, scratch;
  /* device request targets (fuzz_dev.c): */
  const vsim_fuzz_setup *su; /* the decoded header */
  uint64_t work;             /* device chains host.input may cost beyond the steps (work bound) */
  uint64_t cfg_base;         /* where the device configuration space is in the register window */
} dec;

/* What a target's header says (fuzz_decode.h: the target's header()). The
 * ring targets fill the first block; the device request targets also name
 * their device and its configuration. */
#define SETUP_MAX_FEATURES 32
struct vsim_fuzz_setup {
  uint16_t queue_size;
  uint16_t seed;
  const char *policy;
  unsigned batch;
  uint64_t latency;
  bool poll;
  bool in_order_batch;  /* device_in_order_batch */
  unsigned regions;     /* bit i: the i-th special page of the scratch area (none, device-ro, driver-only) */
  const char *features[SETUP_MAX_FEATURES]; /* accepted on top of VERSION_1 */
  unsigned nfeatures;
  uint16_t num_queues;  /* 0 or 1: one */
  /* device request targets: */
  const char *device;    /* NULL: "blk" (the ring targets' capacity DISK_SECTORS disk) */
  const char *ring;      /* NULL: the target's */
  const char *transport; /* NULL: the default (mmio) */
  uint64_t arena_size;   /* 0: the ring targets' 256 KiB */
  char config[384];      /* the device_config object's members as JSON text ("" none; at most ~200) */
  /* what the ops need to know of the device (fuzz_dev.c) */
  uint16_t pairs;        /* net: the receive/transmit pairs in the queue layout */
  uint16_t ctrlq;        /* net: the control queue's index */
  uint16_t ports;        /* console: the ports the queues give */
  uint32_t dev_flags;    /* device-specific bits the ops look at */
};

struct vsim_fuzz_op_def {
  const char *name;
  void (*emit)(dec *d);
};

/* ---- the step writer ---- */

static inline void step_open(dec *d, const char *op) {
  sb_printf(&d->steps, "%s\n    {\"op\": \"%s\"", d->nsteps ? "," : "", op);
  d->nsteps++;
}
static inline void step_close(dec *d) { sb_printf(&d->steps, "}"); }
static inline void step_simple(dec *d, const char *op) {
  step_open(d, op);
  step_close(d);
}
static inline void field_u64(dec *d, const char *k, uint64_t v) {
  sb_printf(&d->steps, ", \"%s\": \"0x%" PRIx64 "\"", k, v);
}
static inline void field_int(dec *d, const char *k, uint64_t v) {
  sb_printf(&d->steps, ", \"%s\": %" PRIu64, k, v);
}
/* The queue a driver target's op acts on; nothing for queue 0 (always so in
 * the device targets, whose output must not change). */
static inline void field_queue(dec *d) {
  if (d->curq) field_int(d, "queue", d->curq);
}

/* ---- ops and selectors of sim/fuzz_decode.c that other tables use ---- */

/* ADDR: one byte, low 3 bits the kind, high 5 bits a small value (fuzz/README.md) */
uint64_t vsim_fz_addr(dec *d);
/* the shared ops (their operands: fuzz/README.md, fuzz_split_device ops 6, 7, 11, 13; fuzz_packed_device op 9) */
void vsim_fz_op_kick(dec *d);
void vsim_fz_op_wait(dec *d);
void vsim_fz_op_lifecycle(dec *d);
void vsim_fz_op_poll(dec *d);
void vsim_fz_op_queue(dec *d);
/* the header tables the ring targets use (fuzz/README.md) */
extern const uint64_t vsim_fz_latency_table[8];
extern const char *const vsim_fz_policy_names[4];

/* ---- the device request targets (sim/fuzz_dev.c) ---- */

#define VSIM_FZ_DEV_HEADER 3u /* the common header bytes before a device's own */
void vsim_fz_net_header(const uint8_t *h, vsim_fuzz_setup *o);
void vsim_fz_gpu_header(const uint8_t *h, vsim_fuzz_setup *o);
void vsim_fz_console_header(const uint8_t *h, vsim_fuzz_setup *o);
void vsim_fz_input_header(const uint8_t *h, vsim_fuzz_setup *o);
/* the opcode tables (the order is the format: fuzz/README.md, fuzz/make_corpus.py) */
#define VSIM_FZ_NET_NOPS 10u
#define VSIM_FZ_GPU_NOPS 9u
#define VSIM_FZ_CONSOLE_NOPS 11u
#define VSIM_FZ_INPUT_NOPS 10u
extern const vsim_fuzz_op_def vsim_fz_net_ops[VSIM_FZ_NET_NOPS];
extern const vsim_fuzz_op_def vsim_fz_gpu_ops[VSIM_FZ_GPU_NOPS];
extern const vsim_fuzz_op_def vsim_fz_console_ops[VSIM_FZ_CONSOLE_NOPS];
extern const vsim_fuzz_op_def vsim_fz_input_ops[VSIM_FZ_INPUT_NOPS];

#endif
