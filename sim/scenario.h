/* sim/scenario.h — a scenario as the engine runs it.
 *
 * Owns: the in-memory form of a JSON scenario (device, transport, ring, queues,
 * features, seed, policy, mutants, steps, expectations) and its loader.
 * The loader validates everything the engine relies on, so that the engine
 * never sees an out-of-range value; a bad file becomes an error naming
 * file:line:column and the offending field, never a crash.
 * Must never: keep pointers into the jansson tree after loading (the tree is
 * freed), or accept a field it does not know (typos must not pass silently).
 */
#ifndef VSIM_SCENARIO_H
#define VSIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "virtiosim/mutants.h"

enum vsim_policy { VSIM_POLICY_SCRIPTED = 0, VSIM_POLICY_ROUND_ROBIN, VSIM_POLICY_RANDOM };
enum vsim_ring { VSIM_RING_SPLIT = 0, VSIM_RING_PACKED };
enum vsim_transport_kind { VSIM_TRANSPORT_MMIO = 0, VSIM_TRANSPORT_PCI };

enum vsim_op {
  VSIM_OP_INIT = 1,      /* full initialisation sequence */
  VSIM_OP_RESET,         /* driver resets the device (status 0) and forgets its queues */
  VSIM_OP_WAIT,          /* block until every outstanding request completed */
  VSIM_OP_POLL,          /* reap the used ring of `queue` without an interrupt */
  VSIM_OP_KICK,          /* notify `queue` (value = queue index unless `value` set) */
  VSIM_OP_BLK_READ,      /* sector, len */
  VSIM_OP_BLK_WRITE,     /* sector, data */
  VSIM_OP_BLK_FLUSH,     /* sector (normally 0) */
  VSIM_OP_BLK_GET_ID,
  VSIM_OP_BLK_DISCARD,   /* sector, nsectors, flags */
  VSIM_OP_BLK_WRITE_ZEROES, /* sector, nsectors, flags */
  VSIM_OP_BLK_RAW,       /* type, sector, data (out), len (in) */
  VSIM_OP_RAW_DESC,      /* queue, index, addr, len, flags, next: write one descriptor */
  VSIM_OP_RAW_AVAIL,     /* queue, heads[]: put heads in the available ring and publish */
  VSIM_OP_RAW_AVAIL_IDX, /* queue, value: write avail.idx directly */
  VSIM_OP_RAW_AVAIL_FLAGS, /* queue, value */
  VSIM_OP_RAW_USED_EVENT,  /* queue, value */
  VSIM_OP_RAW_WRITE,     /* addr, data: write guest memory as the driver */
  VSIM_OP_FAULT_DEVICE_RESET, /* the driver resets the device mid-traffic */
  VSIM_OP_FAULT_DELAY_IRQ,    /* hold the next interrupts for `value` steps */
  VSIM_OP_FAULT_NEEDS_RESET,  /* the device enters DEVICE_NEEDS_RESET */
  VSIM_OP_EXPECT,        /* mid-run expectation on status bits / counts */
  VSIM_OP_DRIVER_OK,     /* set DRIVER_OK after an init with "driver_ok": false */
  VSIM_OP_RAW_PDESC,     /* packed: queue, index (from the driver's next_avail), addr, len, id, flags, exact */
  VSIM_OP_RAW_PPUBLISH,  /* packed: queue, value (descriptors), id: the list is in flight; kick if asked */
  VSIM_OP_QUEUE_RESET,   /* VIRTIO_F_RING_RESET: reset `queue` alone */
  VSIM_OP_QUEUE_ENABLE,  /* set `queue` up again after a queue reset */
  /* The scripted device ("device_scripted": true; sim/devscript.h): each op
   * acts as the device, through the device's side of guest memory and the
   * transport's interrupt path. */
  VSIM_OP_DEV_USED,        /* queue, id (value | next | last), len, publish, skip, status, irq: complete a buffer */
  VSIM_OP_DEV_USED_IDX,    /* split: queue, value, irq: write used.idx */
  VSIM_OP_DEV_USED_FLAGS,  /* split: queue, value: write used.flags */
  VSIM_OP_DEV_AVAIL_EVENT, /* split: queue, value: write avail_event */
  VSIM_OP_DEV_PUSED,       /* packed: dev.used with the descriptor's flags (flags, exact) */
  VSIM_OP_DEV_PEVENT,      /* packed: queue, flags, value (off_wrap): the device event suppression structure */
  VSIM_OP_DEV_IRQ,         /* queue: a used-buffer notification */
  VSIM_OP_DEV_WRITE,       /* addr, data: write guest memory as the device */
  VSIM_OP_DEV_CONFIG,      /* offset, data, irq: change device config space */
  VSIM_OP_DEV_NEEDS_RESET, /* irq: enter DEVICE_NEEDS_RESET */
  VSIM_OP_MMIO_READ,     /* offset, len (width): read a transport register; value / unchanged: expected */
  VSIM_OP_MMIO_WRITE,    /* offset, len (width), value: write a transport register as the driver */
  VSIM_OP_REQ_RAW,       /* any device type: queue, data (device-readable), len (device-writable),
                          * patch, expect_used_len, expect_reply (frontend-model/req_drv.h) */
  VSIM_OP_HOST_INPUT,    /* port, data: bytes from the host side for the device model's input `port`
                          * (devcore.h vsim_devcore_host_input; a built-in model only) */
  VSIM_OP_EXPECT_OUTPUT, /* port, data: the bytes the device model output for `port` since the last
                          * expect.output of that port equal `data` (taken, so the next starts empty) */
  VSIM_OP_HOST_EVENT,    /* port, type, value: a host-side event of the device model (console: a port
                          * closed / opened / unplugged / plugged, a resize; devcore host_event) */
  VSIM_OP_GPU_EXPECT_SCANOUT, /* gpu: index (scanout), expect_data: the bytes the scanout shows */
  VSIM_OP_PCI_CFG_READ,  /* virtio-pci: offset, len (width): read the function's PCI configuration space
                          * as the driver; value: expected */
  VSIM_OP_PCI_CFG_WRITE, /* virtio-pci: offset, len (width), value: write it as the driver (the PCI_CFG
                          * window's cap.bar / cap.offset / cap.length / pci_cfg_data among others) */
  VSIM_OP__LAST = VSIM_OP_PCI_CFG_WRITE,
};

