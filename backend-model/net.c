/* backend-model/net.c — the built-in virtio-net device model (see net.h).
 *
 * Owns: the device_config parsing, the virtio_net_config bytes, the transmit
 * path and its capture, the receive path (pending frames, filters, steering,
 * filling the buffers the core parks for it) and the control queue. The
 * device core (devcore.c) does features, status, queues and the worker loop.
 * Must never: read past a chain's bytes, trust a guest length or offset
 * without an overflow-safe check, do more than O(frame bytes + segments) per
 * request, or report a violation about itself.
 *
 * Decisions (where the spec leaves the device a choice):
 *  - FEATURES_OK is refused for a set that breaks the spec's "Feature bit
 *    requirements" (net_deps.h); any other subset of the offer is accepted.
 *  - Transmit: a chain shorter than the header, an empty frame or one above
 *    VSIM_NET_MAX_FRAME, a frame above mtu + 14 with gso_type NONE when MTU
 *    is negotiated, a gso_type whose HOST_* feature is not negotiated (ECN
 *    without HOST_ECN, GSO without NEEDS_CSUM or with gso_size 0),
 *    NEEDS_CSUM without CSUM negotiated or with csum_start + csum_offset + 2
 *    beyond the frame, and a frame on a transmit queue of a pair the driver
 *    has not enabled are dropped and counted (used length 0, never a
 *    DEVICE_NEEDS_RESET: one bad packet is not a broken device). hdr_len is
 *    never used (GUEST_HDRLEN is not offered: "the device MUST NOT rely on
 *    hdr_len to be correct"). DATA_VALID / RSC_INFO on transmit are ignored
 *    ("MUST ignore flag bits that it does not recognize" covers them in
 *    spirit: they mean nothing on transmit). NEEDS_CSUM: the device
 *    completes the checksum (ones' complement from csum_start to the end,
 *    stored at csum_start + csum_offset) before the frame goes on the wire.
 *    GSO frames go on the wire whole with their gso_type / gso_size, as a
 *    tap device with vnet headers passes them: no segmentation here.
 *  - Control queue: every command is checked for its feature, its exact
 *    data length and its values; anything else (an unknown class or
 *    command, a short or long payload, VQ_PAIRS_SET 0 or above
 *    max_virtqueue_pairs, a VLAN id above 4095, more than
 *    VSIM_NET_MAC_TABLE addresses) gets VIRTIO_NET_ERR and changes nothing.
 *    A chain without a writable byte has nowhere to put the ack: it is used
 *    with length 0. MAC_ADDR_SET updates `mac` in config space (generation
 *    bumped, no notification: the driver asked for it) before the buffer is
 *    used; ANNOUNCE_ACK clears VIRTIO_NET_S_ANNOUNCE likewise.
 *  - VQ_PAIRS_SET: acknowledged OK for 1..max_virtqueue_pairs; frames still
 *    waiting for a pair it disables are dropped before the command is used
 *    (the spec: nothing goes there once it is).
 *  - Reset: promiscuous mode on (a fresh device receives everything, as
 *    QEMU's does), all-multicast off, MAC and VLAN tables empty, the mac
 *    back to its configured value, one queue pair, pending frames dropped.
 *  - Receive: a frame from the host is filtered (link down; promiscuous off:
 *    destination neither the mac, broadcast, an all-multicast multicast nor
 *    in the MAC table; CTRL_VLAN: a tagged frame whose id is not in the
 *    table), sized (at least 14 bytes; at most 1514, or mtu + 14 with MTU,
 *    or VSIM_NET_MAX_FRAME with a GUEST_TSO/UFO feature) and steered:
 *    input target t goes to receiveq (t mod enabled pairs) + 1. It is given
 *    its buffers among those the device holds (the core's parked list,
 *    oldest first, after those promised to earlier frames), as a NIC looks
 *    at its ring when a packet comes in: without MRG_RXBUF one buffer for
 *    header and frame, with it as many as the frame fills (each but the
 *    last completely; num_buffers in the first header says how many). When
 *    they cannot take it (too small; with MRG_RXBUF a whole queue of
 *    buffers too small) the frame is dropped and counted (rx_too_big),
 *    never truncated. Given its buffers when it arrives, a frame counts as
 *    accepted (the host is told so, and the engine holds the device to
 *    delivering it); arriving before they are held it waits, uncounted,
 *    and is given them (or dropped) once they are. A held buffer too small
 *    to start a frame in (less than the header with MRG_RXBUF, than header
 *    and 14 bytes without) is given back unused (used length 0) instead of
 *    blocking the queue. The header says: no flags, gso_type NONE,
 *    hdr_len/gso_size/csum 0 (frames come fully checksummed).
 *    Publication: the buffers of a frame spread over several are one unit
 *    for the core (vsim_devcore_use_together): all used before the used
 *    index is published, whatever device_batch says.
 *  - NOTF_COAL: TX_SET / RX_SET (struct virtio_net_ctrl_coal_tx / _rx, 8
 *    bytes exactly) set the core's coalescing of every transmit / receive
 *    queue of the layout: max_packets completions, max_usecs units of
 *    virtual time (one unit stands for a microsecond); either 0 means every
 *    packet notifies. Kept across a queue reset (a re-enabled queue has the
 *    last TX_SET / RX_SET values), zeroed by a device reset; applied at
 *    DRIVER_OK, overriding the scenario's device_irq_coalesce, when
 *    NOTF_COAL is negotiated. VQ_NOTF_COAL (VQ_SET / VQ_GET) is not
 *    offered: the UAPI header here defines neither its feature bit nor its
 *    structure.
 *  - GUEST_OFFLOADS_SET (le64, exactly 8 bytes): accepted when every bit it
 *    sets is a receive offload (GUEST_CSUM, GUEST_TSO4/6, GUEST_ECN,
 *    GUEST_UFO) that was negotiated, else VIRTIO_NET_ERR. The enabled set
 *    starts as the negotiated offloads. With device_config rx_data_valid the
 *    device marks received frames DATA_VALID (it checked their checksum)
 *    while GUEST_CSUM is enabled, and never once it is switched off.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include "devcore.h"
#include "le.h"
#include "net.h"
#include "net_deps.h"
#include "virtio_compat.h"
#include "virtiosim/mutants.h"
#include "devconfig.h"

#define BIT(b) (UINT64_C(1) << (b))
#define ETH_HLEN_ 14u
#define MAX_PAIRS 64u
#define RX_QUEUES (2u * MAX_PAIRS)
#define CTRL_MAX_DATA (8u + 2u * VSIM_NET_MAC_TABLE * 6u) /* the largest valid command: a full MAC table */

