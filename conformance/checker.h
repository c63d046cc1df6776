/* conformance/checker.h — the observers that judge a run as it happens.
 *
 * Owns: status and feature-negotiation checks, notification precision in both
 * directions (a MUST-notify that never came; a notification that came though
 * suppressed), ring-field rules (flags values, used.flags initialisation,
 * alignment), device behaviour around DRIVER_OK, reset and DEVICE_NEEDS_RESET,
 * the virtio-mmio device-side rules, writes into device-readable buffers, and
 * on packed rings who may change a descriptor when (the driver: not while it
 * is available; the device: not once it is used) and the IN_ORDER batches in
 * the used descriptors.
 * Checkers read events and guest memory; they never drive anything, so they
 * work the same for any backend (only ACCESS-class checks need in-process).
 * Each event costs O(1), except a pop/used pair, which costs O(segments), a
 * split publish, O(segments of the chains published) (their descriptors are
 * hashed for mem.drv-alter-exposed, compared at the use), a packed publish,
 * which costs O(descriptors published and their indirect tables' entries),
 * the end of a driver step while the device holds chains across steps
 * (O(queue size + their segments); else O(1)), and the end of an
 * actor's step on a packed queue, which costs O(descriptors written in the
 * step): the arena watches the ring for writes, and only those descriptors
 * are compared with what they held when they became available or used (when
 * the watch is lost, a span over the ring having been handed out, a memcmp of
 * the whole ring, and a walk when it differs). A device step on a split
 * queue costs O(granules of its descriptor table and available ring written
 * since the last device step) the same way (mem.dev-write-readonly; a whole
 * copy and compare, O(queue size), on a vhost-user back-end's memfd or once
 * the watches are lost).
 * Must never: change guest memory or the run's course.
 */
#ifndef VSIM_CHECKER_H
#define VSIM_CHECKER_H

#include <stdbool.h>
#include <stdint.h>
#include "checker_pci.h"
#include "mmio.h"
#include "trace.h"
#include "virtiosim/backend.h"

#define VSIM_CHECKER_MAX_QUEUES 64
#define VSIM_CHECKER_PACKED_REGIONS 4 /* regions watched per packed list: header first */

