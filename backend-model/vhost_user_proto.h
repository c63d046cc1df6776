/* backend-model/vhost_user_proto.h — the vhost-user wire format, front-end side.
 *
 * Owns: message numbers and flag bits (they are not in the kernel's UAPI
 * headers), framing a request into one sendmsg with its file descriptors,
 * receiving one message with a wall-clock bound, and judging a reply against
 * what the request defines (request number, flags, payload size, fd count,
 * the REPLY_ACK value). Every failure is an error value with a one-line
 * reason; a hostile or broken peer can never make it block past its
 * deadline, overrun a buffer or leak a descriptor it sent.
 * Must never: interpret payloads beyond their layout (that is the adapter's,
 * backend-model/vhost_user.c), raise SIGPIPE, or keep an fd it did not hand
 * to the caller.
 * The protocol: QEMU's docs/interop/vhost-user.rst; the digest in
 * shared/spec/vhost-user.md (§1 framing, §2 messages, §6 reply validation).
 */
#ifndef VSIM_VHOST_USER_PROTO_H
#define VSIM_VHOST_USER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/vhost_types.h>

#define VU_HDR_SIZE 12u
/* Our reply buffer. QEMU's own is its payload union (about 1 KiB); nothing a
 * front-end asks for here is longer than the 12 + 256 bytes of a config
 * reply, so a larger reply is a broken peer, not a reason to grow. */
#define VU_MAX_PAYLOAD 1024u
/* At most 8 fds per message on the main channel (VHOST_MEMORY_BASELINE_NREGIONS). */
#define VU_MAX_FDS 8u
#define VU_MAX_CONFIG 256u

enum vu_request {
  VU_NONE = 0,
  VU_GET_FEATURES = 1,
  VU_SET_FEATURES = 2,
  VU_SET_OWNER = 3,
  VU_RESET_OWNER = 4,
  VU_SET_MEM_TABLE = 5,
  VU_SET_LOG_BASE = 6,
  VU_SET_LOG_FD = 7,
  VU_SET_VRING_NUM = 8,
  VU_SET_VRING_ADDR = 9,
  VU_SET_VRING_BASE = 10,
  VU_GET_VRING_BASE = 11,
  VU_SET_VRING_KICK = 12,
  VU_SET_VRING_CALL = 13,
  VU_SET_VRING_ERR = 14,
  VU_GET_PROTOCOL_FEATURES = 15,
  VU_SET_PROTOCOL_FEATURES = 16,
  VU_GET_QUEUE_NUM = 17,
  VU_SET_VRING_ENABLE = 18,
  VU_GET_CONFIG = 24,
  VU_SET_CONFIG = 25,
  VU_RESET_DEVICE = 34,
  VU_GET_MAX_MEM_SLOTS = 36,
  VU_SET_STATUS = 39,
  VU_GET_STATUS = 40,
  VU__MAX_REQUEST = 44,
};

/* header flags */
#define VU_FLAG_VERSION_MASK 0x3u
#define VU_VERSION 0x1u
#define VU_FLAG_REPLY 0x4u
#define VU_FLAG_NEED_REPLY 0x8u

/* the virtio feature bit that announces protocol features (never a guest's) */
#define VU_F_PROTOCOL_FEATURES 30

/* protocol feature bits */
enum vu_protocol_feature {
  VU_PF_MQ = 0,
  VU_PF_LOG_SHMFD = 1,
  VU_PF_RARP = 2,
  VU_PF_REPLY_ACK = 3,
  VU_PF_NET_MTU = 4,
  VU_PF_BACKEND_REQ = 5,
  VU_PF_CROSS_ENDIAN = 6,
  VU_PF_CRYPTO_SESSION = 7,
  VU_PF_PAGEFAULT = 8,
  VU_PF_CONFIG = 9,
  VU_PF_BACKEND_SEND_FD = 10,
  VU_PF_HOST_NOTIFIER = 11,
  VU_PF_INFLIGHT_SHMFD = 12,
  VU_PF_RESET_DEVICE = 13,
  VU_PF_INBAND_NOTIFICATIONS = 14,
  VU_PF_CONFIGURE_MEM_SLOTS = 15,
  VU_PF_STATUS = 16,
};

