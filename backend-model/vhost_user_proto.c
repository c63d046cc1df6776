/* backend-model/vhost_user_proto.c — vhost-user framing and reply checks
 * (see vhost_user_proto.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "vhost_user_proto.h"

static const char *const err_names[VU_E__COUNT] = {
    [VU_OK] = "ok",
    [VU_E_TIMEOUT] = "no reply before the deadline",
    [VU_E_EOF] = "connection closed by the back-end",
    [VU_E_SHORT] = "connection closed in the middle of a message",
    [VU_E_IO] = "socket error",
    [VU_E_TOO_BIG] = "payload larger than any reply may be",
    [VU_E_TOO_MANY_FDS] = "more file descriptors than a message may carry",
    [VU_E_REQUEST] = "reply to another request",
    [VU_E_NO_REPLY] = "REPLY flag missing",
    [VU_E_VERSION] = "wrong version",
    [VU_E_FLAGS] = "reserved flag bits set",
    [VU_E_SIZE] = "wrong payload size",
    [VU_E_FDS] = "unexpected file descriptors",
    [VU_E_ACK] = "REPLY_ACK reports failure",
};

const char *vu_err_name(int err) {
  return err >= 0 && err < VU_E__COUNT && err_names[err] ? err_names[err] : "unknown error";
}

const char *vu_request_name(uint32_t request, char *buf, size_t buflen) {
  static const char *const names[] = {
      [VU_GET_FEATURES] = "GET_FEATURES",       [VU_SET_FEATURES] = "SET_FEATURES",
      [VU_SET_OWNER] = "SET_OWNER",             [VU_RESET_OWNER] = "RESET_OWNER",
      [VU_SET_MEM_TABLE] = "SET_MEM_TABLE",     [VU_SET_LOG_BASE] = "SET_LOG_BASE",
      [VU_SET_LOG_FD] = "SET_LOG_FD",           [VU_SET_VRING_NUM] = "SET_VRING_NUM",
      [VU_SET_VRING_ADDR] = "SET_VRING_ADDR",   [VU_SET_VRING_BASE] = "SET_VRING_BASE",
      [VU_GET_VRING_BASE] = "GET_VRING_BASE",   [VU_SET_VRING_KICK] = "SET_VRING_KICK",
      [VU_SET_VRING_CALL] = "SET_VRING_CALL",   [VU_SET_VRING_ERR] = "SET_VRING_ERR",
      [VU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
      [VU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
      [VU_GET_QUEUE_NUM] = "GET_QUEUE_NUM",     [VU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
      [VU_GET_CONFIG] = "GET_CONFIG",           [VU_SET_CONFIG] = "SET_CONFIG",
      [VU_RESET_DEVICE] = "RESET_DEVICE",       [VU_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
      [VU_SET_STATUS] = "SET_STATUS",           [VU_GET_STATUS] = "GET_STATUS",
  };
  if (request < sizeof names / sizeof names[0] && names[request]) return names[request];
  snprintf(buf, buflen, "request %u", request);
  return buf;
}

int vu_send(int sock, uint32_t request, uint32_t flags, const void *payload, uint32_t size,
            const int *fds, unsigned nfds) {
  if (size > VU_MAX_PAYLOAD || nfds > VU_MAX_FDS) return VU_E_IO;
  uint8_t buf[VU_HDR_SIZE + VU_MAX_PAYLOAD];
  memcpy(buf, &request, 4);
  memcpy(buf + 4, &flags, 4);
  memcpy(buf + 8, &size, 4);
  if (size) memcpy(buf + VU_HDR_SIZE, payload, size);
  size_t total = VU_HDR_SIZE + size, sent = 0;
  /* fds ride on the sendmsg that carries the header: back-ends collect them
   * while receiving the 12 header bytes (digest §1) */
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int) * VU_MAX_FDS)];
  } ctl;
  memset(&ctl, 0, sizeof ctl);
  bool first = true;
  while (sent < total) {
    struct iovec iov = {buf + sent, total - sent};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (first && nfds) {
      mh.msg_control = ctl.buf;
      mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
      struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
      memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    /* MSG_NOSIGNAL: a back-end that went away is an error value, not SIGPIPE */
    ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EPIPE || errno == ECONNRESET ? VU_E_EOF : VU_E_IO;
    first = false;
    sent += (size_t)n;
  }
  return VU_OK;
}

void vu_msg_close_fds(vu_msg *m) {
  for (unsigned i = 0; i < m->nfds; i++)
    if (m->fds[i] >= 0) close(m->fds[i]);
  m->nfds = 0;
}

static int64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Wait until sock is readable or the deadline passes: 1 readable, 0 timeout,
 * -1 error. What is already there is readable whatever the clock says: the
 * deadline bounds the waiting, and a reply that arrived in time must not be
 * called missing because the millisecond clock ticked (or the process was
 * preempted) between setting the deadline and looking. */
