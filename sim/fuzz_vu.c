/* sim/fuzz_vu.c — the fuzz_vhost_user target (see fuzz_vu.h; the byte format
 * is in fuzz/README.md, "fuzz_vhost_user").
 *
 * Why a scenario plus a script rather than driving the ops table by hand:
 * both texts are the reproducer. The target loads exactly the scenario
 * `virtio-sim fuzz-repro` writes, with `--backend vhost-user-script:` on
 * exactly the script it writes beside it, so a finding replays with
 * `virtio-sim run` by construction; and the front-end is driven the way
 * every vhost-user run drives it (the driver model, the MMIO transport).
 */
#include "fuzz_vu.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include "arena_shared.h"
#include "fuzz_text.h"
#include "vhost_user.h"
#include "replay.h" /* vsim_sim_view_backend */
#include "vhost_user_proto.h"
#include "virtiosim/virtiosim.h"
#include "vu_script.h"

#define ARENA_SIZE 0x40000u
#define MAX_DRIVER_OPS 8u
#define MAX_ACTIONS 512u
#define MAX_SEGMENTS 64u
#define NAME "fuzz_vhost_user"

/* The requests a reply's REQ byte names (b % 20; 0xff: a u32 follows): the
 * ones the front-end sends, so that most reply headers are plausible. */
static const uint32_t req_table[20] = {
    VU_GET_FEATURES,     VU_GET_PROTOCOL_FEATURES, VU_GET_QUEUE_NUM,  VU_GET_MAX_MEM_SLOTS,
    VU_SET_OWNER,        VU_GET_CONFIG,            VU_SET_FEATURES,   VU_SET_MEM_TABLE,
    VU_SET_VRING_NUM,    VU_SET_VRING_BASE,        VU_SET_VRING_ADDR, VU_SET_VRING_CALL,
    VU_SET_VRING_ERR,    VU_SET_VRING_KICK,        VU_SET_VRING_ENABLE, VU_GET_VRING_BASE,
    VU_RESET_OWNER,      VU_RESET_DEVICE,          VU_SET_CONFIG,     VU_GET_STATUS,
};

static const uint32_t len_table[8] = {0, 1, 2, 16, 17, 512, 513, 4097};

typedef struct vdec {
  rd r;
  sb sc, act;
  uint32_t nacts, nsteps;
  uint16_t nq, qsize;
  /* input offset where each segment of the script ends (its AWAIT's opcode
   * byte, or the end of the input): the completion inserts replies there */
  size_t seg_end[MAX_SEGMENTS + 1];
  uint32_t nseg;
} vdec;

static void act_open(vdec *d) { sb_printf(&d->act, "%s\n    {", d->nacts++ ? "," : ""); }

static void emit_msg(vdec *d) {
  uint8_t b = rd8(&d->r);
  uint32_t req = b == 0xff ? rd32(&d->r) : req_table[b % 20];
  b = rd8(&d->r);
  uint32_t flags = b < 0xc0 ? (VU_VERSION | VU_FLAG_REPLY) : b == 0xff ? rd32(&d->r) : (uint32_t)(b & 0x3f);
  uint32_t nfds = rd8(&d->r) % 12u;
  b = rd8(&d->r);
  uint32_t size, n;
  if (b == 0xff) {
    size = rd32(&d->r);
    n = rd8(&d->r) % 129u;
  } else {
    size = n = b;
  }
  uint8_t pl[255];
  for (uint32_t i = 0; i < n; i++) pl[i] = rd8(&d->r);
  char nb[32];
  const char *name = vu_request_name(req, nb, sizeof nb);
  act_open(d);
  if (name == nb) sb_printf(&d->act, "\"msg\": %" PRIu32, req);
  else sb_printf(&d->act, "\"msg\": \"%s\"", name);
  sb_printf(&d->act, ", \"flags\": %" PRIu32 ", \"size\": %" PRIu32 ", \"payload\": ", flags, size);
  sb_hex(&d->act, pl, n);
  sb_printf(&d->act, ", \"fds\": %" PRIu32 "}", nfds);
}

