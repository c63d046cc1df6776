/* sim/sim.c — one simulation: wires scenario, arena, backend, transport,
 * driver model, checkers, scheduler and trace together, and runs it.
 *
 * Owns: the vsim_sim handle (virtiosim.h), the actors' step functions
 * (including the driver's batches of requests and the script's repeats), fault
 * injection, stall detection (liveness) and the end of a polling run, the
 * end-of-run expectations, and the violation list. Everything a run needs
 * hangs off the handle; nothing is kept per request or per event unless a
 * trace file is written (a run of any length needs the memory of one pass).
 * Must never: consult anything outside the scenario and the options (no clock,
 * no environment), so that a seed reproduces the run byte for byte.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include "arena_fast.h"
#include "blk_drv.h"
#include "checker.h"
#include "console_drv.h"
#include "input_drv.h"
#include "devcore.h"
#include "devscript.h"
#include "driver.h"
#include "fs_drv.h"
#include "gpu.h"
#include "gpu_drv.h"
#include "mmio.h"
#include "net.h"
#include "net_drv.h"
#include "pcap.h"
#include "pci.h"
#include "registry.h"
#include "replay.h"
#include "req_drv.h"
#include "scenario.h"
#include "sched.h"
#include "trace.h"
#include "transport_mmio.h"
#include "transport_pci.h"
#include "arena_shared.h"
#include "be_record.h"
#include "be_standin.h"
#include "virtiosim/mutants.h"
#include "virtiosim/virtiosim.h"

#define MAX_VIOLATIONS 4096
#define MAX_FAILURES 256
#define ACTOR_DRIVER 0
#define ACTOR_TIMER (-2)

struct vsim_sim {
  vsim_scenario *sc;
  vsim_options opt;
  vsim_arena *arena;
  vsim_host host;
  vsim_backend_handle be;
  /* what the engine calls: the backend itself, or its recording wrapper */
  vsim_backend dev;
  vsim_recorder *rec;     /* guest-memory writes compared (out of process) and maybe recorded */
  bool standin;           /* be is a recorded backend played back */
  /* recorded or played back: which queues have work, asked once per step
   * in queue order (dev_polled), so that the calls do not depend on how the
   * scheduler looks (a replay forces its picks and asks less) */
  bool dev_polled;
  uint8_t dev_ready[64]; /* num_queues is at most 64 (scenario.c) */
  vsim_mmio mmio;        /* the transport core (sim/tcore.h): the virtio-mmio registers, or behind pci */
  vsim_drv_mmio drv_mmio;
  bool pci;               /* "transport": "pci": the pci function drives the same core */
  vsim_pci pcif;
  vsim_drv_pci drv_pci;
  vsim_driver drv;
  vsim_blk_drv blk;
  vsim_req_drv req;     /* req.raw requests, any device type */
  vsim_fs_drv fs;       /* the fs probe's view of the config space */
  bool is_fs;           /* the scenario drives a virtio-fs device */
  vsim_console_drv con; /* the console driver's control protocol (a console device) */
  bool is_console;
  vsim_input_drv inp;   /* the input driver's queries and eventq (an input device) */
  bool is_input;
  vsim_net_drv net;     /* the net driver's view: layout, pairs, judging traffic */
  bool is_net;          /* the scenario drives a virtio-net device */
  bool is_gpu;          /* ... a virtio-gpu device */
  vsim_gpu_drv gpu;     /* the gpu driver's probe and its judge of req.raw replies */
  vsim_checker chk;
  bool checkers_on;
  vsim_devscript ds;    /* the dev.* steps, when the scenario scripts the device */
  bool ds_on;
  vsim_backend_ops ds_ops; /* the model's ops as the transport sees them when scripted */
  vsim_sched sched;
  vsim_trace trace;
  int current_actor;
  /* the device's work in the current worker step (liveness.dev-unbounded-work) */
  bool work_on;         /* a device worker step is running */
  uint16_t work_q;      /* its queue */
  uint64_t work_mark;   /* device-side arena accesses when the current window began */
  /* Receive queues (the built-in model's, devcore receive_queue): bit q.
   * A buffer posted there waits for host data, so it is not a pending
   * request while the host has given the queue no byte the device has not
   * used yet: host.input bytes the model accepted (rx_given) against the
   * used lengths the driver reaped there (rx_taken). Reset with the queue. */
  uint64_t rx_mask;
  uint64_t rx_given[64], rx_taken[64];
  /* script */
  size_t next_step;
  uint64_t iter;          /* passes over the steps completed ("repeat") */
  bool init_pending;
  bool done;
  bool stalled;
  bool out_of_steps;
  uint32_t idle_steps;
  /* delayed interrupts */
  uint64_t irq_delay;
  uint32_t irq_held_bits;
  uint64_t irq_held_queues; /* virtio-pci: the queues whose interrupts are held (bit q; queues past 63 fold onto
                               bit 63), to send each one to its vector */
  uint64_t irq_due;
  uint64_t irq_epoch;     /* device resets seen when the held interrupts were raised */
  /* results */
  vsim_violation *viol;
  size_t nviol, viol_cap, viol_dropped;
  char **fail;
  size_t nfail;
  vsim_counters ctr;
  char repro[1024];
  bool finished;
  /* mmio.read "unchanged": the last value read at each offset */
  uint32_t mmio_last[VSIM_SCENARIO_MMIO_WINDOW];
  uint8_t mmio_seen[VSIM_SCENARIO_MMIO_WINDOW];
  /* the scenario's text while loading (borrowed), for the trace header */
  const char *src_text;
  size_t src_len;
};

/* ---- results ---- */

static void add_failure(vsim_sim *s, const char *fmt, ...) {
  if (s->nfail >= MAX_FAILURES) return;
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  s->fail[s->nfail++] = strdup(buf);
}

static void fail_cb(void *ctx, const char *msg) { add_failure(ctx, "%s", msg); }

/* The scripted device learns what the device side of the transport learns:
 * which rings a queue uses (fresh positions), and when they stop being used. */
static void devscript_event(vsim_sim *s, int kind, int q, uint64_t a, uint64_t b, uint64_t c,
                            uint64_t d) {
  if (kind == VSIM_EV_QUEUE_READY && q >= 0) {
    vsim_queue_cfg cfg = {(uint16_t)a, b, c, d};
    if (vsim_devscript_queue_ready(&s->ds, (uint16_t)q, &cfg, s->mmio.driver_features))
      add_failure(s, "out of memory (scripted device, queue %d)", q);
  } else if (kind == VSIM_EV_QUEUE_RESET && q >= 0) {
    vsim_devscript_queue_reset(&s->ds, (uint16_t)q);
  } else if (kind == VSIM_EV_STATUS && b == 0) {
    vsim_devscript_reset(&s->ds);
  }
}

static void work_window_end(vsim_sim *s);

static void emit(vsim_sim *s, int kind, int q, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  /* a chain taken or completed closes the device's work window (before the
   * event itself is recorded, so that a violation precedes it) */
  if (s->work_on && (kind == VSIM_EV_POP || kind == VSIM_EV_USED)) work_window_end(s);
  if (kind == VSIM_EV_REAP && q >= 0 && q < 64) s->rx_taken[q] += b;
  vsim_event ev = {s->sched.step, s->current_actor, kind, q, a, b, c, d};
  vsim_trace_emit(&s->trace, &ev);
  if (s->opt.on_event) s->opt.on_event(s->opt.on_event_ctx, ev.step, ev.actor, kind, q, a, b, c, d);
  if (s->checkers_on) vsim_checker_event(&s->chk, &ev);
  if (s->ds_on) devscript_event(s, kind, q, a, b, c, d);
}

static void host_event(void *ctx, int kind, int q, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  emit(ctx, kind, q, a, b, c, d);
  vsim_sim *s = ctx;
  if (s->is_net) vsim_net_drv_device_event(&s->net, kind, q); /* held interrupts (NOTF_COAL) */
}

static void host_violation(void *ctx, int check, int q, const char *detail) {
  vsim_sim *s = ctx;
  /* a backend (a plugin, a recorded one played back) may name any number:
   * one the catalog does not have is the backend's error, not a violation
   * every reader of the results would have to guard against */
  if (!vsim_check_info_get(check)) {
    add_failure(s, "the backend reported check %d, which is not in the catalog (detail: %.200s)", check,
                detail ? detail : "");
    return;
  }
  emit(s, VSIM_EV_VIOLATION, q, (uint64_t)check, 0, 0, 0);
  if (s->nviol >= MAX_VIOLATIONS) {
    s->viol_dropped++;
    return;
  }
  if (s->nviol == s->viol_cap) {
    /* grown on demand: most runs record none, and a fuzzer builds thousands */
    size_t cap = s->viol_cap ? 2 * s->viol_cap : 16;
    if (cap > MAX_VIOLATIONS) cap = MAX_VIOLATIONS;
    vsim_violation *nv = realloc(s->viol, cap * sizeof *nv);
    if (!nv) {
      s->viol_dropped++;
      return;
    }
    s->viol = nv;
    s->viol_cap = cap;
  }
  vsim_violation *v = &s->viol[s->nviol++];
  v->check = check;
  v->step = s->sched.step;
  v->queue = q;
  snprintf(v->detail, sizeof v->detail, "%s", detail ? detail : "");
}

/* ---- bounded device work ---- */

/* liveness.dev-unbounded-work: the device's guest-memory accesses between two
 * chains it takes or completes (VSIM_EV_POP / VSIM_EV_USED), and from the
 * start of a worker step to the first of them and from the last to the end,
 * stay within VSIM_BACKEND_CHAIN_WORK(queue size) (backend.h). Counted by
 * the arena, so it holds any in-process backend to the queue_run contract;
 * what it catches is a device that walks a descriptor loop (or does any
 * other work a hostile ring can make unbounded) within one step, where
 * neither max_steps nor the spin detector can see it. */
static void work_window_end(vsim_sim *s) {
  uint64_t now = vsim_arena_access_count_side(s->arena, VSIM_SIDE_DEVICE);
  uint64_t did = now - s->work_mark;
  s->work_mark = now;
  uint32_t qsize = s->work_q < s->mmio.nq ? s->mmio.q[s->work_q].size : 0;
  uint64_t bound = VSIM_BACKEND_CHAIN_WORK(qsize);
  if (did <= bound) return;
  char d[VSIM_VIOLATION_DETAIL_MAX];
  snprintf(d, sizeof d,
           "%" PRIu64 " guest-memory accesses without taking or completing a chain; a queue of %u allows "
           "%" PRIu64 " (a descriptor loop walked?)",
           did, qsize, bound);
  host_violation(s, VSIM_CHK_LIVENESS_DEV_WORK, s->work_q, d); /* its event closes no window */
}

