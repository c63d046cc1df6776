/* frontend-model/console_drv.c — the virtio-console driver model (see console_drv.h). */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include "console_drv.h"
#include "le.h"
#include "virtiosim/checks.h"
#include "host_report.h"

#define BIT(b) (UINT64_C(1) << (b))
#define CTRL_LEN ((uint32_t)sizeof(struct virtio_console_control))
#define CTRL_RXQ 2u
#define CTRL_TXQ 3u
/* Control receive buffers kept posted, and their size: a message and a
 * port name (Linux posts pages; 128 bytes hold every message this model
 * knows, and a device that sends a longer name gets it cut, as the used
 * length says). */
#define CTRL_RX_BUFS 4u
#define CTRL_RX_LEN 128u

enum { VSIM_CON_P_EXISTS = 1, VSIM_CON_P_CONSOLE = 2, VSIM_CON_P_OPEN_SENT = 4 };

static const char *event_name(uint16_t e) {
  static const char *const names[] = {"DEVICE_READY", "DEVICE_ADD", "DEVICE_REMOVE", "PORT_READY",
                                      "CONSOLE_PORT", "RESIZE", "PORT_OPEN", "PORT_NAME"};
  return e < sizeof names / sizeof names[0] ? names[e] : "unknown event";
}

void vsim_console_drv_init(vsim_console_drv *c, vsim_driver *drv, const vsim_host *sink, vsim_mutset mutants,
                           vsim_console_fail_fn fail, void *fail_ctx) {
  memset(c, 0, sizeof *c);
  c->drv = drv;
  c->sink = sink;
  c->mutants = mutants;
  c->fail = fail;
  c->fail_ctx = fail_ctx;
}

uint64_t vsim_console_drv_understood(void) {
  return vsim_driver_core_features() | BIT(VIRTIO_CONSOLE_F_SIZE) | BIT(VIRTIO_CONSOLE_F_MULTIPORT) |
         BIT(VIRTIO_CONSOLE_F_EMERG_WRITE);
}

bool vsim_console_drv_owns(uint64_t token) {
  return token >= VSIM_CONSOLE_DRV_TOKEN_BASE && token - VSIM_CONSOLE_DRV_TOKEN_BASE < VSIM_CONSOLE_DRV_SLOTS;
}

static bool mut(const vsim_console_drv *c, int m) { return vsim_mut_has(&c->mutants, m); }

/* The buffer direction rules, for any chain the driver side puts in a
 * console queue: receiveqs are the even queues (port 0's, the control
 * receiveq, port p's at 2 + 2p), transmitqs the odd ones. */
static void judge_directions(vsim_console_drv *c, uint16_t q, uint32_t rd, uint32_t wr) {
  if (!(q & 1u) && rd)
    vsim_host_reportf(c->sink, VSIM_CHK_CON_DRV_RX_READABLE, q,
              "queue %u is a receiveq; the driver put a buffer with %u device-readable byte(s) in it", q, rd);
  if ((q & 1u) && wr)
    vsim_host_reportf(c->sink, VSIM_CHK_CON_DRV_TX_WRITABLE, q,
              "queue %u is a transmitq; the driver put a buffer with %u device-writable byte(s) in it", q, wr);
}

/* A control message the driver sends (ours or the scenario's). */
static void note_sent(vsim_console_drv *c, uint32_t id, uint16_t event, uint16_t value) {
  if (event == VIRTIO_CONSOLE_DEVICE_READY) {
    c->ready_sent = true;
    return;
  }
  if (!c->ready_sent && !c->ready_judged) {
    c->ready_judged = true;
    vsim_host_reportf(c->sink, VSIM_CHK_CON_DRV_DEVICE_READY, CTRL_TXQ,
              "MULTIPORT negotiated; the driver sent %s (port %u) before DEVICE_READY", event_name(event), id);
  }
  if (event == VIRTIO_CONSOLE_PORT_OPEN && id < VSIM_CONSOLE_DRV_PORTS && (c->port[id] & VSIM_CON_P_CONSOLE) &&
      !(c->port[id] & VSIM_CON_P_OPEN_SENT)) {
    c->port[id] |= VSIM_CON_P_OPEN_SENT; /* judged once, right or wrong */
    if (value != 1)
      vsim_host_reportf(c->sink, VSIM_CHK_CON_DRV_PORT_OPEN, CTRL_TXQ,
                "port %u was announced as a console port; the driver answered PORT_OPEN with value %u, not 1", id,
                value);
  }
}

static int free_slot(vsim_console_drv *c) {
  for (unsigned i = 0; i < VSIM_CONSOLE_DRV_SLOTS; i++)
    if (!c->slot[i].busy) return (int)i;
  return -1;
}

