/* backend-model/input.h — the built-in virtio-input device model.
 *
 * Owns: one input device (a keyboard, a mouse or a tablet), its
 * virtio_input_config answers to every select/subsel query, the events the
 * host gives it (host.input: whole virtio_input_event records) waiting for
 * eventq buffers, and the status events the driver sends (statusq, taken by
 * expect.output). Features, status, queues, parked eventq buffers and the
 * worker belong to the device core (devcore.h).
 * Must never: split an update: a host.input is one sequence (an evdev update
 * ending in EV_SYN), kept whole or dropped whole; or judge the driver (the
 * checkers and the input driver model do).
 */
#ifndef VSIM_INPUT_H
#define VSIM_INPUT_H

#include "virtiosim/backend.h"

/* Events the model keeps while the eventq has no buffer (default; the
 * device_config key event_fifo sets 1..4096). */
#define VSIM_INPUT_FIFO_DEFAULT 256u
/* Status events captured for expect.output (more are dropped). */
#define VSIM_INPUT_STATUS_CAP 512u

/* Create a virtio-input device (device id 18, queues eventq and statusq).
 * device_config keys (strings):
 *   kind        keyboard (default), mouse or tablet: the event types and
 *               codes it reports (EV_KEY keys and EV_LED LEDs; EV_KEY
 *               buttons and EV_REL X, Y, wheel; EV_KEY buttons and EV_ABS
 *               X, Y in 0..32767)
 *   name, serial  ID_NAME / ID_SERIAL strings (at most 128 bytes)
 *   vendor, product, version  ID_DEVIDS (bustype BUS_VIRTUAL)
 *   event_fifo  events kept for the eventq (1..4096)
 * Returns 0 (out->ops is &vsim_devcore_ops) or -1 with a message in err. */
int vsim_input_create(const vsim_backend_params *params, vsim_backend *out, char *err, unsigned errlen);

#endif
