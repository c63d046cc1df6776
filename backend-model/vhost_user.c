/* backend-model/vhost_user.c — the vhost-user front-end adapter (see vhost_user.h).
 *
 * Threads: none. The back-end runs in its own process, concurrently; this
 * side only ever waits for it with poll() and a deadline. What the driver
 * model sees stays deterministic as long as the back-end is: the worker
 * waits until the back-end has used everything it was given (or the bound
 * passes) before it reports anything, so the order of events does not depend
 * on how fast the daemon is.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_gpu.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_input.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include "arena_shared.h"
#include "daemon.h"
#include "host_report.h"
#include "vhost_user.h"
#include "vhost_user_proto.h"
#include "virtio_compat.h"
#include "virtiosim/checks.h"

#define VENDOR_VSIM 0x5653494dU /* "VSIM", as the built-in models */
#define BIT(b) (UINT64_C(1) << (b))

/* The protocol features this front-end implements; it negotiates the
 * intersection with what the back-end offers (QEMU masks the same way). */
#define OUR_PROTOCOL                                                                             \
  (BIT(VU_PF_MQ) | BIT(VU_PF_REPLY_ACK) | BIT(VU_PF_CONFIG) | BIT(VU_PF_RESET_DEVICE) |          \
   BIT(VU_PF_CONFIGURE_MEM_SLOTS))

/* Virtio features the driver never sees from a vhost-user back-end: the
 * protocol-features and dirty-log bits are vhost's own; the rest need what
 * this front-end does not do yet (an IOMMU, packed-ring snapshots, data in
 * a notification, which an eventfd cannot carry, per-queue reset). */
#define HIDDEN_FEATURES                                                                          \
  (BIT(VU_F_PROTOCOL_FEATURES) | BIT(VHOST_F_LOG_ALL) | BIT(VIRTIO_F_ACCESS_PLATFORM) |          \
   BIT(VIRTIO_F_RING_PACKED) | BIT(VIRTIO_F_NOTIFICATION_DATA) | BIT(VIRTIO_F_RING_RESET))

struct vsim_vhost_user;

/* What vhost-user does not say: which device a back-end is, and how big its
 * configuration structure is. The front-end knows (QEMU: -device
 * vhost-user-blk-pci); so does the scenario. Some devices' configuration is
 * the front-end's own, not the back-end's (QEMU's vhost-user-fs builds tag
 * and num_request_queues from its properties; virtiofsd has no CONFIG
 * protocol feature): `own_config` fills it when the back-end offers none. */
typedef struct device_type {
  const char *name;
  uint32_t id;
  uint32_t config_size;
  void (*own_config)(struct vsim_vhost_user *v, const vsim_backend_params *p);
} device_type;

static void fs_config(struct vsim_vhost_user *v, const vsim_backend_params *p);

static const device_type device_types[] = {
    {"blk", VIRTIO_ID_BLOCK, sizeof(struct virtio_blk_config), NULL},
    {"net", VIRTIO_ID_NET, sizeof(struct virtio_net_config), NULL},
    {"console", VIRTIO_ID_CONSOLE, sizeof(struct virtio_console_config), NULL},
    {"gpu", VIRTIO_ID_GPU, sizeof(struct virtio_gpu_config), NULL},
    {"input", VIRTIO_ID_INPUT, sizeof(struct virtio_input_config), NULL},
    {"fs", VIRTIO_ID_FS, sizeof(struct virtio_fs_config), fs_config},
};

typedef struct vu_ring {
  bool ready;          /* configured by the driver (QueueReady 1) */
  vsim_queue_cfg cfg;
  bool started;        /* handed to the back-end, until GET_VRING_BASE */
  int kick, call, err; /* our eventfds, made once, sent at every start */
  uint16_t seen_used;  /* used.idx up to which USED events were emitted */
  uint16_t popped;     /* avail.idx up to which POP events were emitted */
  bool kicked;         /* a notification forwarded since the last worker call */
  bool ever_kicked;    /* since the ring started: before the first kick the back-end has no
                          reason to look at the ring, so there is nothing to wait for */
  bool given_up;       /* the last wait ran out with requests pending */
  uint16_t stuck;      /* requests still pending when it ran out: not waited for again */
  uint64_t calls;      /* call eventfd signals that came with used entries */
  uint64_t early_calls; /* signals right after SET_VRING_CALL (libvhost-user writes one) */
} vu_ring;

typedef struct vsim_vhost_user {
  const vsim_host *host;
  vsim_arena *arena;
  vsim_arena_memfd_info mem;
  int sock;
  vsim_daemon *daemon;   /* NULL: a daemon the user started */
  bool broken;           /* no more messages: the connection is lost or out of step */
  char broken_why[200];
  const device_type *type;
  uint64_t features;     /* GET_FEATURES, as the back-end said */
  uint64_t protocol;     /* negotiated protocol features */
  uint64_t driver_features;
  uint8_t status;
  bool running;          /* DRIVER_OK handled: memory table sent */
  uint16_t nq, qmax;
  uint8_t config[VU_MAX_CONFIG];
  uint32_t config_len;
  vu_ring *q;
  int reply_ms, wait_ms;
} vsim_vhost_user;

/* ---- small helpers ---- */

static int64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static bool has_pf(const vsim_vhost_user *v, unsigned bit) { return (v->protocol >> bit) & 1u; }

#define violation(v, check, q, ...) vsim_host_reportf((v)->host, (check), (q), __VA_ARGS__)

static void set_broken(vsim_vhost_user *v, const char *why) {
  if (v->broken) return;
  v->broken = true;
  snprintf(v->broken_why, sizeof v->broken_why, "%s", why);
}

