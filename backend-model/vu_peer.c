/* backend-model/vu_peer.c — the in-process scripted vhost-user back-end (see vu_peer.h),
 * and the vu.* mutants it plants in the replies it serves. */
#include "vu_peer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include "vhost_user_proto.h"

#define MAX_REQS 65536u /* requests kept for judging; more are counted only */

/* One sendmsg's worth of the stream: where its bytes start, descriptors on it. */
typedef struct fd_mark {
  size_t at;
  unsigned n;
} fd_mark;

/* When bytes were written: from stream offset `at` on, at the pump of op `op`
 * (0: before the front-end was created). A reply written after the op that
 * asked for it came too late: the front-end had stopped waiting. */
typedef struct write_mark {
  size_t at;
  uint32_t op;
} write_mark;

typedef struct peer_ring {
  uint32_t num;
  uint64_t desc, avail, used; /* front-end user addresses (SET_VRING_ADDR) */
  bool has_addr;
  int call;
} peer_ring;

struct vu_peer {
  const vu_script *sc;
  int sock;              /* our end; -1 once closed */
  bool closed;           /* by a VUP_CLOSE */
  bool fe_gone;          /* the front-end closed its end */
  size_t pc;             /* the next action */
  size_t part;           /* bytes of the current MSG / RAW already written */
  bool waiting;
  uint8_t await_ev;
  uint32_t segment;      /* awaits passed */
  uint32_t op;           /* front-end ops seen (pumps) */
  uint8_t op_event;      /* the event of the op running now */
  uint32_t seg_count[VUP_EV__COUNT]; /* events of each kind since the segment began */
  /* the stream as written */
  uint8_t *out;
  size_t nout, outcap;
  fd_mark *marks;
  size_t nmarks, markcap;
  write_mark *wmarks;
  size_t nwmarks, wmarkcap;
  /* requests read */
  vu_peer_req *reqs;
  size_t nreqs, reqcap, reqs_total;
  /* guest memory, as the memory table described it */
  int memfd;
  uint64_t mem_size, mem_uaddr, mem_off;
  peer_ring ring[VUP_MAX_RINGS];
  /* the vu.* mutants (vsim_mut_any false: the script is served as written) */
  vsim_mutset mut;
  /* The MSG action being written, as a mutant rewrote it: kept until it is
   * all written, so that a write the socket cut short goes on with the same
   * bytes at the next pump. Room for two GET_CONFIG messages (the refusal
   * and the shorter answer of vu.config-short). */
  bool cur_valid;
  vu_peer_act cur;
  uint8_t cur_body[2 * (VU_HDR_SIZE + 12 + VU_MAX_CONFIG)];
  /* the config bytes the script last answered for offset 0 (what
   * vu.config-offset-ignored answers whatever the offset) */
  uint8_t cfg0[VU_MAX_CONFIG];
  uint32_t ncfg0;
};

static const char *const event_names[VUP_EV__COUNT] = {"kick", "run", "status", "queue"};

const char *vu_peer_event_name(int ev) {
  return ev >= 0 && ev < VUP_EV__COUNT ? event_names[ev] : "none";
}

int vu_peer_event_lookup(const char *name) {
  for (int i = 0; i < VUP_EV__COUNT; i++)
    if (name && strcmp(name, event_names[i]) == 0) return i;
  return -1;
}

/* ---- the script ---- */

void vu_script_init(vu_script *s) {
  memset(s, 0, sizeof *s);
  s->reply_ms = s->wait_ms = 1;
}

void vu_script_clear(vu_script *s) {
  free(s->acts);
  free(s->pool);
  vu_script_init(s);
}

