/* tests/c/test_vhost_user.c — the vhost-user front-end without a real daemon.
 *
 * The codec against bytes written by hand on a socketpair (short header,
 * wrong request, missing REPLY flag, wrong version, echoed NEED_REPLY, wrong
 * size, a payload too big, unexpected and too many fds, timeout, EOF): each
 * an error value, never a crash or a leaked fd. The adapter against a
 * scripted peer in a child process: the message sequence a front-end sends
 * (handshake, FEATURES_OK, DRIVER_OK with the memfd, per-ring set-up, the
 * kick, stop and reset), guest memory really shared through SET_MEM_TABLE,
 * and each malformed or missing reply turned into its vhost-user.* check
 * (these checks are proven here: tests/py/test_catalog.py looks for their
 * ids in this file). And the daemon launcher: word splitting, a daemon that
 * dies or never listens, and nothing left running after stop.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include "arena_shared.h"
#include "daemon.h"
#include "testutil.h"
#include "vhost_user.h"
#include "vhost_user_proto.h"
#include "virtiosim/checks.h"
#include "vu_peer.h"

/* ---- helpers ---- */

static int open_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

static void pair(int sv[2]) { CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0); }

static void raw_hdr(int fd, uint32_t req, uint32_t flags, uint32_t size) {
  uint32_t h[3] = {req, flags, size};
  CHECK_EQ(write(fd, h, sizeof h), (long long)sizeof h);
}

static void raw_u64_reply(int fd, uint32_t req, uint32_t flags, uint32_t size, uint64_t v) {
  uint8_t b[12 + 8];
  uint32_t h[3] = {req, flags, size};
  memcpy(b, h, 12);
  memcpy(b + 12, &v, 8);
  CHECK_EQ(write(fd, b, 12 + (size < 8 ? size : 8)), 12 + (size < 8 ? size : 8));
}

/* ---- the codec ---- */

static void test_codec_roundtrip(void) {
  int sv[2];
  pair(sv);
  int fds[2] = {open("/dev/null", O_RDONLY | O_CLOEXEC), open("/dev/null", O_RDONLY | O_CLOEXEC)};
  uint64_t pl = 0x1122334455667788ull;
  CHECK_EQ(vu_send(sv[0], VU_SET_FEATURES, VU_VERSION | VU_FLAG_NEED_REPLY, &pl, 8, fds, 2), VU_OK);
  vu_msg m;
  CHECK_EQ(vu_recv(sv[1], &m, 1000), VU_OK);
  CHECK_EQ(m.request, VU_SET_FEATURES);
  CHECK_EQ(m.flags, VU_VERSION | VU_FLAG_NEED_REPLY);
  CHECK_EQ(m.size, 8);
  CHECK(vu_msg_u64(&m) == pl);
  CHECK_EQ(m.nfds, 2);
  vu_msg_close_fds(&m);
  close(fds[0]);
  close(fds[1]);
  close(sv[0]);
  close(sv[1]);
}

static int recv_and_check(int peer, uint32_t req, uint32_t size, unsigned nfds) {
  vu_msg m;
  int r = vu_recv(peer, &m, 500);
  if (r != VU_OK) return r;
  char why[160];
  r = vu_check_reply(&m, req, size, nfds, why, sizeof why);
  if (r != VU_OK) CHECK(why[0] != 0); /* every refusal says why */
  vu_msg_close_fds(&m);
  return r;
}