/* One frame from the host waiting for a receive buffer. */
typedef struct rx_pending {
  uint32_t off, len; /* in rx_pool */
  uint16_t q;        /* the receive queue it was steered to */
  uint16_t k;        /* held buffers it takes (num_buffers) */
  uint16_t skip;     /* held buffers before them too small to start a frame in, given back unused */
  bool assigned;     /* k and skip are set: its buffers are promised (reserved) */
  uint32_t seq;      /* arrival number, to find it again */
} rx_pending;

typedef struct vsim_net {
  vsim_devcore core; /* first: out->be points here and equals the model */
  uint8_t mac_cfg[6];  /* as configured: what a reset restores */
  uint8_t mac[6];      /* current (MAC_ADDR_SET) */
  uint16_t max_pairs, cur_pairs, mtu;
  uint32_t speed;
  uint8_t duplex;
  bool link_up, announce;
  bool promisc, allmulti;
  uint32_t n_uc, n_mc;
  uint8_t uc[VSIM_NET_MAC_TABLE][6], mc[VSIM_NET_MAC_TABLE][6];
  uint64_t vlans[4096 / 64];
  vsim_net_stats st;
  /* the wire: transmitted frames */
  vsim_net_frame frames[VSIM_NET_CAPTURE_FRAMES];
  uint32_t nframes, cap_used;
  uint32_t out_next[MAX_PAIRS]; /* host_output: per port (transmitq), the next frame to look at */
  uint8_t *cap;       /* VSIM_NET_CAPTURE_BYTES */
  uint8_t *pkt;       /* VSIM_NET_MAX_FRAME: the frame being transmitted */
  /* receive */
  rx_pending pend[VSIM_NET_RX_PENDING];
  uint32_t npend, pool_used;
  uint8_t *rx_pool;   /* VSIM_NET_RX_POOL */
  uint32_t reserved[RX_QUEUES]; /* held buffers promised to pending frames, per queue */
  uint32_t rx_seq;              /* frames from the host so far (rx_pending.seq) */
  /* a frame spread over several buffers (MRG_RXBUF): how far it got */
  bool mrg_active;
  uint16_t mrg_q;
  uint32_t mrg_done, mrg_left; /* frame bytes written / to write */
  bool rx_data_valid;          /* device_config: mark received frames DATA_VALID while GUEST_CSUM is on */
  uint64_t offloads;           /* receive offloads enabled (GUEST_OFFLOADS_SET), feature bit numbering */
  /* NOTF_COAL parameters as the driver set them (0: every packet notifies) */
  uint32_t coal_tx_packets, coal_tx_usecs, coal_rx_packets, coal_rx_usecs;
} vsim_net;

/* The model's mutants (include/virtiosim/mutants.h). */
#define NMUT(name) vsim_mut_has(&m->core.mutants, VSIM_MUT_##name)
static inline bool has(const vsim_net *m, unsigned bit) { return vsim_devcore_has(&m->core, bit); }

/* ---- queue layout ---- */

/* N: max_virtqueue_pairs with MQ negotiated, else 1 (Network Device / Virtqueues). */
static uint16_t pairs_in_layout(const vsim_net *m) { return has(m, VIRTIO_NET_F_MQ) ? m->max_pairs : 1; }

enum qkind { Q_RX, Q_TX, Q_CTRL, Q_NONE };

static enum qkind queue_kind(const vsim_net *m, uint16_t q) {
  uint16_t n = pairs_in_layout(m);
  if (q < 2u * n) return (q & 1u) ? Q_TX : Q_RX;
  if (q == 2u * n && has(m, VIRTIO_NET_F_CTRL_VQ)) return Q_CTRL;
  return Q_NONE;
}

/* ---- config space ---- */

#define CFG(field) (m->core.config + offsetof(struct virtio_net_config, field))

static uint16_t cfg_status(const vsim_net *m) { return vsim_le_ld16(CFG(status)); }

static void write_status(vsim_net *m, uint16_t status) { vsim_le_st16(CFG(status), status); }

static void fill_config(vsim_net *m) {
  memcpy(CFG(mac), m->mac, 6);
  write_status(m, m->link_up ? VIRTIO_NET_S_LINK_UP : 0);
  uint16_t pairs = m->max_pairs;
  if (NMUT(DEV_NET_PAIRS_ZERO)) pairs = 0;
  vsim_le_st16(CFG(max_virtqueue_pairs), pairs);
  vsim_le_st16(CFG(mtu), NMUT(DEV_NET_MTU_RANGE) ? 64 : m->mtu);
  vsim_le_st32(CFG(speed), m->speed);
  *CFG(duplex) = NMUT(DEV_NET_DUPLEX) ? 2 : m->duplex;
}

/* ---- device_config ---- */

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* "52:54:00:12:34:56": exactly six two-digit hex groups. */
static bool parse_mac(const char *s, uint8_t mac[6]) {
  if (!s || strlen(s) != 17) return false;
  for (unsigned i = 0; i < 6; i++) {
    int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':')) return false;
    mac[i] = (uint8_t)(hi << 4 | lo);
  }
  return true;
}