int vu_script_add(vu_script *s, const vu_peer_act *a, const uint8_t *bytes, uint32_t n) {
  if (s->nacts >= VUP_MAX_ACTIONS || n > VUP_MAX_BYTES - s->npool) return -1;
  if (s->nacts == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 64;
    vu_peer_act *p = realloc(s->acts, cap * sizeof *p);
    if (!p) return -1;
    s->acts = p;
    s->cap = cap;
  }
  if (n && s->npool + n > s->poolcap) {
    size_t cap = s->poolcap ? s->poolcap : 1024;
    while (cap < s->npool + n) cap *= 2;
    uint8_t *p = realloc(s->pool, cap);
    if (!p) return -1;
    s->pool = p;
    s->poolcap = cap;
  }
  vu_peer_act *d = &s->acts[s->nacts++];
  *d = *a;
  d->off = (uint32_t)s->npool;
  d->n = n;
  if (n) memcpy(s->pool + s->npool, bytes, n);
  s->npool += n;
  return 0;
}

/* ---- growing logs ---- */

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return true;
  size_t c = *cap ? *cap : 64;
  while (c < need) c *= 2;
  void *q = realloc(*p, c * elem);
  if (!q) return false;
  *p = q;
  *cap = c;
  return true;
}

/* ---- guest memory through the memfd ---- */

/* The memfd offset of `len` bytes at front-end user address u, or -1 when
 * they are not all in the region. */
static int64_t user_off(const vu_peer *p, uint64_t u, uint64_t len) {
  if (p->memfd < 0 || u < p->mem_uaddr) return -1;
  uint64_t rel = u - p->mem_uaddr;
  if (rel > p->mem_size || len > p->mem_size - rel) return -1;
  return (int64_t)(p->mem_off + rel);
}

static bool mem_rw(const vu_peer *p, uint64_t u, void *buf, size_t len, bool write) {
  int64_t off = user_off(p, u, len);
  if (off < 0) return false;
  ssize_t n = write ? pwrite(p->memfd, buf, len, off) : pread(p->memfd, buf, len, off);
  return n == (ssize_t)len;
}

static uint16_t get16(const vu_peer *p, uint64_t u) {
  uint8_t b[2] = {0, 0};
  mem_rw(p, u, b, 2, false);
  return (uint16_t)(b[0] | (b[1] << 8));
}

static void put16(const vu_peer *p, uint64_t u, uint16_t v) {
  uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  mem_rw(p, u, b, 2, true);
}

/* ---- reading requests ---- */

static bool defines_reply(uint32_t req) {
  switch (req) {
    case VU_GET_FEATURES:
    case VU_GET_PROTOCOL_FEATURES:
    case VU_GET_QUEUE_NUM:
    case VU_GET_VRING_BASE:
    case VU_GET_CONFIG:
    case VU_GET_MAX_MEM_SLOTS:
    case VU_GET_STATUS: return true;
    default: return false;
  }
}

static uint32_t word(const vu_msg *m, unsigned at) {
  uint32_t w = 0;
  if (m->size >= at + 4) memcpy(&w, m->payload + at, 4);
  return w;
}

static uint64_t dword(const vu_msg *m, unsigned at) {
  uint64_t w = 0;
  if (m->size >= at + 8) memcpy(&w, m->payload + at, 8);
  return w;
}

/* Keep what a back-end keeps of one request (the memfd, a ring's set-up
 * and call eventfd); close every other descriptor. */