/* The last non-empty line of the daemon's output (its own account of why). */
static void last_log_line(const vsim_vhost_user *v, char *out, size_t cap) {
  out[0] = 0;
  if (!v->daemon) return;
  char tail[400];
  vsim_daemon_log_tail(v->daemon, tail, sizeof tail);
  size_t n = strlen(tail);
  while (n && (tail[n - 1] == '\n' || tail[n - 1] == '\r')) tail[--n] = 0;
  const char *line = strrchr(tail, '\n');
  snprintf(out, cap, "%.*s", (int)(cap - 1), line ? line + 1 : tail);
}

/* The back-end closed the connection or died: reported once, as the
 * vhost-user.backend-gone check (the conform runner calls the test crashed). */
static void gone(vsim_vhost_user *v, const char *during) {
  if (v->broken) return;
  char how[96] = "", line[120];
  /* a daemon that hung up because it is dying (an abort) gets a moment to
   * finish, so that the report says how it ended rather than "still running" */
  for (int i = 0; v->daemon && i < 40 && vsim_daemon_alive(v->daemon, NULL, 0); i++) usleep(5000);
  if (v->daemon && vsim_daemon_alive(v->daemon, how, sizeof how)) snprintf(how, sizeof how, "still running");
  last_log_line(v, line, sizeof line);
  char d[VSIM_VIOLATION_DETAIL_MAX];
  /* precisions keep it within a violation's detail: the daemon's own last
   * line is cut first */
  snprintf(d, sizeof d, "connection closed during %.24s%s%.40s%s%.58s", during, how[0] ? "; daemon " : "", how,
           line[0] ? ": " : "", line);
  violation(v, VSIM_CHK_VU_BACKEND_GONE, -1, "%s", d);
  set_broken(v, d);
}

/* A transport failure while waiting for a reply to `req`. */
static void lost(vsim_vhost_user *v, int err, uint32_t req) {
  char nb[32], d[VSIM_VIOLATION_DETAIL_MAX];
  const char *name = vu_request_name(req, nb, sizeof nb);
  switch (err) {
    case VU_E_EOF:
    case VU_E_SHORT:
      gone(v, name);
      return;
    case VU_E_TIMEOUT:
      snprintf(d, sizeof d, "no reply to %s within %d ms", name, v->reply_ms);
      violation(v, VSIM_CHK_VU_REPLY_MISSING, -1, "%s", d);
      break;
    case VU_E_TOO_BIG:
      snprintf(d, sizeof d, "reply to %s larger than %u bytes", name, VU_MAX_PAYLOAD);
      violation(v, VSIM_CHK_VU_REPLY_SIZE, -1, "%s", d);
      break;
    case VU_E_TOO_MANY_FDS:
      snprintf(d, sizeof d, "reply to %s carries more than %u file descriptors", name, VU_MAX_FDS);
      violation(v, VSIM_CHK_VU_REPLY_FDS, -1, "%s", d);
      break;
    default:
      snprintf(d, sizeof d, "socket error waiting for the reply to %s: %s", name, strerror(errno));
      break;
  }
  set_broken(v, d);
}

/* A reply that arrived but is not what its request defines. */
static void bad_reply(vsim_vhost_user *v, int err, const char *why) {
  int check = err == VU_E_SIZE  ? VSIM_CHK_VU_REPLY_SIZE
              : err == VU_E_FDS ? VSIM_CHK_VU_REPLY_FDS
                                : VSIM_CHK_VU_REPLY_HEADER;
  violation(v, check, -1, "%s", why);
  /* QEMU closes the connection on a wrong reply: nothing after it can be
   * trusted to answer what we ask */
  set_broken(v, why);
}

static int send_msg(vsim_vhost_user *v, uint32_t req, uint32_t flags, const void *pl, uint32_t size,
                    const int *fds, unsigned nfds) {
  if (v->broken) return -1;
  int r = vu_send(v->sock, req, VU_VERSION | flags, pl, size, fds, nfds);
  if (r == VU_OK) return 0;
  char nb[32];
  if (r == VU_E_EOF) gone(v, vu_request_name(req, nb, sizeof nb));
  else {
    char d[VSIM_VIOLATION_DETAIL_MAX];
    snprintf(d, sizeof d, "cannot send %s: %s", vu_request_name(req, nb, sizeof nb), strerror(errno));
    set_broken(v, d);
  }
  return -1;
}

/* A request that defines a reply of `size` bytes (R in the digest's table).
 * 0 with the reply in *m (no fds left in it), or -1 (reported, broken). */
static int request_reply(vsim_vhost_user *v, uint32_t req, const void *pl, uint32_t size, vu_msg *m,
                         uint32_t reply_size) {
  if (send_msg(v, req, 0, pl, size, NULL, 0)) return -1;
  int r = vu_recv(v->sock, m, v->reply_ms);
  if (r != VU_OK) {
    lost(v, r, req);
    return -1;
  }
  char why[VSIM_VIOLATION_DETAIL_MAX];
  r = vu_check_reply(m, req, reply_size, 0, why, sizeof why);
  vu_msg_close_fds(m);
  if (r != VU_OK) {
    bad_reply(v, r, why);
    return -1;
  }
  return 0;
}

/* A request without a reply of its own (A in the digest's table): with
 * REPLY_ACK negotiated it asks for the ack and judges it. 0 sent (and
 * acknowledged with 0), 1 the back-end answered failure (reported), -1 the
 * connection is unusable (reported). */