/* dev.used / dev.pused: which buffer the device completes. */
enum vsim_dev_id {
  VSIM_DEV_ID_NEXT = 0, /* the next one it takes from the available ring (the default) */
  VSIM_DEV_ID_LAST,     /* the id of this queue's previous completion again */
  VSIM_DEV_ID_VALUE,    /* `id`, as given */
};

/* Byte payload: literal bytes, or a generated pattern of `len` bytes. */
enum vsim_data_kind { VSIM_DATA_NONE = 0, VSIM_DATA_BYTES, VSIM_DATA_PATTERN, VSIM_DATA_FILL };
/* expect_status "ERROR": either error status (IOERR or UNSUPP), for requests
 * whose status no device clause fixes (see scenarios/README.md). Not a status
 * byte a device writes: VIRTIO_BLK_S_* end at 6. */
#define VSIM_BLK_S_ERROR 0xfe

typedef struct vsim_data {
  enum vsim_data_kind kind;
  uint32_t len;
  uint8_t *bytes;   /* VSIM_DATA_BYTES: owned, `len` bytes */
  uint64_t seed;    /* VSIM_DATA_PATTERN: bytes from a PRNG stream seeded with this */
  uint8_t fill;     /* VSIM_DATA_FILL: every byte this value */
} vsim_data;

#define VSIM_SCENARIO_MAX_HEADS 64

typedef struct vsim_count_expect {
  bool set;
  uint64_t min, max;
} vsim_count_expect;

