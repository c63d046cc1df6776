/* frontend-model/input_drv.c — the virtio-input driver model (see input_drv.h). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/input-event-codes.h>
#include <linux/virtio_input.h>
#include "input_drv.h"
#include "le.h"
#include "virtiosim/checks.h"
#include "host_report.h"

#define EV_LEN 8u
#define EVENTQ 0u
#define STATUSQ 1u
#define SIZE_OFF ((uint32_t)offsetof(struct virtio_input_config, size))
#define UNION_OFF ((uint32_t)offsetof(struct virtio_input_config, u))
#define EVENT_BUFS 8u

static bool mut(const vsim_input_drv *c, int m) { return vsim_mut_has(&c->mutants, m); }

void vsim_input_drv_init(vsim_input_drv *c, vsim_driver *drv, const vsim_host *sink, vsim_mutset mutants,
                         vsim_input_fail_fn fail, void *fail_ctx) {
  memset(c, 0, sizeof *c);
  c->drv = drv;
  c->sink = sink;
  c->mutants = mutants;
  c->fail = fail;
  c->fail_ctx = fail_ctx;
}

uint64_t vsim_input_drv_understood(void) { return vsim_driver_core_features(); }

bool vsim_input_drv_owns(uint64_t token) {
  return token >= VSIM_INPUT_DRV_TOKEN_BASE && token - VSIM_INPUT_DRV_TOKEN_BASE < VSIM_INPUT_DRV_SLOTS;
}

/* ---- config queries ---- */

static void put8(vsim_input_drv *c, uint32_t off, uint8_t v) { c->drv->tr.ops->config_write(c->drv->tr.t, off, &v, 1); }

/* Select a query; returns its size. */
static uint8_t query(vsim_input_drv *c, uint8_t sel, uint8_t sub) {
  vsim_driver *d = c->drv;
  if (mut(c, VSIM_MUT_DRV_INPUT_WIDE_WRITE)) {
    uint8_t w[4] = {sel, sub, 0, 0};
    d->tr.ops->config_write(d->tr.t, 0, w, 4);
  } else {
    put8(c, offsetof(struct virtio_input_config, select), sel);
    if (!(mut(c, VSIM_MUT_DRV_INPUT_SELECT_ONLY) && sel == VIRTIO_INPUT_CFG_ID_SERIAL))
      put8(c, offsetof(struct virtio_input_config, subsel), sub);
  }
  if (mut(c, VSIM_MUT_DRV_INPUT_NO_SIZE) && sel == VIRTIO_INPUT_CFG_ID_NAME)
    (void)vsim_driver_config_read(d, UNION_OFF, 1);
  return (uint8_t)vsim_driver_config_read(d, SIZE_OFF, 1);
}

/* The answer's bytes, one access per field width (strings and bitmaps byte
 * by byte: their fields are u8). */
static void read_union(vsim_input_drv *c, uint8_t *dst, uint8_t size) {
  /* the union is 128 bytes; a size beyond it is the device's nonsense, and
   * the driver reads no further than the union (dst holds 128 bytes) */
  if (size > sizeof(((struct virtio_input_config *)0)->u)) {
    char msg[128];
    snprintf(msg, sizeof msg, "input driver: the device answers a query with size %u, past the 128-byte union", size);
    c->fail(c->fail_ctx, msg);
    size = (uint8_t)sizeof(((struct virtio_input_config *)0)->u);
  }
  for (uint32_t i = 0; i < size; i++) dst[i] = (uint8_t)vsim_driver_config_read(c->drv, UNION_OFF + i, 1);
}

/* Pairs no device supports: size must read 0. */
static void probe_unsupported(vsim_input_drv *c) {
  static const uint8_t pairs[][2] = {{VIRTIO_INPUT_CFG_UNSET, 0}, {0x7f, 0}, {VIRTIO_INPUT_CFG_ID_NAME, 1}};
  for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
    uint8_t size = query(c, pairs[i][0], pairs[i][1]);
    if (size)
      vsim_host_reportf(c->sink, VSIM_CHK_INPUT_DEV_SIZE, -1, "select 0x%02x subsel %u is not supported by any device, yet size "
                "reads %u (it MUST read 0)", pairs[i][0], pairs[i][1], size);
  }
}

/* ---- buffers ---- */

static int free_slot(vsim_input_drv *c) {
  for (unsigned i = 0; i < VSIM_INPUT_DRV_SLOTS; i++)
    if (!c->slot[i].busy) return (int)i;
  return -1;
}

static void judge_buffer(vsim_input_drv *c, uint16_t q, uint32_t rd, uint32_t wr) {
  if (q == EVENTQ && (rd || wr < EV_LEN))
    vsim_host_reportf(c->sink, VSIM_CHK_INPUT_DRV_EVENTQ_BUF, q, "an eventq buffer of %u device-readable and %u device-writable "
              "bytes (it MUST be device-writable and hold a %u-byte event)", rd, wr, EV_LEN);
  if (q == STATUSQ && (uint64_t)rd + wr < EV_LEN)
    vsim_host_reportf(c->sink, VSIM_CHK_INPUT_DRV_STATUSQ_BUF, q, "a statusq buffer of %u bytes (at least a %u-byte event)",
              rd + wr, EV_LEN);
}