/* The transport delivers an interrupt for queue q (-1: configuration
 * change): virtio-mmio sets InterruptStatus; virtio-pci sets the ISR byte
 * (INTx) or sends the event's MSI-X message. */
static void deliver_irq(vsim_sim *s, int q, uint32_t bits) {
  if (s->pci) vsim_pci_interrupt(&s->pcif, q, bits);
  else vsim_mmio_raise(&s->mmio, bits);
}

static void raise_irq(vsim_sim *s, int q, uint32_t bits) {
  if (s->irq_delay) {
    if (!s->irq_held_bits) {
      s->irq_due = s->sched.clock + s->irq_delay;
      s->irq_epoch = s->mmio.resets;
    }
    s->irq_held_bits |= bits;
    if (q >= 0) s->irq_held_queues |= UINT64_C(1) << (q < 63 ? q : 63);
    return;
  }
  deliver_irq(s, q, bits);
}

/* The held interrupts, sent at last: each queue's to its vector (the
 * vectors of queues past 63, folded onto bit 63, each), the config change. */
static void release_irqs(vsim_sim *s) {
  if (!s->pci) {
    vsim_mmio_raise(&s->mmio, s->irq_held_bits);
    return;
  }
  for (unsigned q = 0; q < s->mmio.nq; q++)
    if ((s->irq_held_queues >> (q < 63 ? q : 63)) & 1u) vsim_pci_interrupt(&s->pcif, (int)q, VIRTIO_MMIO_INT_VRING);
  if (s->irq_held_bits & VIRTIO_MMIO_INT_CONFIG) vsim_pci_interrupt(&s->pcif, -1, VIRTIO_MMIO_INT_CONFIG);
}

/* The interrupt event: the ISR / InterruptStatus it leaves, and over
 * virtio-pci with MSI-X enabled the vector it goes to (b; NO_VECTOR: none)
 * with c = 1 (c = 0: INTx or virtio-mmio, b unused). */
static void emit_irq(vsim_sim *s, int q, uint32_t bit) {
  uint32_t v = s->pci ? vsim_pci_route(&s->pcif, q) : VSIM_PCI_INTX;
  if (v == VSIM_PCI_INTX) emit(s, VSIM_EV_IRQ, q, s->mmio.interrupt_status | bit, 0, 0, 0);
  else emit(s, VSIM_EV_IRQ, q, s->mmio.interrupt_status, v, 1, 0);
}

static void host_interrupt(void *ctx, uint16_t q) {
  vsim_sim *s = ctx;
  s->ctr.interrupts++;
  emit_irq(s, q, VIRTIO_MMIO_INT_VRING);
  raise_irq(s, q, VIRTIO_MMIO_INT_VRING);
}

static void host_config_changed(void *ctx) {
  vsim_sim *s = ctx;
  s->ctr.config_irqs++;
  emit_irq(s, -1, VIRTIO_MMIO_INT_CONFIG);
  raise_irq(s, -1, VIRTIO_MMIO_INT_CONFIG);
}

static uint64_t host_now(void *ctx) { return ((vsim_sim *)ctx)->sched.clock; }

/* With a scripted device the model behind the transport serves no queue
 * (device_runnable), so its ring positions never move; it must not judge
 * what a notification says either (the packed model would hold every
 * NOTIFICATION_DATA value against a ring it never consumed, and blame the
 * driver). The scripted device is the device: notifications reach the
 * transport, its counters and the checkers, and stop there. */
static void scripted_queue_notify(void *be, uint16_t q, uint32_t data) {}

static void arena_fault(void *ctx, const vsim_arena_fault *f) {
  vsim_sim *s = ctx;
  if (f->side != VSIM_SIDE_DEVICE) return; /* the driver model's own raw pokes */
  char d[VSIM_VIOLATION_DETAIL_MAX];
  snprintf(d, sizeof d, "device %s of %" PRIu64 " bytes at 0x%" PRIx64 " outside what it may access",
           f->access & VSIM_ACC_WRITE ? "write" : "read", f->len, f->gpa);
  host_violation(s, VSIM_CHK_MEM_DEV_OOB, -1, d);
}

/* ---- the driver actor ---- */

static const vsim_step *cur_step(vsim_sim *s) {
  return s->next_step < s->sc->nsteps ? &s->sc->steps[s->next_step] : NULL;
}

/* Take the current step: its index, and the script moves on. With "repeat"
 * the position goes back to 0 right after the last step of a pass that is
 * not the last, so "script left" stays next_step < nsteps. */
static uint32_t take_step(vsim_sim *s) {
  uint32_t idx = (uint32_t)s->next_step++;
  if (s->next_step == s->sc->nsteps && s->iter + 1 < s->sc->repeat) {
    s->next_step = 0;
    s->iter++;
  }
  return idx;
}

static bool is_blk_op(enum vsim_op op) {
  return op >= VSIM_OP_BLK_READ && op <= VSIM_OP_BLK_RAW;
}

/* A step that submits a request: blk.*, or req.raw of any device type. */
static bool is_request_op(enum vsim_op op) { return is_blk_op(op) || op == VSIM_OP_REQ_RAW; }

static bool driver_gave_up(const vsim_sim *s) {
  return s->drv.failed || s->drv.needs_reset;
}

/* A receive queue whose buffers wait for input the host has not given: the
 * device holding them is what it is for, not a stall. Input it accepted and
 * has not put in a used buffer yet makes them pending again. */
static bool rx_idle(const vsim_sim *s, uint16_t q) {
  return q < 64 && ((s->rx_mask >> q) & 1u) && s->rx_taken[q] >= s->rx_given[q];
}

/* Requests the driver waits for: every chain in flight, except those on a
 * receive queue that waits for input (rx_idle). */
static uint32_t pending_requests(const vsim_sim *s) {
  uint32_t n = 0;
  for (uint16_t q = 0; q < s->drv.nq; q++)
    if (!rx_idle(s, q)) n += vsim_driver_queue_inflight(&s->drv, q);
  return n;
}

static bool step_can_run(vsim_sim *s, const vsim_step *st) {
  /* With a scripted device only later steps complete requests or free ring
   * room: a step that waited for that would wait forever. It waits only for
   * an interrupt the engine holds back (fault.delay_irq), which will come. */
  if (s->sc->device_scripted && (st->op == VSIM_OP_WAIT || is_request_op(st->op)))
    return !s->irq_held_bits || driver_gave_up(s);
  if (st->op == VSIM_OP_WAIT)
    return pending_requests(s) == 0 || driver_gave_up(s);
  if (is_blk_op(st->op) && s->drv.live && !driver_gave_up(s))
    return vsim_blk_drv_can_submit(&s->blk, st);
  if (st->op == VSIM_OP_REQ_RAW && s->drv.live && !driver_gave_up(s))
    return vsim_req_drv_can_submit(&s->req, st);
  return true;
}

static bool driver_runnable(void *ctx, int id) {
  vsim_sim *s = ctx;
  if (s->drv.live || s->drv.nq) {
    if (vsim_driver_irq_pending(&s->drv)) return true;
    if (s->sc->driver_poll && vsim_driver_used_pending(&s->drv)) return true;
  }
  if (s->init_pending) return true;
  const vsim_step *st = cur_step(s);
  return st && step_can_run(s, st);
}

/* Forget the blk requests in flight on queue q (all queues when q < 0): after
 * a device or queue reset they will never complete. */
static void drop_blk_requests_on(vsim_sim *s, int q) {
  vsim_blk_drv_drop(&s->blk, q);
  vsim_req_drv_drop(&s->req, q);
  if (s->is_console) vsim_console_drv_drop(&s->con, q);
  if (s->is_input) vsim_input_drv_drop(&s->inp, q);
  /* the device forgets its input with the queue (or itself) */
  for (int i = 0; i < 64; i++)
    if (q < 0 || i == q) s->rx_given[i] = s->rx_taken[i] = 0;
}

static void drop_blk_requests(vsim_sim *s) { drop_blk_requests_on(s, -1); }

/* What the driver accepts: the scenario's list (or everything), less what
 * the options switch off; RING_PACKED only on the packed ring. */
static uint64_t driver_accept(const vsim_sim *s, bool has, uint64_t list) {
  return (has ? list : ~UINT64_C(0)) & ~s->opt.features_off &
         (s->sc->ring == VSIM_RING_PACKED ? ~UINT64_C(0) : ~(UINT64_C(1) << VIRTIO_F_RING_PACKED));
}

/* The device driver's look at a live device: nothing blk-specific reaches a fs device. */
static void probe_device(vsim_sim *s) {
  if (s->is_fs) vsim_fs_drv_probe(&s->fs, &s->drv, fail_cb, s);
  else if (s->is_console) vsim_console_drv_probe(&s->con);
  else if (s->is_input) vsim_input_drv_probe(&s->inp);
  else if (s->is_net) vsim_net_drv_probe(&s->net);
  else if (s->is_gpu) vsim_gpu_drv_probe(&s->gpu);
  else vsim_blk_drv_probe(&s->blk);
}

/* Receive queues: the built-in model says which (devcore receive_queue);
 * another backend's host side is its own, so none is exempt there. Asked
 * again after each initialisation: a model's layout may depend on the
 * features (net: without MQ, queue 2 is the control queue). */
static void update_rx_mask(vsim_sim *s) {
  s->rx_mask = 0;
  /* a recorded model's answer, played back: the engine judges as it did */
  if (s->standin) {
    s->rx_mask = vsim_standin_receive_queues(s->be.backend.be);
    return;
  }
  if (!s->be.builtin) return;
  for (uint16_t q = 0; q < s->sc->num_queues && q < 64; q++)
    if (vsim_devcore_receive_queue(s->be.backend.be, q)) s->rx_mask |= UINT64_C(1) << q;
  if (s->rec) vsim_recorder_receive_queues(s->rec, s->rx_mask);
}

static void do_init(vsim_sim *s, bool until_driver_ok) {
  drop_blk_requests(s);
  int r = vsim_driver_init(&s->drv, until_driver_ok);
  if (s->is_net) vsim_net_drv_negotiated(&s->net);
  update_rx_mask(s);
  if (s->sc->ring == VSIM_RING_PACKED && !s->drv.packed && !s->drv.failed)
    add_failure(s, "ring \"packed\" asked for, but VIRTIO_F_RING_PACKED was not negotiated");
  if (r == 0 && until_driver_ok) probe_device(s);
}