/* req.raw: one check of the bytes the device wrote (its device-writable
 * buffers, from offset 0), judged at completion. */
enum vsim_field_kind {
  VSIM_FIELD_SAVE_ONLY = 0, /* no expectation: the value is only saved */
  VSIM_FIELD_VALUE,         /* (LE value & mask) == value */
  VSIM_FIELD_RANGE,         /* min <= (LE value & mask) <= max */
  VSIM_FIELD_ECHO,          /* (LE value & mask) == (LE value at sent_offset of the device-readable bytes) & mask */
  VSIM_FIELD_BYTES,         /* the bytes equal `data` */
};

typedef struct vsim_field_expect {
  char *name;               /* for messages; owned; NULL: "offset N" */
  uint32_t line, col;       /* where the entry starts in the file */
  enum vsim_field_kind kind;
  uint32_t offset;          /* in the device-writable bytes */
  uint8_t width;            /* 1, 2, 4 or 8 (not VSIM_FIELD_BYTES) */
  uint64_t mask;            /* all ones of the width unless given */
  uint64_t value, min, max;
  uint32_t sent_offset;     /* VSIM_FIELD_ECHO */
  vsim_data data;           /* VSIM_FIELD_BYTES */
  int save;                 /* index in vsim_scenario.saved_names the value is saved to, or -1 */
} vsim_field_expect;

/* req.raw: bytes of the device-readable data replaced, at submission, by a
 * value an earlier reply saved (a FUSE nodeid, a file handle). */
typedef struct vsim_patch {
  uint32_t offset;
  uint8_t width;
  int saved;                /* index in vsim_scenario.saved_names */
} vsim_patch;

#define VSIM_SCENARIO_MAX_FIELDS 64   /* expect_reply entries, patch entries */
#define VSIM_SCENARIO_MAX_SAVED 32    /* distinct saved names in a scenario */

/* How the driver model cuts a blk request into descriptors (blk.* "framing").
 * Every one is a valid arrangement: the device "MUST NOT make assumptions
 * about the particular arrangement of descriptors" (Message Framing), must
 * ignore WRITE on a descriptor naming an indirect table and must take direct
 * descriptors followed by one indirect descriptor (Indirect Descriptors). */
enum vsim_framing {
  VSIM_FRAMING_USUAL = 0,         /* header, data split at pages, status */
  VSIM_FRAMING_HEADER_SPLIT,      /* the 16-byte header in three descriptors: 1 + 7 + 8 bytes */
  VSIM_FRAMING_MERGED,            /* one readable descriptor (header + data), one writable (data + status) */
  VSIM_FRAMING_ODD_SPLIT,         /* data cut at odd offsets: 1, 3, then the rest */
  VSIM_FRAMING_ZERO_LEN,          /* a zero-length descriptor after the header and before the status */
  VSIM_FRAMING_INDIRECT_WRITE,    /* split + INDIRECT_DESC: the indirect descriptor has WRITE set */
  VSIM_FRAMING_DIRECT_INDIRECT,   /* split + INDIRECT_DESC: the header direct, then one indirect descriptor */
  VSIM_FRAMING__COUNT
};
/* "usual", "header-split", ... (NULL-terminated, in enum order) */
extern const char *const vsim_framing_names[];

