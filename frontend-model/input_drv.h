/* frontend-model/input_drv.h — the virtio-input driver model.
 *
 * Owns: what an input driver does on its own once the device is live (as
 * Linux's virtio_input does): query the config space (ID_NAME, ID_SERIAL,
 * ID_DEVIDS, PROP_BITS, EV_BITS per event type, ABS_INFO per axis), keep the
 * eventq stocked with 8-byte device-writable buffers (half the ring, at most 8), and send an LED status
 * event when the device has LEDs; judging from what it reads the device's
 * answers to pairs it does not support (input.dev-size-unsupported), from
 * the events it receives against the updates the host gave
 * (input.dev-partial-update), and from what the driver side submits (its
 * own buffers and the scenario's req.raw) the buffer rules
 * (input.drv-eventq-buffer, input.drv-statusq-buffer). The config access
 * rules of the driver are the checker's (conformance/checker.c).
 * Must never: allocate per event (fixed slots, buffers from the driver's
 * pool, a bounded record of the host's updates: past it, updates are not
 * judged), or read past what the device wrote.
 */
#ifndef VSIM_INPUT_DRV_H
#define VSIM_INPUT_DRV_H

#include <stdbool.h>
#include <stdint.h>
#include "driver.h"
#include "virtiosim/mutants.h"

/* Completion tokens of the input driver's buffers (console_drv uses 1 << 41). */
#define VSIM_INPUT_DRV_TOKEN_BASE (UINT64_C(1) << 42)
#define VSIM_INPUT_DRV_SLOTS 32u
/* Events of host updates not delivered yet that the model remembers, and
 * updates (their lengths). */
#define VSIM_INPUT_DRV_EVENTS 1024u
#define VSIM_INPUT_DRV_UPDATES 256u

typedef void (*vsim_input_fail_fn)(void *ctx, const char *msg);

typedef struct vsim_input_slot {
  bool busy;
  uint16_t q;
  uint64_t gpa;
  uint32_t len;
} vsim_input_slot;

typedef struct vsim_input_drv {
  vsim_driver *drv;
  const vsim_host *sink;
  vsim_input_fail_fn fail;
  void *fail_ctx;
  vsim_mutset mutants;
  bool live;
  uint8_t ev_size[32];    /* EV_BITS size per event type, as the device answered */
  vsim_input_slot slot[VSIM_INPUT_DRV_SLOTS];
  /* the host's updates, oldest first, and how far the oldest was delivered */
  uint8_t ev[VSIM_INPUT_DRV_EVENTS][8];
  uint32_t ev_head, ev_count;
  uint32_t upd_len[VSIM_INPUT_DRV_UPDATES];
  uint32_t upd_head, upd_count, upd_pos, upd_seq;
  bool untracked;         /* the record overflowed: updates are not judged from here on */
  uint64_t events;        /* events received */
} vsim_input_drv;

void vsim_input_drv_init(vsim_input_drv *c, vsim_driver *drv, const vsim_host *sink, vsim_mutset mutants,
                         vsim_input_fail_fn fail, void *fail_ctx);
uint64_t vsim_input_drv_understood(void);
void vsim_input_drv_probe(vsim_input_drv *c);
bool vsim_input_drv_owns(uint64_t token);
void vsim_input_drv_complete(vsim_input_drv *c, uint16_t q, uint64_t token, uint32_t len);
/* Forget buffers on queue q (all when q < 0; a device reset also forgets
 * the host's updates, as the device does). */
void vsim_input_drv_drop(vsim_input_drv *c, int q);
/* A req.raw the scenario submits: judged by the buffer rules. */
void vsim_input_drv_note_request(vsim_input_drv *c, uint16_t q, uint32_t rd, uint32_t wr);
/* A req.raw came back (the req_drv observer, ctx the vsim_input_drv): an
 * eventq buffer of the scenario's takes its event in the device's order as
 * the driver model's own buffers do, so its event is judged with theirs. */
void vsim_input_drv_request_done(void *ctx, uint16_t q, const uint8_t *out, uint32_t out_len, const uint8_t *in,
                                 uint32_t in_len, uint32_t used);
/* The host gave the device an update (host.input): `len` bytes of events. */
void vsim_input_drv_host_update(vsim_input_drv *c, const uint8_t *data, uint32_t len);
/* End of run: an update delivered in part. */
void vsim_input_drv_finish(vsim_input_drv *c);

#endif