/* Submit slot k's buffer: `rd` device-readable bytes then the rest writable. */
static int submit(vsim_console_drv *c, unsigned k) {
  vsim_console_slot *s = &c->slot[k];
  vsim_seg segs[2];
  unsigned nout = 0, nin = 0;
  if (s->rd) segs[nout++] = (vsim_seg){s->gpa, s->rd, false};
  if (s->len > s->rd) segs[nout + nin++] = (vsim_seg){s->gpa + s->rd, s->len - s->rd, true};
  judge_directions(c, s->q, s->rd, s->len - s->rd);
  if (vsim_driver_submit(c->drv, s->q, segs, nout, nin, VSIM_CONSOLE_DRV_TOKEN_BASE + k) < 0) {
    vsim_driver_free(c->drv, s->gpa, s->len);
    s->busy = false;
    return -1;
  }
  return 0;
}

static void post_rx(vsim_console_drv *c) {
  int k = free_slot(c);
  uint32_t rd = mut(c, VSIM_MUT_DRV_CON_RX_READABLE) ? 1u : 0u;
  uint64_t gpa = k < 0 ? 0 : vsim_driver_alloc(c->drv, CTRL_RX_LEN + rd);
  if (!gpa) {
    c->fail(c->fail_ctx, "console driver: no room for a control receive buffer");
    return;
  }
  c->slot[k] = (vsim_console_slot){true, CTRL_RXQ, gpa, CTRL_RX_LEN + rd, rd};
  submit(c, (unsigned)k);
}

static void send_ctrl(vsim_console_drv *c, uint32_t id, uint16_t event, uint16_t value) {
  int k = free_slot(c);
  uint32_t wr = mut(c, VSIM_MUT_DRV_CON_TX_WRITABLE) ? 1u : 0u;
  uint64_t gpa = k < 0 ? 0 : vsim_driver_alloc(c->drv, CTRL_LEN + wr);
  if (!gpa) {
    c->fail(c->fail_ctx, "console driver: no room for a control message");
    return;
  }
  uint8_t b[CTRL_LEN];
  vsim_le_st32(b + offsetof(struct virtio_console_control, id), id);
  vsim_le_st16(b + offsetof(struct virtio_console_control, event), event);
  vsim_le_st16(b + offsetof(struct virtio_console_control, value), value);
  vsim_arena_write(c->drv->arena, VSIM_SIDE_DRIVER, gpa, b, CTRL_LEN);
  c->slot[k] = (vsim_console_slot){true, CTRL_TXQ, gpa, CTRL_LEN + wr, CTRL_LEN};
  note_sent(c, id, event, value);
  if (submit(c, (unsigned)k))
    c->fail(c->fail_ctx, "console driver: the control transmitq took no message (full or stopped)");
}

void vsim_console_drv_probe(vsim_console_drv *c) {
  vsim_driver *d = c->drv;
  memset(c->port, 0, sizeof c->port);
  c->ready_sent = c->ready_judged = false;
  c->multiport = (d->features & BIT(VIRTIO_CONSOLE_F_MULTIPORT)) && d->nq >= 4 && d->vq_init[CTRL_RXQ] &&
                 d->vq_init[CTRL_TXQ];
  if (!c->multiport) return;
  c->max_nr_ports =
      (uint32_t)vsim_driver_config_read(d, offsetof(struct virtio_console_config, max_nr_ports), 4);
  unsigned n = d->cfg.queue_size < CTRL_RX_BUFS ? d->cfg.queue_size : CTRL_RX_BUFS;
  for (unsigned i = 0; i < n; i++) post_rx(c);
  if (!mut(c, VSIM_MUT_DRV_CON_NO_DEVICE_READY)) send_ctrl(c, 0, VIRTIO_CONSOLE_DEVICE_READY, 1);
}

/* One control message from the device: judge it, and answer it when it
 * came in one of the driver model's own buffers (`answer`). */
