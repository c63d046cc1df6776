/* sim/fuzz_dev.c — the device request targets' input format: a hostile
 * driver's requests to the built-in net, gpu, console and input models, as
 * scenarios (the byte format is documented in fuzz/README.md; the target
 * table, the decoding loop and the oracles are sim/fuzz_decode.c's).
 *
 * Owns: the common header (ring, transport, queue size, scheduling, ring
 * features) and each device's own (its device_config and the features the
 * driver accepts), the selectors these formats share (queue, lengths with a
 * table per device, data spelled out or as a pattern, small numbers with an
 * escape), and each device's opcode table: a raw request (any bytes on any
 * queue) in every table, host input in those of the devices that have a
 * host side (not gpu), then requests built from the protocol's structures
 * (<linux/virtio_net.h>, <linux/virtio_gpu.h>, <linux/virtio_console.h>,
 * <linux/virtio_input.h>) with every field chosen by a selector, so that
 * the fuzzer reaches deep commands without spelling out their headers.
 * Must never: emit a step the loader refuses (lengths are cut to what the
 * loader takes, a request always has a readable or a writable byte, config
 * keys are in range), touch the rings (the driver model builds every chain:
 * only the request bytes are hostile, so that a device-judged violation is a
 * finding), or make the host side lie (net: an IPv4 header in a host frame
 * never claims more bytes than the frame has, see fix_host_frame).
 */
#include "fuzz_dec.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/input-event-codes.h>
#include <linux/virtio_console.h>
#include <linux/virtio_gpu.h>
#include <linux/virtio_input.h>
#include <linux/virtio_net.h>

/* The scenarios' default arena (1 MiB): its scratch area is 0xf0000, where
 * scenarios/gpu put backing memory, and it holds the largest layout these
 * headers ask for (16 console queues of 64 entries with indirect tables,
 * about 640 KiB) with room for the data pool. */
#define DEV_ARENA UINT64_C(0x100000)
/* Data spelled out byte by byte up to this length; longer data is a
 * pattern (or a fill) of the loader's data specs. */
#define HEX_MAX 16384u
/* A request's readable or writable length given as a u32 is cut to this. */
#define REQ_LEN_MAX 0x20000u

/* ---- the common header ---- */

static const uint16_t qsizes[4] = {8, 2, 4, 64};

static void feat(vsim_fuzz_setup *o, bool on, const char *name) {
  if (on && o->nfeatures < SETUP_MAX_FEATURES) o->features[o->nfeatures++] = name;
}

__attribute__((format(printf, 2, 3))) static void cfg(vsim_fuzz_setup *o, const char *fmt, ...) {
  size_t n = strlen(o->config);
  if (n && n + 2 < sizeof o->config) {
    o->config[n++] = ',';
    o->config[n++] = ' ';
    o->config[n] = 0;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(o->config + n, sizeof o->config - n, fmt, ap);
  va_end(ap);
}

static void common_header(const uint8_t *h, vsim_fuzz_setup *o) {
  o->queue_size = qsizes[h[0] & 3];
  o->ring = (h[0] & 4) ? "packed" : "split";
  o->transport = (h[0] & 8) ? "pci" : NULL;
  o->policy = vsim_fz_policy_names[(h[0] >> 4) & 3];
  o->poll = (h[0] & 0x40) != 0;
  o->batch = (h[0] & 0x80) ? 16 : 1;
  feat(o, h[1] & 1, "INDIRECT_DESC");
  feat(o, h[1] & 2, "EVENT_IDX");
  feat(o, h[1] & 4, "IN_ORDER");
  feat(o, h[1] & 8, "NOTIFICATION_DATA");
  feat(o, h[1] & 0x10, "RING_RESET");
  o->latency = vsim_fz_latency_table[h[1] >> 5];
  o->seed = h[2];
  o->arena_size = DEV_ARENA;
}

/* ---- selectors ---- */

static uint16_t sel_queue(dec *d) { return (uint16_t)(rd8(&d->r) % (d->nq ? d->nq : 1u)); }

/* LEN: low 2 bits the kind, high 6 bits a small value: a device's table of
 * 16 lengths, the value, 16 x (value + 1), or a u32 (cut to REQ_LEN_MAX
 * when `cap`). */
static uint32_t sel_len(dec *d, const uint32_t table[16], bool cap) {
  uint8_t l = rd8(&d->r);
  uint32_t v = l >> 2;
  switch (l & 3) {
    case 0: return table[v % 16];
    case 1: return v;
    case 2: return 16u * (v + 1);
    default: {
      uint32_t x = rd32(&d->r);
      return cap && x > REQ_LEN_MAX ? REQ_LEN_MAX : x;
    }
  }
}

/* S16, S32, S64: one byte, 0xff escapes to the whole value. */
static uint16_t sel_s16(dec *d) {
  uint8_t b = rd8(&d->r);
  return b == 0xff ? rd16(&d->r) : b;
}
static uint32_t sel_s32(dec *d) {
  uint8_t b = rd8(&d->r);
  return b == 0xff ? rd32(&d->r) : b;
}
static uint64_t sel_s64(dec *d) {
  uint8_t b = rd8(&d->r);
  return b == 0xff ? rd64(&d->r) : b;
}

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v) {
  put16(p, (uint16_t)v);
  put16(p + 2, (uint16_t)(v >> 16));
}
static void put64(uint8_t *p, uint64_t v) {
  put32(p, (uint32_t)v);
  put32(p + 4, (uint32_t)(v >> 32));
}

/* A request's or host input's bytes: spelled out (HEX), a loader pattern
 * (PATTERN: the engine's PRNG stream, seed `seed`) or a fill byte (FILL). */
enum { DATA_HEX, DATA_PATTERN, DATA_FILL };
typedef struct dspec {
  int kind;
  uint32_t len;
  uint8_t seed;
} dspec;

/* DATA: `n` bytes of which the first `at` are in buf already (a structure
 * the op built). A mode byte c: n above HEX_MAX, a pattern with seed c;
 * 0xff, the other n - at bytes follow; 0xfe, a seed byte follows and the
 * data is that pattern (what was built is dropped); else min(c, n - at)
 * bytes follow and zeros make up the rest. `fill`: a fill instead of a
 * pattern (net host frames: see fix_host_frame). */