static int parse_opts(vsim_net *m, const vsim_backend_params *p, char *err, unsigned errlen) {
  static const uint8_t default_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  memcpy(m->mac_cfg, default_mac, 6);
  uint16_t nq = p->num_queues ? p->num_queues : 1;
  m->max_pairs = nq / 2 ? nq / 2 : 1;
  m->mtu = 1500;
  m->speed = 1000;
  m->duplex = 1;
  m->link_up = true;
  static const char *const known = "mac, max_virtqueue_pairs, mtu, speed, duplex, link_up, announce, rx_data_valid";
  for (unsigned i = 0; i < p->config_count; i++) {
    const char *key = p->config_keys ? p->config_keys[i] : NULL;
    const char *val = p->config_values ? p->config_values[i] : NULL;
    uint64_t v = 0;
    if (!key) return vsim_devcfg_fail(err, errlen, "net: device_config entry %u has no key", i);
    if (strcmp(key, "mac") == 0) {
      if (!parse_mac(val, m->mac_cfg))
        return vsim_devcfg_fail(err, errlen, "net: device_config \"mac\" = \"%s\": expected six hex bytes like 52:54:00:12:34:56",
                    val ? val : "(null)");
    } else if (strcmp(key, "max_virtqueue_pairs") == 0) {
      if (!vsim_devcfg_parse_u64(val, 1, MAX_PAIRS, &v))
        return vsim_devcfg_fail(err, errlen, "net: device_config \"max_virtqueue_pairs\" = \"%s\": expected 1..%u",
                    val ? val : "(null)", MAX_PAIRS);
      m->max_pairs = (uint16_t)v;
    } else if (strcmp(key, "mtu") == 0) {
      if (!vsim_devcfg_parse_u64(val, 68, 65535, &v))
        return vsim_devcfg_fail(err, errlen, "net: device_config \"mtu\" = \"%s\": expected 68..65535", val ? val : "(null)");
      m->mtu = (uint16_t)v;
    } else if (strcmp(key, "speed") == 0) {
      /* the spec's range: 0..0x7fffffff Mbit/s, or 0xffffffff for unknown */
      if (!vsim_devcfg_parse_u64(val, 0, UINT32_MAX, &v) || (v > 0x7fffffffu && v != UINT32_MAX))
        return vsim_devcfg_fail(err, errlen, "net: device_config \"speed\" = \"%s\": expected 0..2147483647 or 4294967295 "
                    "(unknown)", val ? val : "(null)");
      m->speed = (uint32_t)v;
    } else if (strcmp(key, "duplex") == 0) {
      if (!vsim_devcfg_parse_u64(val, 0, 255, &v) || (v > 1 && v != 255))
        return vsim_devcfg_fail(err, errlen, "net: device_config \"duplex\" = \"%s\": expected 0, 1 or 255", val ? val : "(null)");
      m->duplex = (uint8_t)v;
    } else if (strcmp(key, "link_up") == 0) {
      if (vsim_devcfg_bool("net", key, val, &m->link_up, err, errlen)) return -1;
    } else if (strcmp(key, "announce") == 0) {
      if (vsim_devcfg_bool("net", key, val, &m->announce, err, errlen)) return -1;
    } else if (strcmp(key, "rx_data_valid") == 0) {
      if (vsim_devcfg_bool("net", key, val, &m->rx_data_valid, err, errlen)) return -1;
    } else {
      return vsim_devcfg_fail(err, errlen, "net: unknown device_config key \"%s\" (known: %s)", key, known);
    }
  }
  return 0;
}

/* ---- transmit ---- */

/* The ones' complement sum of [p, p+len), folded and inverted: what goes in
 * the checksum field (RFC 1071). */