static int wait_readable(int sock, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - now_ms();
    struct pollfd p = {sock, POLLIN, 0};
    int r = poll(&p, 1, left <= 0 ? 0 : left > 1000 ? 1000 : (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r > 0) return 1;
    if (left <= 0) return 0;
  }
}

/* Take the SCM_RIGHTS fds of one recvmsg into m; closes what does not fit. */
static int take_fds(struct msghdr *mh, vu_msg *m) {
  int rc = VU_OK;
  if (mh->msg_flags & MSG_CTRUNC) rc = VU_E_TOO_MANY_FDS; /* the kernel closed the rest */
  for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (m->nfds < VU_MAX_FDS) m->fds[m->nfds++] = fd;
      else {
        close(fd);
        rc = VU_E_TOO_MANY_FDS;
      }
    }
  }
  return rc;
}

/* Read exactly len bytes (fds with them, when want_fds), before the deadline. */
static int read_exact(int sock, uint8_t *dst, size_t len, vu_msg *m, bool want_fds, int64_t deadline,
                      bool started) {
  size_t got = 0;
  int fd_rc = VU_OK;
  while (got < len) {
    int w = wait_readable(sock, deadline);
    /* a message cut off by the deadline is as missing as one never begun */
    if (w == 0) return VU_E_TIMEOUT;
    if (w < 0) return VU_E_IO;
    union {
      struct cmsghdr h;
      /* room for one more than allowed, so that too many is seen as such */
      char buf[CMSG_SPACE(sizeof(int) * (VU_MAX_FDS + 1))];
    } ctl;
    struct iovec iov = {dst + got, len - got};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (want_fds) {
      mh.msg_control = ctl.buf;
      mh.msg_controllen = sizeof ctl.buf;
    }
    ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n < 0) return errno == ECONNRESET ? (got || started ? VU_E_SHORT : VU_E_EOF) : VU_E_IO;
    if (want_fds) {
      int r = take_fds(&mh, m);
      if (r != VU_OK) fd_rc = r;
    }
    if (n == 0) return got || started ? VU_E_SHORT : VU_E_EOF;
    got += (size_t)n;
  }
  return fd_rc;
}

int vu_recv(int sock, vu_msg *m, int timeout_ms) {
  memset(m, 0, offsetof(vu_msg, payload));
  m->nfds = 0;
  int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
  uint8_t hdr[VU_HDR_SIZE];
  int r = read_exact(sock, hdr, sizeof hdr, m, true, deadline, false);
  if (r != VU_OK) {
    vu_msg_close_fds(m);
    return r;
  }
  memcpy(&m->request, hdr, 4);
  memcpy(&m->flags, hdr + 4, 4);
  memcpy(&m->size, hdr + 8, 4);
  if (m->size > VU_MAX_PAYLOAD) {
    vu_msg_close_fds(m);
    return VU_E_TOO_BIG;
  }
  r = read_exact(sock, m->payload, m->size, m, false, deadline, true);
  if (r != VU_OK) {
    vu_msg_close_fds(m);
    return r;
  }
  return VU_OK;
}

int vu_check_reply(const vu_msg *m, uint32_t request, uint32_t size, unsigned nfds, char *why,
                   size_t whylen) {
  char a[32], b[32];
  const char *want = vu_request_name(request, a, sizeof a);
  if (m->request != request) {
    snprintf(why, whylen, "reply to %s carries request number %u (%s)", want, m->request,
             vu_request_name(m->request, b, sizeof b));
    return VU_E_REQUEST;
  }
  if (!(m->flags & VU_FLAG_REPLY)) {
    snprintf(why, whylen, "reply to %s has flags 0x%x: the REPLY bit (0x4) is missing", want, m->flags);
    return VU_E_NO_REPLY;
  }
  if ((m->flags & VU_FLAG_VERSION_MASK) != VU_VERSION) {
    snprintf(why, whylen, "reply to %s has flags 0x%x: version %u, not 1", want, m->flags,
             m->flags & VU_FLAG_VERSION_MASK);
    return VU_E_VERSION;
  }
  if (m->flags & ~(VU_FLAG_VERSION_MASK | VU_FLAG_REPLY)) {
    /* QEMU demands exactly 0x5; NEED_REPLY echoed back counts as reserved here */
    snprintf(why, whylen, "reply to %s has flags 0x%x: bits 0x%x beyond version and REPLY", want,
             m->flags, m->flags & ~(VU_FLAG_VERSION_MASK | VU_FLAG_REPLY));
    return VU_E_FLAGS;
  }
  if (m->size != size) {
    snprintf(why, whylen, "reply to %s has a %u-byte payload, %u expected", want, m->size, size);
    return VU_E_SIZE;
  }
  if (m->nfds != nfds) {
    snprintf(why, whylen, "reply to %s carries %u file descriptor(s), %u expected", want, m->nfds, nfds);
    return VU_E_FDS;
  }
  return VU_OK;
}

uint64_t vu_msg_u64(const vu_msg *m) {
  uint64_t v = 0;
  memcpy(&v, m->payload, m->size >= 8 ? 8 : m->size);
  return v;
}