static void learn(vu_peer *p, vu_msg *m) {
  int keep = -1;
  uint32_t idx = word(m, 0);
  switch (m->request) {
    case VU_SET_MEM_TABLE:
      if (m->nfds >= 1 && word(m, 0) >= 1 && m->size >= 8 + 32) {
        if (p->memfd >= 0) close(p->memfd);
        p->memfd = m->fds[0];
        keep = 0;
        p->mem_size = dword(m, 8 + 8);
        p->mem_uaddr = dword(m, 8 + 16);
        p->mem_off = dword(m, 8 + 24);
      }
      break;
    case VU_SET_VRING_NUM:
      if (idx < VUP_MAX_RINGS) p->ring[idx].num = word(m, 4);
      break;
    case VU_SET_VRING_ADDR:
      if (idx < VUP_MAX_RINGS && m->size >= 40) {
        p->ring[idx].desc = dword(m, 8);
        p->ring[idx].used = dword(m, 16);
        p->ring[idx].avail = dword(m, 24);
        p->ring[idx].has_addr = true;
      }
      break;
    case VU_SET_VRING_CALL: {
      uint64_t v = dword(m, 0);
      uint32_t q = (uint32_t)(v & VU_VRING_IDX_MASK);
      if (q < VUP_MAX_RINGS && !(v & VU_VRING_NOFD) && m->nfds == 1) {
        if (p->ring[q].call >= 0) close(p->ring[q].call);
        p->ring[q].call = m->fds[0];
        keep = 0;
      }
      break;
    }
    default: break;
  }
  for (unsigned i = 0; i < m->nfds; i++)
    if ((int)i != keep && m->fds[i] >= 0) close(m->fds[i]);
  m->nfds = 0;
}

static void drain(vu_peer *p) {
  while (p->sock >= 0 && !p->fe_gone) {
    struct pollfd pf = {p->sock, POLLIN, 0};
    if (poll(&pf, 1, 0) <= 0) return;
    vu_msg m;
    /* the front-end writes each request whole, in one sendmsg, before we
     * run: the bound is never reached */
    int r = vu_recv(p->sock, &m, 100);
    if (r != VU_OK) {
      p->fe_gone = true;
      return;
    }
    p->reqs_total++;
    if (p->nreqs < MAX_REQS && grow((void **)&p->reqs, &p->reqcap, p->nreqs + 1, sizeof *p->reqs)) {
      vu_peer_req *q = &p->reqs[p->nreqs++];
      q->request = m.request;
      q->flags = m.flags;
      q->size = m.size;
      q->arg = m.request == VU_GET_CONFIG ? word(&m, 4) : word(&m, 0);
      q->offset = m.request == VU_GET_CONFIG ? word(&m, 0) : 0;
      q->segment = p->segment;
      q->op = p->op;
      q->op_event = p->op_event;
      q->since = p->op_event < VUP_EV__COUNT ? p->seg_count[p->op_event] : 0;
      q->wants_reply = defines_reply(m.request) || (m.flags & VU_FLAG_NEED_REPLY);
    }
    learn(p, &m);
  }
}

/* ---- the actions ---- */

/* Write the rest of the current MSG / RAW action: 1 done, 0 the socket is
 * full (go on at the next pump), -1 the connection is gone (the action is
 * dropped). */