static void emit_raw(vdec *d) {
  uint32_t n = rd8(&d->r) % 65u;
  uint8_t b[64];
  for (uint32_t i = 0; i < n; i++) b[i] = rd8(&d->r);
  act_open(d);
  sb_printf(&d->act, "\"raw\": ");
  sb_hex(&d->act, b, n);
  sb_printf(&d->act, "}");
}

static uint16_t dq(vdec *d) { return (uint16_t)(rd8(&d->r) % d->nq); }

static void emit_use(vdec *d) {
  uint16_t q = dq(d);
  uint8_t b = rd8(&d->r);
  act_open(d);
  sb_printf(&d->act, "\"use\": %u, \"id\": ", q);
  if (b < 0x80) sb_printf(&d->act, "\"next\"");
  else sb_printf(&d->act, "%" PRIu32, b == 0xff ? rd32(&d->r) % UINT32_MAX : (uint32_t)(b & 0x7f));
  b = rd8(&d->r);
  sb_printf(&d->act, ", \"len\": %" PRIu32 "}", b == 0xff ? rd32(&d->r) : len_table[b % 8]);
}

static void emit_used_idx(vdec *d) {
  uint16_t q = dq(d);
  uint8_t b = rd8(&d->r);
  act_open(d);
  if (b == 0x80) sb_printf(&d->act, "\"used_idx\": %u, \"value\": %u}", q, rd16(&d->r));
  else sb_printf(&d->act, "\"used_idx\": %u, \"delta\": %d}", q, (int)(int8_t)b);
}

static void emit_mem(vdec *d) {
  uint32_t addr = rd32(&d->r) % ARENA_SIZE;
  uint32_t n = rd8(&d->r) % 17u;
  uint8_t b[16];
  for (uint32_t i = 0; i < n; i++) b[i] = rd8(&d->r);
  act_open(d);
  sb_printf(&d->act, "\"mem\": %" PRIu32 ", \"data\": ", addr);
  sb_hex(&d->act, b, n);
  sb_printf(&d->act, "}");
}