static void received(vsim_console_drv *c, const uint8_t *b, uint32_t len, bool answer) {
  c->messages++;
  if (len < CTRL_LEN) {
    char msg[160];
    snprintf(msg, sizeof msg, "console driver: the device used a control receive buffer with %u byte(s), fewer "
             "than a control message (%u)", len, CTRL_LEN);
    c->fail(c->fail_ctx, msg);
    return;
  }
  uint32_t id = vsim_le_ld32(b + offsetof(struct virtio_console_control, id));
  uint16_t event = vsim_le_ld16(b + offsetof(struct virtio_console_control, event));
  bool tracked = id < VSIM_CONSOLE_DRV_PORTS;
  uint8_t *p = tracked ? &c->port[id] : NULL;
  switch (event) {
    case VIRTIO_CONSOLE_PORT_ADD:
      if (id >= c->max_nr_ports) {
        vsim_host_reportf(c->sink, VSIM_CHK_CON_DEV_PORT_ADD, CTRL_RXQ, "DEVICE_ADD for port %u, but max_nr_ports is %u", id,
                  c->max_nr_ports);
        return;
      }
      if (p && (*p & VSIM_CON_P_EXISTS)) {
        vsim_host_reportf(c->sink, VSIM_CHK_CON_DEV_PORT_ADD, CTRL_RXQ, "DEVICE_ADD for port %u, which exists already", id);
        return;
      }
      /* a port past what this model tracks is readied but not judged again */
      if (p) *p = VSIM_CON_P_EXISTS;
      if (answer) send_ctrl(c, id, VIRTIO_CONSOLE_PORT_READY, 1);
      return;
    case VIRTIO_CONSOLE_PORT_REMOVE:
      if (!tracked) return; /* not tracked (see DEVICE_ADD): not judged */
      if (!(*p & VSIM_CON_P_EXISTS)) {
        vsim_host_reportf(c->sink, VSIM_CHK_CON_DEV_PORT_REMOVE, CTRL_RXQ,
                  "DEVICE_REMOVE for port %u, which no DEVICE_ADD created (or which was removed already)", id);
        return;
      }
      *p = 0;
      return;
    case VIRTIO_CONSOLE_CONSOLE_PORT:
      if (!p || !(*p & VSIM_CON_P_EXISTS)) return; /* no port to open: nothing to answer */
      *p |= VSIM_CON_P_CONSOLE;
      *p &= (uint8_t)~VSIM_CON_P_OPEN_SENT;
      if (answer) send_ctrl(c, id, VIRTIO_CONSOLE_PORT_OPEN, mut(c, VSIM_MUT_DRV_CON_PORT_OPEN_ZERO) ? 0 : 1);
      return;
    default: return; /* PORT_OPEN, PORT_NAME, RESIZE: nothing the driver must answer */
  }
}

void vsim_console_drv_complete(vsim_console_drv *c, uint16_t q, uint64_t token, uint32_t len) {
  unsigned k = (unsigned)(token - VSIM_CONSOLE_DRV_TOKEN_BASE);
  if (k >= VSIM_CONSOLE_DRV_SLOTS || !c->slot[k].busy) return;
  vsim_console_slot *s = &c->slot[k];
  if (s->q != CTRL_RXQ) {
    vsim_driver_free(c->drv, s->gpa, s->len);
    s->busy = false;
    return;
  }
  uint8_t b[CTRL_RX_LEN];
  uint32_t wrote = len < s->len - s->rd ? len : s->len - s->rd; /* trust no more than the buffer */
  if (vsim_arena_read(c->drv->arena, VSIM_SIDE_DRIVER, s->gpa + s->rd, b, wrote) == 0) received(c, b, wrote, true);
  /* the buffer goes back for the next message */
  if (submit(c, k)) c->fail(c->fail_ctx, "console driver: the control receiveq took no buffer back");
}

void vsim_console_drv_drop(vsim_console_drv *c, int q) {
  for (unsigned k = 0; k < VSIM_CONSOLE_DRV_SLOTS; k++) {
    vsim_console_slot *s = &c->slot[k];
    if (!s->busy || (q >= 0 && s->q != q)) continue;
    vsim_driver_free(c->drv, s->gpa, s->len);
    s->busy = false;
  }
  if (q < 0) {
    c->multiport = false;
    memset(c->port, 0, sizeof c->port);
  }
}

void vsim_console_drv_note_request(vsim_console_drv *c, uint16_t q, const uint8_t *data, uint32_t rd, uint32_t wr) {
  judge_directions(c, q, rd, wr);
  if (q == CTRL_TXQ && c->multiport && rd >= CTRL_LEN)
    note_sent(c, vsim_le_ld32(data + offsetof(struct virtio_console_control, id)),
              vsim_le_ld16(data + offsetof(struct virtio_console_control, event)),
              vsim_le_ld16(data + offsetof(struct virtio_console_control, value)));
}

void vsim_console_drv_request_done(void *ctx, uint16_t q, const uint8_t *out, uint32_t out_len, const uint8_t *in,
                                   uint32_t in_len, uint32_t used) {
  vsim_console_drv *c = ctx;
  /* a buffer given back empty holds no message (one too small for the
   * next message is, console.c); `used` is at most in_len already */
  if (q == CTRL_RXQ && c->multiport && used > 0) received(c, in, used, false);
}

void vsim_console_drv_finish(vsim_console_drv *c) {
  if (c->multiport && !c->ready_sent && !c->ready_judged) {
    c->ready_judged = true;
    vsim_host_reportf(c->sink, VSIM_CHK_CON_DRV_DEVICE_READY, CTRL_TXQ,
              "MULTIPORT negotiated and the device live; the driver never sent DEVICE_READY");
  }
  for (unsigned id = 0; c->multiport && id < VSIM_CONSOLE_DRV_PORTS; id++)
    if ((c->port[id] & VSIM_CON_P_CONSOLE) && !(c->port[id] & VSIM_CON_P_OPEN_SENT))
      vsim_host_reportf(c->sink, VSIM_CHK_CON_DRV_PORT_OPEN, CTRL_TXQ,
                "port %u was announced as a console port; the driver never answered PORT_OPEN 1", id);
}