static void test_codec_malformed(void) {
  int before = open_fds();
  int sv[2];
  /* short header, then the peer hangs up */
  pair(sv);
  CHECK_EQ(write(sv[0], "\1\0\0\0\5", 5), 5);
  close(sv[0]);
  vu_msg m;
  CHECK_EQ(vu_recv(sv[1], &m, 500), VU_E_SHORT);
  close(sv[1]);
  /* a header announcing a payload that never comes in full */
  pair(sv);
  raw_hdr(sv[0], VU_GET_FEATURES, 5, 8);
  CHECK_EQ(write(sv[0], "abc", 3), 3);
  close(sv[0]);
  CHECK_EQ(vu_recv(sv[1], &m, 500), VU_E_SHORT);
  close(sv[1]);
  /* nothing at all: EOF before a message began */
  pair(sv);
  close(sv[0]);
  CHECK_EQ(vu_recv(sv[1], &m, 500), VU_E_EOF);
  close(sv[1]);
  /* a reply already waiting is read whatever the bound: the deadline is
   * for waiting, not for what is there (regression: fuzz_vhost_user found
   * replies reported missing when the millisecond clock ticked between
   * setting the deadline and looking, under a 1 ms bound) */
  pair(sv);
  raw_u64_reply(sv[0], VU_GET_FEATURES, 5, 8, 42);
  CHECK_EQ(vu_recv(sv[1], &m, 0), VU_OK);
  CHECK(vu_msg_u64(&m) == 42);
  close(sv[0]);
  close(sv[1]);
  /* silence: a timeout, not a hang */
  pair(sv);
  CHECK_EQ(vu_recv(sv[1], &m, 50), VU_E_TIMEOUT);
  /* wrong request number */
  raw_u64_reply(sv[0], VU_SET_FEATURES, 5, 8, 0);
  CHECK_EQ(recv_and_check(sv[1], VU_GET_FEATURES, 8, 0), VU_E_REQUEST);
  /* REPLY flag missing */
  raw_u64_reply(sv[0], VU_GET_FEATURES, 1, 8, 0);
  CHECK_EQ(recv_and_check(sv[1], VU_GET_FEATURES, 8, 0), VU_E_NO_REPLY);
  /* version 2 */
  raw_u64_reply(sv[0], VU_GET_FEATURES, 6, 8, 0);
  CHECK_EQ(recv_and_check(sv[1], VU_GET_FEATURES, 8, 0), VU_E_VERSION);
  /* NEED_REPLY echoed back (QEMU wants exactly 0x5) */
  raw_u64_reply(sv[0], VU_GET_FEATURES, 0xd, 8, 0);
  CHECK_EQ(recv_and_check(sv[1], VU_GET_FEATURES, 8, 0), VU_E_FLAGS);
  /* wrong size */
  raw_u64_reply(sv[0], VU_GET_FEATURES, 5, 4, 0);
  CHECK_EQ(recv_and_check(sv[1], VU_GET_FEATURES, 8, 0), VU_E_SIZE);
  /* the right one still passes after all that */
  raw_u64_reply(sv[0], VU_GET_FEATURES, 5, 8, 7);
  CHECK_EQ(recv_and_check(sv[1], VU_GET_FEATURES, 8, 0), VU_OK);
  /* a descriptor where none is defined */
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  uint64_t zero = 0;
  CHECK_EQ(vu_send(sv[0], VU_GET_FEATURES, 5, &zero, 8, &devnull, 1), VU_OK);
  CHECK_EQ(recv_and_check(sv[1], VU_GET_FEATURES, 8, 0), VU_E_FDS);
  /* a payload larger than any reply may be: refused before reading it */
  raw_hdr(sv[0], VU_GET_CONFIG, 5, 5000);
  CHECK_EQ(vu_recv(sv[1], &m, 500), VU_E_TOO_BIG);
  close(sv[0]);
  close(sv[1]);
  /* more fds than a message may carry: all closed, none kept */
  pair(sv);
  int many[12];
  for (int i = 0; i < 12; i++) many[i] = devnull;
  {
    /* vu_send refuses > 8 itself: build the message by hand */
    uint32_t h[3] = {VU_GET_FEATURES, 5, 8};
    uint8_t b[20];
    memcpy(b, h, 12);
    memcpy(b + 12, &zero, 8);
    struct iovec iov = {b, sizeof b};
    union {
      struct cmsghdr c;
      char buf[CMSG_SPACE(sizeof(int) * 12)];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl.buf;
    mh.msg_controllen = sizeof ctl.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * 12);
    memcpy(CMSG_DATA(c), many, sizeof many);
    CHECK_EQ(sendmsg(sv[0], &mh, 0), (long long)sizeof b);
  }
  CHECK_EQ(vu_recv(sv[1], &m, 500), VU_E_TOO_MANY_FDS);
  close(devnull);
  close(sv[0]);
  close(sv[1]);
  CHECK_EQ(open_fds(), before); /* nothing leaked on any error path */
  CHECK(strcmp(vu_err_name(VU_E_SIZE), "wrong payload size") == 0);
  char nb[32];
  CHECK(strcmp(vu_request_name(VU_GET_CONFIG, nb, sizeof nb), "GET_CONFIG") == 0);
  CHECK(strcmp(vu_request_name(99, nb, sizeof nb), "request 99") == 0);
}

/* ---- a scripted back-end in a child process ---- */