typedef struct vsim_chk_queue {
  bool ready;
  bool reset;        /* reset alone (RING_RESET) and not re-enabled: the device must keep off it */
  bool reset_unread; /* the driver reset it and has not read QueueReset/QueueReady back yet */
  bool packed;       /* packed layout: avail/used hold the driver/device event structures */
  uint16_t published; /* packed: the driver's next free position (offset | wrap << 15) */
  uint16_t size;
  uint64_t desc, avail, used;
  /* the kick decision window opened by the last avail publish */
  bool kick_open, kick_need, kicked;
  uint16_t kick_old, kick_new;
  /* the interrupt decision window opened by the last used publish */
  bool irq_open, irq_need, irq_sent;
  uint16_t irq_old, irq_new;
  /* an interrupt the device holds (coalescing, VSIM_EV_IRQ_HOLD): it stands
   * for every window until it is sent, and must be sent by the device's first
   * step with irq_held_count >= irq_held_k or the clock at irq_held_due */
  bool irq_held;
  uint32_t irq_held_k, irq_held_count;
  uint64_t irq_held_due;
  /* readable-buffer fingerprints of chains in flight, by head (buffer id) */
  uint64_t *fingerprint; /* [size] */
  /* packed: the regions fingerprinted for list `id` (the ring descriptors
   * themselves are the device's to overwrite with used descriptors, so the
   * regions are noted at pop time: readable buffers and indirect tables) */
  struct vsim_chk_region { uint64_t gpa; uint32_t len; } (*regions)[VSIM_CHECKER_PACKED_REGIONS]; /* [size] */
  /* heads made available and not yet used, as the driver published them */
  uint8_t *outstanding;  /* [size] */
  /* packed: each ring descriptor's owner as the publishes say (VSIM_PD_*), and
   * its 16 bytes when it became available or used: a later difference is a
   * change, blamed on the actor whose step made it */
  uint8_t *pd_state;           /* [size] */
  uint8_t (*pd_bytes)[16];     /* [size] */
  uint64_t *pd_dirty;          /* [size / 64, rounded up]: descriptors written since the last look */
  bool pd_watched;             /* pd_dirty is the arena's write watch of the ring */
  /* packed with IN_ORDER: the lists the device popped and has not used, in
   * pop (= ring) order, and the device's used position they start at */
  uint16_t *io_id, *io_start, *io_ndesc; /* [size] each, a ring of io_count from io_head */
  uint16_t io_head, io_count;
  uint16_t io_used;            /* where the device's next used descriptor must be */
  bool io_lost;                /* out of step (another check's violation): stop judging */
  /* packed: the device's next used position (offset | wrap << 15) as of its
   * last used publish; [used_pos, published) are the exposed descriptors */
  uint16_t used_pos;
  /* what the device must never write, copied when a device step begins and
   * compared when it ends: split, the descriptor table and the available
   * ring; packed, the driver event suppression structure */
  /* writes judged byte by byte (checker_writes.c): each held chain's
   * device-writable buffers as they were when the device took it [size] */
  struct vsim_chk_wsnap *wsnap;
  uint8_t *driver_copy;   /* [driver_len] */
  uint32_t driver_len;
  bool driver_copied;
  /* split: the arena's write watches of those parts (16-byte granules; one
   * watch when the available ring follows the table, as the driver model
   * lays them out, else one per part): driver_copy is kept equal to guest
   * memory granule by granule, so a device step costs the granules written
   * since the last one, not a copy and a compare of the whole (~4.6 KB at
   * queue size 256). Not used (a full copy and compare instead) for packed
   * (4 bytes), on memory another process writes (a vhost-user back-end's
   * memfd), or once the arena has lost its watches */
  struct vsim_chk_watch {
    uint64_t gpa;         /* watched range in guest memory */
    uint32_t off, len;    /* ... and in driver_copy */
    uint64_t *dirty;      /* granules written since the last look */
  } dw[2];
  unsigned dw_n;          /* watches in use (0: none) */
  bool dw_fast;           /* this device step began from the watches */
  /* the driver's own writes (mem.drv-alter-exposed): each chain's
   * descriptors hashed when it is published (split: the chain walked from its
   * head, through an indirect table; packed: the indirect table of a list,
   * whose ring descriptor the device may overwrite, so its place is kept in
   * pub_tab), by head / buffer id, 0 = not published; compared when the device
   * uses it, so a request costs O(chain length), not O(in flight) per step */
  uint64_t *pub_fp;                 /* [size] */
  struct vsim_chk_region *pub_tab;  /* [size], packed */
  uint32_t held_n;                  /* chains with a fingerprint (popped, not used) */
  uint32_t alter_pending;           /* 1 + the id found changed at its use, judged at the step's end */
  /* split: the available ring entries avail.idx exposed in the current
   * driver step, with the head each held then: one that reads otherwise at
   * the end of the step was written after the idx update that exposed it
   * (split.drv-idx-before-entry) */
  uint16_t *xp_val; /* [size] */
  uint8_t *xp_on;   /* [size] */
  bool xp_any;
  /* packed: where the list the device takes next must start (offset | wrap
   * << 15): right after the one it took before (packed.dev-take-order) */
  uint16_t take_pos;
  bool take_lost; /* out of step after a report, or a list it cannot follow */
  /* split, re-enabled after its own reset: chains the device took since
   * (its avail position) and whether it is judged (reset.dev-reenable-config) */
  bool reenabled;
  uint16_t taken;
  /* a hash of the exposed descriptors, taken before a raw driver write */
  uint64_t exposed;
  uint64_t exposed_ring;  /* packed: the ring descriptors of that moment */
} vsim_chk_queue;