static void step(vdec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void step(vdec *d, const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  sb_printf(&d->sc, "%s\n    %s", d->nsteps++ ? "," : "", buf);
}

static void driver_op(vdec *d, uint8_t b) {
  unsigned sector = (b >> 3) & 31u;
  switch (b % 8) {
    case 0: step(d, "{\"op\": \"blk.read\", \"sector\": %u, \"len\": 512}", sector); break;
    case 1: step(d, "{\"op\": \"blk.write\", \"sector\": %u, \"data\": {\"pattern\": %u, \"len\": 512}}", sector, b); break;
    case 2: step(d, "{\"op\": \"blk.flush\"}"); break;
    case 3: step(d, "{\"op\": \"blk.get_id\"}"); break;
    case 4: step(d, "{\"op\": \"wait\"}"); break;
    case 5:
      step(d, "{\"op\": \"reset\"}");
      step(d, "{\"op\": \"init\"}");
      break;
    case 6: step(d, "{\"op\": \"blk.read\", \"sector\": 8, \"len\": 4096}"); break;
    case 7: step(d, "{\"op\": \"reset\"}"); break;
  }
}

/* 0 decoded, -1 out of memory. */
static int decode(const uint8_t *data, size_t size, vdec *d, char **scen, size_t *slen, char **script,
                  size_t *scrlen, vsim_fuzz_info *info) {
  memset(d, 0, sizeof *d);
  d->r = (rd){data, size, 0};
  uint8_t h = rd8(&d->r);
  d->nq = (h & 1) ? 2 : 1;
  d->qsize = (uint16_t)(2u << ((h >> 1) & 3));
  unsigned nops = rd8(&d->r) % (MAX_DRIVER_OPS + 1);
  for (unsigned i = 0; i < nops; i++) driver_op(d, rd8(&d->r));
  if (h & 0x80) step(d, "{\"op\": \"reset\"}");
  /* the script: actions to the end of the input */
  while (rd_more(&d->r) && d->nacts < MAX_ACTIONS) {
    size_t at = d->r.i;
    uint8_t op = rd8(&d->r);
    switch (op % 8) {
      case 0: emit_msg(d); break;
      case 1: emit_raw(d); break;
      case 2:
        act_open(d);
        sb_printf(&d->act, "\"close\": true}");
        break;
      case 3: {
        if (d->nseg < MAX_SEGMENTS) d->seg_end[d->nseg++] = at;
        act_open(d);
        sb_printf(&d->act, "\"await\": \"%s\"}", vu_peer_event_name(rd8(&d->r) % VUP_EV__COUNT));
        break;
      }
      case 4: emit_use(d); break;
      case 5: emit_used_idx(d); break;
      case 6:
        act_open(d);
        sb_printf(&d->act, "\"call\": %u}", dq(d));
        break;
      case 7: emit_mem(d); break;
    }
  }
  d->seg_end[d->nseg] = d->r.i < size ? d->r.i : size;
  uint64_t hash = fnv1a(data, size);
  uint32_t nsteps = d->nsteps;
  sb out = {0}, sout = {0};
  sb_printf(&out,
            "{\n  \"name\": \"" NAME "-%016" PRIx64 "\",\n"
            "  \"description\": \"decoded from a " NAME " input (format %d); the back-end is the script "
            "beside it: virtio-sim run THIS.json --backend vhost-user-script:THIS.vu-script.json\",\n"
            "  \"device\": \"blk\",\n  \"queue_size\": %u,\n  \"num_queues\": %u,\n  \"arena_size\": %u,\n"
            "  \"policy\": \"%s\",\n  \"accept_features\": [\"VERSION_1\"%s%s%s%s],\n"
            "  \"max_steps\": %" PRIu64 ",\n  \"steps\": [",
            hash, VSIM_FUZZ_FORMAT_VERSION, d->qsize, d->nq, ARENA_SIZE, (h & 0x40) ? "round-robin" : "scripted",
            (h & 0x08) ? ", \"EVENT_IDX\"" : "", (h & 0x10) ? ", \"INDIRECT_DESC\"" : "",
            (h & 0x20) ? ", \"FLUSH\"" : "", d->nq > 1 ? ", \"MQ\"" : "",
            8192 + 16 * (uint64_t)(nsteps + 2) * (d->qsize + 2u));
  sb_printf(&out, "%s\n  ]\n}\n", d->sc.p ? d->sc.p : "");
  sb_printf(&sout,
            "{\n  \"vhost_user_script\": 1,\n  \"description\": \"decoded from " NAME " input %016" PRIx64
            "\",\n  \"reply_ms\": 1,\n  \"wait_ms\": 1,\n  \"actions\": [%s\n  ]\n}\n",
            hash, d->act.p ? d->act.p : "");
  bool oom = d->sc.oom || d->act.oom;
  free(d->sc.p);
  free(d->act.p);
  *scen = sb_take(&out, slen);
  *script = sb_take(&sout, scrlen);
  if (oom || !*scen || !*script) {
    free(*scen);
    free(*script);
    *scen = *script = NULL;
    return -1;
  }
  if (info) {
    memset(info, 0, sizeof *info);
    info->queue_size = d->qsize;
    info->num_queues = d->nq;
    info->ops = nops;
    info->steps = nsteps;
    info->max_steps = 8192 + 16 * (uint64_t)(nsteps + 2) * (d->qsize + 2u);
    info->input_hash = hash;
  }
  return 0;
}

char *vsim_fuzz_vu_decode(const uint8_t *data, size_t size, size_t *len, char **script,
                          size_t *script_len, vsim_fuzz_info *info) {
  vdec *d = malloc(sizeof *d);
  char *scen = NULL;
  size_t l1 = 0, l2 = 0;
  *script = NULL;
  if (!d) return NULL;
  if (decode(data, size, d, &scen, &l1, script, &l2, info)) scen = NULL;
  free(d);
  if (len) *len = l1;
  if (script_len) *script_len = l2;
  return scen;
}

/* ---- running one input ---- */

static int count_fds(void) {
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int n = 0;
  while (readdir(dir)) n++;
  closedir(dir);
  return n;
}

__attribute__((format(printf, 3, 4))) static int finding(char *msg, size_t n, const char *fmt, ...) {
  if (msg && n) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, n, fmt, ap);
    va_end(ap);
  }
  return VSIM_FUZZ_FINDING;
}