/* A peer that really is another process (guest memory mapped from the
 * memfd it receives, requests answered as they come); the malformed
 * handshake replies are scripted in-process below (backend-model/vu_peer.h). */
enum peer_mode {
  PEER_GOOD,       /* well-formed, but refuses 72-byte GET_CONFIG and ignores the offset (as qsd 7.2) */
  PEER_ACK_FAIL,   /* SET_OWNER acknowledged with 1 */
  PEER_HANGUP,     /* hangs up at SET_FEATURES */
};

#define BLK_FEATURES ((1ull << VIRTIO_F_VERSION_1) | (1ull << 30) | (1ull << VIRTIO_RING_F_EVENT_IDX) | 0x246ull)

static void peer_reply(int s, uint32_t req, uint32_t flags, const void *pl, uint32_t size, const int *fds,
                       unsigned nfds) {
  if (vu_send(s, req, flags, pl, size, fds, nfds) != VU_OK) _exit(2);
}

/* Serve until the front-end hangs up; report the request numbers seen (one
 * byte each) and, at SET_MEM_TABLE, what guest address 0x1000 held, on `out`. */
static void peer_main(int s, int out, enum peer_mode mode) {
  uint8_t log[256];
  unsigned nlog = 0;
  uint32_t seen_magic = 0;
  for (;;) {
    vu_msg m;
    int r = vu_recv(s, &m, 5000);
    if (r != VU_OK) break;
    if (nlog < sizeof log) log[nlog++] = (uint8_t)m.request;
    if (mode == PEER_HANGUP && m.request == VU_SET_FEATURES) {
      vu_msg_close_fds(&m);
      break; /* gone without a word */
    }
    bool need = m.flags & VU_FLAG_NEED_REPLY;
    uint64_t v;
    switch (m.request) {
      case VU_GET_FEATURES:
        v = BLK_FEATURES;
        peer_reply(s, m.request, VU_VERSION | VU_FLAG_REPLY, &v, 8, NULL, 0);
        break;
      case VU_GET_PROTOCOL_FEATURES:
        v = (1u << VU_PF_MQ) | (1u << VU_PF_REPLY_ACK) | (1u << VU_PF_CONFIG);
        peer_reply(s, m.request, VU_VERSION | VU_FLAG_REPLY, &v, 8, NULL, 0);
        break;
      case VU_GET_QUEUE_NUM:
        v = 1;
        peer_reply(s, m.request, VU_VERSION | VU_FLAG_REPLY, &v, 8, NULL, 0);
        break;
      case VU_GET_CONFIG: {
        vu_config_hdr h;
        memcpy(&h, m.payload, sizeof h);
        uint8_t buf[12 + 256] = {0};
        if (h.size > 60) {
          peer_reply(s, m.request, VU_VERSION | VU_FLAG_REPLY, NULL, 0, NULL, 0);
          break;
        }
        memcpy(buf, &h, sizeof h);
        /* capacity 2048 sectors at offset 0, blk_size 512 at 20; the
         * offset asked for is ignored, as qemu-storage-daemon 7.2 does */
        uint8_t cfg[60] = {0};
        cfg[1] = 0x08;
        cfg[21] = 0x02;
        memcpy(buf + 12, cfg, h.size);
        peer_reply(s, m.request, VU_VERSION | VU_FLAG_REPLY, buf, 12 + h.size, NULL, 0);
        break;
      }
      case VU_GET_VRING_BASE: {
        struct vhost_vring_state st;
        memcpy(&st, m.payload, sizeof st);
        st.num = 0;
        peer_reply(s, m.request, VU_VERSION | VU_FLAG_REPLY, &st, sizeof st, NULL, 0);
        break;
      }
      case VU_SET_MEM_TABLE:
        if (m.nfds == 1) {
          vu_mem_table t;
          memcpy(&t, m.payload, m.size < sizeof t ? m.size : sizeof t);
          uint8_t *p = mmap(NULL, t.regions[0].memory_size, PROT_READ | PROT_WRITE, MAP_SHARED, m.fds[0], 0);
          if (p != MAP_FAILED) {
            memcpy(&seen_magic, p + 0x1000, 4);
            uint32_t back = 0xbeef;
            memcpy(p + 0x2000, &back, 4); /* the device writes guest memory */
            munmap(p, t.regions[0].memory_size);
          }
        }
        __attribute__((fallthrough)); /* acknowledged like the rest */
      default:
        if (need) {
          v = (mode == PEER_ACK_FAIL && m.request == VU_SET_OWNER) ? 1 : 0;
          peer_reply(s, m.request, VU_VERSION | VU_FLAG_REPLY, &v, 8, NULL, 0);
        }
        break;
    }
    vu_msg_close_fds(&m);
  }
  if (write(out, &seen_magic, 4) != 4 || write(out, log, nlog) != (ssize_t)nlog) _exit(3);
  _exit(0);
}