typedef struct vsim_checker {
  const vsim_host *sink;
  vsim_arena *arena;
  const uint8_t *mem;       /* the arena's bytes and size, for unchecked-by-the-arena peeks */
  uint64_t mem_size;
  const vsim_mmio *mmio;     /* the transport core, whichever layout drives it */
  bool pci;                 /* virtio-pci: its accesses are judged as the MMIO registers they stand for */
  bool console;            /* a virtio-console device: its emerg_wr may be written at any time */
  bool input;              /* a virtio-input device: its select/subsel query rules apply */
  bool blk;                /* a virtio-blk device: writeback is not read before FEATURES_OK */
  bool in_select, in_subsel; /* input: select / subsel written since the last read of size */
  bool in_size_read;       /* input: size read since the last select/subsel write */
  uint64_t offered, features;
  uint8_t status;           /* last status written by the driver */
  bool reread;              /* status read since FEATURES_OK was written */
  bool refused;             /* the device refused FEATURES_OK (seen on re-read) */
  bool reset_check;         /* verify reset effects at the next register access */
  bool status_zero_check;   /* the next status read must be 0 */
  bool silent_after_reset;  /* no notifications until re-initialised */
  bool nr_open;             /* NEEDS_RESET set with DRIVER_OK: config irq due */
  bool nr_notified;
  int nq;                   /* queues ever made ready: bound of the per-step loops */
  uint32_t queue_sel;       /* QueueSel as the driver last wrote it */
  int cfg_state;            /* generation bracket: 0 none, 1 generation read, 2 fields read */
  bool reset_unverified;    /* status written 0 and not read back as 0 since */
  uint8_t ident;            /* mmio: MagicValue (1) and Version (2) read first; 4 once judged */
  uint32_t isr_seen;        /* mmio: InterruptStatus bits read and not acknowledged since */
  /* per queue: reset alone (VSIM_QS_RESET), then what the driver configured
   * since (VSIM_QS_SIZE/DESC/DRIVER/DEVICE), judged when it enables it again */
  uint8_t qsetup[VSIM_CHECKER_MAX_QUEUES];
  /* the device's writes are judged byte by byte (vsim_checker_device_wrote):
   * the per-step copy of the driver's structures and the fingerprints of held
   * readable buffers, which stand in for that when writes are not seen, say
   * nothing more and stay quiet */
  bool writes_judged;
  /* the device wrote what it must not (mem.dev-write-readonly): a changed
   * descriptor may be its doing, so the driver is not judged for one since */
  bool dev_scribbled;
  vsim_chk_queue q[VSIM_CHECKER_MAX_QUEUES];
  vsim_chk_pci pcs;         /* virtio-pci: the function's own rules (checker_pci.h) */
} vsim_checker;

void vsim_checker_init(vsim_checker *c, const vsim_host *sink, vsim_arena *arena,
                       const vsim_mmio *mmio);
void vsim_checker_fini(vsim_checker *c);
void vsim_checker_event(vsim_checker *c, const vsim_event *ev);
/* An actor begins its step (device actors: note what they must not write). */
void vsim_checker_actor_begin(vsim_checker *c, int actor);
/* An actor finished its step: close the notification windows it owned. */
void vsim_checker_actor_end(vsim_checker *c, int actor);
/* The driver writes guest memory by hand (raw.desc, raw.pdesc, raw.write):
 * begin before the write, end after it. A change to a descriptor of a buffer
 * it made available and the device has not used is the driver's violation
 * (mem.drv-alter-exposed); what the device held is fingerprinted again, so
 * that the driver's own change is not blamed on the device (a change made
 * before the write still is). */
void vsim_checker_driver_write_begin(vsim_checker *c);
void vsim_checker_driver_write_end(vsim_checker *c);
/* The device wrote [gpa, gpa+len) (conformance/checker_writes.c): seen by
 * comparing guest memory with its mirror, for a back-end whose accesses the
 * arena does not see. Call it before the events that follow the write (a
 * completion ends the chain's right to be written). Sets writes_judged. */
void vsim_checker_device_wrote(vsim_checker *c, uint64_t gpa, uint64_t len);
/* For it: the device took chain `head` of queue q (ring position `pos`,
 * packed) / completed `id`; noted only when writes are judged. */
void vsim_checker_writes_pop(vsim_checker *c, vsim_chk_queue *q, uint16_t head, uint16_t pos);
void vsim_checker_writes_used(vsim_chk_queue *q, uint16_t id);

#endif
