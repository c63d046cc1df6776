/* backend-model/console.h — the built-in virtio-console device model.
 *
 * Owns: the console's ports (port 0, and with VIRTIO_CONSOLE_F_MULTIPORT one
 * more per receiveq/transmitq pair the scenario sets up), the
 * virtio_console_config bytes, the control protocol (device side), the host
 * side of every port (input waiting for receive buffers, output captured
 * from the transmitqs) and the emergency-write register. Features, status,
 * queues, parked receive buffers and the worker belong to the device core
 * (devcore.h); this model answers per chain.
 * Must never: trust a guest length (every copy is bounded by the chain and
 * by the model's fixed buffers), allocate per request, or report a
 * violation about itself (the console driver model judges the device from
 * outside, frontend-model/console_drv.h).
 */
#ifndef VSIM_CONSOLE_H
#define VSIM_CONSOLE_H

#include "virtiosim/backend.h"

/* Ports the model can have: queues 0/1 for port 0, 2/3 control, then a pair
 * per port, within the engine's 64 queues. */
#define VSIM_CONSOLE_MAX_PORTS 31u
/* Host input one port keeps while no receive buffer is posted (the rest of
 * a host.input is dropped, and the engine counts only what was kept). */
#define VSIM_CONSOLE_IN_CAP 4096u
/* Output captured per port until expect.output takes it (more is dropped). */
#define VSIM_CONSOLE_OUT_CAP 65536u
/* Device control messages waiting for control receive buffers. */
#define VSIM_CONSOLE_CTRL_CAP 128u

/* The queues of port p (receiveq; the transmitq is the next one). */
static inline unsigned vsim_console_rxq(unsigned port) { return port == 0 ? 0u : 2u + 2u * port; }

/* host.event kinds ("type"), for port `port`: */
enum vsim_console_host_event {
  VSIM_CONSOLE_HOST_CLOSE = 0,  /* the host side closes: PORT_OPEN 0 to a ready port; transmitted bytes discarded */
  VSIM_CONSOLE_HOST_OPEN = 1,   /* the host side opens: PORT_OPEN 1 to a ready port */
  VSIM_CONSOLE_HOST_UNPLUG = 2, /* hot-unplug (MULTIPORT): DEVICE_REMOVE; the port's input is dropped */
  VSIM_CONSOLE_HOST_PLUG = 3,   /* hot-plug (MULTIPORT, after DEVICE_READY): DEVICE_ADD of a port not present */
  VSIM_CONSOLE_HOST_RESIZE = 4, /* value = cols | rows << 16: config cols/rows (SIZE: a config change
                                 * notification) and, with MULTIPORT, RESIZE to the console port */
};

/* Create a virtio-console device (device id 3). Queues: the scenario's
 * num_queues; MULTIPORT is offered when there are at least 4 (port 0 and
 * the control pair). device_config keys (strings):
 *   cols, rows        console size in config space (VIRTIO_CONSOLE_F_SIZE; default 80 x 25)
 *   size              offer VIRTIO_CONSOLE_F_SIZE (default true)
 *   multiport         offer VIRTIO_CONSOLE_F_MULTIPORT (default: 4 queues or more)
 *   emerg_write       offer VIRTIO_CONSOLE_F_EMERG_WRITE (default true)
 *   max_nr_ports      config max_nr_ports (default: the ports the queues give)
 *   ports             ports announced with DEVICE_ADD after DEVICE_READY
 *                     (default: all the queues give, at most max_nr_ports)
 *   console_port      port announced with CONSOLE_PORT (default 0; -1: none)
 *   host_closed       bit mask of ports whose host side is closed: their
 *                     transmitted bytes are discarded, and the device does
 *                     not announce them open (default 0)
 * Returns 0 (out->ops is &vsim_devcore_ops) or -1 with a message in err. */
int vsim_console_create(const vsim_backend_params *params, vsim_backend *out, char *err, unsigned errlen);

#endif
