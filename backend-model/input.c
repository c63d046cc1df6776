/* backend-model/input.c — the built-in virtio-input device model.
 *
 * Owns: the device's identity and capabilities (per kind), the config space
 * (struct virtio_input_config, recomputed whenever the driver writes select
 * or subsel), the event FIFO the eventq is filled from, and the status
 * events captured from the statusq. The device core does the rest; eventq
 * buffers with no event yet are parked there (VSIM_DEVMODEL_DEFER).
 * Must never: answer a select/subsel pair it does not support with a
 * non-zero size (the spec's MUST), take a config write other than select and
 * subsel (their bytes are applied, the rest ignored), split a host update,
 * or read or write past a chain.
 *
 * Decisions:
 *  - One event per eventq buffer (as QEMU and Linux use it). A buffer
 *    waits for an event like any other; one of fewer than 8 device-writable
 *    bytes cannot take it and is then used with length 0 (the driver broke
 *    a MUST; the event waits for the next buffer); one with no writable
 *    byte at all is used at once.
 *  - A host.input is one update: it is kept whole when the FIFO has room
 *    for all of it, else dropped whole (the spec: a device SHOULD buffer or
 *    drop the entire sequence).
 *  - A status event (statusq) of 8 readable bytes or more is captured (the
 *    first 8 bytes); a shorter buffer is used with length 0 and ignored.
 *  - PROP_BITS: size 0 (no property) for every kind; ID_* with subsel != 0,
 *    UNSET and undefined selects: size 0.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/input-event-codes.h>
#include <linux/input.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_input.h>
#include <linux/virtio_ring.h>
#include "devcore.h"
#include "input.h"
#include "le.h"
#include "virtio_compat.h"
#include "virtiosim/mutants.h"
#include "devconfig.h"

#define BIT(b) (UINT64_C(1) << (b))
#define EV_LEN ((uint32_t)sizeof(struct virtio_input_event))
#define UNION_OFF ((uint32_t)offsetof(struct virtio_input_config, u))
#define UNION_LEN ((uint32_t)sizeof(((struct virtio_input_config *)0)->u))
#define EVENTQ 0u
#define STATUSQ 1u

enum input_kind { KIND_KEYBOARD, KIND_MOUSE, KIND_TABLET };

typedef struct vsim_input {
  vsim_devcore core; /* first: out->be points here and equals the model */
  enum input_kind kind;
  char name[UNION_LEN + 1], serial[UNION_LEN + 1];
  uint16_t vendor, product, version;
  uint8_t ev_bits[EV_CNT][UNION_LEN]; /* supported codes per event type */
  uint64_t abs_axes;                  /* axes with ABS_INFO */
  uint8_t *fifo;                      /* [fifo_cap] events of EV_LEN bytes */
  uint32_t fifo_cap, fifo_head, fifo_count;
  uint8_t status[VSIM_INPUT_STATUS_CAP];
  uint32_t status_len;
  uint64_t dropped_updates, status_dropped;
} vsim_input;

static bool mut(const vsim_input *m, int mutant) { return vsim_mut_has(&m->core.mutants, mutant); }

static void set_code(vsim_input *m, unsigned type, unsigned code) {
  if (type < EV_CNT && code / 8 < UNION_LEN) m->ev_bits[type][code / 8] |= (uint8_t)(1u << (code % 8));
}

/* Bytes of a bitmap up to its last non-zero one (0: none set). */
static uint8_t bitmap_size(const uint8_t *b) {
  uint32_t n = UNION_LEN;
  while (n && !b[n - 1]) n--;
  return (uint8_t)n;
}