static int submit(vsim_input_drv *c, unsigned k) {
  vsim_input_slot *s = &c->slot[k];
  vsim_seg seg = {s->gpa, s->len, s->q == EVENTQ};
  judge_buffer(c, s->q, seg.write ? 0 : s->len, seg.write ? s->len : 0);
  if (vsim_driver_submit(c->drv, s->q, &seg, seg.write ? 0 : 1, seg.write ? 1 : 0, VSIM_INPUT_DRV_TOKEN_BASE + k) < 0) {
    vsim_driver_free(c->drv, s->gpa, s->len);
    s->busy = false;
    return -1;
  }
  return 0;
}

static void post_event_buffer(vsim_input_drv *c) {
  int k = free_slot(c);
  uint32_t len = mut(c, VSIM_MUT_DRV_INPUT_SHORT_EVENT_BUF) ? 4u : EV_LEN;
  uint64_t gpa = k < 0 ? 0 : vsim_driver_alloc(c->drv, len);
  if (!gpa) {
    c->fail(c->fail_ctx, "input driver: no room for an eventq buffer");
    return;
  }
  c->slot[k] = (vsim_input_slot){true, EVENTQ, gpa, len};
  submit(c, (unsigned)k);
}

static void send_status(vsim_input_drv *c, uint16_t type, uint16_t code, uint32_t value) {
  int k = free_slot(c);
  uint32_t len = mut(c, VSIM_MUT_DRV_INPUT_SHORT_STATUS) ? 4u : EV_LEN;
  uint64_t gpa = k < 0 ? 0 : vsim_driver_alloc(c->drv, EV_LEN);
  if (!gpa) {
    c->fail(c->fail_ctx, "input driver: no room for a status event");
    return;
  }
  uint8_t ev[EV_LEN];
  vsim_le_st16(ev + offsetof(struct virtio_input_event, type), type);
  vsim_le_st16(ev + offsetof(struct virtio_input_event, code), code);
  vsim_le_st32(ev + offsetof(struct virtio_input_event, value), value);
  vsim_arena_write(c->drv->arena, VSIM_SIDE_DRIVER, gpa, ev, EV_LEN);
  c->slot[k] = (vsim_input_slot){true, STATUSQ, gpa, len};
  if (submit(c, (unsigned)k)) c->fail(c->fail_ctx, "input driver: the statusq took no buffer");
}

void vsim_input_drv_probe(vsim_input_drv *c) {
  vsim_driver *d = c->drv;
  c->live = d->nq >= 2 && d->vq_init[EVENTQ] && d->vq_init[STATUSQ];
  if (!c->live) return;
  uint8_t buf[128];
  read_union(c, buf, query(c, VIRTIO_INPUT_CFG_ID_NAME, 0));
  read_union(c, buf, query(c, VIRTIO_INPUT_CFG_ID_SERIAL, 0));
  if (query(c, VIRTIO_INPUT_CFG_ID_DEVIDS, 0))
    for (uint32_t i = 0; i < sizeof(struct virtio_input_devids); i += 2)
      (void)vsim_driver_config_read(d, UNION_OFF + i, 2);
  read_union(c, buf, query(c, VIRTIO_INPUT_CFG_PROP_BITS, 0));
  static const uint8_t types[] = {EV_KEY, EV_REL, EV_ABS, EV_MSC, EV_SW, EV_LED, EV_SND, EV_REP};
  uint8_t abs[128] = {0};
  for (size_t i = 0; i < sizeof types; i++) {
    uint8_t size = query(c, VIRTIO_INPUT_CFG_EV_BITS, types[i]);
    c->ev_size[types[i]] = size;
    read_union(c, types[i] == EV_ABS ? abs : buf, size);
  }
  for (unsigned axis = 0; axis <= ABS_MAX; axis++) {
    if (!((abs[axis / 8] >> (axis % 8)) & 1u)) continue;
    if (query(c, VIRTIO_INPUT_CFG_ABS_INFO, (uint8_t)axis))
      for (uint32_t i = 0; i < sizeof(struct virtio_input_absinfo); i += 4)
        (void)vsim_driver_config_read(d, UNION_OFF + i, 4);
  }
  probe_unsupported(c);
  /* half the ring (at least one): the rest is the scenario's (req.raw) */
  unsigned n = d->cfg.queue_size / 2u ? d->cfg.queue_size / 2u : 1u;
  if (n > EVENT_BUFS) n = EVENT_BUFS;
  for (unsigned i = 0; i < n; i++) post_event_buffer(c);
  if (c->ev_size[EV_LED]) send_status(c, EV_LED, LED_NUML, 0);
}

/* ---- events against the host's updates ---- */

static void forget_events(vsim_input_drv *c, uint32_t n) {
  c->ev_head = (c->ev_head + n) % VSIM_INPUT_DRV_EVENTS;
  c->ev_count -= n;
}