static int request_ack(vsim_vhost_user *v, uint32_t req, const void *pl, uint32_t size, const int *fds,
                       unsigned nfds) {
  bool ack = has_pf(v, VU_PF_REPLY_ACK);
  if (send_msg(v, req, ack ? VU_FLAG_NEED_REPLY : 0, pl, size, fds, nfds)) return -1;
  if (!ack) return 0;
  vu_msg m;
  int r = vu_recv(v->sock, &m, v->reply_ms);
  if (r != VU_OK) {
    lost(v, r, req);
    return -1;
  }
  char why[VSIM_VIOLATION_DETAIL_MAX];
  r = vu_check_reply(&m, req, 8, 0, why, sizeof why);
  vu_msg_close_fds(&m);
  if (r != VU_OK) {
    bad_reply(v, r, why);
    return -1;
  }
  uint64_t val = vu_msg_u64(&m);
  if (val != 0) {
    char nb[32];
    violation(v, VSIM_CHK_VU_ACK_FAILED, -1, "%s acknowledged with %" PRIu64 " (failure)",
              vu_request_name(req, nb, sizeof nb), val);
    return 1;
  }
  return 0;
}

static int request_u64(vsim_vhost_user *v, uint32_t req, uint64_t *val) {
  vu_msg m;
  if (request_reply(v, req, NULL, 0, &m, 8)) return -1;
  *val = vu_msg_u64(&m);
  return 0;
}

static int set_u64(vsim_vhost_user *v, uint32_t req, uint64_t val) {
  return request_ack(v, req, &val, sizeof val, NULL, 0);
}

static int set_state(vsim_vhost_user *v, uint32_t req, uint32_t index, uint32_t num) {
  struct vhost_vring_state s = {index, num};
  return request_ack(v, req, &s, sizeof s, NULL, 0);
}

/* SET_VRING_KICK/CALL/ERR: the ring index, and the eventfd in the ancillary data. */
static int set_vring_fd(vsim_vhost_user *v, uint32_t req, uint16_t q, int fd) {
  uint64_t val = q & VU_VRING_IDX_MASK;
  return request_ack(v, req, &val, sizeof val, &fd, 1);
}

/* Read (and so clear) an eventfd: the count of signals since the last read. */
static uint64_t drain(int fd) {
  uint64_t total = 0, val;
  if (fd < 0) return 0;
  while (read(fd, &val, sizeof val) == (ssize_t)sizeof val) total += val;
  return total;
}

/* ---- guest memory, as this side sees it ---- */

static bool in_arena(const vsim_vhost_user *v, uint64_t gpa, uint64_t len) {
  uint64_t size = vsim_arena_size(v->arena);
  return gpa <= size && len <= size - gpa;
}