static uint16_t inet_csum(const uint8_t *p, uint32_t len) {
  uint64_t sum = 0;
  for (uint32_t i = 0; i + 1 < len; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
  if (len & 1u) sum += (uint32_t)p[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffffu) + (sum >> 16);
  return (uint16_t)~sum;
}

/* Keep a frame that crossed the wire (q odd: transmitted, even: received);
 * false when the capture is full. */
static bool capture(vsim_net *m, uint16_t q, const uint8_t *frame, uint32_t len, uint8_t gso_type, uint16_t gso_size) {
  if (m->nframes >= VSIM_NET_CAPTURE_FRAMES || len > VSIM_NET_CAPTURE_BYTES - m->cap_used) return false;
  memcpy(m->cap + m->cap_used, frame, len);
  uint64_t now = m->core.host && m->core.host->now ? m->core.host->now(m->core.host->ctx) : 0;
  m->frames[m->nframes++] = (vsim_net_frame){m->cap_used, len, q, now, gso_type, gso_size};
  m->cap_used += len;
  return true;
}

/* Is this gso_type one the driver may send with the features negotiated? */
static bool tx_gso_ok(const vsim_net *m, uint8_t gso_type, uint8_t flags, uint16_t gso_size) {
  uint8_t kind = gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
  bool ecn = gso_type & VIRTIO_NET_HDR_GSO_ECN;
  if (kind == VIRTIO_NET_HDR_GSO_NONE) return !ecn;
  unsigned need = kind == VIRTIO_NET_HDR_GSO_TCPV4   ? VIRTIO_NET_F_HOST_TSO4
                  : kind == VIRTIO_NET_HDR_GSO_TCPV6 ? VIRTIO_NET_F_HOST_TSO6
                  : kind == VIRTIO_NET_HDR_GSO_UDP   ? VIRTIO_NET_F_HOST_UFO
                                                     : 64;
  if (need == 64 || !has(m, need)) return false;
  if (ecn && !has(m, VIRTIO_NET_F_HOST_ECN)) return false;
  return (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && gso_size != 0;
}

static int do_tx(vsim_net *m, vsim_arena *a, uint16_t q, const vsim_chain *c) {
  uint8_t hdr[VSIM_NET_HDR_LEN];
  if (c->rd_bytes < VSIM_NET_HDR_LEN || c->rd_bytes - VSIM_NET_HDR_LEN > VSIM_NET_MAX_FRAME) goto drop;
  uint32_t len = (uint32_t)(c->rd_bytes - VSIM_NET_HDR_LEN);
  if (len == 0 || vsim_chain_read(c, a, 0, hdr, sizeof hdr) || vsim_chain_read(c, a, VSIM_NET_HDR_LEN, m->pkt, len))
    goto drop;
  m->core.bytes_moved += VSIM_NET_HDR_LEN + (uint64_t)len;
  m->core.bytes_copied += VSIM_NET_HDR_LEN + (uint64_t)len;
  /* a transmit queue of a pair the driver has not enabled: not for traffic */
  if (q / 2u >= m->cur_pairs) goto drop;
  uint8_t flags = hdr[offsetof(struct virtio_net_hdr_v1, flags)];
  uint8_t gso_type = hdr[offsetof(struct virtio_net_hdr_v1, gso_type)];
  uint16_t gso_size = vsim_le_ld16(hdr + offsetof(struct virtio_net_hdr_v1, gso_size));
  uint16_t csum_start = vsim_le_ld16(hdr + offsetof(struct virtio_net_hdr_v1, csum_start));
  uint16_t csum_offset = vsim_le_ld16(hdr + offsetof(struct virtio_net_hdr_v1, csum_offset));
  if (!tx_gso_ok(m, gso_type, flags, gso_size)) goto drop;
  if (gso_type == VIRTIO_NET_HDR_GSO_NONE && has(m, VIRTIO_NET_F_MTU) && len > (uint32_t)m->mtu + ETH_HLEN_) goto drop;
  if (NMUT(DEV_NET_TX_DROP_BIG) && gso_type == VIRTIO_NET_HDR_GSO_NONE && len > 1000) goto drop;
  /* the mutant uses csum_start / csum_offset whatever the flags say */
  bool use_csum = (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) ||
                  (NMUT(DEV_NET_TX_CSUM_ALWAYS) && csum_offset && (uint32_t)csum_start + csum_offset + 2u <= len);
  if (use_csum) {
    if (!has(m, VIRTIO_NET_F_CSUM)) goto drop;
    /* 32-bit sums of 16-bit fields cannot wrap */
    if ((uint32_t)csum_start + csum_offset + 2u > len) goto drop;
    uint8_t *field = m->pkt + csum_start + csum_offset;
    uint16_t sum = inet_csum(m->pkt + csum_start, len - csum_start);
    field[0] = (uint8_t)(sum >> 8);
    field[1] = (uint8_t)sum;
  }
  m->st.tx_frames++;
  if (!capture(m, q, m->pkt, len, gso_type, gso_size)) m->st.tx_not_captured++;
  return 0;
drop:
  m->st.tx_dropped++;
  return 0;
}

/* ---- control queue ---- */

static void rx_remove(vsim_net *m, uint32_t i); /* receive, below */

static void config_touched(vsim_net *m) { m->core.generation++; }

static uint8_t ctrl_rx(vsim_net *m, uint8_t cmd, const uint8_t *d, uint32_t n) {
  if (!has(m, VIRTIO_NET_F_CTRL_RX) || n != 1 || d[0] > 1) return VIRTIO_NET_ERR;
  /* ALLUNI..NOBCAST need CTRL_RX_EXTRA, which is not offered */
  if (cmd == VIRTIO_NET_CTRL_RX_PROMISC) m->promisc = d[0];
  else if (cmd == VIRTIO_NET_CTRL_RX_ALLMULTI) m->allmulti = d[0];
  else return VIRTIO_NET_ERR;
  return VIRTIO_NET_OK;
}

static uint8_t ctrl_mac(vsim_net *m, uint8_t cmd, const uint8_t *d, uint32_t n) {
  if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
    if (!has(m, VIRTIO_NET_F_CTRL_MAC_ADDR) || n != 6) return VIRTIO_NET_ERR;
    memcpy(m->mac, d, 6);
    /* the spec: mac in config space is updated before the buffer is used
     * (with MAC negotiated); the mutant leaves it for later */
    if (has(m, VIRTIO_NET_F_MAC) && !NMUT(DEV_NET_MAC_LATE)) {
      memcpy(CFG(mac), d, 6);
      config_touched(m);
    }
    return VIRTIO_NET_OK;
  }
  if (cmd != VIRTIO_NET_CTRL_MAC_TABLE_SET || !has(m, VIRTIO_NET_F_CTRL_RX)) return VIRTIO_NET_ERR;
  /* le32 n, n * 6 bytes, le32 m, m * 6 bytes, nothing after */
  if (n < 4) return VIRTIO_NET_ERR;
  uint32_t nuc = vsim_le_ld32(d);
  if (nuc > VSIM_NET_MAC_TABLE || n - 4 < nuc * 6u + 4u) return VIRTIO_NET_ERR;
  const uint8_t *p = d + 4 + nuc * 6u;
  uint32_t nmc = vsim_le_ld32(p);
  if (nmc > VSIM_NET_MAC_TABLE || n != 8u + nuc * 6u + nmc * 6u) return VIRTIO_NET_ERR;
  memcpy(m->uc, d + 4, nuc * 6u);
  memcpy(m->mc, p + 4, nmc * 6u);
  m->n_uc = nuc;
  m->n_mc = nmc;
  return VIRTIO_NET_OK;
}

static uint8_t ctrl_vlan(vsim_net *m, uint8_t cmd, const uint8_t *d, uint32_t n) {
  if (!has(m, VIRTIO_NET_F_CTRL_VLAN) || n != 2) return VIRTIO_NET_ERR;
  uint16_t vid = vsim_le_ld16(d);
  if (vid >= 4096) return VIRTIO_NET_ERR;
  if (cmd == VIRTIO_NET_CTRL_VLAN_ADD) m->vlans[vid / 64] |= BIT(vid % 64);
  else if (cmd == VIRTIO_NET_CTRL_VLAN_DEL) m->vlans[vid / 64] &= ~BIT(vid % 64);
  else return VIRTIO_NET_ERR;
  return VIRTIO_NET_OK;
}

static uint8_t ctrl_announce(vsim_net *m, uint8_t cmd, uint32_t n) {
  if (!has(m, VIRTIO_NET_F_GUEST_ANNOUNCE) || cmd != VIRTIO_NET_CTRL_ANNOUNCE_ACK || n != 0) return VIRTIO_NET_ERR;
  /* cleared before the buffer is used (the mutant forgets) */
  if (!NMUT(DEV_NET_ANNOUNCE_STICKY) && (cfg_status(m) & VIRTIO_NET_S_ANNOUNCE)) {
    write_status(m, cfg_status(m) & (uint16_t)~VIRTIO_NET_S_ANNOUNCE);
    config_touched(m);
  }
  return VIRTIO_NET_OK;
}

static uint8_t ctrl_mq(vsim_net *m, uint8_t cmd, const uint8_t *d, uint32_t n) {
  if (!has(m, VIRTIO_NET_F_MQ) || cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || n != 2) return VIRTIO_NET_ERR;
  uint16_t pairs = vsim_le_ld16(d);
  if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > m->max_pairs) return VIRTIO_NET_ERR;
  m->cur_pairs = pairs;
  /* once this command is used, nothing more goes to a pair beyond `pairs`:
   * frames still waiting there are dropped (a frame half delivered with
   * MRG_RXBUF too, its first buffer published already) */
  for (uint32_t i = 0; i < m->npend;) {
    if (m->pend[i].q / 2u < pairs) {
      i++;
      continue;
    }
    if (m->mrg_active && m->mrg_q == m->pend[i].q) m->mrg_active = false;
    if (m->pend[i].q < RX_QUEUES) m->reserved[m->pend[i].q] = 0;
    m->st.rx_dropped++;
    rx_remove(m, i);
  }
  return VIRTIO_NET_OK;
}

static uint8_t ctrl_offloads(vsim_net *m, uint8_t cmd, const uint8_t *d, uint32_t n) {
  if (!has(m, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) || cmd != VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET || n != 8)
    return VIRTIO_NET_ERR;
  uint64_t want = (uint64_t)vsim_le_ld32(d) | (uint64_t)vsim_le_ld32(d + 4) << 32;
  /* only offloads, and only negotiated ones */
  if (want & ~(vsim_net_rx_offloads() & m->core.driver_features)) return VIRTIO_NET_ERR;
  if (!NMUT(DEV_NET_OFFLOADS_IGNORED)) m->offloads = want;
  return VIRTIO_NET_OK;
}