/* The checks a wrong conversation shows as (the others judge contents). */
static bool conversation_check(int c) {
  return c == VSIM_CHK_VU_REPLY_HEADER || c == VSIM_CHK_VU_REPLY_SIZE || c == VSIM_CHK_VU_REPLY_FDS ||
         c == VSIM_CHK_VU_REPLY_MISSING || c == VSIM_CHK_VU_BACKEND_GONE;
}

typedef struct vu_result {
  bool loaded;
  char err[1024];
  vu_peer_verdict v;
  vu_peer_req missing;  /* a copy of v.missing_req */
  const vsim_violation *first; /* of a conversation check (valid until the sim is freed) */
  size_t nconv;
  int verdict;
  char msg[1024];
} vu_result;

/* Decode and run one input; on return the sim is freed. */
static int run_one(const uint8_t *data, size_t size, const vsim_fuzz_oracle *o, vu_result *res, vdec *d) {
  memset(res, 0, sizeof *res);
  int fds_before = count_fds();
  char *scen = NULL, *script = NULL;
  size_t slen = 0, scrlen = 0;
  vsim_fuzz_info info;
  if (decode(data, size, d, &scen, &slen, &script, &scrlen, &info)) return VSIM_FUZZ_ERROR;
  int verdict = VSIM_FUZZ_OK;
  int mfd = memfd_create("vu-script", MFD_CLOEXEC);
  if (mfd < 0 || write(mfd, script, scrlen) != (ssize_t)scrlen) {
    if (mfd >= 0) close(mfd);
    free(scen);
    free(script);
    return VSIM_FUZZ_ERROR;
  }
  free(script);
  char spec[64];
  snprintf(spec, sizeof spec, VSIM_VU_SCRIPT_PREFIX "/proc/self/fd/%d", mfd);
  vsim_options opt = {.backend = spec};
  vsim_sim *s = vsim_sim_load_buffer(scen, slen, NAME, &opt, res->err, sizeof res->err);
  free(scen);
  if (!s) {
    /* a back-end the front-end cannot use is a creation error, with a message;
     * a scenario or a script the loaders refuse is the decoder's bug */
    if (!res->err[0])
      verdict = finding(res->msg, sizeof res->msg, NAME ": the creation failed without a message");
    else if (strstr(res->err, "/proc/self/fd/") ||
             (strncmp(res->err, NAME ":", sizeof NAME) == 0 && res->err[sizeof NAME] >= '0' &&
              res->err[sizeof NAME] <= '9'))
      verdict = finding(res->msg, sizeof res->msg, NAME ": the decoded scenario or script does not load (decoder bug): %s",
                        res->err);
  } else {
    res->loaded = true;
    uint64_t calls = 0, cap = 4 * info.max_steps + 1024;
    int r;
    while ((r = vsim_sim_step(s)) == 1)
      if (++calls > cap) {
        verdict = finding(res->msg, sizeof res->msg, NAME ": the run does not end: %" PRIu64 " step calls", calls);
        break;
      }
    if (verdict == VSIM_FUZZ_OK && r < 0)
      verdict = finding(res->msg, sizeof res->msg, NAME ": engine error at scheduler step %" PRIu64, vsim_sim_steps(s));
    if (verdict == VSIM_FUZZ_OK) {
      vsim_sim_run(s);
      if (vsim_sim_steps(s) >= info.max_steps)
        verdict = finding(res->msg, sizeof res->msg, NAME ": the run hit max_steps = %" PRIu64, info.max_steps);
    }
    if (vsim_vu_script_verdict(vsim_sim_view_backend(s), &res->v) == 0) {
      if (res->v.missing_req) res->missing = *res->v.missing_req;
    } else if (verdict == VSIM_FUZZ_OK) {
      verdict = finding(res->msg, sizeof res->msg, NAME ": the backend is not the scripted one");
    }
    for (size_t i = 0; i < vsim_sim_violation_count(s); i++) {
      const vsim_violation *v = vsim_sim_violation(s, i);
      if (verdict == VSIM_FUZZ_OK && o && v->check >= 0 && v->check < VSIM_CHK__COUNT && o->fatal[v->check]) {
        const vsim_check_info *ci = vsim_check_info_get(v->check);
        verdict = finding(res->msg, sizeof res->msg, NAME ": a check listed as fatal fired: %s at step %" PRIu64 ": %s",
                          ci ? ci->id : "?", v->step, v->detail);
      }
      if (!conversation_check(v->check)) continue;
      if (!res->nconv++) res->first = v;
    }
    if (verdict == VSIM_FUZZ_OK && res->v.deviated && res->nconv == 0)
      verdict = finding(res->msg, sizeof res->msg,
                        NAME ": the front-end took a reply its request does not define, without a vhost-user "
                        "violation: %s",
                        res->v.why);
    if (verdict == VSIM_FUZZ_OK && !res->v.deviated && !res->v.extra && !res->v.closed && res->nconv) {
      const vsim_check_info *ci = vsim_check_info_get(res->first->check);
      verdict = finding(res->msg, sizeof res->msg,
                        NAME ": %s at step %" PRIu64 " (%s), though every reply was the one its request "
                        "defines and nothing else was sent",
                        ci ? ci->id : "?", res->first->step, res->first->detail);
    }
    res->first = NULL;
    vsim_sim_free(s);
  }
  close(mfd);
  int fds_after = count_fds();
  if (verdict == VSIM_FUZZ_OK && fds_before >= 0 && fds_after != fds_before)
    verdict = finding(res->msg, sizeof res->msg, NAME ": %d file descriptor(s) %s after the run",
                      fds_after > fds_before ? fds_after - fds_before : fds_before - fds_after,
                      fds_after > fds_before ? "left open" : "closed that were not ours");
  res->verdict = verdict;
  return verdict;
}