/* the u64 of SET_VRING_KICK/CALL/ERR: bits 0-7 the ring, bit 8 "no fd" */
#define VU_VRING_IDX_MASK 0xffu
#define VU_VRING_NOFD 0x100u

/* Payload layouts (host byte order, no padding: sizes are part of the wire
 * format, checked below). The vring state and address payloads are the
 * kernel vhost structs of <linux/vhost_types.h> (struct vhost_vring_state,
 * struct vhost_vring_addr), as in QEMU; the memory table differs from the
 * kernel's (mmap_offset where the kernel has padding) and is defined here. */
typedef struct vu_mem_region {
  uint64_t guest_phys_addr, memory_size, userspace_addr, mmap_offset;
} vu_mem_region;

typedef struct vu_mem_table {
  uint32_t nregions, padding;
  vu_mem_region regions[VU_MAX_FDS];
} vu_mem_table;

typedef struct vu_config_hdr {
  uint32_t offset, size, flags;
} vu_config_hdr;

_Static_assert(sizeof(struct vhost_vring_state) == 8, "vring state is 8 bytes on the wire");
_Static_assert(sizeof(struct vhost_vring_addr) == 40, "vring address is 40 bytes on the wire");
_Static_assert(sizeof(vu_mem_region) == 32, "memory region is 32 bytes on the wire");
_Static_assert(sizeof(vu_config_hdr) == 12, "config header is 12 bytes on the wire");

/* One message as received. fds belong to the message until taken or closed. */
typedef struct vu_msg {
  uint32_t request, flags, size;
  uint8_t payload[VU_MAX_PAYLOAD];
  int fds[VU_MAX_FDS];
  unsigned nfds;
} vu_msg;

enum vu_err {
  VU_OK = 0,
  /* transport */
  VU_E_TIMEOUT,      /* no complete message before the deadline */
  VU_E_EOF,          /* the peer closed the connection (or reset it) */
  VU_E_SHORT,        /* the peer closed it in the middle of a message */
  VU_E_IO,           /* another socket error */
  VU_E_TOO_BIG,      /* a payload larger than VU_MAX_PAYLOAD (the stream is lost) */
  VU_E_TOO_MANY_FDS, /* more descriptors than a message may carry (truncated, closed) */
  /* validation of a reply */
  VU_E_REQUEST,      /* a reply to another request number */
  VU_E_NO_REPLY,     /* the REPLY flag is missing */
  VU_E_VERSION,      /* version bits other than 1 */
  VU_E_FLAGS,        /* reserved flag bits set */
  VU_E_SIZE,         /* a payload size the message does not define */
  VU_E_FDS,          /* descriptors the message does not define */
  VU_E_ACK,          /* a REPLY_ACK value other than 0: the back-end says it failed */
  VU_E__COUNT
};

const char *vu_err_name(int err);
/* "GET_FEATURES", ... or "request 123". Returns buf or a static name. */
const char *vu_request_name(uint32_t request, char *buf, size_t buflen);

/* Send one request: header and payload in a single sendmsg, fds attached to
 * it (SCM_RIGHTS). VU_OK, VU_E_EOF (peer gone: EPIPE/ECONNRESET) or VU_E_IO. */
int vu_send(int sock, uint32_t request, uint32_t flags, const void *payload, uint32_t size,
            const int *fds, unsigned nfds);

/* Receive one message within timeout_ms of wall-clock time. On VU_OK, m holds
 * it (fds close-on-exec, owned by m). On any error m holds no fds. */
int vu_recv(int sock, vu_msg *m, int timeout_ms);
void vu_msg_close_fds(vu_msg *m);

/* Judge a reply to `request`: REPLY set, version 1, no reserved or
 * NEED_REPLY-echo... (see .c), the same request number, exactly `size`
 * payload bytes and exactly `nfds` descriptors. VU_OK or the first problem,
 * with a one-line reason in why. */
int vu_check_reply(const vu_msg *m, uint32_t request, uint32_t size, unsigned nfds, char *why,
                   size_t whylen);

/* A reply's u64 (call after vu_check_reply with size 8). */
uint64_t vu_msg_u64(const vu_msg *m);

#endif