/* Hand the NOTF_COAL parameters to the core: every transmit (tx) or
 * receive queue of the layout. Either parameter 0: no coalescing. */
static void coal_apply(vsim_net *m, bool tx) {
  const uint32_t packets = tx ? m->coal_tx_packets : m->coal_rx_packets;
  const uint32_t usecs = tx ? m->coal_tx_usecs : m->coal_rx_usecs;
  const bool on = packets && usecs;
  for (uint16_t q = 0; q < 2u * pairs_in_layout(m); q++)
    if ((bool)(q & 1u) == tx) vsim_devcore_set_coalesce(&m->core, q, on ? packets : 0, on ? usecs : 0);
}

static uint8_t ctrl_notf_coal(vsim_net *m, uint8_t cmd, const uint8_t *d, uint32_t n) {
  /* TX_SET and RX_SET carry the same 8 bytes: le32 max_packets, le32 max_usecs */
  _Static_assert(sizeof(struct virtio_net_ctrl_coal_tx) == 8 && sizeof(struct virtio_net_ctrl_coal_rx) == 8,
                 "coalescing parameters are 8 bytes");
  if (!has(m, VIRTIO_NET_F_NOTF_COAL) || n != 8) return VIRTIO_NET_ERR;
  const uint32_t packets = vsim_le_ld32(d + offsetof(struct virtio_net_ctrl_coal_tx, tx_max_packets));
  const uint32_t usecs = vsim_le_ld32(d + offsetof(struct virtio_net_ctrl_coal_tx, tx_usecs));
  if (cmd == VIRTIO_NET_CTRL_NOTF_COAL_TX_SET) {
    m->coal_tx_packets = packets;
    m->coal_tx_usecs = usecs;
    coal_apply(m, true);
  } else if (cmd == VIRTIO_NET_CTRL_NOTF_COAL_RX_SET) {
    m->coal_rx_packets = packets;
    m->coal_rx_usecs = usecs;
    coal_apply(m, false);
  } else {
    return VIRTIO_NET_ERR; /* VQ_SET / VQ_GET: VQ_NOTF_COAL is not offered */
  }
  return VIRTIO_NET_OK;
}

static int do_ctrl(vsim_net *m, vsim_arena *a, const vsim_chain *c, uint32_t *used_len) {
  /* no writable byte: nowhere to put the ack, nothing to answer */
  if (c->wr_bytes < 1) return 0;
  uint8_t ack = VIRTIO_NET_ERR;
  uint8_t buf[2 + CTRL_MAX_DATA];
  if (c->rd_bytes >= 2 && c->rd_bytes <= sizeof buf && vsim_chain_read(c, a, 0, buf, c->rd_bytes) == 0) {
    uint32_t n = (uint32_t)c->rd_bytes - 2;
    const uint8_t *d = buf + 2;
    m->core.bytes_moved += c->rd_bytes;
    m->core.bytes_copied += c->rd_bytes;
    switch (buf[0]) {
      case VIRTIO_NET_CTRL_RX: ack = ctrl_rx(m, buf[1], d, n); break;
      case VIRTIO_NET_CTRL_MAC: ack = ctrl_mac(m, buf[1], d, n); break;
      case VIRTIO_NET_CTRL_VLAN: ack = ctrl_vlan(m, buf[1], d, n); break;
      case VIRTIO_NET_CTRL_ANNOUNCE: ack = ctrl_announce(m, buf[1], n); break;
      case VIRTIO_NET_CTRL_MQ: ack = ctrl_mq(m, buf[1], d, n); break;
      case VIRTIO_NET_CTRL_GUEST_OFFLOADS: ack = ctrl_offloads(m, buf[1], d, n); break;
      case VIRTIO_NET_CTRL_NOTF_COAL: ack = ctrl_notf_coal(m, buf[1], d, n); break;
      default: ack = VIRTIO_NET_ERR; break;
    }
  }
  if (ack == VIRTIO_NET_OK) m->st.ctrl_ok++;
  else m->st.ctrl_err++;
  if (NMUT(DEV_NET_CTRL_ACK)) ack = 2;
  if (vsim_chain_write(c, a, 0, &ack, 1)) return 0;
  m->core.bytes_moved++;
  *used_len = 1;
  return 0;
}

/* ---- receive ---- */

static void rx_forget_all(vsim_net *m) {
  m->npend = 0;
  m->pool_used = 0;
  m->mrg_active = false;
  memset(m->reserved, 0, sizeof m->reserved);
}

/* Drop pending frame i, compacting the pool (O(pool), once per frame). */
static void rx_remove(vsim_net *m, uint32_t i) {
  rx_pending f = m->pend[i];
  memmove(m->rx_pool + f.off, m->rx_pool + f.off + f.len, m->pool_used - f.off - f.len);
  m->pool_used -= f.len;
  for (uint32_t k = i; k + 1 < m->npend; k++) m->pend[k] = m->pend[k + 1];
  m->npend--;
  for (uint32_t k = 0; k < m->npend; k++)
    if (m->pend[k].off > f.off) m->pend[k].off -= f.len;
}

/* Pending frame i reached the driver: on the wire's record, then gone. */
static void rx_delivered(vsim_net *m, uint16_t q, uint32_t i) {
  m->st.rx_frames++;
  capture(m, q, m->rx_pool + m->pend[i].off, m->pend[i].len, 0, 0); /* a full capture just misses it */
  rx_remove(m, i);
}

static int rx_first_for(const vsim_net *m, uint16_t q) {
  for (uint32_t i = 0; i < m->npend; i++)
    if (m->pend[i].q == q) return (int)i;
  return -1;
}

/* The buffers the device holds on receive queue q (the core's parked list,
 * read, never changed), or NULL when q is no live receive queue. */
static const vsim_parked *rx_held(const vsim_net *m, uint16_t q) {
  if (!m->core.q || q >= m->core.nq || q >= RX_QUEUES) return NULL;
  const vsim_devq *dq = &m->core.q[q];
  return dq->vq_live && dq->receive ? &dq->parked : NULL;
}

static uint64_t rx_held_len(const vsim_net *m, uint16_t q, uint32_t i) {
  const vsim_devq *dq = &m->core.q[q];
  return dq->parked.chain[(dq->parked.head + i) % dq->cfg.size].wr_bytes;
}