static int write_bytes(vu_peer *p, const vu_peer_act *a, const uint8_t *body) {
  uint8_t hdr[VU_HDR_SIZE];
  static const uint8_t none[1];
  if (!a->n || !body) body = none; /* the pool is NULL while empty */
  size_t hl = a->kind == VUP_MSG ? VU_HDR_SIZE : 0, total = hl + a->n;
  if (hl) {
    memcpy(hdr, &a->request, 4);
    memcpy(hdr + 4, &a->flags, 4);
    memcpy(hdr + 8, &a->size, 4);
  }
  while (p->part < total) {
    struct iovec iov[2];
    int niov = 0;
    if (p->part < hl) iov[niov++] = (struct iovec){hdr + p->part, hl - p->part};
    size_t boff = p->part > hl ? p->part - hl : 0;
    if (a->n > boff) iov[niov++] = (struct iovec){(void *)(body + boff), a->n - boff};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = iov;
    mh.msg_iovlen = (size_t)niov;
    union {
      struct cmsghdr h;
      char buf[CMSG_SPACE(sizeof(int) * VUP_MAX_FDS)];
    } ctl;
    int fds[VUP_MAX_FDS];
    unsigned nfds = 0;
    if (a->kind == VUP_MSG && p->part == 0 && a->nfds) {
      nfds = a->nfds < VUP_MAX_FDS ? a->nfds : VUP_MAX_FDS;
      for (unsigned i = 0; i < nfds; i++) {
        fds[i] = eventfd(0, EFD_CLOEXEC);
        if (fds[i] < 0) {
          nfds = i;
          break;
        }
      }
      if (nfds) {
        memset(&ctl, 0, sizeof ctl);
        mh.msg_control = ctl.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
      }
    }
    ssize_t n = sendmsg(p->sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    for (unsigned i = 0; i < nfds; i++) close(fds[i]); /* the kernel holds its own references */
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (n <= 0) return -1;
    if (nfds && grow((void **)&p->marks, &p->markcap, p->nmarks + 1, sizeof *p->marks))
      p->marks[p->nmarks++] = (fd_mark){p->nout, nfds};
    if ((!p->nwmarks || p->wmarks[p->nwmarks - 1].op != p->op) &&
        grow((void **)&p->wmarks, &p->wmarkcap, p->nwmarks + 1, sizeof *p->wmarks))
      p->wmarks[p->nwmarks++] = (write_mark){p->nout, p->op};
    if (grow((void **)&p->out, &p->outcap, p->nout + (size_t)n, 1)) {
      /* the log of the stream: the bytes just sent */
      size_t from = p->part, k = (size_t)n;
      for (size_t i = 0; i < k; i++) {
        size_t at = from + i;
        p->out[p->nout + i] = at < hl ? hdr[at] : body[at - hl];
      }
      p->nout += k;
    }
    p->part += (size_t)n;
  }
  return 1;
}

static void act_use(vu_peer *p, const vu_peer_act *a) {
  if (a->q >= VUP_MAX_RINGS) return;
  const peer_ring *r = &p->ring[a->q];
  if (!r->has_addr || r->num == 0) return;
  uint16_t u = get16(p, r->used + 2);
  uint32_t slot = u % r->num;
  uint32_t id = a->id;
  if (id == VUP_ID_NEXT) id = get16(p, r->avail + 4 + 2ull * slot);
  uint8_t e[8];
  for (int i = 0; i < 4; i++) {
    e[i] = (uint8_t)(id >> (8 * i));
    e[4 + i] = (uint8_t)(a->len >> (8 * i));
  }
  mem_rw(p, r->used + 4 + 8ull * slot, e, sizeof e, true);
  put16(p, r->used + 2, (uint16_t)(u + 1));
}

static void act_used_idx(vu_peer *p, const vu_peer_act *a) {
  if (a->q >= VUP_MAX_RINGS || !p->ring[a->q].has_addr) return;
  uint64_t at = p->ring[a->q].used + 2;
  put16(p, at, a->relative ? (uint16_t)(get16(p, at) + a->value) : a->value);
}

static void act_call(vu_peer *p, const vu_peer_act *a) {
  if (a->q >= VUP_MAX_RINGS || p->ring[a->q].call < 0) return;
  uint64_t one = 1;
  if (write(p->ring[a->q].call, &one, sizeof one) != (ssize_t)sizeof one) return; /* full: as a back-end's */
}

static void act_mem(vu_peer *p, const vu_peer_act *a) {
  if (p->memfd < 0 || p->mem_size == 0) return;
  uint64_t gpa = a->addr % p->mem_size;
  uint64_t n = a->n;
  if (n > p->mem_size - gpa) n = p->mem_size - gpa;
  if (n) mem_rw(p, p->mem_uaddr + gpa, p->sc->pool + a->off, (size_t)n, true);
}

static void hang_up(vu_peer *p) {
  if (p->sock >= 0) close(p->sock);
  p->sock = -1;
  p->closed = true;
}

/* ---- the vu.* mutants ---- */

enum { MUT_ASIS, MUT_REWRITTEN, MUT_DROP, MUT_CLOSE };

static bool has_mut(const vu_peer *p, int m) { return vsim_mut_has(&p->mut, m); }

/* A GET_CONFIG reply as bytes at out: the header, the config header
 * (offset, size, flags 0) and `size` bytes of data; NULL data makes the
 * zero-length refusal (the protocol's error answer). Returns its length. */
static size_t put_config_msg(uint8_t *out, uint32_t offset, uint32_t size, const uint8_t *data) {
  uint32_t h[3] = {VU_GET_CONFIG, VU_VERSION | VU_FLAG_REPLY, data ? 12 + size : 0};
  memcpy(out, h, sizeof h);
  if (!data) return VU_HDR_SIZE;
  uint32_t c[3] = {offset, size, 0};
  memcpy(out + VU_HDR_SIZE, c, sizeof c);
  memcpy(out + VU_HDR_SIZE + 12, data, size);
  return VU_HDR_SIZE + 12 + size;
}

/* What the selected mutants make of the MSG action `a` (its payload `body`):
 * as written, rewritten into p->cur, dropped, or a hang-up in its place.
 * Each mutant plants one realistic back-end bug in the reply to one request,
 * and only in a reply the script wrote well-formed (flags 0x5, the size its
 * payload has), so that the check it proves is the one that fires. Replies
 * after the handshake (GET_VRING_BASE, the RESET_DEVICE ack) carry the bugs
 * that break the connection, so that the front-end is created and the run
 * reports them; the GET_CONFIG ones are read during the handshake, where
 * the front-end reports them and goes on. */
static int mutate(vu_peer *p, const vu_peer_act *a, const uint8_t *body) {
  if (a->flags != (VU_VERSION | VU_FLAG_REPLY) || a->size != a->n || a->nfds) return MUT_ASIS;
  p->cur = *a;
  if (a->request == VU_GET_VRING_BASE && a->n == 8) {
    if (has_mut(p, VSIM_MUT_VU_HANG_UP)) return MUT_CLOSE;
    memcpy(p->cur_body, body, 8);
    if (has_mut(p, VSIM_MUT_VU_REPLY_NO_REPLY_FLAG)) {
      p->cur.flags = VU_VERSION;
      return MUT_REWRITTEN;
    }
    if (has_mut(p, VSIM_MUT_VU_REPLY_SHORT)) {
      memcpy(p->cur_body, body + 4, 4); /* struct vhost_vring_state's num alone */
      p->cur.size = p->cur.n = 4;
      return MUT_REWRITTEN;
    }
    if (has_mut(p, VSIM_MUT_VU_REPLY_STRAY_FD)) {
      p->cur.nfds = 1;
      return MUT_REWRITTEN;
    }
    return MUT_ASIS;
  }
  if (a->request == VU_RESET_DEVICE && a->n == 8) {
    if (has_mut(p, VSIM_MUT_VU_REPLY_DROPPED)) return MUT_DROP;
    if (has_mut(p, VSIM_MUT_VU_ACK_FAILURE)) {
      uint64_t one = 1;
      memcpy(p->cur_body, &one, 8);
      return MUT_REWRITTEN;
    }
    return MUT_ASIS;
  }
  if (a->request == VU_GET_CONFIG && a->n >= 12) {
    uint32_t off, size;
    memcpy(&off, body, 4);
    memcpy(&size, body + 4, 4);
    if (size != a->n - 12 || size > VU_MAX_CONFIG) return MUT_ASIS;
    const uint8_t *data = body + 12;
    if (off == 0) {
      memcpy(p->cfg0, data, size);
      p->ncfg0 = size;
      if (has_mut(p, VSIM_MUT_VU_CONFIG_SHORT) && size > 4) {
        /* refused, then the next size the front-end steps down to (its
         * 4-byte steps: read_config in vhost_user.c) answered */
        uint32_t shorter = size - (size % 4 ? size % 4 : 4);
        size_t k = put_config_msg(p->cur_body, 0, 0, NULL);
        k += put_config_msg(p->cur_body + k, 0, shorter, data);
        p->cur.kind = VUP_RAW;
        p->cur.n = (uint32_t)k;
        return MUT_REWRITTEN;
      }
      return MUT_ASIS;
    }
    if (has_mut(p, VSIM_MUT_VU_CONFIG_OFFSET_IGNORED) && p->ncfg0 >= size) {
      memcpy(p->cur_body, body, 12);
      memcpy(p->cur_body + 12, p->cfg0, size);
      return MUT_REWRITTEN;
    }
  }
  return MUT_ASIS;
}

static void run(vu_peer *p) {
  while (!p->waiting && p->pc < p->sc->nacts) {
    const vu_peer_act *a = &p->sc->acts[p->pc];
    switch (a->kind) {
      case VUP_MSG:
      case VUP_RAW:
        if (p->sock >= 0) {
          const uint8_t *body = a->n ? p->sc->pool + a->off : NULL;
          if (a->kind == VUP_MSG && p->part == 0 && vsim_mut_any(&p->mut)) {
            int m = mutate(p, a, body);
            p->cur_valid = m == MUT_REWRITTEN;
            if (m == MUT_DROP) break;
            if (m == MUT_CLOSE) {
              hang_up(p);
              break;
            }
          }
          int r = p->cur_valid ? write_bytes(p, &p->cur, p->cur_body) : write_bytes(p, a, body);
          if (r == 0) return; /* full: the rest at the next pump */
          p->cur_valid = false;
        }
        break;
      case VUP_CLOSE:
        hang_up(p);
        break;
      case VUP_AWAIT:
        p->waiting = true;
        p->await_ev = a->event;
        break;
      case VUP_USE: act_use(p, a); break;
      case VUP_USED_IDX: act_used_idx(p, a); break;
      case VUP_CALL: act_call(p, a); break;
      case VUP_MEM: act_mem(p, a); break;
      default: break;
    }
    p->part = 0;
    p->pc++;
  }
}

vu_peer *vu_peer_new(const vu_script *script, int *front, char *err, size_t errlen) {
  return vu_peer_new_mut(script, NULL, front, err, errlen);
}

vu_peer *vu_peer_new_mut(const vu_script *script, const vsim_mutset *mutants, int *front, char *err,
                         size_t errlen) {
  vu_peer *p = calloc(1, sizeof *p);
  int sv[2];
  if (!p) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    snprintf(err, errlen, "socketpair: %s", strerror(errno));
    free(p);
    return NULL;
  }
  p->sc = script;
  p->mut = mutants ? *mutants : VSIM_MUT_NONE;
  p->sock = sv[1];
  p->memfd = -1;
  p->op_event = VUP_EV_NONE;
  for (unsigned i = 0; i < VUP_MAX_RINGS; i++) p->ring[i].call = -1;
  /* room for the replies written ahead (the kernel caps it at twice
   * net.core.wmem_max; a script that does not fit waits for the front-end
   * to read, which it does in its next op) */
  int big = 1 << 20;
  setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
  setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
  *front = sv[0];
  run(p);
  return p;
}