/* Answer the query select/subsel name: size and the union. */
static void answer(vsim_input *m) {
  uint8_t *cfg = m->core.config;
  const uint8_t sel = cfg[offsetof(struct virtio_input_config, select)];
  const uint8_t sub = cfg[offsetof(struct virtio_input_config, subsel)];
  uint8_t *u = cfg + UNION_OFF;
  uint8_t size = 0;
  memset(u, 0, UNION_LEN);
  switch (sel) {
    case VIRTIO_INPUT_CFG_ID_NAME:
    case VIRTIO_INPUT_CFG_ID_SERIAL: {
      if (sub) break;
      const char *s = sel == VIRTIO_INPUT_CFG_ID_NAME ? m->name : m->serial;
      size = (uint8_t)strlen(s); /* no NUL terminator */
      memcpy(u, s, size);
      break;
    }
    case VIRTIO_INPUT_CFG_ID_DEVIDS:
      if (sub) break;
      vsim_le_st16(u + offsetof(struct virtio_input_devids, bustype), BUS_VIRTUAL);
      vsim_le_st16(u + offsetof(struct virtio_input_devids, vendor), m->vendor);
      vsim_le_st16(u + offsetof(struct virtio_input_devids, product), m->product);
      vsim_le_st16(u + offsetof(struct virtio_input_devids, version), m->version);
      size = (uint8_t)sizeof(struct virtio_input_devids);
      break;
    case VIRTIO_INPUT_CFG_PROP_BITS: break; /* no property */
    case VIRTIO_INPUT_CFG_EV_BITS:
      if (sub < EV_CNT && sub != EV_SYN) {
        size = bitmap_size(m->ev_bits[sub]);
        memcpy(u, m->ev_bits[sub], size);
      }
      break;
    case VIRTIO_INPUT_CFG_ABS_INFO:
      if (sub <= ABS_MAX && ((m->abs_axes >> sub) & 1u)) {
        vsim_le_st32(u + offsetof(struct virtio_input_absinfo, min), 0);
        vsim_le_st32(u + offsetof(struct virtio_input_absinfo, max), 32767);
        size = (uint8_t)sizeof(struct virtio_input_absinfo);
      }
      break;
    default: break;
  }
  /* the mutant answers a select it does not know with one byte */
  if (!size && mut(m, VSIM_MUT_DEV_INPUT_SIZE_GARBAGE) && sel != VIRTIO_INPUT_CFG_UNSET &&
      sel != VIRTIO_INPUT_CFG_ID_NAME && sel != VIRTIO_INPUT_CFG_ID_SERIAL && sel != VIRTIO_INPUT_CFG_ID_DEVIDS &&
      sel != VIRTIO_INPUT_CFG_PROP_BITS && sel != VIRTIO_INPUT_CFG_EV_BITS && sel != VIRTIO_INPUT_CFG_ABS_INFO)
    size = 1;
  cfg[offsetof(struct virtio_input_config, size)] = size;
}

static int in_config_write(void *model, uint32_t off, const void *src, uint32_t len) {
  vsim_input *m = model;
  const uint8_t *b = src;
  bool any = false;
  for (uint32_t i = 0; i < len; i++) {
    uint32_t at = off + i;
    if (at == offsetof(struct virtio_input_config, select) || at == offsetof(struct virtio_input_config, subsel)) {
      m->core.config[at] = b[i];
      any = true;
    }
  }
  if (!any) return -1; /* only select and subsel are writable */
  /* the configuration noticeably changed (the answer in size and u), so
   * config_generation moves (virtio-pci's common configuration rule); it is
   * the driver's own query, not a device event: no notification */
  answer(m);
  m->core.generation++;
  return 0;
}

static bool in_receive_queue(void *model, uint16_t q) { return q == EVENTQ; }

static int in_request(void *model, uint16_t q, const vsim_chain *c, uint32_t *used) {
  vsim_input *m = model;
  *used = 0;
  if (q == STATUSQ) {
    uint8_t ev[EV_LEN];
    if (c->rd_bytes < EV_LEN) return 0;
    if (vsim_chain_read(c, m->core.host->arena, 0, ev, EV_LEN)) return -1;
    m->core.bytes_moved += EV_LEN;
    if (m->status_len + EV_LEN <= sizeof m->status) {
      memcpy(m->status + m->status_len, ev, EV_LEN);
      m->status_len += EV_LEN;
    } else {
      m->status_dropped++;
    }
    return 0;
  }
  if (q != EVENTQ || !c->wr_bytes) return 0;
  if (!m->fifo_count) return VSIM_DEVMODEL_DEFER;
  if (c->wr_bytes < EV_LEN) return 0; /* cannot hold the event, which waits for the next buffer */
  if (vsim_chain_write(c, m->core.host->arena, 0, m->fifo + (size_t)m->fifo_head * EV_LEN, EV_LEN)) return -1;
  m->fifo_head = (m->fifo_head + 1) % m->fifo_cap;
  m->fifo_count--;
  m->core.bytes_moved += EV_LEN;
  m->core.bytes_copied += EV_LEN;
  *used = EV_LEN;
  return 0;
}