/* Device-writable bytes of a raw chain, walked as the driver wrote it
 * (bounded by the queue size; garbage just gives a smaller number). */
/* One descriptor as the driver wrote it; false when unreadable. */
static bool raw_desc_read(vsim_sim *s, uint64_t gpa, uint64_t *addr, uint32_t *len,
                          uint16_t *flags, uint16_t *next) {
  return vsim_arena_get64(s->arena, VSIM_SIDE_DRIVER, gpa, addr) == 0 &&
         vsim_arena_get32(s->arena, VSIM_SIDE_DRIVER, gpa + 8, len) == 0 &&
         vsim_arena_get16(s->arena, VSIM_SIDE_DRIVER, gpa + 12, flags) == 0 &&
         vsim_arena_get16(s->arena, VSIM_SIDE_DRIVER, gpa + 14, next) == 0;
}

/* Device-writable bytes of an indirect table of `len` bytes (at most `max`
 * entries). Split entries keep flags at offset 12, packed ones at 14. */
static uint64_t raw_table_wr_bytes(vsim_sim *s, uint64_t table, uint32_t len, uint16_t max,
                                   bool packed) {
  uint64_t total = 0;
  for (uint32_t k = 0; k < len / 16u && k < max; k++) {
    uint64_t addr;
    uint32_t elen;
    uint16_t w12, w14;
    if (!raw_desc_read(s, table + 16u * k, &addr, &elen, &w12, &w14)) break;
    if ((packed ? w14 : w12) & VRING_DESC_F_WRITE) total += elen;
  }
  return total;
}

/* Device-writable bytes of a raw chain, walked as the driver wrote it,
 * through one indirect table (bounded by the queue size; garbage just gives a
 * smaller number). */
static uint32_t raw_chain_wr_bytes(vsim_sim *s, uint16_t q, uint16_t head) {
  const vsim_vq_drv *vq = &s->drv.vq[q];
  uint64_t total = 0;
  uint16_t i = head;
  for (uint32_t n = 0; n < vq->size && i < vq->size; n++) {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
    if (!raw_desc_read(s, vq->desc + 16u * i, &addr, &len, &flags, &next)) break;
    if (flags & VRING_DESC_F_INDIRECT) {
      total += raw_table_wr_bytes(s, addr, len, vq->size, false);
      break;
    }
    if (flags & VRING_DESC_F_WRITE) total += len;
    if (!(flags & VRING_DESC_F_NEXT)) break;
    i = next;
  }
  return total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
}

/* Device-writable bytes of a raw packed list of `count` slots from the
 * driver's next_avail, through an indirect table (bounded by the queue size). */
static uint32_t raw_plist_wr_bytes(vsim_sim *s, uint16_t q, uint16_t count) {
  const vsim_vq_pdrv *vq = &s->drv.pvq[q];
  uint64_t total = 0;
  for (uint16_t k = 0; k < count && k < vq->size; k++) {
    uint64_t addr;
    uint32_t len;
    uint16_t id, flags;
    if (!raw_desc_read(s, vsim_vq_pdrv_slot_addr(vq, k), &addr, &len, &id, &flags)) break;
    if (flags & VRING_DESC_F_INDIRECT) {
      total += raw_table_wr_bytes(s, addr, len, vq->size, true);
    } else if (flags & VRING_DESC_F_WRITE) {
      total += len;
    }
  }
  return total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
}

/* Raw packed ops need a packed ring and an existing queue. */
static bool packed_queue_usable(vsim_sim *s, const vsim_step *st, uint32_t idx) {
  if (s->drv.packed && st->queue < s->drv.nq && s->drv.vq_init[st->queue]) return true;
  add_failure(s, "step %u (%s, line %u): needs a packed ring with queue %u set up", idx,
              vsim_op_name(st->op), st->line, st->queue);
  return false;
}

static bool queue_usable(vsim_sim *s, const vsim_step *st, uint32_t idx) {
  if (s->drv.packed) {
    /* raw.* ops write the split layout; a packed raw vocabulary is future work */
    add_failure(s, "step %u (%s, line %u): raw ring ops need the split ring", idx,
                vsim_op_name(st->op), st->line);
    return false;
  }
  if (st->queue < s->drv.nq && s->drv.vq_init[st->queue]) return true;
  add_failure(s, "step %u (%s, line %u): queue %u is not set up", idx, vsim_op_name(st->op),
              st->line, st->queue);
  return false;
}

static uint8_t device_status(vsim_sim *s) {
  return s->dev.ops->get_status(s->dev.be);
}

/* The status for observers outside the run (counters, views): not a call the
 * recording holds, so not through the recorder, and from a played-back
 * backend the last status it answered. */
static uint8_t observed_status(const vsim_sim *s) {
  if (s->standin) return vsim_standin_last_status(s->be.backend.be);
  return s->be.backend.ops->get_status(s->be.backend.be);
}

static void check_status_bits(vsim_sim *s, uint8_t has, uint8_t lacks, const char *where) {
  uint8_t st = device_status(s);
  if ((st & has) != has)
    add_failure(s, "%s: device status 0x%02x lacks bits 0x%02x", where, st, has & ~st);
  if (st & lacks) add_failure(s, "%s: device status 0x%02x has bits 0x%02x", where, st, st & lacks);
}

static bool is_dev_op(enum vsim_op op) {
  return op >= VSIM_OP_DEV_USED && op <= VSIM_OP_DEV_NEEDS_RESET;
}

/* A dev.* step: the device acts, so its events are the device worker's of
 * that queue (queue 0 for the ones that concern no queue), and that actor's
 * step ends with it: the checkers close its notification windows there, as
 * they do after a device model's worker step. */
static void exec_dev_step(vsim_sim *s, const vsim_step *st, uint32_t idx) {
  bool queued = st->op != VSIM_OP_DEV_WRITE && st->op != VSIM_OP_DEV_CONFIG &&
                st->op != VSIM_OP_DEV_NEEDS_RESET;
  int actor = 1 + (queued ? st->queue : 0);
  s->current_actor = actor;
  char err[256] = "";
  vsim_devcore *dc = s->be.builtin ? (vsim_devcore *)s->be.backend.be : NULL;
  if (vsim_devscript_step(&s->ds, st, dc, err, sizeof err))
    add_failure(s, "step %u (%s, line %u): %s", idx, vsim_op_name(st->op), st->line, err);
  if (s->checkers_on) vsim_checker_actor_end(&s->chk, actor);
  s->current_actor = ACTOR_DRIVER;
}

/* A raw driver write is judged by the checkers (vsim_checker_driver_write_*). */
static void raw_write_begin(vsim_sim *s) {
  if (s->checkers_on) vsim_checker_driver_write_begin(&s->chk);
}
static void raw_write_end(vsim_sim *s) {
  if (s->checkers_on) vsim_checker_driver_write_end(&s->chk);
}

/* A step drives the built-in model's host side, past the ops table: a
 * recording of the back-end (--record-backend) cannot hold it, and says so
 * (the trace then replays with the model: replay --live). */
static void host_side(vsim_sim *s) {
  if (s->rec) vsim_recorder_outside_call(s->rec);
}

/* host.input: bytes from the host side for the model's input `port`. The
 * model fills receive buffers from them on its own worker's turn; what it
 * accepted counts as given to that receive queue (rx_idle). */
static void host_input(vsim_sim *s, const vsim_step *st, uint32_t idx) {
  if (!s->be.builtin) {
    add_failure(s, "step %u (host.input, line %u): needs a built-in backend (the host side of another "
                "backend is its own)", idx, st->line);
    return;
  }
  uint8_t *buf = malloc(st->data.len ? st->data.len : 1);
  if (!buf) {
    add_failure(s, "out of memory");
    return;
  }
  vsim_data_expand(&st->data, buf);
  char err[256] = "";
  uint16_t q = 0;
  uint32_t took = 0;
  host_side(s);
  if (vsim_devcore_host_input(s->be.backend.be, st->port, buf, st->data.len, &q, &took, err, sizeof err)) {
    add_failure(s, "step %u (host.input, line %u): %s", idx, st->line, err);
  } else {
    if (q < 64) s->rx_given[q] += took;
    /* the input driver judges the events it gets against the host's
     * updates: each one the device took any of, whole (an update dropped
     * whole is never owed, and must not be taken for the start of a later
     * one; one taken in part shows as input.dev-partial-update) */
    if (s->is_input && took) vsim_input_drv_host_update(&s->inp, buf, st->data.len);
  }
  free(buf);
}

/* expect.output: what the model output for `port` since the last look. */
static void expect_output(vsim_sim *s, const vsim_step *st, uint32_t idx) {
  if (!s->be.builtin) {
    add_failure(s, "step %u (expect.output, line %u): needs a built-in backend", idx, st->line);
    return;
  }
  const uint32_t extra = 4096; /* room to see (and report) more than expected */
  uint32_t cap = st->data.len + extra;
  uint8_t *buf = malloc(cap);
  if (!buf) {
    add_failure(s, "out of memory");
    return;
  }
  char err[256] = "";
  host_side(s);
  int64_t n = vsim_devcore_host_output(s->be.backend.be, st->port, buf, cap, err, sizeof err);
  if (n < 0) {
    add_failure(s, "step %u (expect.output, line %u): %s", idx, st->line, err);
  } else if ((uint64_t)n != st->data.len) {
    add_failure(s, "step %u (expect.output, line %u): port %u output %" PRId64 "%s byte(s), expected %u", idx,
                st->line, st->port, n, (uint64_t)n == cap ? " or more" : "", st->data.len);
  } else {
    uint8_t want = 0;
    uint32_t at = vsim_data_mismatch(&st->data, buf, (uint32_t)n, &want);
    if (at != (uint32_t)n)
      add_failure(s, "step %u (expect.output, line %u): port %u output differs at byte %u (got 0x%02x, "
                  "expected 0x%02x)", idx, st->line, st->port, at, buf[at], want);
  }
  /* take the rest, so that the next expect.output starts after it */
  while (n == (int64_t)cap) n = vsim_devcore_host_output(s->be.backend.be, st->port, buf, cap, err, sizeof err);
  free(buf);
}

/* A req.raw on a console: the console driver model judges the buffer's
 * directions and notes a control message (the first 8 bytes suffice). */
static void note_console_request(vsim_sim *s, const vsim_step *st) {
  uint8_t msg[8] = {0};
  uint32_t rd = st->data.len;
  if (rd >= sizeof msg) {
    uint8_t *all = malloc(rd);
    if (all) {
      vsim_data_expand(&st->data, all);
      memcpy(msg, all, sizeof msg);
      free(all);
    }
  }
  vsim_console_drv_note_request(&s->con, st->queue, msg, rd, st->len);
}