void vu_peer_pump(vu_peer *p, int event) {
  drain(p); /* what the last op sent */
  if (event != VUP_EV_NONE) {
    p->op++;
    p->op_event = (uint8_t)event;
  }
  if (p->waiting && event == p->await_ev) {
    p->waiting = false; /* run() stepped past the await when it began waiting */
    p->segment++;
    memset(p->seg_count, 0, sizeof p->seg_count);
  } else {
    if (event >= 0 && event < VUP_EV__COUNT) p->seg_count[event]++;
    if (p->waiting) return;
  }
  run(p);
}

void vu_peer_free(vu_peer *p) {
  if (!p) return;
  if (p->sock >= 0) close(p->sock);
  if (p->memfd >= 0) close(p->memfd);
  for (unsigned i = 0; i < VUP_MAX_RINGS; i++)
    if (p->ring[i].call >= 0) close(p->ring[i].call);
  free(p->out);
  free(p->marks);
  free(p->wmarks);
  free(p->reqs);
  free(p);
}

size_t vu_peer_request_count(const vu_peer *p) { return p->nreqs; }
const vu_peer_req *vu_peer_request_at(const vu_peer *p, size_t i) { return i < p->nreqs ? &p->reqs[i] : NULL; }

/* ---- judging ---- */

static uint32_t le32(const uint8_t *b) {
  return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

/* Is the message at `o` (complete in the stream) the reply `q` defines? */
static bool proper(const vu_peer *p, size_t o, unsigned nfds, const vu_peer_req *q, char *why, size_t n) {
  const uint8_t *h = p->out + o;
  uint32_t req = le32(h), flags = le32(h + 4), size = le32(h + 8);
  char nb[32];
  const char *name = vu_request_name(q->request, nb, sizeof nb);
  if (req != q->request) {
    snprintf(why, n, "the reply to %s carries request number %u", name, req);
    return false;
  }
  if (flags != (VU_VERSION | VU_FLAG_REPLY)) {
    snprintf(why, n, "the reply to %s has flags 0x%x, not 0x5", name, flags);
    return false;
  }
  if (nfds) {
    snprintf(why, n, "the reply to %s carries %u file descriptor(s)", name, nfds);
    return false;
  }
  bool ok;
  if (q->request == VU_GET_CONFIG)
    ok = size == 0 || (size == 12 + q->arg && q->arg <= VU_MAX_CONFIG && le32(h + 12 + 4) == q->arg);
  else if (q->request == VU_GET_VRING_BASE)
    ok = size == 8 && le32(h + 12) == q->arg;
  else
    ok = size == 8;
  if (!ok) snprintf(why, n, "the reply to %s has a %u-byte payload that is not the one it defines", name, size);
  return ok;
}

/* The op at whose pump the stream byte at `b` was written. */
static uint32_t written_at(const vu_peer *p, size_t b) {
  uint32_t op = 0;
  for (size_t i = 0; i < p->nwmarks && p->wmarks[i].at <= b; i++) op = p->wmarks[i].op;
  return op;
}

void vu_peer_judge(vu_peer *p, vu_peer_verdict *v) {
  memset(v, 0, sizeof *v);
  v->requests = p->reqs_total;
  v->closed = p->closed;
  size_t o = 0, mark = 0;
  for (size_t i = 0; i < p->nreqs; i++) {
    const vu_peer_req *q = &p->reqs[i];
    if (!q->wants_reply) continue;
    v->wanted++;
    if (v->deviated) continue;
    char nb[32];
    const char *name = vu_request_name(q->request, nb, sizeof nb);
    bool whole = o + VU_HDR_SIZE <= p->nout && o + VU_HDR_SIZE + le32(p->out + o + 8) <= p->nout;
    /* its last byte written by the time the op that asked for it ran */
    bool late = whole && written_at(p, o + VU_HDR_SIZE + le32(p->out + o + 8) - 1) > q->op;
    if (!whole || late) {
      v->deviated = v->missing = true;
      v->missing_req = q;
      v->missing_first = true;
      for (size_t k = 0; k < i; k++)
        if (p->reqs[k].wants_reply && p->reqs[k].op == q->op) v->missing_first = false;
      snprintf(v->why, sizeof v->why, "%s got no reply (%s)", name,
               late ? "the reply was written after the op that asked for it" :
               o == p->nout ? "the stream ended" : "the stream ended inside a message");
      continue;
    }
    unsigned nfds = 0;
    while (mark < p->nmarks && p->marks[mark].at < o) mark++;
    while (mark < p->nmarks && p->marks[mark].at < o + VU_HDR_SIZE) nfds += p->marks[mark++].n;
    uint32_t size = le32(p->out + o + 8);
    if (!proper(p, o, nfds, q, v->why, sizeof v->why)) {
      v->deviated = true;
      continue;
    }
    o += VU_HDR_SIZE + size;
    v->answered++;
  }
  v->extra = !v->deviated && o < p->nout;
}
