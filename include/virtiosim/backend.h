/* virtiosim/backend.h — the one interface every device backend implements.
 *
 * Owns: the device-side ops table (what the transport asks of a device) and the
 * host interface (what the engine offers a device: guest memory, interrupts,
 * violation reports, trace events). Built-in models, dlopen()ed plugins and the
 * vhost-user adapter all sit behind this table; transports and suites never
 * know which one they drive.
 * Must never: expose engine internals; a plugin includes only this header and
 * arena.h.
 */
#ifndef VIRTIOSIM_BACKEND_H
#define VIRTIOSIM_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include "virtiosim/arena.h"
#include "virtiosim/mutants.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 2: vsim_backend_params.mutants became a vsim_mutset (more than 64 mutants) */
#define VSIM_BACKEND_ABI_VERSION 2

/* Trace event kinds a backend may emit (the engine adds its own). */
enum vsim_event_kind {
  VSIM_EV_STEP_BEGIN = 1,  /* a = scenario step index */
  VSIM_EV_MMIO_READ,       /* a = offset, b = width, c = value */
  VSIM_EV_MMIO_WRITE,      /* a = offset, b = width, c = value */
  VSIM_EV_STATUS,          /* a = old, b = new (as the device holds it) */
  VSIM_EV_FEATURES,        /* a = device features, b = driver features */
  VSIM_EV_QUEUE_READY,     /* q, a = size, b = desc, c = driver(avail), d = device(used) */
  VSIM_EV_QUEUE_RESET,     /* q */
  VSIM_EV_AVAIL_PUBLISH,   /* q, a = old avail idx, b = new avail idx */
  VSIM_EV_KICK,            /* q, a = notify value */
  VSIM_EV_POP,             /* q, a = head (buffer id), b = segments (low 32 bits; packed rings put
                              the list's ring position, offset | wrap << 15, in bits 32-47),
                              c = readable bytes, d = writable bytes */
  VSIM_EV_USED,            /* q, a = id, b = len */
  VSIM_EV_USED_PUBLISH,    /* q, a = old used idx, b = new used idx */
  VSIM_EV_IRQ,             /* q (-1 = config change), a = interrupt status after */
  VSIM_EV_IRQ_ACK,         /* a = bits acknowledged */
  VSIM_EV_REAP,            /* q, a = id, b = len (driver side) */
  VSIM_EV_REQ_DONE,        /* q, a = request tag, b = status */
  VSIM_EV_NEEDS_RESET,     /* q = queue that caused it or -1 */
  VSIM_EV_VIOLATION,       /* a = check id */
  VSIM_EV_FAULT,           /* a = fault kind */
  VSIM_EV_STALL,           /* a = pending requests */
  VSIM_EV_NOTIFY_ENABLE,   /* q, a = 1 enable / 0 disable, b = event index written */
  VSIM_EV_HOLD,            /* q, a = head, b = due time (a request the device will complete later) */
  VSIM_EV_IRQ_HOLD,        /* q, a = completions that release it, b = due time, c = completions so far
                            * (interrupt coalescing: a used-buffer notification the device owes and
                            * holds until c reaches a or the clock reaches b) */
  VSIM_EV_POLL,            /* q, a = time of the next poll (a polling device looked at its ring) */
  VSIM_EV_PCI_READ,        /* virtio-pci: a = offset in the space, b = width, c = value, d = space
                            * (0 PCI configuration space, 1-4 the structure of that cfg_type in the
                            * BAR: common, notify, ISR, device; 0xff a BAR offset outside them) */
  VSIM_EV_PCI_WRITE,       /* virtio-pci: as VSIM_EV_PCI_READ */
  VSIM_EV__COUNT
};

/* What the engine offers a backend. All callbacks take `ctx`. */
typedef struct vsim_host {
  void *ctx;
  vsim_arena *arena;
  /* used-buffer notification for queue q */
  void (*interrupt)(void *ctx, uint16_t q);
  /* device configuration change notification */
  void (*config_changed)(void *ctx);
  /* report a violation of check `check` (enum vsim_check_id); q = -1 if none */
  void (*violation)(void *ctx, int check, int q, const char *detail);
  /* record a trace event; cheap when no trace is requested */
  void (*event)(void *ctx, int kind, int q, uint64_t a, uint64_t b, uint64_t c,
                uint64_t d);
  /* the virtual clock (the only time a backend may look at) */
  uint64_t (*now)(void *ctx);
} vsim_host;

/* A queue as the driver configured it through the transport. */
typedef struct vsim_queue_cfg {
  uint16_t size;
  uint64_t desc;   /* descriptor table (split) / descriptor ring (packed) */
  uint64_t driver; /* available ring / driver event suppression */
  uint64_t device; /* used ring / device event suppression */
} vsim_queue_cfg;