/* gpu.expect_scanout: the built-in gpu model's scanout, byte for byte. */
static void expect_scanout(vsim_sim *s, const vsim_step *st, uint32_t idx) {
  const char *op = vsim_op_name(st->op);
  const vsim_devcore *dc = vsim_sim_view_devcore(s);
  uint32_t w = 0, h = 0, fmt = 0;
  if (!dc || dc->device_id != VIRTIO_ID_GPU) {
    add_failure(s, "step %u (%s, line %u): only the built-in gpu model shows its scanouts", idx, op, st->line);
    return;
  }
  void *model = s->be.backend.be;
  if (vsim_gpu_scanout_read(model, st->index, NULL, 0, &w, &h, &fmt)) {
    add_failure(s, "step %u (%s, line %u): scanout %u shows nothing (disabled, or no such scanout)", idx, op,
                st->line, st->index);
    return;
  }
  uint64_t bytes = (uint64_t)w * h * 4;
  if (bytes != st->expect_data.len) {
    add_failure(s, "step %u (%s, line %u): scanout %u is %ux%u (%" PRIu64 " bytes), expect_data has %u", idx, op,
                st->line, st->index, w, h, bytes, st->expect_data.len);
    return;
  }
  uint8_t *px = malloc((size_t)bytes); /* <= 16 MiB: the data spec's bound */
  if (!px) {
    add_failure(s, "step %u (%s, line %u): out of memory", idx, op, st->line);
    return;
  }
  vsim_gpu_scanout_read(model, st->index, px, (size_t)bytes, &w, &h, &fmt);
  uint8_t want = 0;
  uint32_t at = vsim_data_mismatch(&st->expect_data, px, (uint32_t)bytes, &want);
  if (at < bytes)
    add_failure(s, "step %u (%s, line %u): scanout %u pixel (%u, %u) byte %u is 0x%02x, expected 0x%02x", idx, op,
                st->line, st->index, at / 4 % w, at / 4 / w, at % 4, px[at], want);
  free(px);
}

static void exec_step(vsim_sim *s, const vsim_step *st, uint32_t idx) {
  vsim_arena *a = s->arena;
  emit(s, VSIM_EV_STEP_BEGIN, -1, idx, (uint64_t)st->op, 0, 0);
  if (is_dev_op(st->op)) {
    exec_dev_step(s, st, idx);
    return;
  }
  if (is_request_op(st->op)) {
    if (!s->drv.live || driver_gave_up(s)) {
      add_failure(s, "step %u (%s, line %u): device is not live", idx, vsim_op_name(st->op),
                  st->line);
      return;
    }
    s->ctr.submitted++;
    if (st->op == VSIM_OP_REQ_RAW && s->is_console) note_console_request(s, st);
    if (st->op == VSIM_OP_REQ_RAW && s->is_input) vsim_input_drv_note_request(&s->inp, st->queue, st->data.len, st->len);
    if (st->op == VSIM_OP_REQ_RAW) vsim_req_drv_submit(&s->req, st, idx);
    else vsim_blk_drv_submit(&s->blk, st, idx);
    return;
  }
  switch (st->op) {
    case VSIM_OP_INIT:
      /* accept_features: the driver accepts another set from now on (a
       * device must forget the old one at reset) */
      if (st->has_accept)
        s->drv.cfg.accept = driver_accept(s, true, st->accept | (s->sc->ring == VSIM_RING_PACKED
                                                                     ? UINT64_C(1) << VIRTIO_F_RING_PACKED
                                                                     : 0));
      do_init(s, !(st->has_value && st->value == 0));
      break;
    case VSIM_OP_DRIVER_OK: {
      /* the device driver looks at a device that goes live; DRIVER_OK
       * written again to a live one is no new device (probing again would
       * forget what the device announced: console ports, input updates) */
      bool was_live = s->drv.live;
      if (vsim_driver_set_driver_ok(&s->drv) == 0 && !was_live) probe_device(s);
      break;
    }
    case VSIM_OP_GPU_EXPECT_SCANOUT:
      expect_scanout(s, st, idx);
      break;
    case VSIM_OP_RESET:
    case VSIM_OP_FAULT_DEVICE_RESET:
      drop_blk_requests(s);
      vsim_driver_reset(&s->drv);
      emit(s, VSIM_EV_FAULT, -1, (uint64_t)st->op, 0, 0, 0);
      break;
    case VSIM_OP_WAIT:
      /* it ran although requests are in flight: only a scripted device lets it */
      if (pending_requests(s) && !driver_gave_up(s))
        add_failure(s,
                    "step %u (wait, line %u): %u request(s) still in flight; with "
                    "\"device_scripted\" only dev.* steps complete them",
                    idx, st->line, pending_requests(s));
      break;
    case VSIM_OP_POLL: vsim_driver_poll(&s->drv, st->queue); break;
    case VSIM_OP_KICK:
      /* a driver that gave up initialisation (FAILED) notifies nothing: the
       * step fails instead of committing the driver's violations for it */
      if (s->drv.failed) {
        add_failure(s, "step %u (kick, line %u): the driver has failed initialisation", idx, st->line);
        break;
      }
      vsim_driver_notify(&s->drv, st->queue,
                         st->has_value ? (uint32_t)st->value : vsim_driver_notify_value(&s->drv, st->queue));
      break;
    case VSIM_OP_RAW_DESC: {
      if (!queue_usable(s, st, idx)) break;
      uint64_t base = s->drv.vq[st->queue].desc + 16u * (uint64_t)st->index;
      raw_write_begin(s);
      vsim_arena_put64(a, VSIM_SIDE_DRIVER, base, st->addr);
      vsim_arena_put32(a, VSIM_SIDE_DRIVER, base + 8, st->len);
      vsim_arena_put16(a, VSIM_SIDE_DRIVER, base + 12, (uint16_t)st->flags);
      vsim_arena_put16(a, VSIM_SIDE_DRIVER, base + 14, (uint16_t)st->next);
      raw_write_end(s);
      break;
    }
    case VSIM_OP_RAW_AVAIL: {
      if (!queue_usable(s, st, idx)) break;
      vsim_vq_drv *vq = &s->drv.vq[st->queue];
      for (unsigned i = 0; i < st->nheads; i++)
        if (st->heads[i] < vq->size)
          vsim_vq_drv_raw_track(vq, st->heads[i], raw_chain_wr_bytes(s, st->queue, st->heads[i]));
      vsim_vq_drv_raw_avail(vq, st->heads, st->nheads);
      s->ctr.submitted += st->nheads;
      vsim_driver_kick_if_needed(&s->drv, st->queue);
      break;
    }
    case VSIM_OP_RAW_PDESC:
      if (packed_queue_usable(s, st, idx)) {
        raw_write_begin(s);
        vsim_vq_pdrv_raw_desc(&s->drv.pvq[st->queue], (uint16_t)st->index, st->addr, st->len, st->id,
                              (uint16_t)st->flags, st->exact);
        raw_write_end(s);
      }
      break;
    case VSIM_OP_RAW_PPUBLISH:
      if (packed_queue_usable(s, st, idx)) {
        uint16_t count = (uint16_t)st->value;
        vsim_vq_pdrv_raw_publish(&s->drv.pvq[st->queue], count, st->id,
                                 raw_plist_wr_bytes(s, st->queue, count));
        s->ctr.submitted++;
        vsim_driver_kick_if_needed(&s->drv, st->queue);
      }
      break;
    case VSIM_OP_QUEUE_RESET:
      /* a device that does not show the reset completed is the checkers' to
       * judge (mmio.dev-queue-reset-done); the step only fails without the
       * feature, and then nothing is reset: the requests in flight stay the
       * driver's (forgetting them would hand their ids, and their
       * completions, to the next requests) */
      if (!((s->drv.features >> VIRTIO_F_RING_RESET) & 1u)) {
        add_failure(s, "step %u (queue.reset, line %u): VIRTIO_F_RING_RESET is not negotiated", idx,
                    st->line);
      } else {
        drop_blk_requests_on(s, st->queue);
        vsim_driver_queue_reset(&s->drv, st->queue);
      }
      break;
    case VSIM_OP_QUEUE_ENABLE:
      if (vsim_driver_queue_enable(&s->drv, st->queue, st->has_value ? (uint16_t)st->value : 0))
        add_failure(s, "step %u (queue.enable, line %u): queue %u could not be enabled", idx, st->line,
                    st->queue);
      break;
    case VSIM_OP_MMIO_WRITE:
      /* as the driver: the transport model and the checkers see an ordinary
       * register access (a forbidden one is the driver's violation); on
       * virtio-pci the offset is in BAR 0, which holds every structure */
      if (s->pci)
        vsim_pci_bar_write(&s->pcif, 0, st->offset, st->len, (uint32_t)st->value);
      else
        vsim_mmio_write(&s->mmio, st->offset, st->len, (uint32_t)st->value);
      break;
    case VSIM_OP_PCI_CFG_WRITE:
    case VSIM_OP_PCI_CFG_READ: {
      /* as the driver, like mmio.read / mmio.write: the function and the
       * checkers see an ordinary configuration access (an offset past the
       * 256 bytes or a bad width is refused by the function: reads 0) */
      if (!s->pci) {
        add_failure(s, "step %u (%s, line %u): no PCI configuration space over virtio-mmio", idx,
                    vsim_op_name(st->op), st->line);
        break;
      }
      if (st->op == VSIM_OP_PCI_CFG_WRITE) {
        vsim_pci_cfg_write(&s->pcif, st->offset, st->len, (uint32_t)st->value);
        break;
      }
      uint32_t v = vsim_pci_cfg_read(&s->pcif, st->offset, st->len);
      if (st->has_value && v != (uint32_t)st->value)
        add_failure(s, "step %u (pci.cfg.read, line %u): configuration space 0x%02x reads 0x%x, expected 0x%x", idx,
                    st->line, st->offset, v, (uint32_t)st->value);
      break;
    }
    case VSIM_OP_MMIO_READ: {
      uint32_t v = s->pci ? vsim_pci_bar_read(&s->pcif, 0, st->offset, st->len)
                          : vsim_mmio_read(&s->mmio, st->offset, st->len);
      if (st->has_value && v != (uint32_t)st->value)
        add_failure(s, "step %u (mmio.read, line %u): register 0x%03x reads 0x%x, expected 0x%x", idx, st->line,
                    st->offset, v, (uint32_t)st->value);
      if (st->unchanged && !s->mmio_seen[st->offset])
        add_failure(s, "step %u (mmio.read, line %u): \"unchanged\" but register 0x%03x was not read before", idx,
                    st->line, st->offset);
      else if (st->unchanged && v != s->mmio_last[st->offset])
        add_failure(s, "step %u (mmio.read, line %u): register 0x%03x reads 0x%x, it read 0x%x before", idx, st->line,
                    st->offset, v, s->mmio_last[st->offset]);
      s->mmio_last[st->offset] = v;
      s->mmio_seen[st->offset] = 1;
      break;
    }
    case VSIM_OP_RAW_AVAIL_IDX:
      if (queue_usable(s, st, idx))
        vsim_arena_put16(a, VSIM_SIDE_DRIVER, s->drv.vq[st->queue].avail + 2, (uint16_t)st->value);
      break;
    case VSIM_OP_RAW_AVAIL_FLAGS:
      if (queue_usable(s, st, idx))
        vsim_arena_put16(a, VSIM_SIDE_DRIVER, s->drv.vq[st->queue].avail, (uint16_t)st->value);
      break;
    case VSIM_OP_RAW_USED_EVENT:
      if (queue_usable(s, st, idx)) {
        const vsim_vq_drv *vq = &s->drv.vq[st->queue];
        vsim_arena_put16(a, VSIM_SIDE_DRIVER, vq->avail + 4 + 2u * vq->size, (uint16_t)st->value);
      }
      break;
    case VSIM_OP_RAW_WRITE: {
      uint8_t *buf = malloc(st->data.len ? st->data.len : 1);
      if (!buf) break;
      vsim_data_expand(&st->data, buf);
      raw_write_begin(s);
      int wr = vsim_arena_put(a, VSIM_SIDE_DRIVER, st->addr, buf, st->data.len);
      raw_write_end(s);
      if (wr)
        add_failure(s, "step %u (raw.write, line %u): address 0x%" PRIx64 "+%u outside guest memory",
                    idx, st->line, st->addr, st->data.len);
      free(buf);
      break;
    }
    case VSIM_OP_FAULT_DELAY_IRQ:
      s->irq_delay = st->value;
      emit(s, VSIM_EV_FAULT, -1, (uint64_t)st->op, st->value, 0, 0);
      break;
    case VSIM_OP_FAULT_NEEDS_RESET:
      emit(s, VSIM_EV_FAULT, -1, (uint64_t)st->op, 0, 0, 0);
      if (s->be.builtin) vsim_devcore_needs_reset(s->be.backend.be, -1);
      else add_failure(s, "step %u: fault.needs_reset needs a built-in backend", idx);
      break;
    case VSIM_OP_HOST_INPUT: host_input(s, st, idx); break;
    case VSIM_OP_EXPECT_OUTPUT: expect_output(s, st, idx); break;
    case VSIM_OP_HOST_EVENT: {
      char err[256] = "";
      if (!s->be.builtin)
        add_failure(s, "step %u (host.event, line %u): needs a built-in backend", idx, st->line);
      else if (host_side(s), vsim_devcore_host_event(s->be.backend.be, st->port, st->type, (uint32_t)st->value, err, sizeof err))
        add_failure(s, "step %u (host.event, line %u): %s", idx, st->line, err);
      break;
    }
    case VSIM_OP_EXPECT: {
      char where[64];
      snprintf(where, sizeof where, "step %u (expect, line %u)", idx, st->line);
      check_status_bits(s, st->status_has, st->status_lacks, where);
      break;
    }
    default: break;
  }
}

