/* backend-model/devcore.h — what every built-in device has in common.
 *
 * Owns: offered and negotiated features, the device status state machine
 * (including refusing FEATURES_OK and DEVICE_NEEDS_RESET), the config space with
 * its generation count, per-queue state and the device worker that drains a
 * queue (pop, hand the chain to the model, push, publish, interrupt), and
 * handing a VIRTIO_F_NOTIFICATION_DATA value to the ring it names. Two
 * performance mechanisms are options of the worker: interrupt coalescing (an
 * interrupt the driver asked for is held, announced by VSIM_EV_IRQ_HOLD, and
 * sent after K completions or T units of virtual time, whichever first) and
 * polling (kicks disabled, the ring looked at every P units, VSIM_EV_POLL). It
 * implements vsim_backend_ops generically: a device model only supplies a
 * vsim_devmodel_ops table and its config bytes.
 * Device-held receive buffers: on a queue the model names a receive queue
 * (console receiveqs, net rx, input eventq) a request may answer "defer"
 * (VSIM_DEVMODEL_DEFER): the core parks the chain, in pop order, until the
 * model has data and calls vsim_devcore_wake (see below).
 * Must never: process a queue before DRIVER_OK or after DEVICE_NEEDS_RESET,
 * or do more than `budget` requests per worker call.
 */
#ifndef VSIM_DEVCORE_H
#define VSIM_DEVCORE_H

#include <stdbool.h>
#include <stdint.h>
#include "virtiosim/backend.h"
#include "chain.h"
#include "vq_packed.h"
#include "vq_split.h"

typedef struct vsim_devmodel_ops {
  /* Accept this feature set at FEATURES_OK? (offered-subset is checked first) */
  bool (*features_ok)(void *model, uint64_t features);
  /* DRIVER_OK was set: features are final. May be NULL. */
  void (*activate)(void *model, uint64_t features);
  /* Device reset: drop all request state. May be NULL. */
  void (*reset)(void *model);
  /* Driver write to config space (already bounds-checked). NULL = read-only. */
  int (*config_write)(void *model, uint32_t off, const void *src, uint32_t len);
  /* Execute one request. Write the bytes-written count to *used_len. Return 0
   * when the request completed (successfully or with an error status in its
   * buffer), or -1 when the chain is unusable for this device (wrong layout):
   * the core then sets DEVICE_NEEDS_RESET. */
  int (*request)(void *model, uint16_t q, const vsim_chain *chain, uint32_t *used_len);
  void (*destroy)(void *model);
  /* ---- device-held receive buffers and the host side (each may be NULL) ----
   * Is queue q a receive queue: buffers the driver posts for data the host
   * has not produced yet? Asked when the queue goes live and by the engine
   * (liveness: a receive buffer held while the host owes the queue no input
   * is not a stall). Only on such a queue may request() answer
   * VSIM_DEVMODEL_DEFER (anywhere else the core takes it as the model's
   * error: DEVICE_NEEDS_RESET). A receive queue ignores device_latency: its
   * chains are completed or parked when popped. */
  bool (*receive_queue)(void *model, uint16_t q);
  /* Host-side input (the scenario's host.input step): `len` bytes for the
   * model's input `target` (console: a port number; input: unused, 0). The
   * model keeps them (its own bounded FIFO) and calls vsim_devcore_wake for
   * the receive queue they go to. Returns the bytes it accepted (the rest
   * it dropped, for lack of room: the engine counts them as never coming),
   * or -1 when `target` does not name an input (a message in err). *q_out
   * is the receive queue the bytes go to. */
  int64_t (*host_input)(void *model, uint32_t target, const uint8_t *data, uint32_t len, uint16_t *q_out,
                        char *err, unsigned errlen);
  /* Host-side output (the scenario's expect.output step): take up to `cap`
   * of the bytes the model captured for output `target` (console: what the
   * driver transmitted on a port), oldest first; what is taken is gone.
   * Returns the bytes taken, or -1 when `target` names no output. May be
   * NULL. */
  int64_t (*host_output)(void *model, uint32_t target, uint8_t *dst, uint32_t cap, char *err, unsigned errlen);
  /* A host-side event (the scenario's host.event step) of kind `kind` with
   * `value` for the model's `target` (console: see console.h). Returns 0,
   * or -1 with a message when the model has no such event or target. May be
   * NULL. */
  int (*host_event)(void *model, uint32_t target, uint32_t kind, uint32_t value, char *err, unsigned errlen);
} vsim_devmodel_ops;