static int64_t in_host_input(void *model, uint32_t target, const uint8_t *data, uint32_t len, uint16_t *q, char *err,
                             unsigned errlen) {
  vsim_input *m = model;
  if (target != 0) return vsim_devcfg_fail(err, errlen, "input: the device has one input (port 0), not %u", target);
  if (len % EV_LEN)
    return vsim_devcfg_fail(err, errlen, "input: host.input takes whole virtio_input_event records (%u bytes each), got %u bytes",
                EV_LEN, len);
  uint32_t n = len / EV_LEN;
  *q = EVENTQ;
  uint32_t room = m->fifo_cap - m->fifo_count;
  if (n > room) {
    if (!mut(m, VSIM_MUT_DEV_INPUT_SPLIT_UPDATE)) {
      m->dropped_updates++; /* the whole update, never a part of it */
      return 0;
    }
    n = room; /* the mutant keeps what fits and drops the rest of the update */
  }
  for (uint32_t i = 0; i < n; i++)
    memcpy(m->fifo + (size_t)((m->fifo_head + m->fifo_count + i) % m->fifo_cap) * EV_LEN, data + (size_t)i * EV_LEN,
           EV_LEN);
  m->fifo_count += n;
  vsim_devcore_wake(&m->core, EVENTQ);
  return (int64_t)n * EV_LEN;
}

static int64_t in_host_output(void *model, uint32_t target, uint8_t *dst, uint32_t cap, char *err, unsigned errlen) {
  vsim_input *m = model;
  if (target != 0) return vsim_devcfg_fail(err, errlen, "input: the device has one output (port 0, the statusq), not %u", target);
  uint32_t n = cap < m->status_len ? cap : m->status_len;
  memcpy(dst, m->status, n);
  memmove(m->status, m->status + n, m->status_len - n);
  m->status_len -= n;
  return n;
}

static bool in_features_ok(void *model, uint64_t f) { return true; }

static void in_reset(void *model) {
  vsim_input *m = model;
  m->fifo_head = m->fifo_count = 0;
  memset(m->core.config, 0, m->core.config_len);
}

static void in_destroy(void *model) {
  vsim_input *m = model;
  free(m->fifo);
  free(m);
}

static const vsim_devmodel_ops input_ops = {
    .features_ok = in_features_ok,
    .reset = in_reset,
    .config_write = in_config_write,
    .request = in_request,
    .destroy = in_destroy,
    .receive_queue = in_receive_queue,
    .host_input = in_host_input,
    .host_output = in_host_output,
};

static void capabilities(vsim_input *m) {
  switch (m->kind) {
    case KIND_KEYBOARD:
      for (unsigned k = KEY_ESC; k <= KEY_MICMUTE; k++) set_code(m, EV_KEY, k);
      set_code(m, EV_LED, LED_NUML);
      set_code(m, EV_LED, LED_CAPSL);
      set_code(m, EV_LED, LED_SCROLLL);
      break;
    case KIND_MOUSE:
      set_code(m, EV_KEY, BTN_LEFT);
      set_code(m, EV_KEY, BTN_RIGHT);
      set_code(m, EV_KEY, BTN_MIDDLE);
      set_code(m, EV_REL, REL_X);
      set_code(m, EV_REL, REL_Y);
      set_code(m, EV_REL, REL_WHEEL);
      break;
    case KIND_TABLET:
      set_code(m, EV_KEY, BTN_LEFT);
      set_code(m, EV_KEY, BTN_RIGHT);
      set_code(m, EV_ABS, ABS_X);
      set_code(m, EV_ABS, ABS_Y);
      m->abs_axes = BIT(ABS_X) | BIT(ABS_Y);
      break;
  }
}