typedef struct rec {
  unsigned viol[VSIM_CHK__COUNT];
  unsigned nviol, interrupts;
  char last[160];
} rec;

static void h_interrupt(void *ctx, uint16_t q) { ((rec *)ctx)->interrupts++; }
static void h_config_changed(void *ctx) {}
static void h_violation(void *ctx, int check, int q, const char *detail) {
  rec *r = ctx;
  if (check >= 0 && check < VSIM_CHK__COUNT) r->viol[check]++;
  r->nviol++;
  snprintf(r->last, sizeof r->last, "%s", detail);
}
static void h_event(void *ctx, int kind, int q, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {}
static uint64_t h_now(void *ctx) { return 0; }

typedef struct peer {
  pid_t pid;
  int out; /* what the peer reports at its end */
  rec r;
  vsim_arena *arena;
  vsim_host host;
  vsim_backend_params p;
} peer;

/* Start a peer; *sock is our end of the connection. */
static int peer_start(peer *pe, enum peer_mode mode, int *sock) {
  memset(pe, 0, sizeof *pe);
  int sv[2], po[2];
  pair(sv);
  if (pipe(po)) return -1;
  fflush(NULL);
  pe->pid = fork();
  if (pe->pid == 0) {
    close(sv[0]);
    close(po[0]);
    peer_main(sv[1], po[1], mode);
  }
  close(sv[1]);
  close(po[1]);
  pe->out = po[0];
  *sock = sv[0];
  char err[200];
  pe->arena = vsim_arena_new_memfd(1u << 20, err, sizeof err);
  CHECK(pe->arena != NULL);
  pe->host = (vsim_host){&pe->r, pe->arena, h_interrupt, h_config_changed, h_violation, h_event, h_now};
  pe->p.host = &pe->host;
  pe->p.num_queues = 1;
  pe->p.queue_max_size = 256;
  return 0;
}

/* Reap the peer and read back what it saw: the magic at 0x1000 and the requests. */
static unsigned peer_finish(peer *pe, uint32_t *magic, uint8_t *log, unsigned cap) {
  int st;
  waitpid(pe->pid, &st, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  unsigned n = 0;
  if (read(pe->out, magic, 4) != 4) *magic = 0;
  ssize_t k;
  while (n < cap && (k = read(pe->out, log + n, cap - n)) > 0) n += (unsigned)k;
  close(pe->out);
  vsim_arena_free(pe->arena);
  return n;
}

static const vsim_vu_timeouts quick = {300, 300};

static void test_adapter_sequence(void) {
  int before = open_fds();
  peer pe;
  int sock;
  peer_start(&pe, PEER_GOOD, &sock);
  vsim_backend be;
  char err[600] = "";
  CHECK_EQ(vsim_vhost_user_create_on(sock, "blk", &pe.p, &quick, &be, err, sizeof err), 0);
  if (err[0]) fprintf(stderr, "%s\n", err);
  const vsim_backend_ops *o = be.ops;
  /* the known 7.2 behaviours, each named: a 60-byte config space answered
   * for a 72-byte ask, and the offset ignored */
  CHECK_EQ(pe.r.viol[VSIM_CHK_VU_CONFIG_SIZE], 1);   /* vhost-user.get-config-size */
  CHECK_EQ(pe.r.viol[VSIM_CHK_VU_CONFIG_OFFSET], 1); /* vhost-user.get-config-offset */
  CHECK_EQ(o->config_size(be.be), 60);
  uint32_t cap = 0;
  CHECK_EQ(o->config_read(be.be, 0, &cap, 4), 0);
  CHECK_EQ(cap, 2048);
  CHECK_EQ(o->device_id(be.be), 2);
  uint64_t f = o->device_features(be.be);
  CHECK(!(f & (1ull << 30))); /* vhost's own bit is never the guest's */
  CHECK(f & (1ull << VIRTIO_F_VERSION_1));
  /* negotiate, set up queue 0, DRIVER_OK */
  vsim_arena_write32(pe.arena, VSIM_SIDE_DRIVER, 0x1000, 0xc0ffee);
  o->set_status(be.be, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
  o->set_driver_features(be.be, f);
  o->set_status(be.be, 0x0b);
  CHECK(o->get_status(be.be) & VIRTIO_CONFIG_S_FEATURES_OK);
  vsim_queue_cfg cfg = {8, 0x10000, 0x11000, 0x12000};
  CHECK_EQ(o->queue_ready(be.be, 0, &cfg), 0);
  o->set_status(be.be, 0x0f);
  uint32_t back = 0;
  vsim_arena_read32(pe.arena, VSIM_SIDE_DRIVER, 0x2000, &back);
  CHECK_EQ(back, 0xbeef); /* the peer wrote guest memory through the memfd */
  /* a request made available and kicked, which this peer never serves:
   * the worker waits its bound, then stops asking, never hangs */
  vsim_arena_write16(pe.arena, VSIM_SIDE_DRIVER, 0x11000 + 4, 0);
  vsim_arena_write16(pe.arena, VSIM_SIDE_DRIVER, 0x11000 + 2, 1);
  o->queue_notify(be.be, 0, 0);
  CHECK(o->queue_runnable(be.be, 0));
  CHECK_EQ(o->queue_run(be.be, 0, 8), 0);
  CHECK(!o->queue_runnable(be.be, 0));
  CHECK_EQ(pe.r.interrupts, 0);
  /* reset: the ring stops (GET_VRING_BASE), then RESET_OWNER */
  o->set_status(be.be, 0);
  CHECK_EQ(o->get_status(be.be), 0);
  CHECK_EQ(pe.r.nviol, 2);
  o->destroy(be.be);
  uint32_t magic;
  uint8_t log[256];
  unsigned n = peer_finish(&pe, &magic, log, sizeof log);
  CHECK_EQ(magic, 0xc0ffee); /* and it saw what the driver side wrote */
  static const uint8_t want[] = {
      VU_GET_FEATURES, VU_GET_PROTOCOL_FEATURES, VU_SET_PROTOCOL_FEATURES, VU_GET_QUEUE_NUM,
      VU_SET_OWNER, VU_GET_CONFIG /* 72: refused */, VU_GET_CONFIG /* 68 */, VU_GET_CONFIG /* 64 */,
      VU_GET_CONFIG /* 60 */, VU_GET_CONFIG /* offset probe */, VU_SET_FEATURES, VU_SET_MEM_TABLE,
      VU_SET_VRING_NUM, VU_SET_VRING_BASE, VU_SET_VRING_ADDR, VU_SET_VRING_CALL, VU_SET_VRING_ERR,
      VU_SET_VRING_KICK, VU_SET_VRING_ENABLE, VU_GET_VRING_BASE, VU_RESET_OWNER};
  CHECK_EQ(n, sizeof want);
  for (unsigned i = 0; i < n && i < sizeof want; i++)
    if (log[i] != want[i]) {
      fprintf(stderr, "message %u: got request %u, expected %u\n", i, log[i], want[i]);
      CHECK(0);
      break;
    }
  CHECK_EQ(open_fds(), before);
}

/* One malformed GET_FEATURES reply (flags, payload size as sent, size in
 * the header, descriptors; no reply at all when `silent`), scripted
 * in-process: creation fails with the check reported, and the peer judges
 * the conversation the same way. */
static void expect_refused(uint32_t flags, uint32_t n, uint32_t size, uint32_t nfds, bool silent, int check) {
  int before = open_fds();
  vu_script sc;
  vu_script_init(&sc);
  uint64_t v = BLK_FEATURES;
  vu_peer_act a = {.kind = VUP_MSG, .request = VU_GET_FEATURES, .flags = flags, .size = size, .nfds = nfds};
  if (!silent) CHECK_EQ(vu_script_add(&sc, &a, (const uint8_t *)&v, n), 0);
  int sock = -1;
  char err[600] = "";
  vu_peer *p = vu_peer_new(&sc, &sock, err, sizeof err);
  CHECK(p != NULL);
  rec r;
  memset(&r, 0, sizeof r);
  char aerr[200];
  vsim_arena *arena = vsim_arena_new_memfd(1u << 20, aerr, sizeof aerr);
  vsim_host host = {&r, arena, h_interrupt, h_config_changed, h_violation, h_event, h_now};
  vsim_backend_params prm = {.host = &host, .num_queues = 1, .queue_max_size = 256};
  vsim_backend be;
  CHECK_EQ(vsim_vhost_user_create_on(sock, "blk", &prm, &quick, &be, err, sizeof err), -1);
  CHECK(strstr(err, "handshake") != NULL);
  CHECK_EQ(r.viol[check], 1);
  CHECK_EQ(r.nviol, 1);
  vu_peer_pump(p, VUP_EV_NONE);
  vu_peer_verdict vd;
  vu_peer_judge(p, &vd);
  CHECK(vd.deviated && vd.why[0]);
  CHECK_EQ(vd.missing, silent || n < size); /* no reply, or one that never completes */
  CHECK_EQ(vd.requests, 1);
  vu_peer_free(p);
  vu_script_clear(&sc);
  vsim_arena_free(arena);
  CHECK_EQ(open_fds(), before);
}

/* The vu.* mutants as the front-end's socket sees them: a script of two
 * well-formed replies (GET_VRING_BASE for ring 1 at num 5, RESET_DEVICE's
 * ack), served with one mutant, read back message by message. Without a
 * mutant the bytes are the script's. (scenarios/mutants/vu.*.json prove the
 * checks against the adapter.) */
/* *fds: the descriptors the GET_VRING_BASE reply carried (closed on reading) */
static void read_mutated(int mutant, vu_msg *vb, int *r1, unsigned *fds, vu_msg *ack, int *r2) {
  int before = open_fds();
  vu_script sc;
  vu_script_init(&sc);
  uint32_t state[2] = {1, 5};
  uint64_t zero = 0;
  vu_peer_act a = {.kind = VUP_MSG, .request = VU_GET_VRING_BASE, .flags = VU_VERSION | VU_FLAG_REPLY, .size = 8};
  CHECK_EQ(vu_script_add(&sc, &a, (const uint8_t *)state, 8), 0);
  a.request = VU_RESET_DEVICE;
  CHECK_EQ(vu_script_add(&sc, &a, (const uint8_t *)&zero, 8), 0);
  vsim_mutset m = mutant >= 0 ? vsim_mut_one(mutant) : VSIM_MUT_NONE;
  int sock = -1;
  char err[200];
  vu_peer *p = vu_peer_new_mut(&sc, &m, &sock, err, sizeof err);
  CHECK(p != NULL);
  *r1 = vu_recv(sock, vb, 1);
  *r2 = *r1 == VU_OK ? vu_recv(sock, ack, 1) : *r1;
  *fds = *r1 == VU_OK ? vb->nfds : 0;
  if (*r1 == VU_OK) vu_msg_close_fds(vb);
  if (*r2 == VU_OK) vu_msg_close_fds(ack);
  close(sock);
  vu_peer_free(p);
  vu_script_clear(&sc);
  CHECK_EQ(open_fds(), before);
}

static void test_peer_mutants(void) {
  vu_msg vb, ack;
  int r1, r2;
  unsigned vb_fds;
  read_mutated(-1, &vb, &r1, &vb_fds, &ack, &r2);
  CHECK_EQ(r1, VU_OK);
  CHECK_EQ(r2, VU_OK);
  CHECK_EQ(vb.request, VU_GET_VRING_BASE);
  CHECK_EQ(vb.flags, VU_VERSION | VU_FLAG_REPLY);
  CHECK_EQ(vb.size, 8);
  CHECK_EQ(vb_fds, 0);
  CHECK_EQ(vu_msg_u64(&ack), 0);
  read_mutated(VSIM_MUT_VU_REPLY_NO_REPLY_FLAG, &vb, &r1, &vb_fds, &ack, &r2);
  CHECK_EQ(vb.flags, VU_VERSION);
  CHECK_EQ(vb.size, 8);
  read_mutated(VSIM_MUT_VU_REPLY_SHORT, &vb, &r1, &vb_fds, &ack, &r2);
  CHECK_EQ(vb.size, 4);
  uint32_t num = 0;
  memcpy(&num, vb.payload, 4);
  CHECK_EQ(num, 5);
  read_mutated(VSIM_MUT_VU_REPLY_STRAY_FD, &vb, &r1, &vb_fds, &ack, &r2);
  CHECK_EQ(r1, VU_OK);
  CHECK_EQ(vb_fds, 1);
  read_mutated(VSIM_MUT_VU_HANG_UP, &vb, &r1, &vb_fds, &ack, &r2);
  CHECK_EQ(r1, VU_E_EOF);
  read_mutated(VSIM_MUT_VU_REPLY_DROPPED, &vb, &r1, &vb_fds, &ack, &r2);
  CHECK_EQ(r1, VU_OK);
  CHECK_EQ(vb.flags, VU_VERSION | VU_FLAG_REPLY);
  CHECK_EQ(r2, VU_E_TIMEOUT); /* nothing after it: the peer runs only when pumped */
  read_mutated(VSIM_MUT_VU_ACK_FAILURE, &vb, &r1, &vb_fds, &ack, &r2);
  CHECK_EQ(r2, VU_OK);
  CHECK_EQ(ack.request, VU_RESET_DEVICE);
  CHECK_EQ(vu_msg_u64(&ack), 1);
  /* a mutant of another reply leaves these two as written */
  read_mutated(VSIM_MUT_VU_CONFIG_SHORT, &vb, &r1, &vb_fds, &ack, &r2);
  CHECK_EQ(vb.flags, VU_VERSION | VU_FLAG_REPLY);
  CHECK_EQ(vb.size, 8);
  CHECK_EQ(vu_msg_u64(&ack), 0);
}

static void test_adapter_bad_replies(void) {
  const uint32_t ok = VU_VERSION | VU_FLAG_REPLY;
  expect_refused(VU_VERSION, 8, 8, 0, false, VSIM_CHK_VU_REPLY_HEADER); /* vhost-user.reply-header */
  expect_refused(ok, 8, 8, 0, true, VSIM_CHK_VU_REPLY_MISSING);         /* vhost-user.reply-missing */
  expect_refused(ok, 4, 4, 0, false, VSIM_CHK_VU_REPLY_SIZE);           /* vhost-user.reply-size */
  expect_refused(ok, 8, 8, 1, false, VSIM_CHK_VU_REPLY_FDS);            /* vhost-user.reply-fds */
  /* a header promising 8 bytes, 4 sent: the reply never completes */
  expect_refused(ok, 4, 8, 0, false, VSIM_CHK_VU_REPLY_MISSING);
  /* more descriptors than a message may carry: all closed, none kept */
  expect_refused(ok, 8, 8, 12, false, VSIM_CHK_VU_REPLY_FDS);
}

static void test_adapter_ack_fail_and_hangup(void) {
  peer pe;
  int sock;
  /* a failed REPLY_ACK is reported; the connection goes on */
  peer_start(&pe, PEER_ACK_FAIL, &sock);
  vsim_backend be;
  char err[600] = "";
  CHECK_EQ(vsim_vhost_user_create_on(sock, "blk", &pe.p, &quick, &be, err, sizeof err), 0);
  CHECK_EQ(pe.r.viol[VSIM_CHK_VU_ACK_FAILED], 1); /* vhost-user.reply-ack-failed */
  be.ops->destroy(be.be);
  uint32_t magic;
  uint8_t log[256];
  peer_finish(&pe, &magic, log, sizeof log);
  /* a back-end that hangs up: the next message says so, once, as
   * vhost-user.backend-gone (the conform runner's `crashed`) */
  peer_start(&pe, PEER_HANGUP, &sock);
  if (vsim_vhost_user_create_on(sock, "blk", &pe.p, &quick, &be, err, sizeof err) != 0) {
    CHECK(0);
    peer_finish(&pe, &magic, log, sizeof log);
    return;
  }
  be.ops->set_status(be.be, 0x03);
  be.ops->set_driver_features(be.be, 1ull << VIRTIO_F_VERSION_1);
  be.ops->set_status(be.be, 0x0b);
  CHECK(!(be.ops->get_status(be.be) & VIRTIO_CONFIG_S_FEATURES_OK));
  CHECK_EQ(pe.r.viol[VSIM_CHK_VU_BACKEND_GONE], 1);
  CHECK(strstr(pe.r.last, "SET_FEATURES") != NULL);
  be.ops->set_status(be.be, 0x0f); /* nothing more is sent, nothing breaks */
  CHECK_EQ(pe.r.viol[VSIM_CHK_VU_BACKEND_GONE], 1);
  be.ops->destroy(be.be);
  peer_finish(&pe, &magic, log, sizeof log);
}

static void test_spec(void) {
  char sock[256], err[300];
  const char *cmd;
  CHECK_EQ(vsim_vhost_user_spec("vhost-user:/tmp/x.sock", sock, sizeof sock, &cmd, err, sizeof err), 0);
  CHECK(strcmp(sock, "/tmp/x.sock") == 0 && cmd == NULL);
  CHECK_EQ(vsim_vhost_user_spec("vhost-user:?cmd=daemon {socket}", sock, sizeof sock, &cmd, err, sizeof err), 0);
  CHECK(sock[0] == 0 && cmd && strcmp(cmd, "daemon {socket}") == 0);
  CHECK_EQ(vsim_vhost_user_spec("vhost-user", sock, sizeof sock, &cmd, err, sizeof err), -1);
  CHECK(strstr(err, "--backend-cmd") != NULL);
  CHECK_EQ(vsim_vhost_user_spec("vhost-user:/s?cmd=x", sock, sizeof sock, &cmd, err, sizeof err), -1);
}

/* ---- the daemon launcher ---- */

static void test_daemon_split(void) {
  char *argv[16], store[512], err[200];
  int n = vsim_daemon_split("sh -c 'echo {socket} > x' \"a b\" c\\ d {dir}/img", "/s/sock", "/s", argv, 16,
                            store, sizeof store, err, sizeof err);
  CHECK_EQ(n, 6);
  if (n == 6) {
    CHECK(strcmp(argv[0], "sh") == 0);
    CHECK(strcmp(argv[2], "echo /s/sock > x") == 0);
    CHECK(strcmp(argv[3], "a b") == 0);
    CHECK(strcmp(argv[4], "c d") == 0);
    CHECK(strcmp(argv[5], "/s/img") == 0);
    CHECK(argv[6] == NULL);
  }
  CHECK_EQ(vsim_daemon_split("daemon --no-socket", "/s", "/d", argv, 16, store, sizeof store, err, sizeof err), -1);
  CHECK(strstr(err, "{socket}") != NULL);
  CHECK_EQ(vsim_daemon_split("d 'unbalanced {socket}", "/s", "/d", argv, 16, store, sizeof store, err, sizeof err), -1);
  CHECK(strstr(err, "quote") != NULL);
  /* a word filling the store to its last byte, then empty words: each needs
   * one byte more for its end, which is refused, never written past it */
  char small[16];
  CHECK_EQ(vsim_daemon_split("abcdefghijklmn{socket} '' '' ''", "", "/d", argv, 16, small, sizeof small, err, sizeof err),
           -1);
  CHECK(strstr(err, "too long") != NULL);
}

static void test_daemon_lifecycle(void) {
  char err[1024];
  vsim_daemon *d;
  int sock;
  /* dies before listening: the error names how, and what it printed */
  CHECK_EQ(vsim_daemon_start("sh -c 'echo no disk here >&2; exit 3' {socket}", 2000, &d, &sock, err, sizeof err), -1);
  CHECK(strstr(err, "exited with status 3") != NULL);
  CHECK(strstr(err, "no disk here") != NULL);
  /* never listens: bounded, and killed */
  CHECK_EQ(vsim_daemon_start("sh -c 'exec sleep 30' {socket}", 200, &d, &sock, err, sizeof err), -1);
  CHECK(strstr(err, "did not listen") != NULL);
  /* listens: connected; stop leaves nothing running */
  const char *py = "/usr/bin/python3 -c 'import socket,sys,time\n"
                   "s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)\n"
                   "c,_=s.accept(); time.sleep(60)' {socket}";
  if (access("/usr/bin/python3", X_OK) == 0) {
    CHECK_EQ(vsim_daemon_start(py, 10000, &d, &sock, err, sizeof err), 0);
    if (d) {
      pid_t pid = vsim_daemon_pid(d);
      CHECK(vsim_daemon_alive(d, NULL, 0));
      close(sock);
      vsim_daemon_stop(d, 1000);
      CHECK(kill(pid, 0) != 0 && errno == ESRCH); /* gone and reaped */
    }
  }
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  RUN(test_codec_roundtrip);
  RUN(test_codec_malformed);
  RUN(test_spec);
  RUN(test_adapter_sequence);
  RUN(test_adapter_bad_replies);
  RUN(test_adapter_ack_fail_and_hangup);
  RUN(test_peer_mutants);
  RUN(test_daemon_split);
  RUN(test_daemon_lifecycle);
  TEST_MAIN_END();
}
