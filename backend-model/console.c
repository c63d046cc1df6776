/* backend-model/console.c — the built-in virtio-console device model.
 *
 * Owns: the ports, the config bytes (struct virtio_console_config,
 * little-endian), the device side of the control protocol, the host side of
 * each port (a bounded input FIFO the receive buffers are filled from, and a
 * bounded capture of what the driver transmitted) and emerg_wr. The device
 * core (devcore.c) does features, status, queues and the worker; receive
 * buffers with no data yet are parked there (VSIM_DEVMODEL_DEFER) and
 * offered again when host input arrives (vsim_devcore_wake).
 * Must never: read or write past a chain (vsim_chain_* bound every copy),
 * keep more than its fixed buffers, or judge the driver or itself: a
 * malformed control message is ignored and counted, never a crash.
 *
 * Decisions (where the spec leaves the device a choice):
 *  - Queues: port 0 on 0/1, control on 2/3, port p >= 1 on 2 + 2p / 3 + 2p.
 *    Receive queues are the even ones (devmodel receive_queue).
 *  - Multiport: after DEVICE_READY (value 1) the device sends DEVICE_ADD
 *    for ports 0 .. ports - 1 (Linux expects port 0 announced too). After
 *    PORT_READY (value 1) for a port: CONSOLE_PORT when it is the console
 *    port, PORT_NAME ("vsim.port<N>") for ports above 0, then PORT_OPEN 1
 *    when its host side is open. Device messages wait in a FIFO of
 *    VSIM_CONSOLE_CTRL_CAP for control receive buffers; a message that does
 *    not fit the buffer offered stays queued (the buffer is used with length
 *    0), so a driver's small buffer never gets half a message.
 *  - Control messages from the driver that are shorter than 8 bytes, name a
 *    port the device did not add (or one >= max_nr_ports), carry an event
 *    only the device sends, an unknown event, or a value other than 0/1, are
 *    ignored (counted in `rejected`). A second DEVICE_READY is ignored too.
 *  - Flow control: bytes transmitted on a port whose host side is closed
 *    are discarded (counted), as QEMU's virtio-serial does; bytes for the
 *    guest wait in the port's input FIFO until a receive buffer comes
 *    (whether or not the guest opened the port: the buffers are the
 *    driver's statement that it takes data).
 *  - Receive buffers are filled with as many waiting bytes as fit; a
 *    receive buffer with no device-writable byte is used at once with
 *    length 0 (it could never take any data); device-readable bytes in a
 *    receive buffer are ignored (the console driver model judges that rule),
 *    as are device-writable bytes in a transmit buffer (used length 0).
 *  - emerg_wr is accepted at any time, whatever the status (the spec's MUST),
 *    when EMERG_WRITE is offered; the low byte goes to port 0's output.
 *    Any other config write is refused (the fields are read-only).
 *  - A device reset forgets ports, control messages and the host FIFOs; the
 *    captured output survives (it is the host's log, not device state).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include "console.h"
#include "devcore.h"
#include "le.h"
#include "virtio_compat.h"
#include "virtiosim/mutants.h"
#include "devconfig.h"

#define BIT(b) (UINT64_C(1) << (b))
#define CTRL_LEN ((uint32_t)sizeof(struct virtio_console_control))
#define NAME_MAX_LEN 24u
#define CTRL_RXQ 2u
#define CTRL_TXQ 3u

typedef struct con_fifo {
  uint8_t *buf;
  uint32_t cap, head, len;
} con_fifo;

typedef struct con_port {
  bool added;      /* announced with DEVICE_ADD (multiport) */
  bool ready;      /* the driver answered PORT_READY 1 */
  bool guest_open; /* the driver's last PORT_OPEN */
  bool host_open;
  con_fifo in;     /* host -> guest, waiting for receive buffers */
  con_fifo out;    /* guest -> host, until expect.output takes it */
  uint64_t in_dropped, out_dropped, out_discarded;
} con_port;

