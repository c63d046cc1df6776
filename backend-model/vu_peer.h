/* backend-model/vu_peer.h — a scripted vhost-user back-end that lives in the
 * front-end's own process: the peer of the fuzz target fuzz_vhost_user and of
 * the `vhost-user-script:FILE` backend (backend-model/vu_script.h).
 *
 * Owns: the script (a list of actions: reply messages with any header, any
 * payload and any number of file descriptors, raw byte fragments, closing the
 * connection, waiting for a front-end event, used-ring updates, call-eventfd
 * signals, guest-memory writes), its end of a socketpair, what it learnt from
 * the requests it read (the memory table's memfd, each ring's addresses and
 * call eventfd), and the judgement of the conversation afterwards: which
 * reply each request got, and whether it was the one the request defines.
 * How it stays deterministic without a thread or a second process: replies
 * are written *ahead*, before the front-end asks (non-blocking writes into
 * the socket buffer); the front-end reads them in order as its replies. The
 * peer runs only when the backend wrapper hands it control (before each
 * device op: vu_peer_pump), so nothing changes while the front-end waits,
 * and every wait that runs out does so because nothing will ever come.
 * With vu.* mutants (vu_peer_new_mut) it also owns planting them: the
 * replies the script wrote well-formed, rewritten into the bug each mutant
 * names, as they are written (the judgement sees the stream as sent).
 * Must never: block (every socket operation is non-blocking), write guest
 * memory outside the region the memory table gave it, or keep a descriptor
 * past vu_peer_free (what it receives and does not keep is closed at once).
 * The protocol: shared/spec/vhost-user.md (§1 framing, §2 which requests have
 * a reply, §3 payloads).
 */
#ifndef VSIM_VU_PEER_H
#define VSIM_VU_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "virtiosim/mutants.h"

enum vu_peer_kind {
  VUP_MSG = 1,   /* a message: header (request, flags, size) + payload bytes + nfds descriptors */
  VUP_RAW,       /* bytes as they are (a fragment, a header cut short) */
  VUP_CLOSE,     /* close the connection */
  VUP_AWAIT,     /* stop until the front-end's next `event` */
  VUP_USE,       /* a used element on ring q (id, len), then used.idx + 1 */
  VUP_USED_IDX,  /* used.idx of ring q := value, or current + delta */
  VUP_CALL,      /* signal ring q's call eventfd */
  VUP_MEM,       /* write bytes into guest memory at addr */
};

enum vu_peer_event { VUP_EV_KICK = 0, VUP_EV_RUN, VUP_EV_STATUS, VUP_EV_QUEUE, VUP_EV__COUNT, VUP_EV_NONE = 99 };

/* "kick", "run", "status", "queue" */
const char *vu_peer_event_name(int ev);
int vu_peer_event_lookup(const char *name);

#define VUP_ID_NEXT UINT32_MAX /* VUP_USE: the head the driver made available in that slot */
#define VUP_MAX_FDS 16u        /* descriptors one VUP_MSG may carry */
#define VUP_MAX_RINGS 8u
#define VUP_MAX_ACTIONS 4096u
#define VUP_MAX_BYTES (1u << 20) /* payload, raw and mem bytes of one script */

typedef struct vu_peer_act {
  uint8_t kind;
  uint8_t event;       /* VUP_AWAIT */
  uint16_t q;          /* VUP_USE, VUP_USED_IDX, VUP_CALL */
  uint32_t request, flags, size, nfds; /* VUP_MSG: the header as written, the descriptors */
  uint32_t id, len;    /* VUP_USE */
  bool relative;       /* VUP_USED_IDX: value is a delta (int16) */
  uint16_t value;      /* VUP_USED_IDX */
  uint64_t addr;       /* VUP_MEM */
  uint32_t off, n;     /* bytes in the script's pool: MSG payload, RAW, MEM data */
} vu_peer_act;

/* A script: actions and the bytes they write. Built with vu_script_add*. */
typedef struct vu_script {
  int reply_ms, wait_ms; /* the front-end's bounds while it runs (>= 1) */
  vu_peer_act *acts;
  size_t nacts, cap;
  uint8_t *pool;
  size_t npool, poolcap;
} vu_script;

void vu_script_init(vu_script *s);
void vu_script_clear(vu_script *s);
/* Append an action (its bytes, n of them, copied into the pool). 0, or -1
 * when out of memory or past VUP_MAX_ACTIONS / VUP_MAX_BYTES. */
int vu_script_add(vu_script *s, const vu_peer_act *a, const uint8_t *bytes, uint32_t n);

typedef struct vu_peer vu_peer;

/* A peer serving `script` (which must outlive it) on a new socketpair; *front
 * is the front-end's end (close-on-exec), for vsim_vhost_user_create_on.
 * Runs the actions up to the first await. NULL with a message on error. */
vu_peer *vu_peer_new(const vu_script *script, int *front, char *err, size_t errlen);
/* The same, with the vu.* mutants in `mutants` (NULL: none) planted in the
 * replies it serves (include/virtiosim/mutants.h says which bug each one is;
 * vu_peer.c which reply it lands in). Without a vu.* mutant the script is
 * served byte for byte as written. */
vu_peer *vu_peer_new_mut(const vu_script *script, const vsim_mutset *mutants, int *front, char *err,
                         size_t errlen);
/* Read what the front-end sent (non-blocking), then, when `event` is the
 * one the script waits for, go on with the actions up to the next await.
 * VUP_EV_NONE only reads. */
void vu_peer_pump(vu_peer *p, int event);
void vu_peer_free(vu_peer *p);

/* The proper reply to one request, as the protocol defines it. */
typedef struct vu_peer_req {
  uint32_t request, flags, size;
  uint32_t arg;        /* GET_CONFIG: the size asked; GET_VRING_BASE: the ring */
  uint32_t offset;     /* GET_CONFIG: the offset asked */
  uint32_t segment;    /* awaits passed when it was read */
  uint32_t op;         /* which front-end op sent it: 0 creation, then one per vu_peer_pump */
  uint8_t op_event;    /* ... and that op's event (VUP_EV_NONE for creation) */
  uint32_t since;      /* events like op_event between the segment's start and that op, the op's
                          own included (0: the op that started the segment, or creation) */
  bool wants_reply;    /* defines a reply, or asked for a REPLY_ACK */
} vu_peer_req;

/* The conversation, judged (call after vu_peer_pump so that every request
 * sent is read). The front-end read the replies in order, one per request
 * that wants one, until it stopped asking: pairing the byte stream the peer
 * wrote (parsed as a reader does: 12-byte header, then `size` bytes;
 * descriptors with the header) with those requests says which ones were
 * answered properly. */
typedef struct vu_peer_verdict {
  size_t requests;     /* requests read */
  size_t wanted;       /* ... of which want a reply */
  size_t answered;     /* replies paired with them, up to the first bad one */
  bool deviated;       /* a request got a reply it does not define, or none */
  char why[240];       /* the first such, in words */
  bool missing;        /* ... and that was no reply at all (the stream ended) */
  const vu_peer_req *missing_req; /* then: the request (valid until the next pump) */
  bool missing_first;  /* ... the first request of its op that wants a reply */
  bool extra;          /* bytes beyond the paired replies were written */
  bool closed;         /* the peer closed the connection */
} vu_peer_verdict;
void vu_peer_judge(vu_peer *p, vu_peer_verdict *out);

/* Requests read so far (for tests and the seed generator). */
size_t vu_peer_request_count(const vu_peer *p);
const vu_peer_req *vu_peer_request_at(const vu_peer *p, size_t i);

#endif