/* Frames promised more buffers than the device holds: the buffers went
 * away under them (a queue reset drops what the core parked, without the
 * model's knowing). They will not be delivered: forget them. */
static void rx_check_stale(vsim_net *m, uint16_t q) {
  const vsim_parked *pk = rx_held(m, q);
  if (q >= RX_QUEUES || m->reserved[q] <= (pk ? pk->count : 0)) return;
  for (int i; (i = rx_first_for(m, q)) >= 0;) rx_remove(m, (uint32_t)i);
  if (m->mrg_active && m->mrg_q == q) m->mrg_active = false;
  m->reserved[q] = 0;
}

/* The smallest first buffer a frame can start in: the header alone with
 * MRG_RXBUF (the frame follows in the next buffers), header and a minimal
 * frame without. A smaller one at the head of the queue is given back
 * unused (used length 0) rather than held forever in front of the others. */
static uint64_t rx_min_first(const vsim_net *m) {
  return has(m, VIRTIO_NET_F_MRG_RXBUF) ? VSIM_NET_HDR_LEN : VSIM_NET_HDR_LEN + ETH_HLEN_;
}

/* Write the header (num_buffers as given) at the start of the chain's
 * writable part. */
static int rx_write_hdr(vsim_net *m, vsim_arena *a, const vsim_chain *c, uint16_t num_buffers) {
  uint8_t hdr[VSIM_NET_HDR_LEN];
  memset(hdr, 0, sizeof hdr);
  /* DATA_VALID: the device checked the checksum, while the driver keeps
   * the GUEST_CSUM offload on (the mutant whatever it says) */
  if (NMUT(DEV_NET_RX_FLAGS) || (m->rx_data_valid && (m->offloads & BIT(VIRTIO_NET_F_GUEST_CSUM))))
    hdr[offsetof(struct virtio_net_hdr_v1, flags)] = VIRTIO_NET_HDR_F_DATA_VALID;
  if (NMUT(DEV_NET_RX_GSO)) hdr[offsetof(struct virtio_net_hdr_v1, gso_type)] = VIRTIO_NET_HDR_GSO_TCPV4;
  if (NMUT(DEV_NET_RX_NUM_BUFFERS) && num_buffers == 1) num_buffers = 0;
  vsim_le_st16(hdr + offsetof(struct virtio_net_hdr_v1, num_buffers), num_buffers);
  if (vsim_chain_write(c, a, 0, hdr, sizeof hdr)) return -1;
  m->core.bytes_moved += sizeof hdr;
  m->core.bytes_copied += sizeof hdr;
  return 0;
}