int vsim_fuzz_vu_run(const uint8_t *data, size_t size, const vsim_fuzz_oracle *oracle, char *msg,
                     size_t msglen) {
  vu_result *res = malloc(sizeof *res);
  vdec *d = malloc(sizeof *d);
  int v = VSIM_FUZZ_ERROR;
  if (res && d) {
    v = run_one(data, size, oracle, res, d);
    if (v == VSIM_FUZZ_FINDING && msg && msglen) snprintf(msg, msglen, "%s", res->msg);
  }
  free(res);
  free(d);
  return v;
}

/* ---- completing a skeleton into a well-formed conversation ---- */

typedef struct profile {
  uint64_t features, protocol;
  uint32_t config_max; /* GET_CONFIG of more bytes is refused (zero-length reply) */
  bool ignore_offset;
} profile;

#define BIT(b) (UINT64_C(1) << (b))
#define BLK_FEATURES                                                                              \
  (BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_EVENT_IDX) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |     \
   BIT(VIRTIO_BLK_F_FLUSH) | BIT(VIRTIO_BLK_F_SEG_MAX) | BIT(VIRTIO_BLK_F_BLK_SIZE) | BIT(VIRTIO_BLK_F_MQ))

static const profile profiles[VSIM_FUZZ_VU_PROFILES] = {
    /* everything this front-end negotiates */
    {BLK_FEATURES | BIT(30),
     BIT(0) | BIT(3) | BIT(9) | BIT(13) | BIT(15), /* MQ, REPLY_ACK, CONFIG, RESET_DEVICE, CONFIGURE_MEM_SLOTS */
     256, false},
    /* no REPLY_ACK: no acks, and RESET_OWNER */
    {BLK_FEATURES | BIT(30), BIT(0) | BIT(9), 256, false},
    /* qemu-storage-daemon 7.2's config quirks: 60 bytes at most, the offset ignored */
    {BLK_FEATURES | BIT(30), BIT(0) | BIT(3) | BIT(9) | BIT(15), 60, true},
    /* no protocol features at all: a blk front-end cannot read the config space */
    {BLK_FEATURES, 0, 256, false},
};

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* The proper reply to q, in the input format (a msg action). */
static size_t encode_reply(const profile *pr, const vu_peer_req *q, uint8_t *out) {
  uint8_t pl[12 + 256], cfg[512];
  uint32_t n = 8;
  memset(pl, 0, sizeof pl);
  memset(cfg, 0, sizeof cfg);
  put64(cfg + offsetof(struct virtio_blk_config, capacity), 2048);
  put32(cfg + offsetof(struct virtio_blk_config, seg_max), 126);
  put32(cfg + offsetof(struct virtio_blk_config, blk_size), 512);
  cfg[offsetof(struct virtio_blk_config, num_queues)] = 2;
  switch (q->request) {
    case VU_GET_FEATURES: put64(pl, pr->features); break;
    case VU_GET_PROTOCOL_FEATURES: put64(pl, pr->protocol); break;
    case VU_GET_QUEUE_NUM: put64(pl, 2); break;
    case VU_GET_MAX_MEM_SLOTS: put64(pl, 8); break;
    case VU_GET_VRING_BASE: put32(pl, q->arg); break;
    case VU_GET_CONFIG:
      /* refused (a zero-length reply) above the profile's size, or when
       * it would not fit the SIZE byte */
      if (q->arg > pr->config_max || q->arg > 254 - 12 || q->offset > 256) {
        n = 0;
        break;
      }
      n = 12 + q->arg;
      put32(pl, q->offset);
      put32(pl + 4, q->arg);
      memcpy(pl + 12, cfg + (pr->ignore_offset ? 0 : q->offset), q->arg);
      break;
    default: break; /* an ack: 0, success */
  }
  size_t k = 0;
  out[k++] = 0; /* msg */
  unsigned idx = 0;
  while (idx < 20 && req_table[idx] != q->request) idx++;
  if (idx < 20) {
    out[k++] = (uint8_t)idx;
  } else {
    out[k++] = 0xff;
    put32(out + k, q->request);
    k += 4;
  }
  out[k++] = 0;          /* flags 0x5 */
  out[k++] = 0;          /* no fds */
  out[k++] = (uint8_t)n; /* size: the payload's */
  memcpy(out + k, pl, n);
  return k + n;
}