static dspec sel_data(dec *d, uint8_t *buf, uint32_t at, uint32_t n, bool fill) {
  uint8_t c = rd8(&d->r);
  int rnd = fill ? DATA_FILL : DATA_PATTERN;
  if (n > HEX_MAX) return (dspec){rnd, n, c};
  if (c == 0xfe) return (dspec){rnd, n, rd8(&d->r)};
  if (at > n) at = n;
  uint32_t k = c == 0xff ? n - at : (c < n - at ? c : n - at);
  for (uint32_t i = 0; i < k; i++) buf[at + i] = rd8(&d->r);
  memset(buf + at + k, 0, n - at - k);
  return (dspec){DATA_HEX, n, 0};
}

static void emit_data(dec *d, const uint8_t *buf, dspec ds) {
  if (!ds.len) return;
  sb_printf(&d->steps, ", \"data\": ");
  if (ds.kind == DATA_HEX)
    sb_hex(&d->steps, buf, ds.len);
  else
    sb_printf(&d->steps, "{\"%s\": %u, \"len\": %u}", ds.kind == DATA_FILL ? "fill" : "pattern", ds.seed,
              ds.len);
}

/* One req.raw: `ds` readable bytes (from buf), `wlen` writable ones; the
 * loader wants at least one of them, so an empty request gets one writable
 * byte. */
static void emit_req(dec *d, uint16_t q, const uint8_t *buf, dspec ds, uint32_t wlen) {
  if (!ds.len && !wlen) wlen = 1;
  step_open(d, "req.raw");
  field_int(d, "queue", q);
  emit_data(d, buf, ds);
  if (wlen) field_int(d, "len", wlen);
  step_close(d);
}

/* SHAPE: a mode byte for a built structure of n bytes: < 0xc0 as built,
 * 0xc0..0xdf (b & 0x1f) + 1 bytes cut off its end, 0xe0..0xff that many
 * zero bytes added. Returns the new length (at most cap). */
static uint32_t sel_shape(dec *d, uint8_t *buf, uint32_t n, uint32_t cap) {
  uint8_t s = rd8(&d->r);
  uint32_t k = (s & 0x1fu) + 1u;
  if (s < 0xc0) return n;
  if (s < 0xe0) return k < n ? n - k : 0;
  if (n + k > cap) k = cap - n;
  memset(buf + n, 0, k);
  return n + k;
}

/* ---- the ops every device table has ---- */

/* req: QUEUE, LEN (readable), DATA, LEN (writable) */
static void req_op(dec *d, const uint32_t table[16]) {
  uint8_t buf[HEX_MAX];
  uint16_t q = sel_queue(d);
  uint32_t n = sel_len(d, table, true);
  dspec ds = sel_data(d, buf, 0, n, false);
  uint32_t w = sel_len(d, table, true);
  emit_req(d, q, buf, ds, w);
}

/* net: a host frame's IPv4 header never claims more than the frame holds.
 * The host side is the scenario's, not the attacker's: the net judge takes
 * an IPv4 total length longer than the frame in one receive buffer as the
 * device's cutting it short (frontend-model/net_drv.c, judge_rx). */
static void fix_host_frame(uint8_t *f, uint32_t n) {
  if (n < 14u + 20u || f[12] != 0x08 || f[13] != 0x00 || (f[14] >> 4) != 4) return;
  uint32_t total = (uint32_t)(f[16] << 8 | f[17]);
  if (total > n - 14u) {
    f[16] = (uint8_t)((n - 14u) >> 8);
    f[17] = (uint8_t)(n - 14u);
  }
}

#define DEVF_NET 1u /* host frames get fix_host_frame, and a fill for long data */

/* host.input: PORT (S32), LEN, DATA */
static void hostin_op(dec *d, const uint32_t table[16]) {
  uint8_t buf[HEX_MAX];
  const bool net = d->su->dev_flags & DEVF_NET;
  uint32_t port = sel_s32(d);
  uint32_t n = sel_len(d, table, true);
  dspec ds = sel_data(d, buf, 0, n, net);
  if (net && ds.kind == DATA_HEX) fix_host_frame(buf, ds.len);
  step_open(d, "host.input");
  field_int(d, "port", port);
  if (ds.len)
    emit_data(d, buf, ds);
  else
    sb_printf(&d->steps, ", \"data\": \"\"");
  step_close(d);
}

/* config write: OFF (a byte, modulo `span`), WIDTH (1, 2, 4), the value
 * (that many bytes): an mmio.write into the device configuration space. */
static void cfgw_op(dec *d, uint32_t span) {
  static const unsigned widths[3] = {1, 2, 4};
  uint32_t off = rd8(&d->r) % span;
  unsigned w = widths[rd8(&d->r) % 3];
  uint32_t v = 0;
  for (unsigned i = 0; i < w; i++) v |= (uint32_t)rd8(&d->r) << (8 * i);
  step_open(d, "mmio.write");
  field_u64(d, "offset", d->cfg_base + off);
  field_int(d, "len", w);
  field_int(d, "value", v);
  step_close(d);
}

/* queue: QUEUE, then the shared queue op's byte (reset + enable, reset, enable) */
static void queue_op(dec *d) {
  d->curq = sel_queue(d);
  vsim_fz_op_queue(d);
  d->curq = 0;
}

/* kick: QUEUE (the value the driver would write) */
static void kick_op(dec *d) {
  uint16_t q = sel_queue(d);
  step_open(d, "kick");
  field_int(d, "queue", q);
  step_close(d);
}

/* ---- virtio-net ---- */

static const char *const net_features[21] = {
    "CSUM",     "GUEST_CSUM", "MTU",       "MAC",       "GUEST_TSO4", "GUEST_TSO6",     "GUEST_ECN",
    "GUEST_UFO", "HOST_TSO4", "HOST_TSO6", "HOST_ECN",  "HOST_UFO",   "MRG_RXBUF",      "STATUS",
    "CTRL_VQ",  "CTRL_RX",    "CTRL_VLAN", "GUEST_ANNOUNCE", "MQ",     "CTRL_MAC_ADDR", "SPEED_DUPLEX"};
#define NET_F_MQ 18u

static const uint32_t net_lens[16] = {1,    0,    11,   12,   13,    25,    26, 27,
                                      64,   1526, 1527, 9026, 65601, 65602, 14, 60};