/* A 16-bit field the back-end writes concurrently: one load, never torn. */
static uint16_t peek16(const vsim_vhost_user *v, uint64_t gpa) {
  const uint8_t *p = vsim_arena_base(v->arena) + gpa;
  if (((uintptr_t)p & 1u) == 0) {
    uint16_t x = __atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_ACQUIRE);
    return x; /* little-endian host (x86, arm64 as configured here) */
  }
  return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t peek32(const vsim_vhost_user *v, uint64_t gpa) {
  const uint8_t *p = vsim_arena_base(v->arena) + gpa;
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint16_t avail_idx(const vsim_vhost_user *v, const vu_ring *r) { return peek16(v, r->cfg.driver + 2); }
static uint16_t used_idx(const vsim_vhost_user *v, const vu_ring *r) { return peek16(v, r->cfg.device + 2); }

/* ---- the handshake ---- */

/* GET_CONFIG of `size` bytes at `off`: 1 answered (into dst), 0 refused
 * (the zero-length error reply), -1 lost. */
static int get_config(vsim_vhost_user *v, uint32_t off, uint32_t size, uint8_t *dst) {
  uint8_t req[sizeof(vu_config_hdr) + VU_MAX_CONFIG];
  vu_config_hdr h = {off, size, 0};
  memset(req, 0, sizeof req);
  memcpy(req, &h, sizeof h);
  /* the request carries size zeroed bytes too (rust-vmm insists on 12 + size) */
  if (send_msg(v, VU_GET_CONFIG, 0, req, (uint32_t)sizeof h + size, NULL, 0)) return -1;
  vu_msg m;
  int r = vu_recv(v->sock, &m, v->reply_ms);
  if (r != VU_OK) {
    lost(v, r, VU_GET_CONFIG);
    return -1;
  }
  char why[VSIM_VIOLATION_DETAIL_MAX];
  /* a zero-length payload is the protocol's error answer */
  r = vu_check_reply(&m, VU_GET_CONFIG, m.size == 0 ? 0 : (uint32_t)sizeof h + size, 0, why, sizeof why);
  vu_msg_close_fds(&m);
  if (r != VU_OK) {
    bad_reply(v, r, why);
    return -1;
  }
  if (m.size == 0) return 0;
  vu_config_hdr back;
  memcpy(&back, m.payload, sizeof back);
  if (back.size != size) {
    snprintf(why, sizeof why, "GET_CONFIG reply's config header says %u bytes, %u asked", back.size, size);
    bad_reply(v, VU_E_SIZE, why);
    return -1;
  }
  memcpy(dst, m.payload + sizeof h, size);
  return 1;
}

/* The configuration space, cached (the protocol allows it; QEMU does the
 * same). The back-end may refuse the whole structure as the headers define
 * it (its device may predate the last fields): then the longest prefix it
 * answers, in 4-byte steps, is the config space, and the refusal a warning. */
static int read_config(vsim_vhost_user *v) {
  uint32_t want = v->type->config_size < VU_MAX_CONFIG ? v->type->config_size : VU_MAX_CONFIG;
  uint32_t size = want;
  int r;
  while ((r = get_config(v, 0, size, v->config)) == 0 && size > 4) size -= size % 4 ? size % 4 : 4;
  if (r < 0) return -1;
  if (r == 0) {
    set_broken(v, "GET_CONFIG refused at every size: no configuration space to give the driver");
    return -1;
  }
  v->config_len = size;
  if (size < want)
    violation(v, VSIM_CHK_VU_CONFIG_SIZE, -1,
              "GET_CONFIG of the %u-byte config structure refused (zero-length reply); %u bytes answered",
              want, size);
  /* Does it honour the offset? Ask for 4 bytes where they differ from the
     first 4: a back-end that ignores the offset answers the first ones. */
  for (uint32_t off = 4; off + 4 <= size; off += 4) {
    if (memcmp(v->config + off, v->config, 4) == 0) continue;
    uint8_t part[4];
    r = get_config(v, off, 4, part);
    if (r < 0) return -1;
    if (r == 1 && memcmp(part, v->config + off, 4) != 0)
      violation(v, VSIM_CHK_VU_CONFIG_OFFSET, -1,
                "GET_CONFIG(offset %u, 4 bytes) returned %02x%02x%02x%02x, the bytes at offset %s",
                off, part[0], part[1], part[2], part[3],
                memcmp(part, v->config, 4) == 0 ? "0 (the offset is ignored)" : "? (not those at the offset)");
    break;
  }
  return 0;
}

/* virtio-fs as QEMU's vhost-user-fs-device presents it: the tag (device_config
 * "tag", default "vsim-fs") and one request queue per queue after hiprio. */
static void fs_config(vsim_vhost_user *v, const vsim_backend_params *p) {
  struct virtio_fs_config c;
  memset(&c, 0, sizeof c);
  const char *tag = "vsim-fs";
  for (unsigned i = 0; i < p->config_count; i++)
    if (strcmp(p->config_keys[i], "tag") == 0) tag = p->config_values[i];
  memcpy(c.tag, tag, strnlen(tag, sizeof c.tag));
  uint32_t nrq = v->nq > 1 ? v->nq - 1u : 0u; /* little-endian host, as peek16 assumes */
  memcpy(&c.num_request_queues, &nrq, sizeof nrq);
  memcpy(v->config, &c, sizeof c);
  v->config_len = sizeof c;
}

static int handshake(vsim_vhost_user *v, const vsim_backend_params *p, char *err, unsigned errlen) {
  if (request_u64(v, VU_GET_FEATURES, &v->features)) goto fail;
  if (v->features & BIT(VU_F_PROTOCOL_FEATURES)) {
    uint64_t offered;
    if (request_u64(v, VU_GET_PROTOCOL_FEATURES, &offered)) goto fail;
    uint64_t want = offered & OUR_PROTOCOL;
    /* sent before REPLY_ACK is in force: no NEED_REPLY on this one */
    if (send_msg(v, VU_SET_PROTOCOL_FEATURES, 0, &want, sizeof want, NULL, 0)) goto fail;
    v->protocol = want;
  }
  if (has_pf(v, VU_PF_MQ)) {
    uint64_t n;
    if (request_u64(v, VU_GET_QUEUE_NUM, &n)) goto fail;
    if (n < v->nq) {
      snprintf(err, errlen, "the back-end serves %" PRIu64 " queue(s) (GET_QUEUE_NUM), the scenario needs %u",
               n, v->nq);
      return -1;
    }
  }
  if (has_pf(v, VU_PF_CONFIGURE_MEM_SLOTS)) {
    uint64_t slots;
    if (request_u64(v, VU_GET_MAX_MEM_SLOTS, &slots)) goto fail;
    if (slots < 1) {
      snprintf(err, errlen, "the back-end has no memory slots (GET_MAX_MEM_SLOTS 0)");
      return -1;
    }
  }
  if (request_ack(v, VU_SET_OWNER, NULL, 0, NULL, 0) < 0) goto fail;
  if (has_pf(v, VU_PF_CONFIG)) {
    if (read_config(v)) goto fail;
  } else if (v->type->own_config) {
    v->type->own_config(v, p);
  } else if (v->type->config_size) {
    snprintf(err, errlen, "the back-end does not offer the CONFIG protocol feature: a %s front-end "
             "cannot read its configuration space", v->type->name);
    return -1;
  }
  return 0;
fail:
  snprintf(err, errlen, "vhost-user handshake failed: %s", v->broken_why[0] ? v->broken_why : "(no reason)");
  return -1;
}

/* ---- rings ---- */

static bool ring_fits(const vsim_vhost_user *v, const vsim_queue_cfg *c) {
  uint64_t n = c->size;
  return in_arena(v, c->desc, 16 * n) && in_arena(v, c->driver, 6 + 2 * n) &&
         in_arena(v, c->device, 6 + 8 * n);
}

static int make_eventfd(int *fd) {
  if (*fd >= 0) return 0;
  *fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  return *fd >= 0 ? 0 : -1;
}

/* The ring cannot be handed over: the device would have to stop serving it.
 * As the built-in models do: DEVICE_NEEDS_RESET, and the config interrupt. */
static void needs_reset(vsim_vhost_user *v, int q) {
  if (v->status & VIRTIO_CONFIG_S_NEEDS_RESET) return;
  v->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
  v->host->event(v->host->ctx, VSIM_EV_NEEDS_RESET, q, v->status, 0, 0, 0);
  if (v->status & VIRTIO_CONFIG_S_DRIVER_OK) v->host->config_changed(v->host->ctx);
}

/* Hand ring i to the back-end: the per-ring sequence of the digest (§5),
 * call and err before kick (a completion with no call fd set panics
 * libvhost-user), enable last. */
static int start_ring(vsim_vhost_user *v, uint16_t i) {
  vu_ring *r = &v->q[i];
  if (r->started || !r->ready || v->broken) return 0;
  if (!ring_fits(v, &r->cfg)) {
    needs_reset(v, i);
    return -1;
  }
  if (make_eventfd(&r->kick) || make_eventfd(&r->call) || make_eventfd(&r->err)) {
    set_broken(v, "eventfd() failed");
    return -1;
  }
  uint64_t base = (uint64_t)(uintptr_t)v->mem.map;
  struct vhost_vring_addr a;
  memset(&a, 0, sizeof a);
  a.index = i;
  /* ring addresses are front-end user addresses: our own mapping's */
  a.desc_user_addr = base + r->cfg.desc;
  a.used_user_addr = base + r->cfg.device;
  a.avail_user_addr = base + r->cfg.driver;
  if (set_state(v, VU_SET_VRING_NUM, i, r->cfg.size) < 0 || set_state(v, VU_SET_VRING_BASE, i, 0) < 0 ||
      request_ack(v, VU_SET_VRING_ADDR, &a, sizeof a, NULL, 0) < 0 ||
      set_vring_fd(v, VU_SET_VRING_CALL, i, r->call) < 0 || set_vring_fd(v, VU_SET_VRING_ERR, i, r->err) < 0 ||
      set_vring_fd(v, VU_SET_VRING_KICK, i, r->kick) < 0)
    return -1;
  if ((v->features & BIT(VU_F_PROTOCOL_FEATURES)) && set_state(v, VU_SET_VRING_ENABLE, i, 1) < 0) return -1;
  /* libvhost-user signals every new call fd once "in case of I/O hang
   * after reconnecting" (digest §6 (4)): no buffer was used, so it is not
   * the device's notification. With REPLY_ACK it has happened by now. */
  r->early_calls += drain(r->call);
  r->seen_used = used_idx(v, r);
  r->popped = avail_idx(v, r);
  r->kicked = r->given_up = r->ever_kicked = false;
  r->stuck = 0;
  r->started = true;
  return 0;
}

/* Stop ring i: GET_VRING_BASE, whose reply names the ring it stopped. */
static void stop_ring(vsim_vhost_user *v, uint16_t i) {
  vu_ring *r = &v->q[i];
  if (!r->started) return;
  r->started = false;
  r->kicked = r->given_up = false;
  struct vhost_vring_state s = {i, 0};
  vu_msg m;
  if (!v->broken && request_reply(v, VU_GET_VRING_BASE, &s, sizeof s, &m, sizeof s) == 0) {
    struct vhost_vring_state back;
    memcpy(&back, m.payload, sizeof back);
    if (back.index != i)
      violation(v, VSIM_CHK_VU_REPLY_HEADER, i, "GET_VRING_BASE for ring %u answered for ring %u", i,
                back.index);
  }
  drain(r->call);
  drain(r->kick);
}

/* Everything the driver made available since the last look is, as far as
 * anything here can tell, the back-end's from now on: POP events (from the
 * ring as the driver wrote it) let the checkers fingerprint what the device
 * must not write. */
static void note_available(vsim_vhost_user *v, uint16_t i) {
  vu_ring *r = &v->q[i];
  uint16_t avail = avail_idx(v, r), n = (uint16_t)(avail - r->popped);
  if (n > r->cfg.size) n = 0; /* an index jump: nothing sensible to note */
  for (uint16_t k = 0; k < n; k++) {
    uint16_t slot = (uint16_t)((uint16_t)(r->popped + k) % r->cfg.size);
    uint16_t head = peek16(v, r->cfg.driver + 4 + 2u * slot);
    v->host->event(v->host->ctx, VSIM_EV_POP, i, head, 0, 0, 0);
  }
  r->popped = avail;
}

/* ---- the ops ---- */

static void vu_destroy(void *be) {
  vsim_vhost_user *v = be;
  if (!v) return;
  if (v->sock >= 0) close(v->sock);
  vsim_daemon_stop(v->daemon, 2000);
  for (uint16_t i = 0; v->q && i < v->nq; i++) {
    if (v->q[i].kick >= 0) close(v->q[i].kick);
    if (v->q[i].call >= 0) close(v->q[i].call);
    if (v->q[i].err >= 0) close(v->q[i].err);
  }
  free(v->q);
  free(v);
}

static uint32_t vu_device_id(void *be) { return ((vsim_vhost_user *)be)->type->id; }
static uint32_t vu_vendor_id(void *be) { return VENDOR_VSIM; }
static uint16_t vu_num_queues(void *be) { return ((vsim_vhost_user *)be)->nq; }
static uint16_t vu_queue_max(void *be, uint16_t q) {
  vsim_vhost_user *v = be;
  return q < v->nq ? v->qmax : 0;
}
static uint64_t vu_device_features(void *be) {
  return ((vsim_vhost_user *)be)->features & ~HIDDEN_FEATURES;
}

static void vu_set_driver_features(void *be, uint64_t f) {
  vsim_vhost_user *v = be;
  if (v->status & VIRTIO_CONFIG_S_FEATURES_OK) return; /* frozen, as in the built-in models */
  v->driver_features = f;
}

static uint8_t vu_get_status(void *be) { return ((vsim_vhost_user *)be)->status; }

static void reset_device(vsim_vhost_user *v) {
  bool was_running = v->running;
  for (uint16_t i = 0; i < v->nq; i++) {
    stop_ring(v, i);
    memset(&v->q[i].cfg, 0, sizeof v->q[i].cfg);
    v->q[i].ready = false;
  }
  if (was_running && !v->broken) {
    /* RESET_DEVICE when negotiated; else the deprecated RESET_OWNER, which
     * back-ends either ignore or take as "disable all rings" */
    request_ack(v, has_pf(v, VU_PF_RESET_DEVICE) ? VU_RESET_DEVICE : VU_RESET_OWNER, NULL, 0, NULL, 0);
  }
  v->running = false;
  v->status = 0;
  v->driver_features = 0;
}

/* DRIVER_OK: the memory table, then every ring the driver set up. */
static void start_device(vsim_vhost_user *v) {
  if (v->broken) return;
  vu_mem_table t;
  memset(&t, 0, sizeof t);
  t.nregions = 1;
  t.regions[0].guest_phys_addr = 0;
  t.regions[0].memory_size = vsim_arena_size(v->arena);
  t.regions[0].userspace_addr = (uint64_t)(uintptr_t)v->mem.map;
  t.regions[0].mmap_offset = 0;
  /* with REPLY_ACK the ack says the back-end has mapped it before any kick */
  if (request_ack(v, VU_SET_MEM_TABLE, &t, 8 + 32 * t.nregions, &v->mem.fd, 1) != 0) {
    needs_reset(v, -1);
    return;
  }
  v->running = true;
  for (uint16_t i = 0; i < v->nq; i++)
    if (v->q[i].ready && start_ring(v, i) && !v->broken) needs_reset(v, i);
}

static void vu_set_status(void *be, uint8_t st) {
  vsim_vhost_user *v = be;
  uint8_t old = v->status;
  if (st == 0) {
    reset_device(v);
    return;
  }
  uint8_t keep = old & VIRTIO_CONFIG_S_NEEDS_RESET;
  if ((st & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
    /* FEATURES_OK: the back-end hears the features now, so that a back-end
     * that refuses them (a failed REPLY_ACK) refuses FEATURES_OK */
    bool ok = (v->driver_features & ~vu_device_features(v)) == 0 && !v->broken;
    if (ok) {
      uint64_t f = v->driver_features | (v->features & BIT(VU_F_PROTOCOL_FEATURES));
      ok = set_u64(v, VU_SET_FEATURES, f) == 0;
    }
    if (!ok) st &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
  }
  v->status = (uint8_t)(st | keep);
  if ((v->status & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK)) start_device(v);
}

static uint32_t vu_config_generation(void *be) { return 0; /* no back-end channel: it never changes */ }
static uint32_t vu_config_size(void *be) { return ((vsim_vhost_user *)be)->config_len; }

static int vu_config_read(void *be, uint32_t off, void *dst, uint32_t len) {
  vsim_vhost_user *v = be;
  if (off > v->config_len || len > v->config_len - off) return -1;
  memcpy(dst, v->config + off, len);
  return 0;
}

static int vu_config_write(void *be, uint32_t off, const void *src, uint32_t len) {
  vsim_vhost_user *v = be;
  if (off > v->config_len || len > v->config_len - off || len > VU_MAX_CONFIG || !has_pf(v, VU_PF_CONFIG))
    return -1;
  uint8_t req[sizeof(vu_config_hdr) + VU_MAX_CONFIG];
  vu_config_hdr h = {off, len, 0};
  memcpy(req, &h, sizeof h);
  memcpy(req + sizeof h, src, len);
  if (request_ack(v, VU_SET_CONFIG, req, (uint32_t)sizeof h + len, NULL, 0) != 0) return -1;
  memcpy(v->config + off, src, len);
  return 0;
}

static int vu_queue_ready(void *be, uint16_t i, const vsim_queue_cfg *cfg) {
  vsim_vhost_user *v = be;
  if (i >= v->nq) return -1;
  vu_ring *r = &v->q[i];
  if (!cfg) {
    stop_ring(v, i);
    r->ready = false;
    return 0;
  }
  if (cfg->size == 0 || cfg->size > v->qmax) return -1;
  stop_ring(v, i);
  r->ready = true;
  r->cfg = *cfg;
  /* enabled after DRIVER_OK: hand it over now */
  if (v->running && start_ring(v, i)) return v->broken ? 0 : -1;
  return 0;
}

static void vu_queue_notify(void *be, uint16_t i, uint32_t data) {
  vsim_vhost_user *v = be;
  if (i >= v->nq) return;
  vu_ring *r = &v->q[i];
  /* before DRIVER_OK the device must not act on it (the checkers judge the
   * driver for sending it) */
  if (!r->started || v->broken) return;
  note_available(v, i);
  /* the driver's ring writes must be visible before the back-end wakes */
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  uint64_t one = 1;
  if (write(r->kick, &one, sizeof one) != (ssize_t)sizeof one) set_broken(v, "cannot write the kick eventfd");
  r->kicked = r->ever_kicked = true;
  r->given_up = false;
}

static bool vu_queue_runnable(void *be, uint16_t i) {
  vsim_vhost_user *v = be;
  if (i >= v->nq) return false;
  vu_ring *r = &v->q[i];
  if (!r->started || v->broken) return false;
  if (r->kicked) return true;
  if (used_idx(v, r) != r->seen_used) return true; /* it used something on its own */
  if (r->given_up || !r->ever_kicked) return false;
  /* made available without a notification (suppressed): still its work;
   * more than a ring's worth is a broken avail.idx, nothing to wait for */
  uint16_t pending = (uint16_t)(avail_idx(v, r) - r->seen_used);
  return pending > r->stuck && pending <= r->cfg.size;
}

/* Must the device notify for used.idx moving old -> new? (The rule the
 * checkers judge it by: notify.dev-missed-irq.) */
static bool irq_wanted(const vsim_vhost_user *v, const vu_ring *r, uint16_t old, uint16_t nw) {
  if ((v->driver_features >> VIRTIO_RING_F_EVENT_IDX) & 1u) {
    uint16_t ev = peek16(v, r->cfg.driver + 4 + 2u * r->cfg.size);
    return (uint16_t)(nw - ev - 1) < (uint16_t)(nw - old);
  }
  return !(peek16(v, r->cfg.driver) & VRING_AVAIL_F_NO_INTERRUPT);
}

/* Has the back-end closed the socket (or written to it unasked)? */
static void check_socket(vsim_vhost_user *v, const char *during) {
  char c;
  ssize_t n = recv(v->sock, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno == ECONNRESET)) gone(v, during);
  else if (n > 0) {
    violation(v, VSIM_CHK_VU_REPLY_HEADER, -1, "the back-end sent a message nobody asked for (during %s)", during);
    set_broken(v, "unsolicited message on the main channel");
  }
}

/* Wait (bounded) for the back-end to use what is pending on ring i, beyond
 * the requests it was already given up on. Returns true when it did. */
static bool wait_used(vsim_vhost_user *v, vu_ring *r, int64_t deadline, uint64_t *calls) {
  if ((uint16_t)(avail_idx(v, r) - used_idx(v, r)) > r->cfg.size) {
    /* the indices are more than a ring apart (avail.idx jumped or went
     * back, or used.idx ran past it: the checkers judge which): nothing to
     * wait for, but a back-end that hangs up over it does so now */
    struct pollfd p = {v->sock, POLLIN, 0};
    if (poll(&p, 1, v->wait_ms < 100 ? v->wait_ms : 100) > 0) check_socket(v, "request processing");
    return false;
  }
  for (;;) {
    uint16_t pending = (uint16_t)(avail_idx(v, r) - used_idx(v, r));
    if (pending <= r->stuck || pending > r->cfg.size) return true;
    int64_t left = deadline - now_ms();
    /* short slices: with suppressed notifications the call never comes,
     * and used.idx is what counts. One look even when the bound has run
     * out: what the back-end did in time (a call, a hang-up, a message) is
     * seen whatever the clock says, so the result does not depend on it */
    struct pollfd p[2] = {{r->call, POLLIN, 0}, {v->sock, POLLIN, 0}};
    int n = poll(p, 2, left <= 0 ? 0 : left > 10 ? 10 : (int)left);
    if (n < 0 && errno != EINTR) return false;
    if (n > 0 && (p[0].revents & POLLIN)) *calls += drain(r->call);
    if (n > 0 && p[1].revents) {
      check_socket(v, "request processing");
      if (v->broken) return false;
    }
    if (v->daemon && !vsim_daemon_alive(v->daemon, NULL, 0)) {
      gone(v, "request processing");
      return false;
    }
    if (left <= 0) {
      pending = (uint16_t)(avail_idx(v, r) - used_idx(v, r));
      return pending <= r->stuck || pending > r->cfg.size;
    }
  }
}

static int vu_queue_run(void *be, uint16_t i, uint32_t budget) {
  vsim_vhost_user *v = be;
  if (i >= v->nq) return -1;
  vu_ring *r = &v->q[i];
  r->kicked = false;
  if (!r->started || v->broken) return 0;
  note_available(v, i);
  int64_t deadline = now_ms() + v->wait_ms;
  uint64_t calls = 0;
  bool done = wait_used(v, r, deadline, &calls);
  __atomic_thread_fence(__ATOMIC_ACQUIRE); /* used.idx before the entries it covers */
  uint16_t old = r->seen_used, nw = used_idx(v, r);
  uint16_t n = (uint16_t)(nw - old);
  /* what the used ring shows, for the checkers; more than a ring's worth
   * is the driver model's to judge (split.used-idx-jump) */
  uint16_t shown = n > r->cfg.size ? r->cfg.size : n;
  for (uint16_t k = 0; k < shown; k++) {
    uint64_t e = r->cfg.device + 4 + 8u * ((uint16_t)(old + k) % r->cfg.size);
    v->host->event(v->host->ctx, VSIM_EV_USED, i, peek32(v, e), peek32(v, e + 4), 0, 0);
  }
  if (n) v->host->event(v->host->ctx, VSIM_EV_USED_PUBLISH, i, old, nw, 0, 0);
  r->seen_used = nw;
  uint16_t pending = (uint16_t)(avail_idx(v, r) - nw);
  if (!done && !v->broken) {
    /* it stopped using buffers: not waited for again until something changes */
    r->given_up = true;
    r->stuck = pending;
  } else if (pending < r->stuck) {
    r->stuck = pending;
  }
  if (!v->broken) {
    calls += drain(r->call);
    if (!calls && n && irq_wanted(v, r, old, nw)) {
      /* the call follows the used.idx store: give it the rest of the bound */
      int64_t left = deadline - now_ms();
      struct pollfd p = {r->call, POLLIN, 0};
      if (left > 0 && poll(&p, 1, (int)left) > 0) calls += drain(r->call);
    }
  }
  if (calls) {
    r->calls += calls;
    v->host->interrupt(v->host->ctx, i);
  }
  return (int)(n < budget ? n : budget);
}

static const vsim_backend_ops vhost_user_ops = {
    .abi_version = VSIM_BACKEND_ABI_VERSION,
    .name = "vhost-user",
    .destroy = vu_destroy,
    .device_id = vu_device_id,
    .vendor_id = vu_vendor_id,
    .num_queues = vu_num_queues,
    .queue_max_size = vu_queue_max,
    .device_features = vu_device_features,
    .set_driver_features = vu_set_driver_features,
    .get_status = vu_get_status,
    .set_status = vu_set_status,
    .config_generation = vu_config_generation,
    .config_size = vu_config_size,
    .config_read = vu_config_read,
    .config_write = vu_config_write,
    .queue_ready = vu_queue_ready,
    .queue_reset = NULL,
    .queue_notify = vu_queue_notify,
    .queue_runnable = vu_queue_runnable,
    .queue_run = vu_queue_run,
    .queue_next_due = NULL,
};

/* ---- creation ---- */

int vsim_vhost_user_spec(const char *spec, char *socket, size_t socket_len, const char **cmd,
                         char *err, size_t errlen) {
  *cmd = NULL;
  socket[0] = 0;
  if (strncmp(spec, "vhost-user", 10) != 0 || (spec[10] != ':' && spec[10] != 0)) {
    snprintf(err, errlen, "backend '%s': expected vhost-user:SOCKET", spec);
    return -1;
  }
  const char *body = spec[10] ? spec + 11 : spec + 10;
  const char *q = strstr(body, "?cmd=");
  size_t n = q ? (size_t)(q - body) : strlen(body);
  if (n >= socket_len) {
    snprintf(err, errlen, "backend '%s': socket path too long", spec);
    return -1;
  }
  memcpy(socket, body, n);
  socket[n] = 0;
  if (q) *cmd = q + 5;
  if (!socket[0] && !(*cmd && **cmd)) {
    snprintf(err, errlen, "backend '%s': give the socket (vhost-user:SOCKET) or the command that starts "
             "the daemon (--backend-cmd 'CMD ... {socket}')", spec);
    return -1;
  }
  if (socket[0] && *cmd) {
    snprintf(err, errlen, "backend '%s': a socket path or a daemon command, not both", spec);
    return -1;
  }
  return 0;
}

static int connect_unix(const char *path, char *err, unsigned errlen) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa.sun_path) {
    snprintf(err, errlen, "socket path %s is too long for a unix socket", path);
    return -1;
  }
  memcpy(sa.sun_path, path, strlen(path) + 1);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
    snprintf(err, errlen, "cannot connect to the vhost-user back-end at %s: %s", path, strerror(errno));
    if (s >= 0) close(s);
    return -1;
  }
  return s;
}