static int parse_opts(vsim_input *m, const vsim_backend_params *p, char *err, unsigned errlen) {
  static const char *const kinds[] = {"keyboard", "mouse", "tablet"};
  for (unsigned i = 0; i < p->config_count; i++) {
    const char *key = p->config_keys ? p->config_keys[i] : NULL;
    const char *val = p->config_values ? p->config_values[i] : NULL;
    if (!key || !val) return vsim_devcfg_fail(err, errlen, "input: device_config entry %u is incomplete", i);
    uint64_t v = 0;
    bool num = vsim_devcfg_parse_u64(val, 0, UINT64_MAX, &v);
    if (strcmp(key, "kind") == 0) {
      unsigned k = 0;
      while (k < 3 && strcmp(val, kinds[k]) != 0) k++;
      if (k == 3) return vsim_devcfg_fail(err, errlen, "input: device_config \"kind\" = \"%s\": expected keyboard, mouse or tablet", val);
      m->kind = (enum input_kind)k;
    } else if (strcmp(key, "name") == 0 || strcmp(key, "serial") == 0) {
      if (strlen(val) > UNION_LEN) return vsim_devcfg_fail(err, errlen, "input: device_config \"%s\" is longer than %u bytes", key, UNION_LEN);
      snprintf(strcmp(key, "name") == 0 ? m->name : m->serial, UNION_LEN + 1, "%s", val);
    } else if (strcmp(key, "vendor") == 0 || strcmp(key, "product") == 0 || strcmp(key, "version") == 0) {
      if (!num || v > 0xffff) return vsim_devcfg_fail(err, errlen, "input: device_config \"%s\" = \"%s\": expected 0..65535", key, val);
      *(key[0] == 'p' ? &m->product : key[1] == 'e' && key[2] == 'n' ? &m->vendor : &m->version) = (uint16_t)v;
    } else if (strcmp(key, "event_fifo") == 0) {
      if (!num || v < 1 || v > 4096) return vsim_devcfg_fail(err, errlen, "input: device_config \"event_fifo\" = \"%s\": expected 1..4096", val);
      m->fifo_cap = (uint32_t)v;
    } else {
      return vsim_devcfg_fail(err, errlen, "input: unknown device_config key \"%s\" (known: kind, name, serial, vendor, product, "
                  "version, event_fifo)", key);
    }
  }
  return 0;
}

int vsim_input_create(const vsim_backend_params *params, vsim_backend *out, char *err, unsigned errlen) {
  if (!params || !out) return vsim_devcfg_fail(err, errlen, "input: no parameters");
  if (params->num_queues && params->num_queues != 2)
    return vsim_devcfg_fail(err, errlen, "input: the device has two queues (eventq, statusq), not %u", params->num_queues);
  vsim_input *m = calloc(1, sizeof *m);
  if (!m) return vsim_devcfg_fail(err, errlen, "input: out of memory");
  snprintf(m->name, sizeof m->name, "virtio-sim input");
  snprintf(m->serial, sizeof m->serial, "vsim-input-0");
  m->vendor = 0x5653; /* "VS" */
  m->product = 1;
  m->version = 1;
  m->fifo_cap = VSIM_INPUT_FIFO_DEFAULT;
  if (parse_opts(m, params, err, errlen)) {
    free(m);
    return -1;
  }
  m->fifo = calloc(m->fifo_cap, EV_LEN);
  if (!m->fifo) {
    free(m);
    return vsim_devcfg_fail(err, errlen, "input: out of memory");
  }
  capabilities(m);
  uint64_t offered = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_RING_PACKED) | BIT(VIRTIO_F_NOTIFICATION_DATA) |
                     BIT(VIRTIO_F_RING_RESET) | BIT(VIRTIO_F_IN_ORDER) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |
                     BIT(VIRTIO_RING_F_EVENT_IDX);
  if (vsim_devcore_init(&m->core, params, VIRTIO_ID_INPUT, offered, (uint32_t)sizeof(struct virtio_input_config),
                        &input_ops, m, err, errlen)) {
    in_destroy(m);
    return -1;
  }
  out->ops = &vsim_devcore_ops;
  out->be = &m->core;
  return 0;
}