static void next_update(vsim_input_drv *c) {
  forget_events(c, c->upd_len[c->upd_head] - c->upd_pos);
  c->upd_head = (c->upd_head + 1) % VSIM_INPUT_DRV_UPDATES;
  c->upd_count--;
  c->upd_pos = 0;
  c->upd_seq++;
}

static void delivered(vsim_input_drv *c, const uint8_t *ev) {
  c->events++;
  if (c->untracked) return;
  while (c->upd_count) {
    if (memcmp(ev, c->ev[c->ev_head], EV_LEN) == 0) {
      forget_events(c, 1);
      if (++c->upd_pos == c->upd_len[c->upd_head]) {
        c->upd_pos = 0; /* all of it: next_update must not forget more */
        c->upd_head = (c->upd_head + 1) % VSIM_INPUT_DRV_UPDATES;
        c->upd_count--;
        c->upd_seq++;
      }
      return;
    }
    /* not the next event of the oldest update: that update was dropped,
     * which the device may do whole, never in part */
    if (c->upd_pos)
      vsim_host_reportf(c->sink, VSIM_CHK_INPUT_DEV_UPDATE, EVENTQ, "host update %u: %u of its %u events delivered, then an event "
                "of a later update", c->upd_seq, c->upd_pos, c->upd_len[c->upd_head]);
    next_update(c);
  }
  char msg[160];
  snprintf(msg, sizeof msg, "input driver: the device delivered an event (type %u code %u) that no host.input gave",
           vsim_le_ld16(ev), vsim_le_ld16(ev + 2));
  c->fail(c->fail_ctx, msg);
}

void vsim_input_drv_host_update(vsim_input_drv *c, const uint8_t *data, uint32_t len) {
  uint32_t n = len / EV_LEN;
  if (c->untracked || !n) return;
  if (c->upd_count == VSIM_INPUT_DRV_UPDATES || c->ev_count + n > VSIM_INPUT_DRV_EVENTS) {
    c->untracked = true;
    return;
  }
  for (uint32_t i = 0; i < n; i++)
    memcpy(c->ev[(c->ev_head + c->ev_count + i) % VSIM_INPUT_DRV_EVENTS], data + (size_t)i * EV_LEN, EV_LEN);
  c->ev_count += n;
  c->upd_len[(c->upd_head + c->upd_count++) % VSIM_INPUT_DRV_UPDATES] = n;
}

void vsim_input_drv_complete(vsim_input_drv *c, uint16_t q, uint64_t token, uint32_t len) {
  unsigned k = (unsigned)(token - VSIM_INPUT_DRV_TOKEN_BASE);
  if (k >= VSIM_INPUT_DRV_SLOTS || !c->slot[k].busy) return;
  vsim_input_slot *s = &c->slot[k];
  if (s->q != EVENTQ) {
    vsim_driver_free(c->drv, s->gpa, s->len);
    s->busy = false;
    return;
  }
  uint8_t ev[EV_LEN];
  if (len >= EV_LEN && s->len >= EV_LEN && vsim_arena_read(c->drv->arena, VSIM_SIDE_DRIVER, s->gpa, ev, EV_LEN) == 0)
    delivered(c, ev);
  if (submit(c, k)) c->fail(c->fail_ctx, "input driver: the eventq took no buffer back");
}

void vsim_input_drv_drop(vsim_input_drv *c, int q) {
  for (unsigned k = 0; k < VSIM_INPUT_DRV_SLOTS; k++) {
    vsim_input_slot *s = &c->slot[k];
    if (!s->busy || (q >= 0 && s->q != q)) continue;
    vsim_driver_free(c->drv, s->gpa, s->len);
    s->busy = false;
  }
  if (q < 0 || q == EVENTQ) {
    /* the device forgets its events with the queue (or itself) */
    c->ev_head = c->ev_count = c->upd_head = c->upd_count = c->upd_pos = 0;
    c->untracked = false;
  }
  if (q < 0) c->live = false;
}

void vsim_input_drv_note_request(vsim_input_drv *c, uint16_t q, uint32_t rd, uint32_t wr) { judge_buffer(c, q, rd, wr); }

void vsim_input_drv_request_done(void *ctx, uint16_t q, const uint8_t *out, uint32_t out_len, const uint8_t *in,
                                 uint32_t in_len, uint32_t used) {
  vsim_input_drv *c = ctx;
  /* as vsim_input_drv_complete: an event is what a used length of 8 or
   * more says the device wrote (a shorter buffer is given back empty) */
  if (q == EVENTQ && used >= EV_LEN && in_len >= EV_LEN) delivered(c, in);
}

void vsim_input_drv_finish(vsim_input_drv *c) {
  /* the rest of an update still owed at the end was dropped only if the
   * device had eventq buffers to put it in: with none posted (its own
   * buffers gone with a queue reset, say) the device holds it, as it must */
  if (!c->untracked && c->upd_count && c->upd_pos && vsim_driver_queue_inflight(c->drv, EVENTQ) > 0)
    vsim_host_reportf(c->sink, VSIM_CHK_INPUT_DEV_UPDATE, EVENTQ, "host update %u: %u of its %u events delivered, the rest never",
              c->upd_seq, c->upd_pos, c->upd_len[c->upd_head]);
}
