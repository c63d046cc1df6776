/* frontend-model/net_drv.c — the virtio-net driver model (see net_drv.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include "le.h"
#include "net_deps.h"
#include "net_drv.h"
#include "virtiosim/checks.h"
#include "virtiosim/mutants.h"

#define BIT(b) (UINT64_C(1) << (b))
#define HDR_LEN 12u /* struct virtio_net_hdr_v1: neither HASH_REPORT nor a UDP-tunnel feature is understood */
#define ETH_HLEN_ 14u

/* The driver model's mutants (include/virtiosim/mutants.h). */
#define DMUT(name) vsim_mut_has(&n->drv->cfg.mutants, VSIM_MUT_##name)

static bool neg(const vsim_net_drv *n, unsigned bit) { return bit < 64 && ((n->drv->features >> bit) & 1u); }

/* A violation of `check` on queue q (-1: none), through the engine's sink. */
__attribute__((format(printf, 4, 5))) static void report(const vsim_net_drv *n, int check, int q, const char *fmt, ...) {
  char d[VSIM_VIOLATION_DETAIL_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d, sizeof d, fmt, ap);
  va_end(ap);
  n->sink->violation(n->sink->ctx, check, q, d);
}

uint64_t vsim_net_drv_understood(void) {
  return vsim_driver_core_features() | BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_MTU) |
         BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) |
         BIT(VIRTIO_NET_F_GUEST_ECN) | BIT(VIRTIO_NET_F_GUEST_UFO) | BIT(VIRTIO_NET_F_HOST_TSO4) |
         BIT(VIRTIO_NET_F_HOST_TSO6) | BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_HOST_UFO) |
         BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_CTRL_VQ) |
         BIT(VIRTIO_NET_F_CTRL_RX) | BIT(VIRTIO_NET_F_CTRL_VLAN) | BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) |
         BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | BIT(VIRTIO_NET_F_SPEED_DUPLEX) |
         BIT(VIRTIO_NET_F_NOTF_COAL) | BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
}

uint64_t vsim_net_drv_close(uint64_t features) { return vsim_net_close_deps(features); }

void vsim_net_drv_init(vsim_net_drv *n, vsim_driver *drv, const vsim_host *sink) {
  memset(n, 0, sizeof *n);
  n->drv = drv;
  n->sink = sink;
  n->max_pairs = n->drv_pairs = n->dev_pairs = 1;
}

void vsim_net_drv_negotiated(vsim_net_drv *n) {
  n->max_pairs = n->drv_pairs = n->dev_pairs = 1;
  n->mtu = 0;
  memset(n->cont_left, 0, sizeof n->cont_left);
  memset(n->split_seen, 0, sizeof n->split_seen);
  memset(n->ipv4_judged, 0, sizeof n->ipv4_judged);
  n->coal_tx_sent = n->coal_rx_sent = false;
  n->announce_seen = n->announce_acked = false; /* a reset ends what the driver owed the device before */
  n->offloads = n->drv->features & vsim_net_rx_offloads(); /* all negotiated offloads start on */
  n->offloads_sent = 0;
  n->offloads_sending = 0;
  memset(n->vlan_added, 0, sizeof n->vlan_added); /* a reset empties the device's VLAN table */
  uint64_t bad = vsim_net_unmet_deps(n->drv->features);
  if (bad)
    report(n, VSIM_CHK_NET_DRV_FEATURE_DEPS, -1,
           "driver accepted features 0x%" PRIx64 " without what they require (bits 0x%" PRIx64 ")", n->drv->features,
           bad);
}