/* "driver_batch": up to N consecutive blk requests in one driver step, and
 * one kick decision per queue after the last (Linux: virtqueue_add_sgs N
 * times, then virtqueue_kick_prepare). The batch ends early at a step that
 * is not a blk request or cannot go yet (ring or slots full). */
static void run_batch(vsim_sim *s) {
  vsim_driver_batch_begin(&s->drv);
  for (uint32_t n = 0; n < s->sc->driver_batch; n++) {
    const vsim_step *st = cur_step(s);
    if (!st || !is_request_op(st->op) || (n > 0 && !step_can_run(s, st))) break;
    exec_step(s, st, take_step(s));
  }
  vsim_driver_batch_end(&s->drv);
}

static int driver_run(void *ctx, int id) {
  vsim_sim *s = ctx;
  s->current_actor = ACTOR_DRIVER;
  if ((s->drv.live || s->drv.nq) && vsim_driver_irq_pending(&s->drv)) {
    vsim_driver_handle_irq(&s->drv);
  } else if (s->sc->driver_poll && (s->drv.live || s->drv.nq) && vsim_driver_used_pending(&s->drv)) {
    for (uint16_t q = 0; q < s->drv.nq; q++) vsim_driver_poll(&s->drv, q);
  } else if (s->init_pending) {
    s->init_pending = false;
    do_init(s, true);
  } else {
    const vsim_step *st = cur_step(s);
    if (st && s->sc->driver_batch > 1 && is_request_op(st->op)) {
      run_batch(s);
    } else if (st) {
      exec_step(s, st, take_step(s));
    }
  }
  if (s->checkers_on) vsim_checker_actor_end(&s->chk, ACTOR_DRIVER);
  return 0;
}

/* ---- device workers and the interrupt timer ---- */

static bool device_runnable(void *ctx, int id) {
  vsim_sim *s = ctx;
  /* a scripted device acts in dev.* steps only: its model serves no queue */
  if (s->sc->device_scripted) return false;
  if (s->dev_polled) return s->dev_ready[id - 1];
  return s->dev.ops->queue_runnable(s->dev.be, (uint16_t)(id - 1));
}

static int device_run(void *ctx, int id) {
  vsim_sim *s = ctx;
  s->current_actor = id;
  if (s->checkers_on) vsim_checker_actor_begin(&s->chk, id);
  s->work_q = (uint16_t)(id - 1);
  s->work_mark = vsim_arena_access_count_side(s->arena, VSIM_SIDE_DEVICE);
  s->work_on = s->checkers_on;
  int r = s->dev.ops->queue_run(s->dev.be, (uint16_t)(id - 1), s->sc->device_batch);
  if (s->work_on) work_window_end(s);
  s->work_on = false;
  if (s->checkers_on) vsim_checker_actor_end(&s->chk, id);
  if (r < 0) {
    /* a backend's own error (a plugin's, say) is a result, not an engine crash */
    add_failure(s, "device worker of queue %d failed (queue_run returned %d)", id - 1, r);
    s->done = true;
  }
  return 0;
}

static bool timer_runnable(void *ctx, int id) {
  vsim_sim *s = ctx;
  return s->irq_held_bits && s->sched.clock >= s->irq_due;
}

static int timer_run(void *ctx, int id) {
  vsim_sim *s = ctx;
  s->current_actor = ACTOR_TIMER;
  /* an interrupt held across a device reset belongs to the device that was
   * reset: it is dropped, as the reset clears InterruptStatus */
  bool stale = s->irq_epoch != s->mmio.resets;
  if (!stale) release_irqs(s);
  emit(s, VSIM_EV_FAULT, -1, VSIM_OP_FAULT_DELAY_IRQ, s->irq_held_bits, stale ? 2 : 1, 0);
  s->irq_held_bits = 0;
  s->irq_held_queues = 0;
  return 0;
}

/* ---- construction ---- */

/* A range of guest memory the backend wrote unseen (found by the recorder,
 * or played back): the watches learn of it, and the checkers judge it. */
static void device_wrote(void *ctx, uint64_t gpa, uint64_t len) {
  vsim_sim *s = ctx;
  vsim_arena_note(s->arena, VSIM_SIDE_DEVICE, gpa, len);
  if (s->checkers_on && s->chk.sink) vsim_checker_device_wrote(&s->chk, gpa, len);
}

static void trace_line(void *ctx, const char *line) { vsim_trace_note(ctx, line); }

/* Replay forces these decisions back (sim/replay.c). */
static void sched_picked(void *ctx, uint64_t step, int id) {
  vsim_trace_pick(&((vsim_sim *)ctx)->trace, id);
}

/* The scenario's own text as a JSON string, so that a trace replays without
 * the file (which may have changed since): the buffer given to
 * vsim_sim_load_buffer, else the file read again. NULL when unreadable. */
static json_t *scenario_text(const vsim_sim *s) {
  if (s->src_text) return json_stringn(s->src_text, s->src_len);
  FILE *f = fopen(s->sc->path, "rb");
  if (!f) return NULL;
  long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  char *buf = size >= 0 && size <= (long)VSIM_SCENARIO_MAX_FILE && fseek(f, 0, SEEK_SET) == 0
                  ? malloc((size_t)size + 1)
                  : NULL;
  size_t n = buf ? fread(buf, 1, (size_t)size, f) : 0;
  fclose(f);
  json_t *t = buf && n == (size_t)size ? json_stringn(buf, n) : NULL;
  free(buf);
  return t;
}

/* The driver core's completions and queue stops, to the request's owner. */
static void driver_complete(void *ctx, uint16_t q, uint64_t token, uint32_t len) {
  vsim_sim *s = ctx;
  if (vsim_req_drv_owns(token)) vsim_req_drv_complete(&s->req, q, token, len);
  else if (vsim_console_drv_owns(token)) vsim_console_drv_complete(&s->con, q, token, len);
  else if (vsim_input_drv_owns(token)) vsim_input_drv_complete(&s->inp, q, token, len);
  else vsim_blk_drv_complete(&s->blk, q, token, len);
}

static void driver_queue_stopped(void *ctx, uint16_t q) {
  vsim_sim *s = ctx;
  vsim_blk_drv_queue_stopped(&s->blk, q);
  vsim_req_drv_queue_stopped(&s->req, q);
  if (s->is_console) vsim_console_drv_drop(&s->con, q);
  if (s->is_input) vsim_input_drv_drop(&s->inp, q);
}

/* The built-in net model's wire, for the net driver's judge (net_drv.h). */
/* The net model's wire, which the net driver model judges transmitted frames
 * against: its host side (a recording cannot hold it: host_side). */
static bool net_wire_frame(void *ctx, uint32_t i, uint16_t *q, const uint8_t **bytes, uint32_t *len) {
  vsim_sim *s = ctx;
  host_side(s);
  const vsim_net_frame *f = vsim_net_frame_at(s->be.backend.be, i, bytes);
  if (!f) return false;
  *q = f->queue;
  *len = f->len;
  return true;
}

static uint64_t net_wire_missed(void *ctx) {
  vsim_sim *s = ctx;
  return vsim_net_stats_of(s->be.backend.be)->tx_not_captured;
}