typedef struct vsim_backend_ops {
  /* VSIM_BACKEND_ABI_VERSION. Stays the first field in every version: the
   * loader reads it before trusting anything else in the table. */
  uint32_t abi_version;
  const char *name;
  void (*destroy)(void *be);

  uint32_t (*device_id)(void *be);
  uint32_t (*vendor_id)(void *be);
  uint16_t (*num_queues)(void *be);
  uint16_t (*queue_max_size)(void *be, uint16_t q);

  uint64_t (*device_features)(void *be);
  /* the driver's accepted features as written so far (all 64 bits) */
  void (*set_driver_features)(void *be, uint64_t features);

  uint8_t (*get_status)(void *be);
  /* writing 0 resets the device; the device may refuse FEATURES_OK by not
   * reflecting it on the next get_status */
  void (*set_status)(void *be, uint8_t status);

  uint32_t (*config_generation)(void *be);
  uint32_t (*config_size)(void *be);
  int (*config_read)(void *be, uint32_t off, void *dst, uint32_t len);
  int (*config_write)(void *be, uint32_t off, const void *src, uint32_t len);

  /* QueueReady 1 (cfg non-NULL) or 0 (cfg NULL); returns 0 or negative error */
  int (*queue_ready)(void *be, uint16_t q, const vsim_queue_cfg *cfg);
  /* VIRTIO_F_RING_RESET: reset one queue; may be NULL */
  void (*queue_reset)(void *be, uint16_t q);
  /* available-buffer notification; `data` is the raw notify value */
  void (*queue_notify)(void *be, uint16_t q, uint32_t data);

  /* The device worker for queue q. queue_runnable says whether it has work
   * (a kick pending or a ring it has not yet drained); queue_run does at most
   * `budget` requests and returns how many it completed, or a negative error.
   * Bounded work per call is a contract: a hostile ring must not make it loop.
   * Quantified: between two chains it takes or completes (its VSIM_EV_POP /
   * VSIM_EV_USED events), and from the start of a call to the first of them
   * and from the last of them to the end of the call, a backend makes at most
   * VSIM_BACKEND_CHAIN_WORK(queue size) device-side vsim_arena_* accesses
   * (check liveness.dev-unbounded-work). */
  bool (*queue_runnable)(void *be, uint16_t q);
  int (*queue_run)(void *be, uint16_t q, uint32_t budget);
  /* The earliest virtual time at which queue q will have work without any
   * new notification (a held request coming due), or UINT64_MAX. May be NULL
   * for backends that never hold requests. The scheduler advances the clock
   * to it when nothing else can run. */
  uint64_t (*queue_next_due)(void *be, uint16_t q);
} vsim_backend_ops;

/* The work bound of queue_run above, in device-side guest-memory accesses
 * (vsim_arena_read / write / span calls) between two chain events. A chain
 * of a queue of size n has at most n descriptors (the spec: the queue size
 * "is the maximum possible descriptor chain length"), plus one indirect
 * descriptor, and serving it touches each of its buffers a bounded number of
 * times: 4 accesses per entry leave room for a header, the data, a status
 * byte and the ring's own fields, and the constant covers what one call does
 * once (avail index reads, notification and event-suppression fields,
 * publishing). A device that walks a descriptor loop without a length check
 * exceeds it whatever the queue size; a correct one never gets near it. */
#define VSIM_BACKEND_CHAIN_WORK(qsize) (4u * (uint64_t)(qsize) + 64u)

typedef struct vsim_backend {
  const vsim_backend_ops *ops;
  void *be;
} vsim_backend;

/* Parameters a backend receives at creation: key/value pairs from the
 * scenario's "device_config" object, as strings; plus offered-feature overrides. */
typedef struct vsim_backend_params {
  const vsim_host *host;
  uint16_t num_queues;
  uint16_t queue_max_size;
  bool has_offered_features; /* when true, offer exactly `offered_features` */
  uint64_t offered_features;
  uint64_t refuse_features;  /* refuse FEATURES_OK when the driver accepts any of these */
  uint64_t latency;          /* virtual time between popping a request and completing it */
  bool in_order_batch;       /* with IN_ORDER, report completions in batches (one used entry each) */
  vsim_mutset mutants;       /* VSIM_MUT_* members: break exactly one rule each */
  const char *const *config_keys;
  const char *const *config_values;
  unsigned config_count;
  /* Interrupt coalescing (0: off): a used-buffer notification the driver
   * asked for is held until irq_coalesce_count completions since the last
   * one, or irq_coalesce_time units of virtual time after it was first held,
   * whichever comes first. */
  uint32_t irq_coalesce_count;
  uint64_t irq_coalesce_time;
  /* Polling (0: off): available-buffer notifications stay disabled and the
   * device looks at each ring every poll_period units of virtual time. */
  uint64_t poll_period;
} vsim_backend_params;

/* Entry point of a plugin .so: fill `out`, return 0 or a negative error and a
 * message in err (size errlen). */
typedef int (*vsim_backend_create_fn)(const vsim_backend_params *params,
                                      vsim_backend *out, char *err, unsigned errlen);
#define VSIM_PLUGIN_ENTRY "vsim_plugin_create"

/* ---- writing a plugin ----
 * A plugin is a shared object that defines vsim_plugin_create (declared here
 * so that the compiler checks the definition against the ABI, and exported
 * even when the plugin is built with -fvisibility=hidden). `params` and what
 * it points to are valid only during the call, except params->host, which
 * lives as long as the backend; the ops table must outlive the backend.
 *
 * Linking: a plugin calls the vsim_arena_* functions of arena.h but does NOT
 * link libvirtiosim. The arena is opaque and belongs to the engine that made
 * it, so the accessors must be that engine's own: the program that loads the
 * plugin exports them (the virtio-sim CLI does, see
 * backend-model/plugin_api.list; a program linking libvirtiosim.so does by
 * default; one linking libvirtiosim.a needs -rdynamic), and the dynamic
 * loader binds the plugin's references to them. Build a plugin with
 * `cc -shared -fPIC $(pkg-config --cflags virtiosim) ...`, without
 * `pkg-config --libs` and without -Wl,-z,defs. */
#if defined(__GNUC__)
#define VSIM_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define VSIM_PLUGIN_EXPORT
#endif
VSIM_PLUGIN_EXPORT int vsim_plugin_create(const vsim_backend_params *params, vsim_backend *out,
                                          char *err, unsigned errlen);

#ifdef __cplusplus
}
#endif
#endif