static const uint8_t net_macs[8][6] = {
    {0x52, 0x54, 0x00, 0x12, 0x34, 0x56}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01},
    {0x52, 0x54, 0x00, 0x00, 0x00, 0xaa}, {0, 0, 0, 0, 0, 0},                   {0x33, 0x33, 0x00, 0x00, 0x00, 0x01},
    {0, 0, 0, 0, 0, 0} /* 6: six bytes follow */, {0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
static const char *const net_mac_cfg[4] = {NULL, "02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01"};

/* Header bytes 3-7: 3 bits 0-1 pairs (1, 2, 3, 1), bit 2 no control queue
 * set up (num_queues 2 x pairs), bit 3 link down, bit 4 announce, bits 5-7
 * mtu (default, 68, 576, 1500, 9000, 65535, 1280, default); 4-6 bits 0-20
 * the net features accepted, bits 21-22 mac (default, 02:..:01, broadcast,
 * multicast), bit 23 speed and duplex unknown; 7 accept bit 0 NOTF_COAL,
 * bit 1 CTRL_GUEST_OFFLOADS (the features the 24-bit word had no room for). */
void vsim_fz_net_header(const uint8_t *h, vsim_fuzz_setup *o) {
  static const uint16_t pairs_of[4] = {1, 2, 3, 1};
  static const uint32_t mtus[8] = {0, 68, 576, 1500, 9000, 65535, 1280, 0};
  common_header(h, o);
  o->device = "net";
  o->dev_flags = DEVF_NET;
  const uint8_t *n = h + VSIM_FZ_DEV_HEADER;
  uint16_t pairs = pairs_of[n[0] & 3];
  o->num_queues = (uint16_t)(2u * pairs + ((n[0] & 4) ? 0u : 1u));
  if (n[0] & 8) cfg(o, "\"link_up\": false");
  if (n[0] & 0x10) cfg(o, "\"announce\": true");
  if (mtus[n[0] >> 5]) cfg(o, "\"mtu\": %u", mtus[n[0] >> 5]);
  uint32_t f = (uint32_t)n[1] | (uint32_t)n[2] << 8 | (uint32_t)n[3] << 16;
  for (unsigned i = 0; i < 21; i++) feat(o, (f >> i) & 1u, net_features[i]);
  if (net_mac_cfg[(f >> 21) & 3]) cfg(o, "\"mac\": \"%s\"", net_mac_cfg[(f >> 21) & 3]);
  if (f >> 23) cfg(o, "\"speed\": 4294967295, \"duplex\": 255");
  feat(o, n[4] & 1u, "NOTF_COAL");
  feat(o, n[4] & 2u, "CTRL_GUEST_OFFLOADS");
  /* the layout the device sees: max_virtqueue_pairs pairs with MQ, else
   * one, then the control queue (a queue past the layout is none) */
  o->pairs = ((f >> NET_F_MQ) & 1u) ? pairs : 1u;
  o->ctrlq = (uint16_t)(2u * o->pairs);
  if (o->ctrlq >= o->num_queues) o->ctrlq = (uint16_t)(o->num_queues - 1u);
}

static void net_req(dec *d) { req_op(d, net_lens); }
static void net_hostin(dec *d) { hostin_op(d, net_lens); }

/* MAC: a byte modulo 8: the default mac, broadcast, a multicast address,
 * another unicast one, zeros, an IPv6 multicast one, six bytes that
 * follow, a locally administered one. */
static void sel_mac(dec *d, uint8_t *out) {
  uint8_t k = rd8(&d->r) % 8u;
  if (k == 6)
    for (unsigned i = 0; i < 6; i++) out[i] = rd8(&d->r);
  else
    memcpy(out, net_macs[k], 6);
}

/* tx: PAIR (a byte modulo the pairs: transmitq), the header (flags byte,
 * gso_type byte: < 0x80 one of NONE, TCPV4, UDP, TCPV6, ECN|TCPV4,
 * ECN|TCPV6, ECN alone, UDP_L4, else the byte itself; hdr_len, gso_size,
 * csum_start, csum_offset, num_buffers as S16), LEN (the frame), DATA. */
static void net_tx(dec *d) {
  static const uint8_t gso[8] = {VIRTIO_NET_HDR_GSO_NONE, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_UDP,
                                 VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_ECN | VIRTIO_NET_HDR_GSO_TCPV4,
                                 VIRTIO_NET_HDR_GSO_ECN | VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_ECN,
                                 5 /* UDP_L4 */};
  _Static_assert(sizeof(struct virtio_net_hdr_v1) == 12, "the 12-byte header");
  uint8_t buf[HEX_MAX];
  uint16_t q = (uint16_t)(2u * (rd8(&d->r) % d->su->pairs) + 1u);
  if (q >= d->nq) q = (uint16_t)(d->nq - 1u);
  const uint32_t hl = (uint32_t)sizeof(struct virtio_net_hdr_v1);
  memset(buf, 0, hl);
  buf[offsetof(struct virtio_net_hdr_v1, flags)] = rd8(&d->r);
  uint8_t g = rd8(&d->r);
  buf[offsetof(struct virtio_net_hdr_v1, gso_type)] = g < 0x80 ? gso[g % 8] : g;
  put16(buf + offsetof(struct virtio_net_hdr_v1, hdr_len), sel_s16(d));
  put16(buf + offsetof(struct virtio_net_hdr_v1, gso_size), sel_s16(d));
  put16(buf + offsetof(struct virtio_net_hdr_v1, csum_start), sel_s16(d));
  put16(buf + offsetof(struct virtio_net_hdr_v1, csum_offset), sel_s16(d));
  put16(buf + offsetof(struct virtio_net_hdr_v1, num_buffers), sel_s16(d));
  uint32_t flen = sel_len(d, net_lens, true);
  dspec ds = sel_data(d, buf, hl, hl + flen, false);
  emit_req(d, q, buf, ds, 0);
}

/* ctrl: CMD (< 0xf0: one of 14 class / command pairs, else a class byte and
 * a command byte follow), the command's data (RX: a byte; MAC_TABLE_SET:
 * two counts, each < 0xf0 modulo 66 with that many MACs, else a u32 and no
 * MAC; MAC_ADDR_SET: a MAC; VLAN: S16; ANNOUNCE: none; VQ_PAIRS_SET:
 * S16; any other: a count byte modulo 17 and that many bytes), SHAPE, LEN
 * (writable: the ack). On the control queue. */
static void net_ctrl(dec *d) {
  static const uint8_t cmds[14][2] = {
      {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC},       {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI},
      {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLUNI},        {VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOBCAST},
      {VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET},   {VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET},
      {VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD},       {VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_DEL},
      {VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK}, {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET},
      {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG},    {VIRTIO_NET_CTRL_GUEST_OFFLOADS,
                                                               VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET},
      {VIRTIO_NET_CTRL_NOTF_COAL, VIRTIO_NET_CTRL_NOTF_COAL_TX_SET}, {9, 0}};
  uint8_t buf[2 + 8 + 2 * 66 * 6 + 64];
  uint8_t c = rd8(&d->r);
  if (c < 0xf0) {
    buf[0] = cmds[c % 14][0];
    buf[1] = cmds[c % 14][1];
  } else {
    buf[0] = rd8(&d->r);
    buf[1] = rd8(&d->r);
  }
  uint32_t n = 2;
  if (buf[0] == VIRTIO_NET_CTRL_RX) {
    buf[n++] = rd8(&d->r);
  } else if (buf[0] == VIRTIO_NET_CTRL_MAC && buf[1] == VIRTIO_NET_CTRL_MAC_TABLE_SET) {
    for (unsigned list = 0; list < 2; list++) {
      uint8_t b = rd8(&d->r);
      uint32_t cnt = b < 0xf0 ? b % 66u : rd32(&d->r);
      put32(buf + n, cnt);
      n += 4;
      /* a count given as a u32 is a lie: no address follows it */
      for (uint32_t i = 0; b < 0xf0 && i < cnt; i++, n += 6) sel_mac(d, buf + n);
    }
  } else if (buf[0] == VIRTIO_NET_CTRL_MAC && buf[1] == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
    sel_mac(d, buf + n);
    n += 6;
  } else if (buf[0] == VIRTIO_NET_CTRL_VLAN ||
             (buf[0] == VIRTIO_NET_CTRL_MQ && buf[1] == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET)) {
    put16(buf + n, sel_s16(d));
    n += 2;
  } else if (buf[0] != VIRTIO_NET_CTRL_ANNOUNCE) {
    uint32_t k = rd8(&d->r) % 17u;
    for (uint32_t i = 0; i < k; i++) buf[n++] = rd8(&d->r);
  }
  n = sel_shape(d, buf, n, sizeof buf);
  uint32_t w = sel_len(d, net_lens, true);
  emit_req(d, d->su->ctrlq, buf, (dspec){DATA_HEX, n, 0}, w);
}

/* rx: PAIR (a byte modulo the pairs: receiveq), a count byte (1 + b % 8
 * buffers), LEN (their writable bytes). */
static void net_rx(dec *d) {
  uint16_t q = (uint16_t)(2u * (rd8(&d->r) % d->su->pairs));
  unsigned k = 1u + rd8(&d->r) % 8u;
  uint32_t w = sel_len(d, net_lens, true);
  for (unsigned i = 0; i < k; i++) emit_req(d, q, NULL, (dspec){DATA_HEX, 0, 0}, w);
}

/* virtio_net_config: mac, status, max_virtqueue_pairs, mtu, speed, duplex, ... */
static void net_cfgw(dec *d) { cfgw_op(d, (uint32_t)sizeof(struct virtio_net_config) + 4u); }

const vsim_fuzz_op_def vsim_fz_net_ops[VSIM_FZ_NET_NOPS] = {
    {"req", net_req},         {"tx", net_tx},       {"ctrl", net_ctrl},          {"rx", net_rx},
    {"host.input", net_hostin}, {"config.write", net_cfgw}, {"queue", queue_op}, {"lifecycle", vsim_fz_op_lifecycle},
    {"wait", vsim_fz_op_wait},  {"kick", kick_op},
};

/* ---- virtio-gpu ---- */

static const uint32_t gpu_lens[16] = {24, 0, 23, 25, 408, 407, 1048, 1047, 48, 40, 56, 4096, 1, 64, 16, 8};
static const uint32_t gpu_entry_lens[16] = {0,     1,      4,      16,      64,      256,     4096,  4095,
                                            16384, 65536,  65537,  0x100000, 0x10000000, 0x7fffffff,
                                            0xffffffff, 0xfffffffc};

/* Header bytes 3-4: 3 bits 0-1 num_scanouts (1, 2, 16, 1), bit 2 edid
 * false, bit 3 resource_uuid, bit 4 display_event, bits 5-6
 * max_resource_bytes (default, 4096, 65536, 0), bit 7 max_resources 2;
 * 4 bits 0-1 max_backing_entries (default, 1, 4, 16), bits 2-3 the
 * displays' size (default, 64x64, 1x1, 4095x4095), bit 4 accept EDID, bit 5
 * accept RESOURCE_UUID. */
void vsim_fz_gpu_header(const uint8_t *h, vsim_fuzz_setup *o) {
  static const unsigned scanouts[4] = {1, 2, 16, 1};
  static const int32_t bytes[4] = {-1, 4096, 65536, 0};
  static const unsigned entries[4] = {0, 1, 4, 16};
  static const unsigned dims[4] = {0, 64, 1, 4095};
  common_header(h, o);
  o->device = "gpu";
  o->num_queues = 2;
  const uint8_t *g = h + VSIM_FZ_DEV_HEADER;
  if (scanouts[g[0] & 3] != 1) cfg(o, "\"num_scanouts\": %u", scanouts[g[0] & 3]);
  if (g[0] & 4) cfg(o, "\"edid\": false");
  if (g[0] & 8) cfg(o, "\"resource_uuid\": true");
  if (g[0] & 0x10) cfg(o, "\"display_event\": true");
  if (bytes[(g[0] >> 5) & 3] >= 0) cfg(o, "\"max_resource_bytes\": %d", bytes[(g[0] >> 5) & 3]);
  if (g[0] & 0x80) cfg(o, "\"max_resources\": 2");
  if (entries[g[1] & 3]) cfg(o, "\"max_backing_entries\": %u", entries[g[1] & 3]);
  if (dims[(g[1] >> 2) & 3]) cfg(o, "\"width\": %u, \"height\": %u", dims[(g[1] >> 2) & 3], dims[(g[1] >> 2) & 3]);
  feat(o, g[1] & 0x10, "EDID");
  feat(o, g[1] & 0x20, "RESOURCE_UUID");
}

static void gpu_req(dec *d) { req_op(d, gpu_lens); }

/* The body fields of a command (<linux/virtio_gpu.h>), each from a selector. */
enum gpu_field { GF_END, GF_RID, GF_FMT, GF_DIM, GF_SCANOUT, GF_OFF64, GF_PAD, GF_U32, GF_ENTRIES, GF_RAW };

typedef struct gpu_cmd {
  uint32_t type;
  uint8_t fields[8];
} gpu_cmd;

#define RECT GF_DIM, GF_DIM, GF_DIM, GF_DIM
static const gpu_cmd gpu_cmds[20] = {
    {VIRTIO_GPU_CMD_GET_DISPLAY_INFO, {GF_END}},
    {VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, {GF_RID, GF_FMT, GF_DIM, GF_DIM}},
    {VIRTIO_GPU_CMD_RESOURCE_UNREF, {GF_RID, GF_PAD}},
    {VIRTIO_GPU_CMD_SET_SCANOUT, {RECT, GF_SCANOUT, GF_RID}},
    {VIRTIO_GPU_CMD_RESOURCE_FLUSH, {RECT, GF_RID, GF_PAD}},
    {VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, {RECT, GF_OFF64, GF_RID, GF_PAD}},
    {VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, {GF_RID, GF_ENTRIES}},
    {VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, {GF_RID, GF_PAD}},
    {VIRTIO_GPU_CMD_GET_CAPSET_INFO, {GF_U32, GF_PAD}},
    {VIRTIO_GPU_CMD_GET_CAPSET, {GF_U32, GF_U32}},
    {VIRTIO_GPU_CMD_GET_EDID, {GF_SCANOUT, GF_PAD}},
    {VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID, {GF_RID, GF_PAD}},
    {VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, {GF_RAW}},
    {VIRTIO_GPU_CMD_SET_SCANOUT_BLOB, {GF_RAW}},
    {VIRTIO_GPU_CMD_CTX_CREATE, {GF_RAW}},
    {VIRTIO_GPU_CMD_SUBMIT_3D, {GF_RAW}},
    {VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, {GF_RAW}},
    {VIRTIO_GPU_CMD_UPDATE_CURSOR, {GF_RAW}},
    {VIRTIO_GPU_CMD_MOVE_CURSOR, {GF_RAW}},
    {0, {GF_RAW}},
};
#undef RECT
/* the layouts above are those of the UAPI structures */
_Static_assert(sizeof(struct virtio_gpu_ctrl_hdr) == 24, "ctrl_hdr");
_Static_assert(sizeof(struct virtio_gpu_resource_create_2d) == 24 + 16, "create_2d");
_Static_assert(sizeof(struct virtio_gpu_set_scanout) == 24 + 24, "set_scanout");
_Static_assert(sizeof(struct virtio_gpu_resource_flush) == 24 + 24, "flush");
_Static_assert(sizeof(struct virtio_gpu_transfer_to_host_2d) == 24 + 32, "transfer_to_host_2d");
_Static_assert(sizeof(struct virtio_gpu_resource_attach_backing) == 24 + 8, "attach_backing");
_Static_assert(sizeof(struct virtio_gpu_mem_entry) == 16, "mem_entry");
_Static_assert(sizeof(struct virtio_gpu_update_cursor) == 24 + 32, "update_cursor");
_Static_assert(offsetof(struct virtio_gpu_transfer_to_host_2d, offset) == 24 + 16, "transfer offset");
_Static_assert(offsetof(struct virtio_gpu_set_scanout, resource_id) == 24 + 20, "set_scanout resource_id");

/* RID: < 0xff a byte modulo 8 (ids 0..7: 0 is never valid), else a u32. */
static uint32_t sel_rid(dec *d) {
  uint8_t b = rd8(&d->r);
  return b == 0xff ? rd32(&d->r) : b % 8u;
}

/* DIM: bit 7 the low 7 bits, else one of 16 sizes (the last: a u32 follows). */
static uint32_t sel_dim(dec *d) {
  static const uint32_t dims[15] = {0,    1,    2,     4,     16,         64,        65,        256,
                                    1024, 4095, 4096,  16384, 16385, 0x7fffffff, 0xffffffff};
  uint8_t b = rd8(&d->r);
  if (b & 0x80) return b & 0x7fu;
  return b % 16u == 15 ? rd32(&d->r) : dims[b % 16u];
}

/* OFF64: bit 7 four times the low 7 bits (a pixel), else one of 16 offsets
 * (the last: a u64 follows). */
static uint64_t sel_off64(dec *d) {
  static const uint64_t offs[15] = {0,         4,           256,          1024,        4096,
                                    16384,     65536,       UINT64_C(1) << 32, UINT64_C(1) << 63,
                                    UINT64_MAX - 3, UINT64_MAX, 0x3fffc,   0x40000,     255,
                                    0xfffffffc};
  uint8_t b = rd8(&d->r);
  if (b & 0x80) return 4u * (b & 0x7fu);
  return b % 16u == 15 ? rd64(&d->r) : offs[b % 16u];
}

/* The header: a flags byte (bit 0 FENCE; bit 1 a u32 of flags follows and
 * replaces them), and with FENCE, fence_id (S64) and ctx_id (S32). */
static void gpu_hdr(dec *d, uint8_t *buf, uint32_t type) {
  memset(buf, 0, sizeof(struct virtio_gpu_ctrl_hdr));
  uint8_t fb = rd8(&d->r);
  uint32_t flags = (fb & 1) ? VIRTIO_GPU_FLAG_FENCE : 0;
  if (fb & 2) flags = rd32(&d->r);
  put32(buf + offsetof(struct virtio_gpu_ctrl_hdr, type), type);
  put32(buf + offsetof(struct virtio_gpu_ctrl_hdr, flags), flags);
  if (fb & 1) {
    put64(buf + offsetof(struct virtio_gpu_ctrl_hdr, fence_id), sel_s64(d));
    put32(buf + offsetof(struct virtio_gpu_ctrl_hdr, ctx_id), sel_s32(d));
  }
}

/* ctrl: TYPE (< 0xf0 one of the 20 commands above, else a u32 follows), the
 * header, the body field by field (RID, FMT: a byte modulo 10, one of the 8
 * formats, 0, or a u32 that follows; DIM; SCANOUT: < 0xff modulo 17, else a
 * u32; OFF64; ENTRIES: nr_entries (< 0xf0 modulo 70, else a u32), a count
 * byte (modulo 17: the entries written, whatever nr_entries says), each an
 * ADDR and a length (LEN of the entry table, u32 uncut); a command of no
 * known body: a count byte modulo 33 and that many bytes), SHAPE, LEN
 * (writable). On the controlq. */
static void gpu_ctrl(dec *d) {
  static const uint32_t fmts[8] = {
      VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM,
      VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM,
      VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM};
  uint8_t buf[24 + 8 + 16 * 16 + 64];
  uint8_t t = rd8(&d->r);
  const gpu_cmd *c = &gpu_cmds[t % 20];
  uint32_t type = t < 0xf0 ? c->type : rd32(&d->r);
  static const gpu_cmd raw = {0, {GF_RAW}};
  if (t >= 0xf0) c = &raw;
  gpu_hdr(d, buf, type);
  uint32_t n = sizeof(struct virtio_gpu_ctrl_hdr);
  for (unsigned i = 0; i < sizeof c->fields && c->fields[i] != GF_END; i++) {
    switch (c->fields[i]) {
      case GF_RID: put32(buf + n, sel_rid(d)); n += 4; break;
      case GF_FMT: {
        uint8_t f = rd8(&d->r) % 10u;
        put32(buf + n, f < 8 ? fmts[f] : f == 8 ? 0 : rd32(&d->r));
        n += 4;
        break;
      }
      case GF_DIM: put32(buf + n, sel_dim(d)); n += 4; break;
      case GF_SCANOUT: {
        uint8_t b = rd8(&d->r);
        put32(buf + n, b == 0xff ? rd32(&d->r) : b % 17u);
        n += 4;
        break;
      }
      case GF_OFF64: put64(buf + n, sel_off64(d)); n += 8; break;
      case GF_PAD: put32(buf + n, 0); n += 4; break;
      case GF_U32: put32(buf + n, sel_s32(d)); n += 4; break;
      case GF_ENTRIES: {
        uint8_t b = rd8(&d->r);
        put32(buf + n, b < 0xf0 ? b % 70u : rd32(&d->r));
        n += 4;
        unsigned k = rd8(&d->r) % 17u;
        for (unsigned e = 0; e < k; e++, n += 16) {
          put64(buf + n, vsim_fz_addr(d));
          put32(buf + n + 8, sel_len(d, gpu_entry_lens, false));
          put32(buf + n + 12, 0);
        }
        break;
      }
      default: { /* GF_RAW */
        uint32_t k = rd8(&d->r) % 33u;
        for (uint32_t j = 0; j < k; j++) buf[n++] = rd8(&d->r);
        break;
      }
    }
  }
  n = sel_shape(d, buf, n, sizeof buf);
  uint32_t w = sel_len(d, gpu_lens, true);
  emit_req(d, 0, buf, (dspec){DATA_HEX, n, 0}, w);
}

/* cursor: TYPE (a byte modulo 4: UPDATE_CURSOR, MOVE_CURSOR,
 * GET_DISPLAY_INFO, a u32 that follows), the header, pos (SCANOUT as for
 * ctrl, x and y S32), resource_id (RID), hot_x and hot_y (S32), SHAPE, LEN
 * (writable). On the cursorq. */
static void gpu_cursor(dec *d) {
  static const uint32_t types[3] = {VIRTIO_GPU_CMD_UPDATE_CURSOR, VIRTIO_GPU_CMD_MOVE_CURSOR,
                                    VIRTIO_GPU_CMD_GET_DISPLAY_INFO};
  typedef struct virtio_gpu_update_cursor T;
  uint8_t buf[sizeof(T) + 32];
  uint8_t t = rd8(&d->r) % 4u;
  gpu_hdr(d, buf, t < 3 ? types[t] : rd32(&d->r));
  memset(buf + sizeof(struct virtio_gpu_ctrl_hdr), 0, sizeof(T) - sizeof(struct virtio_gpu_ctrl_hdr));
  uint8_t b = rd8(&d->r);
  put32(buf + offsetof(T, pos.scanout_id), b == 0xff ? rd32(&d->r) : b % 17u);
  put32(buf + offsetof(T, pos.x), sel_s32(d));
  put32(buf + offsetof(T, pos.y), sel_s32(d));
  put32(buf + offsetof(T, resource_id), sel_rid(d));
  put32(buf + offsetof(T, hot_x), sel_s32(d));
  put32(buf + offsetof(T, hot_y), sel_s32(d));
  uint32_t n = sel_shape(d, buf, sizeof(T), sizeof buf);
  uint32_t w = sel_len(d, gpu_lens, true);
  emit_req(d, 1, buf, (dspec){DATA_HEX, n, 0}, w);
}

/* backing.write: an offset into the scratch area (u16), a count byte
 * (modulo 65) and that many bytes: raw.write of backing memory. */
static void gpu_backing(dec *d) {
  uint8_t buf[64];
  uint64_t addr = d->scratch + rd16(&d->r);
  uint8_t k = (uint8_t)(rd8(&d->r) % 65u);
  size_t got = 0;
  while (got < k && rd_more(&d->r)) buf[got++] = rd8(&d->r);
  if (addr > d->arena - got) addr = d->arena - got;
  step_open(d, "raw.write");
  field_u64(d, "addr", addr);
  sb_printf(&d->steps, ", \"data\": ");
  sb_hex(&d->steps, buf, got);
  step_close(d);
}

/* virtio_gpu_config: events_read, events_clear, num_scanouts, num_capsets */
static void gpu_cfgw(dec *d) { cfgw_op(d, (uint32_t)sizeof(struct virtio_gpu_config) + 8u); }

const vsim_fuzz_op_def vsim_fz_gpu_ops[VSIM_FZ_GPU_NOPS] = {
    {"req", gpu_req},         {"ctrl", gpu_ctrl},   {"cursor", gpu_cursor},
    {"backing.write", gpu_backing}, {"config.write", gpu_cfgw}, {"queue", queue_op},
    {"lifecycle", vsim_fz_op_lifecycle}, {"wait", vsim_fz_op_wait}, {"kick", kick_op},
};

/* ---- virtio-console ---- */

static const uint32_t con_lens[16] = {16, 0, 1, 2, 7, 8, 9, 12, 32, 128, 4095, 4096, 4097, 65536, 3, 64};

/* Header bytes 3-5: 3 bits 0-2 num_queues (2, 4, 6, 8, 3, 5, 16, 10), bit 3
 * multiport false, bit 4 size false, bit 5 emerg_write false, bits 6-7
 * console_port (default 0, -1, 1, 2); 4 bits 0-2 ports announced (default,
 * 0, 1, 2, 3, 7, 15, default; more than the queues and max_nr_ports allow:
 * the default), bits 3-4 max_nr_ports (default, 1, 2, 2^32 - 1), bits 5-7
 * host_closed (ports 0-2); 5 accept bit 0 SIZE, bit 1 MULTIPORT, bit 2
 * EMERG_WRITE, bits 3-4 cols x rows (default, 0 x 0, 65535 x 65535,
 * 132 x 43). */
void vsim_fz_console_header(const uint8_t *h, vsim_fuzz_setup *o) {
  static const uint16_t nqs[8] = {2, 4, 6, 8, 3, 5, 16, 10};
  static const int cports[4] = {0, -1, 1, 2};
  static const int announce[8] = {-1, 0, 1, 2, 3, 7, 15, -1};
  static const uint64_t maxnr[4] = {0, 1, 2, 4294967295u};
  static const unsigned sizes[4][2] = {{0, 0}, {0, 0}, {65535, 65535}, {132, 43}};
  common_header(h, o);
  o->device = "console";
  const uint8_t *c = h + VSIM_FZ_DEV_HEADER;
  o->num_queues = nqs[c[0] & 7];
  o->ports = o->num_queues < 4 ? 1 : (uint16_t)(1u + (o->num_queues - 4u) / 2u);
  if (c[0] & 8) cfg(o, "\"multiport\": false");
  if (c[0] & 0x10) cfg(o, "\"size\": false");
  if (c[0] & 0x20) cfg(o, "\"emerg_write\": false");
  if (cports[c[0] >> 6]) cfg(o, "\"console_port\": %d", cports[c[0] >> 6]);
  uint64_t max_nr = maxnr[(c[1] >> 3) & 3];
  if (max_nr) cfg(o, "\"max_nr_ports\": %" PRIu64, max_nr);
  uint64_t limit = max_nr && max_nr < o->ports ? max_nr : o->ports;
  int ann = announce[c[1] & 7];
  if (ann >= 0 && (uint64_t)ann <= limit) cfg(o, "\"ports\": %d", ann);
  if (c[1] >> 5) cfg(o, "\"host_closed\": %u", c[1] >> 5);
  unsigned sz = (c[2] >> 3) & 3;
  if (sz) cfg(o, "\"cols\": %u, \"rows\": %u", sizes[sz][0], sizes[sz][1]);
  feat(o, c[2] & 1, "SIZE");
  feat(o, c[2] & 2, "MULTIPORT");
  feat(o, c[2] & 4, "EMERG_WRITE");
}

static void con_req(dec *d) { req_op(d, con_lens); }
static void con_hostin(dec *d) { hostin_op(d, con_lens); }

/* Port p's receiveq (its transmitq is the next queue), within the queues. */
static uint16_t con_rxq(dec *d, uint8_t b) {
  uint32_t p = b % d->su->ports;
  uint32_t q = p == 0 ? 0u : 2u + 2u * p;
  return (uint16_t)(q + 1u < d->nq ? q : 0u);
}

/* port.tx: PORT (a byte modulo the ports), LEN, DATA: on its transmitq. */
static void con_tx(dec *d) {
  uint8_t buf[HEX_MAX];
  uint16_t q = (uint16_t)(con_rxq(d, rd8(&d->r)) + 1u);
  uint32_t n = sel_len(d, con_lens, true);
  dspec ds = sel_data(d, buf, 0, n, false);
  emit_req(d, q, buf, ds, 0);
}

/* port.rx: PORT, a count byte (1 + b % 4 buffers), LEN (writable). */
static void con_rx(dec *d) {
  uint16_t q = con_rxq(d, rd8(&d->r));
  unsigned k = 1u + rd8(&d->r) % 4u;
  uint32_t w = sel_len(d, con_lens, true);
  for (unsigned i = 0; i < k; i++) emit_req(d, q, NULL, (dspec){DATA_HEX, 0, 0}, w);
}

/* ctrl.tx: a control message on the control transmitq (queue 3; with fewer
 * than 4 queues, port 0's transmitq): id (< 0xff modulo 34, else a u32),
 * event (< 0xff modulo 9, else a u16), value (< 0xff modulo 3, else a u16),
 * a tail byte t (< 0xe0: t % 33 more bytes follow, a name or a size; else
 * the message is cut to (t & 7) bytes). */
static void con_ctrl_tx(dec *d) {
  typedef struct virtio_console_control T;
  uint8_t buf[sizeof(T) + 33];
  uint8_t b = rd8(&d->r);
  put32(buf + offsetof(T, id), b == 0xff ? rd32(&d->r) : b % 34u);
  b = rd8(&d->r);
  put16(buf + offsetof(T, event), b == 0xff ? rd16(&d->r) : b % 9u);
  b = rd8(&d->r);
  put16(buf + offsetof(T, value), b == 0xff ? rd16(&d->r) : b % 3u);
  uint32_t n = sizeof(T);
  uint8_t t = rd8(&d->r);
  if (t < 0xe0)
    for (uint32_t k = t % 33u; k > 0; k--) buf[n++] = rd8(&d->r);
  else
    n = t & 7u;
  emit_req(d, d->nq >= 4 ? 3 : 1, buf, (dspec){DATA_HEX, n, 0}, 0);
}

/* ctrl.rx: a count byte (1 + b % 4 buffers), LEN (writable): on the
 * control receiveq (queue 2; with fewer than 4 queues, port 0's). */
static void con_ctrl_rx(dec *d) {
  unsigned k = 1u + rd8(&d->r) % 4u;
  uint32_t w = sel_len(d, con_lens, true);
  for (unsigned i = 0; i < k; i++) emit_req(d, d->nq >= 4 ? 2 : 0, NULL, (dspec){DATA_HEX, 0, 0}, w);
}

/* host.event: PORT (< 0xff modulo 32, else a u32), type (< 0xff modulo 6:
 * close, open, unplug, plug, resize, an unknown one; else a u32), value (S32). */
static void con_event(dec *d) {
  uint8_t b = rd8(&d->r);
  uint32_t port = b == 0xff ? rd32(&d->r) : b % 32u;
  b = rd8(&d->r);
  uint32_t type = b == 0xff ? rd32(&d->r) : b % 6u;
  uint32_t value = sel_s32(d);
  step_open(d, "host.event");
  field_int(d, "port", port);
  field_int(d, "type", type);
  field_int(d, "value", value);
  step_close(d);
}

/* virtio_console_config: cols, rows, max_nr_ports, emerg_wr */
static void con_cfgw(dec *d) { cfgw_op(d, (uint32_t)sizeof(struct virtio_console_config) + 4u); }

const vsim_fuzz_op_def vsim_fz_console_ops[VSIM_FZ_CONSOLE_NOPS] = {
    {"req", con_req},           {"port.tx", con_tx},         {"port.rx", con_rx},
    {"ctrl.tx", con_ctrl_tx},   {"ctrl.rx", con_ctrl_rx},    {"host.input", con_hostin},
    {"host.event", con_event},  {"config.write", con_cfgw},  {"queue", queue_op},
    {"lifecycle", vsim_fz_op_lifecycle}, {"wait", vsim_fz_op_wait},
};

/* ---- virtio-input ---- */

static const uint32_t in_lens[16] = {8, 0, 1, 4, 7, 9, 16, 24, 64, 4096, 2, 3, 5, 6, 12, 32};

/* Header byte 3: bits 0-1 kind (keyboard, mouse, tablet, keyboard), bits
 * 2-3 event_fifo (default, 1, 4, 4096), bits 4-5 name (default, "", 128
 * bytes, "m"). */
void vsim_fz_input_header(const uint8_t *h, vsim_fuzz_setup *o) {
  static const char *const kinds[4] = {NULL, "mouse", "tablet", NULL};
  static const unsigned fifos[4] = {0, 1, 4, 4096};
  common_header(h, o);
  o->device = "input";
  o->num_queues = 2;
  const uint8_t i = h[VSIM_FZ_DEV_HEADER];
  if (kinds[i & 3]) cfg(o, "\"kind\": \"%s\"", kinds[i & 3]);
  if (fifos[(i >> 2) & 3]) cfg(o, "\"event_fifo\": %u", fifos[(i >> 2) & 3]);
  switch ((i >> 4) & 3) {
    case 1: cfg(o, "\"name\": \"\""); break;
    case 2: cfg(o, "\"name\": \"%0128d\"", 0); break;
    case 3: cfg(o, "\"name\": \"m\""); break;
    default: break;
  }
}

static void in_req(dec *d) { req_op(d, in_lens); }
static void in_hostin(dec *d) { hostin_op(d, in_lens); }

/* An event type: a byte modulo 8: EV_KEY, EV_SYN, EV_REL, EV_ABS, EV_LED,
 * EV_MSC, EV_SW, or a u16 that follows. */
static uint16_t sel_evtype(dec *d, const uint16_t types[7]) {
  uint8_t b = rd8(&d->r) % 8u;
  return b < 7 ? types[b] : rd16(&d->r);
}

/* status: type (a byte modulo 8: EV_LED, EV_SND, EV_REP, EV_KEY, EV_SYN,
 * EV_FF, EV_MSC, a u16 that follows), code (S16), value (S32), SHAPE: one
 * virtio_input_event on the statusq. */
static void in_status(dec *d) {
  static const uint16_t types[7] = {EV_LED, EV_SND, EV_REP, EV_KEY, EV_SYN, EV_FF, EV_MSC};
  typedef struct virtio_input_event T;
  uint8_t buf[sizeof(T) + 32];
  put16(buf + offsetof(T, type), sel_evtype(d, types));
  put16(buf + offsetof(T, code), sel_s16(d));
  put32(buf + offsetof(T, value), sel_s32(d));
  uint32_t n = sel_shape(d, buf, sizeof(T), sizeof buf);
  emit_req(d, 1, buf, (dspec){DATA_HEX, n, 0}, 0);
}

/* eventbuf: a count byte (1 + b % 4 buffers), LEN (writable): on the eventq. */
static void in_eventbuf(dec *d) {
  unsigned k = 1u + rd8(&d->r) % 4u;
  uint32_t w = sel_len(d, in_lens, true);
  for (unsigned i = 0; i < k; i++) emit_req(d, 0, NULL, (dspec){DATA_HEX, 0, 0}, w);
}

/* events: a byte e: 1 + (e & 15) events follow, each a type (as for status,
 * with EV_KEY, EV_SYN, EV_REL, EV_ABS, EV_LED, EV_MSC, EV_SW), a code (S16)
 * and a value byte (0x80: a u32 follows, else the byte sign-extended); bit
 * 4 adds SYN_REPORT; the update is those events repeated 1 << (e >> 5)
 * times. One host.input. */
static void in_events(dec *d) {
  static const uint16_t types[7] = {EV_KEY, EV_SYN, EV_REL, EV_ABS, EV_LED, EV_MSC, EV_SW};
  typedef struct virtio_input_event T;
  uint8_t one[17 * sizeof(T)];
  uint8_t e = rd8(&d->r);
  unsigned n = 1u + (e & 15u);
  for (unsigned i = 0; i < n; i++) {
    uint8_t *p = one + i * sizeof(T);
    put16(p + offsetof(T, type), sel_evtype(d, types));
    put16(p + offsetof(T, code), sel_s16(d));
    uint8_t v = rd8(&d->r);
    put32(p + offsetof(T, value), v == 0x80 ? rd32(&d->r) : (uint32_t)(int32_t)(int8_t)v);
  }
  if (e & 0x10) {
    memset(one + n * sizeof(T), 0, sizeof(T)); /* EV_SYN, SYN_REPORT, 0 */
    n++;
  }
  unsigned rep = 1u << (e >> 5);
  uint32_t len = (uint32_t)(n * sizeof(T));
  d->work += (uint64_t)n * rep;
  step_open(d, "host.input");
  sb_printf(&d->steps, ", \"data\": \"");
  for (unsigned r = 0; r < rep; r++)
    for (uint32_t k = 0; k < len; k++) sb_printf(&d->steps, "%02x", one[k]);
  sb_printf(&d->steps, "\"");
  step_close(d);
}

/* virtio_input_config: select, subsel, size, reserved[5], u (128) */
static void in_cfgw(dec *d) { cfgw_op(d, (uint32_t)sizeof(struct virtio_input_config)); }

/* config.read: OFF (0xff: the ConfigGeneration register, as a driver
 * brackets its reads; else modulo the config), WIDTH: an mmio.read there. */
static void in_cfgr(dec *d) {
  static const unsigned widths[3] = {1, 2, 4};
  uint8_t b = rd8(&d->r);
  unsigned w = widths[rd8(&d->r) % 3];
  uint64_t at = d->cfg_base + b % (uint32_t)sizeof(struct virtio_input_config);
  if (b == 0xff) {
    /* virtio-mmio ConfigGeneration (4 bytes) or virtio-pci config_generation (1 byte) */
    const bool pci = d->cfg_base == 0x200u;
    at = pci ? 0x15u : 0xfcu;
    w = pci ? 1u : 4u;
  }
  step_open(d, "mmio.read");
  field_u64(d, "offset", at);
  field_int(d, "len", w);
  step_close(d);
}

const vsim_fuzz_op_def vsim_fz_input_ops[VSIM_FZ_INPUT_NOPS] = {
    {"req", in_req},          {"status", in_status},        {"eventbuf", in_eventbuf},
    {"events", in_events},    {"host.input", in_hostin},    {"config.write", in_cfgw},
    {"config.read", in_cfgr}, {"queue", queue_op},          {"lifecycle", vsim_fz_op_lifecycle},
    {"wait", vsim_fz_op_wait},
};