/* A creation that failed leaves no sim to ask: the completion replays the
 * handshake alone (the same script, the same adapter entry, a memfd arena,
 * a host that ignores what it is told) and judges that conversation. */
static void h_irq(void *ctx, uint16_t q) {}
static void h_cfg(void *ctx) {}
static void h_viol(void *ctx, int check, int q, const char *detail) {}
static void h_event(void *ctx, int kind, int q, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {}
static uint64_t h_now(void *ctx) { return 0; }

static int probe_handshake(const uint8_t *data, size_t size, vu_result *res, vdec *d) {
  char *scen = NULL, *text = NULL;
  size_t slen = 0, tlen = 0;
  if (decode(data, size, d, &scen, &slen, &text, &tlen, NULL)) return -1;
  free(scen);
  vu_script sc;
  char err[512];
  int rc = vsim_vu_script_parse(text, tlen, "probe", &sc, err, sizeof err);
  free(text);
  if (rc) return -1;
  vsim_arena *a = vsim_arena_new_memfd(ARENA_SIZE, err, sizeof err);
  int front = -1;
  vu_peer *p = a ? vu_peer_new(&sc, &front, err, sizeof err) : NULL;
  if (p) {
    vsim_host host = {NULL, a, h_irq, h_cfg, h_viol, h_event, h_now};
    vsim_backend_params prm = {.host = &host, .num_queues = d->nq, .queue_max_size = 256};
    vsim_backend be = {0};
    vsim_vu_timeouts t = {sc.reply_ms, sc.wait_ms};
    if (vsim_vhost_user_create_on(front, "blk", &prm, &t, &be, err, sizeof err) == 0) be.ops->destroy(be.be);
    vu_peer_pump(p, VUP_EV_NONE);
    vu_peer_judge(p, &res->v);
    if (res->v.missing_req) res->missing = *res->v.missing_req;
    res->v.missing_req = NULL;
    vu_peer_free(p);
  }
  vsim_arena_free(a);
  vu_script_clear(&sc);
  return p ? 0 : -1;
}

uint8_t *vsim_fuzz_vu_complete(const uint8_t *data, size_t size, unsigned profile_no, size_t *outlen,
                               char *err, size_t errlen) {
  if (profile_no >= VSIM_FUZZ_VU_PROFILES) {
    snprintf(err, errlen, "no back-end profile %u (0..%d)", profile_no, VSIM_FUZZ_VU_PROFILES - 1);
    return NULL;
  }
  const profile *pr = &profiles[profile_no];
  size_t cap = size + 4096, n = size;
  uint8_t *buf = malloc(cap);
  vu_result *res = malloc(sizeof *res);
  vdec *d = malloc(sizeof *d);
  if (!buf || !res || !d) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  if (size) memcpy(buf, data, size);
  for (unsigned round = 0; round < 256; round++) {
    int v = run_one(buf, n, NULL, res, d);
    if (v == VSIM_FUZZ_ERROR) {
      snprintf(err, errlen, "out of memory");
      goto fail;
    }
    if (!res->loaded && probe_handshake(buf, n, res, d)) {
      snprintf(err, errlen, "cannot replay the handshake");
      goto fail;
    }
    if (!res->v.deviated) {
      /* settled: every request has its reply (or creation refused the
         back-end, as profile 3 makes it) */
      free(res);
      free(d);
      *outlen = n;
      return buf;
    }
    if (!res->v.missing) {
      snprintf(err, errlen, "the input already has a malformed reply: %s", res->v.why);
      goto fail;
    }
    /* written just in time: the first reply an op asks for waits for that
     * op (a reply written earlier would sit in the socket while the worker
     * looks for unsolicited messages), the others follow it */
    uint8_t rep[128 + 64 + 256];
    size_t k = 0;
    if (res->v.missing_first && res->missing.op_event < VUP_EV__COUNT)
      for (uint32_t w = 0; w < res->missing.since && w < 64; w++) {
        rep[k++] = 3; /* await */
        rep[k++] = res->missing.op_event;
      }
    k += encode_reply(pr, &res->missing, rep + k);
    uint32_t seg = res->missing.segment <= d->nseg ? res->missing.segment : d->nseg;
    size_t at = d->seg_end[seg];
    if (n + k > cap) {
      cap = 2 * (n + k);
      uint8_t *p = realloc(buf, cap);
      if (!p) {
        snprintf(err, errlen, "out of memory");
        goto fail;
      }
      buf = p;
    }
    memmove(buf + at + k, buf + at, n - at);
    memcpy(buf + at, rep, k);
    n += k;
  }
  snprintf(err, errlen, "the conversation does not settle after 256 replies");
fail:
  free(buf);
  free(res);
  free(d);
  return NULL;
}