/* request() on a receive queue: "no data yet, keep the buffer". The core
 * parks the chain (no used element, no interrupt) and offers it again, in
 * pop order, after vsim_devcore_wake. A chain popped while others are
 * parked on that queue is parked behind them without being offered, so the
 * model always fills the oldest buffer first. */
#define VSIM_DEVMODEL_DEFER 1

/* Receive buffers a device holds for lack of input, in pop order. Bounded
 * by the queue size (chains) and twice the queue size (segments); no
 * per-request allocation: the segments of the oldest chain are at pool[0],
 * and using it moves the rest down (O(queue size), once per completion). */
typedef struct vsim_parked {
  vsim_chain *chain;   /* [size]: ring of parked chains; chain[i].seg is unused (see seg_off) */
  uint32_t *seg_off;   /* [size]: where chain i's segments start in pool */
  uint32_t head, count;
  vsim_seg *pool;      /* [2 * size] */
  uint32_t pool_top, pool_cap;
  bool woken;          /* the model has data: offer the parked chains again */
} vsim_parked;

/* Requests a device with latency has popped and will complete later, in pop
 * order. Their segments live in `pool`, allocated upwards and reset whenever
 * the FIFO empties: bounded memory (4 x queue size segments), no per-request
 * allocation. */
typedef struct vsim_held {
  vsim_chain *chain;   /* [size] */
  uint64_t *due;       /* [size] */
  uint32_t head, count;
  vsim_seg *pool;      /* [4 * size] */
  uint32_t pool_top, pool_cap;
} vsim_held;

typedef struct vsim_devq {
  bool ready;
  vsim_queue_cfg cfg;
  uint16_t reset_size; /* mutant DEV_QUEUE_REENABLE_STALE: the size before the queue's reset (0: none) */
  bool packed;      /* VIRTIO_F_RING_PACKED negotiated: pvq is the ring, else vq */
  vsim_vq_dev vq;
  vsim_vqp_dev pvq;
  bool vq_live;     /* ring initialised (ready and features final) */
  bool kicked;      /* a notification arrived and has not been served */
  bool draining;    /* notifications suppressed while the worker drains */
  vsim_held held;   /* used only when latency > 0 */
  bool receive;     /* the model's receive queue: request() may defer */
  vsim_parked parked; /* used only when receive */
  /* interrupt coalescing (see vsim_devcore.coalesce_count) */
  bool irq_owed;            /* the driver asked for an interrupt the device holds */
  uint32_t irq_completions; /* completions since the last interrupt */
  uint64_t irq_due;         /* when the held interrupt goes at the latest */
  uint64_t next_poll;       /* polling: when the device looks at the ring next */
  uint32_t together;        /* chains still to use before the next publish (vsim_devcore_use_together) */
} vsim_devq;

/* A queue's own interrupt coalescing, set by the model
 * (vsim_devcore_set_coalesce); unset, the device-wide parameters apply. */
typedef struct vsim_devcoal {
  bool set;
  uint32_t count; /* 0: every completion the driver asks to hear of notifies */
  uint64_t time;
} vsim_devcoal;

typedef struct vsim_devcore {
  const vsim_host *host;
  const vsim_devmodel_ops *mops;
  void *model;
  uint32_t device_id, vendor_id;
  uint64_t offered;
  uint64_t driver_features;
  uint64_t refuse;       /* feature bits whose acceptance makes FEATURES_OK fail */
  uint64_t latency;      /* virtual time from pop to completion; 0 = at once */
  bool in_order_batch;   /* batch used entries when IN_ORDER is negotiated */
  /* Interrupt coalescing (count 0: off): an interrupt the driver's
   * suppression asks for is held until coalesce_count completions since the
   * last interrupt, or coalesce_time after it was first held. */
  uint32_t coalesce_count;
  uint64_t coalesce_time;
  /* Polling (0: off): kicks stay disabled from DRIVER_OK on, and the worker
   * looks at each ring every poll_period units of virtual time. */
  uint64_t poll_period;
  /* Zero-copy accounting, kept by the model: bytes that went through the
   * device's own buffers, and bytes of requests moved between guest memory
   * and the device (headers, data, status). */
  uint64_t bytes_copied, bytes_moved;
  uint8_t status;
  uint32_t generation;
  uint8_t *config;       /* the model fills it; config_len bytes */
  uint8_t *config_before; /* config_len bytes: the space before a reset (did the reset change it?) */
  uint32_t config_len;
  uint16_t nq, qmax;
  vsim_devq *q;
  vsim_mutset mutants;
  vsim_ring_part *parts; /* [3 * nq]: the ring parts of the configured queues */
  vsim_ring_guard guard; /* over parts: handed to every live ring */
  vsim_devcoal *coal;    /* [nq]: per-queue coalescing; kept across queue resets, not device resets */
} vsim_devcore;