typedef struct vsim_step {
  enum vsim_op op;
  uint32_t line, col;   /* where the step starts in the file (for messages) */
  uint16_t queue;
  uint64_t sector;
  uint32_t nsectors;
  uint32_t len;         /* bytes to read (IN), or raw len */
  uint32_t type;        /* blk raw request type */
  uint32_t flags;       /* discard/write-zeroes flags, raw desc flags */
  uint64_t addr;        /* raw desc addr / raw write addr */
  uint32_t index;       /* raw desc index */
  uint32_t next;        /* raw desc next */
  uint32_t id;          /* raw packed descriptor / list buffer id (u16); dev.used id (u32) */
  bool exact;           /* raw.pdesc: write flags as given (no AVAIL/USED for the driver's wrap) */
  uint64_t value;       /* raw idx / flags / event / kick value / delay steps / register value */
  uint32_t offset;      /* mmio.read / mmio.write: register offset in the MMIO window; dev.config: offset in the config space */
  bool has_accept;      /* init: accept_features given */
  uint64_t accept;      /* init: what the driver accepts from this initialisation on */
  bool unchanged;       /* mmio.read: must equal the previous mmio.read of that offset */
  bool has_value;
  uint16_t nheads;
  uint16_t heads[VSIM_SCENARIO_MAX_HEADS];
  vsim_data data;       /* write payload, raw write bytes */
  /* per-step expectations (blk ops): */
  bool has_expect_status;
  uint8_t expect_status;  /* VIRTIO_BLK_S_*, or VSIM_BLK_S_ERROR */
  vsim_data expect_data;  /* for reads: the bytes that must come back */
  bool expect_data_written; /* read must return what the last write to these sectors wrote (engine-tracked shadow) */
  /* VSIM_OP_EXPECT: status bits that must be set / clear */
  uint8_t status_has, status_lacks;
  /* dev.* steps (the scripted device): */
  enum vsim_dev_id dev_id; /* dev.used / dev.pused: which buffer */
  bool no_publish;      /* dev.used: write the used element without publishing used.idx */
  bool has_irq, irq;    /* notify (true) or not (false); absent: as a conforming device would */
  bool has_skip;        /* packed: `skip` given */
  uint16_t skip;        /* packed: descriptors the used position moves on by */
  bool has_status;      /* dev.used / dev.pused: `status` given */
  uint8_t status;       /* byte written into the chain's last device-writable byte */
  /* req.raw (data: the device-readable bytes, len: the device-writable ones): */
  vsim_count_expect expect_used_len;
  uint16_t nfields, npatches;
  vsim_field_expect *fields; /* owned, [nfields] */
  vsim_patch *patches;       /* owned, [npatches] */
  uint32_t port;             /* host.input / expect.output: the model's input or output (console: a port) */
  uint8_t framing;           /* blk.read / blk.write / blk.flush: enum vsim_framing, how the chain is cut */
} vsim_step;

typedef struct vsim_kv {
  char *key;
  char *value;
} vsim_kv;

#define VSIM_SCENARIO_MAX_REGIONS 8

typedef struct vsim_region_spec {
  uint64_t base, len;
  unsigned perm; /* VSIM_REGION_PERM */
} vsim_region_spec;

typedef struct vsim_scenario {
  char *path;             /* as given */
  char *name;
  char *device;           /* "blk", "fs" (no built-in model, a back-end must be given), "console", "input", "net" or "gpu" */
  enum vsim_transport_kind transport;
  enum vsim_ring ring;
  uint16_t queue_size;    /* driver's QueueSize (default 8) */
  uint16_t queue_max;     /* device's QueueSizeMax (default 256) */
  uint16_t num_queues;    /* default 1 */
  int msix_vectors;       /* virtio-pci: MSI-X table entries (0: no MSI-X capability); -1 (default):
                             one per queue plus the config vector; ignored over virtio-mmio */
  uint64_t arena_size;    /* default 1 MiB */
  uint64_t seed;          /* default 1 */
  enum vsim_policy policy;
  uint64_t max_steps;     /* default 100000 */
  uint64_t repeat;        /* the steps run this many times in a row, default 1 */
  uint32_t device_batch;  /* requests per device step, default 1 */
  uint32_t driver_batch;  /* blk requests the driver adds per step before one kick decision, default 1 */
  uint32_t irq_coalesce_count; /* interrupt coalescing: completions (0: off) */
  uint64_t irq_coalesce_time;  /* ... or virtual time since the first held interrupt */
  uint64_t device_poll;   /* the device polls every this many time units, notifications off (0: off) */
  uint64_t device_latency; /* virtual time from pop to completion, default 0 */
  bool device_in_order_batch; /* with IN_ORDER, one used entry per batch */
  bool has_offered;       /* offered features overridden */
  uint64_t offered;
  bool has_accept;        /* features the driver is willing to accept */
  uint64_t accept;
  uint64_t refuse;        /* the device refuses FEATURES_OK when any of these is accepted */
  bool driver_poll;       /* driver sets NO_INTERRUPT / polls instead of waiting for irqs */
  bool auto_init;         /* default true: INIT before the first step */
  bool device_scripted;   /* the device model serves no queue: dev.* steps play the device */
  vsim_mutset mutants;       /* the mutants to plant (vsim_mut_has) */
  char *backend;          /* "backend": "vhost-user-script:PATH", PATH resolved against the scenario's
                             directory; NULL: the built-in model (--backend overrides either) */
  unsigned nregions;
  vsim_region_spec regions[VSIM_SCENARIO_MAX_REGIONS];
  unsigned nconfig;
  vsim_kv *config;        /* device_config, values as strings */
  size_t nsteps;
  vsim_step *steps;
  /* end-of-run expectations */
  bool has_expect_violations;
  size_t nexpect_violations;
  int *expect_violations; /* enum vsim_check_id; the set must match exactly */
  uint8_t expect_status_has, expect_status_lacks;
  vsim_count_expect expect_kicks, expect_irqs, expect_completed;
  /* req.raw: the names reply fields are saved to ("save"), in order of first use */
  unsigned nsaved;
  char *saved_names[VSIM_SCENARIO_MAX_SAVED];
} vsim_scenario;