static int create(int sock, vsim_daemon *daemon, const char *device, const vsim_backend_params *p,
                  const vsim_vu_timeouts *t, vsim_backend *out, char *err, unsigned errlen) {
  const device_type *type = NULL;
  for (size_t k = 0; k < sizeof device_types / sizeof device_types[0]; k++)
    if (device && strcmp(device_types[k].name, device) == 0) type = &device_types[k];
  vsim_vhost_user *v = calloc(1, sizeof *v);
  if (v) {
    v->sock = sock;
    v->daemon = daemon;
  }
  if (!type) {
    snprintf(err, errlen, "vhost-user: no front-end for device type '%s'", device ? device : "(none)");
    goto fail;
  }
  if (!v) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  v->host = p->host;
  v->arena = p->host->arena;
  v->type = type;
  v->nq = p->num_queues ? p->num_queues : 1;
  v->qmax = p->queue_max_size ? p->queue_max_size : 256;
  v->reply_ms = t && t->reply_ms > 0 ? t->reply_ms : VSIM_VU_REPLY_MS;
  v->wait_ms = t && t->wait_ms > 0 ? t->wait_ms : VSIM_VU_WAIT_MS;
  if (!vsim_arena_memfd(v->arena, &v->mem)) {
    snprintf(err, errlen, "vhost-user needs guest memory in a memfd (vsim_arena_new_memfd)");
    goto fail;
  }
  v->q = calloc(v->nq, sizeof *v->q);
  if (!v->q) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  for (uint16_t i = 0; i < v->nq; i++) v->q[i].kick = v->q[i].call = v->q[i].err = -1;
  if (handshake(v, p, err, errlen)) goto fail;
  out->ops = &vhost_user_ops;
  out->be = v;
  return 0;
fail:
  if (v) vu_destroy(v);
  else {
    close(sock);
    vsim_daemon_stop(daemon, 2000);
  }
  return -1;
}

int vsim_vhost_user_create_on(int sock, const char *device, const vsim_backend_params *params,
                              const vsim_vu_timeouts *t, vsim_backend *out, char *err, unsigned errlen) {
  return create(sock, NULL, device, params, t, out, err, errlen);
}

int vsim_vhost_user_create(const char *spec, const char *device, const vsim_backend_params *params,
                           vsim_backend *out, char *err, unsigned errlen) {
  char path[256];
  const char *cmd;
  if (vsim_vhost_user_spec(spec, path, sizeof path, &cmd, err, errlen)) return -1;
  vsim_daemon *d = NULL;
  int sock;
  if (cmd) {
    if (vsim_daemon_start(cmd, VSIM_VU_START_MS, &d, &sock, err, errlen)) return -1;
  } else if ((sock = connect_unix(path, err, errlen)) < 0) {
    return -1;
  }
  return create(sock, d, device, params, NULL, out, err, errlen);
}