/* The generic backend implementation; `be` is a vsim_devcore*. */
extern const vsim_backend_ops vsim_devcore_ops;

/* Initialise: `offered` is the model's default feature set, replaced by
 * params->offered_features when the scenario overrides it. Allocates config
 * (zeroed) and queues. Returns 0 or -1 with a message in err. */
int vsim_devcore_init(vsim_devcore *dc, const vsim_backend_params *params,
                      uint32_t device_id, uint64_t offered, uint32_t config_len,
                      const vsim_devmodel_ops *mops, void *model, char *err,
                      unsigned errlen);
void vsim_devcore_fini(vsim_devcore *dc);

/* Bump the config generation and notify the driver of a config change. */
void vsim_devcore_config_changed(vsim_devcore *dc);
/* Enter DEVICE_NEEDS_RESET (queue q caused it, or -1) and notify as the spec says. */
void vsim_devcore_needs_reset(vsim_devcore *dc, int q);
bool vsim_devcore_has(const vsim_devcore *dc, unsigned feature_bit); /* negotiated */

/* ---- device-held receive buffers ----
 * The model has data for receive queue q: its worker offers the parked
 * chains again (oldest first) until one defers, then takes new ones. Cheap;
 * call it whenever data arrives (a no-op for a queue that is not live). */
void vsim_devcore_wake(vsim_devcore *dc, uint16_t q);
/* Is q one of the model's receive queues (devmodel receive_queue)? */
bool vsim_devcore_receive_queue(const vsim_devcore *dc, uint16_t q);
/* Chains parked on queue q. */
uint32_t vsim_devcore_parked(const vsim_devcore *dc, uint16_t q);
/* Host-side input (host.input): hand `len` bytes to the model's input
 * `target`. Returns 0 with the receive queue they go to and the bytes the
 * model accepted (fewer than len: it dropped the rest), or -1 with a
 * message (no input path in this model, or no such target). */
int vsim_devcore_host_input(vsim_devcore *dc, uint32_t target, const uint8_t *data, uint32_t len,
                            uint16_t *q_out, uint32_t *accepted, char *err, unsigned errlen);
/* A host-side event (host.event): 0, or -1 with a message. */
int vsim_devcore_host_event(vsim_devcore *dc, uint32_t target, uint32_t kind, uint32_t value, char *err,
                            unsigned errlen);
/* Host-side output (expect.output): take up to cap captured bytes of output
 * `target`. Returns the count, or -1 with a message. */
int64_t vsim_devcore_host_output(vsim_devcore *dc, uint32_t target, uint8_t *dst, uint32_t cap, char *err,
                                 unsigned errlen);

/* ---- a unit of buffers used together ----
 * Called from request() on a receive queue as it completes a parked chain:
 * this chain and the next `more` parked chains form one unit (virtio-net
 * with MRG_RXBUF: the buffers of one packet, which the driver must see used
 * together). The core offers them all before it publishes the used index,
 * past its per-turn budget if need be (at most the parked chains: bounded);
 * only a deferral (no data) or a broken chain ends the unit early. */
void vsim_devcore_use_together(vsim_devcore *dc, uint16_t q, uint32_t more);

/* ---- per-queue interrupt coalescing (virtio-net NOTF_COAL) ----
 * From now on queue q's used-buffer notifications are coalesced with
 * `count` completions / `time` units of virtual time (count 0: none held),
 * overriding the device-wide parameters; kept across queue resets, dropped
 * by a device reset (back to the device-wide ones until the model sets
 * them again, e.g. at its activate). An interrupt held
 * when the parameters change goes at the queue's next worker turn (the
 * device re-checks its conditions; sending early is allowed). */
void vsim_devcore_set_coalesce(vsim_devcore *dc, uint16_t q, uint32_t count, uint64_t time);

#endif