void vsim_net_drv_probe(vsim_net_drv *n) {
  vsim_driver *d = n->drv;
  const uint64_t off = d->offered;
  if ((off >> VIRTIO_NET_F_MQ) & 1u) {
    uint16_t p = (uint16_t)vsim_driver_config_read(d, offsetof(struct virtio_net_config, max_virtqueue_pairs), 2);
    if (p < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || p > VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX)
      report(n, VSIM_CHK_NET_DEV_CFG_PAIRS, -1, "MQ offered and max_virtqueue_pairs reads %u (must be 1..0x8000)", p);
    else if (neg(n, VIRTIO_NET_F_MQ))
      n->max_pairs = p;
  }
  if (neg(n, VIRTIO_NET_F_SPEED_DUPLEX)) {
    uint32_t speed = (uint32_t)vsim_driver_config_read(d, offsetof(struct virtio_net_config, speed), 4);
    uint8_t duplex = (uint8_t)vsim_driver_config_read(d, offsetof(struct virtio_net_config, duplex), 1);
    if ((speed > 0x7fffffffu && speed != UINT32_MAX) || (duplex > 1 && duplex != 0xff))
      report(n, VSIM_CHK_NET_DEV_CFG_SPEED, -1, "speed %u, duplex 0x%02x: speed must be 0..0x7fffffff or 0xffffffff, "
             "duplex 0x00, 0x01 or 0xff", speed, duplex);
  }
  if (neg(n, VIRTIO_NET_F_STATUS) && neg(n, VIRTIO_NET_F_GUEST_ANNOUNCE)) {
    /* the link status, as the driver SHOULD read it; ANNOUNCE in it asks
     * the driver for an ANNOUNCE_ACK */
    uint16_t st = (uint16_t)vsim_driver_config_read(d, offsetof(struct virtio_net_config, status), 2);
    if (st & VIRTIO_NET_S_ANNOUNCE) n->announce_seen = true;
  }
  if ((off >> VIRTIO_NET_F_MTU) & 1u) {
    uint16_t mtu = (uint16_t)vsim_driver_config_read(d, offsetof(struct virtio_net_config, mtu), 2);
    if (mtu < 68)
      report(n, VSIM_CHK_NET_DEV_CFG_MTU, -1, "MTU offered and mtu reads %u (must be 68..65535)", mtu);
    else if (neg(n, VIRTIO_NET_F_MTU))
      n->mtu = mtu;
  }
}

/* ---- the queue layout as the driver sees it ---- */

enum qkind { Q_RX, Q_TX, Q_CTRL, Q_NONE };

static enum qkind kind_of(const vsim_net_drv *n, uint16_t q) {
  uint16_t pairs = neg(n, VIRTIO_NET_F_MQ) ? n->max_pairs : 1;
  if (q < 2u * pairs) return (q & 1u) ? Q_TX : Q_RX;
  if (q == 2u * pairs && neg(n, VIRTIO_NET_F_CTRL_VQ)) return Q_CTRL;
  return Q_NONE;
}

/* ---- the driver's rules, on what it sends ---- */