#define VSIM_ERR_MAX 1024

/* Load and validate. On failure returns NULL and writes
 * "FILE:LINE:COL: field 'a.b[2].c': message" into err. */
vsim_scenario *vsim_scenario_load_file(const char *path, char *err, size_t errlen);
/* Same, from a buffer; `name` stands for the file in messages. */
vsim_scenario *vsim_scenario_load_buffer(const char *text, size_t len, const char *name,
                                         char *err, size_t errlen);
void vsim_scenario_free(vsim_scenario *sc);

/* Names used in scenarios (also used by the CLI and reports). */
int vsim_feature_bit_by_name(const char *device, const char *name); /* -1 unknown */
const char *vsim_feature_name(const char *device, unsigned bit);     /* NULL unknown */
int vsim_status_bit_by_name(const char *name);                       /* -1 unknown */
const char *vsim_policy_name(enum vsim_policy p);
const char *vsim_op_name(enum vsim_op op);

/* --- Added with the loader (sim/scenario.c): limits it enforces, and name
 * enumeration for messages and listings. --- */
#define VSIM_SCENARIO_MAX_FILE (64u << 20)     /* bytes of JSON text */
#define VSIM_SCENARIO_MAX_STEPS 1000000u       /* entries in "steps" */
#define VSIM_SCENARIO_MAX_DATA (16u << 20)     /* bytes in one data spec / blk.read len */
#define VSIM_SCENARIO_MAX_CONFIG 256u          /* entries in "device_config" */
#define VSIM_SCENARIO_MAX_DELAY_IRQ 1000000u   /* fault.delay_irq value */
#define VSIM_SCENARIO_MMIO_WINDOW 0x1000u      /* mmio.read / mmio.write offsets */
#define VSIM_SCENARIO_MAX_RUN_STEPS 1000000000u /* "max_steps" */
#define VSIM_SCENARIO_MAX_BACKEND 2048         /* "backend" resolved, with its NUL (the registry's open_name) */
#define VSIM_SCENARIO_MAX_CONFIG_DATA 256u     /* bytes in one dev.config */

/* Note: vsim_status_bit_by_name returns the VIRTIO_CONFIG_S_* value (a mask),
 * which is what status_has / status_lacks hold. */

/* The i-th known name (NULL past the end): device-independent features first,
 * then the device's own; and the status names. For "expected one of" lists. */
const char *vsim_feature_name_at(const char *device, size_t i);
const char *vsim_status_name_at(size_t i);

#endif