typedef struct ctrl_msg {
  uint32_t len;
  uint8_t b[CTRL_LEN + NAME_MAX_LEN];
} ctrl_msg;

typedef struct vsim_console {
  vsim_devcore core; /* first: out->be points here and equals the model */
  uint32_t nports;   /* ports the scenario's queues give */
  uint32_t announce; /* ports announced at DEVICE_READY */
  uint32_t max_nr_ports;
  int console_port;
  uint32_t host_closed;
  bool multiport;    /* negotiated */
  bool device_ready;
  con_port port[VSIM_CONSOLE_MAX_PORTS];
  ctrl_msg ctrl[VSIM_CONSOLE_CTRL_CAP];
  uint32_t ctrl_head, ctrl_count;
  uint64_t ctrl_dropped, rejected;
} vsim_console;

static inline bool mut(const vsim_console *m, int mutant) { return vsim_mut_has(&m->core.mutants, mutant); }

/* ---- byte FIFOs (ring buffers of fixed capacity) ---- */

static uint32_t fifo_put(con_fifo *f, const uint8_t *src, uint32_t len) {
  uint32_t n = len < f->cap - f->len ? len : f->cap - f->len;
  for (uint32_t k = 0; k < n;) {
    uint32_t at = (f->head + f->len) % f->cap;
    uint32_t run = f->cap - at < n - k ? f->cap - at : n - k;
    memcpy(f->buf + at, src + k, run);
    f->len += run;
    k += run;
  }
  return n;
}

static uint32_t fifo_take(con_fifo *f, uint8_t *dst, uint32_t cap) {
  uint32_t n = cap < f->len ? cap : f->len;
  for (uint32_t k = 0; k < n;) {
    uint32_t run = f->cap - f->head < n - k ? f->cap - f->head : n - k;
    memcpy(dst + k, f->buf + f->head, run);
    f->head = (f->head + run) % f->cap;
    f->len -= run;
    k += run;
  }
  if (!f->len) f->head = 0;
  return n;
}

/* ---- queues and ports ---- */

static bool is_control(uint16_t q) { return q == CTRL_RXQ || q == CTRL_TXQ; }

/* The port of a data queue. */
static uint32_t port_of(uint16_t q) { return q < 2 ? 0u : (uint32_t)q / 2u - 1u; }

static bool con_receive_queue(void *model, uint16_t q) { return (q & 1u) == 0; }

/* Queue a device control message (and `plen` payload bytes) for the control receiveq. */
static void ctrl_send_bytes(vsim_console *m, uint32_t id, uint16_t event, uint16_t value, const uint8_t *payload,
                            uint32_t plen);

static void ctrl_send(vsim_console *m, uint32_t id, uint16_t event, uint16_t value, const char *name) {
  ctrl_send_bytes(m, id, event, value, (const uint8_t *)name, name ? (uint32_t)strlen(name) : 0);
}

static void ctrl_send_bytes(vsim_console *m, uint32_t id, uint16_t event, uint16_t value, const uint8_t *payload,
                            uint32_t plen) {
  if (m->ctrl_count == VSIM_CONSOLE_CTRL_CAP) {
    m->ctrl_dropped++;
    return;
  }
  ctrl_msg *c = &m->ctrl[(m->ctrl_head + m->ctrl_count++) % VSIM_CONSOLE_CTRL_CAP];
  vsim_le_st32(c->b + offsetof(struct virtio_console_control, id), id);
  vsim_le_st16(c->b + offsetof(struct virtio_console_control, event), event);
  vsim_le_st16(c->b + offsetof(struct virtio_console_control, value), value);
  c->len = CTRL_LEN;
  if (plen > NAME_MAX_LEN) plen = NAME_MAX_LEN;
  if (plen) memcpy(c->b + CTRL_LEN, payload, plen); /* PORT_NAME: UTF-8, no NUL; RESIZE: cols, rows */
  c->len += plen;
  vsim_devcore_wake(&m->core, CTRL_RXQ);
}

