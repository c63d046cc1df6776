/* backend-model/be_log.h — what a back-end did, as lines of a trace: the
 * recorder (be_record.c) writes them during a run, the stand-in
 * (be_standin.c) plays them back when the run is replayed without the
 * back-end (an out-of-process daemon that is not there any more).
 *
 * Owns: the record format and the op names. One JSON object per call the
 * engine makes into the back-end, in call order:
 *   {"be":N,"op":"queue_run","a":[0,16],"r":3,"fx":[...]}
 * N counts the calls from 1; call 0 is the creation:
 *   {"be":0,"op":"create","name":"vhost-user","has":"rn","fx":[...]}
 * ("has": r when the back-end resets single queues, n when it reports when
 * held requests come due). "a" are the call's arguments, "r" its answer; a
 * configuration read adds "d", the bytes read, and a configuration write
 * "d", the bytes written (hex). "fx" are the back-end's effects during the
 * call, in order:
 *   ["w",GPA,"HEX"]           guest memory it wrote (the bytes as they became
 *                             visible: found by comparing guest memory with its
 *                             mirror before every callback and at the end of
 *                             the call)
 *   ["ev",KIND,Q,A,B,C,D]     vsim_host.event
 *   ["irq",Q] / ["cfg"]       vsim_host.interrupt / config_changed
 *   ["viol",CHECK,Q,"TEXT"]   vsim_host.violation
 *   ["fault",SIDE,ACC,GPA,LEN] a device-side access the arena refused
 * Integers above 2^63 - 1 are written as "0x..." strings (JSON readers take
 * integers as signed 64-bit).
 * Must never: depend on anything but the engine's calls and the back-end's
 * answers: the same run gives the same lines.
 */
#ifndef VSIM_BE_LOG_H
#define VSIM_BE_LOG_H

#include <stddef.h>
#include <stdint.h>

enum vsim_be_op {
  VSIM_BE_CREATE = 0,
  VSIM_BE_DEVICE_ID,
  VSIM_BE_VENDOR_ID,
  VSIM_BE_NUM_QUEUES,
  VSIM_BE_QUEUE_MAX,
  VSIM_BE_DEVICE_FEATURES,
  VSIM_BE_SET_DRIVER_FEATURES,
  VSIM_BE_GET_STATUS,
  VSIM_BE_SET_STATUS,
  VSIM_BE_CONFIG_GENERATION,
  VSIM_BE_CONFIG_SIZE,
  VSIM_BE_CONFIG_READ,
  VSIM_BE_CONFIG_WRITE,
  VSIM_BE_QUEUE_READY,
  VSIM_BE_QUEUE_RESET,
  VSIM_BE_QUEUE_NOTIFY,
  VSIM_BE_QUEUE_RUNNABLE,
  VSIM_BE_QUEUE_RUN,
  VSIM_BE_QUEUE_NEXT_DUE,
  /* not an op of the table: a built-in model's receive queues (the mask the
   * engine asks for after each initialisation, devcore receive_queue) */
  VSIM_BE_RECEIVE_QUEUES,
  VSIM_BE__COUNT
};

/* "queue_run" for VSIM_BE_QUEUE_RUN; NULL out of range. */
const char *vsim_be_op_name(int op);
/* The op of a name, or -1. */
int vsim_be_op_parse(const char *name);

/* Told of every range of guest memory the back-end wrote, before the
 * callback that follows the write: the engine judges it and lets the
 * arena's watches know (sim/sim.c). */
typedef void (*vsim_be_wrote_fn)(void *ctx, uint64_t gpa, uint64_t len);

/* The recorded lines of one run, as the replay loader keeps them. */
typedef struct vsim_be_log {
  const char *path;              /* the trace file, for messages */
  char **lines;                  /* each a {"be":...} object */
  const uint32_t *lineno;        /* their line numbers in the file */
  size_t n;
} vsim_be_log;

/* A growing line (be_log.c): appends never fail; a line that could not
 * grow is marked and dropped by whoever writes it. */
typedef struct vsim_be_line {
  char *s;
  size_t n, cap;
  int oom;
} vsim_be_line;
void vsim_be_line_reset(vsim_be_line *l);
void vsim_be_line_free(vsim_be_line *l);
__attribute__((format(printf, 2, 3))) void vsim_be_line_addf(vsim_be_line *l, const char *fmt, ...);
/* ,V or V: an integer, "0x..." above 2^63 - 1 */
void vsim_be_line_u64(vsim_be_line *l, uint64_t v);
/* "HEX" of n bytes */
void vsim_be_line_hex(vsim_be_line *l, const uint8_t *p, size_t n);
/* a JSON string (escaped) */
void vsim_be_line_str(vsim_be_line *l, const char *text);
/* Decode "HEX" of exactly n bytes into out; -1 when it is not that. */
int vsim_be_hex_decode(const char *hex, uint8_t *out, size_t n);

#endif