static int build(vsim_sim *s, char *err, size_t errlen) {
  vsim_scenario *sc = s->sc;
  if (s->opt.has_policy && (s->opt.policy < 0 || s->opt.policy > VSIM_POLICY_RANDOM)) {
    snprintf(err, errlen, "policy %d out of range (0 scripted, 1 round-robin, 2 random)", s->opt.policy);
    return -1;
  }
  if (s->opt.has_ring && (s->opt.ring < 0 || s->opt.ring > VSIM_RING_PACKED)) {
    snprintf(err, errlen, "ring %d out of range (0 split, 1 packed)", s->opt.ring);
    return -1;
  }
  if (s->opt.has_seed) sc->seed = s->opt.seed;
  if (s->opt.has_policy) sc->policy = (enum vsim_policy)s->opt.policy;
  if (s->opt.has_max_steps) sc->max_steps = s->opt.max_steps;
  if (s->opt.has_ring) sc->ring = (enum vsim_ring)s->opt.ring;
  if (s->opt.has_transport) {
    if (s->opt.transport < 0 || s->opt.transport > VSIM_TRANSPORT_PCI) {
      snprintf(err, errlen, "transport %d out of range (0 mmio, 1 pci)", s->opt.transport);
      return -1;
    }
    sc->transport = (enum vsim_transport_kind)s->opt.transport;
  }
  vsim_backend_spec bspec;
  memset(&bspec, 0, sizeof bspec);
  snprintf(bspec.open_name, sizeof bspec.open_name, "%s", sc->device);
  /* --backend, else the scenario's own ("backend": the scripted vhost-user
   * peer, its path resolved by the loader) */
  const char *backend = s->opt.backend ? s->opt.backend : sc->backend;
  if (backend) {
    char berr[640];
    if (vsim_backend_spec_parse(backend, &bspec, berr, sizeof berr)) {
      snprintf(err, errlen, "%s", berr);
      return -1;
    }
    if (bspec.kind == VSIM_BACKEND_BUILTIN && strcmp(bspec.open_name, sc->device) != 0) {
      snprintf(err, errlen, "backend '%s' is a %s device; the scenario drives a %s device",
               backend, bspec.open_name, sc->device);
      return -1;
    }
    sc->mutants = vsim_mut_or(sc->mutants, bspec.mutants);
  }
  if (sc->ring == VSIM_RING_PACKED) {
    /* the layout is orthogonal to a scenario's feature lists: a packed run
     * offers and accepts RING_PACKED whatever else the lists say */
    sc->offered |= UINT64_C(1) << VIRTIO_F_RING_PACKED;
    sc->accept |= UINT64_C(1) << VIRTIO_F_RING_PACKED;
    sc->refuse &= ~(UINT64_C(1) << VIRTIO_F_RING_PACKED);
  }

  s->checkers_on = !s->opt.checkers_off;
  vsim_trace_init(&s->trace);
  if (s->opt.trace_path && vsim_trace_open(&s->trace, s->opt.trace_path)) {
    snprintf(err, errlen, "cannot write trace file %s", s->opt.trace_path);
    return -1;
  }
  s->fail = calloc(MAX_FAILURES, sizeof *s->fail);
  /* an out-of-process back-end maps guest RAM: a memfd (sim/arena_shared.h);
   * played back from a trace it is not there */
  s->standin = s->opt.standin != NULL;
  s->arena = bspec.kind == VSIM_BACKEND_VHOST_USER && !s->standin
                 ? vsim_arena_new_memfd(sc->arena_size, err, (unsigned)errlen)
                 : vsim_arena_new(sc->arena_size);
  if (!s->fail || !s->arena) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  for (unsigned i = 0; i < sc->nregions; i++)
    vsim_arena_set_region(s->arena, sc->regions[i].base, sc->regions[i].len, sc->regions[i].perm);
  vsim_arena_set_fault_sink(s->arena, arena_fault, s);
  s->host = (vsim_host){s,          s->arena,   host_interrupt, host_config_changed,
                       host_violation, host_event, host_now};

  const char *keys[64], *vals[64];
  unsigned nkv = sc->nconfig < 64 ? sc->nconfig : 64;
  for (unsigned i = 0; i < nkv; i++) {
    keys[i] = sc->config[i].key;
    vals[i] = sc->config[i].value;
  }
  vsim_backend_params p = {
      .host = &s->host,
      .num_queues = sc->num_queues,
      .queue_max_size = sc->queue_max,
      .has_offered_features = sc->has_offered,
      .offered_features = sc->offered,
      .refuse_features = sc->refuse,
      .latency = sc->device_latency,
      .in_order_batch = sc->device_in_order_batch,
      .irq_coalesce_count = sc->irq_coalesce_count,
      .irq_coalesce_time = sc->irq_coalesce_time,
      .poll_period = sc->device_poll,
      .mutants = sc->mutants,
      .config_keys = keys,
      .config_values = vals,
      .config_count = nkv,
  };
  /* A back-end that is not one of ours is judged by what it writes, byte by
   * byte (an out-of-process one writes guest memory unseen: the recorder
   * finds it), and recorded when a trace is written, so that the run
   * replays without it. A built-in model only when asked. A scripted device
   * is the scenario's, not the backend's: nothing to record. */
  bool record = !s->standin && !sc->device_scripted &&
                (bspec.kind != VSIM_BACKEND_BUILTIN || s->opt.record_backend);
  if (record) {
    s->rec = vsim_recorder_new(&s->host, s->arena, device_wrote, s, s->trace.out != NULL,
                               bspec.kind == VSIM_BACKEND_VHOST_USER);
    if (!s->rec) {
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    p.host = vsim_recorder_host(s->rec);
  }
  char berr[1024] = "";
  s->is_fs = strcmp(sc->device, "fs") == 0;
  s->is_console = strcmp(sc->device, "console") == 0;
  s->is_input = strcmp(sc->device, "input") == 0;
  s->is_net = strcmp(sc->device, "net") == 0;
  s->is_gpu = strcmp(sc->device, "gpu") == 0;
  if (bspec.kind == VSIM_BACKEND_BUILTIN && s->is_fs && !s->standin) {
    snprintf(err, errlen, "%s: device 'fs' has no built-in model: run it against a back-end "
             "(--backend vhost-user:SOCKET, or --backend vhost-user --backend-cmd 'virtiofsd ... {socket}')",
             sc->path);
    return -1;
  }
  if (s->standin) {
    if (vsim_standin_create(s->opt.standin, &s->host, device_wrote, s, s->opt.standin_diverged,
                            s->opt.standin_ctx, &s->be.backend, err, (unsigned)errlen))
      return -1;
  } else if (vsim_backend_open_device(bspec.open_name, sc->device, &p, &s->be, berr, sizeof berr)) {
    /* the loader's messages name the plugin themselves */
    if (bspec.kind != VSIM_BACKEND_BUILTIN)
      snprintf(err, errlen, "%s: %s", sc->path, berr);
    else
      snprintf(err, errlen, "%s: device '%s': %s", sc->path, bspec.open_name, berr);
    return -1;
  }
  s->dev = s->be.backend;
  if (s->rec) vsim_recorder_attach(s->rec, s->be.backend, &s->dev);
  update_rx_mask(s); /* after the creation's record, which the attach ends */
  vsim_backend tb = s->dev;
  if (sc->device_scripted) {
    s->ds_ops = *tb.ops;
    s->ds_ops.queue_notify = scripted_queue_notify;
    tb.ops = &s->ds_ops;
  }
  if (vsim_mmio_init(&s->mmio, tb, &s->host, sc->mutants)) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  s->drv_mmio = (vsim_drv_mmio){.m = &s->mmio, .mutants = sc->mutants};
  vsim_drv_transport tr = {&vsim_drv_mmio_ops, &s->drv_mmio};
  s->pci = sc->transport == VSIM_TRANSPORT_PCI;
  if (s->pci) {
    /* MSI-X: one vector per queue and the config vector unless the scenario
     * says otherwise (at least 2, the spec's SHOULD; at most what the BAR serves) */
    unsigned nv = sc->msix_vectors >= 0 ? (unsigned)sc->msix_vectors : s->mmio.nq + 1u;
    if (sc->msix_vectors < 0 && nv > VSIM_PCI_MSIX_MAX) nv = VSIM_PCI_MSIX_MAX;
    if (vsim_pci_init(&s->pcif, &s->mmio, &sc->mutants, nv)) {
      snprintf(err, errlen, "%s: the device has %u queues: more notify addresses than the virtio-pci function's "
               "BAR holds", sc->path, (unsigned)s->mmio.nq);
      return -1;
    }
    vsim_drv_pci_init(&s->drv_pci, &s->pcif, &s->host, &sc->mutants);
    tr = (vsim_drv_transport){&vsim_drv_pci_ops, &s->drv_pci};
  }
  vsim_driver_config dc = {
      /* the scenario's ring decides whether the driver takes RING_PACKED */
      .accept = driver_accept(s, sc->has_accept, sc->accept),
      /* fs: no MQ bit, the queue count is in the config space (num_request_queues) */
      .understood = s->is_fs        ? vsim_fs_drv_understood()
                    : s->is_console ? vsim_console_drv_understood()
                    : s->is_input   ? vsim_input_drv_understood()
                    : s->is_net     ? vsim_net_drv_understood()
                    : s->is_gpu     ? vsim_gpu_drv_understood()
                                    : vsim_blk_drv_understood(),
      .queue_size = sc->queue_size,
      .num_queues = sc->num_queues,
      /* net: the queues are pairs and a control queue whatever MQ says
       * (without MQ the control queue is queue 2) */
      .mq_feature = s->is_fs || s->is_console || s->is_input || s->is_net || s->is_gpu ? -1 : VIRTIO_BLK_F_MQ,
      .poll = sc->driver_poll,
      .mutants = sc->mutants,
      .close_features = s->is_net ? vsim_net_drv_close : NULL,
      .refused_on_purpose = sc->refuse,
      /* blk: config fields read before FEATURES_OK too. Not for a vhost-user
       * back-end: the adapter reads its config space once, at connection
       * (GET_CONFIG), and hands out that copy, so there is nothing to judge,
       * and every call costs a comparison of guest memory with the mirror */
      .before_features_ok = s->is_fs || s->is_console || s->is_input || s->is_net || s->is_gpu ||
                                    bspec.kind == VSIM_BACKEND_VHOST_USER
                                ? NULL
                                : vsim_blk_drv_before_features_ok,
      .hook_ctx = &s->blk,
  };
  if (vsim_driver_create(&s->drv, tr, s->arena, &s->host, &dc, driver_complete, s)) {
    snprintf(err, errlen, "%s: arena_size %" PRIu64 " is too small for %u queue(s) of %u entries",
             sc->path, sc->arena_size, sc->num_queues, sc->queue_size);
    return -1;
  }
  if (vsim_blk_drv_init(&s->blk, &s->drv, &s->host, fail_cb, s) ||
      vsim_req_drv_init(&s->req, &s->drv, &s->host, sc->saved_names, fail_cb, s)) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (s->is_net) {
    vsim_net_drv_init(&s->net, &s->drv, &s->host);
    if (s->be.builtin && !s->standin) {
      s->net.wire_frame = net_wire_frame;
      s->net.wire_missed = net_wire_missed;
      s->net.wire_ctx = s;
    }
    s->req.on_submit = vsim_net_drv_submit;
    s->req.on_complete = vsim_net_drv_complete;
    s->req.obs_ctx = &s->net;
  }
  if (s->is_gpu) {
    vsim_gpu_drv_init(&s->gpu, &s->drv, &s->host);
    s->req.on_submit = vsim_gpu_drv_submit;
    s->req.on_complete = vsim_gpu_drv_on_complete;
    s->req.obs_ctx = &s->gpu;
  }
  vsim_driver_on_stop(&s->drv, driver_queue_stopped, s);
  vsim_console_drv_init(&s->con, &s->drv, &s->host, sc->mutants, fail_cb, s);
  vsim_input_drv_init(&s->inp, &s->drv, &s->host, sc->mutants, fail_cb, s);
  if (s->is_input) {
    /* the scenario's eventq buffers take events too: the input driver
     * model judges theirs with its own */
    s->req.on_complete = vsim_input_drv_request_done;
    s->req.obs_ctx = &s->inp;
  }
  if (s->is_console) {
    /* and its control receive buffers take the device's control messages */
    s->req.on_complete = vsim_console_drv_request_done;
    s->req.obs_ctx = &s->con;
  }
  vsim_checker_init(&s->chk, &s->host, s->arena, &s->mmio);
  s->chk.pci = s->pci;
  s->chk.console = s->is_console;
  s->chk.input = s->is_input;
  s->chk.blk = strcmp(sc->device, "blk") == 0;
  /* the virtio device id the scenario's device type has: the PCI Device ID
   * the function must present follows from it (pci.dev-discovery-ids) */
  static const struct {
    const char *name;
    uint32_t id;
  } type_ids[] = {{"net", VIRTIO_ID_NET}, {"blk", VIRTIO_ID_BLOCK}, {"console", VIRTIO_ID_CONSOLE},
                  {"gpu", VIRTIO_ID_GPU}, {"input", VIRTIO_ID_INPUT}, {"fs", VIRTIO_ID_FS}};
  for (unsigned i = 0; i < sizeof type_ids / sizeof type_ids[0]; i++)
    if (strcmp(sc->device, type_ids[i].name) == 0) s->chk.pcs.expect_type = type_ids[i].id;
  s->chk.writes_judged = s->rec || s->standin;
  if (sc->device_scripted) {
    vsim_devscript_init(&s->ds, &s->host, sc->num_queues);
    s->ds_on = true;
  }

  vsim_sched_init(&s->sched, sc->policy, sc->seed, sc->max_steps);
  vsim_sched_force(&s->sched, s->opt.forced_picks, s->opt.nforced_picks);
  if (s->trace.out) {
    s->sched.on_pick = sched_picked;
    s->sched.on_pick_ctx = s;
  }
  for (uint16_t q = 0; q < sc->num_queues; q++) {
    vsim_actor a = {1 + q, device_runnable, device_run, s};
    vsim_sched_add(&s->sched, &a, 10 + q);
  }
  vsim_actor timer = {ACTOR_TIMER, timer_runnable, timer_run, s};
  vsim_sched_add(&s->sched, &timer, 1000);
  vsim_actor driver = {ACTOR_DRIVER, driver_runnable, driver_run, s};
  vsim_sched_add(&s->sched, &driver, 2000);

  s->init_pending = sc->auto_init && !(sc->nsteps > 0 && sc->steps[0].op == VSIM_OP_INIT);
  snprintf(s->repro, sizeof s->repro, "virtio-sim run %s --seed %" PRIu64 " --policy %s --ring %s",
           sc->path, sc->seed, vsim_policy_name(sc->policy),
           sc->ring == VSIM_RING_PACKED ? "packed" : "split");
  if (s->opt.has_transport) {
    size_t used = strlen(s->repro);
    snprintf(s->repro + used, sizeof s->repro - used, " --transport %s", s->pci ? "pci" : "mmio");
  }
  if (s->opt.features_off) {
    size_t used = strlen(s->repro);
    snprintf(s->repro + used, sizeof s->repro - used, " --features-off 0x%" PRIx64, s->opt.features_off);
  }
  if (s->opt.backend) {
    size_t used = strlen(s->repro);
    snprintf(s->repro + used, sizeof s->repro - used, " --backend '%s'", s->opt.backend);
  }
  if (s->trace.out) {
    /* built with jansson so that any scenario name stays valid JSON */
    json_t *hdr = json_pack("{s:{s:s,s:s,s:I,s:s,s:s}}", "header", "scenario", sc->name, "path",
                            sc->path, "seed", (json_int_t)sc->seed, "policy",
                            vsim_policy_name(sc->policy), "version", VSIM_VERSION);
    /* what replay needs (sim/replay.h): the effective run settings, the
     * overrides given, and the scenario text */
    json_t *h = json_object_get(hdr, "header");
    json_t *given = json_object();
    if (s->opt.has_seed) json_object_set_new(given, "seed", json_integer((json_int_t)s->opt.seed));
    if (s->opt.has_policy) json_object_set_new(given, "policy", json_string(vsim_policy_name(sc->policy)));
    if (s->opt.has_ring) json_object_set_new(given, "ring", json_string(s->opt.ring ? "packed" : "split"));
    if (s->opt.has_transport) json_object_set_new(given, "transport", json_string(s->pci ? "pci" : "mmio"));
    if (s->opt.has_max_steps) json_object_set_new(given, "max_steps", json_integer((json_int_t)s->opt.max_steps));
    if (s->opt.checkers_off) json_object_set_new(given, "checkers_off", json_true());
    if (s->opt.backend) json_object_set_new(given, "backend", json_string(s->opt.backend));
    if (s->opt.features_off)
      json_object_set_new(given, "features_off", json_integer((json_int_t)s->opt.features_off));
    json_object_set_new(h, "format", json_integer(2));
    json_object_set_new(h, "ring", json_string(sc->ring == VSIM_RING_PACKED ? "packed" : "split"));
    json_object_set_new(h, "max_steps", json_integer((json_int_t)sc->max_steps));
    json_object_set_new(h, "checkers", json_boolean(s->checkers_on));
    json_object_set_new(h, "options", given);
    json_object_set_new(h, "scenario_text", scenario_text(s));
    /* the backend's calls follow as {"be":...} lines: replay plays them
     * back instead of starting it (backend-model/be_log.h) */
    if (s->rec) json_object_set_new(h, "backend_recorded", json_true());
    char *text = hdr ? json_dumps(hdr, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    if (text) vsim_trace_begin(&s->trace, text);
    free(text);
    json_decref(hdr);
    if (s->rec) vsim_recorder_output(s->rec, trace_line, &s->trace);
  }
  return 0;
}

static vsim_sim *finish_load(vsim_scenario *sc, const vsim_options *opt, const char *text,
                             size_t text_len, char *err, size_t errlen) {
  if (!sc) return NULL;
  vsim_sim *s = calloc(1, sizeof *s);
  if (!s) {
    vsim_scenario_free(sc);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  s->sc = sc;
  if (opt) s->opt = *opt;
  s->current_actor = -1;
  s->src_text = text;
  s->src_len = text_len;
  int r = build(s, err, errlen);
  s->src_text = NULL;
  if (r) {
    vsim_sim_free(s);
    return NULL;
  }
  return s;
}

vsim_sim *vsim_sim_load(const char *path, const vsim_options *opt, char *err, size_t errlen) {
  return finish_load(vsim_scenario_load_file(path, err, errlen), opt, NULL, 0, err, errlen);
}

vsim_sim *vsim_sim_load_buffer(const char *json, size_t len, const char *name,
                               const vsim_options *opt, char *err, size_t errlen) {
  return finish_load(vsim_scenario_load_buffer(json, len, name, err, errlen), opt, json, len, err,
                     errlen);
}

void vsim_sim_free(vsim_sim *s) {
  if (!s) return;
  vsim_trace_close(&s->trace);
  vsim_checker_fini(&s->chk);
  if (s->ds_on) vsim_devscript_fini(&s->ds);
  vsim_blk_drv_fini(&s->blk);
  vsim_req_drv_fini(&s->req);
  vsim_driver_destroy(&s->drv);
  vsim_mmio_fini(&s->mmio);
  vsim_backend_close(&s->be);
  vsim_recorder_free(s->rec);
  vsim_arena_free(s->arena);
  if (s->fail)
    for (size_t i = 0; i < s->nfail; i++) free(s->fail[i]);
  free(s->fail);
  free(s->viol);
  vsim_scenario_free(s->sc);
  free(s);
}

/* ---- running ---- */

/* Requests are pending and nobody can move: name what is stuck. */
static void report_stall(vsim_sim *s) {
  s->stalled = true;
  for (uint16_t q = 0; q < s->drv.nq; q++) {
    uint32_t inflight = vsim_driver_queue_inflight(&s->drv, q);
    if (inflight == 0 || rx_idle(s, q)) continue;
    char d[VSIM_VIOLATION_DETAIL_MAX];
    if (vsim_driver_queue_used_pending(&s->drv, q))
      snprintf(d, sizeof d,
               "queue %u: %u request(s) pending, completions in the used ring but no interrupt "
               "(lost used-buffer notification)",
               q, inflight);
    else
      snprintf(d, sizeof d,
               "queue %u: %u request(s) pending, the device is idle (lost available-buffer "
               "notification or a wedged device)",
               q, inflight);
    emit(s, VSIM_EV_STALL, q, inflight, 0, 0, 0);
    host_violation(s, VSIM_CHK_LIVENESS_STALL, q, d);
  }
}

/* Steps in a row that emitted no event at all: an actor that says it is
 * runnable but does nothing (a wedged backend, or an engine bug) would
 * otherwise spin until max_steps. */
#define IDLE_STEP_LIMIT 4096

/* A polling device always has a next poll due, so "nothing can run" never
 * comes: the run is over when the script is done and the driver waits for
 * nothing (no request in flight, no interrupt pending or held). */
static bool poll_run_over(vsim_sim *s) {
  return !s->init_pending && s->next_step >= s->sc->nsteps && pending_requests(s) == 0 &&
         !s->irq_held_bits && !((s->drv.live || s->drv.nq) && vsim_driver_irq_pending(&s->drv));
}

int vsim_sim_step(vsim_sim *s) {
  if (s->done) return 0;
  if (s->sc->device_poll && poll_run_over(s)) {
    s->current_actor = -1;
    s->done = true;
    return 0;
  }
  uint64_t events_before = s->trace.count;
  if (s->rec || s->standin) {
    s->dev_polled = false;
    for (uint16_t q = 0; q < s->sc->num_queues && !s->sc->device_scripted; q++)
      s->dev_ready[q] = s->dev.ops->queue_runnable(s->dev.be, q);
    s->dev_polled = true;
  }
  int r = vsim_sched_step(&s->sched);
  if (r == 1) {
    s->idle_steps = s->trace.count == events_before ? s->idle_steps + 1 : 0;
    if (s->idle_steps >= IDLE_STEP_LIMIT) {
      char d[VSIM_VIOLATION_DETAIL_MAX];
      snprintf(d, sizeof d, "actor %d ran %u steps in a row without doing anything (spinning)",
               s->sched.actors[s->sched.last].id, IDLE_STEP_LIMIT);
      s->current_actor = -1;
      host_violation(s, VSIM_CHK_LIVENESS_STALL, -1, d);
      s->stalled = true;
      s->done = true;
      return 0;
    }
    return 1;
  }
  if (r == -1) {
    s->out_of_steps = true;
    s->done = true;
    return 0;
  }
  if (r < -1) return -1;
  /* nothing runnable: only timed work can still happen (a held interrupt, a
   * request the device holds); jump the clock to the earliest */
  uint64_t next = s->irq_held_bits ? s->irq_due : UINT64_MAX;
  if (s->dev.ops->queue_next_due)
    for (uint16_t q = 0; q < s->sc->num_queues; q++) {
      uint64_t due = s->dev.ops->queue_next_due(s->dev.be, q);
      if (due < next) next = due;
    }
  if (next != UINT64_MAX && next > s->sched.clock) {
    s->sched.clock = next;
    return 1;
  }
  s->current_actor = -1;
  bool script_left = s->next_step < s->sc->nsteps || s->init_pending;
  if (!driver_gave_up(s) && (pending_requests(s) > 0 || script_left)) report_stall(s);
  /* the device gave up (DEVICE_NEEDS_RESET) holding requests it had to take;
   * after any other finding (a driver rule broken, bad device output) giving
   * up is that finding's consequence, not a framing of its own */
  if (s->drv.needs_reset && s->nviol == 0) vsim_blk_drv_abandoned(&s->blk);
  s->done = true;
  return 0;
}

static void final_expectations(vsim_sim *s) {
  vsim_scenario *sc = s->sc;
  /* what the console driver still owed at the end is its violation */
  if (s->is_console && s->checkers_on && !driver_gave_up(s)) vsim_console_drv_finish(&s->con);
  if (s->is_input && s->checkers_on && !driver_gave_up(s)) vsim_input_drv_finish(&s->inp);
  if (s->is_net && s->checkers_on && !driver_gave_up(s)) vsim_net_drv_finish(&s->net);
  if (s->out_of_steps) add_failure(s, "the run hit max_steps (%" PRIu64 ")", sc->max_steps);
  if (s->rec && s->trace.out && vsim_recorder_lost(s->rec))
    add_failure(s, "the backend's recording in the trace is incomplete (it acted outside any call the engine "
                   "made, a step drove its host side, or memory ran out): the trace replays only with the "
                   "backend (replay --live)");
  if (s->next_step < sc->nsteps && sc->repeat > 1)
    add_failure(s, "the script stopped at step %zu of %zu (pass %" PRIu64 " of %" PRIu64 ")", s->next_step,
                sc->nsteps, s->iter + 1, sc->repeat);
  else if (s->next_step < sc->nsteps)
    add_failure(s, "the script stopped at step %zu of %zu", s->next_step, sc->nsteps);
  if (s->opt.violations_judged_by_caller) {
    /* the caller (conformance runner) judges violations itself */
  } else if (sc->has_expect_violations) {
    bool seen[VSIM_CHK__COUNT] = {false};
    for (size_t i = 0; i < s->nviol; i++) seen[s->viol[i].check] = true;
    bool expected[VSIM_CHK__COUNT] = {false};
    for (size_t i = 0; i < sc->nexpect_violations; i++) {
      /* a scenario written for the split ring runs unchanged on the packed
       * ring: each expected check stands for the same rule on that layout */
      int c = sc->expect_violations[i];
      if (sc->ring == VSIM_RING_PACKED) c = vsim_check_on_packed(c);
      if (c >= 0) expected[c] = true;
    }
    for (int c = 0; c < VSIM_CHK__COUNT; c++) {
      if (expected[c] && !seen[c])
        add_failure(s, "expected violation %s did not happen", vsim_check_info_get(c)->id);
      if (seen[c] && !expected[c])
        add_failure(s, "unexpected violation %s", vsim_check_info_get(c)->id);
    }
  } else if (s->nviol) {
    add_failure(s, "%zu violation(s), none expected", s->nviol);
  }
  check_status_bits(s, sc->expect_status_has, sc->expect_status_lacks, "end of run");
  struct {
    const char *name;
    const vsim_count_expect *e;
    uint64_t v;
  } counts[] = {{"kicks", &sc->expect_kicks, s->mmio.notifies},
                {"interrupts", &sc->expect_irqs, s->ctr.interrupts},
                {"completed", &sc->expect_completed, s->blk.completed + s->req.completed}};
  for (unsigned i = 0; i < 3; i++)
    if (counts[i].e->set && (counts[i].v < counts[i].e->min || counts[i].v > counts[i].e->max))
      add_failure(s, "%s = %" PRIu64 ", expected %" PRIu64 "..%" PRIu64, counts[i].name, counts[i].v,
                  counts[i].e->min, counts[i].e->max);
}

int vsim_sim_run(vsim_sim *s) {
  while (vsim_sim_step(s) == 1) {
  }
  if (!s->finished) {
    final_expectations(s);
    vsim_trace_footer(&s->trace, s->sched.step); /* with the scheduler's decisions */
    vsim_trace_close(&s->trace);
    s->finished = true;
  }
  return s->nfail ? 1 : 0;
}

size_t vsim_sim_script_position(const vsim_sim *s) { return s->next_step; }
size_t vsim_sim_script_length(const vsim_sim *s) { return s->sc->nsteps; }
uint64_t vsim_sim_device_features(const vsim_sim *s) { return s->drv.offered; }
uint64_t vsim_sim_driver_features(const vsim_sim *s) { return s->drv.features; }
uint64_t vsim_sim_trace_hash(const vsim_sim *s) { return s->trace.hash; }
uint64_t vsim_sim_steps(const vsim_sim *s) { return s->sched.step; }
uint64_t vsim_sim_seed(const vsim_sim *s) { return s->sc->seed; }
const char *vsim_sim_policy_name(const vsim_sim *s) { return vsim_policy_name(s->sc->policy); }
vsim_arena *vsim_sim_arena(vsim_sim *s) { return s->arena; }
size_t vsim_sim_violation_count(const vsim_sim *s) { return s->nviol; }
const vsim_violation *vsim_sim_violation(const vsim_sim *s, size_t i) {
  return i < s->nviol ? &s->viol[i] : NULL;
}
size_t vsim_sim_failure_count(const vsim_sim *s) { return s->nfail; }
const char *vsim_sim_failure(const vsim_sim *s, size_t i) { return i < s->nfail ? s->fail[i] : NULL; }
/* s->ctr accumulates what only the engine sees (interrupts, submissions);
 * the rest is read where it lives, never copied. */
void vsim_sim_counters(const vsim_sim *s, vsim_counters *out) {
  *out = s->ctr;
  out->kicks = s->mmio.notifies;
  out->completed = s->blk.completed + s->req.completed;
  out->events = s->trace.count;
  out->stalled = s->stalled;
  out->latency_total = s->blk.latency_total + s->req.latency_total;
  out->latency_max = s->blk.latency_max > s->req.latency_max ? s->blk.latency_max : s->req.latency_max;
  out->clock = s->sched.clock;
  if (s->be.builtin) {
    const vsim_devcore *dc = s->be.backend.be;
    out->bytes_copied = dc->bytes_copied;
    out->bytes_moved = dc->bytes_moved;
  }
  out->device_status = observed_status(s);
}
const char *vsim_sim_repro(const vsim_sim *s) { return s->repro; }
const char *vsim_sim_name(const vsim_sim *s) { return s->sc->name; }

int vsim_sim_write_pcap(const vsim_sim *s, const char *path, char *err, size_t errlen) {
  if (!s->be.builtin || !s->is_net || s->standin) {
    snprintf(err, errlen, "a pcap needs the built-in net model (this run drives %s%s)", s->sc->device,
             s->be.builtin ? "" : " through another backend");
    return -1;
  }
  if (!path) return 0;
  FILE *f = fopen(path, "wb");
  if (!f) {
    snprintf(err, errlen, "cannot write %s", path);
    return -1;
  }
  const void *model = s->be.backend.be;
  int bad = vsim_pcap_begin(f);
  for (uint32_t i = 0; !bad && i < vsim_net_frames(model); i++) {
    const uint8_t *bytes = NULL;
    const vsim_net_frame *fr = vsim_net_frame_at(model, i, &bytes);
    bad = vsim_pcap_frame(f, fr->when, bytes, fr->len);
  }
  if (fclose(f) != 0) bad = -1;
  if (bad) snprintf(err, errlen, "writing %s failed", path);
  return bad ? -1 : 0;
}

/* Read-only views for the replay tools (sim/replay.h): show, SVG, timeline. */
const struct vsim_driver *vsim_sim_view_driver(const vsim_sim *s) { return &s->drv; }
const struct vsim_devcore *vsim_sim_view_devcore(const vsim_sim *s) {
  return s->be.builtin ? (const struct vsim_devcore *)s->be.backend.be : NULL;
}
const struct vsim_tcore *vsim_sim_view_mmio(const vsim_sim *s) { return &s->mmio; }
const vsim_backend *vsim_sim_view_backend(const vsim_sim *s) { return &s->be.backend; }
const struct vsim_sched *vsim_sim_view_sched(const vsim_sim *s) { return &s->sched; }
uint8_t vsim_sim_view_status(const vsim_sim *s) {
  return observed_status(s);
}
