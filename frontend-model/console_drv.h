/* frontend-model/console_drv.h — the virtio-console driver model.
 *
 * Owns: what a console driver does on its own once the device is live with
 * VIRTIO_CONSOLE_F_MULTIPORT (as Linux's virtio_console does): keep control
 * receive buffers posted, send DEVICE_READY, answer DEVICE_ADD with
 * PORT_READY and CONSOLE_PORT with PORT_OPEN 1, and forget a port on
 * DEVICE_REMOVE; the ports as the device announced them; and judging, from
 * what it receives, the device's multiport rules (console.dev-port-add,
 * console.dev-port-remove), and from what the driver side submits (its own
 * messages and the scenario's req.raw requests) the driver's rules
 * (console.drv-rx-readable, console.drv-tx-writable,
 * console.drv-device-ready, console.drv-console-port-open).
 * Data on the ports is the scenario's: req.raw on a port's queues, host.input
 * and expect.output (sim.c).
 * Must never: allocate per message (its buffers come from the driver's pool,
 * its slots are fixed), or read past what the device wrote (the used length,
 * bounded by the buffer).
 */
#ifndef VSIM_CONSOLE_DRV_H
#define VSIM_CONSOLE_DRV_H

#include <stdbool.h>
#include <stdint.h>
#include "driver.h"
#include "virtiosim/mutants.h"

/* Completion tokens of the console driver's own buffers start here (req.raw
 * uses 1 << 40 and up, blk slot numbers, raw chains UINT64_MAX - head). */
#define VSIM_CONSOLE_DRV_TOKEN_BASE (UINT64_C(1) << 41)
#define VSIM_CONSOLE_DRV_SLOTS 64u
/* Ports whose existence the model tracks (ids above are judged against
 * max_nr_ports only). */
#define VSIM_CONSOLE_DRV_PORTS 256u

typedef void (*vsim_console_fail_fn)(void *ctx, const char *msg);

typedef struct vsim_console_slot {
  bool busy;
  uint16_t q;
  uint64_t gpa;
  uint32_t len;  /* bytes allocated */
  uint32_t rd;   /* device-readable bytes at the start (a mutant's) */
} vsim_console_slot;

typedef struct vsim_console_drv {
  vsim_driver *drv;
  const vsim_host *sink;
  vsim_console_fail_fn fail;
  void *fail_ctx;
  vsim_mutset mutants;
  bool multiport;        /* negotiated, and the control queues are set up */
  uint32_t max_nr_ports;
  bool ready_sent;       /* DEVICE_READY went to the device (ours or a req.raw) */
  bool ready_judged;     /* console.drv-device-ready reported (once per initialisation) */
  uint8_t port[VSIM_CONSOLE_DRV_PORTS]; /* VSIM_CON_P_* bits */
  vsim_console_slot slot[VSIM_CONSOLE_DRV_SLOTS];
  uint64_t messages;     /* control messages received */
} vsim_console_drv;

void vsim_console_drv_init(vsim_console_drv *c, vsim_driver *drv, const vsim_host *sink, vsim_mutset mutants,
                           vsim_console_fail_fn fail, void *fail_ctx);
/* The features the driver model knows: the ring's, SIZE, MULTIPORT, EMERG_WRITE. */
uint64_t vsim_console_drv_understood(void);
/* The device is live (DRIVER_OK): read the config space and, with
 * MULTIPORT, post control receive buffers and send DEVICE_READY. */
void vsim_console_drv_probe(vsim_console_drv *c);
bool vsim_console_drv_owns(uint64_t token);
void vsim_console_drv_complete(vsim_console_drv *c, uint16_t q, uint64_t token, uint32_t len);
/* Forget the buffers on queue q (all when q < 0): a reset, a queue reset, a
 * stopped queue. A device reset (q < 0) forgets the ports too. */
void vsim_console_drv_drop(vsim_console_drv *c, int q);
/* A req.raw request the scenario submits on queue q: `data` (rd bytes,
 * device-readable) then wr device-writable bytes. Judges the buffer
 * direction rules, and notes the control messages the driver sends. */
void vsim_console_drv_note_request(vsim_console_drv *c, uint16_t q, const uint8_t *data, uint32_t rd, uint32_t wr);
/* A req.raw came back (the req_drv observer, ctx the vsim_console_drv): a
 * control message the device put in one of the scenario's control receive
 * buffers is judged as those in the driver model's own (the ports it adds
 * and removes are the same ports), but not answered: answering is the
 * scenario's business there. */
void vsim_console_drv_request_done(void *ctx, uint16_t q, const uint8_t *out, uint32_t out_len, const uint8_t *in,
                                   uint32_t in_len, uint32_t used);
/* End of run: what the driver still owed (DEVICE_READY, PORT_OPEN 1). */
void vsim_console_drv_finish(vsim_console_drv *c);

#endif