static void announce_ports(vsim_console *m) {
  for (uint32_t p = 0; p < m->announce; p++) {
    m->port[p].added = true;
    ctrl_send(m, p, VIRTIO_CONSOLE_PORT_ADD, 0, NULL);
  }
  /* mutants: a port that exists announced again; one never added removed */
  if (mut(m, VSIM_MUT_DEV_CON_ADD_TWICE) && m->announce) ctrl_send(m, 0, VIRTIO_CONSOLE_PORT_ADD, 0, NULL);
  if (mut(m, VSIM_MUT_DEV_CON_REMOVE_UNKNOWN)) ctrl_send(m, m->announce, VIRTIO_CONSOLE_PORT_REMOVE, 0, NULL);
}

/* The driver set a port up: what the device has to tell about it. */
static void port_ready(vsim_console *m, uint32_t id) {
  con_port *p = &m->port[id];
  p->ready = true;
  if (m->console_port >= 0 && (uint32_t)m->console_port == id) ctrl_send(m, id, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL);
  if (id > 0) {
    char name[NAME_MAX_LEN + 1];
    snprintf(name, sizeof name, "vsim.port%u", id);
    ctrl_send(m, id, VIRTIO_CONSOLE_PORT_NAME, 1, name);
  }
  if (p->host_open) ctrl_send(m, id, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
}

/* One control message from the driver (control transmitq). */
static void control_in(vsim_console *m, const vsim_chain *c) {
  uint8_t b[CTRL_LEN];
  if (c->rd_bytes < CTRL_LEN || vsim_chain_read(c, m->core.host->arena, 0, b, CTRL_LEN)) {
    m->rejected++;
    return;
  }
  m->core.bytes_moved += CTRL_LEN;
  uint32_t id = vsim_le_ld32(b + offsetof(struct virtio_console_control, id));
  uint16_t event = vsim_le_ld16(b + offsetof(struct virtio_console_control, event));
  uint16_t value = vsim_le_ld16(b + offsetof(struct virtio_console_control, value));
  if (value > 1) {
    m->rejected++;
    return;
  }
  bool port_ok = id < m->nports && id < m->max_nr_ports && m->port[id].added;
  switch (event) {
    case VIRTIO_CONSOLE_DEVICE_READY:
      if (m->device_ready || value != 1) {
        m->rejected += m->device_ready;
        return;
      }
      m->device_ready = true;
      announce_ports(m);
      return;
    case VIRTIO_CONSOLE_PORT_READY:
      if (!port_ok) break;
      if (value == 1 && !m->port[id].ready) port_ready(m, id);
      else if (value == 0) m->port[id].ready = false;
      return;
    case VIRTIO_CONSOLE_PORT_OPEN:
      if (!port_ok) break;
      m->port[id].guest_open = value == 1;
      return;
    default: break; /* an event only the device sends, or none at all */
  }
  m->rejected++;
}

/* Give the oldest device control message to a control receive buffer. */
static int control_out(vsim_console *m, const vsim_chain *c, uint32_t *used) {
  if (!m->ctrl_count) return c->wr_bytes ? VSIM_DEVMODEL_DEFER : 0;
  ctrl_msg *msg = &m->ctrl[m->ctrl_head];
  if (c->wr_bytes < msg->len) return 0; /* kept for a buffer it fits */
  if (vsim_chain_write(c, m->core.host->arena, 0, msg->b, msg->len)) return -1;
  m->core.bytes_moved += msg->len;
  m->core.bytes_copied += msg->len;
  m->ctrl_head = (m->ctrl_head + 1) % VSIM_CONSOLE_CTRL_CAP;
  m->ctrl_count--;
  *used = msg->len;
  return 0;
}

/* Fill a receive buffer of port p from its input FIFO (two runs at most:
 * the FIFO may wrap). */
static int data_in(vsim_console *m, con_port *p, const vsim_chain *c, uint32_t *used) {
  if (!c->wr_bytes) return 0;
  if (!p->in.len) return VSIM_DEVMODEL_DEFER;
  uint32_t n = p->in.len < c->wr_bytes ? p->in.len : (uint32_t)c->wr_bytes;
  uint32_t first = p->in.cap - p->in.head < n ? p->in.cap - p->in.head : n;
  if (vsim_chain_write(c, m->core.host->arena, 0, p->in.buf + p->in.head, first)) return -1;
  if (n > first && vsim_chain_write(c, m->core.host->arena, first, p->in.buf, n - first)) return -1;
  p->in.head = (p->in.head + n) % p->in.cap;
  p->in.len -= n;
  if (!p->in.len) p->in.head = 0;
  m->core.bytes_moved += n;
  m->core.bytes_copied += n;
  *used = n;
  return 0;
}

/* Capture what the driver transmitted on port p: straight into the free
 * space of the output FIFO (two runs at most); what does not fit, or what
 * a closed host side would get, is dropped without being read. */
static int data_out(vsim_console *m, con_port *p, const vsim_chain *c) {
  uint64_t want = c->rd_bytes;
  if (!p->host_open) {
    p->out_discarded += want;
    return 0;
  }
  con_fifo *f = &p->out;
  uint32_t room = f->cap - f->len;
  uint32_t n = want < room ? (uint32_t)want : room;
  p->out_dropped += want - n;
  uint32_t at = (f->head + f->len) % f->cap;
  uint32_t first = f->cap - at < n ? f->cap - at : n;
  if (vsim_chain_read(c, m->core.host->arena, 0, f->buf + at, first)) return -1;
  if (n > first && vsim_chain_read(c, m->core.host->arena, first, f->buf, n - first)) return -1;
  f->len += n;
  m->core.bytes_moved += n;
  m->core.bytes_copied += n;
  return 0;
}

static int con_request(void *model, uint16_t q, const vsim_chain *c, uint32_t *used) {
  vsim_console *m = model;
  *used = 0;
  if (is_control(q)) {
    if (!m->multiport) return 0; /* no control queues without MULTIPORT: nothing to do */
    if (q == CTRL_TXQ) {
      control_in(m, c);
      return 0;
    }
    return control_out(m, c, used);
  }
  uint32_t id = port_of(q);
  if (id >= m->nports || (id > 0 && !m->multiport)) return 0;
  con_port *p = &m->port[id];
  if (q & 1u) return data_out(m, p, c);
  return data_in(m, p, c, used);
}

/* ---- host side ---- */

static int64_t con_host_input(void *model, uint32_t target, const uint8_t *data, uint32_t len, uint16_t *q,
                              char *err, unsigned errlen) {
  vsim_console *m = model;
  if (target >= m->nports || (target > 0 && !(m->core.offered & BIT(VIRTIO_CONSOLE_F_MULTIPORT))))
    return vsim_devcfg_fail(err, errlen, "console: no port %u (the device has %u)", target,
                m->core.offered & BIT(VIRTIO_CONSOLE_F_MULTIPORT) ? m->nports : 1u);
  con_port *p = &m->port[target];
  uint32_t n = fifo_put(&p->in, data, len);
  p->in_dropped += len - n;
  *q = (uint16_t)vsim_console_rxq(target);
  vsim_devcore_wake(&m->core, *q);
  return n;
}

/* host.event: the host side acts on a port (console.h). */
static int con_host_event(void *model, uint32_t target, uint32_t kind, uint32_t value, char *err, unsigned errlen) {
  vsim_console *m = model;
  if (target >= m->nports) return vsim_devcfg_fail(err, errlen, "console: no port %u (the device has %u)", target, m->nports);
  con_port *p = &m->port[target];
  const bool live = m->multiport && m->device_ready;
  switch (kind) {
    case VSIM_CONSOLE_HOST_CLOSE:
    case VSIM_CONSOLE_HOST_OPEN:
      p->host_open = kind == VSIM_CONSOLE_HOST_OPEN;
      if (live && p->added && p->ready) ctrl_send(m, target, VIRTIO_CONSOLE_PORT_OPEN, p->host_open, NULL);
      return 0;
    case VSIM_CONSOLE_HOST_UNPLUG:
      if (!live || !p->added) return vsim_devcfg_fail(err, errlen, "console: port %u is not present (unplug needs MULTIPORT, "
                                          "DEVICE_READY and a port the device added)", target);
      p->added = p->ready = p->guest_open = false;
      p->in.head = p->in.len = 0;
      ctrl_send(m, target, VIRTIO_CONSOLE_PORT_REMOVE, 0, NULL);
      return 0;
    case VSIM_CONSOLE_HOST_PLUG:
      if (!live || p->added || target >= m->max_nr_ports)
        return vsim_devcfg_fail(err, errlen, "console: port %u cannot be plugged (needs MULTIPORT, DEVICE_READY, a port below "
                    "max_nr_ports %u that is not present)", target, m->max_nr_ports);
      p->added = true;
      ctrl_send(m, target, VIRTIO_CONSOLE_PORT_ADD, 0, NULL);
      return 0;
    case VSIM_CONSOLE_HOST_RESIZE: {
      uint16_t cols = (uint16_t)value, rows = (uint16_t)(value >> 16);
      uint8_t *cfg = m->core.config;
      vsim_le_st16(cfg + offsetof(struct virtio_console_config, cols), cols);
      vsim_le_st16(cfg + offsetof(struct virtio_console_config, rows), rows);
      if ((m->core.offered & BIT(VIRTIO_CONSOLE_F_SIZE)) && (m->core.status & VIRTIO_CONFIG_S_DRIVER_OK))
        vsim_devcore_config_changed(&m->core);
      else
        m->core.generation++; /* the fields changed all the same */
      if (live && m->console_port >= 0 && m->port[m->console_port].ready) {
        uint8_t size[4];
        vsim_le_st16(size, cols); /* struct virtio_console_resize: cols, rows (the spec's order) */
        vsim_le_st16(size + 2, rows);
        ctrl_send_bytes(m, (uint32_t)m->console_port, VIRTIO_CONSOLE_RESIZE, 0, size, sizeof size);
      }
      return 0;
    }
    default:
      return vsim_devcfg_fail(err, errlen, "console: unknown host event %u (0 close, 1 open, 2 unplug, 3 plug, 4 resize)", kind);
  }
}

static int64_t con_host_output(void *model, uint32_t target, uint8_t *dst, uint32_t cap, char *err,
                               unsigned errlen) {
  vsim_console *m = model;
  if (target >= m->nports) return vsim_devcfg_fail(err, errlen, "console: no port %u (the device has %u)", target, m->nports);
  return fifo_take(&m->port[target].out, dst, cap);
}

/* ---- device ops ---- */

static bool con_features_ok(void *model, uint64_t f) { return true; }

static void con_activate(void *model, uint64_t f) {
  vsim_console *m = model;
  m->multiport = (f & BIT(VIRTIO_CONSOLE_F_MULTIPORT)) && m->core.nq >= 4;
}

static void con_reset(void *model) {
  vsim_console *m = model;
  m->multiport = m->device_ready = false;
  m->ctrl_head = m->ctrl_count = 0;
  for (uint32_t i = 0; i < VSIM_CONSOLE_MAX_PORTS; i++) {
    con_port *p = &m->port[i];
    p->added = p->ready = p->guest_open = false;
    p->in.head = p->in.len = 0;
  }
}

static int con_config_write(void *model, uint32_t off, const void *src, uint32_t len) {
  vsim_console *m = model;
  const uint32_t ew = offsetof(struct virtio_console_config, emerg_wr);
  if (!(m->core.offered & BIT(VIRTIO_CONSOLE_F_EMERG_WRITE)) || off < ew) return -1;
  if (mut(m, VSIM_MUT_DEV_CON_EMERG_EARLY) && !(m->core.status & VIRTIO_CONFIG_S_DRIVER_OK)) return -1;
  /* the low byte of emerg_wr is the character; a write that misses it
   * (a narrower one at offset 9..11) writes nothing to the output */
  if (off == ew && len >= 1) {
    con_port *p = &m->port[0];
    uint32_t n = fifo_put(&p->out, src, 1);
    p->out_dropped += 1u - n;
  }
  return 0;
}

static void con_destroy(void *model) {
  vsim_console *m = model;
  for (uint32_t i = 0; i < VSIM_CONSOLE_MAX_PORTS; i++) {
    free(m->port[i].in.buf);
    free(m->port[i].out.buf);
  }
  free(m);
}

static const vsim_devmodel_ops console_ops = {
    .features_ok = con_features_ok,
    .activate = con_activate,
    .reset = con_reset,
    .config_write = con_config_write,
    .request = con_request,
    .destroy = con_destroy,
    .receive_queue = con_receive_queue,
    .host_input = con_host_input,
    .host_output = con_host_output,
    .host_event = con_host_event,
};

/* ---- device_config ---- */

typedef struct con_opts {
  int64_t cols, rows, max_nr_ports, ports, console_port, host_closed;
  bool size, multiport, emerg, has_multiport, has_max, has_ports;
} con_opts;

static int parse_opts(const vsim_backend_params *p, uint32_t nports, con_opts *o, char *err, unsigned errlen) {
  static const char *const keys[] = {"cols", "rows", "size", "multiport", "emerg_write", "max_nr_ports",
                                     "ports", "console_port", "host_closed", NULL};
  *o = (con_opts){.cols = 80, .rows = 25, .size = true, .emerg = true};
  bool seen[9] = {false};
  for (unsigned i = 0; i < p->config_count; i++) {
    const char *key = p->config_keys ? p->config_keys[i] : NULL;
    const char *val = p->config_values ? p->config_values[i] : NULL;
    unsigned k = 0;
    while (key && keys[k] && strcmp(key, keys[k]) != 0) k++;
    if (!key || !keys[k])
      return vsim_devcfg_fail(err, errlen, "console: unknown device_config key \"%s\" (known: cols, rows, size, multiport, "
                  "emerg_write, max_nr_ports, ports, console_port, host_closed)", key ? key : "(null)");
    if (seen[k]) return vsim_devcfg_fail(err, errlen, "console: device_config key \"%s\" given twice", key);
    seen[k] = true;
    int r = 0;
    switch (k) {
      case 0: r = vsim_devcfg_i64("console", key, val, 0, 0xffff, &o->cols, err, errlen); break;
      case 1: r = vsim_devcfg_i64("console", key, val, 0, 0xffff, &o->rows, err, errlen); break;
      case 2: r = vsim_devcfg_bool("console", key, val, &o->size, err, errlen); break;
      case 3: r = vsim_devcfg_bool("console", key, val, &o->multiport, err, errlen); o->has_multiport = true; break;
      case 4: r = vsim_devcfg_bool("console", key, val, &o->emerg, err, errlen); break;
      case 5: r = vsim_devcfg_i64("console", key, val, 1, UINT32_MAX, &o->max_nr_ports, err, errlen); o->has_max = true; break;
      case 6: r = vsim_devcfg_i64("console", key, val, 0, VSIM_CONSOLE_MAX_PORTS, &o->ports, err, errlen); o->has_ports = true; break;
      case 7: r = vsim_devcfg_i64("console", key, val, -1, VSIM_CONSOLE_MAX_PORTS - 1, &o->console_port, err, errlen); break;
      default: r = vsim_devcfg_i64("console", key, val, 0, UINT32_MAX, &o->host_closed, err, errlen); break;
    }
    if (r) return -1;
  }
  if (!o->has_multiport) o->multiport = p->num_queues >= 4;
  if (!o->has_max) o->max_nr_ports = nports;
  uint32_t limit = nports < o->max_nr_ports ? nports : (uint32_t)o->max_nr_ports;
  if (!o->has_ports) o->ports = limit;
  if (o->ports > limit)
    return vsim_devcfg_fail(err, errlen, "console: device_config \"ports\" = %lld, but the queues give %u port(s) and "
                "max_nr_ports is %lld", (long long)o->ports, nports, (long long)o->max_nr_ports);
  return 0;
}

int vsim_console_create(const vsim_backend_params *params, vsim_backend *out, char *err, unsigned errlen) {
  if (!params || !out) return vsim_devcfg_fail(err, errlen, "console: no parameters");
  uint16_t nq = params->num_queues ? params->num_queues : 1;
  if (nq < 2) return vsim_devcfg_fail(err, errlen, "console: port 0 needs a receiveq and a transmitq: num_queues must be at least 2");
  uint32_t nports = nq < 4 ? 1u : 1u + (nq - 4u) / 2u;
  if (nports > VSIM_CONSOLE_MAX_PORTS) nports = VSIM_CONSOLE_MAX_PORTS;
  con_opts o;
  if (parse_opts(params, nports, &o, err, errlen)) return -1;
  if (o.multiport && nq < 4)
    return vsim_devcfg_fail(err, errlen, "console: MULTIPORT needs the control queues: num_queues must be at least 4");
  vsim_console *m = calloc(1, sizeof *m);
  if (!m) return vsim_devcfg_fail(err, errlen, "console: out of memory");
  m->nports = nports;
  m->announce = (uint32_t)o.ports;
  m->max_nr_ports = (uint32_t)o.max_nr_ports;
  m->console_port = (int)o.console_port;
  m->host_closed = (uint32_t)o.host_closed;
  for (uint32_t i = 0; i < m->nports; i++) {
    con_port *p = &m->port[i];
    p->in = (con_fifo){calloc(1, VSIM_CONSOLE_IN_CAP), VSIM_CONSOLE_IN_CAP, 0, 0};
    p->out = (con_fifo){calloc(1, VSIM_CONSOLE_OUT_CAP), VSIM_CONSOLE_OUT_CAP, 0, 0};
    p->host_open = !((m->host_closed >> i) & 1u);
    if (!p->in.buf || !p->out.buf) {
      con_destroy(m);
      return vsim_devcfg_fail(err, errlen, "console: out of memory");
    }
  }
  uint64_t offered = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_RING_PACKED) | BIT(VIRTIO_F_NOTIFICATION_DATA) |
                     BIT(VIRTIO_F_RING_RESET) | BIT(VIRTIO_F_IN_ORDER) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |
                     BIT(VIRTIO_RING_F_EVENT_IDX);
  if (o.size) offered |= BIT(VIRTIO_CONSOLE_F_SIZE);
  if (o.multiport) offered |= BIT(VIRTIO_CONSOLE_F_MULTIPORT);
  if (o.emerg) offered |= BIT(VIRTIO_CONSOLE_F_EMERG_WRITE);
  if (vsim_devcore_init(&m->core, params, VIRTIO_ID_CONSOLE, offered, (uint32_t)sizeof(struct virtio_console_config),
                        &console_ops, m, err, errlen)) {
    con_destroy(m);
    return -1;
  }
  uint8_t *cfg = m->core.config;
  vsim_le_st16(cfg + offsetof(struct virtio_console_config, cols), (uint16_t)o.cols);
  vsim_le_st16(cfg + offsetof(struct virtio_console_config, rows), (uint16_t)o.rows);
  vsim_le_st32(cfg + offsetof(struct virtio_console_config, max_nr_ports), m->max_nr_ports);
  out->ops = &vsim_devcore_ops;
  out->be = &m->core;
  return 0;
}