static void judge_tx(vsim_net_drv *n, uint16_t q, uint8_t *out, uint32_t *out_len) {
  if (DMUT(DRV_NET_TX_SHORT_HEADER) && *out_len >= HDR_LEN) *out_len = HDR_LEN - 2;
  if (*out_len < HDR_LEN) {
    report(n, VSIM_CHK_NET_DRV_TX_HDR, q, "transmit buffer of %u bytes: shorter than the %u-byte header", *out_len,
           HDR_LEN);
    return;
  }
  uint8_t *numb = out + offsetof(struct virtio_net_hdr_v1, num_buffers);
  if (DMUT(DRV_NET_TX_NUM_BUFFERS)) vsim_le_st16(numb, 1);
  if (DMUT(DRV_NET_TX_FLAGS)) out[offsetof(struct virtio_net_hdr_v1, flags)] |= VIRTIO_NET_HDR_F_DATA_VALID;
  if (DMUT(DRV_NET_TX_GSO) && !neg(n, VIRTIO_NET_F_HOST_TSO4))
    out[offsetof(struct virtio_net_hdr_v1, gso_type)] = VIRTIO_NET_HDR_GSO_TCPV4;
  if (DMUT(DRV_NET_TX_GSO_AS_NONE)) out[offsetof(struct virtio_net_hdr_v1, gso_type)] = VIRTIO_NET_HDR_GSO_NONE;
  uint8_t flags = out[offsetof(struct virtio_net_hdr_v1, flags)];
  uint8_t gso = out[offsetof(struct virtio_net_hdr_v1, gso_type)];
  uint16_t nb = vsim_le_ld16(numb);
  if (nb != 0) report(n, VSIM_CHK_NET_DRV_TX_NUM_BUFFERS, q, "transmit header has num_buffers %u (must be 0)", nb);
  if (flags & (VIRTIO_NET_HDR_F_DATA_VALID | VIRTIO_NET_HDR_F_RSC_INFO))
    report(n, VSIM_CHK_NET_DRV_TX_FLAGS, q, "transmit flags 0x%02x set DATA_VALID or RSC_INFO", flags);
  else if (flags && !neg(n, VIRTIO_NET_F_CSUM))
    report(n, VSIM_CHK_NET_DRV_TX_FLAGS, q, "transmit flags 0x%02x without CSUM negotiated (must be 0)", flags);
  uint8_t kind = gso & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
  unsigned need = kind == VIRTIO_NET_HDR_GSO_NONE    ? 0
                  : kind == VIRTIO_NET_HDR_GSO_TCPV4 ? VIRTIO_NET_F_HOST_TSO4
                  : kind == VIRTIO_NET_HDR_GSO_TCPV6 ? VIRTIO_NET_F_HOST_TSO6
                  : kind == VIRTIO_NET_HDR_GSO_UDP   ? VIRTIO_NET_F_HOST_UFO
                                                     : 64;
  /* Device configuration layout: no packet beyond the mtu without GSO */
  if (n->mtu && kind == VIRTIO_NET_HDR_GSO_NONE && *out_len - HDR_LEN > (uint32_t)n->mtu + ETH_HLEN_)
    report(n, VSIM_CHK_NET_DRV_TX_MTU, q, "a %u-byte packet with gso_type 0x%02x: more than mtu %u + 14",
           *out_len - HDR_LEN, gso, n->mtu);
  if (kind != VIRTIO_NET_HDR_GSO_NONE && !neg(n, need))
    report(n, VSIM_CHK_NET_DRV_TX_GSO, q, "gso_type 0x%02x without its HOST_* feature negotiated", gso);
  else if ((gso & VIRTIO_NET_HDR_GSO_ECN) && (kind == VIRTIO_NET_HDR_GSO_NONE || !neg(n, VIRTIO_NET_F_HOST_ECN)))
    report(n, VSIM_CHK_NET_DRV_TX_GSO, q, "gso_type 0x%02x: the ECN bit without a GSO type or HOST_ECN", gso);
  else if (kind != VIRTIO_NET_HDR_GSO_NONE && !(flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
    report(n, VSIM_CHK_NET_DRV_TX_GSO, q, "gso_type 0x%02x without NEEDS_CSUM in flags", gso);
  if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
    uint8_t *off_field = out + offsetof(struct virtio_net_hdr_v1, csum_offset);
    if (DMUT(DRV_NET_TX_CSUM)) vsim_le_st16(off_field, 0xffff);
    uint32_t start = vsim_le_ld16(out + offsetof(struct virtio_net_hdr_v1, csum_start));
    uint32_t at = start + vsim_le_ld16(off_field); /* 16-bit fields: no wrap in 32 bits */
    if (at + 2u > *out_len - HDR_LEN)
      report(n, VSIM_CHK_NET_DRV_TX_CSUM, q, "NEEDS_CSUM with csum_start %u + csum_offset %u past the %u-byte packet",
             start, at - start, *out_len - HDR_LEN);
  }
}

static void judge_ctrl(vsim_net_drv *n, uint16_t q, uint8_t *out, uint32_t out_len) {
  if (out_len < 2) return; /* no command at all: the device's answer is what matters */
  uint8_t cls = out[0];
  uint8_t *cmd = &out[1];
  const uint8_t *d = out + 2;
  uint32_t len = out_len - 2;
  if (cls == VIRTIO_NET_CTRL_RX) {
    if (DMUT(DRV_NET_CTRL_RX_EXTRA) && *cmd == VIRTIO_NET_CTRL_RX_PROMISC) *cmd = VIRTIO_NET_CTRL_RX_ALLUNI;
    /* commands above NOBCAST are not the driver's to send under any feature:
     * the device refuses them (no drivernormative sentence names them) */
    bool basic = *cmd <= VIRTIO_NET_CTRL_RX_ALLMULTI;
    if (*cmd <= VIRTIO_NET_CTRL_RX_NOBCAST &&
        (basic ? !neg(n, VIRTIO_NET_F_CTRL_RX) : !neg(n, VIRTIO_NET_F_CTRL_RX_EXTRA)))
      report(n, VSIM_CHK_NET_DRV_CTRL_RX, q, "RX class command %u without %s negotiated", *cmd,
             basic ? "CTRL_RX" : "CTRL_RX_EXTRA");
  } else if (cls == VIRTIO_NET_CTRL_MAC) {
    if (!neg(n, VIRTIO_NET_F_CTRL_RX)) {
      report(n, VSIM_CHK_NET_DRV_CTRL_MAC, q, "MAC class command %u without CTRL_RX negotiated", *cmd);
    } else if (*cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET) {
      if (DMUT(DRV_NET_CTRL_MAC_COUNT) && len >= 4) vsim_le_st32(out + 2, vsim_le_ld32(d) + 1);
      /* le32 n, n addresses, le32 m, m addresses, nothing after (64-bit sums: no wrap) */
      uint64_t nuc = len >= 4 ? vsim_le_ld32(d) : 0;
      uint64_t at = 4 + 6 * nuc;
      bool ok = len >= 4 && at + 4 <= len && at + 4 + 6 * (uint64_t)vsim_le_ld32(d + at) == len;
      if (!ok)
        report(n, VSIM_CHK_NET_DRV_CTRL_MAC, q, "MAC_TABLE_SET of %u bytes is not le32 n, n x 6, le32 m, m x 6", len);
    }
  } else if (cls == VIRTIO_NET_CTRL_NOTF_COAL &&
             (*cmd == VIRTIO_NET_CTRL_NOTF_COAL_TX_SET || *cmd == VIRTIO_NET_CTRL_NOTF_COAL_RX_SET)) {
    if (!neg(n, VIRTIO_NET_F_NOTF_COAL))
      report(n, VSIM_CHK_NET_DRV_COAL_FEATURE, q, "NOTF_COAL %s_SET without VIRTIO_NET_F_NOTF_COAL negotiated",
             *cmd == VIRTIO_NET_CTRL_NOTF_COAL_TX_SET ? "TX" : "RX");
    /* from the moment it is sent the device may coalesce (it acts on it
     * before the driver sees the ack) */
    if (*cmd == VIRTIO_NET_CTRL_NOTF_COAL_TX_SET) n->coal_tx_sent = true;
    else n->coal_rx_sent = true;
  } else if (cls == VIRTIO_NET_CTRL_ANNOUNCE && *cmd == VIRTIO_NET_CTRL_ANNOUNCE_ACK) {
    if (DMUT(DRV_NET_NO_ANNOUNCE_ACK)) out[0] = 0xff; /* the mutant's command is no acknowledgement */
    else n->announce_acked = true;
  } else if (cls == VIRTIO_NET_CTRL_GUEST_OFFLOADS && *cmd == VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET && len == 8) {
    if (DMUT(DRV_NET_OFFLOADS_TSO4)) out[2] |= (uint8_t)BIT(VIRTIO_NET_F_GUEST_TSO4); /* bit 7: byte 0 of le64 */
    const uint64_t want = (uint64_t)vsim_le_ld32(d) | (uint64_t)vsim_le_ld32(d + 4) << 32;
    const uint64_t unneg = want & vsim_net_rx_offloads() & ~n->drv->features;
    n->offloads_sent |= want & vsim_net_rx_offloads();
    n->offloads_sending++;
    if (unneg)
      report(n, VSIM_CHK_NET_DRV_OFFLOADS, q,
             "GUEST_OFFLOADS_SET 0x%016" PRIx64 " enables offloads whose feature is not negotiated (bits 0x%" PRIx64
             ")",
             want, unneg);
  } else if (cls == VIRTIO_NET_CTRL_VLAN && *cmd == VIRTIO_NET_CTRL_VLAN_ADD && len == 2) {
    uint16_t vid = vsim_le_ld16(d);
    if (vid < 4096) n->vlan_added[vid / 64] |= UINT64_C(1) << (vid % 64);
  } else if (cls == VIRTIO_NET_CTRL_MQ && *cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET && len == 2) {
    if (DMUT(DRV_NET_MQ_PAIRS)) vsim_le_st16(out + 2, (uint16_t)(n->max_pairs + 1));
    uint16_t p = vsim_le_ld16(d);
    if (p < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || p > n->max_pairs)
      report(n, VSIM_CHK_NET_DRV_MQ_PAIRS, q, "VQ_PAIRS_SET %u: max_virtqueue_pairs is %u", p, n->max_pairs);
    else
      n->drv_pairs = p;
  }
}

void vsim_net_drv_submit(void *ctx, uint16_t q, uint8_t *out, uint32_t *out_len, uint32_t *in_len) {
  vsim_net_drv *n = ctx;
  switch (kind_of(n, q)) {
    case Q_TX: judge_tx(n, q, out, out_len); break;
    case Q_CTRL: judge_ctrl(n, q, out, *out_len); break;
    case Q_RX:
      if (DMUT(DRV_NET_RX_SMALL) && *in_len > HDR_LEN) *in_len = HDR_LEN - 4;
      if (neg(n, VIRTIO_NET_F_MRG_RXBUF) && *in_len < HDR_LEN)
        report(n, VSIM_CHK_NET_DRV_RX_BUF, q, "receive buffer of %u bytes with MRG_RXBUF: less than the %u-byte header",
               *in_len, HDR_LEN);
      break;
    default: break;
  }
}

/* ---- the device's rules, on what comes back ---- */

/* A packet over several buffers (MRG_RXBUF) is used together: while the
 * driver still expects buffers of it, the used ring must hold more than the
 * driver has taken. Called as each completion is taken, within the reap: no
 * used entry left means the device published part of the packet. */
static void judge_together(vsim_net_drv *n, uint16_t q) {
  if (!n->cont_left[q] || n->split_seen[q] || vsim_driver_queue_used_pending(n->drv, q)) return;
  n->split_seen[q] = true;
  report(n, VSIM_CHK_NET_DEV_RX_TOGETHER, q,
         "a packet's buffers published in part: %u of them still to come after every used entry was taken",
         n->cont_left[q]);
}

/* num_buffers is the number of buffers the packet occupies (Setting Up
 * Receive Buffers): an IPv4 packet spread over several, `used` more bytes
 * of it just taken, must not be whole while buffers are still counted, nor
 * go on after the last. Once overstated, the packet is taken as whole (no
 * more buffers expected of it). */
static void judge_ipv4_count(vsim_net_drv *n, uint16_t q, uint32_t used) {
  if (!n->ipv4_judged[q]) return;
  const uint32_t took = used < n->ipv4_left[q] ? used : n->ipv4_left[q];
  n->ipv4_left[q] -= took;
  if (!n->ipv4_left[q] && n->cont_left[q]) {
    report(n, VSIM_CHK_NET_DEV_RXBUF_COUNT, q,
           "the IPv4 packet is whole, yet num_buffers counts %u buffer(s) more of it", n->cont_left[q]);
    n->cont_left[q] = 0;
    n->ipv4_judged[q] = false;
  } else if (n->ipv4_left[q] && !n->cont_left[q]) {
    report(n, VSIM_CHK_NET_DEV_RXBUF_COUNT, q,
           "num_buffers ends the packet with %u bytes of the IPv4 packet still to come", n->ipv4_left[q]);
    n->ipv4_judged[q] = false;
  } else if (!n->cont_left[q]) {
    n->ipv4_judged[q] = false;
  }
}

static void judge_rx(vsim_net_drv *n, uint16_t q, const uint8_t *in, uint32_t in_len, uint32_t used) {
  if (q / 2u >= n->dev_pairs)
    report(n, VSIM_CHK_NET_DEV_MQ_RXQ, q, "a packet on receiveq%u; the device was told to use %u pair(s)", q / 2u + 1,
           n->dev_pairs);
  if (n->cont_left[q]) {
    /* a later buffer of a packet spread over several (no header of its own) */
    n->cont_left[q]--;
    judge_ipv4_count(n, q, used); /* first: an overstated count ends the packet here */
    if (n->cont_left[q] && used != in_len)
      report(n, VSIM_CHK_NET_DEV_RX_NUM_BUFFERS, q,
             "buffer %u bytes long used for %u bytes in the middle of a merged packet (all but the last are used "
             "completely)", in_len, used);
    judge_together(n, q);
    return;
  }
  n->split_seen[q] = false;
  /* a buffer too small to start a packet in (the header alone with
   * MRG_RXBUF, header and a 14-byte frame without) may come back unused:
   * the driver's mistake, not the device's */
  if (used == 0 && in_len < (neg(n, VIRTIO_NET_F_MRG_RXBUF) ? HDR_LEN : HDR_LEN + ETH_HLEN_)) return;
  if (used < HDR_LEN) {
    report(n, VSIM_CHK_NET_DEV_RX_HDR, q, "receive buffer used for %u bytes: less than the header", used);
    return;
  }
  uint8_t flags = in[offsetof(struct virtio_net_hdr_v1, flags)];
  uint8_t gso = in[offsetof(struct virtio_net_hdr_v1, gso_type)];
  uint16_t nb = vsim_le_ld16(in + offsetof(struct virtio_net_hdr_v1, num_buffers));
  /* VLAN Filtering: with CTRL_VLAN the device SHOULD drop a tagged frame
   * whose id is not in the table (the 802.1Q tag follows the two addresses;
   * promiscuous mode does not lift it: the spec ties it to the table alone) */
  if (neg(n, VIRTIO_NET_F_CTRL_VLAN) && used >= HDR_LEN + 16 && in[HDR_LEN + 12] == 0x81 && in[HDR_LEN + 13] == 0x00) {
    const uint16_t vid = (uint16_t)((in[HDR_LEN + 14] << 8 | in[HDR_LEN + 15]) & 0x0fff);
    if (!((n->vlan_added[vid / 64] >> (vid % 64)) & 1u))
      report(n, VSIM_CHK_NET_DEV_VLAN_FILTER, q,
             "a frame tagged VLAN %u received; no VLAN_ADD of %u was sent since the last reset (not in the table)", vid,
             vid);
  }
  /* a packet in this buffer alone holds at least an Ethernet header (with
   * MRG_RXBUF the first of several buffers may hold little more than the
   * virtio header: it is used completely, judged below) */
  if ((nb <= 1 || !neg(n, VIRTIO_NET_F_MRG_RXBUF)) && used < HDR_LEN + ETH_HLEN_)
    report(n, VSIM_CHK_NET_DEV_RX_HDR, q, "receive buffer used for %u bytes: less than the header and a frame", used);
  if (!neg(n, VIRTIO_NET_F_MRG_RXBUF)) {
    if (nb != 1) report(n, VSIM_CHK_NET_DEV_RX_NUM_BUFFERS, q, "num_buffers %u without MRG_RXBUF (must be 1)", nb);
  } else if (nb == 0) {
    report(n, VSIM_CHK_NET_DEV_RX_NUM_BUFFERS, q, "num_buffers 0 with MRG_RXBUF");
  } else if (nb > 1) {
    if (used != in_len)
      report(n, VSIM_CHK_NET_DEV_RX_NUM_BUFFERS, q,
             "num_buffers %u but the first buffer (%u bytes) is used for only %u", nb, in_len, used);
    n->cont_left[q] = (uint16_t)(nb - 1);
    n->ipv4_judged[q] = false;
    const uint8_t *fr = in + HDR_LEN;
    const uint32_t have = used - HDR_LEN;
    if (have >= ETH_HLEN_ + 20 && fr[12] == 0x08 && fr[13] == 0x00 && (fr[14] >> 4) == 4) {
      /* no Ethernet padding from 60 bytes on: the frame is exactly this long */
      const uint32_t total = ETH_HLEN_ + (uint32_t)(fr[16] << 8 | fr[17]);
      if (total >= 60) {
        n->ipv4_judged[q] = true;
        n->ipv4_left[q] = total > have ? total - have : 0;
        judge_ipv4_count(n, q, 0);
      }
    }
    judge_together(n, q);
  }
  /* a packet in one buffer is whole: an IPv4 one (ethertype 0x0800) as long
   * as its total length says (a device that cuts a packet to its buffer
   * instead of dropping it shows here) */
  const uint8_t *f = in + HDR_LEN;
  uint32_t flen = used - HDR_LEN;
  if (nb == 1 && flen >= ETH_HLEN_ + 20 && f[12] == 0x08 && f[13] == 0x00 && (f[14] >> 4) == 4) {
    uint32_t total = (uint32_t)(f[16] << 8 | f[17]);
    if (flen < ETH_HLEN_ + total)
      report(n, VSIM_CHK_NET_DEV_RX_HDR, q, "an IPv4 packet of %u bytes arrived as %u bytes in one buffer (cut short)",
             total, flen - ETH_HLEN_);
  }
  if (flags && !neg(n, VIRTIO_NET_F_GUEST_CSUM))
    report(n, VSIM_CHK_NET_DEV_RX_FLAGS, q, "receive flags 0x%02x without GUEST_CSUM (must be 0)", flags);
  else if (flags && !((n->offloads | n->offloads_sent) & BIT(VIRTIO_NET_F_GUEST_CSUM)))
    report(n, VSIM_CHK_NET_DEV_RX_OFFLOADS, q, "receive flags 0x%02x after GUEST_OFFLOADS_SET switched GUEST_CSUM off",
           flags);
  else if ((flags & VIRTIO_NET_HDR_F_RSC_INFO) && !neg(n, VIRTIO_NET_F_RSC_EXT))
    report(n, VSIM_CHK_NET_DEV_RX_FLAGS, q, "receive flags 0x%02x set RSC_INFO without RSC_EXT", flags);
  uint8_t kind = gso & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
  unsigned need = kind == VIRTIO_NET_HDR_GSO_NONE    ? 0
                  : kind == VIRTIO_NET_HDR_GSO_TCPV4 ? VIRTIO_NET_F_GUEST_TSO4
                  : kind == VIRTIO_NET_HDR_GSO_TCPV6 ? VIRTIO_NET_F_GUEST_TSO6
                  : kind == VIRTIO_NET_HDR_GSO_UDP   ? VIRTIO_NET_F_GUEST_UFO
                                                     : 64;
  if (kind != VIRTIO_NET_HDR_GSO_NONE && !neg(n, need))
    report(n, VSIM_CHK_NET_DEV_RX_GSO, q, "received gso_type 0x%02x without its GUEST_* feature", gso);
  else if (kind != VIRTIO_NET_HDR_GSO_NONE && !((n->offloads | n->offloads_sent) & BIT(need)))
    report(n, VSIM_CHK_NET_DEV_RX_OFFLOADS, q, "received gso_type 0x%02x after GUEST_OFFLOADS_SET switched it off",
           gso);
  else if ((gso & VIRTIO_NET_HDR_GSO_ECN) && (kind == VIRTIO_NET_HDR_GSO_NONE || !neg(n, VIRTIO_NET_F_GUEST_ECN)))
    report(n, VSIM_CHK_NET_DEV_RX_GSO, q, "received gso_type 0x%02x: ECN without a GSO type or GUEST_ECN", gso);
  else if (kind != VIRTIO_NET_HDR_GSO_NONE && !(flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
    report(n, VSIM_CHK_NET_DEV_RX_GSO, q, "received gso_type 0x%02x without NEEDS_CSUM", gso);
}

static void judge_ack(vsim_net_drv *n, uint16_t q, const uint8_t *out, uint32_t out_len, const uint8_t *in,
                      uint32_t in_len, uint32_t used) {
  /* a GUEST_OFFLOADS_SET came back: no longer in flight */
  if (out_len == 10 && out[0] == VIRTIO_NET_CTRL_GUEST_OFFLOADS && out[1] == VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET &&
      n->offloads_sending && --n->offloads_sending == 0)
    n->offloads_sent = 0;
  if (in_len == 0) return; /* the driver gave no room for an ack */
  if (used < 1) {
    report(n, VSIM_CHK_NET_DEV_CTRL_ACK, q, "control command used without its ack byte written (used len 0)");
    return;
  }
  uint8_t ack = in[0];
  if (out_len >= 4 && out[0] == VIRTIO_NET_CTRL_MQ && out[1] == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET && out_len == 4 &&
      ack != VIRTIO_NET_ERR) {
    /* not refused: from now on the device may use only that many pairs
     * (whatever else is wrong with the ack, judged below) */
    uint16_t p = vsim_le_ld16(out + 2);
    if (p >= 1 && p <= n->max_pairs) n->dev_pairs = p;
  }
  if (ack != VIRTIO_NET_OK && ack != VIRTIO_NET_ERR) {
    report(n, VSIM_CHK_NET_DEV_CTRL_ACK, q, "control ack %u (must be VIRTIO_NET_OK 0 or VIRTIO_NET_ERR 1)", ack);
    return;
  }
  if (out_len < 2) return;
  const uint8_t cls = out[0], cmd = out[1];
  const uint8_t *d = out + 2;
  const uint32_t len = out_len - 2;
  if (cls == VIRTIO_NET_CTRL_RX && cmd <= VIRTIO_NET_CTRL_RX_ALLMULTI && len == 1 && d[0] <= 1 &&
      neg(n, VIRTIO_NET_F_CTRL_RX) && ack != VIRTIO_NET_OK)
    report(n, VSIM_CHK_NET_DEV_CTRL_ACK, q, "RX command %u (%u) refused although CTRL_RX is negotiated", cmd, d[0]);
  if (ack != VIRTIO_NET_OK) return;
  if (cls == VIRTIO_NET_CTRL_GUEST_OFFLOADS && cmd == VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET && len == 8) {
    /* acknowledged: from now on only these offloads (receive completions
     * are taken before the control queue's in a reap, so a packet the
     * device delivered before the command is judged before this) */
    n->offloads = ((uint64_t)vsim_le_ld32(d) | (uint64_t)vsim_le_ld32(d + 4) << 32) & vsim_net_rx_offloads();
  } else if (cls == VIRTIO_NET_CTRL_MAC && cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET && len == 6 && neg(n, VIRTIO_NET_F_MAC)) {
    uint8_t mac[6];
    uint64_t lo = vsim_driver_config_read(n->drv, offsetof(struct virtio_net_config, mac), 4);
    uint64_t hi = vsim_driver_config_read(n->drv, offsetof(struct virtio_net_config, mac) + 4, 2);
    for (unsigned i = 0; i < 4; i++) mac[i] = (uint8_t)(lo >> (8 * i));
    for (unsigned i = 0; i < 2; i++) mac[4 + i] = (uint8_t)(hi >> (8 * i));
    if (memcmp(mac, d, 6) != 0)
      report(n, VSIM_CHK_NET_DEV_MAC_ADDR, q,
             "MAC_ADDR_SET %02x:%02x:%02x:%02x:%02x:%02x acknowledged, config mac reads %02x:%02x:%02x:%02x:%02x:%02x",
             d[0], d[1], d[2], d[3], d[4], d[5], mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  } else if (cls == VIRTIO_NET_CTRL_ANNOUNCE && cmd == VIRTIO_NET_CTRL_ANNOUNCE_ACK &&
             neg(n, VIRTIO_NET_F_GUEST_ANNOUNCE) && neg(n, VIRTIO_NET_F_STATUS)) {
    uint16_t st = (uint16_t)vsim_driver_config_read(n->drv, offsetof(struct virtio_net_config, status), 2);
    if (st & VIRTIO_NET_S_ANNOUNCE)
      report(n, VSIM_CHK_NET_DEV_ANNOUNCE, q, "ANNOUNCE_ACK used, status still reads 0x%04x (ANNOUNCE set)", st);
  }
}

/* Does wire frame w (wlen bytes) carry packet p (plen bytes), byte for
 * byte outside the 2-byte window at `skip` (UINT32_MAX: none)? */
static bool same_frame(const uint8_t *w, uint32_t wlen, const uint8_t *p, uint32_t plen, uint32_t skip) {
  if (wlen != plen) return false;
  for (uint32_t i = 0; i < plen; i++)
    if (w[i] != p[i] && (skip == UINT32_MAX || i < skip || i >= skip + 2)) return false;
  return true;
}

/* A transmitted packet came back used: find it on the wire, the first frame
 * of q not matched yet that carries it (frames of requests a reset forgot
 * are passed over), and judge what the device did with it. */
static void judge_wire(vsim_net_drv *n, uint16_t q, const uint8_t *out, uint32_t out_len) {
  if (!n->wire_frame || out_len < HDR_LEN || q >= VSIM_DRV_MAX_QUEUES) return;
  const uint8_t *pkt = out + HDR_LEN;
  const uint32_t plen = out_len - HDR_LEN;
  const uint8_t flags = out[offsetof(struct virtio_net_hdr_v1, flags)];
  const uint8_t gso = out[offsetof(struct virtio_net_hdr_v1, gso_type)];
  const uint32_t cs = vsim_le_ld16(out + offsetof(struct virtio_net_hdr_v1, csum_start));
  const uint32_t at = cs + vsim_le_ld16(out + offsetof(struct virtio_net_hdr_v1, csum_offset));
  const bool needs_csum = flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
  /* the checksum field may change with NEEDS_CSUM; looked for in a plain
   * packet too, to tell "changed" from "not sent" */
  const uint32_t window = at + 2u <= plen ? at : UINT32_MAX;
  /* well-formed by the driver's rules, so the device has no reason to drop
   * it, on a pair both sides have enabled (a VQ_PAIRS_SET the device did not
   * acknowledge, one sent without room for the ack say, enabled nothing) */
  const uint16_t pairs = n->drv_pairs < n->dev_pairs ? n->drv_pairs : n->dev_pairs;
  const bool plain = gso == VIRTIO_NET_HDR_GSO_NONE && !(flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
                     (!needs_csum || (neg(n, VIRTIO_NET_F_CSUM) && window != UINT32_MAX)) && q / 2u < pairs;
  uint16_t wq;
  const uint8_t *w;
  uint32_t wlen;
  for (uint32_t i = n->wire_next[q]; n->wire_frame(n->wire_ctx, i, &wq, &w, &wlen); i++) {
    if (wq != q || !same_frame(w, wlen, pkt, plen, window)) continue;
    n->wire_next[q] = i + 1;
    if (!needs_csum && gso == VIRTIO_NET_HDR_GSO_NONE && !same_frame(w, wlen, pkt, plen, UINT32_MAX))
      report(n, VSIM_CHK_NET_DEV_TX_CSUM_UNUSED, q,
             "packet without NEEDS_CSUM went out with bytes %u-%u changed (csum_start %u + csum_offset %u used)", at,
             at + 1, cs, at - cs);
    return;
  }
  if (plain && n->mtu && plen >= ETH_HLEN_ && plen <= (uint32_t)n->mtu + ETH_HLEN_ && !n->wire_missed(n->wire_ctx))
    report(n, VSIM_CHK_NET_DEV_TX_FORWARD, q, "a well-formed %u-byte packet (mtu %u) never went on the wire", plen,
           n->mtu);
}

void vsim_net_drv_complete(void *ctx, uint16_t q, const uint8_t *out, uint32_t out_len, const uint8_t *in,
                           uint32_t in_len, uint32_t used) {
  vsim_net_drv *n = ctx;
  if (used > in_len) used = in_len;
  switch (kind_of(n, q)) {
    case Q_TX: judge_wire(n, q, out, out_len); break;
    case Q_RX: judge_rx(n, q, in, in_len, used); break;
    case Q_CTRL: judge_ack(n, q, out, out_len, in, in_len, used); break;
    default: break;
  }
}

void vsim_net_drv_device_event(vsim_net_drv *n, int kind, int q) {
  if (kind != VSIM_EV_IRQ_HOLD || q < 0 || q > UINT16_MAX || !neg(n, VIRTIO_NET_F_NOTF_COAL)) return;
  const enum qkind k = kind_of(n, (uint16_t)q);
  if ((k == Q_TX && !n->coal_tx_sent) || (k == Q_RX && !n->coal_rx_sent))
    report(n, VSIM_CHK_NET_DEV_COAL_RESET, q,
           "the device holds a used-buffer notification of %s %d: no NOTF_COAL %s_SET since the reset, so its "
           "coalescing parameters are 0 (every packet notifies)", k == Q_TX ? "transmitq" : "receiveq", q / 2 + 1,
           k == Q_TX ? "TX" : "RX");
}

void vsim_net_drv_finish(vsim_net_drv *n) {
  if (n->announce_seen && !n->announce_acked && neg(n, VIRTIO_NET_F_GUEST_ANNOUNCE))
    report(n, VSIM_CHK_NET_DRV_ANNOUNCE_ACK, -1,
           "the driver read VIRTIO_NET_S_ANNOUNCE in status and never sent VIRTIO_NET_CTRL_ANNOUNCE_ACK");
}