static bool is_multicast(const uint8_t *mac) { return mac[0] & 1u; }
static bool is_broadcast(const uint8_t *mac) {
  static const uint8_t bc[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  return memcmp(mac, bc, 6) == 0;
}

static bool in_table(const uint8_t (*t)[6], uint32_t n, const uint8_t *mac) {
  for (uint32_t i = 0; i < n; i++)
    if (memcmp(t[i], mac, 6) == 0) return true;
  return false;
}

/* The receive filters (Packet Receive Filtering, MAC and VLAN filtering). */
static bool rx_accept(const vsim_net *m, const uint8_t *f, uint32_t len) {
  if (has(m, VIRTIO_NET_F_CTRL_VLAN) && !NMUT(DEV_NET_VLAN_UNFILTERED) && len >= 16 && f[12] == 0x81 &&
      f[13] == 0x00) {
    uint16_t vid = (uint16_t)((f[14] << 8 | f[15]) & 0x0fff);
    if (!(m->vlans[vid / 64] & BIT(vid % 64))) return false;
  }
  if (m->promisc) return true;
  const uint8_t *dst = f;
  if (is_broadcast(dst)) return true;
  if (is_multicast(dst)) return m->allmulti || in_table(m->mc, m->n_mc, dst);
  return memcmp(dst, m->mac, 6) == 0 || in_table(m->uc, m->n_uc, dst);
}

static uint32_t rx_max_frame(const vsim_net *m) {
  if (has(m, VIRTIO_NET_F_GUEST_TSO4) || has(m, VIRTIO_NET_F_GUEST_TSO6) || has(m, VIRTIO_NET_F_GUEST_UFO))
    return VSIM_NET_MAX_FRAME;
  return has(m, VIRTIO_NET_F_MTU) ? (uint32_t)m->mtu + ETH_HLEN_ : 1514u;
}

enum { RX_WAIT = 0, RX_ASSIGNED = 1, RX_DROP = -1 };

/* Give pending frame f its buffers on q: among those the device holds and
 * has not promised to earlier frames (unusable small ones first counted as
 * f->skip, to give back), or, when it holds none, the fresh chain `fresh`
 * the core offers (NULL: none). Without MRG_RXBUF one buffer takes header
 * and frame; with it as many as the frame fills. RX_DROP: the buffer in
 * line is too small (without MRG_RXBUF), or a full queue of buffers is
 * (with it); RX_WAIT: the buffers are not there yet. */
static int rx_try_assign(vsim_net *m, uint16_t q, rx_pending *f, const vsim_chain *fresh) {
  const bool mrg = has(m, VIRTIO_NET_F_MRG_RXBUF);
  const uint64_t need = VSIM_NET_HDR_LEN + (uint64_t)f->len;
  /* the truncating mutant takes a first buffer too small for the frame */
  const bool cut = NMUT(DEV_NET_RX_TRUNCATE) && !mrg;
  const vsim_parked *pk = rx_held(m, q);
  f->skip = 0;
  f->k = 1;
  if (!pk || !pk->count) {
    if (!fresh || fresh->wr_bytes < rx_min_first(m)) return RX_WAIT;
    if (fresh->wr_bytes >= need || cut) return RX_ASSIGNED;
    return mrg ? RX_WAIT : RX_DROP; /* with MRG_RXBUF the next buffers may take the rest */
  }
  uint32_t at = m->reserved[q];
  while (at < pk->count && rx_held_len(m, q, at) < rx_min_first(m)) {
    at++;
    f->skip++;
  }
  if (at >= pk->count) return RX_WAIT;
  uint64_t have = rx_held_len(m, q, at);
  if (!mrg) return have >= need || cut ? RX_ASSIGNED : RX_DROP;
  while (have < need && at + f->k < pk->count) have += rx_held_len(m, q, at + f->k++);
  if (have >= need) return RX_ASSIGNED;
  return pk->count >= m->core.q[q].cfg.size ? RX_DROP : RX_WAIT;
}

/* Assign the frames waiting for buffers on q, oldest first; one that must
 * wait holds up those behind it (a queue delivers in order). */
static void rx_resolve(vsim_net *m, uint16_t q, const vsim_chain *fresh) {
  for (uint32_t i = 0; i < m->npend;) {
    rx_pending *f = &m->pend[i];
    if (f->q != q || f->assigned) {
      i++;
      continue;
    }
    int r = rx_try_assign(m, q, f, fresh);
    if (r == RX_WAIT) break;
    if (r == RX_DROP) {
      m->st.rx_too_big++; /* dropped, never truncated */
      rx_remove(m, i);
      continue;
    }
    f->assigned = true;
    m->reserved[q] += (uint32_t)f->skip + f->k;
    fresh = NULL; /* taken */
    i++;
  }
}

/* A buffer the core offers on receive queue q: the oldest it holds, or a
 * fresh one when it holds none. It goes to the oldest frame for q, whose
 * buffers were promised in order, so the frame fits them. */
static int do_rx(vsim_net *m, vsim_arena *a, uint16_t q, const vsim_chain *c, uint32_t *used_len) {
  rx_check_stale(m, q);
  const vsim_parked *pk = rx_held(m, q);
  const bool held = pk && pk->count && pk->chain[pk->head].head == c->head;
  rx_resolve(m, q, held ? NULL : c);
  int i = rx_first_for(m, q);
  if (i < 0) return VSIM_DEVMODEL_DEFER;
  rx_pending *f = &m->pend[i];
  if (!f->assigned) {
    if (!held && c->wr_bytes < rx_min_first(m)) return 0; /* too small to start a frame in: given back */
    /* kept; look again once the buffers behind it are held too (the core
     * parks them without offering them) */
    vsim_devcore_wake(&m->core, q);
    return VSIM_DEVMODEL_DEFER;
  }
  if (m->reserved[q]) m->reserved[q]--;
  if (m->mrg_active && m->mrg_q == q) {
    /* the next buffer of a frame spread over several: no header of its own */
    uint32_t n = c->wr_bytes < m->mrg_left ? (uint32_t)c->wr_bytes : m->mrg_left;
    if (n && vsim_chain_write(c, a, 0, m->rx_pool + f->off + m->mrg_done, n)) return -1;
    m->core.bytes_moved += n;
    m->mrg_done += n;
    m->mrg_left -= n;
    *used_len = n;
    if (!m->mrg_left) {
      m->mrg_active = false;
      rx_delivered(m, q, (uint32_t)i);
    }
    return 0;
  }
  if (f->skip) {
    f->skip--; /* a buffer too small to start a frame in: given back unused */
    return 0;
  }
  if (c->wr_bytes < VSIM_NET_HDR_LEN) return 0; /* stale promises only: never write past it */
  /* the mutant counts one buffer more than a merged frame fills */
  if (rx_write_hdr(m, a, c, (uint16_t)(f->k + (NMUT(DEV_NET_RX_NB_PLUS_ONE) && f->k > 1)))) return -1;
  uint64_t room = c->wr_bytes - VSIM_NET_HDR_LEN;
  uint32_t first = room < f->len ? (uint32_t)room : f->len;
  if (first && vsim_chain_write(c, a, VSIM_NET_HDR_LEN, m->rx_pool + f->off, first)) return -1;
  m->core.bytes_moved += first;
  *used_len = VSIM_NET_HDR_LEN + first;
  if (first < f->len && f->k > 1) {
    /* the driver must see all k buffers used at once (the mutant lets the
     * core's budget split them over publishes) */
    if (!NMUT(DEV_NET_RX_SPLIT_PUBLISH)) vsim_devcore_use_together(&m->core, q, (uint32_t)f->k - 1u);
    m->mrg_active = true;
    m->mrg_q = q;
    m->mrg_done = first;
    m->mrg_left = f->len - first;
    return 0;
  }
  /* whole (or, with the truncating mutant only, cut to the buffer) */
  rx_delivered(m, q, (uint32_t)i);
  return 0;
}

/* A frame from the host. It is given its buffers now when the device holds
 * them (then it counts as accepted: the driver will get it), or waits for
 * them, uncounted (the buffers may prove too small: then it is dropped), or
 * is dropped at once (link down, filtered, too long, no room). */
static int64_t net_host_input(void *model, uint32_t target, const uint8_t *data, uint32_t len, uint16_t *q_out,
                              char *err, unsigned errlen) {
  vsim_net *m = model;
  (void)err;
  (void)errlen;
  /* steering: the target names a flow; it goes to one of the enabled pairs
   * (the mutant spreads over every pair the device has) */
  uint32_t pairs = NMUT(DEV_NET_RX_ANY_PAIR) ? m->max_pairs : m->cur_pairs;
  uint16_t q = (uint16_t)(2u * (target % pairs));
  *q_out = q;
  if (!m->link_up || len < ETH_HLEN_ || len > rx_max_frame(m) || !rx_held(m, q)) {
    m->st.rx_dropped++;
    return 0;
  }
  if (!rx_accept(m, data, len)) {
    m->st.rx_filtered++;
    return 0;
  }
  if (m->npend >= VSIM_NET_RX_PENDING || len > VSIM_NET_RX_POOL - m->pool_used) {
    m->st.rx_dropped++;
    return 0;
  }
  rx_check_stale(m, q);
  memcpy(m->rx_pool + m->pool_used, data, len);
  const uint32_t seq = m->rx_seq++;
  m->pend[m->npend++] = (rx_pending){m->pool_used, len, q, 0, 0, false, seq};
  m->pool_used += len;
  rx_resolve(m, q, NULL);
  vsim_devcore_wake(&m->core, q);
  for (uint32_t i = 0; i < m->npend; i++)
    if (m->pend[i].seq == seq) return m->pend[i].assigned ? len : 0; /* waiting: not owed yet */
  return 0; /* dropped */
}

/* The host side of the wire (expect.output): port k is transmitq k+1. One
 * call takes one frame, the oldest not taken from that queue, so a step
 * compares whole frames; a frame longer than `cap` is cut to it (and taken). */
static int64_t net_host_output(void *model, uint32_t port, uint8_t *dst, uint32_t cap, char *err, unsigned errlen) {
  vsim_net *m = model;
  if (port >= m->max_pairs) {
    vsim_devcfg_fail(err, errlen, "net: port %u names no transmit queue (ports 0..%u: transmitq1..%u)", port,
         m->max_pairs - 1u, (unsigned)m->max_pairs);
    return -1;
  }
  const uint16_t q = (uint16_t)(2u * port + 1u);
  for (uint32_t i = m->out_next[port]; i < m->nframes; i++) {
    if (m->frames[i].queue != q) continue;
    m->out_next[port] = i + 1;
    uint32_t n = m->frames[i].len < cap ? m->frames[i].len : cap;
    memcpy(dst, m->cap + m->frames[i].off, n);
    return n;
  }
  m->out_next[port] = m->nframes;
  return 0;
}

static bool net_receive_queue(void *model, uint16_t q) {
  return queue_kind(model, q) == Q_RX;
}

/* ---- devmodel ops ---- */

static int net_request(void *model, uint16_t q, const vsim_chain *c, uint32_t *used_len) {
  vsim_net *m = model;
  *used_len = 0;
  vsim_arena *a = m->core.host ? m->core.host->arena : NULL;
  if (!a || !c) return -1;
  switch (queue_kind(m, q)) {
    case Q_TX: return do_tx(m, a, q, c);
    case Q_CTRL: return do_ctrl(m, a, c, used_len);
    case Q_RX: return do_rx(m, a, q, c, used_len);
    default: return -1; /* no such queue with these features */
  }
}

static bool net_features_ok(void *model, uint64_t features) {
  (void)model;
  return vsim_net_unmet_deps(features) == 0;
}

static void net_reset(void *model) {
  vsim_net *m = model;
  m->promisc = true;
  m->allmulti = false;
  m->n_uc = m->n_mc = 0;
  memset(m->vlans, 0, sizeof m->vlans);
  m->cur_pairs = 1;
  memcpy(m->mac, m->mac_cfg, 6);
  fill_config(m);
  rx_forget_all(m);
  /* "Upon reset, a device MUST initialize all coalescing parameters to 0"
   * (the mutant keeps them; they reach the core again at DRIVER_OK) */
  if (!NMUT(DEV_NET_COAL_STICKY)) m->coal_tx_packets = m->coal_tx_usecs = m->coal_rx_packets = m->coal_rx_usecs = 0;
}

static void net_activate(void *model, uint64_t features) {
  vsim_net *m = model;
  /* every offload negotiated starts enabled (Offloads State Configuration) */
  m->offloads = features & vsim_net_rx_offloads();
  /* the driver owns coalescing now: its parameters, 0 until it sets them */
  if (features & BIT(VIRTIO_NET_F_NOTF_COAL)) {
    coal_apply(m, true);
    coal_apply(m, false);
  }
  /* an announcement the device wants, once the driver can acknowledge it */
  if (m->announce && (features & BIT(VIRTIO_NET_F_GUEST_ANNOUNCE)) && (features & BIT(VIRTIO_NET_F_STATUS))) {
    write_status(m, cfg_status(m) | VIRTIO_NET_S_ANNOUNCE);
    vsim_devcore_config_changed(&m->core);
  }
}

static void net_destroy(void *model) {
  vsim_net *m = model;
  if (!m) return;
  vsim_devcore_fini(&m->core);
  free(m->cap);
  free(m->pkt);
  free(m->rx_pool);
  free(m);
}

static const vsim_devmodel_ops net_model_ops = {
    .features_ok = net_features_ok,
    .activate = net_activate,
    .reset = net_reset,
    .config_write = NULL, /* "The driver MUST NOT write to any of the device configuration fields" */
    .request = net_request,
    .destroy = net_destroy,
    .receive_queue = net_receive_queue,
    .host_input = net_host_input,
    .host_output = net_host_output,
};

int vsim_net_create(const vsim_backend_params *params, vsim_backend *out, char *err, unsigned errlen) {
  if (!params || !out) return vsim_devcfg_fail(err, errlen, "net: no parameters");
  vsim_net *m = calloc(1, sizeof *m);
  if (!m) return vsim_devcfg_fail(err, errlen, "net: out of memory");
  if (parse_opts(m, params, err, errlen)) {
    free(m);
    return -1;
  }
  m->cap = malloc(VSIM_NET_CAPTURE_BYTES);
  m->pkt = malloc(VSIM_NET_MAX_FRAME);
  m->rx_pool = malloc(VSIM_NET_RX_POOL);
  if (!m->cap || !m->pkt || !m->rx_pool) {
    net_destroy(m);
    return vsim_devcfg_fail(err, errlen, "net: out of memory");
  }
  uint64_t offered = BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_RING_PACKED) | BIT(VIRTIO_F_RING_RESET) |
                     BIT(VIRTIO_F_IN_ORDER) | BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_RING_F_EVENT_IDX) |
                     BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_MAC) |
                     BIT(VIRTIO_NET_F_MTU) | BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) |
                     BIT(VIRTIO_NET_F_GUEST_ECN) | BIT(VIRTIO_NET_F_GUEST_UFO) | BIT(VIRTIO_NET_F_HOST_TSO4) |
                     BIT(VIRTIO_NET_F_HOST_TSO6) | BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_HOST_UFO) |
                     BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_CTRL_VQ) |
                     BIT(VIRTIO_NET_F_CTRL_RX) | BIT(VIRTIO_NET_F_CTRL_VLAN) | BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) |
                     BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | BIT(VIRTIO_NET_F_SPEED_DUPLEX) |
                     /* offered with one pair too: max_virtqueue_pairs 1 is in range */
                     BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_NET_F_NOTF_COAL) | BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
  vsim_backend_params p = *params;
  p.num_queues = (uint16_t)(2u * m->max_pairs + 1u); /* the pairs, then the control queue */
  if (vsim_devcore_init(&m->core, &p, VIRTIO_ID_NET, offered, (uint32_t)sizeof(struct virtio_net_config),
                        &net_model_ops, m, err, errlen)) {
    net_destroy(m);
    return -1;
  }
  memcpy(m->mac, m->mac_cfg, 6);
  m->cur_pairs = 1;
  m->promisc = true;
  fill_config(m);
  out->ops = &vsim_devcore_ops;
  out->be = &m->core;
  return 0;
}

const vsim_net_stats *vsim_net_stats_of(const void *model) { return &((const vsim_net *)model)->st; }
uint32_t vsim_net_frames(const void *model) { return ((const vsim_net *)model)->nframes; }

const vsim_net_frame *vsim_net_frame_at(const void *model, uint32_t i, const uint8_t **bytes) {
  const vsim_net *m = model;
  if (i >= m->nframes) return NULL;
  if (bytes) *bytes = m->cap + m->frames[i].off;
  return &m->frames[i];
}
